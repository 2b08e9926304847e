"""A small streaming xlsx writer for the ledger export (stdlib only).

openpyxl, even in write-only mode, spends most of the region's ledger export building a cell
object per value and serialising it through an XML library (about 1.2 s for 67,000 cells);
this writes the same SpreadsheetML as strings, one row at a time, into a zip deflated at
level 1. It does what the export needs and no more: inline strings, numbers, booleans, dates
and datetimes as Excel serial days with a date number format, a few fixed cell styles,
column widths, a frozen header, an autofilter, merged ranges, list data validations, hidden
sheets and the core document properties.

Text is escaped for XML; characters XML 1.0 forbids (C0 controls but tab, newline and
carriage return; U+FFFE, U+FFFF; lone surrogates) are removed, so no cell text can break the
file. Strings beginning with "=" stay text (never formulas). Text longer than Excel's limit of
32,767 characters is cut to it, as openpyxl cuts it (no marker).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

__all__ = ["Cell", "Style", "Workbook", "Worksheet", "column_letter", "xml_text"]

MAX_CHARS = 32_767  # Excel's limit on a cell's text; longer text is cut, as openpyxl cuts it
_EPOCH = datetime(1899, 12, 30)
_EPOCH_DATE = _EPOCH.date()

# Characters XML 1.0 does not allow at all: removed from every text and attribute.
_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Anything in cell text that needs work (escaping, removal, or \r kept as a character reference).
_TEXT_SPECIAL_RE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` as XML character data: escaped, XML-forbidden characters removed."""
    if _TEXT_SPECIAL_RE.search(value) is None:
        return value
    value = _ILLEGAL_RE.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def xml_attr(value: str) -> str:
    """`value` as a double-quoted XML attribute value (whitespace kept as character references)."""
    value = _ILLEGAL_RE.sub("", value)
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
        .replace("\n", "&#10;")
        .replace("\t", "&#9;")
    )


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_EDGE_SPACE = " \t\n\r"
_LETTERS = [column_letter(i) for i in range(1, 257)]


@dataclass(frozen=True)
class Style:
    """A cell format: font weight and size, a solid fill (RRGGBB), wrapping, a number format."""

    bold: bool = False
    size: float | None = None
    fill: str | None = None
    wrap: bool = False
    number_format: str | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """A value with a style (a plain value in a row has the default style)."""

    value: Any
    style: Style


_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "@": 49}


