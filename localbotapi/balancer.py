"""A load balancer in front of several webhook replicas, for tests and benchmarks.

Each POST (an update from the local Bot API server's webhook worker) goes to one replica at
random; with probability `duplicate` it goes to two at once (Telegram sent it again because
the first copy looked lost, and the balancer chose another replica), and with probability
`lose` the replica's answer is dropped and 502 returned (the server then sends the update
again, to any replica). A replica that does not answer (killed) is skipped for the next.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import aiohttp
from aiohttp import web


class Balancer:
    def __init__(
        self,
        upstreams: Sequence[str],
        *,
        duplicate: float = 0.0,
        lose: float = 0.0,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.upstreams = list(upstreams)
        self.duplicate, self.lose = duplicate, lose
        self.rng = random.Random(seed)
        self.host, self.port = host, port
        self.posted = 0  # POSTs received
        self.forwarded = 0  # copies sent to replicas
        self.duplicated = 0
        self.lost = 0
        self.failed = 0  # copies a replica did not answer with 2xx
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/telegram"

    async def __aenter__(self) -> Balancer:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_post("/telegram", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # aiohttp keeps the listening server here; its socket gives the port
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, upstream: str, body: bytes, headers: dict[str, str]) -> int:
        assert self._session is not None
        self.forwarded += 1
        try:
            async with self._session.post(upstream, data=body, headers=headers) as response:
                await response.read()
                if response.status >= 300:
                    self.failed += 1
                return response.status
        except (TimeoutError, aiohttp.ClientError, OSError):
            self.failed += 1
            return 502

    async def _handle(self, request: web.Request) -> web.Response:
        self.posted += 1
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-telegram")}
        headers["Content-Type"] = "application/json"
        count = 2 if len(self.upstreams) > 1 and self.rng.random() < self.duplicate else 1
        chosen = self.rng.sample(self.upstreams, count)
        if count == 2:
            self.duplicated += 1
        statuses = await asyncio.gather(*(self._forward(u, body, headers) for u in chosen))
        ok = [s for s in statuses if s < 300]
        if not ok:
            # A replica down: another gets the next attempt (the server retries).
            return web.Response(status=502)
        if self.rng.random() < self.lose:
            self.lost += 1
            return web.Response(status=502)  # applied, but the server will send it again
        return web.Response(status=200)
