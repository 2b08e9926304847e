"""A GB/T 9704-2012 layout checker that reads the PDF itself (pdfplumber: every character with its
position, size, font and colour; every rule and rectangle), independent of how it was made.

    problems = check_pdf(path, Expect(kind="notice", doc_number="乌中联办通〔2026〕3号", ...))

Each rule is a function of the parsed document returning its violations; `check_pdf` runs all of
them (or those named). Positions are in millimetres from the page's top-left corner. The text
block is 156 x 225 mm at 28 mm from the left and 37 mm from the top (A4 landscape annex pages:
225 x 156 mm at 37 mm from the left and 26 mm from the top). A character's em box is taken from
its baseline (CJK: 0.88 em above, 0.12 em below), not from font metrics.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pdfplumber
from pypdf import PdfReader

MM = 72 / 25.4
TOL = 1.0  # mm: GB/T 9704 5.1 "误差不超过1 mm"
GRID = 225 / 22  # mm per body line
CHAR = 156 / 28  # mm per body character
PORTRAIT = {"width": 210, "height": 297, "left": 28, "top": 37, "block_w": 156, "block_h": 225}
LANDSCAPE = {"width": 297, "height": 210, "left": 37, "top": 26, "block_w": 225, "block_h": 156}

CLOSING = set("，。、；：？！）》」』”")
OPENING = set("（《「『“")
RAW_DATA = ("{'", '"kind":', "None", "True", "False", "[[")
EMOJI_RE = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\ufe0f]")
PAGE_NUMBER_RE = re.compile(r"^—\s*(\d+)\s*—$")
NUMERAL_RE = re.compile(r"^([一二三四五六七八九十]+)、")
SUB_RE = re.compile(r"^（([一二三四五六七八九十]+)）")
CN = "一二三四五六七八九"
# A number or a date that a line break inside a table cell would split.
NUMBER_DATE_RE = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日|\d[\d,.]*%?"
)
# Words a title must not be broken inside (the checker's own list, not the renderer's).
TITLE_WORDS = (
    "关于", "资源", "整合", "矿山", "非煤", "增储", "上产", "矿业权", "联席会议", "工作", "情况", "通报",
    "报告", "纪要", "督办", "问效", "推进", "季度", "半年", "乌拉特中旗", "内蒙古", "自治区", "盘活",
    "办公室", "成员单位", "落实", "议定事项",
)  # fmt: skip


def cn_numeral(n: int) -> str:
    if n < 10:
        return CN[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN[tens - 1]) + "十" + (CN[ones - 1] if ones else "")


@dataclass(frozen=True)
class Violation:
    rule: str
    page: int  # 1-based; 0 for the whole document
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] p{self.page}: {self.detail}"


@dataclass
class Expect:
    """What the document says about itself, for the rules that need it."""

    kind: str  # notice | review | minutes | supervision | brief
    doc_number: str | None = None  # 发文字号, or 第N期 for the brief
    signature: str | None = None  # 发文机关署名
    date_text: str | None = None  # 成文日期
    printed_by: str | None = None  # 印发机关
    title: str | None = None
    has_colophon: bool = True

    @property
    def formal(self) -> bool:
        return self.kind != "brief"


@dataclass
class Char:
    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    font: str
    color: tuple[float, ...]

    @property
    def em_top(self) -> float:
        return self.baseline - 0.88 * self.size / MM

    @property
    def em_bottom(self) -> float:
        return self.baseline + 0.12 * self.size / MM


@dataclass
class Line:
    """Characters on one baseline with no wide gap: a line of text (or of one table cell)."""

    chars: list[Char]

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0].x0

    @property
    def x1(self) -> float:
        return self.chars[-1].x1

    @property
    def baseline(self) -> float:
        return self.chars[0].baseline

    @property
    def size(self) -> float:
        return max(c.size for c in self.chars)

    @property
    def top(self) -> float:
        return min(c.em_top for c in self.chars)

    @property
    def bottom(self) -> float:
        return max(c.em_bottom for c in self.chars)

    @property
    def font(self) -> str:
        return self.chars[0].font


@dataclass
class Shape:
    """A filled or stroked rectangle or line, in mm."""

    x0: float
    x1: float
    top: float
    bottom: float
    color: tuple[float, ...]

    @property
    def red(self) -> bool:
        return _is_red(self.color)


def _is_red(color: Any) -> bool:
    if not color or not isinstance(color, tuple | list) or len(color) != 3:
        return False
    r, g, b = (float(v) for v in color)
    return r > 0.7 and g < 0.3 and b < 0.3


@dataclass
class Page:
    number: int
    geometry: dict[str, float]
    size: tuple[float, float]
    chars: list[Char]
    shapes: list[Shape]
    lines: list[Line] = field(default_factory=list)
    tables: list[list[list[str | None]]] = field(default_factory=list)
    table_boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    cells: list[tuple[float, float, float, float]] = field(default_factory=list)

    @property
    def landscape(self) -> bool:
        return self.geometry is LANDSCAPE

    @property
    def left(self) -> float:
        return self.geometry["left"]

    @property
    def right(self) -> float:
        return self.geometry["left"] + self.geometry["block_w"]

    @property
    def top(self) -> float:
        return self.geometry["top"]

    @property
    def bottom(self) -> float:
        return self.geometry["top"] + self.geometry["block_h"]

    def is_page_number(self, line: Line) -> bool:
        return bool(PAGE_NUMBER_RE.match(line.text.replace(" ", ""))) and line.top > self.bottom

    def is_sample_mark(self, line: Line) -> bool:
        """A mark laid over the page in its margin: 示例数据, or a draft's 不得外传."""
        marked = "示例数据" in line.text or "不得外传" in line.text.replace(" ", "")
        return marked and (line.bottom < self.top or line.top > self.bottom)

    @property
    def content(self) -> list[Line]:
        """Lines inside the page's flow: not the page number, not a sample-data mark."""
        return [ln for ln in self.lines if not self.is_page_number(ln) and not self.is_sample_mark(ln)]

    @property
    def page_numbers(self) -> list[Line]:
        return [ln for ln in self.lines if self.is_page_number(ln)]


