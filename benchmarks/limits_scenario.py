"""Scenario: the client-side limits (rate limit, concurrency limit, adaptive throttle) as a server sees them.

A server in another process on 127.0.0.1 offers three routes and records, with
time.monotonic(), when each request arrived:
  /rate      200 at once
  /conc      20 ms of work, then 503 for a caller's first try and 200 after;
             it counts the requests it has in flight
  /capacity  takes 2 requests per 100 ms (20 a second) and answers 503 to the rest
The client side measures:
  1. RateLimiter(per_origin="10/s"), 50 callers each calling in a loop for 5 s
     (calls still waiting for their start at the end are cancelled): requests
     that reached the server, the most arrivals in any window [t, t+1), how
     the arrivals spread, and the same counted at the client (TryStarted);
     then the same with ExponentialRetry(attempts=1, total_timeout=0.3) per
     call: how many calls were refused with RateLimitedError, how long a
     refused call took (a refusal never yields to the event loop, so a refused
     caller yields once before its next call), and how the calls that were
     admitted to wait for a start ended and how much of their deadline was left;
  2. ConcurrencyLimiter(per_origin=3), 20 callers against /conc with
     ExponentialRetry(attempts=3, start_timeout=0.05): the most requests the
     server had in flight at once, and the requests it saw;
  3. AdaptiveThrottle(k=2.0, window=120) in a simulation on the policy object
     alone (no network, no sleeping): demand 100 requests/s, a server that
     takes 20/s for 30 s and then everything until 180 s; then, in real time,
     100 calls/s for 3 s through RetryClient against /capacity.
--quick shortens the real-time phases to 2 s, 2 s and 1.5 s (about 6 s in all;
the default run takes about 15 s).

Figures are printed with what is expected beside them; nothing fails on a figure.

Run: python benchmarks/limits_scenario.py [--quick] [--json PATH] [--seed 1]
     python -m benchmarks.limits_scenario [...]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from aiohttp_retry import (
    AdaptiveThrottle,
    ConcurrencyLimiter,
    ExponentialRetry,
    RateLimitedError,
    RateLimiter,
    RetryClient,
    ThrottledError,
)
from aiohttp_retry.events import TryStarted

if __package__:
    from benchmarks.report import table
    from benchmarks.scenario_support import serve_or_run, wait_until_listening
else:  # run as a script: this directory is on sys.path, the benchmarks package may not be
    from report import table
    from scenario_support import serve_or_run, wait_until_listening

RATE, RATE_CALLERS, DEADLINE = 10, 50, 0.3
SLOTS, SLOT_CALLERS, WORK = 3, 20, 0.02
K, WINDOW, DEMAND, CAPACITY = 2.0, 120.0, 100, 20
HEAL_AT, SIM_END = 30, 180
#: (rate phase seconds, deadline phase seconds, real-time throttle seconds): default and --quick
DURATIONS = {False: (5.0, 5.0, 3.0), True: (2.0, 2.0, 1.5)}


def serve(port: int, _seed: int) -> None:
    arrivals: dict[str, list[Any]] = {"rate": [], "conc": [], "capacity": []}
    state = {"in_flight": 0, "most": 0}
    tries: Counter[str] = Counter()
    taken: Counter[int] = Counter()

    async def rate(request: web.Request) -> web.Response:
        arrivals["rate"].append((time.monotonic(), request.query.get("id", "")))
        return web.Response(text="ok")

    async def conc(request: web.Request) -> web.Response:
        arrivals["conc"].append(time.monotonic())
        state["in_flight"] += 1
        state["most"] = max(state["most"], state["in_flight"])
        try:
            await asyncio.sleep(WORK)
        finally:
            state["in_flight"] -= 1
        caller = request.query.get("caller", "")
        tries[caller] += 1
        return web.Response(status=503 if tries[caller] == 1 else 200)

    async def capacity(_: web.Request) -> web.Response:
        now = time.monotonic()
        slot = int(now * 10)  # 2 per 100 ms: 20 a second, spread over the second
        taken[slot] += 1
        accepted = taken[slot] <= CAPACITY // 10
        arrivals["capacity"].append((now, accepted))
        return web.Response(status=200 if accepted else 503)

    async def stats(_: web.Request) -> web.Response:
        return web.json_response({"arrivals": arrivals, **state})

    async def reset(_: web.Request) -> web.Response:
        for kept in arrivals.values():
            kept.clear()
        state.update(in_flight=0, most=0)
        tries.clear()
        taken.clear()
        return web.Response(text="reset")

    app = web.Application()
    app.router.add_get("/rate", rate)
    app.router.add_get("/conc", conc)
    app.router.add_get("/capacity", capacity)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def server_stats(http: ClientSession, base: str) -> dict[str, Any]:
    await asyncio.sleep(0.05)  # let requests sent just before reach the server first
    async with http.get(f"{base}/stats") as response:
        return dict(await response.json())


async def reset_server(http: ClientSession, base: str) -> None:
    async with http.post(f"{base}/reset") as response:
        await response.read()


class StartLog:
    """A listener for TryStarted alone: when each try started on the client, by the call id in its URL."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.listens_to = {TryStarted: self.started}

    def started(self, event: TryStarted) -> None:
        self.at[str(event.url).rsplit("=", 1)[-1]] = time.monotonic()

    def __call__(self, event: Any) -> None:
        if isinstance(event, TryStarted):
            self.started(event)


