"""A draft 工作总结 (docx) with the period's figures already written in sentences.

The headings are the ones a school union writes (一、组织建设 ... 五、下一步工作); each section
says its figures as the seeds do ("本年度工会看望住院员工16人次，送去慰问金4,000元；..."),
with its chart under it and a 【请补充：...】 where only the secretary can write. A figure
that is zero is left out, never written as "0人次". Every text comes from the catalog, so
zh-Hant and en give the same document in their language.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from bot.i18n import Translator
from models.aid import yuan
from models.exports import NOT_XML_RE
from models.proposals import Figures as SessionRates
from models.reports.charts import Chart, aid_lines, label, period_name
from models.reports.figures import AidLine, Count, ReportFigures
from models.reports.period import PeriodKind

if TYPE_CHECKING:
    from docx.document import Document
    from docx.styles.style import ParagraphStyle

CHART_WIDTH_CM = 15
# East Asian and Latin fonts of the body and of the headings, per language.
FONTS = {
    "zh-Hans": (("宋体", "Times New Roman"), ("黑体", "Arial")),
    "zh-Hant": (("新細明體", "Times New Roman"), ("微軟正黑體", "Arial")),
    "en": (("宋体", "Calibri"), ("黑体", "Calibri")),
}
THIS_PERIOD = {
    PeriodKind.YEAR: "report.summary.ref_year",
    PeriodKind.TERM: "report.summary.ref_term",
    PeriodKind.MONTH: "report.summary.ref_month",
}
NEXT_PERIOD = {
    PeriodKind.YEAR: "report.summary.next_year",
    PeriodKind.TERM: "report.summary.next_term",
    PeriodKind.MONTH: "report.summary.next_month",
}
# How each aid type is said: the count it names ("cases" is 人次, "people" is 名) and the words.
AID_SENTENCES = {
    "hospital": ("cases", "report.summary.aid_hospital"),
    "childbirth": ("people", "report.summary.aid_childbirth"),
    "bereavement": ("people", "report.summary.aid_bereavement"),
    "retirement": ("people", "report.summary.aid_retirement"),
    "hardship": ("people", "report.summary.aid_hardship"),
    "illness": ("people", "report.summary.aid_illness"),
    "marriage": ("people", "report.summary.aid_marriage"),
    "disaster": ("people", "report.summary.aid_disaster"),
}
# The section each chart goes in.
CHART_SECTIONS = {
    "members": "organization",
    "proposals": "democracy",
    "aid": "care",
    "activities": "activities",
}
NEXT_PROMPTS = (
    "report.summary.next_organization",
    "report.summary.next_democracy",
    "report.summary.next_care",
    "report.summary.next_activities",
)


def summary_docx(figures: ReportFigures, charts: list[Chart], tr: Translator) -> bytes:
    """The draft 工作总结 as a .docx file."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = docx.Document()
    _styles(document, tr.language)
    write = _Writer(document, tr, charts)
    period = period_name(tr, figures.period)
    organization = xml_text(figures.organization)
    title = document.add_paragraph(
        tr("report.summary.title", org=organization, period=period), style="Title"
    )
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _properties(document, title.text, organization)
    write.note(tr("report.summary.draft_note", period=period))

    write.heading("report.summary.heading_organization")
    write.text(organization_sentences(figures, tr))
    write.charts("organization")
    write.prompt("report.summary.todo_organization")

    write.heading("report.summary.heading_democracy")
    write.text(democracy_sentences(figures, tr))
    write.charts("democracy")
    write.prompt("report.summary.todo_democracy")

    write.heading("report.summary.heading_care")
    write.text(care_sentences(figures, tr))
    write.charts("care")
    write.prompt("report.summary.todo_care")

    write.heading("report.summary.heading_activities")
    write.text(activity_sentences(figures, tr))
    write.charts("activities")
    write.charts(None)  # a chart this module does not know yet still reaches the draft
    write.prompt("report.summary.todo_activities")

    write.heading("report.summary.heading_next")
    write.paragraph(tr(NEXT_PERIOD[figures.period.kind]))
    for key in NEXT_PROMPTS:
        write.paragraph(tr(key))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---- the sentences ------------------------------------------------------------------------
# Each function returns the paragraphs of one section; a paragraph is one or more sentences.


