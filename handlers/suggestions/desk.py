"""The suggestion box on the review desk: cards, Reply / Close / Reopen / Publish, listing.

A committee member's Reply button (pressed in the group) continues in their private chat: the
reply conversation is keyed per user, not per chat, for that reason.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.common import (
    TYPED_TEXT,
    expect_text,
    keyboard,
    private_text_conversation,
    refuse,
    require_committee,
    say,
    say_receipt,
)
from handlers.review_desk import committee_press, post_card, refresh_cards
from handlers.suggestions.buttons import (
    AuthorButton,
    CategoryToggle,
    SuggestionCard,
    SuggestionCategoryFilter,
    SuggestionPage,
    SuggestionShow,
    SuggestionStatusFilter,
)
from models.errors import N_, DomainError, InputError
from models.members import Actor, Member, numbered_name
from models.organizations import bind_disclosure_chat, get_organization
from models.suggestions import (
    EntryKind,
    Suggestion,
    SuggestionCategory,
    SuggestionStatus,
    add_category,
    author_id,
    author_unreachable,
    close_suggestion,
    closing_note,
    committee_list,
    ensure_default_categories,
    get_category,
    get_suggestion,
    list_categories,
    mark_published,
    photos_of,
    reopen_suggestion,
    reply_to_suggestion,
    set_category_active,
    thread_of,
    unmark_published,
    without_desk_card,
)

logger = logging.getLogger(__name__)

KIND = "sug"  # the kind of desk card (models.desk)
PAGE_SIZE = 6
# bot_data: ids of items being put on the desk right now (kept in memory only), so that
# `put_missing_on_desk` never posts a second card for an item whose first is on its way.
ANNOUNCING = "sug_announcing"


_END = ConversationHandler.END


def category_label(tr: Translator, category: SuggestionCategory) -> str:
    """A category's name in the reader's language (custom names are shown as typed)."""
    if category.code:
        return tr(f"category.{category.code}")
    return category.name or "?"


def _when(context: UnionContext, moment: datetime | None) -> str:
    return moment.astimezone(context.settings.zone).strftime("%Y-%m-%d %H:%M") if moment else ""


async def render_card(
    context: UnionContext, item: Suggestion
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card as the committee sees it now: never the author of an anonymous item."""
    tr = context.i18n.get(context.settings.default_language)
    async with context.db() as session:
        category = await get_category(session, org_id=context.org_id, category_id=item.category_id)
        author = None if item.anonymous else await session.get(Member, item.author_member_id)
        thread = await thread_of(session, suggestion_id=item.id or 0)
        answerer = (
            await session.get(Member, item.answered_by_member_id)
            if item.answered_by_member_id
            else None
        )
        closer = (
            await session.get(Member, item.closed_by_member_id)
            if item.closed_by_member_id and item.status == SuggestionStatus.CLOSED
            else None
        )
        note = (
            await closing_note(session, suggestion_id=item.id or 0)
            if item.status == SuggestionStatus.CLOSED
            else None
        )
        org = await get_organization(session, context.org_id)
    who = (
        tr("suggestion.anonymous_author")
        if item.anonymous or author is None
        else f"{numbered_name(author)} · {author.department}"
    )
    lines = [
        tr("suggestion.card_title", number=item.number, category=category_label(tr, category)),
        tr("suggestion.card_author", who=who),
        "",
        item.body,
        "",
        tr("suggestion.card_status", status=tr(f"suggestion.status.{item.status}")),
    ]
    if answerer is not None:
        lines.append(
            tr(
                "suggestion.card_answered",
                who=answerer.real_name,
                when=_when(context, item.answered_at),
            )
        )
    followups = sum(1 for entry in thread if entry.kind == EntryKind.FOLLOWUP)
    if followups:
        lines.append(tr("suggestion.card_followups", count=followups))
    if closer is not None:
        lines.append(
            tr("suggestion.card_closed", who=closer.real_name, when=_when(context, item.closed_at))
        )
    if note:
        # Like answers and follow-ups, the note itself stays off the group card: it may answer
        # an anonymous author's follow-up with details that point to them.
        lines.append(tr("suggestion.card_closing_note"))
    if item.published_at:
        lines.append(tr("suggestion.card_published", when=_when(context, item.published_at)))
    if author_unreachable(item, context.state.seal):
        lines.append(tr("suggestion.card_author_unreachable"))
    return "\n".join(lines), _card_buttons(
        tr, item, channel_bound=org.disclosure_chat_id is not None
    )


