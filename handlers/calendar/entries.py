"""/calendar for the committee: the next 60 days, and each entry's switch, time, text, preview."""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime
from enum import IntEnum
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import LANGUAGES
from handlers.calendar.buttons import (
    CalendarEntryButton,
    EntryAudienceChoice,
    EntryKindChoice,
    EntryTextChoice,
    NewEntryConfirm,
)
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
from handlers.groups.picker import audience_words, group_pressed, offer_groups
from handlers.review_desk import committee_press
from models.calendar import (
    MESSAGE_LIMIT,
    TITLE_LIMIT,
    AudienceType,
    CalendarEntry,
    EntryKind,
    add_custom_entry,
    get_entry,
    list_entries,
    parse_time_of_day,
    set_enabled,
    set_message,
    set_time,
)
from models.errors import DomainError, InputError
from scheduler.calendar_jobs import reconcile, task_figures, terms_of, upcoming
from scheduler.dates import RuleError, next_occurrence
from scheduler.render import (
    MEMBER_PLACEHOLDERS,
    TASK_PLACEHOLDERS,
    check_placeholders,
    fill,
    pick,
    picked_language,
)
from scheduler.rule_text import describe_rule, parse_rule_text

logger = logging.getLogger(__name__)

DAYS_AHEAD = 60
_END = ConversationHandler.END


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "calendar_new")


class EditStep(IntEnum):
    """The one step of editing an entry's time or text."""

    VALUE = 1


class AddStep(IntEnum):
    """Steps of adding an entry."""

    KIND = 1
    AUDIENCE = 2
    RULE = 3
    TIME = 4
    TITLE = 5
    TEXT = 6
    CONFIRM = 7
    GROUPS = 8


AUDIENCE_CHOICES = (
    AudienceType.EVERYONE,
    AudienceType.WOMEN,
    AudienceType.RETIREES,
    AudienceType.REPRESENTATIVES,
    AudienceType.DEPARTMENTS,
)


# The name of each language the bot speaks, in the reader's language.
LANGUAGE_NAMES = {
    "zh-Hans": "language.name.zh_hans",
    "zh-Hant": "language.name.zh_hant",
    "en": "language.name.en",
}


def _language_name(context: UnionContext, language: str) -> str:
    return context.t(LANGUAGE_NAMES[language]) if language in LANGUAGE_NAMES else language


def _text_languages(context: UnionContext, kind: str) -> list[str]:
    """The languages a new entry's text is asked in, the main (default) language first.

    Members read the bot in any of its languages and may switch at any time, so a text for
    members is asked in each of them (each may be left to the main text). A task goes to the
    committee group in the main language: one text.
    """
    main = context.settings.default_language
    if kind == EntryKind.TASK:
        return [main]
    return [main, *(language for language in LANGUAGES if language != main)]


def _placeholders(kind: str) -> tuple[str, ...]:
    """What a text of this kind may quote: a task's figures, or a member's name and the union's."""
    return TASK_PLACEHOLDERS if kind == EntryKind.TASK else MEMBER_PLACEHOLDERS


def _title(context: UnionContext, entry: CalendarEntry) -> str:
    return pick(entry.titles, context.tr.language, context.settings.default_language) or entry.key


