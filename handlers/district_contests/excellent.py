"""The district's selection of 优秀提案: /dexcellent.

District staff open the year's selection (each school may nominate up to the quota, 3 unless
typed: /dexcellent 5). A school's chair (or vice-chair) sees only their own school's proposals
that the school's committee marked excellent (models/proposals.mark_excellent), as buttons, and
nominates them. District staff read each nominated proposal (school, title, proposer, reasons
and measures: what the school's committee card shows; proposals are filed under a name, never
anonymously), select the district's 优秀提案 and publish; each school's chair is told.
"""

from __future__ import annotations

import logging
from typing import Literal

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from handlers.common import ButtonRow, keyboard, refuse, require_member, say
from handlers.district_access import this_organization
from handlers.district_contests.buttons import (
    ExcellentDesk,
    ExcellentNominate,
    ExcellentOpen,
    ExcellentPick,
    ExcellentWithdraw,
)
from handlers.district_contests.common import (
    TEXT_ROOM,
    district_staff,
    school_chair,
    tell,
)
from models.assessment import school_chairs
from models.district import schools_of
from models.district_contests import (
    DEFAULT_QUOTA,
    QUOTA_MAX,
    ContestStatus,
    ExcellentRound,
    excellent_of_school,
    get_round,
    nominate,
    nominations_of,
    open_round,
    publish_round,
    round_of_year,
    select_nomination,
    withdraw_nomination,
)
from models.errors import DomainError
from models.members import Member
from models.organizations import Organization, OrgKind
from models.outbox import to_chair
from models.proposal_text import body, label
from models.proposals import Proposal

logger = logging.getLogger(__name__)

PART_LIMIT = 300  # reasons and measures clipped on the district's list, as on a desk card


def _year(context: UnionContext) -> int:
    return context.state.clock().astimezone(context.settings.zone).year


async def excellent_command(update: Update, context: UnionContext) -> None:
    """/dexcellent: the district's selection for district staff, nominations for a chair."""
    actor = await require_member(update, context)
    if actor is None:
        return
    org = await this_organization(context)
    if org is not None and org.kind == OrgKind.DISTRICT:
        await _district_home(update, context)
    else:
        await _school_home(update, context)


def _quota_typed(context: UnionContext) -> int | None:
    """The quota typed after the command (/dexcellent 5), None when absent or not a number."""
    args = context.args or []
    if not args:
        return DEFAULT_QUOTA
    return int(args[0]) if args[0].isdigit() and 1 <= int(args[0]) <= QUOTA_MAX else None


async def _district_home(update: Update, context: UnionContext) -> None:
    staff = await district_staff(update, context)
    if staff is None:
        return
    _actor, district = staff
    year = _year(context)
    async with context.db() as session:
        row = await round_of_year(session, district_id=district.id or 0, year=year)
    if row is None:
        quota = _quota_typed(context)
        if quota is None:
            await say(update, context, context.t("dexcel.quota_invalid", max=QUOTA_MAX))
            return
        await say(
            update,
            context,
            context.t("dexcel.open_ask", year=year, quota=quota),
            keyboard([(context.t("dexcel.btn_open", year=year), ExcellentOpen(year, quota))]),
        )
        return
    if context.args:  # a quota typed once the schools were told it: said, not ignored
        await say(update, context, context.t("dexcel.quota_fixed", quota=row.quota))
    await _card(update, context, district, row)


async def open_pressed(update: Update, context: UnionContext) -> None:
    """开启评选: the round made once; each school's chair told."""
    button = context.button_as(ExcellentOpen)
    staff = await district_staff(update, context)
    if staff is None:
        return
    actor, district = staff
    if abs(button.year - _year(context)) > 1:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    try:
        async with context.db() as session:
            row, created = await open_round(
                session,
                district_id=district.id or 0,
                actor=actor,
                year=button.year,
                quota=button.quota,
            )
            chairs = await school_chairs(session, district_id=district.id or 0)
    except DomainError as error:
        await refuse(update, context, error)
        return
    if not created:
        await context.answer(update, context.t("dexcel.already_open"), alert=True)
        return
    await context.answer(update)
    logger.info("Excellent-proposal round %s opened by member %s", row.id, actor.id)
    recipients = [
        to_chair(
            chair,
            context.i18n.get(chair.language)(
                "dexcel.told_open", district=district.name, year=row.year, quota=row.quota
            ),
        )
        for chair in chairs
        if chair.telegram_user_id is not None
    ]
    await tell(
        context, district_id=district.id or 0, key=f"dexcel:{row.id}:open", recipients=recipients
    )
    await say(
        update,
        context,
        context.t("dexcel.opened", year=row.year, told=len({c.organization_id for c in chairs})),
    )
    await _card(update, context, district, row)


