"""The suggestion box for members: /suggest (named or anonymous), /mine, answering back."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import date, datetime, time
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.features import Section
from bot.forms import Form
from handlers.common import (
    TYPED_TEXT,
    confirm_or_cancel,
    conversation,
    expect_text,
    family_step,
    keyboard,
    private_text_conversation,
    refuse,
    require_member,
    say,
    say_receipt,
    text_step,
    typed_text,
    user_draft,
)
from handlers.menu.buttons import MenuButton
from handlers.review_desk import post_under_cards
from handlers.suggestions.buttons import (
    AuthorButton,
    FilingAnonymity,
    FilingCategory,
    FilingConfirm,
    FilingPhotos,
)
from handlers.suggestions.desk import (
    KIND,
    announce,
    category_label,
    put_missing_on_desk,
    refresh,
)
from models.desk import cards_for
from models.errors import N_, DomainError, InputError
from models.members import Actor
from models.suggestions import (
    BODY_LIMIT,
    MAX_PHOTOS,
    Draft,
    EntryKind,
    Suggestion,
    SuggestionStatus,
    author_responds,
    check_daily_limit,
    check_may_respond,
    closing_note,
    ensure_default_categories,
    find_by_client_token,
    get_category,
    items_of_member,
    latest_reply,
    list_categories,
    submit_suggestion,
)

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
Step = BaseHandler[Any, Any, Any]


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "suggestion")


def _today(context: UnionContext) -> tuple[date, datetime]:
    """Today in the union's time zone, and the moment it began (daily limits count from it)."""
    zone = context.settings.zone
    today = datetime.now(zone).date()
    return today, datetime.combine(today, time(), tzinfo=zone)


class Filing(IntEnum):
    """Steps of filing an item."""

    CATEGORY = 1
    BODY = 2
    PHOTOS = 3
    ANONYMITY = 4
    CONFIRM = 5


