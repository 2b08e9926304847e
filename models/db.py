"""The engine and sessions. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE
transactions, because two processes (bot and worker) write the same file and
pysqlite's deferred transactions lose updates between them."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import manager_of_class
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel import Session, SQLModel, create_engine

logger = logging.getLogger(__name__)
_M = TypeVar("_M", bound=SQLModel)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_file(url: str | URL) -> str | None:
    """The path of the SQLite file a URL names; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def make_engine(url: str, *, echo: bool = False, busy_timeout_ms: int | None = None) -> Engine:
    """An engine for `url`; SQLite files get their directory, WAL and immediate transactions.

    `busy_timeout_ms` bounds how long one statement waits for a lock another transaction holds
    (SQLite's busy timeout, 30 s by default; PostgreSQL's lock_timeout, no limit by default);
    past it the statement fails with an error models.busy.is_busy_error recognises.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        pg_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql":
            # JIT off: PostgreSQL compiles a query whose estimated cost passes jit_above_cost,
            # which here means the rules' and the brief's scans of a large history: queries of
            # a second or less, for which compiling (0.1-0.3 s) costs more than it saves.
            options = ["-c jit=off"]
            if busy_timeout_ms is not None:
                options.append(f"-c lock_timeout={int(busy_timeout_ms)}")
                pg_args["connect_timeout"] = max(2, round(busy_timeout_ms / 1000))
            pg_args["options"] = " ".join(options)
        return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=pg_args)
    path = sqlite_file(parsed)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    busy_ms = SQLITE_BUSY_TIMEOUT_MS if busy_timeout_ms is None else int(busy_timeout_ms)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Take the write lock up front: a reader that later writes cannot lose updates.
        # A connection marked read-only (see read_only) only reads, so it need not queue
        # behind writers for the lock.
        read_only_txn = bool(conn.get_execution_options().get("lianxi_read_only"))
        raw = conn.connection.driver_connection
        assert raw is not None  # a connection in a transaction is never detached from its driver
        # Straight to the driver: SQLAlchemy's statement machinery for a bare BEGIN cost as much
        # as the transaction's first query (this runs for every update the bot handles).
        raw.execute("BEGIN" if read_only_txn else "BEGIN IMMEDIATE")
        # What snapshot_twin needs to know: whether this transaction holds the write lock, and
        # whether it has written anything since it began.
        conn.info["lianxi_write_locked"] = not read_only_txn
        conn.info["lianxi_changes_at_begin"] = raw.total_changes

    return engine


class WalCheckpointer:
    """Checkpoints an SQLite database's WAL from a thread of its own instead of in the commits.

    By default SQLite checkpoints inside whichever commit takes the WAL past 1,000 pages: a
    3–5 ms stall (copy and fsync) every ~100 reports, on the bot's event loop, where every
    contact waiting for a reply waits for it too. Started for an engine, its connections stop
    checkpointing in their commits and this thread runs a PASSIVE checkpoint (which never
    blocks readers or writers) once the WAL has been quiet for `quiet` seconds, at least every
    `longest` seconds under constant load (its fsync then competes with the commits' writes
    for the disk), and when stopped; other processes (the worker, the CLI) keep SQLite's
    default. For anything but an SQLite file it does nothing.
    """

    def __init__(self, engine: Engine, *, interval: float = 0.25, quiet: float = 0.5, longest: float = 10.0) -> None:
        self.engine, self.interval, self.quiet, self.longest = engine, interval, quiet, longest
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.path = sqlite_file(engine.url)

    def start(self) -> WalCheckpointer:
        if self.path is None or self._thread is not None:
            return self

        @event.listens_for(self.engine, "checkout")
        def _no_checkpoint_in_commits(
            dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
        ) -> None:
            if not record.info.get("lianxi_no_autocheckpoint"):
                dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")
                record.info["lianxi_no_autocheckpoint"] = True

        self._listener = _no_checkpoint_in_commits
        self._thread = threading.Thread(target=self._run, args=(self.path,), name="wal-checkpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None
        event.remove(self.engine, "checkout", self._listener)

    def _due(self, last: float) -> bool:
        """Quiet long enough (the WAL file untouched), or not checkpointed for too long."""
        try:
            idle = time.time() - os.path.getmtime(f"{self.path}-wal")
        except OSError:
            return False  # no WAL file: nothing to checkpoint
        return idle >= self.quiet or time.monotonic() - last >= self.longest

    def _run(self, path: str) -> None:
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        last = time.monotonic()
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                if stopping or self._due(last):
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                        self.checkpoints += 1
                    except sqlite3.Error:
                        logger.warning("WAL checkpoint of %s failed; retried", self.path, exc_info=True)
                    last = time.monotonic()
                if stopping:
                    return
        finally:
            conn.close()


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model class, typed (SQLModel does not declare `__table__`)."""
    table = sa_inspect(model).local_table
    assert isinstance(table, Table)
    return table


