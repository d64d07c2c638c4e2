"""The demo's scenarios, and the library setup it recommends, at the demo's time scale.

In ``flaky`` and ``slow-tail`` each client keeps :data:`CONCURRENCY` calls
under way; in ``outage`` and ``rate-limited`` calls start at a steady rate over
a fixed time, as requests reaching a service would, so that both clients meet
the outage or the limit at the same point of their run.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp_retry.demo.server import Behaviour, Flaky, Outage, RateLimited, SlowTail
from aiohttp_retry.jitter import FullJitterRetry
from aiohttp_retry.policy.breaker import CircuitBreaker
from aiohttp_retry.policy.hedging import Hedging

__all__ = [
    "ATTEMPTS",
    "CONCURRENCY",
    "LIBRARY",
    "LIBRARY_SETUP",
    "OPEN_LOOP_LIMIT",
    "PLAIN",
    "SCENARIOS",
    "Scenario",
    "library_breaker",
    "library_options",
    "rate_limit",
    "scenario_names",
]

#: Calls each client keeps under way in the closed-loop scenarios (flaky, slow-tail).
CONCURRENCY = 16
#: Calls under way at most in the paced scenarios, those waiting to retry included.
OPEN_LOOP_LIMIT = 8 * CONCURRENCY
#: Tries per call of the library's client.
ATTEMPTS = 4
PLAIN, LIBRARY = "ClientSession", "RetryClient"
#: How the library's client is set up, as printed.
LIBRARY_SETUP = (
    "RetryClient(retry_options=FullJitterRetry(attempts=4, start_timeout=0.02, max_timeout=0.5, total_timeout=5.0),\n"
    "            circuit_breaker=CircuitBreaker(minimum_throughput=10, window=0.2, break_duration=0.05))\n"
    "and its default RetryBudget() (retries add at most 20 % to the calls, plus 10 a second);\n"
    "slow-tail adds hedging=Hedging(delay=0.03). The breaker is scaled to the demo's runs of about\n"
    "a second (its defaults: 20 tries, a 10 s window, a 5 s break)."
)
_HEDGE_DELAY = 0.03
_OUTAGE_RUN = 1.2  # seconds over which the outage scenario's calls start
_OUTAGE = (0.3 * _OUTAGE_RUN, 0.6 * _OUTAGE_RUN)
_LIMITED_RUN = 0.6  # seconds over which the rate-limited scenario's calls start
_ALLOWED_SHARE = 0.7  # of the calls, what the rate limiter allows a second


def rate_limit(requests: int) -> int:
    """Requests a second per client that the rate-limited server allows: 70 % of the calls (all start within 1 s)."""
    return max(1, round(_ALLOWED_SHARE * requests))


@dataclass(frozen=True)
class Scenario:
    """A named server behaviour, and how calls are paced: over ``run`` seconds, or (``None``) a closed loop."""

    name: str
    text: str
    make: Callable[[int, random.Random], Behaviour]
    run: float | None = None
    hedged: bool = False
    outage: tuple[float, float] | None = None

    def describe(self, requests: int) -> str:
        """What the server does, and how the calls arrive."""
        pacing = f"{CONCURRENCY} calls at a time" if self.run is None else f"calls start steadily over {self.run:g} s"
        limit = rate_limit(requests)
        return f"{self.text.format(limit='1 request' if limit == 1 else f'{limit} requests')}; {pacing}"


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "flaky",
            "about 10 % of answers are 500, 502 or 503, and 3 % of connections drop",
            lambda _requests, rng: Flaky(rng),
        ),
        Scenario(
            "outage",
            f"every answer is 503 from {_OUTAGE[0]:.2f} s to {_OUTAGE[1]:.2f} s into the run, then the server recovers",
            lambda _requests, _rng: Outage(*_OUTAGE),
            run=_OUTAGE_RUN,
            outage=_OUTAGE,
        ),
        Scenario(
            "slow-tail",
            "one answer in 20 (5 %) takes 300 ms, the others 5 ms",
            lambda _requests, rng: SlowTail(rng),
            hedged=True,
        ),
        Scenario(
            "rate-limited",
            "the server allows {limit} a second per client and answers 429 with Retry-After: 1 beyond",
            lambda requests, _rng: RateLimited(rate_limit(requests)),
            run=_LIMITED_RUN,
        ),
    )
}


def library_breaker() -> CircuitBreaker:
    """The library client's circuit breaker (see :data:`LIBRARY_SETUP`)."""
    return CircuitBreaker(minimum_throughput=10, window=0.2, break_duration=0.05)


def library_options(scenario: Scenario, seed: int) -> FullJitterRetry:
    """The library's recommended options at the demo's time scale (see :data:`LIBRARY_SETUP`)."""
    return FullJitterRetry(
        attempts=ATTEMPTS,
        start_timeout=0.02,
        max_timeout=0.5,
        total_timeout=5.0,
        rng=random.Random(seed),
        hedging=Hedging(delay=_HEDGE_DELAY) if scenario.hedged else None,
    )


def scenario_names(names: Iterable[str] | None) -> list[str]:
    """``names`` checked and without repeats, in the order given; all scenarios for ``None`` or ``"all"``."""
    chosen: list[str] = []
    for name in names or ["all"]:
        if name == "all":
            chosen.extend(SCENARIOS)
        elif name in SCENARIOS:
            chosen.append(name)
        else:
            msg = f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)} or all"
            raise ValueError(msg)
    return list(dict.fromkeys(chosen))
