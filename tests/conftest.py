from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import ClientSession
from pytest_aiohttp.plugin import AiohttpServer

from aiohttp_retry.contrib.redis import RedisFleet
from tests.drivers import DRIVERS, OPEN_POOLS, Driver, HttpxDriver
from tests.fault_server import FaultServer
from tests.memory_transport import LOGGER_NAME
from tests.redis_server import MISSING, RedisServer, running_redis, server_binary


@pytest.fixture
async def fault(aiohttp_server: AiohttpServer) -> FaultServer:
    """A started fault server; ``fault.url(path)`` is the absolute URL of ``path``."""
    server = FaultServer()
    test_server = await aiohttp_server(server.app)
    server.base_url = str(test_server.make_url("")).rstrip("/")
    return server


@pytest.fixture(params=sorted(DRIVERS))
async def make_driver(request: pytest.FixtureRequest) -> AsyncIterator[type[Driver]]:
    """Each behaviour test runs through RetryClient, RetryMiddleware and httpx's RetryTransport.

    A test marked ``aiohttp_only("why")`` does not apply to httpx (the reason is listed in the
    README): it is skipped there with that reason. The pools of httpx drivers are closed after it.
    """
    marker = request.node.get_closest_marker("aiohttp_only")
    if marker is not None and request.param == HttpxDriver.name:
        pytest.skip(f"not for httpx: {marker.args[0]}")
    try:
        yield DRIVERS[request.param]
    finally:
        while OPEN_POOLS:
            await OPEN_POOLS.pop().aclose()


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture the engine tests' logger (tests.memory_transport.LOGGER_NAME) at DEBUG."""
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    return caplog


@pytest.fixture(autouse=True)
def _quiet_access_log() -> None:
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    """A plain session whose server hits count tries: no silent second try inside aiohttp."""
    async with ClientSession() as session:
        session._retry_connection = False
        yield session


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real Redis (or Valkey) server on 127.0.0.1, started for the test and stopped after it."""
    if server_binary() is None:
        pytest.fail(MISSING)
    with running_redis() as server:
        yield server


@pytest.fixture
async def fleets(redis_server: RedisServer) -> AsyncIterator[list[RedisFleet]]:
    """Two RedisFleets on one real server and prefix, as two processes would have: each with its own client."""
    made = [RedisFleet(url=redis_server.url, interval=60, timeout=0.5) for _ in range(2)]
    yield made
    for fleet in made:
        await fleet.aclose()