class _Styles:
    def __init__(self) -> None:
        self.xf: dict[Style, int] = {Style(): 0}
        self.fonts: dict[tuple[bool, float | None], int] = {(False, None): 0}
        self.fills: dict[str, int] = {}
        self.formats: dict[str, int] = {}
        self._xfs: list[tuple[int, int, int, bool]] = [(0, 0, 0, False)]

    def index(self, style: Style) -> int:
        found = self.xf.get(style)
        if found is not None:
            return found
        font = self.fonts.setdefault((style.bold, style.size), len(self.fonts))
        fill = self.fills.setdefault(style.fill, len(self.fills) + 2) if style.fill else 0
        fmt = 0
        if style.number_format:
            fmt = _BUILTIN_FORMATS.get(style.number_format, -1)
            if fmt < 0:
                fmt = self.formats.setdefault(style.number_format, 164 + len(self.formats))
        self._xfs.append((fmt, font, fill, style.wrap))
        self.xf[style] = len(self._xfs) - 1
        return self.xf[style]

    def xml(self) -> str:
        parts = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        ]
        if self.formats:
            parts.append(f'<numFmts count="{len(self.formats)}">')
            parts.extend(f'<numFmt numFmtId="{i}" formatCode="{xml_attr(code)}"/>' for code, i in self.formats.items())
            parts.append("</numFmts>")
        parts.append(f'<fonts count="{len(self.fonts)}">')
        for (bold, size), _i in sorted(self.fonts.items(), key=lambda kv: kv[1]):
            if not bold and size is None:
                parts.append('<font><sz val="11"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>')
            else:
                parts.append(
                    "<font>" + ('<b val="1"/>' if bold else "") + f'<sz val="{size or 11:g}"/>'
                    '<name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'
                )
        parts.append("</fonts>")
        parts.append(
            f'<fills count="{len(self.fills) + 2}"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill>'
        )
        for rgb, _i in sorted(self.fills.items(), key=lambda kv: kv[1]):
            parts.append(
                f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/><bgColor indexed="64"/>'
                "</patternFill></fill>"
            )
        parts.append("</fills>")
        parts.append(
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        )
        parts.append(f'<cellXfs count="{len(self._xfs)}">')
        for fmt, font, fill, wrap in self._xfs:
            applied = (
                (' applyNumberFormat="1"' if fmt else "")
                + (' applyFont="1"' if font else "")
                + (' applyFill="1"' if fill else "")
            )
            if wrap:
                parts.append(
                    f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{applied}'
                    ' applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
                )
            else:
                parts.append(f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{applied}/>')
        parts.append(
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
        )
        return "".join(parts)


def _serial(value: date) -> str:
    """Excel's serial day (1900 system) of a date or naive datetime, as openpyxl computes it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        days = (value - _EPOCH).days
        if 0 < days <= 60:
            days -= 1
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6
        if not seconds:
            return str(days)
        return repr(days + seconds / 86400)
    days = (value - _EPOCH_DATE).days
    if 0 < days <= 60:
        days -= 1
    return str(days)


class Worksheet:
    """One sheet; rows are appended in order and kept as XML text until the workbook is saved."""

    def __init__(self, book: Workbook, title: str) -> None:
        self._book = book
        self.title = title
        self.hidden = False
        self.widths: dict[int, float] = {}
        self.freeze: str | None = None  # the top-left cell of the scrolling pane, e.g. "A3"
        self.autofilter: str | None = None
        self.merged: list[str] = []
        self.validations: list[dict[str, Any]] = []
        self._rows: list[str] = []
        self._row = 0
        self._max_col = 0

    @property
    def current_row(self) -> int:
        """The number of the last row appended (0 before the first)."""
        return self._row

    def add_list_validation(
        self,
        sqref: str,
        formula1: str,
        *,
        error_title: str = "",
        error: str = "",
        prompt_title: str = "",
        prompt: str = "",
    ) -> None:
        """A drop-down list (blank allowed, error and input messages shown) over `sqref`."""
        self.validations.append(
            {
                "sqref": sqref,
                "formula1": formula1,
                "errorTitle": error_title,
                "error": error,
                "promptTitle": prompt_title,
                "prompt": prompt,
            }
        )

    def append(self, values: list[Any] | tuple[Any, ...]) -> None:
        """The next row; None leaves a cell empty, a Cell carries a style (kept even when empty)."""
        self._row = r = self._row + 1
        rs = str(r)
        style_index = self._book._styles.index
        cells: list[str] = []
        add = cells.append
        col = 0
        for col, value in enumerate(values, start=1):
            s = ""
            if type(value) is Cell:
                style = value.style
                value = value.value
                if style is not None:
                    idx = style_index(style)
                    if idx:
                        s = f' s="{idx}"'
            if value is None:
                if s:
                    add(f'<c r="{_LETTERS[col - 1]}{rs}"{s}/>')
                continue
            ref = _LETTERS[col - 1] + rs
            kind = type(value)
            if kind is str:
                if not value:
                    if s:
                        add(f'<c r="{ref}"{s}/>')
                    continue
                if len(value) > MAX_CHARS:
                    value = _ILLEGAL_RE.sub("", value)[:MAX_CHARS]
                text = xml_text(value)
                if value[0] in _EDGE_SPACE or value[-1] in _EDGE_SPACE:
                    add(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
                else:
                    add(f'<c r="{ref}"{s} t="inlineStr"><is><t>{text}</t></is></c>')
            elif kind is bool:
                add(f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>')
            elif kind is int:
                add(f'<c r="{ref}"{s}><v>{value}</v></c>')
            elif kind is float:
                if value != value or value in (float("inf"), float("-inf")):
                    add(f'<c r="{ref}"{s} t="e"><v>#NUM!</v></c>')
                else:
                    add(f'<c r="{ref}"{s}><v>{value!r}</v></c>')
            elif isinstance(value, date):
                if not s:  # a date needs a date format to read back as a date
                    fmt = "yyyy-mm-dd h:mm:ss" if isinstance(value, datetime) else "yyyy-mm-dd"
                    s = f' s="{style_index(Style(number_format=fmt))}"'
                add(f'<c r="{ref}"{s}><v>{_serial(value)}</v></c>')
            elif isinstance(value, (int, float)):  # bool and numeric subclasses, Decimal-like ints
                add(f'<c r="{ref}"{s}><v>{value!r}</v></c>')
            elif isinstance(value, (time, timedelta)):
                raise TypeError(f"cell {ref}: {kind.__name__} values are not supported")
            else:
                text = xml_text(_ILLEGAL_RE.sub("", str(value))[:MAX_CHARS])
                add(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
        if col > self._max_col:
            self._max_col = col
        self._rows.append(f'<row r="{rs}">{"".join(cells)}</row>' if cells else f'<row r="{rs}"/>')

    def _write(self, out: IO[bytes]) -> None:
        last = _LETTERS[max(self._max_col, 1) - 1] + str(max(self._row, 1))
        head = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<dimension ref="A1:{last}"/><sheetViews><sheetView workbookViewId="0"'
            + (' tabSelected="1"' if self._book._sheets[0] is self else "")
            + ">"
        ]
        if self.freeze and self.freeze != "A1":
            col, row = _split_ref(self.freeze)
            xs, ys = col - 1, row - 1
            pane = "bottomRight" if xs and ys else ("bottomLeft" if ys else "topRight")
            split = (f' xSplit="{xs}"' if xs else "") + (f' ySplit="{ys}"' if ys else "")
            head.append(
                f'<pane{split} topLeftCell="{self.freeze}" activePane="{pane}" state="frozen"/>'
                f'<selection pane="{pane}" activeCell="{self.freeze}" sqref="{self.freeze}"/>'
            )
        head.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        if self.widths:
            head.append("<cols>")
            head.extend(
                f'<col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>' for c, w in sorted(self.widths.items())
            )
            head.append("</cols>")
        head.append("<sheetData>")
        out.write("".join(head).encode())
        rows = self._rows
        for i in range(0, len(rows), 2000):
            out.write("".join(rows[i : i + 2000]).encode())
        tail = ["</sheetData>"]
        if self.autofilter:
            tail.append(f'<autoFilter ref="{self.autofilter}"/>')
        if self.merged:
            tail.append(f'<mergeCells count="{len(self.merged)}">')
            tail.extend(f'<mergeCell ref="{m}"/>' for m in self.merged)
            tail.append("</mergeCells>")
        if self.validations:
            tail.append(f'<dataValidations count="{len(self.validations)}">')
            for dv in self.validations:
                attrs = "".join(
                    f' {k}="{xml_attr(dv[k])}"' for k in ("errorTitle", "error", "promptTitle", "prompt") if dv[k]
                )
                tail.append(
                    f'<dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1"'
                    f'{attrs} sqref="{dv["sqref"]}"><formula1>{xml_text(dv["formula1"])}</formula1></dataValidation>'
                )
            tail.append("</dataValidations>")
        tail.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')
        out.write("".join(tail).encode())


def _split_ref(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return col, int(m.group(2))


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class Workbook:
    """Sheets in the order created; `save` writes the package."""

    def __init__(self, *, creator: str = "", title: str = "", created: datetime | None = None) -> None:
        self.creator = creator
        self.title = title
        self.created = created
        self._sheets: list[Worksheet] = []
        self._styles = _Styles()

    def create_sheet(self, title: str) -> Worksheet:
        if any(ws.title == title for ws in self._sheets):
            raise ValueError(f"a sheet named {title!r} exists already")
        ws = Worksheet(self, title)
        self._sheets.append(ws)
        return ws

    @property
    def sheetnames(self) -> list[str]:
        return [ws.title for ws in self._sheets]

    def save(self, target: str | Path | IO[bytes]) -> None:
        if not self._sheets:
            raise ValueError("a workbook needs at least one sheet")
        if self._sheets[0].hidden:
            raise ValueError("the first sheet cannot be hidden")
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            n = len(self._sheets)
            zf.writestr("[Content_Types].xml", _content_types(n))
            zf.writestr("_rels/.rels", _ROOT_RELS)
            zf.writestr("docProps/app.xml", _APP)
            zf.writestr("docProps/core.xml", self._core())
            zf.writestr("xl/workbook.xml", self._workbook())
            zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(n))
            for i, ws in enumerate(self._sheets, start=1):
                with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=False) as out:
                    ws._write(out)
            zf.writestr("xl/styles.xml", self._styles.xml())  # after the sheets: their cells register styles

    def _core(self) -> str:
        moment = self.created or datetime.now(UTC)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        title = f"<dc:title>{xml_text(self.title)}</dc:title>" if self.title else ""
        creator = f"<dc:creator>{xml_text(self.creator)}</dc:creator>" if self.creator else ""
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'{title}{creator}<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>'
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f'<sheet name="{xml_attr(ws.title)}" sheetId="{i}"'
            + (' state="hidden"' if ws.hidden else "")
            + f' r:id="rId{i}"/>'
            for i, ws in enumerate(self._sheets, start=1)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{xml_text(_quote_sheet(ws.title))}!{_absolute(ws.autofilter)}</definedName>"
            for i, ws in enumerate(self._sheets)
            if ws.autofilter
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<workbookPr/><bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )


def _absolute(ref: str) -> str:
    return ":".join("$" + re.sub(r"(\d+)$", r"$\1", part) for part in ref.split(":"))


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>Microsoft Excel</Application></Properties>"
)


def _content_types(n: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        f"{sheets}</Types>"
    )


def _workbook_rels(n: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'{sheets}<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    )
