"""The sandbox: the chat page's server, its member list, the /_sim API through the page's
origin, and `lianxi up` with no token bringing it all up from an empty database."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func
from sqlmodel import select as sql_select

from models import AuditLog, GroupBinding, Member, Plan, make_engine, session_scope
from sandbox.app import GROUP_CHAT_ID, SandboxHandle, start_sandbox

ROOT = Path(__file__).resolve().parent.parent
MEMBER_UNITS_IN_BANNER_PLAN = 15  # every unit but 旗人民政府 and 旗政府办公室
LEADERS = 5  # admin, office, convener, zone leader, supervisor


@pytest.fixture
async def sandbox(settings_env, engine: Engine, banner_plan_id: int, tmp_path: Path) -> AsyncIterator[SandboxHandle]:
    handle = await start_sandbox(engine, "127.0.0.1", 0, files_dir=tmp_path / "sandbox-files", outbox_poll_seconds=0.05)
    try:
        yield handle
    finally:
        await handle.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def bot_says(http: aiohttp.ClientSession, url: str, chat_id: int, needle: str, timeout: float = 10) -> dict:
    """Long-poll the page's /_sim/messages until a bot message contains `needle`."""
    after = 0
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        async with http.get(f"{url}_sim/messages", params={"chat_id": chat_id, "after": after, "wait": 2}) as resp:
            assert resp.status == 200
            body = (await resp.json())["result"]
        for m in body["messages"]:
            text = m.get("text") or m.get("caption") or ""
            if m["from_bot"]:
                seen.append(text)
                if needle in text:
                    return m
        after = body["seq"]
    raise AssertionError(f"the bot did not say {needle!r}; it said {seen}")


async def test_page_is_served_with_its_assets(sandbox: SandboxHandle, http: aiohttp.ClientSession) -> None:
    async with http.get(sandbox.url) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
    assert "联席" in page and "用邀请码加入" in page
    # Everything the page loads comes from the sandbox itself.
    assert "http://" not in page and "https://" not in page
    for asset, kind in (("static/app.js", "javascript"), ("static/app.css", "text/css")):
        async with http.get(sandbox.url + asset) as resp:
            assert resp.status == 200
            assert kind in resp.content_type


async def test_member_list_is_the_plans_members_bound_by_invites(
    sandbox: SandboxHandle, http: aiohttp.ClientSession, engine: Engine
) -> None:
    async with http.get(sandbox.url + "api/state") as resp:
        state = await resp.json()
    assert state["plan"]["key"] == "urad-middle-banner"
    people = state["people"]
    assert len(people) == LEADERS + MEMBER_UNITS_IN_BANNER_PLAN
    assert all(p["name"].endswith("（示例）") for p in people)
    roles = [p["role_label"] for p in people]
    for label in ("管理员", "联席会议办公室", "召集人", "包联领导", "联合督导组"):
        assert roles.count(label) == 1, label
    contacts = {p["unit"] for p in people if p["role"] == "contact"}
    assert {"旗林草局", "旗自然资源局", "属地苏木镇政府"} <= contacts
    assert "旗人民政府" not in contacts
    # Each one joined through a real invite: one member.joined audit row per person.
    with session_scope(engine) as s:
        joined = s.exec(sql_select(func.count()).select_from(AuditLog).where(AuditLog.action == "member.joined")).one()
        members = s.exec(sql_select(func.count()).select_from(Member)).one()
    assert joined == members == len(people)
    assert {u["key"] for u in state["units"]} >= {"forestry", "office"}


async def test_admin_binds_the_group_through_the_bot(
    sandbox: SandboxHandle, http: aiohttp.ClientSession, engine: Engine
) -> None:
    await bot_says(http, sandbox.url, GROUP_CHAT_ID, "联席会议群")
    with session_scope(engine) as s:
        binding = s.exec(sql_select(GroupBinding)).one()
    assert binding.chat_id == GROUP_CHAT_ID
    async with http.get(sandbox.url + "api/state") as resp:
        assert (await resp.json())["group"]["bound"] is True


async def test_contact_asks_whoami_through_the_page_origin(sandbox: SandboxHandle, http: aiohttp.ClientSession) -> None:
    async with http.get(sandbox.url + "api/state") as resp:
        people = (await resp.json())["people"]
    contact = next(p for p in people if p["unit"] == "旗林草局" and p["role"] == "contact")
    async with http.post(sandbox.url + "_sim/send", json={"user_id": contact["user_id"], "text": "/whoami"}) as resp:
        assert resp.status == 200
    reply = await bot_says(http, sandbox.url, contact["user_id"], "角色：部门联络员")
    assert "单位：旗林草局" in reply["text"]
    assert contact["name"] in reply["text"]