def detached(model: type[_M], values: Mapping[Any, Any]) -> _M:
    """A row's values as a detached `model` instance, built as SQLAlchemy's loader builds one
    (no model __init__, no ORM load): for hot paths that read or write the row with Core."""
    obj = manager_of_class(model).new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    return obj


def read_only(engine: Engine) -> Engine:
    """The same engine for transactions that only read (SQLite: a deferred BEGIN)."""
    return engine.execution_options(lianxi_read_only=True)


@contextmanager
def snapshot_twin(session: Session) -> Iterator[Session | None]:
    """A second session, on its own connection, that reads exactly what `session` reads; or None.

    For reading in another thread at the same time (SQLite releases the GIL while it runs a
    statement). It is only possible when nothing can differ between the two: on SQLite, when
    `session` holds the write lock (BEGIN IMMEDIATE), so no one else can commit, and has not
    written anything itself, which the twin could not see. Otherwise (a read-only or dirty
    transaction, an in-memory database, PostgreSQL, whose transactions here read each statement's
    own snapshot) it yields None and the caller reads sequentially in `session`.
    """
    session.flush()
    conn = session.connection()
    engine = conn.engine
    raw = conn.connection.driver_connection
    possible = (
        sqlite_file(engine.url) is not None
        and conn.info.get("lianxi_write_locked", False)
        and getattr(raw, "total_changes", None) == conn.info.get("lianxi_changes_at_begin")
    )
    if not possible:
        yield None
        return
    with Session(read_only(engine)) as twin:
        yield twin


@contextmanager
def shared_snapshot(session: Session) -> Iterator[str | None]:
    """The URL another process opens to read exactly what `session` reads, if it begins reading
    (runs its first statement) inside this block; or None when that cannot be had.

    Possible only while `session` has written nothing (nothing another connection could not see):
    - SQLite, `session` holding the write lock: no one else can commit while it does;
    - SQLite, a read transaction: it is begun anew here while a connection of this block holds the
      write lock, so that this session and the other process take the same snapshot (the bot's
      writes wait that long, a few milliseconds); the objects `session` had loaded are expired;
    - PostgreSQL: each statement of a transaction here reads the database as committed when it
      starts (read committed), so another connection reading at the same time reads the same.
    Otherwise (writes pending or made, an in-memory database) None.
    """
    session.flush()
    if session.new or session.dirty or session.deleted:
        yield None
        return
    conn = session.connection()
    engine = conn.engine
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        # No transaction id yet: this transaction has written nothing.
        written = conn.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None
        yield None if written else url
        return
    path = sqlite_file(engine.url)
    raw = conn.connection.driver_connection
    if path is None or getattr(raw, "total_changes", None) != conn.info.get("lianxi_changes_at_begin"):
        yield None
        return
    if conn.info.get("lianxi_write_locked", False):
        yield url
        return
    lock = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        try:
            session.rollback()
            # The new read transaction takes its snapshot at its first read of the file.
            session.connection().exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
            yield url
        finally:
            lock.execute("ROLLBACK")
    finally:
        lock.close()


def raw_rows(session: Session, statement: Any) -> Iterator[tuple[Any, ...]]:
    """A statement's rows straight off the driver's cursor, in batches: values as the driver gives
    them, with no result processing (SQLite's times stay text; integers and text are as typed), at
    a fraction of SQLAlchemy's cost a row: for reads of tens of thousands of rows of ids and codes."""
    result = session.connection().execute(statement)
    try:
        while chunk := result.cursor.fetchmany(10_000):
            yield from chunk
    finally:
        result.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
