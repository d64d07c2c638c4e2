"""The stateful policies as protocols: any object with these methods can be passed in.

The engine calls them synchronously on the hot path; each method must be
O(1) against local state (a shared implementation syncs in the background),
but for a rate limiter's ``reserve``, which may hand back an awaitable start
when a limit needs an answer from elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, runtime_checkable

from aiohttp_retry.policy.breaker import Permit

__all__ = ["AdaptiveThrottleLike", "CircuitBreakerLike", "RateLimiterLike", "RetryBudgetLike", "check_policy"]


@runtime_checkable
class RetryBudgetLike(Protocol):
    """A retry budget: counts calls, and grants or refuses retries, per key."""

    def record_call(self, key: str) -> None:
        """Count a call (its first try) to ``key``."""

    def try_retry(self, key: str) -> bool:
        """Spend one retry on ``key`` if the budget allows it; return whether it did."""


@runtime_checkable
class CircuitBreakerLike(Protocol):
    """A circuit breaker: grants tries per key and learns from their outcomes.

    ``acquire`` returns a :class:`Permit` to send, or the seconds until a probe
    may go (a refusal). A permit whose ``change`` is set carries the state change
    that granting it caused; ``record`` returns the state change an outcome caused.
    """

    def acquire(self, key: str) -> Permit | float:
        """Ask to send a try to ``key``."""

    def record(self, key: str, permit: Permit, *, failed: bool) -> Any:
        """Report how a granted try ended; a ``BreakerStateChange`` if that changed the state, else ``None``."""

    def release(self, key: str, permit: Permit) -> None:
        """Give back a granted try whose outcome will never be known (it was cancelled)."""

    def would_refuse(self, key: str) -> bool:
        """Whether ``acquire`` would refuse a try now; changes nothing."""


@runtime_checkable
class RateLimiterLike(Protocol):
    """A rate limiter: reserves a start for each try, in the order asked, within a deadline."""

    def reserve(self, key: str, url: Any, now: float, latest: float = ...) -> float | Awaitable[float]:
        """The start reserved for a try to ``url`` (origin ``key``), at or after ``now`` (the loop's clock).

        A limiter that must ask elsewhere (a shared one) may return an awaitable of the start
        instead; the try then waits for it, and a hedge to that URL does not go.
        Raises ``RateLimitedError`` when the start would come after ``latest``.
        """

    def cancel(self, key: str, url: Any, at: float) -> None:
        """Give back a start reserved at ``at`` that will not be used."""


@runtime_checkable
class AdaptiveThrottleLike(Protocol):
    """An adaptive throttle: counts tries and accepts per key, and sheds tries while the server refuses."""

    def check(self, key: str, now: float) -> float | None:
        """Count a try; ``None`` to send it, or the probability with which it was shed."""

    def record(self, key: str, now: float, status: int | None, kind: Any) -> None:
        """Count the outcome of a try that was sent: ``status``, or an error of ``kind`` (an ``ErrorKind``)."""


def check_policy(value: Any, name: str, protocol: type, example: str) -> Any:
    """Return ``value`` if it is ``None`` or implements ``protocol``, else raise ``TypeError`` naming ``name``."""
    if value is None or isinstance(value, protocol):
        return value
    methods = ", ".join(sorted(n for n in vars(protocol) if not n.startswith("_") and callable(getattr(protocol, n))))
    msg = f"{name} must be None or an object with the methods {methods} (such as {example}), got {value!r}"
    raise TypeError(msg)
