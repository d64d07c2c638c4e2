"""Observability: logging as a listener, and the redaction every log line, repr and report goes through."""

from __future__ import annotations

from aiohttp_retry.observe.logging import LoggingListener
from aiohttp_retry.observe.redact import SENSITIVE_HEADERS, Redactor, describe_error, redact_headers, redact_url

__all__ = [
    "SENSITIVE_HEADERS",
    "LoggingListener",
    "Redactor",
    "describe_error",
    "redact_headers",
    "redact_url",
]
