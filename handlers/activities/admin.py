"""Activities for the committee: /newactivity (create and announce through the outbox), and the
management card (participants, export, attendance, close early, move, capacity, cancel)."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from telegram import InputFile, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.activities.buttons import (
    AUDIENCES,
    FAMILY_OPTIONS,
    AudienceChoice,
    CategoryChoice,
    CreateConfirm,
    DeadlineAtStart,
    FamilyAllowed,
    ManageActivity,
    MarkPresent,
    ModeChoice,
    NoChoices,
    NoDescription,
    ShrinkCapacity,
    UnlimitedSeats,
)
from handlers.activities.signup import signup_buttons, summary, when
from handlers.activities.views import ActivityFacts, summary_text
from handlers.common import (
    EditableField,
    PreviewEdits,
    conversation,
    family_step,
    keyboard,
    refuse,
    require_committee,
    say,
    text_step,
    typed_text,
    user_draft,
)
from handlers.groups.buttons import GroupPick
from handlers.groups.picker import group_pressed, offer_groups
from models.activities import (
    DESCRIPTION_LIMIT,
    PLACE_LIMIT,
    TITLE_LIMIT,
    Activity,
    ActivityCategory,
    NewActivity,
    SelectionMode,
    Signup,
    SignupStatus,
    cancel_activity,
    change_capacity,
    check_in,
    close_early,
    create_activity,
    eligible_members,
    get_activity,
    parse_when,
    participation,
    period_figures,
    reschedule,
    signups_of,
    teams_of,
    waitlist_places,
)
from models.base import utcnow
from models.errors import DomainError
from models.exports import append_row
from models.groups import check_departments
from models.members import MemberStatus
from models.members_queries import members_by_id
from models.organizations import get_organization
from models.outbox import (
    BroadcastKind,
    OutboxStatus,
    Recipient,
    messages_of,
    rewrite_pending,
)
from models.validation import ascii_number
from models.written import count

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_LIVE = (SignupStatus.SEAT, SignupStatus.WAITLIST, SignupStatus.APPLIED)


class Creating(IntEnum):
    """Steps of creating an activity."""

    TITLE = 1
    CATEGORY = 2
    WHEN = 3
    PLACE = 4
    CAPACITY = 5
    DEADLINE = 6
    WHO = 7
    WHO_DETAIL = 8
    CHOICES = 9
    FAMILY = 10
    MODE = 11
    DESCRIPTION = 12
    CONFIRM = 13


class Managing(IntEnum):
    """Typed steps of managing one."""

    MOVE_TIME = 1
    MOVE_PLACE = 2
    CAPACITY = 3


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "activity")


def _now() -> datetime:
    return utcnow()


# ---- creating ----------------------------------------------------------------------------


async def start_creating(update: Update, context: UnionContext) -> int:
    """/newactivity: the title."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return _END
    _draft(context).clear()
    return await _ask_title(update, context)


async def got_title(update: Update, context: UnionContext) -> int:
    """The title; then the category."""
    title = await typed_text(update, context, limit=TITLE_LIMIT)
    if title is None:
        return Creating.TITLE
    _draft(context)["title"] = title
    return await EDITS.then(update, context, _ask_category)


async def _ask_title(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("activity.write_title", limit=TITLE_LIMIT))
    return Creating.TITLE


async def _ask_category(update: Update, context: UnionContext) -> int:
    rows = [[(context.t(f"activity.category.{c}"), CategoryChoice(c))] for c in ActivityCategory]
    await say(update, context, context.t("activity.choose_category"), keyboard(*rows))
    return Creating.CATEGORY


async def got_category(update: Update, context: UnionContext) -> int:
    """The category; then the start time."""
    await context.answer(update)
    _draft(context)["category"] = context.button_as(CategoryChoice).category.value
    return await EDITS.then(update, context, _ask_when)


async def _ask_when(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("activity.write_when"))
    return Creating.WHEN


async def _typed_moment(update: Update, context: UnionContext) -> datetime | None:
    text = await typed_text(update, context, limit=30)
    if text is None:
        return None
    try:
        moment = parse_when(text, now=_now(), zone=context.settings.zone)
    except DomainError as error:
        await refuse(update, context, error)
        return None
    if moment <= _now():
        await say(update, context, context.t("activity.start_past"))
        return None
    return moment


async def got_when(update: Update, context: UnionContext) -> int:
    """The start; then the place."""
    moment = await _typed_moment(update, context)
    if moment is None:
        return Creating.WHEN
    _draft(context)["starts_at"] = moment.isoformat()
    return await EDITS.then(update, context, _ask_place)


async def _ask_place(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("activity.write_place", limit=PLACE_LIMIT))
    return Creating.PLACE


async def got_place(update: Update, context: UnionContext) -> int:
    """The place; then the capacity."""
    place = await typed_text(update, context, limit=PLACE_LIMIT)
    if place is None:
        return Creating.PLACE
    _draft(context)["place"] = place
    return await EDITS.then(update, context, _ask_capacity)


