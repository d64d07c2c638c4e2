"""Prometheus: count calls, tries, retries and refusals, and read them as Prometheus scrapes them.

Needs the extra: pip install 'aiohttp_retry[prometheus]'
Run: python examples/prometheus.py
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from local_server import serve
from prometheus_client import CollectorRegistry, generate_latest

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.contrib.prometheus import PrometheusListener


async def main() -> None:
    hits = 0

    async def user(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        # Every third answer is a 503: the client retries it.
        return web.Response(status=503 if hits % 3 == 0 else 200, text=request.match_info["id"])

    app = web.Application()
    app.router.add_get("/users/{id}", user)
    # A registry of its own keeps the example's metrics apart; by default the global REGISTRY is used,
    # which prometheus_client.start_http_server(8000) or your web framework's /metrics serves.
    registry = CollectorRegistry()
    metrics = PrometheusListener(registry, routes=["/users/{id}"])
    async with serve(app) as url, RetryClient(listeners=[metrics]) as client:
        options = ExponentialRetry(attempts=3, start_timeout=0.01)
        for user_id in range(20):
            async with client.get(f"{url}/users/{user_id}", retry_options=options) as response:
                await response.read()
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith(("aiohttp_retry_calls_total", "aiohttp_retry_retries_total", "aiohttp_retry_tries_total")):
            print(line)


if __name__ == "__main__":
    asyncio.run(main())