async def show_calendar(update: Update, context: UnionContext) -> None:
    """/calendar: what the calendar will send in the next 60 days, and every entry."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return
    runtime = context.runtime
    assert runtime is not None
    today = datetime.now(context.settings.zone).date()
    coming = await upcoming(runtime, start=today, days=DAYS_AHEAD)
    lines = [context.t("calendar.upcoming_title", days=DAYS_AHEAD)]
    for day, entry in coming:
        lines.append(f"{day:%m-%d} {entry.time_of_day} {_title(context, entry)}")
    if not coming:
        lines.append(context.t("calendar.nothing_upcoming"))
    lines.append(context.t("calendar.birthdays_note"))
    lines.append(context.t("calendar.entries_hint"))
    async with context.db() as session:
        entries = await list_entries(session, org_id=context.org_id)
    rows = [
        [
            (
                ("✓ " if entry.enabled else "✗ ") + _title(context, entry),
                CalendarEntryButton("open", entry.id or 0),
            )
        ]
        for entry in entries
    ]
    rows.append([(context.t("calendar.add"), CalendarEntryButton("add", 0))])
    await say(update, context, "\n".join(lines), keyboard(*rows))


def _entry_card(
    context: UnionContext, entry: CalendarEntry, next_day: date | None
) -> tuple[str, InlineKeyboardMarkup]:
    entry_id = entry.id or 0
    lines = [
        _title(context, entry),
        context.t("calendar.card_kind", kind=context.t(f"calendar.kind.{entry.kind}")),
        context.t("calendar.card_audience", audience=audience_words(context.tr, entry.audience)),
        context.t("calendar.card_time", time=entry.time_of_day),
        context.t("calendar.card_rule", rule=describe_rule(context.tr, entry.rule)),
        context.t("calendar.card_next", day=next_day.isoformat() if next_day else "—"),
        context.t(
            "calendar.card_state",
            state=context.t("calendar.on" if entry.enabled else "calendar.off"),
        ),
    ]
    markup = keyboard(
        [
            (
                context.t("calendar.turn_off" if entry.enabled else "calendar.turn_on"),
                CalendarEntryButton("toggle", entry_id),
            ),
            (context.t("calendar.preview"), CalendarEntryButton("preview", entry_id)),
        ],
        [
            (context.t("calendar.edit_time"), CalendarEntryButton("time", entry_id)),
            (context.t("calendar.edit_text"), CalendarEntryButton("text", entry_id)),
        ],
        [(context.t("calendar.test_to_me"), CalendarEntryButton("test", entry_id))],
    )
    return "\n".join(lines), markup


async def _next_day(context: UnionContext, entry: CalendarEntry) -> date | None:
    runtime = context.runtime
    assert runtime is not None
    today = datetime.now(context.settings.zone).date()
    for day, other in await upcoming(runtime, start=today, days=800, enabled_only=False):
        if other.id == entry.id:
            return day
    return today if entry.rule.get("type") == "daily" else None


async def entry_pressed(update: Update, context: UnionContext) -> None:
    """Open, switch on/off, preview or test an entry."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(CalendarEntryButton)
    if button.entry_id == 0:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    try:
        async with context.db() as session:
            entry = await get_entry(session, org_id=context.org_id, entry_id=button.entry_id)
            if button.action == "toggle":
                entry = await set_enabled(
                    session,
                    org_id=context.org_id,
                    actor=actor,
                    entry_id=entry.id or 0,
                    enabled=not entry.enabled,
                )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    if button.action == "toggle":
        logger.info("Calendar entry %s switched %s by member %s", entry.id, entry.enabled, actor.id)
        await _reconcile(context)
    if button.action in ("open", "toggle"):
        text, markup = _entry_card(context, entry, await _next_day(context, entry))
        await say(update, context, text, markup)
    elif button.action == "preview":
        await say(
            update,
            context,
            context.t("calendar.preview_title") + "\n\n" + await _sample(context, entry),
        )
    elif button.action == "test":
        await _send_test(update, context, entry)


async def _sample(context: UnionContext, entry: CalendarEntry) -> str:
    """The message as the presser would receive it today."""
    actor = context.actor
    assert actor is not None
    values: dict[str, object] = {
        "name": actor.member.real_name,
        "org": context.settings.organization_name_for(
            picked_language(entry.messages, context.tr.language, context.settings.default_language)
        ),
    }
    async with context.db() as session:
        values.update(
            await task_figures(
                session,
                org_id=context.org_id,
                occurrence=datetime.now(context.settings.zone).date(),
            )
        )
    return fill(
        pick(entry.messages, context.tr.language, context.settings.default_language), values
    )


async def _send_test(update: Update, context: UnionContext, entry: CalendarEntry) -> None:
    """A test copy to the presser only (not through the outbox: one message, no occurrence)."""
    user = update.effective_user
    assert user is not None
    text = context.t("calendar.test_prefix") + "\n" + await _sample(context, entry)
    try:
        await context.bot.send_message(user.id, text)
    except TelegramError:
        await say(update, context, context.t("suggestion.open_private_first"))


async def _reconcile(context: UnionContext) -> None:
    runtime = context.runtime
    if runtime is not None and runtime.scheduler is not None:
        await reconcile(runtime, runtime.scheduler)


