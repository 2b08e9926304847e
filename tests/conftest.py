"""Shared fixtures: a real database per test (SQLite file always; PostgreSQL too when
TEST_DATABASE_URL is set), settings pointed at it, and the bundled plans loaded."""

from __future__ import annotations

import copy
import functools
import os
import shutil

# PTB 22 warns on every RetryAfter that retry_after becomes a timedelta; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

import models
from models import make_engine, session_scope
from models.migrate import upgrade
from oversight.planfile import PlanSpec, parse_plan_file

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


# Tables with more rows than this are truncated, the rest emptied with DELETE (see _pg_db).
_PG_TRUNCATE_ABOVE = 5000
_pg_cleaner: Engine | None = None


def _pg_empty_sql() -> str:
    """One server-side block that empties every table and restarts every sequence, as TRUNCATE ...
    RESTART IDENTITY CASCADE of all tables did, in one round trip. TRUNCATE of 47 tables made a
    new file for each: ~0.3 s a test on a quiet machine, 0.6-0.9 s on a loaded one, before every
    PostgreSQL test. Here the few tables a test filled are truncated only when they are large
    (first, with CASCADE: whatever references them is emptied too), the others emptied with DELETE,
    children before parents; ~0.03 s."""
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    order = ", ".join(f"'{name}'" for name in reversed(tables))  # children first
    return f"""DO $$
DECLARE t text; n bigint; big text[] := '{{}}'; small text[] := '{{}}';
BEGIN
  FOREACH t IN ARRAY ARRAY[{order}] LOOP
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I LIMIT {_PG_TRUNCATE_ABOVE + 1}) AS r', t) INTO n;
    IF n > {_PG_TRUNCATE_ABOVE} THEN big := big || t; ELSIF n > 0 THEN small := small || t; END IF;
  END LOOP;
  IF cardinality(big) > 0 THEN
    EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%I', b), ', ') FROM unnest(big) AS b) || ' CASCADE';
  END IF;
  FOREACH t IN ARRAY small LOOP
    EXECUTE format('DELETE FROM %I', t);
  END LOOP;
  PERFORM setval(format('%I.%I', schemaname, sequencename), 1, false)
    FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL;
END $$"""


def _pg_db() -> str:
    """The PostgreSQL test database (this worker's), migrated once and emptied before each test."""
    global _pg_migrated, _pg_url, _pg_cleaner
    if not _pg_migrated:
        _pg_url = _worker_pg_url()
        engine = make_engine(_pg_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade(_pg_url)
        _pg_migrated = True
    if _pg_cleaner is None:  # no pool: no connection of ours stays open during a test
        _pg_cleaner = create_engine(_pg_url, poolclass=NullPool)
    with _pg_cleaner.begin() as conn:
        conn.execute(text(_pg_empty_sql()))
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


@functools.cache
def _parsed_plan(path: Path) -> PlanSpec:
    """A bundled plan file parsed once per test process (~0.3 s a parse, before ~500 tests)."""
    return parse_plan_file(path)


def load_bundled_plan(engine: Engine, path: Path = BANNER_PLAN) -> int:
    """Load a bundled plan; returns its id."""
    from oversight.plans import load_plan

    spec = copy.deepcopy(_parsed_plan(path))
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
