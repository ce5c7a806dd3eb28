"""District contests (区教职工运动会, 技能大赛 …): /dcontest.

District staff create a contest in a private form (title, kind, date, place, entry deadline,
team size, a short text; a preview; Confirm), and each school's chair is told through the
outbox with a button to enter a team. A school's chair (or vice-chair) enters the school's one
team (a name and the players one a line) and may change it until the deadline. District staff
see who entered, record each team's award or place, publish the results (each chair is told
their school's result and the full list) and export an xlsx of teams and results.
"""

from __future__ import annotations

import io
import logging
import secrets
from datetime import datetime
from enum import IntEnum
from typing import Any

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, ConversationHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.common import (
    ButtonRow,
    conversation,
    family_step,
    keyboard,
    refuse,
    require_member,
    say,
    say_receipt,
    text_step,
    typed_text,
    user_draft,
)
from handlers.district_access import this_organization
from handlers.district_contests.buttons import (
    ContestConfirm,
    ContestDesk,
    ContestEnter,
    ContestKindChoice,
    ContestNew,
    ContestResult,
)
from handlers.district_contests.common import (
    TEXT_ROOM,
    contest_lines,
    district_staff,
    local,
    result_word,
    school_chair,
    tell,
)
from models.activities import parse_when
from models.assessment import school_chairs
from models.district import require_recusal, schools_of
from models.district_contests import (
    ABOUT_LIMIT,
    PLACE_LIMIT,
    TEAM_NAME_LIMIT,
    TEAM_SIZE_MAX,
    TITLE_LIMIT,
    ContestKind,
    ContestStatus,
    ContestTeam,
    DistrictContest,
    NewContest,
    check_entries_open,
    contests_of,
    create_contest,
    enter_team,
    get_contest,
    parse_players,
    parse_result,
    publish_results,
    record_result,
    result_order,
    team_for_result,
    team_of,
    teams_of,
)
from models.errors import DomainError, InputError
from models.exports import append_row
from models.organizations import Organization, OrgKind
from models.outbox import to_chair
from models.written import count

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_NEW = "dcontest_new"
_ENTRY = "dcontest_entry"
_RESULT = "dcontest_result"
_NONE_WORDS = {"无", "無", "-", "—", "none", "no"}


class Creating(IntEnum):
    """Steps of creating a contest."""

    TITLE = 1
    KIND = 2
    WHEN = 3
    PLACE = 4
    DEADLINE = 5
    SIZE = 6
    ABOUT = 7
    CONFIRM = 8


class Entering(IntEnum):
    """Steps of entering a school's team."""

    NAME = 1
    PLAYERS = 2


class Recording(IntEnum):
    """The one step of recording a result."""

    RESULT = 1


def _now(context: UnionContext) -> datetime:
    return context.state.clock()


# ---- /dcontest ---------------------------------------------------------------------------


async def contest_command(update: Update, context: UnionContext) -> None:
    """/dcontest: the district's contests for district staff, the school's entries for a chair."""
    actor = await require_member(update, context)
    if actor is None:
        return
    org = await this_organization(context)
    if org is not None and org.kind == OrgKind.DISTRICT:
        await _district_home(update, context)
    else:
        await _school_home(update, context)


