"""The two ways to use the engine, behind one interface, so behaviour tests run against both."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse, ClientSession

from aiohttp_retry import RetryClient, RetryMiddleware, RetryOptionsBase


class Driver:
    """Sends one request with given options through a session."""

    name = ""

    def __init__(self, session: ClientSession, **policies: Any) -> None:
        self.session = session
        self.policies = policies  # shared state (limits, breaker, budget) given to the client or middleware

    async def request(self, method: str, url: str, options: RetryOptionsBase, **kwargs: Any) -> ClientResponse:
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


DRIVERS = {cls.name: cls for cls in (ClientDriver, MiddlewareDriver)}
