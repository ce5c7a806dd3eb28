"""`unionbot district init` and `unionbot school add|list`, then the bot serving what they made:
the new school's chair binds their invitation and their school's committee group."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from bot.settings import Settings
from models.members import Member, MemberRole, Role
from models.organizations import Organization, OrgKind
from tests.support.harness import make_settings, running_bot
from tests.support.updates import Person, group_chat

NEW_GROUP = -1002000000077


@pytest.fixture
def cli_env(clean_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Environment for `unionbot`: the test database, Chinese, no .env file."""
    monkeypatch.setenv("DATABASE_URL", clean_database)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "zh-Hans")
    monkeypatch.setenv("ORGANIZATION_NAME", "实验中学工会")
    monkeypatch.chdir(tmp_path)
    return clean_database


def test_a_district_made_from_the_shell_and_its_new_chair_at_work(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["school", "add", "第二小学"]) == 1
    assert "district init" in capsys.readouterr().err

    assert main(["district", "init", "城区教育工会"]) == 0
    assert "start org-" in capsys.readouterr().out
    assert main(["district", "init", "另一个区"]) == 1  # one district per deployment
    assert "城区教育工会" in capsys.readouterr().err
    assert main(["school", "add", "第二小学", "--chair", "孙主席", "--bot-username", "ud_bot"]) == 0
    added = capsys.readouterr().out
    assert main(["school", "add", "第二小学"]) == 1
    assert "第二小学" in capsys.readouterr().err
    code = re.search(r"start=inv-([A-Za-z0-9_-]+)", added)
    assert code is not None and "start=org-" in added
    assert main(["school", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in listed] == ["实验中学工会", "第二小学"]
    assert main(["members", "links", "--school", "第二小学"]) == 0
    assert "孙主席" in capsys.readouterr().out
    assert main(["members", "links", "--school", "没有这所"]) == 1
    assert main(["members", "links"]) == 2  # in a district the roster's school is named
    assert "--school" in capsys.readouterr().err
    assert main(["members", "links", "--school", "城区教育工会"]) == 0  # the district's staff

    asyncio.run(_the_new_chair_at_work(make_settings(cli_env, tmp_path), code.group(1)))


async def _the_new_chair_at_work(settings: Settings, code: str) -> None:
    chair = Person(5001, "孙", "zh-hans")
    async with running_bot(settings) as bot:
        assert bot.app.state.district_id == bot.org_id
        await bot.say(chair, f"/start inv-{code}")
        await bot.say(chair, "/bindgroup", chat=group_chat(NEW_GROUP))
        async with bot.db() as session:
            school = (
                await session.exec(select(Organization).where(Organization.name == "第二小学"))
            ).one()
            member = (
                await session.exec(select(Member).where(Member.telegram_user_id == chair.id))
            ).one()
            roles = (
                await session.exec(select(MemberRole.role).where(MemberRole.member_id == member.id))
            ).all()
        assert school.kind == OrgKind.SCHOOL and school.parent_id == bot.org_id
        assert member.organization_id == school.id and list(roles) == [Role.CHAIR]
        assert school.committee_chat_id == NEW_GROUP
        assert "第二小学" in bot.telegram.last(NEW_GROUP).text
