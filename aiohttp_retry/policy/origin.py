"""The key of shared state (retry budget, circuit breaker, latencies): a request's origin.

The key is ``host[:port]`` as the ``Host`` header spells it: the port only
when it is not the scheme's default, IPv6 hosts in brackets, a trailing dot
dropped. So ``http://example.com`` and ``https://example.com`` share a key,
while ``https://example.com:8443`` has its own. ``""`` for a relative URL
(resolved by the session's ``base_url``).
"""

from __future__ import annotations

from functools import lru_cache

from yarl import URL

__all__ = ["origin_key", "origin_of"]


def origin_key(url: URL) -> str:
    """The origin key of a parsed URL.

    Uncached: aiohttp has already computed ``host_port_subcomponent`` (for the
    ``Host`` header) on the URL of every request it sends, so this is cheap there.
    """
    return url.host_port_subcomponent or ""


@lru_cache(maxsize=1024)
def origin_of(url: str | URL) -> str:
    """The origin key of a URL given as text or parsed, cached by value."""
    return origin_key(url if isinstance(url, URL) else URL(url))
