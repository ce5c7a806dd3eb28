"""The 台账 workbook the higher-level union and the 经审 committee take: one sheet per book.

Each sheet opens with the union's heading (organization, book, the period as dates), the day
it was made, and the column headings, frozen below them; money is in yuan with two decimals
and thousands separators, days are dates, and totals close the sheet. The workbook is streamed
by `models.xlsx_stream` (openpyxl, even in write-only mode, spends seconds on a roster of
50,000), which passes every cell through `models.exports.safe_cell` and writes texts as text
cells, never formulas. What stays with the committee never gets here:
`models.reports.book_rows` does not even read it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from models.aid import FEN, AidType, signed_yuan
from models.exports import CellValue
from models.hardship import FileStatus
from models.notice_text import day_words
from models.proposal_text import implementation_words
from models.proposals import ProposalStatus
from models.reports.book_rows import (
    ActivityRow,
    AidRow,
    Books,
    CongressBook,
    HardshipRow,
    RosterRow,
    SuggestionRow,
    read_books,
)
from models.reports.figures import rate
from models.reports.period import ReportPeriod
from models.xlsx_stream import StreamBook, StreamSheet, Styled

MONEY = "#,##0.00"
COUNT = "#,##0"
DATE = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm"
PERCENT = "0.0%"
HEADER_ROW = 3  # title, made-on line, column headings; the data start below
TITLE_SIZE = 14


@dataclass(frozen=True)
class Column:
    """A column: its heading key, width (in characters) and number format."""

    key: str
    width: float
    number_format: str | None = None


async def books_workbook(
    session: AsyncSession,
    *,
    org_id: int,
    period: ReportPeriod,
    tr: Translator,
    zone: tzinfo,
    organization: str,
) -> bytes:
    """The 台账 workbook (xlsx) of a period in the reader's language."""
    books = await read_books(session, org_id=org_id, period=period, zone=zone)
    made = datetime.now(zone).replace(tzinfo=None)
    return await asyncio.to_thread(
        render_workbook, books, period=period, tr=tr, organization=organization, made=made
    )


def render_workbook(
    books: Books, *, period: ReportPeriod, tr: Translator, organization: str, made: datetime
) -> bytes:
    """Write the books (already read) as an xlsx file; `made` is the local time it is made."""
    book = StreamBook()
    dates = tr("book.period", start=day_words(tr, period.start), end=day_words(tr, period.last_day))
    generated = tr("book.generated", day=day_words(tr, made.date()))

    def sheet(name_key: str, columns: Sequence[Column]) -> StreamSheet:
        name = tr(name_key)
        widths = [column.width for column in columns]
        ws = book.sheet(name, widths=widths, frozen_rows=HEADER_ROW)
        title = tr("book.title", org=organization, book=name, period=dates)
        ws.append([Styled(title, bold=True, size=TITLE_SIZE)])
        ws.append([generated])
        ws.append([Styled(tr(column.key), bold=True) for column in columns])
        return ws

    _roster(sheet("book.sheet.roster", ROSTER), tr, books.roster)
    _suggestions(sheet("book.sheet.suggestions", SUGGESTIONS), tr, books.suggestions)
    _proposals(sheet("book.sheet.proposals", PROPOSALS), tr, books.congresses)
    _aid(sheet("book.sheet.aid", AID), tr, books.aid)
    _hardship(sheet("book.sheet.hardship", HARDSHIP), tr, books.hardship)
    _activities(sheet("book.sheet.activities", ACTIVITIES), tr, books.activities, made)
    return book.close()


def _formatted(columns: Sequence[Column], values: Sequence[CellValue]) -> list[CellValue | Styled]:
    """A data row with each column's number format on its numbers and dates."""
    row: list[CellValue | Styled] = []
    for column, value in zip(columns, values, strict=True):
        if column.number_format and value is not None and not isinstance(value, str):
            row.append(Styled(value, number_format=column.number_format))
        else:
            row.append(value)
    return row