async def _ask_capacity(update: Update, context: UnionContext) -> int:
    await say(
        update,
        context,
        context.t("activity.write_capacity"),
        keyboard([(context.t("activity.unlimited"), UnlimitedSeats("none"))]),
    )
    return Creating.CAPACITY


async def got_capacity_text(update: Update, context: UnionContext) -> int:
    """A number of seats."""
    text = await typed_text(update, context, limit=6)
    if text is None:
        return Creating.CAPACITY
    capacity = count(text, low=1, high=10000)
    if capacity is None:
        await say(update, context, context.t("activity.capacity_invalid"))
        return Creating.CAPACITY
    _draft(context)["capacity"] = capacity
    return await EDITS.then(update, context, _ask_deadline)


async def got_capacity_none(update: Update, context: UnionContext) -> int:
    """Unlimited."""
    await context.answer(update)
    _draft(context)["capacity"] = None
    return await EDITS.then(update, context, _ask_deadline)


async def _ask_deadline(update: Update, context: UnionContext) -> int:
    await say(
        update,
        context,
        context.t("activity.write_deadline"),
        keyboard([(context.t("activity.deadline_at_start"), DeadlineAtStart("start"))]),
    )
    return Creating.DEADLINE


async def got_deadline_text(update: Update, context: UnionContext) -> int:
    """The sign-up deadline (not after the start)."""
    moment = await _typed_moment(update, context)
    if moment is None:
        return Creating.DEADLINE
    draft = _draft(context)
    if moment > datetime.fromisoformat(draft["starts_at"]):
        await say(update, context, context.t("activity.deadline_after_start"))
        return Creating.DEADLINE
    draft["deadline"] = moment.isoformat()
    draft.pop("deadline_at_start", None)
    return await EDITS.then(update, context, _ask_who)


async def got_deadline_start(update: Update, context: UnionContext) -> int:
    """Sign-up open until the activity starts."""
    await context.answer(update)
    draft = _draft(context)
    draft["deadline"] = draft.get("starts_at")
    draft["deadline_at_start"] = True  # follows the start if the start is changed later
    return await EDITS.then(update, context, _ask_who)


async def _ask_who(update: Update, context: UnionContext) -> int:
    rows = [[(context.t(f"activity.who.{a}"), AudienceChoice(a))] for a in AUDIENCES]
    await say(update, context, context.t("activity.choose_who"), keyboard(*rows))
    return Creating.WHO


async def got_who(update: Update, context: UnionContext) -> int:
    """Who may sign up; age ranges and departments are typed next."""
    await context.answer(update)
    choice = context.button_as(AudienceChoice).audience
    draft = _draft(context)
    draft["who"] = {"type": choice}
    if choice == "age":
        await say(update, context, context.t("activity.write_age"))
        return Creating.WHO_DETAIL
    if choice == "departments":  # the groups as buttons; typing the names works too
        shown = await offer_groups(update, context, draft, "activity.pick_departments")
        return Creating.WHO_DETAIL if shown else Creating.WHO
    return await EDITS.then(update, context, _ask_choices)


async def _regroup(update: Update, context: UnionContext) -> int:
    """The groups offered again (the ones still there stay ticked; typing works too)."""
    await offer_groups(update, context, _draft(context), "activity.pick_departments")
    return Creating.WHO_DETAIL


async def got_who_groups(update: Update, context: UnionContext) -> int:
    """A group ticked (stay), or done: those departments may sign up."""
    draft = _draft(context)
    names = await group_pressed(update, context, draft)
    if names is None:
        return Creating.WHO_DETAIL
    draft["who"] = {"type": "departments", "departments": names}
    return await EDITS.then(update, context, _ask_choices)


async def got_who_detail(update: Update, context: UnionContext) -> int:
    """`50-60` for ages, or department names separated by 、 or commas."""
    text = await typed_text(update, context, limit=200)
    if text is None:
        return Creating.WHO_DETAIL
    draft = _draft(context)
    rule = dict(draft.get("who") or {"type": "everyone"})
    if rule["type"] == "age":
        low, _, high = text.replace("～", "-").replace("~", "-").partition("-")
        youngest = count(low, low=0, high=150)
        oldest = count(high, low=0, high=150)
        if youngest is None or oldest is None or youngest > oldest:
            await say(update, context, context.t("activity.write_age"))
            return Creating.WHO_DETAIL
        rule.update(min=youngest, max=oldest)
    else:
        names = [n.strip() for n in text.replace("，", "、").replace(",", "、").split("、")]
        try:
            async with context.db() as session:
                rule["departments"] = await check_departments(
                    session, org_id=context.org_id, names=[n for n in names if n]
                )
        except DomainError as error:  # not a group: asked again, the buttons still work
            await say(update, context, context.t(error.key, **error.params))
            return Creating.WHO_DETAIL
    draft["who"] = rule
    return await EDITS.then(update, context, _ask_choices)


