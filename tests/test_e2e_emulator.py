"""End-to-end: the bot as its own process, polling the independent emulator telegram-test-api.

Each scenario goes through HTTP only: people write and press buttons through the emulator's
client API, the bot polls and answers through tests/support/emulator.py's adapter, and the test
reads what the emulator stored and what the bot's database holds.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.db import SessionFactory
from models.activities import Activity, Signup, SignupStatus
from models.aid import AidCase
from models.calendar import CalendarEntry
from models.members import Gender, JoinRequest, JoinStatus, Member, MemberStatus, Role, load_actor
from models.proposals import Department, Proposal, open_session
from models.suggestions import Suggestion
from tests.support.e2e_stack import (
    GROUP_ID,
    Stack,
    database_url,
    running_stack,
    seed,
    skip_without_emulator,
    with_db,
)
from tests.support.emulator import wait_until
from tests.support.updates import Person

CHAIR = Person(81001, "张", "zh-hans")
COMMITTEE = Person(81002, "刘", "zh-hans")
TEACHER = Person(81003, "Wang", "en")
COLLEAGUE = Person(81004, "陳", "zh-hant")
THIRD = Person(81005, "孙", "zh-hans")
HANDLER = Person(81006, "周", "zh-hans")
ZONE = ZoneInfo("Asia/Shanghai")
STAFF = [(CHAIR, "张主席", (Role.CHAIR,), None), (COMMITTEE, "刘委员", (Role.COMMITTEE,), None)]


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A fresh database for the bot process."""
    skip_without_emulator()
    return database_url(tmp_path)


def _rows(url: str, model: type) -> list[Any]:
    async def load(db: SessionFactory) -> list[Any]:
        async with db() as session:
            return list((await session.exec(select(model))).all())

    result: list[Any] = with_db(url, load)
    return result


def _group_texts(stack: Stack) -> str:
    return "\n".join(stack.client.texts(GROUP_ID))


def test_join_and_approval(tmp_path: Path, url: str) -> None:
    seed(url, STAFF)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        client = stack.client
        client.say(TEACHER, "/start")
        client.press(TEACHER, client.wait_for(TEACHER.id, "choose your language"), "English")
        client.wait_for(TEACHER.id, "real name")
        client.say(TEACHER, "Wang Fang")
        client.wait_for(TEACHER.id, "department")
        client.say(TEACHER, "Grade 8 team")
        client.press(TEACHER, client.wait_for(TEACHER.id, "Gender"), "Female")
        client.wait_for(TEACHER.id, "Birthday")
        client.say(TEACHER, "1985-03-08")
        client.press(TEACHER, client.wait_for(TEACHER.id, "retired"), "No")
        client.press(TEACHER, client.wait_for(TEACHER.id, "check your request"), "Confirm")
        client.wait_for(TEACHER.id, "Thank you, Wang Fang")

        card = client.wait_for(GROUP_ID, "Wang Fang")
        client.press(COMMITTEE, card, "批准")
        client.wait_for(TEACHER.id, "approved")
        assert client.wait_for_edit(card, "刘委员").buttons == []
        stack.assert_clean_log()

    [request] = _rows(url, JoinRequest)
    assert request.status == JoinStatus.APPROVED
    wang = [m for m in _rows(url, Member) if m.telegram_user_id == TEACHER.id]
    assert [m.status for m in wang] == [MemberStatus.ACTIVE]


def test_named_and_anonymous_suggestions_with_replies(tmp_path: Path, url: str) -> None:
    seed(url, [*STAFF, (TEACHER, "王芳", (), Gender.FEMALE), (COLLEAGUE, "陳美玲", (), None)])
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        client = stack.client
        for person, body, choice in (
            (TEACHER, "The staff room printer has been broken for a week.", "sgf:anon:named"),
            (COLLEAGUE, "教師餐廳的菜太鹹了。", "sgf:anon:anon"),
        ):
            client.say(person, "/suggest")
            client.tap(person, "sgf:cat:")
            client.say(person, body)
            client.tap(person, "sgf:photos:done")
            client.tap(person, choice)
            client.tap(person, "sgf:confirm:yes")
            client.wait_for(person.id, "意-" if person is COLLEAGUE else "-")

        named = client.wait_for(GROUP_ID, "printer")
        anonymous = client.wait_for(GROUP_ID, "菜太鹹")
        assert "王芳" in named.text
        for card, person, answer in (
            (named, TEACHER, "已报修，周五前修好。"),
            (anonymous, COLLEAGUE, "已和食堂沟通，少放盐。"),
        ):
            client.press(COMMITTEE, card, "答复")
            client.wait_for(COMMITTEE.id, "答复")
            client.write(COMMITTEE, answer)
            client.wait_for(person.id, answer)
            client.wait_for_edit(card, "刘委员")
        stack.assert_clean_log()
        group = _group_texts(stack)

    # The anonymous author is nowhere: not in the group, not in the stored row.
    assert "陳" not in group and str(COLLEAGUE.id) not in group
    items = {item.body[:4]: item for item in _rows(url, Suggestion)}
    assert len(items) == 2
    anonymous_row = items["教師餐廳"]
    assert anonymous_row.author_member_id is None


