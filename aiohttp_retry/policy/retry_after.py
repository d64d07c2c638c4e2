"""The ``Retry-After`` header: parsing both of its forms, and the rule for using it.

RFC 9110 section 10.2.3 allows ``Retry-After: 120`` (seconds) and
``Retry-After: Fri, 31 Dec 1999 23:59:59 GMT`` (an HTTP-date).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime

from aiohttp_retry.policy.validate import check_delay, check_statuses

__all__ = ["DEFAULT_RETRY_AFTER_STATUSES", "RetryAfter", "parse_retry_after"]

#: Statuses whose ``Retry-After`` is honoured by default: Content Too Large (RFC 9110 lets a
#: server say when a temporary size condition will clear), Too Many Requests and Service Unavailable.
DEFAULT_RETRY_AFTER_STATUSES = frozenset({413, 429, 503})

_SECONDS = re.compile(r"\d+(\.\d+)?")


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait according to a ``Retry-After`` value, or ``None`` if it says nothing usable.

    ``now`` is the current wall-clock time as a POSIX timestamp, used for the
    HTTP-date form. Garbage, negative numbers and dates in the past give ``None``;
    a date without a zone is read as GMT, as HTTP requires.
    """
    text = value.strip()
    if _SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    wait = moment.timestamp() - now  # exact for an aware datetime of any year
    return wait if wait > 0 else None


@dataclass(frozen=True, repr=False)
class RetryAfter:
    """How a server's ``Retry-After`` decides whether and when to try again.

    A response of one of ``statuses`` that carries a valid ``Retry-After`` is
    retried (for methods the options allow) even when its status is not in the
    options' ``statuses``; the wait is the longer of the schedule's and the
    server's. If the server asks for more than ``max_wait`` seconds, the call
    ends at once with that response instead of sleeping.

    Args:
        statuses: the statuses whose header is read; default 413, 429 and 503.
        max_wait: the longest wait the client accepts, in seconds; default 60.
    """

    statuses: Collection[int] = field(default=DEFAULT_RETRY_AFTER_STATUSES)
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_wait", check_delay(self.max_wait, "max_wait"))
        object.__setattr__(self, "statuses", check_statuses(self.statuses))

    def asks(self, status: int, header: str | None, now: float) -> float | None:
        """The server's wait in seconds if ``status`` is one of ``statuses`` and ``header`` is valid, else ``None``.

        ``now`` is the wall-clock time (POSIX timestamp) for the HTTP-date form.
        """
        if header is None or status not in self.statuses:
            return None
        return parse_retry_after(header, now)

    def apply(self, delay: float, status: int, header: str | None, now: float) -> float | None:
        """The wait before the next try given the schedule's ``delay``; ``None``: do not retry.

        ``now`` is the wall-clock time (POSIX timestamp) for the HTTP-date form.
        """
        asked = self.asks(status, header, now)
        if asked is None:
            return delay
        if asked > self.max_wait:
            return None
        return max(delay, asked)

    def __repr__(self) -> str:
        codes = ", ".join(map(str, sorted(self.statuses)))
        shown = "{" + codes + "}" if codes else "set()"
        return f"RetryAfter(statuses={shown}, max_wait={self.max_wait!r})"
