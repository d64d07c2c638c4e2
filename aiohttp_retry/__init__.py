"""Retries for aiohttp clients.

``RetryClient`` wraps a ``ClientSession``; the option classes say which
outcomes are retried and how long to wait between tries.
"""

from __future__ import annotations

from aiohttp_retry.client import RequestFunc, RequestParams, RetryClient
from aiohttp_retry.errors import BodyNotReplayableError, CircuitOpenError, RetryError
from aiohttp_retry.jitter import DecorrelatedJitterRetry, FullJitterRetry
from aiohttp_retry.middleware import RetryMiddleware
from aiohttp_retry.policy.breaker import BreakerStateChange, CircuitBreaker
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.hedging import Hedging
from aiohttp_retry.policy.retry_after import RetryAfter
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

__version__ = "3.0.0.dev0"

__all__ = [
    "BodyNotReplayableError",
    "BreakerStateChange",
    "CircuitBreaker",
    "CircuitOpenError",
    "CommonOptions",
    "DecorrelatedJitterRetry",
    "EvaluateResponseCallbackType",
    "ExponentialRetry",
    "FibonacciRetry",
    "FullJitterRetry",
    "Hedging",
    "JitterRetry",
    "ListRetry",
    "RandomRetry",
    "RequestFunc",
    "RequestParams",
    "RetryAfter",
    "RetryBudget",
    "RetryClient",
    "RetryError",
    "RetryMiddleware",
    "RetryOptions",
    "RetryOptionsBase",
]
