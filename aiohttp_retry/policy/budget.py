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
    """Calls and retries of one key, in a ring of buckets covering the window.

    The bucket in progress counts its calls in ``current`` (its ring slot
    stays 0 until it is closed), so that counting a call reads the clock once
    and touches two attributes: it runs on every request.
    """

    __slots__ = ("calls", "current", "retries", "tick", "until")

    def __init__(self, tick: int, until: float) -> None:
        self.calls = [0] * _BUCKETS
        self.retries = [0] * _BUCKETS
        self.current = 0
        self.tick = tick
        self.until = until  # clock reading at which the bucket in progress closes

    def roll(self, tick: int, until: float) -> None:
        """Close the bucket in progress and empty those that fell out of the window on the way to ``tick``."""
        if tick > self.tick:
            self.calls[self.tick % _BUCKETS] = self.current
            self.current = 0
            for step in range(min(tick - self.tick, _BUCKETS)):
                slot = (tick - step) % _BUCKETS
                self.calls[slot] = self.retries[slot] = 0
            self.tick = tick
        self.until = until


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

    def _tally(self, key: str, now: float) -> _Tally:
        """The tally of ``key``, created or rolled forward to the bucket that holds ``now``."""
        tick = int(now * self._per_span)
        until = (tick + 1) / self._per_span
        tally = self._tallies.get(key)
        if tally is None:
            tallies = self._tallies
            if len(tallies) >= self.max_keys:
                del tallies[next(iter(tallies))]  # the oldest key goes first
            tally = tallies[key] = _Tally(tick, until)
        elif now >= tally.until:
            tally.roll(tick, until)
        return tally

    def record_call(self, key: str) -> None:
        """Count a call (its first try) to ``key``."""
        now = self.clock()
        tally = self._tallies.get(key)
        if tally is None or now >= tally.until:
            tally = self._tally(key, now)
        tally.current += 1

    def try_retry(self, key: str) -> bool:
        """Spend one retry on ``key`` if the budget allows it; return whether it did."""
        tally = self._tally(key, self.clock())
        if sum(tally.retries) + 1 > self.ratio * (sum(tally.calls) + tally.current) + self._reserve:
            return False
        tally.retries[tally.tick % _BUCKETS] += 1
        return True

    def record_retry(self, key: str) -> None:
        """Count a retry to ``key`` that another rule granted (a budget shared by a fleet), whatever this one says."""
        tally = self._tally(key, self.clock())
        tally.retries[tally.tick % _BUCKETS] += 1

    def counts(self, key: str) -> tuple[int, int]:
        """The calls and the retries counted for ``key`` within the window now."""
        tally = self._tally(key, self.clock())
        return sum(tally.calls) + tally.current, sum(tally.retries)

    def __repr__(self) -> str:
        return f"RetryBudget(ratio={self.ratio}, min_per_second={self.min_per_second}, window={self.window})"
