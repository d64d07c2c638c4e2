"""Concurrency limits (bulkheads): how many tries may be in flight at once, and who waits for a slot.

A slot is held from the moment a try is sent until its response's status and
headers have arrived or it has failed; never while a call waits between tries.
Callers waiting for a slot are served in the order they came (a freed slot is
handed to the first of them, so a newcomer cannot take it first).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import Any

from aiohttp_retry.errors import BulkheadFullError
from aiohttp_retry.policy.limits import LimitRules
from aiohttp_retry.policy.validate import check_count

__all__ = ["ConcurrencyLimiter"]


class _Pool:
    """The slots of one limit: how many are taken, and the callers waiting, first come first."""

    __slots__ = ("busy", "label", "limit", "waiters")

    def __init__(self, limit: int, label: str) -> None:
        self.limit = limit
        self.label = label
        self.busy = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self) -> None:
        """Wait for a slot that a leaving try hands over; a cancelled waiter passes a slot it was given on."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # handed a slot just as it was cancelled: the next waiter gets it
            else:
                self.waiters.remove(waiter)
            raise

    def leave(self) -> None:
        """Free a slot: hand it to the first waiter still waiting, or count it free."""
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.busy -= 1


def _pool_of(limit: Any, name: str, where: str) -> _Pool:
    return _Pool(check_count(limit, name), f"{limit} for {where}")


class ConcurrencyLimiter:
    """Limits on the tries in flight at once: per origin, in total, and per rule.

    Args:
        per_origin: slots each origin has to itself.
        total: slots for all requests together.
        rules: a mapping from where (an origin, a path template such as ``"/search/{q}"``
            or a compiled regular expression searched in the full URL) to a number of slots,
            shared by every request the rule matches.
        max_queue: callers that may wait for a slot of one limit; one more is refused
            at once with :class:`~aiohttp_retry.errors.BulkheadFullError` (stop reason
            ``"bulkhead full"``). ``None``: no bound.
        max_keys: origins whose slots are tracked at once (an origin with tries in flight is kept).

    A try needs a slot of every limit that applies to it; a caller waits no
    longer than its call's deadline. Retries and hedges are tries too (a hedge
    is sent only if a slot is free at once).

    Raises:
        TypeError, ValueError: a limit is not an integer >= 1 (the message names it), or none is given.
    """

    def __init__(
        self,
        per_origin: int | None = None,
        *,
        total: int | None = None,
        rules: Mapping[Any, int] | None = None,
        max_queue: int | None = None,
        max_keys: int = 1024,
    ) -> None:
        self.per_origin = None if per_origin is None else check_count(per_origin, "per_origin")
        self.total = None if total is None else check_count(total, "total")
        self.rules = LimitRules(rules, "rules", _pool_of)
        if self.per_origin is None and self.total is None and not self.rules:
            msg = "ConcurrencyLimiter needs a limit: per_origin=3, total=..., or rules={'api.example.com': 3}"
            raise ValueError(msg)
        if max_queue is not None and (isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 0):
            msg = f"max_queue must be None or an integer >= 0 (callers that may wait for a slot), got {max_queue!r}"
            raise (ValueError if isinstance(max_queue, int) and not isinstance(max_queue, bool) else TypeError)(msg)
        self.max_queue = max_queue
        self.max_keys = check_count(max_keys, "max_keys")
        self._total = None if self.total is None else _Pool(self.total, f"{self.total} in total")
        self._all = () if self._total is None else (self._total,)
        self._origins: dict[str, _Pool] = {}
        self._by_key: dict[str, tuple[_Pool, ...]] = {}

    def pools(self, key: str, url: Any) -> tuple[_Pool, ...]:
        """The limits that apply to a try to ``url`` (origin ``key``), in the order their slots are taken."""
        found = self._by_key.get(key)
        if found is not None:
            return found
        if self.per_origin is None and not self.rules:
            return self._all  # the total alone: the same for every origin
        pools = [] if self._total is None else [self._total]
        if self.per_origin is not None:
            origins = self._origins
            pool = origins.get(key)
            if pool is None:
                if len(origins) >= self.max_keys:
                    for old, kept in origins.items():  # forget an idle origin; one with tries in flight is kept
                        if not kept.busy and not kept.waiters:
                            del origins[old]
                            self._by_key.pop(old, None)
                            break
                pool = origins[key] = _Pool(self.per_origin, f"{self.per_origin} per origin ({key})")
            pools.append(pool)
        if self.rules:
            pools.extend(self.rules.matching(key, url))
            return tuple(pools)
        found = self._by_key[key] = tuple(pools)  # without rules, what applies depends on the origin alone
        return found

    def acquire_now(self, key: str, url: Any) -> tuple[_Pool, ...] | list[_Pool]:
        """Take a slot of every limit that applies if each is free at once: the tuple of them taken.

        Otherwise nothing is taken, and the list of them to wait for (:meth:`take`) is returned.
        """
        pools = self._by_key.get(key) or self.pools(key, url)
        return pools if self.take_now(pools) else list(pools)

    @staticmethod
    def take_now(pools: tuple[_Pool, ...]) -> bool:
        """Take a slot of every pool if each has one free and nobody waiting; whether it did (all or none)."""
        for pool in pools:
            if pool.busy >= pool.limit or pool.waiters:
                return False
        for pool in pools:
            pool.busy += 1
        return True

    async def take(self, pools: tuple[_Pool, ...] | list[_Pool]) -> None:
        """Take a slot of every pool, waiting in each one's queue in turn (a cancelled wait gives back what it took).

        Raises:
            BulkheadFullError: a pool's queue is full (its slots taken so far are given back).
        """
        taken: list[_Pool] = []
        try:
            for pool in pools:
                if pool.busy < pool.limit and not pool.waiters:
                    pool.busy += 1
                else:
                    self._check_queue(pool)
                    await pool.wait()
                taken.append(pool)
        except BaseException:
            for pool in taken:
                pool.leave()
            raise

    def _check_queue(self, pool: _Pool) -> None:
        if self.max_queue is not None and len(pool.waiters) >= self.max_queue:
            raise BulkheadFullError(pool.label, self.max_queue)

    @staticmethod
    def leave(pools: tuple[_Pool, ...]) -> None:
        """Free the slots a try held."""
        for pool in pools:
            pool.leave()

    def __repr__(self) -> str:
        return f"ConcurrencyLimiter(per_origin={self.per_origin}, total={self.total}, max_queue={self.max_queue})"
