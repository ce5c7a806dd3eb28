"""Property: whatever one member and two committee members do, in any order, a typed text
reaches only the form whose prompt its writer saw last, and nothing else reaches anyone.

Hypothesis interleaves, for a member (王芳芳, who files anonymously and asks for aid) and two
committee members, the starts of forms (/suggest, /aid, /propose, /me → edit, as commands or
menu buttons; the desk prompts ✍️ 答复, ❓ 请补充材料 and 不立案 pressed in the group or in
private; the member's own ✍️ 回复 and 💬 继续追问), texts (each unique: 〔n〕 marks the n-th),
Send / Edit / Cancel under a text shown back, /cancel and other commands, the menu, chatter in
the group, expiry (the engine's clock moved past the committee or the member idle time) and
restarts (a new application on the same database and persistence file).

A model follows what each person saw: the form they are in (a form counts as started only when
its prompt arrived), its step, and the text shown back to them. Every text is attributed, when
typed, to the form the model says it was typed in (or to none). After every step:

- every place a text was found, in the calls to other people and in the stored rows (any text
  column of any table), is one its form may deliver to: a suggestion reply to the item's author
  and its thread, a question to the requester and the case's ledger, a not-filed reason to the
  people on the proposal, its card and the proposal, an answer to the committee member who
  asked last, a follow-up under the card and into the thread, a suggestion into its row and
  card, an aid story into its case only, a proposal into its own draft, a name into one's row;
  a text typed with no form (or in the group) is found nowhere;
- a text for someone else reaches others only in the step that sends it (Send, or typing when
  the bot did not show it back), and Send sends the text shown back, not another;
- every private input is answered, every press is answered once, Send is delivered or
  explained, a question on an open case is stored, and an expired form is announced once at the
  person's next update; nothing reaches the error handler.

`FORM_PROPERTY_EXAMPLES` sets how many sequences are tried (25 by default, 12 on PostgreSQL);
shrinking is off, like tests/test_properties.py: a failure is reported with every step it took.
"""

from __future__ import annotations

import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select

from bot.callback import pack
from bot.settings import Settings
from models.aid import AidCase, CaseStatus
from models.conversation_state import ConversationState
from models.members import Member, Role
from models.suggestions import Suggestion, SuggestionStatus
from tests.conftest import empty_tables
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.forms import (
    AUTHOR,
    AUTHOR_DEPARTMENT,
    AUTHOR_NAME,
    CANCEL_OUT,
    CHECK_BEFORE_SENDING,
    COMMITTEE,
    EDIT,
    EXPIRED,
    GROUP,
    NOT_UNDERSTOOD,
    NOTHING_ACTIVE,
    SECOND,
    SECOND_NAME,
    SEND,
    UNKNOWN_COMMAND,
    WRITING,
    Clock,
    Rows,
    ask_requester,
    capture_rows,
    category_id,
    dump,
    file_aid,
    file_suggestion,
    reply_to,
    restore_rows,
    start_app,
    stop_app,
    use_clock,
)
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness, make_settings
from tests.support.proposals import PROPOSER, SIGNER_A, SIGNER_B, file_and_submit, setup_congress
from tests.support.updates import Person, button, text

# 25 sequences on SQLite, 12 more on PostgreSQL (its pass is the longer of the two).
_DEFAULT_EXAMPLES = "12" if os.environ.get("TEST_DATABASE_URL") else "25"
MAX_EXAMPLES = int(os.environ.get("FORM_PROPERTY_EXAMPLES", _DEFAULT_EXAMPLES))
# Member forms must not expire by the committee idle steps alone: 40 x 31 minutes < 24 hours.
MAX_STEPS = 40
PEOPLE = (AUTHOR, COMMITTEE, SECOND)
MARK = re.compile(r"〔(\d+)〕")
PHRASES = (
    "食堂的菜太咸",
    "请补充住院证明",
    "理由是材料不全",
    "三楼的灯还没修",
    "住院科室是心内科",
    "下周一前答复",
    "王老师",
    "初二年级组",
)

# The forms, by the names their conversations persist under.
REPLY = "suggestion_reply"
DESK_TEXT = "aid_desk_text"
PROPOSAL_TEXT = "proposal_text"
AID_ANSWER = "aid_answer"
FOLLOWUP = "suggestion_followup"
FILING = "suggestion_filing"
ASKING = "aid_asking"
PROPOSING = "proposal_filing"
PROFILE = "profile_edit"
PROMPTS = {REPLY, DESK_TEXT, PROPOSAL_TEXT}  # the committee idle time applies
SHOWN_BACK = PROMPTS | {AID_ANSWER, FOLLOWUP}  # texts for someone else

