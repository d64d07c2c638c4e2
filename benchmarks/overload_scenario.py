"""Scenarios for the overload protections: retry budget under outage and flakiness, hedging on a slow tail.

A server in another process offers three routes:
  /outage  always 503 (a full outage)
  /flaky   503 for 10 % of requests, else 200
  /tail    200 after ~0 ms, but 200 ms late for 5 % of requests
and counts its hits. The client side measures:
  1. amplification (server hits / calls) into the outage, with the default
     retry budget and without any (5,000 calls, 8 at a time, 10 ms backoff,
     attempts=4);
  2. the success rate against /flaky with the budget on;
  3. p99 latency against /tail unhedged and hedged, the share of extra
     requests hedging costs, and the connections left acquired.

Run: python benchmarks/overload_scenario.py [--calls 5000] [--tail-calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from aiohttp import ClientSession, TCPConnector, web
from scenario_support import serve_or_run, wait_until_listening

from aiohttp_retry import ExponentialRetry, Hedging, RetryClient

CONCURRENCY = 8


def serve(port: int, seed: int) -> None:
    rng = random.Random(seed)
    hits = {"outage": 0, "flaky": 0, "tail": 0}

    async def outage(_: web.Request) -> web.Response:
        hits["outage"] += 1
        return web.Response(status=503)

    async def flaky(_: web.Request) -> web.Response:
        hits["flaky"] += 1
        return web.Response(status=503 if rng.random() < 0.1 else 200)

    async def tail(_: web.Request) -> web.Response:
        hits["tail"] += 1
        if rng.random() < 0.05:
            await asyncio.sleep(0.2)
        return web.Response(text="ok")

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(hits)

    app = web.Application()
    for name, handler in (("outage", outage), ("flaky", flaky), ("tail", tail), ("stats", stats)):
        app.router.add_get(f"/{name}", handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def hits_of(session: ClientSession, base: str, route: str) -> int:
    async with session.get(f"{base}/stats") as response:
        return int((await response.json())[route])


async def run_calls(calls: int, one_call: Callable[[], Awaitable[float | None]]) -> list[float | None]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated() -> float | None:
        async with gate:
            return await one_call()

    return await asyncio.gather(*(gated() for _ in range(calls)))


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(int(len(ordered) * 0.99) - 1, 0)]


async def amplification(base: str, calls: int, *, budget: bool) -> tuple[float, float]:
    """Hits per call and success rate on /outage or /flaky with or without the default budget."""
    options = ExponentialRetry(attempts=4, start_timeout=0.01, factor=1)
    async with ClientSession() as session:
        client = RetryClient(
            client_session=session, retry_options=options, **({} if budget else {"retry_budget": None})
        )
        results: dict[str, tuple[float, float]] = {}
        for route in ("outage", "flaky"):
            before = await hits_of(session, base, route)

            async def one_call(route: str = route) -> float | None:
                async with client.get(f"{base}/{route}") as response:
                    await response.read()
                    return 1.0 if response.status == 200 else None

            outcomes = await run_calls(calls, one_call)
            hits = await hits_of(session, base, route) - before
            results[route] = (hits / calls, sum(1 for o in outcomes if o) / calls)
    return results["outage"][0], results["flaky"][1]


async def tail_latency(base: str, calls: int, hedging: Hedging | None) -> tuple[float, float, int]:
    """p99 latency, hits per call, and connections left acquired on /tail."""
    options = ExponentialRetry(attempts=2, start_timeout=0.01, hedging=hedging)
    connector = TCPConnector(limit=100)
    async with ClientSession(connector=connector) as session:
        client = RetryClient(client_session=session, retry_options=options)
        before = await hits_of(session, base, "tail")

        async def one_call() -> float | None:
            started = time.perf_counter()
            async with client.get(f"{base}/tail") as response:
                await response.read()
            return time.perf_counter() - started

        latencies = [x for x in await run_calls(calls, one_call) if x is not None]
        hits = await hits_of(session, base, "tail") - before
        acquired = len(connector._acquired)  # noqa: SLF001 - the leak check reads aiohttp's own bookkeeping
    return p99(latencies), hits / calls, acquired


async def run(port: int, calls: int, tail_calls: int) -> None:
    await wait_until_listening(port)
    base = f"http://127.0.0.1:{port}"
    with_budget = await amplification(base, calls, budget=True)
    without = await amplification(base, calls, budget=False)
    print(f"1. full outage, {calls} calls, {CONCURRENCY} at a time, attempts=4, 10 ms backoff:")
    print(f"   amplification (server hits / calls): default budget {with_budget[0]:.3f}, no budget {without[0]:.3f}")
    print(f"2. 10 % of answers 503: success with the default budget {with_budget[1]:.2%} (no budget {without[1]:.2%})")
    plain = await tail_latency(base, tail_calls, None)
    print(f"3. slow tail, {tail_calls} calls: unhedged p99 {plain[0] * 1000:.1f} ms, {plain[1]:.3f} hits/call")
    for hedging in (Hedging(delay=0.01), Hedging(delay=0.02, percentile=0.9, min_samples=50)):
        hedged = await tail_latency(base, tail_calls, hedging)
        print(
            f"   {hedging!r}: p99 {hedged[0] * 1000:.1f} ms ({hedged[0] / plain[0]:.3f} x unhedged), "
            f"extra requests {hedged[1] - 1:.1%}, connections left acquired {hedged[2]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--tail-calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    serve_or_run(__file__, args, serve, lambda port: run(port, args.calls, args.tail_calls))


if __name__ == "__main__":
    main()
