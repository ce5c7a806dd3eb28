"""Views of a public notice shared by the handlers and the end-of-period job (pure)."""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_date

from bot.i18n import Translator
from models.ballot_text import chunks
from models.notices import Notice, NoticeStatus


def day_words(tr: Translator, day: date) -> str:
    """A day as a notice writes it: 2026年12月5日, December 5, 2026."""
    return format_date(day, format="long", locale=Locale.parse(tr.language, sep="-"))


def period_line(tr: Translator, notice: Notice) -> str:
    """公示期自…至…，如有异议请在公示期内向工会反映。"""
    return tr(
        "notice.period",
        start=day_words(tr, notice.starts_on),
        end=day_words(tr, notice.ends_on),
    )


def outcome_line(tr: Translator, notice: Notice) -> str:
    """公示结果：公示期满无异议。 (empty while the notice runs)"""
    if notice.status == NoticeStatus.OPEN:
        return ""
    return tr("notice.outcome_line", outcome=tr(f"notice.status.{notice.status}"))


def post_text(tr: Translator, notice: Notice) -> str:
    """The text posted to the disclosure channel (and sent to the members concerned)."""
    parts = [tr("notice.post_title", title=notice.title, number=notice.number)]
    if notice.body:
        parts.append(notice.body)
    parts.append(period_line(tr, notice))
    outcome = outcome_line(tr, notice)
    if outcome:
        parts.append(outcome)
    return "\n\n".join(parts)


def ended_for_committee(tr: Translator, notice: Notice, objections: int, unanswered: int) -> str:
    """What the committee is told at the end of a period."""
    return tr(
        "notice.ended_committee",
        number=notice.number,
        title=notice.title,
        outcome=tr(f"notice.status.{notice.status}"),
        objections=objections,
        unanswered=unanswered,
    )


def post_parts(tr: Translator, notice: Notice) -> list[str]:
    """The post cut at line ends into messages Telegram takes (one for most notices; a long
    generated one, such as a ballot's results, in several)."""
    return chunks(post_text(tr, notice))
