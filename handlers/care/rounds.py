"""Care rounds in the committee's private chat: /care lists them, /care new <title> starts one;
a round is filled from the hardship files and the retirees or by name, assigned, and ticked
off as visited. A visit with money goes to the aid desk as a committee-started case (masked
there like every case); names, notes and amounts of a round are never posted to a group.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, BaseHandler, CommandHandler, ConversationHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.aid import desk
from handlers.care.buttons import (
    CareAddPerson,
    CareAssignTo,
    CareRoundAction,
    CareVisitAction,
    CareVisitType,
)
from handlers.common import (
    TYPED_TEXT,
    ButtonRow,
    expect_text,
    keyboard,
    private_text_conversation,
    refuse,
    require_committee,
    say,
)
from models import care
from models.aid import AidCase, AidType, get_case, parse_amount, parse_day, standard_for, yuan
from models.care import CareRound, CareVisit, VisitSource, VisitStatus
from models.errors import N_, DomainError, InputError
from models.members import Actor, Member, MemberStatus
from models.members_queries import members_by_id

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
PENDING = "care_prompt"
_PROMPTS = {
    "add": ("purpose.care_add", "care.write_name"),
    "amt": ("purpose.care_amount", "care.write_amount"),
    "note": ("purpose.care_note", "care.write_note"),
    "day": ("purpose.care_day", "care.write_day"),
}


# ---- views -------------------------------------------------------------------------------


def person_line(tr: Translator, member: Member, source: str | None = None) -> str:
    """陈建国（退休，语文组）; 困难档案 only in the committee's private chat, never a reason."""
    tags = []
    if source == VisitSource.HARDSHIP:
        tags.append(tr("care.tag_hardship"))
    elif member.retired:
        tags.append(tr("care.tag_retired"))
    if member.status == MemberStatus.INVITED or member.telegram_user_id is None:
        tags.append(tr("care.tag_offline"))
    tags.append(member.department)
    return tr("care.person_tags", name=member.real_name, tags=tr("care.tag_sep").join(tags))


def round_text(
    tr: Translator,
    record: CareRound,
    rows: Sequence[tuple[CareVisit, Member]],
    people: dict[int, Member],
    *,
    mine: bool = False,
    cases: dict[int, AidCase] | None = None,
) -> str:
    """The list: who, assigned to whom, ✅ or ⬜, the money taken and where its case stands."""
    done = sum(1 for visit, _member in rows if visit.status == VisitStatus.VISITED)
    money = tr("care.money_standard") if record.with_money else tr("care.money_none")
    lines = [
        tr("care.round_title", title=record.title, money=money),
        tr("care.round_progress", done=done, total=len(rows)),
    ]
    if mine:
        lines.append(tr("care.mine_heading"))
    if record.status != care.RoundStatus.OPEN:
        lines.append(tr("care.round_is_closed"))
    if not rows:
        lines.append(tr("care.round_empty"))
    for number, (visit, member) in enumerate(rows, start=1):
        who = people.get(visit.assignee_member_id or 0)
        mark = "✅" if visit.status == VisitStatus.VISITED else "⬜"
        line = f"{number}. {mark} {person_line(tr, member, visit.source)}"
        line += " · " + (who.real_name if who else tr("care.unassigned"))
        if visit.amount is not None:
            line += f" · ¥{yuan(visit.amount)}"
            case = (cases or {}).get(visit.case_id or 0)
            if case is not None:
                line += " " + tr(f"aid.status.{case.status}")
        lines.append(line)
    return "\n".join(lines)


