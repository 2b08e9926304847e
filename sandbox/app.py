"""The sandbox runner: the local Bot API server, the real bot polling it, the worker, and
a small web app serving the chat page. The page talks to the simulated Telegram through
`/_sim/…` routes proxied to the Bot API server (same origin, nothing from the internet)."""

from __future__ import annotations

import asyncio
import errno
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from telegram.ext import Application, BaseRateLimiter

from localbotapi.server import BotApiServer, SimUser
from models import GroupBinding, Role, Unit, session_scope
from oversight.errors import OversightError
from oversight.members import ROLE_LABELS, create_invite, current_plan, require_unit
from sandbox.people import ACTOR, Person, ensure_sample_people, next_joiner_id, people

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Shaped like a token so the server accepts it; it can never reach Telegram (the base
# URL is the local server) and the log filter redacts it like any other token.
SANDBOX_TOKEN = "100000001:sandbox-local-only-not-a-telegram-token"
GROUP_CHAT_ID = -1001
GROUP_TITLE = "联席会议群"
PORT_TRIES = 20
MAX_NAME = 32
MAX_CODE = 64
# /_sim routes the page may use; faults, offline and redelivery stay test-only.
PAGE_SIM_ROUTES = {"send", "press", "upload", "join", "messages", "chats", "callback_answers", "commands"}
SIM_POLL_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=120)


class SandboxPortError(RuntimeError):
    """No free port near the one asked for."""


@dataclass
class SandboxHandle:
    """A running sandbox; `url` is the chat page, `stop()` shuts everything down."""

    url: str
    server: BotApiServer
    application: Application
    engine: Engine
    port_was_busy: int | None = None  # the port asked for, when another one was taken
    worker_running: bool = False
    people_created: bool = False
    _runner: web.AppRunner | None = None
    _client: aiohttp.ClientSession | None = None
    _worker: Any = None
    _worker_task: asyncio.Task | None = None
    _guests: dict[int, str] = field(default_factory=dict)

    async def stop(self) -> None:
        """Stop the page, the worker, the bot and the server, in that order."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._worker is not None:
            await self._worker.stop()
            if self._worker_task is not None:
                await asyncio.gather(self._worker_task, return_exceptions=True)
            self._worker = None
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if self._client is not None:
            await self._client.close()
            self._client = None
        await self.server.stop()


# --- start --------------------------------------------------------------------------


async def start_sandbox(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    files_dir: Path | None = None,
    run_worker: bool = True,
    outbox_poll_seconds: float = 0.3,
    rate_limiter: bool | BaseRateLimiter[Any] = True,
) -> SandboxHandle:
    """Start the Bot API server, the bot, the worker and the chat page; returns a handle.
    `rate_limiter` is build_application's: by default the bot's own Pacer, as `lianxi up` runs it."""
    from bot.app import build_application

    created = await asyncio.to_thread(ensure_sample_people, engine)
    if files_dir is not None:
        # The server's file index lives in memory: files of an earlier run are unreachable.
        shutil.rmtree(files_dir, ignore_errors=True)
        files_dir.mkdir(parents=True, exist_ok=True)
    server = BotApiServer(files_dir=files_dir)
    await server.start()
    application = build_application(
        engine=engine,
        token=SANDBOX_TOKEN,
        base_url=server.api_base,
        base_file_url=server.file_base,
        rate_limiter=rate_limiter,
        outbox_poll_seconds=outbox_poll_seconds,
    )
    handle = SandboxHandle(url="", server=server, application=application, engine=engine, people_created=created)
    try:
        sample = await asyncio.to_thread(people, engine)
        users = [server.user(p.user_id, p.name) for p in sample]
        server.group(GROUP_CHAT_ID, GROUP_TITLE, members=users)
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1, drop_pending_updates=False)
        await _set_menus(application, sample)
        await _bind_group_once(engine, server, sample)
        if run_worker:
            _start_worker(handle)
        handle._client = aiohttp.ClientSession()
        web_app = _web_app(handle)
        handle._runner = web.AppRunner(web_app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await handle._runner.setup()
        bound = await _bind(handle._runner, host, port)
        if port and bound != port:
            handle.port_was_busy = port
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
        handle.url = f"http://{shown}:{bound}/"
    except BaseException:
        await handle.stop()
        raise
    return handle


async def _bind(runner: web.AppRunner, host: str, port: int) -> int:
    """Listen on `port`, or on the next free one when it is taken; returns the port."""
    tries = 1 if port == 0 else PORT_TRIES
    for candidate in range(port, port + tries):
        site = web.TCPSite(runner, host, candidate)
        try:
            await site.start()
        except OSError as exc:
            await site.stop()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise
        server = site._server
        sockets = server.sockets if isinstance(server, asyncio.Server) else []
        return sockets[0].getsockname()[1] if sockets else candidate
    raise SandboxPortError(f"端口 {port}–{port + tries - 1} 都被占用，请用 --port 指定其他端口。")


async def _set_menus(application: Application, sample: list[Person]) -> None:
    """Each sample person sees their role's commands, as if they had joined with /start."""
    from bot.onboarding import set_menu

    for person in sample:
        await set_menu(application.bot, person.user_id, person.role)


