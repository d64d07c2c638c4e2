"""Outcome classification: whether a response or an exception is worth another attempt.

The functions take plain facts (status, method, exception) and the rule's
settings; the caller decides what to do with the verdict.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Container

from aiohttp import ClientConnectionError, ClientConnectorError, ClientSSLError

__all__ = [
    "ALL_METHODS",
    "IDEMPOTENT_METHODS",
    "NETWORK_ERRORS",
    "SAFE_METHODS",
    "Verdict",
    "exception_is_retryable",
    "is_failure_status",
    "method_allowed",
    "response_verdict",
]

#: Methods that RFC 9110 defines as idempotent: sending one twice has the effect of sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

#: The default ``methods`` of the option classes that are not 2.9.1-compatible.
SAFE_METHODS = IDEMPOTENT_METHODS

#: Every method the compatible option classes retry unless told otherwise.
ALL_METHODS = IDEMPOTENT_METHODS | {"POST", "PATCH", "CONNECT"}

#: Errors of the transport, retried by default for idempotent methods (TLS errors excepted:
#: a bad certificate does not heal by itself).
#: ``ClientConnectionError`` covers refused and reset connections, server
#: disconnects, DNS failures and aiohttp's own connect and read timeouts;
#: ``asyncio.TimeoutError`` (the built-in ``TimeoutError``) covers ``ClientTimeout``.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (ClientConnectionError, asyncio.TimeoutError)


class Verdict(enum.Enum):
    """What to do with a response that is not from the last attempt."""

    FINAL = "final"  #: return it
    RETRY = "retry"  #: discard it and try again
    ASK = "ask"  #: the status does not decide; ask the user's response callback


def is_failure_status(status: int, statuses: Container[int], *, server_errors: bool) -> bool:
    """Whether a status marks a failed try: >= 500 (when ``server_errors``) or listed in ``statuses``."""
    return (server_errors and status >= 500) or status in statuses  # noqa: PLR2004


def response_verdict(
    status: int,
    method_allowed: bool,
    *,
    statuses: Container[int],
    retry_server_errors: bool,
    has_callback: bool,
) -> Verdict:
    """Classify a response by status.

    A response to a request that may not be retried (``method_allowed`` false)
    is final. A status >= 500 (when ``retry_server_errors``) or in
    ``statuses`` is retried. Any other status is final, unless a response
    callback exists, which then decides.
    """
    if not method_allowed:
        return Verdict.FINAL
    if is_failure_status(status, statuses, server_errors=retry_server_errors):
        return Verdict.RETRY
    return Verdict.ASK if has_callback else Verdict.FINAL


def method_allowed(method: str, methods: Container[str], *, keyed: bool) -> bool:
    """Whether a request may be retried at all: its method is in ``methods`` or it carries an idempotency key."""
    return keyed or method in methods


def exception_is_retryable(
    exc: BaseException,
    method: str,
    *,
    keyed: bool,
    exceptions: tuple[type[BaseException], ...],
    methods: Container[str],
    network_errors: bool,
) -> bool:
    """Whether an attempt that raised ``exc`` may be tried again.

    With ``network_errors``, a failed connect (nothing was sent, so any
    method is safe) is always retried, and the other :data:`NETWORK_ERRORS`
    are retried for idempotent requests: an idempotent method, or a request
    carrying an idempotency key (``keyed``). ``exceptions`` (the user's list)
    apply to every allowed request. Only ``Exception`` subclasses qualify:
    cancellation and interpreter exits are never retried.
    """
    if not isinstance(exc, Exception):
        return False
    transient = network_errors and isinstance(exc, NETWORK_ERRORS) and not isinstance(exc, ClientSSLError)
    if transient and isinstance(exc, ClientConnectorError):
        return True
    if not method_allowed(method, methods, keyed=keyed):
        return False
    return isinstance(exc, exceptions) or (transient and (keyed or method in IDEMPOTENT_METHODS))