def _card_buttons(tr: Translator, item: Suggestion, *, channel_bound: bool) -> InlineKeyboardMarkup:
    item_id = item.id or 0
    row: list[tuple[str, Button]] = []
    if item.status in (SuggestionStatus.OPEN, SuggestionStatus.ANSWERED):
        row.append((tr("suggestion.reply"), SuggestionCard("reply", item_id)))
        row.append((tr("suggestion.close"), SuggestionCard("close", item_id)))
    else:
        row.append((tr("suggestion.reopen"), SuggestionCard("reopen", item_id)))
    rows = [row]
    if channel_bound and item.answered_at and not item.published_at:
        rows.append([(tr("suggestion.publish"), SuggestionCard("pub", item_id))])
    return keyboard(*rows)


def _announcing(context: UnionContext) -> set[int]:
    busy = context.bot_data.setdefault(ANNOUNCING, set())
    assert isinstance(busy, set)
    return busy


async def announce(context: UnionContext, item: Suggestion) -> int:
    """Put a new item on the review desk, with its photos; returns how many chats got it."""
    item_id = item.id or 0
    busy = _announcing(context)
    busy.add(item_id)
    try:
        text, markup = await render_card(context, item)
        async with context.db() as session:
            photos = await photos_of(session, suggestion_id=item_id)
        return await post_card(
            context, kind=KIND, item_id=item_id, text=text, markup=markup, photos=photos
        )
    finally:
        busy.discard(item_id)


async def put_missing_on_desk(context: UnionContext) -> int:
    """Items stored but never carded (the database or the bot failed right after the commit,
    when the author's draft was already forgotten): each gets its card now, and its author a
    late receipt, found through the item (the seal of an anonymous one), never through who
    pressed. Returns how many were carded."""
    busy = _announcing(context)
    async with context.db() as session:
        items = await without_desk_card(
            session, org_id=context.org_id, kind=KIND, skip=sorted(busy)
        )
    carded = 0
    for item in items:
        if (item.id or 0) in busy or await announce(context, item) == 0:
            continue  # on its way already, or no committee chat took it: tried again later
        carded += 1
        logger.info("Suggestion %s was put on the desk late", item.id)
        await _tell_received_late(context, item)
    return carded


async def _tell_received_late(context: UnionContext, item: Suggestion) -> None:
    member_id = author_id(item, context.state.seal)
    if member_id is None:
        return
    async with context.db() as session:
        author = await session.get(Member, member_id)
    if author is None or author.telegram_user_id is None:
        return
    tr = context.i18n.get(author.language)
    await context.notifier.tell_chat(
        author.telegram_user_id,
        tr("suggestion.receipt_late", number=item.number),
        who=f"the author of suggestion {item.id}",
    )


async def refresh(context: UnionContext, suggestion_id: int) -> None:
    """Edit every copy of the item's card to show its current state."""
    async with context.db() as session:
        item = await get_suggestion(session, org_id=context.org_id, suggestion_id=suggestion_id)
    text, markup = await render_card(context, item)
    await refresh_cards(context, kind=KIND, item_id=suggestion_id, text=text, markup=markup)


# ---- Reply -------------------------------------------------------------------------------


