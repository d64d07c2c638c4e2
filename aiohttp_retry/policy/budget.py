"""Retry budgets: retries may add at most a fixed share to the traffic to each origin.

A retry count per call caps one call; it does nothing when every call fails at
once, which is when retries hurt most: with 4 attempts a full outage sends the
dependency 4 times its normal load. A budget caps retries as a fraction of
recent calls instead (the scheme Finagle and Linkerd use): within any
``window`` seconds, retries may number ``ratio`` times the calls started, plus a
reserve of ``min_per_second * window`` so that quiet clients can still retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp_retry.policy.validate import check_count, check_delay, check_window
from aiohttp_retry.policy.window import RollingCounter

__all__ = ["RetryBudget"]

_CALLS, _RETRIES = 0, 1


class RetryBudget:
    """A per-key (per-origin) ratio budget for retries.

    Args:
        ratio: retries allowed per call started, e.g. 0.2 for 20 % extra load.
        min_per_second: retries always allowed per second of ``window``, whatever the traffic.
        window: seconds over which calls and retries are counted.
        max_keys: origins tracked at once; when full, the longest-known one is forgotten first.
        clock: a monotonic clock in seconds.

    Defaults are Finagle's: 20 %, 10 retries per second, 10 s.
    """

    def __init__(
        self,
        ratio: float = 0.2,
        min_per_second: float = 10.0,
        window: float = 10.0,
        *,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ratio = check_delay(ratio, "ratio")
        self.min_per_second = check_delay(min_per_second, "min_per_second")
        self.window = check_window(window)
        self.max_keys = check_count(max_keys, "max_keys")
        self.clock = clock
        self._reserve = self.min_per_second * self.window
        self._counters: dict[str, RollingCounter] = {}

    def _counter(self, key: str) -> RollingCounter:
        counter = self._counters.get(key)
        if counter is None:
            counters = self._counters
            if len(counters) >= self.max_keys:
                del counters[next(iter(counters))]  # the oldest key goes first
            counter = counters[key] = RollingCounter(self.window, 10, ("calls", "retries"))
        return counter

    def record_call(self, key: str) -> None:
        """Count a call (its first try) to ``key``."""
        self._counter(key).add(_CALLS, self.clock())

    def try_retry(self, key: str) -> bool:
        """Spend one retry on ``key`` if the budget allows it; return whether it did."""
        counter = self._counter(key)
        now = self.clock()
        allowed = counter.total(_RETRIES, now) + 1 <= self.ratio * counter.total(_CALLS, now) + self._reserve
        if allowed:
            counter.add(_RETRIES, now)
        return allowed

    def __repr__(self) -> str:
        return f"RetryBudget(ratio={self.ratio}, min_per_second={self.min_per_second}, window={self.window})"