def _rows(chars: list[Char]) -> list[list[Char]]:
    rows: list[list[Char]] = []
    for c in sorted(chars, key=lambda c: (round(c.baseline, 1), c.x0)):
        if rows and abs(rows[-1][0].baseline - c.baseline) < 0.35:
            rows[-1].append(c)
        else:
            rows.append([c])
    for row in rows:
        row.sort(key=lambda c: c.x0)
    return rows


def _lines(chars: list[Char]) -> list[Line]:
    lines: list[Line] = []
    for row in _rows(chars):
        current = [row[0]]
        for c in row[1:]:
            gap = c.x0 - current[-1].x1
            if gap > 0.5 * c.size / MM:
                lines.append(Line(current))
                current = [c]
            else:
                current.append(c)
        lines.append(Line(current))
    lines.sort(key=lambda ln: (round(ln.baseline, 1), ln.x0))
    return lines


class Document:
    """A PDF, parsed once, shared by every rule."""

    def __init__(self, source: Path | bytes) -> None:
        self.data = Path(source).read_bytes() if isinstance(source, Path | str) else source
        self.pages: list[Page] = []
        with pdfplumber.open(io.BytesIO(self.data)) as pdf:
            for i, p in enumerate(pdf.pages, start=1):
                w, h = float(p.width) / MM, float(p.height) / MM
                geometry = LANDSCAPE if w > h else PORTRAIT
                chars = [
                    Char(
                        text=c["text"],
                        x0=c["x0"] / MM,
                        x1=c["x1"] / MM,
                        baseline=(float(p.height) - c["matrix"][5]) / MM,
                        size=float(c["size"]),
                        font=c.get("fontname", ""),
                        color=tuple(c.get("non_stroking_color") or ()),
                    )
                    for c in p.chars
                    if c["text"].strip() and c.get("upright", True)
                ]
                shapes = []
                for obj in [*p.rects, *p.lines]:
                    color = obj.get("non_stroking_color") if obj.get("fill") else obj.get("stroking_color")
                    shapes.append(
                        Shape(
                            x0=obj["x0"] / MM,
                            x1=obj["x1"] / MM,
                            top=obj["top"] / MM,
                            bottom=obj["bottom"] / MM,
                            color=tuple(color or ()),
                        )
                    )
                page = Page(number=i, geometry=geometry, size=(w, h), chars=chars, shapes=shapes)
                page.lines = _lines(chars)
                # The page number's digits and dashes are spaced apart: one line per baseline below the block.
                below = [ln for ln in page.lines if ln.top > page.bottom]
                if below:
                    page.lines = [ln for ln in page.lines if ln.top <= page.bottom]
                    for c_row in _rows([c for ln in below for c in ln.chars]):
                        page.lines.append(Line(c_row))
                for t in p.find_tables():
                    page.tables.append(t.extract())
                    page.table_boxes.append(tuple(v / MM for v in t.bbox))
                    page.cells.extend(tuple(v / MM for v in c) for c in t.cells if c)
                self.pages.append(page)

    @cached_property
    def text(self) -> str:
        return "\n".join(ln.text for p in self.pages for ln in p.content)

    @cached_property
    def body_size(self) -> float:
        return 16.0

    @cached_property
    def body_font(self) -> str:
        """The face most body-size lines are set in (仿宋)."""
        faces: dict[str, int] = {}
        for p in self.pages:
            for ln in p.content:
                if abs(ln.size - self.body_size) < 0.2:
                    faces[ln.font] = faces.get(ln.font, 0) + len(ln.chars)
        return max(faces, key=lambda f: faces[f]) if faces else ""

    @cached_property
    def annex_start(self) -> int:
        """Number of the first annex page (a page whose first line is 附件 or 附件N), or past the end."""
        for p in self.pages[1:]:
            content = p.content
            if content and re.fullmatch(r"附件\d*", content[0].text) and content[0].x0 < p.left + TOL:
                return p.number
        return len(self.pages) + 1


# --- Rules ---------------------------------------------------------------------------------------------


def rule_page_size(doc: Document, expect: Expect) -> list[Violation]:
    out = []
    for p in doc.pages:
        w, h = p.size
        if abs(w - p.geometry["width"]) > TOL or abs(h - p.geometry["height"]) > TOL:
            out.append(Violation("page_size", p.number, f"{w:.1f} x {h:.1f} mm is not A4"))
    return out