def busiest_window(times: Sequence[float], span: float = 1.0) -> tuple[int, int]:
    """The most of the sorted ``times`` in any half-open window [t, t + span), and the index where it starts."""
    best, where = 0, 0
    for i, t in enumerate(times):
        inside = bisect.bisect_left(times, t + span, lo=i) - i
        if inside > best:
            best, where = inside, i
    return best, where


def closest_span(times: Sequence[float], count: int) -> float | None:
    """The shortest time (ms) from one of ``times`` to the ``count``-th after it; under 1 s: count + 1 in a window."""
    spans = [times[i + count] - times[i] for i in range(len(times) - count)]
    return min(spans) * 1000 if spans else None


def per_second(times: Sequence[float], since: float, seconds: float) -> list[int]:
    """How many of ``times`` fall in each whole second after ``since``."""
    counts = [0] * max(math.ceil(seconds), 1)
    for t in times:
        step = int(t - since)
        if 0 <= step < len(counts):
            counts[step] += 1
    return counts


def ms(value: float | None) -> str:
    """A figure already in milliseconds."""
    return "-" if value is None else f"{value:.3f} ms"


def in_ms(values: Sequence[float], pick: Any) -> float | None:
    """``pick(values)`` (max, min, median) in milliseconds, or None when there are none."""
    return pick(values) * 1000 if values else None


def bursts(times: Sequence[float], since: float) -> list[float]:
    """How long, in ms, the arrivals of each whole second after ``since`` took from the first to the last."""
    grouped: dict[int, list[float]] = {}
    for t in times:
        grouped.setdefault(int(t - since), []).append(t)
    return [(max(group) - min(group)) * 1000 for _, group in sorted(grouped.items())]


