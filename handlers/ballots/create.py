"""/ballot for the committee: title, kind, electorate, items, opening and closing time, a
preview with ✏️ 修改某项, and confirm. `/ballot check CODE` is any voter's receipt check."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlmodel import col, select
from telegram import Update
from telegram.ext import ConversationHandler

from bot.context import UnionContext
from handlers.ballots.buttons import BallotCreate, BallotKindChoice, BallotOpensNow, BallotWho
from handlers.common import (
    EditableField,
    PreviewEdits,
    keyboard,
    require_committee,
    require_member,
    say,
    typed_text,
    user_draft,
)
from handlers.groups.picker import group_pressed, offer_groups
from models.ballot_text import fraction_words, local_time
from models.ballots import (
    TITLE_LIMIT,
    Ballot,
    BallotKind,
    Electorate,
    NewBallot,
    check_receipt,
    create_ballot,
    electorate_members,
    is_congress,
    parse_items,
    receipt_key,
)
from models.base import utcnow
from models.errors import DomainError
from models.groups import check_departments
from models.members import Member, MemberStatus
from models.written import count, moment
from scheduler.ballot_jobs import open_and_invite

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
CHECK_WORDS = ("check", "查验", "核验", "回执")


class Creating(IntEnum):
    """Steps of setting up a ballot."""

    TITLE = 1
    KIND = 2
    WHO = 3
    WHO_DETAIL = 4
    ITEMS = 5
    MAX = 6
    OPENS = 7
    CLOSES = 8
    CONFIRM = 9


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "ballot")


async def start(update: Update, context: UnionContext) -> int:
    """/ballot: a new ballot (committee); /ballot check CODE: a receipt check (any voter)."""
    if update.callback_query is not None:
        await context.answer(update)
    if context.args and context.args[0].lower() in CHECK_WORDS:
        await check(update, context, "".join(context.args[1:]))
        return _END
    if await require_committee(update, context) is None:
        return _END
    _draft(context).clear()
    return await _ask_title(update, context)


async def check(update: Update, context: UnionContext, code: str) -> None:
    """Whether a receipt code's ballot paper was counted (never what it says)."""
    if await require_member(update, context) is None:
        return
    if not code:
        await say(update, context, context.t("ballot.check_how"))
        return
    try:
        async with context.db() as session:
            ballot, day = await check_receipt(
                session,
                org_id=context.org_id,
                code=code,
                receipt_key=receipt_key(context.state.secret),
            )
    except DomainError as error:
        await say(update, context, context.t(error.key))
        return
    await say(update, context, context.t("ballot.receipt_found", title=ballot.title, day=day))


async def _ask_title(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("ballot.write_title", limit=TITLE_LIMIT))
    return Creating.TITLE


async def got_title(update: Update, context: UnionContext) -> int:
    """The title; then the kind."""
    title = await typed_text(update, context, limit=TITLE_LIMIT)
    if title is None:
        return Creating.TITLE
    _draft(context)["title"] = title
    return await EDITS.then(update, context, _ask_kind)


async def _ask_kind(update: Update, context: UnionContext) -> int:
    rows = [[(context.t(f"ballot.kind.{k}"), BallotKindChoice(k))] for k in BallotKind]
    await say(update, context, context.t("ballot.choose_kind"), keyboard(*rows))
    return Creating.KIND


async def got_kind(update: Update, context: UnionContext) -> int:
    """The kind; then who votes."""
    await context.answer(update)
    _draft(context)["kind"] = context.button_as(BallotKindChoice).kind.value
    return await EDITS.then(update, context, _ask_who)


async def _ask_who(update: Update, context: UnionContext) -> int:
    rows = [[(context.t(f"ballot.who.{w}"), BallotWho(w))] for w in Electorate]
    await say(update, context, context.t("ballot.choose_who"), keyboard(*rows))
    return Creating.WHO


async def got_who(update: Update, context: UnionContext) -> int:
    """Who votes; departments and a list of names are typed next."""
    await context.answer(update)
    who = context.button_as(BallotWho).who
    draft = _draft(context)
    draft["who"] = {"type": who.value}
    if who == Electorate.DEPARTMENTS:  # the groups as buttons; typing the names works too
        shown = await offer_groups(update, context, draft, "ballot.pick_departments")
        return Creating.WHO_DETAIL if shown else Creating.WHO
    if who == Electorate.MEMBERS:
        await say(update, context, context.t("ballot.write_names"))
        return Creating.WHO_DETAIL
    return await EDITS.then(update, context, _ask_items)


async def _regroup(update: Update, context: UnionContext) -> int:
    """The groups offered again (the ones still there stay ticked; typing works too)."""
    await offer_groups(update, context, _draft(context), "ballot.pick_departments")
    return Creating.WHO_DETAIL