async def _ask_choices(update: Update, context: UnionContext) -> int:
    await say(
        update,
        context,
        context.t("activity.write_choices"),
        keyboard([(context.t("activity.no_choices"), NoChoices("none"))]),
    )
    return Creating.CHOICES


async def got_choices_text(update: Update, context: UnionContext) -> int:
    """Event items, e.g. 拔河、乒乓球."""
    text = await typed_text(update, context, limit=200)
    if text is None:
        return Creating.CHOICES
    names = [
        n.strip() for n in text.replace("，", "、").replace(",", "、").split("、") if n.strip()
    ]
    if not 1 <= len(names) <= 8 or any(len(n) > 20 for n in names):
        await say(update, context, context.t("activity.choices_invalid"))
        return Creating.CHOICES
    _draft(context)["choices"] = names
    return await EDITS.then(update, context, _ask_family)


async def got_no_choices(update: Update, context: UnionContext) -> int:
    """No choices."""
    await context.answer(update)
    _draft(context)["choices"] = []
    return await EDITS.then(update, context, _ask_family)


async def _ask_family(update: Update, context: UnionContext) -> int:
    rows = [
        [(context.t("activity.family_option", count=n), FamilyAllowed(n)) for n in FAMILY_OPTIONS]
    ]
    await say(update, context, context.t("activity.choose_family"), keyboard(*rows))
    return Creating.FAMILY


async def got_family(update: Update, context: UnionContext) -> int:
    """Family members allowed; then the selection mode."""
    count = context.button_as(FamilyAllowed).count
    if count not in FAMILY_OPTIONS:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return Creating.FAMILY
    await context.answer(update)
    _draft(context)["family"] = count
    return await EDITS.then(update, context, _ask_mode)


async def _ask_mode(update: Update, context: UnionContext) -> int:
    rows = [[(context.t(f"activity.mode.{m}"), ModeChoice(m))] for m in SelectionMode]
    await say(update, context, context.t("activity.choose_mode"), keyboard(*rows))
    return Creating.MODE


async def got_mode(update: Update, context: UnionContext) -> int:
    """First come or lottery; then the description."""
    await context.answer(update)
    _draft(context)["mode"] = context.button_as(ModeChoice).mode.value
    return await EDITS.then(update, context, _ask_description)


async def _ask_description(update: Update, context: UnionContext) -> int:
    await say(
        update,
        context,
        context.t("activity.write_description", limit=DESCRIPTION_LIMIT),
        keyboard([(context.t("activity.no_description"), NoDescription("none"))]),
    )
    return Creating.DESCRIPTION


async def got_description_text(update: Update, context: UnionContext) -> int:
    """The description."""
    text = await typed_text(update, context, limit=DESCRIPTION_LIMIT, multiline=True)
    if text is None:
        return Creating.DESCRIPTION
    _draft(context)["description"] = text
    return await _preview(update, context)


async def got_no_description(update: Update, context: UnionContext) -> int:
    """No description."""
    await context.answer(update)
    _draft(context)["description"] = ""
    return await _preview(update, context)


def _new_activity(draft: dict[str, Any]) -> NewActivity:
    return NewActivity(
        title=str(draft["title"]),
        description=str(draft.get("description", "")),
        category=ActivityCategory(draft["category"]),
        starts_at=datetime.fromisoformat(draft["starts_at"]),
        place=str(draft["place"]),
        capacity=draft.get("capacity"),
        deadline=datetime.fromisoformat(
            draft["starts_at"] if draft.get("deadline_at_start") else draft["deadline"]
        ),
        eligibility=dict(draft.get("who") or {"type": "everyone"}),
        choices=tuple(draft.get("choices", [])),
        family_max=int(draft.get("family", 0)),
        mode=SelectionMode(draft.get("mode", SelectionMode.FIRST_COME)),
    )


_NEEDED = ("title", "category", "starts_at", "place", "deadline", "mode")


