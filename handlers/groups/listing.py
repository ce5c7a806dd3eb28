"""/groups: the union groups (工会小组, one per department) with their figures and leaders, and
each group's members. The committee sees every group; a 工会小组长 sees their own."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from handlers.common import keyboard, require_member, say
from handlers.groups.buttons import GroupOpen
from models.groups import MAX_GROUPS, group_members, leaders_among, led_group, union_groups
from models.members import Member, MemberStatus, numbered_name

logger = logging.getLogger(__name__)

SHOWN_KEY = "groups_shown"  # the group names behind the buttons of the last /groups
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
            await say(update, context, context.t("groups.not_for_you"))
            return
        await _send_members(update, context, own)
        return
    async with context.db() as session:
        groups = (await union_groups(session, org_id=context.org_id))[:MAX_GROUPS]
    if not groups:
        await say(update, context, context.t("groups.none"))
        return
    assert context.user_data is not None
    context.user_data[SHOWN_KEY] = [group.name for group in groups]
    lines = [context.t("groups.title", count=len(groups))]
    for group in groups:
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
    rows = [
        [(f"{group.name}（{group.roster}）", GroupOpen(index))]
        for index, group in enumerate(groups)
    ]
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def open_group(update: Update, context: UnionContext) -> None:
    """A group's button on /groups: its members (checked again: committee only)."""
    index = context.button_as(GroupOpen).index
    actor = context.actor
    assert context.user_data is not None
    shown = context.user_data.get(SHOWN_KEY) or []
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    if index >= len(shown):
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    await context.answer(update)
    await _send_members(update, context, str(shown[index]))


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
