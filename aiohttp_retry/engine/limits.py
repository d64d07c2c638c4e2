"""The client's limits as the engine applies them to every try: throttle, rate, then concurrency.

:meth:`Limits.admit` lets a try go at once when every limit allows it (the
common case: one synchronous step), or hands back the wait that admits it.
What a try holds (its concurrency slots) is given back by :meth:`Limits.leave`
when the try's outcome is known, which also tells the adaptive throttle
whether the server accepted it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp_retry.engine.concurrency import ConcurrencyLimiter
from aiohttp_retry.engine.waiting import bounded
from aiohttp_retry.errors import BulkheadFullError, LimitError, RateLimitedError, ThrottledError
from aiohttp_retry.policy.limits import RateLimiter
from aiohttp_retry.policy.protocols import AdaptiveThrottleLike, RateLimiterLike, check_policy
from aiohttp_retry.policy.stop import StopReason
from aiohttp_retry.policy.throttle import AdaptiveThrottle

if TYPE_CHECKING:
    from aiohttp_retry.engine.concurrency import _Pool
    from aiohttp_retry.engine.plan import Call
    from aiohttp_retry.policy.stop import ErrorKind

__all__ = ["NO_SLOTS", "Limits", "SlotWaitTimeout", "enter_try", "leave_try", "limits_of", "stop_reason"]

#: What a try holds when no concurrency limit applies.
NO_SLOTS: tuple[_Pool, ...] = ()


_REASONS = {
    RateLimitedError: StopReason.RATE_LIMITED,
    BulkheadFullError: StopReason.BULKHEAD_FULL,
    ThrottledError: StopReason.THROTTLED,
}


def stop_reason(refused: LimitError) -> StopReason:
    """The stop reason of a call that a limit refused with ``refused``."""
    for kind, reason in _REASONS.items():
        if isinstance(refused, kind):
            return reason
    return StopReason.RATE_LIMITED  # pragma: no cover - every LimitError the library raises is listed


class SlotWaitTimeout(Exception):  # noqa: N818 - a signal between the limits and the loops, never seen outside
    """The call's deadline passed while a try waited for its start or a concurrency slot."""


