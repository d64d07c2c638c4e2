"""What a Report costs: memory (tracemalloc), accuracy of its p99 and time per event, no network.

Synthetic calls end as a final ``TryFinished`` (about 95 %) or a ``GaveUp``,
round-robin over ``--endpoints`` endpoints (``/v1/service{n}/items/{id}``,
``--ids`` ids each, folded into one row per endpoint), with lognormal
durations whose median differs per endpoint. A simulated clock spreads the
calls over ``--seconds`` seconds, so that each row's timeline fills up as in
a long run.

Three passes over the same calls:

* memory: the events are fed to a fresh Report under tracemalloc; the peak and
  what stays allocated afterwards (after ``gc.collect()``) are reported. The
  durations are drawn before tracing starts, so only the Report's allocations
  (and one event at a time) are counted.
* accuracy: the Report's p50 and p99 of all calls, and the p99 of each
  endpoint, against the exact quantiles of the durations (sorted copies, kept
  apart from the Report for this check only).
* time: a fresh Report is fed one simulated second of events at a time, built
  beforehand; only the feeding loops are timed (CPU time, garbage collector
  off). One more figure feeds quiet endpoints, two calls each per second, so
  that closing each second into the timeline weighs on every call; a last one
  names a new URL on every call, so that every event misses the Report's
  naming cache.

Targets: under 1 MB retained and at peak for 1,000,000 calls over 50
endpoints, and a p99 within 2 % of the exact one.

Run: python -m benchmarks.report_memory [--calls 1000000] [--endpoints 50] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
import tracemalloc
from array import array
from typing import Any

from aiohttp_retry.events import GaveUp, TryFinished
from aiohttp_retry.policy.stop import StopReason
from aiohttp_retry.report import Report
from benchmarks.report import table

ORIGIN = "api.example.com"
GAVE_UP_SHARE = 0.05


class Workload:
    """The calls: per call an endpoint (round-robin), an id, a duration and whether it gave up."""

    def __init__(self, calls: int, endpoints: int, ids: int, seconds: float, seed: int) -> None:
        rng = random.Random(seed)
        self.calls, self.endpoints, self.seconds = calls, endpoints, seconds
        self.urls = [[f"http://{ORIGIN}/v1/service{e}/items/{1000 + i}" for i in range(ids)] for e in range(endpoints)]
        medians = [math.log(0.02 * (1 + e % 10)) for e in range(endpoints)]
        self.durations = array("d", (rng.lognormvariate(medians[i % endpoints], 0.8) for i in range(calls)))
        self.gave_up = bytearray(rng.random() < GAVE_UP_SHARE for _ in range(calls))
        self.ids = array("I", (rng.randrange(ids) for _ in range(calls)))
        self.per_second = max(1, round(calls / seconds))

    def event(self, i: int, url: str | None = None) -> Any:
        endpoint = i % self.endpoints
        url = url or self.urls[endpoint][self.ids[i]]
        elapsed = self.durations[i]
        if self.gave_up[i]:
            return GaveUp(StopReason.LAST_TRY, 3, 3, "GET", url, ORIGIN, 503, None, None, elapsed)
        attempt = 1 + (i % 7 == 0)
        return TryFinished(attempt, 3, "GET", url, ORIGIN, 200, None, None, elapsed, elapsed, final=True)

    def seconds_of_calls(self) -> range:
        """The first call of each simulated second."""
        return range(0, self.calls, self.per_second)


class Clock:
    """The simulated clock: the report reads ``now``, which the feeding loop sets once per simulated second."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def memory_pass(work: Workload) -> tuple[Report, int, int]:
    """Feed every call to a fresh Report under tracemalloc: the Report, the peak and the retained bytes."""
    clock = Clock()
    gc.collect()
    tracemalloc.start()
    report = Report(clock=clock)
    event = work.event
    for second, start in enumerate(work.seconds_of_calls()):
        clock.now = float(second)
        for i in range(start, min(start + work.per_second, work.calls)):
            report(event(i))
    del event
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return report, peak, retained


def exact_quantile(values: list[float], q: float) -> float:
    """The value of rank ``q * (n - 1)`` (rounded down), as the sketch defines its ranks."""
    return values[int(q * (len(values) - 1))]


def accuracy(report: Report, work: Workload) -> dict[str, float]:
    """Sketch versus exact quantiles: of all calls, and the worst p99 of one endpoint."""
    ordered = sorted(work.durations)
    totals = report.totals()
    assert totals.p50 is not None
    assert totals.p99 is not None
    exact50, exact99 = exact_quantile(ordered, 0.5), exact_quantile(ordered, 0.99)
    worst = 0.0
    by_route = {stats.route: stats for stats in report.rows()}
    for e in range(work.endpoints):
        mine = sorted(work.durations[e :: work.endpoints])
        row = by_route[f"{ORIGIN}/v1/service{e}/items/{{id}}"]
        assert row.p99 is not None
        worst = max(worst, abs(row.p99 / exact_quantile(mine, 0.99) - 1))
    return {
        "p50": totals.p50,
        "exact_p50": exact50,
        "p99": totals.p99,
        "exact_p99": exact99,
        "p99_error": totals.p99 / exact99 - 1,
        "p50_error": totals.p50 / exact50 - 1,
        "worst_endpoint_p99_error": worst,
    }


