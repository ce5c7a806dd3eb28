"""How a ballot reads: the invitation, each question, the summary before confirming, and the
results after the close (no Telegram I/O; shared by the handlers and the jobs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from fractions import Fraction
from typing import Any

from bot.i18n import Translator
from models.ballots import (
    CHOICES,
    Ballot,
    BallotKind,
    ItemTally,
    Tally,
)

_ZH_DIGITS = "零一二三四五六七八九十"


def fraction_words(tr: Translator, value: str) -> str:
    """2/3 as 三分之二 in Chinese, 2/3 otherwise."""
    share = Fraction(value)
    if tr.language.lower().startswith("zh") and share.denominator <= 10:
        return f"{_ZH_DIGITS[share.denominator]}分之{_ZH_DIGITS[share.numerator]}"
    return f"{share.numerator}/{share.denominator}"


def percent(share: Fraction | None) -> str:
    """A share as 88.9%, or - with nothing to divide."""
    return "-" if share is None else f"{float(share) * 100:.1f}%"


def local_time(ballot_time: Any, zone: tzinfo) -> str:
    """A stored moment as the union reads it."""
    return str(ballot_time.astimezone(zone).strftime("%Y-%m-%d %H:%M"))


def choice_name(tr: Translator, kind: BallotKind, choice: str) -> str:
    """优秀, 满意, 赞成 ..."""
    return tr(f"ballot.choice.{kind}.{choice}")


def rules_line(tr: Translator, ballot: Ballot) -> str | None:
    """The two-thirds rule of a staff-congress vote, in words."""
    if not ballot.congress:
        return None
    return tr(
        "ballot.congress_rule",
        quorum=fraction_words(tr, ballot.quorum),
        majority=fraction_words(tr, ballot.majority),
    )


def invitation(tr: Translator, ballot: Ballot, zone: tzinfo) -> str:
    """What each voter gets when the ballot opens."""
    lines = [
        tr("ballot.invitation", title=ballot.title, kind=tr(f"ballot.kind.{ballot.kind}")),
        tr("ballot.closes_at", when=local_time(ballot.closes_at, zone)),
        tr("ballot.item_count", count=len(ballot.item_list())),
    ]
    if ballot.kind == BallotKind.ELECTION:
        lines.append(tr("ballot.choose_up_to", count=ballot.max_choices))
    rule = rules_line(tr, ballot)
    if rule:
        lines.append(rule)
    lines.append(tr("ballot.secrecy_note"))
    return "\n".join(lines)


def question(tr: Translator, ballot: Ballot, index: int) -> str:
    """The question for item `index` (not for an election: its list is one step)."""
    items = ballot.item_list()
    item = items[index]
    head = tr("ballot.progress", n=index + 1, total=len(items), title=ballot.title)
    if ballot.kind == BallotKind.EVALUATION:
        return head + "\n" + tr("ballot.ask_grade", name=item["text"])
    if item.get("free"):
        return head + "\n" + tr("ballot.ask_free", question=item["text"])
    if ballot.kind == BallotKind.SATISFACTION:
        return head + "\n" + tr("ballot.ask_satisfaction", question=item["text"])
    return head + "\n" + tr("ballot.ask_motion", motion=item["text"])


def election_question(tr: Translator, ballot: Ballot, chosen: Sequence[int]) -> str:
    """The candidate list with the count chosen so far."""
    return "\n".join(
        [
            tr("ballot.ask_candidates", title=ballot.title, count=ballot.max_choices),
            tr("ballot.chosen_so_far", chosen=len(chosen), count=ballot.max_choices),
        ]
    )


def summary(tr: Translator, ballot: Ballot, answers: Sequence[Any]) -> str:
    """What the voter chose, shown before they confirm."""
    kind = BallotKind(ballot.kind)
    items = ballot.item_list()
    lines = [tr("ballot.summary_title", title=ballot.title)]
    if kind == BallotKind.ELECTION:
        names = "、".join(str(items[i]["text"]) for i in answers) or tr("ballot.nobody")
        lines.append(tr("ballot.summary_chosen", names=names))
    else:
        for item, answer in zip(items, answers, strict=False):
            if kind == BallotKind.EVALUATION:
                grade, comment = answer
                line = f"{item['text']}：{choice_name(tr, kind, grade)}"
                if comment:
                    line += "\n  " + tr("ballot.summary_comment", comment=comment)
            elif item.get("free"):
                line = f"{item['text']}：{answer or tr('ballot.skipped')}"
            else:
                line = f"{item['text']}：{choice_name(tr, kind, answer)}"
            lines.append(line)
    lines.append(tr("ballot.summary_confirm"))
    return "\n".join(lines)


# ---- results --------------------------------------------------------------------------------


def _counts(tr: Translator, kind: BallotKind, item: ItemTally) -> str:
    return "，".join(
        tr("ballot.count_of", choice=choice_name(tr, kind, c), count=item.counts.get(c, 0))
        for c in CHOICES[kind]
    )


def item_line(tr: Translator, tally: Tally, item: ItemTally) -> str:
    """One item's counts and rates."""
    kind = BallotKind(tally.ballot.kind)
    if kind == BallotKind.EVALUATION:
        return tr(
            "ballot.result_evaluation",
            name=item.text,
            counts=_counts(tr, kind, item),
            excellent=percent(item.share("excellent")),
            competent=percent(item.share("excellent", "competent")),
        )
    if kind == BallotKind.SATISFACTION:
        return tr(
            "ballot.result_satisfaction",
            question=item.text,
            counts=_counts(tr, kind, item),
            rate=percent(item.share("satisfied", "basic")),
        )
    if kind == BallotKind.RESOLUTION:
        verdict = "ballot.passed" if tally.passed(item) else "ballot.not_passed"
        return tr(
            "ballot.result_motion",
            motion=item.text,
            counts=_counts(tr, kind, item),
            verdict=tr(verdict),
        )
    return tr("ballot.result_candidate", name=item.text, count=item.counts.get("yes", 0))