def rule_text_block(doc: Document, expect: Expect) -> list[Violation]:
    """Everything inside the 156 x 225 mm block (±1 mm); full lines fill it from edge to edge."""
    out = []
    for p in doc.pages:
        for ln in p.content:
            if ln.x0 < p.left - TOL or ln.x1 > p.right + TOL or ln.top < p.top - TOL or ln.bottom > p.bottom + TOL:
                out.append(
                    Violation(
                        "text_block",
                        p.number,
                        f"“{ln.text[:20]}” at x {ln.x0:.1f}–{ln.x1:.1f}, y {ln.top:.1f}–{ln.bottom:.1f} mm "
                        f"outside the block {p.left}–{p.right} x {p.top}–{p.bottom}",
                    )
                )
        # A line followed by its paragraph's next line (flush left, one grid line down) is full: it
        # runs from the block's left edge (or two characters in) to its right edge, as a Chinese line
        # is justified between its characters (jobs/cjk_justify.py), not only at spaces.
        body = sorted((ln for ln in p.content if abs(ln.size - doc.body_size) < 0.2), key=lambda ln: ln.baseline)
        for ln, nxt in itertools.pairwise(body):
            follows = abs(nxt.baseline - ln.baseline - GRID) < 0.4 and abs(nxt.x0 - p.left) < 0.5
            if follows and ln.x0 < p.left + 2 * CHAR + TOL and not -TOL <= p.right - ln.x1 <= TOL:
                out.append(
                    Violation(
                        "fill",
                        p.number,
                        f"full line “{ln.text[:12]}…{ln.text[-8:]}” runs {ln.x0:.1f}–{ln.x1:.1f} mm, not to {p.right} (156 mm)",
                    )
                )
    return out


def _line_box_top(ln: Line) -> float:
    """Top of a body line's grid box: the em box is centred in the 225/22 mm line."""
    return ln.baseline - 0.38 * ln.size / MM - GRID / 2


def _body_page(doc: Document, p: Page) -> bool:
    """A page of running text only (body size, no table, no drawing, no title)."""
    content = p.content
    return (
        bool(content)
        and not p.tables
        and all(abs(ln.size - doc.body_size) < 0.2 for ln in content)
        and not any(s.red for s in p.shapes)
        and not [s for s in p.shapes if s.x1 - s.x0 > 20]
    )


def _starts_annex(p: Page) -> bool:
    """The page begins an annex (附件 or 附件N flush left on its first line): a forced page break."""
    content = p.content
    return bool(content) and bool(re.fullmatch(r"附件\d*", content[0].text)) and content[0].x0 < p.left + TOL


def _is_heading(doc: Document, p: Page, ln: Line) -> bool:
    """A body heading: body size, two characters in, in another face than the body's (一、 黑体,
    （一） 楷体) or numbered as a heading is."""
    if abs(ln.size - doc.body_size) >= 0.2 or abs(ln.x0 - (p.left + 2 * CHAR)) > TOL:
        return False
    return ln.font != doc.body_font or bool(NUMERAL_RE.match(ln.text) or SUB_RE.match(ln.text))


def _in_table(p: Page, ln: Line) -> tuple[float, float, float, float] | None:
    for box in p.table_boxes:
        if box[0] - 0.3 <= ln.x0 and ln.x1 <= box[2] + 0.3 and box[1] - 0.3 <= ln.baseline <= box[3] + 0.3:
            return box
    return None


def _table_block_bottom(p: Page, box: tuple[float, float, float, float]) -> float:
    """Where the part of a table that must move with its first row ends: a short table (six body
    rows or fewer, never split) entire, otherwise its header row and three body rows."""
    x0, top, x1, bottom = box
    edges = sorted({round(c[3], 1) for c in p.cells if c[0] >= x0 - 0.3 and c[2] <= x1 + 0.3 and top - 0.3 <= c[1]})
    edges = [e for e in edges if e <= bottom + 0.3]
    ends_here = bottom < p.bottom - 3
    if ends_here and len(edges) <= 7:
        return bottom
    return edges[min(3, len(edges) - 1)] if edges else bottom


def _leading_block(doc: Document, expect: Expect, nxt: Page) -> tuple[float, str] | None:
    """The block at the top of the next page that had to move as one (its bottom in mm, and what it
    is), or None after a forced page break (the next page begins an annex). Continued text: its
    first line (no widow or orphan control, so one line would have fitted); a heading: itself and
    what it is kept with (its paragraph's first line, or the table after it); a table: its first
    rows (tables); the signature's page, when only the body's last lines went over with the
    附件说明 and the signature (7.3.5.5): all of it down to the 成文日期."""
    content = sorted(nxt.content, key=lambda ln: (ln.baseline, ln.x0))
    if not content or _starts_annex(nxt):
        return None
    signoff = signoff_lines(doc, expect)
    if signoff is not None and signoff[0] is nxt:
        _, sig, date = signoff
        above = [ln for ln in content if ln.baseline < sig.baseline - 0.5 and not ln.text.startswith("附件：")]
        note = [ln for ln in content if ln.text.startswith("附件：")]
        body = [ln for ln in above if not note or ln.baseline < note[0].baseline - 0.5]
        if len({round(ln.baseline, 1) for ln in body}) <= 3:  # widows: 2, and a heading kept with them
            return date.bottom, "the body's last lines with the signature"
    i = 0
    while i < len(content) and _is_heading(doc, nxt, content[i]):
        i += 1
    what = "a heading and the line kept with it" if i else "a line"
    rest = content[i:] or content[-1:]
    first = rest[0]
    box = _in_table(nxt, first)
    if box is not None:
        return _table_block_bottom(nxt, box), ("a heading and the table kept with it" if i else "a table's first rows")
    if abs(first.size - doc.body_size) >= 0.2:
        # A caption or a chart (its labels in small type), kept whole: down to the next body line.
        j = 0
        while j + 1 < len(rest) and abs(rest[j + 1].size - doc.body_size) >= 0.2:
            j += 1
        return rest[j].bottom, "a figure or caption kept whole"
    return first.bottom, what