async def start_filing(update: Update, context: UnionContext) -> int:
    """/suggest or the menu button: choose a category."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    today, day_start = _today(context)
    try:
        async with context.db() as session:
            await check_daily_limit(
                session,
                org_id=context.org_id,
                author=actor,
                seal=context.state.seal,
                today=today,
                day_start=day_start,
                daily_limit=context.settings.suggestion_daily_limit,
            )
    except DomainError as error:  # before anything is written, not after
        await say(update, context, context.t(error.key, **error.params))
        return _END
    async with context.db() as session:
        await ensure_default_categories(session, org_id=context.org_id)
    draft = _draft(context)
    draft.clear()
    draft.update(photos=[], client_token=secrets.token_hex(8))
    await _ask_category(update, context)
    return Filing.CATEGORY


async def _ask_category(update: Update, context: UnionContext) -> None:
    async with context.db() as session:
        categories = await list_categories(session, org_id=context.org_id)
    rows = [
        [(category_label(context.tr, category), FilingCategory(category.id or 0))]
        for category in categories
    ]
    await say(update, context, context.t("suggestion.choose_category"), keyboard(*rows))


async def got_category(update: Update, context: UnionContext) -> int:
    """A category button."""
    category_id = context.button_as(FilingCategory).category_id
    await context.answer(update)
    try:
        async with context.db() as session:
            category = await get_category(session, org_id=context.org_id, category_id=category_id)
    except DomainError:
        await say(update, context, context.t("suggestion.category_unknown"))
        return Filing.CATEGORY
    draft = _draft(context)
    draft["category_id"] = category.id
    if "body" in draft and "anonymous" in draft:
        return await _preview(update, context)  # re-chosen after the old one was hidden
    await say(update, context, context.t("suggestion.write_body", limit=BODY_LIMIT))
    return Filing.BODY


async def got_body(update: Update, context: UnionContext) -> int:
    """The text of the item."""
    body = await typed_text(update, context, limit=BODY_LIMIT, multiline=True, needs_words=True)
    if body is None:
        return Filing.BODY
    _draft(context)["body"] = body
    await say(
        update,
        context,
        context.t("suggestion.ask_photos", limit=MAX_PHOTOS),
        keyboard([(context.t("suggestion.no_photos"), FilingPhotos("done"))]),
    )
    return Filing.PHOTOS


async def got_photo(update: Update, context: UnionContext) -> int:
    """A photo for the item (at most three)."""
    assert update.message is not None and update.message.photo
    photos: list[str] = _draft(context).setdefault("photos", [])
    if len(photos) >= MAX_PHOTOS:
        await say(update, context, context.t("suggestion.too_many_photos", limit=MAX_PHOTOS))
        return await _ask_anonymity(update, context)
    photos.append(update.message.photo[-1].file_id)
    if len(photos) >= MAX_PHOTOS:
        return await _ask_anonymity(update, context)
    await say(
        update,
        context,
        context.t("suggestion.photo_received", count=len(photos), limit=MAX_PHOTOS),
        keyboard([(context.t("suggestion.photos_done"), FilingPhotos("done"))]),
    )
    return Filing.PHOTOS


async def photos_done(update: Update, context: UnionContext) -> int:
    """Done (or no photos)."""
    assert update.callback_query is not None
    await context.answer(update)
    return await _ask_anonymity(update, context)


async def photos_only(update: Update, context: UnionContext) -> int:
    """Text, a file, video, voice or sticker where photos are expected: it is not a photo.
    The button keeps its label ("No photos" until a photo has arrived)."""
    assert update.message is not None
    done_key = "suggestion.photos_done" if _draft(context).get("photos") else "suggestion.no_photos"
    button = context.t(done_key)
    key = "suggestion.text_not_photo" if update.message.text else "suggestion.photos_only"
    await say(
        update,
        context,
        context.t(key, limit=MAX_PHOTOS, button=button),
        keyboard([(button, FilingPhotos("done"))]),
    )
    return Filing.PHOTOS


async def _ask_anonymity(update: Update, context: UnionContext) -> int:
    await say(
        update,
        context,
        context.t("suggestion.ask_anonymity", limit=context.settings.anonymous_daily_limit),
        keyboard(
            [(context.t("suggestion.named"), FilingAnonymity("named"))],
            [(context.t("suggestion.anonymous"), FilingAnonymity("anon"))],
        ),
    )
    return Filing.ANONYMITY


async def got_anonymity(update: Update, context: UnionContext) -> int:
    """Named or anonymous; then the preview."""
    choice = context.button_as(FilingAnonymity).choice
    await context.answer(update)
    _draft(context)["anonymous"] = choice == "anon"
    return await _preview(update, context)


async def _preview(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    async with context.db() as session:
        try:
            category = await get_category(
                session, org_id=context.org_id, category_id=int(draft.get("category_id", 0))
            )
        except DomainError as error:
            await refuse(update, context, error)
            return _END
    lines = [
        context.t("suggestion.preview_title"),
        context.t("suggestion.preview_category", category=category_label(context.tr, category)),
        context.t("suggestion.preview_photos", count=len(draft.get("photos", []))),
        context.t(
            "suggestion.preview_anonymous" if draft["anonymous"] else "suggestion.preview_named"
        ),
        "",
        str(draft.get("body", "")),
    ]
    await say(
        update,
        context,
        "\n".join(lines),
        confirm_or_cancel(context, FilingConfirm("yes"), FilingConfirm("cancel")),
    )
    return Filing.CONFIRM


async def confirm(update: Update, context: UnionContext) -> int:
    """Confirm: store, number, receipt, and the card on the desk."""
    choice = context.button_as(FilingConfirm).choice
    await context.answer(update)
    if choice != "yes":
        return await _abandon(update, context)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    if "body" not in draft or "category_id" not in draft:
        await say(update, context, context.t("suggestion.draft_lost"))
        await put_missing_on_desk(context)
        return _END
    today, day_start = _today(context)
    try:
        async with context.db() as session:
            item = await submit_suggestion(
                session,
                org_id=context.org_id,
                author=actor,
                draft=Draft(
                    category_id=int(draft["category_id"]),
                    body=str(draft["body"]),
                    photos=tuple(draft.get("photos", [])),
                    anonymous=bool(draft.get("anonymous")),
                    client_token=str(draft["client_token"]),
                ),
                seal=context.state.seal,
                today=today,
                anonymous_daily_limit=context.settings.anonymous_daily_limit,
                daily_limit=context.settings.suggestion_daily_limit,
                day_start=day_start,
            )
    except DomainError as error:
        if error.key == "suggestion.already_submitted":
            return await _finish_stored(update, context, draft)
        await refuse(update, context, error)
        if error.key == "suggestion.anonymous_limit":
            return Filing.ANONYMITY  # they may still send it with their name
        if error.key == "suggestion.category_unknown":
            await _ask_category(update, context)  # hidden meanwhile: keep the draft, choose again
            return Filing.CATEGORY
        draft.clear()
        return _END
    # Stored: the draft would now link this person to the item (in memory and in the
    # conversation store on disk), so it goes before anything else can fail. If the card or
    # the receipt fails after this, the next Confirm puts it on the desk by the item itself
    # (`put_missing_on_desk`), never by who pressed.
    await _forget_author(update, context)
    # No member id here: for anonymous items even the log must not link author and item.
    logger.info("Suggestion %s filed (anonymous=%s)", item.id, item.anonymous)
    await announce(context, item)
    await say_receipt(update, context, context.t("suggestion.receipt", number=item.number))
    return _END


async def _forget_author(update: Update, context: UnionContext) -> None:
    """End the filing form now (its draft, its conversation state, the record of it) and write
    the conversation store, so no trace of the filed item stays with its author."""
    user = update.effective_user
    _draft(context).clear()
    if user is None:
        return
    if context.state.forms is not None:
        context.state.forms.end(user.id)
    application = context.application
    if application.persistence is None:
        return
    application.mark_data_for_update_persistence(user_ids=user.id)
    try:
        await application.update_persistence()
    except Exception as exc:  # the item is stored: the store is written again within seconds
        logger.warning("The conversation store could not be written now: %s", type(exc).__name__)


async def _finish_stored(update: Update, context: UnionContext, draft: dict[str, Any]) -> int:
    """Confirm again for a draft stored by an earlier press that did not finish: put the card
    on the desk if it never got there, and give the receipt."""
    async with context.db() as session:
        item = await find_by_client_token(session, client_token=str(draft["client_token"]))
        cards = [] if item is None else await cards_for(session, kind=KIND, item_id=item.id or 0)
    await _forget_author(update, context)  # the draft outlived the commit (a crash): no more
    if item is None:  # cannot happen: the token was just found
        await say(update, context, context.t("suggestion.draft_lost"))
        return _END
    if not cards:
        logger.info("Suggestion %s is put on the desk on a repeated confirm", item.id)
        await announce(context, item)
    await say_receipt(update, context, context.t("suggestion.receipt", number=item.number))
    return _END


async def confirm_after_end(update: Update, context: UnionContext) -> None:
    """Confirm (or Cancel) under a preview whose filing has ended, e.g. pressed again because
    the receipt never came: point to /mine rather than suggest filing it again. An item the
    press stored whose card never reached the desk gets it now, with a late receipt."""
    await context.answer(update, context.t("suggestion.draft_lost"), alert=True)
    await put_missing_on_desk(context)


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while filing."""
    return await _abandon(update, context)