async def rate_phase(
    base: str, http: ClientSession, seconds: float, options: ExponentialRetry | None
) -> dict[str, Any]:
    """50 callers in a loop for ``seconds`` through RateLimiter(per_origin="10/s"); the server's view of it."""
    await reset_server(http, base)
    loop = asyncio.get_running_loop()
    log = StartLog()
    calls: dict[str, tuple[float, str, float]] = {}  # call id -> (made at, outcome, duration), refusals aside
    refused: list[float] = []
    outcomes: Counter[str] = Counter()
    limiter = RateLimiter(per_origin=f"{RATE}/s")
    async with RetryClient(rate_limiter=limiter, listeners=[log]) as client:
        began = loop.time()
        end = began + seconds

        async def caller(n: int) -> None:
            call = 0
            while loop.time() < end:
                call += 1
                ident = f"{n}.{call}"
                started = time.monotonic()
                try:
                    async with client.get(f"{base}/rate?id={ident}", retry_options=options) as response:
                        await response.read()
                    outcome = str(response.status)
                except RateLimitedError:
                    refused.append(time.monotonic() - started)
                    outcomes["RateLimitedError"] += 1
                    await asyncio.sleep(0)  # a refusal never yields to the loop: yield, or this caller starves it
                    continue
                except Exception as error:
                    outcome = type(error).__name__
                outcomes[outcome] += 1
                calls[ident] = (started, outcome, time.monotonic() - started)

        callers = [asyncio.create_task(caller(n)) for n in range(RATE_CALLERS)]
        await asyncio.sleep(end - loop.time())
        waiting = sum(1 for task in callers if not task.done())
        for task in callers:
            task.cancel()
        await asyncio.gather(*callers, return_exceptions=True)
    seen = await server_stats(http, base)
    arrivals = sorted(seen["arrivals"]["rate"])
    times = [t for t, _ in arrivals]
    starts = sorted(log.at.values())
    most, where = busiest_window(times)
    reached = {ident for _, ident in arrivals}
    # calls whose try started more than 1 ms after the call was made: they waited for their start
    waited = {ident: call for ident, call in calls.items() if log.at.get(ident, 0.0) - call[0] > 0.001}
    left = [call[0] + DEADLINE - log.at[ident] for ident, call in waited.items()] if options is not None else []
    figures: dict[str, Any] = {
        "seconds": seconds,
        "callers": RATE_CALLERS,
        "options": repr(options) if options is not None else None,
        "server_requests": len(times),
        "server_most_per_1s_window": most,
        "server_most_per_990ms_window": busiest_window(times, 0.99)[0],
        "server_closest_11_ms": closest_span(times, RATE),
        "client_tries_started": len(starts),
        "client_most_per_1s_window": busiest_window(starts)[0],
        "client_closest_11_ms": closest_span(starts, RATE),
        "first_arrival_s": times[0] - began if times else None,
        "last_arrival_s": times[-1] - began if times else None,
        "arrivals_per_second": per_second(times, began, seconds),
        "widest_burst_ms": max(bursts(times, began), default=None),
        "calls_waiting_at_end": waiting,
        "outcomes": dict(outcomes),
        "refused_calls": len(refused),
        "refused_median_ms": in_ms(refused, statistics.median),
        "refused_max_ms": in_ms(refused, max),
        "not_refused_max_ms": in_ms([call[2] for call in calls.values()], max),
        "waited_calls": len(waited),
        "waited_outcomes": dict(Counter(call[1] for call in waited.values())),
        "waited_reached_server": len(reached.intersection(waited)),
        "waited_time_left_median_ms": in_ms(left, statistics.median),
        "waited_time_left_min_ms": in_ms(left, min),
        "waited_time_left_max_ms": in_ms(left, max),
        "server_arrivals_s": [round(t - began, 6) for t in times],
        "client_try_starts_s": [round(t - began, 6) for t in starts],
    }
    if most > RATE:  # a window held more than the limit: who was in it, with when each try started on the client
        figures["crowded_window"] = [
            {"id": ident, "arrival_s": t - began, "client_start_s": log.at.get(ident, began) - began}
            for t, ident in arrivals[where : where + most]
        ]
    return figures


async def concurrency_phase(base: str, http: ClientSession) -> dict[str, Any]:
    """20 callers through ConcurrencyLimiter(per_origin=3); each caller's first try gets 503."""
    await reset_server(http, base)
    options = ExponentialRetry(attempts=3, start_timeout=0.05)
    async with RetryClient(concurrency_limiter=ConcurrencyLimiter(per_origin=SLOTS), retry_options=options) as client:

        async def one(n: int) -> str:
            try:
                async with client.get(f"{base}/conc?caller={n}") as response:
                    await response.read()
                    return str(response.status)
            except Exception as error:
                return type(error).__name__

        started = time.perf_counter()
        results = await asyncio.gather(*(one(n) for n in range(SLOT_CALLERS)))
        wall = time.perf_counter() - started
    seen = await server_stats(http, base)
    return {
        "callers": SLOT_CALLERS,
        "slots": SLOTS,
        "server_most_in_flight": seen["most"],
        "server_requests": len(seen["arrivals"]["conc"]),
        "outcomes": dict(Counter(results)),
        "wall_s": wall,
    }


