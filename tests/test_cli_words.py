"""What a user reads from the CLI and the bot holds no internal words: the calendar's note on a year
without holiday data is one Chinese notice (its English line stays in the log), a file that is no
plan says so in Chinese, and a command that takes nothing says what it takes."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from lianxi.cli import app
from models import Role
from oversight import workdays
from tests.conftest import ROOT
from tests.harness import running_bot

runner = CliRunner()
NOTICE = "年的节假日安排尚未载入，本次按周一至周五计算工作日"
ENGLISH_LINE = "no holiday data"


def _schedule_reaches_an_estimated_year() -> int:
    """The first year without holiday data, if the schedules' next runs (within the coming year) reach it."""
    year = workdays.first_estimated_year()
    if year > (datetime.now() + timedelta(days=366)).year:
        pytest.skip(f"the holiday data covers the coming year ({year - 1}); no schedule reaches an estimated year")
    return year


def test_schedule_list_run_as_a_program_says_the_missing_year_in_chinese_once(settings_env, banner_plan_id):
    """Run as the user runs it (no pytest logging handlers, so Python's last-resort handler is what
    printed the English line before): stderr carries the Chinese notice once, and no English."""
    year = _schedule_reaches_an_estimated_year()
    done = subprocess.run(
        [sys.executable, "-m", "lianxi", "schedule", "list"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "定时任务" in done.stdout
    assert done.stderr.count(f"{year}{NOTICE}") == 1, done.stderr
    assert "lianxi calendar import" in done.stderr
    assert ENGLISH_LINE not in done.stderr + done.stdout and "chinesecalendar" not in done.stderr


def test_schedule_list_notice_in_process_and_the_log_line_kept(settings_env, banner_plan_id, monkeypatch, caplog):
    """In process: the notice is printed once on stderr, and the log still gets its English record
    (with the year on it) for whoever reads the log."""
    year = _schedule_reaches_an_estimated_year()
    monkeypatch.setattr(workdays, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="oversight.workdays"):
        result = runner.invoke(app, ["schedule", "list"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count(f"{year}{NOTICE}") == 1, result.stderr
    assert ENGLISH_LINE not in result.output
    logged = [r for r in caplog.records if getattr(r, workdays.UNCOVERED_YEAR, None) == year]
    assert len(logged) == 1 and ENGLISH_LINE in logged[0].getMessage()
    # Once per process: a second command says nothing more.
    again = runner.invoke(app, ["schedule", "list"])
    assert again.exit_code == 0 and NOTICE not in again.stderr


def _assert_plain(text: str) -> None:
    """No internal marker, Python value, English type name or English in brackets."""
    assert not re.search(r"<\w+>", text), text
    assert not re.search(r"[（(][A-Za-z]", text), text
    assert "'" not in text and "mapping" not in text and "Error" not in text and "None" not in text, text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("vm\n", "计划文件的内容不是“字段：值”的形式"),  # what /etc/hostname holds
        ("- a\n- b\n", "计划文件的内容不是“字段：值”的形式"),
        ("", "计划文件是空的"),
        ("key: x\n\tname: y\n", "含有制表符，缩进请用空格"),
        ("key: [a, b\nname: y\n", "计划文件格式有误，第"),
        (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "不是文本文件"),
    ],
)
def test_plan_load_of_a_file_that_is_no_plan_says_so_in_chinese(settings_env, engine, tmp_path, content, expected):
    path = tmp_path / "hostname"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["plan", "load", str(path)])
    assert result.exit_code == 2, result.output
    assert "未通过校验，未做任何更改" in result.output and expected in result.output, result.output
    _assert_plain(result.output.replace(str(path), "文件"))


def test_plan_load_of_a_directory_and_of_bad_fields_reads_plainly(settings_env, engine, tmp_path):
    directory = runner.invoke(app, ["plan", "load", str(tmp_path)])
    assert directory.exit_code == 2 and "是一个目录，不是计划文件" in directory.output
    text = (ROOT / "plans" / "urad-middle-banner.yaml").read_text(encoding="utf-8")
    cases = {
        "level: banner": ("level: town", "字段 level：取值“town”不在允许范围内，可填：banner、region"),
        "mining: 1,": ("mining: 一,", "字段 zones 第2项的 mining：应为整数，实际为“一”"),
        "name: 乌拉特中旗": ("name: 乌拉特中旗\nfoo: 1", "字段 foo：不认识的字段，请检查拼写"),
    }
    for old, (new, expected) in cases.items():
        assert old in text
        path = tmp_path / "plan.yaml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        result = runner.invoke(app, ["plan", "load", str(path)])
        assert result.exit_code == 2 and expected in result.output, (old, result.output)
        _assert_plain(result.output.replace(str(path), "文件"))


async def test_progress_and_todo_with_words_say_what_they_take(engine, banner_plan_id, settings_env):
    """/progress xyz is not silently taken for /progress: the bot says the command takes no words,
    and /progress alone still answers with the progress."""
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17091, "自然资源联络员", "自然资源局", Role.CONTACT)
        refused = await h.say(contact, "/progress xyz", "不用加文字")
        assert refused["text"] == "/progress 后面不用加文字，“xyz”未作处理。直接发送 /progress 即可查看各批次任务进度。"
        assert "任务进度】" not in refused["text"]
        todo = await h.say(contact, "/todo 全部", "不用加文字")
        assert todo["text"].startswith("/todo 后面不用加文字，“全部”未作处理。直接发送 /todo 即可查看待办事项。")
        shown = await h.say(contact, "/progress", "任务进度")
        assert "一、总体目标" in shown["text"] or "目标" in shown["text"]


async def test_the_bot_logs_the_missing_year_and_tells_users_nothing_in_english(
    engine, banner_plan_id, settings_env, monkeypatch, caplog
):
    """The bot's side: /schedule counts next year's runs on the estimate; the record goes to the
    log (English, for the operator), the admin's chat gets only Chinese."""
    year = _schedule_reaches_an_estimated_year()
    monkeypatch.setattr(workdays, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="oversight.workdays"):
        async with running_bot(engine, banner_plan_id) as h:
            admin = await h.join(9391, "管理员", "旗政府办公室", Role.ADMIN)
            listing = await h.say(admin, "/schedule", "定时任务")
    assert [r for r in caplog.records if getattr(r, workdays.UNCOVERED_YEAR, None) == year]
    assert ENGLISH_LINE not in listing["text"] and "chinesecalendar" not in listing["text"]


def test_calendar_import_of_a_file_it_cannot_read_names_no_exception(settings_env, engine, tmp_path):
    """A binary or a directory given to lianxi calendar import: a Chinese reason, no exception's name."""
    binary = tmp_path / "2027.txt"
    binary.write_bytes(b"\xff\xfe\x00\xd8\x00")
    for target, expected in ((binary, "不是文本文件"), (tmp_path, "是一个目录，不是通知文件")):
        result = runner.invoke(app, ["calendar", "import", str(target), "--yes"])
        assert result.exit_code == 2 and expected in result.output, result.output
        _assert_plain(result.output.replace(str(target), "文件"))