async def _card(
    update: Update, context: UnionContext, district: Organization, row: ExcellentRound
) -> None:
    """The nominated proposals with school, title, proposer and text; a button each to select."""
    t = context.tr
    async with context.db() as session:
        nominations = await nominations_of(session, round_id=row.id or 0)
        schools = await schools_of(session, district_id=district.id or 0)
        proposals = {n.proposal_id: await session.get(Proposal, n.proposal_id) for n in nominations}
        proposers = {
            p.proposer_member_id: await session.get(Member, p.proposer_member_id)
            for p in proposals.values()
            if p is not None
        }
    names = {school.id: school.name for school in schools}
    status = t(f"dexcel.status.{row.status}")
    header = t("dexcel.card_title", year=row.year, status=status, quota=row.quota)
    nominated = {n.school_id for n in nominations}
    missing = [school.name for school in schools if school.id not in nominated]
    blocks: list[str] = [header]
    rows: list[ButtonRow] = []
    for position, nomination in enumerate(nominations, start=1):
        proposal = proposals.get(nomination.proposal_id)
        if proposal is None:
            continue
        proposer = proposers.get(proposal.proposer_member_id)
        mark = t("dexcel.selected_mark") if nomination.selected else ""
        blocks.append(
            "\n".join(
                [
                    "",
                    t(
                        "dexcel.nomination_title",
                        position=position,
                        school=names.get(nomination.school_id, "?"),
                        label=label(t, proposal),
                        mark=mark,
                    ),
                    t("dexcel.proposer", name=proposer.real_name if proposer else "?"),
                    body(t, proposal, part_limit=PART_LIMIT),
                ]
            )
        )
        if row.status == ContestStatus.OPEN:
            choice: Literal["yes", "no"] = "no" if nomination.selected else "yes"
            key = "dexcel.btn_unselect" if nomination.selected else "dexcel.btn_select"
            rows.append([(t(key, position=position), ExcellentPick(choice, nomination.id or 0))])
    if not nominations:
        blocks.append(t("dexcel.none_yet"))
    if missing:
        blocks.append(t("dexcel.not_nominated", schools="、".join(missing)))
    if row.status == ContestStatus.OPEN and any(n.selected for n in nominations):
        rows.append([(t("dexcel.btn_publish"), ExcellentDesk("publish", row.id or 0))])
    chunk: list[str] = []
    for block in blocks:
        if chunk and len("\n".join([*chunk, block])) > TEXT_ROOM:
            await say(update, context, "\n".join(chunk))
            chunk = []
        chunk.append(block[:TEXT_ROOM])
    await say(update, context, "\n".join(chunk), keyboard(*rows) if rows else None)


