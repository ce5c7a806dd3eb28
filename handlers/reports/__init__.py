"""Reports (/report): a year's, a term's or a month's figures in one message for the
committee, 财务 and 经审, with the charts, the 台账 workbook and the draft 工作总结 sent
privately on a press."""

from __future__ import annotations

from bot.features import Audience, CommandSpec, Feature, reads_books
from handlers.reports import report
from handlers.reports.buttons import ReportFile, ReportPick
from models.errors import N_
from models.reports.report_text import catalog_keys


def _keys() -> set[str]:
    return catalog_keys() | {f"report.file.{what}" for what in ("charts", "books", "summary")}


FEATURE = Feature(
    name="reports",
    register=report.register,
    commands=(
        CommandSpec(
            "report",
            N_("cmd.report"),
            Audience.COMMITTEE,
            private_only=False,
            in_group=True,
            order=26,
            also_for=reads_books,
        ),
    ),
    group_buttons=(ReportPick, ReportFile),
    catalog_keys=_keys,
)
