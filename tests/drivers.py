"""The three ways to use the engine, behind one interface, so behaviour tests run against each.

``RetryClient`` and ``RetryMiddleware`` send through the aiohttp session they are given;
``RetryTransport`` sends through an ``httpx.AsyncClient`` of its own (a pool per driver,
closed when the test ends). What httpx answers is wrapped in :class:`HttpxReply`, which reads
like an aiohttp response (``status``, ``read()``, ``release()``), so one test body serves all.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import httpx
from aiohttp import ClientConnectorError, ClientResponse, ClientSession, ServerDisconnectedError, TCPConnector, payload

from aiohttp_retry import RetryClient, RetryMiddleware, RetryOptionsBase
from aiohttp_retry.transports.httpx import EXTENSION, RetryTransport

#: Why tests of aiohttp's ``raise_for_status=`` call argument do not apply to httpx.
NO_RAISE_FOR_STATUS = (
    "httpx checks statuses in its client, after the transport (response.raise_for_status(), event hooks), "
    "not through a request argument"
)


class Driver:
    """Sends one request with given options."""

    name = ""
    #: What a connection dropped by the server, and a refused connect, raise through this driver.
    disconnected: ClassVar[type[BaseException]] = ServerDisconnectedError
    refused: ClassVar[type[BaseException]] = ClientConnectorError

    def __init__(self, session: ClientSession, **policies: Any) -> None:
        self.session = session
        self.policies = policies  # shared state (limits, breaker, budget) given to the client or middleware

    async def request(self, method: str, url: str, options: RetryOptionsBase, **kwargs: Any) -> Any:
        raise NotImplementedError


class ClientDriver(Driver):
    name = "RetryClient"

    async def request(self, method: str, url: str, options: RetryOptionsBase, **kwargs: Any) -> ClientResponse:
        client = RetryClient(client_session=self.session, **self.policies)
        return await client.request(method, url, retry_options=options, **kwargs)


class MiddlewareDriver(Driver):
    name = "RetryMiddleware"

    async def request(self, method: str, url: str, options: RetryOptionsBase, **kwargs: Any) -> ClientResponse:
        middleware = RetryMiddleware(options, **self.policies)
        return await self.session.request(method, url, middlewares=(middleware,), **kwargs)


class HttpxReply:
    """An ``httpx.Response`` read through the names of an aiohttp response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.headers = response.headers

    async def read(self) -> bytes:
        return await self.response.aread()

    async def text(self) -> str:
        await self.response.aread()
        return self.response.text

    async def release(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> HttpxReply:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.response.aclose()


#: Pools made by httpx drivers during the running test; ``make_driver`` closes them after it.
OPEN_POOLS: list[httpx.AsyncHTTPTransport] = []


class HttpxDriver(Driver):
    """``httpx.AsyncClient(transport=RetryTransport(pool, **policies))``, the call's options in its extensions.

    A new ``RetryTransport`` per request (as the other drivers make a new client or middleware),
    over one connection pool per driver. aiohttp's ``data=`` becomes httpx's ``content=``
    (bytes, async iterators); other aiohttp-only arguments are refused, so that no test passes
    by silently dropping them.
    """

    name = "RetryTransport"
    disconnected = httpx.RemoteProtocolError
    refused = httpx.ConnectError

    def __init__(self, session: ClientSession, pool: httpx.AsyncBaseTransport | None = None, **policies: Any) -> None:
        super().__init__(session, **policies)
        if pool is None:
            pool = httpx.AsyncHTTPTransport()
            OPEN_POOLS.append(pool)
        self.pool = pool

    async def request(self, method: str, url: str, options: RetryOptionsBase, **kwargs: Any) -> HttpxReply:
        data = kwargs.pop("data", None)
        if data is not None:
            if isinstance(data, (io.IOBase, payload.Payload)):
                msg = f"httpx.AsyncClient takes no {type(data).__name__} body"
                raise TypeError(msg)
            kwargs["content"] = data
        base = getattr(self.session, "_base_url", None)  # the session's defaults, as the client's
        client = httpx.AsyncClient(
            transport=RetryTransport(self.pool, **self.policies),
            base_url=str(base or ""),
            headers=dict(self.session.headers),
            timeout=300,  # aiohttp's default total; httpx's default read timeout is 5 s
        )
        # the client is not closed: that would close the pool, which the driver's later requests share
        response = await client.request(method, url, extensions={EXTENSION: options}, **kwargs)
        return HttpxReply(response)


DRIVERS = {cls.name: cls for cls in (ClientDriver, MiddlewareDriver, HttpxDriver)}


@contextlib.asynccontextmanager
async def one_connection(make_driver: type[Driver]) -> AsyncIterator[tuple[Driver, Callable[[], int]]]:
    """A driver whose pool holds one connection, and a count of the requests that hold (or wait for) it."""
    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:
        if make_driver is HttpxDriver:
            async with httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1)) as pool:
                yield HttpxDriver(session, pool=pool), lambda: len(pool._pool._requests)
        else:
            yield make_driver(session), lambda: len(connector._acquired)