async def _district_home(update: Update, context: UnionContext) -> None:
    staff = await district_staff(update, context)
    if staff is None:
        return
    _actor, district = staff
    t = context.tr
    async with context.db() as session:
        contests = await contests_of(session, district_id=district.id or 0)
        schools = await schools_of(session, district_id=district.id or 0)
        entered = {c.id: len(await teams_of(session, contest_id=c.id or 0)) for c in contests}
    lines = [t("dcontest.home_title")]
    rows: list[ButtonRow] = []
    for contest in contests[:20]:
        lines.append(
            t(
                "dcontest.home_line",
                title=contest.title,
                when=local(context, contest.starts_at),
                status=t(f"dcontest.status.{contest.status}"),
                entered=entered.get(contest.id, 0),
                schools=len(schools),
            )
        )
        rows.append([(contest.title, ContestDesk("show", contest.id or 0))])
    if not contests:
        lines.append(t("dcontest.home_empty"))
    rows.append([(t("dcontest.btn_new"), ContestNew("go"))])
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def _school_home(update: Update, context: UnionContext) -> None:
    chair = await school_chair(update, context)
    if chair is None:
        return
    _actor, school = chair
    t = context.tr
    async with context.db() as session:
        contests = await contests_of(session, district_id=school.parent_id or 0)
        teams = {
            c.id: await team_of(session, contest_id=c.id or 0, school_id=school.id or 0)
            for c in contests
        }
    if not contests:
        await say(update, context, t("dcontest.school_empty"))
        return
    lines = [t("dcontest.school_title", school=school.name)]
    rows: list[ButtonRow] = []
    now = _now(context)
    for contest in contests[:20]:
        team = teams.get(contest.id)
        if team is None:
            state = t("dcontest.not_entered")
        elif contest.status == ContestStatus.PUBLISHED:
            state = t("dcontest.entered_result", team=team.name, result=result_word(t, team))
        else:
            state = t("dcontest.entered", team=team.name, count=len(team.player_list()))
        lines.append(
            t(
                "dcontest.school_line",
                title=contest.title,
                when=local(context, contest.starts_at),
                deadline=local(context, contest.deadline),
                state=state,
            )
        )
        if contest.status == ContestStatus.OPEN and now <= contest.deadline:
            label = t("dcontest.btn_change" if team else "dcontest.btn_enter", title=contest.title)
            rows.append([(label, ContestEnter(contest.id or 0, school.id or 0))])
    await say(update, context, "\n".join(lines), keyboard(*rows) if rows else None)


# ---- creating (district staff) -----------------------------------------------------------


def _draft(context: UnionContext, name: str) -> dict[str, Any]:
    return user_draft(context, name)


async def start_creating(update: Update, context: UnionContext) -> int:
    """➕ pressed: the title is asked."""
    if await district_staff(update, context) is None:
        return _END
    await context.answer(update)
    draft = _draft(context, _NEW)
    draft.clear()
    draft["token"] = secrets.token_hex(8)
    await say(update, context, context.t("dcontest.ask_title", limit=TITLE_LIMIT))
    return Creating.TITLE


async def got_title(update: Update, context: UnionContext) -> int:
    """The title; then the kind."""
    title = await typed_text(update, context, limit=TITLE_LIMIT)
    if title is None:
        return Creating.TITLE
    _draft(context, _NEW)["title"] = title
    rows = [[(context.t(f"dcontest.kind.{k}"), ContestKindChoice(k))] for k in ContestKind]
    await say(update, context, context.t("dcontest.ask_kind"), keyboard(*rows))
    return Creating.KIND


async def got_kind(update: Update, context: UnionContext) -> int:
    """The kind; then the date and time."""
    await context.answer(update)
    _draft(context, _NEW)["kind"] = context.button_as(ContestKindChoice).kind.value
    await say(update, context, context.t("dcontest.ask_when"))
    return Creating.WHEN


async def _typed_moment(update: Update, context: UnionContext) -> datetime | None:
    text = await typed_text(update, context, limit=40)
    if text is None:
        return None
    now = _now(context)
    try:
        moment = parse_when(text, now=now, zone=context.settings.zone)
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return None
    if moment <= now:
        await say(update, context, context.t("dcontest.moment_past"))
        return None
    return moment


async def got_when(update: Update, context: UnionContext) -> int:
    """The date and time; then the place."""
    moment = await _typed_moment(update, context)
    if moment is None:
        return Creating.WHEN
    _draft(context, _NEW)["starts_at"] = moment.isoformat()
    await say(update, context, context.t("dcontest.ask_place", limit=PLACE_LIMIT))
    return Creating.PLACE


