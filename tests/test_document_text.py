"""Every document and chat text the product makes from a quarter of sample data — the brief the
worker stores under data/briefs, the published notice and the review (PDF and Word), the notice
draft in chat, /todo, /progress, the daily digest and every message queued — is Chinese text,
never a Python or JSON representation; and what comes from sample data (a plan the demo or the
sandbox loaded) is marked 示例数据 where it is stored and where it is sent. The demo's own files
under --out are checked in tests/test_demo.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document as Docx
from pypdf import PdfReader
from sqlmodel import Session, col, select

import jobs.brief as brief_job
import jobs.review as review_job
from config.settings import get_settings
from jobs.notices import publish_notice
from models import Member, OutboxMessage, Role, Unit, make_engine, row_id, session_scope
from models.migrate import upgrade
from oversight.digest import digest_summary
from oversight.lookups import format_todo, progress_summary, todo_for_unit
from oversight.notices import approve_notice, draft_notice
from oversight.sample import DEMO_MARK, mark_sample
from tests.chatfacts import chat_draft as chat_draft_of
from tests.conftest import load_bundled_plan
from tests.seed_quarter import seed_quarter

pytestmark = pytest.mark.slow

# What a program's data looks like when it leaks into a document.
RAW = re.compile(r"\{'|\"kind\":|'kind'|\bNone\b|\bTrue\b|\bFalse\b|\[\[|\bnan\b")
NOW = datetime(2026, 4, 8, 1, tzinfo=UTC)  # the 5th working day after 2026Q1, 09:00 in Shanghai


def raw_in(text: str) -> str | None:
    m = RAW.search(text)
    return None if m is None else f"{m.group(0)!r} in …{text[max(0, m.start() - 50) : m.end() + 50]}…"


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def docx_text(path: Path) -> str:
    doc = Docx(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    for s in doc.sections:
        parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The seeded quarter on a plan marked as sample data (as the demo and the sandbox mark
    theirs): the worker's brief, a notice drafted, approved and published, the half's review."""
    root = tmp_path_factory.mktemp("sampled")
    url = f"sqlite:///{root / 'lianxi.db'}"
    upgrade(url)
    engine = make_engine(url)
    plan_id = load_bundled_plan(engine)
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=plan_id)
        mark_sample(session=s, plan_id=plan_id, mark=DEMO_MARK)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(root / "data"))
        get_settings.cache_clear()
        with session_scope(engine) as s:
            brief_job.run(session=s, period="2026Q1", now=NOW)
        with session_scope(engine) as s:
            notice = draft_notice(session=s, plan_id=plan_id, period="2026H1", now=NOW)
            convener = s.exec(select(Member).where(Member.role == Role.CONVENER, col(Member.active).is_(True))).first()
            assert convener is not None
            chat_draft = "\n\n".join(chat_draft_of(s, row_id(notice)))
            approve_notice(session=s, notice_id=notice.id, actor=convener, now=NOW)
            publish_notice(session=s, notice_id=notice.id, now=NOW, data_dir=root / "data")
        with session_scope(engine) as s:
            review_job.run(session=s, period="2026H1", now=NOW, data_dir=root / "data")
        get_settings.cache_clear()
    day = date(2026, 4, 8)
    with session_scope(engine) as s:
        chat = [chat_draft, progress_summary(session=s, plan_id=plan_id).message()]
        for unit in s.exec(select(Unit).where(Unit.plan_id == plan_id)).all():
            chat.append(format_todo(todo_for_unit(session=s, unit_id=unit.id, today=day), show_unit=True))
        digest = digest_summary(session=s, plan_id=plan_id, day=day)
        chat.append(digest.message() if digest is not None else "")
        sent = [
            (
                m.kind,
                "" if m.kind == "document" else m.text,
                m.text if m.kind == "document" else "",
                m.payload.get("filename") or "",
            )
            for m in s.exec(select(OutboxMessage)).all()
        ]
    engine.dispose()
    pdfs = sorted((root / "data").rglob("*.pdf"))
    return {"pdfs": pdfs, "chat": chat, "sent": sent, "url": url, "plan_id": plan_id}


