"""The fleet simulator beside the real library: the same small setting run for real and simulated.

For real: an aiohttp server on 127.0.0.1 with a capacity limit (``workers`` requests served at
once, each taking ``service_time``; the rest wait in arrival order, and a request whose client
gave up is still served), and P client processes, each starting calls as a Poisson stream
through ``RetryClient``, the whole fleet at ``load`` times the capacity. The server's capacity
drops to half for a while, as in the simulator's "dip" scenario. Simulated: the same numbers
in ``benchmarks/fleet_sim.py``. Each run, real or simulated, has arrivals of its own (its seed).
For each strategy it prints the amplification (requests at the server per call) and the share
of calls that succeeded, their means and ranges both ways, and how far apart the means are.
With a breaker, the outcome turns on one event, the fleet's first half-open probe: answered in
time, the breaker closes; stuck behind the backlog, it opens for another ``break_duration``.
The runs are also compared by that outcome, and how often each way had it is printed.

Run: python benchmarks/fleet_calibration.py [--quick] [--processes 50] [--runs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from collections import deque
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp_retry import ExponentialRetry, FullJitterRetry, RetryClient
from benchmarks import fleet_sim
from benchmarks.scenario_support import free_port
from tests.redis_server import RedisServer, running_redis

HERE = Path(__file__).resolve()
#: The strategies calibrated, by their names in fleet_sim; the shared ones use a real Redis server.
STRATEGIES = ("no-retries", "3-retries", "shared-budget", "recommended")
SHARED = frozenset({"shared-budget", "recommended"})


def settings_of(strategy: str, attempt_timeout: float, fleet: Any) -> dict[str, Any]:
    """The RetryClient arguments of ``strategy``, as fleet_sim's strategy of that name configures its clients."""
    from aiohttp_retry.contrib.redis import SharedCircuitBreaker, SharedRetryBudget  # noqa: PLC0415 - redis extra

    if strategy == "recommended":
        options: Any = FullJitterRetry(attempts=4, total_timeout=10 * attempt_timeout, attempt_timeout=attempt_timeout)
        return {
            "retry_options": options,
            "retry_budget": SharedRetryBudget(fleet),
            "circuit_breaker": SharedCircuitBreaker(fleet),
        }
    attempts = 1 if strategy == "no-retries" else 4
    options = ExponentialRetry(attempts=attempts, attempt_timeout=attempt_timeout)
    budget = SharedRetryBudget(fleet) if strategy == "shared-budget" else None
    return {"retry_options": options, "retry_budget": budget}


async def client_process(args: argparse.Namespace) -> dict[str, Any]:
    """One process of the fleet: calls started as a Poisson stream for ``seconds`` from ``begin``; its outcomes."""
    rng = random.Random(args.seed)
    outcomes: dict[str, Any] = {"calls": 0, "ok": 0, "failed": 0, "breaker_changes": [], "late": []}
    began = [0.0]

    def changed(event: Any) -> None:  # the breaker's state changes, seconds from the start (own and learnt)
        if type(event).__name__ == "BreakerStateChange":
            outcomes["breaker_changes"].append((round(time.time() - began[0], 2), event.old, event.new))

    fleet = None
    if args.strategy in SHARED:
        from aiohttp_retry.contrib.redis import RedisFleet  # noqa: PLC0415 - the redis extra

        fleet = RedisFleet(url=args.redis, listeners=[changed])
    settings = settings_of(args.strategy, args.attempt_timeout, fleet)
    async with RetryClient(**settings, listeners=[changed]) as client:

        async def call() -> None:
            try:
                async with client.get(args.url) as response:
                    await response.read()
                    ok = response.status == 200
            except Exception:
                ok = False
            outcomes["ok" if ok else "failed"] += 1

        sys.stdout.write("ready\n")  # then the parent says when to begin, once every process is ready
        sys.stdout.flush()
        begin = float(await asyncio.to_thread(sys.stdin.readline))
        await asyncio.sleep(min(1.0, max(0.0, begin - time.time())))  # bounded: a clock step never stalls it
        began[0] = time.time()
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        due = start + rng.expovariate(args.rate)
        while due < start + args.seconds:
            await asyncio.sleep(max(0.0, due - loop.time()))
            outcomes["late"].append(loop.time() - due)  # how far behind its schedule the process's loop runs
            tasks.append(asyncio.ensure_future(call()))
            outcomes["calls"] += 1
            due += rng.expovariate(args.rate)
        await asyncio.gather(*tasks)
    if fleet is not None:
        await fleet.aclose()
    return outcomes


