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

from aiohttp_retry.policy.validate import check_count, check_ratio, check_window

__all__ = ["RetryBudget"]

_BUCKETS = 10


class _Tally:
    """Calls and retries of one key, in a ring of buckets covering the window."""

    __slots__ = ("call_total", "calls", "retries", "retry_total", "tick")

    def __init__(self) -> None:
        self.calls = [0] * _BUCKETS
        self.retries = [0] * _BUCKETS
        self.call_total = 0
        self.retry_total = 0
        self.tick = 0

    def roll(self, tick: int) -> None:
        """Empty the buckets that fell out of the window on the way to ``tick``."""
        for step in range(min(tick - self.tick, _BUCKETS)):
            slot = (tick - step) % _BUCKETS
            self.call_total -= self.calls[slot]
            self.retry_total -= self.retries[slot]
            self.calls[slot] = self.retries[slot] = 0
        self.tick = tick


class RetryBudget:
    """A per-key (per-origin) ratio budget for retries.

    Args:
        ratio: retries allowed per call started, e.g. 0.2 for 20 % extra load.
        min_per_second: retries always allowed per second of ``window``, whatever the traffic:
            a reserve of ``min_per_second * window`` retries in any window.
        window: seconds over which calls and retries are counted (in 10 buckets).
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
        self.ratio = check_ratio(ratio, "ratio")
        self.min_per_second = check_ratio(min_per_second, "min_per_second")
        self.window = check_window(window)
        self.max_keys = check_count(max_keys, "max_keys")
        self.clock = clock
        self._reserve = self.min_per_second * self.window
        self._per_span = _BUCKETS / self.window  # buckets per second: a multiplication, cheaper than //
        self._tallies: dict[str, _Tally] = {}

    def _tally(self, key: str, tick: int) -> _Tally:
        tally = self._tallies.get(key)
        if tally is None:
            tallies = self._tallies
            if len(tallies) >= self.max_keys:
                del tallies[next(iter(tallies))]  # the oldest key goes first
            tally = tallies[key] = _Tally()
            tally.tick = tick
        elif tally.tick != tick:
            tally.roll(tick)
        return tally

    def record_call(self, key: str) -> None:
        """Count a call (its first try) to ``key``."""
        tick = int(self.clock() * self._per_span)
        tally = self._tallies.get(key)
        if tally is None or tally.tick != tick:
            tally = self._tally(key, tick)
        tally.calls[tick % _BUCKETS] += 1
        tally.call_total += 1

    def try_retry(self, key: str) -> bool:
        """Spend one retry on ``key`` if the budget allows it; return whether it did."""
        tick = int(self.clock() * self._per_span)
        tally = self._tally(key, tick)
        if tally.retry_total + 1 > self.ratio * tally.call_total + self._reserve:
            return False
        tally.retries[tick % _BUCKETS] += 1
        tally.retry_total += 1
        return True

    def __repr__(self) -> str:
        return f"RetryBudget(ratio={self.ratio}, min_per_second={self.min_per_second}, window={self.window})"