def organization_sentences(figures: ReportFigures, tr: Translator) -> list[str]:
    """会员 at the period's end, who joined and left, the bot's reach."""
    members, messages = figures.members, figures.messages
    ref = _this(figures, tr)
    first = _sentence(
        tr,
        [
            members.total
            and tr(
                "report.summary.members_total",
                date=_date(tr, figures.period.last_day),
                total=_number(members.total),
            ),
            members.women and tr("report.summary.members_women", women=_number(members.women)),
            members.retirees
            and tr("report.summary.members_retirees", retirees=_number(members.retirees)),
            members.join_rate is not None
            and members.total
            and tr(
                "report.summary.members_join_rate",
                roster=_number(members.roster),
                rate=_percent(members.join_rate),
            ),
        ],
    )
    movement = _in_period(
        tr,
        ref,
        [
            members.joined and tr("report.summary.members_joined", joined=_number(members.joined)),
            members.left and tr("report.summary.members_left", left=_number(members.left)),
        ],
    )
    bot = _sentence(
        tr,
        [
            members.on_telegram
            and tr("report.summary.members_on_bot", members=_number(members.on_telegram)),
            messages.broadcasts
            and tr("report.summary.broadcasts", broadcasts=_number(messages.broadcasts)),
            messages.greetings
            and tr("report.summary.greetings", greetings=_number(messages.greetings)),
        ],
    )
    return _paragraphs([_join([first, movement]), bot])


def democracy_sentences(figures: ReportFigures, tr: Translator) -> list[str]:
    """教代会提案 per session, the suggestion box, ballots, notices and ideas."""
    paragraphs = [_congress(congress.title, congress.rates, tr) for congress in figures.congresses]
    box = figures.suggestions
    if box.received:
        said = _sentence(
            tr,
            [
                tr(
                    "report.summary.suggestions_received",
                    ref=_this(figures, tr),
                    received=_number(box.received),
                ),
                box.anonymous
                and tr("report.summary.suggestions_anonymous", anonymous=_number(box.anonymous)),
                box.answered
                and tr("report.summary.suggestions_answered", answered=_number(box.answered)),
                box.answered_in_time
                and tr(
                    "report.summary.suggestions_in_time",
                    days=box.answer_days,
                    answered=_number(box.answered_in_time),
                ),
                box.answer_rate
                and tr("report.summary.suggestions_rate", rate=_percent(box.answer_rate)),
                box.closed and tr("report.summary.suggestions_closed", closed=_number(box.closed)),
            ],
        )
        categories = _items(tr, box.by_category, "category.", "report.summary.suggestion_item")
        if categories:
            said = _join(
                [said, _sentence(tr, [tr("report.summary.suggestions_about", about=categories)])]
            )
        paragraphs.append(said)
    democracy = figures.democracy
    paragraphs.append(
        _in_period(
            tr,
            _this(figures, tr),
            [
                democracy.ballots
                and tr("report.summary.ballots", ballots=_number(democracy.ballots)),
                democracy.notices
                and _joined(
                    tr,
                    [
                        tr("report.summary.notices", notices=_number(democracy.notices)),
                        democracy.notices_with_objections
                        and tr(
                            "report.summary.notices_objected",
                            objected=_number(democracy.notices_with_objections),
                        ),
                    ],
                ),
                democracy.ideas
                and _joined(
                    tr,
                    [
                        tr("report.summary.ideas", ideas=_number(democracy.ideas)),
                        democracy.ideas_adopted
                        and tr(
                            "report.summary.ideas_adopted",
                            adopted=_number(democracy.ideas_adopted),
                        ),
                    ],
                ),
            ],
            separator="report.summary.semicolon",
        )
    )
    return _paragraphs(paragraphs)


def care_sentences(figures: ReportFigures, tr: Translator) -> list[str]:
    """Care and aid as the seed writes it, the total, the hardship files."""
    aid = figures.aid
    lines = aid_lines(aid)
    ledger = ""
    if lines:
        ledger = tr(
            "report.summary.aid_opening",
            ref=_this(figures, tr),
            text=_joined(tr, [_aid_clause(line, tr) for line in lines], "report.summary.semicolon"),
        )
        ledger = _sentence(tr, [ledger])
    visits = aid.visits_without_money
    extra = _sentence(tr, [visits and tr("report.summary.aid_visits", visits=_number(visits))])
    total = _sentence(tr, [aid.paid and tr("report.summary.aid_total", amount=yuan(aid.paid))])
    hardship = figures.hardship
    moved = _in_period(
        tr,
        _this(figures, tr),
        [
            hardship.opened
            and tr("report.summary.hardship_opened", opened=_number(hardship.opened)),
            hardship.closed
            and tr("report.summary.hardship_closed", closed=_number(hardship.closed)),
        ],
    )
    on_file = hardship.on_file and tr(
        "report.summary.hardship_on_file",
        date=_date(tr, figures.period.last_day),
        on_file=_number(hardship.on_file),
    )
    files = _join([moved, _sentence(tr, [on_file])])
    return _paragraphs([_join([ledger, total, extra]), files])