def _open_congress(url: str, org_id: int) -> None:
    async def work(db: SessionFactory) -> None:
        async with db() as session:
            chair = (
                await session.exec(select(Member).where(Member.telegram_user_id == CHAIR.id))
            ).one()
            handler = (
                await session.exec(select(Member).where(Member.telegram_user_id == HANDLER.id))
            ).one()
            session.add(
                Department(organization_id=org_id, name="总务处", handler_member_id=handler.id)
            )
            await session.commit()
            actor = await load_actor(session, org_id=org_id, telegram_user_id=CHAIR.id)
            assert actor is not None and chair.id is not None
            today = datetime.now(ZONE).date()
            await open_session(
                session,
                org_id=org_id,
                actor=actor,
                name="第八届教代会第一次会议",
                opens_on=today - timedelta(days=1),
                closes_on=today + timedelta(days=14),
                min_cosigners=2,
            )

    with_db(url, work)


def test_proposal_with_cosigners_through_triage_and_rating(tmp_path: Path, url: str) -> None:
    rep = (Role.REPRESENTATIVE,)
    org_id = seed(
        url,
        [
            *STAFF,
            (TEACHER, "王芳", rep, None),
            (COLLEAGUE, "陳美玲", rep, None),
            (THIRD, "孙老师", rep, None),
            (HANDLER, "周主任", (), None),
        ],
    )
    _open_congress(url, org_id)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        client = stack.client
        client.say(TEACHER, "/propose")
        client.say(TEACHER, "Keep the canteen open until 19:00")
        client.say(TEACHER, "Teachers on evening duty cannot eat before the canteen closes.")
        client.say(TEACHER, "Serve dinner until seven.")
        client.tap(TEACHER, "pp:cat:welfare")
        client.tap(TEACHER, "pp:confirm:yes")
        receipt = client.wait_for(TEACHER.id, "cosign-")
        match = re.search(r"cosign-(\d+)", receipt.text)
        assert match is not None
        draft_id = match.group(1)

        client.say(COLLEAGUE, f"/start cosign-{draft_id}")
        client.tap(COLLEAGUE, "pp:cosign:")
        client.say(THIRD, f"/cosign {draft_id}")
        client.tap(THIRD, "pp:cosign:")

        desk = client.wait_for(GROUP_ID, "canteen")
        client.press(COMMITTEE, desk, "立案")
        client.tap(COMMITTEE, "pd:fileok:", chat_id=GROUP_ID)  # asked once: 确定
        client.tap(COMMITTEE, "pd:asg:", chat_id=GROUP_ID)
        client.tap(COMMITTEE, "pd:lead:", chat_id=GROUP_ID)
        client.tap(COMMITTEE, "pd:asgok:", chat_id=GROUP_ID)

        to_handler = client.wait_for(HANDLER.id, "canteen")
        client.press(HANDLER, to_handler, "答复")
        client.tap(HANDLER, "pd:ist:")  # the 落实情况 first (issue 17), then the answer
        client.wait_for(HANDLER.id, "落实情况：")
        client.write(HANDLER, "From next week dinner is served until 19:00.")
        client.wait_for(TEACHER.id, "dinner is served")
        client.tap(TEACHER, "pr:rate:")
        client.wait_for_edit(desk, "满意")
        stack.assert_clean_log()

    [proposal] = _rows(url, Proposal)
    assert proposal.number == 1
    assert str(proposal.status) in ("closed", "ProposalStatus.CLOSED")


