"""The PDF renderer: GB/T 9704 geometry, the brief and notice layouts, and that nothing is fetched."""

from __future__ import annotations

import itertools
import re
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from jobs.charts import progress_chart_svg
from jobs.render import (
    AssetOnlyFetcher,
    AssetRefusedError,
    html_to_pdf,
    render_html,
    render_pdf,
)

MM = 72 / 25.4  # pt per mm
GRID_LINE_MM = 225 / 22
RED_FILL = "0.901961 0 0.070588 rg"  # #e60012 as WeasyPrint writes it

PROGRESS = [
    {"name": "巴音乌兰苏木", "done": 7, "target": 12, "expected": 9},
    {"name": "德岭山镇", "done": 4, "target": 5, "expected": 3},
    {"name": "海流图镇", "done": 2, "target": 10, "expected": 6},
]
PARAGRAPH = (
    "按照旗委、旗政府工作部署，各成员单位对照整合方案和时间节点，逐项推进矿业权整合、"
    "储量核实和手续办理工作，截至4月7日，全旗累计完成整合矿业权28宗。"
)


def brief_context(*, user_text: str = "部分单位材料报送滞后。") -> dict:
    return {
        "title_lines": ["乌拉特中旗非煤矿山资源整合增储上产", "工作简报"],
        "issue_no": 3,
        "office": "联席会议办公室编",
        "date_text": "2026年4月8日",
        "editor_note": "现将一季度整合工作推进情况予以刊发。",
        "sections": [
            {
                "heading": "整体推进情况",
                "paragraphs": [PARAGRAPH, {"text": user_text, "note": "（问题 #12、#15）"}],
                "tables": [
                    {
                        "caption": "表1  各苏木镇整合进度",
                        "columns": ["单位", "目标（宗）", "已完成（宗）", "完成率"],
                        "rows": [["巴音乌兰苏木", 12, 7, "58.3%"], ["德岭山镇", 5, 4, "80.0%"]],
                        "numeric": [1, 2, 3],
                    }
                ],
                "charts": [{"caption": "图1  整合进度", "svg": progress_chart_svg(PROGRESS)}],
                "subsections": [{"heading": "矿业权整合", "paragraphs": [PARAGRAPH]}],
            },
        ],
        "distribution": {"bao": "旗委、旗政府主要领导", "song": "联席会议各成员单位", "fa": None},
        "copies": 30,
    }


NOTICE = {
    "office_mark_lines": ["乌拉特中旗非煤矿山资源整合增储上产", "工作联席会议办公室文件"],
    "doc_number": "乌中联办通〔2026〕3号",
    "title": "关于一季度非煤矿山资源整合工作推进情况的通报",
    "addressees": "各成员单位，各苏木镇人民政府",
    "paragraphs": [PARAGRAPH],
    "sections": [{"heading": "存在的问题", "paragraphs": [PARAGRAPH]}],
    "attachments": ["一季度整合进度统计表"],
    "office": "联席会议办公室",
    "date_text": "2026年4月8日",
    "cc": "旗委办公室，旗政府办公室",
    "printed_by": "联席会议办公室",
    "printed_date": "2026年4月8日印发",
}