async def test_newcomer_joins_with_an_invite_made_on_the_page(
    sandbox: SandboxHandle, http: aiohttp.ClientSession
) -> None:
    async with http.post(sandbox.url + "api/invite", json={"unit": "water", "role": "contact"}) as resp:
        assert resp.status == 200
        invite = await resp.json()
    assert invite["unit"] == "旗水利局"
    async with http.post(sandbox.url + "api/join", json={"name": "新同志 李明", "code": invite["code"]}) as resp:
        joined = await resp.json()
    await bot_says(http, sandbox.url, joined["user_id"], "注册成功！您是旗水利局的部门联络员")
    async with http.get(sandbox.url + "api/state") as resp:
        state = await resp.json()
    me = next(p for p in state["people"] if p["user_id"] == joined["user_id"])
    assert (me["name"], me["unit"], me["role_label"]) == ("新同志 李明", "旗水利局", "部门联络员")


async def test_wrong_code_leaves_a_guest_who_is_told_why(sandbox: SandboxHandle, http: aiohttp.ClientSession) -> None:
    async with http.post(sandbox.url + "api/join", json={"name": "路人", "code": "NOTACODE22"}) as resp:
        joined = await resp.json()
    await bot_says(http, sandbox.url, joined["user_id"], "邀请码")
    async with http.get(sandbox.url + "api/state") as resp:
        state = await resp.json()
    assert {"user_id": joined["user_id"], "name": "路人"} in state["guests"]
    assert all(p["user_id"] != joined["user_id"] for p in state["people"])