async def start_edit(update: Update, context: UnionContext) -> int:
    """Edit time or text pressed: ask for the new value (in a private chat)."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return _END
    assert context.user_data is not None
    button = context.button_as(CalendarEntryButton)
    if button.entry_id == 0:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return _END
    await context.answer(update)
    context.user_data["calendar_edit"] = {"id": button.entry_id, "field": button.action}
    key = "calendar.ask_time" if button.action == "time" else "calendar.ask_text"
    await say(update, context, context.t(key, language=context.t("language.self_name")))
    return EditStep.VALUE


async def save_edit(update: Update, context: UnionContext) -> int:
    """The new time or text."""
    assert update.message is not None and context.user_data is not None
    actor = await require_committee(update, context)
    pending = context.user_data.get("calendar_edit") or {}
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            if pending.get("field") == "time":
                entry = await set_time(
                    session,
                    org_id=context.org_id,
                    actor=actor,
                    entry_id=int(pending.get("id", 0)),
                    text=update.message.text or "",
                )
            else:
                current = await get_entry(
                    session, org_id=context.org_id, entry_id=int(pending.get("id", 0))
                )
                check_placeholders(update.message.text or "", _placeholders(current.kind))
                entry = await set_message(
                    session,
                    org_id=context.org_id,
                    actor=actor,
                    entry_id=int(pending.get("id", 0)),
                    language=context.tr.language,
                    text=update.message.text or "",
                )
    except DomainError as error:
        await refuse(update, context, error)
        return EditStep.VALUE if isinstance(error, InputError) else _END
    context.user_data.pop("calendar_edit", None)
    logger.info("Calendar entry %s edited by member %s", entry.id, actor.id)
    await _reconcile(context)
    await say(update, context, context.t("profile.saved"))
    text, markup = _entry_card(context, entry, await _next_day(context, entry))
    await say(update, context, text, markup)
    return _END


async def cancel_edit(update: Update, context: UnionContext) -> int:
    """/cancel while editing an entry."""
    if context.user_data is not None:
        context.user_data.pop("calendar_edit", None)
    await say(update, context, context.t("profile.edit_cancelled"))
    return _END


# ---- adding an entry ---------------------------------------------------------------------


async def start_add(update: Update, context: UnionContext) -> int:
    """➕ pressed on /calendar: what kind of entry."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return _END
    await context.answer(update)
    _draft(context).clear()
    rows = [[(context.t(f"calendar.kind.{kind}"), EntryKindChoice(kind))] for kind in EntryKind]
    await say(update, context, context.t("calendar.add_kind"), keyboard(*rows))
    return AddStep.KIND


async def add_kind(update: Update, context: UnionContext) -> int:
    """Greeting, task or announcement."""
    await context.answer(update)
    kind = context.button_as(EntryKindChoice).kind
    _draft(context)["kind"] = kind.value
    if kind == EntryKind.TASK:
        _draft(context)["audience"] = AudienceType.COMMITTEE.value
        return await _ask_rule(update, context)
    return await _ask_audience(update, context)


async def _ask_audience(update: Update, context: UnionContext) -> int:
    rows = [
        [(context.t(f"calendar.audience.{choice}"), EntryAudienceChoice(choice))]
        for choice in AUDIENCE_CHOICES
    ]
    await say(update, context, context.t("calendar.add_audience"), keyboard(*rows))
    return AddStep.AUDIENCE


async def _ask_rule(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("calendar.add_rule"))
    return AddStep.RULE


async def _ask_time(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("calendar.add_time"))
    return AddStep.TIME


async def _ask_title(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("calendar.add_title", limit=TITLE_LIMIT))
    return AddStep.TITLE


async def _ask_texts(update: Update, context: UnionContext) -> int:
    """The texts from the first language again (a re-asked text replaces all of them)."""
    draft = _draft(context)
    draft.update(texts={}, languages=_text_languages(context, str(draft.get("kind", ""))))
    await _ask_text(update, context)
    return AddStep.TEXT


async def add_audience(update: Update, context: UnionContext) -> int:
    """Who receives it."""
    choice = context.button_as(EntryAudienceChoice).audience
    if choice not in AUDIENCE_CHOICES:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return AddStep.AUDIENCE
    await context.answer(update)
    draft = _draft(context)
    draft["audience"] = choice.value
    draft.pop("departments", None)
    if choice == AudienceType.DEPARTMENTS:
        return AddStep.GROUPS if await offer_groups(update, context, draft) else AddStep.AUDIENCE
    return await EDITS.then(update, context, _ask_rule)


async def _regroup(update: Update, context: UnionContext) -> int:
    """The groups offered again (the ones still there stay ticked)."""
    if await offer_groups(update, context, _draft(context)):
        return AddStep.GROUPS
    return await _ask_audience(update, context)


async def add_groups(update: Update, context: UnionContext) -> int:
    """A group ticked (stay), or done: then the date (or the preview again)."""
    draft = _draft(context)
    names = await group_pressed(update, context, draft)
    if names is None:
        return AddStep.GROUPS
    draft["departments"] = names
    return await EDITS.then(update, context, _ask_rule)


