"""The Word copy (.docx) of every document, written from the same HTML as its PDF (python-docx).

Why from the HTML: the templates are the one place a document's text is composed; reading back
their output (our own markup, autoescaped, a small fixed vocabulary of elements and classes)
gives the Word copy exactly the PDF's text whatever the templates say, and maps each part to
a named style an office edits in WPS or Word: 发文机关标志, 发文字号, 标题, 主送机关, 正文,
一级标题 … 四级标题, 附件说明, 署名, 成文日期, 附件标签, 附件标题, 表格, 版记.

The page setup is GB/T 9704's: A4, 37/35/28/26 mm margins (156 x 225 mm text block), a 22-line
by 28-character document grid, page numbers "— n —" in 4号 half-width digits, odd pages right
and even pages left one character in, 7 mm below the text block; landscape annexes are
sections of their own. The 版记 is a frame anchored to the foot of the text block, so it sits
at the bottom of the last page as in the PDF. No charts are drawn here: a chart's PNG comes
with the HTML (``data-png``) and is inserted as a picture.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from oversight.files import write_atomic

logger = logging.getLogger(__name__)

RED = RGBColor(0xE6, 0x00, 0x12)
GRID_LINE_PT = 225 / 22 / 25.4 * 72  # 22 lines on the 225 mm block
CHAR_PT = 156 / 28 / 25.4 * 72  # 28 characters on the 156 mm line
BODY_PT = 16
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"
LATIN = "Times New Roman"
# Characters Word should not see: the word joiner and zero-width space that only steer line breaks.
_INVISIBLE = dict.fromkeys(map(ord, "\u2060\u200b\ufeff"), None)


class DocxError(Exception):
    """The Word copy could not be written."""

    user_message = "Word 文档生成失败，请联系管理员。"


# --- Styles ----------------------------------------------------------------------------------------


def _fonts(rpr_owner: Any, east_asia: str, latin: str = LATIN) -> None:
    """Set a style's or run's fonts: the Chinese face for East Asian text, a Latin one for the rest."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        fonts.set(qn(attr), value)


def _style(
    doc: Any,
    name: str,
    *,
    font: str = FANGSONG,
    size: float = BODY_PT,
    bold: bool = False,
    color: RGBColor | None = None,
    align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY,
    first_indent_chars: float = 0,
    exact_pt: float | None = GRID_LINE_PT,
    before: float = 0,
    after: float = 0,
    outline: int | None = None,
    keep_next: bool = False,
) -> Any:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    f = style.font
    f.size = Pt(size)
    f.bold = bold
    f.name = LATIN
    if color is not None:
        f.color.rgb = color
    _fonts(style.element, font)
    pf = style.paragraph_format
    pf.alignment = align
    pf.first_line_indent = Pt(first_indent_chars * CHAR_PT) if first_indent_chars else None
    if exact_pt:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(exact_pt)
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    pf.keep_with_next = keep_next
    pf.widow_control = False
    if outline is not None:
        ppr = style.element.get_or_add_pPr()
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(qn("w:val"), str(outline))
        ppr.append(lvl)
    return style