def text_runs(page) -> list[tuple[float, float, float, str]]:
    """(x_mm from left, baseline_mm from top, size_pt, text) for every text run on a page."""
    height = float(page.mediabox.height)
    runs = []

    def visit(text, cm, tm, _font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((x / MM, (height - y) / MM, size * abs(cm[0]), text.strip()))

    page.extract_text(visitor_text=visit)
    return runs


def pdf_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Text without whitespace, so wrapped titles and spaced runs compare as written."""
    return re.sub(r"\s+", "", text)


class Listener:
    """A real TCP listener on a free local port that counts the connections it gets."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()  # no answer: the client fails fast

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def brief_pdf(tmp_path_factory) -> tuple[PdfReader, AssetOnlyFetcher, Path]:
    out = tmp_path_factory.mktemp("brief") / "brief-3.pdf"
    fetcher = AssetOnlyFetcher()
    render_pdf("brief.html.j2", brief_context(), out=out, fetcher=fetcher)
    return PdfReader(out), fetcher, out


# ---- the brief -------------------------------------------------------------------------------


def test_brief_has_masthead_issue_table_chart_and_foot_block(brief_pdf):
    reader, fetcher, _ = brief_pdf
    text = pdf_text(reader)
    assert "乌拉特中旗非煤矿山资源整合增储上产" in text
    assert "工作简报" in text
    assert "第3期" in text
    assert "2026年4月8日" in text
    assert "编者按" in text
    assert "一、整体推进情况" in text
    assert "（一）矿业权整合" in text
    assert re.search(r"巴音乌兰苏木\s+12\s+7\s+58\.3%", text), "table row missing"
    assert "按进度应完成" in text and "7/12" in text, "chart text is not extractable"
    assert "报：旗委、旗政府主要领导" in text and "发：" not in text
    assert "共印30份" in text
    assert fetcher.log == [], "the brief needs no external resource at all"


def test_brief_masthead_is_red(brief_pdf):
    reader, _, _ = brief_pdf
    assert RED_FILL in reader.pages[0].get_contents().get_data().decode("latin-1")


def test_pages_are_a4_with_gbt9704_margins_and_page_numbers(brief_pdf):
    reader, _, _ = brief_pdf
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, start=1):
        assert float(page.mediabox.width) == pytest.approx(595.28, abs=1)
        assert float(page.mediabox.height) == pytest.approx(841.89, abs=1)
        runs = text_runs(page)
        footer = [r for r in runs if r[3].replace(" ", "") == f"—{number}—"]
        assert footer, f"page number — {number} — missing on page {number}"
        # Outside (below) the 225 mm text block, set in 4号 (14 pt).
        assert 37 + 225 < footer[0][1] < 297 - 15
        assert footer[0][2] == pytest.approx(14, abs=0.1)
        # Body-size runs only: chart labels inside SVG carry their own transforms.
        body = [r for r in runs if r[2] == pytest.approx(16, abs=0.1)]
        assert min(r[0] for r in body) == pytest.approx(28, abs=0.3)
    # The masthead's first line starts right at the top of the text block.
    first = text_runs(reader.pages[0])[0]
    glyph_top = first[1] - 0.88 * first[2] / MM
    assert glyph_top == pytest.approx(37, abs=2)


def test_body_sits_on_the_22_by_28_grid():
    # Raw HTML through the same layout CSS: flush paragraphs of plain CJK text.
    html = "<p class='flush'>" + "整合增储上产工作推进情况" * 80 + "</p>"
    reader = PdfReader_from(html_to_pdf(html))
    runs = [r for r in text_runs(reader.pages[0]) if not r[3].startswith("—")]
    assert len(runs) == 22, "22 lines per page"
    assert all(len(r[3]) == 28 for r in runs), "28 characters per line"
    assert {round(r[0], 1) for r in runs} == {28.0}
    steps = [b[1] - a[1] for a, b in itertools.pairwise(runs)]
    assert all(s == pytest.approx(GRID_LINE_MM, abs=0.02) for s in steps)
    # Line box of the first line: centred on the CJK em box (0.88 ascent / 0.12 descent).
    em_mm = runs[0][2] / MM
    line_top = runs[0][1] - 0.38 * em_mm - GRID_LINE_MM / 2
    assert line_top == pytest.approx(37, abs=0.5)
    assert runs[0][2] == pytest.approx(16, abs=0.1)


def PdfReader_from(data: bytes) -> PdfReader:
    import io

    return PdfReader(io.BytesIO(data))


def test_out_is_written_atomically(brief_pdf):
    _, _, out = brief_pdf
    assert out.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in out.parent.iterdir()] == [out.name], "no temp file left behind"


# ---- the notice ------------------------------------------------------------------------------


def test_notice_has_red_head_doc_number_title_and_signoff():
    reader = PdfReader_from(render_pdf("notice.html.j2", NOTICE))
    text = flat(pdf_text(reader))
    assert "工作联席会议办公室文件" in text
    assert "乌中联办通〔2026〕3号" in text
    assert "关于一季度非煤矿山资源整合工作推进情况的通报" in text
    assert "各成员单位，各苏木镇人民政府：" in text
    assert "附件：一季度整合进度统计表" in text
    assert "抄送：旗委办公室，旗政府办公室" in text
    assert RED_FILL in reader.pages[0].get_contents().get_data().decode("latin-1")
    # 署名 and 成文日期 sit on the right, the date 4 characters in from the right edge.
    date = next(r for p in reader.pages for r in text_runs(p) if r[3] == "2026年4月8日")
    assert date[0] > 28 + 156 / 2


