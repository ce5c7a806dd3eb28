"""How a proposal reads in chat: its label, its full text, its status (no Telegram I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.i18n import Translator
from models.proposals import ANSWERED_STATUSES, Proposal, ProposalStatus

CARD_PART_LIMIT = 700  # reasons and measures on a desk card; the full text follows the card


def label(tr: Translator, proposal: Proposal) -> str:
    """提案第N号「title」 once numbered, else the draft number people co-sign with."""
    if proposal.number is not None:
        return tr("proposal.label_numbered", number=proposal.number, title=proposal.title)
    return tr("proposal.label_draft", id=proposal.id, title=proposal.title)


def status_name(tr: Translator, proposal: Proposal) -> str:
    """The status in words, with the round when a proposal went back to its department."""
    name = tr(f"proposal.status.{proposal.status}")
    if proposal.status == ProposalStatus.ASSIGNED and proposal.rounds > 1:
        return tr("proposal.status_round", status=name, round=proposal.rounds)
    return name


def implementation_name(tr: Translator, proposal: Proposal) -> str:
    """落实情况 in words (with the reason of 暂不能落实); 未填写落实情况 for an answered proposal
    without one, "" for one not answered yet."""
    return implementation_words(
        tr, proposal.status, proposal.implementation, proposal.implementation_reason
    )


def implementation_words(
    tr: Translator, status: str, implementation: str | None, reason: str | None
) -> str:
    """`implementation_name` of a proposal's values (kept from before a change)."""
    if implementation is None:
        return tr("proposal.implementation.unknown") if status in ANSWERED_STATUSES else ""
    name = tr(f"proposal.implementation.{implementation}")
    if reason:
        return tr("proposal.implementation_with_reason", status=name, reason=reason)
    return name


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ProposalWords(Protocol):
    """What `body` shows: a stored proposal, or the text of one still being written."""

    @property
    def title(self) -> str: ...
    @property
    def reasons(self) -> str: ...
    @property
    def measures(self) -> str: ...
    @property
    def category(self) -> str: ...


@dataclass(frozen=True)
class ProposalDraftText:
    """The words of a proposal not stored yet (its preview)."""

    title: str
    reasons: str
    measures: str
    category: str


def body(tr: Translator, proposal: ProposalWords, *, part_limit: int | None = None) -> str:
    """Title, category, reasons and measures (each part clipped when `part_limit` is given)."""
    reasons, measures = proposal.reasons, proposal.measures
    if part_limit is not None:
        reasons, measures = clip(reasons, part_limit), clip(measures, part_limit)
    return "\n".join(
        [
            tr("proposal.field_title", value=proposal.title),
            tr("proposal.field_category", value=tr(f"proposal.category.{proposal.category}")),
            tr("proposal.field_reasons"),
            reasons,
            tr("proposal.field_measures"),
            measures,
        ]
    )


def is_clipped(proposal: Proposal) -> bool:
    """Whether the desk card shows only part of the text."""
    return max(len(proposal.reasons), len(proposal.measures)) > CARD_PART_LIMIT


def chunks(text: str, size: int = 4000) -> list[str]:
    """Text cut into pieces Telegram accepts (4,096 characters a message)."""
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]
