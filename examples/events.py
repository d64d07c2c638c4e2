"""Events and logging: watch every try, every wait and the reason a call gave up.

Run: python examples/events.py
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientSession, web
from local_server import serve

from aiohttp_retry import ExponentialRetry, GaveUp, RetryBudget, RetryClient, RetryScheduled, TryFinished


def show(event: object) -> None:
    """A listener: any callable taking one event."""
    if isinstance(event, TryFinished):
        outcome = event.status if event.error is None else type(event.error).__name__
        print(f"  try {event.attempt}: {outcome} after {event.duration * 1000:.1f} ms")
    elif isinstance(event, RetryScheduled):
        print(f"  retrying after {event.cause} in {event.delay:.2f} s")
    elif isinstance(event, GaveUp):
        print(f"  gave up after {event.tries} tries: {event.reason}")


async def main() -> None:
    answers = iter([503, 503, 200])

    async def flaky(_: web.Request) -> web.Response:
        return web.Response(status=next(answers, 200))

    async def down(_: web.Request) -> web.Response:
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/down", down)
    # The library's lines: INFO per retry, WARNING when a call gives up (secrets never appear).
    logging.basicConfig(level=logging.INFO, format="  log %(levelname)s %(message)s")
    options = ExponentialRetry(attempts=3, start_timeout=0.01)
    async with serve(app) as url, ClientSession() as session:
        client = RetryClient(session, retry_options=options, listeners=[show])
        print("a flaky endpoint:")
        async with client.get(f"{url}/flaky?token=s3cret") as response:
            print(f"  -> {response.status}")
        print("an endpoint that is down, with a retry budget of one retry per 10 s:")
        tight = RetryClient(session, retry_options=options, retry_budget=RetryBudget(0, 0.1), listeners=[show])
        async with tight.get(f"{url}/down") as response:
            print(f"  -> {response.status}")


if __name__ == "__main__":
    asyncio.run(main())
