"""/broadcast for the committee: choose an audience, write, preview, confirm; via the outbox."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.broadcast.buttons import BroadcastAudience, BroadcastConfirm
from handlers.common import (
    confirm_or_cancel,
    conversation,
    family_step,
    keyboard,
    require_committee,
    say,
    text_step,
    typed_text,
    user_draft,
)
from handlers.groups.buttons import GroupPick
from handlers.groups.picker import audience_words, group_pressed, offer_groups
from handlers.menu.buttons import MenuButton
from models.audiences import audience_addressees, audience_need
from models.calendar import MESSAGE_LIMIT, AudienceType
from models.errors import N_, DomainError, InputError
from models.groups import check_departments
from models.organizations import get_organization
from models.outbox import Broadcast, BroadcastKind, Recipient
from scheduler.render import MEMBER_PLACEHOLDERS, check_placeholders, fill

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
# Audiences a committee member can pick by button (explicit lists come from the calendar).
CHOICES = (
    AudienceType.EVERYONE,
    AudienceType.WOMEN,
    AudienceType.RETIREES,
    AudienceType.REPRESENTATIVES,
    AudienceType.COMMITTEE,
    AudienceType.DEPARTMENTS,
)


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "broadcast")


class Step(IntEnum):
    """Steps of writing a broadcast."""

    AUDIENCE = 1
    TEXT = 2
    CONFIRM = 3
    GROUPS = 4


async def start(update: Update, context: UnionContext) -> int:
    """/broadcast: choose who receives it."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return _END
    _draft(context).clear()
    rows = [
        [(context.t(f"calendar.audience.{choice}"), BroadcastAudience(choice))]
        for choice in CHOICES
    ]
    await say(update, context, context.t("broadcast.choose_audience"), keyboard(*rows))
    return Step.AUDIENCE


async def got_audience(update: Update, context: UnionContext) -> int:
    """An audience button."""
    audience = context.button_as(BroadcastAudience).audience
    if audience not in CHOICES:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return Step.AUDIENCE
    await context.answer(update)
    draft = _draft(context)
    draft["audience"] = audience.value
    if audience == AudienceType.DEPARTMENTS:
        return Step.GROUPS if await offer_groups(update, context, draft) else Step.AUDIENCE
    await say(update, context, context.t("broadcast.write", limit=MESSAGE_LIMIT))
    return Step.TEXT


async def got_groups(update: Update, context: UnionContext) -> int:
    """A group ticked (stay), or done: then the text."""
    draft = _draft(context)
    names = await group_pressed(update, context, draft)
    if names is None:
        return Step.GROUPS
    draft["departments"] = names
    if "text" in draft:  # groups chosen again after a refusal: the text is kept
        return await _preview(update, context, draft)
    await say(update, context, context.t("broadcast.write", limit=MESSAGE_LIMIT))
    return Step.TEXT


async def _choose_again(
    update: Update, context: UnionContext, draft: dict[str, Any], error: DomainError
) -> int:
    """A refusal of the chosen groups (one is gone, nobody is reached): say why and offer the
    groups again, keeping the text; any other audience ends the form."""
    await say(update, context, context.t(error.key, **error.params))
    if draft.get("audience") == AudienceType.DEPARTMENTS and await offer_groups(
        update, context, draft
    ):
        return Step.GROUPS
    draft.clear()
    return _END


async def _reached(context: UnionContext, draft: dict[str, Any]) -> list[Recipient]:
    """The recipients of the draft now; refused (DomainError) when they are nobody."""
    recipients = await _recipients(context, _audience(draft), str(draft["text"]))
    if not recipients:
        raise DomainError(N_("broadcast.nobody"))
    return recipients


async def _preview(update: Update, context: UnionContext, draft: dict[str, Any]) -> int:
    """The preview with the number of recipients, or the refusal and the groups again."""
    try:
        recipients = await _reached(context, draft)
    except DomainError as error:
        return await _choose_again(update, context, draft, error)
    audience = audience_words(context.tr, _audience(draft))
    text = str(draft["text"])
    await say(
        update,
        context,
        context.t("broadcast.preview", audience=audience, count=len(recipients)) + "\n\n" + text,
        confirm_or_cancel(context, BroadcastConfirm("yes"), BroadcastConfirm("no")),
    )
    return Step.CONFIRM