def _styles(doc: Any) -> None:
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    normal.font.name = LATIN
    _fonts(normal.element, FANGSONG)
    npf = normal.paragraph_format
    npf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    npf.line_spacing = Pt(GRID_LINE_PT)
    npf.space_before = Pt(0)
    npf.space_after = Pt(0)
    npf.widow_control = False
    _style(doc, "发文机关标志", font=XIAOBIAOSONG, size=36, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER, exact_pt=None)
    _style(doc, "发文字号", align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "简报报头", font=XIAOBIAOSONG, size=46, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER, exact_pt=None)
    _style(doc, "期号", align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "编印单位和日期", size=14, align=WD_ALIGN_PARAGRAPH.LEFT)
    _style(doc, "标题", font=XIAOBIAOSONG, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, exact_pt=32, outline=0)
    _style(doc, "副标题", font=KAITI, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "主送机关", align=WD_ALIGN_PARAGRAPH.LEFT)
    _style(doc, "正文", first_indent_chars=2)
    _style(doc, "编者按", font=KAITI, first_indent_chars=2)
    _style(doc, "一级标题", font=HEITI, first_indent_chars=2, outline=1, keep_next=True)
    _style(doc, "二级标题", font=KAITI, first_indent_chars=2, outline=2, keep_next=True)
    _style(doc, "三级标题", first_indent_chars=2, outline=3, keep_next=True)
    _style(doc, "四级标题", first_indent_chars=2, outline=4, keep_next=True)
    _style(doc, "附件说明", align=WD_ALIGN_PARAGRAPH.LEFT)
    _style(doc, "署名", align=WD_ALIGN_PARAGRAPH.RIGHT, keep_next=True)
    _style(doc, "成文日期", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(doc, "附件标签", font=HEITI, align=WD_ALIGN_PARAGRAPH.LEFT)
    _style(doc, "附件标题", font=XIAOBIAOSONG, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, outline=1)
    _style(doc, "表题", font=HEITI, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True)
    _style(doc, "表格", size=12, align=WD_ALIGN_PARAGRAPH.LEFT, exact_pt=None)
    _style(doc, "表头", font=HEITI, size=12, align=WD_ALIGN_PARAGRAPH.CENTER, exact_pt=None)
    _style(doc, "图题", font=HEITI, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "出席名单", align=WD_ALIGN_PARAGRAPH.LEFT)
    _style(doc, "版记", size=14, align=WD_ALIGN_PARAGRAPH.LEFT, exact_pt=None)
    _style(doc, "页码", font=SONGTI, size=14, exact_pt=None)
    _style(doc, "示例数据标记", size=9, color=RGBColor(0xC0, 0, 0), align=WD_ALIGN_PARAGRAPH.LEFT, exact_pt=None)


# --- Page setup --------------------------------------------------------------------------------------


def _page_setup(section: Any, *, landscape: bool = False) -> None:
    """GB/T 9704's page: A4, the 156 x 225 mm block, the 22 x 28 grid (turned for a landscape annex)."""
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(26), Mm(28)
        section.left_margin, section.right_margin = Mm(37), Mm(35)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    # The footer's line (14 pt) centred 7 mm below the text block.
    bottom = 28 if landscape else 35
    section.footer_distance = Mm(bottom - 7) - Pt(7)
    sect = section._sectPr
    for old in sect.findall(qn("w:docGrid")):
        sect.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(GRID_LINE_PT * 20)))
    grid.set(qn("w:charSpace"), str(round((CHAR_PT - BODY_PT) * 4096)))
    sect.append(grid)


def _page_field(paragraph: Any) -> None:
    """ "— PAGE —" as a field, so Word and WPS number the pages themselves."""
    paragraph.add_run("— ")
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
    paragraph.add_run(" —")


def _footers(doc: Any, section: Any, sample: str | None) -> None:
    """Odd pages: the number on the right, one character in; even pages: on the left."""
    section.footer.is_linked_to_previous = False
    section.even_page_footer.is_linked_to_previous = False
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        p = footer.paragraphs[0]
        p.style = doc.styles["页码"]
        p.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(14)
        else:
            p.paragraph_format.left_indent = Pt(14)
        _page_field(p)
    if sample:
        for header in (section.header, section.even_page_header):
            header.is_linked_to_previous = False
            hp = header.paragraphs[0]
            hp.style = doc.styles["示例数据标记"]
            hp.add_run(sample)


# --- Paragraph helpers -----------------------------------------------------------------------------------


def _text(el: Any) -> str:
    """An element's text as printed: whitespace folded as HTML folds it, steering characters dropped."""
    return re.sub(r"\s+", " ", el.text_content()).strip().translate(_INVISIBLE)