async def _bind_group_once(engine: Engine, server: BotApiServer, sample: list[Person]) -> None:
    """If the plan has no joint meeting group yet, the sample admin binds the sandbox group
    by sending /bindgroup there, through the bot like anyone would."""
    admin = next((p for p in sample if p.role == Role.ADMIN), None)
    if admin is None:
        return
    with session_scope(engine) as session:
        plan = current_plan(session=session)
        if plan is None or session.get(GroupBinding, plan.id) is not None:
            return
    user = server.user(admin.user_id, admin.name)
    await user.send("/bindgroup", chat_id=GROUP_CHAT_ID)


def _start_worker(handle: SandboxHandle) -> None:
    try:
        from jobs.worker import Worker
    except ModuleNotFoundError as exc:
        if exc.name not in ("jobs.worker", "jobs.registry"):
            raise
        logger.warning("sandbox: the worker is not available (%s); running the bot only", exc.name)
        return
    worker = Worker(engine=handle.engine)
    handle._worker = worker
    handle._worker_task = asyncio.get_running_loop().create_task(worker.run_forever())
    handle.worker_running = True


# --- the page's web app ---------------------------------------------------------------

HANDLE_KEY: web.AppKey[SandboxHandle] = web.AppKey("sandbox_handle", SandboxHandle)


def _web_app(handle: SandboxHandle) -> web.Application:
    app = web.Application(client_max_size=handle.server.max_upload_bytes + 2 * 1024 * 1024)
    app[HANDLE_KEY] = handle
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR, show_index=False, append_version=False)
    app.router.add_get("/api/state", _api_state)
    app.router.add_post("/api/join", _api_join)
    app.router.add_post("/api/invite", _api_invite)
    app.router.add_route("*", "/_sim/{tail:.*}", _proxy_sim)
    app.on_response_prepare.append(_no_cache)
    return app


async def _no_cache(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})


def _handle(request: web.Request) -> SandboxHandle:
    return request.app[HANDLE_KEY]


def _state(handle: SandboxHandle) -> dict[str, Any]:
    """What the page needs: the plan, its members, the group, units and roles for invites."""
    sample = people(handle.engine)
    members = {p.user_id for p in sample}
    with session_scope(handle.engine) as session:
        plan = current_plan(session=session)
        units = session.exec(select(Unit).where(Unit.plan_id == plan.id).order_by(col(Unit.id))).all() if plan else []
        binding = session.get(GroupBinding, plan.id) if plan else None
        plan_info = {"key": plan.key, "name": plan.name, "short_name": plan.short_name or plan.name} if plan else None
        unit_list = [{"key": u.key, "name": u.name} for u in units]
    return {
        "plan": plan_info,
        "people": [p.__dict__ for p in sample],
        "guests": [{"user_id": uid, "name": name} for uid, name in handle._guests.items() if uid not in members],
        "group": {
            "chat_id": GROUP_CHAT_ID,
            "title": GROUP_TITLE,
            "bound": binding is not None and binding.chat_id == GROUP_CHAT_ID,
        },
        "units": unit_list,
        "roles": [{"key": k, "label": v} for k, v in ROLE_LABELS.items()],
        "worker": handle.worker_running,
    }