async def start_reply(update: Update, context: UnionContext) -> int:
    """Reply pressed: continue privately with the committee member."""
    pressed = await committee_press(update, context)
    query = update.callback_query
    assert query is not None
    if pressed is None:
        return _END
    actor = pressed
    suggestion_id = context.button_as(SuggestionCard).item_id
    try:
        async with context.db() as session:
            item = await get_suggestion(session, org_id=context.org_id, suggestion_id=suggestion_id)
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return _END
    if item.status == SuggestionStatus.CLOSED:
        await context.answer(
            update, context.t("suggestion.is_closed", number=item.number), alert=True
        )
        await refresh(context, item.id or 0)
        return _END
    user_id = actor.member.telegram_user_id or query.from_user.id
    who = (
        context.t("suggestion.anonymous_author")
        if item.anonymous
        else await _author_name(context, item)
    )
    purpose = context.t("purpose.suggestion_reply", number=item.number, who=who)
    try:
        await context.bot.send_message(
            user_id,
            expect_text(context, purpose)
            + "\n"
            + context.t("suggestion.write_reply", number=item.number)
            + "\n\n"
            + item.body,
        )
    except Forbidden:
        await context.answer(update, context.t("suggestion.open_private_first"), alert=True)
        return _END
    assert context.user_data is not None
    context.user_data["sug_reply"] = {"id": item.id, "version": item.version}
    await context.answer(update, context.t("suggestion.reply_in_private"))
    return TYPED_TEXT


async def _author_name(context: UnionContext, item: Suggestion) -> str:
    async with context.db() as session:
        author = await session.get(Member, item.author_member_id)
    return author.real_name if author is not None else "?"


async def send_reply(update: Update, context: UnionContext, text: str) -> int:
    """The reply text, typed in the private chat and checked by its writer."""
    assert context.user_data is not None
    pending = context.user_data.get("sug_reply") or {}
    actor = context.actor
    if actor is None or not actor.is_committee:
        context.user_data.pop("sug_reply", None)
        await say(update, context, context.t("desk.not_committee"))
        return _END
    try:
        async with context.db() as session:
            item = await reply_to_suggestion(
                session,
                org_id=context.org_id,
                suggestion_id=int(pending.get("id", 0)),
                actor=actor,
                body=text,
                expected_version=int(pending.get("version", -1)),
            )
    except DomainError as error:
        await refuse(update, context, error)
        if error.key == "suggestion.changed_meanwhile":
            context.user_data.pop("sug_reply", None)
            return _END
        return TYPED_TEXT  # empty or too long: let them try again
    context.user_data.pop("sug_reply", None)
    logger.info("Suggestion %s answered by member %s", item.id, actor.id)
    delivered = await deliver_to_author(context, item, text)
    await refresh(context, item.id or 0)
    key = "suggestion.reply_sent" if delivered else "suggestion.reply_stored_undelivered"
    if author_unreachable(item, context.state.seal):
        key = "suggestion.reply_stored_author_lost"  # the key changed: never, not "right now"
    # The reply is stored and delivered: a lost confirmation must not report it as failed.
    await say_receipt(update, context, context.t(key, number=item.number))
    return _END


async def deliver_to_author(context: UnionContext, item: Suggestion, reply: str) -> bool:
    """Send a reply to the item's author (opening the seal of an anonymous one)."""
    member_id = author_id(item, context.state.seal)
    if member_id is None:
        return False
    async with context.db() as session:
        author = await session.get(Member, member_id)
    if author is None or author.telegram_user_id is None:
        return False
    tr = context.i18n.get(author.language)
    item_id = item.id or 0
    markup = keyboard(
        [(tr("suggestion.author_followup"), AuthorButton("more", item_id))],
        [
            (tr("suggestion.author_resolved"), AuthorButton("ok", item_id)),
            (tr("suggestion.author_not_resolved"), AuthorButton("notok", item_id)),
        ],
    )
    text = tr("suggestion.reply_to_author", number=item.number) + "\n\n" + reply
    # Logged by the item's id only: for an anonymous item the author's id must not meet it.
    return await context.notifier.tell_chat(
        author.telegram_user_id,
        text,
        reply_markup=markup,
        who=f"the author of suggestion {item.id}",
    )


async def cancel_reply(update: Update, context: UnionContext) -> int:
    """/cancel while writing a reply."""
    if context.user_data is not None:
        context.user_data.pop("sug_reply", None)
    await say(update, context, context.t("suggestion.reply_cancelled"))
    return _END


# ---- Close / Reopen / Publish ------------------------------------------------------------


