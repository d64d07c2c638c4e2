"""What only the httpx transport has: connections, streams, extensions, closing, hedged copies, error kinds.

Everything the three adapters share runs through all of them in the behaviour tests
(``make_driver``); these are the httpx side's own, against the same real local server.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from yarl import URL

from aiohttp_retry import BodyNotReplayableError, ExponentialRetry, FullJitterRetry, Hedging, RetryOptionsBase
from aiohttp_retry.aiohttp_codec import origin_key as aiohttp_key
from aiohttp_retry.events import TryFinished, TryStarted
from aiohttp_retry.policy.stop import ErrorKind
from aiohttp_retry.routes import Route
from aiohttp_retry.transports import httpx_codec
from aiohttp_retry.transports.httpx import EXTENSION, HTTPX_CODEC, RetryTransport, origin_key
from tests.fault_server import Drop, FaultServer, Reply

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


def client_of(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=30)


async def test_retried_requests_reuse_one_connection(fault: FaultServer) -> None:
    """6 calls, each retried twice, through a one-connection pool: none hangs, and every try uses one connection."""
    path = fault.script("/flaky", *([Reply(503, b"busy"), Reply(502, b"bad"), Reply(200, b"ok")] * 6))
    pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
    async with client_of(RetryTransport(pool, NO_WAIT)) as client, asyncio.timeout(10):
        for _ in range(6):
            response = await client.get(fault.url(path))
            assert response.status_code == 200
            assert response.text == "ok"
    assert len(fault.hits) == 18
    assert len({hit.port for hit in fault.hits}) == 1


async def test_a_large_error_body_is_not_read_and_the_call_goes_on(fault: FaultServer) -> None:
    """A 4 MiB error body is not drained (its connection is closed instead); the next try gets a new one."""
    big = b"x" * (4 * 1024 * 1024)
    path = fault.script("/big", Reply(500, big), Reply(200, b"done"))
    pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
    async with client_of(RetryTransport(pool, NO_WAIT)) as client, asyncio.timeout(10):
        response = await client.get(fault.url(path))
    assert response.text == "done"
    assert len({hit.port for hit in fault.hits}) == 2


async def test_the_final_response_is_returned_unread(fault: FaultServer) -> None:
    """client.stream() gets the final response unread: its body arrives as it is iterated."""
    path = fault.script("/stream", 503, Reply(200, b"a" * 100_000))
    client = client_of(RetryTransport(retry_options=NO_WAIT))
    async with client, client.stream("GET", fault.url(path)) as response:
        assert response.status_code == 200
        assert not response.is_stream_consumed
        chunks = [chunk async for chunk in response.aiter_raw()]
    assert b"".join(chunks) == b"a" * 100_000
    assert len(fault.hits) == 2


async def test_a_streamed_body_is_sent_again_from_what_was_kept(fault: FaultServer) -> None:
    """An async iterator body within replay_buffer is sent whole on every try; the iterator runs once."""
    path = fault.script("/up", 503, Drop(), 200)
    pulled: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(5):
            pulled.append(i)
            yield f"part{i};".encode()

    async with client_of(RetryTransport(retry_options=NO_WAIT)) as client:
        response = await client.put(fault.url(path), content=chunks())
    assert response.status_code == 200
    expected = b"".join(f"part{i};".encode() for i in range(5))
    assert [hit.body for hit in fault.hits] == [expected] * 3
    assert pulled == [0, 1, 2, 3, 4]


async def test_a_streamed_body_longer_than_replay_buffer_is_sent_once(fault: FaultServer) -> None:
    """A stream longer than replay_buffer is sent once, whole; the retry it calls for is refused, naming why."""
    path = fault.script("/up", 503, 200)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 100

    opts = ExponentialRetry(start_timeout=0, replay_buffer=250)
    async with client_of(RetryTransport(retry_options=opts)) as client:
        with pytest.raises(BodyNotReplayableError, match="replay_buffer") as info:
            await client.put(fault.url(path), content=chunks())
    assert info.value.last_status == 503
    assert [len(hit.body) for hit in fault.hits] == [1000]


async def test_multipart_uploads_are_sent_again_whole(fault: FaultServer) -> None:
    """A files= upload is rendered anew for every try, whatever replay_buffer says."""
    path = fault.script("/form", 503, 200)
    opts = ExponentialRetry(start_timeout=0, replay_buffer=10)
    async with client_of(RetryTransport(retry_options=opts)) as client:
        response = await client.post(
            fault.url(path), files={"file": ("a.txt", b"contents " * 100)}, headers={"Idempotency-Key": "k"}
        )
    assert response.status_code == 200
    first, second = (hit.body for hit in fault.hits)
    assert first == second
    assert b"contents " * 100 in first


async def test_extensions_choose_the_options_of_one_call(fault: FaultServer) -> None:
    """extensions={"retry_options": ...} replaces the transport's options for that call; None means one try."""
    fault.script("/a", 503)
    fault.script("/b", 503)
    fault.script("/c", 503)
    async with client_of(RetryTransport(retry_options=ExponentialRetry(attempts=2, start_timeout=0))) as client:
        await client.get(fault.url("/a"))
        await client.get(fault.url("/b"), extensions={EXTENSION: ExponentialRetry(attempts=4, start_timeout=0)})
        await client.get(fault.url("/c"), extensions={EXTENSION: None})
        with pytest.raises(TypeError, match=r"request\.extensions\['retry_options'\] must be None or a RetryOptions"):
            await client.get(fault.url("/c"), extensions={EXTENSION: {"attempts": 5}})
    assert [len(fault.hits_of(path)) for path in ("/a", "/b", "/c")] == [2, 4, 1]


