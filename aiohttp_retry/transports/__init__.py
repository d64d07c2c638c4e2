"""Adapters of the engine to HTTP clients other than aiohttp, each behind an extra.

- :mod:`aiohttp_retry.transports.httpx`: ``RetryTransport``, an ``httpx.AsyncBaseTransport``
  (``pip install 'aiohttp_retry[httpx]'``).

Nothing here is imported until asked for, so the core needs none of these clients.
"""

__all__: list[str] = []
