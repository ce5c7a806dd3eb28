"""A streaming xlsx writer for big books (a roster of 50,000 members, ten years of records).

openpyxl spends about 15 µs on every cell even in its write-only mode: the 50,000-member roster
alone took 8 s. This writer puts rows straight into the zip as SpreadsheetML, about 1 µs a cell,
and writes only the parts a workbook needs: the sheets (column widths, header rows frozen), one
style sheet (bold, a larger title, number formats), the workbook and its relationships.

Safety is the same as everywhere (models/exports.py): every value goes through `safe_cell`, and
every text is an inline string cell (`t="inlineStr"`), which no spreadsheet program evaluates;
this writer has no way to write a formula at all. Dates are written as day numbers with a date
format, as spreadsheet programs store them.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from models.exports import NOT_XML_RE, CellValue, safe_cell

DAY_ZERO = datetime.combine(date(1899, 12, 30), time())  # day 0 of spreadsheet dates
DATE_FORMAT = "yyyy-mm-dd"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm"
TIME_FORMAT = "hh:mm"
FLUSH_ROWS = 2000
CELL_TEXT_LIMIT = 32_767  # UTF-16 units a spreadsheet cell holds (an emoji takes two)
TEXT_CACHE = 20_000  # texts kept ready (departments, statuses, the words of the catalog)
CACHED_TEXT = 64  # only short texts are kept: long ones (bodies, notes) rarely repeat
SHEET_NAME_LIMIT = 31
_BAD_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
APPLY_FORMAT = ' applyNumberFormat="1"'
APPLY_FONT = ' applyFont="1"'


def column_letter(index: int) -> str:
    """A column's letters from its number (1 is A, 27 is AA), as openpyxl's get_column_letter."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class Styled:
    """A value with its look: a number format (money, dates, percent), bold, a font size."""

    value: CellValue
    number_format: str | None = None
    bold: bool = False
    size: int | None = None  # points; None: the normal 11


