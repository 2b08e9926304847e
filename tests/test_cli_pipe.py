"""What the CLI prints into a pipe or a file is not folded at 80 columns: each sentence stays on its
line, a table at its natural width, as a clerk pastes it into a report or a script reads it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

from rich.cells import cell_len
from sqlmodel import Session

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `lianxi ARGS` as the user runs it, stdout and stderr pipes and no COLUMNS in the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_TERMINAL")}
    return subprocess.run(
        [sys.executable, "-m", "lianxi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_schedule_set_into_a_pipe_prints_each_sentence_on_one_line(settings_env, banner_plan_id):
    """The sentence of the schedule just set, and of its next three runs, runs past 80 columns; rich
    folded it at the 80th (接下来三次运行：…、2027年1\\n月8日 09:00…); a pipe gets each sentence whole."""
    done = _run("schedule", "set", "brief", "每季度结束后第5个工作日 09:00")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    assert lines[0].startswith("已设置 brief：") and lines[0].endswith("。"), done.stdout
    assert lines[1].startswith("接下来三次运行：") and lines[1].endswith("。") and lines[1].count("、") == 2, (
        done.stdout
    )
    assert cell_len(lines[1]) > 80, "the sentence is long enough to have been folded"


def test_schedule_list_into_a_pipe_keeps_each_cell_whole(settings_env, engine, banner_plan_id):
    """The schedules' table in a pipe is as wide as its cells: no description or time folded inside it."""
    from oversight.schedules import list_schedules

    importlib.import_module("jobs.registry")  # each job's definition, as the CLI has them
    done = _run("schedule", "list")
    assert done.returncode == 0, done.stderr
    with Session(engine) as session:
        rows = list_schedules(session=session, tz=settings_env.tz)
    assert len(rows) > 3
    for row in rows:
        for cell in (row["name"], row["description"], *row["next_runs_text"]):
            assert cell in done.stdout, (cell, done.stdout)
    assert max(cell_len(line) for line in done.stdout.splitlines()) > 80, "the table is wider than 80 columns"