async def _abandon(update: Update, context: UnionContext) -> int:
    _draft(context).clear()
    await say(update, context, context.t("suggestion.cancelled"))
    return _END


# ---- /mine -------------------------------------------------------------------------------


async def mine_section(context: UnionContext, actor: Actor) -> Section | None:
    """The member's own items for /mine, anonymous ones included, with the latest reply."""
    async with context.db() as session:
        items = await items_of_member(
            session, org_id=context.org_id, member_id=actor.id, seal=context.state.seal
        )
        replies = {
            item.id: await latest_reply(session, suggestion_id=item.id or 0) for item in items
        }
        notes = {
            item.id: await closing_note(session, suggestion_id=item.id or 0)
            for item in items
            if item.status == SuggestionStatus.CLOSED
        }
    return (_mine_text(context, items, replies, notes), None) if items else None


def _mine_text(
    context: UnionContext,
    items: Sequence[Suggestion],
    replies: dict[Any, Any],
    notes: dict[Any, str | None],
) -> str:
    blocks = [context.t("suggestion.mine_title")]
    for item in items:
        flag = context.t("suggestion.anonymous_tag") if item.anonymous else ""
        status = context.t(f"suggestion.status.{item.status}")
        block = [f"{item.number} {flag}· {status}", _shorten(item.body, 60)]
        reply = replies.get(item.id)
        if reply is not None and reply.body:
            block.append(context.t("suggestion.mine_reply", text=_shorten(reply.body, 120)))
        note = notes.get(item.id)
        if note:
            block.append(context.t("suggestion.mine_closing_note", text=_shorten(note, 120)))
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- the author answers back -------------------------------------------------------------


async def verdict(update: Update, context: UnionContext) -> None:
    """Resolved / Not resolved pressed under a reply."""
    button = context.button_as(AuthorButton)
    actor = await require_member(update, context)
    if actor is None:
        return
    kind = EntryKind.RESOLVED if button.action == "ok" else EntryKind.NOT_RESOLVED
    try:
        async with context.db() as session:
            item = await author_responds(
                session,
                org_id=context.org_id,
                suggestion_id=button.item_id,
                actor=actor,
                seal=context.state.seal,
                kind=kind,
                since=_today(context)[1],
                daily_limit=context.settings.verdict_daily_limit,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("suggestion.done_toast"))
    tr = context.i18n.get(context.settings.default_language)
    note = (
        "suggestion.desk_resolved" if kind == EntryKind.RESOLVED else "suggestion.desk_not_resolved"
    )
    await post_under_cards(
        context, kind=KIND, item_id=item.id or 0, text=tr(note, number=item.number)
    )
    await refresh(context, item.id or 0)
    key = (
        "suggestion.thanks_resolved"
        if kind == EntryKind.RESOLVED
        else "suggestion.reopened_for_you"
    )
    await say(update, context, context.t(key, number=item.number))


