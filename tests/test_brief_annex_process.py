"""The brief's xlsx annex is written by a process of its own while the job runs the brief's
queries: it must read exactly what the job's transaction reads (models.shared_snapshot), or be
written in the job's own process.

On SQLite a read transaction is begun anew for it while the write lock is held, so that the two
take one snapshot; a transaction holding the write lock is read as it stands; one that has
written is not shared at all. PostgreSQL reads each statement as committed when it starts.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

import jobs.brief as brief_job
from models import Right, make_engine, read_only, session_scope, shared_snapshot
from models.db import sqlite_file
from oversight.ledger import export_ledger
from tests.seed_quarter import at, seed_quarter

NOW = at(2026, 4, 8, 9)


def _holders(url: str) -> dict[int, str | None]:
    engine = make_engine(url)
    try:
        with Session(read_only(engine)) as s:
            return {r.id: r.holder for r in s.exec(select(Right)).all()}
    finally:
        engine.dispose()


def _rename_holder(engine: Any, right_id: int, holder: str) -> None:
    with session_scope(engine) as s:
        right = s.get(Right, right_id)
        assert right is not None
        right.holder = holder


def test_a_read_transaction_is_shared_from_the_moment_it_is_begun_anew(engine, banner_plan_id):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    first = _holders(engine.url.render_as_string(hide_password=False))
    right_id = min(first)
    with Session(read_only(engine)) as s:
        assert s.get(Right, right_id).holder == first[right_id]  # the session has begun reading
        _rename_holder(engine, right_id, "后来改名的矿业权人")  # committed by someone else meanwhile
        with shared_snapshot(s) as url:
            assert url is not None
            other = _holders(url)  # another connection, begun inside the block
            mine = {r.id: r.holder for r in s.exec(select(Right)).all()}
            assert other == mine
            if engine.dialect.name == "sqlite":
                # Begun anew: the session now reads the rename too, and no one can commit meanwhile.
                assert mine[right_id] == "后来改名的矿业权人"
                path = sqlite_file(engine.url)
                assert path is not None
                writer = sqlite3.connect(path, timeout=0, isolation_level=None)
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    writer.execute("BEGIN IMMEDIATE")
                writer.close()
        # Let go at the end of the block: others write again.
        _rename_holder(engine, right_id, "再次改名的矿业权人")


def test_a_transaction_that_wrote_is_not_shared(engine, banner_plan_id):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    with session_scope(engine) as s:
        right = s.exec(select(Right)).first()
        assert right is not None
        right.holder = "未提交的矿业权人"
        s.flush()
        with shared_snapshot(s) as url:
            assert url is None, "another connection could not see the uncommitted name"
        s.rollback()


def test_an_in_memory_database_is_not_shared():
    engine = make_engine("sqlite://")
    with session_scope(engine) as s:
        s.exec(text("SELECT 1"))
        with shared_snapshot(s) as url:
            assert url is None
    engine.dispose()


def _record_writer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Wrap the annex's writing so that it notes which process wrote it."""
    note = tmp_path / "annex-writer"
    real = brief_job.export_ledger

    def noting(path: Path, **kwargs: Any) -> Path:
        note.write_text(str(os.getpid()))
        return real(path, **kwargs)

    monkeypatch.setattr(brief_job, "export_ledger", noting)
    return note


def test_the_annex_written_beside_the_queries_is_the_ledger_the_brief_reads(
    engine, banner_plan_id, tmp_path, monkeypatch
):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    note = _record_writer(monkeypatch, tmp_path)
    right_id = min(_holders(engine.url.render_as_string(hide_password=False)))
    with session_scope(read_only(engine)) as s:
        s.get(Right, right_id)  # the worker's read transaction has begun ...
        _rename_holder(engine, right_id, "简报编制时改名的矿业权人")  # ... and a contact's edit lands
        built = brief_job.build_brief(
            session=s, plan_id=banner_plan_id, period="2026Q1", now=NOW, out_dir=tmp_path / "b", word=False
        )
    assert int(note.read_text()) != os.getpid(), "the annex was written by a process of its own"
    with Session(read_only(engine)) as s:
        expected = export_ledger(tmp_path / "expected.xlsx", session=s, plan_id=banner_plan_id, now=NOW)
    assert built.xlsx_path.read_bytes() == expected.read_bytes()
    assert built.pdf_path.exists() and built.html


def test_a_transaction_that_wrote_writes_the_annex_itself(engine, banner_plan_id, tmp_path, monkeypatch):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    note = _record_writer(monkeypatch, tmp_path)
    with session_scope(engine) as s:
        right = s.exec(select(Right)).first()
        assert right is not None
        right.holder = "本事务改的矿业权人"
        s.flush()
        built = brief_job.build_brief(
            session=s, plan_id=banner_plan_id, period="2026Q1", now=NOW, out_dir=tmp_path / "b", word=False
        )
        expected = export_ledger(tmp_path / "expected.xlsx", session=s, plan_id=banner_plan_id, now=NOW)
        s.rollback()
    assert int(note.read_text()) == os.getpid()
    assert built.xlsx_path.read_bytes() == expected.read_bytes(), "the annex carries the transaction's own edit"