def timing_pass(work: Workload) -> dict[str, float]:
    """CPU ns per event: successes and give-ups fed in separate loops, one simulated second at a time."""
    clock = Clock()
    report = Report(clock=clock)
    spent = {TryFinished: 0, GaveUp: 0}
    counted = {TryFinished: 0, GaveUp: 0}
    for second, start in enumerate(work.seconds_of_calls()):
        events = [work.event(i) for i in range(start, min(start + work.per_second, work.calls))]
        clock.now = float(second)
        for kind in (TryFinished, GaveUp):
            batch = [e for e in events if type(e) is kind]
            gc.disable()
            began = time.process_time_ns()
            for e in batch:
                report(e)
            spent[kind] += time.process_time_ns() - began
            gc.enable()
            counted[kind] += len(batch)
    total = sum(spent.values()) / max(1, sum(counted.values()))
    return {
        "mixed": total,
        "final TryFinished": spent[TryFinished] / max(1, counted[TryFinished]),
        "GaveUp": spent[GaveUp] / max(1, counted[GaveUp]),
    }


def quiet_pass(work: Workload, calls: int, per_endpoint: int = 2) -> float:
    """CPU ns per final TryFinished when each endpoint ends ``per_endpoint`` calls a second (of which some give up)."""
    clock = Clock()
    report = Report(clock=clock)
    per_second = work.endpoints * per_endpoint
    seconds = [
        [e for e in map(work.event, range(start, start + per_second)) if type(e) is TryFinished]
        for start in range(0, calls - per_second + 1, per_second)
    ]
    spent = counted = 0
    for second, events in enumerate(seconds):
        clock.now = float(second)
        gc.disable()
        began = time.process_time_ns()
        for e in events:
            report(e)
        spent += time.process_time_ns() - began
        gc.enable()
        counted += len(events)
    return spent / max(1, counted)


def miss_pass(work: Workload, calls: int) -> float:
    """CPU ns per final TryFinished whose URL the Report has never seen (every event misses the naming cache)."""
    clock = Clock()
    report = Report(clock=clock)
    events = [
        TryFinished(1, 3, "GET", f"http://{ORIGIN}/v1/service{i % work.endpoints}/items/{10**6 + i}", ORIGIN,
                    200, None, None, 0.05, 0.05, final=True)
        for i in range(calls)
    ]  # fmt: skip
    gc.disable()
    began = time.process_time_ns()
    for e in events:
        report(e)
    spent = time.process_time_ns() - began
    gc.enable()
    return spent / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="memory, p99 accuracy and time per event of a Report")
    parser.add_argument("--calls", type=int, help="calls fed to the report (default 1000000; --quick 100000)")
    parser.add_argument("--endpoints", type=int, default=50, help="distinct endpoints (default 50)")
    parser.add_argument("--ids", type=int, default=20, help="distinct ids per endpoint, folded into one row")
    parser.add_argument("--seconds", type=float, default=600.0, help="simulated seconds the calls span")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="100,000 calls")
    args = parser.parse_args(argv)
    calls = args.calls or (100_000 if args.quick else 1_000_000)
    if calls < 1 or args.endpoints < 1 or args.ids < 1 or args.seconds <= 0:
        sys.exit("--calls, --endpoints, --ids and --seconds must be positive")
    work = Workload(calls, args.endpoints, args.ids, args.seconds, args.seed)
    print(f"report_memory: {calls:,} calls over {args.endpoints} endpoints ({args.ids} ids each), ", end="")
    print(f"{args.seconds:g} simulated seconds; Python {sys.version.split()[0]}", flush=True)

    report, peak, retained = memory_pass(work)
    found = accuracy(report, work)
    ns = timing_pass(work)
    quiet = quiet_pass(work, min(calls, 100_000))
    miss = miss_pass(work, min(calls, 100_000))
    rows = [
        ["tracemalloc peak", f"{peak / 2**20:.2f} MB", "while feeding every call; target < 1 MB"],
        ["retained by the Report", f"{retained / 2**20:.2f} MB", f"{len(report.rows())} rows, after gc; target < 1 MB"],
        ["retained per row", f"{retained / 1024 / max(1, len(report.rows())):.1f} KB", "timeline included"],
        ["p50 of all calls", f"{found['p50'] * 1000:.3f} ms", f"exact {found['exact_p50'] * 1000:.3f} ms"],
        ["p50 relative error", f"{found['p50_error']:+.3%}", "sketch alpha 1 %"],
        ["p99 of all calls", f"{found['p99'] * 1000:.3f} ms", f"exact {found['exact_p99'] * 1000:.3f} ms"],
        ["p99 relative error", f"{found['p99_error']:+.3%}", "sketch alpha 1 %; target within 2 %"],
        ["worst endpoint p99 error", f"{found['worst_endpoint_p99_error']:.3%}", "absolute, over the rows"],
        ["ns per event", f"{ns['mixed']:.0f}", "CPU time, mixed events"],
        ["ns per final TryFinished", f"{ns['final TryFinished']:.0f}", "naming cache hit"],
        ["ns per GaveUp", f"{ns['GaveUp']:.0f}", "naming cache hit"],
        ["ns per TryFinished, quiet", f"{quiet:.0f}", "2 calls per endpoint a second: a second closed per 2 calls"],
        ["ns per TryFinished, new URL", f"{miss:.0f}", "every event names its URL afresh"],
    ]
    print(table(["figure", "value", "note"], rows, left=(0, 2)))
    totals = report.totals()
    print(f"\nreport totals: {totals.calls:,} calls, {totals.successes:,} succeeded, {totals.gave_up_total:,} gave up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