async def _preview(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    if not all(key in draft for key in _NEEDED):
        await say(update, context, context.t("activity.draft_lost"))
        return _END
    new = _new_activity(draft)
    who = context.t(f"activity.who.{new.eligibility.get('type', 'everyone')}")
    if new.eligibility.get("departments"):
        who += "：" + "、".join(new.eligibility["departments"])
    text = "\n".join(
        [
            context.t("activity.preview_title"),
            summary_text(context.tr, context.settings.zone, ActivityFacts.of_new(new)),
            context.t("activity.preview_who", who=who),
        ]
    )
    markup = EDITS.markup(context, CreateConfirm("yes"), CreateConfirm("cancel"))
    await say(update, context, text, markup)
    return Creating.CONFIRM


# ✏️ 修改某项 under the preview: each field's question again, then the preview.
EDITS = PreviewEdits(
    "activity",
    [
        EditableField("activity.edit.title", _ask_title),
        EditableField("activity.edit.category", _ask_category),
        EditableField("activity.edit.when", _ask_when),
        EditableField("activity.edit.place", _ask_place),
        EditableField("activity.edit.capacity", _ask_capacity),
        EditableField("activity.edit.deadline", _ask_deadline),
        EditableField("activity.edit.who", _ask_who),
        EditableField("activity.edit.choices", _ask_choices),
        EditableField("activity.edit.family", _ask_family),
        EditableField("activity.edit.mode", _ask_mode),
        EditableField("activity.edit.description", _ask_description),
    ],
    _preview,
)


async def confirm_creating(update: Update, context: UnionContext) -> int:
    """Confirm: stored, then announced to every eligible member through the outbox."""
    await context.answer(update)
    if context.button_as(CreateConfirm).choice == "cancel":
        return await cancel_creating(update, context)
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    if not all(key in draft for key in _NEEDED):
        await say(update, context, context.t("activity.draft_lost"))
        return _END
    try:
        async with context.db() as session:
            activity = await create_activity(
                session, org_id=context.org_id, actor=actor, new=_new_activity(draft), now=_now()
            )
    except DomainError as error:
        await refuse(update, context, error)
        # A start now past, or a deadline after a changed start: fix it with ✏️ 修改某项.
        if error.key in ("activity.start_past", "activity.deadline_after_start"):
            return Creating.CONFIRM
        if error.key == "groups.unknown":  # a group gone meanwhile: choose again, draft kept
            return await EDITS.reask(update, context, _regroup)
        return _END
    draft.clear()
    count = await announce(context, activity)
    logger.info("Activity %s created and announced to %s members", activity.id, count)
    await say(update, context, context.t("activity.announced", title=activity.title, count=count))
    return _END


async def announce(context: UnionContext, activity: Activity) -> int:
    """Queue the announcement with Sign up buttons for every eligible member, and a text-only
    post for the disclosure channel when one is bound; returns how many members."""
    async with context.db() as session:
        members = await eligible_members(
            session, org_id=context.org_id, activity=activity, day=context.today()
        )
        org = await get_organization(session, context.org_id)
    recipients = []
    for member in members:
        tr = context.i18n.get(member.language)
        recipients.append(
            Recipient(
                chat_id=member.telegram_user_id or 0,
                text=summary(context, tr, activity),
                member_id=member.id,
                buttons=signup_buttons(tr, activity),
            )
        )
    if org.disclosure_chat_id is not None:
        tr = context.i18n.get(context.settings.default_language)
        text = summary(context, tr, activity) + "\n\n" + tr("activity.channel_hint")
        recipients.append(Recipient(chat_id=org.disclosure_chat_id, text=text))
    await context.notifier.queue(
        org_id=context.org_id,
        key=f"activity:{activity.id}:announce",
        kind=BroadcastKind.ANNOUNCEMENT,
        recipients=recipients,
        not_before=_now(),
        quiet=True,
    )
    return len(members)


async def cancel_creating(update: Update, context: UnionContext) -> int:
    """/cancel while creating."""
    _draft(context).clear()
    await say(update, context, context.t("activity.creating_cancelled"))
    return _END


# ---- managing ----------------------------------------------------------------------------


async def _pressed_activity(update: Update, context: UnionContext) -> Activity | None:
    """The activity a committee button names, or None after answering why not."""
    actor = context.actor
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return None
    activity_id = context.button_as(ManageActivity).activity_id
    try:
        async with context.db() as session:
            return await get_activity(session, org_id=context.org_id, activity_id=activity_id)
    except DomainError:
        await context.answer(update, context.t("activity.not_found"), alert=True)
        return None


async def manage(update: Update, context: UnionContext) -> None:
    """The management card: figures and actions."""
    activity = await _pressed_activity(update, context)
    if activity is None:
        return
    await context.answer(update)
    await _send_card(update, context, activity)


async def _send_card(update: Update, context: UnionContext, activity: Activity) -> None:
    async with context.db() as session:
        figures = await participation(
            session, org_id=context.org_id, activity=activity, day=context.today()
        )
    aid = activity.id or 0
    text = (
        summary(context, context.tr, activity)
        + "\n\n"
        + context.t(
            "activity.figures",
            eligible=figures.eligible,
            signed=figures.signed_up,
            waiting=figures.waiting,
            attended=figures.attended,
        )
    )
    rows = [
        [
            (context.t("activity.btn_list"), ManageActivity("list", aid)),
            (context.t("activity.btn_export"), ManageActivity("xlsx", aid)),
            (context.t("activity.btn_attendance"), ManageActivity("att", aid)),
        ],
        [
            (context.t("activity.btn_close"), ManageActivity("close", aid)),
            (context.t("activity.btn_move"), ManageActivity("move", aid)),
            (context.t("activity.btn_capacity"), ManageActivity("cap2", aid)),
        ],
        [(context.t("activity.btn_cancel_activity"), ManageActivity("cxa", aid))],
    ]
    await say(update, context, text, keyboard(*rows))


@dataclass(frozen=True)
class _Row:
    """One line of the committee's list: the seat number (None while waiting) and the state."""

    number: int | None
    name: str
    state: str
    signup: Signup


async def _people(context: UnionContext, activity: Activity) -> list[_Row]:
    """Everyone signed up, seats first: seats numbered in order, the waiting by their place."""
    async with context.db() as session:
        rows = await signups_of(session, activity_id=activity.id or 0, statuses=_LIVE)
        people = await members_by_id(session, [row.member_id for row in rows])
    places = waitlist_places(rows)
    ordered = sorted(rows, key=lambda s: (s.status != SignupStatus.SEAT, s.queue_no))
    result = []
    number = 0
    for signup in ordered:
        member = people.get(signup.member_id)
        name = f"{member.real_name} · {member.department}" if member else "-"
        place = places.get(signup.member_id)
        if place is None:
            number += 1
        state = context.t(f"activity.signup.{signup.status}", position=place or 0)
        result.append(_Row(None if place else number, name, state, signup))
    return result


async def list_people(update: Update, context: UnionContext) -> None:
    """Participants and the waitlist, in order."""
    activity = await _pressed_activity(update, context)
    if activity is None:
        return
    await context.answer(update)
    lines = [context.t("activity.list_title", title=activity.title)]
    for row in await _people(context, activity):
        extras = []
        if row.signup.choice:
            extras.append(row.signup.choice)
        if row.signup.family:
            extras.append(context.t("activity.with_family", count=row.signup.family))
        if row.signup.checked_in_at:
            extras.append("✅")
        # A waiting person's only number is their place: "候补第 1 位：name".
        line = (
            f"{row.number}. {row.name} · {row.state}" if row.number else f"{row.state}：{row.name}"
        )
        lines.append(f"{line} {' '.join(extras)}".rstrip())
    async with context.db() as session:
        teams = await teams_of(session, activity_id=activity.id or 0)
    for team in teams:
        lines.append(
            context.t(
                "activity.team_line", department=team.department, names="、".join(team.name_list())
            )
        )
    if len(lines) == 1:
        lines.append(context.t("activity.list_empty"))
    await say(update, context, "\n".join(lines)[:4000])


async def export(update: Update, context: UnionContext) -> None:
    """The list as a spreadsheet (xlsx)."""
    activity = await _pressed_activity(update, context)
    if activity is None:
        return
    await context.answer(update)
    from openpyxl import Workbook  # imported by the first export, not at start

    book = Workbook()
    sheet = book.active
    sheet.title = context.t("activity.sheet_signups")
    append_row(
        sheet,
        [
            context.t(f"activity.column.{c}")
            for c in ("no", "name", "status", "choice", "family", "checked_in")
        ],
    )
    for row in await _people(context, activity):
        append_row(
            sheet,
            [
                row.number if row.number else "",
                row.name,
                row.state,
                row.signup.choice or "",
                row.signup.family,
                when(context, row.signup.checked_in_at) if row.signup.checked_in_at else "",
            ],
        )
    async with context.db() as session:
        teams = await teams_of(session, activity_id=activity.id or 0)
    if teams:
        team_sheet = book.create_sheet(context.t("activity.sheet_teams"))
        append_row(
            team_sheet,
            [context.t("activity.column.department"), context.t("activity.column.names")],
        )
        for team in teams:
            append_row(team_sheet, [team.department, "、".join(team.name_list())])
    buffer = io.BytesIO()
    book.save(buffer)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, InputFile(buffer.getvalue(), filename=f"activity-{activity.id}.xlsx")
    )


