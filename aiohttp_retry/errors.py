"""Exceptions raised by the library itself (aiohttp's own exceptions pass through unchanged).

Exception
└── RetryError                 base of everything below
    ├── BodyNotReplayableError a retry was due, but the request body cannot be sent again
    ├── CircuitOpenError       the circuit breaker refused the call
    └── RetryTimeoutError      a time limit of the library cut the call (also a TimeoutError)
"""

from __future__ import annotations

__all__ = ["BodyNotReplayableError", "CircuitOpenError", "RetryError", "RetryTimeoutError"]


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
