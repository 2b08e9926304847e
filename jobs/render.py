"""Render report templates to PDF in the GB/T 9704-2012 layout, fetching nothing but our own assets.

Security model, in two layers:
1. Templates are rendered with autoescaping on for every file name and StrictUndefined, so user
   text (unit names, problem descriptions, reasons) can never become markup; and Jinja never
   evaluates data as a template, so ``{{ 7*7 }}`` in data stays literal.
2. WeasyPrint resolves every URL (<img>, <link>, CSS url(), @import, @font-face src, SVG
   <image>/<use>, attachments) through its url_fetcher. ``AssetOnlyFetcher`` serves only
   regular files inside report_templates/assets/ and refuses everything else (other file://
   paths, http(s), ftp, data:), so even markup that bypassed escaping cannot read local files
   or make the worker call out. Fonts come from fontconfig by family name (no @font-face),
   which does not go through the fetcher at all.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
from markupsafe import Markup, escape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from jobs import cjk_justify
from oversight.files import write_atomic

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "report_templates"
ASSETS_DIR = TEMPLATES_DIR / "assets"
LAYOUT_CSS = TEMPLATES_DIR / "gbt9704.css"

_MIME_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".css": "text/css",
}

# GB/T 9704 text block width: 156 mm, in pt (1 pt = 25.4/72 mm).
TEXT_BLOCK_WIDTH_PT = 156 / 25.4 * 72


class RenderError(Exception):
    """Base error of the PDF renderer."""

    user_message = "报告生成失败，请联系管理员。"


class AssetRefusedError(RenderError):
    """A document asked for a URL that is not one of the report's bundled assets."""


@dataclass(frozen=True)
class FetchRecord:
    """One URL WeasyPrint asked for, and whether it was served."""

    url: str
    served: bool
    reason: str = ""


