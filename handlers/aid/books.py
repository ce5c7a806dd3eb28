"""The committee's aid books and rules: /aidbooks (the year's ledger by type, the budget, cases
waiting for payment), /aidrules (standards, limits, budget, public notice) and /aidnotice (公示
of hardship subsidies with masked names). Everything here is sent privately."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.i18n import LANGUAGES, Translator
from handlers.aid.buttons import AidCorrectionDecision, AidDeskCard, AidNoticePublish
from handlers.aid.desk import case_label, now
from handlers.common import keyboard, refuse, require_member, say
from handlers.notices.publishing import publish
from handlers.review_desk import desk_chats, post_card, refresh_cards
from models.aid import (
    MAX_CAP_COUNT,
    AidCase,
    AidLedgerEntry,
    AidType,
    CaseStatus,
    agree_correction,
    case_by_number,
    cases_with_status,
    committed_in_year,
    correct,
    drop_correction,
    ensure_standards,
    masked,
    may_pay,
    net_paid,
    notice_lines,
    parse_amount,
    parse_change,
    policy_for,
    set_policy,
    set_standard,
    signed_yuan,
    standard_for,
    year_books,
    yuan,
)
from models.errors import N_, DomainError, InputError
from models.members import Actor
from models.members_queries import members_by_id
from models.notice_text import day_words
from models.notices import NO_AUDIENCE, NoticeKind, open_notice
from models.organizations import get_organization
from models.validation import ascii_number
from models.written import count as count_of

logger = logging.getLogger(__name__)


def _today(context: UnionContext) -> datetime:
    return now(context).astimezone(context.settings.zone)


async def _require_books(update: Update, context: UnionContext) -> Actor | None:
    """The committee, 财务 or 经审 (who reads the books and pays nothing)."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    if not actor.may_read_books:
        await say(update, context, context.t("desk.not_committee"))
        return None
    return actor


def _year_argument(context: UnionContext) -> int | None:
    text = context.args[0] if context.args else ""
    if not text:
        return _today(context).year
    return ascii_number(text, low=2000, high=2100)


# ---- /aidbooks ---------------------------------------------------------------------------


async def show_books(update: Update, context: UnionContext) -> None:
    """/aidbooks [year]: paid per type, the budget, and what waits for payment."""
    if update.callback_query is not None:
        await context.answer(update)
    reader = await _require_books(update, context)
    if reader is None:
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
        text.append(tr("aid.books_no_budget", year=year, committed=yuan(committed)))
    else:
        text.append(
            tr(
                "aid.books_budget",
                year=year,
                budget=yuan(policy.budget),
                committed=yuan(committed),
                left=yuan(policy.budget - committed),
            )
        )
    text.append(tr("aid.books_waiting", paying=len(waiting), deciding=len(undecided)))
    rows = []
    for case in waiting[:20] if may_pay(reader) else ():  # only who may pay gets 💰 buttons
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


@dataclass(frozen=True)
class RuleChange:
    """One rule changed by /aidrules: which, and its old and new value (fen when `money`)."""

    key: str  # aid.rule.*
    old: int | bool | None
    new: int | bool | None
    money: bool = False
    aid_type: str = ""
    year: int = 0

    def line(self, tr: Translator) -> str:
        """住院慰问 标准：¥250 → ¥300."""
        kind = tr(f"aid.type.{self.aid_type}") if self.aid_type else ""
        return tr(
            "aid.rule_changed_line",
            what=tr(self.key, type=kind, year=self.year),
            old=self._shown(tr, self.old),
            new=self._shown(tr, self.new),
        )

    def _shown(self, tr: Translator, value: int | bool | None) -> str:
        if value is None:
            return tr("aid.rule_none")
        if isinstance(value, bool):
            return tr("common.yes") if value else tr("common.no")
        return f"¥{yuan(value)}" if self.money else str(value)


async def rules(update: Update, context: UnionContext) -> None:
    """/aidrules [standard TYPE AMOUNT [COUNT|-] [TOTAL|-] | budget N|- | limit N | max N |
    notice on|off]: show the standards and rules (committee), or change one (the chair; every
    change is posted to the committee with who made it, the old and the new value)."""
    actor = await require_member(update, context)
    if actor is None:
        return
    if not actor.is_committee:
        await say(update, context, context.t("desk.not_committee"))
        return
    args = list(context.args or [])
    head = ""
    if args:
        try:
            changes = await _change_rule(context, actor, args)
        except DomainError as error:
            await refuse(update, context, error)
            return
        if changes is None:
            await say(update, context, context.t("aid.rules_usage"))
            return
        logger.info("Aid rule %s changed by member %s", args[0].lower()[:16], actor.id)
        if changes:
            await _tell_committee_of(context, actor, changes)
            head = context.t("aid.rules_changed_done") + "\n\n"
        else:
            head = context.t("aid.rules_unchanged") + "\n\n"
    await say(update, context, head + await _rules_text(context))


