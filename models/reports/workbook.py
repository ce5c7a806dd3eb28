"""PLACEHOLDER (replaced at merge by the workbook helper's module): the 台账 workbook."""

from __future__ import annotations

import io
from datetime import tzinfo

from openpyxl import Workbook
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from models.reports.period import ReportPeriod


async def books_workbook(
    session: AsyncSession,
    *,
    org_id: int,
    period: ReportPeriod,
    tr: Translator,
    zone: tzinfo,
    organization: str,
) -> bytes:
    """The period's books as an xlsx (placeholder: one sheet with the period's key)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([organization, period.key])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