def _runs(paragraph: Any, el: Any, *, kaiti_class: str = "note") -> None:
    """The element's text as runs; spans of class ``note`` in 楷体, ``label`` in 黑体."""

    def emit(text: str | None, font: str | None = None) -> None:
        if text:
            run = paragraph.add_run(re.sub(r"\s+", " ", text).translate(_INVISIBLE))
            if font:
                _fonts(run._r, font)

    emit(el.text)
    for child in el:
        cls = child.get("class") or ""
        font = KAITI if kaiti_class in cls.split() else HEITI if "label" in cls.split() else None
        if child.tag == "br":
            paragraph.add_run().add_break()
        else:
            emit(child.text_content(), font)
        emit(child.tail)
    # Trim what HTML's whitespace folding would have dropped at the ends.
    if paragraph.runs:
        first, last = paragraph.runs[0], paragraph.runs[-1]
        first.text = first.text.lstrip()
        last.text = last.text.rstrip()


def _border(paragraph: Any, side: str, *, size_eighths: int, color: str = "000000", space_pt: int = 0) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    b = OxmlElement(f"w:{side}")
    b.set(qn("w:val"), "single")
    b.set(qn("w:sz"), str(size_eighths))
    b.set(qn("w:space"), str(space_pt))
    b.set(qn("w:color"), color)
    borders.append(b)


def _foot_frame(paragraph: Any) -> None:
    """Anchor the paragraph in a frame at the foot of the text block (the 版记 on the last page)."""
    ppr = paragraph._p.get_or_add_pPr()
    frame = OxmlElement("w:framePr")
    for attr, value in (
        ("w:wrap", "around"),
        ("w:vAnchor", "margin"),
        ("w:hAnchor", "margin"),
        ("w:yAlign", "bottom"),
        ("w:xAlign", "center"),
        ("w:w", str(round(156 / 25.4 * 1440))),
    ):
        frame.set(qn(attr), value)
    ppr.insert(0, frame)


def _em(text: str) -> float:
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