async def _api_state(request: web.Request) -> web.Response:
    state = await asyncio.to_thread(_state, _handle(request))
    return _json(state)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text="JSON expected") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


async def _api_join(request: web.Request) -> web.Response:
    """A new simulated person, who opens the bot and sends /start CODE."""
    handle = _handle(request)
    body = await _body(request)
    name = " ".join(str(body.get("name") or "").split())[:MAX_NAME]
    code = "".join(str(body.get("code") or "").split())[:MAX_CODE]
    if not name:
        return _json({"ok": False, "error": "请填写姓名。"}, status=400)
    if not code:
        return _json({"ok": False, "error": "请填写邀请码。"}, status=400)
    user_id = await asyncio.to_thread(next_joiner_id, handle.engine, set(handle._guests))
    handle._guests[user_id] = name
    user: SimUser = handle.server.user(user_id, name)
    await user.send(f"/start {code}")
    return _json({"ok": True, "user_id": user_id, "name": name})


def _create_invite(handle: SandboxHandle, unit_text: str, role: str) -> dict[str, Any]:
    with session_scope(handle.engine) as session:
        plan = current_plan(session=session)
        if plan is None or plan.id is None:
            return {"ok": False, "error": "尚未加载计划。"}
        unit = require_unit(session=session, plan_id=plan.id, text=unit_text)
        assert unit.id is not None
        _, code = create_invite(session=session, plan_id=plan.id, unit_id=unit.id, role=role, days=7, created_by=ACTOR)
        return {"ok": True, "code": code, "unit": unit.name, "role_label": ROLE_LABELS[role]}


async def _api_invite(request: web.Request) -> web.Response:
    """A sandbox shortcut for the admin's /invite: a fresh code for a unit and role."""
    body = await _body(request)
    role = str(body.get("role") or "")
    if role not in ROLE_LABELS:
        return _json({"ok": False, "error": "请选择角色。"}, status=400)
    try:
        result = await asyncio.to_thread(_create_invite, _handle(request), str(body.get("unit") or ""), role)
    except OversightError as exc:
        return _json({"ok": False, "error": exc.message}, status=400)
    return _json(result, status=200 if result["ok"] else 400)


async def _proxy_sim(request: web.Request) -> web.StreamResponse:
    """Forward a page request to the Bot API server's /_sim control API."""
    handle = _handle(request)
    tail = request.match_info["tail"]
    route = tail.split("/", 1)[0]
    if route not in PAGE_SIM_ROUTES and not tail.startswith("files/"):
        raise web.HTTPNotFound()
    assert handle._client is not None
    headers = {}
    if "Content-Type" in request.headers:
        headers["Content-Type"] = request.headers["Content-Type"]
    body = await request.read()
    url = f"{handle.server.url}/_sim/{tail}"
    async with handle._client.request(
        request.method, url, params=request.query, data=body or None, headers=headers, timeout=SIM_POLL_TIMEOUT
    ) as upstream:
        data = await upstream.read()
        out_headers = {"Content-Type": upstream.headers.get("Content-Type", "application/octet-stream")}
        if tail.startswith("files/"):
            name = request.query.get("name")
            if name:
                from urllib.parse import quote

                out_headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
        return web.Response(body=data, status=upstream.status, headers=out_headers)


def _json(data: Any, status: int = 200) -> web.Response:
    import json

    return web.json_response(data, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


# --- running it -------------------------------------------------------------------------


async def run_sandbox(engine: Engine, host: str, port: int, *, files_dir: Path | None, announce: Any) -> None:
    """Start the sandbox, call `announce(handle)`, and run until cancelled."""
    handle = await start_sandbox(engine, host, port, files_dir=files_dir)
    try:
        announce(handle)
        await asyncio.Event().wait()
    finally:
        await handle.stop()