async def change_state(update: Update, context: UnionContext) -> None:
    """Reopen or Publish pressed on a card (Close is the entry of `close_conversation`)."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(SuggestionCard)
    suggestion_id = button.item_id
    try:
        if button.action == "pub":
            await publish(context, suggestion_id=suggestion_id, actor=actor)
        else:  # registered for reopen and pub only
            async with context.db() as session:
                await reopen_suggestion(
                    session, org_id=context.org_id, suggestion_id=suggestion_id, actor=actor
                )
    except DomainError as error:
        await refuse(update, context, error)
        await _quiet_refresh(context, suggestion_id)
        return
    await context.answer(update, context.t("suggestion.done_toast"))
    logger.info("Suggestion %s: %s by member %s", suggestion_id, button.action, actor.id)
    await refresh(context, suggestion_id)


async def _quiet_refresh(context: UnionContext, suggestion_id: int) -> None:
    try:
        await refresh(context, suggestion_id)
    except DomainError:
        return


# ---- Close -------------------------------------------------------------------------------


async def start_close(update: Update, context: UnionContext) -> int:
    """✅ 办结 pressed: closed at once, unless the author is waiting for an answer to a
    follow-up; then the committee member writes a closing note for them first (in private)."""
    pressed = await committee_press(update, context)
    query = update.callback_query
    if pressed is None or query is None:
        return _END
    actor = pressed
    suggestion_id = context.button_as(SuggestionCard).item_id
    try:
        async with context.db() as session:
            item = await get_suggestion(session, org_id=context.org_id, suggestion_id=suggestion_id)
            item = await close_suggestion(
                session, org_id=context.org_id, suggestion_id=suggestion_id, actor=actor
            )
    except DomainError as error:
        if error.key == "suggestion.close_needs_note":
            return await _ask_closing_note(update, context, actor, item)
        await refuse(update, context, error)
        await _quiet_refresh(context, suggestion_id)
        return _END
    logger.info("Suggestion %s: close by member %s", suggestion_id, actor.id)
    told = await tell_author_closed(context, item, None)
    await context.answer(update, context.t(_closed_key(context, item, told), number=item.number))
    await refresh(context, suggestion_id)
    return _END


async def _ask_closing_note(
    update: Update, context: UnionContext, actor: Actor, item: Suggestion
) -> int:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    async with context.db() as session:
        thread = await thread_of(session, suggestion_id=item.id or 0)
    asked = next(
        (entry.body for entry in reversed(thread) if entry.kind == EntryKind.FOLLOWUP), None
    )
    who = (
        context.t("suggestion.anonymous_author")
        if item.anonymous
        else await _author_name(context, item)
    )
    purpose = context.t("purpose.suggestion_closing", number=item.number, who=who)
    prompt = (
        expect_text(context, purpose)
        + "\n"
        + context.t("suggestion.write_closing_note", number=item.number)
    )
    if asked:
        prompt += "\n\n" + asked
    try:
        await context.bot.send_message(actor.member.telegram_user_id or query.from_user.id, prompt)
    except Forbidden:
        await context.answer(update, context.t("suggestion.open_private_first"), alert=True)
        return _END
    context.user_data["sug_close"] = {"id": item.id, "version": item.version}
    await context.answer(
        update, context.t("suggestion.close_note_in_private", number=item.number), alert=True
    )
    return TYPED_TEXT


async def send_closing_note(update: Update, context: UnionContext, text: str) -> int:
    """The closing note, checked by its writer: the item is closed and its author told."""
    assert context.user_data is not None
    pending = context.user_data.get("sug_close") or {}
    actor = context.actor
    if actor is None or not actor.is_committee:
        context.user_data.pop("sug_close", None)
        await say(update, context, context.t("desk.not_committee"))
        return _END
    suggestion_id = int(pending.get("id", 0))
    try:
        async with context.db() as session:
            item = await close_suggestion(
                session,
                org_id=context.org_id,
                suggestion_id=suggestion_id,
                actor=actor,
                note=text,
                expected_version=int(pending.get("version", -1)),
            )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return TYPED_TEXT  # empty or too long: let them try again
        context.user_data.pop("sug_close", None)
        await _quiet_refresh(context, suggestion_id)
        return _END
    context.user_data.pop("sug_close", None)
    logger.info("Suggestion %s: closed with a note by member %s", item.id, actor.id)
    told = await tell_author_closed(context, item, text.strip())
    await refresh(context, item.id or 0)
    receipt = context.t(_closed_key(context, item, told), number=item.number)
    await say_receipt(update, context, receipt)
    return _END


def _closed_key(context: UnionContext, item: Suggestion, told: bool) -> str:
    if author_unreachable(item, context.state.seal):
        return "suggestion.closed_author_lost"
    return "suggestion.closed_told" if told else "suggestion.closed_undelivered"


async def tell_author_closed(context: UnionContext, item: Suggestion, note: str | None) -> bool:
    """Tell the item's author it was closed, with the note when there is one (an anonymous
    author is found through the seal, like an answer)."""
    member_id = author_id(item, context.state.seal)
    if member_id is None:
        return False
    async with context.db() as session:
        author = await session.get(Member, member_id)
    if author is None or author.telegram_user_id is None:
        return False
    tr = context.i18n.get(author.language)
    if note:
        text = tr("suggestion.closed_to_author_note", number=item.number) + "\n\n" + note
    else:
        text = tr("suggestion.closed_to_author", number=item.number)
    markup = None
    if item.answered_at is not None:  # a follow-up needs an answer to follow
        item_id = item.id or 0
        markup = keyboard([(tr("suggestion.author_followup"), AuthorButton("more", item_id))])
    return await context.notifier.tell_chat(
        author.telegram_user_id,
        text,
        reply_markup=markup,
        who=f"the author of suggestion {item.id}",
    )


async def cancel_close(update: Update, context: UnionContext) -> int:
    """/cancel (or Cancel) while writing a closing note: the item stays as it was."""
    if context.user_data is not None:
        context.user_data.pop("sug_close", None)
    await say(update, context, context.t("suggestion.close_cancelled"))
    return _END


async def publish(context: UnionContext, *, suggestion_id: int, actor: Actor) -> None:
    """Post an answered item and its answer to the disclosure channel, never its author."""
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
        if org.disclosure_chat_id is None:
            raise DomainError(N_("suggestion.no_channel"))
        item, reply = await mark_published(
            session, org_id=context.org_id, suggestion_id=suggestion_id, actor=actor
        )
        category = await get_category(session, org_id=context.org_id, category_id=item.category_id)
    tr = context.i18n.get(context.settings.default_language)
    text = "\n".join(
        [
            tr(
                "suggestion.public_title", number=item.number, category=category_label(tr, category)
            ),
            "",
            item.body,
            "",
            tr("suggestion.public_answer"),
            reply.body or "",
        ]
    )
    try:
        await context.bot.send_message(org.disclosure_chat_id, text)
    except TelegramError as exc:
        async with context.db() as session:
            await unmark_published(session, org_id=context.org_id, suggestion_id=suggestion_id)
        raise DomainError(N_("suggestion.publish_failed")) from exc


# ---- the daily digest --------------------------------------------------------------------


# ---- /suggestions ------------------------------------------------------------------------


async def list_items(update: Update, context: UnionContext) -> None:
    """/suggestions: items for the committee, open first, with status and category filters."""
    if await require_committee(update, context) is None:
        return
    assert context.user_data is not None
    context.user_data["sug_filter"] = {"status": "", "category": 0}
    if update.callback_query is not None:
        await context.answer(update)
    await _send_list(update, context, offset=0)


async def _list_press(update: Update, context: UnionContext) -> dict[str, Any] | None:
    """A button of /suggestions pressed by a committee member: answered; the list's filters
    (None after refusing anyone else)."""
    if await committee_press(update, context) is None:
        return None
    assert context.user_data is not None
    await context.answer(update)
    current = context.user_data.setdefault("sug_filter", {"status": "", "category": 0})
    assert isinstance(current, dict)
    return current


async def status_filter_pressed(update: Update, context: UnionContext) -> None:
    """A status filter of /suggestions (or all statuses)."""
    status = context.button_as(SuggestionStatusFilter).status
    current = await _list_press(update, context)
    if current is None:
        return
    current["status"] = "" if status == "all" else status
    await _send_list(update, context, offset=0)


async def category_filter_pressed(update: Update, context: UnionContext) -> None:
    """A category filter of /suggestions (or all categories)."""
    category_id = context.button_as(SuggestionCategoryFilter).category_id
    current = await _list_press(update, context)
    if current is None:
        return
    current["category"] = category_id
    await _send_list(update, context, offset=0)


async def page_pressed(update: Update, context: UnionContext) -> None:
    """Previous / next page of /suggestions."""
    offset = context.button_as(SuggestionPage).offset
    if await _list_press(update, context) is None:
        return
    await _send_list(update, context, offset=offset)


async def show_pressed(update: Update, context: UnionContext) -> None:
    """An item of /suggestions: its card, with its buttons."""
    suggestion_id = context.button_as(SuggestionShow).item_id
    if await _list_press(update, context) is None:
        return
    try:
        async with context.db() as session:
            item = await get_suggestion(session, org_id=context.org_id, suggestion_id=suggestion_id)
    except DomainError:
        await say(update, context, context.t("desk.item_not_found"))
        return
    text, markup = await render_card(context, item)
    await say(update, context, text, markup)


async def _send_list(update: Update, context: UnionContext, *, offset: int) -> None:
    assert context.user_data is not None
    current = context.user_data.get("sug_filter") or {}
    status = SuggestionStatus(current["status"]) if current.get("status") else None
    category_id = int(current.get("category") or 0) or None
    async with context.db() as session:
        items, total = await committee_list(
            session,
            org_id=context.org_id,
            status=status,
            category_id=category_id,
            offset=offset,
            limit=PAGE_SIZE,
        )
        categories = await list_categories(session, org_id=context.org_id, include_inactive=True)
    names = {category.id: category_label(context.tr, category) for category in categories}
    statuses: list[tuple[str, Button]] = [
        (context.t(f"suggestion.status.{value}"), SuggestionStatusFilter(value.value))
        for value in SuggestionStatus
    ]
    statuses.append((context.t("suggestion.filter_all"), SuggestionStatusFilter("all")))
    rows = [statuses]
    category_buttons: list[tuple[str, Button]] = [
        (name, SuggestionCategoryFilter(category_id))
        for category_id, name in names.items()
        if category_id
    ]
    category_buttons.append(
        (context.t("suggestion.filter_all_categories"), SuggestionCategoryFilter(0))
    )
    rows.extend(category_buttons[start : start + 3] for start in range(0, len(category_buttons), 3))
    for item in items:
        label = (
            f"{item.number} · {context.t(f'suggestion.status.{item.status}')} · {item.body[:24]}"
        )
        rows.append([(label, SuggestionShow(item.id or 0))])
    paging: list[tuple[str, Button]] = []
    if offset > 0:
        paging.append((context.t("common.previous"), SuggestionPage(max(0, offset - PAGE_SIZE))))
    if offset + PAGE_SIZE < total:
        paging.append((context.t("common.next"), SuggestionPage(offset + PAGE_SIZE)))
    if paging:
        rows.append(paging)
    header = (
        context.t("suggestion.list_header", total=total)
        if total
        else context.t("suggestion.list_empty")
    )
    await say(update, context, header, keyboard(*rows))


# ---- /categories -------------------------------------------------------------------------


async def manage_categories(update: Update, context: UnionContext) -> None:
    """/categories [add NAME]: see, hide or show, and add categories (committee)."""
    actor = await require_committee(update, context)
    if actor is None:
        return
    args = context.args or []
    async with context.db() as session:
        await ensure_default_categories(session, org_id=context.org_id)
    if args[:1] == ["add"]:
        try:
            async with context.db() as session:
                await add_category(
                    session, org_id=context.org_id, actor=actor, name=" ".join(args[1:])
                )
        except DomainError as error:
            await refuse(update, context, error)
            return
    await _send_categories(update, context)


async def _send_categories(update: Update, context: UnionContext) -> None:
    async with context.db() as session:
        categories = await list_categories(session, org_id=context.org_id, include_inactive=True)
    rows = [
        [
            (
                ("✓ " if category.active else "✗ ") + category_label(context.tr, category),
                CategoryToggle(category.id or 0),
            )
        ]
        for category in categories
    ]
    await say(update, context, context.t("suggestion.categories_help"), keyboard(*rows))


async def toggle_category(update: Update, context: UnionContext) -> None:
    """Hide or show a category."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    category_id = context.button_as(CategoryToggle).category_id
    try:
        async with context.db() as session:
            category = await get_category(session, org_id=context.org_id, category_id=category_id)
            await set_category_active(
                session,
                org_id=context.org_id,
                actor=actor,
                category_id=category.id or 0,
                active=not category.active,
            )
    except DomainError:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    await context.answer(update, context.t("suggestion.done_toast"))
    await _send_categories(update, context)


