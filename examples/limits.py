"""Client-side limits: a rate limit with a deadline, a concurrency limit, and adaptive load shedding.

Run: python examples/limits.py
"""

from __future__ import annotations

import asyncio
import random
import time

from aiohttp import web
from local_server import serve

from aiohttp_retry import (
    AdaptiveThrottle,
    ConcurrencyLimiter,
    ExponentialRetry,
    RateLimitedError,
    RateLimiter,
    RetryClient,
    ThrottledError,
)


async def main() -> None:
    in_flight = most = 0
    overloaded = {"served": 0}

    async def slow(_: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return web.Response(text="ok")

    taken: dict[int, int] = {}

    async def busy(_: web.Request) -> web.Response:
        overloaded["served"] += 1
        tenth = int(time.monotonic() * 10)  # the server takes 2 requests per 100 ms, 20 a second, and no more
        taken[tenth] = taken.get(tenth, 0) + 1
        return web.Response(status=200 if taken[tenth] <= 2 else 503)

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/busy", busy)
    async with serve(app) as url:
        # 5 tries per second at most; a call may wait 1.5 s for its start, no longer.
        limiter = RateLimiter(per_origin="5/s")
        options = ExponentialRetry(attempts=1, total_timeout=1.5)
        async with RetryClient(rate_limiter=limiter, retry_options=options) as client:
            started = time.perf_counter()

            async def one() -> str:
                try:
                    async with client.get(f"{url}/slow") as response:
                        return str(response.status)
                except RateLimitedError:
                    return "rate limited"

            results = await asyncio.gather(*(one() for _ in range(12)))
            took = time.perf_counter() - started
            print(f"rate limit 5/s, 12 callers, 1.5 s deadline: {results.count('200')} served in {took:.1f} s, "
                  f"{results.count('rate limited')} refused at once")  # fmt: skip

        # At most 3 requests in flight, however many callers.
        most = 0
        async with RetryClient(concurrency_limiter=ConcurrencyLimiter(per_origin=3)) as client:

            async def fetch() -> None:
                async with client.get(f"{url}/slow") as response:
                    await response.read()

            await asyncio.gather(*(fetch() for _ in range(20)))
        print(f"concurrency limit 3, 20 callers: at most {most} requests in flight at the server")

        # The server takes 20 requests a second; the client wants 100. The throttle sheds on the client
        # so that the server sees about twice (k) what it can take, not five times.
        throttle = AdaptiveThrottle(k=2.0, rng=random.Random(1))
        async with RetryClient(throttle=throttle, retry_options=ExponentialRetry(attempts=1)) as client:
            shed = 0
            for _ in range(300):
                try:
                    async with client.get(f"{url}/busy"):
                        pass
                except ThrottledError:
                    shed += 1
                await asyncio.sleep(0.01)
        accepted = sum(min(count, 2) for count in taken.values())
        print(f"adaptive throttle: of 300 calls {shed} were shed on the client; "
              f"the server saw {overloaded['served']} and took {accepted}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
