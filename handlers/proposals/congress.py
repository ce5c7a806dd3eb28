"""The committee's proposal tools: /congress (sessions and opening a window), /proposals (the
list and the figures every union reports), /departments and their handlers."""

from __future__ import annotations

import logging
from datetime import date
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.common import (
    EditableField,
    PreviewEdits,
    conversation,
    deep_link,
    family_step,
    keyboard,
    refuse,
    require_committee,
    say,
    text_step,
    typed_text,
    user_draft,
)
from handlers.proposals import handling
from handlers.proposals.buttons import (
    CongressConfirm,
    CongressCosigners,
    CongressExport,
    CongressFigures,
    CongressFilers,
    CongressOpen,
    CongressPublish,
    CongressReplyDays,
    Cosigners,
    HandlerPick,
    HandlerSet,
    ReplyDays,
)
from handlers.proposals.desk import render_card, submitted, today
from handlers.proposals.filing import COSIGN_PREFIX
from handlers.review_desk import committee_press
from models import written
from models.desk import record_card
from models.errors import DomainError
from models.members import get_member
from models.proposal_queries import (
    departments_of,
    find_by_number,
    get_session,
    handled_by,
    list_sessions,
    proposals_of_session,
)
from models.proposal_text import label, status_name
from models.proposals import (
    DEFAULT_MIN_COSIGNERS,
    DEFAULT_REPLY_DAYS,
    SESSION_NAME_LIMIT,
    CongressSession,
    Figures,
    Filers,
    Proposal,
    ProposalStatus,
    add_department,
    get_department,
    open_session,
    rule_session,
    session_figures,
    set_department_handler,
    start_waiting_drafts,
)
from models.validation import ascii_number

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
IMPLEMENTATION_TARGET = 95.0
_REPLY_DAYS: tuple[ReplyDays, ...] = ("15", "30", "60")
_COSIGNERS: tuple[Cosigners, ...] = ("0", "1", "2", "3", "5")
# The order of statuses in the committee's list: what needs a decision first.
_LIST_ORDER = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.FILED,
    ProposalStatus.ASSIGNED,
    ProposalStatus.ANSWERED,
    ProposalStatus.CLOSED,
    ProposalStatus.COSIGNING,
    ProposalStatus.NOT_FILED,
    ProposalStatus.CONVERTED,
    ProposalStatus.MERGED,
    ProposalStatus.WITHDRAWN,
)


class Opening(IntEnum):
    """Steps of opening a proposal window."""

    NAME = 1
    DATES = 2
    REPLY_DAYS = 3
    COSIGNERS = 4
    FILERS = 5
    CONFIRM = 6


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "congress")


def session_line(tr: Translator, congress: CongressSession, day: date) -> str:
    """One session: name, window, state and rules."""
    if congress.is_open(day):
        state = tr("congress.state_open")
    elif congress.opens_on > day:
        state = tr("congress.state_planned")
    else:
        state = tr("congress.state_closed")
    return tr(
        "congress.session_line",
        name=congress.name,
        opens=congress.opens_on.isoformat(),
        closes=congress.closes_on.isoformat(),
        state=state,
        filers=tr(f"congress.filers.{congress.filers}"),
        count=congress.min_cosigners,
        days=congress.reply_days,
    )


# ---- /congress ---------------------------------------------------------------------------


async def show_sessions(update: Update, context: UnionContext) -> None:
    """/congress: the sessions, and a button to open a new window."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return
    async with context.db() as session:
        sessions = await list_sessions(session, org_id=context.org_id)
    lines = [context.t("congress.title")]
    lines += [session_line(context.tr, congress, today(context)) for congress in sessions]
    if not sessions:
        lines.append(context.t("congress.none"))
    await say(
        update,
        context,
        "\n\n".join(lines),
        keyboard([(context.t("congress.btn_open"), CongressOpen())]),
    )


async def start_opening(update: Update, context: UnionContext) -> int:
    """Open a new window pressed: the session's name."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return _END
    await context.answer(update)
    _draft(context).clear()
    await say(update, context, context.t("congress.write_name", limit=SESSION_NAME_LIMIT))
    return Opening.NAME


