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

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

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
    chars = max(len(str(text)), 1)
    return f"{min(max_pt, width_pt / chars * 0.98):.2f}pt"


_CN_DIGITS = "零一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一 (heading numbers; up to 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def template_env() -> jinja2.Environment:
    """The Jinja2 environment for report templates: autoescape everything, fail on missing data."""
    env = jinja2.Environment(
        # Plain True, not select_autoescape: our templates end in .j2 and must escape too.
        autoescape=True,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fit_pt"] = _fit_pt
    env.filters["cn_number"] = _cn_number
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
    return _env().get_template(template).render(**context)


def html_to_pdf(html: str, *, out: Path | None = None, fetcher: AssetOnlyFetcher | None = None) -> bytes:
    """Lay out HTML on GB/T 9704 pages and return the PDF; also write it atomically to ``out``."""
    fetcher = fetcher or AssetOnlyFetcher()
    base_url = ASSETS_DIR.as_uri() + "/"
    stylesheet = CSS(string=LAYOUT_CSS.read_text(encoding="utf-8"), base_url=base_url, url_fetcher=fetcher)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher, media_type="print")
    pdf = document.write_pdf(stylesheets=[stylesheet])
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


__all__ = [
    "ASSETS_DIR",
    "AssetOnlyFetcher",
    "AssetRefusedError",
    "FetchRecord",
    "RenderError",
    "html_to_pdf",
    "render_html",
    "render_pdf",
    "template_env",
]
