"""Proposals to the staff congress (教代会提案): filing and co-signing, the review desk, the
departments' answers with their 落实情况 and the authors' ratings, the congress sessions, and
the handling results (export, publishing)."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import Audience, CommandSpec, DeepLink, Feature, MenuEntry
from bot.forms import Form
from handlers.proposals import answers, congress, desk, filing, handling, recovery
from handlers.proposals.buttons import ProposalCoHandler, ProposalDesk, ProposalLead, ProposalMerge
from models.errors import N_
from models.proposals import Filers, Implementation, ProposalCategory, ProposalStatus, Rating
from scheduler.proposal_jobs import PROPOSAL_DAY


def _register(application: Application) -> None:
    filing.register(application)
    desk.register(application)
    congress.register(application)


def _forms() -> list[Form]:
    return [*filing.forms(), *answers.forms(), *congress.forms()]


def _keys() -> set[str]:
    return (
        {f"proposal.status.{value}" for value in ProposalStatus}
        | {f"proposal.category.{value}" for value in ProposalCategory}
        | {f"proposal.rating.{value}" for value in Rating}
        | {f"proposal.implementation.{value}" for value in Implementation}
        | {f"congress.column.{column}" for column in handling.COLUMNS}
        | {f"congress.filers.{value}" for value in Filers}
        | {f"proposal.decision.{value}" for value in ("filed", *desk.DECISIONS.values())}
    )


FEATURE = Feature(
    recover=recovery.put_missing_cards,
    name="proposals",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("propose", N_("cmd.propose"), Audience.MEMBER, order=3),
        CommandSpec("cosign", N_("cmd.cosign"), Audience.MEMBER, order=4),
        CommandSpec("proposals", N_("cmd.proposals"), Audience.COMMITTEE, order=16),
        CommandSpec("congress", N_("cmd.congress"), Audience.COMMITTEE, order=17),
        CommandSpec("departments", N_("cmd.departments"), Audience.COMMITTEE, order=18),
    ),
    menu=(
        MenuEntry("propose", N_("menu.propose"), Audience.MEMBER, order=1),
        MenuEntry(
            "proposals", N_("menu.proposals"), Audience.COMMITTEE, congress.list_proposals, 11
        ),
    ),
    mine=filing.mine_section,
    jobs=(PROPOSAL_DAY,),
    catalog_keys=_keys,
    group_buttons=(ProposalDesk, ProposalMerge, ProposalLead, ProposalCoHandler),
    deep_links=(
        DeepLink(filing.COSIGN_PREFIX, filing.open_cosign_link, N_("proposal.cosign_join_first")),
    ),
)