class StreamSheet:
    """One sheet being written: rows are appended in order and never changed afterwards."""

    def __init__(self, book: StreamBook, name: str, columns: int) -> None:
        self._book = book
        self.name = name
        self._letters = [column_letter(index) for index in range(1, columns + 1)]
        self._rows: list[str] = []
        self.row_count = 0

    def append(self, values: Iterable[CellValue | Styled]) -> None:
        """Append one row (None or "" leaves a cell empty)."""
        self.row_count += 1
        number = self.row_count
        letters, cell = self._letters, self._book.cell
        items = list(values)
        while len(letters) < len(items):
            letters.append(column_letter(len(letters) + 1))
        cells = "".join([cell(f"{letters[i]}{number}", item) for i, item in enumerate(items)])
        self._rows.append(f'<row r="{number}">{cells}</row>')
        if len(self._rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand the rows so far to the zip."""
        self._book.write("".join(self._rows))
        self._rows.clear()


class StreamBook:
    """A workbook written sheet after sheet into an in-memory zip."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED)
        self._entry: IO[bytes] | None = None
        self._current: StreamSheet | None = None
        self._names: list[str] = []
        self._formats: dict[str, int] = {}
        self._fonts: dict[tuple[bool, int | None], int] = {(False, None): 0}
        self._styles: dict[tuple[int, int], int] = {(0, 0): 0}
        self._texts: dict[str, str] = {}

    def sheet(
        self, name: str, *, widths: Sequence[float] = (), frozen_rows: int = 0
    ) -> StreamSheet:
        """Start the next sheet (the previous one is finished): its column widths (in
        characters) and how many top rows stay in view while scrolling."""
        self._finish_sheet()
        title = _sheet_name(name, self._names)
        self._names.append(title)
        self._entry = self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w")
        parts = [_HEAD, f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">']
        if frozen_rows:
            top = f"A{frozen_rows + 1}"
            parts.append(
                '<sheetViews><sheetView workbookViewId="0">'
                f'<pane ySplit="{frozen_rows}" topLeftCell="{top}" activePane="bottomLeft"'
                ' state="frozen"/>'
                f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
                "</sheetView></sheetViews>"
            )
        if widths:
            parts.append("<cols>")
            for index, width in enumerate(widths, 1):
                parts.append(f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>')
            parts.append("</cols>")
        parts.append("<sheetData>")
        self.write("".join(parts))
        self._current = StreamSheet(self, title, len(widths))
        return self._current

    def write(self, text: str) -> None:
        """Raw XML into the sheet being written."""
        assert self._entry is not None, "no sheet is open"
        self._entry.write(text.encode("utf-8"))

    def cell(self, reference: str, item: CellValue | Styled) -> str:
        """One cell's XML ('' for an empty one)."""
        if type(item) is str:  # the common case first: most cells are texts
            fragment = self._texts.get(item)
            if fragment is None:
                fragment = _text(safe_cell(item))
                if len(item) <= CACHED_TEXT and len(self._texts) < TEXT_CACHE:
                    self._texts[item] = fragment
            return f'<c r="{reference}" t="inlineStr">{fragment}</c>' if fragment else ""
        styled = item if isinstance(item, Styled) else None
        value = safe_cell(item.value if isinstance(item, Styled) else item)
        style = self._style(styled, value) if styled or isinstance(value, date | time) else 0
        s = f' s="{style}"' if style else ""
        if value is None or value == "":
            return f'<c r="{reference}"{s}/>' if style else ""
        if isinstance(value, str):
            return f'<c r="{reference}"{s} t="inlineStr">{_text(value)}</c>'
        if isinstance(value, bool):
            return f'<c r="{reference}"{s} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, float) and not math.isfinite(value):
            return f'<c r="{reference}"{s}/>' if style else ""  # nan/inf: no number to show
        if isinstance(value, int | float):
            return f'<c r="{reference}"{s}><v>{value!r}</v></c>'
        return f'<c r="{reference}"{s}><v>{_serial(value)}</v></c>'

    def _style(self, styled: Styled | None, value: CellValue) -> int:
        number_format = styled.number_format if styled else None
        if number_format is None and isinstance(value, date | time):
            if isinstance(value, datetime):
                number_format = MOMENT_FORMAT
            else:
                number_format = DATE_FORMAT if isinstance(value, date) else TIME_FORMAT
        key_format = 0
        if number_format:
            key_format = self._formats.setdefault(number_format, 164 + len(self._formats))
        font_key = (bool(styled and styled.bold), styled.size if styled else None)
        font = self._fonts.setdefault(font_key, len(self._fonts))
        return self._styles.setdefault((key_format, font), len(self._styles))

    def _finish_sheet(self) -> None:
        if self._current is None or self._entry is None:
            return
        self._current.flush()
        self.write("</sheetData></worksheet>")
        self._entry.close()
        self._entry, self._current = None, None

    def close(self) -> bytes:
        """Finish the workbook and return the xlsx file."""
        self._finish_sheet()
        if not self._names:
            self.sheet("Sheet1")
            self._finish_sheet()
        count = len(self._names)
        self._zip.writestr("[Content_Types].xml", _content_types(count))
        self._zip.writestr(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="{_PACKAGE_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        sheets = "".join(
            f'<sheet name={quoteattr(name)} sheetId="{index}" r:id="rId{index}"/>'
            for index, name in enumerate(self._names, 1)
        )
        self._zip.writestr(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets>'
            "</workbook>",
        )
        links = "".join(
            f'<Relationship Id="rId{index}" Type="{_REL}/worksheet" '
            f'Target="worksheets/sheet{index}.xml"/>'
            for index in range(1, count + 1)
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{_PACKAGE_REL}">{links}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        self._zip.writestr("xl/styles.xml", self._style_sheet())
        self._zip.close()
        return self._buffer.getvalue()

    def _style_sheet(self) -> str:
        formats = "".join(
            f'<numFmt numFmtId="{number}" formatCode={quoteattr(code)}/>'
            for code, number in self._formats.items()
        )
        fonts = "".join(
            f"<font>{'<b/>' if bold else ''}<sz val='{size or 11}'/><name val='Calibri'/></font>"
            for bold, size in self._fonts
        )
        xfs = "".join(
            f'<xf numFmtId="{number}" fontId="{font}" fillId="0" borderId="0" xfId="0"'
            f"{APPLY_FORMAT if number else ''}{APPLY_FONT if font else ''}/>"
            for number, font in self._styles
        )
        if formats:
            formats = f'<numFmts count="{len(self._formats)}">{formats}</numFmts>'
        return (
            f'{_HEAD}<styleSheet xmlns="{_MAIN}">{formats}'
            f'<fonts count="{len(self._fonts)}">{fonts}</fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            f'<cellXfs count="{len(self._styles)}">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )


def _text(value: CellValue) -> str:
    """An inline string's XML ('' for an empty text), cut to what a cell may hold."""
    if not value:
        return ""
    text = NOT_XML_RE.sub("", str(value))
    if not text:
        return ""
    if len(text) > CELL_TEXT_LIMIT // 2 and _utf16_units(text) > CELL_TEXT_LIMIT:
        text = _cut_utf16(text, CELL_TEXT_LIMIT - 1) + "…"
    return f'<is><t xml:space="preserve">{escape(text)}</t></is>'


def _utf16_units(text: str) -> int:
    """The length a spreadsheet counts: characters beyond the BMP take two units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _cut_utf16(text: str, units: int) -> str:
    """The longest start of the text within `units` UTF-16 units, never half a pair."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text


def _serial(value: date | time) -> str:
    """A date, moment or time as a spreadsheet's day number."""
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - DAY_ZERO
        return repr(delta.days + delta.seconds / 86400)
    if isinstance(value, date):
        return str((value - DAY_ZERO.date()).days)
    return repr((value.hour * 3600 + value.minute * 60 + value.second) / 86400)


def _sheet_name(name: str, taken: Sequence[str]) -> str:
    """A name a spreadsheet accepts: at most 31 characters, none of []:*?/\\, unique."""
    base = _BAD_SHEET_NAME.sub(" ", name).strip("'") or "Sheet"
    title, number = base[:SHEET_NAME_LIMIT], 1
    while title.lower() in (other.lower() for other in taken):
        number += 1
        suffix = f" {number}"
        title = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
    return title


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{index}.xml" ContentType="{_SHEET_TYPE}"/>'
        for index in range(1, count + 1)
    )
    office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{office}.styles+xml"/>'
        f"{sheets}</Types>"
    )