def _total(
    ws: StreamSheet,
    columns: Sequence[Column],
    label: str,
    count: int | float | None,
    **sums: int | float | None,
) -> None:
    """A bold totals row: the label first, a count second, sums under their columns (by key
    suffix: `approved=...` goes under the column whose key ends in `.approved`)."""
    values: list[CellValue | Styled] = [Styled(label, bold=True)]
    for column in columns[1:]:
        number_format: str | None
        if column is columns[1]:
            value = count
            number_format = PERCENT if isinstance(count, float) else COUNT
        else:
            value = sums.get(column.key.rsplit(".", 1)[-1])
            number_format = column.number_format
        values.append(None if value is None else Styled(value, number_format, bold=True))
    ws.append(values)


def _empty(ws: StreamSheet, tr: Translator, rows: Sequence[object]) -> None:
    if not rows:
        ws.append([tr("book.empty")])


def _yuan(fen: int) -> float:
    """Fen as yuan for a money cell (two decimals, exact for any sum of fen)."""
    return round(fen / FEN, 2)


# ---- 会员名册 --------------------------------------------------------------------------------

ROSTER = (
    Column("book.col.department", 20),
    Column("book.col.name", 14),
    Column("book.col.gender", 8),
    Column("book.col.retired", 10),
    Column("book.col.roles", 28),
    Column("book.col.joined", 12, DATE),
    Column("book.col.status", 24),
)
MEMBER_STATUS = {
    "active": "status.active",
    "invited": "status.invited",
    "pending": "status.pending",
}


def _roster(ws: StreamSheet, tr: Translator, rows: Sequence[RosterRow]) -> None:
    yes, no = tr("book.yes"), tr("book.no")
    for row in rows:
        ws.append(
            _formatted(
                ROSTER,
                [
                    row.department,
                    row.name,
                    tr(f"gender.{row.gender}") if row.gender else "",
                    yes if row.retired else no,
                    "、".join(tr(f"role.{role}") for role in row.roles),
                    row.joined,
                    tr(MEMBER_STATUS[row.status]),
                ],
            ),
        )
    _empty(ws, tr, rows)
    _total(ws, ROSTER, tr("book.total"), len(rows))
    _total(ws, ROSTER, tr("book.roster.women"), sum(row.gender == "female" for row in rows))
    _total(ws, ROSTER, tr("book.roster.retirees"), sum(row.retired for row in rows))
    for status, key in MEMBER_STATUS.items():
        _total(ws, ROSTER, tr(key), sum(row.status == status for row in rows))


# ---- 意见建议台账 ----------------------------------------------------------------------------

SUGGESTIONS = (
    Column("book.col.number", 16),
    Column("book.col.received", 12, DATE),
    Column("book.col.category", 12),
    Column("book.col.author", 12),
    Column("book.col.content", 50),
    Column("book.col.answers", 50),
    Column("book.col.answer_days", 12, COUNT),
    Column("book.col.status", 10),
    Column("book.col.closing_note", 30),
)


def _suggestions(ws: StreamSheet, tr: Translator, rows: Sequence[SuggestionRow]) -> None:
    for row in rows:
        if row.category_code:
            category = tr(f"category.{row.category_code}")
        else:
            category = row.category_name or ""
        answers = "\n".join(
            tr("book.answer_line", day=day.isoformat(), text=text) for day, text in row.answers
        )
        ws.append(
            _formatted(
                SUGGESTIONS,
                [
                    row.number,
                    row.received,
                    category,
                    tr("suggestion.anonymous_author") if row.anonymous else row.author or "",
                    row.body,
                    answers,
                    row.first_answer_days,
                    tr(f"suggestion.status.{row.status}"),
                    row.closing_note or "",
                ],
            ),
        )
    _empty(ws, tr, rows)
    _total(ws, SUGGESTIONS, tr("book.total"), len(rows))
    _total(ws, SUGGESTIONS, tr("book.suggestions.anonymous"), sum(r.anonymous for r in rows))
    _total(ws, SUGGESTIONS, tr("book.suggestions.answered"), sum(bool(r.answers) for r in rows))
    _total(ws, SUGGESTIONS, tr("book.suggestions.closed"), sum(r.status == "closed" for r in rows))


# ---- 提案汇编 --------------------------------------------------------------------------------

