"""Overload protection: a retry budget in an outage, a circuit breaker, and hedging on a slow tail.

Run: python examples/overload.py
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from local_server import serve

from aiohttp_retry import (
    BreakerStateChange,
    CircuitBreaker,
    CircuitOpenError,
    ExponentialRetry,
    Hedging,
    RetryBudget,
    RetryClient,
)


async def main() -> None:
    hits = {"down": 0, "slow": 0}

    async def down(_: web.Request) -> web.Response:
        hits["down"] += 1
        return web.Response(status=503)

    async def slow(_: web.Request) -> web.Response:
        hits["slow"] += 1
        if hits["slow"] % 2:  # every other answer is late
            await asyncio.sleep(0.5)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/down", down)
    app.router.add_get("/slow", slow)
    async with serve(app) as url:
        options = ExponentialRetry(attempts=4, start_timeout=0)
        budget = RetryBudget(ratio=0.2, min_per_second=1)
        async with RetryClient(retry_options=options, retry_budget=budget) as client:
            for _ in range(100):
                async with client.get(f"{url}/down"):
                    pass
        print(f"retry budget: 100 calls into an outage cost {hits['down']} requests, not 400")

        breaker = CircuitBreaker(minimum_throughput=5, break_duration=30)

        def show_breaker(event: object) -> None:
            if isinstance(event, BreakerStateChange):
                print(f"circuit breaker event: {event.key} {event.old} -> {event.new}")

        options = ExponentialRetry(attempts=1)
        async with RetryClient(retry_options=options, circuit_breaker=breaker, listeners=[show_breaker]) as client:
            for _ in range(5):
                async with client.get(f"{url}/down"):
                    pass
            try:
                await client.get(f"{url}/down")
            except CircuitOpenError as exc:
                print(f"circuit breaker: {exc}")

        hedged = ExponentialRetry(attempts=2, hedging=Hedging(delay=0.05))
        async with RetryClient(retry_options=hedged) as client:
            started = time.monotonic()
            async with client.get(f"{url}/slow") as response:
                print(f"hedging: {await response.text()} in {time.monotonic() - started:.2f} s, not 0.5 s")


if __name__ == "__main__":
    asyncio.run(main())