class AssetOnlyFetcher(URLFetcher):
    """URL fetcher that serves regular files under ``assets_dir`` and refuses everything else.

    Every request is appended to ``log`` (served or refused) so callers and tests can check
    exactly what the renderer asked for.
    """

    def __init__(self, assets_dir: Path = ASSETS_DIR, **kwargs):
        # No network protocols at all: even if fetch() were bypassed, the parent class would
        # only accept file URLs (which fetch() below restricts further).
        kwargs.setdefault("allowed_protocols", ("file",))
        kwargs.setdefault("allow_redirects", False)
        super().__init__(**kwargs)
        self.assets_dir = Path(assets_dir).resolve()
        self.log: list[FetchRecord] = []
        self._lock = threading.Lock()

    @property
    def refused(self) -> list[str]:
        """URLs that were asked for and refused."""
        return [r.url for r in self.log if not r.served]

    @property
    def served(self) -> list[str]:
        """URLs that were served."""
        return [r.url for r in self.log if r.served]

    def _record(self, url: str, served: bool, reason: str = "") -> None:
        with self._lock:
            self.log.append(FetchRecord(url, served, reason))

    def _refuse(self, url: str, reason: str) -> AssetRefusedError:
        self._record(url, False, reason)
        logger.warning("refused to fetch %.200r: %s", url, reason)
        return AssetRefusedError(f"refused {url[:200]!r}: {reason}")

    def _asset_path(self, url: str) -> Path:
        """Map a file:// URL to a regular file inside assets_dir, or raise."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file":
            raise self._refuse(url, f"scheme {parts.scheme or '(none)'!r} is not allowed")
        if parts.netloc not in ("", "localhost"):
            raise self._refuse(url, "remote file host")
        # resolve() follows symlinks and "..", so neither can step outside the assets dir.
        try:
            path = Path(unquote(parts.path)).resolve()
        except (OSError, ValueError) as exc:  # e.g. an embedded NUL byte
            raise self._refuse(url, f"unusable path ({exc})") from exc
        if not path.is_relative_to(self.assets_dir):
            raise self._refuse(url, "outside the report assets")
        if not path.is_file():
            raise self._refuse(url, "no such asset")
        return path

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        """Serve one bundled asset; refuse anything else without touching it."""
        path = self._asset_path(url)
        mime = _MIME_TYPES.get(path.suffix.lower())
        if mime is None:
            raise self._refuse(url, f"asset type {path.suffix!r} is not served")
        body = path.read_bytes()
        self._record(url, True)
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": mime})


def _fit_pt(text: str, max_pt: float, width_pt: float = TEXT_BLOCK_WIDTH_PT) -> str:
    """Largest font size (pt, as CSS) at which a line of CJK text fits the text block."""
    chars = max(_em_width(str(text)), 1.0)
    return f"{min(max_pt, width_pt / chars * 0.98):.2f}pt"


_CN_DIGITS = "零一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一 (heading numbers; up to 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


# --- Text the layout must keep whole -------------------------------------------------------------

# Emoji and pictographs have no place in an official document (user text may carry them).
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U0000fe0f\U0000200d\U000020e3\U0000e000-\U0000f8ff]"
)
# A number or a date: never broken across lines (in a table cell, or in running text).
NUMBER_OR_DATE_RE = re.compile(
    r"[\u4e00-\u9fff]{1,8}〔\d{4}〕\d+号"  # a document number: 乌中政办发〔2026〕4号
    r"|\d{4}年\d{1,2}月\d{1,2}日(?:\u202f?\d{1,2}[:：]\d{2})?"  # a moment: clean_text joined it
    r"|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日|\d{4}年"
    r"|\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{1,2}:\d{2}"
    r"|[#＃]?[+\-−]?\d[\d,，.]*(?:%|‰)?(?:/\d[\d,.]*)?"
)


# The space of a moment (2026年12月6日 00:19, oversight.dates.cn_datetime) is printed as a narrow
# no-break space: WeasyPrint justifies a line at its spaces (U+0020 and U+00A0) and may break it
# there, so that one space took the whole line's missing width ("12月6日      00:19") or left the
# time alone at the start of the next line. U+202F is neither widened nor broken at; the line is
# then justified between its characters (jobs.cjk_justify).
MOMENT_SPACE = "\u202f"
_MOMENT_RE = re.compile(r"(?<=日) (?=\d{1,2}[:：]\d{2})")


def clean_text(value: Any) -> Any:
    """Every value a template prints: emoji removed, a moment's date and time held together
    (strings only; markup is ours and left as is)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _MOMENT_RE.sub(MOMENT_SPACE, _EMOJI_RE.sub("", value))
    return value


def _nobr(value: Any) -> Markup:
    """Escaped text with every number and date wrapped so that it is never broken across lines."""
    text = clean_text(str(value))
    out: list[str] = []
    pos = 0
    for m in NUMBER_OR_DATE_RE.finditer(text):
        out.append(str(escape(text[pos : m.start()])))
        out.append(f'<span class="nobr">{escape(m.group(0))}</span>')
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


SHORT_CELL = 8  # characters: a table cell this short (a name, a unit, a score) is never wrapped


def _cell(value: Any) -> Markup:
    """A table cell: numbers and dates kept whole, and a short cell ("贾宏亮", "整改扣分") kept on one
    line, so the table's columns take the width their words need rather than breaking them."""
    text = clean_text(str(value))
    if len(text) <= SHORT_CELL and not re.search(r"\s", text):
        return Markup('<span class="nobr">{}</span>').format(text)
    return _nobr(text)


def _heading_cell(value: Any) -> Markup:
    """A column heading: broken only before its bracketed part ("进展报送 / （15）"), otherwise whole."""
    text = clean_text(str(value))
    parts = [p for p in re.split(r"(?=[（(])", text) if p]
    return Markup("<wbr>").join(_cell(p) if len(p) <= 2 * SHORT_CELL else _nobr(p) for p in parts)