# ---- the disclosure channel --------------------------------------------------------------


async def bind_channel_start(update: Update, context: UnionContext) -> None:
    """/bindchannel in private (chair): a one-time code to post in the channel."""
    actor = context.actor
    if actor is None or not actor.is_chair:
        await say(update, context, context.t("channel.chair_only"))
        return
    code = secrets.token_hex(4)
    context.state.channel_codes[code] = context.org_id
    await say(update, context, context.t("channel.post_code", code=code))


async def bind_channel_finish(update: Update, context: UnionContext) -> None:
    """`/bindchannel CODE` posted in a channel binds it."""
    message = update.channel_post
    if message is None or message.text is None:
        return
    parts = message.text.split()
    code = parts[1] if len(parts) > 1 else ""
    org_id = context.state.channel_codes.pop(code, None)
    tr = context.i18n.get(context.settings.default_language)
    if org_id is None:
        logger.warning("A /bindchannel with an unknown code was posted in chat %s", message.chat.id)
        await context.bot.send_message(message.chat.id, tr("channel.bad_code"))
        return
    async with context.db() as session:
        await bind_disclosure_chat(session, org_id=org_id, chat_id=message.chat.id)
    logger.info("Disclosure channel bound to chat %s", message.chat.id)
    try:
        await context.bot.send_message(message.chat.id, tr("channel.bound"))
    except TelegramError:
        logger.warning("Could not confirm the channel binding in chat %s", message.chat.id)


