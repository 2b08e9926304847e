"""Bounds on what an uploaded or imported file may make the product do, checked before the
file is parsed: a refused file costs milliseconds and a few megabytes, whatever it claims.

An xlsx is a zip: its directory (read without decompressing anything) gives the number of
parts, each part's uncompressed size and its compression ratio. Python's zipfile never
inflates a part past the size its directory claims, so a lying directory only truncates.
Then the worksheets are streamed (their declared dimension first, then row by row), and the
shared strings, stopping at the first limit: rows, and the characters of one cell (Excel's
own limit). An image's header gives its pixel count before anything is decoded, and
Pillow's own bomb limit is set to the same number for whatever renders images. PDFs and
other files are stored and forwarded, never opened, so their size limit is all they need.

The limits are in Settings (XLSX_*, LEDGER_MAX_ROWS, CELL_MAX_CHARS, IMAGE_MAX_PIXELS).
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Literal, cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from config.settings import get_settings
from oversight.errors import InvalidInputError

_MB = 1024 * 1024
_RATIO_FROM = 1 * _MB  # a small part may compress any amount; only big ones are ratio-checked
_HEAD = 64 * 1024  # a worksheet's <dimension> comes in its first bytes
_CHUNK = 256 * 1024
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]{1,3}\d+(?::[A-Z]{1,3}(\d+))?"')


class FileLimitError(InvalidInputError):
    """A file over one of the limits; the message names the limit."""

    message = "文件超出系统允许的范围，已拒收。"


class BrokenWorkbookError(FileLimitError):
    """Not a zip, or a damaged one."""


@dataclass(frozen=True)
class Limits:
    max_entries: int
    max_uncompressed: int  # bytes
    max_ratio: float
    max_rows: int
    max_cell_chars: int
    max_image_pixels: int

    @classmethod
    def from_settings(cls) -> Limits:
        s = get_settings()
        return cls(
            max_entries=s.XLSX_MAX_ENTRIES,
            max_uncompressed=int(s.XLSX_MAX_UNCOMPRESSED_MB * _MB),
            max_ratio=s.XLSX_MAX_RATIO,
            max_rows=s.LEDGER_MAX_ROWS,
            max_cell_chars=s.CELL_MAX_CHARS,
            max_image_pixels=s.IMAGE_MAX_PIXELS,
        )


# Digests of files that passed (the bot checks an upload off its event loop, and the domain
# checks it again inside the transaction: the second check is a hash).
_PASSED: OrderedDict[tuple[str, Limits], None] = OrderedDict()
_PASSED_MAX = 64


def check_xlsx(data: bytes, *, name: str = "", limits: Limits | None = None) -> None:
    """Refuse a workbook over a limit (FileLimitError naming it); parse nothing otherwise."""
    limits = limits or Limits.from_settings()
    key = (hashlib.sha256(data).hexdigest(), limits)
    if key in _PASSED:
        _PASSED.move_to_end(key)
        return
    label = f"文件“{name}”" if name else "文件"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_directory(infos, label, limits)
            for info in infos:
                if re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
                    _check_sheet(zf, info, label, limits)
                elif info.filename == "xl/sharedStrings.xml":
                    _check_strings(zf, info, label, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ParseError, NotImplementedError, ValueError) as exc:
        raise BrokenWorkbookError(f"{label}不是完好的 Excel 工作簿（.xlsx），无法读取。请重新保存后再提交。") from exc
    _PASSED[key] = None
    if len(_PASSED) > _PASSED_MAX:
        _PASSED.popitem(last=False)


def _check_directory(infos: list[zipfile.ZipInfo], label: str, limits: Limits) -> None:
    if len(infos) > limits.max_entries:
        raise FileLimitError(
            f"{label}内含{len(infos)}个部件，超过上限{limits.max_entries}个，不是正常的台账工作簿，已拒收。"
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise FileLimitError(
            f"{label}解压后为{total / _MB:,.1f} MB，超过上限{limits.max_uncompressed / _MB:.0f} MB，已拒收。"
            "请删除多余的工作表、图片或空行后再提交。"
        )
    for info in infos:
        if info.file_size >= _RATIO_FROM and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise FileLimitError(
                f"{label}的压缩比异常（{ratio:,.0f}倍，上限{limits.max_ratio:.0f}倍），可能是恶意构造的文件，已拒收。"
            )


def _rows_over(label: str, limits: Limits) -> FileLimitError:
    return FileLimitError(
        f"{label}的工作表超过{limits.max_rows:,}行的上限，已拒收。请分批提交，每次不超过{limits.max_rows:,}行。"
    )


def _cell_over(label: str, where: str, limits: Limits) -> FileLimitError:
    return FileLimitError(
        f"{label}{where}有单元格超过{limits.max_cell_chars:,}个字符（Excel 单元格的上限），已拒收。请精简后再提交。"
    )


# A sheet's data rows may follow a header block of up to this many rows.
_HEADER_ROWS = 20


def _elements(fh: IO[bytes], events: tuple[Literal["start", "end"], ...]) -> Iterator[tuple[str, str, Element]]:
    """(event, local tag name, element) as the XML streams in, a chunk at a time."""
    parser: XMLPullParser[Element] = XMLPullParser(events=events)
    while chunk := fh.read(_CHUNK):
        parser.feed(chunk)
        for item in parser.read_events():
            event, element = cast(tuple[str, Element], item)  # start/end events only
            yield event, element.tag.rsplit("}", 1)[-1], element
    parser.close()


_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
_LONG_TEXT = b">[^<]{%d,}"


def _check_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limits: Limits) -> None:
    """The declared dimension, then the rows counted and the text runs measured as the part
    streams in (byte patterns, not an XML parse: 20,000 rows take milliseconds)."""
    max_rows = limits.max_rows + _HEADER_ROWS
    with zf.open(info) as fh:
        head = fh.read(_HEAD)
    dim = _DIMENSION.search(head)
    if dim is not None and dim.group(1) is not None and int(dim.group(1)) > max_rows:
        raise _rows_over(label, limits)
    # A cell's text is at least one byte per character and at most ten (&#x10FFFF;): a run of
    # text within max_cell_chars bytes is short enough; a longer one is decoded and counted.
    long_text = re.compile(_LONG_TEXT % (limits.max_cell_chars + 1))
    rows = 0
    carry = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            data = carry + chunk
            cut = data.rfind(b"<")  # the tail from the last tag on waits for the next chunk
            done, carry = (data[:cut], data[cut:]) if cut > 0 else (b"", data)
            rows += len(_ROW.findall(done))
            if rows > max_rows:
                raise _rows_over(label, limits)
            for run in long_text.finditer(done):
                if len(html.unescape(run.group()[1:].decode("utf-8", "replace"))) > limits.max_cell_chars:
                    raise _cell_over(label, "的工作表中", limits)
            if len(carry) > 10 * limits.max_cell_chars + _CHUNK:
                raise _cell_over(label, "的工作表中", limits)
    if len(_ROW.findall(carry)) + rows > max_rows:
        raise _rows_over(label, limits)


def _check_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limits: Limits) -> None:
    chars = 0
    with zf.open(info) as fh:
        for event, tag, elem in _elements(fh, ("start", "end")):
            if tag == "si":
                if event == "start":
                    chars = 0
                else:
                    elem.clear()
            elif tag == "t" and event == "end":
                chars += len(elem.text or "")
                if chars > limits.max_cell_chars:
                    raise _cell_over(label, "中", limits)


def check_image(data: bytes, *, name: str = "", limits: Limits | None = None) -> None:
    """Refuse an image whose header claims more pixels than the limit (nothing is decoded)."""
    from PIL import Image  # only here: the bot and the CLI start without it

    limits = limits or Limits.from_settings()
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels  # Pillow refuses more, wherever it opens one
    label = f"图片“{name}”" if name else "图片"
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Image.DecompressionBombError:
        width, height = 0, 0
    except (OSError, ValueError, SyntaxError) as exc:
        raise FileLimitError(f"{label}已损坏或不是有效的图片，无法读取。请重新导出后再上传。") from exc
    if width * height == 0 or width * height > limits.max_image_pixels:
        size = f"为{width}×{height}像素，" if width * height else ""
        raise FileLimitError(
            f"{label}{size}超过{limits.max_image_pixels / 1_000_000:.0f}百万像素的上限，已拒收。请缩小后再上传。"
        )
