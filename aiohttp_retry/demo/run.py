"""The run: each scenario with a plain ``ClientSession``, then with the recommended ``RetryClient``."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from aiohttp import ClientError, ClientSession

from aiohttp_retry.client import RetryClient
from aiohttp_retry.demo.scenarios import (
    CONCURRENCY,
    LIBRARY,
    OPEN_LOOP_LIMIT,
    PLAIN,
    SCENARIOS,
    Scenario,
    library_breaker,
    library_options,
    scenario_names,
)
from aiohttp_retry.demo.server import CALL_HEADER, CLIENT_HEADER, DemoServer, Phase
from aiohttp_retry.errors import RetryError
from aiohttp_retry.events import BreakerStateChange, BudgetRefused, GaveUp, HedgeFired, RetryScheduled
from aiohttp_retry.report import LatencySketch, Report
from aiohttp_retry.report.stats import EndpointStats

__all__ = ["DemoResult", "ScenarioResult", "Watcher", "run_demo"]

_FAILURES = (ClientError, asyncio.TimeoutError, RetryError)


@dataclass(frozen=True)
class DemoResult:
    """The figures of one client in one scenario; durations in seconds.

    The client counts calls (``succeeded``: answered 200) and their latency;
    the server counts ``hits`` and its ``answers`` by status (``"dropped"``:
    connections it dropped), the hits during an outage, the 429s it gave and
    the shortest gap between a 429 and the same call's next try. For
    ``RetryClient``, retries, budget refusals, breaker openings, hedges and why
    calls gave up are counted from its events.
    """

    name: str
    requests: int
    succeeded: int
    hits: int
    elapsed: float
    p50: float | None = None
    p99: float | None = None
    retries: int = 0
    refused: int = 0
    gave_up: dict[str, int] = field(default_factory=dict)
    breaker_opened: int = 0
    hedges: int = 0
    waited_as_asked: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    outage_hits: int = 0
    after_outage: int = 0
    after_outage_succeeded: int = 0
    throttled: int = 0
    shortest_gap: float | None = None

    @property
    def success_ratio(self) -> float:
        """The share of calls that succeeded."""
        return self.succeeded / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-serialisable data."""
        return {**asdict(self), "success_ratio": self.success_ratio}


@dataclass(frozen=True)
class ScenarioResult:
    """Both clients' figures in one scenario; ``stats`` is the library client's row of ``report``."""

    name: str
    summary: str
    plain: DemoResult
    library: DemoResult
    stats: EndpointStats | None = None
    report: Report | None = field(default=None, repr=False, compare=False)


class Watcher(Protocol):
    """Who follows a run: told the phases up front, each result as its phase ends, and the end."""

    async def start(self, phases: list[Phase]) -> None:
        """The run is about to start ``phases``, in order."""

    def finished(self, phase: Phase, result: DemoResult) -> None:
        """``phase`` ended with ``result``."""

    async def stop(self) -> None:
        """The run is over (or failed)."""


class _Tally:
    """A listener counting the library client's retries, refusals, breaker openings, hedges and give-ups."""

    listens_to = frozenset({RetryScheduled, BudgetRefused, BreakerStateChange, HedgeFired, GaveUp})

    def __init__(self) -> None:
        self.retries = self.refused = self.opened = self.hedges = self.waited_as_asked = 0
        self.gave_up: Counter[str] = Counter()

    def __call__(self, event: object) -> None:
        if isinstance(event, RetryScheduled):
            self.retries += 1
            self.waited_as_asked += event.retry_after
        elif isinstance(event, BudgetRefused):
            self.refused += 1
        elif isinstance(event, BreakerStateChange):
            self.opened += event.new == "open"
        elif isinstance(event, HedgeFired):
            self.hedges += 1
        elif isinstance(event, GaveUp):
            self.gave_up[event.reason.value] += 1