def _foot(doc: Document, p: Page) -> float:
    """Where the page's flow ends: the grid box of its last line of text, or its last table."""
    ends = [_line_box_top(ln) + GRID if abs(ln.size - doc.body_size) < 0.2 else ln.bottom for ln in p.content]
    ends += [box[3] for box in p.table_boxes]
    return max(ends)


def rule_grid(doc: Document, expect: Expect) -> list[Violation]:
    """22 lines on a full page of running text, one grid line (225/22 mm) apart, from the block's top.

    A page is full when what begins the next page would have fitted at its foot: a page ends
    short only before a forced page break (an annex), or where the block that begins the next page
    (a heading with what it is kept with, a table's first rows, the body's last lines going over
    with the signature) did not fit. A page with a table has its own line count (its rows are not
    on the grid, nor is the text after them): the tables rule holds its breaks (three rows on each
    side)."""
    out = []
    pages = doc.pages
    for p, nxt in itertools.pairwise(pages):
        if not _body_page(doc, p) or p.landscape != nxt.landscape:
            continue
        block = _leading_block(doc, expect, nxt)
        if block is None:
            continue
        bottom, what = block
        room = p.bottom - _foot(doc, p)
        needed = bottom - nxt.top
        first = min(p.content, key=lambda ln: ln.baseline)
        if room > needed - 0.5:
            last = max(p.content, key=lambda ln: ln.baseline)
            used = round((last.baseline - first.baseline) / GRID) + 1
            out.append(
                Violation(
                    "grid",
                    p.number,
                    f"{used} lines on a full page, not 22: the next page begins with {what}, which fits",
                )
            )
        # Line boxes sit on the grid; a baseline within its box depends on the face, so the pitch is
        # measured between lines of the page's main face.
        faces: dict[str, int] = {}
        for ln in p.content:
            faces[ln.font] = faces.get(ln.font, 0) + 1
        main = max(faces, key=lambda f: faces[f])
        same = sorted({round(ln.baseline, 2) for ln in p.content if ln.font == main})
        steps = [(b - a) / max(round((b - a) / GRID), 1) for a, b in itertools.pairwise(same)]
        if steps and max(abs(s - GRID) for s in steps) > 0.1:
            out.append(Violation("grid", p.number, f"line pitch {min(steps):.2f}–{max(steps):.2f} mm, not {GRID:.2f}"))
        if abs(_line_box_top(first) - p.top) > TOL:
            out.append(Violation("grid", p.number, f"first line box at {_line_box_top(first):.1f} mm, not {p.top}"))
    return out


def _first_page_red(doc: Document) -> tuple[list[Shape], list[Line]]:
    p = doc.pages[0]
    rules = [s for s in p.shapes if s.red and s.x1 - s.x0 > 100]
    marks = [ln for ln in p.content if all(_is_red(c.color) for c in ln.chars)]
    return rules, marks


def rule_red_head(doc: Document, expect: Expect) -> list[Violation]:
    """The red mark and the red rule: full block width; for a formal document the mark 35 mm below
    the block's top and the rule 4 mm under the 发文字号; for the brief under its office/date line."""
    out: list[Violation] = []
    p = doc.pages[0]
    rules, marks = _first_page_red(doc)
    if not marks:
        out.append(Violation("red_head", 1, "no red 发文机关标志 / 报头 on the first page"))
    if not rules:
        return [*out, Violation("red_head", 1, "no red rule across the text block on the first page")]
    rule = min(rules, key=lambda s: s.top)
    if abs(rule.x0 - p.left) > TOL or abs(rule.x1 - p.right) > TOL:
        out.append(Violation("red_head", 1, f"red rule spans {rule.x0:.1f}–{rule.x1:.1f} mm, not the 156 mm block"))
    above = [ln for ln in p.content if ln.bottom < rule.top + 0.1]
    if not above:
        return [*out, Violation("red_head", 1, "nothing above the red rule")]
    last_above = max(above, key=lambda ln: ln.baseline)
    if expect.formal:
        if marks and abs(min(m.top for m in marks) - (p.top + 35)) > TOL + 0.5:
            out.append(
                Violation("red_head", 1, f"mark's top at {min(m.top for m in marks):.1f} mm, not {p.top + 35} (35 mm)")
            )
        gap = rule.top - last_above.bottom
        if abs(gap - 4) > TOL:
            out.append(Violation("red_head", 1, f"red rule {gap:.1f} mm under the 发文字号, not 4 mm"))
    else:
        gap = rule.top - last_above.bottom
        if not 0 <= gap <= 6:
            out.append(Violation("red_head", 1, f"red rule {gap:.1f} mm under the office/date line"))
    below = [ln for ln in p.content if ln.top > rule.bottom]
    if marks and below and any(m.top > rule.top for m in marks):
        out.append(Violation("red_head", 1, "red mark below the red rule"))
    return out


