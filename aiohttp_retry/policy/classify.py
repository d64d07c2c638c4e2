"""Outcome classification: whether a status or an error is worth another try.

The functions take plain facts (a status, a method, the kind of an error as the
transport's codec reads it) and the rule's settings; they import no HTTP client.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from aiohttp_retry.policy.stop import ErrorKind

__all__ = [
    "ALL_METHODS",
    "IDEMPOTENT_METHODS",
    "SAFE_METHODS",
    "error_is_retryable",
    "has_header",
    "is_failure_status",
    "method_allowed",
]

#: Methods that RFC 9110 defines as idempotent: sending one twice has the effect of sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

#: The default ``methods`` of the option classes that are not 2.9.1-compatible.
SAFE_METHODS = IDEMPOTENT_METHODS

#: Every method the compatible option classes retry unless told otherwise.
ALL_METHODS = IDEMPOTENT_METHODS | {"POST", "PATCH", "CONNECT"}

#: Error kinds that may heal by themselves (TLS failures do not: a bad certificate stays bad).
_TRANSIENT = frozenset({ErrorKind.TRANSPORT, ErrorKind.TIMEOUT})


def is_failure_status(status: int, statuses: Container[int], *, server_errors: bool) -> bool:
    """Whether a status marks a failed try: >= 500 (when ``server_errors``) or listed in ``statuses``."""
    return (server_errors and status >= 500) or status in statuses  # noqa: PLR2004


def method_allowed(method: str, methods: Container[str], *, keyed: bool) -> bool:
    """Whether a request may be retried at all: its method is in ``methods`` or it carries an idempotency key."""
    return keyed or method in methods


def error_is_retryable(
    kind: ErrorKind,
    *,
    listed: bool,
    allowed: bool,
    idempotent: bool,
    network_errors: bool,
) -> bool:
    """Whether a try that raised an error of ``kind`` may be tried again.

    With ``network_errors``, a failed connect (nothing was sent, so any method
    is safe) is always retried, and transport failures and timeouts are retried
    for idempotent requests (an idempotent method, or a request carrying an
    idempotency key). ``listed``: the error is an instance of a class the options
    list in ``exceptions``; such errors are retried for every ``allowed`` request.
    """
    if network_errors and kind is ErrorKind.CONNECT:
        return True
    if not allowed:
        return False
    return listed or (network_errors and idempotent and kind in _TRANSIENT)


def has_header(headers: Mapping[str, Any] | None, name: str | None) -> bool:
    """Whether ``headers`` (a dict or a case-insensitive multidict) hold ``name``, in any letter case."""
    if not headers or name is None:
        return False
    if name in headers:  # case-insensitive for multidicts
        return True
    lower = name.lower()
    return any(key.lower() == lower for key in headers)
