"""Pure retry decisions: no I/O, no event loop, every clock and random source injected."""

from __future__ import annotations

from aiohttp_retry.policy.backoff import (
    exponential_delay,
    fibonacci_delay,
    jittered_exponential_delay,
    list_delay,
    uniform_delay,
)
from aiohttp_retry.policy.classify import (
    ALL_METHODS,
    IDEMPOTENT_METHODS,
    NETWORK_ERRORS,
    Verdict,
    exception_is_retryable,
    response_verdict,
)
from aiohttp_retry.policy.validate import (
    check_attempts,
    check_delay,
    check_factor,
)

__all__ = [
    "ALL_METHODS",
    "IDEMPOTENT_METHODS",
    "NETWORK_ERRORS",
    "Verdict",
    "check_attempts",
    "check_delay",
    "check_factor",
    "exception_is_retryable",
    "exponential_delay",
    "fibonacci_delay",
    "jittered_exponential_delay",
    "list_delay",
    "response_verdict",
    "uniform_delay",
]
