"""The report's charts as PNG images: aid by type, activities by month, proposals by status,
members over time.

Like the ballot chart (`models.ballot_exports`), each chart is drawn with matplotlib's Agg
canvas on a `Figure` of its own (no pyplot state, so it can run in a worker thread), in the
Noto Sans CJK SC font that `mplfonts` ships, loaded by its file path; every text is drawn as
plain text (no mathtext), so a "$" in a committee's category or a session's name is a dollar
sign. A chart with nothing to show is left out: the caller lists what it got.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.i18n import Translator
from models.ballot_exports import cjk_font_path
from models.reports.figures import AidFigures, AidLine, MonthCount, ReportFigures
from models.reports.period import PeriodKind, ReportPeriod

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

FEN = 100
# The order a union lists its care in (the seeds' order), then anything else.
AID_ORDER = (
    "hospital",
    "childbirth",
    "bereavement",
    "retirement",
    "hardship",
    "illness",
    "marriage",
    "disaster",
)
PERIOD_NAMES = {
    PeriodKind.YEAR: "report.summary.period_year",
    PeriodKind.MONTH: "report.summary.period_month",
}
TERM_NAMES = {1: "report.summary.period_term1", 2: "report.summary.period_term2"}


Builder = Callable[[ReportFigures, "Translator", "FontProperties"], "Figure | None"]


@dataclass(frozen=True)
class Chart:
    """One chart: a short ASCII id for file names, its title, the PNG."""

    name: str
    title: str
    png: bytes


@dataclass(frozen=True)
class DrawnChart:
    """A chart before it is saved (tests look at its texts and fonts)."""

    name: str
    title: str
    figure: Figure


def period_name(tr: Translator, period: ReportPeriod) -> str:
    """2026年, 2026—2027学年第一学期, 2026年3月 (in the reader's language)."""
    if period.kind == PeriodKind.TERM:
        return tr(TERM_NAMES[period.number or 1], year=period.year, next=period.year + 1)
    return tr(PERIOD_NAMES[period.kind], year=period.year, month=period.number or 1)


def label(tr: Translator, key: str, prefix: str = "") -> str:
    """A count's label: its catalog key (or `prefix` + key) translated, else the name as
    the committee wrote it."""
    if not key:  # gettext("") is the catalog's header
        return key
    for candidate in (key, prefix + key) if prefix else (key,):
        text = tr(candidate)
        if text != candidate:
            return text
    return key


def aid_lines(aid: AidFigures) -> list[AidLine]:
    """The aid types with cases or money, in the order a union lists them."""
    return sorted(
        (line for line in aid.lines if line.cases or line.paid),
        key=lambda line: (
            AID_ORDER.index(line.aid_type) if line.aid_type in AID_ORDER else len(AID_ORDER),
            line.aid_type,
        ),
    )


def report_charts(figures: ReportFigures, tr: Translator) -> list[Chart]:
    """The charts that have something to show, as PNG images."""
    return [
        Chart(drawn.name, drawn.title, _png(drawn.figure)) for drawn in drawn_charts(figures, tr)
    ]


def drawn_charts(figures: ReportFigures, tr: Translator) -> list[DrawnChart]:
    """The charts that have something to show, drawn but not yet saved."""
    from matplotlib import font_manager

    font = font_manager.FontProperties(fname=str(cjk_font_path()))
    period = period_name(tr, figures.period)
    builders: list[tuple[str, str, Builder]] = [
        ("aid", tr("report.chart.aid_title", period=period), _aid),
        ("activities", tr("report.chart.activities_title", period=period), _activities),
        ("proposals", tr("report.chart.proposals_title", period=period), _proposals),
        ("members", tr("report.chart.members_title", period=period), _members),
    ]
    drawn = []
    for name, title, build in builders:
        figure = build(figures, tr, font)
        if figure is None:
            continue
        figure.suptitle(title, fontproperties=font, fontsize=14, parse_math=False)
        _fonts(figure, font)
        figure.tight_layout()
        drawn.append(DrawnChart(name, title, figure))
    return drawn


# ---- the four charts ------------------------------------------------------------------------


def _aid(figures: ReportFigures, tr: Translator, font: FontProperties) -> Figure | None:
    """Two panels side by side: 人次 and money (yuan) per aid type."""
    lines = aid_lines(figures.aid)
    if not lines:
        return None
    names = [label(tr, line.aid_type, "aid.type.") for line in lines]
    figure = _figure(width=max(8.0, 0.4 * len(lines) + 7), height=max(3.5, 0.5 * len(lines) + 2))
    cases_axes, money_axes = figure.subplots(1, 2, sharey=True)
    positions = list(range(len(lines)))[::-1]  # the first type on top
    _hbars(cases_axes, positions, [line.cases for line in lines], "{:,}")
    _hbars(money_axes, positions, [line.paid / FEN for line in lines], "{:,.0f}")
    cases_axes.set_yticks(positions)
    cases_axes.set_yticklabels(names, fontproperties=font, parse_math=False)
    cases_axes.set_title(tr("report.chart.aid_cases"), fontproperties=font, parse_math=False)
    money_axes.set_title(tr("report.chart.aid_money"), fontproperties=font, parse_math=False)
    return figure


def _activities(figures: ReportFigures, tr: Translator, font: FontProperties) -> Figure | None:
    """Activities held in each month of the period."""
    counts = _by_month(figures.period.months(), figures.activities.by_month)
    if not any(counts.values()):
        return None
    figure = _figure(width=max(6.0, 0.55 * len(counts) + 3), height=4.0)
    axes = figure.add_subplot()
    positions = list(range(len(counts)))
    axes.bar(positions, list(counts.values()), color="#4C72B0")
    _bar_labels(axes, positions, list(counts.values()))
    axes.set_xticks(positions)
    axes.set_xticklabels(
        [tr("report.chart.month", month=month.month) for month in counts],
        fontproperties=font,
        parse_math=False,
    )
    axes.set_xlabel(tr("report.chart.month_axis"), fontproperties=font, parse_math=False)
    axes.set_ylabel(tr("report.chart.activities_axis"), fontproperties=font, parse_math=False)
    _integer_axis(axes, max(counts.values()))
    return figure


def _proposals(figures: ReportFigures, tr: Translator, font: FontProperties) -> Figure | None:
    """Proposals by status; one bar per session when the period had several."""
    sessions = [
        (congress.title, {count.key: count.count for count in congress.by_status if count.count})
        for congress in figures.congresses
    ]
    sessions = [(title, counts) for title, counts in sessions if counts]
    if not sessions:
        return None
    statuses: list[str] = []
    for _, counts in sessions:
        statuses += [key for key in counts if key not in statuses]
    figure = _figure(width=max(6.0, 1.1 * len(statuses) + 3), height=4.5)
    axes = figure.add_subplot()
    positions = list(range(len(statuses)))
    width = 0.8 / len(sessions)
    for number, (title, counts) in enumerate(sessions):
        offset = (number - (len(sessions) - 1) / 2) * width
        values = [counts.get(status, 0) for status in statuses]
        places = [p + offset for p in positions]
        colour = "#4C72B0" if len(sessions) == 1 else None
        axes.bar(places, values, width, label=title, color=colour)
        _bar_labels(axes, places, values)
    if len(sessions) > 1:
        for text in axes.legend(prop=font).get_texts():
            text.set_parse_math(False)
    else:
        axes.set_title(sessions[0][0], fontproperties=font, parse_math=False)
    axes.set_xticks(positions)
    axes.set_xticklabels(
        [label(tr, status, "proposal.status.") for status in statuses],
        fontproperties=font,
        rotation=20,
        ha="right",
        parse_math=False,
    )
    axes.set_ylabel(tr("report.chart.proposals_axis"), fontproperties=font, parse_math=False)
    _integer_axis(axes, max(max(counts.values()) for _, counts in sessions))
    return figure


def _members(figures: ReportFigures, tr: Translator, font: FontProperties) -> Figure | None:
    """Members at the end of each month."""
    points = sorted(figures.members.by_month, key=lambda point: point.month)
    if not any(point.count for point in points):
        return None
    figure = _figure(width=max(6.0, 0.55 * len(points) + 3), height=4.0)
    axes = figure.add_subplot()
    positions = list(range(len(points)))
    values = [point.count for point in points]
    axes.plot(positions, values, marker="o", color="#C44E52")
    for position, value in zip(positions, values, strict=True):
        axes.annotate(
            f"{value:,}",
            (position, value),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=9,
        )
    axes.set_xticks(positions)
    axes.set_xticklabels(
        [tr("report.chart.month", month=point.month.month) for point in points],
        fontproperties=font,
        parse_math=False,
    )
    axes.set_xlabel(tr("report.chart.month_axis"), fontproperties=font, parse_math=False)
    axes.set_ylabel(tr("report.chart.members_axis"), fontproperties=font, parse_math=False)
    _integer_axis(axes, max(values))
    return figure


# ---- drawing helpers ------------------------------------------------------------------------


def _figure(*, width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(min(width, 14.0), min(height, 10.0)), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _hbars(axes: Axes, positions: list[int], values: Sequence[float], shown: str) -> None:
    axes.barh(positions, values, color="#4C72B0")
    top = max(values) or 1
    for position, value in zip(positions, values, strict=True):
        axes.text(value + top * 0.02, position, shown.format(value), va="center", fontsize=9)
    axes.set_xlim(0, top * 1.3)
    _integer_axis(axes, top, axis="x")


def _bar_labels(axes: Axes, positions: Sequence[float], values: Sequence[int]) -> None:
    for position, value in zip(positions, values, strict=True):
        if value:
            axes.text(position, value, f"{value:,}", ha="center", va="bottom", fontsize=9)


def _integer_axis(axes: Axes, top: float, axis: str = "y") -> None:
    """Whole-number ticks from 0, with room above the highest bar for its label."""
    from matplotlib.ticker import MaxNLocator

    ticks = [float(tick) for tick in MaxNLocator(nbins=5, integer=True).tick_values(0, top or 1)]
    ticks = [tick for tick in ticks if tick >= 0]
    limit = max(ticks[-1], top * 1.15)
    shown = [f"{tick:,.0f}" for tick in ticks]
    if axis == "y":
        axes.set_ylim(0, limit)
        axes.set_yticks(ticks, shown)
    else:
        axes.set_xlim(0, max(limit, top * 1.3))
        axes.set_xticks(ticks, shown)


def _by_month(months: list[date], counts: Sequence[MonthCount]) -> dict[date, int]:
    """Every month of the period, with 0 where nothing happened."""
    found = {point.month.replace(day=1): point.count for point in counts}
    return {month: found.get(month, 0) for month in months}


def _fonts(figure: Figure, font: FontProperties) -> None:
    """Every text of the figure in the CJK font, as plain text (numbers included)."""
    from matplotlib.text import Text

    for text in figure.findobj(Text):
        sized = font.copy()
        sized.set_size(text.get_fontsize())
        text.set_fontproperties(sized)
        text.set_parse_math(False)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
