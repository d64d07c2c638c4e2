"""RetryClient against a real fault-injecting server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import socket
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import (
    ClientResponse,
    ClientResponseError,
    ClientSession,
    ClientTimeout,
    ServerDisconnectedError,
    TCPConnector,
    TraceConfig,
    TraceRequestStartParams,
)
from pytest_aiohttp.plugin import AiohttpClient

from aiohttp_retry import (
    ExponentialRetry,
    FibonacciRetry,
    FullJitterRetry,
    ListRetry,
    RandomRetry,
    RequestParams,
    RetryBudget,
    RetryClient,
    RetryMiddleware,
    RetryOptionsBase,
)
from aiohttp_retry.aiohttp_codec import request_of as _request_of
from aiohttp_retry.types import ClientType
from tests.fault_server import Drop, FaultServer, Reply

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]


class Recorder:
    """A TraceConfig that records the trace_request_ctx of every try."""

    def __init__(self) -> None:
        self.contexts: list[Any] = []
        self.config = TraceConfig()
        self.config.on_request_start.append(self._on_start)

    async def _on_start(self, _: ClientSession, ctx: SimpleNamespace, __: TraceRequestStartParams) -> None:
        self.contexts.append(ctx.trace_request_ctx)


async def test_success_is_one_try(fault: FaultServer) -> None:
    """A 200 answer is returned at once, after a single hit."""
    async with RetryClient() as client, client.get(fault.url("/ok")) as response:
        assert response.status == 200
        assert await response.text() == "ok"
    assert len(fault.hits) == 1


async def test_server_errors_are_retried_until_success(fault: FaultServer) -> None:
    """5xx answers are retried; the first good answer is returned."""
    path = fault.script("/flaky", 503, 500, 200)
    async with RetryClient(retry_options=NO_WAIT) as client, client.get(fault.url(path)) as response:
        assert response.status == 200
    assert len(fault.hits) == 3


async def test_last_response_is_returned_as_is(fault: FaultServer) -> None:
    """When every try fails, the last response comes back with its status and body."""
    path = fault.script("/down", Reply(503, b"try later"))
    async with RetryClient(retry_options=NO_WAIT) as client, client.get(fault.url(path)) as response:
        assert response.status == 503
        assert await response.read() == b"try later"
    assert len(fault.hits) == 3


async def test_client_errors_are_final_unless_listed(fault: FaultServer) -> None:
    """A 404 is returned at once by default, and retried when listed in statuses."""
    path = fault.script("/missing", 404)
    async with RetryClient(retry_options=NO_WAIT) as client:
        async with client.get(fault.url(path)) as response:
            assert response.status == 404
        assert len(fault.hits) == 1
        opts = ExponentialRetry(attempts=4, start_timeout=0, statuses={404})
        async with client.get(fault.url(path), opts) as response:
            assert response.status == 404
    assert len(fault.hits) == 5


async def test_excluded_method_is_not_retried(fault: FaultServer) -> None:
    """A method outside ``methods`` is sent once even on a 500."""
    path = fault.script("/post", 500)
    opts = ExponentialRetry(start_timeout=0, methods={"get"})
    async with RetryClient(retry_options=opts) as client, client.post(fault.url(path), data=b"x") as response:
        assert response.status == 500
    assert len(fault.hits) == 1


async def test_failed_responses_are_released_with_a_one_connection_pool(fault: FaultServer) -> None:
    """With TCPConnector(limit=1) and 4 MiB error bodies, retries neither hang nor hold a connection."""
    big = b"x" * (4 * 1024 * 1024)
    path = fault.script("/big", Reply(500, big), Reply(500, big), Reply(200, b"done"))
    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:
        client = RetryClient(client_session=session, retry_options=NO_WAIT)
        async with asyncio.timeout(10):
            async with client.get(fault.url(path)) as response:
                assert await response.read() == b"done"
            assert len(connector._acquired) == 0
            async with client.get(fault.url("/ok")) as response:  # the single connection is free again
                assert response.status == 200
        assert len(connector._acquired) == 0
    assert len(fault.hits) == 4


@pytest.mark.looptime
async def test_cancellation_during_backoff_releases_the_failed_response(fault: FaultServer) -> None:
    """A call cancelled while sleeping between tries leaves no connection acquired."""
    path = fault.script("/slowfix", Reply(500, b"x" * 1024 * 1024), 200)
    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:
        client = RetryClient(client_session=session, retry_options=ExponentialRetry(start_timeout=10))
        task = asyncio.ensure_future(client.get(fault.url(path)))
        await asyncio.sleep(5)  # virtual: the call is in its 10 s backoff
        assert len(fault.hits) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(connector._acquired) == 0
        async with client.get(fault.url("/ok")) as response:
            assert response.status == 200


async def test_dropped_connection_is_retried_for_get(fault: FaultServer, aiohttp_client: AiohttpClient) -> None:
    """A server disconnect is retried by default for an idempotent method."""
    path = fault.script("/drop", Drop(), 200)
    client = RetryClient(client_session=await aiohttp_client(fault.app), retry_options=NO_WAIT)
    async with client.get(path) as response:
        assert response.status == 200
    assert len(fault.hits) == 2


async def test_dropped_connection_is_not_retried_for_post(fault: FaultServer, aiohttp_client: AiohttpClient) -> None:
    """A server disconnect on POST is raised at once: the request may have taken effect."""
    path = fault.script("/drop", Drop(), 200)
    client = RetryClient(client_session=await aiohttp_client(fault.app), retry_options=NO_WAIT)
    with pytest.raises(ServerDisconnectedError):
        await client.post(path, data=b"charge")
    assert len(fault.hits) == 1


async def test_network_errors_can_be_turned_off(fault: FaultServer, aiohttp_client: AiohttpClient) -> None:
    """retry_network_errors=False restores 2.9.1's behaviour: no exception is retried unless listed."""
    path = fault.script("/drop", Drop(), 200)
    opts = ExponentialRetry(start_timeout=0, retry_network_errors=False)
    client = RetryClient(client_session=await aiohttp_client(fault.app), retry_options=opts)
    with pytest.raises(ServerDisconnectedError):
        await client.get(path)
    assert len(fault.hits) == 1


