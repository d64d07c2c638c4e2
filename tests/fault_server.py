"""A scripted, fault-injecting aiohttp server for the tests.

Each path plays a script: one action per hit, the last action repeating.
Every hit is recorded with its method, headers, body and the loop time, so
tests can check what reached the server and when (virtual time included).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    """Answer with this status, body and headers, after ``delay`` seconds; the body ``body_delay`` after the headers."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body_delay: float = 0.0


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering: the client sees ServerDisconnectedError."""


Action = Reply | Drop


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    time: float
    port: int = 0  # the client's port: one per connection


class FaultServer:
    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_route("*", "/{path:.*}", self._handle)
        self.scripts: dict[str, list[Action]] = {}
        self.hits: list[Hit] = []
        self.base_url = ""  # set once the server listens
        self.in_flight = 0  # requests being handled now, and the most seen at once
        self.most_in_flight = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, *actions: Action | int) -> str:
        """Set what ``path`` answers, hit by hit; an int is ``Reply(status)``. Returns the path."""
        self.scripts[path] = [Reply(a) if isinstance(a, int) else a for a in actions]
        return path

    def hits_of(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        script = self.scripts.get(path, [Reply()])
        seen = len(self.hits_of(path))
        action = script[min(seen, len(script) - 1)]
        body = await request.read()
        loop = asyncio.get_running_loop()
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        port = peer[1] if peer else 0
        self.hits.append(Hit(request.method, path, dict(request.headers), body, loop.time(), port))
        if isinstance(action, Drop):
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if action.delay:
            await asyncio.sleep(action.delay)
        if not action.body_delay:
            return web.Response(status=action.status, body=action.body, headers=action.headers)
        response = web.StreamResponse(status=action.status, headers=action.headers)
        response.content_length = len(action.body)
        await response.prepare(request)
        await asyncio.sleep(action.body_delay)
        await response.write(action.body)
        return response