async def pick_pressed(update: Update, context: UnionContext) -> None:
    """Select (or unselect) one nominated proposal."""
    button = context.button_as(ExcellentPick)
    staff = await district_staff(update, context)
    if staff is None:
        return
    actor, district = staff
    try:
        async with context.db() as session:
            nomination = await select_nomination(
                session,
                district_id=district.id or 0,
                nomination_id=button.nomination_id,
                actor=actor,
                selected=button.choice == "yes",
            )
            row = await get_round(
                session, district_id=district.id or 0, round_id=nomination.round_id
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    key = "dexcel.selected_toast" if nomination.selected else "dexcel.unselected_toast"
    await context.answer(update, context.t(key))
    await _card(update, context, district, row)


async def desk_pressed(update: Update, context: UnionContext) -> None:
    """The card again, or publish (each school's chair told)."""
    button = context.button_as(ExcellentDesk)
    staff = await district_staff(update, context)
    if staff is None:
        return
    actor, district = staff
    try:
        async with context.db() as session:
            row = await get_round(session, district_id=district.id or 0, round_id=button.round_id)
            if button.action == "publish":
                row = await publish_round(
                    session, district_id=district.id or 0, round_id=row.id or 0, actor=actor
                )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    if button.action == "publish":
        logger.info("Excellent-proposal round %s published by member %s", row.id, actor.id)
        told = await _tell_results(context, district, row)
        await say(update, context, context.t("dexcel.published", year=row.year, told=told))
    await _card(update, context, district, row)


async def _tell_results(context: UnionContext, district: Organization, row: ExcellentRound) -> int:
    """Each school's chair told the district's 优秀提案 and how many are their school's."""
    async with context.db() as session:
        nominations = [n for n in await nominations_of(session, round_id=row.id or 0) if n.selected]
        schools = await schools_of(session, district_id=district.id or 0)
        proposals = {n.proposal_id: await session.get(Proposal, n.proposal_id) for n in nominations}
        chairs = await school_chairs(session, district_id=district.id or 0)
    names = {school.id: school.name for school in schools}
    recipients = []
    for chair in chairs:
        if chair.telegram_user_id is None:
            continue
        tr = context.i18n.get(chair.language)
        lines = [tr("dexcel.told_results", district=district.name, year=row.year)]
        for nomination in nominations:
            proposal = proposals.get(nomination.proposal_id)
            if proposal is not None:
                lines.append(
                    tr(
                        "dexcel.result_line",
                        school=names.get(nomination.school_id, "?"),
                        label=label(tr, proposal),
                    )
                )
        own = sum(1 for n in nominations if n.school_id == chair.organization_id)
        lines.append(tr("dexcel.told_own", count=own))
        recipients.append(to_chair(chair, "\n".join(lines)[:4000]))
    await tell(
        context,
        district_id=district.id or 0,
        key=f"dexcel:{row.id}:results",
        recipients=recipients,
    )
    return len({chair.organization_id for chair in chairs})


# ---- a school's chair ---------------------------------------------------------------------


async def _school_home(update: Update, context: UnionContext) -> None:
    chair = await school_chair(update, context)
    if chair is None:
        return
    _actor, school = chair
    await _school_list(update, context, school)


async def _school_list(update: Update, context: UnionContext, school: Organization) -> None:
    t = context.tr
    async with context.db() as session:
        row = await round_of_year(session, district_id=school.parent_id or 0, year=_year(context))
        if row is None:
            await say(update, context, t("dexcel.no_round"))
            return
        own = await nominations_of(session, round_id=row.id or 0, school_id=school.id or 0)
        excellent = await excellent_of_school(session, school_id=school.id or 0)
    by_id = {proposal.id: proposal for proposal in excellent}
    nominated = {n.proposal_id for n in own}
    status = t(f"dexcel.status.{row.status}")
    lines = [
        t(
            "dexcel.school_title",
            year=row.year,
            status=status,
            used=len(own),
            quota=row.quota,
        )
    ]
    for nomination in own:
        proposal = by_id.get(nomination.proposal_id)
        if proposal is None:
            continue
        mark = t("dexcel.selected_mark") if nomination.selected else ""
        if row.status != ContestStatus.PUBLISHED:
            mark = ""  # the district's choice is told when it publishes, not before
        lines.append(t("dexcel.school_nominated", label=label(t, proposal), mark=mark))
    rows: list[ButtonRow] = []
    if row.status == ContestStatus.OPEN:
        for nomination in own:
            proposal = by_id.get(nomination.proposal_id)
            if proposal is not None:
                rows.append(
                    [
                        (
                            t("dexcel.btn_withdraw", label=label(t, proposal))[:60],
                            ExcellentWithdraw(school.id or 0, nomination.id or 0),
                        )
                    ]
                )
    withdraw_rows = len(rows)
    if row.status == ContestStatus.OPEN and len(own) < row.quota:
        for proposal in excellent:
            if proposal.id in nominated:
                continue
            rows.append(
                [
                    (
                        t("dexcel.btn_nominate", label=label(t, proposal))[:60],
                        ExcellentNominate(row.id or 0, school.id or 0, proposal.id or 0),
                    )
                ]
            )
        offered = len(rows) > withdraw_rows
        lines.append(t("dexcel.pick_hint") if offered else t("dexcel.no_excellent"))
    await say(update, context, "\n".join(lines), keyboard(*rows[:20]) if rows else None)


async def nominate_pressed(update: Update, context: UnionContext) -> None:
    """A school's chair nominates a proposal (checked again: own school, excellent, quota)."""
    button = context.button_as(ExcellentNominate)
    chair = await school_chair(update, context, school_id=button.school_id)
    if chair is None:
        return
    actor, school = chair
    try:
        async with context.db() as session:
            nomination, created = await nominate(
                session,
                district_id=school.parent_id or 0,
                round_id=button.round_id,
                school_id=school.id or 0,
                proposal_id=button.proposal_id,
                actor=actor,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    key = "dexcel.nominated_toast" if created else "dexcel.already_nominated"
    await context.answer(update, context.t(key))
    logger.info("Proposal %s nominated by member %s", nomination.proposal_id, actor.id)
    await _school_list(update, context, school)


async def withdraw_pressed(update: Update, context: UnionContext) -> None:
    """A school's chair takes back a nomination (checked again: own school, round open)."""
    button = context.button_as(ExcellentWithdraw)
    chair = await school_chair(update, context, school_id=button.school_id)
    if chair is None:
        return
    actor, school = chair
    try:
        async with context.db() as session:
            await withdraw_nomination(
                session,
                district_id=school.parent_id or 0,
                school_id=school.id or 0,
                nomination_id=button.nomination_id,
                actor=actor,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("dexcel.withdrawn_toast"))
    logger.info("Nomination %s withdrawn by member %s", button.nomination_id, actor.id)
    await _school_list(update, context, school)


# ---- wiring ------------------------------------------------------------------------------


def register(application: Application) -> None:
    """/dexcellent and its buttons."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("dexcellent", excellent_command, filters=private))
    application.add_handler(ButtonHandler(ExcellentOpen, open_pressed))
    application.add_handler(ButtonHandler(ExcellentDesk, desk_pressed))
    application.add_handler(ButtonHandler(ExcellentPick, pick_pressed))
    application.add_handler(ButtonHandler(ExcellentNominate, nominate_pressed))
    application.add_handler(ButtonHandler(ExcellentWithdraw, withdraw_pressed))