@pytest.mark.parametrize(("methods", "hits"), [(None, 2), ({"GET"}, 1)])
async def test_methods_also_filter_exception_retries(
    fault: FaultServer, aiohttp_client: AiohttpClient, methods: set[str] | None, hits: int
) -> None:
    """Listed exceptions are retried only for methods in ``methods``."""
    path = fault.script("/drop", Drop(), 200)
    opts = ExponentialRetry(start_timeout=0, exceptions={ServerDisconnectedError}, methods=methods)
    client = RetryClient(client_session=await aiohttp_client(fault.app), retry_options=opts)
    if hits == 1:
        with pytest.raises(ServerDisconnectedError):
            await client.post(path)
    else:
        async with client.post(path) as response:
            assert response.status == 200
    assert len(fault.hits) == hits


async def test_connection_refused_is_retried_then_raised() -> None:
    """A refused connection is retried for GET and raised after the last try."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recorder = Recorder()
    async with RetryClient(retry_options=NO_WAIT, trace_configs=[recorder.config]) as client:
        with pytest.raises(OSError, match="Cannot connect"):
            await client.get(f"http://127.0.0.1:{port}/")
    assert [c["current_attempt"] for c in recorder.contexts] == [1, 2, 3]


@pytest.mark.looptime
async def test_timeouts_are_retried(fault: FaultServer) -> None:
    """A try that exceeds the session's ClientTimeout is retried."""
    path = fault.script("/slow", Reply(200, b"late", delay=5), Reply(200, b"fast"))
    client = RetryClient(retry_options=NO_WAIT, timeout=ClientTimeout(total=0.5))
    async with client, client.get(fault.url(path)) as response:
        assert await response.read() == b"fast"
    assert len(fault.hits) == 2