class CappedServer:
    """``workers`` requests served at once, ``service_time`` each, the others queued in arrival order."""

    def __init__(self, workers: int, service_time: float) -> None:
        self.workers = workers
        self.service_time = service_time
        self.busy = 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.arrivals = 0
        self.served = 0
        self.overrun = 0.0  # the service time the server's busy loop added to the nominal one, summed

    def resize(self, workers: int) -> None:
        self.workers = workers
        self._wake()

    def _wake(self) -> None:
        while self.waiting and self.busy < self.workers:
            turn = self.waiting.popleft()
            if not turn.done():
                self.busy += 1
                turn.set_result(None)

    async def handle(self, _: web.Request) -> web.Response:
        self.arrivals += 1
        if self.busy < self.workers and not self.waiting:
            self.busy += 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting.append(turn)
            await turn  # served even if the client has gone: the work is wasted, as in an overload
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            await asyncio.sleep(self.service_time)
            self.served += 1
            self.overrun += loop.time() - began - self.service_time
        finally:
            self.busy -= 1
            self._wake()
        return web.Response(text="ok")


async def real_run(
    args: argparse.Namespace, strategy: str, scenario: fleet_sim.Scenario, redis: RedisServer | None, seed: int
) -> dict[str, Any]:
    workers = round(args.capacity * args.service_time)
    server = CappedServer(workers, args.service_time)
    app = web.Application()
    app.router.add_get("/", server.handle)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=False)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    rate = args.load * args.capacity / args.processes
    cmd = [sys.executable, str(HERE), "--client", "--url", f"http://127.0.0.1:{port}/", "--strategy", strategy]
    cmd += ["--seconds", str(scenario.seconds), "--rate", str(rate), "--attempt-timeout", str(args.attempt_timeout)]
    if redis is not None:
        cmd += ["--redis", redis.url]
    children = [
        await asyncio.create_subprocess_exec(
            *cmd, "--seed", str(seed * 1000 + n), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for n in range(args.processes)
    ]
    for child in children:  # every process imported and its client made
        assert child.stdout is not None
        await child.stdout.readline()
    begin = time.time() + 0.5
    for child in children:
        assert child.stdin is not None
        child.stdin.write(f"{begin}\n".encode())
        await child.stdin.drain()

    async def schedule() -> None:
        await asyncio.sleep(min(1.0, max(0.0, begin - time.time())))
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at, share, _ in scenario.events:
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            server.resize(max(1, round(workers * share)))

    changes = asyncio.ensure_future(schedule())
    reports = [json.loads((await child.communicate())[0]) for child in children]
    changes.cancel()
    overrun = server.overrun / max(1, server.served)  # before the backlog is let go at once, below
    server.resize(1_000_000)  # the backlog nobody waits for: served at once, so that the server can stop
    await runner.cleanup()
    calls = sum(r["calls"] for r in reports)
    late = sorted(x for r in reports for x in r["late"])
    return {
        "server_overrun": overrun,
        "late_p50": late[len(late) // 2],
        "late_p99": late[len(late) * 99 // 100],
        "calls": calls,
        "success": sum(r["ok"] for r in reports) / calls,
        "amplification": server.arrivals / calls,
        "breaker_changes": [r["breaker_changes"] for r in reports],
        "first_probe": first_probe([r["breaker_changes"] for r in reports]),
    }


def simulated(args: argparse.Namespace, strategy: str, scenario: fleet_sim.Scenario, seed: int) -> dict[str, Any]:
    chosen = next(s for s in fleet_sim.strategies(args.attempt_timeout) if s.name == strategy)
    row = fleet_sim.run(
        scenario,
        chosen,
        clients=args.processes,
        capacity=args.capacity,
        load=args.load,
        service_time=args.service_time,
        shed=None,
        retry_after=None,
        seed=seed,
        drain=30.0,
    )
    return {**row["whole_run"], "first_probe": first_probe([row.get("breaker_changes", [])])}


def first_probe(timelines: list[list[Any]]) -> str | None:
    """How the fleet's first half-open probe ended: ``"failed"`` (open again), ``"succeeded"``, or ``None``.

    ``timelines``: each process's breaker changes ``(seconds, old, new)``; the earliest exit from
    half-open in any of them is the fleet's first probe's outcome.
    """
    exits = sorted((at, new) for changes in timelines for at, old, new in changes if old == "half_open")
    if not exits:
        return None
    return "failed" if exits[0][1] == "open" else "succeeded"


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means and ranges of runs' amplification and success; the same for each first-probe outcome."""

    def of(group: list[dict[str, Any]]) -> dict[str, Any]:
        amp, ok = [r["amplification"] for r in group], [r["success"] for r in group]
        return {
            "runs": len(group),
            "amplification": sum(amp) / len(amp),
            "amplification_range": (min(amp), max(amp)),
            "success": sum(ok) / len(ok),
            "success_range": (min(ok), max(ok)),
        }

    out = of(rows)
    for outcome in ("failed", "succeeded"):
        group = [r for r in rows if r["first_probe"] == outcome]
        if group:
            out[f"first_probe_{outcome}"] = of(group)
    return out


async def calibrate(args: argparse.Namespace) -> dict[str, Any]:
    half = args.seconds / 3
    scenario = fleet_sim.Scenario("dip", int(args.seconds), [(half, 0.5, 0.0), (2 * half, 1.0, 0.0)], 2 * half)
    out: dict[str, Any] = {}
    print(
        f"{args.processes} client processes, capacity {args.capacity:g}/s ({args.service_time * 1000:g} ms a request), "
        f"calls at {args.load:.0%} of it for {args.seconds:g} s, capacity at 50 % from {half:g} s to {2 * half:g} s, "
        f"try timeout {args.attempt_timeout:g} s; {args.runs} real run(s) and {args.sim_seeds} simulated, "
        "each with its own arrivals"
    )
    print(f"{'strategy':14s} {'':10s} {'runs':>4s} {'requests/call (range)':>22s} {'succeeded (range)':>22s}")
    seeds = range(args.seed, args.seed + args.runs)
    for strategy in args.strategies.split(","):
        reals = []
        for seed in seeds:
            with running_redis() if strategy in SHARED else nullcontext() as redis:  # fresh: no state from before
                reals.append(await real_run(args, strategy, scenario, redis, seed))
        sims = [simulated(args, strategy, scenario, seed) for seed in range(args.seed, args.seed + args.sim_seeds)]
        real, sim = summary(reals), summary(sims)
        out[strategy] = {"real": real, "simulated": sim, "real_runs": reals, "simulated_runs": sims}
        groups = [("", "all runs")]
        if any(r["first_probe"] for r in reals + sims):
            groups += [("first_probe_failed", "1st probe failed"), ("first_probe_succeeded", "1st probe succeeded")]
        for group, title in groups:
            pair = [(name, row[group] if group else row) for name, row in (("real", real), ("simulated", sim))]
            if group:
                print(f"  {title}:")
            for name, row in pair:
                if row is None:
                    print(f"{strategy:14s} {name:10s} {0:4d}")
                    continue
                amp, ok = row["amplification"], row["success"]
                amps = "{:.2f} ({:.2f}-{:.2f})".format(amp, *row["amplification_range"])
                oks = "{:.1%} ({:.1%}-{:.1%})".format(ok, *row["success_range"])
                print(f"{strategy:14s} {name:10s} {row['runs']:4d} {amps:>22s} {oks:>22s}")
            if all(row is not None for _, row in pair):
                (_, r), (_, m) = pair
                gap_amp = m["amplification"] / r["amplification"] - 1
                gap_ok = m["success"] / r["success"] - 1 if r["success"] else float("nan")
                print(f"{'':14s} {'apart':10s} {'':4s} {gap_amp:+22.1%} {gap_ok:+22.1%}")
        late_p50 = max(r["late_p50"] for r in reals)
        late_p99 = max(r["late_p99"] for r in reals)
        overrun = max(r["server_overrun"] for r in reals)
        print(
            f"{'':14s} {'loop lag':10s} clients' median {late_p50 * 1000:.1f} ms, 99th {late_p99 * 1000:.0f} ms; "
            f"server's service time +{overrun * 1000:.1f} ms (the worst run)"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick", action="store_true", help="10 processes for 15 s, two strategies, one run: a smoke run"
    )
    parser.add_argument("--processes", type=int, default=50)
    parser.add_argument("--capacity", type=float, default=200.0, help="requests a second the server serves")
    parser.add_argument("--service-time", type=float, default=0.05)
    parser.add_argument("--load", type=float, default=0.8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--attempt-timeout", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1, help="the first run's seed (then seed+1, ...)")
    parser.add_argument("--runs", type=int, default=3, help="real runs of each strategy, each with its own arrivals")
    parser.add_argument("--sim-seeds", type=int, default=40, help="simulated runs of each strategy")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="a comma-separated choice")
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        sys.stdout.write(json.dumps(asyncio.run(client_process(args))) + "\n")
        return
    if args.quick:
        args.processes, args.seconds, args.strategies = 10, 15.0, "3-retries,recommended"
        args.runs, args.sim_seeds = 1, 5
    out = asyncio.run(calibrate(args))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