async def _tell_committee_of(
    context: UnionContext, actor: Actor, changes: list[RuleChange]
) -> None:
    """Post a rule change to the committee group (else to each committee member)."""
    tr = context.i18n.get(context.settings.default_language)
    text = "\n".join(
        [tr("aid.rules_changed", who=actor.member.real_name)]
        + [change.line(tr) for change in changes]
    )
    for chat_id in await desk_chats(context):
        try:
            await context.bot.send_message(chat_id, text)
        except TelegramError as exc:
            logger.warning(
                "Aid rule change could not be posted to chat %s: %s", chat_id, type(exc).__name__
            )


_RULE_WORDS = ("standard", "budget", "limit", "max", "notice")
# What the chair may type instead of the English words (and of "-", on, off).
_RULE_SYNONYMS = {
    "标准": "standard",
    "標準": "standard",
    "预算": "budget",
    "預算": "budget",
    "额度": "limit",
    "額度": "limit",
    "最高": "max",
    "公示": "notice",
}
_NONE_WORDS = ("-", "不限", "none")
_SWITCH = {"on": "on", "开": "on", "開": "on", "off": "off", "关": "off", "關": "off"}
# (message key, shown as money) of a standard's amount, count cap and total cap.
_STANDARD_RULES = (
    ("aid.rule.amount", True),
    ("aid.rule.cap_count", False),
    ("aid.rule.cap_total", True),
)
_POLICY_RULES = ("aid.rule.budget", "aid.rule.limit", "aid.rule.max")


async def _change_rule(
    context: UnionContext, actor: Actor, args: list[str]
) -> list[RuleChange] | None:
    """Apply one change; what changed (empty: nothing did), or None when not understood."""
    word, rest = args[0].lower(), args[1:]
    word = _RULE_SYNONYMS.get(word, word)
    if word in _RULE_WORDS and not actor.is_chair:
        raise DomainError(N_("aid.chair_only"))
    year = _today(context).year
    async with context.db() as session:
        if word == "standard" and len(rest) >= 2:
            aid_type = _type_by_name(context, rest[0])
            if aid_type is None:
                return None
            current = await standard_for(session, org_id=context.org_id, aid_type=aid_type)
            before = (current.amount, current.cap_count, current.cap_total)
            count = _optional(rest[2], _times) if len(rest) > 2 else current.cap_count
            total = _optional(rest[3], parse_amount) if len(rest) > 3 else current.cap_total
            after = (parse_amount(rest[1]), count, total)
            await set_standard(
                session,
                org_id=context.org_id,
                actor=actor,
                aid_type=aid_type,
                amount=after[0],
                cap_count=after[1],
                cap_total=after[2],
                today=_today(context).date(),
            )
            return [
                RuleChange(key, old, new, money, aid_type=aid_type)
                for (key, money), old, new in zip(_STANDARD_RULES, before, after, strict=True)
                if old != new
            ]
        if word in ("budget", "limit", "max") and len(rest) == 1:
            policy = await policy_for(session, org_id=context.org_id, year=year)
            was = (policy.budget, policy.single_approval_limit, policy.max_amount)
            budget = policy.budget
            limit, maximum = None, None
            if word == "budget":
                budget = _optional(rest[0], parse_amount)
            elif word == "limit":
                limit = parse_amount(rest[0])
            else:
                maximum = parse_amount(rest[0])
            policy = await set_policy(
                session,
                org_id=context.org_id,
                actor=actor,
                year=year,
                budget=budget,
                single_approval_limit=limit,
                max_amount=maximum,
            )
            now = (policy.budget, policy.single_approval_limit, policy.max_amount)
            return [
                RuleChange(key, old, new, money=True, year=year)
                for key, old, new in zip(_POLICY_RULES, was, now, strict=True)
                if old != new
            ]
        switch = _SWITCH.get(rest[0].lower()) if len(rest) == 1 else None
        if word == "notice" and switch is not None:
            policy = await policy_for(session, org_id=context.org_id, year=year)
            old_notice = policy.public_notice
            policy.public_notice = switch == "on"
            session.add(policy)
            await session.commit()
            if old_notice == policy.public_notice:
                return []
            return [RuleChange("aid.rule.notice", old_notice, policy.public_notice, year=year)]
    return None


