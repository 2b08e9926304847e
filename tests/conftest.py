"""Shared fixtures: a real database per test (SQLite file always; PostgreSQL too when
TEST_DATABASE_URL is set), settings pointed at it, and the bundled plans loaded."""

from __future__ import annotations

import json
import os
import shutil

# PTB 22 warns on every RetryAfter that retry_after becomes a timedelta; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import models
from models import make_engine, session_scope
from models.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "plans"
BANNER_PLAN = PLANS / "urad-middle-banner.yaml"
REGION_PLAN = PLANS / "inner-mongolia-2022.yaml"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

_sqlite_template: Path | None = None
_pg_migrated = False
_pg_url = ""


def _worker_pg_url() -> str:
    """This process's PostgreSQL test database. Under pytest-xdist (scripts/test.sh runs the
    suite in worker processes) each worker has its own on the same server, named after the one
    TEST_DATABASE_URL names plus the worker (lianxi_test_gw0, ...), created on first use: every
    worker drops, migrates and truncates its own schema, so no two share a table."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        return PG_URL
    url = make_url(PG_URL)
    name = f"{url.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _sqlite_db(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh migrated SQLite file, copied from one migrated once per session."""
    global _sqlite_template
    if _sqlite_template is None:
        _sqlite_template = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{_sqlite_template}")
    target = tmp_path / "lianxi.db"
    shutil.copy(_sqlite_template, target)
    return f"sqlite:///{target}"


def _pg_db() -> str:
    """The PostgreSQL test database (this worker's), migrated once and emptied before each test."""
    global _pg_migrated, _pg_url
    if not _pg_migrated:
        _pg_url = _worker_pg_url()
        engine = make_engine(_pg_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade(_pg_url)
        _pg_migrated = True
    engine = make_engine(_pg_url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return _pg_url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database URL for this test."""
    if request.param == "sqlite":
        return _sqlite_db(tmp_path, tmp_path_factory)
    return _pg_db()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A plain session; tests commit what they mean to keep."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def settings_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings that point at this test's database and data directory."""
    from config.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def load_bundled_plan(engine: Engine, path: Path = BANNER_PLAN) -> int:
    """Load a bundled plan; returns its id."""
    from oversight.planfile import parse_plan_file
    from oversight.plans import load_plan

    spec = parse_plan_file(path)
    with session_scope(engine) as s:
        result = load_plan(session=s, spec=spec, actor="test")
        return result.plan.id


@pytest.fixture
def banner_plan_id(engine: Engine) -> int:
    """The 乌拉特中旗 plan, loaded."""
    return load_bundled_plan(engine, BANNER_PLAN)


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: for asserting that a refused command changed nothing."""
    counts = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            counts[table.name] = conn.execute(text(f'SELECT COUNT(*) FROM "{table.name}"')).scalar_one()
    return counts


__all__ = ["BANNER_PLAN", "REGION_PLAN", "load_bundled_plan", "models", "table_counts"]


@pytest.fixture(autouse=True)
def _calendar_package_only() -> Iterator[None]:
    """Each test starts and ends with the package's calendar data only: a year one test stored
    must not leak into the next test's answers (the calendar lives in the process)."""
    from oversight import workdays

    workdays.reset()
    yield
    workdays.reset()


# --- One PDF layout per distinct document, shared by the worker processes ----------------------
#
# WeasyPrint lays a brief out in about 2 s, and the suite lays out the same HTML again and again:
# every scenario on SQLite and on PostgreSQL, and a file's tests building the same day's brief
# (measured at 5b63ec6: 408 layouts, 215 distinct, 228 of their 403 s repeats). Layout depends only
# on the HTML, the CSS and the bundled assets, so the first test to render a document lays it out
# for real and keeps the bytes and what its URL fetcher saw; a later test rendering the identical
# HTML and CSS gets those bytes, written to its own path, and the fetcher records replayed. Tests
# that start the worker or the bot as a process lay out for real there. LIANXI_TEST_LAYOUT_CACHE=0
# lays every PDF out in the test process too.


@pytest.fixture(scope="session")
def _layout_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one for all workers
    path = root / "pdf-layouts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def _layout_once(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.environ.get("LIANXI_TEST_LAYOUT_CACHE") == "0":
        return
    import hashlib
    import pickle

    import jobs.brief
    import jobs.render
    from oversight.files import write_atomic

    cache: Path = request.getfixturevalue("_layout_cache_dir")
    lay_out = jobs.render.html_to_pdf

    def html_to_pdf(html: str, *, out: Path | None = None, fetcher=None, extra_css: str | None = None) -> bytes:
        digest = hashlib.sha256()
        for part in (html, extra_css or "", jobs.render.LAYOUT_CSS.read_text(encoding="utf-8")):
            digest.update(part.encode() + b"\0")
        entry = cache / digest.hexdigest()
        if entry.exists():
            pdf, log = pickle.loads(entry.read_bytes())
            if fetcher is not None:
                fetcher.log.extend(log)
            if refused := sum(not record.served for record in log):
                jobs.render.logger.warning("PDF rendered with %d refused URL(s)", refused)
            if out is not None:
                write_atomic(Path(out), pdf)
            return pdf
        fetcher = fetcher or jobs.render.AssetOnlyFetcher()
        seen = len(fetcher.log)
        pdf = lay_out(html, out=out, fetcher=fetcher, extra_css=extra_css)
        write_atomic(entry, pickle.dumps((pdf, fetcher.log[seen:])))
        return pdf

    monkeypatch.setattr(jobs.render, "html_to_pdf", html_to_pdf)
    monkeypatch.setattr(jobs.brief, "html_to_pdf", html_to_pdf)


# --- The order in which test files are handed to the worker processes ---------------------------
#
# scripts/test.sh runs the files in pytest-xdist workers, a file whole in one worker (loadfile),
# handed out in collection order (--no-loadscope-reorder; xdist's own order is by number of tests,
# which put the 2-minute property test, of 3 tests, among the last and left the other workers idle
# at the end). So the files are collected heaviest first, by the seconds tests/file_seconds.json
# gives each (setup, call and teardown of all its tests, on both databases); a file it does not
# name counts its tests at the suite's mean. To measure them again:
#   LIANXI_TEST_SECONDS_OUT=tests/file_seconds.json bash scripts/test.sh

FILE_SECONDS = Path(__file__).with_name("file_seconds.json")
_seconds_run: dict[str, float] = {}


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].removeprefix("tests/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        known: dict[str, float] = json.loads(FILE_SECONDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no weights: collection order stands
    counts = Counter(_file_of(item.nodeid) for item in items)
    measured = [f for f in counts if f in known]
    mean = sum(known[f] for f in measured) / max(sum(counts[f] for f in measured), 1)
    weight = {f: known.get(f, counts[f] * mean) for f in counts}
    # Stable: the tests of one file keep their order; the same order in every worker.
    items.sort(key=lambda item: (-weight[_file_of(item.nodeid)], _file_of(item.nodeid)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if os.environ.get("LIANXI_TEST_SECONDS_OUT"):
        name = _file_of(report.nodeid)
        _seconds_run[name] = _seconds_run.get(name, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get("LIANXI_TEST_SECONDS_OUT")
    if not out or hasattr(session.config, "workerinput") or not _seconds_run:
        return  # only the process that saw every worker's reports writes them
    rounded = {name: round(s, 1) for name, s in sorted(_seconds_run.items())}
    Path(out).write_text(json.dumps(rounded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