async def test_routes_choose_options_by_path(fault: FaultServer) -> None:
    """routes= map a path template to its own options, as for the aiohttp adapters."""
    fault.script("/users/7", 503)
    fault.script("/health", 503)
    routes = {"/users/{id}": Route(retry_options=ExponentialRetry(attempts=4, start_timeout=0))}
    async with client_of(RetryTransport(retry_options=NO_WAIT, routes=routes)) as client:
        await client.get(fault.url("/users/7"))
        await client.get(fault.url("/health"))
    assert [len(fault.hits_of(path)) for path in ("/users/7", "/health")] == [4, 3]


class ClosingCount(httpx.AsyncHTTPTransport):
    """A real pool that counts how often it is entered and closed (by ``aclose()`` or on leaving it)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = 0
        self.closed = 0

    async def __aenter__(self) -> ClosingCount:
        self.entered += 1
        await super().__aenter__()
        return self

    async def __aexit__(self, *args: object) -> None:
        self.closed += 1
        await super().__aexit__(*args)

    async def aclose(self) -> None:
        self.closed += 1
        await super().aclose()


async def test_closing_the_client_closes_the_wrapped_transport(fault: FaultServer) -> None:
    """Entering and closing the client enters and closes the wrapped transport, once."""
    pool = ClosingCount()
    async with client_of(RetryTransport(pool)) as client:
        assert (await client.get(fault.url("/ok"))).status_code == 200
        assert (pool.entered, pool.closed) == (1, 0)
    assert (pool.entered, pool.closed) == (1, 1)
    transport = RetryTransport(ClosingCount())
    await transport.aclose()
    assert transport.wrapped.closed == 1  # type: ignore[attr-defined]


@pytest.mark.looptime
async def test_hedged_tries_run_at_once_each_with_its_own_headers(fault: FaultServer) -> None:
    """A slow first try is hedged after 0.5 s; the hedge wins; each try carried its own time-left header."""
    path = fault.script("/slow", Reply(200, b"late", delay=10), Reply(200, b"fast"))
    opts = ExponentialRetry(
        attempts=2, start_timeout=0, total_timeout=20, propagate_timeout=True, hedging=Hedging(delay=0.5)
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client_of(RetryTransport(retry_options=opts)) as client:
        response = await client.get(fault.url(path))
    assert response.text == "fast"
    assert loop.time() - start == pytest.approx(0.5, abs=0.01)
    timeouts = [float(hit.headers["X-Request-Timeout"]) for hit in fault.hits]
    assert timeouts[0] == 20.0
    assert 19.4 <= timeouts[1] <= 19.5


async def test_a_streamed_body_is_not_hedged(fault: FaultServer) -> None:
    """Copies of a call whose body is read as it is sent cannot run at once: its tries run one after another."""
    path = fault.script("/up", 503, 200)
    events: list[Any] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b"abc"

    opts = ExponentialRetry(attempts=2, start_timeout=0, hedging=Hedging(delay=0.01), listeners=[events.append])
    async with client_of(RetryTransport(retry_options=opts)) as client:
        response = await client.put(fault.url(path), content=chunks())
    assert response.status_code == 200
    assert [hit.body for hit in fault.hits] == [b"abc", b"abc"]
    assert [type(event) for event in events if isinstance(event, (TryStarted, TryFinished))] == [
        TryStarted,
        TryFinished,
        TryStarted,
        TryFinished,
    ]


async def test_https_to_a_plain_server_is_a_tls_failure_never_retried(fault: FaultServer) -> None:
    """A TLS handshake that fails is not retried, even for a GET: a bad peer stays bad."""
    events: list[Any] = []
    opts = ExponentialRetry(attempts=3, start_timeout=0, listeners=[events.append])
    url = fault.url("/ok").replace("http://", "https://")
    async with client_of(RetryTransport(retry_options=opts)) as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.get(url)
    assert [(e.attempt, e.error_kind) for e in events if isinstance(e, TryFinished)] == [(1, ErrorKind.TLS)]
    cause: BaseException | None = info.value
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    assert cause is not None


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx.ConnectError("refused"), ErrorKind.CONNECT),
        (httpx.ConnectTimeout("slow connect"), ErrorKind.CONNECT),
        (httpx.PoolTimeout("no free connection"), ErrorKind.CONNECT),
        (httpx.ReadTimeout("slow read"), ErrorKind.TIMEOUT),
        (httpx.WriteTimeout("slow write"), ErrorKind.TIMEOUT),
        (TimeoutError(), ErrorKind.TIMEOUT),
        (httpx.ReadError("reset"), ErrorKind.TRANSPORT),
        (httpx.WriteError("broken pipe"), ErrorKind.TRANSPORT),
        (httpx.RemoteProtocolError("no response"), ErrorKind.TRANSPORT),
        (httpx.LocalProtocolError("bad header"), ErrorKind.OTHER),
        (httpx.UnsupportedProtocol("ftp"), ErrorKind.OTHER),
        (ValueError("anything else"), ErrorKind.OTHER),
    ],
)
def test_error_kinds(error: Exception, kind: ErrorKind) -> None:
    """Each httpx error is the kind the retry rules expect: nothing sent, cut, broken, or not the network."""
    assert HTTPX_CODEC.error_kind(error) is kind


def test_an_http_status_error_gives_its_status_and_retry_after() -> None:
    request = httpx.Request("GET", "http://example.org/")
    response = httpx.Response(429, headers={"Retry-After": "3"}, request=request)
    error = httpx.HTTPStatusError("too many", request=request, response=response)
    assert HTTPX_CODEC.error_response(error) == (429, "3")
    assert HTTPX_CODEC.error_response(httpx.ReadError("x")) is None


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://Example.COM:80/x", "example.com"),
        ("https://example.com:8443/", "example.com:8443"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("https://api.example.com./v1", "api.example.com"),
        ("https://api.example.com.:8443/v1", "api.example.com:8443"),
        ("http://user:secret@host:81/p?q=1", "host:81"),
        ("http://bücher.de/", "xn--bcher-kva.de"),
    ],
)
def test_origin_keys_match_aiohttp(url: str, key: str) -> None:
    """The key of shared state is host[:port] as aiohttp spells it: one budget per origin whichever client sends."""
    assert origin_key(httpx.URL(url)) == key
    assert aiohttp_key(URL(url)) == key


def test_bad_arguments_are_refused_at_construction() -> None:
    with pytest.raises(TypeError, match=r"wrapped must be None or an httpx\.AsyncBaseTransport"):
        RetryTransport(httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="retry_options must be None or a RetryOptionsBase"):
        RetryTransport(retry_options={"attempts": 3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"routes\['/x'\]: RetryTransport takes no raise_for_status"):
        RetryTransport(routes={"/x": Route(raise_for_status=True)})
    with pytest.raises(TypeError, match="retry_budget"):
        RetryTransport(retry_budget=object())  # type: ignore[arg-type]


def test_the_transport_shows_what_it_wraps() -> None:
    opts: RetryOptionsBase = ExponentialRetry(attempts=2)
    transport = RetryTransport(retry_options=opts)
    assert transport.retry_options is opts
    assert repr(transport).startswith("RetryTransport(<httpx.AsyncHTTPTransport")


async def test_release_closes_a_response_without_waiting(fault: FaultServer) -> None:
    """The engine's release (cancellation paths) closes the response in a task of its own, which is kept to its end."""
    path = fault.script("/big", Reply(200, b"z" * 200_000))
    pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
    async with pool:
        response = await pool.handle_async_request(httpx.Request("GET", fault.url(path)))
        assert len(pool._pool._requests) == 1
        HTTPX_CODEC.release(response)
        assert not response.is_closed  # nothing awaited yet
        assert len(httpx_codec._CLOSING) == 1
        await asyncio.gather(*httpx_codec._CLOSING)
        assert response.is_closed
        assert len(pool._pool._requests) == 0
        assert not httpx_codec._CLOSING