def simulate(seed: int) -> dict[str, Any]:
    """AdaptiveThrottle fed on a simulated clock: 100 requests/s, 20/s taken until HEAL_AT, then all."""
    throttle = AdaptiveThrottle(k=K, window=WINDOW, rng=random.Random(seed))
    seconds: list[tuple[int, int, int]] = []
    for second in range(SIM_END):
        sent = accepted = 0
        for i in range(DEMAND):
            now = second + i / DEMAND
            if throttle.check("sim", now) is not None:
                continue
            sent += 1
            ok = second >= HEAL_AT or accepted < CAPACITY
            accepted += ok
            throttle.record("sim", now, 200 if ok else 503, None)
        seconds.append((DEMAND, sent, accepted))
    blocks = []
    for first in range(0, SIM_END, 10):
        demand, sent, accepted = (sum(column) for column in zip(*seconds[first : first + 10], strict=True))
        blocks.append({"from_s": first, "demand": demand, "sent": sent, "accepted": accepted})
    overloaded = seconds[10:HEAL_AT]
    shedding = [s for s in range(HEAL_AT, SIM_END) if seconds[s][1] < seconds[s][0]]
    full_from = shedding[-1] + 1 if shedding else HEAL_AT
    return {
        "k": K,
        "window": WINDOW,
        "seed": seed,
        "blocks": blocks,
        "sent_per_accepted_10_30": sum(s[1] for s in overloaded) / sum(s[2] for s in overloaded),
        "all_sent_from_s": full_from if full_from < SIM_END else None,
        "all_sent_after_healing_s": full_from - HEAL_AT if full_from < SIM_END else None,
    }


async def throttle_phase(base: str, http: ClientSession, seconds: float, seed: int) -> dict[str, Any]:
    """100 calls/s for ``seconds`` through AdaptiveThrottle against /capacity (20 accepted per second)."""
    await reset_server(http, base)
    loop = asyncio.get_running_loop()
    throttle = AdaptiveThrottle(k=K, window=WINDOW, rng=random.Random(seed))
    async with RetryClient(throttle=throttle, retry_options=ExponentialRetry(attempts=1)) as client:

        async def one() -> str:
            try:
                async with client.get(f"{base}/capacity") as response:
                    await response.read()
                    return str(response.status)
            except ThrottledError:
                return "shed"
            except Exception as error:
                return type(error).__name__

        began = loop.time()
        calls = []
        for i in range(int(seconds * DEMAND)):
            delay = began + i / DEMAND - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            calls.append(asyncio.create_task(one()))
        results = await asyncio.gather(*calls)
    seen = await server_stats(http, base)
    arrivals = seen["arrivals"]["capacity"]
    accepted = sum(1 for _, ok in arrivals if ok)
    later = [ok for t, ok in arrivals if t >= began + 1.0]
    return {
        "seconds": seconds,
        "calls": len(results),
        "outcomes": dict(Counter(results)),
        "server_arrivals": len(arrivals),
        "server_accepted": accepted,
        "arrivals_per_accepted": len(arrivals) / accepted if accepted else None,
        "arrivals_per_accepted_after_1s": len(later) / sum(later) if sum(later) else None,
    }