def test_review_renders_with_tables():
    ctx = {
        "title": "关于2026年上半年非煤矿山资源整合工作问效情况的报告",
        "subtitle": "（2026年1月1日—6月30日）",
        "addressees": "旗人民政府",
        "summary": [PARAGRAPH],
        "sections": brief_context()["sections"],
        "office": "联席会议办公室",
        "date_text": "2026年7月6日",
    }
    text = flat(pdf_text(PdfReader_from(render_pdf("review.html.j2", ctx))))
    assert "工作问效情况的报告" in text and "德岭山镇" in text and "2026年7月6日" in text


def test_missing_context_key_fails_loudly():
    ctx = dict(NOTICE)
    del ctx["doc_number"]
    with pytest.raises(Exception, match="doc_number"):
        render_html("notice.html.j2", ctx)


# ---- security --------------------------------------------------------------------------------


def test_user_text_is_printed_literally_and_fetches_nothing(listener):
    hostile = (
        '<img src="file:///etc/passwd">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{listener.port}/x.css">'
        "{{ 7*7 }}"
    )
    ctx = brief_context(user_text=hostile)
    ctx["sections"][0]["heading"] = "{{ 7*7 }}"
    html = render_html("brief.html.j2", ctx)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    fetcher = AssetOnlyFetcher()
    reader = PdfReader_from(html_to_pdf(html, fetcher=fetcher))
    text = flat(pdf_text(reader))
    assert '<imgsrc="file:///etc/passwd">' in text
    assert f'<linkrel="stylesheet"href="http://127.0.0.1:{listener.port}/x.css">' in text
    # (the listener's port is in the text too: it may well contain "49")
    assert "一、{{7*7}}" in text and "49" not in text.replace(str(listener.port), "")
    assert "root:x:0:0" not in text
    assert fetcher.log == []
    assert listener.connections == 0


RAW_HOSTILE = """
<p>正文</p>
<img src="file:///etc/passwd">
<img src="../gbt9704.css">
<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">
<link rel="attachment" href="file:///etc/passwd">
<svg width="10" height="10"><image href="file:///etc/hostname" width="10" height="10"/></svg>
"""


def test_markup_that_bypasses_escaping_is_refused_by_the_fetcher(listener):
    fetcher = AssetOnlyFetcher()
    pdf = html_to_pdf(RAW_HOSTILE.format(port=listener.port), fetcher=fetcher)
    reader = PdfReader_from(pdf)
    assert set(fetcher.refused) >= {
        "file:///etc/passwd",
        f"http://127.0.0.1:{listener.port}/x.css",
        "file:///etc/hostname",
    }
    assert any(u.endswith("/report_templates/gbt9704.css") for u in fetcher.refused)
    assert fetcher.served == []
    assert listener.connections == 0
    assert not reader.attachments, "/etc/passwd was embedded"
    assert b"root:x:0:0" not in pdf


def test_default_fetcher_would_have_leaked(listener):
    """Control: the same markup with WeasyPrint's own fetcher reaches the network and the disk."""
    pdf = HTML(string=RAW_HOSTILE.format(port=listener.port)).write_pdf()
    assert listener.connections >= 1
    attachments = PdfReader_from(pdf).attachments
    assert any(b"root:" in data for blobs in attachments.values() for data in blobs)