def _draft_audience(draft: dict[str, Any]) -> dict[str, Any]:
    audience: dict[str, Any] = {"type": draft["audience"]}
    if draft["audience"] == AudienceType.DEPARTMENTS:
        audience["names"] = list(draft.get("departments") or [])
    return audience


async def add_rule(update: Update, context: UnionContext) -> int:
    """The date, as typed (3-12, 农历8-15, 春节-7, 每月1, 5月第2个周日)."""
    assert update.message is not None
    try:
        rule = parse_rule_text(update.message.text or "")
    except RuleError:
        await say(update, context, context.t("calendar.bad_rule"))
        return AddStep.RULE
    _draft(context)["rule"] = rule
    return await EDITS.then(update, context, _ask_time)


async def add_time(update: Update, context: UnionContext) -> int:
    """The time of day."""
    assert update.message is not None
    try:
        _draft(context)["time"] = parse_time_of_day(update.message.text or "")
    except DomainError as error:
        await refuse(update, context, error)
        return AddStep.TIME
    return await EDITS.then(update, context, _ask_title)


async def add_title(update: Update, context: UnionContext) -> int:
    """A short name for the list; then the text, language by language."""
    title = await typed_text(update, context, limit=TITLE_LIMIT)
    if title is None:
        return AddStep.TITLE
    _draft(context)["title"] = title
    return await EDITS.then(update, context, _ask_texts)


async def _ask_text(update: Update, context: UnionContext) -> None:
    """Ask for the text in the next language; after the main one, it may be left to the main
    text (for this language, or for every language still to come)."""
    draft = _draft(context)
    languages: list[str] = draft["languages"]
    main = context.settings.default_language
    current = languages[0]
    if current == main:
        key = (
            "calendar.add_task_text" if draft.get("kind") == EntryKind.TASK else "calendar.add_text"
        )
        await say(update, context, context.t(key, language=_language_name(context, main)))
        return
    names = {"language": _language_name(context, current), "main": _language_name(context, main)}
    rows = [[(context.t("calendar.text_use_main", **names), EntryTextChoice("same"))]]
    if len(languages) > 1:
        rows.append([(context.t("calendar.text_use_main_rest", **names), EntryTextChoice("rest"))])
    await say(update, context, context.t("calendar.add_text_other", **names), keyboard(*rows))


async def _next_text(update: Update, context: UnionContext) -> int:
    """The next language's text, or the preview when every language has one or uses the main."""
    if _draft(context)["languages"]:
        await _ask_text(update, context)
        return AddStep.TEXT
    # After the last language, the preview either way; `then` also ends a re-ask of the texts.
    return await EDITS.then(update, context, _add_preview)


async def add_text(update: Update, context: UnionContext) -> int:
    """The message in the language asked for."""
    text = await typed_text(update, context, limit=MESSAGE_LIMIT, multiline=True)
    if text is None:
        return AddStep.TEXT
    draft = _draft(context)
    if not draft.get("languages"):  # a draft begun before languages were asked one by one
        draft.update(texts={}, languages=_text_languages(context, str(draft.get("kind", ""))))
    try:
        check_placeholders(text, _placeholders(str(draft.get("kind", ""))))
    except InputError as error:
        await refuse(update, context, error)
        return AddStep.TEXT
    draft["texts"][draft["languages"].pop(0)] = text
    return await _next_text(update, context)


async def add_text_choice(update: Update, context: UnionContext) -> int:
    """Use the main text for this language, or for every language still to come."""
    choice = context.button_as(EntryTextChoice).choice
    draft = _draft(context)
    languages = draft.get("languages") or []
    if not languages or languages[0] == context.settings.default_language:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return AddStep.TEXT
    await context.answer(update)
    draft["languages"] = languages[1:] if choice == "same" else []
    return await _next_text(update, context)


async def _add_preview(update: Update, context: UnionContext) -> int:
    """The new entry as it will be stored, each language's text (or what stands in for it)."""
    draft = _draft(context)
    today = datetime.now(context.settings.zone).date()
    try:
        next_day = next_occurrence(draft["rule"], today, terms=terms_of(context.settings))
    except RuleError:
        next_day = None
    lines = [
        context.t("calendar.add_preview"),
        str(draft["title"]),
        context.t("calendar.card_kind", kind=context.t(f"calendar.kind.{draft['kind']}")),
        context.t(
            "calendar.card_audience", audience=audience_words(context.tr, _draft_audience(draft))
        ),
        context.t("calendar.card_time", time=draft["time"]),
        context.t("calendar.card_next", day=next_day.isoformat() if next_day else "—"),
    ]
    texts: dict[str, str] = draft["texts"]
    main = _language_name(context, context.settings.default_language)
    for language in _text_languages(context, str(draft["kind"])):
        name = _language_name(context, language)
        if language in texts:
            lines += ["", context.t("calendar.preview_version", language=name), texts[language]]
        else:
            lines += ["", context.t("calendar.preview_same", language=name, main=main)]
    markup = EDITS.markup(context, NewEntryConfirm("yes"), NewEntryConfirm("no"))
    await say(update, context, "\n".join(lines), markup)
    return AddStep.CONFIRM