async def got_place(update: Update, context: UnionContext) -> int:
    """The place; then the entry deadline."""
    place = await typed_text(update, context, limit=PLACE_LIMIT)
    if place is None:
        return Creating.PLACE
    _draft(context, _NEW)["place"] = place
    await say(update, context, context.t("dcontest.ask_deadline"))
    return Creating.DEADLINE


async def got_deadline(update: Update, context: UnionContext) -> int:
    """The entry deadline (not after the start); then the team size."""
    moment = await _typed_moment(update, context)
    if moment is None:
        return Creating.DEADLINE
    draft = _draft(context, _NEW)
    if moment > datetime.fromisoformat(draft["starts_at"]):
        await say(update, context, context.t("dcontest.deadline_after_start"))
        return Creating.DEADLINE
    draft["deadline"] = moment.isoformat()
    await say(update, context, context.t("dcontest.ask_size", max=TEAM_SIZE_MAX))
    return Creating.SIZE


async def got_size(update: Update, context: UnionContext) -> int:
    """The most players a team may have; then the short text."""
    text = await typed_text(update, context, limit=10)
    if text is None:
        return Creating.SIZE
    size = count(text, low=1, high=TEAM_SIZE_MAX)
    if size is None:
        await say(update, context, context.t("dcontest.size_invalid", max=TEAM_SIZE_MAX))
        return Creating.SIZE
    _draft(context, _NEW)["size"] = size
    await say(update, context, context.t("dcontest.ask_about", limit=ABOUT_LIMIT))
    return Creating.ABOUT


async def got_about(update: Update, context: UnionContext) -> int:
    """The short text (无 for none); then the preview with Confirm."""
    about = await typed_text(update, context, limit=ABOUT_LIMIT, multiline=True)
    if about is None:
        return Creating.ABOUT
    draft = _draft(context, _NEW)
    draft["about"] = None if about.lower() in _NONE_WORDS else about
    contest = _from_draft(draft)
    t = context.tr
    preview = DistrictContest(
        district_id=0,
        title=contest.title,
        kind=contest.kind,
        starts_at=contest.starts_at,
        place=contest.place,
        deadline=contest.deadline,
        team_size=contest.team_size,
        about=contest.about,
        client_token=contest.client_token,
        created_by_member_id=0,
    )
    lines = [t("dcontest.preview"), "", *contest_lines(context, t, preview)]
    await say(
        update,
        context,
        "\n".join(lines),
        keyboard(
            [(t("dcontest.btn_confirm"), ContestConfirm("yes"))],
            [(t("common.cancel"), ContestConfirm("cancel"))],
        ),
    )
    return Creating.CONFIRM


def _from_draft(draft: dict[str, Any]) -> NewContest:
    return NewContest(
        title=str(draft["title"]),
        kind=ContestKind(draft["kind"]),
        starts_at=datetime.fromisoformat(draft["starts_at"]),
        place=str(draft["place"]),
        deadline=datetime.fromisoformat(draft["deadline"]),
        team_size=int(draft["size"]),
        about=draft.get("about"),
        client_token=str(draft["token"]),
    )


async def confirm(update: Update, context: UnionContext) -> int:
    """Confirm: the contest is stored once and each school's chair is told."""
    draft = _draft(context, _NEW)
    if context.button_as(ContestConfirm).choice == "cancel":
        await context.answer(update)
        draft.clear()
        await say(update, context, context.t("dcontest.create_cancelled"))
        return _END
    staff = await district_staff(update, context)
    if staff is None:
        draft.clear()
        return _END
    actor, district = staff
    if "token" not in draft:
        await context.answer(update)
        await say(update, context, context.t("dcontest.draft_lost"))
        return _END
    try:
        async with context.db() as session:
            contest = await create_contest(
                session, district_id=district.id or 0, actor=actor, new=_from_draft(draft)
            )
    except DomainError as error:
        await refuse(update, context, error)
        return Creating.CONFIRM if isinstance(error, InputError) else _END
    draft.clear()
    await context.answer(update, context.t("dcontest.created_toast"))
    logger.info("District contest %s created by member %s", contest.id, actor.id)
    told = await _announce(context, district, contest)
    await say_receipt(
        update, context, context.t("dcontest.created", title=contest.title, told=told)
    )
    await _card(update, context, district, contest)
    return _END


