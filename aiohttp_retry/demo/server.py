"""The demo's embedded server: one aiohttp application on 127.0.0.1 whose behaviour is set per scenario.

Each scenario phase (one client in one scenario) gets a :class:`Phase` that
both sides count into: the client its calls, the server its hits and answers.
Faults are drawn from a ``random.Random`` seeded per phase, so that both
clients meet the same sequence of faults and a run can be repeated.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

__all__ = [
    "CALL_HEADER",
    "CLIENT_HEADER",
    "Behaviour",
    "DemoServer",
    "Flaky",
    "Outage",
    "Phase",
    "RateLimited",
    "SlowTail",
]

#: The header naming the client, which the rate limiter counts by.
CLIENT_HEADER = "X-Demo-Client"
#: The header numbering the call, the same on every try of it: the server measures retry gaps by it.
CALL_HEADER = "X-Demo-Call"

_OK = "ok"


@dataclass(eq=False)
class Phase:
    """One client's run of one scenario, counted as it goes: calls by the client, hits and answers by the server.

    Times are event loop clock readings; ``started`` is 0.0 until the first call is due.
    """

    scenario: str
    client: str
    total: int
    started: float = 0.0
    finished: float | None = None
    done: int = 0
    ok: int = 0
    hits: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    outage_hits: int = 0
    throttled: int = 0
    #: The shortest time between a 429 and the next try of the same call, as the server saw it.
    shortest_gap: float | None = None

    @property
    def running(self) -> bool:
        """Whether calls are under way."""
        return self.started > 0 and self.finished is None


class Behaviour:
    """How the server answers in one scenario; ``None`` from :meth:`answer` drops the connection."""

    async def answer(self, request: web.Request, phase: Phase, elapsed: float) -> web.Response | None:
        """The answer to ``request``, ``elapsed`` seconds into ``phase``."""
        raise NotImplementedError


class Flaky(Behaviour):
    """About 10 % of answers are 500, 502 or 503, and about 3 % of connections drop."""

    DROP = 0.03
    ERROR = 0.10

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    async def answer(self, request: web.Request, phase: Phase, elapsed: float) -> web.Response | None:  # noqa: ARG002
        """Draw the answer."""
        draw = self.rng.random()
        if draw < self.DROP:
            return None
        if draw < self.DROP + self.ERROR:
            return web.Response(status=self.rng.choice((500, 502, 503)), text="server error")
        return web.Response(text=_OK)


class Outage(Behaviour):
    """Every answer is 503 from ``start`` to ``end`` seconds into the phase; 200 before and after."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    async def answer(self, request: web.Request, phase: Phase, elapsed: float) -> web.Response | None:  # noqa: ARG002
        """503 inside the window, 200 outside."""
        if self.start <= elapsed < self.end:
            phase.outage_hits += 1
            return web.Response(status=503, text="unavailable")
        return web.Response(text=_OK)


class SlowTail(Behaviour):
    """One answer in ``every`` (5 %) takes ``slow`` seconds, the others ``fast``; which one is drawn per block."""

    def __init__(self, rng: random.Random, fast: float = 0.005, slow: float = 0.3, every: int = 20) -> None:
        self.rng = rng
        self.fast = fast
        self.slow = slow
        self.every = every
        self._seen = 0
        self._slow_at = 0

    async def answer(self, request: web.Request, phase: Phase, elapsed: float) -> web.Response | None:  # noqa: ARG002
        """200 after a short or, once in a block of answers, a long pause."""
        place = self._seen % self.every
        if place == 0:
            self._slow_at = self.rng.randrange(self.every)
        self._seen += 1
        await asyncio.sleep(self.slow if place == self._slow_at else self.fast)
        return web.Response(text=_OK)


class RateLimited(Behaviour):
    """At most ``limit`` requests per client in each second (counted from its first request); 429 beyond.

    A 429 carries ``Retry-After: 1``. The server notes when it told a call to
    wait, and records the shortest time until that call tried again.
    """

    def __init__(self, limit: int, retry_after: int = 1) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self._first: dict[str, float] = {}
        self._counts: Counter[tuple[str, int]] = Counter()
        self._told: dict[str, float] = {}

    async def answer(self, request: web.Request, phase: Phase, elapsed: float) -> web.Response | None:
        """200 within the client's allowance for the current second, else 429 with ``Retry-After``."""
        call = request.headers.get(CALL_HEADER, "")
        told = self._told.pop(call, None)
        if told is not None:
            gap = elapsed - told
            phase.shortest_gap = gap if phase.shortest_gap is None else min(phase.shortest_gap, gap)
        client = request.headers.get(CLIENT_HEADER, request.remote or "")
        first = self._first.setdefault(client, elapsed)
        window = (client, int(elapsed - first))
        self._counts[window] += 1
        if self._counts[window] <= self.limit:
            return web.Response(text=_OK)
        phase.throttled += 1
        self._told[call] = elapsed
        return web.Response(status=429, text="too many requests", headers={"Retry-After": str(self.retry_after)})


def _quiet_logger() -> logging.Logger:
    """A logger that drops everything: the server's errors (dropped connections) are on purpose."""
    logger = logging.getLogger("aiohttp_retry.demo.server")
    logger.disabled = True
    return logger


class DemoServer:
    """The embedded server: ``async with DemoServer() as server``; then :meth:`begin` each phase."""

    def __init__(self) -> None:
        self.phase: Phase | None = None
        self.behaviour: Behaviour = Behaviour()
        self.base_url = ""
        app = web.Application()
        app.router.add_get("/{scenario}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, logger=_quiet_logger(), shutdown_timeout=1.0)

    async def __aenter__(self) -> DemoServer:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._runner.cleanup()

    def begin(self, phase: Phase, behaviour: Behaviour) -> None:
        """Answer as ``behaviour`` says from now on, counting into ``phase``."""
        self.phase = phase
        self.behaviour = behaviour

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Count the hit and answer it (or drop its connection) as the current behaviour says."""
        phase, behaviour = self.phase, self.behaviour
        if phase is None:
            return web.Response(status=404, text="no scenario is running")
        phase.hits += 1
        elapsed = asyncio.get_running_loop().time() - phase.started
        response = await behaviour.answer(request, phase, elapsed)
        if response is None:
            phase.answers["dropped"] += 1
            assert request.transport is not None  # noqa: S101 - aiohttp always has one while handling
            request.transport.close()  # the client sees ServerDisconnectedError
            return web.Response()
        phase.answers[str(response.status)] += 1
        return response
