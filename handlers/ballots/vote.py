"""Voting: 开始投票 under the invitation, one item at a time with buttons (a comment or a
free-text answer typed, or skipped), the summary, and confirm. The answers stay in the voter's
own draft until they confirm; then one paper without their name is stored and the draft is
dropped."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from handlers.ballots.buttons import (
    BallotAnswer,
    BallotConfirm,
    BallotGo,
    BallotPick,
    BallotSkip,
)
from handlers.common import (
    buttons_expected,
    keyboard,
    require_member,
    say,
    text_step,
    typed_text,
    user_draft,
)
from models.ballot_text import choice_name, election_question, local_time, question, summary
from models.ballots import (
    CHOICES,
    COMMENT_LIMIT,
    Ballot,
    BallotKind,
    BallotStatus,
    cast_ballot,
    get_ballot,
    is_elector,
    receipt_key,
    seal_papers,
)
from models.base import utcnow
from models.errors import DomainError

logger = logging.getLogger(__name__)

_END = ConversationHandler.END


class Voting:
    """Steps of voting."""

    CHOOSE = 1
    TEXT = 2
    SUMMARY = 3


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "ballot_vote")


async def _open_ballot(update: Update, context: UnionContext, ballot_id: int) -> Ballot | None:
    """The ballot if this person may vote in it now, else None after saying why."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    key: str | None = None
    try:
        async with context.db() as session:
            ballot = await get_ballot(session, org_id=context.org_id, ballot_id=ballot_id)
            if ballot.status == BallotStatus.OPEN and utcnow() < ballot.closes_at:
                elector = await is_elector(session, ballot_id=ballot_id, member_id=actor.id)
                if elector.voted_on is not None:
                    key = "ballot.already_voted"
            elif ballot.status == BallotStatus.CANCELLED:
                key = "ballot.was_cancelled"
            elif ballot.status == BallotStatus.SCHEDULED:
                key = "ballot.not_open_yet"
            else:
                key = "ballot.closed"
    except DomainError as error:
        key = error.key
    if key is not None:
        await context.answer(update)
        if key == "ballot.not_open_yet":
            when = local_time(ballot.opens_at, context.settings.zone)
            await say(update, context, context.t(key, title=ballot.title, when=when))
        else:
            title = ballot.title if key == "ballot.was_cancelled" else ""
            await say(update, context, context.t(key, title=title))
        return None
    return ballot


async def start_voting(update: Update, context: UnionContext) -> int:
    """开始投票."""
    ballot_id = context.button_as(BallotGo).ballot_id
    ballot = await _open_ballot(update, context, ballot_id)
    if ballot is None:
        return _END
    await context.answer(update)
    draft = _draft(context)
    draft.clear()
    draft.update(ballot=ballot_id, answers=[], picked=[])
    return await _next(update, context, ballot)


async def _ballot(context: UnionContext) -> Ballot | None:
    draft = _draft(context)
    if "ballot" not in draft:
        return None
    async with context.db() as session:
        return await session.get(Ballot, int(draft["ballot"]))


def _choice_markup(context: UnionContext, ballot: Ballot, index: int) -> InlineKeyboardMarkup:
    kind = BallotKind(ballot.kind)
    rows = [
        [(choice_name(context.tr, kind, c), BallotAnswer(ballot.id or 0, index, c))]
        for c in CHOICES[kind]
    ]
    return keyboard(*rows)


def _pick_markup(context: UnionContext, ballot: Ballot, picked: list[int]) -> InlineKeyboardMarkup:
    rows = [
        [
            (
                ("✅ " if index in picked else "▫️ ") + str(item["text"]),
                BallotPick(ballot.id or 0, "t", index),
            )
        ]
        for index, item in enumerate(ballot.item_list())
    ]
    rows.append([(context.t("ballot.picks_done"), BallotPick(ballot.id or 0, "done"))])
    return keyboard(*rows)