def rate_rows(figures: dict[str, Any], deadline: bool) -> list[list[str]]:
    expected = RATE * math.ceil(figures["seconds"])  # a burst of RATE at 0 s, 1 s, ... before the end
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(figures["outcomes"].items()))
    first, last = figures["first_arrival_s"], figures["last_arrival_s"]
    rows = [
        [
            "requests that reached the server",
            str(figures["server_requests"]),
            f"<= {expected}" if deadline else f"{expected} +- 1",
        ],
        ["most server arrivals in any [t, t+1 s)", str(figures["server_most_per_1s_window"]), f"<= {RATE}"],
        ["most server arrivals in any [t, t+0.99 s)", str(figures["server_most_per_990ms_window"]), f"<= {RATE}"],
        ["shortest time from an arrival to the 10th after it", ms(figures["server_closest_11_ms"]), ">= 1000 ms"],
        [
            "most client try starts (TryStarted) in any [t, t+1 s)",
            str(figures["client_most_per_1s_window"]),
            f"<= {RATE}",
        ],
        ["shortest time from a try start to the 10th after it", ms(figures["client_closest_11_ms"]), ">= 1000 ms"],
        [
            "server arrivals in each second of the phase",
            " ".join(map(str, figures["arrivals_per_second"])),
            f"{RATE} each",
        ],
        [
            "first / last arrival after the phase began",
            "-" if first is None else f"{first:.3f} s / {last:.3f} s",
            f"~0 s / ~{expected // RATE - 1} s",
        ],
        ["widest burst (first to last arrival of a second)", ms(figures["widest_burst_ms"]), "-"],
        ["calls still waiting for a start at the end (cancelled)", str(figures["calls_waiting_at_end"]), "-"],
    ]
    if not deadline:
        return [*rows, ["call outcomes", outcomes, "200 only"]]
    waited = ", ".join(f"{k} {v}" for k, v in sorted(figures["waited_outcomes"].items()))
    median, low, high = (ms(figures[f"waited_time_left_{x}_ms"]) for x in ("median", "min", "max"))
    return [
        *rows,
        ["call outcomes", outcomes, "-"],
        ["calls refused with RateLimitedError", str(figures["refused_calls"]), "many: callers ask again at once"],
        ["duration of a refused call, median", ms(figures["refused_median_ms"]), "well under 300 ms"],
        ["duration of a refused call, max", ms(figures["refused_max_ms"]), "well under 300 ms"],
        ["duration of a call not refused, max", ms(figures["not_refused_max_ms"]), "<= ~300 ms"],
        ["calls admitted to wait for a start", str(figures["waited_calls"]), f"~{RATE} per second after the first"],
        ["  their outcomes", waited or "-", "200"],
        ["  their tries that reached the server", str(figures["waited_reached_server"]), "all"],
        ["  time to the deadline as the try started, median", median, "> 0"],
        ["  time to the deadline as the try started, min / max", f"{low} / {high}", "> 0"],
    ]


