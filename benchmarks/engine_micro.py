"""In-process micro-benchmark: what one successful call costs in the engine and the adapters, no network.

A fake exchange's ``send`` returns a ready-made 200 response at once, so every
nanosecond measured beyond the baseline (a loop that awaits ``send`` itself)
is spent in aiohttp_retry: ``engine.run`` (its fast path, and the sequential
loop that a plan with a response callback goes through), ``RetryClient.get``
(with a fake session as ``client._client``) and ``RetryMiddleware.__call__``
(with a fake request and handler), each also with a no-op listener and with a
circuit breaker and a total deadline. Each figure is the best of ``--repeats`` timed loops of
``--calls`` calls, timed in CPU time of this process (so that other load on the
machine inflates it less than wall time), with the garbage collector off during
the loop, as timeit does.

Run: python -m benchmarks.engine_micro [--calls 200000] [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from yarl import URL

from aiohttp_retry import (
    CircuitBreaker,
    ExponentialRetry,
    FullJitterRetry,
    RetryClient,
    RetryMiddleware,
    RetryOptionsBase,
)
from aiohttp_retry.aiohttp_codec import AIOHTTP_CODEC
from aiohttp_retry.engine import plan_of, run
from aiohttp_retry.events import Listeners

URL_TEXT = "http://127.0.0.1:8080/"
NO_LISTENERS = Listeners(users=(), log=None)


class ReadyResponse:
    """The attributes of ``ClientResponse`` that the success path may touch."""

    status = 200
    method = "GET"
    headers: Mapping[str, str] = {}
    content_length = 2

    def release(self) -> None:
        pass


RESPONSE: Any = ReadyResponse()


async def ready() -> Any:
    return RESPONSE


class ReadyExchange:
    """The engine's view of one call whose every try returns the ready response at once."""

    __slots__ = ("response",)
    codec = AIOHTTP_CODEC
    method = "GET"
    url = URL_TEXT
    hedgeable = False
    finish = None
    response: Any

    def send(self, _attempt: int, _time_left: float | None) -> Awaitable[Any]:
        return ready()

    def describe(self, _attempt: int) -> tuple[str, Any, Mapping[str, Any] | None]:
        return "GET", URL_TEXT, None

    def resend_refusal(self, _attempt: int) -> str | None:
        return None


class FakeSession:
    """Stands in for ``ClientSession``: ``request`` returns an awaitable of the ready response."""

    timeout = aiohttp.ClientTimeout()
    headers: Mapping[str, str] = {}

    async def request(self, _method: str, _url: Any, **_kwargs: Any) -> Any:
        return RESPONSE


class FakeRequest:
    """The attributes of ``ClientRequest`` that ``RetryMiddleware`` reads."""

    method = "GET"
    body = None
    url = URL(URL_TEXT)

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


async def handler(_request: Any) -> Any:
    return RESPONSE


def no_op_listener(_event: object) -> None:
    pass


Loop = Callable[[int], Awaitable[None]]


async def best_ns(loop: Loop, calls: int, repeats: int) -> float:
    """The fastest of ``repeats`` runs of ``loop(calls)``, in ns per call."""
    await loop(min(calls, 10_000))  # warm-up: caches, lazy imports
    best = float("inf")
    for _ in range(repeats):
        gc.disable()
        try:
            start = time.process_time_ns()
            await loop(calls)
            best = min(best, (time.process_time_ns() - start) / calls)
        finally:
            gc.enable()
    return best


async def baseline_send(n: int) -> None:
    send = ReadyExchange().send
    for _ in range(n):
        await send(1, None)


def engine_loop(options: RetryOptionsBase) -> Loop:
    """``await run(plan, exchange, "", None, None, listeners)``: no key, budget, breaker or listener.

    One exchange serves every call (``run`` only sets its ``response``), so
    that the figure is the engine's alone, as ``await send()`` is the baseline's.
    """
    plan = plan_of(options)
    exchange = ReadyExchange()

    async def calls(n: int) -> None:
        for _ in range(n):
            await run(plan, exchange, "", None, None, NO_LISTENERS)

    return calls


def client_loops(client: RetryClient) -> tuple[Loop, Loop]:
    """``async with client.get(url)`` and ``await client.get(url)`` loops over ``client``."""

    async def with_block(n: int) -> None:
        get = client.get
        for _ in range(n):
            async with get(URL_TEXT):
                pass

    async def awaited(n: int) -> None:
        get = client.get
        for _ in range(n):
            (await get(URL_TEXT)).release()

    return with_block, awaited


