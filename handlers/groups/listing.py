"""/groups: the union groups (工会小组, one per department) with their figures and leaders, and
each group's members. The committee sees every group; a 工会小组长 sees their own."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from handlers.common import keyboard, require_member, say
from handlers.groups.buttons import PAGE, GroupOpen, new_nonce
from models.groups import UnionGroup, group_members, leaders_among, led_group, union_groups
from models.members import Member, MemberStatus, Role, numbered_name

logger = logging.getLogger(__name__)

SHOWN_KEY = "groups_shown"  # the nonce and group names behind the last /groups buttons
MEMBER_LINES = 150


async def show_groups(update: Update, context: UnionContext) -> None:
    """/groups: every group for the committee, the own group for a group leader."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    if not actor.is_committee:
        own = led_group(actor)
        if own is None:
            leader = actor.has(Role.GROUP_LEADER)  # a leader with no department on the roster
            key = "groups.leader_without_group" if leader else "groups.not_for_you"
            await say(update, context, context.t(key))
            return
        await _send_members(update, context, own)
        return
    async with context.db() as session:
        groups = await union_groups(session, org_id=context.org_id)
    if not groups:
        await say(update, context, context.t("groups.none"))
        return
    assert context.user_data is not None
    nonce = new_nonce()
    context.user_data[SHOWN_KEY] = {"nonce": nonce, "names": [group.name for group in groups]}
    await say(update, context, *_page(context, groups, nonce, 0))


def _page(
    context: UnionContext, groups: list[UnionGroup], nonce: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of /groups: the figures of PAGE groups, their buttons, and the page turns."""
    first = page * PAGE
    shown = groups[first : first + PAGE]
    lines = [context.t("groups.title", count=len(groups))]
    if len(groups) > PAGE:
        lines.append(
            context.t("groups.page", first=first + 1, last=first + len(shown), count=len(groups))
        )
    for group in shown:
        leaders = "、".join(group.leaders) or context.t("groups.no_leader")
        lines.append(
            context.t(
                "groups.line",
                group=group.name,
                roster=group.roster,
                active=group.active,
                leaders=leaders,
            )
        )
    rows: list[list[tuple[str, Button]]] = [
        [(f"{group.name}（{group.roster}）", GroupOpen("open", nonce, first + offset))]
        for offset, group in enumerate(shown)
    ]
    turns: list[tuple[str, Button]] = []
    if page > 0:
        turns.append((context.t("groups.page_back"), GroupOpen("page", nonce, page - 1)))
    if first + PAGE < len(groups):
        turns.append((context.t("groups.page_next"), GroupOpen("page", nonce, page + 1)))
    if turns:
        rows.append(turns)
    return "\n".join(lines), keyboard(*rows)


async def open_group(update: Update, context: UnionContext) -> None:
    """A group's button on /groups: its members, or another page (committee only, checked
    again; a button of an older /groups message is stale)."""
    button = context.button_as(GroupOpen)
    actor = context.actor
    assert context.user_data is not None
    saved = context.user_data.get(SHOWN_KEY)
    shown: list[str] = saved.get("names", []) if isinstance(saved, dict) else []
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    fresh = isinstance(saved, dict) and saved.get("nonce") == button.nonce
    if not fresh or (button.action == "open" and button.index >= len(shown)):
        await context.answer(update, context.t("groups.stale_list"), alert=True)
        return
    await context.answer(update)
    if button.action == "open":
        await _send_members(update, context, str(shown[button.index]))
        return
    async with context.db() as session:
        groups = await union_groups(session, org_id=context.org_id)
    if [group.name for group in groups] != shown:  # changed since: show the list afresh
        await show_groups(update, context)
        return
    page = max(0, min(button.index, (len(groups) - 1) // PAGE))
    text, markup = _page(context, groups, button.nonce, page)
    query = update.callback_query
    if query is not None and query.message is not None:
        await context.bot.edit_message_text(
            text,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=markup,
        )


async def _send_members(update: Update, context: UnionContext, name: str) -> None:
    async with context.db() as session:
        members = await group_members(session, org_id=context.org_id, name=name)
        leaders = await leaders_among(session, members)
    lines = [context.t("groups.members_title", group=name, count=len(members))]
    lines += [_member_line(context, member, member.id in leaders) for member in members]
    if len(lines) > MEMBER_LINES:
        lines = [*lines[:MEMBER_LINES], "…"]
    if not members:
        lines.append(context.t("groups.empty"))
    await say(update, context, "\n".join(lines))


def _member_line(context: UnionContext, member: Member, leader: bool) -> str:
    parts = [numbered_name(member)]
    if leader:
        parts.append(context.t("role.group_leader"))
    if member.status != MemberStatus.ACTIVE:
        parts.append(context.t(f"status.{member.status}"))
    return " · ".join(parts)


def register(application: Application) -> None:
    """Add /groups and its buttons."""
    application.add_handler(CommandHandler("groups", show_groups, filters=filters.ChatType.PRIVATE))
    application.add_handler(ButtonHandler(GroupOpen, open_group))