async def _announce(context: UnionContext, district: Organization, contest: DistrictContest) -> int:
    """Each school's chair told, with a button to enter their school's team (once per contest)."""
    async with context.db() as session:
        chairs = await school_chairs(session, district_id=district.id or 0)
    recipients = []
    for chair in chairs:
        if chair.telegram_user_id is None:
            continue
        tr = context.i18n.get(chair.language)
        text = "\n".join(
            [tr("dcontest.told_new", district=district.name), *contest_lines(context, tr, contest)]
        )
        button = ContestEnter(contest.id or 0, chair.organization_id).pack()
        recipients.append(
            to_chair(chair, text, (((tr("dcontest.btn_enter", title=contest.title), button),),))
        )
    await tell(
        context,
        district_id=district.id or 0,
        key=f"dcontest:{contest.id}:announce",
        recipients=recipients,
    )
    return len({chair.organization_id for chair in chairs})


async def cancel_creating(update: Update, context: UnionContext) -> int:
    """/cancel: nothing stored."""
    _draft(context, _NEW).clear()
    await say(update, context, context.t("dcontest.create_cancelled"))
    return _END


# ---- the district's card -----------------------------------------------------------------


async def _card(
    update: Update, context: UnionContext, district: Organization, contest: DistrictContest
) -> None:
    t = context.tr
    async with context.db() as session:
        teams = await teams_of(session, contest_id=contest.id or 0)
        schools = await schools_of(session, district_id=district.id or 0)
    names = {school.id: school.name for school in schools}
    lines = [*contest_lines(context, t, contest)]
    lines.append(t("dcontest.card_status", status=t(f"dcontest.status.{contest.status}")))
    lines.append(t("dcontest.card_entered", entered=len(teams), schools=len(schools)))
    ident = contest.id or 0
    rows: list[ButtonRow] = []
    for team in sorted(teams, key=result_order):
        school = names.get(team.school_id, "?")
        lines.append(
            t(
                "dcontest.team_line",
                school=school,
                team=team.name,
                players="、".join(team.player_list()),
                result=result_word(t, team),
            )
        )
        if contest.status == ContestStatus.OPEN:
            rows.append(
                [(t("dcontest.btn_result", school=school), ContestResult(ident, team.id or 0))]
            )
    entered = {team.school_id for team in teams}
    missing = [school.name for school in schools if school.id not in entered]
    if missing:
        lines.append(t("dcontest.card_missing", schools="、".join(missing)))
    if contest.status == ContestStatus.OPEN and teams:
        rows.append([(t("dcontest.btn_publish"), ContestDesk("publish", ident))])
    rows.append([(t("dcontest.btn_xlsx"), ContestDesk("xlsx", ident))])
    await _say_long(update, context, lines, keyboard(*rows))


async def _say_long(
    update: Update, context: UnionContext, lines: list[str], markup: Any = None
) -> None:
    """Several messages when the text is longer than one holds; the buttons under the last."""
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > TEXT_ROOM:
            await say(update, context, "\n".join(chunk))
            chunk = []
        chunk.append(line[:TEXT_ROOM])
    await say(update, context, "\n".join(chunk), markup)


async def desk_pressed(update: Update, context: UnionContext) -> None:
    """A tool of the district's card (the presser's office checked again)."""
    button = context.button_as(ContestDesk)
    staff = await district_staff(update, context)
    if staff is None:
        return
    actor, district = staff
    try:
        async with context.db() as session:
            contest = await get_contest(
                session, district_id=district.id or 0, contest_id=button.contest_id
            )
            if button.action == "publish":
                contest = await publish_results(
                    session, district_id=district.id or 0, contest_id=contest.id or 0, actor=actor
                )
    except DomainError as error:
        await refuse(update, context, error)
        return
    if button.action == "publish":
        await context.answer(update, context.t("dcontest.published_toast"))
        logger.info("District contest %s results published by member %s", contest.id, actor.id)
        told = await _tell_results(context, district, contest)
        await say(update, context, context.t("dcontest.published", title=contest.title, told=told))
        await _card(update, context, district, contest)
        return
    await context.answer(update)
    if button.action == "show":
        await _card(update, context, district, contest)
    else:
        await _export(update, context, district, contest)