def test_fetcher_serves_only_regular_files_inside_the_assets_dir(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "mark.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (tmp_path / "secret.svg").write_text("<svg/>")
    (assets / "link.svg").symlink_to(tmp_path / "secret.svg")
    fetcher = AssetOnlyFetcher(assets_dir=assets)

    response = fetcher.fetch((assets / "mark.svg").as_uri())
    assert response.content_type == "image/svg+xml"
    assert response.read().startswith(b"<svg")
    for url in [
        f"file://{assets}/%2e%2e/secret.svg",
        f"file://{assets}/mark.svg%00.svg",
        f"file://{assets}/../secret.svg",
        (assets / "link.svg").as_uri(),
        (assets / "missing.svg").as_uri(),
        "data:image/svg+xml,<svg/>",
        "http://127.0.0.1:1/mark.svg",
        "file://otherhost" + str(assets / "mark.svg"),
    ]:
        with pytest.raises(AssetRefusedError):
            fetcher.fetch(url)
    assert fetcher.served == [(assets / "mark.svg").as_uri()]
    assert len(fetcher.refused) == 8


def test_plain_string_is_never_trusted_as_chart_markup():
    ctx = brief_context()
    ctx["sections"][0]["charts"] = [{"caption": None, "svg": '<svg><image href="x"/></svg>'}]
    html = render_html("brief.html.j2", ctx)
    assert "&lt;svg&gt;&lt;image" in html and "<svg>" not in html


# ---- charts ----------------------------------------------------------------------------------


def test_chart_svg_keeps_cjk_labels_as_escaped_text():
    rows = [*PROGRESS, {"name": "<script>alert(1)</script>矿区$x$&", "done": 1, "target": 4, "expected": 2}]
    svg = progress_chart_svg(rows)
    assert "<script" not in svg.lower()
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    root = ET.fromstring(svg)
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"巴音乌兰苏木", "德岭山镇", "已完成", "按进度应完成", "7/12"} <= texts
    assert "<script>alert(1)</script>矿区$x$&" in texts, "label must survive verbatim, as text"
    assert "Noto Sans CJK SC" in svg
    assert progress_chart_svg(rows) == svg, "output must be deterministic"


@pytest.mark.parametrize("names", [["1号区"], ["整合类矿业权整合关闭退出"], ["Batch A 关闭", "甲", "乙丙丁戊己"], []])
def test_chart_margins_leave_the_room_tight_layout_finds(names, monkeypatch):
    # The chart places its axes from the row names' measured widths instead of running
    # tight_layout (which lays the whole figure out): the room must match what tight_layout finds.
    import jobs.charts as charts

    found: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    fit = charts._fit_margins

    def both(fig, labels):
        def inches():
            p, (w, h) = fig.subplotpars, fig.get_size_inches()
            return (p.left * w * 72, (1 - p.right) * w * 72, p.bottom * h * 72, (1 - p.top) * h * 72)

        fit(fig, labels)
        ours = inches()
        fig.tight_layout(pad=0.3)
        found.append((ours, inches()))

    monkeypatch.setattr(charts, "_fit_margins", both)
    progress_chart_svg([{"name": n, "done": 1, "target": 3, "expected": 2} for n in names])
    ((ours, tight),) = found
    for side, mine, theirs in zip(("left", "right", "bottom", "top"), ours, tight, strict=True):
        assert theirs - 0.5 <= mine <= theirs + 3, f"{side}: {mine:.1f} pt, tight_layout {theirs:.1f} pt"


@pytest.mark.parametrize("first", ["jobs.charts", "weasyprint"])
def test_chart_is_drawn_whichever_of_weasyprint_and_charts_is_imported_first(first, tmp_path):
    # Importing WeasyPrint re-registers ElementTree's "" prefix; once that made the chart <ns0:svg>,
    # which WeasyPrint printed as text (labels, then its style) instead of drawing it.
    # A fresh interpreter, because the import order is what matters.
    out = tmp_path / "chart.pdf"
    script = f"""
import sys
import {first}
import jobs.charts, jobs.render
svg = jobs.charts.progress_chart_svg({PROGRESS!r})
jobs.render.html_to_pdf("<p>图</p>" + svg, out=sys.argv[1])
sys.stdout.write(svg)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    svg = proc.stdout
    assert svg.startswith("<svg ") and 'xmlns="http://www.w3.org/2000/svg"' in svg[:300]
    assert "ns0:" not in svg
    text = pdf_text(PdfReader(out))
    assert "stroke-linejoin" not in text, "the chart's style was printed instead of drawn"
    assert text.count("海流图镇") == 1 and text.count("按进度应完成") == 1
