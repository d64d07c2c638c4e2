"""Time limits of a call: a total budget across tries and waits, and a limit per try.

Times are readings of a monotonic clock (the event loop's); an absent limit is
``math.inf``, so the arithmetic needs no special cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiohttp_retry.policy.validate import check_window

__all__ = ["TIMEOUT_HEADER", "TimeLimits", "attempt_budget", "fits_before", "format_timeout", "parse_timeout_header"]

#: The request header that carries the time left, in seconds, relative to its arrival.
TIMEOUT_HEADER = "X-Request-Timeout"


@dataclass(frozen=True)
class TimeLimits:
    """The time limits of one call.

    Args:
        total: seconds for the whole call, tries and waits included; ``None``: no limit.
        attempt: seconds for one try; ``None``: no limit of its own.
        propagate: tell the server the time left (``X-Request-Timeout``).
    """

    total: float | None = None
    attempt: float | None = None
    propagate: bool = False

    def __post_init__(self) -> None:
        for name in ("total", "attempt"):
            value = getattr(self, name)
            if value is not None:
                check_window(value, f"{name}_timeout")
        if self.total is not None and self.attempt is not None and self.attempt > self.total:
            msg = f"attempt_timeout ({self.attempt!r}) must not exceed total_timeout ({self.total!r})"
            raise ValueError(msg)

    def expiry(self, start: float, inherited: float | None = None) -> float:
        """The clock reading at which the call must be over: its own total, or an earlier inherited one."""
        own = math.inf if self.total is None else start + self.total
        return own if inherited is None else min(own, inherited)


def attempt_budget(attempt_limit: float | None, now: float, expires: float) -> float | None:
    """Seconds a try may take: its own limit or the time left, whichever is shorter; ``None`` if unbounded."""
    budget = min(math.inf if attempt_limit is None else attempt_limit, expires - now)
    return None if budget == math.inf else max(budget, 0.0)


def fits_before(delay: float, now: float, expires: float, reserve: float = 0.0) -> bool:
    """Whether a wait of ``delay`` ends early enough to leave ``reserve`` seconds for the next try.

    The engine reserves as long as the last try took: a wait is pointless if
    the try after it would be cut off by the deadline.
    """
    return now + delay + reserve < expires


def format_timeout(seconds: float) -> str:
    """The header value for ``seconds`` left: milliseconds precision, never negative."""
    return f"{max(seconds, 0.0):.3f}"


def parse_timeout_header(value: str | None) -> float | None:
    """Seconds left according to an ``X-Request-Timeout`` value; ``None`` if absent or not a finite number >= 0."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < math.inf else None
