"""Exceptions raised by the library itself (aiohttp's own exceptions pass through unchanged).

Exception
└── RetryError                 base of everything below
    ├── BodyNotReplayableError a retry was due, but the request body cannot be sent again
    ├── CircuitOpenError       the circuit breaker refused the call
    ├── LimitError             a limit of this client refused a try, without sending it
    │   ├── RateLimitedError   no start allowed by a rate limit before the call's deadline
    │   ├── BulkheadFullError  the queue for a concurrency limit was full
    │   └── ThrottledError     the adaptive throttle shed the try: the server has been refusing work
    └── RetryTimeoutError      a time limit of the library cut the call (also a TimeoutError)
"""

from __future__ import annotations

__all__ = [
    "BodyNotReplayableError",
    "BulkheadFullError",
    "CircuitOpenError",
    "LimitError",
    "RateLimitedError",
    "RetryError",
    "RetryTimeoutError",
    "ThrottledError",
]


class RetryError(Exception):
    """Base class of the library's own exceptions."""


class BodyNotReplayableError(RetryError):
    """A retry was due, but the request body was a one-shot stream that the last try consumed.

    Raised instead of sending the request again with an empty or partial body.
    ``last_status`` is the status of the try that called for the retry, or
    ``None`` when it raised (that exception is then the ``__cause__``).
    """

    def __init__(self, message: str, last_status: int | None = None) -> None:
        super().__init__(message)
        self.last_status = last_status


class CircuitOpenError(RetryError):
    """The circuit breaker for ``key`` is open: the call was refused without being sent.

    ``retry_in`` is the number of seconds until the breaker lets a probe through
    (0 while a probe is already under way).
    """

    def __init__(self, key: str, retry_in: float) -> None:
        super().__init__(f"circuit breaker for {key or 'the session'} is open; next probe in {retry_in:.3f} s")
        self.key = key
        self.retry_in = retry_in


class LimitError(RetryError):
    """A limit of the client refused a try, which was not sent. ``limit`` names the limit."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class RateLimitedError(LimitError):
    """No start that ``limit`` allows comes before the call's deadline: the try was not started.

    ``wait`` is how long the try would have had to wait for its start, in seconds.
    """

    def __init__(self, limit: str, wait: float) -> None:
        super().__init__(f"rate limit {limit}: the next start is {wait:.3f} s away, past the call's deadline", limit)
        self.wait = wait


class BulkheadFullError(LimitError):
    """Every slot of the concurrency limit ``limit`` is taken and its queue holds ``max_queue`` callers already."""

    def __init__(self, limit: str, max_queue: int) -> None:
        super().__init__(f"concurrency limit {limit}: all slots taken and {max_queue} callers queued", limit)
        self.max_queue = max_queue


class ThrottledError(LimitError):
    """The adaptive throttle of ``limit`` (an origin) shed the try, with the ``probability`` it had then."""

    def __init__(self, limit: str, probability: float) -> None:
        super().__init__(
            f"adaptive throttle for {limit or 'the session'}: the server accepted too few recent requests; "
            f"this one was not sent (shed with probability {probability:.2f})",
            limit,
        )
        self.probability = probability


class RetryTimeoutError(RetryError, TimeoutError):
    """A time limit of the library cut the last try: ``attempt_timeout``, ``total_timeout`` or an inbound deadline.

    A ``TimeoutError`` (so ``except asyncio.TimeoutError`` still catches it);
    ``limit`` names the limit, ``seconds`` its value, ``tries`` the tries made.
    The transport's own timeout error is the ``__cause__``.
    """

    def __init__(self, limit: str, seconds: float, tries: int) -> None:
        plural = "try" if tries == 1 else "tries"
        super().__init__(f"{limit} of {seconds:g} s ran out after {tries} {plural}")
        self.limit = limit
        self.seconds = seconds
        self.tries = tries
