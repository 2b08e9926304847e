"""The brief job's Word copy: written after the PDF preview has gone out (off the PDF's path), from
the HTML kept beside the PDF; and written again from it when the worker stopped in between, before
the brief is distributed. Its text is the PDF's."""

from __future__ import annotations

import re
from pathlib import Path

import docx
from sqlmodel import Session, select

import jobs.brief as brief_job
from jobs.render import docx_path
from jobs.word import iter_block_text
from models import Brief, OutboxMessage
from tests.pdfcheck import Document, pdf_text_for_comparison
from tests.test_brief import built  # noqa: F401  (the module's fixture: one brief job run on a seeded quarter)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u2060", "")


def _same_text(pdf: Path) -> None:
    word = docx.Document(str(docx_path(pdf)))
    assert _fold("".join(iter_block_text(word))) == _fold(pdf_text_for_comparison(Document(pdf)))


def test_the_job_writes_the_word_copy_from_the_kept_html(built):  # noqa: F811
    pdf = built.pdf_path
    assert brief_job.html_path(pdf).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert docx_path(pdf).exists()
    _same_text(pdf)
    with Session(built.engine) as s:
        preview = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "document")).all()
    assert preview and all(m.payload["path"] == str(pdf) for m in preview), "the preview is the PDF alone"


def test_a_word_copy_lost_with_the_worker_is_written_again_before_it_is_sent(built, tmp_path):  # noqa: F811
    pdf = built.pdf_path
    word = docx_path(pdf)
    keep = tmp_path / "kept.docx"
    keep.write_bytes(word.read_bytes())
    word.unlink()  # the worker stopped after the preview's commit, before the Word copy
    with Session(built.engine) as s:
        brief = s.exec(select(Brief).where(Brief.plan_id == built.plan_id, Brief.period == "2026Q1")).one()
        assert brief_job.ensure_word_copy(brief) == word
    _same_text(pdf)
    # Without its HTML either, nothing is made up: no file, and the caller is told.
    word.unlink()
    html = brief_job.html_path(pdf)
    saved = html.read_bytes()
    html.unlink()
    try:
        with Session(built.engine) as s:
            brief = s.exec(select(Brief).where(Brief.plan_id == built.plan_id, Brief.period == "2026Q1")).one()
            assert brief_job.ensure_word_copy(brief) is None and not word.exists()
    finally:
        html.write_bytes(saved)
        word.write_bytes(keep.read_bytes())