# What each entry shows when its form really starts (zh-hans catalog).
STARTED = {
    REPLY: WRITING,
    DESK_TEXT: WRITING,
    PROPOSAL_TEXT: WRITING,
    AID_ANSWER: WRITING,
    FOLLOWUP: WRITING,
    FILING: "请选择类别",  # suggestion.choose_category
    ASKING: "困难帮扶与慰问",  # aid.intro
    PROPOSING: "【案由】",  # proposal.write_title
    PROFILE: "请输入您的",  # reg.ask_name / reg.ask_department
}
APOLOGY = "抱歉"
GROUP_FAMILIES = ("sug", "ak", "pd", "join")  # buttons that work in groups (handlers/fallback.py)

examples_run: list[int] = []


# ---- the seeded school, restored for every example -------------------------------------------


@dataclass(frozen=True)
class World:
    """The ids the steps use."""

    member_of: dict[int, int]  # Telegram id -> member id
    telegram_of: dict[int, int]  # member id -> Telegram id
    items: tuple[int, int]  # the author's anonymous items: one answered, one open
    case: int  # the author's aid case, a question pending
    proposals: tuple[int, int]  # submitted, on the desk
    on_proposals: frozenset[int]  # Telegram ids of the proposer and the co-signers


@dataclass
class Template:
    """The seed as rows and the pickled conversations."""

    world: World
    rows: Rows
    conversations: bytes | None


async def seed(bot: BotHarness) -> World:
    """The congress school, a second committee member and the author (a representative, so
    /propose works for them), two anonymous items, an aid case with a question, and two
    submitted proposals."""
    await setup_congress(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=SECOND, name=SECOND_NAME, roles=[Role.COMMITTEE]
    )
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=AUTHOR,
        name=AUTHOR_NAME,
        department=AUTHOR_DEPARTMENT,
        roles=[Role.REPRESENTATIVE],
    )
    answered = await file_suggestion(bot, AUTHOR, "操场的灯坏了。", anonymous=True)
    await reply_to(bot, COMMITTEE, answered, "已报修。")
    waiting = await file_suggestion(bot, AUTHOR, "食堂太挤。", anonymous=True)
    case = await file_aid(bot, AUTHOR, "我父亲脑梗住院，在市一医院。")
    await ask_requester(bot, COMMITTEE, case, "请补充住院证明。")
    first = await file_and_submit(bot)
    second = await file_and_submit(
        bot,
        title="建议更换教学楼饮水机滤芯",
        reasons="滤芯一年没换。",
        measures="每学期更换一次。",
        category="logistics",
    )
    async with bot.db() as session:
        members = (await session.exec(select(Member))).all()
        case_now = await session.get(AidCase, case.id)
        item_now = await session.get(Suggestion, answered.id)
    assert case_now is not None and case_now.status == CaseStatus.INFO_REQUESTED
    assert item_now is not None and item_now.status == SuggestionStatus.ANSWERED
    member_of = {m.telegram_user_id: m.id or 0 for m in members if m.telegram_user_id}
    return World(
        member_of=member_of,
        telegram_of={member: telegram for telegram, member in member_of.items()},
        items=(answered.id or 0, waiting.id or 0),
        case=case.id or 0,
        proposals=(first.id or 0, second.id or 0),
        on_proposals=frozenset({PROPOSER.id, SIGNER_A.id, SIGNER_B.id}),
    )


