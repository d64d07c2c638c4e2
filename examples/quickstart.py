"""RetryClient against a local server that fails twice before it answers.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from aiohttp_retry import ExponentialRetry, RetryClient


async def main() -> None:
    hits = 0

    async def flaky(_: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        if hits < 3:
            return web.Response(status=503, text="busy")
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", flaky)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        client = RetryClient(retry_options=ExponentialRetry(attempts=4, start_timeout=0.05))
        async with client, client.get(f"http://127.0.0.1:{port}/") as response:
            print(f"status {response.status} after {hits} tries: {await response.text()}")
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
