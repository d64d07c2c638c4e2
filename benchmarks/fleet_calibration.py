"""The fleet simulator beside the real library: the same small setting run for real and simulated.

For real: an aiohttp server on 127.0.0.1 with a capacity limit (``workers`` requests served at
once, each taking ``service_time``; the rest wait in arrival order, and a request whose client
gave up is still served), and P client processes, each starting calls as a Poisson stream
through ``RetryClient``, the whole fleet at ``load`` times the capacity. The server's capacity
drops to half for a while, as in the simulator's "dip" scenario. Simulated: the same numbers
in ``benchmarks/fleet_sim.py``. For each strategy it prints the amplification (requests at the
server per call) and the share of calls that succeeded, both ways, and how far apart they are.

Run: python benchmarks/fleet_calibration.py [--quick] [--processes 50] [--json PATH]
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
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp_retry import ExponentialRetry, RetryClient
from benchmarks import fleet_sim
from benchmarks.scenario_support import free_port

HERE = Path(__file__).resolve()
#: The strategies calibrated: their names in fleet_sim, and the options each real client uses.
STRATEGIES = ("no-retries", "3-retries")


def options_of(strategy: str, attempt_timeout: float) -> ExponentialRetry:
    attempts = 1 if strategy == "no-retries" else 4
    return ExponentialRetry(attempts=attempts, attempt_timeout=attempt_timeout)


async def client_process(args: argparse.Namespace) -> dict[str, Any]:
    """One process of the fleet: calls started as a Poisson stream for ``seconds`` from ``begin``; its outcomes."""
    rng = random.Random(args.seed)
    outcomes = {"calls": 0, "ok": 0, "failed": 0}
    options = options_of(args.strategy, args.attempt_timeout)
    async with RetryClient(retry_options=options, retry_budget=None) as client:

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
        await asyncio.sleep(max(0.0, begin - time.time()))
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        due = start + rng.expovariate(args.rate)
        while due < start + args.seconds:
            await asyncio.sleep(max(0.0, due - loop.time()))
            tasks.append(asyncio.ensure_future(call()))
            outcomes["calls"] += 1
            due += rng.expovariate(args.rate)
        await asyncio.gather(*tasks)
    return outcomes


class CappedServer:
    """``workers`` requests served at once, ``service_time`` each, the others queued in arrival order."""

    def __init__(self, workers: int, service_time: float) -> None:
        self.workers = workers
        self.service_time = service_time
        self.busy = 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.arrivals = 0

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
        try:
            await asyncio.sleep(self.service_time)
        finally:
            self.busy -= 1
            self._wake()
        return web.Response(text="ok")


async def real_run(args: argparse.Namespace, strategy: str, scenario: fleet_sim.Scenario) -> dict[str, Any]:
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
    children = [
        await asyncio.create_subprocess_exec(*cmd, "--seed", str(n), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
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
        await asyncio.sleep(max(0.0, begin - time.time()))
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at, share, _ in scenario.events:
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            server.resize(max(1, round(workers * share)))

    changes = asyncio.ensure_future(schedule())
    reports = [json.loads((await child.communicate())[0]) for child in children]
    changes.cancel()
    server.resize(1_000_000)  # the backlog nobody waits for: served at once, so that the server can stop
    await runner.cleanup()
    calls = sum(r["calls"] for r in reports)
    return {
        "calls": calls,
        "success": sum(r["ok"] for r in reports) / calls,
        "amplification": server.arrivals / calls,
    }


def simulated(args: argparse.Namespace, strategy: str, scenario: fleet_sim.Scenario) -> dict[str, Any]:
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
        seed=args.seed,
        drain=30.0,
    )
    return dict(row["whole_run"])


async def calibrate(args: argparse.Namespace) -> dict[str, Any]:
    half = args.seconds / 3
    scenario = fleet_sim.Scenario("dip", int(args.seconds), [(half, 0.5, 0.0), (2 * half, 1.0, 0.0)], 2 * half)
    out: dict[str, Any] = {}
    print(
        f"{args.processes} client processes, capacity {args.capacity:g}/s ({args.service_time * 1000:g} ms a request), "
        f"calls at {args.load:.0%} of it for {args.seconds:g} s, capacity at 50 % from {half:g} s to {2 * half:g} s, "
        f"try timeout {args.attempt_timeout:g} s"
    )
    print(f"{'strategy':12s} {'':10s} {'calls':>6s} {'requests/call':>14s} {'succeeded':>10s}")
    for strategy in STRATEGIES:
        real = await real_run(args, strategy, scenario)
        sim = simulated(args, strategy, scenario)
        out[strategy] = {"real": real, "simulated": sim}
        for name, row in (("real", real), ("simulated", sim)):
            print(f"{strategy:12s} {name:10s} {row['calls']:6d} {row['amplification']:14.2f} {row['success']:10.1%}")
        gap_amp = sim["amplification"] / real["amplification"] - 1
        gap_ok = sim["success"] / real["success"] - 1 if real["success"] else float("nan")
        print(f"{'':12s} {'apart':10s} {'':6s} {gap_amp:+14.1%} {gap_ok:+10.1%}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 processes for 15 s: a smoke run")
    parser.add_argument("--processes", type=int, default=50)
    parser.add_argument("--capacity", type=float, default=200.0, help="requests a second the server serves")
    parser.add_argument("--service-time", type=float, default=0.05)
    parser.add_argument("--load", type=float, default=0.8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--attempt-timeout", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        sys.stdout.write(json.dumps(asyncio.run(client_process(args))) + "\n")
        return
    if args.quick:
        args.processes, args.seconds = 10, 15.0
    out = asyncio.run(calibrate(args))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