@pytest.fixture
async def template(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The school, seeded once through the real application."""
    await empty_tables(database_url)
    settings_ = make_settings(database_url, tmp_path_factory.mktemp("form-seed"))
    bot = await start_app(settings_)
    try:
        world = await seed(bot)
    finally:
        await stop_app(bot)
    path = settings_.persistence_path
    return Template(
        world, await capture_rows(database_url), path.read_bytes() if path.exists() else None
    )


# ---- the model ---------------------------------------------------------------------------------


@dataclass
class Seat:
    """The form a person is in, as they saw it."""

    form: str | None = None
    target: int = 0
    step: str = ""  # typed | shown (texts for others); body, photos, ... (member forms)
    held: int | None = None  # the text shown back, waiting for Send
    texts: int = 0  # texts a proposal took so far (title, reasons, measures)
    body: int | None = None  # the suggestion's or the aid story's text, for the last step
    # After a press of the same form's entry that may be refused (a closed item), the model
    # does not compute whether it was; it checks only what is safe either way (the exact case
    # is test_one_form.py::test_a_refused_press_of_the_same_desk_button_keeps_the_reply_shown_back).
    doubt: bool = False


@dataclass(frozen=True)
class Typed:
    """One text a person typed, and the form it was typed for (None: no form)."""

    serial: int
    person: Person
    form: str | None
    target: int
    where: str  # private | group


Dest = tuple[Any, ...]  # ("chat", chat id) or ("row", table, column, primary key)


@dataclass
class Step:
    """What one step did and what it may deliver."""

    label: str
    person: Person
    inputs: int = 0  # private messages sent by the person
    presses: int = 0
    sends: int | None = None  # the text shown back when Send was pressed
    may_deliver: set[int] = field(default_factory=set)
    must_store_question: int | None = None
    must_store_name: int | None = None
    must_store_body: tuple[int, str] | None = None  # (text, table) a finished form stores
    expect: str = ""  # in form | no form | cancel in form | cancel no form (what a reply shows)
    gated: bool = False  # an update of the step reached the form gate
    first_update: bool = False  # the person's first update since their form expired
    expiry_maybe: bool = False  # ... or since a form the model is not sure of expired


class Run:
    """One example: the bot (restarted at will), the model and the checks."""

    def __init__(
        self, settings_: Settings, world: World, clock: Clock, caplog: pytest.LogCaptureFixture
    ) -> None:
        self.settings = settings_
        self.world = world
        self.clock = clock
        self.caplog = caplog
        self.bot: BotHarness | None = None
        self.seats = {person.id: Seat() for person in PEOPLE}
        self.typed: dict[int, Typed] = {}
        self.chat_hits: dict[int, set[int]] = defaultdict(set)  # serial -> chats
        self.row_hits: dict[int, set[Dest]] = defaultdict(set)
        # People whose change of name or department waits for the committee: a second
        # edit is refused at the press (issue 15: renames are approved first).
        self.pending_profile: set[int] = set()
        self.rows: dict[Dest, dict[str, Any]] = {}
        self.ledger: list[dict[str, Any]] = []  # every aid_ledger row, marked or not
        self.expired_unannounced: dict[int, str] = {}
        self.expiry_maybe: set[int] = set()  # a doubtful form may or may not have been alive
        self.steps: list[str] = []
        self.step_calls: list[Call] = []
        self._seen = 0  # calls of the running application already looked at

    # ---- running -------------------------------------------------------------------------

    @property
    def live(self) -> BotHarness:
        assert self.bot is not None
        return self.bot

    async def start(self) -> None:
        self.bot = await start_app(self.settings)
        use_clock(self.bot, self.clock)

    async def stop(self) -> None:
        if self.bot is not None:
            await stop_app(self.bot)
            self.bot = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def say(self, step: Step, body: str, *, in_group: bool = False) -> None:
        step.inputs += 0 if in_group else 1
        step.gated = True
        await self.live.feed(text(step.person, body, chat=GROUP if in_group else None))

    async def press(self, step: Step, data: str, *, in_group: bool = False) -> None:
        step.presses += 1
        # A private button pressed in a group is refused before the form gate sees it.
        step.gated = step.gated or not in_group or data.split(":")[0] in GROUP_FAMILIES
        await self.live.feed(button(step.person, data, chat=GROUP if in_group else None))

    def private_texts(self, person: Person) -> list[str]:
        """What this step said to the person in private."""
        return [
            call.text
            for call in self.step_calls
            if call.method == "sendMessage" and call.chat_id == person.id
        ]

    def new_calls(self) -> list[Call]:
        calls = self.live.telegram.calls
        fresh = calls[self._seen :]
        self._seen = len(calls)
        return fresh

    # ---- steps ---------------------------------------------------------------------------

    async def do(self, step: Step, action: str, args: dict[str, Any]) -> None:
        """Run one step and move the model."""
        self.steps.append(step.label)
        person = step.person
        seat = self.seats[person.id]
        self.step_calls = []
        if action in ("restart", "expire_prompts", "expire_all"):
            await self.clock_or_restart(action)
            return
        step.first_update = person.id in self.expired_unannounced
        step.expiry_maybe = person.id in self.expiry_maybe
        self._seen = len(self.live.telegram.calls)
        runner = getattr(self, f"act_{action}")
        await runner(step, seat, **args)

    async def clock_or_restart(self, action: str) -> None:
        if action == "restart":
            await self.restart()
            self._seen = len(self.live.telegram.calls)
            return
        prompts_only = action == "expire_prompts"
        if prompts_only:
            self.clock.advance(minutes=self.settings.committee_form_idle_minutes + 1)
        else:
            self.clock.advance(hours=self.settings.member_form_idle_hours, minutes=1)
        for person_id, seat in self.seats.items():
            if seat.form is None or (prompts_only and seat.form not in PROMPTS):
                continue
            if seat.doubt:
                self.expiry_maybe.add(person_id)
            else:
                self.expired_unannounced[person_id] = seat.form
            self.seats[person_id] = Seat()

    def collect(self) -> None:
        self.step_calls += self.new_calls()

    async def enter(
        self, step: Step, seat: Seat, form: str, target: int, *, how: str, data: str = ""
    ) -> None:
        """An entry point: a command or a button, in private or in the group."""
        in_group = how.endswith("group")
        if how.startswith("command"):
            await self.say(step, data, in_group=in_group)
        else:
            await self.press(step, data, in_group=in_group)
        self.collect()
        if in_group and form not in PROMPTS:
            return  # refused in groups: nothing changes
        started = any(STARTED[form] in message for message in self.private_texts(step.person))
        if not started:
            if seat.form == form:
                seat.doubt = True
            return
        new = Seat(form=form, target=target, step="typed" if form in SHOWN_BACK else "")
        self.seats[step.person.id] = new
        if form == FILING:
            await self.press(step, pack("sgf", "cat", await category_id(self.live)))
            new.step = "body"
        elif form == ASKING:
            await self.press(step, pack("ad", "who", "me"))
            await self.press(step, pack("ad", "type", "hospital"))
            new.step = "description"
        elif form == PROPOSING:
            new.step = "title"
        self.collect()

    async def act_desk(self, step: Step, seat: Seat, which: str, index: int, how: str) -> None:
        feature, action = which.split(":")
        if which == "sug:reply":
            form, target = REPLY, self.world.items[index]
        elif which == "ak:ask":
            form, target = DESK_TEXT, self.world.case
        elif which == "pd:nofile":
            form, target = PROPOSAL_TEXT, self.world.proposals[index]
        elif which == "ad:info":
            form, target = AID_ANSWER, self.world.case
        else:
            form, target = FOLLOWUP, self.world.items[index]
        await self.enter(step, seat, form, target, how=how, data=pack(feature, action, target))

    async def act_member_form(self, step: Step, seat: Seat, which: str, how: str) -> None:
        if which == "me":
            if how.endswith("group"):
                await self.say(step, "/me", in_group=True)
                self.collect()
                return
            await self.say(step, "/me")
            self.seats[step.person.id] = seat = Seat()  # a command ends the form
            if step.person.id in self.pending_profile:
                self.collect()
                return  # one change at a time: /me shows the one waiting, no edit starts
            field_ = "name" if step.person == AUTHOR else "dept"
            await self.enter(step, seat, PROFILE, 0, how="button", data=pack("me", "edit", field_))
            return
        form = {"suggest": FILING, "aid": ASKING, "propose": PROPOSING}[which]
        data = f"/{which}" if how.startswith("command") else pack("menu", which)
        await self.enter(step, seat, form, 0, how=how, data=data)

    async def act_type(self, step: Step, seat: Seat, phrase: str, in_group: bool) -> None:
        serial = len(self.typed) + 1
        body = f"{phrase}〔{serial}〕"
        form, target = (None, 0) if in_group else self.attribute(seat)
        where = "group" if in_group else "private"
        self.typed[serial] = Typed(serial, step.person, form, target, where)
        if not in_group and not seat.doubt:
            step.expect = "no form" if seat.form is None else "in form"
        await self.say(step, body, in_group=in_group)
        self.collect()
        if in_group or seat.form is None:
            return
        if seat.form in SHOWN_BACK:
            if seat.step != "typed":
                return  # Send / Edit / Cancel expected: the text is not taken
            if any(CHECK_BEFORE_SENDING in m for m in self.private_texts(step.person)):
                seat.step, seat.held = "shown", serial
                return
            # Not shown back: only a form that a refused press ended may do that (see Seat).
            assert seat.doubt, f"〔{serial}〕 for {seat.form} was not shown back before it left"
            self.seats[step.person.id] = Seat()
            return
        if seat.form == PROFILE:
            step.must_store_name = serial
            self.pending_profile.add(step.person.id)
            self.seats[step.person.id] = Seat()
        elif seat.form == FILING and seat.step == "body":
            seat.step, seat.body = "photos", serial
        elif seat.form == ASKING and seat.step == "description":
            seat.step, seat.body = "day", serial
        elif seat.form == PROPOSING:
            seat.texts += 1

    def attribute(self, seat: Seat) -> tuple[str | None, int]:
        """The form a text typed now is for, as its writer saw it (None: it is for no form)."""
        form = seat.form
        if form is None:
            return None, 0
        takes = (
            form in SHOWN_BACK
            or form == PROFILE
            or (form == FILING and seat.step == "body")
            or (form == ASKING and seat.step == "description")
            or (form == PROPOSING and seat.texts < 3)
        )
        return (form, seat.target) if takes else (None, 0)

    async def act_outgoing(self, step: Step, seat: Seat, choice: str, in_group: bool) -> None:
        data = {"send": SEND, "edit": EDIT, "cancel": CANCEL_OUT}[choice]
        await self.press(step, data, in_group=in_group)
        self.collect()
        if in_group or seat.form not in SHOWN_BACK or seat.step != "shown":
            return
        if choice == "send":
            assert seat.held is not None
            step.sends = seat.held
            step.may_deliver.add(seat.held)
            if seat.form == DESK_TEXT and not seat.doubt:
                step.must_store_question = seat.held
            self.seats[step.person.id] = Seat()
        elif choice == "edit":
            seat.step, seat.held = "typed", None
        else:
            self.seats[step.person.id] = Seat()

    async def act_command(self, step: Step, seat: Seat, command: str, in_group: bool) -> None:
        if command == "/cancel" and not in_group and not seat.doubt:
            step.expect = "cancel no form" if seat.form is None else "cancel in form"
        await self.say(step, command, in_group=in_group)
        self.collect()
        if not in_group:
            self.seats[step.person.id] = Seat()  # /cancel, or any other command, ends it

    async def act_menu(self, step: Step, seat: Seat, action: str, in_group: bool) -> None:
        await self.press(step, pack("menu", action), in_group=in_group)
        self.collect()
        if not in_group:
            self.seats[step.person.id] = Seat()  # a menu button leaves the form

    async def act_finish(self, step: Step, seat: Seat) -> None:
        """Walk the member's form to its end (only where the model says it waits)."""
        if seat.body is not None and not seat.doubt:
            step.must_store_body = (seat.body, "suggestion" if seat.form == FILING else "aid_case")
        if seat.form == FILING and seat.step == "photos":
            await self.press(step, pack("sgf", "photos", "done"))
            await self.press(step, pack("sgf", "anon", "anon"))
            await self.press(step, pack("sgf", "confirm", "yes"))
        elif seat.form == ASKING and seat.step == "day":
            await self.say(step, "昨天")
            await self.press(step, pack("ad", "amt", "std"))
            await self.press(step, pack("ad", "ev", "done"))
            await self.press(step, pack("ad", "ok", "yes"))
        else:
            await self.say(step, "/help")
        self.seats[step.person.id] = Seat()
        self.collect()

    # ---- checks --------------------------------------------------------------------------

    async def scan_rows(self) -> dict[int, set[Dest]]:
        """Where each marked text is stored now: any text column of any table but the
        conversation store (a writer's own drafts, dropped when the form ends; see
        tests/test_conversation_store.py)."""
        found: dict[int, set[Dest]] = defaultdict(set)
        self.rows = {}
        async with self.live.app.state.engine.connect() as connection:
            for table in SQLModel.metadata.sorted_tables:
                if table.name == ConversationState.__tablename__:
                    continue
                columns = list(table.columns)  # any value that is a string is looked at
                result = await connection.execute(table.select())
                if table.name == "aid_ledger":
                    self.ledger = [dict(row) for row in result.mappings()]
                    rows = self.ledger
                else:
                    rows = [dict(row) for row in result.mappings()]
                for row in rows:
                    key = tuple(row[c.name] for c in table.primary_key.columns)
                    for column in columns:
                        value = row[column.name]
                        if not isinstance(value, str):
                            continue
                        for serial in MARK.findall(value):
                            dest = ("row", table.name, column.name, key)
                            found[int(serial)].add(dest)
                            self.rows[dest] = row
        return found

    async def check(self, step: Step) -> None:
        """Everything that must hold after this step."""
        if self.bot is None:
            return
        self.collect()
        rows_before = {serial: set(dests) for serial, dests in self.row_hits.items()}
        chats_before = {serial: set(chats) for serial, chats in self.chat_hits.items()}
        for call in self.step_calls:
            if call.chat_id is None:
                continue
            for serial in MARK.findall(dump(call)):
                typed = self.typed[int(serial)]
                if call.chat_id != typed.person.id:
                    self.chat_hits[int(serial)].add(call.chat_id)
        self.row_hits = await self.scan_rows()
        for serial, typed in self.typed.items():
            for chat in self.chat_hits.get(serial, set()):
                assert self.may_reach_chat(typed, chat), (
                    f"〔{serial}〕 typed by {typed.person.id} for {typed.form} {typed.target} "
                    f"reached chat {chat}"
                )
            for dest in self.row_hits.get(serial, set()):
                assert self.may_be_stored(typed, dest, self.rows[dest]), (
                    f"〔{serial}〕 typed by {typed.person.id} for {typed.form} {typed.target} "
                    f"stored in {dest[1:3]}: {self.rows[dest]}"
                )
            fresh = (self.chat_hits.get(serial, set()) - chats_before.get(serial, set())) | (
                self.row_hits.get(serial, set()) - rows_before.get(serial, set())
            )
            if fresh and typed.form in SHOWN_BACK:
                assert serial in step.may_deliver, (
                    f"〔{serial}〕 for {typed.form} left in a step that did not send it: {fresh}"
                )
        self.check_answers(step)
        self.check_replies(step)
        if step.must_store_question is not None:
            stored = self.row_hits.get(step.must_store_question, set())
            assert any(dest[1] == "aid_ledger" for dest in stored), "question not stored"
        if step.must_store_body is not None:
            serial, table = step.must_store_body
            stored = self.row_hits.get(serial, set())
            assert any(dest[1] == table for dest in stored), f"not stored in {table}"
        if step.must_store_name is not None:
            stored = self.row_hits.get(step.must_store_name, set())
            tables = {"member", "profile_change_request"}  # approved, or waiting for approval
            assert any(dest[1] in tables for dest in stored), "profile change not saved"
        if step.sends is not None:
            reached = bool(
                self.chat_hits.get(step.sends, set()) - chats_before.get(step.sends, set())
            ) or bool(self.row_hits.get(step.sends, set()) - rows_before.get(step.sends, set()))
            told = bool(self.private_texts(step.person)) or any(
                c.method == "answerCallbackQuery" and c.text for c in self.step_calls
            )
            assert reached or told, "Send was pressed and nothing happened"
        errors = [r.getMessage() for r in self.caplog.records if r.levelno >= logging.ERROR]
        assert not errors, errors
        apologies = [c.text for c in self.step_calls if APOLOGY in c.text]
        assert not apologies, apologies

    def check_replies(self, step: Step) -> None:
        """What the person was told matches the form the model says they are in."""
        if not step.expect or step.first_update or step.expiry_maybe:
            return
        told = "\n".join(self.private_texts(step.person))
        if step.expect == "no form":
            assert NOT_UNDERSTOOD in told, f"a text with no form open got: {told!r}"
        elif step.expect == "in form":
            assert NOT_UNDERSTOOD not in told, f"a text for a form got: {told!r}"
        elif step.expect == "cancel no form":
            assert NOTHING_ACTIVE in told, f"/cancel with no form open got: {told!r}"
        else:
            assert told and NOTHING_ACTIVE not in told, f"/cancel in a form got: {told!r}"
            assert UNKNOWN_COMMAND not in told, told

    def check_answers(self, step: Step) -> None:
        person = step.person
        answers = [c for c in self.step_calls if c.method == "answerCallbackQuery"]
        assert len(answers) == step.presses, f"{step.presses} presses, {len(answers)} answers"
        if step.inputs:
            assert self.private_texts(person), "a private message got no answer"
        expired = [t for t in self.private_texts(person) if EXPIRED in t]
        if step.first_update and step.gated:
            self.expired_unannounced.pop(person.id)
            assert len(expired) == 1, f"expiry told {len(expired)} times"
        elif step.expiry_maybe and step.gated:
            self.expiry_maybe.discard(person.id)
            assert len(expired) <= 1, f"expiry told {len(expired)} times"
        elif step.presses or step.inputs:
            assert not expired, f"told of an expiry that was not due: {expired}"

    def may_reach_chat(self, typed: Typed, chat: int) -> bool:
        """Whether a text for this form may be sent to this chat (never its writer's)."""
        form = typed.form
        if form in (REPLY, DESK_TEXT):
            return chat == AUTHOR.id  # the author of the items, the requester of the case
        if form == PROPOSAL_TEXT:
            return chat in self.world.on_proposals | {COMMITTEE_GROUP_ID}
        if form == FOLLOWUP:
            return chat == COMMITTEE_GROUP_ID
        if form == FILING:  # its card, and the committee's /suggestions
            return chat in (COMMITTEE_GROUP_ID, COMMITTEE.id, SECOND.id)
        if form == AID_ANSWER:
            return chat in self.askers_answered(typed)
        if form == PROFILE:  # a new name or department waits on a card for the committee
            return chat in (COMMITTEE_GROUP_ID, COMMITTEE.id, SECOND.id)
        return False  # no form, an aid story, a proposal draft

    def askers_answered(self, typed: Typed) -> set[int]:
        """Who asked last before each stored answer carrying this text."""
        askers: set[int] = set()
        ledger = sorted(self.ledger, key=lambda row: int(row["id"]))
        for dest in self.row_hits.get(typed.serial, set()):
            if dest[1] != "aid_ledger":
                continue
            answer = self.rows[dest]
            earlier = [
                r
                for r in ledger
                if r["case_id"] == answer["case_id"]
                and r["kind"] == "info_asked"
                and r["id"] < answer["id"]
            ]
            if earlier:
                askers.add(self.world.telegram_of.get(earlier[-1]["actor_member_id"], 0))
        return askers

    def may_be_stored(self, typed: Typed, dest: Dest, row: dict[str, Any]) -> bool:
        """Whether a text for this form may be stored in this row and column."""
        form, table, column = typed.form, dest[1], dest[2]
        me = self.world.member_of.get(typed.person.id)
        if form == REPLY:
            return (table, column) == ("suggestion_entry", "body") and (
                row["kind"],
                row["suggestion_id"],
                row["committee_member_id"],
            ) == ("reply", typed.target, me)
        if form == FOLLOWUP:
            return (table, column) == ("suggestion_entry", "body") and (
                row["kind"],
                row["suggestion_id"],
                row["committee_member_id"],
            ) == ("followup", typed.target, None)
        if form in (DESK_TEXT, AID_ANSWER):
            kind = "info_asked" if form == DESK_TEXT else "info_given"
            return (table, column) == ("aid_ledger", "note") and (
                row["kind"],
                row["case_id"],
                row["actor_member_id"],
            ) == (kind, typed.target, me)
        if form == PROPOSAL_TEXT:
            return (table, column, row["id"]) == ("proposal", "decision_reason", typed.target)
        if form == FILING:
            return (table, column) == ("suggestion", "body") and row["author_member_id"] is None
        if form == ASKING:
            return (table, column) == ("aid_case", "description") and row[
                "requester_member_id"
            ] == me
        if form == PROPOSING:
            return (
                table == "proposal"
                and column in ("title", "reasons", "measures")
                and row["proposer_member_id"] == me
            )
        if form == PROFILE:
            field_ = "real_name" if typed.person == AUTHOR else "department"
            asked = "new_name" if typed.person == AUTHOR else "new_department"
            return (table, column, row["id"]) == ("member", field_, me) or (
                table == "profile_change_request"
                and column in (asked, "old_name", "old_department")
                and row["member_id"] == me
            )
        return False


# ---- drawing steps -----------------------------------------------------------------------------

ACTIONS = (
    ["type"] * 8
    + ["outgoing"] * 4
    + ["desk"] * 5
    + ["own"] * 2
    + ["member_form"] * 3
    + ["command", "menu", "cancel"] * 2
    + ["finish", "type_group"]
    + ["restart", "expire_prompts", "expire_all"]
)


def draw_step(data: st.DataObject, previous: Person) -> tuple[Step, str, dict[str, Any]]:
    """One step: who (often the one who acted last), what, and its arguments."""
    kind = data.draw(st.sampled_from(ACTIONS), label="action")
    same = data.draw(st.booleans(), label="same person")
    person = previous if same else data.draw(st.sampled_from(PEOPLE), label="person")
    args: dict[str, Any] = {}
    if kind == "type":
        action = "type"
        args = {"phrase": data.draw(st.sampled_from(PHRASES)), "in_group": False}
    elif kind == "type_group":
        action = "type"
        args = {"phrase": data.draw(st.sampled_from(PHRASES)), "in_group": True}
    elif kind == "outgoing":
        action = "outgoing"
        choice = data.draw(st.sampled_from(["send"] * 4 + ["edit", "cancel"]))
        args = {"choice": choice, "in_group": data.draw(st.integers(0, 9)) == 0}
    elif kind in ("desk", "own"):
        action = "desk"
        families = (
            ["sug:reply", "ak:ask", "pd:nofile"] if kind == "desk" else ["ad:info", "sga:more"]
        )
        args = {
            "which": data.draw(st.sampled_from(families)),
            "index": data.draw(st.integers(0, 1)),
            "how": data.draw(st.sampled_from(["button", "button", "button group"])),
        }
        if kind == "own":
            args["how"] = data.draw(st.sampled_from(["button"] * 3 + ["button group"]))
    elif kind == "member_form":
        action = "member_form"
        args = {
            "which": data.draw(st.sampled_from(["suggest", "aid", "propose", "me"])),
            "how": data.draw(
                st.sampled_from(["command", "command", "button", "command group", "button group"])
            ),
        }
    elif kind == "command":
        action = "command"
        args = {
            "command": data.draw(st.sampled_from(["/menu", "/mine", "/help", "/nosuch", "/me"])),
            "in_group": data.draw(st.booleans()),
        }
    elif kind == "cancel":
        action = "command"
        args = {"command": "/cancel", "in_group": data.draw(st.integers(0, 4)) == 0}
    elif kind == "menu":
        action = "menu"
        args = {
            "action": data.draw(st.sampled_from(["mine", "help", "me", "suggestions"])),
            "in_group": data.draw(st.booleans()),
        }
    else:
        action = kind
    label = f"{person.first_name} {action} {args}"
    return Step(label, person), action, args


# ---- the property ------------------------------------------------------------------------------


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    print_blob=True,
    # No shrinking: an example restores the database and runs a fresh application; a failure
    # is reported as found, with every step it took (see the note on the assertion). No saved
    # examples either: replaying one recorded by an earlier run (the SQLite pass, then the
    # PostgreSQL pass of `make test`) ended in "inconsistent data generation" instead of a
    # verdict, and a failure prints every step it took anyway.
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_a_typed_text_reaches_only_the_form_its_writer_saw_last(
    database_url: str,
    template: Template,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    steps = data.draw(st.integers(1, MAX_STEPS), label="steps")
    await restore_rows(database_url, template.rows)
    settings_ = make_settings(database_url, tmp_path, anonymous_daily_limit=100)
    settings_.persistence_path.unlink(missing_ok=True)
    if template.conversations is not None:
        settings_.persistence_path.write_bytes(template.conversations)
    caplog.clear()
    caplog.set_level(logging.INFO)
    run = Run(settings_, template.world, Clock(), caplog)
    await run.start()
    try:
        previous = PEOPLE[0]
        for _ in range(steps):
            step, action, args = draw_step(data, previous)
            previous = step.person
            await run.do(step, action, args)
            await run.check(step)
    except AssertionError as failure:
        failure.add_note("steps:\n" + "\n".join(run.steps))
        sent = [f"{call.method} {call.chat_id} {call.text!r}" for call in run.step_calls]
        failure.add_note("the last step sent:\n" + "\n".join(sent))
        raise
    finally:
        await run.stop()
    examples_run.append(len(run.typed))


def test_report_examples() -> None:
    """Not a check: how many examples and texts the property tried (`pytest -s`)."""
    print(f"\n{len(examples_run)} examples, {sum(examples_run)} texts typed")
