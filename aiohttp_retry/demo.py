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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, web

from aiohttp_retry.client import RetryClient
from aiohttp_retry.retry_options import ExponentialRetry

__all__ = ["DemoResult", "main", "run_demo"]

CONCURRENCY = 20


@dataclass(frozen=True)
class DemoResult:
    """The figures of one client's run."""

    name: str
    requests: int
    succeeded: int
    hits: int
    elapsed: float


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
        async with RetryClient(retry_options=options) as client:
            hits, started = server.hits, time.perf_counter()
            ok = await _send_all(requests, lambda: client.get(url))
            results["RetryClient"] = DemoResult(
                "RetryClient", requests, ok, server.hits - hits, time.perf_counter() - started
            )
    finally:
        await runner.cleanup()
    return results


def main(requests: int = 300, seed: int = 7) -> None:
    """Run the demo and print the comparison."""
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # dropped connections are on purpose
    results = asyncio.run(run_demo(requests, seed))
    print(f"A local server fails about 30 % of requests; {requests} GETs, {CONCURRENCY} at a time.\n")
    print(f"{'client':<15}{'requests':>9}{'succeeded':>18}{'server hits':>13}{'elapsed':>10}")
    for result in results.values():
        share = f"{result.succeeded} ({result.succeeded / result.requests:.1%})"
        print(f"{result.name:<15}{result.requests:>9}{share:>18}{result.hits:>13}{result.elapsed:>9.2f}s")
    print(
        "\nRetryClient(retry_options=ExponentialRetry(attempts=4, start_timeout=0.01)) retried the 5xx answers"
        "\nand the dropped connections, waiting 10, 20, 40 ms between tries, within its retry budget."
        "\nClientSession's hits include aiohttp's own single resend of a GET whose connection dropped."
    )