def activity_sentences(figures: ReportFigures, tr: Translator) -> list[str]:
    """Activities held, by category, participants and 参与率."""
    activities = figures.activities
    if not activities.held:
        return []
    held = [line for line in activities.lines if line.held]
    kinds = _items(
        tr,
        [Count(line.category, line.held) for line in held],
        "activity.category.",
        "report.summary.activity_item",
    )
    rate = activities.participation_rate
    return _paragraphs(
        [
            _sentence(
                tr,
                [
                    tr(
                        "report.summary.activities_held",
                        ref=_this(figures, tr),
                        held=_number(activities.held),
                    ),
                    len(held) > 1 and tr("report.summary.activities_kinds", kinds=kinds),
                    activities.participants
                    and tr(
                        "report.summary.activities_participants",
                        participants=_number(activities.participants),
                    ),
                    rate and tr("report.summary.activities_rate", rate=_percent(rate)),
                ],
            )
        ]
    )


def _congress(title: str, rates: SessionRates, tr: Translator) -> str:
    facts = _sentence(
        tr,
        [
            tr("report.summary.congress_held", title=title),
            rates.collected
            and tr("report.summary.congress_collected", collected=_number(rates.collected)),
            rates.submitted != rates.collected
            and rates.submitted
            and tr("report.summary.congress_merged", submitted=_number(rates.submitted)),
            rates.filed and tr("report.summary.congress_filed", filed=_number(rates.filed)),
            rates.answered
            and tr("report.summary.congress_answered", answered=_number(rates.answered)),
            rates.closed and tr("report.summary.congress_closed", closed=_number(rates.closed)),
        ],
    )
    shares = [
        ("report.summary.congress_filing_rate", rates.filing_rate),
        ("report.summary.congress_completion_rate", rates.completion_rate),
        ("report.summary.congress_satisfaction_rate", rates.satisfaction_rate),
        ("report.summary.congress_implementation_rate", rates.implementation_rate),
    ]
    said_rates = _sentence(
        tr,
        [
            # A rate of 0% is a zero figure too (nothing filed yet says more by its absence).
            *(tr(key, rate=_percent(value)) for key, value in shares if value),
            rates.unknown
            and rates.implementation_rate is not None
            and tr("report.summary.congress_unknown", unknown=_number(rates.unknown)),
        ],
    )
    return _join([facts, said_rates])


def _aid_clause(line: AidLine, tr: Translator) -> str:
    count, key = AID_SENTENCES.get(line.aid_type, ("cases", ""))
    number = line.cases if count == "cases" else line.people or line.cases
    if key:
        visit = tr(key, **{count: _number(number)})
    else:
        visit = tr(
            "report.summary.aid_other",
            category=label(tr, line.aid_type, "aid.type."),
            cases=_number(line.cases),
        )
    money = line.paid and tr("report.summary.aid_money", amount=yuan(line.paid))
    return _joined(tr, [visit, money])


# ---- putting words together ---------------------------------------------------------------

Clause = str | float | bool | None


def _joined(
    tr: Translator, clauses: Iterable[Clause], separator: str = "report.summary.comma"
) -> str:
    """The clauses that are there (a zero figure gives no clause), joined."""
    return tr(separator).join(clause for clause in clauses if isinstance(clause, str) and clause)


def _sentence(tr: Translator, clauses: Iterable[Clause]) -> str:
    """One sentence of the clauses that are there, or nothing."""
    text = _joined(tr, clauses)
    return tr("report.summary.full_stop", text=text) if text else ""


def _in_period(
    tr: Translator, ref: str, clauses: Iterable[Clause], separator: str = "report.summary.comma"
) -> str:
    """ "本年度" and the clauses that are there, as one sentence, or nothing."""
    text = _joined(tr, clauses, separator)
    return _sentence(tr, [tr("report.summary.in_period", ref=ref, text=text)]) if text else ""


