from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from pytest_aiohttp.plugin import AiohttpServer

from tests.drivers import DRIVERS, Driver
from tests.fault_server import FaultServer
from tests.memory_transport import LOGGER_NAME


@pytest.fixture
async def fault(aiohttp_server: AiohttpServer) -> FaultServer:
    """A started fault server; ``fault.url(path)`` is the absolute URL of ``path``."""
    server = FaultServer()
    test_server = await aiohttp_server(server.app)
    server.base_url = str(test_server.make_url("")).rstrip("/")
    return server


@pytest.fixture(params=sorted(DRIVERS))
def make_driver(request: pytest.FixtureRequest) -> type[Driver]:
    """Each behaviour test runs once through RetryClient and once through RetryMiddleware."""
    return DRIVERS[request.param]


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