async def test_url_list_sends_headers_and_trace_context_to_every_url(fault: FaultServer) -> None:
    """Each URL of a URL list gets the caller's headers and trace context; the last URL repeats."""
    a = fault.script("/a", 500)
    b = fault.script("/b", 503)
    recorder = Recorder()
    opts = ExponentialRetry(attempts=4, start_timeout=0)
    async with RetryClient(retry_options=opts, trace_configs=[recorder.config]) as client:
        urls = [fault.url(a), fault.url(b)]
        async with client.get(urls, headers={"X-Token": "t"}, trace_request_ctx={"k": 1}) as response:
            assert response.status == 503
    assert [h.path for h in fault.hits] == ["/a", "/b", "/b", "/b"]
    assert all(h.headers.get("X-Token") == "t" for h in fault.hits)
    assert recorder.contexts == [{"k": 1, "current_attempt": n} for n in (1, 2, 3, 4)]


async def test_current_attempt_is_not_overridden_by_the_caller(fault: FaultServer) -> None:
    """A caller's ``current_attempt`` key does not hide the real attempt number."""
    path = fault.script("/e", 500, 200)
    recorder = Recorder()
    client = RetryClient(retry_options=NO_WAIT, trace_configs=[recorder.config])
    async with client, client.get(fault.url(path), trace_request_ctx={"current_attempt": 99}):
        pass
    assert [c["current_attempt"] for c in recorder.contexts] == [1, 2]


async def test_bad_urls_are_rejected_when_called(fault: FaultServer) -> None:
    """A set or an empty list of URLs raises ValueError before anything is sent."""
    async with RetryClient() as client:
        for bad in ({fault.url("/a")}, [], 42):
            with pytest.raises(ValueError, match="url must be"):
                client.get(bad)  # type: ignore[arg-type]
    assert fault.hits == []


async def test_a_request_context_runs_once(fault: FaultServer) -> None:
    """Awaiting a request context a second time raises instead of sending again."""
    async with RetryClient() as client:
        ctx = client.get(fault.url("/ok"))
        response = await ctx
        response.release()
        with pytest.raises(RuntimeError, match="already sent"):
            await ctx
        with pytest.raises(RuntimeError, match="already sent"):
            async with ctx:
                pass
    assert len(fault.hits) == 1


@pytest.mark.parametrize("is_async", [False, True])
async def test_response_callback_may_be_sync_or_async(fault: FaultServer, is_async: bool) -> None:
    """evaluate_response_callback works as a plain function and as a coroutine function."""
    path = fault.script("/eventually", Reply(200, b"wait"), Reply(200, b"wait"), Reply(200, b"ready"))
    seen: list[int] = []

    def judge(response: ClientResponse) -> bool:
        seen.append(response.status)
        return response.content_length == len(b"ready")

    async def ajudge(response: ClientResponse) -> bool:
        return judge(response)

    opts = ExponentialRetry(start_timeout=0, evaluate_response_callback=ajudge if is_async else judge)
    async with RetryClient(retry_options=opts) as client, client.get(fault.url(path)) as response:
        assert await response.read() == b"ready"
    assert len(fault.hits) == 3
    assert seen == [200, 200]  # never consulted on the last try


async def test_response_callback_must_be_callable() -> None:
    """A non-callable evaluate_response_callback is rejected at construction."""
    with pytest.raises(TypeError, match="evaluate_response_callback"):
        ExponentialRetry(evaluate_response_callback=True)  # type: ignore[arg-type]


async def test_callers_session_stays_open(fault: FaultServer) -> None:
    """close() leaves a session passed in by the caller open; it closes one it created."""
    async with ClientSession() as session:
        client = RetryClient(client_session=session)
        await client.close()
        assert not session.closed
        async with client.get(fault.url("/ok")) as response:
            assert response.status == 200
    own = RetryClient()
    session = own._client
    async with own:
        pass
    assert session.closed


