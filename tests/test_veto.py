"""The server's veto: a response carrying the options' veto header is not retried, through both adapters."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession
from multidict import CIMultiDict

from aiohttp_retry import ExponentialRetry, GaveUp, Hedging, RetryClient, StopReason
from aiohttp_retry.policy.classify import has_header
from tests.drivers import Driver
from tests.fault_server import FaultServer, Reply

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


async def test_a_vetoed_response_ends_the_call(make_driver: type[Driver], session: ClientSession, fault: FaultServer):
    """A 503 with X-Do-Not-Retry is returned as it is, after one try; the call gave up for "server veto"."""
    ended: list[object] = []
    path = fault.script("/veto", Reply(503, b"no", headers={"X-Do-Not-Retry": "1"}), 200)
    driver = make_driver(session, listeners=[ended.append])
    response = await driver.request("GET", fault.url(path), NO_WAIT)
    assert (response.status, await response.read()) == (503, b"no")
    assert len(fault.hits) == 1
    (gave_up,) = [e for e in ended if isinstance(e, GaveUp)]
    assert (gave_up.reason, gave_up.tries) == (StopReason.SERVER_VETO, 1)


async def test_the_veto_header_is_an_option(make_driver: type[Driver], session: ClientSession, fault: FaultServer):
    """Another header name can be the veto; None turns the veto off; the value does not matter."""
    path = fault.script("/veto", Reply(503, headers={"X-Do-Not-Retry": "0", "Stop": ""}), 200)
    driver = make_driver(session)
    off = ExponentialRetry(attempts=3, start_timeout=0, veto_header=None)
    response = await driver.request("GET", fault.url(path), off)
    assert response.status == 200
    await response.release()
    other = ExponentialRetry(attempts=3, start_timeout=0, veto_header="stop")
    fault.script("/other", Reply(503, headers={"Stop": ""}), 200)
    response = await driver.request("GET", fault.url("/other"), other)
    assert response.status == 503
    await response.release()
    assert len(fault.hits_of("/other")) == 1


async def test_without_the_header_retries_go_on(make_driver: type[Driver], session: ClientSession, fault: FaultServer):
    path = fault.script("/plain", 503, 200)
    response = await make_driver(session).request("GET", fault.url(path), NO_WAIT)
    assert response.status == 200
    await response.release()


async def test_a_hedged_call_starts_no_further_try_after_a_veto(session: ClientSession, fault: FaultServer) -> None:
    path = fault.script("/veto", Reply(503, headers={"X-Do-Not-Retry": "yes"}), 200)
    client = RetryClient(client_session=session)
    options = ExponentialRetry(attempts=3, hedging=Hedging(delay=5))
    async with client.get(fault.url(path), retry_options=options) as response:
        assert response.status == 503
    assert len(fault.hits) == 1


def test_veto_header_setting() -> None:
    assert ExponentialRetry().veto_header == "X-Do-Not-Retry"
    assert "veto_header" not in repr(ExponentialRetry())
    assert (
        repr(ExponentialRetry(veto_header=None))
        == "ExponentialRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0, veto_header=None)"
    )
    with pytest.raises(TypeError, match=r"^veto_header must be a header name"):
        ExponentialRetry(veto_header=1)  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match=r"^veto_header must be a non-empty header name"):
        ExponentialRetry(veto_header="X Stop")


def test_has_header_in_any_letter_case() -> None:
    assert has_header({"X-Key": "1"}, "x-key")
    assert has_header({"x-key": ""}, "X-Key")
    assert has_header(CIMultiDict({"X-Key": "1"}), "X-KEY")
    assert not has_header({"X-Other": "1"}, "X-Key")
    assert not has_header({}, "X-Key")
    assert not has_header(None, "X-Key")
    assert not has_header({"X-Key": "1"}, None)