PROPOSALS = (
    Column("book.col.congress", 20),
    Column("book.col.proposal_number", 10, COUNT),
    Column("book.col.title", 24),
    Column("book.col.category", 10),
    Column("book.col.proposer", 14),
    Column("book.col.signers", 20),
    Column("book.col.reasons", 50),
    Column("book.col.measures", 50),
    Column("book.col.status", 12),
    Column("book.col.merged_into", 12),
    Column("book.col.decision", 24),
    Column("book.col.lead", 14),
    Column("book.col.co", 16),
    Column("book.col.answer", 50),
    Column("book.col.answered_on", 12, DATE),
    Column("book.col.implementation", 24),
    Column("book.col.rating", 12),
)


def _proposals(ws: StreamSheet, tr: Translator, congresses: Sequence[CongressBook]) -> None:
    for congress in congresses:
        for row in congress.proposals:
            status = tr(f"proposal.status.{row.status}")
            if row.status == ProposalStatus.ASSIGNED and row.rounds > 1:
                status = tr("proposal.status_round", status=status, round=row.rounds)
            merged = tr("book.proposal_number", number=row.merged_into) if row.merged_into else ""
            ws.append(
                _formatted(
                    PROPOSALS,
                    [
                        row.session_name,
                        row.number,
                        row.title,
                        tr(f"proposal.category.{row.category}"),
                        "、".join((row.proposer, *row.coauthors)),
                        "、".join(row.signers),
                        row.reasons,
                        row.measures,
                        status,
                        merged,
                        row.decision_reason or "",
                        row.lead or "",
                        "、".join(row.co),
                        row.answer or "",
                        row.answered_on,
                        implementation_words(
                            tr, row.status, row.implementation, row.implementation_reason
                        ),
                        tr(f"proposal.rating.{row.verdict}") if row.verdict else "",
                    ],
                ),
            )
    _empty(ws, tr, congresses)
    for congress in congresses:
        figures = congress.figures
        ws.append([Styled(congress.name, bold=True)])
        _total(ws, PROPOSALS, tr("book.proposals.collected"), figures.collected)
        _total(ws, PROPOSALS, tr("book.proposals.submitted"), figures.submitted)
        _total(ws, PROPOSALS, tr("book.proposals.filed"), figures.filed)
        _total(ws, PROPOSALS, tr("book.proposals.answered"), figures.answered)
        _total(ws, PROPOSALS, tr("book.proposals.closed"), figures.closed)
        satisfaction = figures.satisfaction_rate
        if satisfaction is not None:
            _total(ws, PROPOSALS, tr("book.proposals.satisfaction"), round(satisfaction / 100, 3))


# ---- 帮扶慰问台账 ----------------------------------------------------------------------------

AID = (
    Column("book.col.number", 16),
    Column("book.col.aid_type", 12),
    Column("book.col.person", 12),
    Column("book.col.department", 14),
    Column("book.col.approved", 12, MONEY),
    Column("book.col.approvers", 16),
    Column("book.col.paid", 12, MONEY),
    Column("book.col.corrections", 20),
    Column("book.col.net", 12, MONEY),
    Column("book.col.paid_on", 12, DATE),
    Column("book.col.method", 12),
    Column("book.col.paid_by", 12),
)


def _aid(ws: StreamSheet, tr: Translator, rows: Sequence[AidRow]) -> None:
    def sums(part: Sequence[AidRow]) -> dict[str, float]:
        return {
            "approved": _yuan(sum(row.approved for row in part)),
            "paid": _yuan(sum(row.paid for row in part)),
            "net": _yuan(sum(row.net for row in part)),
        }

    for aid_type in AidType:
        part = [row for row in rows if row.aid_type == aid_type]
        if not part:
            continue
        name = tr(f"aid.type.{aid_type}")
        for row in part:
            corrections = "\n".join(
                f"{day.isoformat()} {signed_yuan(change)}" for day, change in row.corrections
            )
            ws.append(
                _formatted(
                    AID,
                    [
                        row.number,
                        name,
                        row.person,
                        row.department,
                        _yuan(row.approved),
                        "、".join(row.approvers),
                        _yuan(row.paid),
                        corrections,
                        _yuan(row.net),
                        row.paid_on,
                        row.method,
                        row.paid_by,
                    ],
                ),
            )
        _total(ws, AID, tr("book.subtotal", name=name), len(part), **sums(part))
    _empty(ws, tr, rows)
    _total(ws, AID, tr("book.total"), len(rows), **sums(rows))