async def got_name(update: Update, context: UnionContext) -> int:
    """The session's name, e.g. 第八届教代会第一次会议."""
    name = await typed_text(update, context, limit=SESSION_NAME_LIMIT)
    if name is None:
        return Opening.NAME
    _draft(context)["name"] = name
    return await EDITS.then(update, context, _ask_dates)


async def _ask_name(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("congress.write_name", limit=SESSION_NAME_LIMIT))
    return Opening.NAME


async def _ask_dates(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("congress.write_dates"))
    return Opening.DATES


def parse_window(text: str, *, on: date) -> tuple[date, date] | None:
    """Two dates as people type them (2026-12-01 至 2026-12-15, 3月1日到15日), or None; a first
    date without a year is the next one from `on`."""
    return written.window(text, today=on)


async def got_dates(update: Update, context: UnionContext) -> int:
    """The window's first and last day."""
    text = await typed_text(update, context, limit=60)
    if text is None:
        return Opening.DATES
    window = parse_window(text, on=today(context))
    if window is None:
        await say(update, context, context.t("congress.dates_format"))
        return Opening.DATES
    opens_on, closes_on = window
    if closes_on < opens_on:
        await say(update, context, context.t("proposal.window_backwards"))
        return Opening.DATES
    if closes_on < today(context):
        await say(update, context, context.t("congress.dates_past"))
        return Opening.DATES
    _draft(context).update(opens=opens_on.isoformat(), closes=closes_on.isoformat())
    return await EDITS.then(update, context, _ask_reply_days)


async def _ask_reply_days(update: Update, context: UnionContext) -> int:
    rows = [
        [
            (
                context.t("congress.days", days=days)
                + (" ✓" if int(days) == DEFAULT_REPLY_DAYS else ""),
                CongressReplyDays(days),
            )
            for days in _REPLY_DAYS
        ]
    ]
    await say(update, context, context.t("congress.choose_reply_days"), keyboard(*rows))
    return Opening.REPLY_DAYS


async def got_reply_days(update: Update, context: UnionContext) -> int:
    """How many days the departments have to answer."""
    choice = context.button_as(CongressReplyDays).days
    await context.answer(update)
    _draft(context)["reply_days"] = int(choice)
    return await EDITS.then(update, context, _ask_cosigners)


async def _ask_cosigners(update: Update, context: UnionContext) -> int:
    rows = [
        [
            (
                count + (" ✓" if int(count) == DEFAULT_MIN_COSIGNERS else ""),
                CongressCosigners(count),
            )
            for count in _COSIGNERS
        ]
    ]
    await say(update, context, context.t("congress.choose_cosigners"), keyboard(*rows))
    return Opening.COSIGNERS


async def got_cosigners(update: Update, context: UnionContext) -> int:
    """How many co-signers a proposal needs."""
    choice = context.button_as(CongressCosigners).count
    await context.answer(update)
    _draft(context)["min_cosigners"] = int(choice)
    return await EDITS.then(update, context, _ask_filers)


async def _ask_filers(update: Update, context: UnionContext) -> int:
    rows = [[(context.t(f"congress.filers.{f}"), CongressFilers(f))] for f in Filers]
    await say(update, context, context.t("congress.choose_filers"), keyboard(*rows))
    return Opening.FILERS


async def got_filers(update: Update, context: UnionContext) -> int:
    """Who may file and co-sign; then the preview."""
    choice = context.button_as(CongressFilers).filers
    await context.answer(update)
    _draft(context)["filers"] = choice.value
    return await _preview(update, context)