async def attendance(update: Update, context: UnionContext) -> None:
    """Seated participants as buttons: a press marks them present."""
    activity = await _pressed_activity(update, context)
    if activity is None:
        return
    await context.answer(update)
    rows = [
        [
            (
                ("✅ " if row.signup.checked_in_at else "") + row.name,
                MarkPresent(activity.id or 0, row.signup.member_id),
            )
        ]
        for row in await _people(context, activity)
        if row.signup.status == SignupStatus.SEAT
    ]
    if not rows:
        await say(update, context, context.t("activity.list_empty"))
        return
    await say(update, context, context.t("activity.attendance_title"), keyboard(*rows[:50]))


async def mark_present(update: Update, context: UnionContext) -> None:
    """The committee marks one participant present."""
    actor = context.actor
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    button = context.button_as(MarkPresent)
    if 0 in (button.activity_id, button.member_id):
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    try:
        async with context.db() as session:
            await check_in(
                session,
                org_id=context.org_id,
                activity_id=button.activity_id,
                member_id=button.member_id,
                now=_now(),
                by_committee=True,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("activity.marked_present"))


async def close_pressed(update: Update, context: UnionContext) -> None:
    """Stop sign-ups now."""
    activity = await _pressed_activity(update, context)
    if activity is None or context.actor is None:
        return
    try:
        async with context.db() as session:
            await close_early(
                session, org_id=context.org_id, activity_id=activity.id or 0, actor=context.actor
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("activity.closed_early"), alert=True)


