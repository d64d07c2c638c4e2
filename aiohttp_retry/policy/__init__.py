"""Pure retry decisions: no I/O, no event loop, every clock and random source injected."""

from __future__ import annotations

from aiohttp_retry.policy.backoff import (
    decorrelated_jitter_delay,
    exponential_delay,
    fibonacci_delay,
    full_jitter_delay,
    jittered_exponential_delay,
    list_delay,
    uniform_delay,
)
from aiohttp_retry.policy.classify import (
    ALL_METHODS,
    IDEMPOTENT_METHODS,
    SAFE_METHODS,
    error_is_retryable,
    is_failure_status,
    method_allowed,
)
from aiohttp_retry.policy.deadline import TIMEOUT_HEADER, TimeLimits, attempt_budget, fits_before, format_timeout
from aiohttp_retry.policy.retry_after import DEFAULT_RETRY_AFTER_STATUSES, RetryAfter, parse_retry_after
from aiohttp_retry.policy.stop import ErrorKind, StopReason
from aiohttp_retry.policy.validate import (
    check_attempts,
    check_delay,
    check_factor,
)

__all__ = [
    "ALL_METHODS",
    "DEFAULT_RETRY_AFTER_STATUSES",
    "IDEMPOTENT_METHODS",
    "SAFE_METHODS",
    "TIMEOUT_HEADER",
    "ErrorKind",
    "RetryAfter",
    "StopReason",
    "TimeLimits",
    "attempt_budget",
    "check_attempts",
    "check_delay",
    "check_factor",
    "decorrelated_jitter_delay",
    "error_is_retryable",
    "exponential_delay",
    "fibonacci_delay",
    "fits_before",
    "format_timeout",
    "full_jitter_delay",
    "is_failure_status",
    "jittered_exponential_delay",
    "list_delay",
    "method_allowed",
    "parse_retry_after",
    "uniform_delay",
]
