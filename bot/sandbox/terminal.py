"""The sandbox's terminal chat: the real bot, played by one person who is several people.

`Sandbox.repl` takes lines and writes to a stream, so tests drive it with scripted lines.
Lines starting with `:` are sandbox commands; anything else is what the current person types
in the chat being viewed (their private chat with the bot, or the committee group).
"""

from __future__ import annotations

import itertools
import mimetypes
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlparse

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlmodel import func, select
from telegram import Update

from bot.app import build_application
from bot.application import UnionApplication
from bot.db import is_sqlite
from bot.i18n import Translator
from bot.sandbox.seed import (
    CHAIR,
    DISTRICT_PERSONAS,
    GROUP_ID,
    GROUPS,
    PERSONAS,
    Persona,
    SandboxDistrict,
    is_seeded,
    make_district,
    seed_district,
    seed_school,
)
from bot.sandbox.transport import ChatMessage, Event, SandboxTelegram
from bot.settings import Settings
from models.base import utcnow
from models.calendar import list_entries
from models.desk import DeskCard
from models.members import load_actor
from models.updates import highest_processed
from scheduler.activity_jobs import activity_tick
from scheduler.aid_jobs import aid_day
from scheduler.calendar_jobs import fire
from scheduler.outbox import Pace
from scheduler.proposal_jobs import proposal_day
from scheduler.runtime import Runtime
from scheduler.suggestion_jobs import send_digest

BOT_ID = 7000000000
BOT_USERNAME = "union_desk_sandbox_bot"
TOKEN = f"{BOT_ID}:SANDBOXnotARealTokenOnlyForTheLocalFake"
# Broadcasts appear at once: no pacing, no quiet hours ("00:00-00:00" is an empty window).
FAST = Pace(per_second=1000, private_chat_interval=0, group_interval=0)
SHOW_LAST = 5


