"""The district roll-up as people read it: a short text, an xlsx workbook and charts.

Everything here renders a `DistrictRollup` (figures only, see `models.reports.district`); no
database, no Telegram. The workbook is small (a row per school), so it is written with
openpyxl's normal workbook, which can fill a cell; every value goes through
`models.exports.write_row` (texts as text cells, never formulas). A missed target is shown
twice, so it reads without colour too: a red fill with a "✗" after the number, and the
school's 未达标 column naming the targets it missed. Charts are drawn like
`models.reports.charts` (a Figure of its own, the CJK font by path, plain text), matplotlib
imported only when a chart is drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.i18n import Translator
from models.aid import yuan
from models.exports import CellValue, Styled, write_row
from models.reports.charts import Chart, label
from models.reports.district import ROLLUP_TARGETS, DistrictRollup, Metric, SchoolRollup, Target
from models.reports.report_text import period_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

MISSED = "✗"
MISSED_FILL = "FFC7CE"  # the spreadsheet programs' own "bad" red
PERCENT = "0.0%"
MISSED_PERCENT = f'0.0%" {MISSED}"'  # the number stays a number; the marker is in its format
COUNT = "#,##0"
MONEY = "#,##0.00"
FEN = 100
HEADER_ROW = 3
MET_COLOUR, MISSED_COLOUR = "#4C72B0", "#C44E52"


def metric_name(tr: Translator, metric: Metric) -> str:
    """入会率, 落实率 ... in the reader's language."""
    return tr(f"rollup.metric.{metric.value}")


def _rate(tr: Translator, value: float | None) -> str:
    return tr("report.rate", value=f"{value:g}") if value is not None else tr("report.no_rate")


def _target(tr: Translator, metric: Metric, row: SchoolRollup) -> str:
    """ "91.4%（目标 ≥90%）✅" or "…⚠️ 未达标", or the rate alone when it has no target."""
    value = row.rate(metric)
    target = ROLLUP_TARGETS.get(metric)
    if target is None:
        return _rate(tr, value)
    key = "rollup.target_missed" if metric in row.missed() else "rollup.target_met"
    if value is None:
        key = "rollup.target_no_figure"
    return tr(key, rate=_rate(tr, value), target=f"{target.minimum:g}")


# ---- text ---------------------------------------------------------------------------------


def rollup_text(tr: Translator, rollup: DistrictRollup) -> str:
    """The district total in a few lines, then the schools that missed a target."""
    total = rollup.total
    rates = total.proposals
    lines = [
        tr(
            "rollup.title",
            district=rollup.district,
            period=period_name(tr, rollup.period),
            schools=len(rollup.schools),
        ),
        "",
        tr(
            "rollup.members",
            members=total.members,
            roster=total.roster,
            rate=_target(tr, Metric.JOIN, total),
        ),
        tr(
            "rollup.suggestions",
            received=total.suggestions,
            answered=total.answered,
            days=rollup.answer_days,
            in_time=total.answered_in_time,
            rate=_target(tr, Metric.ANSWERED_IN_TIME, total),
        ),
        tr(
            "rollup.proposals",
            sessions=total.sessions,
            submitted=rates.submitted,
            filed=rates.filed,
            filing=_rate(tr, rates.filing_rate),
            closed=rates.closed,
            completion=_rate(tr, rates.completion_rate),
        ),
        tr(
            "rollup.proposal_rates",
            satisfaction=_target(tr, Metric.SATISFACTION, total),
            implementation=_target(tr, Metric.IMPLEMENTATION, total),
        ),
        tr(
            "rollup.aid",
            cases=total.aid_cases,
            amount=yuan(total.aid_paid),
            files=total.hardship_on_file,
        ),
        tr(
            "rollup.activities",
            held=total.activities,
            participants=total.participants,
            rate=_rate(tr, total.rate(Metric.PARTICIPATION)),
        ),
        tr("rollup.ballots", count=total.ballots),
        "",
    ]
    missed = [(school, school.missed()) for school in rollup.schools]
    missed = [(school, metrics) for school, metrics in missed if metrics]
    if not missed:
        lines.append(tr("rollup.all_met"))
    else:
        lines.append(tr("rollup.missed_title", count=len(missed), schools=len(rollup.schools)))
        for school, metrics in missed[:MISSED_LISTED]:
            names = tr("rollup.separator").join(metric_name(tr, metric) for metric in metrics)
            lines.append(f"{MISSED} {school.name}：{names}")
        if len(missed) > MISSED_LISTED:
            lines.append(tr("rollup.missed_more", count=len(missed) - MISSED_LISTED))
    lines.append(tr("rollup.files_note"))
    return "\n".join(lines)


