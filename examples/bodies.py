"""Request bodies and retries: streamed bodies are replayed whole, or refused, never sent empty.

Run: python examples/bodies.py
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from local_server import serve

from aiohttp_retry import BodyNotReplayableError, ExponentialRetry, RetryClient


async def main() -> None:
    received: list[int] = []

    async def upload(request: web.Request) -> web.Response:
        received.append(len(await request.read()))
        return web.Response(status=503 if len(received) % 2 else 200)

    async def stream(parts: int) -> AsyncIterator[bytes]:
        for _ in range(parts):
            yield b"x" * 1000

    app = web.Application()
    app.router.add_put("/", upload)
    options = ExponentialRetry(attempts=2, start_timeout=0, replay_buffer=64 * 1024)
    async with serve(app) as url, RetryClient(retry_options=options) as client:
        async with client.put(url, data=stream(10)) as response:
            print(f"10 kB stream: {response.status}; bytes per try: {received}")
        received.clear()
        try:
            await client.put(url, data=stream(100))
        except BodyNotReplayableError as exc:
            print(f"100 kB stream: refused after try 1 ({received} bytes sent): {exc}")


if __name__ == "__main__":
    asyncio.run(main())
