"""A closed ballot's results as a bar chart (PNG) and as a workbook (xlsx).

The chart is drawn with matplotlib's Agg canvas on a `Figure` of its own (no pyplot state, so
it can run in a worker thread: callers use `asyncio.to_thread`). Chinese glyphs come from the
Noto Sans CJK SC font that the `mplfonts` package ships, loaded by its file path. Labels are
drawn as plain text (no mathtext), so a "$" in a title or an item is just a character.
"""

from __future__ import annotations

import io
from pathlib import Path

from bot.i18n import Translator
from models.ballot_text import choice_name, percent
from models.ballots import CHOICES, BallotKind, Tally
from models.exports import append_row


def cjk_font_path() -> Path:
    """The CJK font file shipped with mplfonts."""
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"


def chart_png(tr: Translator, tally: Tally) -> bytes:
    """Grouped bars: one group per item, one bar per choice (one bar per candidate)."""
    from matplotlib import font_manager  # imported by the first chart, not at start
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(fname=str(cjk_font_path()))
    kind = BallotKind(tally.ballot.kind)
    items = [item for item in tally.items if not item.free]
    figure = Figure(figsize=(max(6.0, 1.2 * len(items) + 3), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(items)))
    if kind == BallotKind.ELECTION:
        axes.bar(positions, [item.counts.get("yes", 0) for item in items])
    else:
        choices = CHOICES[kind]
        width = 0.8 / len(choices)
        for number, choice in enumerate(choices):
            offset = (number - (len(choices) - 1) / 2) * width
            axes.bar(
                [p + offset for p in positions],
                [item.counts.get(choice, 0) for item in items],
                width,
                label=choice_name(tr, kind, choice),
            )
        for text in axes.legend(prop=font).get_texts():
            text.set_parse_math(False)
    # Titles and items are the committee's text: a "$" is a dollar sign, never mathtext.
    axes.set_xticks(positions)
    axes.set_xticklabels(
        [item.text for item in items], fontproperties=font, rotation=20, parse_math=False
    )
    axes.set_ylabel(tr("ballot.chart_votes"), fontproperties=font, parse_math=False)
    axes.set_title(tally.ballot.title, fontproperties=font, parse_math=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def results_xlsx(tr: Translator, tally: Tally) -> bytes:
    """The counts (and, on a second sheet, the free texts without any voter)."""
    from openpyxl import Workbook

    kind = BallotKind(tally.ballot.kind)
    book = Workbook()
    sheet = book.active
    sheet.title = tr("ballot.sheet_results")[:31]
    append_row(sheet, [tally.ballot.title, tr(f"ballot.kind.{kind}")])
    append_row(sheet, [tr("ballot.column_electorate"), tally.electorate])
    append_row(sheet, [tr("ballot.column_voted"), tally.voted])
    if tally.withheld:  # the turnout only: no figure, no text
        append_row(sheet, [tr("ballot.results_withheld", minimum=tally.min_group)])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    append_row(
        sheet,
        [tr("ballot.column_valid"), tr("ballot.valid_yes" if tally.valid else "ballot.valid_no")],
    )
    append_row(sheet, [])
    choices = CHOICES[kind]
    rates: list[str] = []
    if kind == BallotKind.EVALUATION:
        rates = [tr("ballot.column_excellent_rate"), tr("ballot.column_competent_rate")]
    elif kind == BallotKind.SATISFACTION:
        rates = [tr("ballot.column_satisfaction_rate")]
    header = [tr("ballot.column_item")] + [choice_name(tr, kind, c) for c in choices] + rates
    append_row(sheet, header)
    for item in tally.items:
        if item.free:
            continue
        row: list[str | int] = [item.text] + [item.counts.get(c, 0) for c in choices]
        if kind == BallotKind.EVALUATION:
            row += [percent(item.share("excellent")), percent(item.share("excellent", "competent"))]
        elif kind == BallotKind.SATISFACTION:
            row += [percent(item.share("satisfied", "basic"))]
        append_row(sheet, row)
    texts = book.create_sheet(tr("ballot.sheet_comments")[:31])
    append_row(texts, [tr("ballot.column_item"), tr("ballot.column_comment")])
    for item in tally.items:
        for comment in item.comments:
            append_row(texts, [item.text, comment])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
