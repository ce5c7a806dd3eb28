"""`unionbot district init` and `unionbot school add|list`: turning a deployment into a
district union with its schools, from the operator's shell."""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import create_engine, create_session_factory, upgrade
from bot.i18n import I18n, Translator
from bot.settings import Settings
from models.district import add_school, create_district, schools_of, the_district
from models.errors import DomainError
from models.exports import safe_cell
from models.members import Member, MemberRole, MemberStatus, Role, new_invite_code
from models.organizations import Organization, ensure_default_organization
from scheduler.calendar_defaults import seed_defaults


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `district` and `school` commands."""
    district = commands.add_parser("district", help="make this deployment a district union")
    district_commands = district.add_subparsers(dest="district_command", metavar="TASK")
    init = district_commands.add_parser(
        "init",
        help="create the district union; the school served until now becomes its first school",
    )
    init.add_argument("name", help="the district union's name, e.g. 城区教育工会")
    school = commands.add_parser("school", help="the schools of a district")
    school_commands = school.add_subparsers(dest="school_command", metavar="TASK")
    adding = school_commands.add_parser("add", help="add a school to the district")
    adding.add_argument("name", help="the school's name as teachers will search for it")
    adding.add_argument("--chair", help="the chair's name: prints the chair's invitation link")
    listing = school_commands.add_parser("list", help="the schools, their groups and join links")
    for sub in (adding, listing):
        sub.add_argument("--bot-username", default="", help="the bot's @username, for full links")


def wants(args: argparse.Namespace) -> bool:
    """Whether the command line is one of these commands."""
    return (args.command == "district" and args.district_command == "init") or (
        args.command == "school" and args.school_command in ("add", "list")
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one of these commands."""
    return asyncio.run(_run(settings, args))


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    tr = I18n(settings.default_language).get(settings.default_language)
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            if args.command == "district":
                return await _init(session, settings, tr, args.name)
            district = await the_district(session)
            if district is None or district.id is None:
                print(tr("cli.schools_no_district"), file=sys.stderr)
                return 1
            if args.school_command == "add":
                return await _add(session, tr, district.id, args)
            await _list(session, tr, district.id, args.bot_username)
            return 0
    except DomainError as error:
        print(tr(error.key, **error.params), file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


async def _init(session: AsyncSession, settings: Settings, tr: Translator, name: str) -> int:
    await ensure_default_organization(session, name=settings.organization_name)
    district = await create_district(session, name=name)
    assert district.id is not None
    await seed_defaults(session, org_id=district.id, i18n=I18n(settings.default_language))
    print(tr("cli.schools_district_ready", name=district.name))
    print(tr("cli.schools_district_link", link=join_link(district, "")))
    await _list(session, tr, district.id, "")
    print(tr("cli.schools_restart"))
    return 0


async def _add(
    session: AsyncSession, tr: Translator, district_id: int, args: argparse.Namespace
) -> int:
    school = await add_school(session, district_id=district_id, name=args.name)
    assert school.id is not None
    await seed_defaults(session, org_id=school.id, i18n=I18n(tr.language))
    print(tr("cli.schools_added", name=school.name, link=join_link(school, args.bot_username)))
    if args.chair:
        chair = Member(
            organization_id=school.id,
            real_name=args.chair.strip()[:40],
            department=tr("cli.schools_chair_department"),
            status=MemberStatus.INVITED,
            invite_code=new_invite_code(),
        )
        session.add(chair)
        await session.flush()
        session.add(MemberRole(member_id=chair.id or 0, role=Role.CHAIR))
        await session.commit()
        payload = f"inv-{chair.invite_code}"
        link = _link(payload, args.bot_username)
        print(tr("cli.schools_chair_link", name=safe_cell(chair.real_name), link=link))
    print(tr("cli.schools_restart"))
    return 0


async def _list(session: AsyncSession, tr: Translator, district_id: int, bot_username: str) -> None:
    schools = await schools_of(session, district_id=district_id)
    counts = dict(
        (
            await session.exec(
                select(Member.organization_id, func.count())
                .where(
                    col(Member.organization_id).in_([s.id for s in schools]),
                    Member.status == MemberStatus.ACTIVE,
                )
                .group_by(col(Member.organization_id))
            )
        ).all()
    )
    for school in schools:
        group = (
            tr("cli.schools_group_bound")
            if school.committee_chat_id
            else tr("cli.schools_group_missing")
        )
        print(
            f"{school.id}\t{safe_cell(school.name)}\t{counts.get(school.id or 0, 0)}\t{group}\t"
            f"{join_link(school, bot_username)}"
        )


async def school_named(session: AsyncSession, name: str) -> Organization | None:
    """The district's school of exactly this name (or the district union itself, by its own
    name: its staff's roster)."""
    district = await the_district(session)
    if district is None or district.id is None:
        return None
    if district.name == " ".join(name.split()):
        return district
    for school in await schools_of(session, district_id=district.id):
        if school.name == " ".join(name.split()):
            return school
    return None


def join_link(org: Organization, bot_username: str) -> str:
    """The link that opens joining at this school (or the district union, for its staff)."""
    return _link(f"org-{org.id}", bot_username)


def _link(payload: str, bot_username: str) -> str:
    if bot_username:
        return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"
    return f"/start {payload}"
