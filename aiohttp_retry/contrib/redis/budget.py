"""The retry budget shared by a fleet: one budget rule over the calls and retries of every process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from aiohttp_retry.contrib.redis.fleet import RedisFleet
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.validate import check_count

__all__ = ["SharedRetryBudget"]

# KEYS[1]: an origin's hash of per-bucket counts (fields c<bucket>, r<bucket>). ARGV: the calls to add; the
# retries spent beyond the last claim; the unspent part of the last claim and the bucket it was taken in; this
# process's calls in the window (0: claim nothing); ratio; reserve; bucket span (ms); buckets per window; TTL (ms).
# Counts by the server's clock, drops buckets that left the window, then claims for this process its share of
# what the fleet has left (counted as spent at once, so that no two processes are granted the same retries).
# Returns {calls, retries, claim, bucket}: the window's totals, the claim, the bucket it is counted in.
_BUDGET_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = math.floor(now / tonumber(ARGV[8]))
local oldest = current - tonumber(ARGV[9]) + 1
local key = KEYS[1]
if tonumber(ARGV[3]) > 0 and tonumber(ARGV[4]) >= oldest then
  -- never below what the bucket holds: a server that restarted empty has no claim to give back
  local back = math.min(tonumber(ARGV[3]), tonumber(redis.call('HGET', key, 'r' .. ARGV[4]) or 0))
  if back > 0 then redis.call('HINCRBY', key, 'r' .. ARGV[4], -back) end
end
if tonumber(ARGV[1]) > 0 then redis.call('HINCRBY', key, 'c' .. current, ARGV[1]) end
if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', key, 'r' .. current, ARGV[2]) end
local fields = redis.call('HGETALL', key)
local calls, retries = 0, 0
for i = 1, #fields, 2 do
  local name = fields[i]
  if tonumber(string.sub(name, 2)) < oldest then
    redis.call('HDEL', key, name)
  elseif string.sub(name, 1, 1) == 'c' then
    calls = calls + tonumber(fields[i + 1])
  else
    retries = retries + tonumber(fields[i + 1])
  end
end
local claim = 0
if calls > 0 then
  local left = tonumber(ARGV[6]) * calls + tonumber(ARGV[7]) - retries
  local share = math.min(1, tonumber(ARGV[5]) / calls)
  claim = math.min(math.floor(math.max(0, left)), math.floor(math.max(0, left) * share + 0.5))
  if claim > 0 then
    redis.call('HINCRBY', key, 'r' .. current, claim)
    retries = retries + claim
  end
end
redis.call('PEXPIRE', key, ARGV[10])
return {calls, retries, claim, current}
"""


class _View:
    """One origin as this process sees the fleet: what it counted since the last sync, and its claim."""

    __slots__ = ("bucket", "calls", "claim", "extra", "synced", "taken", "used")

    def __init__(self, now: float) -> None:
        self.calls = 0  # calls counted here since the last sync
        self.claim = 0  # retries granted to this process at the last sync (already counted in the fleet)
        self.taken = 0  # of which spent
        self.extra = 0  # retries spent beyond the claim (paid by own new calls, or by the local budget)
        self.bucket = 0  # the server's bucket the claim is counted in
        self.synced = False
        self.used = now