MISSED_LISTED = 10  # a chat message stays short; the workbook lists every school


# ---- the workbook ---------------------------------------------------------------------------

# (heading key, width, format, value of a row); a Metric value is a rate with its target.
_Value = Metric | str
COLUMNS: tuple[tuple[str, float, str | None, _Value], ...] = (
    ("rollup.col.school", 24, None, "name"),
    ("rollup.col.members", 9, COUNT, "members"),
    ("rollup.col.roster", 9, COUNT, "roster"),
    ("rollup.metric.join_rate", 10, PERCENT, Metric.JOIN),
    ("rollup.col.suggestions", 10, COUNT, "suggestions"),
    ("rollup.col.answered", 10, COUNT, "answered"),
    ("rollup.col.in_time", 10, COUNT, "answered_in_time"),
    ("rollup.metric.answered_in_time", 12, PERCENT, Metric.ANSWERED_IN_TIME),
    ("rollup.col.proposals", 10, COUNT, "proposals:submitted"),
    ("rollup.col.filed", 9, COUNT, "proposals:filed"),
    ("rollup.metric.filing_rate", 10, PERCENT, Metric.FILING),
    ("rollup.col.proposals_answered", 10, COUNT, "proposals:answered"),
    ("rollup.col.closed", 9, COUNT, "proposals:closed"),
    ("rollup.metric.completion_rate", 10, PERCENT, Metric.COMPLETION),
    ("rollup.metric.satisfaction_rate", 10, PERCENT, Metric.SATISFACTION),
    ("rollup.metric.implementation_rate", 10, PERCENT, Metric.IMPLEMENTATION),
    ("rollup.col.aid_cases", 10, COUNT, "aid_cases"),
    ("rollup.col.aid_yuan", 14, MONEY, "aid_yuan"),
    ("rollup.col.hardship", 10, COUNT, "hardship_on_file"),
    ("rollup.col.activities", 9, COUNT, "activities"),
    ("rollup.col.participants", 10, COUNT, "participants"),
    ("rollup.metric.participation_rate", 10, PERCENT, Metric.PARTICIPATION),
    ("rollup.col.ballots", 9, COUNT, "ballots"),
    ("rollup.col.missed", 30, None, "missed"),
)


def _cell(tr: Translator, row: SchoolRollup, value: _Value) -> CellValue:
    if isinstance(value, Metric):
        found = row.rate(value)
        return None if found is None else round(found / 100, 3)
    if value == "aid_yuan":
        return round(row.aid_paid / FEN, 2)
    if value == "missed":
        missed = row.missed()
        if not missed:
            return tr("rollup.col.all_met")
        names = tr("rollup.separator").join(metric_name(tr, metric) for metric in missed)
        return f"{MISSED} {names}"
    if value.startswith("proposals:"):
        return int(getattr(row.proposals, value.split(":", 1)[1]))
    found = getattr(row, value)
    return found if isinstance(found, str | int) else None