async def test_session_arguments_with_a_session_are_rejected() -> None:
    """Arguments meant for a new ClientSession cannot be silently dropped."""
    async with ClientSession() as session:
        with pytest.raises(TypeError, match="trace_configs"):
            RetryClient(client_session=session, trace_configs=[])
        with pytest.raises(TypeError, match="retry_options"):
            RetryClient(client_session=session, retry_options=3)  # type: ignore[arg-type]


async def test_unclosed_client_warns(caplog: pytest.LogCaptureFixture) -> None:
    """A client that created its session and was never closed logs a warning when collected."""
    client = RetryClient()
    session = client._client
    del client
    with caplog.at_level(logging.WARNING, logger="aiohttp_retry"):
        gc.collect()
    assert "was not closed" in caplog.text
    await session.close()


@pytest.mark.looptime
async def test_exponential_schedule_starts_at_start_timeout(fault: FaultServer) -> None:
    """The first wait is start_timeout, then it doubles: 0.1 s, 0.2 s, 0.4 s."""
    path = fault.script("/down", 503)
    client = RetryClient(retry_options=ExponentialRetry(attempts=4))
    async with client, client.get(fault.url(path)) as response:
        assert response.status == 503
    assert gaps([h.time for h in fault.hits]) == [0.1, 0.2, 0.4]


@pytest.mark.looptime
async def test_list_schedule_uses_the_first_entry_first(fault: FaultServer) -> None:
    """ListRetry([0.5, 1.5, 9]) makes three tries, waiting 0.5 s then 1.5 s."""
    path = fault.script("/down", 503)
    async with RetryClient(retry_options=ListRetry([0.5, 1.5, 9])) as client, client.get(fault.url(path)):
        pass
    assert gaps([h.time for h in fault.hits]) == [0.5, 1.5]


@pytest.mark.looptime
async def test_fibonacci_schedule_restarts_for_every_request(fault: FaultServer) -> None:
    """One FibonacciRetry shared by concurrent requests gives each the same 2 s, 3 s waits."""
    opts = FibonacciRetry(attempts=3, multiplier=1, max_timeout=60)
    paths = [fault.script(f"/f{i}", 503) for i in range(4)]
    async with RetryClient(retry_options=opts) as client:
        for response in await asyncio.gather(*(client.get(fault.url(p)) for p in paths)):
            response.release()
        async with client.get(fault.url(paths[0])):
            pass
    for path in paths:
        times = [h.time for h in fault.hits_of(path)]
        assert gaps(times[:3]) == [2.0, 3.0]
    assert gaps([h.time for h in fault.hits_of(paths[0])][3:]) == [2.0, 3.0]


@pytest.mark.looptime
async def test_random_schedule_stays_in_its_range(fault: FaultServer) -> None:
    """RandomRetry waits between min_timeout and max_timeout."""
    path = fault.script("/down", 503)
    opts = RandomRetry(attempts=6, min_timeout=1, max_timeout=2)
    async with RetryClient(retry_options=opts) as client, client.get(fault.url(path)):
        pass
    assert all(1 <= g <= 2 for g in gaps([h.time for h in fault.hits]))
    assert len(fault.hits) == 6


async def test_invalid_wait_from_a_custom_schedule_is_refused(fault: FaultServer) -> None:
    """A get_timeout that returns a negative or NaN wait raises a clear ValueError."""

    class Broken(RetryOptionsBase):
        def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
            return float("nan")

    path = fault.script("/down", 503)
    async with RetryClient(retry_options=Broken()) as client:
        with pytest.raises(ValueError, match=r"Broken.get_timeout returned nan"):
            await client.get(fault.url(path))
    assert len(fault.hits) == 1


