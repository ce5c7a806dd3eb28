"""The district roll-up from two schools' 2026: school A is the seed's year
(tests/support/seed_year.py), school B a small school written row by row below. Every figure
is written by hand here, from what the two schools hold; the total is their sum, its rates
recomputed from the sums. Nothing private (a name, an anonymous author, an aid story) reaches
the text or the workbook."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.cli import main
from bot.i18n import I18n
from bot.settings import Settings
from handlers.district_report.buttons import DistrictPick
from models.activities import Activity, ActivityStatus, Signup, SignupStatus
from models.aid import AidCase, AidLedgerEntry, CaseStatus, LedgerKind
from models.ballots import Ballot, BallotStatus
from models.district import add_school, create_district, schools_of
from models.hardship import HardshipFile
from models.members import Member, MemberStatus
from models.proposals import (
    CongressSession,
    Implementation,
    Proposal,
    ProposalRating,
    ProposalStatus,
    Rating,
)
from models.reports.district import DistrictRollup, Metric, SchoolRollup, district_rollup
from models.reports.district_files import (
    MISSED,
    MISSED_FILL,
    rollup_charts,
    rollup_text,
    rollup_workbook,
)
from models.reports.period import year_period
from models.suggestions import EntryKind, Suggestion, SuggestionCategory, SuggestionEntry
from tests.support.district import (
    CHAIR_A,
    COMMITTEE_B,
    DISTRICT_NAME,
    DISTRICT_STAFF,
    SCHOOL_A,
    SCHOOL_B,
    TEACHER_B,
    district_bot,
    make_district,
)
from tests.support.harness import BotHarness
from tests.support.seed_year import FEN, ZONE, at, build_year

SECRET = b"test-secret-key-0123456789abcdef"
B_STORY = "家中失火，老人住院，急需帮助"
B_ANONYMOUS_AUTHOR = "王秘密"


@dataclass
class Two:
    """The roll-up of 2026 and what must never appear in it."""

    rollup: DistrictRollup
    a: SchoolRollup
    b: SchoolRollup
    names: list[str]


async def _school_b(bot: BotHarness, org_id: int) -> None:
    """8 active members and 2 invited; 3 suggestions (1 anonymous, answered in 2 days; 1
    answered after 19 days; 1 open); 4 proposals; one hospital payment of 300 yuan; one
    hardship file; one activity with 4 seats; one ballot."""
    before = at(date(2025, 9, 1))
    async with bot.db() as session:
        people = [
            Member(
                organization_id=org_id,
                telegram_user_id=70_001 + index,
                real_name=B_ANONYMOUS_AUTHOR if index == 1 else f"乙校教师{index}",
                department="语文组",
                status=MemberStatus.ACTIVE,
                created_at=before,
                joined_at=before,
            )
            for index in range(8)
        ] + [
            Member(
                organization_id=org_id,
                real_name=f"乙校新人{index}",
                department="数学组",
                status=MemberStatus.INVITED,
                created_at=at(date(2026, 2, 1)),
            )
            for index in range(2)
        ]
        session.add_all(people)
        category = SuggestionCategory(organization_id=org_id, code="canteen", position=0)
        session.add(category)
        await session.flush()
        ids = [person.id or 0 for person in people]
        for seq, (day, anonymous, reply) in enumerate(
            (
                (date(2026, 4, 1), True, date(2026, 4, 3)),
                (date(2026, 5, 1), False, date(2026, 5, 20)),
                (date(2026, 6, 1), False, None),
            ),
            1,
        ):
            item = Suggestion(
                organization_id=org_id,
                year=2026,
                seq=seq,
                category_id=category.id or 0,
                body="食堂的菜太咸。",
                anonymous=anonymous,
                author_member_id=ids[1],
                client_token=f"b-sug-{seq}",
                created_at=at(day),
                answered_at=at(reply) if reply else None,
            )
            session.add(item)
            await session.flush()
            if reply:
                session.add(
                    SuggestionEntry(
                        suggestion_id=item.id or 0, kind=EntryKind.REPLY, created_at=at(reply)
                    )
                )
        congress = CongressSession(
            organization_id=org_id,
            name="一届三次教代会",
            opens_on=date(2026, 3, 1),
            closes_on=date(2026, 3, 31),
        )
        session.add(congress)
        await session.flush()
        for number, (status, implementation, rating) in enumerate(
            (
                (ProposalStatus.CLOSED, Implementation.DONE, Rating.SATISFIED),
                (ProposalStatus.CLOSED, Implementation.DONE, Rating.BASIC),
                (ProposalStatus.ANSWERED, Implementation.PLANNED, Rating.DISSATISFIED),
                (ProposalStatus.NOT_FILED, None, None),
            ),
            1,
        ):
            proposal = Proposal(
                organization_id=org_id,
                session_id=congress.id,
                number=number,
                proposer_member_id=ids[2],
                title=f"提案{number}",
                reasons="理由",
                measures="措施",
                client_token=f"b-prop-{number}",
                status=status,
                implementation=implementation,
            )
            session.add(proposal)
            await session.flush()
            if rating:
                session.add(
                    ProposalRating(
                        proposal_id=proposal.id or 0, round=1, member_id=ids[2], rating=rating
                    )
                )
        case = AidCase(
            organization_id=org_id,
            number="助-2026-0001",
            aid_type="hospital",
            subject_member_id=ids[3],
            requester_member_id=ids[3],
            description=B_STORY,
            happened_on=date(2026, 5, 1),
            approved_amount=300 * FEN,
            status=CaseStatus.PAID,
            client_token="b-aid-1",
        )
        session.add(case)
        await session.flush()
        session.add(
            AidLedgerEntry(
                organization_id=org_id,
                case_id=case.id or 0,
                kind=LedgerKind.PAID,
                actor_member_id=ids[0],
                amount=300 * FEN,
                paid_on=date(2026, 5, 10),
            )
        )
        session.add(
            HardshipFile(
                organization_id=org_id,
                member_id=ids[4],
                level="general",
                reason=B_STORY,
                review_on=date(2027, 3, 1),
                opened_by_member_id=ids[0],
                created_at=at(date(2026, 3, 1)),
            )
        )
        activity = Activity(
            organization_id=org_id,
            title="趣味运动会",
            category="sport",
            starts_at=at(date(2026, 5, 15)),
            place="操场",
            deadline=at(date(2026, 5, 10)),
            status=ActivityStatus.CLOSED,
            created_by_member_id=ids[0],
        )
        session.add(activity)
        await session.flush()
        for member_id in ids[:4]:
            session.add(
                Signup(activity_id=activity.id or 0, member_id=member_id, status=SignupStatus.SEAT)
            )
        session.add(
            Ballot(
                organization_id=org_id,
                title="评优推荐",
                kind="election",
                electorate="{}",
                items="[]",
                opens_at=at(date(2026, 5, 25)),
                closes_at=at(date(2026, 6, 1)),
                status=BallotStatus.CLOSED,
                created_by_member_id=ids[0],
            )
        )
        await session.commit()


async def _two_schools(bot: BotHarness) -> Two:
    await build_year(bot.db, org_id=bot.org_id, secret=SECRET)
    async with bot.db() as session:
        district = await create_district(session, name="示范区教育工会")
        school_b = await add_school(session, district_id=district.id or 0, name="第二小学工会")
    await _school_b(bot, school_b.id or 0)
    async with bot.db() as session:
        schools = await schools_of(session, district_id=district.id or 0)
        rollup = await district_rollup(
            session,
            district=district.name,
            schools=schools,
            period=year_period(2026),
            zone=ZONE,
            answer_days=7,
        )
        names = [member.real_name for member in (await session.exec(select(Member))).all()]
    by_id = {row.school_id: row for row in rollup.schools}
    return Two(rollup, by_id[bot.org_id], by_id[school_b.id], names)


async def test_the_roll_up_of_two_schools_by_hand(bot: BotHarness) -> None:
    two = await _two_schools(bot)
    a, b, total = two.a, two.b, two.rollup.total
    # School A, the seed's year (the figures test_report_figures checks for one school).
    assert (a.members, a.roster, a.rate(Metric.JOIN)) == (45, 48, 93.8)
    assert (a.suggestions, a.answered, a.answered_in_time) == (10, 7, 5)
    assert (a.proposals.submitted, a.proposals.filed, a.proposals.answered) == (18, 16, 0)
    assert a.rate(Metric.IMPLEMENTATION) is None and a.rate(Metric.SATISFACTION) is None
    assert (a.aid_cases, a.aid_paid, a.hardship_on_file) == (31, 34_500 * FEN, 6)
    assert (a.activities, a.participants, a.eligible, a.ballots, a.sessions) == (4, 33, 161, 0, 1)
    assert a.missed() == [Metric.ANSWERED_IN_TIME]  # 50.0% < 90%; no proposal answered yet
    # School B, written above.
    assert (b.members, b.roster, b.rate(Metric.JOIN)) == (8, 10, 80.0)
    assert (b.suggestions, b.answered, b.answered_in_time) == (3, 2, 1)
    rates = b.proposals
    assert (rates.submitted, rates.filed, rates.answered, rates.closed) == (4, 3, 3, 2)
    assert (rates.satisfied, rates.rated, rates.done, rates.planned) == (2, 3, 2, 1)
    assert [b.rate(m) for m in (Metric.FILING, Metric.COMPLETION)] == [75.0, 66.7]
    assert [b.rate(m) for m in (Metric.SATISFACTION, Metric.IMPLEMENTATION)] == [66.7, 66.7]
    assert [(line.aid_type, line.cases, line.people, line.paid) for line in b.aid] == [
        ("hospital", 1, 1, 300 * FEN)
    ]
    assert (b.hardship_on_file, b.activities, b.participants, b.eligible) == (1, 1, 4, 8)
    assert (b.ballots, b.sessions, b.rate(Metric.PARTICIPATION)) == (1, 1, 50.0)
    assert b.missed() == [
        Metric.JOIN,
        Metric.ANSWERED_IN_TIME,
        Metric.SATISFACTION,
        Metric.IMPLEMENTATION,
    ]
    # The district: sums, and rates from the sums (not the mean of the schools' rates).
    assert (total.members, total.roster, total.rate(Metric.JOIN)) == (53, 58, 91.4)
    assert (total.suggestions, total.answered_in_time) == (13, 6)
    assert total.rate(Metric.ANSWERED_IN_TIME) == 46.2
    assert (total.proposals.submitted, total.proposals.filed) == (22, 19)
    assert [total.rate(m) for m in (Metric.FILING, Metric.COMPLETION)] == [86.4, 10.5]
    assert total.rate(Metric.IMPLEMENTATION) == 66.7
    hospital = next(line for line in total.aid if line.aid_type == "hospital")
    assert (hospital.cases, hospital.people, hospital.paid) == (17, 15, 4_300 * FEN)
    assert (total.aid_cases, total.aid_paid, total.hardship_on_file) == (32, 34_800 * FEN, 7)
    assert (total.activities, total.participants, total.eligible) == (5, 37, 169)
    assert (total.rate(Metric.PARTICIPATION), total.ballots, total.sessions) == (21.9, 1, 2)
    assert total.missed() == [Metric.ANSWERED_IN_TIME, Metric.SATISFACTION, Metric.IMPLEMENTATION]

    # The text and the workbook: figures, highlights, and nothing private.
    tr = I18n("zh-Hans").get("zh-Hans")
    text = rollup_text(tr, two.rollup)
    assert "会员 53 人，在册教职工 58 人，入会率 91.4%（目标 ≥90%）✅" in text
    assert "落实率 66.7%（目标 ≥95%）✗ 未达标" in text
    assert f"{MISSED} 第二小学工会：入会率、按期答复率、满意率、落实率" in text
    assert "34,800 元" in text
    book = load_workbook(
        io.BytesIO(rollup_workbook(tr, two.rollup, made=at(date(2027, 1, 5)).replace(tzinfo=None)))
    )
    sheet = book["各校汇总"]
    rows = list(sheet.iter_rows(min_row=3))
    headings = [cell.value for cell in rows[0]]
    by_school = {row[0].value: row for row in rows[1:]}
    assert set(by_school) == {a.name, "第二小学工会", "示范区教育工会"}
    b_row = by_school["第二小学工会"]
    join = b_row[headings.index("入会率")]
    assert join.value == 0.8 and join.fill.fgColor.rgb.endswith(MISSED_FILL)
    assert MISSED in join.number_format
    assert b_row[headings.index("未达标项")].value == f"{MISSED} 入会率、按期答复率、满意率、落实率"
    a_join = by_school[a.name][headings.index("入会率")]
    assert a_join.value == 0.938 and a_join.fill.fill_type is None
    district = by_school["示范区教育工会"]
    assert district[headings.index("会员")].value == 53
    assert district[headings.index("帮扶金额（元）")].value == 34_800
    assert district[headings.index("落实率")].value == 0.667
    assert district[headings.index("落实率")].fill.fgColor.rgb.endswith(MISSED_FILL)
    cells = [
        str(cell.value)
        for name in book.sheetnames
        for row in book[name].iter_rows()
        for cell in row
        if cell.value is not None
    ]
    everything = "\n".join([text, *cells])
    for secret in (*two.names, B_STORY, "住院治疗，请工会看望。", "食堂的菜太咸。"):
        assert secret not in everything, secret
    charts = rollup_charts(tr, two.rollup)
    assert [chart.name for chart in charts] == ["implementation", "join"]
    assert all(chart.png.startswith(b"\x89PNG") for chart in charts)


def _keep_files(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """The fake records only the parameters; keep the uploaded files too."""
    files: list[tuple[str, bytes]] = []
    recorded = bot.telegram.do_request

    async def keeping(url: str, method: str, request_data: Any = None, **kwargs: Any) -> Any:
        if request_data is not None:
            for value in (request_data.multipart_data or {}).values():
                files.append((str(value[0]), bytes(value[1])))
        return await recorded(url, method, request_data, **kwargs)

    monkeypatch.setattr(bot.telegram, "do_request", keeping)
    return files


async def test_district_through_the_bot_staff_only(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with district_bot(settings) as (bot, ids):
        await _school_b(bot, ids.school_b)
        files = _keep_files(bot, monkeypatch)
        # A school's chair, a school's committee member, a plain member: refused, nothing else.
        for person, expected in (
            (CHAIR_A, "本校的报表请用 /report"),
            (COMMITTEE_B, "本校的报表请用 /report"),
            (TEACHER_B, "请联系本校工会委员会"),
        ):
            await bot.say(person, "/district 2026")
            assert expected in bot.telegram.last(person.id).text
            await bot.press(person, DistrictPick("y", 2026, 0).pack())
            assert expected in bot.telegram.answers()[-1].params.get("text", "")
            assert len(bot.telegram.sent(chat_id=person.id)) == 1
        assert files == []
        assert bot.telegram.sent("sendDocument") == bot.telegram.sent("sendPhoto") == []
        # District staff: the periods, then the summary, the workbook and the charts.
        await bot.say(DISTRICT_STAFF, "/district")
        assert "请选择要汇总的时段" in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.press(DISTRICT_STAFF, DistrictPick("y", 2026, 0).pack())
        summary = bot.telegram.last(DISTRICT_STAFF.id).text
        assert f"{DISTRICT_NAME} 全区汇总：2026年（2 所学校）" in summary
        # B's 8 + 2 invited written above, and the people the district set-up adds: A's chair
        # in A; B's chair, committee member and teacher in B (the district's staff are in none).
        assert "会员 12 人，在册教职工 14 人" in summary
        assert f"{MISSED} {SCHOOL_B}：入会率、按期答复率、满意率、落实率" in summary
        (document,) = bot.telegram.sent("sendDocument")
        assert document.chat_id == DISTRICT_STAFF.id
        assert {call.chat_id for call in bot.telegram.sent("sendPhoto")} == {DISTRICT_STAFF.id}
        names = [name for name, _content in files]
        assert names[0] == "district-2026.xlsx" and "district-2026-join.png" in names
        book = load_workbook(io.BytesIO(files[0][1]))
        schools = [row[0].value for row in book["各校汇总"].iter_rows(min_row=4)]
        assert schools == [SCHOOL_A, SCHOOL_B, DISTRICT_NAME]
        assert B_STORY not in summary and B_ANONYMOUS_AUTHOR not in summary


def test_unionbot_report_district(
    clean_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", clean_database)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "zh-Hans")
    monkeypatch.setenv("ORGANIZATION_NAME", SCHOOL_A)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "district"
    # A single school (the database holds one school, no district): refused plainly.
    assert main(["report", "--year", "2026", "--district", "--out", str(out)]) == 2
    assert "没有区工会，所以没有全区汇总" in capsys.readouterr().err
    asyncio.run(make_district(clean_database))
    assert main(["report", "--year", "2026", "--district", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{DISTRICT_NAME} 全区汇总：2026年（2 所学校）" in printed
    assert sorted(path.name for path in out.iterdir()) == [
        "district-2026-join.png",
        "district-2026.xlsx",
    ]
    book = load_workbook(out / "district-2026.xlsx")
    assert book.sheetnames == ["各校汇总", "帮扶分类", "目标"]