def round_markup(
    tr: Translator, record: CareRound, rows: Sequence[tuple[CareVisit, Member]], *, mine: bool
) -> InlineKeyboardMarkup:
    """One button per person, then the round's own actions (not on one's own list)."""
    rid = record.id or 0
    buttons: list[ButtonRow] = []
    pair: list[tuple[str, CareVisitAction]] = []
    for number, (visit, member) in enumerate(rows, start=1):
        mark = "✅" if visit.status == VisitStatus.VISITED else "⬜"
        pair.append(
            (
                f"{number} {mark} {member.real_name}",
                CareVisitAction("open", visit.id or 0, visit.round_id),
            )
        )
        if len(pair) == 2:
            buttons.append(pair)
            pair = []
    if pair:
        buttons.append(pair)
    if not mine and record.status == care.RoundStatus.OPEN:
        money = tr("care.btn_money_off") if record.with_money else tr("care.btn_money_on")
        wanted: Literal["money_on", "money_off"] = "money_off" if record.with_money else "money_on"
        buttons += [
            [
                (tr("care.btn_files"), CareRoundAction("files", rid)),
                (tr("care.btn_retirees"), CareRoundAction("retirees", rid)),
            ],
            [
                (tr("care.btn_add"), CareRoundAction("add", rid)),
                (money, CareRoundAction(wanted, rid)),
            ],
            [
                (tr("care.btn_assign_all"), CareRoundAction("assign", rid)),
                (tr("care.btn_close"), CareRoundAction("close", rid)),
            ],
        ]
    elif mine:
        buttons.append([(tr("care.btn_whole_list"), CareRoundAction("show", rid))])
    return keyboard(*buttons)


async def _standard(context: UnionContext, visit: CareVisit) -> int:
    if visit.aid_type == care.UNCHOSEN:
        raise DomainError(N_("care.choose_type_first"))
    async with context.db() as session:
        found = await standard_for(session, org_id=context.org_id, aid_type=AidType(visit.aid_type))
    return found.amount


async def visit_view(context: UnionContext, visit: CareVisit) -> tuple[str, InlineKeyboardMarkup]:
    """One visit, privately: the person, the round, who goes, what happened; its buttons."""
    tr = context.tr
    async with context.db() as session:
        record = await care.get_round(session, org_id=context.org_id, round_id=visit.round_id)
        people = await members_by_id(
            session,
            [visit.member_id, visit.assignee_member_id or 0, visit.visited_by_member_id or 0],
        )
        case = (
            await get_case(session, org_id=context.org_id, case_id=visit.case_id)
            if visit.case_id
            else None
        )
    member = people[visit.member_id]
    assignee = people.get(visit.assignee_member_id or 0)
    lines = [
        person_line(tr, member, visit.source),
        tr("care.visit_round", title=record.title),
        tr("care.visit_assignee", name=assignee.real_name if assignee else tr("care.unassigned")),
    ]
    vid = visit.id or 0
    rows: list[ButtonRow] = []
    if visit.status == VisitStatus.VISITED:
        by = people.get(visit.visited_by_member_id or 0)
        lines.append(
            tr(
                "care.visit_done",
                day=visit.visited_on.isoformat() if visit.visited_on else "-",
                name=by.real_name if by else "-",
            )
        )
        lines.append(_money_line(tr, visit, case))
        if visit.note:
            lines.append(tr("care.visit_note", note=visit.note))
        if record.status == care.RoundStatus.OPEN:
            rows.append([(tr("care.btn_note"), CareVisitAction("note", vid, visit.round_id))])
            if case is not None and case.status in care.ENDED_UNPAID:
                lines.append(tr("care.money_again_hint"))
                rows += await _money_rows(context, record, visit, again=True)
    else:
        lines.append(tr("care.visit_planned"))
        day = visit.visited_on.isoformat() if visit.visited_on else tr("care.day_today")
        if record.status == care.RoundStatus.OPEN:
            rows.append(
                [(tr("care.btn_day", day=day), CareVisitAction("day", vid, visit.round_id))]
            )
            rows.append([(tr("care.btn_tick_none"), CareVisitAction("none", vid, visit.round_id))])
            rows += await _money_rows(context, record, visit, again=False)
            rows.append(
                [
                    (tr("care.btn_assign"), CareVisitAction("assign", vid, visit.round_id)),
                    (tr("care.btn_remove"), CareVisitAction("remove", vid, visit.round_id)),
                ]
            )
    rows.append([(tr("care.btn_back"), CareRoundAction("show", visit.round_id))])
    return "\n".join(lines), keyboard(*rows)


