"""Integrations behind extras: each module imports its dependency and says which extra to install if it is missing.

- :mod:`aiohttp_retry.contrib.prometheus` (extra ``prometheus``): ``PrometheusListener``.
"""

__all__: list[str] = []
