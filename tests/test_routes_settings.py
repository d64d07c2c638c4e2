"""Settings by route: options, raise_for_status and hooks by origin, template or regex; one merge rule."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientSession

from aiohttp_retry import ExponentialRetry, FullJitterRetry, Hedging, RetryClient, RetryMiddleware, StatusCheck
from aiohttp_retry.routes import UNSET, Route, RouteTable, Settings
from tests.drivers import Driver
from tests.fault_server import FaultServer

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


def client_or_middleware(make_driver: type[Driver], session: ClientSession, **settings: object) -> Driver:
    return make_driver(session, **settings)


async def send(driver: Driver, url: str) -> int:
    """A GET with no options of its own: the client's or middleware's, and the routes', decide."""
    if driver.name == "RetryClient":
        client = RetryClient(client_session=driver.session, **driver.policies)
        response = await client.get(url)
    else:
        response = await driver.session.get(url, middlewares=(RetryMiddleware(**driver.policies),))
    await response.release()
    return response.status


async def test_a_route_replaces_the_options_and_none_means_one_try(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    origin = fault.base_url.split("//")[1]
    for path in ("/a", "/search/x", "/pay"):
        fault.script(path, 503, 503, 503, 200)
    routes = {
        "/search/{q}": Route(retry_options=ExponentialRetry(attempts=2, start_timeout=0)),
        re.compile(r"/pay$"): Route(retry_options=None),
        origin: Route(retry_options=ExponentialRetry(attempts=4, start_timeout=0)),
    }
    driver = client_or_middleware(make_driver, session, retry_options=NO_WAIT, routes=routes)
    assert await send(driver, fault.url("/a")) == 200  # the origin's route: 4 tries
    assert await send(driver, fault.url("/search/x")) == 503  # origin, then template: 2 tries
    assert await send(driver, fault.url("/pay")) == 503  # then the regex: one try of the options so far
    assert [len(fault.hits_of(p)) for p in ("/a", "/search/x", "/pay")] == [4, 2, 1]


async def test_a_call_s_own_options_win_over_the_routes(session: ClientSession, fault: FaultServer) -> None:
    path = fault.script("/x", 503, 200)
    client = RetryClient(client_session=session, routes={"/x": Route(retry_options=None)})
    response = await client.get(fault.url(path), retry_options=NO_WAIT)
    assert response.status == 200
    await response.release()
    assert len(fault.hits) == 2


async def test_raise_for_status_and_hooks_by_route(session: ClientSession, fault: FaultServer) -> None:
    fault.script("/strict", 404)
    fault.script("/loose", 404)

    def v2_key(attempt: int, method: str, url: object) -> dict[str, str]:
        return {"X-Key": "v2"}

    client = RetryClient(
        client_session=session,
        raise_for_status=True,
        hooks=[lambda *_: {"X-Key": "v1"}],
        routes={
            "/strict": Route(raise_for_status=StatusCheck(allowed={200}), hooks=[v2_key]),
            "/loose": Route(raise_for_status=None, hooks=None),
        },
    )
    with pytest.raises(Exception, match="ended with status 404"):
        await client.get(fault.url("/strict"))
    response = await client.get(fault.url("/loose"))  # the route turned both off
    assert response.status == 404
    await response.release()
    fault.script("/other", 200)
    (await client.get(fault.url("/other"))).release()
    keys = {h.path: h.headers.get("X-Key") for h in fault.hits}
    assert keys == {"/strict": "v2", "/loose": None, "/other": "v1"}


def test_settings_of_a_combination_are_merged_once() -> None:
    base = Settings(NO_WAIT, raise_for_status=False, hooks=None)
    one, two = Route(retry_options=FullJitterRetry()), Route(raise_for_status=True)
    table = RouteTable({"a.example": one, "/p": two}, base)
    first = table.settings("a.example", "http://a.example/p")
    assert first.retry_options is one.retry_options
    assert first.raise_for_status is True
    assert table.settings("a.example", "http://a.example/p?again=1") is first
    assert table.settings("b.example", "http://b.example/q") is base
    unset = Route()
    assert (unset.retry_options, unset.raise_for_status, unset.hooks) == (UNSET, UNSET, UNSET)
    assert repr(Route(raise_for_status=True)) == "Route(raise_for_status=True)"


def test_bad_routes_are_refused() -> None:
    with pytest.raises(TypeError, match=r"^retry_options must be UNSET, None or a RetryOptionsBase"):
        Route(retry_options=3)
    with pytest.raises(TypeError, match=r"^raise_for_status must be UNSET, None, a bool or a callable"):
        Route(raise_for_status="yes")
    with pytest.raises(TypeError, match=r"^hooks must be an iterable"):
        Route(hooks=5)
    with pytest.raises(TypeError, match=r"^routes\['/a'\] must be a Route"):
        RetryClient(routes={"/a": ExponentialRetry()})
    with pytest.raises(ValueError, match=r"RetryMiddleware takes no raise_for_status by route"):
        RetryMiddleware(routes={"/a": Route(raise_for_status=True)})
    with pytest.raises(ValueError, match=r"^hedging cannot be used with RetryMiddleware"):
        RetryMiddleware(routes={"/a": Route(retry_options=ExponentialRetry(hedging=Hedging()))})