EDITS = PreviewEdits(
    "calendar_new",
    [
        EditableField(
            "calendar.edit.audience",
            _ask_audience,
            lambda draft: draft.get("kind") != EntryKind.TASK,
        ),
        EditableField("calendar.edit.rule", _ask_rule),
        EditableField("calendar.edit.time", _ask_time),
        EditableField("calendar.edit.title", _ask_title),
        EditableField("calendar.edit.texts", _ask_texts),
    ],
    _add_preview,
)


async def add_confirm(update: Update, context: UnionContext) -> int:
    """Store the entry and plan it."""
    confirmed = context.button_as(NewEntryConfirm).choice == "yes"
    await context.answer(update)
    draft = _draft(context)
    actor = await require_committee(update, context)
    if actor is None or not confirmed or not draft.get("texts") or draft.get("languages"):
        draft.clear()
        await say(update, context, context.t("calendar.add_cancelled"))
        return _END
    try:
        async with context.db() as session:
            entry = await add_custom_entry(
                session,
                org_id=context.org_id,
                actor=actor,
                kind=EntryKind(draft["kind"]),
                audience=AudienceType(draft["audience"]),
                rule=draft["rule"],
                time_of_day=str(draft["time"]),
                title=str(draft["title"]),
                title_language=context.tr.language,
                messages=dict(draft["texts"]),
                key=f"custom_{draft.setdefault('token', secrets.token_hex(6))}",
                departments=list(draft.get("departments") or []),
            )
    except DomainError as error:
        await refuse(update, context, error)
        if error.key == "groups.unknown":  # a group gone meanwhile: choose again, draft kept
            return await EDITS.reask(update, context, _regroup)
        draft.clear()
        return _END
    draft.clear()
    logger.info("Calendar entry %s added by member %s", entry.id, actor.id)
    await _reconcile(context)
    text, markup = _entry_card(context, entry, await _next_day(context, entry))
    await say(update, context, context.t("calendar.added") + "\n\n" + text, markup)
    return _END


async def cancel_add(update: Update, context: UnionContext) -> int:
    """/cancel while adding an entry."""
    _draft(context).clear()
    await say(update, context, context.t("calendar.add_cancelled"))
    return _END


def register(application: Application) -> None:
    """Add /calendar and its buttons."""
    application.add_handler(
        CommandHandler("calendar", show_calendar, filters=filters.ChatType.PRIVATE)
    )
    for action in ("open", "toggle", "preview", "test"):
        application.add_handler(ButtonHandler(CalendarEntryButton, entry_pressed, action))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            conversation(
                name="calendar_edit",
                entry_points=[
                    ButtonHandler(CalendarEntryButton, start_edit, "time"),
                    ButtonHandler(CalendarEntryButton, start_edit, "text"),
                ],
                states={EditStep.VALUE: text_step(save_edit)},
                fallbacks=[CommandHandler("cancel", cancel_edit)],
                allow_reentry=True,
            ),
            label_key="form.label.calendar_edit",
            drafts=("calendar_edit",),
            committee=True,
            prompt=True,
        ),
        Form(
            conversation(
                name="calendar_add",
                entry_points=[ButtonHandler(CalendarEntryButton, start_add, "add")],
                states={
                    AddStep.KIND: family_step(add_kind, EntryKindChoice),
                    AddStep.AUDIENCE: family_step(add_audience, EntryAudienceChoice),
                    AddStep.GROUPS: family_step(add_groups, GroupPick),
                    AddStep.RULE: text_step(add_rule),
                    AddStep.TIME: text_step(add_time),
                    AddStep.TITLE: text_step(add_title),
                    AddStep.TEXT: [
                        ButtonHandler(EntryTextChoice, add_text_choice),
                        *text_step(add_text),
                    ],
                    AddStep.CONFIRM: [
                        *EDITS.handlers(),
                        *family_step(add_confirm, NewEntryConfirm),
                    ],
                },
                fallbacks=[CommandHandler("cancel", cancel_add)],
                allow_reentry=True,
            ),
            label_key="form.label.calendar_add",
            drafts=("calendar_new",),
            committee=True,
        ),
    ]
