"""The committee's aid books and rules: /aidbooks (the year's ledger by type, the budget, cases
waiting for payment), /aidrules (standards, limits, budget, public notice) and /aidnotice (公示
of hardship subsidies with masked names). Everything here is sent privately."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.i18n import LANGUAGES, Translator
from handlers.aid.buttons import AidDeskCard, AidNoticePublish
from handlers.common import keyboard, refuse, require_member, say
from models.aid import (
    AidType,
    CaseStatus,
    case_by_number,
    cases_with_status,
    committed_in_year,
    correct,
    ensure_standards,
    may_pay,
    notice_lines,
    parse_amount,
    parse_change,
    policy_for,
    set_policy,
    set_standard,
    standard_for,
    year_books,
    yuan,
)
from models.errors import N_, DomainError
from models.members import Actor
from models.members_queries import members_by_id
from models.organizations import get_organization

logger = logging.getLogger(__name__)


def _today(context: UnionContext) -> datetime:
    return datetime.now(context.settings.zone)


async def _require_books(update: Update, context: UnionContext) -> Actor | None:
    """The committee or the treasurer."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    if not (actor.is_committee or may_pay(actor)):
        await say(update, context, context.t("desk.not_committee"))
        return None
    return actor


def _year_argument(context: UnionContext) -> int | None:
    text = context.args[0] if context.args else ""
    if not text:
        return _today(context).year
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else None


# ---- /aidbooks ---------------------------------------------------------------------------


async def show_books(update: Update, context: UnionContext) -> None:
    """/aidbooks [year]: paid per type, the budget, and what waits for payment."""
    if update.callback_query is not None:
        await context.answer(update)
    if await _require_books(update, context) is None:
        return
    year = _year_argument(context)
    if year is None:
        await say(update, context, context.t("aid.books_usage"))
        return
    tr = context.tr
    async with context.db() as session:
        lines = await year_books(session, org_id=context.org_id, year=year)
        policy = await policy_for(session, org_id=context.org_id, year=year)
        committed = await committed_in_year(session, org_id=context.org_id, year=year)
        waiting = await cases_with_status(
            session, org_id=context.org_id, statuses=[CaseStatus.APPROVED]
        )
        undecided = await cases_with_status(
            session, org_id=context.org_id, statuses=[CaseStatus.OPEN, CaseStatus.INFO_REQUESTED]
        )
        people = await members_by_id(session, [case.subject_member_id for case in waiting])
    text = [tr("aid.books_title", year=year)]
    for line in lines:
        text.append(
            tr(
                "aid.books_line",
                type=tr(f"aid.type.{line.aid_type}"),
                count=line.cases,
                amount=yuan(line.paid),
            )
        )
    if not lines:
        text.append(tr("aid.books_empty"))
    text.append(tr("aid.books_total", amount=yuan(sum(line.paid for line in lines))))
    if policy.budget is None:
        text.append(tr("aid.books_no_budget", committed=yuan(committed)))
    else:
        text.append(
            tr(
                "aid.books_budget",
                budget=yuan(policy.budget),
                committed=yuan(committed),
                left=yuan(policy.budget - committed),
            )
        )
    text.append(tr("aid.books_waiting", paying=len(waiting), deciding=len(undecided)))
    rows = []
    for case in waiting[:20]:
        member = people.get(case.subject_member_id)
        name = member.real_name if member else "-"
        label = f"💰 {case.number} {name} ¥{yuan(case.approved_amount or 0)}"
        rows.append([(label[:60], AidDeskCard("pay", case.id or 0))])
    await say(update, context, "\n".join(text), keyboard(*rows) if rows else None)


# ---- /aidrules ---------------------------------------------------------------------------


def _type_by_name(context: UnionContext, word: str) -> AidType | None:
    """An aid type by its code or its name in any language (hospital, 住院慰问, 住院)."""
    lowered = word.strip().lower()
    for aid_type in AidType:
        if lowered == aid_type.value:
            return aid_type
        for language in LANGUAGES:
            name = context.i18n.get(language)(f"aid.type.{aid_type}")
            if len(word) >= 2 and name.lower().startswith(lowered):
                return aid_type
    return None


