"""Scenario: do calls keep their total budget against a slow, failing server?

1,000 calls, each with total_timeout=0.3 s and up to 10 tries, against a
server in another process that answers 503 after a random 0-200 ms. Prints
how far past its budget each call ran (the target: never more than 20 ms)
and how the calls ended.

Run: python benchmarks/deadline_scenario.py [--calls 1000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter

from aiohttp import ClientSession, web
from scenario_support import serve_or_run, wait_until_listening

from aiohttp_retry import ExponentialRetry, RetryClient

BUDGET = 0.3


def serve(port: int, seed: int) -> None:
    rng = random.Random(seed)

    async def slow_failure(_: web.Request) -> web.Response:
        await asyncio.sleep(rng.uniform(0, 0.2))
        return web.Response(status=503, text="unavailable")

    app = web.Application()
    app.router.add_get("/", slow_failure)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def run(calls: int, concurrency: int, port: int) -> None:
    await wait_until_listening(port)
    options = ExponentialRetry(attempts=10, start_timeout=0.02, total_timeout=BUDGET)
    url = f"http://127.0.0.1:{port}/"
    overruns: list[float] = []
    outcomes: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)
    async with ClientSession() as session:
        # No retry budget: here the deadline alone must stop every call.
        client = RetryClient(client_session=session, retry_options=options, retry_budget=None)

        async def one_call() -> None:
            async with gate:
                started = time.perf_counter()
                try:
                    async with client.get(url) as response:
                        outcomes[str(response.status)] += 1
                except TimeoutError:
                    outcomes["TimeoutError"] += 1
                overruns.append(time.perf_counter() - started - BUDGET)

        wall = time.perf_counter()
        await asyncio.gather(*(one_call() for _ in range(calls)))
        wall = time.perf_counter() - wall
    ms = sorted(o * 1000 for o in overruns)
    print(f"calls: {calls}, concurrency: {concurrency}, budget: {BUDGET * 1000:.0f} ms, wall: {wall:.1f} s")
    print(f"outcomes: {dict(outcomes)}")
    print(
        "time past the budget (ms, negative = ended early): "
        f"median {statistics.median(ms):.1f}, p99 {ms[int(len(ms) * 0.99) - 1]:.1f}, max {ms[-1]:.1f}"
    )
    late = sum(1 for o in ms if o > 20)
    print(f"calls more than 20 ms past their budget: {late} of {calls}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    serve_or_run(__file__, args, serve, lambda port: run(args.calls, args.concurrency, port))


if __name__ == "__main__":
    main()
