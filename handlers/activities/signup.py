"""Activities for members: one press to sign up (the answer is the button's own reply, which
Telegram does not rate-limit), one press to cancel, family members, check-in, /activities."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from bot.features import Section
from bot.forms import Form
from bot.i18n import Translator
from handlers.activities.buttons import ActivityButton, FamilyCount, ManageActivity, SignUpFor
from handlers.activities.views import ActivityFacts, summary_text, when_text
from handlers.common import (
    conversation,
    keyboard,
    refuse,
    require_member,
    say,
    text_step,
)
from models.activities import (
    CHECK_IN_AFTER,
    CHECK_IN_BEFORE,
    TEAM_NAMES_MAX,
    Activity,
    ActivityCategory,
    ActivityStatus,
    Signup,
    SignupRequest,
    SignupStatus,
    cancel_signup,
    check_in,
    get_activity,
    open_activities,
    register_team,
    set_family,
    signup_of,
    split_names,
    waitlist_position,
    withdraw_team,
)
from models.base import utcnow
from models.errors import DomainError, InputError
from models.members import Actor

logger = logging.getLogger(__name__)


def when(context: UnionContext, moment: datetime) -> str:
    """A moment in the union's time zone, as people read it."""
    return when_text(context.settings.zone, moment)


def summary(context: UnionContext, tr: Translator, activity: Activity) -> str:
    """A stored activity's card text (see views.summary_text)."""
    return summary_text(tr, context.settings.zone, ActivityFacts.of(activity))


def _signup_rows(tr: Translator, activity: Activity) -> list[tuple[str, Button]]:
    """Sign up (one per choice) and Cancel, one (label, button) per row."""
    aid = activity.id or 0
    choices = activity.choice_list()
    rows: list[tuple[str, Button]] = []
    if choices:
        rows += [
            (tr("activity.btn_sign_up_for", choice=choice), SignUpFor(aid, index))
            for index, choice in enumerate(choices)
        ]
    else:
        rows.append((tr("activity.btn_sign_up"), ActivityButton("su", aid)))
    if activity.category == ActivityCategory.CONTEST:
        rows.append((tr("activity.btn_team"), ActivityButton("team", aid)))
    rows.append((tr("activity.btn_cancel"), ActivityButton("cx", aid)))
    return rows


def signup_buttons(tr: Translator, activity: Activity) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Sign up (one per choice) and Cancel, as rows of (label, callback data) for the outbox."""
    return tuple(((label, button.pack()),) for label, button in _signup_rows(tr, activity))


def _place_text(
    context: UnionContext, activity: Activity, signup: Signup, position: int | None
) -> str:
    if signup.status == SignupStatus.SEAT:
        return context.t("activity.got_seat", title=activity.title)
    if signup.status == SignupStatus.APPLIED:
        return context.t(
            "activity.applied", title=activity.title, deadline=when(context, activity.deadline)
        )
    return context.t("activity.waitlisted", title=activity.title, position=position or 0)


async def sign_up_pressed(update: Update, context: UnionContext) -> None:
    """报名 (an activity without choices)."""
    await _sign_up(update, context, context.button_as(ActivityButton).activity_id, None)


async def sign_up_for_pressed(update: Update, context: UnionContext) -> None:
    """报名 for one of the activity's choices."""
    button = context.button_as(SignUpFor)
    await _sign_up(update, context, button.activity_id, button.choice_index)


async def _sign_up(
    update: Update, context: UnionContext, activity_id: int, index: int | None
) -> None:
    """The seat or waitlist place comes back at once, as the button's answer."""
    actor = context.actor
    if actor is None or not actor.is_active:
        await context.answer(update, context.t("member.not_registered"), alert=True)
        return
    batcher = context.state.signups
    assert batcher is not None
    try:
        # No read here: the batch reads the activity once for everyone pressing now.
        place = await batcher.sign_up(
            org_id=context.org_id,
            activity_id=activity_id,
            request=SignupRequest(
                actor, choice_index=index, arrival=update.update_id, today=context.today()
            ),
            now=utcnow(),
        )
    except DomainError as error:
        await refuse(update, context, error)
        return
    activity = place.activity
    assert activity is not None
    logger.info("Activity %s: member %s signed up (%s)", activity_id, actor.id, place.signup.status)
    await context.answer(
        update, _place_text(context, activity, place.signup, place.position), alert=True
    )
    if activity.family_max and place.signup.status != SignupStatus.CANCELLED:
        rows = [
            [
                (context.t("activity.btn_family", count=n), FamilyCount(activity_id, str(n)))
                for n in range(activity.family_max + 1)
            ]
        ]
        await say(
            update, context, context.t("activity.ask_family", title=activity.title), keyboard(*rows)
        )