async def _drive(phase: Phase, scenario: Scenario, send: Callable[[int], Any], sketch: LatencySketch) -> list[float]:
    """Make ``phase.total`` calls through ``send(index)``; return the start offsets of the calls that succeeded."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONCURRENCY if scenario.run is None else OPEN_LOOP_LIMIT)
    pace = None if scenario.run is None else phase.total / scenario.run
    start = phase.started = loop.time()
    succeeded: list[float] = []

    async def one(index: int) -> None:
        if pace is not None:
            await asyncio.sleep(max(start + index / pace - loop.time(), 0.0))
        async with gate:
            began = loop.time()
            ok = False
            try:
                async with send(index) as response:
                    await response.read()
                    ok = response.status == 200  # noqa: PLR2004
            except _FAILURES:
                pass
            sketch.add(loop.time() - began)
        phase.done += 1
        if ok:
            phase.ok += 1
            succeeded.append(began - start)

    await asyncio.gather(*(one(index) for index in range(phase.total)))
    phase.finished = loop.time()
    return succeeded


def _figures(phase: Phase, scenario: Scenario, succeeded: list[float], **more: Any) -> DemoResult:
    after = after_ok = 0
    if scenario.outage is not None and scenario.run is not None:
        end, pace = scenario.outage[1], phase.total / scenario.run
        after = sum(1 for index in range(phase.total) if index / pace >= end)
        after_ok = sum(1 for offset in succeeded if offset >= end)
    return DemoResult(
        name=phase.client,
        requests=phase.total,
        succeeded=phase.ok,
        hits=phase.hits,
        elapsed=(phase.finished or phase.started) - phase.started,
        answers=dict(sorted(phase.answers.items())),
        outage_hits=phase.outage_hits,
        after_outage=after,
        after_outage_succeeded=after_ok,
        throttled=phase.throttled,
        shortest_gap=phase.shortest_gap,
        **more,
    )


def _rng(seed: int, scenario: Scenario) -> random.Random:
    return random.Random(f"{seed}/{scenario.name}")  # the same faults, in the same order, for both clients


async def _plain(server: DemoServer, scenario: Scenario, phase: Phase, seed: int) -> DemoResult:
    sketch = LatencySketch()
    url = f"{server.base_url}/{scenario.name}"
    async with ClientSession(headers={CLIENT_HEADER: phase.client}) as session:
        server.begin(phase, scenario.make(phase.total, _rng(seed, scenario)))
        succeeded = await _drive(phase, scenario, lambda i: session.get(url, headers={CALL_HEADER: str(i)}), sketch)
    p50, p99 = sketch.quantiles((0.5, 0.99))
    return _figures(phase, scenario, succeeded, p50=p50, p99=p99)


async def _library(
    server: DemoServer, scenario: Scenario, phase: Phase, seed: int, report: Report
) -> tuple[DemoResult, EndpointStats | None]:
    tally = _Tally()
    url = f"{server.base_url}/{scenario.name}"
    async with RetryClient(
        retry_options=library_options(scenario, seed),
        circuit_breaker=library_breaker(),
        listeners=[report, tally],
        headers={CLIENT_HEADER: phase.client},
    ) as client:
        server.begin(phase, scenario.make(phase.total, _rng(seed, scenario)))
        sketch = LatencySketch()  # the figures below come from the report; this one is not shown
        succeeded = await _drive(phase, scenario, lambda i: client.get(url, headers={CALL_HEADER: str(i)}), sketch)
    stats = next((row for row in report.rows() if row.route == f"/{scenario.name}"), None)
    result = _figures(
        phase,
        scenario,
        succeeded,
        p50=None if stats is None else stats.p50,
        p99=None if stats is None else stats.p99,
        retries=tally.retries,
        refused=tally.refused,
        gave_up=dict(tally.gave_up.most_common()),
        breaker_opened=tally.opened,
        hedges=tally.hedges,
        waited_as_asked=tally.waited_as_asked,
    )
    return result, stats


async def run_demo(
    requests: int = 300,
    seed: int = 7,
    scenarios: Iterable[str] | None = None,
    *,
    watcher: Watcher | None = None,
) -> dict[str, ScenarioResult]:
    """Run each scenario (default: all) with both clients against one local server; return the figures by scenario.

    The library clients share one :class:`~aiohttp_retry.report.Report`, with a
    row per scenario (``GET /flaky`` ...), which every result holds.

    Raises:
        ValueError: ``requests`` is below 1, or a scenario name is unknown.
    """
    if requests < 1:
        msg = f"requests must be an integer >= 1, got {requests!r}"
        raise ValueError(msg)
    names = scenario_names(scenarios)
    report = Report(routes=[f"/{name}" for name in SCENARIOS])
    phases = {(name, client): Phase(name, client, requests) for name in names for client in (PLAIN, LIBRARY)}
    results: dict[str, ScenarioResult] = {}
    if watcher is not None:
        await watcher.start(list(phases.values()))
    try:
        async with DemoServer() as server:
            for name in names:
                scenario = SCENARIOS[name]
                phase = phases[name, PLAIN]
                plain = await _plain(server, scenario, phase, seed)
                if watcher is not None:
                    watcher.finished(phase, plain)
                phase = phases[name, LIBRARY]
                library, stats = await _library(server, scenario, phase, seed, report)
                if watcher is not None:
                    watcher.finished(phase, library)
                results[name] = ScenarioResult(name, scenario.describe(requests), plain, library, stats, report)
    finally:
        if watcher is not None:
            await watcher.stop()
    return results
