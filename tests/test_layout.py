"""GB/T 9704 layout, checked from the PDFs themselves (tests/pdfcheck.py), on every document type:
from a generated quarter (tests/seed_quarter.py) and the minutes and the supervision order from
fixture data; the demo's are checked on the demo run tests/test_demo.py makes (pdfcheck's
`check_demo_documents`), so the suite runs the demo once less. Every rule also rejects a document with
that one defect planted in it, so each is shown to be able to fail. The Word copy of each document
is read back with python-docx: the same text as the PDF, the GB/T 9704 page setup, named styles."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from docx.shared import Mm

from jobs.render import html_to_pdf, render_document, render_html, sample_css, title_lines
from jobs.word import iter_block_text
from models import make_engine, session_scope
from models.migrate import upgrade
from tests.conftest import load_bundled_plan
from tests.pdfcheck import RULES, Document, Expect, check_pdf, pdf_text_for_comparison
from tests.seed_quarter import seed_quarter
from tests.test_render import NOTICE, PARAGRAPH, brief_context

OFFICE = "乌拉特中旗非煤矿山资源整合增储上产工作联席会议办公室"

MINUTES = {
    "office_mark_lines": ["乌拉特中旗非煤矿山资源整合增储上产", "工作联席会议纪要"],
    "doc_number": "第1期",
    "title": "2026年第一季度联席会议纪要",
    "paragraphs": [
        "2026年4月15日，分管副旗长主持召开非煤矿山资源整合增储上产工作联席会议，听取各成员单位一季度工作进展汇报，研究进度滞后问题。纪要如下。",
    ],
    "sections": [
        {
            "heading": "议定事项",
            "subsections": [
                {
                    "heading": "加快整合重组一批",
                    "paragraphs": ["由旗自然资源局牵头，旗林草局配合，2026年6月30日前完成。"],
                },
                {"heading": "督办逾期问题", "paragraphs": ["由旗政府办公室牵头，2026年5月15日前办结。"]},
            ],
        },
        {"heading": "下次会议", "paragraphs": ["下次会议于二季度末召开。"]},
    ],
    "attendance": [
        {"label": "确认参会", "text": "旗自然资源局、旗应急管理局、旗林草局、市生态环境局中旗分局、旗水利局"},
        {"label": "请假", "text": "旗公安局"},
    ],
    "office": None,
    "date_text": None,
    "cc": "旗委办公室，旗人大办公室。",
    "printed_by": "旗政府办公室",
    "printed_date": "2026年4月16日印发",
}

SUPERVISION = {
    "doc_number": "乌中联办督〔2026〕3号",
    "title": "关于督促办理12号问题的督办单",
    "addressees": "旗林草局",
    "paragraphs": [
        "问题#12（林地手续办理）于2026年2月3日交由你单位办理，办理期限为10个工作日，至今逾期未办结，且已两次退回。现予红色督办。",
        "请于2026年4月30日前办结，并通过系统报送办理结果。",
    ],
    "fields": [
        ["督办事项", "问题#12 林地手续办理"],
        ["责任单位", "旗林草局"],
        ["督办等级", "红色督办"],
        ["办理时限", "2026年4月30日"],
        ["催办记录", "2026年3月2日、2026年3月16日两次催办"],
    ],
    "office": OFFICE,
    "date_text": "2026年4月16日",
    "cc": "旗人民政府。",
    "printed_by": OFFICE,
    "printed_date": "2026年4月16日印发",
}


@dataclass
class Written:
    kind: str
    pdf: Path
    expect: Expect
    doc: Document


def _expect_of(kind: str, ctx: dict) -> Expect:
    title = ctx.get("title")
    return Expect(
        kind=kind,
        doc_number=ctx.get("doc_number") if kind != "brief" else f"第{ctx['issue_no']}期",
        signature=ctx.get("office") if kind != "brief" else None,
        date_text=ctx.get("date_text") if kind != "brief" else None,
        printed_by=ctx.get("printed_by"),
        title="".join(title) if isinstance(title, list) else title,
        has_colophon=bool(ctx.get("cc") or ctx.get("printed_by") or kind == "brief"),
    )


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Written]:
    """Every document type from fixture data (the minutes and the 督办单 as their templates stand, apart from the jobs that fill them)."""
    out = tmp_path_factory.mktemp("fixtures")
    written = {}
    long_notice = {**NOTICE, "paragraphs": [PARAGRAPH] * 12}
    for kind, ctx in (
        ("notice", long_notice),
        ("brief", brief_context()),
        ("minutes", MINUTES),
        ("supervision", SUPERVISION),
    ):
        files = render_document(kind, ctx, out=out / f"{kind}.pdf")
        written[kind] = Written(kind, files.pdf, _expect_of(kind, ctx), Document(files.pdf))
    return written


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Written]:
    """The brief, a published notice and the review of a generated quarter (tests/seed_quarter.py)."""
    from jobs.brief import build_brief
    from jobs.review import review_layout
    from models import Notice, Plan
    from oversight.notices import notice_document
    from oversight.review import build_review, review_document

    root = tmp_path_factory.mktemp("quarter")
    url = f"sqlite:///{root / 'q.db'}"
    upgrade(url)
    engine = make_engine(url)
    plan_id = load_bundled_plan(engine)
    now = datetime(2026, 4, 8, 1, tzinfo=UTC)
    written = {}
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=plan_id)
        built = build_brief(session=s, plan_id=plan_id, period="2026Q1", now=now, out_dir=root)
        written["brief"] = Written(
            "brief", built.pdf_path, Expect(kind="brief", doc_number=f"第{built.issue_no}期"), Document(built.pdf_path)
        )
        notice = s.exec(Notice.__table__.select().where(Notice.plan_id == plan_id)).first()
        doc = notice_document(session=s, notice_id=notice.id, now=now)
        files = render_document("notice", doc, out=root / "notice.pdf")
        written["notice"] = Written("notice", files.pdf, _expect_of("notice", doc), Document(files.pdf))
        plan = s.get(Plan, plan_id)
        review = build_review(session=s, plan_id=plan_id, period="2026H1", now=datetime(2026, 7, 6, 2, tzinfo=UTC))
        rdoc = review_layout(
            review_document(session=s, plan_id=plan_id, review=review, now=datetime(2026, 7, 6, 2, tzinfo=UTC)),
            plan=plan,
            period="2026H1",
            issued=True,
        )
        files = render_document("review", rdoc, out=root / "review.pdf")
        written["review"] = Written("review", files.pdf, _expect_of("review", rdoc), Document(files.pdf))
        s.rollback()
    engine.dispose()
    return written


# Defects the checker finds that are not fixed yet, with whose they are; the entry goes when it is fixed.
# ("fill", a Chinese line short of the right edge, went with jobs/cjk_justify.py.)
KNOWN: set[tuple[str, str, str]] = set()


def _check(source: str, written: dict[str, Written]) -> None:
    for kind, w in written.items():
        problems = check_pdf(w.doc, w.expect)
        known = {r for (src, k, r) in KNOWN if src == source and k == kind}
        unexpected = [str(v) for v in problems if v.rule not in known]
        assert not unexpected, f"{source} {kind}: " + "\n".join(unexpected)


def test_every_fixture_document_passes_the_checker(fixtures):
    assert set(fixtures) == {"notice", "brief", "minutes", "supervision"}
    _check("fixtures", fixtures)


def test_every_document_of_a_generated_quarter_passes_the_checker(quarter):
    assert set(quarter) == {"notice", "brief", "review"}
    _check("quarter", quarter)


# --- each rule rejects its planted defect ------------------------------------------------------------


def _html(ctx: dict, kind: str = "notice") -> str:
    return render_html(f"{kind}.html.j2", ctx)


def _pdf(html: str, css: str | None = None) -> Document:
    return Document(html_to_pdf(html, extra_css=css))


LONG = {**NOTICE, "paragraphs": [PARAGRAPH] * 12}
NOTICE_EXPECT = _expect_of("notice", NOTICE)


def _planted() -> dict[str, tuple[Document | None, Expect]]:
    return {}


PLANTED = {
    # margins: the left margin 20 mm instead of 28
    "text_block": lambda: (_pdf(_html(LONG), "@page { margin-left: 20mm; margin-right: 34mm; }"), NOTICE_EXPECT),
    # 21 lines: a taller line
    "grid": lambda: (_pdf(_html(LONG), "html { line-height: 10.8mm; }"), NOTICE_EXPECT),
    # the red rule 10 mm under the number
    "red_head": lambda: (_pdf(_html(NOTICE), ".red-rule { margin-top: 10mm; }"), NOTICE_EXPECT),
    # even pages numbered on the right
    "page_numbers": lambda: (
        _pdf(
            _html(LONG),
            "@page :left { @bottom-left { content: none; } @bottom-right { content: '— ' counter(page) ' —'; } }",
        ),
        NOTICE_EXPECT,
    ),
    # the 文号 wraps in a narrow box
    "doc_number": lambda: (
        _pdf(_html(NOTICE), ".doc-number { white-space: normal; width: 30mm; margin-left: 60mm; }"),
        NOTICE_EXPECT,
    ),
    # the signature wraps
    "signoff": lambda: (
        _pdf(_html({**NOTICE, "office": OFFICE + "秘书科"}), ".signoff .name { white-space: normal; }"),
        _expect_of("notice", {**NOTICE, "office": OFFICE + "秘书科"}),
    ),
    # the 版记 in the flow, not at the foot of the page
    "colophon": lambda: (_pdf(_html(NOTICE), ".colophon { float: none; display: block; }"), NOTICE_EXPECT),
    # a line that starts with a full-width comma (a forced break before it)
    "punctuation": lambda: (
        _pdf("<p class='flush'>" + "甲" * 10 + "<br>，乙丙丁。</p>"),
        Expect(kind="brief", has_colophon=False),
    ),
    # program data printed
    "raw_data": lambda: (
        _pdf(_html({**NOTICE, "paragraphs": ["{'kind': 'missed_week', 'week': None}"]})),
        NOTICE_EXPECT,
    ),
    # an emoji in the text (markup past the template's cleaning)
    "emoji": lambda: (_pdf("<p>进展顺利\U0001f600</p>"), Expect(kind="brief", has_colophon=False)),
    # numbering restarts
    "numbering": lambda: (
        _pdf(
            _html(
                {
                    **NOTICE,
                    "paragraphs": ["一、第一项。", "二、第二项。"],
                    "sections": [{"heading": "第三项", "paragraphs": ["正文。"]}],
                    "numbering_start": 0,
                }
            )
        ),
        NOTICE_EXPECT,
    ),
    # the title broken inside 资源
    "title": lambda: (
        _pdf(_html({**NOTICE, "title": ["关于一季度非煤矿山资", "源整合工作推进情况的通报"]})),
        NOTICE_EXPECT,
    ),
    # a number broken in a narrow cell
    "tables": lambda: (
        _pdf(
            "<table class='data'><thead><tr><th>单位</th><th>数</th></tr></thead><tbody>"
            "<tr><td>甲</td><td style='width: 3mm; word-break: break-all'>12345678</td></tr></tbody></table>"
        ),
        Expect(kind="brief", has_colophon=False),
    ),
}


@pytest.mark.parametrize("rule", sorted(PLANTED))
def test_each_rule_rejects_its_planted_defect(rule):
    doc, expect = PLANTED[rule]()
    found = list(check_pdf(doc, expect, rules=[rule]))
    assert found, f"rule {rule} did not reject its planted defect"


def test_every_rule_has_a_planted_defect_or_a_reason():
    # page_size and fonts_embedded: WeasyPrint cannot be made to write a non-A4 page from our CSS
    # without the size rule, nor a font it does not embed; they are planted by rewriting the PDF.
    assert set(RULES) - set(PLANTED) == {"page_size", "fonts_embedded"}


def test_page_size_and_embedded_fonts_are_rejected_when_broken():
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    pdf = html_to_pdf(_html(NOTICE))
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        page.mediabox.upper_right = (612, 792)  # US Letter
        writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    assert check_pdf(Document(buf.getvalue()), NOTICE_EXPECT, rules=["page_size"])

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page in writer.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            target = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            desc = target["/FontDescriptor"].get_object()
            for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                if key in desc:
                    del desc[NameObject(key)]
    buf = io.BytesIO()
    writer.write(buf)
    assert check_pdf(Document(buf.getvalue()), NOTICE_EXPECT, rules=["fonts_embedded"])


def test_the_sample_mark_sits_in_the_margin_of_every_page():
    doc = Document(html_to_pdf(_html(LONG), extra_css=sample_css("示例数据：演示生成")))
    assert len(doc.pages) >= 2
    for p in doc.pages:
        assert [ln for ln in p.lines if "示例数据" in ln.text and ln.bottom < p.top]
    assert not check_pdf(doc, NOTICE_EXPECT, rules=["text_block"])


# --- the signature's page ---------------------------------------------------------------------------

CLOSING_PARAGRAPH = "请被通报单位高度重视，认真查找原因，切实抓好整改，并于本通报印发之日起5个工作日内向联席会议办公室报送书面情况说明。"


@pytest.mark.parametrize("n", [14, 17])
def test_the_signature_never_stands_on_a_page_without_body_text(n):
    """Bodies whose end leaves no room for the 附件说明 and the signature (they went to the next page
    alone): the body's last lines go over with them; the page before may end short, no other."""
    ctx = {**NOTICE, "paragraphs": [PARAGRAPH] * (n // 3) + [CLOSING_PARAGRAPH] * (n % 3 + 1)}
    doc = _pdf(_html(ctx))
    assert not check_pdf(doc, NOTICE_EXPECT, rules=["grid", "signoff"])
    moved = _pdf(_html(ctx), ".attachment-note { break-before: page; }")
    assert [v.rule for v in check_pdf(moved, NOTICE_EXPECT, rules=["signoff"])] == ["signoff"]


def _sections_notice(k: int) -> dict:
    return {
        **NOTICE,
        "paragraphs": [PARAGRAPH] * k,
        "sections": [
            {"heading": "存在的问题", "paragraphs": [PARAGRAPH] * 3},
            {"heading": "下一步工作", "paragraphs": ["请各单位按期报送。"]},
        ],
    }


def test_a_page_may_end_short_only_where_the_next_block_did_not_fit():
    """A page that ends at the end of its section, the next section's heading (kept with its line,
    and here with the 附件说明 and the signature) not fitting under it, is not a full page: over a
    sweep of body lengths the grid rule passes them all, the signature read off the PDF when the
    document does not name it; and the sweep does leave such a page."""
    import dataclasses

    anonymous = dataclasses.replace(NOTICE_EXPECT, signature=None, date_text=None)
    short_before_heading = 0
    for k in range(5, 12):
        doc = _pdf(_html(_sections_notice(k)))
        for expect in (NOTICE_EXPECT, anonymous):
            assert not check_pdf(doc, expect, rules=["grid"]), k
        for p, nxt in itertools.pairwise(doc.pages):
            rows = {round(ln.baseline, 1) for ln in p.content}
            short_before_heading += p.number > 1 and len(rows) < 21 and nxt.content[0].text.startswith("二、")
    assert short_before_heading, "no page of the sweep ended short before a section"


SHORT_PAGES = {
    # a paragraph that may not break moves whole, leaving lines empty on a page it continues from
    "unbreakable paragraphs": ("p { break-inside: avoid; }", {**NOTICE, "paragraphs": [PARAGRAPH * 3] * 6}),
    # a section forced onto a new page though its heading and first line would fit
    "section on a new page": (
        "h2 { break-before: page; }",
        {
            **NOTICE,
            "paragraphs": [PARAGRAPH] * 12,
            "sections": [{"heading": "存在的问题", "paragraphs": [PARAGRAPH] * 4}],
        },
    ),
}


@pytest.mark.parametrize("case", sorted(SHORT_PAGES))
def test_a_genuinely_short_body_page_fails_the_grid(case):
    css, ctx = SHORT_PAGES[case]
    assert not check_pdf(_pdf(_html(ctx)), NOTICE_EXPECT, rules=["grid"]), "the same body without the defect passes"
    found = check_pdf(_pdf(_html(ctx), css), NOTICE_EXPECT, rules=["grid"])
    assert any("lines on a full page, not 22" in v.detail for v in found), found


# --- tables ------------------------------------------------------------------------------------------


def _evidence_row(i: int) -> list[str]:
    record = "王建军（旗自然资源局） 转交：属地苏木镇政府，理由：排土场用地涉及3户牧民承包草场。" * (1 + i % 2)
    return [f"2026-01-{i + 1:02d} 10:0{i % 10}", "旗自然资源局，王建军", record]


@pytest.mark.parametrize("rows", [5, 12])
def test_a_table_anywhere_on_the_page_keeps_three_rows_on_each_side_of_a_break(rows):
    """The table starts one body line lower each time, over a whole page: wherever the page ends, no
    page holds its header alone or fewer than 3 of its rows (a table of 6 rows or fewer is never split)."""
    table = {"columns": ["时间", "经办单位及人员", "记录"], "rows": [_evidence_row(i) for i in range(rows)]}
    template = jinja_table_page()
    split = 0
    for lines in range(22):
        doc = _pdf(template.render(lines=lines, table=table))
        assert not check_pdf(doc, Expect(kind="brief", has_colophon=False), rules=["tables"]), lines
        split += len(doc.pages) > 1 and bool(doc.pages[1].tables) and bool(doc.pages[0].tables)
    assert (split > 0) == (rows > 6), "the sweep split the long table (and only it) somewhere"


def jinja_table_page():
    from jobs.render import template_env

    return template_env().from_string(
        "{% import '_blocks.html.j2' as b %}"
        "<p class='flush'>{% for _ in range(lines) %}甲乙丙丁<br>{% endfor %}</p>{{ b.data_table(table) }}<p>完。</p>"
    )


def test_short_cells_and_headings_are_never_wrapped():
    """Under a long neighbour a name, a score or a heading keeps its line (it was "贾宏 / 亮", "得 / 分");
    a heading breaks only before its bracket."""
    table = {
        "columns": ["包联领导", "包联整合区", "进展报送（15）", "整改扣分", "得分"],
        "rows": [["贾宏亮", "6号查干此老地区金矿整合区、7号张佳花岗岩整合区、" * 4, "0%", "0.0", "17.5"]] * 2,
    }
    doc = _pdf(jinja_table_page().render(lines=0, table=table))
    texts = [ln.text for p in doc.pages for ln in p.content]
    for word in ("贾宏亮", "包联领导", "进展报送", "整改扣分", "得分", "17.5"):
        assert any(word in t for t in texts), (word, texts)
    assert not check_pdf(doc, Expect(kind="brief", has_colophon=False), rules=["tables", "text_block"])


# --- titles ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "lines"),
    [
        (
            "关于2026年第一季度乌拉特中旗非煤矿山资源整合增储上产工作推进不力单位情况的通报",
            ["关于2026年第一季度", "乌拉特中旗非煤矿山资源整合增储上产", "工作推进不力单位情况的通报"],
        ),
        ("关于一季度非煤矿山资源整合工作推进情况的通报", ["关于一季度非煤矿山资源整合", "工作推进情况的通报"]),
        ("短标题的通报", ["短标题的通报"]),
        ("关于\n明确断行的通报", ["关于", "明确断行的通报"]),
        (  # the seed's 顿号 ends a line, never begins one (the review's title began 、增储上产…)
            "关于2026年上半年乌拉特中旗非煤矿山资源整合、增储上产工作问效情况的报告",
            ["关于2026年上半年", "乌拉特中旗非煤矿山资源整合、", "增储上产工作问效情况的报告"],
        ),
    ],
)
def test_a_title_breaks_between_meaningful_parts(title, lines):
    assert title_lines(title) == lines


def test_a_name_too_long_for_the_signature_line_is_set_on_two():
    assert title_lines("乌拉特中旗非煤矿山资源整合、增储上产工作联席会议办公室", 26) == [
        "乌拉特中旗非煤矿山资源整合、",
        "增储上产工作联席会议办公室",
    ]
    assert title_lines("旗政府办公室", 26) == ["旗政府办公室"]


# --- Word copies -------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u2060", "")


def _all_written(fixtures, quarter) -> list[Written]:
    return [*fixtures.values(), *quarter.values()]


def test_each_word_copy_has_the_pdfs_text(fixtures, quarter):
    for w in _all_written(fixtures, quarter):
        word = docx.Document(str(w.pdf.with_suffix(".docx")))
        docx_text = _fold("".join(iter_block_text(word)))
        pdf_text = _fold(pdf_text_for_comparison(w.doc))
        assert docx_text == pdf_text, f"{w.kind}: Word copy and PDF differ"


def test_each_word_copy_has_the_gbt9704_page_and_named_styles(fixtures, quarter):
    for w in _all_written(fixtures, quarter):
        word = docx.Document(str(w.pdf.with_suffix(".docx")))
        first = word.sections[0]

        def near(a: int, b: int) -> bool:
            return abs(a - b) < Mm(0.1)

        assert near(first.page_width, Mm(210)) and near(first.page_height, Mm(297))
        assert near(first.top_margin, Mm(37)) and near(first.left_margin, Mm(28))
        assert near(first.page_width - first.left_margin - first.right_margin, Mm(156))
        assert near(first.page_height - first.top_margin - first.bottom_margin, Mm(225))
        grid = first._sectPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}docGrid")
        assert (
            grid is not None
            and grid.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}linePitch") == "580"
        )
        for section in word.sections[1:]:
            block = sorted(
                (
                    section.page_width - section.left_margin - section.right_margin,
                    section.page_height - section.top_margin - section.bottom_margin,
                )
            )
            assert near(block[0], Mm(156)) and near(block[1], Mm(225))
        assert word.settings.odd_and_even_pages_header_footer
        assert (
            first.footer.paragraphs[0].alignment == 2 and first.even_page_footer.paragraphs[0].alignment == 0
        )  # right / left
        used = {p.style.name for p in word.paragraphs}
        assert "正文" in used or "版记" in used, w.kind
        if w.kind != "brief":
            assert {"发文机关标志", "发文字号"} <= used, w.kind
        if w.expect.title:
            assert "标题" in used


def test_a_moment_is_never_stretched_apart_in_a_justified_line():
    """统计截至2026年12月6日 00:19 in running text: WeasyPrint widens a justified line at its spaces,
    so the one space between the date and the time took the line's whole missing width (the
    audit saw "12月6日      00:19" in a brief and in minutes). At every place in a line the moment
    falls, the date and the time stand at most half a character apart."""
    moment = "统计截至2026年12月6日 00:19，"
    paragraphs = ["本期" + "工作" * k + moment + PARAGRAPH for k in range(14)]
    doc = _pdf(_html({**NOTICE, "paragraphs": paragraphs}))
    gaps = []
    for page in doc.pages:
        for line in page.lines:
            chars = [c for c in line.chars if c.text.strip()]
            for a, b in itertools.pairwise(chars):
                if a.text == "日" and b.text == "0":
                    gaps.append(round((b.x0 - a.x1) / (a.size * 25.4 / 72), 2))  # in ems
    assert len(gaps) >= 10, gaps  # a moment is never broken across two lines
    assert max(gaps) <= 0.5, gaps
