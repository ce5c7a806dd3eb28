"""/me (see and edit one's profile) and /language.

A new name or department goes to the committee as a desk card (Approve / Reject) and takes
effect only when approved: until then every card shows the old one. The member is told that it
waits, and then the outcome.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from enum import IntEnum

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import SHORT_CODES, Translator
from handlers.common import (
    conversation,
    keyboard,
    profile_lines,
    refuse,
    require_member,
    say,
    say_receipt,
    text_step,
)
from handlers.members.buttons import (
    LanguageChoice,
    ProfileBirthday,
    ProfileChangeDecision,
    ProfileEdit,
    ProfileGender,
    ProfileLanguage,
    ProfileMute,
    ProfileRetired,
)
from handlers.members.registration import language_keyboard
from handlers.menu.commands import place_of, publish_member_commands
from handlers.review_desk import committee_press, post_card, post_under_cards, refresh_cards
from models.errors import DomainError
from models.members import (
    DEPARTMENT_LIMIT,
    NAME_LIMIT,
    Actor,
    Gender,
    JoinStatus,
    Member,
    ProfileChangeRequest,
    Role,
    clear_birthday,
    decide_profile_change,
    get_member,
    numbered_name,
    pending_profile_change,
    profile_of,
    request_profile_change,
    roles_of,
    set_language,
    set_muted,
    update_profile,
)
from models.validation import clean_text, parse_birthday

logger = logging.getLogger(__name__)

KIND = "profile"  # the kind of desk card (models.desk): a change of name or department


class Edit(IntEnum):
    """The one step of editing a text field."""

    VALUE = 1


async def show_profile(update: Update, context: UnionContext) -> None:
    """/me: the profile with edit buttons."""
    actor = await require_member(update, context)
    if actor is None:
        return
    member = actor.member
    greetings = context.t(
        "profile.greetings_off" if member.mute_greetings else "profile.greetings_on"
    )
    async with context.state.single_statement() as session:
        waiting = await pending_profile_change(session, member_id=actor.id)
    lines = [
        context.t("profile.title"),
        *profile_lines(context.tr, profile_of(member)),
        greetings,
    ]
    if waiting is not None:
        lines.append(context.t("profile_change.waiting", change=change_text(context.tr, waiting)))
    lines.append(context.t("profile.why"))
    markup = keyboard(
        [
            (context.t("profile.edit_name"), ProfileEdit("name")),
            (context.t("profile.edit_department"), ProfileEdit("dept")),
        ],
        [
            (context.t("profile.edit_birthday"), ProfileEdit("birthday")),
            (context.t("profile.edit_gender"), ProfileGender("ask")),
        ],
        [
            (context.t("profile.toggle_retired"), ProfileRetired("toggle")),
            (context.t("menu.language"), ProfileLanguage("ask")),
        ],
        [
            (
                context.t("profile.unmute" if member.mute_greetings else "profile.mute"),
                ProfileMute("toggle"),
            )
        ],
    )
    await say(update, context, "\n".join(lines), markup)


async def ask_value(update: Update, context: UnionContext) -> int:
    """An edit button for a text field: ask for the new value."""
    assert context.user_data is not None
    field = context.button_as(ProfileEdit).field
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return ConversationHandler.END
    if field in ("name", "dept"):
        async with context.db() as session:
            waiting = await pending_profile_change(session, member_id=actor.id)
        if waiting is not None:  # said at the press, not after the new value is typed
            await say(update, context, _already_waiting(context, waiting))
            return ConversationHandler.END
    context.user_data["editing"] = field
    prompts = {
        "name": context.t("reg.ask_name", limit=NAME_LIMIT),
        "dept": context.t("reg.ask_department", limit=DEPARTMENT_LIMIT),
        "birthday": context.t("profile.ask_birthday"),
    }
    prompt = prompts[field]
    if field in ("name", "dept"):
        prompt += "\n" + context.t("profile_change.needs_approval")
    markup = _clear_birthday_button(context, actor) if field == "birthday" else None
    await say(update, context, prompt + "\n" + context.t("profile.cancel_hint"), markup)
    return Edit.VALUE


def _clear_birthday_button(context: UnionContext, actor: Actor) -> InlineKeyboardMarkup | None:
    """清除生日 under the birthday question and its refusals, when there is one to clear."""
    if actor.member.birthday is None:
        return None
    return keyboard([(context.t("profile.clear_birthday"), ProfileBirthday("clear"))])


async def birthday_cleared(update: Update, context: UnionContext) -> int:
    """The 清除生日 button: the birthday is forgotten, so no birthday greeting is sent."""
    assert context.user_data is not None
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return ConversationHandler.END
    context.user_data.pop("editing", None)
    async with context.db() as session:
        await clear_birthday(session, member=actor.member)
    logger.info("Member %s cleared their birthday", actor.id)
    await say(update, context, context.t("profile.birthday_cleared"))
    await show_profile(update, context)
    return ConversationHandler.END


async def save_value(update: Update, context: UnionContext) -> int:
    """The new value for the field being edited."""
    assert update.message is not None and context.user_data is not None
    actor = await require_member(update, context)
    if actor is None:
        return ConversationHandler.END
    field = context.user_data.get("editing")
    current = profile_of(actor.member)
    text = update.message.text
    try:
        if field == "name":
            changed = replace(current, real_name=clean_text(text, limit=NAME_LIMIT))
        elif field == "dept":
            changed = replace(current, department=clean_text(text, limit=DEPARTMENT_LIMIT))
        elif field == "birthday":
            today = datetime.now(context.settings.zone).date()
            changed = replace(current, birthday=parse_birthday(text or "", today=today))
        else:
            return ConversationHandler.END
    except DomainError as error:
        if field == "birthday":
            text = context.t(error.key, **error.params)
            await say(update, context, text, _clear_birthday_button(context, actor))
        else:
            await refuse(update, context, error)
        return Edit.VALUE
    if field == "name":
        return await _ask_committee(update, context, actor, name=changed.real_name)
    if field == "dept":
        return await _ask_committee(update, context, actor, department=changed.department)
    async with context.db() as session:
        await update_profile(session, member=actor.member, profile=changed)
    context.user_data.pop("editing", None)
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)
    return ConversationHandler.END


async def _ask_committee(
    update: Update,
    context: UnionContext,
    actor: Actor,
    *,
    name: str | None = None,
    department: str | None = None,
) -> int:
    """A new name or department: stored as a request and put on the desk; the member record
    keeps the old one until the committee approves. A rule refusal ends the form."""
    assert context.user_data is not None
    context.user_data.pop("editing", None)
    try:
        async with context.db() as session:
            request = await request_profile_change(
                session, member=actor.member, name=name, department=department
            )
    except DomainError as error:  # another change was asked for in the meantime
        await refuse(update, context, error)
        return ConversationHandler.END
    if request is None:
        await say(update, context, context.t("profile_change.same"))
        return ConversationHandler.END
    assert request.id is not None
    logger.info("Profile change %s asked for by member %s", request.id, actor.id)
    await announce_change(context, request, actor.member)
    await say_receipt(
        update, context, context.t("profile_change.sent", change=change_text(context.tr, request))
    )
    return ConversationHandler.END


async def announce_change(
    context: UnionContext, request: ProfileChangeRequest, member: Member
) -> int:
    """Put a change request on the review desk; returns how many chats got the card."""
    assert request.id is not None
    async with context.db() as session:
        leads = Role.GROUP_LEADER in await roles_of(session, member.id or 0)
    text, markup = render_change_card(context, request, member, None, leads=leads)
    return await post_card(context, kind=KIND, item_id=request.id, text=text, markup=markup)


def _already_waiting(context: UnionContext, waiting: ProfileChangeRequest) -> str:
    return context.t("profile_change.already_pending") + "\n" + change_text(context.tr, waiting)


def change_text(tr: Translator, request: ProfileChangeRequest) -> str:
    """What the request changes, one line per field: 姓名：王芳 → 王芳芳."""
    lines = []
    if request.new_name is not None:
        lines.append(tr("profile_change.name_line", old=request.old_name, new=request.new_name))
    if request.new_department is not None:
        lines.append(
            tr(
                "profile_change.department_line",
                old=request.old_department,
                new=request.new_department,
            )
        )
    return "\n".join(lines)


def _local(context: UnionContext, moment: datetime | None) -> str:
    return moment.astimezone(context.settings.zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def render_change_card(
    context: UnionContext,
    request: ProfileChangeRequest,
    member: Member,
    decider: Member | None,
    *,
    leads: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The desk card of a change of name or department in its current state; `leads`: the
    member is a 工会小组长, and a new department ends that (said while it waits)."""
    tr = context.i18n.get(context.settings.default_language)
    lines = [
        tr("profile_change.card_title", id=request.id),
        tr("profile_change.card_member", who=numbered_name(member), department=member.department),
        change_text(tr, request),
    ]
    moving = request.new_department is not None and request.new_department != member.department
    if request.status == JoinStatus.PENDING and leads and moving:
        lines.append(
            tr(
                "profile_change.leader_drops",
                old=member.department,
                new=request.new_department,
            )
        )
    if request.status == JoinStatus.PENDING:
        assert request.id is not None
        markup = keyboard(
            [
                (tr("profile_change.approve"), ProfileChangeDecision("approve", request.id)),
                (tr("profile_change.reject"), ProfileChangeDecision("reject", request.id)),
            ]
        )
        return "\n".join([*lines, tr("profile_change.card_pending")]), markup
    key = (
        "profile_change.card_approved"
        if request.status == JoinStatus.APPROVED
        else "profile_change.card_rejected"
    )
    who = numbered_name(decider) if decider else "?"
    lines.append(tr(key, who=who, when=_local(context, request.decided_at)))
    return "\n".join(lines), None