class Limits:
    """A rate limiter, a concurrency limiter and an adaptive throttle, each optional, applied per try."""

    __slots__ = ("_own", "concurrency", "rate", "throttle")

    def __init__(
        self,
        rate: RateLimiter | None = None,
        concurrency: ConcurrencyLimiter | None = None,
        throttle: AdaptiveThrottle | None = None,
    ) -> None:
        self.rate = rate
        self.concurrency = concurrency
        self.throttle = throttle
        # Every limit given is one of the library's own classes, whose common case admit() runs inline.
        self._own = (
            (rate is None or type(rate) is RateLimiter)
            and (concurrency is None or type(concurrency) is ConcurrencyLimiter)
            and (throttle is None or type(throttle) is AdaptiveThrottle)
        )

    def admit(  # noqa: C901, PLR0911 - the common case of each limit, inline: one test each
        self, key: str, url: Any, now: float, expires: float
    ) -> tuple[_Pool, ...] | Coroutine[Any, Any, tuple[_Pool, ...]]:
        """Admit a try to ``url`` (origin ``key``): the slots it holds, or a coroutine that waits for its turn.

        The common case of every limit runs here, inline: an origin already
        known, whose throttle sheds nothing, whose one rate window is not full,
        and whose one pool has a free slot and no queue. Anything else goes to
        :meth:`_admit`, through each limit's own methods.

        Raises:
            ThrottledError, RateLimitedError, BulkheadFullError: a limit refused the try.
        """
        if not self._own:
            return self._admit(key, url, now, expires)
        throttle = self.throttle
        if throttle is not None:
            counter = throttle._counters.get(key)  # noqa: SLF001 - the library's own class, read as check() does
            if counter is None or now >= counter.until:
                return self._admit(key, url, now, expires)
            newest, closed = counter.newest, counter.closed
            if closed[0] + newest[0] > throttle.k * (closed[1] + newest[1]):
                return self._admit(key, url, now, expires)  # it may shed: check() draws
        window = None
        rate = self.rate
        if rate is not None:
            windows = rate._by_key.get(key)  # noqa: SLF001 - as reserve() finds them
            if windows is None or len(windows) != 1:
                return self._admit(key, url, now, expires)
            window = windows[0]
            starts = window.starts
            if starts and (len(starts) >= window.count or starts[-1] > now):
                return self._admit(key, url, now, expires)
        slots = NO_SLOTS
        concurrency = self.concurrency
        if concurrency is not None:
            found = concurrency._by_key.get(key)  # noqa: SLF001 - as acquire_now() finds them
            if found is None or len(found) != 1:
                return self._admit(key, url, now, expires)
            pool = found[0]
            if pool.busy >= pool.limit or pool.waiters:
                return self._admit(key, url, now, expires)
            pool.busy += 1
            slots = found
        if window is not None:
            window.starts.append(now)
        return slots

    def _admit(
        self, key: str, url: Any, now: float, expires: float
    ) -> tuple[_Pool, ...] | Coroutine[Any, Any, tuple[_Pool, ...]]:
        """:meth:`admit` through each limit's own methods: throttle, then rate, then concurrency."""
        throttle = self.throttle
        if throttle is not None:
            shed = throttle.check(key, now)
            if shed is not None:
                raise ThrottledError(key, shed)
        start = now
        rate = self.rate
        if rate is not None:
            start = rate.reserve(key, url, now, expires)
            if not isinstance(start, (float, int)):  # a limiter that must ask (a shared one): wait for its answer
                return self._reserved(start, key, url, expires)
        concurrency = self.concurrency
        if concurrency is None:
            return NO_SLOTS if start <= now else self._later(key, url, start, NO_SLOTS, expires)
        if start <= now:
            pools = concurrency.acquire_now(key, url)
            if type(pools) is tuple:
                return pools
        else:
            pools = concurrency.pools(key, url)
        return self._later(key, url, start, tuple(pools), expires)

    async def _reserved(self, reserving: Awaitable[float], key: str, url: Any, expires: float) -> Any:
        """Wait for the start a limiter reserves by asking (Redis, for a shared one), then as :meth:`_later`."""
        start = await reserving
        concurrency = self.concurrency
        pools = NO_SLOTS if concurrency is None else tuple(concurrency.pools(key, url))
        return await self._later(key, url, start, pools, expires)

    async def _later(self, key: str, url: Any, start: float, pools: tuple[_Pool, ...], expires: float) -> Any:
        """Wait for the reserved start, then for the slots; a cancelled wait gives its reservation back."""
        loop = asyncio.get_running_loop()
        delay = start - loop.time()
        if delay > 0:
            try:
                await asyncio.sleep(delay)
            except BaseException:
                self.rate.cancel(key, url, start)  # type: ignore[union-attr] # a start was reserved: rate is set
                raise
            if loop.time() >= expires:  # the loop woke too late (it was busy): no try starts after the deadline
                self.rate.cancel(key, url, start)  # type: ignore[union-attr]
                raise SlotWaitTimeout
        if pools and not self.concurrency.take_now(pools):  # type: ignore[union-attr] # pools: it is set
            left = expires - loop.time()
            try:
                if left == math.inf:
                    await self.concurrency.take(pools)  # type: ignore[union-attr]
                else:
                    await bounded(
                        self.concurrency.take(pools),  # type: ignore[union-attr]
                        max(left, 0.0),
                        unused=lambda _: self.concurrency.leave(pools),  # type: ignore[union-attr]
                    )
            except TimeoutError as error:
                raise SlotWaitTimeout from error
        return pools

    def admit_now(self, key: str, url: Any, now: float) -> tuple[_Pool, ...] | StopReason:
        """Admit a try only if every limit lets it go at once (a hedge): its slots, or why not (nothing held)."""
        throttle = self.throttle
        if throttle is not None and throttle.check(key, now) is not None:
            return StopReason.THROTTLED
        rate = self.rate
        if rate is not None:
            try:
                start = rate.reserve(key, url, now, now)
            except RateLimitedError:
                return StopReason.RATE_LIMITED
            if not isinstance(start, (float, int)):  # it must ask first: that is a wait, so the hedge does not go
                getattr(start, "close", lambda: None)()
                return StopReason.RATE_LIMITED
        concurrency = self.concurrency
        if concurrency is None:
            return NO_SLOTS
        pools = concurrency.pools(key, url)
        if concurrency.take_now(pools):
            return pools
        if rate is not None:
            rate.cancel(key, url, now)
        return StopReason.BULKHEAD_FULL

    def leave(self, key: str, slots: tuple[_Pool, ...], now: float, status: int | None, kind: ErrorKind | None) -> None:
        """A try ended with ``status`` (or an error of ``kind``): free its slots, tell the throttle."""
        for pool in slots:
            if pool.waiters:
                pool.leave()  # hands the slot to the first waiter
            else:
                pool.busy -= 1
        throttle = self.throttle
        if throttle is not None:
            if self._own and status is not None:  # record()'s common case, inline
                counter = throttle._counters.get(key)  # noqa: SLF001 - the library's own class
                if counter is not None and now < counter.until:
                    newest = counter.newest
                    newest[0] += 1
                    if status not in throttle.overload_statuses:
                        newest[1] += 1
                    return
            throttle.record(key, now, status, kind)

    def release(self, slots: tuple[_Pool, ...]) -> None:
        """A try was cancelled: free its slots (the throttle learns nothing from it)."""
        for pool in slots:
            pool.leave()