def reply_conversation() -> ConversationHandler[Any]:
    """Reply pressed in the group, text typed in private: one conversation per user."""
    return private_text_conversation(
        name="suggestion_reply",
        entry_points=[ButtonHandler(SuggestionCard, start_reply, "reply")],
        on_text=send_reply,
        on_cancel=cancel_reply,
    )


def close_conversation() -> ConversationHandler[Any]:
    """办结 pressed in the group; a closing note, when one is needed, typed in private."""
    return private_text_conversation(
        name="suggestion_close",
        entry_points=[ButtonHandler(SuggestionCard, start_close, "close")],
        on_text=send_closing_note,
        on_cancel=cancel_close,
    )


def register(application: Application) -> None:
    """Add the committee side of the suggestion box."""
    for action in ("reopen", "pub"):
        application.add_handler(ButtonHandler(SuggestionCard, change_state, action))
    application.add_handler(ButtonHandler(SuggestionStatusFilter, status_filter_pressed))
    application.add_handler(ButtonHandler(SuggestionCategoryFilter, category_filter_pressed))
    application.add_handler(ButtonHandler(SuggestionPage, page_pressed))
    application.add_handler(ButtonHandler(SuggestionShow, show_pressed))
    application.add_handler(ButtonHandler(CategoryToggle, toggle_category))
    application.add_handler(
        CommandHandler("suggestions", list_items, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(
        CommandHandler("categories", manage_categories, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(
        CommandHandler("bindchannel", bind_channel_start, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.CHANNEL_POST & filters.Regex(r"^/bindchannel(@\w+)?\s"),
            bind_channel_finish,
        )
    )


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            reply_conversation(),
            label_key="form.label.suggestion_reply",
            drafts=("sug_reply",),
            committee=True,
            prompt=True,
        ),
        Form(
            close_conversation(),
            label_key="form.label.suggestion_close",
            drafts=("sug_close",),
            committee=True,
            prompt=True,
        ),
    ]