def _blank(p: Page) -> bool:
    return not p.content and not p.shapes


def rule_page_numbers(doc: Document, expect: Expect) -> list[Violation]:
    """ "— n —" in 4号 half-width digits, 7 mm below the block, odd right / even left one character in;
    none on a blank page."""
    out = []
    for p in doc.pages:
        numbers = p.page_numbers
        if _blank(p):
            if numbers:
                out.append(Violation("page_numbers", p.number, "page number on a blank page"))
            continue
        if len(numbers) != 1:
            out.append(Violation("page_numbers", p.number, f"{len(numbers)} page numbers"))
            continue
        ln = numbers[0]
        n = int(PAGE_NUMBER_RE.match(ln.text.replace(" ", "")).group(1))
        if n != p.number:
            out.append(Violation("page_numbers", p.number, f"numbered {n}"))
        if abs(ln.size - 14) > 0.2:
            out.append(Violation("page_numbers", p.number, f"{ln.size:.1f} pt, not 4号 (14 pt)"))
        digits = [c for c in ln.chars if c.text.isdigit()]
        if any(c.x1 - c.x0 > 0.6 * c.size / MM for c in digits):
            out.append(Violation("page_numbers", p.number, "digits are not half-width"))
        centre = ln.baseline - 0.38 * ln.size / MM
        if abs(centre - (p.bottom + 7)) > TOL + 0.5:
            out.append(Violation("page_numbers", p.number, f"一字线 {centre - p.bottom:.1f} mm below the block, not 7"))
        em = 14 / MM
        if p.number % 2:
            if abs(ln.x1 - (p.right - em)) > TOL:
                out.append(
                    Violation(
                        "page_numbers", p.number, f"odd page number ends at {ln.x1:.1f} mm, not right one character in"
                    )
                )
        elif abs(ln.x0 - (p.left + em)) > TOL:
            out.append(
                Violation(
                    "page_numbers", p.number, f"even page number starts at {ln.x0:.1f} mm, not left one character in"
                )
            )
    return out


def _one_line(doc: Document, text: str, pages: list[Page]) -> bool:
    flat = text.replace(" ", "")
    return any(flat in ln.text.replace(" ", "") for p in pages for ln in p.content)


def rule_doc_number(doc: Document, expect: Expect) -> list[Violation]:
    """The 发文字号 (or the brief's 第N期) on one line of the first page, above the red rule."""
    p = doc.pages[0]
    number = expect.doc_number
    if number is None:
        found = [ln.text for ln in p.content if re.search(r"〔\d{4}〕", ln.text)]
        if not found:
            return []
        number = found[0]
        if not re.search(r"〔\d{4}〕\d+号", number):
            return [Violation("doc_number", 1, f"文号 split: “{number}”")]
        return []
    if not _one_line(doc, number, [p]):
        return [Violation("doc_number", 1, f"“{number}” is not on one line")]
    return []


def _signature_groups(doc: Document, signature: str) -> list[tuple[Page, list[Line]]]:
    """Where the 署名 stands: one line of its own, or (a name longer than the line leaves) two or
    three lines one grid line apart that read it together, starting at the same place."""
    found = []
    for p in doc.pages:
        lines = sorted(p.content, key=lambda ln: (ln.baseline, ln.x0))
        for i in range(len(lines)):
            for k in (1, 2, 3):
                group = lines[i : i + k]
                if len(group) < k or "".join(ln.text.replace(" ", "") for ln in group) != signature:
                    continue
                if all(
                    abs(b.baseline - a.baseline - GRID) <= 0.5 and abs(b.x0 - a.x0) <= TOL
                    for a, b in itertools.pairwise(group)
                ):
                    found.append((p, group))
    return found


def _name_lines_above(lines: list[Line], last: int) -> list[Line]:
    """The lines of a 署名 whose last line is lines[last] (sorted by baseline): it and up to two
    lines above it one grid line apart that start at the same place (a long name on two lines)."""
    group = [lines[last]]
    i = last - 1
    while i >= 0 and len(group) < 3:
        a, b = lines[i], group[0]
        if abs(b.baseline - a.baseline - GRID) > 0.5 or abs(b.x0 - a.x0) > TOL:
            break
        group.insert(0, a)
        i -= 1
    return group


