"""StatusCheck on the response a call returns, through RetryClient and RetryMiddleware alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientResponse, ClientSession, TCPConnector

from aiohttp_retry import ExponentialRetry, StatusCheck, StatusError
from tests.drivers import NO_RAISE_FOR_STATUS, Driver
from tests.fault_server import FaultServer, Reply

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


class AuthError(StatusError):
    pass


class NotFoundError(Exception):
    pass


class ApiError(Exception):
    pass


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    # One connection: a response a check rejects and does not release would hang the next call.
    async with ClientSession(connector=TCPConnector(limit=1)) as session:
        session._retry_connection = False  # hits count tries
        yield session


@pytest.mark.aiohttp_only(NO_RAISE_FOR_STATUS)
async def test_a_mapped_status_raises_its_class_after_the_retries(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """503 is retried as usual; the 401 that ends the call raises AuthError with status, method and redacted URL."""
    path = fault.script("/me", 503, Reply(401, b"who?"))
    check = StatusCheck(errors={401: AuthError, 404: NotFoundError})
    url = fault.url(path).replace("http://", "http://user:s3cret@") + "?token=abc"
    with pytest.raises(AuthError) as raised:
        await make_driver(session).request("GET", url, NO_WAIT, raise_for_status=check)
    error = raised.value
    assert (error.status, error.method) == (401, "GET")
    assert "s3cret" not in error.url
    assert "abc" not in error.url
    assert error.url.endswith(f"{path}?token=***")
    assert str(error) == f"GET {error.url} ended with status 401"
    assert len(fault.hits) == 2
    fault.script("/gone", 404)
    with pytest.raises(NotFoundError, match="ended with status 404") as gone:
        await asyncio.wait_for(
            make_driver(session).request("GET", fault.url("/gone"), NO_WAIT, raise_for_status=check), 5
        )
    assert gone.value.status == 404  # type: ignore[attr-defined]


@pytest.mark.aiohttp_only(NO_RAISE_FOR_STATUS)
async def test_a_status_outside_allowed_raises_status_error(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    path = fault.script("/created", 202)
    check = StatusCheck(allowed={200, 201})
    driver = make_driver(session)
    for _ in range(3):  # each rejected response was released: the one connection is free again
        with pytest.raises(StatusError, match=r"ended with status 202 \(allowed: 200, 201\)"):
            await asyncio.wait_for(driver.request("POST", fault.url(path), NO_WAIT, raise_for_status=check), 5)
    ok = fault.script("/ok", 201)
    response = await driver.request("POST", fault.url(ok), NO_WAIT, raise_for_status=check)
    assert response.status == 201
    await response.release()


@pytest.mark.aiohttp_only(NO_RAISE_FOR_STATUS)
async def test_validators_see_the_final_response_only(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """A validator never sees, and so never cancels, a response that is retried; it may read the final body."""
    seen: list[int] = []

    def record(response: ClientResponse) -> None:
        seen.append(response.status)

    async def no_error_field(response: ClientResponse) -> None:
        body = json.loads(await response.read())
        if "error" in body:
            raise ApiError(body["error"])

    path = fault.script("/api", Reply(503, b"{}"), Reply(200, b'{"error": "quota"}'))
    check = StatusCheck(validators=[record, no_error_field])
    driver = make_driver(session)
    with pytest.raises(ApiError, match="quota"):
        await driver.request("GET", fault.url(path), NO_WAIT, raise_for_status=check)
    assert seen == [200]
    assert len(fault.hits) == 2
    fine = fault.script("/fine", Reply(200, b'{"data": 1}'))
    response = await asyncio.wait_for(driver.request("GET", fault.url(fine), NO_WAIT, raise_for_status=check), 5)
    assert await response.read() == b'{"data": 1}'


def test_bad_settings_are_refused() -> None:
    with pytest.raises(TypeError, match=r"^errors must be a mapping"):
        StatusCheck(errors=[401])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^errors\[401\] must be an exception class"):
        StatusCheck(errors={401: "AuthError"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"^errors must hold status codes from 100 to 599"):
        StatusCheck(errors={42: AuthError})
    with pytest.raises(ValueError, match=r"^allowed must hold status codes"):
        StatusCheck(allowed={700})
    with pytest.raises(TypeError, match=r"^validators must hold callables"):
        StatusCheck(validators=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^validators must be an iterable"):
        StatusCheck(validators=print)  # type: ignore[arg-type]
    check = StatusCheck(allowed=[200])
    assert check.allowed == frozenset({200})
    assert check.errors == {}
