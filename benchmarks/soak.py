"""Soak test: a million requests with failures through one RetryClient; does memory or the pool leak?

A raw asyncio server in another process (``benchmarks/http_server.py --mode
mix``, pinned to one core) answers about 90 % of requests with 200, 8 % with
503 and drops about 2 % of connections without answering. This process
(pinned to another core) sends the requests from ``--concurrency`` tasks
through one ``RetryClient(retry_options=ExponentialRetry(attempts=3,
start_timeout=0))``, reads every body, and prints the RSS after warm-up and at
the end, the growth, the connections still acquired in the connector (must be
0) and how the calls ended. Informative: it exits non-zero only if connections
leaked or no request succeeded, never because of a timing.

Run: python -m benchmarks.soak [--requests 1000000] [--concurrency 32] [--quick] [--bare]
(``--bare``: the same run with a plain ClientSession, to tell aiohttp's own RSS drift from ours.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from aiohttp_retry import ExponentialRetry, RetryClient
from benchmarks.servers import free_port, pick_cores, python_server_command, server_process
from benchmarks.worker import rss_kb


@dataclass
class Progress:
    """What the soak observed while running."""

    total: int
    warm_at: int
    outcomes: Counter[str] = field(default_factory=Counter)
    rss_warm_kb: int = 0
    started: float = field(default_factory=time.perf_counter)
    last_index: int = 0
    last_time: float = 0.0

    def tick(self, index: int) -> None:
        """Take the warm-up RSS at ``warm_at`` and print a line every tenth of the run."""
        if index == self.warm_at:
            gc.collect()
            self.rss_warm_kb = rss_kb()
        step = max(1, self.total // 10)
        if index and index % step == 0:
            now = time.perf_counter()
            rate = (index - self.last_index) / (now - (self.last_time or self.started))
            self.last_index, self.last_time = index, now
            print(f"  {index:>9,} requests  {rate:7,.0f}/s lately  RSS {rss_kb() / 1024:6.1f} MB", flush=True)


async def one_call(client: RetryClient | aiohttp.ClientSession, url: str, progress: Progress) -> None:
    """One request through the client; its outcome is counted by status or exception type."""
    try:
        async with client.get(url) as response:
            await response.read()
            progress.outcomes[str(response.status)] += 1
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        progress.outcomes[type(exc).__name__] += 1


def make_client(*, bare: bool) -> RetryClient | aiohttp.ClientSession:
    """The client under test, or with ``bare`` a plain ``ClientSession`` as the control (no retries)."""
    if bare:
        return aiohttp.ClientSession()
    return RetryClient(retry_options=ExponentialRetry(attempts=3, start_timeout=0))


async def soak(url: str, total: int, concurrency: int, warm_fraction: float, *, bare: bool) -> dict[str, Any]:
    """Run the requests; return the figures."""
    progress = Progress(total, int(total * warm_fraction))
    async with make_client(bare=bare) as client:
        tickets = iter(range(total))

        async def task() -> None:
            for index in tickets:
                progress.tick(index)
                await one_call(client, url, progress)

        await asyncio.gather(*(task() for _ in range(concurrency)))
        session = client if isinstance(client, aiohttp.ClientSession) else client._client  # noqa: SLF001
        connector = session.connector
        acquired = len(connector._acquired)  # noqa: SLF001 - the pool's in-use set: what a leak fills
        idle = sum(len(conns) for conns in connector._conns.values())  # noqa: SLF001
        seconds = time.perf_counter() - progress.started
        gc.collect()
        rss_end = rss_kb()
    return {
        "client": "ClientSession (control)" if bare else "RetryClient",
        "requests": total,
        "concurrency": concurrency,
        "seconds": seconds,
        "requests_per_second": total / seconds,
        "rss_after_warmup_mb": progress.rss_warm_kb / 1024,
        "rss_end_mb": rss_end / 1024,
        "rss_growth_mb": (rss_end - progress.rss_warm_kb) / 1024,
        "acquired_connections_at_end": acquired,
        "idle_connections_at_end": idle,
        "outcomes": dict(progress.outcomes.most_common()),
    }


def print_result(result: dict[str, Any]) -> None:
    print(f"\n{result['client']}: {result['requests']:,} requests, concurrency {result['concurrency']}, ", end="")
    print(f"{result['seconds']:.0f} s ({result['requests_per_second']:,.0f}/s)")
    print(f"RSS after warm-up  {result['rss_after_warmup_mb']:8.1f} MB")
    print(f"RSS at the end     {result['rss_end_mb']:8.1f} MB")
    print(f"RSS growth         {result['rss_growth_mb']:+8.1f} MB")
    print(f"acquired connections at the end: {result['acquired_connections_at_end']} (idle in pool: ", end="")
    print(f"{result['idle_connections_at_end']})")
    print(result.get("server") or "server: no tally")
    print("outcomes: " + ", ".join(f"{name}: {count:,}" for name, count in result["outcomes"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="a long run with failures: RSS growth and leaked connections")
    parser.add_argument("--requests", type=int, help="calls to make (default 1000000; --quick 20000)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="20,000 requests")
    parser.add_argument("--warmup", type=float, default=0.05, help="fraction of the calls before the first RSS")
    parser.add_argument("--seed", type=int, default=1, help="the server's random seed")
    parser.add_argument("--bare", action="store_true", help="control run: a plain ClientSession, no retries")
    args = parser.parse_args(argv)
    total = args.requests or (20_000 if args.quick else 1_000_000)
    cores = pick_cores()
    port = free_port()
    os.sched_setaffinity(0, {cores.client})
    print(f"soak: {total:,} requests to a 90/8/2 % (200/503/drop) server on core {cores.server}", flush=True)
    with tempfile.TemporaryDirectory(prefix="aiohttp-retry-soak-") as tmp:
        log = Path(tmp) / "server.log"
        with server_process(python_server_command(port, "mix", args.seed), port, cores.server, log):
            result = asyncio.run(
                soak(f"http://127.0.0.1:{port}/", total, args.concurrency, args.warmup, bare=args.bare)
            )
        result["server"] = log.read_text(errors="replace").strip()
    print_result(result)
    ok = result["acquired_connections_at_end"] == 0 and result["outcomes"].get("200", 0) > 0
    if not ok:
        print("FAILED: connections still acquired at the end, or no request succeeded", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