def _names(value: Any) -> Markup:
    """A list of names ("甲局、乙局，丙局") with each name kept whole when the line wraps."""
    text = clean_text(str(value))
    parts = re.split(r"([、，,；])", text)
    return Markup("").join(
        Markup('<span class="nobr">{}</span>').format(part) if i % 2 == 0 and part else escape(part)
        for i, part in enumerate(parts)
    )


def _em_width(text: str) -> float:
    """Width of a line of text in ems of its font: CJK one em, Latin letters and digits about half."""
    return sum(0.55 if ord(ch) < 0x2E80 and ch not in "—…“”‘’" else 1.0 for ch in text)


# A title (7.3.1) breaks only between meaningful parts: never inside a number, a date, a
# bracketed or quoted name, or a run of content characters; the places it may break are after
# 关于 and the time, around 的/和/及/与/、 and the words that close a title. A template may pass
# the lines itself (a list), or a title with explicit break points ("\n").
_TITLE_TOKEN_RE = re.compile(
    r"《[^》]*》|〔[^〕]*〕|（[^）]*）|\([^)]*\)|“[^”]*”"
    r"|\d{4}年(?:第[一二三四]季度|[一二三四]季度|[上下]半年|度|\d{1,2}月(?:\d{1,2}日)?)?"
    r"|第[一二三四五六七八九十\d]+[季期批次]度?"
    r"|关于|工作|情况|的(?:通报|报告|通知|决定|意见|请示|批复|函|纪要)|督办单|会议纪要|纪要|和|及|与|、|的"
)
_TITLE_BREAK_BEFORE = {"工作", "情况", "和", "及", "与"}
_TITLE_BREAK_AFTER = {"关于", "工作", "、", "和", "及", "与", "的"}
# Punctuation that may not begin a line (GB/T 15834's line-break rule, as a typesetter applies it).
_NO_LINE_START = "、，。；：！？）》”〕"


def _title_tokens(title: str) -> list[tuple[str, bool, bool]]:
    """(token, may break before it, may break after it) in order."""
    tokens: list[tuple[str, bool, bool]] = []
    pos = 0
    for m in _TITLE_TOKEN_RE.finditer(title):
        if m.start() > pos:
            tokens.append((title[pos : m.start()], True, True))  # a content run: breakable only at its edges
        tok = m.group(0)
        closing = (tok.startswith("的") and len(tok) > 1) or tok in ("督办单", "会议纪要", "纪要")
        time_like = tok[:1].isdigit() or tok.startswith("第")
        before = tok in _TITLE_BREAK_BEFORE or closing or tok[:1] in "《“" or time_like
        after = tok in _TITLE_BREAK_AFTER or time_like or tok[-1:] in "》”〕）)"
        tokens.append((tok, before, after))
        pos = m.end()
    if pos < len(title):
        tokens.append((title[pos:], True, True))
    return tokens


def title_lines(title: str | list[str] | tuple[str, ...], max_em: float = 20.0) -> list[str]:
    """A title as the lines it is set in: as given (a list, or "\n" break points), else at most
    ``max_em`` ems a line, broken only between meaningful parts, as few lines as possible and in a
    trapezoid or diamond rather than an hourglass."""
    if isinstance(title, list | tuple):
        return [clean_text(str(t)) for t in title if str(t).strip()]
    text = clean_text(str(title))
    if "\n" in text:
        return [t.strip() for t in text.split("\n") if t.strip()]
    if _em_width(text) <= max_em:
        return [text]
    tokens = _title_tokens(text)
    n = len(tokens)
    # Break points: between tokens i-1 and i, where the earlier may end a line or the later may start one.
    can_break = [False] * (n + 1)
    for i in range(1, n):
        can_break[i] = (tokens[i - 1][2] or tokens[i][1]) and tokens[i][0][:1] not in _NO_LINE_START
    widths = [_em_width(t[0]) for t in tokens]
    best: tuple[tuple[float, ...], list[int]] | None = None

    def lines_of(cuts: list[int]) -> list[str]:
        bounds = [0, *cuts, n]
        return ["".join(t[0] for t in tokens[a:b]) for a, b in itertools.pairwise(bounds)]

    def search(start: int, cuts: list[int]) -> None:
        nonlocal best
        width = 0.0
        for end in range(start + 1, n + 1):
            width += widths[end - 1]
            if width > max_em:
                break
            if end == n:
                lens = [_em_width(line) for line in lines_of(cuts)] + [width]
                hourglass = sum(1 for i in range(1, len(lens) - 1) if lens[i] < lens[i - 1] and lens[i] < lens[i + 1])
                score = (len(lens), hourglass, max(lens) - min(lens))
                if best is None or score < best[0]:
                    best = (score, list(cuts))
            elif can_break[end] and len(cuts) < 6:
                search(end, [*cuts, end])

    search(0, [])
    if best is None:  # a single part wider than a line: the only case a title breaks inside a part
        lines, line = [], ""
        for ch in text:
            if _em_width(line + ch) > max_em:
                lines.append(line)
                line = ""
            line += ch
        return [*lines, line] if line else lines
    return lines_of(best[1])