def documents(demo: dict[str, object]) -> list[Path]:
    pdfs = demo["pdfs"]
    assert isinstance(pdfs, list)
    return pdfs


def test_no_document_or_chat_text_holds_a_raw_data_representation(demo) -> None:
    docs = documents(demo)
    where = {p.parent.name for p in docs}
    assert {"briefs", "notices", "reviews"} <= where | {p.parent.parent.name for p in docs}, docs
    for pdf in docs:
        for n, text in enumerate(pdf_pages(pdf), 1):
            assert raw_in(text) is None, f"{pdf.name} p{n}: {raw_in(text)}"
        word = pdf.with_suffix(".docx")
        assert word.exists(), word
        assert raw_in(docx_text(word)) is None, f"{word.name}: {raw_in(docx_text(word))}"
    for text in demo["chat"]:
        assert raw_in(text) is None, raw_in(text)
    sent = demo["sent"]
    assert len(sent) > 20
    for kind, text, caption, filename in sent:
        for part in (text, caption, filename):
            assert raw_in(part) is None, f"{kind}: {raw_in(part)}"


def test_the_sample_quarter_is_marked_wherever_it_is_stored_and_sent(demo) -> None:
    """The brief the worker stored (data/briefs), the published notice and the review, and what
    was sent with them, carry 示例数据, on every page."""
    for pdf in documents(demo):
        pages = pdf_pages(pdf)
        assert all("示例数据" in p for p in pages), f"{pdf}: a page without the sample mark"
        assert "示例数据" in docx_text(pdf.with_suffix(".docx")), pdf
    # The brief's HTML, kept beside its PDF (its Word copy is written from it), says so too: in its
    # title, on every page it prints and above its text on screen.
    pdfs = documents(demo)
    stored = [p.with_suffix(".html") for p in pdfs if p.with_suffix(".html").exists()]
    assert stored and any("briefs" in p.parts for p in stored), pdfs
    for html in stored:
        head = html.read_text(encoding="utf-8").split("</head>")[0]
        assert f"<title>【{DEMO_MARK}】" in head and head.count(DEMO_MARK) == 3, html
    captions = [caption for kind, _t, caption, _f in demo["sent"] if kind == "document" and caption]
    briefs_and_notices = [c for c in captions if "通报" in c or "简报" in c]
    unmarked = [c for c in briefs_and_notices if not c.startswith("【示例数据】")]
    assert briefs_and_notices and not unmarked, unmarked


def test_every_fact_of_the_sample_notice_and_review_cites_records_that_exist(demo) -> None:
    """The seeded quarter's published notice and its half's review: each fact cites rows that
    exist, the notice's body is its facts' text, and its unit lines name the retained findings."""
    from oversight.notices import notice_document, notice_for_period
    from oversight.review import build_review, review_document
    from tests.test_notices import assert_ids_exist, check_notice_facts

    engine = make_engine(str(demo["url"]))
    try:
        with Session(engine) as s:
            notice = notice_for_period(session=s, plan_id=int(demo["plan_id"]), period="2026H1")
            assert notice is not None and notice.state == "published"
            facts = notice_document(session=s, notice_id=notice.id, now=NOW)["facts"]
            check_notice_facts(s, notice, facts)
            assert {"opening", "unit_item", "rule_line", "closing"} <= {f["kind"] for f in facts}
            assert any(f["ids"].get("problem") for f in facts if f["kind"] == "unit_item")
            review = build_review(session=s, plan_id=int(demo["plan_id"]), period="2026H1", now=NOW)
            review_facts = review_document(session=s, plan_id=int(demo["plan_id"]), review=review, now=NOW)["facts"]
            assert_ids_exist(s, review_facts)
            assert review_facts[0]["kind"] == "summary_opening" and review_facts[0]["ids"]["unit"]
    finally:
        engine.dispose()
