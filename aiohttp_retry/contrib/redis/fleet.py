"""The Redis connection, key prefix and background sync that the shared policies of a process use."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiohttp_retry.engine.waiting import bounded
from aiohttp_retry.events import Listener, SharedStateLost, SharedStateRestored, emit_to

try:
    from redis.asyncio import BlockingConnectionPool, Redis
    from redis.exceptions import NoScriptError
except ImportError as missing:  # pragma: no cover - exercised only without the extra
    msg = "aiohttp_retry.contrib.redis needs redis-py: pip install 'aiohttp_retry[redis]'"
    raise ImportError(msg) from missing

__all__ = ["RedisFleet"]

_LOGGER = logging.getLogger("aiohttp_retry.redis")


def _check_seconds(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        msg = f"{name} must be a number of seconds from {low:g} to {high:g}, got {value!r}"
        raise ValueError(msg)
    return float(value)


class RedisFleet:
    """The Redis connection, key prefix and background sync shared by the fleet's policies.

    Args:
        redis: a ``redis.asyncio.Redis`` you built (the fleet leaves it open); or
        url: a Redis URL, for which the fleet builds a client on a ``BlockingConnectionPool``
            (redis-py 8's default pool raises ``MaxConnectionsError`` when exhausted instead of
            waiting) with ``timeout`` as its socket timeouts, and closes it with the fleet.
        prefix: the first part of every key; processes with the same prefix share state.
        interval: seconds between two syncs (0.01 to 60).
        timeout: seconds a sync may take before Redis counts as unreachable (0.001 to 60).
        listeners: callables given ``SharedStateLost`` and ``SharedStateRestored``.
        logger: where the one WARNING per outage and the INFO line on recovery go.

    Raises:
        ValueError, TypeError: a bad argument, named in the message.
    """

    def __init__(
        self,
        redis: Redis | None = None,
        *,
        url: str | None = None,
        prefix: str = "aiohttp_retry",
        interval: float = 0.2,
        timeout: float = 0.25,
        listeners: Iterable[Listener] = (),
        logger: logging.Logger | None = None,
    ) -> None:
        if (redis is None) == (url is None):
            msg = "RedisFleet needs exactly one of redis= (a redis.asyncio.Redis) or url= (a Redis URL)"
            raise ValueError(msg)
        if redis is not None and not isinstance(redis, Redis):
            msg = f"redis must be a redis.asyncio.Redis, got a {type(redis).__name__}"
            raise TypeError(msg)
        if not isinstance(prefix, str) or not prefix:
            msg = f"prefix must be a non-empty string, got {prefix!r}"
            raise ValueError(msg)
        self.interval = _check_seconds(interval, "interval", 0.01, 60.0)
        self.timeout = _check_seconds(timeout, "timeout", 0.001, 60.0)
        self.prefix = prefix
        self.listeners = tuple(listeners)
        for listener in self.listeners:
            if not callable(listener):
                msg = f"listeners must hold callables taking one event, got {listener!r}"
                raise TypeError(msg)
        self.logger = logger or _LOGGER
        self._owned = redis is None
        if redis is None:
            pool = BlockingConnectionPool.from_url(
                str(url), timeout=self.timeout, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
            )
            redis = Redis.from_pool(pool)
        self.redis: Redis = redis
        self.store = _describe(redis, prefix)
        self._members: list[Any] = []
        self._scripts: dict[str, str] = {}  # Lua source -> SHA1, loaded into the server before the first use
        self._loaded = False
        self._task: asyncio.Task[None] | None = None
        self._lost_at: float | None = None  # monotonic time of the failed sync that began an outage
        self.synced = False  # at least one sync has succeeded
        self.syncs = 0  # rounds that reached Redis, and rounds that did not
        self.failures = 0

    @property
    def degraded(self) -> bool:
        """Whether Redis is unreachable now: the policies decide on local state."""
        return self._lost_at is not None

    def join(self, member: Any, *scripts: str) -> None:
        """Add a policy whose ``queue(pipeline)`` takes part in every sync, and the Lua scripts it runs there."""
        self._members.append(member)
        for script in scripts:
            self._scripts[script] = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
            self._loaded = False

    def sha(self, script: str) -> str:
        """The SHA1 by which a joined script is called (``EVALSHA``)."""
        return self._scripts[script]

    def start(self) -> None:
        """Start the background sync on the running loop, if it is not running (the policies call this)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"aiohttp_retry fleet {self.store}")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.sync()

    async def sync(self, *, final: bool = False) -> bool:
        """One sync of every policy, in one round trip; whether Redis answered (never raises but on cancellation).

        ``final``: push what is counted and give back what is claimed, claiming nothing new (on closing).
        """
        try:
            done = await bounded(self._round(final=final), self.timeout)
        except Exception as error:  # noqa: BLE001 - any failure of Redis means: decide locally
            self.failures += 1
            self.lost(error)
            return False
        if done is None:
            return True  # nothing in use: nothing to tell or ask
        appliers, results = done
        self.syncs += 1
        at = 0
        for applier in appliers:
            if applier is not None:
                taken = applier(results[at:])
                at += taken
        self.synced = True
        self._restored()
        return True

    async def _round(self, *, final: bool) -> tuple[list[Any], list[Any]] | None:
        """Queue every policy's commands in one pipeline and run it: the appliers and the answers, or ``None``.

        The scripts are loaded first if the server does not have them (new, or restarted: then no
        command of the round ran, and the round is queued again).
        """
        for loaded_now in (False, True):
            if not self._loaded:
                await self._load()
            pipe = self.redis.pipeline(transaction=False)
            appliers = [member.queue(pipe, final=final) for member in self._members]
            if not any(applier is not None for applier in appliers):
                return None
            try:
                return appliers, await pipe.execute()
            except NoScriptError:
                if loaded_now:
                    raise
                self._loaded = False
        return None  # pragma: no cover - the loop returns or raises

    async def _load(self) -> None:
        for script in self._scripts:
            await self.redis.script_load(script)
        self._loaded = True

    @property
    def lost_at(self) -> float | None:
        """When (``time.monotonic()``) the outage under way began; ``None`` while Redis answers."""
        return self._lost_at

    def lost(self, error: BaseException) -> None:
        """Redis failed a request (``error``): the policies decide locally until a sync succeeds (logged once)."""
        if self._lost_at is not None:
            return
        now = time.monotonic()
        self._lost_at = now
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if isinstance(error, TimeoutError):
            reason = f"no answer within {self.timeout:g} s"
        self.logger.warning(
            "aiohttp_retry: shared state in %s unreachable (%s); deciding on local state until it answers",
            self.store,
            reason,
        )
        emit_to(self.listeners, SharedStateLost(self.store, reason, now))

    def _restored(self) -> None:
        if self._lost_at is None:
            return
        now = time.monotonic()
        down_for, self._lost_at = now - self._lost_at, None
        self.logger.info("aiohttp_retry: shared state in %s answers again after %.1f s", self.store, down_for)
        emit_to(self.listeners, SharedStateRestored(self.store, down_for, now))

    async def aclose(self) -> None:
        """Stop the background sync, push what is still counted (within ``timeout``), close an owned client."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self.sync(final=True)
        if self._owned:
            await self.redis.aclose()

    async def __aenter__(self) -> RedisFleet:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"RedisFleet({self.store}, interval={self.interval:g}, timeout={self.timeout:g})"


def _describe(redis: Redis, prefix: str) -> str:
    """``host:port/db prefix``, without any password, for log lines and events."""
    kwargs = getattr(redis.connection_pool, "connection_kwargs", {})
    where = kwargs.get("path") or f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"
    return f"redis {where}/{kwargs.get('db', 0)} prefix {prefix!r}"
