"""Deadlines: a total budget per call, a limit per try, and a budget passed from service to service.

The front service gets X-Request-Timeout: 0.8 from its caller. Its handler calls a
slow, failing back end with up to 10 tries; the inherited deadline stops the retries
in time, and each try tells the back end how long it has (propagate_timeout).

Run: python examples/deadlines.py
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import ClientSession, web
from local_server import serve

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.server import current_deadline, deadline_middleware


async def main() -> None:
    async def backend(request: web.Request) -> web.Response:
        print(f"  back end: a try; X-Request-Timeout: {request.headers.get('X-Request-Timeout', '(none sent)')}")
        await asyncio.sleep(0.1)
        return web.Response(status=503)

    back = web.Application()
    back.router.add_get("/", backend)

    async with serve(back) as back_url:

        async def front_handler(_: web.Request) -> web.Response:
            print(f"front: {current_deadline():.2f} s to answer")
            options = ExponentialRetry(attempts=10, start_timeout=0.1, propagate_timeout=True)
            async with RetryClient(retry_options=options) as client, client.get(back_url) as response:
                return web.Response(text=f"back end said {response.status}")

        front = web.Application(middlewares=[deadline_middleware])
        front.router.add_get("/", front_handler)
        async with serve(front) as front_url, ClientSession() as session:
            started = time.monotonic()
            async with session.get(front_url, headers={"X-Request-Timeout": "0.8"}) as response:
                text = await response.text()
            print(f"front answered {text!r} in {time.monotonic() - started:.2f} s (budget 0.8 s)")

            # The same limits without a server: 0.3 s per try, 1 s for the whole call.
            options = ExponentialRetry(attempts=10, attempt_timeout=0.3, total_timeout=1.0)
            started = time.monotonic()
            async with RetryClient(retry_options=options) as client, client.get(back_url) as response:
                print(f"direct call: {response.status} after {time.monotonic() - started:.2f} s (total_timeout 1 s)")


if __name__ == "__main__":
    asyncio.run(main())
