"""Headers made for every try: a signature with the try number, and a bearer token refreshed on 401.

Run: python examples/hooks.py
"""

from __future__ import annotations

import asyncio
import hashlib

from aiohttp import web
from local_server import serve

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.hooks import BearerAuth


async def main() -> None:
    valid = {"token": "t1"}
    seen: list[str] = []

    async def api(request: web.Request) -> web.Response:
        seen.append(f"try {request.headers['X-Try']}: {request.headers['Authorization']}")
        if request.headers["Authorization"] != f"Bearer {valid['token']}":
            return web.Response(status=401)
        if len(seen) < 3:
            return web.Response(status=503)
        return web.Response(text="ok")

    issued = 0

    async def get_token() -> str:  # a token service: each call issues a new token
        nonlocal issued
        issued += 1
        return f"t{issued}"

    def sign(attempt: int, method: str, url: object) -> dict[str, str]:
        digest = hashlib.sha256(f"{method} {url} {attempt}".encode()).hexdigest()[:12]
        return {"X-Try": str(attempt), "X-Signature": digest}

    app = web.Application()
    app.router.add_get("/api", api)
    async with serve(app) as url, RetryClient(hooks=[sign, BearerAuth(get_token)]) as client:
        valid["token"] = "t2"  # the server has rotated its tokens: t1 is refused from now on
        async with client.get(f"{url}/api", retry_options=ExponentialRetry(start_timeout=0)) as response:
            print(f"status {response.status} after {len(seen)} requests, {issued} tokens fetched:")
    for line in seen:
        print(f"  {line}")


if __name__ == "__main__":
    asyncio.run(main())