async def got_who_groups(update: Update, context: UnionContext) -> int:
    """A group ticked (stay), or done: the members of those departments vote."""
    draft = _draft(context)
    names = await group_pressed(update, context, draft)
    if names is None:
        return Creating.WHO_DETAIL
    draft["who"] = {"type": Electorate.DEPARTMENTS.value, "departments": names}
    return await EDITS.then(update, context, _ask_items)


def _names(text: str) -> list[str]:
    parts = text.replace("，", "、").replace(",", "、").replace("\n", "、").split("、")
    return [part.strip() for part in parts if part.strip()]


async def got_who_detail(update: Update, context: UnionContext) -> int:
    """Department names, or members' names, separated by 、 or commas."""
    text = await typed_text(update, context, limit=2000, multiline=True)
    if text is None:
        return Creating.WHO_DETAIL
    draft = _draft(context)
    rule = dict(draft.get("who") or {"type": Electorate.EVERYONE.value})
    names = _names(text)
    if not names:
        await say(update, context, context.t("ballot.write_names"))
        return Creating.WHO_DETAIL
    if rule["type"] == Electorate.DEPARTMENTS:
        try:
            async with context.db() as session:
                rule["departments"] = await check_departments(
                    session, org_id=context.org_id, names=names
                )
        except DomainError as error:  # not a group: asked again, the buttons still work
            await say(update, context, context.t(error.key, **error.params))
            return Creating.WHO_DETAIL
    else:
        async with context.db() as session:
            found = (
                await session.exec(
                    select(Member).where(
                        Member.organization_id == context.org_id,
                        Member.status == MemberStatus.ACTIVE,
                        col(Member.real_name).in_(names),
                    )
                )
            ).all()
        by_name: dict[str, list[int]] = {}
        for member in found:
            by_name.setdefault(member.real_name, []).append(member.id or 0)
        unknown = [n for n in names if n not in by_name]
        twice = [n for n in names if len(by_name.get(n, [])) > 1]
        if unknown or twice:
            await say(
                update,
                context,
                context.t("ballot.names_unknown", names="、".join(unknown + twice)),
            )
            return Creating.WHO_DETAIL
        rule["ids"] = sorted({by_name[n][0] for n in names})
    draft["who"] = rule
    return await EDITS.then(update, context, _ask_items)


async def _ask_items(update: Update, context: UnionContext) -> int:
    kind = _draft(context).get("kind", BallotKind.RESOLUTION)
    await say(update, context, context.t(f"ballot.write_items.{kind}"))
    return Creating.ITEMS


async def got_items(update: Update, context: UnionContext) -> int:
    """The persons, questions, candidates or motions, one a line."""
    text = await typed_text(update, context, limit=3000, multiline=True)
    if text is None:
        return Creating.ITEMS
    draft = _draft(context)
    try:
        parse_items(BallotKind(draft.get("kind", BallotKind.RESOLUTION)), text)
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Creating.ITEMS
    draft["items"] = text
    if draft.get("kind") == BallotKind.ELECTION:
        return await EDITS.then(update, context, _ask_max)
    draft["max"] = 1
    return await EDITS.then(update, context, _ask_opens)


def _is_election(draft: dict[str, Any]) -> bool:
    return draft.get("kind") == BallotKind.ELECTION


async def _ask_max(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("ballot.write_max"))
    return Creating.MAX


async def got_max(update: Update, context: UnionContext) -> int:
    """How many candidates a voter may choose."""
    assert update.message is not None
    value = count(update.message.text or "", low=1, high=100)
    if value is None:
        return await _ask_max(update, context)
    _draft(context)["max"] = value
    return await EDITS.then(update, context, _ask_opens)


async def _ask_opens(update: Update, context: UnionContext) -> int:
    markup = keyboard([(context.t("ballot.opens_now"), BallotOpensNow())])
    await say(update, context, context.t("ballot.write_opens"), markup)
    return Creating.OPENS


async def _typed_moment(update: Update, context: UnionContext) -> datetime | None:
    text = await typed_text(update, context, limit=40)
    if text is None:
        return None
    found = moment(text, now=utcnow(), zone=context.settings.zone)
    if found is None:
        await say(update, context, context.t("ballot.time_unclear"))
        return None
    return found


async def got_opens(update: Update, context: UnionContext) -> int:
    """A typed opening time."""
    opens = await _typed_moment(update, context)
    if opens is None:
        return Creating.OPENS
    _draft(context)["opens"] = opens.isoformat()
    return await EDITS.then(update, context, _ask_closes)


async def got_opens_now(update: Update, context: UnionContext) -> int:
    """Open as soon as it is confirmed."""
    await context.answer(update)
    _draft(context)["opens"] = "now"
    return await EDITS.then(update, context, _ask_closes)


async def _ask_closes(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("ballot.write_closes"))
    return Creating.CLOSES


async def got_closes(update: Update, context: UnionContext) -> int:
    """The closing time; then the preview."""
    closes = await _typed_moment(update, context)
    if closes is None:
        return Creating.CLOSES
    if closes <= utcnow():
        await say(update, context, context.t("ballot.closes_past"))
        return Creating.CLOSES
    _draft(context)["closes"] = closes.isoformat()
    return await EDITS.then(update, context, _preview)