async def rules(update: Update, context: UnionContext) -> None:
    """/aidrules [standard TYPE AMOUNT [COUNT|-] [TOTAL|-] | budget N|- | limit N | max N |
    notice on|off]: show or change the standards and rules."""
    actor = await require_member(update, context)
    if actor is None:
        return
    if not actor.is_committee:
        await say(update, context, context.t("desk.not_committee"))
        return
    args = list(context.args or [])
    if args:
        try:
            changed = await _change_rule(context, actor, args)
        except DomainError as error:
            await refuse(update, context, error)
            return
        if not changed:
            await say(update, context, context.t("aid.rules_usage"))
            return
        logger.info("Aid rule %s changed by member %s", args[0], actor.id)
    await say(update, context, await _rules_text(context))


async def _change_rule(context: UnionContext, actor: Actor, args: list[str]) -> bool:
    word, rest = args[0].lower(), args[1:]
    year = _today(context).year
    async with context.db() as session:
        if word == "standard" and len(rest) >= 2:
            aid_type = _type_by_name(context, rest[0])
            if aid_type is None:
                return False
            current = await standard_for(session, org_id=context.org_id, aid_type=aid_type)
            count = _optional(rest[2], int) if len(rest) > 2 else current.cap_count
            total = _optional(rest[3], parse_amount) if len(rest) > 3 else current.cap_total
            await set_standard(
                session,
                org_id=context.org_id,
                actor=actor,
                aid_type=aid_type,
                amount=parse_amount(rest[1]),
                cap_count=count,
                cap_total=total,
                today=_today(context).date(),
            )
            return True
        if word in ("budget", "limit", "max") and len(rest) == 1:
            policy = await policy_for(session, org_id=context.org_id, year=year)
            budget = policy.budget
            limit, maximum = None, None
            if word == "budget":
                budget = _optional(rest[0], parse_amount)
            elif word == "limit":
                limit = parse_amount(rest[0])
            else:
                maximum = parse_amount(rest[0])
            await set_policy(
                session,
                org_id=context.org_id,
                actor=actor,
                year=year,
                budget=budget,
                single_approval_limit=limit,
                max_amount=maximum,
            )
            return True
        if word == "notice" and rest in (["on"], ["off"]):
            if not actor.is_chair:
                raise DomainError(N_("aid.chair_only"))
            policy = await policy_for(session, org_id=context.org_id, year=year)
            policy.public_notice = rest == ["on"]
            session.add(policy)
            await session.commit()
            return True
    return False


def _optional(text: str, parse: Callable[[str], int]) -> int | None:
    """'-' for none, else the parsed number."""
    if text.strip() == "-":
        return None
    try:
        value = parse(text)
    except ValueError as exc:
        raise DomainError(N_("aid.amount_invalid")) from exc
    if value < 0:
        raise DomainError(N_("aid.amount_invalid"))
    return value


async def _rules_text(context: UnionContext) -> str:
    tr = context.tr
    year = _today(context).year
    async with context.db() as session:
        await ensure_standards(session, org_id=context.org_id)
        policy = await policy_for(session, org_id=context.org_id, year=year)
        standards = [
            await standard_for(session, org_id=context.org_id, aid_type=aid_type)
            for aid_type in AidType
        ]
    lines = [tr("aid.rules_title", year=year)]
    for standard in standards:
        lines.append(
            tr(
                "aid.rules_line",
                type=tr(f"aid.type.{standard.aid_type}"),
                code=standard.aid_type,
                amount=yuan(standard.amount),
                count=standard.cap_count if standard.cap_count is not None else "-",
                total=yuan(standard.cap_total) if standard.cap_total is not None else "-",
            )
        )
    lines.append(
        tr(
            "aid.rules_policy",
            limit=yuan(policy.single_approval_limit),
            max=yuan(policy.max_amount),
            budget=yuan(policy.budget) if policy.budget is not None else "-",
            notice=tr("common.yes") if policy.public_notice else tr("common.no"),
        )
    )
    lines += ["", tr("aid.rules_usage")]
    return "\n".join(lines)