def test_aid_case_through_approval_and_payment(tmp_path: Path, url: str) -> None:
    story = "Appendicitis, in hospital since yesterday at the People's Hospital."
    seed(url, [*STAFF, (TEACHER, "王芳", (), Gender.FEMALE)])
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        client = stack.client
        client.say(TEACHER, "/aid")
        client.tap(TEACHER, "ad:who:me")
        client.tap(TEACHER, "ad:type:hospital")
        client.say(TEACHER, story)
        client.say(TEACHER, "yesterday")
        client.tap(TEACHER, "ad:amt:std")
        client.tap(TEACHER, "ad:ev:done")
        client.tap(TEACHER, "ad:ok:yes")
        client.wait_for(TEACHER.id, "助-")

        card = client.wait_for(GROUP_ID, "助-")
        client.press(COMMITTEE, card, "批准")
        client.wait_for(TEACHER.id, "approved")
        client.tap(CHAIR, "ak:pay:", chat_id=GROUP_ID)
        client.wait_for(CHAIR.id, "现金")
        client.say(CHAIR, "今天 现金")
        client.wait_for(TEACHER.id, "paid")
        stack.assert_clean_log()
        group = _group_texts(stack)

    assert "Appendicitis" not in group and "王芳" not in group
    [case] = _rows(url, AidCase)
    assert str(case.status).endswith("paid")


def test_activity_sign_up_with_waitlist_promotion(tmp_path: Path, url: str) -> None:
    seed(url, [*STAFF, (TEACHER, "王芳", (), Gender.FEMALE), (COLLEAGUE, "陳美玲", (), None)])
    starts = (datetime.now(ZONE) + timedelta(days=3)).replace(hour=15, minute=0)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        client = stack.client
        client.say(COMMITTEE, "/newactivity")
        client.say(COMMITTEE, "教职工乒乓球赛")
        client.tap(COMMITTEE, "ag:cat:sport")
        client.say(COMMITTEE, starts.strftime("%Y-%m-%d %H:%M"))
        client.say(COMMITTEE, "体育馆")
        client.say(COMMITTEE, "1")
        for step in ("dl:start", "who:everyone", "ch:none", "fam:0", "mode:first_come"):
            client.tap(COMMITTEE, f"ag:{step}")
        client.tap(COMMITTEE, "ag:desc:none")
        client.tap(COMMITTEE, "ag:ok:yes")

        client.tap(TEACHER, "av:su:")
        # Different people's presses are handled concurrently, so wait for the teacher's own seat
        # alert; counting answers raced with the committee's last press being answered late.
        wait_until(
            lambda: any("You have a seat" in str(a.get("text")) for a in stack.adapter.answers()),
            "the seat to be confirmed",
        )
        client.tap(COLLEAGUE, "av:su:")
        wait_until(
            lambda: any("候補第 1 位" in str(a.get("text")) for a in stack.adapter.answers()),
            "the waitlist alert",
        )
        client.tap(TEACHER, "av:cx:")
        client.wait_for(COLLEAGUE.id, "從候補轉為正式報名")
        stack.assert_clean_log()

    seated = [s for s in _rows(url, Signup) if s.status == SignupStatus.SEAT]
    [activity] = _rows(url, Activity)
    assert activity.seats_taken == 1 and len(seated) == 1


def test_calendar_greeting_reaches_the_women(tmp_path: Path, url: str) -> None:
    seed(
        url,
        [*STAFF, (TEACHER, "王芳", (), Gender.FEMALE), (COLLEAGUE, "陳大文", (), Gender.MALE)],
    )
    now = datetime.now(ZONE)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        client = stack.client
        client.say(COMMITTEE, "/calendar")
        client.tap(COMMITTEE, "cal:add:")
        client.tap(COMMITTEE, "cal:kind:greeting")
        client.tap(COMMITTEE, "cal:aud:women")
        client.say(COMMITTEE, now.strftime("%m-%d"))
        client.say(COMMITTEE, now.strftime("%H:%M"))
        client.say(COMMITTEE, "女教师节日问候")
        client.say(COMMITTEE, "祝各位女教师节日快乐！")
        client.tap(COMMITTEE, "cal:txt:rest")
        client.tap(COMMITTEE, "cal:new:yes")

        client.wait_for(TEACHER.id, "节日快乐", seconds=60)
        stack.assert_clean_log()
        assert "节日快乐" not in "".join(client.texts(COLLEAGUE.id))

    [entry] = [e for e in _rows(url, CalendarEntry) if e.key.startswith("custom_")]
    assert entry.enabled
