"""Outcome classification: whether a response or an exception is worth another attempt.

The functions take plain facts (status, method, exception) and the rule's
settings; the caller decides what to do with the verdict.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Container

from aiohttp import ClientConnectionError

__all__ = [
    "ALL_METHODS",
    "IDEMPOTENT_METHODS",
    "NETWORK_ERRORS",
    "Verdict",
    "exception_is_retryable",
    "response_verdict",
]

#: Methods that RFC 9110 defines as idempotent: sending one twice has the effect of sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

#: Every method the compatible option classes retry unless told otherwise.
ALL_METHODS = IDEMPOTENT_METHODS | {"POST", "PATCH", "CONNECT"}

#: Errors of the transport, retried by default for idempotent methods.
#: ``ClientConnectionError`` covers refused and reset connections, server
#: disconnects, DNS failures and aiohttp's own connect and read timeouts;
#: ``asyncio.TimeoutError`` (the built-in ``TimeoutError``) covers ``ClientTimeout``.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (ClientConnectionError, asyncio.TimeoutError)


class Verdict(enum.Enum):
    """What to do with a response that is not from the last attempt."""

    FINAL = "final"  #: return it
    RETRY = "retry"  #: discard it and try again
    ASK = "ask"  #: the status does not decide; ask the user's response callback


def response_verdict(
    status: int,
    method: str,
    *,
    statuses: Container[int],
    methods: Container[str],
    retry_server_errors: bool,
    has_callback: bool,
) -> Verdict:
    """Classify a response by method and status.

    A method outside ``methods`` is final. A status >= 500 (when
    ``retry_server_errors``) or in ``statuses`` is retried. Any other status is
    final, unless a response callback exists, which then decides.
    """
    if method not in methods:
        return Verdict.FINAL
    if (retry_server_errors and status >= 500) or status in statuses:  # noqa: PLR2004
        return Verdict.RETRY
    return Verdict.ASK if has_callback else Verdict.FINAL


def exception_is_retryable(
    exc: BaseException,
    method: str,
    *,
    exceptions: tuple[type[BaseException], ...],
    methods: Container[str],
    network_errors: tuple[type[BaseException], ...],
) -> bool:
    """Whether an attempt that raised ``exc`` may be tried again.

    ``exceptions`` (the user's list) apply to every method in ``methods``;
    ``network_errors`` apply only to the idempotent methods in ``methods``.
    Only ``Exception`` subclasses qualify: cancellation and interpreter exits
    are never retried.
    """
    if not isinstance(exc, Exception) or method not in methods:
        return False
    if isinstance(exc, exceptions):
        return True
    return method in IDEMPOTENT_METHODS and isinstance(exc, network_errors)