async def _preview(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    needed = ("name", "opens", "closes", "reply_days", "min_cosigners", "filers")
    if not all(key in draft for key in needed):
        await say(update, context, context.t("proposal.draft_lost"))
        return _END
    preview = CongressSession(
        organization_id=context.org_id,
        name=draft["name"],
        opens_on=date.fromisoformat(draft["opens"]),
        closes_on=date.fromisoformat(draft["closes"]),
        reply_days=draft["reply_days"],
        min_cosigners=draft["min_cosigners"],
        filers=Filers(draft["filers"]),
    )
    await say(
        update,
        context,
        context.t("congress.preview") + "\n\n" + session_line(context.tr, preview, today(context)),
        EDITS.markup(context, CongressConfirm("yes"), CongressConfirm("cancel")),
    )
    return Opening.CONFIRM


# ✏️ 修改某项 under the preview.
EDITS = PreviewEdits(
    "congress",
    [
        EditableField("congress.edit.name", _ask_name),
        EditableField("congress.edit.dates", _ask_dates),
        EditableField("congress.edit.reply_days", _ask_reply_days),
        EditableField("congress.edit.cosigners", _ask_cosigners),
        EditableField("congress.edit.filers", _ask_filers),
    ],
    _preview,
)


async def confirm_opening(update: Update, context: UnionContext) -> int:
    """Confirm: the window is stored; if it opens today, waiting drafts start at once."""
    choice = context.button_as(CongressConfirm).choice
    await context.answer(update)
    if choice == "cancel":
        return await cancel_opening(update, context)
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    try:
        async with context.db() as session:
            congress = await open_session(
                session,
                org_id=context.org_id,
                actor=actor,
                name=str(draft["name"]),
                opens_on=date.fromisoformat(draft["opens"]),
                closes_on=date.fromisoformat(draft["closes"]),
                reply_days=int(draft["reply_days"]),
                min_cosigners=int(draft["min_cosigners"]),
                filers=Filers(draft["filers"]),
            )
    except (DomainError, KeyError) as error:
        if isinstance(error, DomainError):
            await refuse(update, context, error)
        else:
            await say(update, context, context.t("proposal.draft_lost"))
        draft.clear()
        return _END
    draft.clear()
    logger.info("Congress session %s opened by member %s", congress.id, actor.id)
    await say(update, context, context.t("congress.opened", name=congress.name))
    if congress.is_open(today(context)):
        await open_waiting_drafts(context, congress)
    return _END


async def open_waiting_drafts(context: UnionContext, congress: CongressSession) -> int:
    """Drafts kept outside a window move into the open one; their proposers are told."""
    async with context.db() as session:
        moved = await start_waiting_drafts(session, org_id=context.org_id, congress=congress)
    for proposal in moved:
        if proposal.status == ProposalStatus.SUBMITTED:
            await submitted(context, proposal)
            continue
        link = deep_link(context, f"{COSIGN_PREFIX}{proposal.id}")

        def render(tr: Translator, proposal: Proposal = proposal, link: str = link) -> str:
            return tr(
                "proposal.told_window_opened",
                label=label(tr, proposal),
                session=congress.name,
                count=congress.min_cosigners,
                link=link,
                id=proposal.id,
            )

        await context.notifier.tell([proposal.proposer_member_id], render)
    return len(moved)


async def cancel_opening(update: Update, context: UnionContext) -> int:
    """/cancel while opening a window."""
    _draft(context).clear()
    await say(update, context, context.t("congress.cancelled"))
    return _END


# ---- /proposals --------------------------------------------------------------------------


def _percent(tr: Translator, value: float | None) -> str:
    return tr("congress.no_rate") if value is None else f"{value:g}%"


def figures_text(tr: Translator, congress: CongressSession, figures: Figures) -> str:
    """The figures every annual report gives, with the 95% target of 落实率 and the 落实情况
    counts behind it (how many answers have none, too)."""
    implementation = figures.implementation_rate
    if implementation is None:
        verdict = ""
    elif implementation >= IMPLEMENTATION_TARGET:
        verdict = tr("congress.target_met")
    else:
        verdict = tr("congress.target_missed")
    text = tr(
        "congress.figures",
        name=congress.name,
        collected=figures.collected,
        submitted=figures.submitted,
        filed=figures.filed,
        filing_rate=_percent(tr, figures.filing_rate),
        answered=figures.answered,
        closed=figures.closed,
        completion_rate=_percent(tr, figures.completion_rate),
        rated=figures.rated,
        satisfaction_rate=_percent(tr, figures.satisfaction_rate),
        implementation_rate=_percent(tr, implementation),
        target=f"{IMPLEMENTATION_TARGET:g}%",
        verdict=verdict,
    )
    text += "\n" + tr(
        "congress.implementation_counts",
        done=figures.done,
        doing=figures.doing,
        planned=figures.planned,
        cannot=figures.cannot,
    )
    if figures.unknown:
        text += "\n" + tr("congress.implementation_unknown", count=figures.unknown)
    return text


async def list_proposals(update: Update, context: UnionContext) -> None:
    """/proposals [N]: the current session's figures and list, or proposal N's card."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return
    async with context.db() as session:
        congress = await rule_session(session, org_id=context.org_id, today=today(context))
    if congress is None:
        await say(update, context, context.t("congress.none"))
        return
    argument = context.args[0] if context.args else ""
    if argument:
        await _send_card(update, context, congress, argument)
        return
    await _send_session(update, context, congress)


async def session_pressed(update: Update, context: UnionContext) -> None:
    """Another session's figures."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    session_id = context.button_as(CongressFigures).session_id
    try:
        async with context.db() as session:
            congress = await get_session(session, org_id=context.org_id, session_id=session_id)
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return
    await context.answer(update)
    await _send_session(update, context, congress)


async def _send_session(update: Update, context: UnionContext, congress: CongressSession) -> None:
    tr = context.tr
    async with context.db() as session:
        figures = await session_figures(session, session_id=congress.id or 0)
        proposals = await proposals_of_session(session, session_id=congress.id or 0)
        sessions = await list_sessions(session, org_id=context.org_id)
    parts = [figures_text(tr, congress, figures)]
    for status in _LIST_ORDER:
        group = [p for p in proposals if p.status == status]
        if group:
            lines = [
                tr("congress.list_group", status=tr(f"proposal.status.{status}"), count=len(group))
            ]
            lines += [f"• {label(tr, p)} · {status_name(tr, p)}" for p in group[:40]]
            parts.append("\n".join(lines))
    if not proposals:
        parts.append(tr("congress.list_empty"))
    parts.append(tr("congress.open_hint"))
    others = [
        [(other.name, CongressFigures(other.id or 0))]
        for other in sessions
        if other.id != congress.id
    ]
    session_id = congress.id or 0
    tools: list[list[tuple[str, Button]]] = [
        [(tr("congress.btn_export"), CongressExport(session_id))],
        [(tr("congress.btn_publish"), CongressPublish(session_id, "ask"))],
    ]
    text = "\n\n".join(parts)
    await say(update, context, text[:4000], keyboard(*tools, *others[:10]))


async def _send_card(
    update: Update, context: UnionContext, congress: CongressSession, argument: str
) -> None:
    """Proposal N's card, sent here and kept up to date like the desk's copies."""
    number = ascii_number(argument.lstrip("#"), low=1, high=100_000)
    if number is None:
        await say(update, context, context.t("congress.number_usage"))
        return
    try:
        async with context.db() as session:
            proposal = await find_by_number(session, session_id=congress.id or 0, number=number)
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return
    text, markup = await render_card(context, proposal)
    message = await say(update, context, text, markup)
    if message is not None:
        async with context.db() as session:
            await record_card(
                session,
                org_id=context.org_id,
                kind="prop",
                item_id=proposal.id or 0,
                chat_id=message.chat.id,
                message_id=message.message_id,
            )


# ---- /departments ------------------------------------------------------------------------


async def manage_departments(update: Update, context: UnionContext) -> None:
    """/departments [add NAME]: the handling departments and who answers for each."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_committee(update, context)
    if actor is None:
        return
    args = list(context.args or [])
    if args and args[0].lower() in ("add", "添加", "新增"):
        try:
            async with context.db() as session:
                department = await add_department(
                    session, org_id=context.org_id, actor=actor, name=" ".join(args[1:])
                )
        except DomainError as error:
            await refuse(update, context, error)
            return
        await say(update, context, context.t("departments.added", name=department.name))
    elif args:
        await say(update, context, context.t("departments.usage"))
        return
    async with context.db() as session:
        departments = await departments_of(session, org_id=context.org_id)
        handlers = {
            d.handler_member_id: await get_member(
                session, org_id=context.org_id, member_id=d.handler_member_id
            )
            for d in departments
            if d.handler_member_id is not None
        }
    lines = [context.t("departments.title")]
    for department in departments:
        handler = handlers.get(department.handler_member_id or 0)
        who = handler.real_name if handler else context.t("departments.committee_answers")
        lines.append(context.t("departments.line", name=department.name, who=who))
    if not departments:
        lines.append(context.t("departments.none"))
    lines += ["", context.t("departments.usage")]
    await say(update, context, "\n".join(lines))


async def handler_pick(update: Update, context: UnionContext) -> None:
    """On a member card (chair): which department does this member answer for?"""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    if not actor.is_chair:
        await context.answer(update, context.t("roles.chair_only"), alert=True)
        return
    member_id = context.button_as(HandlerPick).member_id
    try:
        async with context.db() as session:
            member = await get_member(session, org_id=context.org_id, member_id=member_id)
            departments = await departments_of(session, org_id=context.org_id)
            current = {
                d.id for d in await handled_by(session, org_id=context.org_id, member_id=member_id)
            }
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return
    if not departments:
        await context.answer(update, context.t("proposal.no_departments"), alert=True)
        return
    await context.answer(update)
    rows = [
        [
            (
                ("✓ " if d.id in current else "+ ") + d.name,
                HandlerSet(member_id, d.id or 0),
            )
        ]
        for d in departments
    ]
    await say(
        update, context, context.t("departments.choose", name=member.real_name), keyboard(*rows)
    )


async def handler_set(update: Update, context: UnionContext) -> None:
    """Toggle: this member answers for the department, or the committee does again."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(HandlerSet)
    member_id, department_id = button.member_id, button.department_id
    try:
        async with context.db() as session:
            member = await get_member(session, org_id=context.org_id, member_id=member_id)
            department = await get_department(
                session, org_id=context.org_id, department_id=department_id
            )
            clearing = department.handler_member_id == member_id
            department = await set_department_handler(
                session,
                org_id=context.org_id,
                actor=actor,
                department_id=department_id,
                member_id=None if clearing else member_id,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    key = "departments.handler_cleared" if clearing else "departments.handler_set"
    await context.answer(update, context.t(key, name=member.real_name, department=department.name))
    logger.info("Department %s handler set to %s", department_id, department.handler_member_id)
    if not clearing:
        await context.notifier.tell(
            [member_id],
            lambda tr: tr("departments.you_handle", department=department.name),
        )


def register(application: Application) -> None:
    """Add the committee's proposal tools."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("congress", show_sessions, filters=private))
    application.add_handler(CommandHandler("proposals", list_proposals, filters=private))
    application.add_handler(CommandHandler("departments", manage_departments, filters=private))
    application.add_handler(ButtonHandler(CongressFigures, session_pressed))
    application.add_handler(ButtonHandler(CongressExport, handling.export_session))
    application.add_handler(ButtonHandler(CongressPublish, handling.publish_pressed))
    application.add_handler(ButtonHandler(HandlerPick, handler_pick))
    application.add_handler(ButtonHandler(HandlerSet, handler_set))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            conversation(
                name="congress_opening",
                entry_points=[ButtonHandler(CongressOpen, start_opening)],
                states={
                    Opening.NAME: text_step(got_name),
                    Opening.DATES: text_step(got_dates),
                    Opening.REPLY_DAYS: family_step(got_reply_days, CongressReplyDays),
                    Opening.COSIGNERS: family_step(got_cosigners, CongressCosigners),
                    Opening.FILERS: family_step(got_filers, CongressFilers),
                    Opening.CONFIRM: [
                        *EDITS.handlers(),
                        *family_step(confirm_opening, CongressConfirm),
                    ],
                },
                fallbacks=[CommandHandler("cancel", cancel_opening)],
                allow_reentry=True,
            ),
            label_key="form.label.congress_opening",
            drafts=("congress",),
            committee=True,
        ),
    ]