async def test_raise_for_status_on_the_final_response(fault: FaultServer) -> None:
    """raise_for_status raises for the final response; a per-call value overrides the client's."""
    path = fault.script("/missing", 404)
    async with RetryClient(retry_options=NO_WAIT, raise_for_status=True) as client:
        with pytest.raises(ClientResponseError) as info:
            await client.get(fault.url(path))
        assert info.value.status == 404
        async with client.get(fault.url(path), raise_for_status=False) as response:
            assert response.status == 404
    assert len(fault.hits) == 2


async def test_raise_for_status_callable(fault: FaultServer) -> None:
    """A callable raise_for_status is called with the final response and may reject it."""
    path = fault.script("/teapot", 418)
    checked: list[int] = []

    async def check(response: ClientResponse) -> None:
        checked.append(response.status)
        if response.status == 418:
            msg = "no tea"
            raise LookupError(msg)

    async with RetryClient(retry_options=NO_WAIT) as client:
        with pytest.raises(LookupError, match="no tea"):
            await client.get(fault.url(path), raise_for_status=check)
        async with client.get(fault.url("/ok"), raise_for_status=check) as response:
            assert response.status == 200
    assert checked == [418, 200]


async def test_raise_for_status_error_can_be_retried(fault: FaultServer) -> None:
    """With ClientResponseError listed, a final-but-not-last 404 is retried; the last one raises."""
    path = fault.script("/missing", 404)
    opts = ExponentialRetry(start_timeout=0, exceptions={ClientResponseError})
    async with RetryClient(retry_options=opts, raise_for_status=True) as client:
        with pytest.raises(ClientResponseError):
            await client.get(fault.url(path))
    assert len(fault.hits) == 3


async def test_requests_repeats_the_last_params(fault: FaultServer) -> None:
    """requests() uses one RequestParams per try and repeats the last; an empty list is refused."""
    a = fault.script("/a", 500)
    b = fault.script("/b", 500, 500, 200)
    params = [
        RequestParams("GET", fault.url(a)),
        RequestParams("PUT", fault.url(b), headers={"X-N": "2"}, kwargs={"data": b"body"}),
    ]
    async with RetryClient(retry_options=ExponentialRetry(attempts=4, start_timeout=0)) as client:
        async with client.requests(params) as response:
            assert response.status == 200
        with pytest.raises(ValueError, match="params_list"):
            client.requests([])
    assert [(h.method, h.path) for h in fault.hits] == [("GET", "/a"), ("PUT", "/b"), ("PUT", "/b"), ("PUT", "/b")]
    assert all(h.body == b"body" and h.headers["X-N"] == "2" for h in fault.hits[1:])