async def start_followup(update: Update, context: UnionContext) -> int:
    """Follow up pressed under a reply: the item must be the presser's (through the seal for an
    anonymous one) and answered, or the press is refused before any text is asked for; the
    check is made again when the text comes."""
    assert context.user_data is not None
    item_id = context.button_as(AuthorButton).item_id
    actor = await require_member(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            # Whose it is first, then the day's follow-ups: a stranger learns nothing of them.
            item = await check_may_respond(
                session,
                org_id=context.org_id,
                suggestion_id=item_id,
                actor=actor,
                seal=context.state.seal,
                kind=EntryKind.FOLLOWUP,
                since=_today(context)[1],
                daily_limit=context.settings.followup_daily_limit,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    if item.answered_at is None:  # the button comes under a reply only
        not_answered = DomainError(N_("suggestion.followup_not_answered"), number=item.number)
        await refuse(update, context, not_answered)
        return _END
    await context.answer(update)
    context.user_data["followup_for"] = item_id
    purpose = context.t("purpose.suggestion_followup")
    # Only an anonymous item is promised to stay anonymous: a named one has nothing to keep.
    key = "suggestion.write_followup_anonymous" if item.anonymous else "suggestion.write_followup"
    prompt = context.t(key, limit=BODY_LIMIT)
    await say(update, context, expect_text(context, purpose) + "\n" + prompt)
    return TYPED_TEXT


async def send_followup(update: Update, context: UnionContext, body: str) -> int:
    """The follow-up text, checked by its author: stored, the item reopened, posted under
    its card."""
    assert context.user_data is not None
    actor = await require_member(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            item = await author_responds(
                session,
                org_id=context.org_id,
                suggestion_id=int(context.user_data.get("followup_for", 0)),
                actor=actor,
                seal=context.state.seal,
                kind=EntryKind.FOLLOWUP,
                body=body,
                since=_today(context)[1],
                daily_limit=context.settings.followup_daily_limit,
            )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return TYPED_TEXT
        context.user_data.pop("followup_for", None)
        return _END
    # Forget the link between this person and the item as soon as it is not needed.
    context.user_data.pop("followup_for", None)
    tr = context.i18n.get(context.settings.default_language)
    text = tr("suggestion.desk_followup", number=item.number) + "\n\n" + body
    await post_under_cards(context, kind=KIND, item_id=item.id or 0, text=text)
    await refresh(context, item.id or 0)
    await say(update, context, context.t("suggestion.followup_sent", number=item.number))
    return _END


async def cancel_followup(update: Update, context: UnionContext) -> int:
    """/cancel while writing a follow-up."""
    if context.user_data is not None:
        context.user_data.pop("followup_for", None)
    await say(update, context, context.t("suggestion.cancelled"))
    return _END


def register(application: Application) -> None:
    """Add the member side of the suggestion box."""
    # After the filing conversation: it only sees presses the conversation did not take.
    application.add_handler(ButtonHandler(FilingConfirm, confirm_after_end))
    application.add_handler(ButtonHandler(AuthorButton, verdict, "ok"))
    application.add_handler(ButtonHandler(AuthorButton, verdict, "notok"))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    private = filters.ChatType.PRIVATE
    return [
        Form(
            conversation(
                name="suggestion_filing",
                entry_points=[
                    CommandHandler("suggest", start_filing, filters=private),
                    ButtonHandler(MenuButton, start_filing, "suggest"),
                ],
                states={
                    Filing.CATEGORY: family_step(got_category, FilingCategory),
                    Filing.BODY: text_step(got_body),
                    Filing.PHOTOS: [
                        MessageHandler(filters.PHOTO, got_photo),
                        ButtonHandler(FilingPhotos, photos_done),
                        MessageHandler(~filters.COMMAND, photos_only),
                    ],
                    Filing.ANONYMITY: family_step(got_anonymity, FilingAnonymity),
                    Filing.CONFIRM: family_step(confirm, FilingConfirm),
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.suggestion_filing",
            drafts=("suggestion",),
        ),
        Form(
            private_text_conversation(
                name="suggestion_followup",
                entry_points=[ButtonHandler(AuthorButton, start_followup, "more")],
                on_text=send_followup,
                on_cancel=cancel_followup,
            ),
            label_key="form.label.suggestion_followup",
            drafts=("followup_for",),
        ),
    ]
