"""Exceptions raised by the library itself (aiohttp's own exceptions pass through unchanged).

Exception
└── RetryError                 base of everything below
    └── BodyNotReplayableError a retry was due, but the request body cannot be sent again
"""

from __future__ import annotations

__all__ = ["BodyNotReplayableError", "RetryError"]


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
