"""RetryTransport: the same retries, budget, breaker and deadlines for an httpx.AsyncClient.

Run: python examples/httpx_client.py   (needs the httpx extra: pip install 'aiohttp_retry[httpx]')
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from aiohttp import web
from local_server import serve

from aiohttp_retry import BodyNotReplayableError, CircuitBreaker, ExponentialRetry, FullJitterRetry
from aiohttp_retry.events import GaveUp, RetryScheduled
from aiohttp_retry.transports.httpx import RetryTransport


async def main() -> None:
    hits = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        await request.read()
        return web.Response(status=503 if hits % 3 else 200, text=f"hit {hits}")

    def show(event: object) -> None:
        if isinstance(event, (RetryScheduled, GaveUp)):
            print(f"  event: {type(event).__name__} {event.reason if isinstance(event, GaveUp) else event.cause}")

    app = web.Application()
    app.router.add_route("*", "/", flaky)
    transport = RetryTransport(
        # pool settings (limits, verify, http2) belong to the wrapped transport when a client is given one
        httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=4)),
        FullJitterRetry(attempts=4, start_timeout=0.05, total_timeout=5),
        circuit_breaker=CircuitBreaker(),
        listeners=[show],
    )
    async with serve(app) as url, httpx.AsyncClient(transport=transport) as client:
        response = await client.get(url)
        print(f"GET: {response.status_code} ({response.text})")
        # FullJitterRetry leaves POST alone unless it carries an Idempotency-Key...
        response = await client.post(url, content=b"order")
        print(f"POST: {response.status_code}, sent once")
        response = await client.post(url, content=b"order", headers={"Idempotency-Key": "order-17"})
        print(f"POST with Idempotency-Key: {response.status_code} ({response.text})")
        # ...one call may choose its own options through the request's extensions...
        response = await client.get(url, extensions={"retry_options": ExponentialRetry(attempts=2, start_timeout=0)})
        print(f"GET with its own options: {response.status_code} ({response.text})")
        # ...and the final response comes back unread, so streaming still streams.
        async with client.stream("GET", url) as streamed:
            body = b"".join([chunk async for chunk in streamed.aiter_bytes()])
            print(f"streamed GET: {streamed.status_code} ({body.decode()})")

        async def upload() -> AsyncIterator[bytes]:
            for part in (b"chunk-1;", b"chunk-2;"):
                yield part

        # A streamed body is kept as it is sent (up to replay_buffer) and sent again from that copy.
        response = await client.put(url, content=upload())
        print(f"PUT of a stream: {response.status_code} ({response.text})")
        small = ExponentialRetry(attempts=3, start_timeout=0, replay_buffer=4)
        try:
            await client.put(url, content=upload(), extensions={"retry_options": small})
        except BodyNotReplayableError as error:
            print(f"PUT of a stream longer than replay_buffer: {type(error).__name__} after status {error.last_status}")


if __name__ == "__main__":
    asyncio.run(main())
