"""The test command's throwaway PostgreSQL starts from a checkout its owner cannot reach.

As root, a clone in /root (mode 700 on Debian) once failed: the cluster, owned by the system
user postgres, lived inside the checkout. Here the test command's start (scripts/pg.sh, with
LIANXI_PG_DIR as scripts/test.sh sets it) runs from a copy of the scripts in a mode-700
directory, and the database it starts is used, then stopped and removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from models import make_engine

ROOT = Path(__file__).resolve().parent.parent


def _pg(clone: Path, *args: str) -> str:
    env = {**os.environ, "LIANXI_PG_DIR": f"var/pg-test/run-{os.getpid()}"}
    done = subprocess.run(
        ["bash", "scripts/pg.sh", *args], cwd=clone, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_test_database_starts_from_a_checkout_in_a_mode_700_directory(tmp_path: Path) -> None:
    if subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "available"]).returncode != 0:
        pytest.skip("PostgreSQL server binaries are not installed")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)  # as /root: no one but its owner may even look inside
    clone = home / "lianxi"
    (clone / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "pg.sh", clone / "scripts" / "pg.sh")

    _pg(clone, "start")
    try:
        url = _pg(clone, "url")
        cluster = Path((clone / f"var/pg-test/run-{os.getpid()}" / "cluster").read_text().strip())
        assert cluster.is_dir() and not cluster.is_relative_to(home)
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE t (n int)"))
                conn.execute(text("INSERT INTO t VALUES (1)"))
                assert conn.execute(text("SELECT sum(n) FROM t")).scalar_one() == 1
        finally:
            engine.dispose()
    finally:
        _pg(clone, "stop")
    assert not cluster.exists()
    assert not (clone / f"var/pg-test/run-{os.getpid()}").exists()