async def _money_rows(
    context: UnionContext, record: CareRound, visit: CareVisit, *, again: bool
) -> list[ButtonRow]:
    """What the money is booked as (a button to choose it), ✅ with the standard (once the type
    is chosen), ✅ another amount."""
    tr, vid = context.tr, visit.id or 0
    kind = tr(f"aid.type.{visit.aid_type}") if visit.aid_type else tr("care.type_unchosen")
    rows: list[ButtonRow] = [
        [(tr("care.btn_type", kind=kind), CareVisitAction("type", vid, visit.round_id))]
    ]
    if record.with_money and visit.aid_type:
        amount = yuan(await _standard(context, visit))
        rows.append(
            [(tr("care.btn_tick_std", amount=amount), CareVisitAction("std", vid, visit.round_id))]
        )
    label = tr("care.btn_money_again") if again else tr("care.btn_tick_amount")
    rows.append([(label, CareVisitAction("amt", vid, visit.round_id))])
    return rows


def _money_line(tr: Translator, visit: CareVisit, case: AidCase | None) -> str:
    if visit.amount is None or case is None:
        return tr("care.visit_no_money")
    return tr(
        "care.visit_money",
        amount=yuan(visit.amount),
        number=case.number,
        status=tr(f"aid.status.{case.status}"),
    )


# ---- showing -----------------------------------------------------------------------------