def limits_of(rate_limiter: Any, concurrency_limiter: Any, throttle: Any) -> Limits | None:
    """The limits an adapter applies, from its arguments (checked; each may be ``None``); ``None`` when none is set.

    Raises:
        TypeError: an argument is not an object of the kind its name says.
    """
    rate = check_policy(rate_limiter, "rate_limiter", RateLimiterLike, "RateLimiter('10/s')")
    throttled = check_policy(throttle, "throttle", AdaptiveThrottleLike, "AdaptiveThrottle()")
    if concurrency_limiter is not None and not isinstance(concurrency_limiter, ConcurrencyLimiter):
        msg = (
            "concurrency_limiter must be None or a ConcurrencyLimiter such as ConcurrencyLimiter(3), "
            f"got {concurrency_limiter!r}"
        )
        raise TypeError(msg)
    if rate is None and concurrency_limiter is None and throttled is None:
        return None
    return Limits(rate, concurrency_limiter, throttled)


async def enter_try(call: Call, attempt: int) -> tuple[_Pool, ...]:
    """Admit try ``attempt`` of ``call`` through its limits, waiting its turn: the slots it holds.

    A refusal ends the call: reported as given up, then raised (:class:`LimitError`,
    or the deadline's :class:`~aiohttp_retry.errors.RetryTimeoutError` when it passed while waiting).
    """
    limits = call.limits
    if limits is None:
        return NO_SLOTS
    _, url, _ = call.exchange.describe(attempt)
    try:
        admitted = limits.admit(call.key, url, call.now(), call.expires)
        if isinstance(admitted, tuple):
            return admitted
        return await admitted
    except LimitError as refused:
        call.tries = attempt - 1
        call.gave_up(stop_reason(refused), None, refused)
        raise
    except SlotWaitTimeout:
        call.tries = attempt - 1
        call.gave_up(StopReason.DEADLINE, None, None)
        raise call.deadline_error() from None


def leave_try(call: Call, slots: tuple[_Pool, ...], outcome: Any) -> None:
    """A try of ``call`` ended with ``outcome`` (a response or an exception): free its slots, tell the throttle."""
    limits = call.limits
    if limits is None:
        return
    if isinstance(outcome, Exception):
        limits.leave(call.key, slots, call.now(), None, call.codec.error_kind(outcome))
    elif isinstance(outcome, BaseException):
        limits.release(slots)
    else:
        limits.leave(call.key, slots, call.now(), call.codec.status(outcome), None)