async def decide_change(update: Update, context: UnionContext) -> None:
    """Approve or Reject pressed on a change card (committee; never one's own change)."""
    actor = await committee_press(update, context)
    if actor is None:
        return
    button = context.button_as(ProfileChangeDecision)
    try:
        async with context.db() as session:
            request, member = await decide_profile_change(
                session,
                org_id=context.org_id,
                request_id=button.request_id,
                decider=actor,
                approve=button.action == "approve",
            )
    except DomainError as error:
        await refuse(update, context, error)
        await _refresh_change(context, button.request_id)
        return
    approved = request.status == JoinStatus.APPROVED
    toast = "profile_change.approved_toast" if approved else "profile_change.rejected_toast"
    await context.answer(update, context.t(toast, name=member.real_name))
    logger.info("Profile change %s decided by member %s: %s", request.id, actor.id, button.action)
    text, markup = render_change_card(context, request, member, actor.member)
    await refresh_cards(context, kind=KIND, item_id=button.request_id, text=text, markup=markup)
    if not await _tell_outcome(context, request, member):
        tr = context.i18n.get(context.settings.default_language)
        await post_under_cards(
            context,
            kind=KIND,
            item_id=button.request_id,
            text=tr("profile_change.desk_undelivered", id=button.request_id),
        )