async def cancel_pressed(update: Update, context: UnionContext) -> None:
    """Cancel the activity: ask to confirm."""
    activity = await _pressed_activity(update, context)
    if activity is None:
        return
    await context.answer(update)
    await say(
        update,
        context,
        context.t("activity.cancel_confirm", title=activity.title),
        keyboard(
            [(context.t("activity.btn_cancel_yes"), ManageActivity("cxyes", activity.id or 0))]
        ),
    )


async def cancel_confirmed(update: Update, context: UnionContext) -> None:
    """Cancelled: everyone signed up is told through the outbox."""
    activity = await _pressed_activity(update, context)
    if activity is None or context.actor is None:
        return
    try:
        async with context.db() as session:
            activity = await cancel_activity(
                session, org_id=context.org_id, activity_id=activity.id or 0, actor=context.actor
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("activity.cancelled_done"), alert=True)
    await tell_signed_up(context, activity, "activity.told_cancelled", key="cancel")


async def tell_signed_up(
    context: UnionContext,
    activity: Activity,
    message: str,
    *,
    key: str,
    also: Sequence[int | None] = (),
    **params: str,
) -> int:
    """A notice to everyone signed up (seats, waitlist, lottery), each in their language;
    `also`: other members to tell (None: the disclosure channel)."""
    async with context.db() as session:
        rows = await signups_of(session, activity_id=activity.id or 0, statuses=_LIVE)
        wanted = {row.member_id for row in rows} | {m for m in also if m is not None}
        people = await members_by_id(session, sorted(wanted))
        org = await get_organization(session, context.org_id)
    recipients = [
        Recipient(
            chat_id=member.telegram_user_id,
            text=context.i18n.get(member.language)(message, title=activity.title, **params),
            member_id=member.id,
        )
        for member in people.values()
        if member.telegram_user_id is not None and member.status == MemberStatus.ACTIVE
    ]
    told = len(recipients)
    if None in also and org.disclosure_chat_id is not None:
        tr = context.i18n.get(context.settings.default_language)
        recipients.append(
            Recipient(
                chat_id=org.disclosure_chat_id,
                text=tr(message, title=activity.title, **params),
            )
        )
    if not recipients:
        return 0
    await context.notifier.queue(
        org_id=context.org_id,
        key=f"activity:{activity.id}:{key}:{_now().isoformat()}",
        kind=BroadcastKind.ANNOUNCEMENT,
        recipients=recipients,
        not_before=_now(),
        quiet=False,
    )
    return told


async def start_move(update: Update, context: UnionContext) -> int:
    """Change time or place: the new time first (or - to keep it)."""
    activity = await _pressed_activity(update, context)
    if activity is None:
        return _END
    await context.answer(update)
    assert context.user_data is not None
    context.user_data["activity_move"] = {"id": activity.id}
    await say(update, context, context.t("activity.write_new_time"))
    return Managing.MOVE_TIME


async def got_new_time(update: Update, context: UnionContext) -> int:
    """The new time, or - to keep it."""
    assert update.message is not None and context.user_data is not None
    pending = context.user_data.setdefault("activity_move", {})
    if (update.message.text or "").strip() != "-":
        moment = await _typed_moment(update, context)
        if moment is None:
            return Managing.MOVE_TIME
        pending["starts_at"] = moment.isoformat()
    await say(update, context, context.t("activity.write_new_place"))
    return Managing.MOVE_PLACE


async def got_new_place(update: Update, context: UnionContext) -> int:
    """The new place, or - to keep it; everyone signed up is told."""
    assert update.message is not None and context.user_data is not None
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    pending = context.user_data.pop("activity_move", {})
    text = (update.message.text or "").strip()
    starts = pending.get("starts_at")
    try:
        async with context.db() as session:
            activity = await reschedule(
                session,
                org_id=context.org_id,
                activity_id=int(pending.get("id", 0)),
                actor=actor,
                starts_at=datetime.fromisoformat(starts) if starts else None,
                place=None if text == "-" else text,
                now=_now(),
            )
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    edited, stale = await refresh_announcement(context, activity)
    told = await tell_signed_up(
        context,
        activity,
        "activity.told_moved",
        key="move",
        also=stale,
        when=when(context, activity.starts_at),
        place=activity.place,
    )
    await say(update, context, context.t("activity.moved", count=told, edited=edited))
    return _END


# Telegram lets a bot edit its messages; we edit only those sent in the last 48 hours.
EDITABLE_FOR = timedelta(hours=48)