class SharedRetryBudget:
    """A retry budget over the calls and retries of every process using ``fleet`` (same rule as ``RetryBudget``).

    Within any ``window`` seconds, the fleet's retries to an origin may number
    ``ratio`` times the fleet's calls to it, plus ``min_per_second * window``.
    At each sync a process claims its share (its part of the fleet's calls) of
    the retries the fleet has left; the claim counts as spent at once, so no two
    processes are granted the same retries, and what is left of it is given back
    at the next sync. Between syncs a process spends its claim, plus ``ratio``
    retries per call it started since.

    Args:
        fleet: the :class:`RedisFleet` that syncs it.
        ratio, min_per_second, window, max_keys, clock: as for ``RetryBudget``; every process of
            the fleet must use the same.

    Before its first sync for an origin a process allows only ``ratio`` times its own calls
    (no reserve: processes starting at once would each spend the fleet's); while Redis is
    unreachable it follows its own local budget, whose counts are kept all along.
    """

    def __init__(
        self,
        fleet: RedisFleet,
        ratio: float = 0.2,
        min_per_second: float = 10.0,
        window: float = 10.0,
        *,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(fleet, RedisFleet):
            msg = f"fleet must be a RedisFleet, got a {type(fleet).__name__}"
            raise TypeError(msg)
        self.fleet = fleet
        self.local = RetryBudget(ratio, min_per_second, window, max_keys=max_keys, clock=clock)
        self.ratio = self.local.ratio
        self.reserve = self.local.min_per_second * self.local.window
        self.window = self.local.window
        self.max_keys = check_count(max_keys, "max_keys")
        self.clock = clock
        self._views: dict[str, _View] = {}
        # ratio, reserve, the bucket span (ms: a tenth of the window), buckets per window, the TTL (ms: two windows)
        span = max(1, math.floor(self.window * 100))
        self._args = (self.ratio, self.reserve, span, 10, max(1, math.ceil(self.window * 2000)))
        fleet.join(self, _BUDGET_SCRIPT)
        self._sha = fleet.sha(_BUDGET_SCRIPT)

    def _view(self, key: str) -> _View:
        views = self._views
        if len(views) >= self.max_keys:
            del views[next(iter(views))]  # the oldest origin goes first
        view = views[key] = _View(self.clock())
        self.fleet.start()
        return view

    def record_call(self, key: str) -> None:
        """Count a call (its first try) to ``key``."""
        self.local.record_call(key)
        view = self._views.get(key) or self._view(key)
        view.calls += 1

    def try_retry(self, key: str) -> bool:
        """Spend one retry on ``key`` if the fleet's budget allows it (the local one while Redis is unreachable)."""
        view = self._views.get(key) or self._view(key)
        view.used = self.clock()
        if self.fleet.degraded:
            if not self.local.try_retry(key):
                return False
            view.extra += 1
            return True
        if view.taken < view.claim:
            view.taken += 1
        elif view.synced and view.extra + 1 <= self.ratio * view.calls:
            view.extra += 1
        elif not view.synced:  # not synced yet: own calls only, no reserve
            calls, retries = self.local.counts(key)
            if retries + 1 > self.ratio * calls:
                return False
            view.extra += 1
        else:
            return False
        self.local.record_retry(key)
        return True

    def queue(self, pipe: Any, *, final: bool = False) -> Callable[[list[Any]], int] | None:
        """Queue this sync's script calls on ``pipe``; the function that applies their answers, or ``None``."""
        now = self.clock()
        horizon = now - self.window
        sent: list[tuple[_View, int, int, int]] = []
        for key, view in list(self._views.items()):
            if view.calls or view.extra or view.taken:
                view.used = now
            elif view.used < horizon:  # unused for a whole window: forgotten (its key expires in Redis)
                del self._views[key]
                continue
            own = 0 if final else self.local.counts(key)[0]
            unspent = view.claim - view.taken
            pipe.evalsha(
                self._sha,
                1,
                f"{self.fleet.prefix}:budget:{key}",
                view.calls,
                view.extra,
                unspent,
                view.bucket,
                own,
                *self._args,
            )
            sent.append((view, view.calls, view.extra, view.taken))
        if not sent:
            return None

        def apply(results: list[Any]) -> int:
            for (view, calls, extra, taken), answer in zip(sent, results, strict=False):
                view.calls -= calls
                view.extra -= extra
                view.taken -= taken  # spent since the answer was asked for: from the new claim
                view.claim = int(answer[2])
                view.bucket = int(answer[3])
                view.synced = True
            return len(sent)

        return apply

    def __repr__(self) -> str:
        return (
            f"SharedRetryBudget({self.fleet.store}, ratio={self.ratio}, "
            f"min_per_second={self.local.min_per_second}, window={self.window})"
        )
