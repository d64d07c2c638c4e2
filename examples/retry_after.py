"""Retry-After: the server says when to come back, and the client listens (up to a cap).

Run: python examples/retry_after.py
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from local_server import serve

from aiohttp_retry import ExponentialRetry, RetryAfter, RetryClient


async def main() -> None:
    hits: list[float] = []

    async def limited(_: web.Request) -> web.Response:
        hits.append(time.monotonic())
        if len(hits) == 1:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        return web.Response(text="ok")

    async def closed(_: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "3600"}, text="maintenance")

    app = web.Application()
    app.router.add_get("/limited", limited)
    app.router.add_get("/closed", closed)
    # 429 is not retried by default: list it. Retry-After is honoured for 429 and 503, up to max_wait.
    options = ExponentialRetry(attempts=3, statuses={429}, retry_after=RetryAfter(max_wait=10))
    async with serve(app) as url, RetryClient(retry_options=options) as client:
        async with client.get(f"{url}/limited") as response:
            print(f"/limited: {response.status} after waiting {hits[1] - hits[0]:.1f} s as the server asked")
        started = time.monotonic()
        async with client.get(f"{url}/closed") as response:
            waited = time.monotonic() - started
            print(f"/closed: {response.status} returned at once ({waited:.2f} s): an hour is past the 10 s cap")


if __name__ == "__main__":
    asyncio.run(main())
