"""Committee tools: bind the committee group, find members, grant roles, (de)activate."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import Forbidden
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from handlers.common import keyboard, refuse, require_committee, say
from handlers.members.buttons import MemberCard, MemberPage, RoleGrant, RoleRevoke
from handlers.menu.commands import place_of, publish_member_commands
from handlers.proposals.buttons import HandlerPick
from handlers.review_desk import committee_press
from models.errors import DomainError
from models.members import (
    Actor,
    Member,
    MemberStatus,
    Role,
    RoleConflictError,
    get_member,
    grant_role,
    load_actor,
    revoke_role,
    roles_of,
    search_members,
    set_active,
)
from models.organizations import bind_committee_chat
from models.validation import clean_text

logger = logging.getLogger(__name__)

PAGE_SIZE = 8
# The roles on a member's card, in this order, two buttons a row.
_ROLE_ORDER = (
    Role.COMMITTEE,
    Role.REPRESENTATIVE,
    Role.CHAIR,
    Role.VICE_CHAIR,
    Role.WOMEN_CHAIR,
    Role.GROUP_LEADER,
    Role.TREASURER,
    Role.AUDITOR,
)


async def bind_group(update: Update, context: UnionContext) -> None:
    """/bindgroup in a group: the chair makes it the committee group."""
    chat = update.effective_chat
    assert chat is not None
    if chat.type == ChatType.PRIVATE:
        await say(update, context, context.t("bind.in_group_only"))
        return
    actor = context.actor
    if actor is None or not actor.is_chair:
        user = update.effective_user
        logger.warning("Refused /bindgroup by user %s", user.id if user else None)
        await say(update, context, context.t("bind.chair_only"))
        return
    # What waits in the outbox for the old group follows at its claim (models.outbox._readdress).
    async with context.db() as session:
        await bind_committee_chat(session, org_id=context.org_id, chat_id=chat.id)
    logger.info("Committee group bound to chat %s by member %s", chat.id, actor.id)
    tr = context.i18n.get(context.settings.default_language)
    await say(update, context, tr("bind.done", org=await context.org_name(tr.language)))


async def list_members(update: Update, context: UnionContext) -> None:
    """/members [name or department]: find members (committee only)."""
    if await require_committee(update, context) is None:
        return
    assert context.user_data is not None
    query_text = ""
    if context.args:
        try:
            query_text = clean_text(" ".join(context.args), limit=40)
        except DomainError as error:
            await refuse(update, context, error)
            return
    context.user_data["members_query"] = query_text
    await _send_page(update, context, offset=0)


async def page_pressed(update: Update, context: UnionContext) -> None:
    """Next / previous page of /members."""
    offset = context.button_as(MemberPage).offset
    if await committee_press(update, context) is None:
        return
    await context.answer(update)
    await _send_page(update, context, offset=offset)


async def _send_page(update: Update, context: UnionContext, *, offset: int) -> None:
    assert context.user_data is not None
    query_text = str(context.user_data.get("members_query", ""))
    async with context.db() as session:
        members, total = await search_members(
            session, org_id=context.org_id, query=query_text, offset=offset, limit=PAGE_SIZE
        )
    if not members:
        await say(update, context, context.t("members.none_found"))
        return
    rows: list[list[tuple[str, Button]]] = [
        [(_member_label(context, member), MemberCard("view", member.id or 0))] for member in members
    ]
    paging: list[tuple[str, Button]] = []
    if offset > 0:
        previous = max(0, offset - PAGE_SIZE)
        paging.append((context.t("common.previous"), MemberPage(previous)))
    if offset + PAGE_SIZE < total:
        paging.append((context.t("common.next"), MemberPage(offset + PAGE_SIZE)))
    if paging:
        rows.append(paging)
    header = context.t("members.page", first=offset + 1, last=offset + len(members), total=total)
    await say(update, context, header, keyboard(*rows))


def _member_label(context: UnionContext, member: Member) -> str:
    status = ""
    if member.status != MemberStatus.ACTIVE:
        status = f" ({context.t(f'status.{member.status}')})"
    return f"#{member.id} {member.real_name} · {member.department}{status}"


async def view_member(update: Update, context: UnionContext) -> None:
    """A member's card with role and status buttons."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    member_id = context.button_as(MemberCard).member_id
    try:
        async with context.db() as session:
            member = await get_member(session, org_id=context.org_id, member_id=member_id)
            roles = await roles_of(session, member_id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    text, markup = _member_card(context, member, roles, chair_view=actor.is_chair)
    await say(update, context, text, markup)


def _member_card(
    context: UnionContext, member: Member, roles: frozenset[Role], *, chair_view: bool
) -> tuple[str, InlineKeyboardMarkup]:
    role_names = ", ".join(
        _role_name(context, role, member) for role in _ROLE_ORDER if role in roles
    )
    lines = [
        _member_label(context, member),
        context.t("members.status", value=context.t(f"status.{member.status}")),
        context.t("members.roles", value=role_names or context.t("role.none")),
    ]
    member_id = member.id or 0
    rows: list[list[tuple[str, Button]]] = []
    if chair_view and member.status == MemberStatus.ACTIVE:
        pairs: list[tuple[str, Button]] = []
        for role in _ROLE_ORDER:
            held = role in roles
            label = ("✓ " if held else "+ ") + context.t(f"role.{role}")
            pairs.append(
                (label, RoleRevoke(member_id, role) if held else RoleGrant(member_id, role))
            )
        rows.extend(pairs[index : index + 2] for index in range(0, len(pairs), 2))
        rows.append([(context.t("members.handler_button"), HandlerPick(member_id))])
    if member.status == MemberStatus.ACTIVE:
        rows.append([(context.t("members.deactivate"), MemberCard("deact", member_id))])
    elif member.status == MemberStatus.INACTIVE:
        rows.append([(context.t("members.reactivate"), MemberCard("react", member_id))])
    return "\n".join(lines), keyboard(*rows)


def _role_name(context: UnionContext, role: Role, member: Member) -> str:
    """A role as the card shows it; a group leader's with the group (their department)."""
    if role == Role.GROUP_LEADER and member.department:
        return context.t("groups.leader_of", group=member.department)
    return context.t(f"role.{role}")


async def _edit_card(update: Update, context: UnionContext, member: Member, *, chair: bool) -> None:
    query = update.callback_query
    assert query is not None
    assert query.message is not None
    async with context.db() as session:
        roles = await roles_of(session, member.id or 0)
    text, markup = _member_card(context, member, roles, chair_view=chair)
    await context.bot.edit_message_text(
        text,
        chat_id=query.message.chat.id,
        message_id=query.message.message_id,
        reply_markup=markup,
    )


async def grant_pressed(update: Update, context: UnionContext) -> None:
    """Grant a role from a member card (chair only)."""
    button = context.button_as(RoleGrant)
    await _change_role(update, context, button.member_id, button.role, grant=True)


async def revoke_pressed(update: Update, context: UnionContext) -> None:
    """Revoke a role from a member card (chair only)."""
    button = context.button_as(RoleRevoke)
    await _change_role(update, context, button.member_id, button.role, grant=False)


async def _change_role(
    update: Update, context: UnionContext, member_id: int, role: Role, *, grant: bool
) -> None:
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    change = grant_role if grant else revoke_role
    try:
        async with context.db() as session:
            changed = await change(
                session, org_id=context.org_id, actor=actor, member_id=member_id, role=role
            )
            member = await get_member(session, org_id=context.org_id, member_id=member_id)
            subject = None
            if member.telegram_user_id is not None:
                subject = await load_actor(
                    session, org_id=context.org_id, telegram_user_id=member.telegram_user_id
                )
    except RoleConflictError as conflict:
        logger.info("Refused role %s for member %s: holds %s", role, member_id, conflict.held)
        held, wanted = context.t(f"role.{conflict.held}"), context.t(f"role.{conflict.role}")
        await context.answer(update, context.t(conflict.key, held=held, role=wanted), alert=True)
        return
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("roles.changed" if changed else "roles.unchanged"))
    action = "grant" if grant else "revoke"
    logger.info("Member %s %s role %s for member %s", actor.id, action, role, member_id)
    await _edit_card(update, context, member, chair=True)
    if changed and subject is not None:
        await _end_prompts_of_former_committee(context, subject)
        await publish_member_commands(
            context.bot,
            context.i18n,
            context.state.features,
            subject,
            place=place_of(context),
        )
        key = "roles.you_got" if grant else "roles.you_lost"
        await _tell_member(context, member, key, role)