async def test_debug_log_names_every_attempt(fault: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    """The default logger reports each attempt at DEBUG and each retry, with its cause and wait, at INFO."""
    path = fault.script("/e", 502, 200)
    with caplog.at_level(logging.DEBUG, logger="aiohttp_retry"):
        async with RetryClient(retry_options=NO_WAIT) as client, client.get(fault.url(path)):
            pass
    messages = [r.getMessage() for r in caplog.records if r.name == "aiohttp_retry"]
    url = fault.url(path)
    assert messages == [
        "Attempt 1 out of 3",
        f"Retrying GET {url} after status 502 in 0.000 s (try 1 of 3)",
        "Attempt 2 out of 3",
    ]
    assert [r.levelname for r in caplog.records if r.name == "aiohttp_retry"] == ["DEBUG", "INFO", "DEBUG"]


async def test_custom_logger_object(fault: FaultServer, aiohttp_client: AiohttpClient) -> None:
    """Any object with debug, warning and exception methods serves as the logger."""

    class Collect:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def debug(self, msg: str, *args: Any, **_: Any) -> None:
            self.lines.append(msg % args)

        warning = exception = debug

    path = fault.script("/drop", Drop(), 200)
    log = Collect()
    client = RetryClient(client_session=await aiohttp_client(fault.app), logger=log, retry_options=NO_WAIT)
    async with client.get(path):
        pass
    assert log.lines[0] == "Attempt 1 out of 3"
    assert log.lines[1].startswith("Retrying GET /drop after ServerDisconnectedError")
    assert log.lines[2] == "Attempt 2 out of 3"


@pytest.mark.parametrize("verb", ["get", "options", "head", "post", "put", "patch", "delete"])
async def test_every_verb_sends_its_method(fault: FaultServer, verb: str) -> None:
    """Each verb helper sends its own method and is retried like any other."""
    path = fault.script("/verb", 500, 200)
    async with RetryClient(retry_options=NO_WAIT) as client, getattr(client, verb)(fault.url(path)) as response:
        assert response.status == 200
        assert response.method == verb.upper()
    assert [h.method for h in fault.hits] == [verb.upper()] * 2


async def test_raise_for_status_passes_a_good_response(fault: FaultServer) -> None:
    """raise_for_status=True returns a successful final response untouched."""
    opts = ExponentialRetry(attempts=1)
    async with RetryClient(retry_options=opts, raise_for_status=True) as client:
        assert client.retry_options is opts
        async with client.get(fault.url("/ok")) as response:
            assert await response.read() == b"ok"


async def test_cancellation_inside_the_response_callback_releases_the_response(fault: FaultServer) -> None:
    """A call cancelled while the response callback runs releases that response."""
    path = fault.script("/cb", Reply(200, b"x" * 1024 * 1024))
    entered = asyncio.Event()

    async def hang(_: ClientResponse) -> bool:
        entered.set()
        await asyncio.Event().wait()
        return True

    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:
        opts = ExponentialRetry(evaluate_response_callback=hang)
        client = RetryClient(client_session=session, retry_options=opts)
        task = asyncio.ensure_future(client.get(fault.url(path)))
        await asyncio.wait_for(entered.wait(), 5)  # bounded: a regression fails here instead of hanging
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(connector._acquired) == 0


def test_client_type_alias() -> None:
    """aiohttp_retry.types.ClientType admits both a ClientSession and a RetryClient."""
    assert set(ClientType.__args__) == {ClientSession, RetryClient}  # type: ignore[attr-defined]


async def test_middleware_defaults_and_checks() -> None:
    """RetryMiddleware defaults to FullJitterRetry and refuses options of the wrong type."""
    assert isinstance(RetryMiddleware().retry_options, FullJitterRetry)
    with pytest.raises(TypeError, match="retry_options"):
        RetryMiddleware(3)  # type: ignore[arg-type]


@pytest.mark.looptime
async def test_retry_after_on_the_exception_path(fault: FaultServer) -> None:
    """With raise_for_status, the Retry-After of the raised ClientResponseError sets the wait."""
    path = fault.script("/busy", Reply(503, headers={"Retry-After": "4"}), 200)
    opts = ExponentialRetry(exceptions={ClientResponseError}, retry_all_server_errors=False)
    client = RetryClient(retry_options=opts, raise_for_status=True)
    async with client, client.get(fault.url(path)) as response:
        assert response.status == 200
    assert gaps([h.time for h in fault.hits]) == [4.0]


@pytest.mark.looptime
async def test_small_error_bodies_keep_the_connection(fault: FaultServer) -> None:
    """A small discarded body still on its way is read before release, so all tries share one connection."""
    late = Reply(503, b"e" * 1024, body_delay=0.05)
    path = fault.script("/err", late, late, 200)
    created: list[object] = []

    async def on_created(_: ClientSession, __: SimpleNamespace, params: object) -> None:
        created.append(params)

    trace = TraceConfig()
    trace.on_connection_create_end.append(on_created)
    client = RetryClient(retry_options=NO_WAIT, trace_configs=[trace])
    async with client, client.get(fault.url(path)) as response:
        assert response.status == 200
    assert len(fault.hits) == 3
    assert len(created) == 1


async def test_debug_log_never_shows_request_headers(fault: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    """A retried ClientResponseError is logged by type and status, never with the Authorization header."""
    path = fault.script("/private", 404, 200)
    opts = ExponentialRetry(start_timeout=0, exceptions={ClientResponseError})
    with caplog.at_level(logging.DEBUG, logger="aiohttp_retry"):
        async with RetryClient(retry_options=opts, raise_for_status=True) as client:
            response = await client.get(fault.url(path), headers={"Authorization": "Bearer SECRET-TOKEN"})
            response.release()
    assert "after ClientResponseError (status 404) in 0.000 s" in caplog.text
    assert "SECRET-TOKEN" not in caplog.text


async def test_attempts_are_fixed_when_the_call_starts(fault: FaultServer) -> None:
    """Raising attempts while try 1 is under way does not lengthen that call."""
    path = fault.script("/slow", Reply(503, delay=0.05))
    opts = ExponentialRetry(attempts=2, start_timeout=0)
    async with RetryClient(retry_options=opts) as client:
        task = asyncio.ensure_future(client.get(fault.url(path)))
        await asyncio.sleep(0.01)
        opts.attempts = 6
        (await task).release()
    assert len(fault.hits) == 2


with warnings.catch_warnings():  # aiohttp discourages subclassing ClientSession; users still do it
    warnings.simplefilter("ignore", DeprecationWarning)

    class CountingSession(ClientSession):
        """A session whose ``request`` is overridden: RetryClient must go through it for every try."""

        def __init__(self) -> None:
            super().__init__()
            self.calls: list[int] = []

        def request(self, method: str, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            self.calls.append(kwargs["trace_request_ctx"]["current_attempt"])
            return super().request(method, url, **kwargs)


async def test_an_overridden_session_request_is_used_for_every_try(fault: FaultServer) -> None:
    """A ClientSession subclass that overrides ``request`` sees each try; its answers are returned."""
    path = fault.script("/sub", 500, 502, 200)
    async with CountingSession() as session:
        client = RetryClient(session, retry_options=NO_WAIT)
        async with client.get(fault.url(path)) as response:
            assert response.status == 200
        assert session.calls == [1, 2, 3]
    assert len(fault.hits) == 3


async def test_plain_session_tries_reach_trace_configs(fault: FaultServer) -> None:
    """With aiohttp's own ``request``, TraceConfig hooks still see every try and its attempt number."""
    path = fault.script("/plain", 503, 200)
    recorder = Recorder()
    async with ClientSession(trace_configs=[recorder.config]) as session:
        client = RetryClient(session, retry_options=NO_WAIT)
        async with client.get(fault.url(path), headers={"X-Token": "t"}) as response:
            assert response.status == 200
    assert recorder.contexts == [{"current_attempt": 1}, {"current_attempt": 2}]
    assert [h.headers.get("X-Token") for h in fault.hits] == ["t", "t"]


async def test_request_route_depends_on_the_session() -> None:
    """aiohttp's own ``request`` is skipped for the coroutine it wraps; an overridden one is kept."""
    async with ClientSession() as plain, CountingSession() as counting:
        assert _request_of(plain) == plain._request
        assert _request_of(counting) == counting.request


async def test_middleware_success_is_one_try_counted_by_the_budget(fault: FaultServer) -> None:
    """Through RetryMiddleware a good answer is returned after one hit, and the call is counted for its origin."""
    budget = RetryBudget(ratio=1.0, min_per_second=0)
    async with ClientSession(middlewares=[RetryMiddleware(retry_budget=budget)]) as session:
        for _ in range(2):
            async with session.get(fault.url("/ok")) as response:
                assert response.status == 200
                assert await response.text() == "ok"
    assert len(fault.hits) == 2
    host = fault.url("").split("//", 1)[1].rstrip("/")
    assert budget.try_retry(host)  # two calls earn two retries at ratio 1, and no more
    assert budget.try_retry(host)
    assert not budget.try_retry(host)