async def _refresh_change(context: UnionContext, request_id: int) -> None:
    async with context.db() as session:
        request = await session.get(ProfileChangeRequest, request_id)
        if request is None or request.organization_id != context.org_id:
            return
        member = await get_member(session, org_id=context.org_id, member_id=request.member_id)
        decider = (
            await session.get(Member, request.decided_by_member_id)
            if request.decided_by_member_id
            else None
        )
        leads = Role.GROUP_LEADER in await roles_of(session, member.id or 0)
    text, markup = render_change_card(context, request, member, decider, leads=leads)
    await refresh_cards(context, kind=KIND, item_id=request_id, text=text, markup=markup)


async def _tell_outcome(
    context: UnionContext, request: ProfileChangeRequest, member: Member
) -> bool:
    """Tell the member the outcome; returns whether Telegram accepted the message."""
    if member.telegram_user_id is None:
        return False
    tr = context.i18n.get(member.language)
    approved = request.status == JoinStatus.APPROVED
    key = "profile_change.you_approved" if approved else "profile_change.you_rejected"
    return await context.notifier.tell_chat(
        member.telegram_user_id,
        tr(key, change=change_text(tr, request)),
        who=f"member {member.id}",
    )


async def cancel_edit(update: Update, context: UnionContext) -> int:
    """/cancel while editing."""
    if context.user_data is not None:
        context.user_data.pop("editing", None)
    await say(update, context, context.t("profile.edit_cancelled"))
    return ConversationHandler.END


