"""`lianxi notices draft --out` and `lianxi review --out`: the period's notice draft and the half's
review written as documents a clerk can edit (PDF and Word copy), from the record, with nothing
recorded and nothing sent; each passes the GB/T 9704 checker and its Word copy reads as its PDF."""

from __future__ import annotations

import re
from pathlib import Path

import docx
from sqlmodel import Session, select
from typer.testing import CliRunner

from jobs.word import iter_block_text
from lianxi.cli import app
from models import AuditLog, Notice, NoticeFinding, OutboxMessage
from oversight.problems import decline_problem, rule_problem
from oversight.sample import mark_sample
from tests.conftest import load_bundled_plan
from tests.pdfcheck import Document, Expect, check_pdf, pdf_text_for_comparison
from tests.test_accountability import Cast, at

SKIP: set[str] = set()  # every rule of tests/pdfcheck.py holds for what the CLI writes
OFFICE = "乌拉特中旗非煤矿山资源整合、增储上产工作联席会议办公室"


def _expect(kind: str, doc_number: str) -> Expect:
    """A draft as the CLI writes it today: signed by the office, dated today."""
    from models import utcnow
    from oversight.dates import cn_date, local_day

    today = cn_date(local_day(utcnow()))
    return Expect(kind=kind, doc_number=doc_number, signature=OFFICE, date_text=today, printed_by=OFFICE)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u2060", "")


def _counts(engine) -> tuple[int, int, int, int]:
    with Session(engine) as s:
        return tuple(len(s.exec(select(t)).all()) for t in (Notice, NoticeFinding, OutboxMessage, AuditLog))


def _marked_on_every_page(doc: Document, mark: str) -> None:
    """Each page carries `mark` in its top margin, above the text block."""
    for n, page in enumerate(doc.pages, 1):
        assert [ln for ln in page.lines if mark in _fold(ln.text) and ln.bottom < page.top], f"page {n}: no {mark}"


def _same_text(pdf: Path, word: Path) -> None:
    pdf_text = _fold(pdf_text_for_comparison(Document(pdf)))
    docx_text = _fold("".join(iter_block_text(docx.Document(str(word)))))
    assert pdf_text and docx_text == pdf_text


def test_notices_draft_writes_the_draft_as_pdf_and_word_and_records_nothing(settings_env, engine, tmp_path) -> None:
    plan_id = load_bundled_plan(engine)
    with Session(engine, expire_on_commit=False) as s:
        cast = Cast(s, plan_id)
        pid = cast.raise_("forestry", at(3, 2))
        decline_problem(session=s, problem_id=pid, actor=cast["forestry"], reason="不是林草的事", now=at(3, 2, 15))
        rule_problem(
            session=s,
            problem_id=pid,
            actor=cast.office,
            to_unit_id=cast.uid("forestry"),
            reason="属林草局职责",
            now=at(3, 4),
        )
        s.commit()
    before = _counts(engine)
    out = tmp_path / "稿"
    result = CliRunner().invoke(app, ["notices", "draft", "--period", "2026Q1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pdf, word = out / "通报草稿-2026Q1.pdf", out / "通报草稿-2026Q1.docx"
    assert f"{pdf}" in result.output and f"{word}" in result.output and "旗林草局：推诿扯皮" in result.output
    assert sorted(p.name for p in out.iterdir()) == [word.name, pdf.name], "no temporary file left"
    assert _counts(engine) == before, "nothing recorded, nothing sent"

    doc = Document(pdf)
    text = _fold(pdf_text_for_comparison(doc))
    assert "旗林草局" in text and "不是林草的事" in text and "（文号印发时编排）" in text
    assert _fold(f"{OFFICE}{_expect('notice', '').date_text}起草") in text
    problems = check_pdf(doc, _expect("notice", "（文号印发时编排）"))
    assert not [str(v) for v in problems if v.rule not in SKIP]
    _same_text(pdf, word)
    # Neither approved nor recorded: every page says it is a draft, and a real plan's says nothing more.
    _marked_on_every_page(doc, "草稿未经审定不得外传")
    assert not [ln.text for page in doc.pages for ln in page.lines if "示例数据" in ln.text]

    # Written again over the old files: replaced whole.
    again = CliRunner().invoke(app, ["notices", "draft", "--period", "2026Q1", "--out", str(out)])
    assert again.exit_code == 0 and sorted(p.name for p in out.iterdir()) == [word.name, pdf.name]


def test_review_writes_the_draft_report_as_pdf_and_word(settings_env, engine, tmp_path) -> None:
    plan_id = load_bundled_plan(engine)
    with Session(engine, expire_on_commit=False) as s:
        Cast(s, plan_id).report_weekly("water")
        s.commit()
    before = _counts(engine)
    result = CliRunner().invoke(app, ["review", "--period", "2026H1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf, word = tmp_path / "工作问效报告草稿-2026H1.pdf", tmp_path / "工作问效报告草稿-2026H1.docx"
    assert pdf.exists() and word.exists() and "旗水利局：第1名，总分" in result.output
    assert _counts(engine) == before
    doc = Document(pdf)
    assert "旗水利局" in _fold(doc.text) and "（文号印发时编排）" in _fold(doc.text)
    # A draft was not 印发: its 版记 gives the day it was drawn up, as the notice's draft does.
    today = _expect("review", "").date_text
    assert _fold(f"{OFFICE}{today}起草") in _fold(doc.text) and "印发" not in _fold(doc.text).split(OFFICE)[-1]
    problems = check_pdf(doc, _expect("review", "（文号印发时编排）"))
    assert not [str(v) for v in problems if v.rule not in SKIP]
    _same_text(pdf, word)
    _marked_on_every_page(doc, "草稿未经审定不得外传")
    assert not [ln.text for page in doc.pages for ln in page.lines if "示例数据" in ln.text]


def test_a_sample_plans_drafts_say_sample_data_on_every_page(settings_env, engine, tmp_path) -> None:
    """The demo's and the sandbox's plan is sample data: what the CLI writes from it says so on
    every page of the PDF and in the Word copy, beside the draft mark."""
    plan_id = load_bundled_plan(engine)
    with Session(engine, expire_on_commit=False) as s:
        Cast(s, plan_id).report_weekly("water")
        mark_sample(session=s, plan_id=plan_id, mark="示例数据：演示生成")
        s.commit()
    for args, name in (
        (["notices", "draft", "--period", "2026Q1"], "通报草稿-2026Q1"),
        (["review", "--period", "2026H1"], "工作问效报告草稿-2026H1"),
    ):
        result = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        doc = Document(tmp_path / f"{name}.pdf")
        _marked_on_every_page(doc, "示例数据：演示生成")
        _marked_on_every_page(doc, "草稿未经审定不得外传")
        header = "".join(
            p.text for sec in docx.Document(str(tmp_path / f"{name}.docx")).sections for p in sec.header.paragraphs
        )
        assert "示例数据：演示生成" in header and "草稿" in header, header


def test_out_that_is_a_file_is_refused_in_chinese(settings_env, engine, tmp_path) -> None:
    load_bundled_plan(engine)
    taken = tmp_path / "taken.pdf"
    taken.write_bytes(b"x")
    for args in (["notices", "draft", "--period", "2026Q1"], ["review", "--period", "2026H1"]):
        result = CliRunner().invoke(app, [*args, "--out", str(taken)])
        assert result.exit_code == 2 and "已存在且不是目录" in result.output, result.output
    assert taken.read_bytes() == b"x"
