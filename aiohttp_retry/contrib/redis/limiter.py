"""The rate limiter shared by a fleet: the same limits as ``RateLimiter``, over the tries of every process."""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import Coroutine, Mapping
from typing import Any

from aiohttp_retry.contrib.redis.fleet import RedisFleet
from aiohttp_retry.engine.waiting import bounded
from aiohttp_retry.errors import RateLimitedError
from aiohttp_retry.policy.limits import LimitRules, RateLimiter, _describe, parse_rate
from aiohttp_retry.policy.validate import check_count, check_delay

__all__ = ["SharedRateLimiter"]

# KEYS: the sorted sets of the limits that apply (a reserved start per member, scored in server ms).
# ARGV: the try's member; the longest it may wait (ms); slack (ms); then per key its count and window (ms).
# The same rule as RateLimiter, by the server's clock: the earliest start, not before the last one reserved
# in any of the sets, at which no window of any of them holds more than its count. Reserves it in every set
# unless it is further away than the wait allowed. Returns {1 if reserved else 0, its distance (ms, as text),
# the index of the limit that set it (0: none)}.
_RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local slack = tonumber(ARGV[3])
local at, binding = now, 0
for i, key in ipairs(KEYS) do
  local count, span = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span - slack)
  local held = redis.call('ZCARD', key)
  if held > 0 then
    local last = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
    if last > at then at = last end
    if held >= count then
      local free = tonumber(redis.call('ZRANGE', key, held - count, held - count, 'WITHSCORES')[2]) + span + slack
      if free > at then at, binding = free, i end
    end
  end
end
if at - now > tonumber(ARGV[2]) then return {0, tostring(at - now), binding} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, at, ARGV[1])
  redis.call('PEXPIRE', key, math.ceil(at - now + tonumber(ARGV[3 + 2 * i]) + slack) + 1000)
end
return {1, tostring(at - now), binding}
"""

# KEYS[1]: the processes using the fleet's rate limits, scored by when each was last heard of (server ms).
# ARGV: the process; how long one stays counted unheard (ms); 1 to stay, 0 to leave. Returns how many there are.
_PROCESSES_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '1' then redis.call('ZADD', KEYS[1], now, ARGV[1]) else redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
"""


class _Limit:
    """One limit as the fleet shares it: its count and window, what it is called, and its sorted set."""

    __slots__ = ("count", "key", "label", "seconds")

    def __init__(self, count: int, seconds: float, label: str, key: str) -> None:
        self.count = count
        self.seconds = seconds
        self.label = label
        self.key = key


