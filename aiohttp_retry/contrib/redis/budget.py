"""The retry budget shared by a fleet: one budget rule over the calls and retries of every process."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp_retry.contrib.redis.fleet import RedisFleet
from aiohttp_retry.policy.budget import RetryBudget, _Tally

__all__ = ["SharedRetryBudget"]

# KEYS[1]: an origin's hash; per process p: c:p and r:p (the calls and retries in its window), h:p (the retries it
# holds: claimed and not spent), s:p (when it last told them, server ms).
# ARGV: the process; its calls; its retries; whether it may claim (0 or 1); ratio; reserve; window (ms); TTL (ms).
# Drops processes not heard of for a window, then claims for this process its share (its part of the fleet's
# calls) of what the fleet has left: the rule's room less every process's retries and every other process's
# holding. Returns {fleet calls, fleet retries, claim}.
_BUDGET_SCRIPT = """
local key, me = KEYS[1], ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', key, 'c:' .. me, ARGV[2], 'r:' .. me, ARGV[3], 's:' .. me, now)
local calls, retries, held = 0, 0, 0
local fields = redis.call('HGETALL', key)
local seen = {}
for i = 1, #fields, 2 do seen[fields[i]] = fields[i + 1] end
for name, value in pairs(seen) do
  if string.sub(name, 1, 2) == 's:' then
    local p = string.sub(name, 3)
    if now - tonumber(value) > tonumber(ARGV[7]) then
      redis.call('HDEL', key, 's:' .. p, 'c:' .. p, 'r:' .. p, 'h:' .. p)
    else
      calls = calls + tonumber(seen['c:' .. p] or 0)
      retries = retries + tonumber(seen['r:' .. p] or 0)
      if p ~= me then held = held + tonumber(seen['h:' .. p] or 0) end
    end
  end
end
local claim = 0
if tonumber(ARGV[4]) == 1 and calls > 0 then
  local left = math.max(0, tonumber(ARGV[5]) * calls + tonumber(ARGV[6]) - retries - held)
  claim = math.min(math.floor(left), math.floor(left * math.min(1, tonumber(ARGV[2]) / calls) + 0.5))
end
redis.call('HSET', key, 'h:' .. me, claim)
redis.call('PEXPIRE', key, ARGV[8])
return {calls, retries, claim}
"""


class _View:
    """One origin as this process shares it: its claim, and its calls when it was granted."""

    __slots__ = ("born", "calls", "claim", "synced", "taken")

    def __init__(self, now: float) -> None:
        self.born = now
        self.claim = 0  # retries the fleet granted this process at the last sync
        self.taken = 0  # retries spent since then (from the claim first)
        self.calls = 0  # this process's calls in its window at the last sync
        self.synced = False


class SharedRetryBudget(RetryBudget):
    """A retry budget over the calls and retries of every process using ``fleet`` (same rule as ``RetryBudget``).

    Within any ``window`` seconds, the fleet's retries to an origin may number
    ``ratio`` times the fleet's calls to it, plus ``min_per_second * window``.
    Each process counts its calls and retries as a ``RetryBudget`` does (counting
    a call costs nothing more). At each sync it tells its window's counts and
    claims its share (its part of the fleet's calls) of what the fleet has left;
    a claim is held against the others until the next sync, so no two processes
    are granted the same retries. Between syncs it spends its claim, then
    ``ratio`` retries per call it started since.

    Args:
        fleet: the :class:`RedisFleet` that syncs it.
        ratio, min_per_second, window, max_keys, clock: as for ``RetryBudget``; every process of
            the fleet must use the same.

    Before its first sync for an origin a process allows only ``ratio`` times its own calls
    (no reserve: processes starting at once would each spend the fleet's); while Redis is
    unreachable it is the local ``RetryBudget`` its counts make.
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
        super().__init__(ratio, min_per_second, window, max_keys=max_keys, clock=clock)
        self.fleet = fleet
        self.process = uuid.uuid4().hex[:12]  # this process's name in the fleet's hashes
        self._views: dict[str, _View] = {}
        ttl = max(1, math.ceil(self.window * 2000))
        self._args = (self.ratio, self._reserve, max(1, math.ceil(self.window * 1000)), ttl)
        fleet.join(self, _BUDGET_SCRIPT)
        self._sha = fleet.sha(_BUDGET_SCRIPT)

    def _tally(self, key: str, now: float) -> _Tally:
        """As ``RetryBudget._tally``; a key seen for the first time is shared from the next sync."""
        if key not in self._views:
            views = self._views
            if len(views) >= self.max_keys:
                del views[next(iter(views))]  # the oldest origin goes first
            views[key] = _View(now)
            self.fleet.start()
        return super()._tally(key, now)

    def try_retry(self, key: str) -> bool:
        """Spend one retry on ``key`` if the fleet's budget allows it (the local one while Redis is unreachable)."""
        if self.fleet.degraded:
            return super().try_retry(key)
        calls, retries = self.counts(key)  # (also makes the key's view)
        view = self._views[key]
        if view.taken < view.claim:
            pass
        elif view.synced:  # the claim is spent: what the calls started since the sync add
            if view.taken - view.claim + 1 > self.ratio * (calls - view.calls):
                return False
        elif retries + 1 > self.ratio * calls:  # not synced yet: own calls only, no reserve
            return False
        view.taken += 1
        self.record_retry(key)
        return True

    def queue(self, pipe: Any, *, final: bool = False) -> Callable[[list[Any]], int] | None:
        """Queue this sync's script calls on ``pipe``; the function that applies their answers, or ``None``."""
        now = self.clock()
        sent: list[tuple[_View, int, int]] = []
        for key, view in list(self._views.items()):
            calls, retries = self.counts(key)
            if not calls and not retries and view.born < now - self.window:
                del self._views[key]  # nothing in a whole window: forgotten here; its fields age out in Redis
                continue
            claim = 0 if final else 1
            pipe.evalsha(
                self._sha, 1, f"{self.fleet.prefix}:budget:{key}", self.process, calls, retries, claim, *self._args
            )
            sent.append((view, calls, view.taken))
        if not sent:
            return None

        def apply(results: list[Any]) -> int:
            for (view, calls, taken), answer in zip(sent, results, strict=False):
                view.claim = int(answer[2])
                view.taken -= taken  # spent while the sync was under way: from the new claim
                view.calls = calls
                view.synced = True
            return len(sent)

        return apply

    def __repr__(self) -> str:
        return (
            f"SharedRetryBudget({self.fleet.store}, ratio={self.ratio}, "
            f"min_per_second={self.min_per_second}, window={self.window})"
        )
