"""Retries for aiohttp clients.

``RetryClient`` wraps a ``ClientSession``; the option classes say which
outcomes are retried and how long to wait between tries.
"""

from __future__ import annotations

import logging

from aiohttp_retry.client import RequestFunc, RequestParams, RetryClient
from aiohttp_retry.engine.concurrency import ConcurrencyLimiter
from aiohttp_retry.errors import (
    BodyNotReplayableError,
    BulkheadFullError,
    CircuitOpenError,
    LimitError,
    RateLimitedError,
    RetryError,
    RetryTimeoutError,
    ThrottledError,
)
from aiohttp_retry.events import (
    BreakerStateChange,
    BudgetRefused,
    GaveUp,
    HedgeFired,
    HedgeWon,
    RetryScheduled,
    TryFinished,
    TryStarted,
)
from aiohttp_retry.jitter import DecorrelatedJitterRetry, FullJitterRetry
from aiohttp_retry.middleware import RetryMiddleware
from aiohttp_retry.policy.breaker import CircuitBreaker
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.hedging import Hedging
from aiohttp_retry.policy.limits import RateLimiter
from aiohttp_retry.policy.retry_after import RetryAfter
from aiohttp_retry.policy.stop import ErrorKind, StopReason
from aiohttp_retry.policy.throttle import AdaptiveThrottle
from aiohttp_retry.retry_options import (
    CommonOptions,
    EvaluateResponseCallbackType,
    ExponentialRetry,
    FibonacciRetry,
    JitterRetry,
    ListRetry,
    RandomRetry,
    RetryOptions,
    RetryOptionsBase,
)
from aiohttp_retry.status import StatusCheck, StatusError

__version__ = "3.0.0.dev0"

# The library logs through "aiohttp_retry"; it prints nothing until the application configures logging.
logging.getLogger("aiohttp_retry").addHandler(logging.NullHandler())

__all__ = [
    "AdaptiveThrottle",
    "BodyNotReplayableError",
    "BreakerStateChange",
    "BudgetRefused",
    "BulkheadFullError",
    "CircuitBreaker",
    "CircuitOpenError",
    "CommonOptions",
    "ConcurrencyLimiter",
    "DecorrelatedJitterRetry",
    "ErrorKind",
    "EvaluateResponseCallbackType",
    "ExponentialRetry",
    "FibonacciRetry",
    "FullJitterRetry",
    "GaveUp",
    "HedgeFired",
    "HedgeWon",
    "Hedging",
    "JitterRetry",
    "LimitError",
    "ListRetry",
    "RandomRetry",
    "RateLimitedError",
    "RateLimiter",
    "RequestFunc",
    "RequestParams",
    "RetryAfter",
    "RetryBudget",
    "RetryClient",
    "RetryError",
    "RetryMiddleware",
    "RetryOptions",
    "RetryOptionsBase",
    "RetryScheduled",
    "RetryTimeoutError",
    "StatusCheck",
    "StatusError",
    "StopReason",
    "ThrottledError",
    "TryFinished",
    "TryStarted",
]
