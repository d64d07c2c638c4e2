"""In-process micro-benchmark: what one successful call costs in the engine and the adapters, no network.

``send`` returns a ready-made 200 response at once, so every nanosecond
measured beyond the baseline (a loop that awaits ``send`` itself) is spent in
aiohttp_retry: ``engine.execute``, ``RetryClient.get`` (with a fake session
as ``client._client``) and ``RetryMiddleware.__call__`` (with a fake request
and handler). Each figure is the best of ``--repeats`` timed loops of
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
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from yarl import URL

from aiohttp_retry import ExponentialRetry, RetryClient, RetryMiddleware
from aiohttp_retry.engine import execute, first_is_final, start_first_try

URL_TEXT = "http://127.0.0.1:8080/"
LOGGER = logging.getLogger("aiohttp_retry")


class RequestInfo:
    headers: Mapping[str, str] = {}


class ReadyResponse:
    """The attributes of ``ClientResponse`` that the success path may touch."""

    status = 200
    method = "GET"
    headers: Mapping[str, str] = {}
    request_info = RequestInfo()

    def release(self) -> None:
        pass


RESPONSE: Any = ReadyResponse()


async def send(_attempt: int, _budget: float | None) -> Any:
    return RESPONSE


def describe(_attempt: int) -> tuple[str, Mapping[str, Any] | None]:
    return "GET", None


class FakeSession:
    """Stands in for ``ClientSession``: ``request`` returns an awaitable of the ready response."""

    async def request(self, _method: str, _url: Any, **_kwargs: Any) -> Any:
        return RESPONSE


class FakeRequest:
    """The attributes of ``ClientRequest`` that ``RetryMiddleware`` reads."""

    method = "GET"
    headers: Mapping[str, str] = {}
    body = None
    url = URL(URL_TEXT)


async def handler(_request: Any) -> Any:
    return RESPONSE


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
    for _ in range(n):
        await send(1, None)


async def engine_calls(n: int) -> None:
    """The engine's part of a successful call, as the adapters run it: open the fast path, send, judge."""
    options = ExponentialRetry()
    for _ in range(n):
        attempts = start_first_try(options, LOGGER, "", None, None)
        response = await send(1, None)
        if not first_is_final(options, attempts, response.status):
            await execute(send, describe, options, logger=LOGGER, first=response, attempts=attempts)


async def loop_calls(n: int) -> None:
    """The full attempt loop for a successful call (what the fast path avoids)."""
    options = ExponentialRetry()
    for _ in range(n):
        await execute(send, describe, options, logger=LOGGER)


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
    async def run(n: int) -> None:
        request: Any = FakeRequest()
        for _ in range(n):
            await middleware(request, handler)

    return run


async def baseline_handler(n: int) -> None:
    request = FakeRequest()
    for _ in range(n):
        await handler(request)


async def measure(calls: int, repeats: int) -> dict[str, Any]:
    """Every figure, in ns per call, and the costs (figure minus its baseline)."""
    client, lean = RetryClient(), RetryClient(retry_budget=None)
    client._client = lean._client = FakeSession()  # noqa: SLF001 - requests go to the fake; close() closes the real one
    try:
        loops: dict[str, tuple[Loop, str]] = {
            "baseline: await send()": (baseline_send, "a coroutine returning the response"),
            "engine fast path": (engine_calls, "start_first_try, send, first_is_final; no budget"),
            "engine.execute, full loop": (loop_calls, "ExponentialRetry(), logger, no budget"),
            "baseline: await session.request()": (baseline_session, "fake session, release()"),
            "RetryClient async with get()": (client_loops(client)[0], "default client (with retry budget)"),
            "RetryClient await get()": (client_loops(client)[1], "default client, release()"),
            "RetryClient async with, no budget": (client_loops(lean)[0], "RetryClient(retry_budget=None)"),
            "baseline: await handler()": (baseline_handler, "fake middleware handler"),
            "RetryMiddleware()": (middleware_loop(RetryMiddleware()), "default middleware (with retry budget)"),
            "RetryMiddleware, no budget": (middleware_loop(RetryMiddleware(retry_budget=None)), "retry_budget=None"),
        }
        figures = {
            name: {"ns_per_call": await best_ns(loop, calls, repeats), "note": note}
            for name, (loop, note) in loops.items()
        }
    finally:
        await client.close()
        await lean.close()
    return {"calls": calls, "repeats": repeats, "figures": figures, "costs": costs_of(figures)}


def costs_of(figures: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each measured path minus the baseline it wraps."""
    pairs = {
        "engine fast path": "baseline: await send()",
        "engine.execute, full loop": "baseline: await send()",
        "RetryClient async with get()": "baseline: await session.request()",
        "RetryClient await get()": "baseline: await session.request()",
        "RetryClient async with, no budget": "baseline: await session.request()",
        "RetryMiddleware()": "baseline: await handler()",
        "RetryMiddleware, no budget": "baseline: await handler()",
    }
    return {name: figures[name]["ns_per_call"] - figures[base]["ns_per_call"] for name, base in pairs.items()}


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