def sandbox_settings(base: Settings, *, database_url: str, persistence_path: Path) -> Settings:
    """The deployment's language, time zone and name; everything else the sandbox's own."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(TOKEN),
        database_url=database_url,
        persistence_path=persistence_path,
        timezone=base.timezone,
        default_language=base.default_language,
        organization_name=base.organization_name,
        organization_name_zh_hant=base.organization_name_zh_hant,
        organization_name_en=base.organization_name_en,
        owner_ids=[CHAIR.telegram_id],
        committee_chat_id=None,
        telegram_api_base_url=None,
        secret_key=SecretStr("sandbox-secret-key-for-the-local-sandbox-only"),
        anonymous_daily_limit=base.anonymous_daily_limit,
        suggestion_digest_days=base.suggestion_digest_days,
        activity_reminder_hours=base.activity_reminder_hours,
        quiet_hours="00:00-00:00",
        background_tasks=False,
    )


@dataclass(frozen=True)
class Runnable:
    """Something scheduled that `:run` triggers by hand."""

    name: str  # a calendar key, or the job's short name
    title: str
    run: Callable[[], Awaitable[int]]  # how many messages it queued


class Sandbox:
    """A started bot over the in-process Telegram, and who the user is playing."""

    def __init__(
        self,
        settings: Settings,
        out: TextIO,
        *,
        log_path: Path | None = None,
        district: bool = False,
    ) -> None:
        if district:
            # 钱区主席 is the owner who chairs the district union; 张主席 chairs school A only.
            owner = DISTRICT_PERSONAS[-1].telegram_id
            settings = settings.model_copy(update={"owner_ids": [owner]})
        self.settings = settings
        self.district = district  # a district union with two schools (`sandbox --district`)
        self.personas = PERSONAS + DISTRICT_PERSONAS if district else PERSONAS
        self.out = out
        self.log_path = log_path  # where the bot's log lines go instead of the chat
        self.telegram = SandboxTelegram(
            bot_id=BOT_ID, bot_name="", bot_username=BOT_USERNAME, chat_titles={}
        )
        self.app: UnionApplication = build_application(
            settings, request=self.telegram, use_default_rate_limiter=False
        )
        self.tr: Translator = self.app.state.i18n.get(settings.default_language)
        self.telegram.bot_name = self.tr("sandbox.bot_name")
        self.telegram.chat_titles = {
            GROUP_ID: self.tr("sandbox.group_title"),
            **{persona.telegram_id: persona.name for persona in self.personas},
        }
        if district:
            self.telegram.chat_titles |= {
                GROUPS["b"]: self.tr("sandbox.group_title_b"),
                GROUPS["district"]: self.tr("sandbox.group_title_district"),
            }
        self.persona: Persona = PERSONAS[0]
        self.in_group = False
        self.running = True
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._printed = 0

    # ---- life --------------------------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        """The calendar and outbox of the running bot."""
        runtime = self.app.state.runtime
        assert runtime is not None
        return runtime

    async def start(self) -> None:
        """Start the bot like production does; seed a fresh database; say hello."""
        made: SandboxDistrict | None = None
        if self.district:
            # Before the start-up, which reads whether this deployment is a district.
            made = await make_district(self.app.state.db, self.tr)
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        self.runtime.sender.pace = FAST
        async with self.app.state.db() as session:
            self._update_ids = itertools.count(await highest_processed(session) + 1)
            # Cards of an earlier run keep their message ids: new messages continue after them.
            last_card = (await session.exec(select(func.max(DeskCard.message_id)))).one()
        self.telegram.skip_message_ids_to(int(last_card or 0) + 1)
        if await is_seeded(self.app, made.school_a if made else None):
            self.say(self.tr("sandbox.reused", path=self._where()))
        else:
            if made is not None:
                report = await seed_district(self.app, tr=self.tr, now=utcnow(), district=made)
            else:
                report = await seed_school(self.app, tr=self.tr, now=utcnow())
            await self.runtime.sender.drain()
            self.say(
                self.tr(
                    "sandbox.seeded",
                    org=self.tr("sandbox.district_name")
                    if self.district
                    else self.settings.organization_name_for(self.tr.language),
                    members=report.members,
                    suggestion=report.suggestion_number,
                    case=report.case_number,
                    proposal=report.proposal_id,
                    activity=report.activity_title,
                )
            )
        self._printed = len(self.telegram.events)
        if self.district:
            self.say(self.tr("sandbox.district_hint"))
        if self.log_path is not None:
            self.say(self.tr("sandbox.log_file", path=str(self.log_path)))
        self.say(self.tr("sandbox.welcome"))
        await self.show_chat()

    async def stop(self) -> None:
        """Save conversations in progress and shut the bot down."""
        await self.app.update_persistence()
        await self.app.shutdown()
        assert self.app.post_shutdown is not None
        await self.app.post_shutdown(self.app)

    def _where(self) -> str:
        url = make_url(self.settings.database_url)
        if is_sqlite(self.settings.database_url):
            return str(url.database)
        return url.render_as_string(hide_password=True)

    # ---- the loop ----------------------------------------------------------------------------

    def prompt(self) -> str:
        """`[王芳 · 私聊] > `."""
        return self.tr("sandbox.prompt", name=self.persona.name, place=self._place())

    def _place(self) -> str:
        return self.tr("sandbox.place_group" if self.in_group else "sandbox.place_private")

    async def repl(self, lines: Iterable[str], *, echo: bool = True) -> None:
        """Handle lines until `:quit` or the end of input; `echo` writes prompt and line."""
        for raw in lines:
            line = raw.strip()
            if echo:
                self.say(self.prompt() + line)
            await self.handle(line)
            if not self.running:
                break

    async def handle(self, line: str) -> None:
        """One line: a sandbox command or what the current person types."""
        if not line:
            return
        if not line.startswith(":"):
            await self.type_text(line)
            return
        command, _, rest = line[1:].partition(" ")
        commands: dict[str, Callable[[str], Awaitable[None]]] = {
            "help": self._help,
            "who": self._who,
            "as": self._switch,
            "group": self._to_group,
            "private": self._to_private,
            "press": self._press,
            "photo": self._photo,
            "file": self._file,
            "sticker": self._sticker,
            "show": self._show,
            "run": self._run,
            "quit": self._quit,
        }
        action = commands.get(command.strip().lower())
        if action is None:
            self.say(self.tr("sandbox.unknown_command", command=line.split()[0]))
            return
        await action(rest.strip())

    def say(self, text: str) -> None:
        """Write to the terminal."""
        self.out.write(text + "\n")
        self.out.flush()

    # ---- sandbox commands --------------------------------------------------------------------

    async def _help(self, _rest: str) -> None:
        self.say(self.tr("sandbox.help"))

    async def _quit(self, _rest: str) -> None:
        self.running = False
        self.say(self.tr("sandbox.bye", path=self._where()))

    async def _who(self, _rest: str) -> None:
        self.say(self.tr("sandbox.who_title"))
        for number, persona in enumerate(self.personas, start=1):
            marker = "→" if persona is self.persona else " "
            self.say(
                self.tr(
                    "sandbox.who_line",
                    marker=marker,
                    number=number,
                    name=persona.name,
                    about=await self._about(persona),
                )
            )

    async def _about(self, persona: Persona) -> str:
        async with self.app.state.db() as session:
            actor = await load_actor(
                session, org_id=self.app.state.org_id, telegram_user_id=persona.telegram_id
            )
        if actor is None:
            return self.tr("sandbox.not_registered")
        parts = [actor.member.department, self.tr(f"status.{actor.member.status}")]
        parts += [self.tr(f"role.{role.value}") for role in sorted(actor.roles)]
        if actor.member.language:
            parts.append(actor.member.language)
        return " · ".join(part for part in parts if part)

    async def _switch(self, rest: str) -> None:
        persona = self._persona(rest)
        if persona is None:
            self.say(self.tr("sandbox.unknown_person", name=rest))
            return
        self.persona = persona
        await self._moved()

    def _persona(self, text: str) -> Persona | None:
        if text.isdigit() and 1 <= int(text) <= len(self.personas):
            return self.personas[int(text) - 1]
        if not text:
            return None
        for persona in self.personas:
            if persona.name == text:
                return persona
        return next((persona for persona in self.personas if text in persona.name), None)

    async def _to_group(self, _rest: str) -> None:
        self.in_group = True
        await self._moved()

    async def _to_private(self, _rest: str) -> None:
        self.in_group = False
        await self._moved()

    async def _moved(self) -> None:
        self.say(self.tr("sandbox.now_as", name=self.persona.name, place=self._place()))
        await self.show_chat(3)

    async def _show(self, rest: str) -> None:
        await self.show_chat(int(rest) if rest.isdigit() and int(rest) > 0 else SHOW_LAST)

    async def show_chat(self, count: int = SHOW_LAST) -> None:
        """The last messages of the chat being viewed."""
        messages = self.telegram.visible(self.chat_id)[-count:]
        if not messages:
            self.say(self.tr("sandbox.empty_chat"))
        for message in messages:
            self._print_message(message)

    async def _press(self, rest: str) -> None:
        target, _, number_text = rest.rpartition(".")
        if not number_text.isdigit() or (target and not target.isdigit()):
            self.say(self.tr("sandbox.press_usage"))
            return
        if target:
            message = self.telegram.find(self.chat_id, int(target))
            if message is None or message.deleted or not message.buttons():
                self.say(self.tr("sandbox.no_such_message", number=target))
                return
        else:
            with_buttons = [m for m in self.telegram.visible(self.chat_id) if m.buttons()]
            if not with_buttons:
                self.say(self.tr("sandbox.no_buttons"))
                return
            message = with_buttons[-1]
        buttons = message.buttons()
        number = int(number_text)
        if not 1 <= number <= len(buttons):
            self.say(
                self.tr(
                    "sandbox.no_such_button",
                    number=number,
                    message=message.message_id,
                    count=len(buttons),
                )
            )
            return
        button = buttons[number - 1]
        self.say(self.tr("sandbox.pressed", name=self.persona.name, label=button.label))
        if button.data:
            await self._feed(self._button_update(message, button.data))
            return
        start = self._start_payload(button.url)
        if start is None:
            self.say(self.tr("sandbox.link", url=button.url))
            return
        # A link to the bot's private chat (t.me/<bot>?start=...): open it there.
        self.in_group = False
        self.say(self.tr("sandbox.now_as", name=self.persona.name, place=self._place()))
        await self.type_text(f"/start {start}".strip())

    def _start_payload(self, url: str) -> str | None:
        link = f"https://t.me/{BOT_USERNAME}"
        if url != link and not url.startswith(link + "?"):
            return None
        return parse_qs(urlparse(url).query).get("start", [""])[0]

    async def _run(self, rest: str) -> None:
        runnables = await self._runnables()
        if rest in ("", "list"):
            self.say(self.tr("sandbox.run_title"))
            for number, item in enumerate(runnables, start=1):
                self.say(f"{number:>3}. {item.name} · {item.title}")
            return
        chosen = self._runnable(runnables, rest)
        if chosen is None:
            self.say(self.tr("sandbox.run_unknown", name=rest))
            return
        queued = await chosen.run()
        if queued:
            self.say(self.tr("sandbox.run_done", name=chosen.title, count=queued))
        else:
            self.say(self.tr("sandbox.run_nothing", name=chosen.title))
        await self._settle()

    @staticmethod
    def _runnable(runnables: list[Runnable], text: str) -> Runnable | None:
        if text.isdigit() and 1 <= int(text) <= len(runnables):
            return runnables[int(text) - 1]
        lowered = text.lower()
        for item in runnables:
            if item.name.lower() == lowered or item.title == text:
                return item
        return next(
            (
                item
                for item in runnables
                if lowered in item.name.lower() or lowered in item.title.lower()
            ),
            None,
        )

    async def _runnables(self) -> list[Runnable]:
        runtime = self.runtime
        language = self.settings.default_language
        async with runtime.db() as session:
            entries = await list_entries(session, org_id=runtime.org_id)

        def firing(entry: Any) -> Callable[[], Awaitable[int]]:
            async def run() -> int:
                broadcast = await fire(runtime, entry, self._today(), now=utcnow())
                return broadcast.total if broadcast is not None else 0

            return run

        items = [
            Runnable(entry.key, entry.titles.get(language) or entry.key, firing(entry))
            for entry in entries
        ]
        return [
            *items,
            Runnable("digest", self.tr("sandbox.job_digest"), self._digest),
            Runnable("proposals", self.tr("sandbox.job_proposals"), self._proposal_day),
            Runnable("aid", self.tr("sandbox.job_aid"), self._aid_day),
            Runnable("activities", self.tr("sandbox.job_activities"), self._activity_tick),
            Runnable("outbox", self.tr("sandbox.job_outbox"), self._drain),
        ]

    def _today(self) -> Any:
        return datetime.now(self.settings.zone).date()

    async def _digest(self) -> int:
        broadcast = await send_digest(self.runtime, now=utcnow())
        return broadcast.total if broadcast is not None else 0

    async def _proposal_day(self) -> int:
        return await proposal_day(self.runtime, today=self._today())

    async def _aid_day(self) -> int:
        return int(await aid_day(self.runtime, today=self._today()))

    async def _activity_tick(self) -> int:
        return await activity_tick(self.runtime, now=utcnow(), rng=random.Random())

    async def _drain(self) -> int:
        return (await self.runtime.sender.drain()).sent

    # ---- talking to the bot ------------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        """The chat being viewed: the current person's private chat, or the group."""
        return self.group_id if self.in_group else self.persona.telegram_id

    @property
    def group_id(self) -> int:
        """The committee group of the current person's school (of the district union)."""
        return GROUPS[self.persona.school] if self.district else GROUP_ID

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.persona.telegram_id,
            "is_bot": False,
            "first_name": self.persona.name,
            "language_code": self.persona.language_code,
        }

    def _chat(self) -> dict[str, Any]:
        if self.in_group:
            return self.telegram.chat(self.group_id)
        return {"id": self.persona.telegram_id, "type": "private", "first_name": self.persona.name}

    async def type_text(self, text: str) -> None:
        """The current person sends `text` (a command included) in the chat being viewed."""
        message = self.telegram.record_user_message(self.chat_id, self.persona.name, text)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        await self._send(message, content)

    async def _photo(self, caption: str) -> None:
        """`:photo [CAPTION]`: the current person sends a photo (a made-up file id)."""
        message = self.telegram.record_user_message(
            self.chat_id, self.persona.name, caption, kind="photo"
        )
        file_id, unique = self._file_ids("photo", message)
        # Telegram sends one PhotoSize per resolution, the largest last.
        sizes = [(90, 120, 2_400, "s"), (960, 1280, 182_000, "")]
        content: dict[str, Any] = {
            "photo": [
                {
                    "file_id": file_id + suffix,
                    "file_unique_id": unique + suffix,
                    "width": width,
                    "height": height,
                    "file_size": size,
                }
                for width, height, size, suffix in sizes
            ]
        }
        if caption:
            content["caption"] = caption
        await self._send(message, content)

    async def _file(self, name: str) -> None:
        """`:file NAME`: the current person sends a file (its type guessed from the name)."""
        if not name:
            self.say(self.tr("sandbox.file_usage"))
            return
        message = self.telegram.record_user_message(
            self.chat_id, self.persona.name, "", kind="document", file_name=name
        )
        file_id, unique = self._file_ids("file", message)
        document = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": name,
            "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "file_size": 96_000,
        }
        await self._send(message, {"document": document})

    async def _sticker(self, _rest: str) -> None:
        """`:sticker`: the current person sends a sticker."""
        message = self.telegram.record_user_message(
            self.chat_id, self.persona.name, "", kind="sticker"
        )
        file_id, unique = self._file_ids("sticker", message)
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        await self._send(message, {"sticker": sticker})

    @staticmethod
    def _file_ids(kind: str, message: ChatMessage) -> tuple[str, str]:
        """A made-up `file_id` (unique across runs) and `file_unique_id`."""
        unique = f"sandbox-{kind}-{message.message_id}-{secrets.token_hex(4)}"
        return unique, unique

    async def _send(self, message: ChatMessage, content: dict[str, Any]) -> None:
        """The update Telegram delivers for a message the current person sent."""
        update = {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": message.message_id,
                "date": int(time.time()),
                "chat": self._chat(),
                "from": self._user(),
                **content,
            },
        }
        await self._feed(update)

    def _button_update(self, message: ChatMessage, data: str) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"sandbox-{next(self._query_ids)}-{message.message_id}",
                "from": self._user(),
                "chat_instance": str(message.chat_id),
                "data": data,
                "message": self.telegram.message_object(message),
            },
        }

    async def _feed(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await self._settle()

    async def _settle(self) -> None:
        """Send what the outbox holds at once, save conversations, print what happened."""
        await self.runtime.sender.drain()
        await self.app.update_persistence()
        self._print_events()

    # ---- printing ----------------------------------------------------------------------------

    def _print_events(self) -> None:
        events = self.telegram.events[self._printed :]
        self._printed = len(self.telegram.events)
        elsewhere: dict[int, int] = {}
        for event in events:
            self._print_event(event, elsewhere)
        if elsewhere:
            # The group first, then people in the order of :who (not the order of sending).
            order = [*GROUPS.values(), *(persona.telegram_id for persona in self.personas)]
            chats = " · ".join(
                self.tr("sandbox.elsewhere_item", chat=self._chat_name(chat_id), count=count)
                for chat_id, count in sorted(
                    elsewhere.items(),
                    key=lambda item: order.index(item[0]) if item[0] in order else len(order),
                )
            )
            self.say(self.tr("sandbox.elsewhere", chats=chats))

    def _print_event(self, event: Event, elsewhere: dict[int, int]) -> None:
        if event.kind == "answer":
            key = "sandbox.alert" if event.alert else "sandbox.toast"
            self.say(self.tr(key, text=event.text))
        elif event.chat_id == self.chat_id and event.message is not None:
            self._print_message(event.message)
        elif event.chat_id is not None and event.kind == "message":
            elsewhere[event.chat_id] = elsewhere.get(event.chat_id, 0) + 1

    def _chat_name(self, chat_id: int) -> str:
        if chat_id in GROUPS.values():
            if self.district:  # three groups: each by its title
                return self.telegram.chat_titles.get(chat_id, str(chat_id))
            return self.tr("sandbox.place_group")
        for persona in self.personas:
            if persona.telegram_id == chat_id:
                return persona.name
        return str(chat_id)

    def _print_message(self, message: ChatMessage) -> None:
        sender = message.sender or self.telegram.bot_name
        edited = self.tr("sandbox.edited") if message.edited else ""
        lines = [
            self.tr(
                "sandbox.message_header", number=message.message_id, sender=sender, edited=edited
            )
        ]
        if message.kind == "photo":
            lines.append("  " + self.tr("sandbox.photo"))
        elif message.kind == "document":
            lines.append("  " + self.tr("sandbox.document", name=message.file_name or "-"))
        elif message.kind == "sticker":
            lines.append("  " + self.tr("sandbox.sticker"))
        lines += ["  " + line for line in message.text.splitlines()]
        number = 0
        for row in message.rows:
            labels = []
            for button in row:
                number += 1
                labels.append(f"[{number}] {button.label}" + (" ↗" if button.url else ""))
            lines.append("  " + "  ".join(labels))
        self.say("\n".join(lines))


@asynccontextmanager
async def running_sandbox(
    settings: Settings, out: TextIO, *, log_path: Path | None = None, district: bool = False
) -> AsyncIterator[Sandbox]:
    """A started sandbox (seeded if its database is empty), stopped afterwards."""
    sandbox = Sandbox(settings, out, log_path=log_path, district=district)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()