def results_text(tr: Translator, tally: Tally, zone: tzinfo, *, heading: bool = True) -> str:
    """The whole result of a closed ballot (the committee group; without the heading, the body
    of the 公示 notice, whose title says it)."""
    ballot = tally.ballot
    kind = BallotKind(ballot.kind)
    lines = [
        tr("ballot.results_title", title=ballot.title, kind=tr(f"ballot.kind.{kind}")),
        tr(
            "ballot.turnout",
            electorate=tally.electorate,
            voted=tally.voted,
            rate=percent(Fraction(tally.voted, tally.electorate) if tally.electorate else None),
        ),
    ]
    rule = rules_line(tr, ballot)
    if rule:
        lines.append(rule)
    if tally.withheld:
        lines.append(tr("ballot.results_withheld", minimum=tally.min_group))
        return "\n".join(lines)
    lines.append(tr("ballot.valid") if tally.valid else tr("ballot.invalid"))
    lines.append("")
    if kind == BallotKind.ELECTION:
        ranked = sorted(tally.items, key=lambda item: -item.counts.get("yes", 0))
        lines.extend(item_line(tr, tally, item) for item in ranked)
        if tally.blank:
            lines.append(tr("ballot.blank_papers", count=tally.blank))
        if tally.valid:
            elected, tied = tally.winners()
            names = "、".join(tally.items[i].text for i in elected) or tr("ballot.nobody")
            lines.append(tr("ballot.elected", names=names))
            if tied:
                lines.append(
                    tr(
                        "ballot.tied",
                        names="、".join(tally.items[i].text for i in tied),
                        count=tally.items[tied[0]].counts.get("yes", 0),
                    )
                )
    else:
        for item in tally.items:
            if item.free:
                lines.append(tr("ballot.result_free", question=item.text, count=len(item.comments)))
            else:
                lines.append(item_line(tr, tally, item))
            lines.extend(f"  · {comment}" for comment in item.comments)
    if kind == BallotKind.EVALUATION:
        lines.append(tr("ballot.rates_defined"))
    if kind == BallotKind.RESOLUTION and not ballot.congress:
        lines.append(tr("ballot.simple_majority"))
    if tally.departments:
        lines.append("")
        lines.append(tr("ballot.by_department"))
        for name, items in tally.departments.items():
            lines.append(
                tr("ballot.department_head", name=name, count=tally.department_voted[name])
            )
            part = Tally(ballot=ballot, electorate=0, voted=0, items=items)
            lines.extend(
                "  " + item_line(tr, part, item)
                for item in items
                if not item.free and kind != BallotKind.RESOLUTION
            )
            if kind == BallotKind.RESOLUTION:
                lines.extend(
                    f"  {item.text}：{_counts(tr, kind, item)}" for item in items if not item.free
                )
    return "\n".join(lines if heading else lines[1:])


def chunks(text: str, limit: int = 4000) -> list[str]:
    """A long text cut at line ends into messages Telegram takes (a very long line is cut)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