async def family_pressed(update: Update, context: UnionContext) -> None:
    """How many family members come along."""
    button = context.button_as(FamilyCount)
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        count = int(button.count)  # a forged count reaches the model, which refuses it
    except ValueError:
        count = None
    if count is None:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    try:
        async with context.db() as session:
            await set_family(
                session,
                org_id=context.org_id,
                activity_id=button.activity_id,
                member_id=actor.id,
                count=count,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("activity.family_noted", count=count))


async def cancel_pressed(update: Update, context: UnionContext) -> None:
    """取消报名: the seat goes to the first on the waitlist, who is told."""
    activity_id = context.button_as(ActivityButton).activity_id
    actor = context.actor
    if actor is None or not actor.is_active:
        await context.answer(update, context.t("member.not_registered"), alert=True)
        return
    try:
        async with context.db() as session:
            result = await cancel_signup(
                session,
                org_id=context.org_id,
                activity_id=activity_id,
                actor=actor,
                now=utcnow(),
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    logger.info("Activity %s: member %s cancelled", activity_id, actor.id)
    title = result.title
    await context.answer(update, context.t("activity.cancelled_yours", title=title), alert=True)
    if result.promoted is not None:
        await context.notifier.tell(
            [result.promoted.member_id],
            lambda tr: tr("activity.promoted", title=title),
        )
    if result.waitlist_to_tell:
        await context.notifier.tell(
            result.waitlist_to_tell,
            lambda tr: tr("activity.seat_freed_late", title=title),
        )


async def check_in_pressed(update: Update, context: UnionContext) -> None:
    """签到 at the activity."""
    activity_id = context.button_as(ActivityButton).activity_id
    actor = await require_member(update, context)
    if actor is None:
        return
    now = utcnow()
    try:
        async with context.db() as session:
            activity = await get_activity(session, org_id=context.org_id, activity_id=activity_id)
            await check_in(
                session, org_id=context.org_id, activity_id=activity_id, member_id=actor.id, now=now
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("activity.checked_in", title=activity.title), alert=True)


# ---- /activities -------------------------------------------------------------------------


async def list_activities(update: Update, context: UnionContext) -> None:
    """/activities: what is coming up, with the member's own status and buttons."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    now = utcnow()
    activities, mine, positions = await _my_places(context, actor, now)
    if not activities:
        await say(update, context, context.t("activity.none"))
        return
    for activity in activities[:10]:
        signup = mine.get(activity.id)
        status = (
            context.t("activity.yours.none")
            if signup is None
            else context.t(
                f"activity.yours.{signup.status}", position=positions.get(activity.id, 0)
            )
        )
        text = summary(context, context.tr, activity) + "\n\n" + status
        await say(update, context, text, _member_markup(context, activity, signup, now))


async def _my_places(
    context: UnionContext, actor: Actor, now: datetime
) -> tuple[Sequence[Activity], dict[int | None, Signup | None], dict[int | None, int]]:
    """Activities coming up, the member's sign-up on each, and their waitlist places."""
    async with context.db() as session:
        activities = await open_activities(session, org_id=context.org_id, now=now - CHECK_IN_AFTER)
        mine = {
            activity.id: await signup_of(session, activity_id=activity.id or 0, member_id=actor.id)
            for activity in activities
        }
        positions = {
            aid: await waitlist_position(session, signup=signup)
            for aid, signup in mine.items()
            if signup is not None and signup.status == SignupStatus.WAITLIST
        }
    return activities, mine, positions


async def mine_section(context: UnionContext, actor: Actor) -> Section | None:
    """The member's sign-ups for /mine: each activity with their seat or waitlist place."""
    activities, mine, positions = await _my_places(context, actor, utcnow())
    lines = [context.t("activity.mine_title")]
    for activity in activities:
        signup = mine.get(activity.id)
        if signup is None:
            continue
        status = context.t(
            f"activity.signup.{signup.status}", position=positions.get(activity.id, 0)
        )
        lines.append(
            context.t(
                "activity.mine_line",
                title=activity.title,
                when=when(context, activity.starts_at),
                status=status,
            )
        )
    return ("\n".join(lines), None) if len(lines) > 1 else None


def _member_markup(
    context: UnionContext, activity: Activity, signup: Signup | None, now: datetime
) -> InlineKeyboardMarkup | None:
    rows: list[list[tuple[str, Button]]] = []
    if activity.status == ActivityStatus.CANCELLED:
        return None
    aid = activity.id or 0
    if signup is None and activity.status == ActivityStatus.OPEN and now <= activity.deadline:
        rows += [[row] for row in _signup_rows(context.tr, activity)[:-1]]
    if signup is not None:
        rows.append([(context.t("activity.btn_cancel"), ActivityButton("cx", aid))])
        if signup.status == SignupStatus.SEAT and activity.starts_at - CHECK_IN_BEFORE <= now:
            rows.append([(context.t("activity.btn_check_in"), ActivityButton("in", aid))])
    actor = context.actor
    if actor is not None and actor.is_committee:
        rows.append([(context.t("activity.btn_manage"), ManageActivity("mgr", aid))])
    return keyboard(*rows) if rows else None


# ---- team sign-ups -----------------------------------------------------------------------

TEAM_NAMES = 1


async def start_team(update: Update, context: UnionContext) -> int:
    """部门团体报名 pressed: the players' names."""
    assert context.user_data is not None
    activity_id = context.button_as(ActivityButton).activity_id
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return ConversationHandler.END
    context.user_data["activity_team"] = activity_id
    await say(
        update,
        context,
        context.t("activity.write_team", department=actor.member.department, max=TEAM_NAMES_MAX),
    )
    return TEAM_NAMES


async def got_team(update: Update, context: UnionContext) -> int:
    """The names: the department's team is entered (one per department)."""
    assert update.message is not None and context.user_data is not None
    actor = await require_member(update, context)
    if actor is None:
        return ConversationHandler.END
    activity_id = int(context.user_data.get("activity_team", 0))
    try:
        names = split_names(update.message.text or "")
        async with context.db() as session:
            team = await register_team(
                session,
                org_id=context.org_id,
                activity_id=activity_id,
                actor=actor,
                names=names,
                now=utcnow(),
                today=context.today(),
            )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return TEAM_NAMES
        context.user_data.pop("activity_team", None)
        return ConversationHandler.END
    context.user_data.pop("activity_team", None)
    logger.info(
        "Activity %s: team of %s entered by member %s", activity_id, team.department, actor.id
    )
    await say(
        update,
        context,
        context.t("activity.team_entered", department=team.department, count=len(team.name_list())),
        keyboard([(context.t("activity.btn_team_withdraw"), ActivityButton("teamx", activity_id))]),
    )
    return ConversationHandler.END


async def team_withdrawn(update: Update, context: UnionContext) -> None:
    """The contact withdraws the department's team."""
    activity_id = context.button_as(ActivityButton).activity_id
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            team = await withdraw_team(
                session, org_id=context.org_id, activity_id=activity_id, actor=actor
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(
        update, context.t("activity.team_withdrawn", department=team.department), alert=True
    )


async def cancel_team(update: Update, context: UnionContext) -> int:
    """/cancel while typing the team."""
    if context.user_data is not None:
        context.user_data.pop("activity_team", None)
    await say(update, context, context.t("activity.creating_cancelled"))
    return ConversationHandler.END


def register(application: Application) -> None:
    """Add the member side of activities."""
    application.add_handler(
        CommandHandler("activities", list_activities, filters=filters.ChatType.PRIVATE)
    )
    for action, callback in (
        ("su", sign_up_pressed),
        ("cx", cancel_pressed),
        ("in", check_in_pressed),
        ("teamx", team_withdrawn),
    ):
        application.add_handler(ButtonHandler(ActivityButton, callback, action))
    application.add_handler(ButtonHandler(SignUpFor, sign_up_for_pressed))
    application.add_handler(ButtonHandler(FamilyCount, family_pressed))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            conversation(
                name="activity_team",
                entry_points=[ButtonHandler(ActivityButton, start_team, "team")],
                states={TEAM_NAMES: text_step(got_team)},
                fallbacks=[CommandHandler("cancel", cancel_team)],
                allow_reentry=True,
            ),
            label_key="form.label.activity_team",
            drafts=("activity_team",),
        ),
    ]