async def _show(
    update: Update,
    context: UnionContext,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Edit the pressed message in place (a press), else send the view."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text[:4000], reply_markup=markup)
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return  # the same view pressed again
            # too old to edit, or deleted: send it again
    await say(update, context, text[:4000], markup)


async def _round_view(
    context: UnionContext, round_id: int, *, assignee_id: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    async with context.db() as session:
        record = await care.get_round(session, org_id=context.org_id, round_id=round_id)
        rows = await care.round_visits(
            session, org_id=context.org_id, round_id=round_id, assignee_id=assignee_id
        )
        people = await members_by_id(
            session, [visit.assignee_member_id or 0 for visit, _member in rows]
        )
        cases = {
            visit.case_id: await get_case(session, org_id=context.org_id, case_id=visit.case_id)
            for visit, _member in rows
            if visit.case_id is not None
        }
    mine = assignee_id is not None
    return (
        round_text(context.tr, record, rows, people, mine=mine, cases=cases),
        round_markup(context.tr, record, rows, mine=mine),
    )


async def show_rounds(update: Update, context: UnionContext) -> None:
    """/care: the open rounds; /care new <title> starts one."""
    if update.callback_query is not None:  # the main menu's button
        await context.answer(update)
    actor = await require_committee(update, context)
    if actor is None:
        return
    words = list(context.args or [])
    if words and words[0].lower() in ("new", "新建"):
        await _start(update, context, actor, " ".join(words[1:]))
        return
    async with context.db() as session:
        rounds = await care.open_rounds(session, org_id=context.org_id)
    if not rounds:
        await say(update, context, context.t("care.no_rounds"))
        return
    rows: list[ButtonRow] = []
    for record in rounds:
        rows.append([(record.title, CareRoundAction("show", record.id or 0))])
        rows.append([(context.t("care.btn_mine"), CareRoundAction("mine", record.id or 0))])
    await say(update, context, context.t("care.rounds_heading"), keyboard(*rows))


async def _start(update: Update, context: UnionContext, actor: Actor, title: str) -> None:
    if not title.strip():
        await say(update, context, context.t("care.new_usage"))
        return
    try:
        async with context.db() as session:
            record = await care.start_round(
                session,
                org_id=context.org_id,
                actor=actor,
                title=title,
                sources=(),
                with_money=False,
                today=desk.today(context),
            )
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return
    logger.info("Care round %s started by member %s", record.id, actor.id)
    text, markup = await _round_view(context, record.id or 0)
    await say(update, context, context.t("care.started") + "\n\n" + text, markup)


# ---- presses -----------------------------------------------------------------------------


async def _committee(update: Update, context: UnionContext) -> Actor | None:
    """Every press is checked: only an active committee member (checked now) may use it."""
    actor = context.actor
    if actor is None or not actor.is_committee:
        query = update.callback_query
        logger.warning(
            "Refused a care press by non-committee user %s", query.from_user.id if query else 0
        )
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return None
    return actor


async def round_pressed(update: Update, context: UnionContext) -> None:
    """A round's buttons: show, fill, money, assign the unassigned, close, my list."""
    actor = await _committee(update, context)
    if actor is None:
        return
    button = context.button_as(CareRoundAction)
    rid, note = button.round_id, None
    try:
        async with context.db() as session:
            if button.action in ("files", "retirees"):
                source = VisitSource.HARDSHIP if button.action == "files" else VisitSource.RETIREE
                added = await care.fill_round(
                    session, org_id=context.org_id, actor=actor, round_id=rid, source=source
                )
                note = context.t("care.filled", count=added)
            elif button.action in ("money_on", "money_off"):
                await care.set_money(
                    session,
                    org_id=context.org_id,
                    actor=actor,
                    round_id=rid,
                    with_money=button.action == "money_on",
                )
            elif button.action == "close":
                await care.close_round(session, org_id=context.org_id, actor=actor, round_id=rid)
                note = context.t("care.closed")
            elif button.action == "assign":
                await care.get_round(session, org_id=context.org_id, round_id=rid)
                await _pick_assignee(update, context, rid, 0)
                return
    except DomainError as error:
        await refuse(update, context, error)
        return
    try:
        text, markup = await _round_view(
            context, rid, assignee_id=actor.id if button.action == "mine" else None
        )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, note)
    await _show(update, context, text, markup)


async def visit_pressed(update: Update, context: UnionContext) -> None:
    """A visit's buttons: open, ✅ (without money or with the standard), assign, remove."""
    actor = await _committee(update, context)
    if actor is None:
        return
    button = context.button_as(CareVisitAction)
    vid = button.visit_id
    try:
        async with context.db() as session:
            visit = await care.get_visit(session, org_id=context.org_id, visit_id=vid)
        _same_round(visit, button.round_id)
        if button.action == "assign":
            await _pick_assignee(update, context, visit.round_id, vid)
            return
        if button.action == "type":
            await _pick_type(update, context, visit)
            return
        if button.action == "remove":
            async with context.db() as session:
                await care.remove_visit(session, org_id=context.org_id, actor=actor, visit_id=vid)
            text, markup = await _round_view(context, visit.round_id)
            await context.answer(update, context.t("care.removed"))
            await _show(update, context, text, markup)
            return
        if button.action in ("none", "std"):
            amount = await _standard(context, visit) if button.action == "std" else None
            visit = await _tick(update, context, actor, visit, amount)
    except DomainError as error:
        await refuse(update, context, error)
        return
    text, markup = await visit_view(context, visit)
    await context.answer(update)
    await _show(update, context, text, markup)


def _same_round(visit: CareVisit, round_id: int) -> None:
    """The button's round is the visit's: a stale or forged button acts on nobody else."""
    if visit.round_id != round_id:
        raise DomainError(N_("care.visit_not_found"))


async def _tick(
    update: Update, context: UnionContext, actor: Actor, visit: CareVisit, amount: int | None
) -> CareVisit:
    """✅ visited; with money, the case goes to the aid desk (refusals are raised)."""
    tr = desk._committee_tr(context)  # the case's text is read at the desk
    async with context.db() as session:
        record = await care.get_round(session, org_id=context.org_id, round_id=visit.round_id)
        stored = await care.record_visit(
            session,
            org_id=context.org_id,
            actor=actor,
            visit_id=visit.id or 0,
            amount=amount,
            today=desk.today(context),
            description=tr("care.case_description", title=record.title),
        )
    logger.info("Care visit %s visited, recorded by member %s", stored.id, actor.id)
    if stored.case_id is not None:
        async with context.db() as session:
            case = await get_case(session, org_id=context.org_id, case_id=stored.case_id)
        await desk.announce(context, case)
        await say(update, context, context.t("care.case_started", number=case.number))
    return stored


async def _pick_type(update: Update, context: UnionContext, visit: CareVisit) -> None:
    """The aid types, in the member's language: what this visit's money is booked as."""
    async with context.db() as session:
        await care.visit_taking_money(session, org_id=context.org_id, visit_id=visit.id or 0)
    rows: list[ButtonRow] = [
        [(context.t(f"aid.type.{kind}"), CareVisitType(visit.id or 0, kind))] for kind in AidType
    ]
    rows.append(
        [(context.t("care.btn_back"), CareVisitAction("open", visit.id or 0, visit.round_id))]
    )
    await context.answer(update)
    await _show(update, context, context.t("care.pick_type"), keyboard(*rows))


async def type_pressed(update: Update, context: UnionContext) -> None:
    """An aid type picked for a visit's money: stored on the visit, the visit shown again."""
    actor = await _committee(update, context)
    if actor is None:
        return
    button = context.button_as(CareVisitType)
    try:
        async with context.db() as session:
            visit = await care.set_aid_type(
                session,
                org_id=context.org_id,
                actor=actor,
                visit_id=button.visit_id,
                aid_type=button.aid_type,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    text, markup = await visit_view(context, visit)
    await context.answer(update)
    await _show(update, context, text, markup)


async def _pick_assignee(
    update: Update, context: UnionContext, round_id: int, visit_id: int
) -> None:
    async with context.db() as session:
        people = await care.committee_members(session, org_id=context.org_id)
    rows: list[ButtonRow] = [
        [(member.real_name, CareAssignTo(round_id, visit_id, member.id or 0))] for member in people
    ]
    rows.append([(context.t("care.btn_back"), CareRoundAction("show", round_id))])
    await context.answer(update)
    await _show(update, context, context.t("care.pick_assignee"), keyboard(*rows))


async def assign_pressed(update: Update, context: UnionContext) -> None:
    """A committee member picked: the visits are theirs, and they get their list privately."""
    actor = await _committee(update, context)
    if actor is None:
        return
    button = context.button_as(CareAssignTo)
    try:
        async with context.db() as session:
            changed = await care.assign(
                session,
                org_id=context.org_id,
                actor=actor,
                visit_ids=await _to_assign(context, button),
                assignee_id=button.member_id,
            )
            record = await care.get_round(session, org_id=context.org_id, round_id=button.round_id)
            mine = await care.round_visits(
                session,
                org_id=context.org_id,
                round_id=button.round_id,
                assignee_id=button.member_id,
            )
            assignee = await session.get(Member, button.member_id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    logger.info("Care visits %s assigned to member %s", changed, button.member_id)
    if button.member_id != actor.id:
        await _tell_assignee(context, record, mine, actor)
    text, markup = await _round_view(context, button.round_id)
    name = assignee.real_name if assignee else "-"
    await context.answer(update, context.t("care.assigned", count=len(changed), name=name))
    await _show(update, context, text, markup)


async def _to_assign(context: UnionContext, button: CareAssignTo) -> list[int]:
    """The visit pressed (it must be of the round), or every unassigned one of the round."""
    async with context.db() as session:
        rows = await care.round_visits(session, org_id=context.org_id, round_id=button.round_id)
    if button.visit_id:
        if button.visit_id not in {visit.id for visit, _member in rows}:
            raise DomainError(N_("care.visit_not_found"))
        return [button.visit_id]
    ids = [
        visit.id or 0
        for visit, _member in rows
        if visit.assignee_member_id is None and visit.status == VisitStatus.PLANNED
    ]
    if not ids:
        raise DomainError(N_("care.nothing_to_assign"))
    return ids


async def _tell_assignee(
    context: UnionContext,
    record: CareRound,
    rows: Sequence[tuple[CareVisit, Member]],
    actor: Actor,
) -> None:
    """The assignee's own list, privately (only while they are on the committee)."""
    assignee_id = rows[0][0].assignee_member_id if rows else None
    if assignee_id is None:
        return

    def render(tr: Translator) -> str:
        lines = [tr("care.told_assigned", name=actor.member.real_name, title=record.title)]
        lines += [
            f"{number}. {person_line(tr, member, visit.source)}"
            for number, (visit, member) in enumerate(rows, start=1)
            if visit.status == VisitStatus.PLANNED
        ]
        return "\n".join(lines)

    def markup(tr: Translator) -> InlineKeyboardMarkup:
        return keyboard([(tr("care.btn_mine"), CareRoundAction("mine", record.id or 0))])

    await context.notifier.tell([assignee_id], render, markup, committee_only=True)


async def add_pressed(update: Update, context: UnionContext) -> None:
    """A person found by name: put them on the round."""
    actor = await _committee(update, context)
    if actor is None:
        return
    button = context.button_as(CareAddPerson)
    try:
        async with context.db() as session:
            await care.add_person(
                session,
                org_id=context.org_id,
                actor=actor,
                round_id=button.round_id,
                member_id=button.member_id,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    text, markup = await _round_view(context, button.round_id)
    await context.answer(update, context.t("care.added"))
    await _show(update, context, text, markup)


# ---- typed: a name to add, another amount, a note ------------------------------------------


async def start_typing(update: Update, context: UnionContext) -> int:
    """➕ by name, ✅ another amount, 📝 a note: the text is typed next, in this chat."""
    assert context.user_data is not None
    actor = await _committee(update, context)
    if actor is None:
        return _END
    pressed = context.button
    if isinstance(pressed, CareRoundAction):
        what, item = "add", pressed.round_id
    else:
        assert isinstance(pressed, CareVisitAction)
        what, item = pressed.action, pressed.visit_id
    try:
        if isinstance(pressed, CareVisitAction):
            async with context.db() as session:
                visit = await care.get_visit(session, org_id=context.org_id, visit_id=item)
            _same_round(visit, pressed.round_id)
        about = await _check_target(context, what, item)
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    purpose_key, prompt_key = _PROMPTS[what]
    purpose = context.t(purpose_key, name=about, title=about)
    prompt = expect_text(context, purpose, shown_back=False)
    context.user_data[PENDING] = {"what": what, "id": item}
    await context.answer(update)
    text = prompt + "\n" + context.t(prompt_key)
    if what == "note":  # what was written before stays; the new line goes under it
        async with context.db() as session:
            visit = await care.get_visit(session, org_id=context.org_id, visit_id=item)
        if visit.note:
            text += "\n" + context.t("care.note_earlier", note=visit.note)
    await say(update, context, text)
    return TYPED_TEXT


async def _check_target(context: UnionContext, what: str, item: int) -> str:
    """The round is there (its title), or the visit is there and not yet (a note: already)
    visited (the visited person's name): what the prompt names."""
    async with context.db() as session:
        if what == "add":
            record = await care.get_round(session, org_id=context.org_id, round_id=item)
            return record.title
        visit = await care.get_visit(session, org_id=context.org_id, visit_id=item)
        member = await session.get(Member, visit.member_id)
        again = await care.money_ended(session, visit)
        record = await care.get_round(session, org_id=context.org_id, round_id=visit.round_id)
    if record.status != care.RoundStatus.OPEN:
        raise DomainError(N_("care.round_closed"))
    if what == "note" and visit.status != VisitStatus.VISITED:
        raise DomainError(N_("care.not_visited_yet"))
    if what != "note" and visit.status != VisitStatus.PLANNED and not again:
        raise DomainError(N_("care.already_visited"))
    if what == "day" and visit.status != VisitStatus.PLANNED:
        raise DomainError(N_("care.already_visited"))
    if what == "amt" and visit.aid_type == care.UNCHOSEN:
        raise DomainError(N_("care.choose_type_first"))
    return member.real_name if member else "-"


async def text_typed(update: Update, context: UnionContext, text: str) -> int:
    """The name, the amount or the note."""
    assert context.user_data is not None
    pending = context.user_data.get(PENDING) or {}
    what, item = str(pending.get("what", "")), int(pending.get("id", 0))
    actor = context.actor
    if actor is None or not actor.is_committee or what not in _PROMPTS:
        context.user_data.pop(PENDING, None)
        await say(update, context, context.t("desk.not_committee"))
        return _END
    try:
        if what == "add":
            return await _found(update, context, item, text)
        if what == "day":
            async with context.db() as session:
                stored = await care.set_visit_day(
                    session,
                    org_id=context.org_id,
                    actor=actor,
                    visit_id=item,
                    day=parse_day(text, desk.today(context)),
                    today=desk.today(context),
                    max_age_months=context.settings.aid_event_max_age_months,
                )
        elif what == "amt":
            async with context.db() as session:
                visit = await care.get_visit(session, org_id=context.org_id, visit_id=item)
            stored = await _tick(update, context, actor, visit, parse_amount(text))
        else:
            async with context.db() as session:
                stored = await care.add_note(
                    session, org_id=context.org_id, actor=actor, visit_id=item, note=text
                )
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        if isinstance(error, InputError):
            return TYPED_TEXT
        context.user_data.pop(PENDING, None)
        return _END
    context.user_data.pop(PENDING, None)
    view, markup = await visit_view(context, stored)
    await say(update, context, view, markup)
    return _END


async def _found(update: Update, context: UnionContext, round_id: int, text: str) -> int:
    """People on the roster matching the name, one button each; none: ask again."""
    assert context.user_data is not None
    async with context.db() as session:
        found = await care.roster_matches(session, org_id=context.org_id, name=text)
    if not found:
        await say(update, context, context.t("care.nobody_found", name=text.strip()))
        return TYPED_TEXT
    rows: list[ButtonRow] = [
        [(person_line(context.tr, member), CareAddPerson(round_id, member.id or 0))]
        for member in found
    ]
    rows.append([(context.t("care.btn_back"), CareRoundAction("show", round_id))])
    context.user_data.pop(PENDING, None)
    await say(update, context, context.t("care.pick_person"), keyboard(*rows))
    return _END


async def cancel_typing(update: Update, context: UnionContext) -> int:
    """/cancel while typing."""
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)
    await say(update, context, context.t("care.cancelled"))
    return _END


def typing_conversation() -> ConversationHandler[Any]:
    """The three typed steps, after a button in the private chat."""
    entry_points: list[BaseHandler[Any, Any, Any]] = [
        ButtonHandler(CareRoundAction, start_typing, "add"),
        ButtonHandler(CareVisitAction, start_typing, "amt"),
        ButtonHandler(CareVisitAction, start_typing, "note"),
        ButtonHandler(CareVisitAction, start_typing, "day"),
    ]
    return private_text_conversation(
        name="care_text", entry_points=entry_points, on_text=text_typed, on_cancel=cancel_typing
    )


def register(application: Application) -> None:
    """Add /care and the round's buttons."""
    application.add_handler(CommandHandler("care", show_rounds, filters=filters.ChatType.PRIVATE))
    for action in ("show", "files", "retirees", "money_on", "money_off", "assign", "close", "mine"):
        application.add_handler(ButtonHandler(CareRoundAction, round_pressed, action))
    for action in ("open", "none", "std", "assign", "remove", "type"):
        application.add_handler(ButtonHandler(CareVisitAction, visit_pressed, action))
    application.add_handler(ButtonHandler(CareVisitType, type_pressed))
    application.add_handler(ButtonHandler(CareAssignTo, assign_pressed))
    application.add_handler(ButtonHandler(CareAddPerson, add_pressed))


def forms() -> list[Form]:
    """The typed steps (run by the form engine, one active per person)."""
    return [
        Form(
            typing_conversation(),
            label_key="form.label.care_text",
            drafts=(PENDING,),
            committee=True,
            prompt=True,
        ),
    ]
