"""A report: what 50 calls did, per endpoint, as an aligned table.

Run: python examples/report.py

A local server answers ``/users/{id}`` and sometimes fails with 503 first;
``/orders/{id}`` is slower, and ``/flaky`` fails 70 % of the time. A
``Report`` attached to the client as a listener sums up every call: success
ratio, tries per call, retries, why calls gave up, and latency percentiles.
"""

from __future__ import annotations

import asyncio
import itertools
import random

from aiohttp import ClientSession, web
from local_server import serve

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.report import Report


def make_app(rng: random.Random) -> web.Application:
    async def user(_: web.Request) -> web.Response:
        await asyncio.sleep(rng.uniform(0.001, 0.005))
        return web.Response(status=503 if rng.random() < 0.2 else 200, text="user")

    async def order(_: web.Request) -> web.Response:
        await asyncio.sleep(rng.uniform(0.010, 0.030))
        return web.Response(text="order")

    async def flaky(_: web.Request) -> web.Response:
        return web.Response(status=503 if rng.random() < 0.7 else 200)

    app = web.Application()
    app.router.add_get("/users/{id}", user)
    app.router.add_get("/orders/{id}", order)
    app.router.add_get("/flaky", flaky)
    return app


async def main() -> None:
    rng = random.Random(3)
    # "/orders/{id}" names its row by the template; other URLs are named by their folded path.
    report = Report(routes=["/orders/{id}"])
    options = ExponentialRetry(attempts=3, start_timeout=0.01)
    paths = itertools.cycle(["/users/{n}", "/users/{n}?token=not-shown", "/orders/{n}", "/flaky"])
    async with serve(make_app(rng)) as url, ClientSession() as session:
        client = RetryClient(session, retry_options=options, listeners=[report])
        for n, path in zip(range(50), paths, strict=False):
            async with client.get(url + path.format(n=n)) as response:
                await response.read()
    print(report)


if __name__ == "__main__":
    asyncio.run(main())
