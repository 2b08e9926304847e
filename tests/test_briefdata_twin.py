"""The brief's data read in two threads: the second reads through a twin session that must see
exactly what the job's own transaction sees, or not be used at all.

snapshot_twin gives a twin only on SQLite, when the session holds the write lock (so no one
else can commit) and has written nothing itself (which the twin could not see); otherwise the
brief's data is read in one thread. Either way the figures are the same.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

import oversight.briefdata as briefdata
from models import Plan, make_engine, read_only, session_scope, snapshot_twin
from oversight.briefdata import brief_data, parse_period
from oversight.reports import file_report
from tests.seed_quarter import at, seed_quarter

NOW = at(2026, 4, 8, 9)
PERIOD = parse_period("2026Q1")


def _sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def none(_session: Session) -> Any:
        yield None

    monkeypatch.setattr(briefdata, "snapshot_twin", none)


def test_twin_only_for_a_clean_sqlite_transaction_holding_the_write_lock(engine, banner_plan_id):
    with session_scope(engine) as s:
        s.exec(text("SELECT 1"))
        with snapshot_twin(s) as twin:
            if engine.dialect.name == "sqlite":
                assert twin is not None
                assert twin.get(Plan, banner_plan_id).id == banner_plan_id
            else:
                assert twin is None, "PostgreSQL reads each statement's own snapshot here: no twin"
    # Written but not committed: the twin could not see it, so there is none.
    with session_scope(engine) as s:
        plan = s.get(Plan, banner_plan_id)
        plan.short_name = (plan.short_name or "") + "（改）"
        s.flush()
        with snapshot_twin(s) as twin:
            assert twin is None
        s.rollback()
    # A read-only transaction does not hold the write lock: a commit could land in between.
    with Session(read_only(engine)) as s:
        s.exec(text("SELECT 1"))
        with snapshot_twin(s) as twin:
            assert twin is None


def test_in_memory_sqlite_gets_no_twin():
    engine = make_engine("sqlite://")
    with session_scope(engine) as s:
        s.exec(text("SELECT 1"))
        with snapshot_twin(s) as twin:
            assert twin is None
    engine.dispose()


def test_figures_read_in_two_threads_equal_those_read_in_one(engine, banner_plan_id, monkeypatch):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    seen: list[Any] = []
    real_twin = briefdata.snapshot_twin

    @contextmanager
    def recording(session: Session) -> Any:
        with real_twin(session) as twin:
            seen.append(twin)
            yield twin

    monkeypatch.setattr(briefdata, "snapshot_twin", recording)
    with session_scope(engine) as s:
        progress_early: list[Any] = []
        two = brief_data(session=s, plan_id=banner_plan_id, period=PERIOD, now=NOW, on_progress=progress_early.append)
    assert (seen[0] is not None) == (engine.dialect.name == "sqlite")
    _sequential(monkeypatch)
    with session_scope(engine) as s:
        one = brief_data(session=s, plan_id=banner_plan_id, period=PERIOD, now=NOW)
    assert two == one
    assert progress_early == [one["progress"]], "the progress rows are handed over once, as in the brief"
    assert one["units"] and any(u["reports"]["n"] for u in one["units"])


def test_a_transaction_that_wrote_reads_its_own_report(engine, banner_plan_id):
    with session_scope(engine) as s:
        seed = seed_quarter(session=s, plan_id=banner_plan_id)
    with session_scope(engine) as s:
        before = brief_data(session=s, plan_id=banner_plan_id, period=PERIOD, now=NOW)
    natres = seed.members["natres"]
    with session_scope(engine) as s:
        report = file_report(session=s, actor=s.merge(natres), task_id=None, text="未提交的进展", now=at(2026, 3, 20))
        after = brief_data(session=s, plan_id=banner_plan_id, period=PERIOD, now=NOW)
        s.rollback()
    unit = natres.unit_id
    n_before = next(u for u in before["units"] if u["unit_id"] == unit)["reports"]["n"]
    row = next(u for u in after["units"] if u["unit_id"] == unit)
    assert row["reports"]["n"] == n_before + 1
    assert report.id in row["reports"]["ids"] or len(row["reports"]["ids"]) == briefdata.CITE_CAP


def test_a_failure_in_one_thread_ends_the_other_and_reaches_the_caller(engine, banner_plan_id, monkeypatch):
    # The second thread waits for a figure the first reads: a failure there must not leave it waiting.
    def broken(*_args: Any) -> Any:
        raise RuntimeError("查询失败")

    monkeypatch.setattr(briefdata, "_problem_figures", broken)
    with session_scope(engine) as s, pytest.raises(RuntimeError, match="查询失败"):
        brief_data(session=s, plan_id=banner_plan_id, period=PERIOD, now=NOW)
