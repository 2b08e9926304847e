"""The command line starts at once: nothing heavy at import, no migration check for a command that only reads.

(The start-up times themselves are a benchmark: bench/cli_startup.py.)"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lianxi.cli import app
from tests.conftest import BANNER_PLAN

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("weasyprint", "matplotlib", "telegram", "openpyxl", "xlsxwriter", "jobs", "bot", "alembic", "sqlalchemy")

PROBE = """
import json, sys
from lianxi.cli import app
try:
    app(["--help"], prog_name="lianxi")
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_importing_the_cli_and_showing_its_help_imports_nothing_heavy():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert "用法：lianxi" in done.stdout
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "lianxi" in loaded and "typer" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_a_read_only_command_on_a_database_behind_the_migrations_says_run_db_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from config.settings import get_settings

    path = tmp_path / "old.db"
    sqlite3.connect(path).close()  # a database no migration has run on
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        for args in (["plan", "show"], ["unit", "list"], ["member", "list"], ["ledger", "export", "x.xlsx"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 2, (args, result.output)
            assert "数据库结构不是最新版本" in result.output and "lianxi db upgrade" in result.output, result.output
            assert "Traceback" not in result.output
        # Reading checked nothing and changed nothing: no migration ran.
        tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
        assert tables == []
        # A command that writes brings the schema up to date itself, as before.
        assert runner.invoke(app, ["plan", "load", str(BANNER_PLAN)]).exit_code == 0
        shown = runner.invoke(app, ["plan", "show", "--json"])
        assert shown.exit_code == 0 and json.loads(shown.stdout)["key"] == "urad-middle-banner"
    finally:
        get_settings.cache_clear()