# ---- /aidnotice --------------------------------------------------------------------------


def notice_text(tr: Translator, org_name: str, year: int, lines: list[tuple[str, int]]) -> str:
    """The public notice: masked names and amounts only."""
    body = [tr("aid.notice_title", org=org_name, year=year)]
    body += [f"{name}　¥{yuan(amount)}" for name, amount in lines]
    body.append(tr("aid.notice_total", count=len(lines), amount=yuan(sum(a for _, a in lines))))
    return "\n".join(body)


async def show_notice(update: Update, context: UnionContext) -> None:
    """/aidnotice [year]: the 公示 text, and a button to post it when the union allows it."""
    actor = await require_member(update, context)
    if actor is None:
        return
    if not actor.is_committee:
        await say(update, context, context.t("desk.not_committee"))
        return
    year = _year_argument(context)
    if year is None:
        await say(update, context, context.t("aid.books_usage"))
        return
    async with context.db() as session:
        lines = await notice_lines(session, org_id=context.org_id, year=year)
        policy = await policy_for(session, org_id=context.org_id, year=_today(context).year)
        org = await get_organization(session, context.org_id)
    if not lines:
        await say(update, context, context.t("aid.notice_empty", year=year))
        return
    text = notice_text(context.tr, context.settings.organization_name, year, lines)
    markup = None
    if not policy.public_notice:
        text += "\n\n" + context.t("aid.notice_off")
    elif org.disclosure_chat_id is None:
        text += "\n\n" + context.t("aid.notice_no_channel")
    else:
        markup = keyboard([(context.t("aid.btn_publish_notice"), AidNoticePublish(year))])
    await say(update, context, text, markup)


async def publish_notice(update: Update, context: UnionContext) -> None:
    """Post the 公示 to the disclosure channel (committee; the union must allow it)."""
    actor = context.actor
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    year = context.button_as(AidNoticePublish).year
    if not year:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    async with context.db() as session:
        lines = await notice_lines(session, org_id=context.org_id, year=year)
        policy = await policy_for(session, org_id=context.org_id, year=_today(context).year)
        org = await get_organization(session, context.org_id)
    if not policy.public_notice or org.disclosure_chat_id is None or not lines:
        await context.answer(update, context.t("aid.notice_off"), alert=True)
        return
    tr = context.i18n.get(context.settings.default_language)
    try:
        await context.bot.send_message(
            org.disclosure_chat_id,
            notice_text(tr, context.settings.organization_name, year, lines),
        )
    except TelegramError:
        await context.answer(update, context.t("aid.notice_failed"), alert=True)
        return
    logger.info("Aid notice for %s published by member %s", year, actor.id)
    await context.answer(update, context.t("aid.notice_published"))


# ---- /aidcorrect -------------------------------------------------------------------------


async def correct_payment(update: Update, context: UnionContext) -> None:
    """/aidcorrect NUMBER CHANGE REASON: a correction of a paid amount, as a new ledger row."""
    actor = await require_member(update, context)
    if actor is None:
        return
    args = list(context.args or [])
    if len(args) < 3:
        await say(update, context, context.t("aid.correct_usage"))
        return
    try:
        change = parse_change(args[1])
        async with context.db() as session:
            case = await case_by_number(session, org_id=context.org_id, number=args[0])
            await correct(
                session,
                org_id=context.org_id,
                case_id=case.id or 0,
                actor=actor,
                change=change,
                note=" ".join(args[2:]),
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    logger.info("Aid case %s corrected by member %s", case.id, actor.id)
    await say(
        update,
        context,
        context.t(
            "aid.corrected",
            number=case.number,
            change=("+" if change > 0 else "-") + yuan(abs(change)),
        ),
    )


def register(application: Application) -> None:
    """Add /aidbooks, /aidrules and /aidnotice."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("aidbooks", show_books, filters=private))
    application.add_handler(CommandHandler("aidrules", rules, filters=private))
    application.add_handler(CommandHandler("aidnotice", show_notice, filters=private))
    application.add_handler(CommandHandler("aidcorrect", correct_payment, filters=private))
    application.add_handler(ButtonHandler(AidNoticePublish, publish_notice))
