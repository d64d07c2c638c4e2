"""State shared by a fleet of processes on Redis (extra ``redis``: redis-py >= 5.2, ``redis.asyncio``).

    fleet = RedisFleet(url="redis://cache:6379/0")
    async with fleet:
        client = RetryClient(
            retry_budget=SharedRetryBudget(fleet),
            circuit_breaker=SharedCircuitBreaker(fleet),
            rate_limiter=SharedRateLimiter(fleet, rules={"api.example.com": "10/s"}),
        )

A budget, a breaker or a rate limit kept in one process protects little when a
service runs as hundreds of them. :class:`SharedRetryBudget` applies one budget
rule to the calls and retries of every process that uses the same ``prefix``;
:class:`SharedCircuitBreaker` gives every origin one state, one failure ratio and
one set of half-open probes for the fleet; :class:`SharedRateLimiter` enforces
rate limits over every process's tries.

The budget and the breaker never make a request wait for Redis: each process
decides on local counts, and :class:`RedisFleet` pushes what it counted and reads
the fleet's state in the background, every ``interval`` seconds, in one round trip
(a Lua script per origin, in one pipeline). A rate limit needs the answer: a try
that a shared limit applies to waits for one round trip (a Lua script reserving
its start); a try no shared limit applies to does not.

Keys (each with a TTL; nothing but ``host[:port]`` or a rule's ``where`` in them):
``{prefix}:budget:{origin}`` and ``{prefix}:breaker:{origin}``, hashes of
per-process counts; ``{prefix}:rate:{origin}``, ``{prefix}:rate:*`` and
``{prefix}:rate:rule:{where}``, sorted sets of reserved starts;
``{prefix}:rate:processes``, the processes using the rate limits.

When Redis does not answer within ``timeout`` (down, paused, unreachable), the
policies decide on their local state; the fleet logs one WARNING and emits
:class:`~aiohttp_retry.events.SharedStateLost`, keeps trying every ``interval``,
and when Redis answers again logs an INFO line, emits
:class:`~aiohttp_retry.events.SharedStateRestored`, and shares again. A Redis
failure never fails a call, nor delays one by more than ``timeout``. Close the
fleet (``async with`` or ``aclose()``) to stop its task.
"""

from __future__ import annotations

from aiohttp_retry.contrib.redis.breaker import SharedCircuitBreaker
from aiohttp_retry.contrib.redis.budget import SharedRetryBudget
from aiohttp_retry.contrib.redis.fleet import RedisFleet
from aiohttp_retry.contrib.redis.limiter import SharedRateLimiter

__all__ = ["RedisFleet", "SharedCircuitBreaker", "SharedRateLimiter", "SharedRetryBudget"]