def rule_signoff(doc: Document, expect: Expect) -> list[Violation]:
    """署名 and 成文日期 each on one line (a 署名 too long for one on two, starting at the same place),
    date on the next line, its first character two characters right of the signature's, the longer
    one two characters from the right; before the annexes."""
    if not expect.signature or not expect.date_text:
        return []
    out = []
    sig = _signature_groups(doc, expect.signature)
    if not sig:
        return [Violation("signoff", 0, f"signature “{expect.signature}” not on one line of its own")]
    p, group = sig[-1] if len(sig) == 1 else next(((p, g) for p, g in sig if g[-1].x1 > p.left + 60), sig[-1])
    s = group[-1]
    dates = [ln for ln in p.content if ln.text.replace(" ", "") == expect.date_text and ln.baseline > s.baseline]
    if not dates:
        return [Violation("signoff", p.number, f"date “{expect.date_text}” not on one line under the signature")]
    d = min(dates, key=lambda ln: ln.baseline)
    if abs(d.baseline - s.baseline - GRID) > 0.3:
        out.append(Violation("signoff", p.number, "the date is not on the line under the signature"))
    if abs(d.x0 - (s.x0 + 2 * CHAR)) > TOL:
        out.append(
            Violation("signoff", p.number, f"date starts {d.x0 - s.x0:.1f} mm right of the signature, not 2 characters")
        )
    right = max(d.x1, *(ln.x1 for ln in group))
    if abs(right - (p.right - 2 * CHAR)) > TOL + 0.5:
        out.append(
            Violation("signoff", p.number, f"signoff ends {p.right - right:.1f} mm from the right, not 2 characters")
        )
    s = group[0]  # the body text is what stands above the signature's first line
    if p.number >= doc.annex_start:
        out.append(Violation("signoff", p.number, "signature after the annexes"))
    if p.number > 1:
        above = [ln for ln in p.content if ln.baseline < s.baseline - 0.5]
        note = next((i for i, ln in enumerate(above) if ln.text.startswith("附件：")), len(above))
        if not above[:note]:
            out.append(Violation("signoff", p.number, "the signature's page carries no body text"))
    return out


DATE_LINE_RE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def signoff_lines(doc: Document, expect: Expect) -> tuple[Page, Line, Line] | None:
    """The page, the 署名 and the 成文日期 under it: as the document says they read, or, when it does
    not say, read off the PDF (a line that is a date alone, two characters right of the line above
    it, one grid line apart, two characters from the right edge: the layout of 7.3.5.2)."""
    for p in doc.pages:
        if p.number >= doc.annex_start:
            break
        lines = sorted(p.content, key=lambda ln: ln.baseline)
        for i, (above, ln) in enumerate(itertools.pairwise(lines)):
            date = ln.text.replace(" ", "")
            if abs(ln.baseline - above.baseline - GRID) > 0.5:
                continue
            if expect.signature and expect.date_text:
                if date != expect.date_text:
                    continue
                for first, group in _signature_groups(doc, expect.signature):
                    if first is p and group[-1] is above:
                        return p, group[0], ln
                continue
            name = _name_lines_above(lines, i)
            if (
                DATE_LINE_RE.fullmatch(date)
                and abs(ln.x0 - above.x0 - 2 * CHAR) < TOL + 0.5
                and abs(max(ln.x1, *(n.x1 for n in name)) - (p.right - 2 * CHAR)) < 2 * TOL
            ):
                return p, name[0], ln
    return None


def signoff_page(doc: Document, expect: Expect) -> int | None:
    """Number of the page that holds the signature (署名), if the document has one."""
    found = signoff_lines(doc, expect)
    return found[0].number if found else None


def rule_colophon(doc: Document, expect: Expect) -> list[Violation]:
    """版记 at the foot of the last page, between rules, its last rule on the block's lower edge;
    印发机关 and 印发日期 on one line."""
    if not expect.has_colophon:
        return []
    last = doc.pages[-1]
    black = [s for s in last.shapes if not s.red and s.x1 - s.x0 > last.geometry["block_w"] - 2]
    if not black:
        return [Violation("colophon", last.number, "no 版记 rules on the last page")]
    bottom = max(s.bottom for s in black)
    out = []
    if abs(bottom - last.bottom) > TOL:
        out.append(
            Violation(
                "colophon", last.number, f"last 版记 rule at {bottom:.1f} mm, not on the block's edge {last.bottom}"
            )
        )
    for p in doc.pages[:-1]:
        # The 版记's 印发 line ends in 印发 (a draft's: 起草); a body sentence may say 印发之日起.
        if any(
            ln.text.endswith(("印发", "起草")) or ln.text.startswith(("抄送", "报：", "送：")) for ln in p.content[-3:]
        ):
            out.append(Violation("colophon", p.number, "版记 text before the last page"))
    if expect.formal and expect.printed_by:
        row = [ln for ln in last.content if ln.text.endswith(("印发", "起草"))]
        if not row:
            out.append(Violation("colophon", last.number, "no 印发日期 (a draft: 起草日期) on the last page"))
        else:
            same = [ln for ln in last.content if abs(ln.baseline - row[0].baseline) < 0.35 and ln is not row[0]]
            if not any(expect.printed_by in ln.text for ln in same) and expect.printed_by not in row[0].text:
                out.append(Violation("colophon", last.number, "印发机关 and 印发日期 not on one line"))
    return out


