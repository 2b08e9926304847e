"""SVG charts for reports, drawn with matplotlib's SVG backend (no pyplot, no global state).

Text is kept as SVG <text> (svg.fonttype='none') in a CJK family installed on the worker, so
WeasyPrint sets it with the same fonts as the document and the labels stay extractable from
the PDF. Labels are data (unit and batch names): matplotlib XML-escapes them, and mathtext is
switched off so a "$" in a name is printed, not parsed.
"""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib

matplotlib.use("Agg")

from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path

CJK_SANS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]

_RC: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "lianxi-charts",  # stable ids → byte-identical output for identical data
    "font.family": "sans-serif",
    "font.sans-serif": CJK_SANS,
    "font.size": 9,
    "axes.unicode_minus": False,
    "text.usetex": False,
}

DONE_COLOR = "#1f4e9b"
TARGET_COLOR = "#d9d9d9"
EXPECTED_COLOR = "#e60012"

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"


def _svg_markup(fig: Figure) -> Markup:
    """Matplotlib's SVG, re-serialised for inlining in HTML.

    Parsing and re-serialising drops the XML declaration, the DOCTYPE (which names an external
    DTD) and the RDF <metadata>, and guarantees well-formed, escaped output. ``style``
    attributes become presentation attributes: WeasyPrint reads inline <svg> styles with its
    HTML CSS parser too, which warns on every SVG property.

    Namespaces are written out literally (``<svg xmlns="http://www.w3.org/2000/svg"
    xmlns:xlink=...>`` and ``xlink:href``) instead of through ElementTree's global prefix map:
    importing WeasyPrint maps "" to no namespace there, after which a chart came out as
    ``<ns0:svg>``, which WeasyPrint does not draw (it printed the labels and style as text).
    ``default_namespace=`` would avoid the map too, but Python 3.11 refuses it for SVG's
    unprefixed attributes. The HTML parser knows xlink attributes only by the "xlink:" prefix.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    root = ET.fromstring(buf.getvalue())
    for parent in root.iter():
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}metadata":
                parent.remove(child)
    svg_prefix, xlink_prefix = f"{{{SVG_NS}}}", f"{{{XLINK_NS}}}"
    for element in root.iter():
        if element.tag.startswith(svg_prefix):
            element.tag = element.tag[len(svg_prefix) :]
        for name in [n for n in element.attrib if n.startswith(xlink_prefix)]:
            element.set(f"xlink:{name[len(xlink_prefix) :]}", element.attrib.pop(name))
        style = element.attrib.pop("style", None)
        if style:
            for declaration in style.split(";"):
                name, sep, value = declaration.partition(":")
                if sep and name.strip():
                    element.set(name.strip(), value.strip())
    root.set("xmlns", SVG_NS)
    root.set("xmlns:xlink", XLINK_NS)
    # Marked safe only because matplotlib built it and ElementTree escaped every label.
    return Markup(ET.tostring(root, encoding="unicode"))


class ChartMarkup(Markup):
    """A chart's inline SVG, carrying the same chart as a PNG (base64) for the document's Word copy."""

    png: str | None = None


def _png_b64(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def progress_chart_svg(rows: list[dict], *, png: bool = False) -> Markup:
    """Horizontal bars of done vs target per unit, with a marker for what the timeline expects now.

    Each row is {name: str, done: number, target: number, expected: number}. Bars are drawn as a
    share of each row's target so units with different targets compare; the figure at the bar
    end reads "done/target". Returns inline SVG markup (a ``str`` subclass) for the templates; with
    ``png``, a ChartMarkup whose ``png`` is the same figure as a PNG (for the Word copy).
    """
    with matplotlib.rc_context(_RC):
        height_in = 0.9 + 0.36 * max(len(rows), 1)
        fig = Figure(figsize=(156 / 25.4, height_in))
        ax = fig.add_subplot()
        names = [str(r["name"]) for r in rows]
        ys = list(range(len(rows)))[::-1]  # first row on top
        for y, r in zip(ys, rows, strict=False):
            target = float(r["target"]) or 1.0
            done_pct = 100.0 * float(r["done"]) / target
            exp_pct = 100.0 * float(r["expected"]) / target
            ax.barh(y, 100, height=0.6, color=TARGET_COLOR, zorder=1)
            ax.barh(y, min(done_pct, 100), height=0.6, color=DONE_COLOR, zorder=2)
            ax.plot([exp_pct, exp_pct], [y - 0.42, y + 0.42], color=EXPECTED_COLOR, linewidth=1.6, zorder=3)
            ax.text(101.5, y, f"{_fmt(r['done'])}/{_fmt(r['target'])}", va="center", ha="left", parse_math=False)
        ax.set_yticks(ys, labels=names, parse_math=False)
        ax.set_xlim(0, 112)
        ax.set_xticks([0, 25, 50, 75, 100], labels=["0", "25%", "50%", "75%", "100%"])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.legend(
            handles=[
                Patch(color=DONE_COLOR, label="已完成"),
                Patch(color=TARGET_COLOR, label="目标"),
                Line2D([], [], color=EXPECTED_COLOR, linewidth=1.6, label="按进度应完成"),
            ],
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=3,
            frameon=False,
        )
        _fit_margins(fig, names)
        svg = _svg_markup(fig)
        if not png:
            return svg
        chart = ChartMarkup(svg)
        chart.png = _png_b64(fig)
        return chart


# The progress chart's margins around the axes, in points, for its 9 pt text: what
# fig.tight_layout(pad=0.3) finds (tests/test_charts.py checks that it still does). Below: the
# x tick labels; above: the legend; right: the padding. Left: the widest row name plus these.
_PAD_PT = 0.3 * 9
_BOTTOM_PT, _TOP_PT, _RIGHT_PT = 18.75, 23.55, _PAD_PT
_LEFT_EXTRA_PT = 3.5 + _PAD_PT + 0.5  # y tick label pad, padding, rounding


def _fit_margins(fig: Figure, names: list[str]) -> None:
    """Place the axes as tight_layout would, from the row names' measured widths.

    tight_layout lays the whole figure out to find its extents (~40 % of the chart's time);
    only the row names vary, and measuring them is one font lookup.
    """
    prop = FontProperties(size=matplotlib.rcParams["font.size"])
    # The outline measure runs ~3 % narrower than the renderer's tick label boxes.
    widest = 1.035 * max(
        (text_to_path.get_text_width_height_descent(n, prop, ismath=False)[0] for n in names), default=0.0
    )
    width_pt, height_pt = (v * 72 for v in fig.get_size_inches())
    fig.subplots_adjust(
        left=(widest + _LEFT_EXTRA_PT) / width_pt,
        right=1 - _RIGHT_PT / width_pt,
        bottom=_BOTTOM_PT / height_pt,
        top=1 - _TOP_PT / height_pt,
    )


def _fmt(value) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
