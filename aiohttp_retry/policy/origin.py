"""The key of shared state (retry budget, circuit breaker, latencies): a request's origin."""

from __future__ import annotations

from functools import lru_cache

from yarl import URL

__all__ = ["origin_of"]


@lru_cache(maxsize=1024)
def origin_of(url: str | URL) -> str:
    """``scheme://host:port`` of an absolute URL; ``""`` for a relative one (resolved by the session)."""
    parsed = url if isinstance(url, URL) else URL(url)
    return str(parsed.origin()) if parsed.absolute else ""