def _full_list(
    tr: Translator, teams: list[ContestTeam], names: dict[int | None, str], missing: list[str]
) -> list[str]:
    lines = [
        tr(
            "dcontest.result_line",
            school=names.get(team.school_id, "?"),
            team=team.name,
            result=result_word(tr, team),
        )
        for team in sorted(teams, key=result_order)
    ]
    if missing:
        lines.append(tr("dcontest.card_missing", schools="、".join(missing)))
    return lines


async def _tell_results(
    context: UnionContext, district: Organization, contest: DistrictContest
) -> int:
    """Each school's chair told their school's result and the full list (once per contest)."""
    async with context.db() as session:
        teams = await teams_of(session, contest_id=contest.id or 0)
        schools = await schools_of(session, district_id=district.id or 0)
        chairs = await school_chairs(session, district_id=district.id or 0)
    names: dict[int | None, str] = {school.id: school.name for school in schools}
    by_school = {team.school_id: team for team in teams}
    missing = [school.name for school in schools if school.id not in by_school]
    recipients = []
    for chair in chairs:
        if chair.telegram_user_id is None:
            continue
        tr = context.i18n.get(chair.language)
        own = by_school.get(chair.organization_id)
        mine = (
            tr("dcontest.told_own", team=own.name, result=result_word(tr, own))
            if own is not None
            else tr("dcontest.told_own_none")
        )
        text = "\n".join(
            [
                tr("dcontest.told_results", title=contest.title),
                mine,
                "",
                tr("dcontest.full_list"),
                *_full_list(tr, teams, names, missing),
            ]
        )
        recipients.append(to_chair(chair, text[:4000]))
    await tell(
        context,
        district_id=district.id or 0,
        key=f"dcontest:{contest.id}:results",
        recipients=recipients,
    )
    return len({chair.organization_id for chair in chairs})


async def _export(
    update: Update, context: UnionContext, district: Organization, contest: DistrictContest
) -> None:
    """Teams and results as an xlsx sheet (every cell through models/exports.py)."""
    t = context.tr
    async with context.db() as session:
        teams = await teams_of(session, contest_id=contest.id or 0)
        schools = await schools_of(session, district_id=district.id or 0)
    names = {school.id: school.name for school in schools}
    from openpyxl import Workbook  # imported by the first export, not at start

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t("dcontest.sheet_title")
    append_row(
        sheet,
        [
            t("dcontest.column_school"),
            t("dcontest.column_team"),
            t("dcontest.column_count"),
            t("dcontest.column_players"),
            t("dcontest.column_result"),
        ],
    )
    for team in sorted(teams, key=result_order):
        players = team.player_list()
        append_row(
            sheet,
            [
                names.get(team.school_id, "?"),
                team.name,
                len(players),
                "、".join(players),
                result_word(t, team),
            ],
        )
    entered = {team.school_id for team in teams}
    for school in schools:
        if school.id not in entered:
            append_row(sheet, [school.name, None, 0, None, t("dcontest.not_entered")])
    buffer = io.BytesIO()
    book.save(buffer)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, InputFile(buffer.getvalue(), filename=f"contest-{contest.id}.xlsx")
    )


# ---- recording a result (district staff) --------------------------------------------------


