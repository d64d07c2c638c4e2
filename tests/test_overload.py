"""Retry budget, circuit breaker and hedging, on real servers and virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientResponseError, ClientSession, TCPConnector

from aiohttp_retry import (
    BreakerStateChange,
    CircuitBreaker,
    CircuitOpenError,
    ExponentialRetry,
    FullJitterRetry,
    Hedging,
    RetryBudget,
    RetryClient,
    RetryMiddleware,
)
from tests.drivers import Driver
from tests.fault_server import Drop, FaultServer, Reply


@pytest.fixture
async def driver(make_driver: type[Driver]) -> AsyncIterator[Driver]:
    async with ClientSession() as session:
        yield make_driver(session)


async def test_spent_budget_ends_the_call_with_its_last_response(driver: Driver, fault: FaultServer) -> None:
    """With no budget left, a failing call returns its first answer instead of retrying."""
    path = fault.script("/down", Reply(503, b"first"))
    opts = ExponentialRetry(start_timeout=0, retry_budget=RetryBudget(ratio=0, min_per_second=0))
    response = await driver.request("GET", fault.url(path), opts)
    assert response.status == 503
    assert await response.read() == b"first"
    assert len(fault.hits) == 1


async def test_budget_caps_retries_across_calls(driver: Driver, fault: FaultServer) -> None:
    """Twenty failing calls sharing a 50 % budget make at most ten retries between them."""
    path = fault.script("/down", 503)
    opts = ExponentialRetry(attempts=4, start_timeout=0, retry_budget=RetryBudget(ratio=0.5, min_per_second=0))
    for _ in range(20):
        response = await driver.request("GET", fault.url(path), opts)
        await response.release()
    assert len(fault.hits) == 20 + 10


async def test_budget_can_be_turned_off(fault: FaultServer) -> None:
    """retry_budget=None on the client restores plain attempt counting."""
    path = fault.script("/down", 503)
    opts = ExponentialRetry(attempts=3, start_timeout=0)
    async with RetryClient(retry_options=opts, retry_budget=None) as client:
        for _ in range(40):
            (await client.get(fault.url(path))).release()
    assert len(fault.hits) == 120


async def test_default_budget_is_not_noticed_in_normal_use(fault: FaultServer) -> None:
    """Under the default budget, occasional failures are retried as before."""
    path = fault.script("/flaky", *([503, 200] * 50))
    async with RetryClient(retry_options=ExponentialRetry(start_timeout=0)) as client:
        statuses = []
        for _ in range(50):
            async with client.get(fault.url(path)) as response:
                statuses.append(response.status)
    assert statuses == [200] * 50


@pytest.mark.looptime
async def test_breaker_opens_fails_fast_probes_and_closes(driver: Driver, fault: FaultServer) -> None:
    """Scripted: four failures open it; calls fail fast for 5 s; one probe succeeds and closes it."""
    path = fault.script("/svc", 500, 500, 500, 500, 200)
    events: list[BreakerStateChange] = []
    clock = asyncio.get_running_loop().time  # the breaker reads virtual time too
    breaker = CircuitBreaker(failure_ratio=0.5, minimum_throughput=4, break_duration=5, clock=clock)

    def collect(event: object) -> None:
        if isinstance(event, BreakerStateChange):
            events.append(event)

    opts = ExponentialRetry(attempts=1, circuit_breaker=breaker, listeners=[collect])
    url = fault.url(path)
    for _ in range(4):
        await (await driver.request("GET", url, opts)).release()
    assert [e.new for e in events] == ["open"]
    with pytest.raises(CircuitOpenError) as info:
        await driver.request("GET", url, opts)
    assert info.value.retry_in == pytest.approx(5)
    assert len(fault.hits) == 4  # refused without being sent
    await asyncio.sleep(3)
    with pytest.raises(CircuitOpenError) as info:
        await driver.request("GET", url, opts)
    assert info.value.retry_in == pytest.approx(2)
    await asyncio.sleep(2)
    response = await driver.request("GET", url, opts)  # the probe
    assert response.status == 200
    await response.release()
    assert [e.new for e in events] == ["open", "half_open", "closed"]
    await (await driver.request("GET", url, opts)).release()
    assert len(fault.hits) == 6


@pytest.mark.looptime
async def test_breaker_opening_mid_call_stops_its_retries(driver: Driver, fault: FaultServer) -> None:
    """A call whose own failures open the breaker ends with its last response instead of retrying on."""
    path = fault.script("/svc", Reply(500, b"last"))
    breaker = CircuitBreaker(minimum_throughput=2, break_duration=30, clock=asyncio.get_running_loop().time)
    opts = ExponentialRetry(attempts=5, start_timeout=0.1, circuit_breaker=breaker)
    response = await driver.request("GET", fault.url(path), opts)
    assert response.status == 500
    assert await response.read() == b"last"
    assert len(fault.hits) == 2


@pytest.fixture
async def hedged_client() -> AsyncIterator[tuple[RetryClient, TCPConnector]]:
    connector = TCPConnector(limit=10)
    async with ClientSession(connector=connector) as session:
        yield RetryClient(client_session=session), connector


@pytest.mark.looptime
async def test_hedge_wins_over_a_slow_try(fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]) -> None:
    """After the hedge delay a second try starts; the first answer wins and the loser is released."""
    client, connector = hedged_client
    path = fault.script("/tail", Reply(200, b"slow", delay=1), Reply(200, b"fast"))
    opts = ExponentialRetry(attempts=2, hedging=Hedging(delay=0.1))
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client.get(fault.url(path), opts) as response:
        assert await response.read() == b"fast"
    assert loop.time() - start == pytest.approx(0.1, abs=0.01)
    assert len(fault.hits) == 2
    assert len(connector._acquired) == 0


@pytest.mark.looptime
async def test_fast_failure_fires_the_next_hedge_at_once(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """A retryable answer does not wait for the hedge delay: the next try starts immediately."""
    client, connector = hedged_client
    path = fault.script("/tail", Reply(503), Reply(200, b"second"))
    opts = ExponentialRetry(attempts=3, hedging=Hedging(delay=10))
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client.get(fault.url(path), opts) as response:
        assert await response.read() == b"second"
    assert loop.time() - start < 0.01
    assert len(connector._acquired) == 0


@pytest.mark.looptime
async def test_all_hedges_failing_ends_with_the_last_answer(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """When every try fails, the call ends with the last answer, as a sequential call would."""
    client, connector = hedged_client
    path = fault.script("/tail", Reply(503, b"a"), Reply(502, b"b"), Reply(500, b"c"))
    opts = ExponentialRetry(attempts=3, hedging=Hedging(delay=0.5))
    response = await client.get(fault.url(path), opts)
    assert (response.status, await response.read()) == (500, b"c")
    assert len(fault.hits) == 3
    assert len(connector._acquired) == 0


@pytest.mark.looptime
async def test_hedges_are_paid_from_the_budget(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """With the retry budget spent, no hedge is sent: the call waits for its only try."""
    client, _ = hedged_client
    path = fault.script("/tail", Reply(200, b"slow", delay=1))
    budget = RetryBudget(ratio=0, min_per_second=0)
    opts = ExponentialRetry(attempts=3, hedging=Hedging(delay=0.1), retry_budget=budget)
    async with client.get(fault.url(path), opts) as response:
        assert await response.read() == b"slow"
    assert len(fault.hits) == 1


@pytest.mark.looptime
async def test_non_idempotent_requests_are_not_hedged(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """A POST without an idempotency key is sent once, however slow."""
    client, _ = hedged_client
    path = fault.script("/tail", Reply(200, b"slow", delay=1))
    opts = FullJitterRetry(attempts=3, hedging=Hedging(delay=0.1))
    async with client.post(fault.url(path), opts, data=b"x") as response:
        assert await response.read() == b"slow"
    assert len(fault.hits) == 1


@pytest.mark.looptime
async def test_percentile_hedge_delay(fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]) -> None:
    """Once enough latencies are known, the hedge waits for their percentile, not the fixed delay."""
    client, _ = hedged_client
    path = fault.script(
        "/tail", Reply(delay=0.2), Reply(delay=0.2), Reply(delay=0.2), Reply(200, b"stuck", delay=9), Reply(200, b"ok")
    )
    opts = ExponentialRetry(attempts=2, hedging=Hedging(delay=5, percentile=0.5, min_samples=3))
    for _ in range(3):
        (await client.get(fault.url(path), opts)).release()
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client.get(fault.url(path), opts) as response:
        assert await response.read() == b"ok"
    assert loop.time() - start == pytest.approx(0.2, abs=0.01)


def test_middleware_refuses_hedging() -> None:
    """RetryMiddleware cannot send one request object twice at once, so hedging options are refused."""
    with pytest.raises(ValueError, match="hedging"):
        RetryMiddleware(ExponentialRetry(hedging=Hedging()))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"delay": -1}, "delay"), ({"percentile": 1.5}, "percentile"), ({"min_samples": 300}, "min_samples")],
)
def test_bad_hedging_settings(kwargs: dict[str, float], name: str) -> None:
    """Bad hedging settings are refused at construction, naming the parameter."""
    with pytest.raises(ValueError, match=name):
        Hedging(**kwargs)  # type: ignore[arg-type]


def test_bad_shared_state_objects_are_refused() -> None:
    """A retry budget or breaker of the wrong type is refused at construction."""
    with pytest.raises(TypeError, match="retry_budget"):
        ExponentialRetry(retry_budget=0.2)  # type: ignore[typeddict-item]
    with pytest.raises(TypeError, match="circuit_breaker"):
        RetryMiddleware(circuit_breaker=True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="retry_budget"):
        RetryClient(retry_budget=object())  # type: ignore[arg-type]


@pytest.mark.looptime
async def test_hedged_dropped_connection_fires_the_next_try(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """A network error in a hedged call is a fast failure: the next try starts at once."""
    client, connector = hedged_client
    client._client._retry_connection = False  # count every try at the server
    path = fault.script("/tail", Drop(), Reply(200, b"ok"))
    opts = ExponentialRetry(attempts=2, hedging=Hedging(delay=10))
    async with client.get(fault.url(path), opts) as response:
        assert await response.read() == b"ok"
    assert len(fault.hits) == 2
    assert len(connector._acquired) == 0


@pytest.mark.looptime
async def test_hedged_final_response_obeys_raise_for_status(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """The winning response of a hedged call still goes through raise_for_status."""
    client, connector = hedged_client
    path = fault.script("/tail", Reply(404), Reply(503))
    opts = ExponentialRetry(attempts=2, hedging=Hedging(delay=1))
    with pytest.raises(ClientResponseError) as info:
        await client.get(fault.url(path), opts, raise_for_status=True)
    assert info.value.status == 404
    path = fault.script("/down", Reply(503), Reply(503))
    with pytest.raises(ClientResponseError) as info:
        await client.get(fault.url(path), opts, raise_for_status=True)
    assert info.value.status == 503
    assert len(connector._acquired) == 0


@pytest.mark.looptime
async def test_cancelling_a_hedged_call_releases_every_try(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """Cancelling a call with several tries under way cancels them all and leaves nothing acquired."""
    client, connector = hedged_client
    path = fault.script("/tail", Reply(200, delay=5))
    opts = ExponentialRetry(attempts=3, hedging=Hedging(delay=0.1))
    task = asyncio.ensure_future(client.get(fault.url(path), opts))
    await asyncio.sleep(1)
    assert len(fault.hits) == 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(connector._acquired) == 0


@pytest.mark.looptime
async def test_hedges_stop_when_the_breaker_opens(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """A hedge the breaker refuses is not sent; the call ends with what it has."""
    client, _ = hedged_client
    path = fault.script("/tail", Reply(500, b"bad"))
    breaker = CircuitBreaker(minimum_throughput=1, break_duration=60, clock=asyncio.get_running_loop().time)
    opts = ExponentialRetry(attempts=4, hedging=Hedging(delay=1), circuit_breaker=breaker)
    response = await client.get(fault.url(path), opts)
    assert (response.status, await response.read()) == (500, b"bad")
    assert len(fault.hits) == 1


async def test_hedged_failure_is_released_before_the_next_try(fault: FaultServer) -> None:
    """With one pooled connection, a hedged call's 4 MiB failure is released so the next try can run."""
    path = fault.script("/one", Reply(500, b"x" * 4 * 1024 * 1024), Reply(200, b"ok"))
    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session, asyncio.timeout(10):
        client = RetryClient(client_session=session)
        opts = ExponentialRetry(attempts=2, hedging=Hedging(delay=5))
        async with client.get(fault.url(path), opts) as response:
            assert await response.read() == b"ok"
        assert len(connector._acquired) == 0


async def test_hedged_callback_error_releases_the_response(fault: FaultServer) -> None:
    """A response callback that raises in a hedged call leaves no connection acquired."""
    path = fault.script("/cb", Reply(200, b"x" * 1024 * 1024))

    def broken(_: object) -> bool:
        msg = "judge failed"
        raise ValueError(msg)

    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:
        client = RetryClient(client_session=session)
        opts = ExponentialRetry(attempts=2, hedging=Hedging(delay=5), evaluate_response_callback=broken)
        with pytest.raises(ValueError, match="judge failed"):
            await client.get(fault.url(path), opts)
        assert len(connector._acquired) == 0


@pytest.mark.looptime
async def test_hedged_call_honours_retry_after(
    fault: FaultServer, hedged_client: tuple[RetryClient, TCPConnector]
) -> None:
    """A Retry-After above the cap stops a hedged call as it stops a sequential one."""
    client, _ = hedged_client
    path = fault.script("/busy", Reply(503, b"later", headers={"Retry-After": "120"}))
    opts = ExponentialRetry(attempts=4, hedging=Hedging(delay=0.1))
    response = await client.get(fault.url(path), opts)
    assert (response.status, await response.read()) == (503, b"later")
    assert len(fault.hits) == 1