async def gender_pressed(update: Update, context: UnionContext) -> None:
    """Gender: `ask` shows the choices; a choice saves it."""
    choice = context.button_as(ProfileGender).choice
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    if choice == "ask":
        await say(
            update,
            context,
            context.t("reg.ask_gender"),
            keyboard(
                [
                    (context.t("gender.female"), ProfileGender("female")),
                    (context.t("gender.male"), ProfileGender("male")),
                ],
                [(context.t("profile.not_given"), ProfileGender("none"))],
            ),
        )
        return
    gender = None if choice == "none" else Gender(choice)
    current = profile_of(actor.member)
    async with context.db() as session:
        await update_profile(session, member=actor.member, profile=replace(current, gender=gender))
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)


async def retired_toggled(update: Update, context: UnionContext) -> None:
    """Flip the retired flag."""
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    current = profile_of(actor.member)
    async with context.db() as session:
        await update_profile(
            session,
            member=actor.member,
            profile=replace(current, retired=not current.retired),
        )
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)


async def mute_toggled(update: Update, context: UnionContext) -> None:
    """Mute or unmute holiday and birthday greetings."""
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    async with context.db() as session:
        await set_muted(session, member=actor.member, muted=not actor.member.mute_greetings)
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)


async def ask_language(update: Update, context: UnionContext) -> None:
    """/language: the language buttons."""
    if update.callback_query is not None:
        await context.answer(update)
    await say(
        update, context, context.t("language.choose"), language_keyboard(context, LanguageChoice)
    )


async def language_chosen(update: Update, context: UnionContext) -> None:
    """A language button outside registration."""
    assert context.user_data is not None
    code = context.button_as(LanguageChoice).code
    await context.answer(update)
    language = SHORT_CODES.get(code)
    if language is None:
        return
    context.user_data["language"] = language
    actor = context.actor
    if actor is not None:
        async with context.db() as session:
            await set_language(session, member=actor.member, language=language)
        if actor.is_committee:
            await publish_member_commands(
                context.bot,
                context.i18n,
                context.state.features,
                actor,
                place=place_of(context),
            )
    await say(update, context, context.t("language.saved"))


def register(application: Application) -> None:
    """Add /me, /language and their buttons."""
    application.add_handler(CommandHandler("me", show_profile, filters=filters.ChatType.PRIVATE))
    application.add_handler(
        CommandHandler("language", ask_language, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(ButtonHandler(ProfileGender, gender_pressed))
    application.add_handler(ButtonHandler(ProfileRetired, retired_toggled))
    application.add_handler(ButtonHandler(ProfileMute, mute_toggled))
    application.add_handler(ButtonHandler(ProfileLanguage, ask_language))
    application.add_handler(ButtonHandler(LanguageChoice, language_chosen))
    application.add_handler(ButtonHandler(ProfileChangeDecision, decide_change))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            conversation(
                entry_points=[ButtonHandler(ProfileEdit, ask_value)],
                states={
                    Edit.VALUE: [
                        ButtonHandler(ProfileBirthday, birthday_cleared),
                        *text_step(save_value),
                    ]
                },
                fallbacks=[CommandHandler("cancel", cancel_edit)],
                allow_reentry=True,
                name="profile_edit",
            ),
            label_key="form.label.profile_edit",
            drafts=("editing",),
        ),
    ]
