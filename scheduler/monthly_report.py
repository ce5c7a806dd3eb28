"""The 月报: on the 1st the committee's `monthly_report` task carries last month's figures.

The block is the /report message of the month before the occurrence: counts and sums only
(no names, no aid details), so it may go to the committee group. The task hook gives no
settings, so the month is cut at Beijing midnight and the union's name is the stored one.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from models.organizations import get_organization
from models.reports.period import previous_month
from models.reports.queries import gather
from models.reports.report_text import figures_text

REPORT_ZONE = ZoneInfo("Asia/Shanghai")
ANSWER_DAYS = 7  # the default of SUGGESTION_ANSWER_DAYS


async def monthly_report_block(
    session: AsyncSession, org_id: int, occurrence: date, tr: Translator
) -> str:
    """Last month's figures, as /report writes them."""
    org = await get_organization(session, org_id)
    figures = await gather(
        session,
        org_id=org_id,
        period=previous_month(occurrence),
        zone=REPORT_ZONE,
        organization=org.name,
        answer_days=ANSWER_DAYS,
    )
    return figures_text(tr, figures)
