"""The draft 工作总结: the seed's year written back in the seed's sentences, opened with
python-docx (headings in order, whole paragraphs, the charts, the fonts), zero figures
left out, and the same document in zh-Hant and English.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from docx import Document
from docx.document import Document as DocumentType
from docx.oxml.ns import qn

from bot.i18n import Translator
from models.proposals import Figures as SessionRates
from models.reports.charts import Chart, report_charts
from models.reports.figures import AidFigures, AidLine, HardshipFigures
from models.reports.period import month_period, term_period
from models.reports.summary import summary_docx
from tests.support.report_figures import empty_figures, seed_aid, seed_congress, seed_figures

HEADINGS = ["一、组织建设", "二、民主管理", "三、维权帮扶", "四、文体活动", "五、下一步工作"]
AID_SENTENCE = (
    "本年度工会看望住院员工16人次，送去慰问金4,000元；看望产妇员工5名，送去慰问金2,500元；"
    "慰问去世员工家属2名，送去慰问金20,000元；慰问退休员工2名，送去慰问金2,000元；"
    "为6名困难员工建档，送去慰问金6,000元。总计慰问金34,500元。"
)
CONGRESS_SENTENCE = (
    "召开第八届教代会第一次会议，共征集提案36条，经梳理归并为18件，立案15件，已答复15件，"
    "办结12件。提案立案率83.3%，办结率80%，满意率92.9%，落实率86.7%。"
)


@pytest.fixture(scope="module")
def hans() -> Translator:
    return Translator("zh-Hans")


@pytest.fixture(scope="module")
def seed_charts(hans: Translator) -> list[Chart]:
    return report_charts(seed_figures(), hans)


def opened(data: bytes) -> DocumentType:
    return Document(io.BytesIO(data))


def body(document: DocumentType) -> list[str]:
    """The text of every non-empty paragraph, in order."""
    return [p.text for p in document.paragraphs if p.text.strip()]


def headings(document: DocumentType) -> list[str]:
    return [
        p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"
    ]


def section(document: DocumentType, heading: str) -> list[str]:
    """The paragraphs under one heading, up to the next."""
    texts = body(document)
    start = texts.index(heading) + 1
    following = [h for h in headings(document) if texts.index(h) > texts.index(heading)]
    end = texts.index(following[0]) if following else len(texts)
    return texts[start:end]


def test_the_seed_year_in_the_seed_sentences(hans: Translator, seed_charts: list[Chart]) -> None:
    document = opened(summary_docx(seed_figures(), seed_charts, hans))
    texts = body(document)
    assert texts[0] == "实验小学工会2026年工作总结（初稿）"
    assert document.core_properties.title == texts[0]
    assert document.core_properties.author == "实验小学工会"
    assert document.paragraphs[0].style is not None
    assert document.paragraphs[0].style.name == "Title"
    assert "初稿" in texts[1] and "台账" in texts[1] and "【】" in texts[1]
    assert headings(document) == HEADINGS
    assert AID_SENTENCE in section(document, "三、维权帮扶")
    assert CONGRESS_SENTENCE in section(document, "二、民主管理")
    assert section(document, "一、组织建设")[:2] == [
        "截至2026年12月31日，工会共有会员126人，其中女会员78人，退休会员12人，"
        "教职工名册共132人，入会率95.5%。本年度新入会9人，会籍转出1人。",
        "已有110名会员使用工会助手，发出工会通知40次，送出节日和生日祝福380条。",
    ]
    democracy = section(document, "二、民主管理")
    assert (
        "本年度意见箱共收到意见建议24条，其中匿名9条，已答复22条，其中7天内答复19条，"
        "答复率91.7%，已办结20条。内容涉及教育教学9条、食堂8条。"
    ) in democracy
    assert (
        "本年度组织民主测评和表决3次；发布公示5项，其中1项在公示期内收到异议；"
        "征集合理化建议54条，采纳17条。"
    ) in democracy
    assert ("本年度新建困难职工档案6户，撤档2户。截至2026年12月31日，在档困难职工6户。") in section(
        document, "三、维权帮扶"
    )
    assert section(document, "四、文体活动")[0] == (
        "本年度工会共举办各类活动10次，其中体育5次、文艺3次、体检1次、讲座1次，"
        "参与540人次，参与率42.9%。"
    )


def test_what_only_the_secretary_can_write_is_asked_for(
    hans: Translator, seed_charts: list[Chart]
) -> None:
    document = opened(summary_docx(seed_figures(), seed_charts, hans))
    for heading in HEADINGS[:4]:
        prompts = [text for text in section(document, heading) if text.startswith("【请补充：")]
        assert len(prompts) == 1, heading
        assert prompts[0].endswith("】")
    assert "【请补充：帮扶典型事例、职工医疗互助和送温暖活动】" in section(document, "三、维权帮扶")
    plans = section(document, "五、下一步工作")
    assert plans[0] == "新的一年，工会将重点做好以下工作："
    assert [text[:3] for text in plans[1:]] == ["（一）", "（二）", "（三）", "（四）"]
    assert all("【请补充：" in text for text in plans[1:])


def test_the_charts_are_placed_in_their_sections(
    hans: Translator, seed_charts: list[Chart]
) -> None:
    document = opened(summary_docx(seed_figures(), seed_charts, hans))
    assert len(document.inline_shapes) == 4
    for shape in document.inline_shapes:
        assert abs(shape.width.cm - 15) < 0.01
    assert "图1　2026年会员人数变化" in section(document, "一、组织建设")
    assert "图2　2026年提案办理情况" in section(document, "二、民主管理")
    assert "图3　2026年帮扶慰问情况" in section(document, "三、维权帮扶")
    assert "图4　2026年各月活动次数" in section(document, "四、文体活动")
    # The picture stands right before its caption, in the section's flow.
    paragraphs = document.paragraphs
    for number, caption in enumerate(p for p in paragraphs if p.text.startswith("图")):
        before = paragraphs[paragraphs.index(caption) - 1]
        assert before._p.xpath(".//pic:pic"), number
    images = {part.blob for part in document.part.package.image_parts}
    assert images == {chart.png for chart in seed_charts}


def test_without_charts_the_text_is_the_same(hans: Translator, seed_charts: list[Chart]) -> None:
    with_charts = body(opened(summary_docx(seed_figures(), seed_charts, hans)))
    without = opened(summary_docx(seed_figures(), [], hans))
    assert len(without.inline_shapes) == 0
    assert body(without) == [text for text in with_charts if not text.startswith("图")]


def test_a_zero_figure_writes_no_sentence(hans: Translator) -> None:
    """No "看望住院员工0人次", no "送去慰问金0元", no empty sentence."""
    aid = AidFigures(
        lines=(
            AidLine("hospital", cases=0, people=0, paid=0),
            AidLine("childbirth", cases=5, people=5, paid=250_000),
            AidLine("retirement", cases=2, people=2, paid=0),
        ),
        visits_without_money=3,
    )
    rates = SessionRates(
        collected=12, submitted=12, filed=0, answered=0, closed=0, satisfied=0, rated=0
    )
    figures = seed_figures(
        aid=aid,
        congresses=(replace(seed_congress(), rates=rates),),
        hardship=HardshipFigures(on_file=4, opened=0, closed=0),
        members=replace(seed_figures().members, women=0, left=0),
    )
    texts = body(opened(summary_docx(figures, [], hans)))
    care = "\n".join(texts)
    assert "住院" not in care
    assert (
        "本年度工会看望产妇员工5名，送去慰问金2,500元；慰问退休员工2名。总计慰问金2,500元。"
        "此外，工会上门看望、电话慰问员工3人次（未发放慰问金）。"
    ) in texts
    assert "召开第八届教代会第一次会议，共征集提案12条。" in texts  # nothing merged, filed, rated
    assert "截至2026年12月31日，在档困难职工4户。" in texts
    assert texts[3].startswith("截至2026年12月31日，工会共有会员126人，退休会员12人，")
    assert "本年度新入会9人。" in texts[3]
    zero = re.compile(r"(?<![\d,.])0(人|名|条|件|次|户|元|%)|。。|，。|；。")
    assert [text for text in texts if zero.search(text)] == []


def test_an_empty_period_is_a_frame_to_fill(hans: Translator) -> None:
    document = opened(summary_docx(empty_figures(), [], hans))
    assert headings(document) == HEADINGS
    for heading in HEADINGS[:4]:
        assert [t[:5] for t in section(document, heading)] == ["【请补充："], heading
    assert not [text for text in body(document) if "0" in text.replace("2026", "")]


def test_a_term_and_a_month_are_named_as_such(hans: Translator) -> None:
    term = term_period(2026, 2, term1_start="09-01", term2_start="02-20")
    document = opened(summary_docx(seed_figures(period=term), [], hans))
    assert body(document)[0] == "实验小学工会2026—2027学年第二学期工作总结（初稿）"
    assert AID_SENTENCE.replace("本年度", "本学期") in body(document)
    assert section(document, "五、下一步工作")[0].startswith("下学期，")
    month = opened(summary_docx(seed_figures(period=month_period(2026, 3)), [], hans))
    assert body(month)[0] == "实验小学工会2026年3月工作总结（初稿）"
    assert "截至2026年3月31日" in section(month, "一、组织建设")[0]


def test_traditional_chinese(seed_charts: list[Chart]) -> None:
    tr = Translator("zh-Hant")
    document = opened(summary_docx(seed_figures(organization="實驗小學工會"), seed_charts, tr))
    assert headings(document) == [
        "一、組織建設",
        "二、民主管理",
        "三、維權幫扶",
        "四、文體活動",
        "五、下一步工作",
    ]
    assert body(document)[0] == "實驗小學工會2026年工作總結（初稿）"
    assert (
        "本年度工會看望住院員工16人次，送去慰問金4,000元；看望產婦員工5名，送去慰問金2,500元；"
        "慰問去世員工家屬2名，送去慰問金20,000元；慰問退休員工2名，送去慰問金2,000元；"
        "為6名困難員工建檔，送去慰問金6,000元。總計慰問金34,500元。"
    ) in body(document)
    assert len(document.inline_shapes) == 4


def test_english() -> None:
    tr = Translator("en")
    figures = seed_figures(
        organization="the Experimental Primary School union",
        congresses=(seed_congress(title="the first session of the 8th staff congress"),),
    )
    document = opened(summary_docx(figures, report_charts(figures, tr), tr))
    assert headings(document) == [
        "1. Organisation",
        "2. Democratic management",
        "3. Rights, care and aid",
        "4. Sports and cultural activities",
        "5. Next steps",
    ]
    texts = body(document)
    assert texts[0] == "Work summary of the Experimental Primary School union, 2026 (draft)"
    assert (
        "This year the union visited members in hospital 16 times, with 4,000 yuan; "
        "visited 5 new mothers, with 2,500 yuan; comforted the families of 2 deceased members, "
        "with 20,000 yuan; visited 2 retiring members, with 2,000 yuan; put 6 members in "
        "hardship on file, with 6,000 yuan. 34,500 yuan in all."
    ) in texts
    assert texts[texts.index("2. Democratic management") + 1].startswith(
        "The union held the first session of the 8th staff congress, 36 proposals were "
        "collected, merged into 18, 15 filed,"
    )
    assert "Figure 3. Care and aid, 2026" in texts
    assert len(document.inline_shapes) == 4
    assert not [text for text in texts if any("\u4e00" <= char <= "\u9fff" for char in text)]


def test_chinese_fonts_are_named_for_word_and_wps(hans: Translator) -> None:
    """宋体 for the body and 黑体 for the headings, set as the East Asian font (no theme font)."""
    document = opened(summary_docx(seed_figures(), [], hans))
    for style, font in (("Normal", "宋体"), ("Heading 1", "黑体"), ("Title", "黑体")):
        fonts = document.styles[style].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == font, style
        assert fonts.get(qn("w:eastAsiaTheme")) is None, style
        assert fonts.get(qn("w:asciiTheme")) is None, style


def test_seed_figures_add_up() -> None:
    """The hand-made year is the seed's: 34,500 yuan in all, 36 proposals merged into 18."""
    figures = seed_figures()
    assert figures.aid == seed_aid()
    assert figures.aid.paid == 3_450_000
    assert figures.aid.cases == 31
    assert (figures.congresses[0].rates.collected, figures.congresses[0].rates.submitted) == (
        36,
        18,
    )
