"""Hostile files refused before they are parsed: a zip bomb of millions of rows, a 1 GiB
cell, a 50 MB workbook and an image bomb, each within 2 s and 200 MB, the database
unchanged; through `lianxi ledger import`'s path and through /ledger in chat, where the bot
keeps answering everyone else meanwhile."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from pathlib import Path

import pytest

from models import Role
from oversight.errors import OversightError
from oversight.inputlimits import FileLimitError, Limits, check_xlsx
from oversight.ledger import import_ledger
from tests import bombs
from tests.conftest import table_counts
from tests.harness import running_bot

LIMIT_SECONDS = 2.0
LIMIT_MB = 200


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bombs")
    png = d / "扫描件.png"
    png.write_bytes(bombs.png_bomb())
    return {
        "rows_bomb": bombs.rows_bomb(d / "rows.xlsx"),
        "empty_rows": bombs.empty_rows(d / "empty.xlsx"),
        "huge_cell": bombs.huge_cell(d / "cell.xlsx"),
        "long_cell": bombs.long_cell(d / "long.xlsx"),
        "big_workbook": bombs.big_workbook(d / "big.xlsx"),
        # What the local server takes from a user (Telegram takes more; the bot sees the size first).
        "big_upload": bombs.big_workbook(d / "big_upload.xlsx", megabytes=45),
        "image_bomb": png,
    }


EXPECTED = {
    "rows_bomb": "解压后为2",  # 237 MB of XML
    "empty_rows": "超过20,000行的上限",
    "huge_cell": "解压后为1,024.0 MB，超过上限50 MB",
    "long_cell": "超过32,767个字符（Excel 单元格的上限）",
    "big_workbook": "超过20 MB 的上限",
}


def _measured(call) -> tuple[BaseException | None, float, float]:
    tracemalloc.start()
    started = time.monotonic()
    error: BaseException | None = None
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
        error = exc
    seconds = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    return error, seconds, peak


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_ledger_import_refuses_hostile_workbooks_fast(kind, hostile, settings_env, engine, session, banner_plan_id):
    before = table_counts(engine)
    path = hostile[kind]
    for data in (path, path.read_bytes()):  # the CLI's path, and an upload's bytes
        if kind == "big_workbook" and isinstance(data, bytes):
            continue  # bytes over 20 MB never reach the import: the upload is refused by its size
        error, seconds, peak = _measured(
            lambda data=data: import_ledger(session=session, plan_id=banner_plan_id, data=data, actor="cli")
        )
        session.rollback()
        assert isinstance(error, OversightError), error
        assert EXPECTED[kind] in error.message, error.message
        assert seconds < LIMIT_SECONDS and peak < LIMIT_MB, (kind, seconds, peak)
    assert table_counts(engine) == before


def test_the_limits_come_from_settings_and_stop_at_the_first_one(hostile, monkeypatch):
    data = hostile["empty_rows"].read_bytes()
    generous = Limits(
        max_entries=1000,
        max_uncompressed=50 << 20,
        max_ratio=200,
        max_rows=300_000,
        max_cell_chars=32_767,
        max_image_pixels=80_000_000,
    )
    check_xlsx(data, limits=generous)  # 200,000 empty rows are within 300,000
    monkeypatch.setenv("LEDGER_MAX_ROWS", "199000")
    from config.settings import get_settings

    get_settings.cache_clear()
    try:
        with pytest.raises(FileLimitError, match="超过199,000行的上限"):
            check_xlsx(data)
    finally:
        get_settings.cache_clear()


def test_an_image_bomb_is_refused_from_its_header(hostile, settings_env):
    from oversight.attachments import check_file

    error, seconds, peak = _measured(lambda: check_file(data=hostile["image_bomb"].read_bytes(), filename="扫描件.png"))
    assert isinstance(error, FileLimitError) and "百万像素的上限" in error.message, error
    assert seconds < LIMIT_SECONDS and peak < LIMIT_MB, (seconds, peak)


CHAT_EXPECTED = {**EXPECTED, "big_upload": "单个文件不能超过20 MB", "image_bomb": "百万像素的上限"}
# Every update is kept (the inbox) and recorded as processed, a refused one too.
INTAKE = {"inboxupdate", "processedupdate"}


def _content(engine) -> dict[str, int]:
    return {k: v for k, v in table_counts(engine).items() if k not in INTAKE}


@pytest.mark.parametrize("kind", ["rows_bomb", "huge_cell", "empty_rows", "big_upload", "image_bomb"])
async def test_ledger_in_chat_refuses_hostile_files_and_the_bot_keeps_answering(
    kind, hostile, engine, banner_plan_id, settings_env
):
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(5601, "自然资源联络员", "自然资源局", Role.CONTACT)
        other = h.server.user(5602, "其他用户")
        await h.say(user, "/ledger", "台账电子版")
        before = _content(engine)
        path = hostile[kind]
        mark = h.server.mark()
        sent = time.monotonic()
        await user.upload(path.read_bytes(), filename=path.name)
        await asyncio.sleep(0.05)  # the bot has the upload in hand
        asked = time.monotonic()
        await other.send("/whoami")
        await h.server.wait_for(other.id, "未注册", timeout=5, after=mark)
        whoami = time.monotonic() - asked
        refusal = await h.server.wait_for(user.id, CHAT_EXPECTED[kind], timeout=10, after=mark)
        refused = time.monotonic() - sent
        assert "已拒收" in refusal["text"] or "20 MB" in refusal["text"]
        assert whoami < 1.0, f"/whoami took {whoami:.2f} s while {kind} was checked"
        assert refused < LIMIT_SECONDS, f"{kind} refused after {refused:.2f} s"
        after = _content(engine)
        assert after == before, {k: (before[k], v) for k, v in after.items() if before.get(k) != v}
