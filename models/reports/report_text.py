"""The report's figures as one message in the reader's language (chat, CLI, the 月报 task).

A pure view: it reads `ReportFigures` and the catalog, never the database. It holds only
counts and sums, never a name or an aid detail, so it may be read in the committee group.
"""

from __future__ import annotations

from datetime import date

from bot.i18n import Translator
from models.aid import yuan
from models.reports.figures import (
    ActivityFigures,
    AidFigures,
    CongressFigures,
    DemocracyFigures,
    HardshipFigures,
    MemberFigures,
    MessageFigures,
    ReportFigures,
    SuggestionFigures,
)
from models.reports.period import PeriodKind, ReportPeriod

AID_TYPES = (
    "hospital",
    "illness",
    "childbirth",
    "marriage",
    "bereavement",
    "retirement",
    "disaster",
    "hardship",
)


def period_name(tr: Translator, period: ReportPeriod) -> str:
    """2026年, 2025—2026学年第二学期, 2026年3月."""
    if period.kind == PeriodKind.YEAR:
        return tr("report.period.year", year=period.year)
    if period.kind == PeriodKind.TERM:
        return tr(
            "report.period.term",
            year=period.year,
            next=period.year + 1,
            term=tr(f"report.term.{period.number}"),
        )
    return tr("report.period.month", year=period.year, month=period.number)


def day_text(tr: Translator, day: date) -> str:
    """A day as the report writes it."""
    return tr("report.day", year=day.year, month=day.month, day=day.day)


def _rate(tr: Translator, value: float | None) -> str:
    return tr("report.rate", value=f"{value:g}") if value is not None else tr("report.no_rate")


def _bullets(lines: list[str]) -> list[str]:
    return [f"· {line}" for line in lines]


def _members(tr: Translator, figures: MemberFigures) -> list[str]:
    return [
        tr(
            "report.members.total",
            total=figures.total,
            women=figures.women,
            retirees=figures.retirees,
        ),
        tr("report.members.movement", joined=figures.joined, left=figures.left),
        tr("report.members.rate", roster=figures.roster, rate=_rate(tr, figures.join_rate)),
        tr("report.members.telegram", count=figures.on_telegram),
    ]


def _suggestions(tr: Translator, figures: SuggestionFigures) -> list[str]:
    if not figures.received:
        return [tr("report.suggestions.none")]
    lines = [
        tr(
            "report.suggestions.received",
            received=figures.received,
            anonymous=figures.anonymous,
        ),
        tr(
            "report.suggestions.answered",
            answered=figures.answered,
            rate=_rate(tr, figures.answer_rate),
            days=figures.answer_days,
            in_time=figures.answered_in_time,
        ),
        tr("report.suggestions.closed", closed=figures.closed),
    ]
    if figures.by_category:
        parts = [
            tr("report.count_item", label=tr(count.key), count=count.count)
            for count in figures.by_category
        ]
        lines.append(tr("report.suggestions.categories", list=tr("report.list_joiner").join(parts)))
    return lines


def _congress(tr: Translator, congress: CongressFigures) -> list[str]:
    rates = congress.rates
    return [
        tr(
            "report.congress.line",
            title=congress.title,
            collected=rates.collected,
            submitted=rates.submitted,
            filed=rates.filed,
            filing=_rate(tr, rates.filing_rate),
        ),
        tr(
            "report.congress.handling",
            answered=rates.answered,
            closed=rates.closed,
            completion=_rate(tr, rates.completion_rate),
            satisfaction=_rate(tr, rates.satisfaction_rate),
        ),
    ]


def _democracy(
    tr: Translator, congresses: tuple[CongressFigures, ...], figures: DemocracyFigures
) -> list[str]:
    lines = [line for congress in congresses for line in _congress(tr, congress)]
    if not congresses:
        lines.append(tr("report.congress.none"))
    lines += [
        tr("report.democracy.ballots", count=figures.ballots),
        tr(
            "report.democracy.notices",
            count=figures.notices,
            objected=figures.notices_with_objections,
        ),
        tr("report.democracy.ideas", count=figures.ideas, adopted=figures.ideas_adopted),
    ]
    return lines


def _aid(tr: Translator, figures: AidFigures, hardship: HardshipFigures) -> list[str]:
    lines = [
        tr(
            f"report.aid.{line.aid_type}",
            cases=line.cases,
            people=line.people,
            amount=yuan(line.paid),
        )
        for line in figures.lines
    ]
    if figures.visits_without_money:
        lines.append(tr("report.aid.visits", count=figures.visits_without_money))
    if figures.lines:
        lines.append(tr("report.aid.total", amount=yuan(figures.paid), cases=figures.cases))
    else:
        lines.append(tr("report.aid.none"))
    lines.append(
        tr(
            "report.hardship",
            on_file=hardship.on_file,
            opened=hardship.opened,
            closed=hardship.closed,
        )
    )
    return lines


def _activities(tr: Translator, figures: ActivityFigures) -> list[str]:
    if not figures.lines:
        return [tr("report.activities.none")]
    lines = [
        tr(
            "report.activities.total",
            held=figures.held,
            participants=figures.participants,
            rate=_rate(tr, figures.participation_rate),
        )
    ]
    lines += [
        tr(
            "report.activities.line",
            category=tr(f"activity.category.{line.category}"),
            held=line.held,
            signed_up=line.signed_up,
            participants=line.participants,
        )
        for line in figures.lines
    ]
    return lines


def _messages(tr: Translator, figures: MessageFigures) -> list[str]:
    return [tr("report.messages", broadcasts=figures.broadcasts, greetings=figures.greetings)]


def figures_text(tr: Translator, figures: ReportFigures) -> str:
    """The whole report as one message: the title, the period, then the six sections."""
    period = figures.period
    sections = (
        ("report.section.members", _members(tr, figures.members)),
        ("report.section.suggestions", _suggestions(tr, figures.suggestions)),
        (
            "report.section.democracy",
            _democracy(tr, figures.congresses, figures.democracy),
        ),
        ("report.section.aid", _aid(tr, figures.aid, figures.hardship)),
        ("report.section.activities", _activities(tr, figures.activities)),
        ("report.section.messages", _messages(tr, figures.messages)),
    )
    parts = [
        tr("report.title", org=figures.organization, period=period_name(tr, period)),
        tr(
            "report.range",
            start=day_text(tr, period.start),
            end=day_text(tr, period.last_day),
        ),
    ]
    for heading, lines in sections:
        parts.append("")
        parts.append(tr(heading))
        parts.extend(_bullets(lines))
    parts.extend(tr(note) for note in figures.notes)
    return "\n".join(parts)


def catalog_keys() -> set[str]:
    """The keys this view builds at run time."""
    return {f"report.aid.{aid_type}" for aid_type in AID_TYPES} | {
        "report.term.1",
        "report.term.2",
    }
