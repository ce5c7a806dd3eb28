"""Hardship and care aid (困难帮扶 / 慰问): requests for oneself or a colleague, the masked desk,
approvals and payments, the books and rules, and the hardship files."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import Audience, CommandSpec, Feature, MenuEntry, reads_books
from bot.forms import Form
from handlers.aid import asking, books, desk, hardship, recovery
from handlers.aid.buttons import AidApproval, AidCorrectionDecision, AidDeskCard
from models.aid import AidType, CaseStatus, ChairReason, LedgerKind, may_pay
from models.errors import N_
from models.hardship import HardshipLevel
from scheduler.aid_jobs import AID_DAY


def _register(application: Application) -> None:
    asking.register(application)
    desk.register(application)
    books.register(application)
    hardship.register(application)


def _forms() -> list[Form]:
    return [*asking.forms(), *desk.forms(), *hardship.forms()]


def _keys() -> set[str]:
    return (
        {f"aid.type.{value}" for value in AidType}
        | {f"aid.evidence.{value}" for value in AidType}
        | {f"aid.paid_kind.{value}" for value in AidType}
        | {f"aid.wish.{value}" for value in AidType}
        | {f"aid.status.{value}" for value in CaseStatus}
        | {f"aid.ledger.{value}" for value in LedgerKind}
        | {f"aid.reason.{value}" for value in ChairReason}
        | {f"hardship.level.{value}" for value in HardshipLevel}
    )


FEATURE = Feature(
    recover=recovery.put_missing_cards,
    name="aid",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("aid", N_("cmd.aid"), Audience.MEMBER, order=6),
        CommandSpec(
            "aidbooks", N_("cmd.aidbooks"), Audience.COMMITTEE, order=21, also_for=reads_books
        ),
        CommandSpec("aidrules", N_("cmd.aidrules"), Audience.COMMITTEE, order=22),
        CommandSpec("aidnotice", N_("cmd.aidnotice"), Audience.COMMITTEE, order=23),
        # Listed for who may pay (财务, the chair), not for committee members who cannot.
        CommandSpec("aidcorrect", N_("cmd.aidcorrect"), Audience.CHAIR, order=24, also_for=may_pay),
        CommandSpec("hardship", N_("cmd.hardship"), Audience.COMMITTEE, order=25),
    ),
    menu=(
        MenuEntry("aid", N_("menu.aid"), Audience.MEMBER, order=3),
        MenuEntry(
            "aidbooks", N_("menu.aidbooks"), Audience.COMMITTEE, books.show_books, 12, reads_books
        ),
        MenuEntry("hardship", N_("menu.hardship"), Audience.COMMITTEE, hardship.list_files, 13),
    ),
    mine=asking.mine_section,
    jobs=(AID_DAY,),
    catalog_keys=_keys,
    group_buttons=(AidDeskCard, AidApproval, AidCorrectionDecision),
)
