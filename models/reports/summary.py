"""PLACEHOLDER (replaced at merge by the summary helper's module): the draft 工作总结."""

from __future__ import annotations

import io

from docx import Document

from bot.i18n import Translator
from models.reports.charts import Chart
from models.reports.figures import ReportFigures


def summary_docx(figures: ReportFigures, charts: list[Chart], tr: Translator) -> bytes:
    """The draft 工作总结 as a docx (placeholder: a heading only)."""
    document = Document()
    document.add_heading(figures.organization, level=1)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
