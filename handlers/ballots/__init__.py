"""Secret ballots (无记名投票): 民主评议, 满意度测评, 评优/推荐/选举 and 表决 with one engine; who
voted and what was voted are kept apart (models/ballots.py)."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.features import Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.ballots import create, manage, results, vote
from handlers.ballots.buttons import (
    BallotConfirm,
    BallotCreate,
    BallotGo,
    BallotKindChoice,
    BallotOpensNow,
    BallotResults,
    BallotWho,
)
from handlers.common import conversation, family_step, text_step
from handlers.groups.buttons import GroupPick
from handlers.menu.buttons import MenuButton
from models.ballots import CHOICES, BallotKind, Electorate
from models.errors import N_
from scheduler.ballot_jobs import BALLOT_TICK


def _register(application: Application) -> None:
    results.register(application)
    manage.register(application)
    application.add_handler(ButtonHandler(BallotConfirm, vote.confirm_outside))


def _forms() -> list[Form]:
    private = filters.ChatType.PRIVATE
    step = create.Creating
    return [
        Form(
            conversation(
                name="ballot_creating",
                entry_points=[
                    CommandHandler("ballot", create.start, filters=private),
                    ButtonHandler(MenuButton, create.start, "ballot"),
                ],
                states={
                    step.TITLE: text_step(create.got_title),
                    step.KIND: family_step(create.got_kind, BallotKindChoice),
                    step.WHO: family_step(create.got_who, BallotWho),
                    step.WHO_DETAIL: [
                        ButtonHandler(GroupPick, create.got_who_groups),
                        *text_step(create.got_who_detail),
                    ],
                    step.ITEMS: text_step(create.got_items),
                    step.MAX: text_step(create.got_max),
                    step.OPENS: [
                        ButtonHandler(BallotOpensNow, create.got_opens_now),
                        *text_step(create.got_opens),
                    ],
                    step.CLOSES: text_step(create.got_closes),
                    step.CONFIRM: [
                        *create.EDITS.handlers(),
                        *family_step(create.confirm, BallotCreate),
                    ],
                },
                fallbacks=[CommandHandler("cancel", create.cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.ballot_creating",
            drafts=("ballot",),
            committee=True,
        ),
        Form(
            conversation(
                name="ballot_voting",
                entry_points=[ButtonHandler(BallotGo, vote.start_voting)],
                states=vote.states(),
                fallbacks=vote.fallbacks(),
                allow_reentry=True,
            ),
            label_key="form.label.ballot_voting",
            drafts=("ballot_vote",),
        ),
    ]


def _keys() -> set[str]:
    return (
        {f"ballot.kind.{kind}" for kind in BallotKind}
        | {f"ballot.write_items.{kind}" for kind in BallotKind}
        | {f"ballot.who.{who}" for who in Electorate}
        | {f"ballot.choice.{kind}.{c}" for kind, choices in CHOICES.items() for c in choices}
        | {"ballot.edit.max"}
    )


FEATURE = Feature(
    name="ballots",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("ballot", N_("cmd.ballot"), Audience.COMMITTEE, order=28),
        CommandSpec("ballots", N_("cmd.ballots"), Audience.COMMITTEE, order=29),
    ),
    menu=(MenuEntry("ballot", N_("menu.ballot"), Audience.COMMITTEE, order=16),),
    mine=manage.mine_section,
    jobs=(BALLOT_TICK,),
    group_buttons=(BallotResults,),
    catalog_keys=_keys,
)
