"""Retries for aiohttp clients.

``RetryClient`` wraps a ``ClientSession``; the option classes say which
outcomes are retried and how long to wait between tries.
"""

from __future__ import annotations

from aiohttp_retry.client import RequestFunc, RequestParams, RetryClient
from aiohttp_retry.retry_options import (
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
    "EvaluateResponseCallbackType",
    "ExponentialRetry",
    "FibonacciRetry",
    "JitterRetry",
    "ListRetry",
    "RandomRetry",
    "RequestFunc",
    "RequestParams",
    "RetryClient",
    "RetryOptions",
    "RetryOptionsBase",
]