async def test_join_without_name_or_code_is_refused(sandbox: SandboxHandle, http: aiohttp.ClientSession) -> None:
    async with http.post(sandbox.url + "api/join", json={"name": " ", "code": "X"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "请填写姓名。"
    async with http.post(sandbox.url + "api/invite", json={"unit": "不存在的局", "role": "contact"}) as resp:
        assert resp.status == 400
        assert "找不到单位" in (await resp.json())["error"]


async def test_page_cannot_reach_the_fault_controls(sandbox: SandboxHandle, http: aiohttp.ClientSession) -> None:
    async with http.post(sandbox.url + "_sim/offline", json={"offline": True}) as resp:
        assert resp.status == 404
    assert sandbox.server.offline is False


async def test_uploaded_file_opens_from_the_page(sandbox: SandboxHandle, http: aiohttp.ClientSession) -> None:
    pdf = b"%PDF-1.4\n% sandbox test\n%%EOF\n"
    form = aiohttp.FormData()
    form.add_field("user_id", "700000006")
    form.add_field("file", pdf, filename="说明.pdf", content_type="application/pdf")
    async with http.post(sandbox.url + "_sim/upload", data=form) as resp:
        assert resp.status == 200
        document = (await resp.json())["result"]["document"]
    async with http.get(f"{sandbox.url}_sim/files/{document['file_id']}", params={"name": "说明.pdf"}) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/pdf"
        assert "inline" in resp.headers["Content-Disposition"]
        assert await resp.read() == pdf


async def test_restart_keeps_the_same_people_and_binding(
    settings_env,
    engine: Engine,
    banner_plan_id: int,
    tmp_path: Path,
) -> None:
    first = await start_sandbox(engine, "127.0.0.1", 0, files_dir=tmp_path / "f")
    await first.stop()
    second = await start_sandbox(engine, "127.0.0.1", 0, files_dir=tmp_path / "f")
    try:
        assert first.people_created and not second.people_created
        with session_scope(engine) as s:
            assert s.exec(sql_select(func.count()).select_from(Member)).one() == LEADERS + MEMBER_UNITS_IN_BANNER_PLAN
            bound = s.exec(sql_select(func.count()).select_from(AuditLog).where(AuditLog.action == "group.bound")).one()
        assert bound == 1
    finally:
        await second.stop()


async def test_busy_port_moves_to_the_next_one(
    settings_env,
    engine: Engine,
    banner_plan_id: int,
    tmp_path: Path,
) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    busy = blocker.getsockname()[1]
    try:
        handle = await start_sandbox(engine, "127.0.0.1", busy, files_dir=tmp_path / "f")
        try:
            assert handle.port_was_busy == busy
            assert handle.url != f"http://127.0.0.1:{busy}/"
            async with aiohttp.ClientSession() as http, http.get(handle.url) as resp:
                assert resp.status == 200
        finally:
            await handle.stop()
    finally:
        blocker.close()


class Lines:
    """A process's stdout read in a thread, so a silent process cannot hang the test."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.text = ""
        stream = proc.stdout
        assert stream is not None
        threading.Thread(target=lambda: [self.queue.put(x) for x in stream], daemon=True).start()

    def until(self, needle: str, timeout: float) -> str:
        """Everything read so far, once a line contains `needle`."""
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            try:
                self.text += self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {needle!r} within {timeout}s; stdout:\n{self.text}") from None
        return self.text


@pytest.mark.slow
def test_up_with_no_token_loads_the_plan_and_prints_the_sandbox_address(tmp_path: Path) -> None:
    """From an empty database, `lianxi up` (what scripts/run.sh runs) migrates, loads the
    bundled plan, starts the sandbox and prints where it is."""
    db = tmp_path / "fresh.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": "",
        "SANDBOX_PORT": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    lianxi = Path(sys.executable).parent / "lianxi"
    errors = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(
        [str(lianxi), "up"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
    )
    try:
        lines = Lines(proc)
        out = lines.until("沙盒已启动：", timeout=60)
        assert "未设置机器人令牌" in out and "@BotFather" in out
        assert "已加载计划“乌拉特中旗非煤矿山资源整合、增储上产实施方案”" in out
        line = next(x for x in out.splitlines() if "沙盒已启动：" in x)
        url = line.split("沙盒已启动：", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")

        async def fetch() -> tuple[int, str]:
            async with aiohttp.ClientSession() as http, http.get(url + "api/state") as resp:
                return resp.status, (await resp.json())["plan"]["key"]

        assert asyncio.run(fetch()) == (200, "urad-middle-banner")
        engine = make_engine(f"sqlite:///{db}")
        with session_scope(engine) as s:
            assert s.exec(sql_select(Plan.key)).all() == ["urad-middle-banner"]
        engine.dispose()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, (tmp_path / "stderr.txt").read_text()
        assert "沙盒已停止" in lines.until("沙盒已停止", timeout=5)
        stderr = (tmp_path / "stderr.txt").read_text()
        assert "Traceback" not in stderr and "Connector is closed" not in stderr, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errors.close()


@pytest.mark.slow
async def test_up_with_a_token_runs_the_bot_and_the_worker(tmp_path: Path) -> None:
    """With a token, `lianxi up` runs `lianxi bot` and `lianxi worker`; Ctrl-C stops both.
    The Bot API here is the local server, standing in for Telegram."""
    from localbotapi.server import BotApiServer

    db = tmp_path / "fresh.db"
    async with BotApiServer() as server:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{db}",
            "DATA_DIR": str(tmp_path / "data"),
            "TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "TELEGRAM_API_BASE_URL": server.api_base,
            "TELEGRAM_FILE_BASE_URL": server.file_base,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        errors = (tmp_path / "stderr.txt").open("w")
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "lianxi"), "up"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            lines = Lines(proc)
            out = await asyncio.to_thread(lines.until, "启动：", 60)
            assert "bot、worker" in out
            user = server.user(555, "测试")
            await user.send("/whoami")
            reply = await server.wait_for(555, "您还未注册", timeout=30)
            assert reply["text"]
            await asyncio.to_thread(_wait_for_text, tmp_path / "stderr.txt", "acquired the lease", 30)
            proc.send_signal(signal.SIGINT)
            assert await asyncio.to_thread(proc.wait, 40) == 0, (tmp_path / "stderr.txt").read_text()
            log = (tmp_path / "stderr.txt").read_text()
            assert "Application.stop() complete" in log and "stopped" in log
            assert "123456789:AAHdq" not in log
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            errors.close()


def _wait_for_text(path: Path, needle: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while needle not in path.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not in {path}:\n{path.read_text()}")
        time.sleep(0.1)


async def test_stopping_with_the_page_polling_prints_no_traceback(
    settings_env, engine: Engine, banner_plan_id: int, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog
) -> None:
    """Stopping the sandbox while the page long-polls /_sim/messages (as an open browser tab
    does) ends those polls cleanly: no "Connector is closed" or any other traceback, in the
    log or on stderr."""
    import logging

    caplog.set_level(logging.DEBUG)
    handle = await start_sandbox(
        engine, "127.0.0.1", 0, files_dir=tmp_path / "f", outbox_poll_seconds=0.05, run_worker=False
    )
    stopped = False
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

            async def poll(chat_id: int) -> int | str:
                try:
                    params = {"chat_id": chat_id, "after": 10**6, "wait": 25}
                    async with http.get(f"{handle.url}_sim/messages", params=params) as resp:
                        await resp.read()
                        return resp.status
                except aiohttp.ClientError as exc:
                    return type(exc).__name__

            polls = [asyncio.create_task(poll(c)) for c in (1001, 1002)]
            await asyncio.sleep(1.0)
            assert not any(p.done() for p in polls)  # both in flight, held by the server
            started = time.monotonic()
            await handle.stop()
            stopped = True
            results = await asyncio.wait_for(asyncio.gather(*polls), 10)
            assert time.monotonic() - started < 8
    finally:
        if not stopped:
            await handle.stop()
    await asyncio.sleep(0.2)  # anything the loop still had to log
    err = capfd.readouterr().err
    logged = "\n".join(
        f"{r.name}: {r.getMessage()}" + (" [traceback]" if r.exc_info else "")
        for r in caplog.records
        if r.levelno >= logging.WARNING or r.exc_info
    )
    assert "Traceback" not in err and "Connector is closed" not in err, err
    assert "Connector is closed" not in logged and "[traceback]" not in logged, logged
    # A poll cut by the stop ends as a browser's would: answered, or its connection closed (the
    # client's retry of an idempotent GET then finds the port closed).
    assert all(r in (200, "ServerDisconnectedError", "ClientOSError", "ClientConnectorError") for r in results)