# --- Context: the layout's part -------------------------------------------------------------------

TEMPLATES = {
    "notice": "notice.html.j2",
    "brief": "brief.html.j2",
    "review": "review.html.j2",
    "minutes": "minutes.html.j2",
    "supervision": "supervision.html.j2",
}
# Documents in the 文件 layout: evidence and long or wide tables go into 附件 after the signature.
FORMAL = {"notice.html.j2", "review.html.j2", "minutes.html.j2", "supervision.html.j2"}
LONG_TABLE_ROWS = 10  # a table of more rows is an annex of a formal document
WIDE_TABLE_COLUMNS = 7  # a table of more columns is set on a landscape annex page
LAYOUT_TEXTS = {
    "see_annex": "（详见附件{n}）",
    "draft_number": "（文号印发时编排）",
    "office_mark_tail": "文件",
}


def _is_wide(table: dict[str, Any]) -> bool:
    """More columns than a portrait page holds, or a table that says it needs a landscape page
    (`wide`: its cells kept whole are wider than 156 mm, as the review's 整改台账 with a unit's name,
    a 文号 and a state in three of its seven columns)."""
    return bool(table.get("wide")) or len(table.get("columns") or []) > WIDE_TABLE_COLUMNS


def _annex_tables(sections: list[dict[str, Any]], annexes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sections without their evidence and long tables, which are appended to ``annexes``: a section
    of tables alone becomes one annex under its heading; a long or wide table in a section with text
    becomes an annex of its own, the section saying where it is."""
    kept = []
    for s in sections:
        s = dict(s)
        tables = list(s.get("tables") or [])
        text = s.get("paragraphs") or s.get("subsections") or s.get("charts")
        if tables and not text:
            annexes.append({"title": s["heading"], "tables": tables, "wide": any(_is_wide(t) for t in tables)})
            continue
        stay = []
        for t in tables:
            if len(t.get("rows") or []) > LONG_TABLE_ROWS or _is_wide(t):
                annexes.append(
                    {
                        "title": t.get("caption") or s["heading"],
                        "tables": [{**t, "caption": None}],
                        "wide": _is_wide(t),
                    }
                )
                s["paragraphs"] = [*(s.get("paragraphs") or []), LAYOUT_TEXTS["see_annex"].format(n=len(annexes))]
            else:
                stay.append(t)
        s["tables"] = stay
        if s.get("subsections"):
            s["subsections"] = _annex_tables(s["subsections"], annexes)
        kept.append(s)
    return kept


_NUMBERED_RE = re.compile(r"^[一二三四五六七八九十]+、")


def office_mark_lines(name: str, tail: str = LAYOUT_TEXTS["office_mark_tail"]) -> list[str]:
    """The red issuing-office mark: "…工作联席会议办公室" on two lines, the second ending in 文件."""
    split = "工作联席会议办公室"
    if name.endswith(split) and len(name) > len(split):
        return [name[: -len(split)], split + tail]
    return [name + tail]


def prepare_context(template: str, context: dict[str, Any]) -> dict[str, Any]:
    """The template's context with the layout's part added: annexes (evidence and long tables of a
    formal document), where body numbering continues, the office mark and number where missing."""
    ctx = dict(context)
    annexes = [dict(a) for a in ctx.get("annexes") or []]
    for title in ctx.get("attachments") or []:  # older shape: titles only
        annexes.append({"title": title})
    if template in FORMAL and ctx.get("sections"):
        ctx["sections"] = _annex_tables(list(ctx["sections"]), annexes)
    ctx["annexes"] = annexes
    paragraphs = ctx.get("paragraphs") or ctx.get("summary") or []
    ctx.setdefault(
        "numbering_start",
        sum(1 for p in paragraphs if _NUMBERED_RE.match(p if isinstance(p, str) else p.get("text", ""))),
    )
    if template == "minutes.html.j2":
        ctx.setdefault("attendance", [])
    if template == "supervision.html.j2":
        ctx.setdefault("fields", [])
        ctx.setdefault("sections", [])
    if template in FORMAL:
        ctx.setdefault("office_mark_lines", office_mark_lines(ctx.get("office") or ""))
        if template == "review.html.j2":  # a review rendered offline is a draft without its number
            ctx.setdefault("doc_number", LAYOUT_TEXTS["draft_number"])
        ctx.setdefault("signer", None)
        ctx.setdefault("cc", None)
        ctx.setdefault("printed_by", None)
        ctx.setdefault("printed_date", None)
    return ctx


def template_env() -> jinja2.Environment:
    """The Jinja2 environment for report templates: autoescape everything, fail on missing data."""
    env = jinja2.Environment(
        # Plain True, not select_autoescape: our templates end in .j2 and must escape too.
        autoescape=True,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=clean_text,
    )
    env.filters["fit_pt"] = _fit_pt
    env.filters["cn_number"] = _cn_number
    env.filters["nobr"] = _nobr
    env.filters["cell"] = _cell
    env.filters["heading_cell"] = _heading_cell
    env.filters["names"] = _names
    env.filters["title_lines"] = title_lines
    return env


_ENV_LOCK = threading.Lock()
_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    with _ENV_LOCK:
        if _ENV is None:
            _ENV = template_env()
        return _ENV


def render_html(template: str, context: dict) -> str:
    """Render one report template (e.g. "brief.html.j2") with plain data to an HTML string."""
    return _env().get_template(template).render(**prepare_context(template, context))


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def sample_css(text: str) -> str:
    """CSS that marks every page as sample data (demo, sandbox), in the top margin."""
    return (
        "@page { @top-left { content: " + _css_string(text) + "; font-size: 9pt; color: #c00000; "
        "letter-spacing: 0; vertical-align: bottom; padding-bottom: 4mm; white-space: nowrap; } }"
    )


def draft_mark(draft: str, sample: str | None) -> str:
    """A draft's page mark: the draft's own words, then the plan's sample mark when it has one
    (送审稿 未经审定 不得外传·示例数据：…)."""
    return f"{draft}·{sample}" if sample else draft


def marked_html(html: str, mark: str | None) -> str:
    """A document's HTML as it is stored beside its PDF, carrying the PDF's mark (示例数据, 草稿):
    in the title, at the top of every printed page (sample_css, for whoever prints the file) and
    above the text on screen. Only CSS and the title change, so the Word copy written from it later
    (jobs.word reads neither generated content nor @media screen) has the same body text."""
    if not mark:
        return html
    style = (
        "<style>" + sample_css(mark) + " @media screen { body::before { content: " + _css_string(mark) + "; "
        "display: block; color: #c00000; font-size: 10.5pt; margin-bottom: 6mm; } }</style>"
    )
    html = html.replace("<title>", "<title>【" + str(escape(mark)) + "】", 1)
    return html.replace("</head>", style + "</head>", 1)


_fonts = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's font configuration, made once: a new one per document loads fontconfig's
    configuration and a new Pango font map, so every CJK font is opened and parsed again (about
    0.2–0.4 s of a 2 s brief). Our layout has no @font-face, so nothing accumulates in it; one per
    thread because a Pango font map is not safe to share between threads."""
    config: FontConfiguration | None = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


cjk_justify.install()  # a Chinese line is justified between its characters, not only at spaces


def html_to_pdf(
    html: str,
    *,
    out: Path | None = None,
    fetcher: AssetOnlyFetcher | None = None,
    extra_css: str | None = None,
) -> bytes:
    """Lay out HTML on GB/T 9704 pages and return the PDF; also write it atomically to ``out``.
    ``extra_css`` (ours, never user text) is laid over the layout, e.g. the sample-data mark."""
    fetcher = fetcher or AssetOnlyFetcher()
    base_url = ASSETS_DIR.as_uri() + "/"
    sheets = [CSS(string=LAYOUT_CSS.read_text(encoding="utf-8"), base_url=base_url, url_fetcher=fetcher)]
    if extra_css:
        sheets.append(CSS(string=extra_css, base_url=base_url, url_fetcher=fetcher))
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher, media_type="print")
    pdf = document.write_pdf(stylesheets=sheets, font_config=_font_config())
    if fetcher.refused:
        logger.warning("PDF rendered with %d refused URL(s)", len(fetcher.refused))
    if out is not None:
        write_atomic(Path(out), pdf)
    return pdf