async def refresh_announcement(
    context: UnionContext, activity: Activity
) -> tuple[int, tuple[int | None, ...]]:
    """Bring the announcement already sent up to the activity's new time and place.

    Sent in the last 48 hours: edited in place (editMessageText), buttons kept. Not sent yet
    (quiet hours): its text is replaced. Older, deleted, or refused by Telegram: left as it is,
    and its reader is returned to get the change notice instead (a member id, or None for the
    disclosure channel). Never raises for Telegram: the change itself is already stored.
    Returns (how many were edited or replaced, the readers to notify).
    """
    async with context.db() as session:
        messages = await messages_of(session, key=f"activity:{activity.id}:announce")
        people = await members_by_id(session, [m.member_id for m in messages if m.member_id])
    edited = 0
    stale: list[int | None] = []
    now = _now()
    for message in messages:
        member = people.get(message.member_id) if message.member_id else None
        if message.member_id is not None and (
            member is None or member.status != MemberStatus.ACTIVE
        ):
            continue  # left the union since: neither edited nor told
        tr = context.i18n.get(
            member.language if member is not None else context.settings.default_language
        )
        text = summary(context, tr, activity)
        markup = None
        if member is None:  # the disclosure channel's text-only post
            text += "\n\n" + tr("activity.channel_hint")
        else:
            markup = keyboard(*signup_buttons(tr, activity))
        if message.status == OutboxStatus.PENDING:
            async with context.db() as session:
                if await rewrite_pending(session, message_id=message.id or 0, text=text):
                    edited += 1
                    continue
            stale.append(message.member_id)  # taken by the sender meanwhile: notify
            continue
        if message.status != OutboxStatus.SENT:
            continue  # never reached them: nothing to edit, nobody to tell
        recent = message.sent_at is not None and now - message.sent_at <= EDITABLE_FOR
        if message.telegram_message_id is None or not recent:
            stale.append(message.member_id)
            continue
        try:
            await context.bot.edit_message_text(
                text + "\n\n" + tr("activity.updated_note"),
                chat_id=message.chat_id,
                message_id=message.telegram_message_id,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                stale.append(message.member_id)
                continue
        except TelegramError:
            stale.append(message.member_id)
            continue
        edited += 1
    logger.info(
        "Activity %s moved: %s announcements edited, %s readers notified instead",
        activity.id,
        edited,
        len(stale),
    )
    return edited, tuple(stale)


async def start_capacity(update: Update, context: UnionContext) -> int:
    """Change the number of seats."""
    activity = await _pressed_activity(update, context)
    if activity is None:
        return _END
    await context.answer(update)
    assert context.user_data is not None
    context.user_data["activity_capacity"] = activity.id
    await say(
        update,
        context,
        context.t("activity.write_new_capacity", taken=activity.seats_taken),
    )
    return Managing.CAPACITY


async def got_new_capacity(update: Update, context: UnionContext) -> int:
    """The new number of seats; fewer than the people seated asks first what to do."""
    assert update.message is not None and context.user_data is not None
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    capacity = count(update.message.text or "", low=1, high=10000)
    if capacity is None:
        await say(update, context, context.t("activity.capacity_invalid"))
        return Managing.CAPACITY
    activity_id = int(context.user_data.pop("activity_capacity", 0))
    try:
        async with context.db() as session:
            activity = await get_activity(session, org_id=context.org_id, activity_id=activity_id)
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    if capacity < activity.seats_taken:
        extra = activity.seats_taken - capacity
        await say(
            update,
            context,
            context.t("activity.shrink_ask", capacity=capacity, count=extra),
            keyboard(
                [
                    (
                        context.t("activity.btn_shrink", count=extra),
                        ShrinkCapacity(activity_id, capacity),
                    )
                ],
                [(context.t("activity.btn_keep_capacity"), ManageActivity("capno", activity_id))],
            ),
        )
        return _END
    await _apply_capacity(update, context, activity_id, capacity)
    return _END


async def capacity_confirmed(update: Update, context: UnionContext) -> None:
    """Yes: the latest seated go to the head of the waitlist."""
    actor = context.actor
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    button = context.button_as(ShrinkCapacity)
    if 0 in (button.activity_id, button.capacity):
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    await context.answer(update)
    await _apply_capacity(update, context, button.activity_id, button.capacity)


async def capacity_kept(update: Update, context: UnionContext) -> None:
    """No: nothing changes."""
    await context.answer(update, context.t("activity.capacity_kept"))


async def _apply_capacity(
    update: Update, context: UnionContext, activity_id: int, capacity: int
) -> None:
    actor = context.actor
    assert actor is not None
    try:
        async with context.db() as session:
            change = await change_capacity(
                session,
                org_id=context.org_id,
                activity_id=activity_id,
                actor=actor,
                capacity=capacity,
                now=_now(),
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    title = change.activity.title
    if change.moved:
        await context.notifier.tell(
            change.moved, lambda tr: tr("activity.moved_to_waitlist", title=title)
        )
    if change.promoted:
        await context.notifier.tell(
            change.promoted, lambda tr: tr("activity.promoted", title=title)
        )
    await say(
        update,
        context,
        context.t(
            "activity.capacity_changed",
            capacity=capacity,
            moved=len(change.moved),
            promoted=len(change.promoted),
        ),
    )


async def cancel_managing(update: Update, context: UnionContext) -> int:
    """/cancel while managing."""
    if context.user_data is not None:
        context.user_data.pop("activity_move", None)
        context.user_data.pop("activity_capacity", None)
    await say(update, context, context.t("activity.creating_cancelled"))
    return _END


async def period_stats(update: Update, context: UnionContext) -> None:
    """/activitystats [year]: activities, eligible, signed up and attended by category."""
    if await require_committee(update, context) is None:
        return
    argument = context.args[0] if context.args else ""
    zone = context.settings.zone
    year = (
        _now().astimezone(zone).year
        if not argument
        else ascii_number(argument, low=2000, high=2100) or 0
    )
    if not 2000 <= year <= 2100:
        await say(update, context, context.t("activity.stats_usage"))
        return
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)
    async with context.db() as session:
        lines = await period_figures(
            session, org_id=context.org_id, start=start, end=end, day=context.today()
        )
    text = [context.t("activity.stats_title", year=year)]
    for line in lines:
        rate = f"{100 * line.attended / line.signed_up:.0f}%" if line.signed_up else "—"
        text.append(
            context.t(
                "activity.stats_line",
                category=context.t(f"activity.category.{line.category}"),
                count=line.activities,
                eligible=line.eligible,
                signed=line.signed_up,
                attended=line.attended,
                rate=rate,
            )
        )
    if not lines:
        text.append(context.t("activity.none"))
    await say(update, context, "\n".join(text))


def register(application: Application) -> None:
    """Add the committee side of activities."""
    application.add_handler(
        CommandHandler("activitystats", period_stats, filters=filters.ChatType.PRIVATE)
    )
    for action, callback in (
        ("mgr", manage),
        ("list", list_people),
        ("xlsx", export),
        ("att", attendance),
        ("close", close_pressed),
        ("cxa", cancel_pressed),
        ("cxyes", cancel_confirmed),
        ("capno", capacity_kept),
    ):
        application.add_handler(ButtonHandler(ManageActivity, callback, action))
    application.add_handler(ButtonHandler(MarkPresent, mark_present))
    application.add_handler(ButtonHandler(ShrinkCapacity, capacity_confirmed))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    private = filters.ChatType.PRIVATE
    return [
        Form(
            conversation(
                name="activity_creating",
                entry_points=[CommandHandler("newactivity", start_creating, filters=private)],
                states={
                    Creating.TITLE: text_step(got_title),
                    Creating.CATEGORY: family_step(got_category, CategoryChoice),
                    Creating.WHEN: text_step(got_when),
                    Creating.PLACE: text_step(got_place),
                    Creating.CAPACITY: [
                        ButtonHandler(UnlimitedSeats, got_capacity_none),
                        *text_step(got_capacity_text),
                    ],
                    Creating.DEADLINE: [
                        ButtonHandler(DeadlineAtStart, got_deadline_start),
                        *text_step(got_deadline_text),
                    ],
                    Creating.WHO: family_step(got_who, AudienceChoice),
                    Creating.WHO_DETAIL: [
                        ButtonHandler(GroupPick, got_who_groups),
                        *text_step(got_who_detail),
                    ],
                    Creating.CHOICES: [
                        ButtonHandler(NoChoices, got_no_choices),
                        *text_step(got_choices_text),
                    ],
                    Creating.FAMILY: family_step(got_family, FamilyAllowed),
                    Creating.MODE: family_step(got_mode, ModeChoice),
                    Creating.DESCRIPTION: [
                        ButtonHandler(NoDescription, got_no_description),
                        *text_step(got_description_text),
                    ],
                    Creating.CONFIRM: [
                        *EDITS.handlers(),
                        *family_step(confirm_creating, CreateConfirm),
                    ],
                },
                fallbacks=[CommandHandler("cancel", cancel_creating)],
                allow_reentry=True,
            ),
            label_key="form.label.activity_creating",
            drafts=("activity",),
            committee=True,
        ),
        Form(
            conversation(
                name="activity_managing",
                entry_points=[
                    ButtonHandler(ManageActivity, start_move, "move"),
                    ButtonHandler(ManageActivity, start_capacity, "cap2"),
                ],
                states={
                    Managing.MOVE_TIME: text_step(got_new_time),
                    Managing.MOVE_PLACE: text_step(got_new_place),
                    Managing.CAPACITY: text_step(got_new_capacity),
                },
                fallbacks=[CommandHandler("cancel", cancel_managing)],
                allow_reentry=True,
            ),
            label_key="form.label.activity_managing",
            drafts=("activity_move", "activity_capacity"),
            committee=True,
            prompt=True,
        ),
    ]
