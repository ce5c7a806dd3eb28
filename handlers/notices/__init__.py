"""Public notices with an objection period (公示): /notice, objections named or anonymous, the
committee's answers, the end of the period, and the yearly archive /notices."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import Audience, CommandSpec, DeepLink, Feature, MenuEntry
from bot.forms import Form
from handlers.notices import archive, compose, objections
from handlers.notices.buttons import ObjectionCard
from handlers.notices.publishing import OBJECT_PREFIX
from models.errors import N_
from models.notices import FileKind, NoticeStatus
from scheduler.notice_jobs import NOTICE_ENDS


def _register(application: Application) -> None:
    compose.register(application)
    objections.register(application)
    archive.register(application)


def _forms() -> list[Form]:
    return [compose.form(), *objections.forms()]


def _keys() -> set[str]:
    return {f"notice.status.{value}" for value in NoticeStatus} | {
        f"notice.preview_file.{value}" for value in FileKind
    }


FEATURE = Feature(
    name="notices",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("notices", N_("cmd.notices"), Audience.MEMBER, order=40),
        CommandSpec("notice", N_("cmd.notice"), Audience.COMMITTEE, order=30),
    ),
    menu=(MenuEntry("notice", N_("menu.notice"), Audience.COMMITTEE, order=17),),
    deep_links=(DeepLink(OBJECT_PREFIX, objections.open_link, N_("notice.join_first")),),
    jobs=(NOTICE_ENDS,),
    group_buttons=(ObjectionCard,),
    catalog_keys=_keys,
)