async def start_result(update: Update, context: UnionContext) -> int:
    """A team pressed: its result is asked (an award or a place)."""
    button = context.button_as(ContestResult)
    staff = await district_staff(update, context)
    if staff is None:
        return _END
    actor, district = staff
    try:
        async with context.db() as session:
            contest = await get_contest(
                session, district_id=district.id or 0, contest_id=button.contest_id
            )
            team = await team_for_result(session, contest=contest, team_id=button.team_id)
            await require_recusal(session, actor=actor, school_id=team.school_id)
            school = await session.get(Organization, team.school_id)
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    await context.answer(update)
    draft = _draft(context, _RESULT)
    draft.clear()
    draft.update(contest=button.contest_id, team=button.team_id)
    await say(
        update,
        context,
        context.t(
            "dcontest.ask_result",
            school=school.name if school else "?",
            team=team.name,
            now=result_word(context.tr, team),
        ),
    )
    return Recording.RESULT


async def got_result(update: Update, context: UnionContext) -> int:
    """The result typed: stored (a wrong word is asked again), then the card."""
    assert update.message is not None
    draft = _draft(context, _RESULT)
    if "team" not in draft:
        await say(update, context, context.t("dcontest.draft_lost"))
        return _END
    try:
        award, place = parse_result(update.message.text or "")
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Recording.RESULT
    staff = await district_staff(update, context)
    if staff is None:
        draft.clear()
        return _END
    actor, district = staff
    try:
        async with context.db() as session:
            team = await record_result(
                session,
                district_id=district.id or 0,
                contest_id=int(draft["contest"]),
                team_id=int(draft["team"]),
                actor=actor,
                award=award,
                place=place,
            )
            contest = await get_contest(
                session, district_id=district.id or 0, contest_id=team.contest_id
            )
    except DomainError as error:
        draft.clear()
        await say(update, context, context.t(error.key, **error.params))
        return _END
    draft.clear()
    await say_receipt(
        update,
        context,
        context.t("dcontest.result_recorded", team=team.name, result=result_word(context.tr, team)),
    )
    await _card(update, context, district, contest)
    return _END


async def cancel_result(update: Update, context: UnionContext) -> int:
    """/cancel: nothing stored."""
    _draft(context, _RESULT).clear()
    await say(update, context, context.t("dcontest.result_cancelled"))
    return _END


# ---- entering a team (a school's chair) --------------------------------------------------


async def start_entry(update: Update, context: UnionContext) -> int:
    """报名 pressed: checked for this chair's own school and the deadline; the name asked."""
    button = context.button_as(ContestEnter)
    chair = await school_chair(update, context, school_id=button.school_id)
    if chair is None:
        return _END
    _actor, school = chair
    try:
        async with context.db() as session:
            contest = await get_contest(
                session, district_id=school.parent_id or 0, contest_id=button.contest_id
            )
            check_entries_open(contest, _now(context))
            team = await team_of(session, contest_id=contest.id or 0, school_id=school.id or 0)
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    await context.answer(update)
    draft = _draft(context, _ENTRY)
    draft.clear()
    draft.update(contest=contest.id, school=school.id, size=contest.team_size)
    t = context.tr
    lines = [t("dcontest.entry_title", title=contest.title, school=school.name)]
    if team is not None:
        lines.append(t("dcontest.entry_now", team=team.name, players="、".join(team.player_list())))
    lines.append(t("dcontest.ask_team_name", limit=TEAM_NAME_LIMIT))
    await say(update, context, "\n".join(lines))
    return Entering.NAME


async def got_team_name(update: Update, context: UnionContext) -> int:
    """The team's name; then the players."""
    name = await typed_text(update, context, limit=TEAM_NAME_LIMIT)
    if name is None:
        return Entering.NAME
    draft = _draft(context, _ENTRY)
    if "contest" not in draft:
        await say(update, context, context.t("dcontest.draft_lost"))
        return _END
    draft["name"] = name
    await say(update, context, context.t("dcontest.ask_players", max=draft["size"]))
    return Entering.PLAYERS


