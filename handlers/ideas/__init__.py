"""Rationalization proposals (合理化建议 / 金点子): /idea for members, the review panel's
private scores (/score), and the committee's desk (/ideas): averages, prize levels, awards,
采纳, the winners published, the year's figures and a spreadsheet."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.ideas import desk, filing, scoring
from models.errors import N_
from models.ideas import MAX_LEVELS, IdeaStatus


def _register(application: Application) -> None:
    scoring.register(application)
    desk.register(application)


def _forms() -> list[Form]:
    return [*filing.forms(), *scoring.forms(), *desk.forms()]


def _keys() -> set[str]:
    return (
        {f"idea.status.{value}" for value in IdeaStatus}
        | {f"idea.level.{level}" for level in range(1, MAX_LEVELS + 1)}
        | {f"idea.part.{part}" for part in ("subject", "problem", "proposal", "benefit")}
        | {f"idea.write.{part}" for part in ("subject", "problem", "proposal", "benefit")}
        | {
            f"idea.column.{column}"
            for column in (
                "number",
                "subject",
                "author",
                "department",
                "problem",
                "proposal",
                "benefit",
                "average",
                "count",
                "prize",
                "adopted",
                "filed",
            )
        }
    )


FEATURE = Feature(
    name="ideas",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("idea", N_("cmd.idea"), Audience.MEMBER, order=5),
        CommandSpec("score", N_("cmd.score"), Audience.MEMBER, order=6),
        CommandSpec("ideas", N_("cmd.ideas"), Audience.COMMITTEE, order=19),
    ),
    menu=(
        MenuEntry("idea", N_("menu.idea"), Audience.MEMBER, order=2),
        MenuEntry("ideas", N_("menu.ideas"), Audience.COMMITTEE, desk.open_from_menu, 12),
    ),
    mine=filing.mine_section,
    catalog_keys=_keys,
)