def render_pdf(
    template: str,
    context: dict,
    *,
    out: Path | None = None,
    fetcher: AssetOnlyFetcher | None = None,
) -> bytes:
    """Render a report template with plain data straight to PDF bytes (and ``out`` if given)."""
    return html_to_pdf(render_html(template, context), out=out, fetcher=fetcher)


@dataclass(frozen=True)
class DocumentFiles:
    """One written document: its PDF, its Word copy (same text, same page setup) and the HTML."""

    pdf: Path
    docx: Path
    html: str


def docx_path(pdf: Path) -> Path:
    """Where the Word copy of a PDF is written: beside it, same name."""
    return Path(pdf).with_suffix(".docx")


def render_document(
    kind: str,
    context: dict[str, Any],
    *,
    out: Path,
    sample: str | None = None,
    fetcher: AssetOnlyFetcher | None = None,
) -> DocumentFiles:
    """Write one document of ``kind`` (notice, brief, review, minutes, supervision) as PDF at ``out``
    and as .docx beside it, both from the same HTML. ``sample``: mark every page as sample data."""
    from jobs.word import html_to_docx

    try:
        template = TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r}") from None
    html = render_html(template, context)
    out = Path(out)
    html_to_pdf(html, out=out, fetcher=fetcher, extra_css=sample_css(sample) if sample else None)
    docx = docx_path(out)
    html_to_docx(html, out=docx, sample=sample)
    return DocumentFiles(pdf=out, docx=docx, html=html)


def render_minutes(context: dict[str, Any], *, out: Path, sample: str | None = None) -> DocumentFiles:
    """A meeting's minutes (会议纪要) as PDF and .docx; context as report_templates/minutes.html.j2 documents."""
    return render_document("minutes", context, out=out, sample=sample)


def render_supervision(context: dict[str, Any], *, out: Path, sample: str | None = None) -> DocumentFiles:
    """A supervision order (督办单) as PDF and .docx; context as report_templates/supervision.html.j2 documents."""
    return render_document("supervision", context, out=out, sample=sample)


__all__ = [
    "ASSETS_DIR",
    "TEMPLATES",
    "AssetOnlyFetcher",
    "AssetRefusedError",
    "DocumentFiles",
    "FetchRecord",
    "RenderError",
    "docx_path",
    "draft_mark",
    "html_to_pdf",
    "marked_html",
    "office_mark_lines",
    "prepare_context",
    "render_document",
    "render_html",
    "render_minutes",
    "render_pdf",
    "render_supervision",
    "sample_css",
    "template_env",
    "title_lines",
]