async def got_players(update: Update, context: UnionContext) -> int:
    """The players one a line: over the limit is asked again; stored (or changed)."""
    assert update.message is not None
    draft = _draft(context, _ENTRY)
    if "name" not in draft:
        await say(update, context, context.t("dcontest.draft_lost"))
        return _END
    try:
        players = parse_players(update.message.text or "", team_size=int(draft["size"]))
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Entering.PLAYERS
    chair = await school_chair(update, context, school_id=int(draft["school"]))
    if chair is None:
        draft.clear()
        return _END
    actor, school = chair
    try:
        async with context.db() as session:
            team, created, replaced = await enter_team(
                session,
                district_id=school.parent_id or 0,
                contest_id=int(draft["contest"]),
                school_id=school.id or 0,
                actor=actor,
                name=str(draft["name"]),
                players=players,
                now=_now(context),
            )
            contest = await get_contest(
                session, district_id=school.parent_id or 0, contest_id=team.contest_id
            )
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Entering.PLAYERS
    except DomainError as error:
        draft.clear()
        await say(update, context, context.t(error.key, **error.params))
        return _END
    draft.clear()
    logger.info("Team %s of school %s entered by member %s", team.id, school.id, actor.id)
    if replaced is not None:  # the other school officer is told their entry was changed
        await context.notifier.tell(
            [replaced],
            lambda tr: tr(
                "dcontest.team_changed_by",
                title=contest.title,
                name=actor.member.real_name,
                team=team.name,
                players="、".join(players),
            ),
            committee_only=True,
        )
    t = context.tr
    key = "dcontest.team_entered" if created else "dcontest.team_changed"
    await say(
        update,
        context,
        "\n".join(
            [
                t(key, title=contest.title, team=team.name, count=len(players)),
                "、".join(players),
                t("dcontest.change_until", deadline=local(context, contest.deadline)),
            ]
        ),
        keyboard(
            [
                (
                    t("dcontest.btn_change", title=contest.title),
                    ContestEnter(contest.id or 0, school.id or 0),
                )
            ]
        ),
    )
    return _END


async def cancel_entry(update: Update, context: UnionContext) -> int:
    """/cancel: the team stays as it was."""
    _draft(context, _ENTRY).clear()
    await say(update, context, context.t("dcontest.entry_cancelled"))
    return _END


# ---- wiring ------------------------------------------------------------------------------


def register(application: Application) -> None:
    """/dcontest and the district's card buttons (creating, entries and results are forms)."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("dcontest", contest_command, filters=private))
    application.add_handler(ButtonHandler(ContestDesk, desk_pressed))


def forms() -> list[Form]:
    """Creating a contest, entering a team, recording a result."""
    return [
        Form(
            conversation(
                name="dcontest_create",
                entry_points=[ButtonHandler(ContestNew, start_creating)],
                states={
                    Creating.TITLE: text_step(got_title),
                    Creating.KIND: family_step(got_kind, ContestKindChoice),
                    Creating.WHEN: text_step(got_when),
                    Creating.PLACE: text_step(got_place),
                    Creating.DEADLINE: text_step(got_deadline),
                    Creating.SIZE: text_step(got_size),
                    Creating.ABOUT: text_step(got_about),
                    Creating.CONFIRM: family_step(confirm, ContestConfirm),
                },
                fallbacks=[CommandHandler("cancel", cancel_creating)],
                allow_reentry=True,
            ),
            label_key="dcontest.form_create",
            drafts=(_NEW,),
            committee=True,
        ),
        Form(
            conversation(
                name="dcontest_entry",
                entry_points=[ButtonHandler(ContestEnter, start_entry)],
                states={
                    Entering.NAME: text_step(got_team_name),
                    Entering.PLAYERS: text_step(got_players),
                },
                fallbacks=[CommandHandler("cancel", cancel_entry)],
                allow_reentry=True,
            ),
            label_key="dcontest.form_entry",
            drafts=(_ENTRY,),
            committee=True,
        ),
        Form(
            conversation(
                name="dcontest_result",
                entry_points=[ButtonHandler(ContestResult, start_result)],
                states={Recording.RESULT: text_step(got_result)},
                fallbacks=[CommandHandler("cancel", cancel_result)],
                allow_reentry=True,
            ),
            label_key="dcontest.form_result",
            drafts=(_RESULT,),
            committee=True,
            prompt=True,
        ),
    ]
