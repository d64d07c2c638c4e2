"""RetryMiddleware: retries inside your own ClientSession, through aiohttp's client middlewares.

Run: python examples/middleware.py
"""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession, web
from local_server import serve

from aiohttp_retry import ExponentialRetry, FullJitterRetry, RetryMiddleware


async def main() -> None:
    hits = 0

    async def flaky(_: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=503 if hits % 3 else 200, text=f"hit {hits}")

    app = web.Application()
    app.router.add_route("*", "/", flaky)
    retry = RetryMiddleware(FullJitterRetry(attempts=4, start_timeout=0.05))
    async with serve(app) as url, ClientSession(middlewares=[retry]) as session:
        async with session.get(url) as response:
            print(f"GET: {response.status} ({await response.text()})")
        # FullJitterRetry leaves POST alone unless it carries an Idempotency-Key...
        async with session.post(url, data=b"order") as response:
            print(f"POST: {response.status}, sent once")
        async with session.post(url, data=b"order", headers={"Idempotency-Key": "order-17"}) as response:
            print(f"POST with Idempotency-Key: {response.status} ({await response.text()})")
        # ...and options for one call go in a middleware for that call.
        one_off = RetryMiddleware(ExponentialRetry(attempts=2, start_timeout=0))
        async with session.get(url, middlewares=(one_off,)) as response:
            print(f"GET with its own options: {response.status} ({await response.text()})")


if __name__ == "__main__":
    asyncio.run(main())
