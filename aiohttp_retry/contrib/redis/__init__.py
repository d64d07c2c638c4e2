"""State shared by a fleet of processes on Redis (extra ``redis``: redis-py >= 5.2, ``redis.asyncio``).

    fleet = RedisFleet(url="redis://cache:6379/0")
    async with fleet:
        client = RetryClient(retry_budget=SharedRetryBudget(fleet))

A budget kept in one process protects little when a service runs as hundreds of
them: each has its own reserve of retries. :class:`SharedRetryBudget` applies one
budget rule to the calls and retries of every process that uses the same
``prefix``. No request waits for Redis: each process decides on local counts,
and :class:`RedisFleet` pushes what it counted and reads the fleet's totals in
the background, every ``interval`` seconds, in one round trip (a Lua script per
origin, in one pipeline). Between two syncs a process spends its share of what
the fleet has left (its share of the fleet's calls), plus what its own new calls
add.

Keys: ``{prefix}:budget:{origin}``, a hash of per-bucket counts (buckets of
``window / 10`` seconds by the Redis server's clock), each written with a TTL of
twice the window; one key per origin in use, and nothing but ``host[:port]`` in it.

When Redis does not answer within ``timeout`` (down, paused, unreachable), the
policies decide on their local state, as a budget of their own would; the fleet
logs one WARNING and emits :class:`~aiohttp_retry.events.SharedStateLost`, keeps
trying every ``interval``, and when Redis answers again logs an INFO line, emits
:class:`~aiohttp_retry.events.SharedStateRestored`, and shares again. A Redis
failure never fails a call. Close the fleet (``async with`` or ``aclose()``) to
stop its task.
"""

from __future__ import annotations

from aiohttp_retry.contrib.redis.breaker import SharedCircuitBreaker
from aiohttp_retry.contrib.redis.budget import SharedRetryBudget
from aiohttp_retry.contrib.redis.fleet import RedisFleet

__all__ = ["RedisFleet", "SharedCircuitBreaker", "SharedRetryBudget"]
