"""Listeners that name the events they want, and listeners that add headers to a try."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import ClientSession

from aiohttp_retry import ExponentialRetry, Hedging, RetryClient, RetryMiddleware
from aiohttp_retry.events import (
    GaveUp,
    HedgeFired,
    Listeners,
    RetryScheduled,
    TryFinished,
    TryStarted,
    set_try_headers,
)
from aiohttp_retry.observe.logging import LoggingListener
from tests.fault_server import FaultServer
from tests.memory_transport import LOGGER_NAME, MemoryExchange, Recorder, drive


class Picky(Recorder):
    """A recorder that says which events it wants."""

    def __init__(self, *wanted: type) -> None:
        super().__init__()
        self.listens_to = frozenset(wanted)


@pytest.mark.looptime
@pytest.mark.parametrize("hedging", [None, Hedging(delay=0.1)], ids=["sequential", "hedged"])
@pytest.mark.parametrize("script", [[200], [503, 503, 503]], ids=["fast-path", "gives-up"])
async def test_a_listener_gets_only_the_events_it_names(script: list[Any], hedging: Hedging | None) -> None:
    picky, everything = Picky(TryFinished, GaveUp), Recorder()
    options = ExponentialRetry(attempts=3, start_timeout=0.01, hedging=hedging)
    await drive(options, MemoryExchange(script), listeners=Listeners([picky, everything]))
    assert {type(event) for event in picky.events} <= {TryFinished, GaveUp}
    assert picky.events == [e for e in everything.events if isinstance(e, (TryFinished, GaveUp))]
    assert any(isinstance(event, TryStarted) for event in everything.events)
    if len(script) > 1:  # events of other kinds were emitted, and only the picky listener went without them
        assert any(isinstance(event, (RetryScheduled, HedgeFired)) for event in everything.events)


@pytest.mark.looptime
async def test_listeners_added_per_call_keep_their_choice() -> None:
    picky = Picky(GaveUp)
    base = Listeners([Recorder()])
    both = base.with_users([picky])
    await drive(ExponentialRetry(attempts=2, start_timeout=0.01), MemoryExchange([503, 503]), listeners=both)
    assert [type(event) for event in picky.events] == [GaveUp]


def test_the_logging_listener_is_given_no_try_finished() -> None:
    """At DEBUG it logs each try as it starts; a TryFinished would say nothing more, so none is built for it."""
    logging.getLogger(LOGGER_NAME).setLevel(logging.DEBUG)
    try:
        listeners = Listeners([], LoggingListener(logging.getLogger(LOGGER_NAME)))
        starts, finishes = listeners.for_tries()
        assert starts == (listeners.log._try_started,)  # its own handler, with no dispatch
        assert finishes == ()
    finally:
        logging.getLogger(LOGGER_NAME).setLevel(logging.NOTSET)


class Stamper:
    """Adds a header naming the try to each try, as a tracing listener does."""

    listens_to = frozenset({TryStarted})

    def __call__(self, event: TryStarted) -> None:
        set_try_headers({"X-Try": str(event.attempt)})


@pytest.mark.parametrize("kind", ["client", "middleware"])
async def test_a_listener_adds_headers_to_each_try_once(fault: FaultServer, kind: str) -> None:
    fault.script("/flaky", 503, 503, 200)
    options = ExponentialRetry(attempts=3, start_timeout=0.01)
    if kind == "client":
        async with RetryClient(retry_options=options, listeners=[Stamper()]) as client:
            async with client.get(fault.url("/flaky"), headers={"X-Given": "1"}) as response:
                assert response.status == 200
            async with RetryClient() as plain, plain.get(fault.url("/after")):
                pass
    else:
        stamped = ClientSession(middlewares=[RetryMiddleware(options, listeners=[Stamper()])])
        async with stamped as session, session.get(fault.url("/flaky"), headers={"X-Given": "1"}) as response:
            assert response.status == 200
        async with ClientSession(middlewares=[RetryMiddleware(options)]) as plain, plain.get(fault.url("/after")):
            pass
    hits = fault.hits_of("/flaky")
    assert [hit.headers.get("X-Try") for hit in hits] == ["1", "2", "3"]
    assert all(hit.headers.get("X-Given") == "1" for hit in hits)
    assert "X-Try" not in fault.hits_of("/after")[0].headers


async def test_the_engine_tests_check_how_every_call_ends() -> None:
    """drive() (which most engine tests use) fails a call whose recorded events end it twice."""
    recorder = Recorder()

    def echo(event: object) -> None:
        if isinstance(event, GaveUp):
            recorder(event)  # the recorder now holds two events that end the call

    with pytest.raises(AssertionError, match="must end with one final TryFinished or one GaveUp"):
        await drive(ExponentialRetry(attempts=1), MemoryExchange([503]), listeners=Listeners([recorder, echo]))