def print_section(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print(f"\n{title}")
    print(table(headers, rows, left=(0,)))


def print_crowded(figures: dict[str, Any]) -> None:
    """The server window that held more than the limit, second by second: when its tries started and arrived."""
    crowded = figures.get("crowded_window")
    if not crowded:
        return
    print(f"   the most crowded server window [t, t+1 s) held {len(crowded)} arrivals (seconds from the phase start):")
    by_second: dict[int, list[dict[str, Any]]] = {}
    for row in crowded:
        by_second.setdefault(int(row["client_start_s"]), []).append(row)
    for rows in by_second.values():
        start = [r["client_start_s"] for r in rows]
        arrival = [r["arrival_s"] for r in rows]
        latency = [(r["arrival_s"] - r["client_start_s"]) * 1000 for r in rows]
        print(
            f"     {len(rows):>2} tries started {min(start):.6f}-{max(start):.6f}, arrived {min(arrival):.6f}-"
            f"{max(arrival):.6f} ({min(latency):.2f}-{max(latency):.2f} ms after their start)"
        )


async def run(port: int, quick: bool, seed: int, results: dict[str, Any]) -> None:
    await wait_until_listening(port)
    base = f"http://127.0.0.1:{port}"
    rate_s, deadline_s, throttle_s = DURATIONS[quick]
    results.update(quick=quick, seed=seed)
    wall = time.perf_counter()
    headers = ["figure", "measured", "expected"]
    async with ClientSession() as http:  # the server's stats and resets; never limited
        plain = results["rate_limit"] = await rate_phase(base, http, rate_s, None)
        title = f"1. RateLimiter(per_origin='{RATE}/s'), {RATE_CALLERS} callers in a loop for {rate_s:g} s"
        print_section(title, headers, rate_rows(plain, deadline=False))
        print_crowded(plain)

        options = ExponentialRetry(attempts=1, total_timeout=DEADLINE)
        limited = results["rate_limit_deadline"] = await rate_phase(base, http, deadline_s, options)
        title = f"   the same for {deadline_s:g} s with ExponentialRetry(attempts=1, total_timeout={DEADLINE}) per call"
        print_section(title, headers, rate_rows(limited, deadline=True))
        print_crowded(limited)

        slots = results["concurrency"] = await concurrency_phase(base, http)
        title = (
            f"2. ConcurrencyLimiter(per_origin={SLOTS}), {SLOT_CALLERS} callers, {WORK * 1000:.0f} ms handler, "
            "503 to each caller's first try, ExponentialRetry(attempts=3, start_timeout=0.05)"
        )
        rows = [
            ["most requests in flight at the server", str(slots["server_most_in_flight"]), f"<= {SLOTS}"],
            ["requests the server saw", str(slots["server_requests"]), f"{2 * SLOT_CALLERS} (a 503, then a 200 each)"],
            [
                "call outcomes",
                ", ".join(f"{k} {v}" for k, v in sorted(slots["outcomes"].items())),
                f"200 {SLOT_CALLERS}",
            ],
            ["wall time", f"{slots['wall_s']:.3f} s", f">= {2 * SLOT_CALLERS * WORK / SLOTS:.3f} s"],
        ]
        print_section(title, headers, rows)

        sim = results["throttle_simulation"] = simulate(seed)
        title = (
            f"3. AdaptiveThrottle(k={K}, window={WINDOW:g}) simulated: demand {DEMAND}/s, server takes {CAPACITY}/s "
            f"until {HEAL_AT} s, then everything until {SIM_END} s (seed {seed})"
        )
        blocks = [
            [
                f"{b['from_s']:>3}-{b['from_s'] + 10:<3} s",
                str(b["demand"]),
                str(b["sent"]),
                str(b["accepted"]),
                f"{b['sent'] / b['accepted']:.2f}" if b["accepted"] else "-",
            ]
            for b in sim["blocks"]
        ]
        print_section(title, ["seconds", "demand", "sent", "accepted", "sent/accepted"], blocks)
        after = sim["all_sent_after_healing_s"]
        rows = [
            ["sent/accepted over seconds 10-30", f"{sim['sent_per_accepted_10_30']:.3f}", f"<= 2.2 (k = {K})"],
            [
                "every request sent from second",
                f"{sim['all_sent_from_s']} ({after} s after healing)" if after is not None else "never",
                f"<= {HEAL_AT + WINDOW:g} (within {WINDOW:g} s of healing)",
            ],
        ]
        print(table(headers, rows, left=(0,)))

        real = results["throttle_real"] = await throttle_phase(base, http, throttle_s, seed)
        title = (
            f"   real time: {DEMAND} calls/s for {throttle_s:g} s through RetryClient(throttle=AdaptiveThrottle"
            f"(k={K})), ExponentialRetry(attempts=1), server takes {CAPACITY}/s"
        )
        ratio = real["arrivals_per_accepted"]
        later = real["arrivals_per_accepted_after_1s"]
        rows = [
            ["calls", str(real["calls"]), f"{int(throttle_s * DEMAND)}"],
            ["call outcomes", ", ".join(f"{k} {v}" for k, v in sorted(real["outcomes"].items())), "-"],
            [
                "server arrivals / accepted",
                f"{real['server_arrivals']} / {real['server_accepted']}",
                f"~{K * CAPACITY * throttle_s:.0f} / ~{CAPACITY * throttle_s:.0f}",
            ],
            ["arrivals per accepted", f"{ratio:.2f}" if ratio else "-", f"near {K}"],
            ["arrivals per accepted, after the first second", f"{later:.2f}" if later else "-", f"near {K}"],
        ]
        print_section(title, headers, rows)
    results["wall_s"] = time.perf_counter() - wall
    print(f"\nwall time {results['wall_s']:.1f} s{' (--quick)' if quick else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter phases, a smoke run (under ~8 s)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    parser.add_argument("--seed", type=int, default=1, help="seed of the throttles' draws")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    serve_or_run(__file__, args, serve, lambda port: run(port, args.quick, args.seed, results))
    if args.json and results:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"figures written to {path}")


if __name__ == "__main__":
    main()