async def _next(update: Update, context: UnionContext, ballot: Ballot) -> int:
    """The next question, or the summary when every item is answered."""
    draft = _draft(context)
    answers: list[Any] = draft["answers"]
    items = ballot.item_list()
    if ballot.kind == BallotKind.ELECTION:
        if not draft.get("done"):
            picked = list(draft.get("picked", []))
            text = election_question(context.tr, ballot, picked)
            await say(update, context, text, _pick_markup(context, ballot, picked))
            return Voting.CHOOSE
        return await _summary(update, context, ballot)
    index = len(answers)
    if index >= len(items):
        return await _summary(update, context, ballot)
    text = question(context.tr, ballot, index)
    skip = keyboard([(context.t("ballot.skip"), BallotSkip(ballot.id or 0))])
    if items[index].get("free"):
        await say(update, context, text, skip)
        return Voting.TEXT
    await say(update, context, text, _choice_markup(context, ballot, index))
    return Voting.CHOOSE


async def _summary(update: Update, context: UnionContext, ballot: Ballot) -> int:
    draft = _draft(context)
    answers = draft["picked"] if ballot.kind == BallotKind.ELECTION else draft["answers"]
    bid = ballot.id or 0
    markup = keyboard(
        [(context.t("ballot.cast"), BallotConfirm(bid, "send"))],
        [(context.t("ballot.redo"), BallotConfirm(bid, "redo"))],
        [(context.t("common.cancel"), BallotConfirm(bid, "cancel"))],
    )
    await say(
        update,
        context,
        summary(
            context.tr, ballot, sorted(answers) if ballot.kind == BallotKind.ELECTION else answers
        ),
        markup,
    )
    return Voting.SUMMARY


async def _stale(update: Update, context: UnionContext) -> None:
    await context.answer(update, context.t("desk.stale_button"), alert=True)


async def got_choice(update: Update, context: UnionContext) -> int:
    """A grade, a satisfaction level, or for/against/abstain for the current item."""
    press = context.button_as(BallotAnswer)
    ballot = await _ballot(context)
    draft = _draft(context)
    if (
        ballot is None
        or press.ballot_id != ballot.id
        or ballot.kind == BallotKind.ELECTION
        or press.item != len(draft["answers"])
        or press.item >= len(ballot.item_list())
        or press.choice not in CHOICES[BallotKind(ballot.kind)]
    ):
        await _stale(update, context)
        return Voting.CHOOSE
    await context.answer(update)
    if ballot.kind == BallotKind.EVALUATION:
        draft["answers"].append([press.choice, ""])
        skip = keyboard([(context.t("ballot.no_comment"), BallotSkip(ballot.id or 0))])
        name = ballot.item_list()[press.item]["text"]
        await say(
            update, context, context.t("ballot.ask_comment", name=name, limit=COMMENT_LIMIT), skip
        )
        return Voting.TEXT
    draft["answers"].append(press.choice)
    return await _next(update, context, ballot)


async def got_pick(update: Update, context: UnionContext) -> int:
    """An election: toggle a candidate (the list is redrawn in place), or done."""
    press = context.button_as(BallotPick)
    ballot = await _ballot(context)
    draft = _draft(context)
    if ballot is None or press.ballot_id != ballot.id or ballot.kind != BallotKind.ELECTION:
        await _stale(update, context)
        return Voting.CHOOSE
    picked: list[int] = list(draft.get("picked", []))
    if press.action == "done":
        await context.answer(update)
        draft["done"] = True
        return await _next(update, context, ballot)
    if not 0 <= press.item < len(ballot.item_list()):
        await _stale(update, context)
        return Voting.CHOOSE
    if press.item in picked:
        picked.remove(press.item)
    elif len(picked) >= ballot.max_choices:
        await context.answer(
            update, context.t("ballot.too_many", count=ballot.max_choices), alert=True
        )
        return Voting.CHOOSE
    else:
        picked.append(press.item)
    draft["picked"] = picked
    await context.answer(update)
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(
            election_question(context.tr, ballot, picked),
            reply_markup=_pick_markup(context, ballot, picked),
        )
    except TelegramError:
        await say(
            update,
            context,
            election_question(context.tr, ballot, picked),
            _pick_markup(context, ballot, picked),
        )
    return Voting.CHOOSE


async def got_text(update: Update, context: UnionContext) -> int:
    """A comment on the person just graded, or a free-text answer."""
    ballot = await _ballot(context)
    if ballot is None:
        await say(update, context, context.t("ballot.draft_lost"))
        return _END
    text = await typed_text(update, context, limit=COMMENT_LIMIT, multiline=True)
    if text is None:
        return Voting.TEXT
    _store_text(context, ballot, text)
    return await _next(update, context, ballot)


