"""``python -m aiohttp_retry demo``: one flaky server, called with and without retries.

An embedded server on 127.0.0.1 fails about 30 % of requests (503s, 500s and
dropped connections, drawn from a seeded generator). The same number of GET
requests goes to it first through a plain ``ClientSession``, then through
``RetryClient``; the table compares how many succeeded, how many requests the
server saw, and how long each took. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, web

from aiohttp_retry.client import RetryClient
from aiohttp_retry.events import BudgetRefused, GaveUp, RetryScheduled
from aiohttp_retry.retry_options import ExponentialRetry

__all__ = ["DemoResult", "main", "run_demo"]

CONCURRENCY = 20


@dataclass(frozen=True)
class DemoResult:
    """The figures of one client's run; for RetryClient also why calls gave up, counted from its events."""

    name: str
    requests: int
    succeeded: int
    hits: int
    elapsed: float
    retries: int = 0
    refused: int = 0
    gave_up: dict[str, int] = field(default_factory=dict)


class _Tally:
    """A listener counting retries, budget refusals and the reasons calls gave up."""

    def __init__(self) -> None:
        self.retries = 0
        self.refused = 0
        self.gave_up: Counter[str] = Counter()

    def __call__(self, event: object) -> None:
        if isinstance(event, RetryScheduled):
            self.retries += 1
        elif isinstance(event, BudgetRefused):
            self.refused += 1
        elif isinstance(event, GaveUp):
            self.gave_up[event.reason.value] += 1


class _FlakyServer:
    """Answers 200 to about 70 % of requests; 503, 500 or a dropped connection to the rest."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.hits = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        draw = self.rng.random()
        if draw < 0.05:  # noqa: PLR2004
            assert request.transport is not None  # noqa: S101 - aiohttp always has one while handling
            request.transport.close()  # the client sees ServerDisconnectedError
            return web.Response()
        if draw < 0.10:  # noqa: PLR2004
            return web.Response(status=500, text="internal error")
        if draw < 0.30:  # noqa: PLR2004
            return web.Response(status=503, text="unavailable")
        return web.Response(text="ok")


async def _send_all(requests: int, get: Callable[[], Any]) -> int:
    """Send ``requests`` GETs through ``get(url)`` (20 at a time); count the 200s."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> bool:
        async with gate:
            try:
                async with get() as response:
                    await response.read()
                    return bool(response.status == 200)  # noqa: PLR2004
            except ClientError:
                return False

    return sum(await asyncio.gather(*(one() for _ in range(requests))))


async def run_demo(requests: int = 300, seed: int = 7) -> dict[str, DemoResult]:
    """Run both clients against one flaky server; return their figures by name."""
    if requests < 1:
        msg = f"requests must be an integer >= 1, got {requests!r}"
        raise ValueError(msg)
    server = _FlakyServer(seed)
    app = web.Application()
    app.router.add_get("/", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    results: dict[str, DemoResult] = {}
    try:
        async with ClientSession() as session:
            hits, started = server.hits, time.perf_counter()
            ok = await _send_all(requests, lambda: session.get(url))
            results["ClientSession"] = DemoResult(
                "ClientSession", requests, ok, server.hits - hits, time.perf_counter() - started
            )
        options = ExponentialRetry(attempts=4, start_timeout=0.01, max_timeout=0.2)
        tally = _Tally()
        async with RetryClient(retry_options=options, listeners=[tally]) as client:
            hits, started = server.hits, time.perf_counter()
            ok = await _send_all(requests, lambda: client.get(url))
            results["RetryClient"] = DemoResult(
                "RetryClient",
                requests,
                ok,
                server.hits - hits,
                time.perf_counter() - started,
                tally.retries,
                tally.refused,
                dict(tally.gave_up.most_common()),
            )
    finally:
        await runner.cleanup()
    return results


def main(requests: int = 300, seed: int = 7) -> None:
    """Run the demo and print the comparison."""
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # dropped connections are on purpose
    results = asyncio.run(run_demo(requests, seed))
    gets = "1 GET" if requests == 1 else f"{requests} GETs"
    print(f"A local server fails about 30 % of requests; {gets}, up to {CONCURRENCY} at a time.\n")
    print(f"{'client':<15}{'requests':>9}{'succeeded':>18}{'server hits':>13}{'elapsed':>10}")
    for result in results.values():
        share = f"{result.succeeded} ({result.succeeded / result.requests:.1%})"
        print(f"{result.name:<15}{result.requests:>9}{share:>18}{result.hits:>13}{result.elapsed:>9.2f}s")
    print(
        "\nRetryClient(retry_options=ExponentialRetry(attempts=4, start_timeout=0.01)) retried the 5xx answers"
        "\nand the dropped connections, waiting 10, 20, 40 ms between tries, within its retry budget."
        "\nClientSession's hits include aiohttp's own single resend of a GET whose connection dropped."
    )
    retrying = results["RetryClient"]
    print(
        f"\nRetryClient's events: {retrying.retries} retries sent; the retry budget (20 % of calls plus 10/s)"
        f" refused {retrying.refused}."
    )
    if retrying.gave_up:
        reasons = ", ".join(f"{count} {reason}" for reason, count in retrying.gave_up.items())
        print(f"Calls that gave up, by reason: {reasons}.")
