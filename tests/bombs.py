"""Hostile files for the input-limit tests, made quickly: workbooks whose parts expand to
millions of rows or a 1 GiB cell, a 50 MB workbook, and a PNG that decodes to 400 million
pixels. Each is written once per test session (the 1 GiB one takes seconds to compress)."""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="矿业权台账" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>矿业权编号</t></is></c></row>'
_CHUNK = 8 << 20


def _book(zf: zipfile.ZipFile) -> None:
    zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
    zf.writestr("_rels/.rels", _RELS)
    zf.writestr("xl/workbook.xml", _WORKBOOK)
    zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)


def _stream(zf: zipfile.ZipFile, name: str, head: bytes, repeat: bytes, times: int, tail: bytes) -> None:
    """A part of head + repeat * times + tail, written in chunks (never whole in memory)."""
    per = max(1, _CHUNK // len(repeat))
    with zf.open(name, "w", force_zip64=True) as fh:
        fh.write(head)
        left = times
        while left > 0:
            n = min(per, left)
            fh.write(repeat * n)
            left -= n
        fh.write(tail)


def _sheet_head(dimension: str | None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}<sheetData>{_HEADER_ROW}'.encode()


_SHEET_TAIL = b"</sheetData></worksheet>"
_EMPTY_STRINGS = f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"></sst>'


def rows_bomb(path: Path, rows: int = 4_000_000, *, dimension: bool = True) -> Path:
    """A ledger whose sheet holds `rows` identical rows (200 MB of XML in a 1 MB file)."""
    row = b'<row><c t="inlineStr"><is><t>C1500002020001</t></is></c></row>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        _book(zf)
        _stream(
            zf,
            "xl/worksheets/sheet1.xml",
            _sheet_head(f"A1:K{rows + 1}" if dimension else None),
            row,
            rows,
            _SHEET_TAIL,
        )
        zf.writestr("xl/sharedStrings.xml", _EMPTY_STRINGS)
    return path


def empty_rows(path: Path, rows: int = 200_000) -> Path:
    """Numbered rows with nothing in them and no dimension: a few MB unpacked, an ordinary
    compression ratio, and ten times the row limit."""
    body = "".join(f'<row r="{n}"/>' for n in range(2, rows + 2)).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _book(zf)
        zf.writestr("xl/worksheets/sheet1.xml", _sheet_head(None) + body + _SHEET_TAIL)
        zf.writestr("xl/sharedStrings.xml", _EMPTY_STRINGS)
    return path


def huge_cell(path: Path, chars: int = 1 << 30) -> Path:
    """A ledger whose one shared string is `chars` characters (1 GiB) long."""
    head = f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        _book(zf)
        sheet = _sheet_head("A1:A2") + b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>' + _SHEET_TAIL
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        _stream(zf, "xl/sharedStrings.xml", head, b"A" * 4096, chars // 4096, b"</t></si></sst>")
    return path


def long_cell(path: Path, chars: int = 40_000) -> Path:
    """A small ledger with one cell over Excel's 32,767 characters."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _book(zf)
        cell = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"甲" * chars}</t></is></c></row>'.encode()
        zf.writestr("xl/worksheets/sheet1.xml", _sheet_head("A1:A2") + cell + _SHEET_TAIL)
        zf.writestr("xl/sharedStrings.xml", _EMPTY_STRINGS)
    return path


def big_workbook(path: Path, megabytes: int = 50) -> Path:
    """A 50 MB workbook (a picture that does not compress, as an embedded image would be)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        _book(zf)
        zf.writestr("xl/worksheets/sheet1.xml", _sheet_head("A1:A1") + _SHEET_TAIL)
        zf.writestr("xl/sharedStrings.xml", _EMPTY_STRINGS)
        with zf.open("xl/media/image1.png", "w", force_zip64=True) as fh:
            for _ in range(megabytes):
                fh.write(os.urandom(1 << 20))
    return path


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid 1-bit PNG of width x height pixels (400 million), about 60 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