async def baseline_session(n: int) -> None:
    request = FakeSession().request
    for _ in range(n):
        (await request("GET", URL_TEXT)).release()


def middleware_loop(middleware: RetryMiddleware) -> Loop:
    async def calls(n: int) -> None:
        request: Any = FakeRequest()
        for _ in range(n):
            await middleware(request, handler)

    return calls


async def baseline_handler(n: int) -> None:
    request = FakeRequest()
    for _ in range(n):
        await handler(request)


async def measure(calls: int, repeats: int) -> dict[str, Any]:
    """Every figure, in ns per call, and the costs (figure minus its baseline)."""
    client, lean = RetryClient(), RetryClient(retry_budget=None)
    listened = RetryClient(listeners=[no_op_listener])
    protected = RetryClient(circuit_breaker=CircuitBreaker(), retry_options=ExponentialRetry(total_timeout=30.0))
    clients = (client, lean, listened, protected)
    for each in clients:
        each._client = FakeSession()  # noqa: SLF001 - requests go to the fake; close() closes the real one
    protected_middleware = RetryMiddleware(FullJitterRetry(total_timeout=30.0), circuit_breaker=CircuitBreaker())
    try:
        loops: dict[str, tuple[Loop, str]] = {
            "baseline: await send()": (baseline_send, "a coroutine returning the response"),
            "engine fast path": (engine_loop(ExponentialRetry()), "engine.run, ExponentialRetry(); no budget"),
            "engine slow path": (
                engine_loop(ExponentialRetry(evaluate_response_callback=lambda _r: True)),
                "a response callback: the sequential loop judges try 1",
            ),
            "baseline: await session.request()": (baseline_session, "fake session, release()"),
            "RetryClient async with get()": (client_loops(client)[0], "default client (with retry budget)"),
            "RetryClient await get()": (client_loops(client)[1], "default client, release()"),
            "RetryClient async with, no budget": (client_loops(lean)[0], "RetryClient(retry_budget=None)"),
            "RetryClient async with, listener": (client_loops(listened)[0], "listeners=[a no-op function]"),
            "RetryClient async with, protected": (
                client_loops(protected)[0],
                "CircuitBreaker(), ExponentialRetry(total_timeout=30)",
            ),
            "baseline: await handler()": (baseline_handler, "fake middleware handler"),
            "RetryMiddleware()": (middleware_loop(RetryMiddleware()), "default middleware (with retry budget)"),
            "RetryMiddleware, no budget": (middleware_loop(RetryMiddleware(retry_budget=None)), "retry_budget=None"),
            "RetryMiddleware, listener": (
                middleware_loop(RetryMiddleware(listeners=[no_op_listener])),
                "listeners=[a no-op function]",
            ),
            "RetryMiddleware, protected": (
                middleware_loop(protected_middleware),
                "CircuitBreaker(), FullJitterRetry(total_timeout=30)",
            ),
        }
        figures = {
            name: {"ns_per_call": await best_ns(loop, calls, repeats), "note": note}
            for name, (loop, note) in loops.items()
        }
    finally:
        for each in clients:
            await each.close()
    return {"calls": calls, "repeats": repeats, "figures": figures, "costs": costs_of(figures)}


def costs_of(figures: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each measured path minus the baseline it wraps: the nearest ``baseline:`` figure listed before it."""
    costs: dict[str, float] = {}
    base = 0.0
    for name, figure in figures.items():
        if name.startswith("baseline:"):
            base = figure["ns_per_call"]
        else:
            costs[name] = figure["ns_per_call"] - base
    return costs


def print_report(result: dict[str, Any]) -> None:
    from benchmarks.report import micro_table, table  # noqa: PLC0415 - keeps --json output free of extra imports

    print(f"best of {result['repeats']} loops of {result['calls']:,} calls; Python {sys.version.split()[0]}")
    print(micro_table(result))
    print()
    print(table(["cost over its baseline", "ns/call"], [[k, f"{v:.0f}"] for k, v in result["costs"].items()]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ns per successful call in the engine and the adapters")
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line only")
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.calls, args.repeats))
    if args.json:
        print(json.dumps(result))
    else:
        print_report(result)


if __name__ == "__main__":
    main()