# --- The writer ----------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, sample: str | None) -> None:
        self.doc = Document()
        self.sample = sample
        _styles(self.doc)
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        _page_setup(section)
        _footers(self.doc, section, sample)
        # python-docx's template starts with one empty paragraph: reuse it for the first element.
        self._spare = self.doc.paragraphs[0] if self.doc.paragraphs else None
        self.landscape = False
        self._style_ids: dict[str, str] = {}

    def style(self, paragraph: Any, name: str) -> None:
        """Give a paragraph a named style by its id. (python-docx's `paragraph.style = ...` looks for
        the default style among all of them on every call: most of a long document's time.)"""
        sid = self._style_ids.get(name)
        if sid is None:
            sid = self._style_ids[name] = self.doc.styles[name].style_id
        paragraph._p.get_or_add_pPr().style = sid

    def para(self, style: str, el: Any = None, text: str | None = None) -> Any:
        if self._spare is not None:
            p, self._spare = self._spare, None
        else:
            p = self.doc.add_paragraph()
        self.style(p, style)
        if el is not None:
            _runs(p, el)
        elif text:
            p.add_run(text.translate(_INVISIBLE))
        return p

    def walk(self, el: Any) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            self.element(child)

    def element(self, el: Any) -> None:
        tag, cls = el.tag, set((el.get("class") or "").split())
        if tag in ("header",) and "red-head" in cls:
            self.red_head(el)
        elif tag == "header" and "masthead" in cls:
            self.masthead(el)
        elif tag == "hr":
            pass  # drawn as the border of the paragraph above
        elif tag == "h1" and "doc-title" in cls:
            self.title(el, "标题")
        elif tag in ("h2", "h3", "h4", "h5"):
            self.para({"h2": "一级标题", "h3": "二级标题", "h4": "三级标题", "h5": "四级标题"}[tag], el)
        elif tag == "p" and "colophon-anchor" in cls:
            self.colophon(el)
        elif tag == "p" and "attachment-note" in cls:
            self.attachment_note(el, first="more" not in cls)
        elif tag == "p":
            style = (
                "副标题"
                if "doc-subtitle" in cls
                else "主送机关"
                if "addressees" in cls
                else "编者按"
                if "editor-note" in cls
                else "出席名单"
                if "attendance-row" in cls
                else "附件标签"
                if "annex-label" in cls
                else "正文"
            )
            self.para(style, el)
        elif tag == "table":
            self.table(el)
        elif tag == "figure":
            self.figure(el)
        elif tag == "div" and "signoff" in cls:
            self.signoff(el)
        elif tag == "section" and "annex" in cls:
            self.annex(el, wide="wide" in cls)
        elif tag == "h1" and "annex-title" in cls:
            self.title(el, "附件标题")
        else:
            self.walk(el)

    def red_head(self, el: Any) -> None:
        marks = el.find_class("office-mark")
        for i, m in enumerate(marks):
            p = self.para("发文机关标志", m)
            size = re.search(r"font-size:\s*([\d.]+)pt", m.get("style") or "")
            if size:
                for run in p.runs:
                    run.font.size = Pt(float(size.group(1)))
            if i == 0:
                p.paragraph_format.space_before = Mm(35)
        number = el.find_class("doc-number")[0]
        p = self.para("发文字号")
        p.paragraph_format.space_before = Pt(2 * GRID_LINE_PT)
        if "upward" in (number.get("class") or ""):
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            p.paragraph_format.left_indent = Pt(CHAR_PT)
            p.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(2 * CHAR_PT), WD_TAB_ALIGNMENT.RIGHT)
            p.add_run(_text(number.find_class("number")[0]))
            p.add_run("\t")
            signer = number.find_class("signer")[0]
            p.add_run("签发人：")
            _fonts(p.add_run(_text(signer.find_class("signer-name")[0]))._r, KAITI)
        else:
            p.add_run(_text(number))
        _border(p, "bottom", size_eighths=8, color="E60012", space_pt=11)

    def masthead(self, el: Any) -> None:
        for m in el.find_class("name"):
            p = self.para("简报报头", m)
            size = re.search(r"font-size:\s*([\d.]+)pt", m.get("style") or "")
            if size:
                for run in p.runs:
                    run.font.size = Pt(float(size.group(1)))
        for issue in el.find_class("issue"):
            self.para("期号", issue)
        for meta in el.find_class("meta"):
            p = self.para("编印单位和日期")
            p.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
            parts = [_text(s) for s in meta if isinstance(s.tag, str)]
            p.add_run("\t".join(parts))
            _border(p, "bottom", size_eighths=18, color="E60012", space_pt=4)

    def title(self, el: Any, style: str) -> None:
        p = self.para(style)
        lines = [_text(s) for s in el.find_class("line")] or [_text(el)]
        for i, line in enumerate(lines):
            if i:
                p.add_run().add_break(WD_BREAK.LINE)
            p.add_run(line)
        if style == "标题":
            p.paragraph_format.space_before = Pt(2 * GRID_LINE_PT)
            p.paragraph_format.space_after = Pt(GRID_LINE_PT)

    def attachment_note(self, el: Any, *, first: bool) -> None:
        p = self.para("附件说明", el)
        p.paragraph_format.left_indent = Pt(5 * CHAR_PT)
        if first:
            p.paragraph_format.first_line_indent = -Pt(3 * CHAR_PT)
            p.paragraph_format.space_before = Pt(GRID_LINE_PT)

    def signoff(self, el: Any) -> None:
        name = _text(el.find_class("name")[0])
        date = _text(el.find_class("date")[0])
        # 7.3.5.2: the longer one two characters from the right; the date starts two characters
        # right of the signature's first character.
        n, d = _em(name), _em(date)
        name_right = 2 if n >= d + 2 else 2 + (d + 2 - n)
        date_right = name_right + n - 2 - d
        p = self.para("署名", text=name)
        p.paragraph_format.space_before = Pt(GRID_LINE_PT)
        p.paragraph_format.right_indent = Pt(name_right * CHAR_PT)
        q = self.para("成文日期", text=date)
        q.paragraph_format.right_indent = Pt(max(date_right, 0) * CHAR_PT)

    def annex(self, el: Any, *, wide: bool) -> None:
        if wide != self.landscape:
            section = self.doc.add_section(WD_SECTION.NEW_PAGE)
            _page_setup(section, landscape=wide)
            self.landscape = wide
            first = True
        else:
            first = False
        label = el.find_class("annex-label")[0]
        p = self.para("附件标签", label)
        if not first:
            p.paragraph_format.page_break_before = True
        for child in el:
            if child is label or not isinstance(child.tag, str):
                continue
            self.element(child)

    def table(self, el: Any) -> None:
        caption = el.find("caption")
        if caption is not None:
            self.para("表题", caption)
        rows = list(el.iter("tr"))
        if not rows:
            return
        width = max(len([c for c in tr if c.tag in ("td", "th")]) for tr in rows)
        table = self.doc.add_table(rows=0, cols=width)
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        head = el.find("thead")
        head_rows = set(head.iter("tr")) if head is not None else set()
        for tr in rows:
            row = table.add_row()
            trpr = row._tr.get_or_add_trPr()
            cant = OxmlElement("w:cantSplit")
            trpr.append(cant)
            if tr in head_rows:
                header = OxmlElement("w:tblHeader")
                trpr.append(header)
            cells = row.cells  # (built afresh on each access)
            for i, cell_el in enumerate(c for c in tr if c.tag in ("td", "th")):
                p = cells[i].paragraphs[0]
                self.style(p, "表头" if cell_el.tag == "th" else "表格")
                if "num" in (cell_el.get("class") or ""):
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                p.add_run(_text(cell_el))
        # A paragraph after the table keeps the next one from merging into it.
        self._spare = None

    def figure(self, el: Any) -> None:
        png = el.get("data-png")
        if png:
            p = self.para("图题")
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            p.add_run().add_picture(io.BytesIO(base64.b64decode(png)), width=Mm(150))
        caption = el.find("figcaption")
        if caption is not None:
            self.para("图题", caption)

    def colophon(self, el: Any) -> None:
        rows = el.find_class("row")
        for i, row in enumerate(rows):
            cls = set((row.get("class") or "").split())
            p = self.para("版记")
            _foot_frame(p)
            p.paragraph_format.left_indent = Pt(14)
            p.paragraph_format.right_indent = Pt(14)
            if "printed" in cls:
                p.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(28), WD_TAB_ALIGNMENT.RIGHT)
                parts = [_text(s) for s in row if isinstance(s.tag, str)]
                p.add_run("\t".join(parts))
            elif "copies" in cls:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                p.add_run(_text(row))
            else:
                label = row.find_class("label")
                if label:
                    p.paragraph_format.first_line_indent = -Pt(_em(_text(label[0])) * 14)
                    p.paragraph_format.left_indent = Pt(14 + _em(_text(label[0])) * 14)
                _runs(p, row)
            if i == 0:
                _border(p, "top", size_eighths=8)
            else:
                _border(p, "top", size_eighths=6)
            if i == len(rows) - 1:
                _border(p, "bottom", size_eighths=8)

    def save(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def _body(html: str) -> Any:
    root = lxml.html.document_fromstring(html)
    body = root.find("body")
    return body if body is not None else root


def docx_bytes(html: str, *, sample: str | None = None) -> bytes:
    """The Word copy of a document from its HTML (see the module docstring)."""
    writer = _Writer(sample)
    title = lxml.html.document_fromstring(html).findtext(".//title")
    if title:
        writer.doc.core_properties.title = title.strip()
    writer.walk(_body(html))
    return writer.save()


def html_to_docx(html: str, *, out: Path, sample: str | None = None) -> Path:
    """Write the Word copy of a document atomically to ``out``."""
    try:
        data = docx_bytes(html, sample=sample)
    except (ValueError, KeyError, IndexError, OSError) as exc:
        raise DocxError(f"could not write {out.name}: {exc}") from exc
    write_atomic(Path(out), data)
    return Path(out)


def iter_block_text(document: Any) -> Iterator[str]:
    """The text of a .docx in reading order: paragraphs and table cells (row by row), as written."""
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            yield "".join(t.text or "" for t in child.iter(qn("w:t")))
        elif child.tag == qn("w:tbl"):
            for tr in child.iter(qn("w:tr")):
                for tc in tr.iter(qn("w:tc")):
                    yield "".join(t.text or "" for t in tc.iter(qn("w:t")))


__all__ = ["DocxError", "docx_bytes", "html_to_docx", "iter_block_text"]