async def test_a_stream_the_options_never_send_again_is_not_kept(fault: FaultServer) -> None:
    """A POST without Idempotency-Key is not retried after sending: its stream goes out as it is, unkept."""
    path = fault.script("/up", 503, 200)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"once"

    sent: list[object] = []

    class Spy(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.stream)
            return await super().handle_async_request(request)

    async with client_of(RetryTransport(Spy(), FullJitterRetry(attempts=3, start_timeout=0))) as client:
        plain = await client.post(fault.url(path), content=chunks())
        kept = await client.put(fault.url(path), content=chunks())
    assert (plain.status_code, kept.status_code) == (503, 200)
    assert [type(stream).__name__ for stream in sent] == ["AsyncIteratorByteStream", "_Replay"]


async def test_a_chunked_error_body_is_drained_only_up_to_the_limit(aiohttp_server: Any) -> None:
    """An error body without Content-Length is read as it comes, up to 64 KiB: a small one keeps its connection."""
    ports: list[int] = []
    big = {"size": 1000}

    async def chunked(request: web.Request) -> web.StreamResponse:
        ports.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        response = web.StreamResponse(status=503 if len(ports) % 2 else 200)
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"e" * big["size"])
        return response

    app = web.Application()
    app.router.add_get("/", chunked)
    server = await aiohttp_server(app)
    url = str(server.make_url("/"))
    pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
    async with client_of(RetryTransport(pool, NO_WAIT)) as client:
        assert (await client.get(url)).status_code == 200
        big["size"] = httpx_codec.DRAIN_LIMIT + 1000
        assert (await client.get(url)).status_code == 200
    assert len(set(ports[:3])) == 1  # the small chunked error body was read: one connection
    assert ports[3] != ports[2]  # the large one was cut: its connection closed


async def test_a_request_whose_long_stream_was_sent_cannot_be_sent_again(fault: FaultServer) -> None:
    """Sending the same request again after its long stream went out raises httpx's StreamConsumed, as httpx does."""
    path = fault.script("/up", 200)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"w" * 100

    opts = ExponentialRetry(start_timeout=0, replay_buffer=10)
    async with client_of(RetryTransport(retry_options=opts)) as client:
        request = client.build_request("PUT", fault.url(path), content=chunks())
        assert (await client.send(request)).status_code == 200
        with pytest.raises(httpx.StreamConsumed):
            await client.send(request)
        one_try = client.build_request("PUT", fault.url(path), content=chunks(), extensions={EXTENSION: None})
        assert (await client.send(one_try)).status_code == 200
        assert type(one_try.stream).__name__ == "AsyncIteratorByteStream"  # one try: nothing is kept
    assert [len(hit.body) for hit in fault.hits] == [300, 300]
