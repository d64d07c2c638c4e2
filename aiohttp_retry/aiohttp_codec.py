"""Everything the engine needs from aiohttp, and every aiohttp-specific shortcut, in one place.

- :data:`AIOHTTP_CODEC` reads statuses and headers, discards responses, and
  tells the kind of an aiohttp error;
- :func:`origin_of` and :func:`session_origin` give the key of shared state;
- :func:`request_of` finds the cheapest way to send a try through a session;
- :func:`try_timeout` lets aiohttp's own request timer carry the time a try has.
"""

from __future__ import annotations

import asyncio
import math
import operator
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from aiohttp import (
    ClientConnectionError,
    ClientConnectorError,
    ClientResponse,
    ClientResponseError,
    ClientSession,
    ClientSSLError,
    ClientTimeout,
    ConnectionTimeoutError,
)
from yarl import URL

from aiohttp_retry.engine.waiting import bounded
from aiohttp_retry.policy.stop import ErrorKind

__all__ = [
    "AIOHTTP_CODEC",
    "DRAIN_LIMIT",
    "NETWORK_ERRORS",
    "AiohttpCodec",
    "RequestFunc",
    "check_final",
    "origin_key",
    "origin_of",
    "request_of",
    "route_of",
    "session_origin",
    "try_timeout",
    "within",
]

#: Errors of the transport, retried by default for idempotent requests (TLS errors excepted).
#: ``ClientConnectionError`` covers refused and reset connections, server disconnects, DNS
#: failures and aiohttp's connect and read timeouts; ``asyncio.TimeoutError`` covers ``ClientTimeout``.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (ClientConnectionError, asyncio.TimeoutError)

#: Error bodies up to this size are read before release, so their connection goes back to the pool.
DRAIN_LIMIT = 64 * 1024

#: What sends one try: ``ClientSession.request`` or the coroutine behind it.
RequestFunc = Callable[..., Awaitable[ClientResponse]]


class AiohttpCodec:
    """The engine's view of ``aiohttp.ClientResponse`` and aiohttp's exceptions."""

    __slots__ = ()

    #: The status code (a C-level attribute getter: this runs on every call).
    status = operator.attrgetter("status")

    def header(self, response: ClientResponse, name: str) -> str | None:
        """A response header, case-insensitively."""
        return response.headers.get(name)

    async def discard(self, response: ClientResponse, time_left: float | None) -> None:
        """Release a response the call will not return, reading a small body first to keep its connection.

        Releasing an unread body closes the connection; reading a few kilobytes
        is cheaper than a new connection (and a TLS handshake) for the next try.
        The read is cut when the call's time runs out.
        """
        try:
            length = response.content_length
            if length is not None and length <= DRAIN_LIMIT and response.method != "HEAD":
                if time_left is None:
                    await response.read()
                elif time_left > 0:
                    await within(response.read(), time_left)
        except Exception:  # noqa: BLE001, S110 - a body that cannot be read is simply not reused
            pass
        finally:
            response.release()

    def release(self, response: ClientResponse) -> None:
        """Release at once: the connection closes unless the body was read."""
        response.release()

    def error_kind(self, error: Exception) -> ErrorKind:
        """The kind of failure an aiohttp exception is."""
        if isinstance(error, ClientSSLError):
            return ErrorKind.TLS
        if isinstance(error, (ClientConnectorError, ConnectionTimeoutError)):
            return ErrorKind.CONNECT  # no connection was made: nothing was sent
        if isinstance(error, asyncio.TimeoutError):
            return ErrorKind.TIMEOUT
        if isinstance(error, ClientConnectionError):
            return ErrorKind.TRANSPORT
        return ErrorKind.OTHER

    def error_response(self, error: Exception) -> tuple[int, str | None] | None:
        """The status and ``Retry-After`` of a ``ClientResponseError`` (from ``raise_for_status``)."""
        if isinstance(error, ClientResponseError):
            headers = error.headers
            return error.status, headers.get("Retry-After") if headers else None
        return None