# ---- 困难职工档案 ----------------------------------------------------------------------------

HARDSHIP = (
    Column("book.col.file_number", 12),
    Column("book.col.name", 12),
    Column("book.col.department", 14),
    Column("book.col.level", 10),
    Column("book.col.opened", 12, DATE),
    Column("book.col.review_on", 12, DATE),
    Column("book.col.status", 10),
    Column("book.col.closed_on", 12, DATE),
    Column("book.col.aid", 14, MONEY),
)
FILE_STATUS = {
    FileStatus.ACTIVE: "book.hardship.on_file",
    FileStatus.CLOSED: "book.hardship.closed",
}


def _hardship(ws: StreamSheet, tr: Translator, rows: Sequence[HardshipRow]) -> None:
    for row in rows:
        ws.append(
            _formatted(
                HARDSHIP,
                [
                    row.number,
                    row.name,
                    row.department,
                    tr(f"hardship.level.{row.level}"),
                    row.opened,
                    row.review_on,
                    tr(FILE_STATUS[row.status]),
                    row.closed_on,
                    _yuan(row.aid_paid),
                ],
            ),
        )
    _empty(ws, tr, rows)
    _total(ws, HARDSHIP, tr("book.total"), len(rows), aid=_yuan(sum(r.aid_paid for r in rows)))
    on_file = sum(row.status == FileStatus.ACTIVE for row in rows)
    _total(ws, HARDSHIP, tr("book.hardship.on_file_count"), on_file)
    closed = sum(row.status == FileStatus.CLOSED for row in rows)
    _total(ws, HARDSHIP, tr("book.hardship.closed_count"), closed)


# ---- 活动台账 --------------------------------------------------------------------------------

ACTIVITIES = (
    Column("book.col.activity", 28),
    Column("book.col.category", 10),
    Column("book.col.starts", 17, MOMENT),
    Column("book.col.place", 16),
    Column("book.col.capacity", 8, COUNT),
    Column("book.col.signed_up", 14, COUNT),
    Column("book.col.seats", 10, COUNT),
    Column("book.col.waiting", 8, COUNT),
    Column("book.col.attended", 10, COUNT),
    Column("book.col.eligible", 10, COUNT),
    Column("book.col.participation", 10, PERCENT),
    Column("book.col.status", 12),
)


def _activity_status(tr: Translator, row: ActivityRow, made: datetime) -> str:
    if not row.held:
        return tr("book.activity.cancelled")
    if row.starts_at <= made:
        return tr("book.activity.held")
    if row.status == "open":
        return tr("book.activity.open")
    return tr("book.activity.closed")


def _share(part: int, whole: int) -> float | None:
    """A share for a percent cell (0.5 shows as 50.0%), as `figures.rate` rounds it."""
    value = rate(part, whole)
    return None if value is None else round(value / 100, 3)


def _activities(
    ws: StreamSheet, tr: Translator, rows: Sequence[ActivityRow], made: datetime
) -> None:
    for row in rows:
        ws.append(
            _formatted(
                ACTIVITIES,
                [
                    row.title,
                    tr(f"activity.category.{row.category}"),
                    row.starts_at,
                    row.place,
                    row.capacity if row.capacity is not None else tr("book.unlimited"),
                    row.signed_up,
                    row.seats,
                    row.waiting,
                    row.attended,
                    row.eligible,
                    _share(row.participants, row.eligible),
                    _activity_status(tr, row, made),
                ],
            ),
        )
    _empty(ws, tr, rows)
    held = [row for row in rows if row.held]

    def total(measure: Callable[[ActivityRow], int]) -> int:
        return sum(measure(row) for row in held)

    _total(
        ws,
        ACTIVITIES,
        tr("book.activities.total"),
        len(held),
        signed_up=total(lambda row: row.signed_up),
        seats=total(lambda row: row.seats),
        waiting=total(lambda row: row.waiting),
        attended=total(lambda row: row.attended),
        eligible=total(lambda row: row.eligible),
        participation=_share(total(lambda row: row.participants), total(lambda row: row.eligible)),
    )