def _times(text: str) -> int:
    """A yearly count as typed (3, 3次, 三次); the rule's own range is checked when it is set."""
    value = count_of(text, low=0, high=10**6)
    if value is None:
        raise InputError(N_("aid.cap_count_invalid"), limit=MAX_CAP_COUNT)
    return value


def _optional(text: str, parse: Callable[[str], int]) -> int | None:
    """'-' (or 不限) for none, else the parsed number."""
    if text.strip().lower() in _NONE_WORDS:
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
    none = tr("aid.rule_none")
    lines = [tr("aid.rules_title", year=year)]
    for standard in standards:
        lines.append(
            tr(
                "aid.rules_line",
                type=tr(f"aid.type.{standard.aid_type}"),
                amount=yuan(standard.amount),
                count=standard.cap_count if standard.cap_count is not None else none,
                total=f"¥{yuan(standard.cap_total)}" if standard.cap_total is not None else none,
            )
        )
    lines.append(
        tr(
            "aid.rules_policy",
            limit=yuan(policy.single_approval_limit),
            max=yuan(policy.max_amount),
            budget=f"¥{yuan(policy.budget)}" if policy.budget is not None else none,
            notice=tr("common.yes") if policy.public_notice else tr("common.no"),
        )
    )
    lines += ["", tr("aid.rules_usage")]
    return "\n".join(lines)


# ---- /aidnotice --------------------------------------------------------------------------


def notice_body(tr: Translator, lines: list[tuple[str, int]]) -> str:
    """The public notice's lines: masked names and amounts, and the total."""
    body = [f"{name}　¥{yuan(amount)}" for name, amount in lines]
    body.append(tr("aid.notice_total", count=len(lines), amount=yuan(sum(a for _, a in lines))))
    return "\n".join(body)


def notice_text(
    tr: Translator,
    org_name: str,
    year: int,
    lines: list[tuple[str, int]],
    *,
    start: date,
    days: int,
) -> str:
    """The public notice: masked names and amounts only, and its period (`days` days from
    `start`, the union's today, both ends included)."""
    end = start + timedelta(days=days - 1)
    return "\n".join(
        [
            tr("aid.notice_title", org=org_name, year=year),
            notice_body(tr, lines),
            tr("aid.notice_period", start=day_words(tr, start), end=day_words(tr, end)),
        ]
    )


async def _notice(
    context: UnionContext, tr: Translator, year: int, lines: list[tuple[str, int]]
) -> str:
    return notice_text(
        tr,
        await context.org_name(tr.language),
        year,
        lines,
        start=_today(context).date(),
        days=context.settings.aid_notice_days,
    )


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
    text = await _notice(context, context.tr, year, lines)
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
    # Published as a 公示 (models.notices): members can object through the channel's button,
    # and the notice is marked at the end of its AID_NOTICE_DAYS calendar days.
    tr = context.i18n.get(context.settings.default_language)
    start = _today(context).date()
    org_name = await context.org_name(tr.language)
    title = tr("aid.notice_title", org=org_name, year=year).removeprefix("📢").strip()
    async with context.db() as session:
        notice = await open_notice(
            session,
            org_id=context.org_id,
            title=title,
            body=notice_body(tr, lines),
            starts_on=start,
            ends_on=start + timedelta(days=context.settings.aid_notice_days - 1),
            audience=NO_AUDIENCE,
            kind=NoticeKind.AID,
            created_by=actor.id,
        )
    published = await publish(context, notice)
    if not published.posted:
        await context.answer(update, context.t("aid.notice_failed"), alert=True)
        return
    logger.info("Aid notice for %s published by member %s", year, actor.id)
    await context.answer(update, context.t("aid.notice_published"))


# ---- /aidcorrect -------------------------------------------------------------------------