def _store_text(context: UnionContext, ballot: Ballot, text: str) -> None:
    answers = _draft(context)["answers"]
    if ballot.kind == BallotKind.EVALUATION:
        answers[-1][1] = text
    else:
        answers.append(text)


async def got_skip(update: Update, context: UnionContext) -> int:
    """No comment / a free-text question left blank."""
    press = context.button_as(BallotSkip)
    ballot = await _ballot(context)
    if ballot is None or press.ballot_id != ballot.id:
        await _stale(update, context)
        return Voting.TEXT
    await context.answer(update)
    _store_text(context, ballot, "")
    return await _next(update, context, ballot)


async def got_confirm(update: Update, context: UnionContext) -> int:
    """Cast it (once), start again, or leave without voting."""
    press = context.button_as(BallotConfirm)
    ballot = await _ballot(context)
    draft = _draft(context)
    if ballot is None or press.ballot_id != ballot.id:
        await _stale(update, context)
        return Voting.SUMMARY
    await context.answer(update)
    if press.choice == "cancel":
        draft.clear()
        await say(update, context, context.t("ballot.vote_cancelled"))
        return _END
    if press.choice == "redo":
        draft.update(answers=[], picked=[], done=False)
        return await _next(update, context, ballot)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    answers = sorted(draft["picked"]) if ballot.kind == BallotKind.ELECTION else draft["answers"]
    now = utcnow()
    try:
        async with context.db() as session:
            code = await cast_ballot(
                session,
                ballot_id=ballot.id or 0,
                member=actor.member,
                answers=answers,
                receipt_key=receipt_key(context.state.secret),
                now=now,
                today=now.astimezone(context.settings.zone).date(),
            )
    except DomainError as error:
        draft.clear()
        await say(update, context, context.t(error.key, **error.params))
        return _END
    draft.clear()
    await _write_store(update, context)  # the choices leave the conversation store now
    logger.info("A paper was cast in ballot %s", ballot.id)
    async with context.db() as session:
        await seal_papers(session, ballot_id=ballot.id or 0, at_least=context.settings.ballot_batch)
    try:
        await say(update, context, context.t("ballot.cast_done", title=ballot.title, code=code))
    except TelegramError:
        logger.warning("A voter's receipt could not be sent (ballot %s)", ballot.id)
    return _END


async def _write_store(update: Update, context: UnionContext) -> None:
    """Write the conversation store at once, so the draft just cleared (the voter's choices)
    does not stay on disk until the next periodic write."""
    user = update.effective_user
    application = context.application
    if user is None or application.persistence is None:
        return
    application.mark_data_for_update_persistence(user_ids=user.id)
    try:
        await application.update_persistence()
    except Exception as exc:  # the paper is stored; the store is written again within seconds
        logger.warning("The conversation store could not be written now: %s", type(exc).__name__)


async def confirm_outside(update: Update, context: UnionContext) -> None:
    """A summary's button pressed again after the vote (or after the form ended)."""
    press = context.button_as(BallotConfirm)
    actor = context.actor
    if actor is not None and actor.is_active:
        async with context.db() as session:
            try:
                elector = await is_elector(session, ballot_id=press.ballot_id, member_id=actor.id)
            except DomainError:
                elector = None
        if elector is not None and elector.voted_on is not None:
            await context.answer(update)
            await say(update, context, context.t("ballot.already_voted"))
            return
    await _stale(update, context)


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while voting: nothing is stored."""
    _draft(context).clear()
    await say(update, context, context.t("ballot.vote_cancelled"))
    return _END


def states() -> dict[object, list[Any]]:
    """The voting form's steps."""
    return {
        Voting.CHOOSE: [
            ButtonHandler(BallotAnswer, got_choice),
            ButtonHandler(BallotPick, got_pick),
            MessageHandler(~filters.COMMAND, buttons_expected),
        ],
        Voting.TEXT: [ButtonHandler(BallotSkip, got_skip), *text_step(got_text)],
        Voting.SUMMARY: [
            ButtonHandler(BallotConfirm, got_confirm),
            MessageHandler(~filters.COMMAND, buttons_expected),
        ],
    }


def fallbacks() -> list[Any]:
    """/cancel."""
    return [CommandHandler("cancel", cancel)]
