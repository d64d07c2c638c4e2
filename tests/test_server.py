"""The server middleware: an inbound X-Request-Timeout bounds the calls a handler makes."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientSession, web
from pytest_aiohttp.plugin import AiohttpClient

from aiohttp_retry import ExponentialRetry, RetryClient, RetryMiddleware
from aiohttp_retry.server import current_deadline, deadline_middleware
from tests.fault_server import FaultServer, Reply


def frontend(fault: FaultServer, *, propagate: bool = False, middleware: bool = False) -> web.Application:
    """A service whose handler calls the fault server's /down with retries and reports what happened."""

    async def handler(_: web.Request) -> web.Response:
        opts = ExponentialRetry(attempts=20, start_timeout=0.1, factor=1, propagate_timeout=propagate)
        loop = asyncio.get_running_loop()
        left = current_deadline()
        start = loop.time()
        try:
            if middleware:
                async with ClientSession(middlewares=[RetryMiddleware(opts)]) as session:
                    response = await session.get(fault.url("/down"))
            else:
                async with RetryClient(retry_options=opts) as client:
                    response = await client.get(fault.url("/down"))
            outcome = str(response.status)
            response.release()
        except TimeoutError:
            outcome = "timeout"
        return web.json_response({"left": left, "elapsed": loop.time() - start, "outcome": outcome})

    app = web.Application(middlewares=[deadline_middleware])
    app.router.add_get("/work", handler)
    return app


@pytest.mark.looptime
@pytest.mark.parametrize("middleware", [False, True], ids=["RetryClient", "RetryMiddleware"])
async def test_inbound_timeout_bounds_outbound_calls(
    fault: FaultServer, aiohttp_client: AiohttpClient, middleware: bool
) -> None:
    """With X-Request-Timeout: 0.5 the handler's retrying call ends within 0.5 s, not after 20 tries."""
    fault.script("/down", Reply(503, delay=0.06))
    client = await aiohttp_client(frontend(fault, middleware=middleware))
    response = await client.get("/work", headers={"X-Request-Timeout": "0.5"})
    report = await response.json()
    assert report["left"] == pytest.approx(0.5)
    assert report["elapsed"] <= 0.5
    assert report["outcome"] == "503"
    # tries of 0.06 s and waits of 0.1 s: tries start at 0, 0.16, 0.32; after the third, a wait and a
    # try like the last (0.38 + 0.1 + 0.06) would overrun, so the call ends with the third answer
    assert len(fault.hits) == 3
    assert report["elapsed"] == pytest.approx(0.38, abs=0.002)


@pytest.mark.looptime
async def test_remaining_time_is_passed_downstream(fault: FaultServer, aiohttp_client: AiohttpClient) -> None:
    """With propagate_timeout the downstream server hears how much of the inbound budget is left."""
    fault.script("/down", Reply(503, delay=0.06))
    client = await aiohttp_client(frontend(fault, propagate=True))
    response = await client.get("/work", headers={"X-Request-Timeout": "0.5"})
    await response.read()
    sent = [float(h.headers["X-Request-Timeout"]) for h in fault.hits]
    assert sent == pytest.approx([0.5, 0.34, 0.18], abs=0.002)


@pytest.mark.looptime
@pytest.mark.parametrize("header", [None, "soon", "-1", "nan", "inf"])
async def test_absent_or_bad_timeout_sets_no_deadline(
    fault: FaultServer, aiohttp_client: AiohttpClient, header: str | None
) -> None:
    """Without a usable X-Request-Timeout, the handler's calls run on their own limits."""
    fault.script("/down", 503)
    client = await aiohttp_client(frontend(fault))
    headers = {} if header is None else {"X-Request-Timeout": header}
    response = await client.get("/work", headers=headers)
    report = await response.json()
    assert report["left"] is None


async def test_outside_a_request_there_is_no_deadline() -> None:
    """current_deadline() is None when no request is being served."""
    assert current_deadline() is None