async def _end_prompts_of_former_committee(context: UnionContext, subject: Actor) -> None:
    """Someone no longer on the committee loses the committee prompt they were in (a reply,
    a reason, a question), and is told: nothing they type afterwards goes anywhere as the
    committee's."""
    user_id = subject.member.telegram_user_id
    forms = context.state.forms
    if user_id is None or forms is None or subject.is_committee:
        return
    ended = forms.end_committee_forms(user_id)
    if ended is None:
        return
    logger.info("A committee form of member %s ended with the role", subject.id)
    tr = context.i18n.get(subject.member.language)
    text = tr("form.ended_with_role", form=tr(forms.label_of(ended)))
    await context.notifier.tell_chat(user_id, text, who=f"member {subject.id}")


async def _tell_member(context: UnionContext, member: Member, key: str, role: Role) -> None:
    if member.telegram_user_id is None:
        return
    tr = context.i18n.get(member.language)
    try:
        await context.bot.send_message(member.telegram_user_id, tr(key, role=tr(f"role.{role}")))
    except Forbidden:
        logger.info("Member %s has blocked the bot", member.id)


async def change_status(update: Update, context: UnionContext) -> None:
    """Deactivate or reactivate a member from their card (committee)."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(MemberCard)
    try:
        async with context.db() as session:
            member = await set_active(
                session,
                org_id=context.org_id,
                actor=actor,
                member_id=button.member_id,
                active=button.action == "react",
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("members.status_changed"))
    logger.info("Member %s set member %s to %s", actor.id, member.id, member.status)
    forms = context.state.forms
    if button.action != "react" and forms is not None and member.telegram_user_id is not None:
        forms.end(member.telegram_user_id)  # a deactivated member is in no form any more
    await _edit_card(update, context, member, chair=actor.is_chair)


def register(application: Application) -> None:
    """Add the committee tools."""
    application.add_handler(CommandHandler("bindgroup", bind_group))
    application.add_handler(
        CommandHandler("members", list_members, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(ButtonHandler(MemberPage, page_pressed))
    application.add_handler(ButtonHandler(MemberCard, view_member, "view"))
    application.add_handler(ButtonHandler(RoleGrant, grant_pressed))
    application.add_handler(ButtonHandler(RoleRevoke, revoke_pressed))
    application.add_handler(ButtonHandler(MemberCard, change_status, "deact"))
    application.add_handler(ButtonHandler(MemberCard, change_status, "react"))
