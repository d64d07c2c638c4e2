"""Settings by route: another retry policy, status check or headers for some origins and paths.

Run: python examples/routes.py
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from local_server import serve

from aiohttp_retry import ExponentialRetry, RetryClient, StatusCheck, StatusError
from aiohttp_retry.routes import Route


async def main() -> None:
    hits: dict[str, int] = {}

    async def flaky(request: web.Request) -> web.Response:
        hits[request.path] = hits.get(request.path, 0) + 1
        return web.Response(status=503 if hits[request.path] < 3 else 200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", flaky)
    async with serve(app) as url:
        routes = {
            re.compile(r"/payments/"): Route(retry_options=None),  # never resend a payment
            "/search/{q}": Route(retry_options=ExponentialRetry(attempts=5, start_timeout=0)),
            "/v2/{item}": Route(raise_for_status=StatusCheck(allowed={200})),
        }
        async with RetryClient(retry_options=ExponentialRetry(start_timeout=0), routes=routes) as client:
            for path in ("/orders/1", "/payments/7", "/search/shoes"):
                async with client.post(f"{url}{path}") as response:
                    print(f"POST {path}: {response.status} after {hits[path]} request(s)")
            try:
                await client.get(f"{url}/v2/9", retry_options=ExponentialRetry(attempts=1))
            except StatusError as error:
                print(f"GET /v2/9: {type(error).__name__}: {error}")


if __name__ == "__main__":
    asyncio.run(main())