def rule_punctuation(doc: Document, expect: Expect) -> list[Violation]:
    """标点避头尾: no line starts with closing punctuation, none ends with an opening one."""
    out = []
    for p in doc.pages:
        for ln in p.content:
            if ln.text[0] in CLOSING:
                out.append(Violation("punctuation", p.number, f"line starts with “{ln.text[0]}”: {ln.text[:16]}"))
            if ln.text[-1] in OPENING:
                out.append(Violation("punctuation", p.number, f"line ends with “{ln.text[-1]}”: {ln.text[-16:]}"))
    return out


def rule_raw_data(doc: Document, expect: Expect) -> list[Violation]:
    """No program data in the text: dict or list representations, None/True/False."""
    return [
        Violation("raw_data", 0, f"“{needle}” in the text")
        for needle in RAW_DATA
        if needle in doc.text.replace("\n", "")
    ]


def rule_emoji(doc: Document, expect: Expect) -> list[Violation]:
    found = EMOJI_RE.findall(doc.text)
    return [Violation("emoji", 0, f"emoji {''.join(found)[:10]!r} in a document")] if found else []


def rule_fonts_embedded(doc: Document, expect: Expect) -> list[Violation]:
    out = []
    reader = PdfReader(io.BytesIO(doc.data))
    for i, page in enumerate(reader.pages, start=1):
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for name, ref in fonts.items():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            if font.get("/Subtype") == "/Type3":
                continue
            desc = descriptor.get_object() if descriptor else {}
            if not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                out.append(Violation("fonts_embedded", i, f"font {name} {font.get('/BaseFont')} not embedded"))
    return out


def rule_numbering(doc: Document, expect: Expect) -> list[Violation]:
    """Body headings numbered 一、二、三 … without a restart, （一）（二） … restarting under each."""
    out = []
    level1 = 0
    level2 = 0
    for p in doc.pages:
        if p.number >= doc.annex_start:
            break
        for ln in p.content:
            if ln.x0 < p.left + 2 * CHAR - TOL or ln.x0 > p.left + 2 * CHAR + TOL:
                continue  # headings start two characters in
            m = NUMERAL_RE.match(ln.text)
            if m:
                level1 += 1
                level2 = 0
                if m.group(1) != cn_numeral(level1):
                    out.append(Violation("numbering", p.number, f"“{m.group(0)}” where {cn_numeral(level1)}、 is due"))
                    level1 = CN.find(m.group(1)[-1]) + 1 if len(m.group(1)) == 1 else level1
                continue
            m = SUB_RE.match(ln.text)
            if m:
                level2 += 1
                if m.group(1) != cn_numeral(level2):
                    out.append(
                        Violation("numbering", p.number, f"“{m.group(0)}” where （{cn_numeral(level2)}） is due")
                    )
                    level2 = CN.find(m.group(1)[-1]) + 1 if len(m.group(1)) == 1 else level2
    return out


def _title_lines(doc: Document) -> list[Line]:
    p = doc.pages[0]
    return [ln for ln in p.content if abs(ln.size - 22) < 0.3 and not all(_is_red(c.color) for c in ln.chars)]


def rule_title(doc: Document, expect: Expect) -> list[Violation]:
    """The title in 二号 (22 pt), centred, broken only between words, never inside a number or a
    bracketed name."""
    if not expect.formal or not expect.title:
        return []
    lines = _title_lines(doc)
    if not lines:
        return [Violation("title", 1, "no title in 二号 (22 pt) on the first page")]
    out = []
    joined = "".join(ln.text for ln in lines)
    if joined.replace(" ", "") != expect.title.replace(" ", ""):
        out.append(Violation("title", 1, f"title reads “{joined}”"))
    p = doc.pages[0]
    cut = 0
    for a, b in itertools.pairwise(lines):
        cut += len(a.text)
        left, right = joined[:cut], joined[cut:]
        for word in TITLE_WORDS:
            for k in range(1, len(word)):
                if left.endswith(word[:k]) and right.startswith(word[k:]):
                    out.append(Violation("title", 1, f"title broken inside “{word}”: …{a.text[-4:]} / {b.text[:4]}…"))
        if (
            (left[-1:].isdigit() and right[:1].isdigit())
            or left.count("《") > left.count("》")
            or left.count("〔") > left.count("〕")
        ):
            out.append(Violation("title", 1, f"title broken inside a number or name: …{a.text[-4:]} / {b.text[:4]}…"))
    for ln in lines:
        centre = (ln.x0 + ln.x1) / 2
        if abs(centre - (p.left + p.right) / 2) > TOL + 0.5:
            out.append(Violation("title", 1, f"title line “{ln.text[:8]}…” not centred"))
    return out


def _cell_lines(p: Page, box: tuple[float, float, float, float]) -> list[Line]:
    x0, top, x1, bottom = box
    return [
        ln
        for ln in p.content
        if ln.x0 >= x0 - 0.3 and ln.x1 <= x1 + 0.3 and ln.baseline >= top and ln.baseline <= bottom + 0.3
    ]


