"""A fleet of clients against one service, on virtual time, deciding with the library's own policy objects.

Why: what retries do to an overloaded service shows only at fleet scale. A short trigger (a
capacity dip) can push a service into a state its clients' retries keep it in after the trigger
is gone (a metastable failure). This simulator runs thousands of clients against one service
model and reports, per retry strategy, how much load reached the service, how much of it was
useful, and whether and when the service recovered.

The clients decide with the library's real objects, in the order the engine asks them (see
``aiohttp_retry/engine/sequential.py``): the options' ``next_delay`` (backoff and jitter), the
options' ``Retry-After`` rule, the call's deadline (``fits_before``), ``CircuitBreaker.would_refuse``
then ``RetryBudget.try_retry`` before a retry, ``AdaptiveThrottle.check`` then
``CircuitBreaker.acquire`` before every try, ``RetryBudget.record_call`` on a call's first try,
and the outcome of every try to the breaker (``record``) and the throttle (``record``). Their
clocks read the simulation's time.

A fleet-shared budget or breaker is one object used by every client: the rule that
``SharedRetryBudget`` and ``SharedCircuitBreaker`` apply over Redis. The shared breaker opens
only at the fleet's syncs (every 0.2 s), on the fleet's window, as the Redis script opens it;
otherwise the sync is taken as instant (the budget's window is 10 s).

The service: ``capacity`` requests a second, served by ``capacity * service_time`` workers
that each take ``service_time`` per request, first come first served from an unbounded queue,
so latency grows with the queue. A client gives a try up after its ``attempt_timeout``; the
service still does the work when the request's turn comes (wasted: nobody waits for it). A
failing service answers 503 after the same work. Optionally (``--shed``) it answers 503 at
once, with ``Retry-After`` if asked, when the queue holds more than ``shed`` seconds of work.

Run: python benchmarks/fleet_sim.py [--quick] [--scenario dip|outage|sweep|all] [--clients 10000]
     [--capacity 10000] [--load 0.8] [--strategies a,b] [--json PATH] [--charts DIR]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp_retry import AdaptiveThrottle, CircuitBreaker, ExponentialRetry, FullJitterRetry, RetryBudget
from aiohttp_retry.engine.plan import plan_of
from aiohttp_retry.policy.breaker import CLOSED, OPEN, Permit
from aiohttp_retry.policy.deadline import fits_before
from aiohttp_retry.policy.stop import ErrorKind

KEY = "service.example:443"
SYNC_INTERVAL = 0.2  # RedisFleet's default: how often a fleet's shared breaker decides to open
TIMEOUT = ErrorKind.TIMEOUT


class Sim:
    """The event queue and the clock: events run in time order, ties in the order they were scheduled."""

    __slots__ = ("events", "now", "seq")

    def __init__(self) -> None:
        self.now = 0.0
        self.events: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self.seq = 0

    def clock(self) -> float:
        return self.now

    def at(self, when: float, action: Callable[[Any], None], arg: Any) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, action, arg))

    def run(self, until: float) -> None:
        events, pop = self.events, heapq.heappop
        while events and events[0][0] <= until:
            when, _, action, arg = pop(events)
            self.now = when
            action(arg)
        self.now = until


class Stats:
    """Per-second series of what happened."""

    FIELDS = (
        "calls",  # calls started
        "ok",  # calls that ended with a 2xx
        "failed",  # calls that ended otherwise (a 503, a timeout, refused by a policy)
        "arrivals",  # tries that reached the service: its load
        "useful",  # requests served for a client still waiting
        "wasted",  # requests served after their client gave up
        "shed",  # requests the service refused at once (--shed)
        "retries",  # retries sent
        "refused",  # tries a policy kept from the service (breaker open, throttle)
    )

    def __init__(self, seconds: int) -> None:
        self.series: dict[str, list[int]] = {name: [0] * seconds for name in self.FIELDS}
        self.queue: list[int] = [0] * seconds  # requests queued at the end of each second

    def add(self, name: str, now: float) -> None:
        bins = self.series[name]
        at = int(now)
        if at < len(bins):
            bins[at] += 1


class Service:
    """``workers`` workers taking ``service_time`` each, a FIFO queue, and the failure and shedding rules."""

    def __init__(self, sim: Sim, stats: Stats, capacity: float, service_time: float, rng: random.Random) -> None:
        self.sim, self.stats, self.rng = sim, stats, rng
        self.service_time = service_time
        self.workers = round(capacity * service_time)
        self.busy = 0
        self.queue: deque[Try] = deque()
        self.failure_rate = 0.0
        self.shed: float | None = None  # seconds of queued work above which a request is refused at once
        self.retry_after: str | None = None  # the header on a refusal

    def set_capacity(self, capacity: float) -> None:
        self.workers = max(1, round(capacity * self.service_time))
        self._start_waiting()

    def arrive(self, attempt: Try) -> None:
        self.stats.add("arrivals", self.sim.now)
        if self.busy < self.workers:
            self._start(attempt)
        elif self.shed is not None and len(self.queue) * self.service_time / self.workers > self.shed:
            self.stats.add("shed", self.sim.now)
            attempt.client.answered(attempt, 503, self.retry_after)
        else:
            self.queue.append(attempt)

    def _start(self, attempt: Try) -> None:
        self.busy += 1
        self.sim.at(self.sim.now + self.service_time, self._done, attempt)

    def _done(self, attempt: Try) -> None:
        self.busy -= 1
        if attempt.waiting:
            self.stats.add("useful", self.sim.now)
            status = 503 if self.failure_rate and self.rng.random() < self.failure_rate else 200
            attempt.client.answered(attempt, status, None)
        else:
            self.stats.add("wasted", self.sim.now)
        self._start_waiting()

    def _start_waiting(self) -> None:
        queue = self.queue
        while queue and self.busy < self.workers:
            self._start(queue.popleft())


class Call:
    __slots__ = ("attempt", "expires", "previous", "started")

    def __init__(self, started: float, expires: float) -> None:
        self.started = started
        self.expires = expires
        self.attempt = 0
        self.previous: float | None = None


class Try:
    __slots__ = ("call", "client", "permit", "sent", "waiting")

    def __init__(self, client: Client, call: Call, permit: Permit | None, sent: float) -> None:
        self.client, self.call, self.permit, self.sent = client, call, permit, sent
        self.waiting = True


class Client:
    """One client process: its policy objects (its own, or the fleet's shared ones) and its calls' tries."""

    __slots__ = ("breaker", "budget", "options", "plan", "service", "sim", "stats", "throttle")

    def __init__(self, sim: Sim, service: Service, stats: Stats, strategy: Strategy, shared: dict[str, Any]) -> None:
        self.sim, self.service, self.stats = sim, service, stats
        self.options = strategy.options
        self.plan = plan_of(strategy.options)
        self.budget = shared["budget"] if strategy.shared_budget else strategy.make_budget(sim)
        self.breaker = shared["breaker"] if strategy.shared_breaker else strategy.make_breaker(sim)
        self.throttle = strategy.make_throttle()

    def call(self, _: Any = None) -> None:
        now = self.sim.now
        self.stats.add("calls", now)
        total = self.plan.total
        call = Call(now, math.inf if total is None else now + total)
        self._try(call)

    def _try(self, call: Call) -> None:
        """Send the call's next try, as the engine admits it: throttle, then breaker (then the budget counts try 1)."""
        sim = self.sim
        now = sim.now
        call.attempt += 1
        throttle = self.throttle
        if throttle is not None and throttle.check(KEY, now) is not None:
            self.stats.add("refused", now)
            self._end(call, ok=False)
            return
        permit = None
        breaker = self.breaker
        if breaker is not None:
            granted = breaker.acquire(KEY)
            if not isinstance(granted, Permit):
                self.stats.add("refused", now)
                self._end(call, ok=False)
                return
            permit = granted
        if call.attempt == 1:
            if self.budget is not None:
                self.budget.record_call(KEY)
        else:
            self.stats.add("retries", now)
        attempt = Try(self, call, permit, now)
        limit = self.plan.attempt_limit
        if call.expires != math.inf:
            limit = call.expires - now if limit is None else min(limit, call.expires - now)
        if limit is not None:
            sim.at(now + limit, self._timed_out, attempt)
        self.service.arrive(attempt)

    def _timed_out(self, attempt: Try) -> None:
        if attempt.waiting:
            attempt.waiting = False
            self._judge(attempt, None, None)

    def answered(self, attempt: Try, status: int, header: str | None) -> None:
        if attempt.waiting:
            attempt.waiting = False
            self._judge(attempt, status, header)

    def _judge(self, attempt: Try, status: int | None, header: str | None) -> None:
        """A try ended with ``status`` (``None``: it timed out): tell the policies, then retry or end the call."""
        now = self.sim.now
        call = attempt.call
        plan = self.plan
        failed = status is None or plan.failed(status)
        if attempt.permit is not None:
            self.breaker.record(KEY, attempt.permit, failed=failed)  # type: ignore[union-attr]
        if self.throttle is not None:
            self.throttle.record(KEY, now, status, TIMEOUT if status is None else None)
        if not failed:
            self._end(call, ok=True)
            return
        delay = self._plan_retry(call, status, header, now - attempt.sent)
        if delay is None:
            self._end(call, ok=False)
        else:
            self.sim.at(now + delay, self._retry, call)

    def _plan_retry(self, call: Call, status: int | None, header: str | None, try_took: float) -> float | None:
        """The wait before the next try, or ``None`` to stop: the order of the engine's ``Call.plan_retry``."""
        plan = self.plan
        if call.attempt >= plan.attempts:
            return None
        delay = self.options.next_delay(call.attempt - 1, None, call.previous)
        retry_after = plan.retry_after
        if status is not None and header is not None and retry_after is not None:
            asked = retry_after.asks(status, header, 0.0)
            if asked is not None:
                if asked > retry_after.max_wait:
                    return None
                delay = max(delay, asked)
        now = self.sim.now
        if call.expires != math.inf and not fits_before(delay, now, call.expires, try_took):
            return None
        if self.breaker is not None and self.breaker.would_refuse(KEY):
            return None
        if self.budget is not None and not self.budget.try_retry(KEY):
            return None
        call.previous = delay
        return delay

    def _retry(self, call: Call) -> None:
        if call.expires != math.inf and self.sim.now >= call.expires:
            self._end(call, ok=False)
        else:
            self._try(call)

    def _end(self, _call: Call, *, ok: bool) -> None:
        self.stats.add("ok" if ok else "failed", self.sim.now)


class FleetBreaker(CircuitBreaker):
    """The breaker a fleet shares (``SharedCircuitBreaker``'s rule): it opens on the fleet's window, at a sync.

    Every client's tries count in one window at once, but the opening is decided only at the
    fleet's syncs (every ``interval`` seconds), as the Redis script decides it; a probe's outcome
    closes or reopens it at once, as in the process that sent the probe.
    """

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.due: list[str] = []  # keys the fleet opened at the last sync, which the processes learn at this one
        self.changes: list[tuple[float, str, str]] = []  # (when, old state, new state), for the calibration

    def _move(self, key: str, circuit: Any, new: str, now: float) -> Any:
        self.changes.append((round(now, 2), circuit.state, new))
        return super()._move(key, circuit, new, now)

    def _opens_here(self, _key: str) -> bool:
        return False

    def sync(self, now: float) -> None:
        """One sync round: the processes learn the openings decided at the last round; the fleet decides anew.

        Each process tells its counts at its own sync and learns the fleet's state at its next
        one: an opening reaches the processes about one interval after the fleet's window crossed.
        """
        for key in self.due:
            circuit = self._circuits.get(key)
            if circuit is not None and circuit.state == CLOSED:
                self._move(key, circuit, OPEN, now)
        self.due = []
        for key, circuit in self._circuits.items():
            if circuit.state != CLOSED:
                continue
            tries = circuit.window.total(0, now)
            if tries >= self.minimum_throughput and circuit.window.total(1, now) >= self.failure_ratio * tries:
                self.due.append(key)


class Strategy:
    """A retry strategy: the options, and which policies each client has (its own, or the fleet's)."""

    def __init__(
        self,
        name: str,
        options: Any,
        *,
        budget: str | None = None,
        breaker: str | None = None,
        throttle: bool = False,
        describe: str = "",
    ) -> None:
        self.name, self.options, self.describe = name, options, describe
        self.budget, self.breaker, self.throttle = budget, breaker, throttle
        self.shared_budget, self.shared_breaker = budget == "shared", breaker == "shared"
        self.budget_floor = 10.0  # RetryBudget's min_per_second
        self.throttle_window = 120.0  # AdaptiveThrottle's window
        self.seed = 0

    def make_budget(self, sim: Sim) -> RetryBudget | None:
        if self.budget is None:
            return None
        return RetryBudget(min_per_second=self.budget_floor, clock=sim.clock)

    def make_breaker(self, sim: Sim) -> CircuitBreaker | None:
        return None if self.breaker is None else CircuitBreaker(clock=sim.clock)

    def make_throttle(self) -> AdaptiveThrottle | None:
        if not self.throttle:
            return None
        self.seed += 1
        return AdaptiveThrottle(window=self.throttle_window, rng=random.Random(self.seed))


def strategies(attempt_timeout: float, clients: int = 10_000) -> list[Strategy]:
    """The strategies compared, each with the same per-try timeout (as a ClientTimeout would give every client).

    ``local-budget-scaled`` is a RetryBudget in every client whose reserve is the default fleet
    reserve (10 retries a second) divided among the ``clients``.
    """
    timed = {"attempt_timeout": attempt_timeout}

    def exponential(attempts: int) -> ExponentialRetry:
        return ExponentialRetry(attempts=attempts, retry_budget=None, **timed)  # type: ignore[arg-type]

    def jitter() -> FullJitterRetry:
        return FullJitterRetry(attempts=4, total_timeout=10 * attempt_timeout, rng=random.Random(7), **timed)  # type: ignore[arg-type]

    scaled = Strategy(
        "local-budget-scaled",
        exponential(4),
        budget="local",
        describe=f"+ RetryBudget(min_per_second=10 / {clients}) in every client",
    )
    scaled.budget_floor = 10.0 / clients
    short = Strategy("throttle-10s", exponential(4), throttle=True, describe="+ AdaptiveThrottle(window=10)")
    short.throttle_window = 10.0
    return [
        Strategy("no-retries", exponential(1), describe="1 try per call"),
        Strategy("3-retries", exponential(4), describe="ExponentialRetry(attempts=4), nothing else (2.9.1, the peers)"),
        Strategy("local-budget", exponential(4), budget="local", describe="+ RetryBudget() in every client"),
        scaled,
        Strategy("shared-budget", exponential(4), budget="shared", describe="+ one budget for the fleet"),
        Strategy("local-breaker", exponential(4), breaker="local", describe="+ CircuitBreaker() in every client"),
        Strategy("shared-breaker", exponential(4), breaker="shared", describe="+ one breaker for the fleet"),
        Strategy("throttle", exponential(4), throttle=True, describe="+ AdaptiveThrottle() in every client"),
        short,
        Strategy(
            "recommended",
            jitter(),
            budget="shared",
            breaker="shared",
            describe="FullJitterRetry(attempts=4, total_timeout), shared budget and breaker",
        ),
    ]


class Scenario:
    """What happens to the service over time: ``events`` are (second, capacity share, failure rate)."""

    def __init__(self, name: str, seconds: int, events: list[tuple[float, float, float]], trigger_end: float) -> None:
        self.name, self.seconds, self.events, self.trigger_end = name, seconds, events, trigger_end


def run(
    scenario: Scenario,
    strategy: Strategy,
    *,
    clients: int,
    capacity: float,
    load: float,
    service_time: float,
    shed: float | None,
    retry_after: str | None,
    seed: int,
    drain: float = 0.0,
) -> dict[str, Any]:
    """One strategy through one scenario: the per-second series and the figures drawn from them.

    ``drain``: seconds simulated after the last call starts, for the calls under way to end
    (counted in ``whole_run`` only).
    """
    sim = Sim()
    stats = Stats(scenario.seconds + math.ceil(drain))
    rng = random.Random(seed)
    service = Service(sim, stats, capacity, service_time, random.Random(seed + 1))
    service.shed, service.retry_after = shed, retry_after
    breaker = FleetBreaker(clock=sim.clock) if strategy.shared_breaker else None
    shared = {"budget": RetryBudget(clock=sim.clock) if strategy.shared_budget else None, "breaker": breaker}
    if breaker is not None:

        def sync(_: Any) -> None:
            breaker.sync(sim.now)
            sim.at(sim.now + SYNC_INTERVAL, sync, None)

        sim.at(SYNC_INTERVAL, sync, None)
    fleet = [Client(sim, service, stats, strategy, shared) for _ in range(clients)]
    for at, share, failure in scenario.events:

        def change(_: Any, share: float = share, failure: float = failure) -> None:
            service.set_capacity(capacity * share)
            service.failure_rate = failure

        sim.at(at, change, None)
    rate = load * capacity  # calls a second from the whole fleet: each client a Poisson stream of rate / clients
    expovariate, choice = rng.expovariate, rng.choice

    def arrive(_: Any) -> None:
        choice(fleet).call()
        following = sim.now + expovariate(rate)
        if following < scenario.seconds:
            sim.at(following, arrive, None)

    def sample(second: int) -> None:
        stats.queue[second] = len(service.queue)
        if second + 1 < scenario.seconds:
            sim.at(second + 2 - 1e-9, sample, second + 1)

    sim.at(expovariate(rate), arrive, None)
    sim.at(1 - 1e-9, sample, 0)
    began = time.perf_counter()
    sim.run(scenario.seconds + drain)
    took = time.perf_counter() - began
    out = figures(scenario, strategy, stats, capacity, took)
    if breaker is not None:
        out["breaker_changes"] = breaker.changes
    return out


def figures(scenario: Scenario, strategy: Strategy, stats: Stats, capacity: float, took: float) -> dict[str, Any]:
    whole = stats.series
    seconds = scenario.seconds
    series = {name: values[:seconds] for name, values in whole.items()}
    warm = 5  # the first seconds fill the pipeline
    calls = sum(series["calls"][warm:])
    ended_ok = sum(series["ok"][warm:])
    arrivals = series["arrivals"]
    over = [a / capacity for a in arrivals]
    after = math.ceil(scenario.trigger_end)
    tail = over[after:]
    recovered = None
    for start in range(after, seconds):  # from here to the end, 95 % of the calls that ended succeeded
        if all(
            series["ok"][s] >= 0.95 * (series["ok"][s] + series["failed"][s]) and series["ok"][s] > 0
            for s in range(start, seconds)
        ):
            recovered = start - scenario.trigger_end
            break
    return {
        "strategy": strategy.name,
        "describe": strategy.describe,
        "calls": calls,
        "success": ended_ok / calls if calls else None,
        "goodput": sum(series["useful"][warm:]) / (seconds - warm) / capacity,
        "peak_load": max(over[warm:]),
        "load_after_trigger": sum(tail) / len(tail) if tail else None,
        "recovered_after_s": recovered,
        "requests": sum(arrivals),
        "amplification": sum(arrivals[warm:]) / calls if calls else None,
        "wasted_share": sum(series["wasted"]) / max(1, sum(series["useful"]) + sum(series["wasted"])),
        "whole_run": {
            "calls": sum(whole["calls"]),
            "success": sum(whole["ok"]) / max(1, sum(whole["calls"])),
            "amplification": sum(whole["arrivals"]) / max(1, sum(whole["calls"])),
        },
        "seconds_to_simulate": took,
        "series": {**series, "queue": stats.queue},
    }


def scenarios(quick: bool) -> dict[str, Scenario]:
    if quick:
        return {"dip": Scenario("dip", 30, [(10, 0.5, 0.0), (15, 1.0, 0.0)], 15)}
    return {
        "dip": Scenario("dip", 90, [(20, 0.5, 0.0), (30, 1.0, 0.0)], 30),
        "outage": Scenario("outage", 90, [(20, 1.0, 1.0), (40, 1.0, 0.0)], 40),
    }


def sweep(args: argparse.Namespace, chosen: list[Strategy]) -> dict[str, Any]:
    """Every strategy at a steady failure rate from 0 to 100 %: the load on the service and the calls' success."""
    rates = [round(0.1 * step, 1) for step in range(11)]
    out: dict[str, Any] = {"failure_rates": rates, "load": {}, "success": {}}
    for strategy in chosen:
        loads, successes = [], []
        for rate in rates:
            scenario = Scenario(f"sweep {rate:.0%}", args.sweep_seconds, [(0.0, 1.0, rate)], 0.0)
            row = run(
                scenario,
                strategy,
                clients=args.clients,
                capacity=args.capacity,
                load=args.sweep_load,
                service_time=args.service_time,
                shed=args.shed,
                retry_after=args.retry_after,
                seed=args.seed,
            )
            steady = row["series"]["arrivals"][5:]
            loads.append(sum(steady) / len(steady) / args.capacity)
            successes.append(row["success"])
        out["load"][strategy.name] = loads
        out["success"][strategy.name] = successes
    print(
        f"\nsweep: {args.clients:,} clients, capacity {args.capacity:,.0f}/s, calls at {args.sweep_load:.0%} of it, "
        f"a steady share of the requests failing (503), {args.sweep_seconds} s each"
    )
    for title, table, shown in (
        ("load / capacity", out["load"], "{:5.2f}"),
        ("calls succeeded", out["success"], "{:5.0%}"),
    ):
        print(f"{title:20s} " + " ".join(f"{rate:>5.0%}" for rate in rates))
        for name, values in table.items():
            print(f"{name:20s} " + " ".join(shown.format(v) for v in values))
    return out


def print_table(name: str, rows: list[dict[str, Any]], params: str) -> None:
    print(f"\n{name}: {params}")
    print(
        f"{'strategy':20s} {'success':>8s} {'goodput':>8s} {'peak load':>10s} {'load after':>11s} "
        f"{'recovered':>10s} {'tries/call':>10s} {'wasted':>7s} {'sim s':>6s}"
    )
    for row in rows:
        rec = row["recovered_after_s"]
        shown = "never" if rec is None else f"{rec:.0f} s"
        print(
            f"{row['strategy']:20s} {row['success']:8.1%} {row['goodput']:8.2f} {row['peak_load']:9.2f}x "
            f"{row['load_after_trigger']:10.2f}x {shown:>10s} {row['amplification']:10.2f} {row['wasted_share']:7.1%} "
            f"{row['seconds_to_simulate']:6.1f}"
        )


def charts(results: dict[str, list[dict[str, Any]]], folder: Path, capacity: float) -> list[Path]:
    """One PNG per scenario: load and goodput over time per strategy (needs matplotlib: the ``charts`` extra)."""
    import matplotlib as mpl  # noqa: PLC0415 - optional

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in results.items():
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
        for row in rows:
            top.plot([a / capacity for a in row["series"]["arrivals"]], label=row["strategy"])
            bottom.plot([u / capacity for u in row["series"]["ok"]], label=row["strategy"])
        top.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        top.set_ylabel("load / capacity")
        bottom.set_ylabel("calls succeeded / capacity")
        bottom.set_xlabel("seconds")
        top.legend(fontsize=8, ncol=2)
        top.set_title(f"scenario {name}")
        path = folder / f"fleet_sim_{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 clients, capacity 1,000/s, a 30 s dip")
    parser.add_argument("--scenario", default="all", help="dip, outage, sweep or all")
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--capacity", type=float, default=10_000.0, help="requests a second the service serves")
    parser.add_argument("--load", type=float, default=0.8, help="calls a second as a share of capacity")
    parser.add_argument("--service-time", type=float, default=0.05, help="seconds of work per request")
    parser.add_argument("--attempt-timeout", type=float, default=1.0, help="seconds a client waits for a try")
    parser.add_argument("--shed", type=float, help="the service refuses at once above this many seconds of queue")
    parser.add_argument("--retry-after", help="the Retry-After its refusals carry (seconds)")
    parser.add_argument("--strategies", help="a comma-separated choice (default: all)")
    parser.add_argument("--sweep-load", type=float, default=0.2, help="calls a second in the sweep, of capacity")
    parser.add_argument("--sweep-seconds", type=int, default=20, help="seconds simulated per failure rate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the figures and per-second series here")
    parser.add_argument("--charts", help="write one PNG per scenario into this folder (needs matplotlib)")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.capacity, args.sweep_seconds = 1_000, 1_000.0, 10
    chosen = strategies(args.attempt_timeout, args.clients)
    if args.strategies:
        wanted = set(args.strategies.split(","))
        chosen = [s for s in chosen if s.name in wanted]
    found = scenarios(args.quick)
    names = list(found) if args.scenario == "all" else [args.scenario] if args.scenario != "sweep" else []
    results: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        scenario = found[name]
        settings = {
            "clients": args.clients,
            "capacity": args.capacity,
            "load": args.load,
            "service_time": args.service_time,
            "shed": args.shed,
            "retry_after": args.retry_after,
            "seed": args.seed,
        }
        rows = [run(scenario, strategy, **settings) for strategy in chosen]
        results[name] = rows
        params = (
            f"{args.clients:,} clients, capacity {args.capacity:,.0f}/s, load {args.load:.0%}, "
            f"service {args.service_time * 1000:.0f} ms, try timeout {args.attempt_timeout:g} s; "
            + ", ".join(f"t={at:g} s: capacity {share:.0%}, failing {fail:.0%}" for at, share, fail in scenario.events)
        )
        print_table(name, rows, params)
    swept = None
    if args.scenario in ("all", "sweep"):
        swept = sweep(args, chosen)
    if args.json:
        Path(args.json).write_text(json.dumps({"scenarios": results, "sweep": swept}) + "\n")
    if args.charts:
        for path in charts(results, Path(args.charts), args.capacity):
            print(f"chart: {path}")


if __name__ == "__main__":
    main()