def _join(sentences: Sequence[str]) -> str:
    """Sentences of one paragraph (an English full stop carries its own space)."""
    return "".join(sentence for sentence in sentences if sentence).strip()


def _paragraphs(paragraphs: Sequence[str]) -> list[str]:
    return [paragraph.strip() for paragraph in paragraphs if paragraph and paragraph.strip()]


def _items(tr: Translator, counts: Sequence[Count], prefix: str, item_key: str) -> str:
    """教育教学9条、食堂8条."""
    return tr("report.summary.list_separator").join(
        tr(item_key, name=label(tr, count.key, prefix), count=_number(count.count))
        for count in counts
        if count.count
    )


def _this(figures: ReportFigures, tr: Translator) -> str:
    return tr(THIS_PERIOD[figures.period.kind])


def _number(value: int) -> str:
    return f"{value:,}"


def _percent(value: float) -> str:
    """83.3%, 80%, 100%."""
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


def _date(tr: Translator, day: date) -> str:
    return tr("report.summary.date", year=day.year, month=day.month, day=day.day)


# ---- the document -------------------------------------------------------------------------


class _Writer:
    """Adds the draft's paragraphs, headings and charts to the document."""

    def __init__(self, document: Document, tr: Translator, charts: list[Chart]) -> None:
        self.document = document
        self.tr = tr
        self.charts_left = list(charts)
        self.figure_number = 0

    def heading(self, key: str) -> None:
        """A section heading (一、组织建设)."""
        self.document.add_paragraph(self.tr(key), style="Heading 1")

    def paragraph(self, text: str) -> None:
        """A body paragraph, first line indented two characters."""
        from docx.shared import Pt

        paragraph = self.document.add_paragraph(xml_text(text))  # category names are typed
        paragraph.paragraph_format.first_line_indent = Pt(24)

    def text(self, paragraphs: list[str]) -> None:
        """The section's sentences."""
        for text in paragraphs:
            self.paragraph(text)

    def note(self, text: str) -> None:
        """The draft note under the title, in italics."""
        paragraph = self.document.add_paragraph()
        paragraph.add_run(text).italic = True

    def prompt(self, key: str) -> None:
        """A 【请补充：...】 for the secretary."""
        self.paragraph(self.tr(key))

    def charts(self, section: str | None) -> None:
        """The charts of a section (None: the ones no section takes), each with its caption."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm

        mine = [
            chart
            for chart in self.charts_left
            if CHART_SECTIONS.get(chart.name) == section
            or (section is None and chart.name not in CHART_SECTIONS)
        ]
        for chart in mine:
            self.charts_left.remove(chart)
            self.figure_number += 1
            self.document.add_picture(io.BytesIO(chart.png), width=Cm(CHART_WIDTH_CM))
            self.document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = self.document.add_paragraph(
                xml_text(
                    self.tr("report.summary.caption", number=self.figure_number, title=chart.title)
                ),
                style="Caption",
            )
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER


def xml_text(text: str) -> str:
    """The text without what no XML file may hold (U+FFFE, U+FFFF, lone surrogates): python-docx
    refuses them, and a name or a category typed before they were refused may still hold one."""
    return NOT_XML_RE.sub("", text)


def _properties(document: Document, title: str, organization: str) -> None:
    """The file's own properties (the template says python-docx, 2013)."""
    now = datetime.now(UTC)
    properties = document.core_properties
    properties.title = title
    properties.author = properties.last_modified_by = organization
    properties.comments = ""
    properties.created = properties.modified = now


def _styles(document: Document, language: str) -> None:
    """宋体 for the body, 黑体 for the title and headings (East Asian fonts set by name)."""
    from docx.shared import Pt, RGBColor

    body, headings = FONTS.get(language, FONTS["zh-Hans"])
    styles = document.styles
    normal = styles["Normal"]
    _font(normal, *body, size=12)
    for name, size in (("Title", 22), ("Heading 1", 16), ("Caption", 10.5)):
        style = styles[name]
        _font(style, *(headings if name != "Caption" else body), size=size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.bold = name != "Caption"
        style.font.italic = False
    styles["Heading 1"].paragraph_format.space_before = Pt(12)
    styles["Heading 1"].paragraph_format.space_after = Pt(6)


def _font(style: ParagraphStyle, east_asia: str, latin: str, *, size: float) -> None:
    """Set a style's fonts by name; the template's theme fonts would override them."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.name = latin
    style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