def rule_tables(doc: Document, expect: Expect) -> list[Violation]:
    """A table split over pages keeps at least 3 body rows on each page and repeats its header row;
    no number or date is broken across lines inside a cell."""
    out = []
    fragments: list[tuple[Page, list[list[str | None]], tuple[float, float, float, float]]] = []
    for p in doc.pages:
        for t, box in zip(p.tables, p.table_boxes, strict=False):
            fragments.append((p, t, box))
        for box in p.cells:
            lines = _cell_lines(p, box)
            for a, b in itertools.pairwise(lines):
                joined = a.text + b.text
                for m in NUMBER_DATE_RE.finditer(joined):
                    if m.start() < len(a.text) < m.end():
                        out.append(
                            Violation(
                                "tables", p.number, f"“{m.group(0)}” broken in a cell: {a.text[-8:]} / {b.text[:8]}"
                            )
                        )
    for (p, t, box), (q, u, ubox) in itertools.pairwise(fragments):
        # A continued table starts at the top of the next page's block (its repeated header row); a
        # table there under its own caption is a new one.
        continues = q.number == p.number + 1 and box[3] > p.bottom - 25 and ubox[1] < q.top + 3
        if not continues:
            continue
        if t and u and t[0] != u[0]:
            out.append(Violation("tables", q.number, "a table continued without its header row"))
        for page, rows in ((p, t), (q, u)):
            body = len(rows) - 1
            if body < 3:
                out.append(Violation("tables", page.number, f"{body} row(s) of a split table on this page"))
    return out


RULES = {
    "page_size": rule_page_size,
    "text_block": rule_text_block,
    "grid": rule_grid,
    "red_head": rule_red_head,
    "page_numbers": rule_page_numbers,
    "doc_number": rule_doc_number,
    "signoff": rule_signoff,
    "colophon": rule_colophon,
    "punctuation": rule_punctuation,
    "raw_data": rule_raw_data,
    "emoji": rule_emoji,
    "fonts_embedded": rule_fonts_embedded,
    "numbering": rule_numbering,
    "title": rule_title,
    "tables": rule_tables,
}


def check_pdf(source: Path | bytes | Document, expect: Expect, rules: list[str] | None = None) -> list[Violation]:
    """Every violation of the named rules (default: all) in one PDF."""
    doc = source if isinstance(source, Document) else Document(source)
    out: list[Violation] = []
    for name in rules or list(RULES):
        out.extend(RULES[name](doc, expect))
    return out


def pdf_text_for_comparison(doc: Document) -> str:
    """The document's text in reading order, as a Word copy holds it: no page numbers or sample
    marks, no chart labels (small type inside a drawing), a table header repeated on a continued
    page counted once, table cells read cell by cell."""
    parts: list[str] = []
    prev_header: list[str | None] | None = None
    for p in doc.pages:
        items: list[tuple[float, float, str]] = []
        in_cells: set[int] = set()
        for t, box in zip(p.tables, p.table_boxes, strict=False):
            rows = list(t)
            if prev_header is not None and rows and rows[0] == prev_header and box[1] < p.top + 3:
                rows = rows[1:]
            for r_i, row in enumerate(rows):
                for c_i, cell in enumerate(row):
                    items.append((box[1] + r_i * 0.001, c_i, cell or ""))
            prev_header = t[0] if t else None
            for i, ln in enumerate(p.content):
                if ln.x0 >= box[0] - 0.3 and ln.x1 <= box[2] + 0.3 and box[1] <= ln.baseline <= box[3] + 0.3:
                    in_cells.add(i)
        if not p.tables:
            prev_header = None
        for i, ln in enumerate(p.content):
            if i in in_cells or ln.size < 10:
                continue
            items.append((ln.baseline, ln.x0, ln.text))
        items.sort(key=lambda it: (it[0], it[1]))
        parts.extend(it[2] for it in items)
    return "".join(parts)


__all__ = ["RULES", "Document", "Expect", "Violation", "check_pdf", "pdf_text_for_comparison"]


def _with_signoff(expect: Expect, doc: Document) -> Expect:
    """The demo writes its documents through the CLI, so its context is not at hand: the signature
    and 成文日期 are read off the PDF (the office's name on the line or two lines above a date, one
    grid line apart), and the checker then holds them to their places like any other document's."""
    import dataclasses

    for page in doc.pages:
        lines = sorted(page.content, key=lambda ln: ln.baseline)
        for i, (_above, line) in enumerate(itertools.pairwise(lines)):
            date = line.text.replace(" ", "")
            name = "".join(n.text.replace(" ", "") for n in _name_lines_above(lines, i))
            if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", date) and name.endswith("办公室"):
                return dataclasses.replace(expect, signature=name, date_text=date)
    raise AssertionError("the demo notice has no signature above a 成文日期")


def check_demo_documents(out: Path) -> None:
    """GB/T 9704 on the brief, the notice draft and the review draft `lianxi demo --out OUT`
    wrote: every rule of check_pdf, none excused."""
    notice = Document(out / "通报草稿-2026Q1.pdf")
    written = {
        "brief": (Document(out / "简报-2026Q1.pdf"), Expect(kind="brief", doc_number="第1期")),
        "notice": (notice, _with_signoff(Expect(kind="notice", doc_number="（文号印发时编排）"), notice)),
        "review": (
            Document(out / "工作问效报告草稿-2026H1.pdf"),
            Expect(kind="review", doc_number="（文号印发时编排）"),
        ),
    }
    for kind, (doc, expect) in written.items():
        problems = check_pdf(doc, expect)
        assert not problems, f"demo {kind}: " + "\n".join(str(v) for v in problems)