AIOHTTP_CODEC = AiohttpCodec()


class _Expiry:
    """The timer of :func:`within`: cancels the task when the time runs out, and remembers that it did."""

    __slots__ = ("done", "fired", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.fired = False
        self.done = False  # the awaitable finished first: nothing to cancel

    def __call__(self) -> None:
        self.fired = True
        self.task.cancel()


class _Expiries:
    """The expiries of :func:`within` on one event loop, in the order they come due, under one loop timer.

    A loop timer of its own per try costs a heap push and pop of Python-level timer
    handles (some 20k machine instructions). The tries of calls with the same limit
    come due in the order they start, so their expiries are queued at the end of
    one deque and a single timer, armed for the head, serves them all; finished
    tries leave the head as new ones come. An expiry that would come due before
    the last one queued gets a timer of its own.
    """

    __slots__ = ("handle", "queue")

    def __init__(self) -> None:
        self.queue: deque[tuple[float, _Expiry]] = deque()
        self.handle: asyncio.TimerHandle | None = None

    def add(self, loop: asyncio.AbstractEventLoop, when: float, expiry: _Expiry) -> bool:
        """Queue ``expiry`` to fire at ``when``; ``False`` (nothing queued) if it would come due out of order."""
        queue = self.queue
        while queue and queue[0][1].done:
            queue.popleft()
        if queue and when < queue[-1][0]:
            return False
        queue.append((when, expiry))
        if self.handle is None:
            self.handle = loop.call_at(when, self.fire, loop)
        return True

    def fire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fire every expiry that has come due (skipping finished tries), then arm the timer for the next."""
        self.handle = None
        queue = self.queue
        due = loop.time() + 1e-6  # what the loop's own timer check treats as now
        while queue:
            when, expiry = queue[0]
            if not expiry.done and when > due:
                self.handle = loop.call_at(when, self.fire, loop)
                return
            queue.popleft()
            if not expiry.done:
                expiry()


def _expiries_of(loop: asyncio.AbstractEventLoop) -> _Expiries | None:
    """The loop's expiry queue, made on first use; ``None`` for a loop that takes no attribute (a C class)."""
    found: _Expiries | None = getattr(loop, "_aiohttp_retry_expiries", None)
    if found is None:
        found = _Expiries()
        try:
            loop._aiohttp_retry_expiries = found  # type: ignore[attr-defined] # noqa: SLF001 - the loop keeps its own queue
        except AttributeError:
            return None
    return found


async def within(awaitable: Awaitable[Any], seconds: float) -> Any:
    """Await ``awaitable`` for at most ``seconds``; ``TimeoutError`` when the time runs out.

    What ``asyncio.timeout`` does, without its context-manager coroutines and
    rescheduling: the task is cancelled when the time runs out (by the loop's
    shared expiry timer, or a timer of its own), and nothing is left behind when
    the awaitable is done first.
    """
    task = asyncio.current_task()
    if sys.version_info < (3, 11) or task is None:  # pragma: no cover - Python 3.10 has no Task.uncancel
        return await bounded(awaitable, seconds)
    expiry = _Expiry(task)
    cancelling = task.cancelling()  # cancellations already pending belong to the caller
    loop = asyncio.get_running_loop()
    handle = None
    expiries = _expiries_of(loop)
    if expiries is None or not expiries.add(loop, loop.time() + seconds, expiry):
        handle = loop.call_later(seconds, expiry)
    try:
        result = await awaitable
    except asyncio.CancelledError:
        if expiry.fired and task.uncancel() <= cancelling:
            raise TimeoutError from None  # our timer, not a cancellation of the caller
        raise
    except BaseException:
        if expiry.fired:
            task.uncancel()  # the awaitable turned our cancellation into another error: withdraw it
        raise
    finally:
        expiry.done = True
        if handle is not None:
            handle.cancel()
    if expiry.fired:
        task.uncancel()  # the awaitable swallowed our cancellation: withdraw it, as asyncio.timeout does
    return result


async def check_final(response: ClientResponse, raise_for_status: Any) -> None:
    """Apply ``raise_for_status`` (``True``, or a sync or async callable) to the response a call returns."""
    if raise_for_status is True:
        response.raise_for_status()  # aiohttp releases the response before raising
        return
    try:
        result = raise_for_status(response)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            await result
    except BaseException:
        response.release()
        raise


def origin_key(url: URL) -> str:
    """The key of shared state for a parsed absolute URL: ``host[:port]`` as the ``Host`` header spells it.

    The port only when it is not the scheme's default, IPv6 hosts in brackets,
    a trailing dot dropped; so ``http://example.com`` and ``https://example.com``
    share a key. aiohttp has already computed this for every request it sends.
    """
    return url.host_port_subcomponent or ""


@lru_cache(maxsize=1024)
def origin_of(url: str | URL) -> str:
    """The origin key of a URL given as text or parsed, cached by value; ``""`` for a relative URL."""
    return origin_key(url if isinstance(url, URL) else URL(url))


def session_origin(session: Any, url: str | URL) -> str:
    """The origin key of ``url`` as ``session`` will send it: joined to the session's ``base_url`` if relative."""
    key = origin_of(url)
    if key:
        return key
    base = getattr(session, "_base_url", None)  # ClientSession(base_url=...) keeps it here
    return origin_key(base) if isinstance(base, URL) else ""


_SESSION_REQUEST = ClientSession.request


def request_of(session: Any) -> RequestFunc:
    """What sends one try through ``session``: its ``request`` method, or the coroutine behind it.

    ``ClientSession.request`` only wraps ``ClientSession._request(...)`` in a
    context-manager object that awaiting it unwraps again; building that
    wrapper costs as much as the rest of the success path, so when the session
    uses aiohttp's own ``request`` (not overridden by a subclass or replaced on
    the instance) the coroutine is awaited directly, with the same arguments
    and the same result, TraceConfig hooks included.
    """
    request: RequestFunc = session.request
    if getattr(request, "__func__", None) is _SESSION_REQUEST:
        shortcut: RequestFunc = session._request  # noqa: SLF001
        return shortcut
    return request


def route_of(session: Any) -> tuple[RequestFunc, bool]:
    """How tries go through ``session``: :func:`request_of`, and whether ``trace_request_ctx`` is read at all.

    aiohttp's own ``_request`` reads ``trace_request_ctx`` only to hand it to the
    session's trace configs; without any, building it for every try is wasted.
    A ``request`` of anyone else's gets it always.
    """
    request = request_of(session)
    if request != getattr(session, "request", None) and not getattr(session, "_trace_configs", True):
        return request, False
    return request, True


def try_timeout(base: Any, time_left: float) -> ClientTimeout | None:
    """The ``timeout=`` for a try that has ``time_left`` seconds, or ``None`` when ``base`` is already as strict.

    aiohttp runs one timer per request for ``ClientTimeout.total``; shortening
    that total costs nothing more, where a timer of the library's own would.
    The total covers the request until its body is read, as aiohttp's does.
    ``base`` is the session's or the call's ``timeout``. ``ceil_threshold`` is
    lifted so that aiohttp does not round a long limit up to the next second.
    """
    if not isinstance(base, ClientTimeout):
        base = ClientTimeout(total=base if isinstance(base, (int, float)) else None)
    if base.total is not None and 0 < base.total <= time_left:
        return None
    return ClientTimeout(
        total=max(time_left, 1e-6),  # 0 would mean "no limit" to aiohttp
        connect=base.connect,
        sock_read=base.sock_read,
        sock_connect=base.sock_connect,
        ceil_threshold=math.inf,
    )