def rollup_workbook(tr: Translator, rollup: DistrictRollup, *, made: datetime) -> bytes:
    """The roll-up as an xlsx file: the schools side by side and the total, aid by type, and
    the targets; `made` is the local time it is made."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = tr("rollup.sheet.schools")[:31]
    period = period_name(tr, rollup.period)
    title = tr("rollup.book_title", district=rollup.district, period=period)
    write_row(sheet, [Styled(title, bold=True)])
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    write_row(sheet, [tr("rollup.book_made", day=made.strftime("%Y-%m-%d %H:%M"))])
    write_row(sheet, [Styled(tr(key), bold=True) for key, _w, _f, _v in COLUMNS])
    fill = PatternFill(fill_type="solid", start_color=MISSED_FILL, end_color=MISSED_FILL)
    for row in (*rollup.schools, rollup.total):
        bold = row.school_id is None
        missed = set(row.missed())
        values: list[CellValue | Styled] = []
        for _key, _width, number_format, value in COLUMNS:
            cell = _cell(tr, row, value)
            if isinstance(value, Metric) and value in missed:
                number_format = MISSED_PERCENT
            plain = cell is None or isinstance(cell, str) or number_format is None
            values.append(Styled(cell, None if plain else number_format, bold))
        write_row(sheet, values)
        number = sheet.max_row
        for index, (_key, _width, _format, value) in enumerate(COLUMNS, 1):
            if isinstance(value, Metric) and value in missed:
                sheet.cell(number, index).fill = fill
            if value == "missed" and missed:
                sheet.cell(number, index).fill = fill
    for index, (_key, width, _format, _value) in enumerate(COLUMNS, 1):
        sheet.column_dimensions[sheet.cell(HEADER_ROW, index).column_letter].width = width
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 2)
    _aid_sheet(book.create_sheet(tr("rollup.sheet.aid")[:31]), tr, rollup)
    _targets_sheet(book.create_sheet(tr("rollup.sheet.targets")[:31]), tr)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _aid_sheet(sheet: object, tr: Translator, rollup: DistrictRollup) -> None:
    """Aid by type per school, then the district's: 人次, people, yuan."""
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(sheet, Worksheet)
    headings = (
        "rollup.col.school",
        "rollup.col.aid_type",
        "rollup.col.aid_cases",
        "rollup.col.aid_people",
        "rollup.col.aid_yuan",
    )
    write_row(sheet, [Styled(tr(key), bold=True) for key in headings])
    for row in (*rollup.schools, rollup.total):
        bold = row.school_id is None
        for line in row.aid:
            write_row(
                sheet,
                [
                    Styled(row.name, bold=bold),
                    Styled(label(tr, line.aid_type, "aid.type."), bold=bold),
                    Styled(line.cases, COUNT, bold),
                    Styled(line.people, COUNT, bold),
                    Styled(round(line.paid / FEN, 2), MONEY, bold),
                ],
            )
    for index, width in enumerate((24, 14, 10, 10, 14), 1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width


def _targets_sheet(sheet: object, tr: Translator) -> None:
    """The targets the roll-up checks, with where each comes from."""
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(sheet, Worksheet)
    headings = ("rollup.col.metric", "rollup.col.target", "rollup.col.source")
    write_row(sheet, [Styled(tr(key), bold=True) for key in headings])
    for metric, target in ROLLUP_TARGETS.items():
        write_row(
            sheet,
            [metric_name(tr, metric), Styled(target.minimum / 100, PERCENT), target.source],
        )
    for index, width in enumerate((16, 10, 50), 1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width


# ---- charts ---------------------------------------------------------------------------------


def rollup_charts(tr: Translator, rollup: DistrictRollup) -> list[Chart]:
    """落实率 and 入会率 per school against their target lines (a chart with no figure is
    left out)."""
    from matplotlib import font_manager

    from models.ballot_exports import cjk_font_path
    from models.reports.charts import _fonts, _png

    font = font_manager.FontProperties(fname=str(cjk_font_path()))
    period = period_name(tr, rollup.period)
    charts = []
    for name, metric in (("implementation", Metric.IMPLEMENTATION), ("join", Metric.JOIN)):
        title = tr("rollup.chart_title", metric=metric_name(tr, metric), period=period)
        figure = _per_school(tr, rollup.schools, metric, ROLLUP_TARGETS.get(metric), font)
        if figure is None:
            continue
        figure.suptitle(title, fontproperties=font, fontsize=14, parse_math=False)
        _fonts(figure, font)
        figure.tight_layout()
        charts.append(Chart(name, title, _png(figure)))
    return charts


def _per_school(
    tr: Translator,
    schools: Sequence[SchoolRollup],
    metric: Metric,
    target: Target | None,
    font: FontProperties,
) -> Figure | None:
    """One horizontal bar per school with a figure, red where it misses the target."""
    from models.reports.charts import _figure

    shown = [(school, school.rate(metric)) for school in schools]
    points = [(school, value) for school, value in shown if value is not None]
    if not points:
        return None
    figure = _figure(width=9.0, height=max(3.5, 0.3 * len(points) + 1.8))
    axes = figure.add_subplot()
    positions = list(range(len(points)))[::-1]  # the first school on top
    values = [value for _school, value in points]
    minimum = target.minimum if target else None
    colours = [
        MISSED_COLOUR if minimum is not None and value < minimum else MET_COLOUR for value in values
    ]
    axes.barh(positions, values, color=colours)
    for position, value in zip(positions, values, strict=True):
        axes.text(value + 1, position, f"{value:g}%", va="center", fontsize=8)
    if minimum is not None:
        axes.axvline(minimum, color="#333333", linestyle="--", linewidth=1)
        axes.text(
            minimum,
            len(points) - 0.4,
            tr("rollup.chart_target", target=f"{minimum:g}"),
            ha="right",
            fontsize=9,
        )
    axes.set_yticks(positions)
    axes.set_yticklabels([school.name for school, _value in points], parse_math=False)
    axes.set_xlim(0, 115)
    axes.set_xlabel(tr("rollup.chart_axis"), parse_math=False)
    return figure