_NEEDED = ("title", "kind", "who", "items", "opens", "closes")


def _new_ballot(draft: dict[str, Any], now: datetime | None = None) -> NewBallot:
    kind = BallotKind(draft["kind"])
    opens = (now or utcnow()) if draft["opens"] == "now" else datetime.fromisoformat(draft["opens"])
    return NewBallot(
        title=str(draft["title"]),
        kind=kind,
        electorate=dict(draft["who"]),
        items=parse_items(kind, str(draft["items"])),
        max_choices=int(draft.get("max", 1)) if kind == BallotKind.ELECTION else 1,
        opens_at=opens,
        closes_at=datetime.fromisoformat(draft["closes"]),
    )


async def _preview(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    if not all(key in draft for key in _NEEDED):
        await say(update, context, context.t("ballot.draft_lost"))
        return _END
    try:
        new = _new_ballot(draft)
    except DomainError as error:  # the kind changed and the items no longer fit it
        await say(update, context, context.t(error.key, **error.params))
        return await _ask_items(update, context)
    async with context.db() as session:
        electors = await electorate_members(session, org_id=context.org_id, rule=new.electorate)
    zone = context.settings.zone
    who = context.t(f"ballot.who.{new.electorate['type']}")
    if new.electorate.get("departments"):
        who += "：" + "、".join(new.electorate["departments"])
    lines = [
        context.t("ballot.preview_title"),
        context.t("ballot.preview_name", title=new.title),
        context.t("ballot.preview_kind", kind=context.t(f"ballot.kind.{new.kind}")),
        context.t("ballot.preview_who", who=who, count=len(electors)),
        context.t("ballot.preview_items"),
        *(
            f"{number}. {item['text']}"
            + (context.t("ballot.free_mark") if item.get("free") else "")
            for number, item in enumerate(new.items, start=1)
        ),
    ]
    if new.kind == BallotKind.ELECTION:
        lines.append(context.t("ballot.choose_up_to", count=new.max_choices))
    opens = context.t("ballot.now") if draft["opens"] == "now" else local_time(new.opens_at, zone)
    lines.append(
        context.t("ballot.preview_when", opens=opens, closes=local_time(new.closes_at, zone))
    )
    if is_congress(new.kind, new.electorate):
        lines.append(
            context.t(
                "ballot.congress_rule",
                quorum=fraction_words(context.tr, context.settings.ballot_quorum),
                majority=fraction_words(context.tr, context.settings.ballot_majority),
            )
        )
    markup = EDITS.markup(context, BallotCreate("yes"), BallotCreate("cancel"))
    await say(update, context, "\n".join(lines), markup)
    return Creating.CONFIRM


EDITS = PreviewEdits(
    "ballot",
    [
        EditableField("ballot.edit.title", _ask_title),
        EditableField("ballot.edit.kind", _ask_kind),
        EditableField("ballot.edit.who", _ask_who),
        EditableField("ballot.edit.items", _ask_items),
        EditableField("ballot.edit.max", _ask_max, _is_election),
        EditableField("ballot.edit.opens", _ask_opens),
        EditableField("ballot.edit.closes", _ask_closes),
    ],
    _preview,
)


async def confirm(update: Update, context: UnionContext) -> int:
    """Store it; open it at once when its time is now."""
    await context.answer(update)
    if context.button_as(BallotCreate).choice == "cancel":
        return await cancel(update, context)
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    if not all(key in draft for key in _NEEDED):
        await say(update, context, context.t("ballot.draft_lost"))
        return _END
    now = utcnow()
    settings = context.settings
    try:
        async with context.db() as session:
            ballot = await create_ballot(
                session,
                org_id=context.org_id,
                actor_id=actor.id,
                new=_new_ballot(draft, now),
                quorum=settings.ballot_quorum,
                majority=settings.ballot_majority,
                min_group=settings.ballot_min_group,
                now=now,
            )
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        if error.key == "groups.unknown":  # a group gone meanwhile: choose again, draft kept
            return await EDITS.reask(update, context, _regroup)
        return Creating.CONFIRM  # fix the time with ✏️ 修改某项
    draft.clear()
    logger.info("Ballot %s created by member %s", ballot.id, actor.id)
    runtime = context.runtime
    if ballot.opens_at <= now and runtime is not None:
        await open_and_invite(runtime, ballot.id or 0, now=now)
        async with context.db() as session:
            opened = await session.get(Ballot, ballot.id)
        size = opened.electorate_size if opened else 0
        await say(update, context, context.t("ballot.opened", title=ballot.title, count=size))
        return _END
    when = local_time(ballot.opens_at, settings.zone)
    await say(update, context, context.t("ballot.scheduled", title=ballot.title, when=when))
    return _END


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while setting up a ballot."""
    _draft(context).clear()
    await say(update, context, context.t("ballot.creating_cancelled"))
    return _END