def _audience(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft's audience as models.audiences reads it."""
    audience: dict[str, Any] = {"type": str(draft["audience"])}
    if audience["type"] == AudienceType.DEPARTMENTS:
        audience["names"] = list(draft.get("departments") or [])
    return audience


async def _recipients(
    context: UnionContext, audience: dict[str, Any], text: str
) -> list[Recipient]:
    """Who receives it now; groups must still be groups (else a DomainError)."""
    today = datetime.now(context.settings.zone).date()
    # One text for everyone, written in its writer's language: {org} is named in that language.
    org = await context.org_name(context.tr.language)
    async with context.db() as session:
        if audience["type"] == AudienceType.DEPARTMENTS:
            await check_departments(session, org_id=context.org_id, names=audience["names"])
        members = await audience_addressees(
            session,
            org_id=context.org_id,
            audience=audience,
            today=today,
            respect_mute=False,
        )
    return [
        Recipient(
            chat_id=member.chat_id,
            text=fill(text, {"name": member.real_name, "org": org}),
            member_id=member.member_id,
            needs=audience_need(audience),
        )
        for member in members
    ]


async def got_text(update: Update, context: UnionContext) -> int:
    """The text; then the preview with the number of recipients."""
    text = await typed_text(update, context, limit=MESSAGE_LIMIT, multiline=True)
    if text is None:
        return Step.TEXT
    try:
        check_placeholders(text, MEMBER_PLACEHOLDERS)
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Step.TEXT
    draft = _draft(context)
    draft.update(text=text, token=secrets.token_hex(8))
    return await _preview(update, context, draft)


async def confirm(update: Update, context: UnionContext) -> int:
    """Confirm: enqueue in the outbox (once per draft), report when done."""
    choice = context.button_as(BroadcastConfirm).choice
    await context.answer(update)
    draft = _draft(context)
    if choice != "yes" or "text" not in draft:
        draft.clear()
        await say(update, context, context.t("broadcast.cancelled"))
        return _END
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    try:
        recipients = await _reached(context, draft)
    except DomainError as error:
        return await _choose_again(update, context, draft, error)
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
    broadcast = await context.notifier.queue(
        org_id=context.org_id,
        key=f"manual:{draft['token']}",
        kind=BroadcastKind.ANNOUNCEMENT,
        recipients=recipients,
        quiet=True,
        report_chat_id=org.committee_chat_id,
    )
    draft.clear()
    if broadcast is None:
        await say(update, context, context.t("broadcast.already_sent"))
        return _END
    logger.info(
        "Broadcast %s to %s recipients by member %s", broadcast.id, broadcast.total, actor.id
    )
    await say(update, context, _queued_text(context, broadcast))
    return _END


def _queued_text(context: UnionContext, broadcast: Broadcast) -> str:
    """What happens now: the committee group gets the figures only for a large broadcast."""
    over = context.notifier.report_over
    if broadcast.report_chat_id is None:
        key = "broadcast.queued_no_group"
    elif broadcast.total > over:
        key = "broadcast.queued"
    else:
        key = "broadcast.queued_unreported"
    return context.t(key, count=broadcast.total, over=over)


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while writing a broadcast."""
    _draft(context).clear()
    await say(update, context, context.t("broadcast.cancelled"))
    return _END


def register(application: Application) -> None:
    """Add /broadcast."""


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            conversation(
                name="broadcast",
                entry_points=[
                    CommandHandler("broadcast", start, filters=filters.ChatType.PRIVATE),
                    ButtonHandler(MenuButton, start, "broadcast"),
                ],
                states={
                    Step.AUDIENCE: family_step(got_audience, BroadcastAudience),
                    Step.GROUPS: family_step(got_groups, GroupPick),
                    Step.TEXT: text_step(got_text),
                    Step.CONFIRM: family_step(confirm, BroadcastConfirm),
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.broadcast",
            drafts=("broadcast",),
            committee=True,
        ),
    ]