class SharedRateLimiter:
    """Rate limits over the tries of every process using ``fleet``: ``RateLimiter``'s limits, enforced fleet-wide.

    The limits are written as for :class:`~aiohttp_retry.RateLimiter` (``per_origin``,
    ``total``, ``rules``), and the rule is the same, applied by the Redis server to
    the tries of every process with the same prefix: a try is reserved the earliest
    start at which no window of any limit that applies holds more tries than allowed,
    in the order the server receives the requests, by the server's clock. A try that
    no limit applies to starts at once without asking Redis; one that a limit applies
    to waits for one round trip (a Lua script over the limits' sorted sets), then for
    its start. A try whose start would come after its call's deadline is not started
    (:class:`~aiohttp_retry.errors.RateLimitedError`).

    Hedges go only when every limit lets them go at once; asking Redis is a wait, so
    no hedge starts to a URL a shared limit applies to.

    While Redis is unreachable, each process applies the limits locally, with the
    count of each divided by the number of processes the fleet last counted (at
    least 1 each): together they stay within the limit unless a count is smaller
    than the number of processes. A request to Redis that fails or takes longer than
    the fleet's ``timeout`` delays the try by that much at most, then the try is
    decided locally.

    Args:
        fleet: the :class:`RedisFleet` whose connection and prefix it uses.
        per_origin, total, rules, slack: as for ``RateLimiter``; every process must use the same.
        max_keys: origins whose limits are kept in this process at once.

    Keys: ``{prefix}:rate:{origin}`` (per origin), ``{prefix}:rate:*`` (total) and
    ``{prefix}:rate:rule:{where}`` (rules), sorted sets of reserved starts, each
    expiring a second after its last start leaves the window; and
    ``{prefix}:rate:processes``, refreshed at every sync.

    Raises:
        TypeError, ValueError: a limit cannot be read (the message names it), or no limit is given.
    """

    def __init__(
        self,
        fleet: RedisFleet,
        per_origin: Any = None,
        *,
        total: Any = None,
        rules: Mapping[Any, Any] | None = None,
        max_keys: int = 1024,
        slack: float = 0.01,
    ) -> None:
        if not isinstance(fleet, RedisFleet):
            msg = f"fleet must be a RedisFleet, got a {type(fleet).__name__}"
            raise TypeError(msg)
        self.fleet = fleet
        self._spec = {"per_origin": per_origin, "total": total, "rules": rules, "max_keys": max_keys, "slack": slack}
        RateLimiter(**self._spec)  # checks every argument, naming the bad one
        prefix = f"{fleet.prefix}:rate"
        self.per_origin = None if per_origin is None else parse_rate(per_origin, "per_origin")
        self.total = None if total is None else parse_rate(total, "total")
        self._total = None if self.total is None else _Limit(*self.total, _describe(*self.total) + " in total", "")
        if self._total is not None:
            self._total.key = f"{prefix}:*"
        self.rules = LimitRules(rules, "rules", lambda limit, name, where: _limit(limit, name, where, prefix))
        self.max_keys = check_count(max_keys, "max_keys")
        self.slack = check_delay(slack, "slack")
        self._prefix = prefix
        self._origins: dict[str, _Limit] = {}
        self.process = uuid.uuid4().hex[:12]  # this process's name in the fleet's sets
        self._seq = 0
        self._held: dict[float, tuple[list[str], str]] = {}  # start -> keys and member, for cancel()
        self._reserve = fleet.redis.register_script(_RESERVE_SCRIPT)
        self._pending: set[asyncio.Task[None]] = set()
        self._local: RateLimiter | None = None  # the limits this process applies while Redis is unreachable
        self._local_for: float | None = None  # the outage it was made for
        self.processes = 1  # how many processes the fleet counted at the last sync
        self._used = False
        fleet.join(self, _PROCESSES_SCRIPT)
        self._sha = fleet.sha(_PROCESSES_SCRIPT)

    def _limits(self, key: str, url: Any) -> tuple[_Limit, ...]:
        """The limits that apply to a try to ``url`` at origin ``key``."""
        found: list[_Limit] = [] if self._total is None else [self._total]
        if self.per_origin is not None:
            origins = self._origins
            limit = origins.get(key)
            if limit is None:
                if len(origins) >= self.max_keys:
                    del origins[next(iter(origins))]
                count, seconds = self.per_origin
                label = f"{_describe(count, seconds)} per origin ({key})"
                limit = origins[key] = _Limit(count, seconds, label, f"{self._prefix}:{key}")
            found.append(limit)
        if self.rules:
            found.extend(self.rules.matching(key, url))
        return tuple(found)

    def reserve(self, key: str, url: Any, now: float, latest: float = math.inf) -> float | Coroutine[Any, Any, float]:
        """The start of a try to ``url`` (origin ``key``): ``now`` when no limit applies, else a coroutine asking Redis.

        While Redis is unreachable, the start the local share of the limits reserves.

        Raises:
            RateLimitedError: (from the coroutine) the start would come after ``latest``; nothing is reserved.
        """
        limits = self._limits(key, url)
        if not limits:
            return now
        fleet = self.fleet
        if fleet.degraded:
            return self._fallback().reserve(key, url, now, latest)
        if not self._used:
            self._used = True
            fleet.start()
        return self._ask(limits, key, url, now, latest)

    async def _ask(self, limits: tuple[_Limit, ...], key: str, url: Any, now: float, latest: float) -> float:
        loop = asyncio.get_running_loop()
        self._seq += 1
        member = f"{self.process}:{self._seq}"
        keys = [limit.key for limit in limits]
        wait = 1e15 if latest == math.inf else max(0.0, (latest - self.slack - now) * 1000)
        args: list[Any] = [member, wait, self.slack * 1000]
        for limit in limits:
            args += [limit.count, limit.seconds * 1000]
        held = self._held
        while held and next(iter(held)) < now:  # starts passed: no longer given back
            del held[next(iter(held))]
        try:
            reserved, distance, binding = await bounded(self._reserve(keys=keys, args=args), self.fleet.timeout)
        except asyncio.CancelledError:
            self._give_back(keys, member)  # it may have been reserved: a start given back is never used
            raise
        except Exception as error:  # noqa: BLE001 - Redis failed: decide locally, never fail the call for it
            self._give_back(keys, member)
            self.fleet.lost(error)
            return self._fallback().reserve(key, url, loop.time(), latest)
        wait_s = float(distance) / 1000
        if not reserved:
            raise RateLimitedError(limits[max(int(binding), 1) - 1].label, wait_s)
        at = loop.time() + wait_s
        if wait_s > 0:
            held[at] = (keys, member)
        return at

    def cancel(self, key: str, url: Any, at: float) -> None:
        """Give back a start reserved at ``at`` that will not be used (in Redis, in the background)."""
        held = self._held.pop(at, None)
        if held is not None:
            self._give_back(*held)
        elif self._local is not None:
            self._local.cancel(key, url, at)

    def _give_back(self, keys: list[str], member: str) -> None:
        task = asyncio.get_running_loop().create_task(self._remove(keys, member))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _remove(self, keys: list[str], member: str) -> None:
        pipe = self.fleet.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zrem(key, member)
        # a start not given back is a start not used: never more tries, so a failure here is let go
        with contextlib.suppress(Exception):
            await bounded(pipe.execute(), self.fleet.timeout)

    def _fallback(self) -> RateLimiter:
        """The local limits for the outage under way: each count divided by the processes last counted."""
        outage = self.fleet.lost_at
        if self._local is None or self._local_for != outage:
            share = max(1, self.processes)
            spec = dict(self._spec)
            for name in ("per_origin", "total"):
                if spec[name] is not None:
                    spec[name] = _shared(parse_rate(spec[name], name), share)
            if spec["rules"]:
                spec["rules"] = {
                    where: _shared(parse_rate(limit, "rules"), share) for where, limit in spec["rules"].items()
                }
            self._local, self._local_for = RateLimiter(**spec), outage
        return self._local

    def queue(self, pipe: Any, *, final: bool = False) -> Any:
        """Queue this sync's count of processes on ``pipe`` (once used); the function that applies the answer."""
        if not self._used:
            return None
        stay = max(1, math.ceil(self.fleet.interval * 3000))
        pipe.evalsha(self._sha, 1, f"{self._prefix}:processes", self.process, stay, 0 if final else 1)

        def apply(results: list[Any]) -> int:
            self.processes = max(1, int(results[0]))
            return 1

        return apply

    async def aclose(self) -> None:
        """Wait for the starts being given back (the fleet's ``aclose`` closes the connection)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def __repr__(self) -> str:
        parts = [self.fleet.store]
        if self.per_origin is not None:
            parts.append(f"per_origin={_describe(*self.per_origin)!r}")
        if self.total is not None:
            parts.append(f"total={_describe(*self.total)!r}")
        if self.rules:
            parts.append("rules=...")
        return f"SharedRateLimiter({', '.join(parts)})"


def _limit(limit: Any, name: str, where: str, prefix: str) -> _Limit:
    count, seconds = parse_rate(limit, name)
    return _Limit(count, seconds, f"{_describe(count, seconds)} for {where}", f"{prefix}:rule:{where}")


def _shared(rate: tuple[int, float], processes: int) -> tuple[int, float]:
    return max(1, rate[0] // processes), rate[1]
