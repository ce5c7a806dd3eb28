"""Roster import: staff lists (CSV or XLSX) become invited members with personal links."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import utcnow
from models.errors import N_, DomainError
from models.members import (
    DEPARTMENT_LIMIT,
    NAME_LIMIT,
    Gender,
    Member,
    MemberStatus,
    new_invite_code,
)
from models.validation import Birthday, clean_text, parse_birthday

# Header names as schools write them, mapped to our fields.
_HEADERS = {
    "name": "name",
    "姓名": "name",
    "real_name": "name",
    "department": "department",
    "部门": "department",
    "部門": "department",
    "教研组": "department",
    "教研組": "department",
    "dept": "department",
    "staff_no": "staff_no",
    "工号": "staff_no",
    "工號": "staff_no",
    "staff number": "staff_no",
    "gender": "gender",
    "性别": "gender",
    "性別": "gender",
    "sex": "gender",
    "birthday": "birthday",
    "生日": "birthday",
    "出生日期": "birthday",
    "retired": "retired",
    "退休": "retired",
    "离退休": "retired",
    "離退休": "retired",
}
_FEMALE = {"女", "f", "female", "woman"}
_MALE = {"男", "m", "male", "man"}
_YES = {"是", "yes", "y", "1", "true", "退休"}
_NO = {"否", "no", "n", "0", "false", ""}


@dataclass(frozen=True)
class RosterRow:
    """One valid line of a roster file."""

    line: int
    key: str
    real_name: str
    department: str
    gender: Gender | None
    birthday: Birthday | None
    retired: bool


@dataclass(frozen=True)
class RowError:
    """A line that could not be imported, with a message key."""

    line: int
    key: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class ImportReport:
    """What an import did."""

    created: list[Member] = field(default_factory=list)
    updated: list[Member] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def read_table(path: Path) -> list[list[str]]:
    """Rows of a .csv (UTF-8, with or without BOM, or GBK) or .xlsx file as text cells."""
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError(N_("roster.encoding"))
    return list(csv.reader(io.StringIO(text)))


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook  # only a staff list in xlsx needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError) as exc:
        raise DomainError(N_("roster.unreadable")) from exc
    try:
        return [
            ["" if cell is None else _cell_text(cell) for cell in row]
            for row in workbook.active.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()  # read-only workbooks keep the file open until closed


def _cell_text(value: object) -> str:
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def parse_rows(
    table: Iterable[list[str]], *, today: date
) -> tuple[list[RosterRow], list[RowError]]:
    """Validate every line; good rows are returned even when others are bad."""
    rows = iter(table)
    header = next(rows, None)
    if header is None:
        raise DomainError(N_("roster.empty"))
    columns = {index: _HEADERS.get(name.strip().lower()) for index, name in enumerate(header)}
    if "name" not in columns.values() or "department" not in columns.values():
        raise DomainError(N_("roster.missing_columns"))
    good: list[RosterRow] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for line, cells in _numbered(rows):
        if not any(cell.strip() for cell in cells):
            continue
        record = {columns.get(i): cell for i, cell in enumerate(cells) if columns.get(i)}
        try:
            row = _parse_row(line, record, today=today)
        except DomainError as error:
            errors.append(RowError(line, error.key, error.params))
            continue
        if row.key in seen:
            errors.append(RowError(line, N_("roster.duplicate_in_file")))
            continue
        seen.add(row.key)
        good.append(row)
    return good, errors


def _numbered(rows: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    return ((number, cells) for number, cells in enumerate(rows, start=2))


def _parse_row(line: int, record: dict[str | None, str], *, today: date) -> RosterRow:
    name = clean_text(record.get("name"), limit=NAME_LIMIT)
    department = clean_text(record.get("department"), limit=DEPARTMENT_LIMIT)
    gender_text = (record.get("gender") or "").strip().lower()
    gender = (
        Gender.FEMALE if gender_text in _FEMALE else Gender.MALE if gender_text in _MALE else None
    )
    if gender_text and gender is None:
        raise DomainError(N_("roster.bad_gender"), value=gender_text)
    birthday_text = (record.get("birthday") or "").strip()
    birthday = parse_birthday(birthday_text, today=today) if birthday_text else None
    retired_text = (record.get("retired") or "").strip().lower()
    if retired_text not in _YES | _NO:
        raise DomainError(N_("roster.bad_retired"), value=retired_text)
    staff_no = (record.get("staff_no") or "").strip()
    key = f"no:{staff_no}" if staff_no else f"name:{name}|{department}"
    return RosterRow(
        line=line,
        key=key,
        real_name=name,
        department=department,
        gender=gender,
        birthday=birthday,
        retired=retired_text in _YES,
    )


def _differs(member: Member, row: RosterRow) -> bool:
    return (
        member.real_name != row.real_name
        or member.department != row.department
        or member.gender != (row.gender.value if row.gender else None)
        or member.birthday != row.birthday
        or member.retired != row.retired
    )


def _fill(member: Member, row: RosterRow) -> None:
    member.real_name = row.real_name
    member.department = row.department
    member.gender = row.gender.value if row.gender else None
    member.retired = row.retired
    member.birth_year = row.birthday.year if row.birthday else None
    member.birth_month = row.birthday.month if row.birthday else None
    member.birth_day = row.birthday.day if row.birthday else None


async def import_roster(
    session: AsyncSession, *, org_id: int, rows: list[RosterRow], errors: list[RowError]
) -> ImportReport:
    """Create invited members for new rows; re-importing the same rows changes nothing.

    A row that changed updates a member still waiting for their link; members who already
    joined keep what they entered themselves.
    """
    report = ImportReport(errors=list(errors))
    existing = {
        member.roster_key: member
        for member in (
            await session.exec(
                select(Member).where(
                    Member.organization_id == org_id,
                    Member.roster_key.is_not(None),  # type: ignore[union-attr]
                )
            )
        ).all()
    }
    for row in rows:
        member = existing.get(row.key)
        if member is None:
            member = Member(
                organization_id=org_id,
                real_name=row.real_name,
                department=row.department,
                status=MemberStatus.INVITED,
                invite_code=new_invite_code(),
                roster_key=row.key,
            )
            _fill(member, row)
            session.add(member)
            report.created.append(member)
        elif member.status == MemberStatus.INVITED and _differs(member, row):
            _fill(member, row)
            member.updated_at = utcnow()
            session.add(member)
            report.updated.append(member)
        else:
            report.unchanged += 1
    await session.commit()
    return report


async def invited_members(session: AsyncSession, *, org_id: int) -> list[Member]:
    """Members imported from the roster who have not bound their Telegram account yet."""
    statement = select(Member).where(
        Member.organization_id == org_id, Member.status == MemberStatus.INVITED
    )
    return list((await session.exec(statement.order_by(Member.department, Member.real_name))).all())