async def correct_payment(update: Update, context: UnionContext) -> None:
    """/aidcorrect NUMBER CHANGE REASON: a correction of a paid amount, as a new ledger row.

    Above the single-approval limit the treasurer's correction waits, on a card in the
    committee group, for the chair or a committee member to agree (like an approval)."""
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
            outcome = await correct(
                session,
                org_id=context.org_id,
                case_id=case.id or 0,
                actor=actor,
                change=change,
                note=" ".join(args[2:]),
                today=_today(context).date(),
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    signed = signed_yuan(change)
    if outcome.applied:
        logger.info("Aid case %s corrected by member %s", case.id, actor.id)
        await say(update, context, context.t("aid.corrected", number=case.number, change=signed))
        return
    asked_id = outcome.entry.id or 0
    logger.info("Aid case %s: correction %s asked by member %s", case.id, asked_id, actor.id)
    text, markup = await _correction_card(context, outcome.case, outcome.entry, outcome.limit)
    await post_card(context, kind=CORRECTION_KIND, item_id=asked_id, text=text, markup=markup)
    await say(
        update,
        context,
        context.t(
            "aid.correction_asked",
            number=case.number,
            change=signed,
            limit=yuan(outcome.limit),
        ),
    )


CORRECTION_KIND = "aidfix"


async def _correction_card(
    context: UnionContext,
    case: AidCase,
    asked: AidLedgerEntry,
    limit: int = 0,
    done: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The committee's card of a correction that waits (masked like the case's card; the
    reason is read with 私下查看), or, once decided, what became of it."""
    tr = context.i18n.get(context.settings.default_language)
    async with context.db() as session:
        people = await members_by_id(session, [case.subject_member_id, asked.actor_member_id])
        paid = await net_paid(session, case_id=case.id or 0)
    subject, asker = people.get(case.subject_member_id), people.get(asked.actor_member_id)
    change = signed_yuan(asked.amount or 0)
    lines = [
        tr("aid.fix_card_title", label=case_label(tr, case)),
        tr("aid.card_who", name=masked(subject.real_name if subject else "")),
        tr("aid.fix_card_change", change=change, paid=yuan(paid)),
        tr("aid.fix_card_asker", name=asker.real_name if asker else "-"),
    ]
    cid, eid = case.id or 0, asked.id or 0
    rows: list[list[tuple[str, AidCorrectionDecision | AidDeskCard]]] = []
    if done is None:
        lines.append(tr("aid.fix_card_needs", limit=yuan(limit)))
        rows.append(
            [
                (tr("aid.btn_fix_ok", change=change), AidCorrectionDecision("ok", cid, eid)),
                (tr("aid.btn_fix_no"), AidCorrectionDecision("no", cid, eid)),
            ]
        )
    else:
        lines.append(done)
    rows.append([(tr("aid.btn_open"), AidDeskCard("open", cid))])
    return "\n".join(lines), keyboard(*rows)


async def decide_correction(update: Update, context: UnionContext) -> None:
    """同意更正 / 不同意 pressed on a correction's card."""
    button = context.button_as(AidCorrectionDecision)
    actor = context.actor
    if actor is None or not actor.is_active:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    agreeing = button.action == "ok"
    decide = agree_correction if agreeing else drop_correction
    try:
        async with context.db() as session:
            case, asked = await decide(
                session,
                org_id=context.org_id,
                case_id=button.case_id,
                asked_id=button.entry_id,
                actor=actor,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    logger.info(
        "Aid correction %s on case %s %s by member %s",
        asked.id,
        case.id,
        "agreed" if agreeing else "dropped",
        actor.id,
    )
    tr = context.i18n.get(context.settings.default_language)
    who = actor.member.real_name
    done = tr("aid.fix_card_agreed" if agreeing else "aid.fix_card_dropped", who=who)
    text, markup = await _correction_card(context, case, asked, done=done)
    await refresh_cards(
        context, kind=CORRECTION_KIND, item_id=asked.id or 0, text=text, markup=markup
    )
    if asked.actor_member_id != actor.id:
        key = "aid.told_fix_agreed" if agreeing else "aid.told_fix_dropped"
        change = signed_yuan(asked.amount or 0)

        def render(tr: Translator) -> str:
            return tr(key, number=case.number, change=change, who=who)

        await context.notifier.tell([asked.actor_member_id], render)
    toast = "aid.fix_agreed_toast" if agreeing else "aid.fix_dropped_toast"
    await context.answer(update, context.t(toast, number=case.number))


def register(application: Application) -> None:
    """Add /aidbooks, /aidrules and /aidnotice."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("aidbooks", show_books, filters=private))
    application.add_handler(CommandHandler("aidrules", rules, filters=private))
    application.add_handler(CommandHandler("aidnotice", show_notice, filters=private))
    application.add_handler(CommandHandler("aidcorrect", correct_payment, filters=private))
    application.add_handler(ButtonHandler(AidNoticePublish, publish_notice))
    application.add_handler(ButtonHandler(AidCorrectionDecision, decide_correction))
