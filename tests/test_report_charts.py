"""The report's charts: one PNG per chart with something to show, drawn in the CJK font.

The figures are built by hand (tests/support/report_figures.py): the charts are a pure
function of them, so no database is needed here.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from bot.i18n import Translator
from docs.report_images import write_samples
from models.ballot_exports import cjk_font_path
from models.reports.charts import drawn_charts, report_charts
from models.reports.figures import ActivityFigures, AidFigures, Count, MemberFigures, MonthCount
from models.reports.period import term_period
from tests.support.report_figures import empty_figures, seed_congress, seed_figures

PNG = b"\x89PNG\r\n\x1a\n"
NAMES = ["aid", "activities", "proposals", "members"]


@pytest.fixture(scope="module")
def hans() -> Translator:
    return Translator("zh-Hans")


def texts_of(figure: Figure) -> list[Text]:
    """Every text the figure draws (titles, tick labels, bar labels, legend)."""
    return [text for text in figure.findobj(Text) if text.get_text().strip()]


def render(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def test_each_chart_is_a_png(hans: Translator) -> None:
    charts = report_charts(seed_figures(), hans)
    assert [chart.name for chart in charts] == NAMES
    assert [chart.title for chart in charts] == [
        "2026年帮扶慰问情况",
        "2026年各月活动次数",
        "2026年提案办理情况",
        "2026年会员人数变化",
    ]
    for chart in charts:
        assert chart.png.startswith(PNG), chart.name
        assert len(chart.png) > 5000, chart.name  # a drawing, not an empty canvas
        assert chart.name.isascii() and chart.name.isidentifier()


def test_the_font_in_use_is_noto_sans_cjk(hans: Translator) -> None:
    """The title, the axis labels and every tick label are set in the shipped CJK font file."""
    noto = cjk_font_path()
    assert noto.is_file()
    assert FT2Font(str(noto)).family_name == "Noto Sans CJK SC"
    for drawn in drawn_charts(seed_figures(), hans):
        render(drawn.figure)  # ticks are made at drawing time: look after it
        title = drawn.figure.get_suptitle()
        assert title == drawn.title
        axes = drawn.figure.axes[0]
        ticks = [*axes.get_xticklabels(), *axes.get_yticklabels()]
        assert [t for t in ticks if t.get_text()], drawn.name
        texts = texts_of(drawn.figure)
        assert title in [text.get_text() for text in texts]
        for text in texts:
            properties = text.get_fontproperties()
            assert Path(str(properties.get_file())) == noto, (drawn.name, text.get_text())
            assert Path(font_manager.findfont(properties)) == noto, text.get_text()
            assert text.get_parse_math() is False, text.get_text()


def test_chinese_labels_are_drawn_with_their_glyphs(hans: Translator) -> None:
    """No "Glyph ... missing from font" warning while drawing (an error here, and in pytest)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for language in ("zh-Hans", "zh-Hant", "en"):
            charts = report_charts(seed_figures(), Translator(language))
            assert [chart.name for chart in charts] == NAMES


def test_the_glyph_check_would_catch_a_font_without_chinese() -> None:
    """The check above is not empty: the default font warns on the same kind of label."""
    figure = Figure()
    FigureCanvasAgg(figure)
    figure.add_subplot().set_title("帮扶慰问")
    with pytest.warns(UserWarning, match="[Gg]lyph"):
        render(figure)


def test_an_empty_period_has_no_chart(hans: Translator) -> None:
    assert report_charts(empty_figures(), hans) == []


def test_only_the_charts_with_data(hans: Translator) -> None:
    """A period with aid only gets the aid chart; zero lines and zero months count as none."""
    empty = empty_figures()
    figures = replace(
        seed_figures(),
        activities=ActivityFigures(by_month=(MonthCount(date(2026, 3, 1), 0),)),
        members=replace(empty.members, by_month=(MonthCount(date(2026, 1, 1), 0),)),
        congresses=(replace(seed_congress(), by_status=(Count("proposal.status.filed", 0),)),),
    )
    assert [chart.name for chart in report_charts(figures, hans)] == ["aid"]
    only_members = replace(
        empty,
        members=MemberFigures(
            total=5,
            women=3,
            retirees=0,
            joined=5,
            left=0,
            roster=8,
            on_telegram=5,
            by_month=(MonthCount(date(2026, 9, 1), 5),),
        ),
        aid=AidFigures(),
    )
    assert [chart.name for chart in report_charts(only_members, hans)] == ["members"]


def test_a_dollar_sign_is_drawn_as_it_is(hans: Translator) -> None:
    """ "$a^$" would be broken mathtext (matplotlib raises on it): here it is plain text."""
    congress = replace(
        seed_congress(title="奖金$a^$方案讨论会"),
        by_status=(Count("proposal.status.closed", 3), Count("自定$x^$状态", 2)),
    )
    other = replace(seed_congress(title="第二次会议 $5"), by_status=(Count("$", 1),))
    figures = seed_figures(congresses=(congress, other))
    drawn = {chart.name: chart for chart in drawn_charts(figures, hans)}
    proposals = drawn["proposals"].figure
    assert render(proposals).startswith(PNG)
    shown = {text.get_text(): text for text in texts_of(proposals)}
    for literal in ("奖金$a^$方案讨论会", "第二次会议 $5", "自定$x^$状态", "$", "已办结"):
        assert literal in shown, literal
        assert shown[literal].get_parse_math() is False
    charts = report_charts(figures, hans)
    assert [chart.name for chart in charts] == NAMES


def test_months_of_a_term_across_new_year(hans: Translator) -> None:
    """The first term runs from September to February: six months, zeros included."""
    term = term_period(2026, 1, term1_start="09-01", term2_start="02-20")
    figures = seed_figures(
        period=term,
        activities=ActivityFigures(by_month=(MonthCount(date(2027, 1, 1), 2),)),
    )
    drawn = {chart.name: chart for chart in drawn_charts(figures, hans)}
    activities = drawn["activities"]
    assert activities.title == "2026—2027学年第一学期各月活动次数"
    months = [label.get_text() for label in activities.figure.axes[0].get_xticklabels()]
    assert months == ["9月", "10月", "11月", "12月", "1月", "2月"]


def test_english_charts_speak_english() -> None:
    drawn = drawn_charts(seed_figures(), Translator("en"))
    assert [chart.title for chart in drawn] == [
        "Care and aid, 2026",
        "Activities by month, 2026",
        "Proposals by status, 2026",
        "Members, 2026",
    ]
    aid_types = [label.get_text() for label in drawn[0].figure.axes[0].get_yticklabels()]
    assert aid_types[:2] == ["Hospital visit", "Childbirth"]


def test_the_sample_pictures_for_the_guide(tmp_path: Path) -> None:
    """docs/report_images.py writes the README's pictures from the seed's year."""
    written = write_samples(tmp_path)
    assert [path.name for path in written] == ["report-aid.png", "report-proposals.png"]
    assert all(path.read_bytes().startswith(PNG) for path in written)
