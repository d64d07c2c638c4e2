"""``RetryTransport``: the engine as an httpx transport (``pip install 'aiohttp_retry[httpx]'``).

    transport = RetryTransport(httpx.AsyncHTTPTransport(), FullJitterRetry(attempts=4, total_timeout=10))
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get("https://example.org/api")

The same options, policies, limits and events as ``RetryClient`` and
``RetryMiddleware``: each try is one call of the wrapped transport. httpx
applies the client's ``auth``, event hooks and redirects around the transport,
so they see one request per call; the tries are visible through events
(``listeners=``). One call may choose other options with
``extensions={"retry_options": ExponentialRetry(...)}`` (``None``: one try).

- A response the call does not return is read (up to :data:`DRAIN_LIMIT`
  bytes, within the call's time) and closed, so its connection goes back to
  the pool. The response the call ends with is returned unread:
  ``client.stream()`` still streams it.
- A streamed body (an async iterator) is kept as it is sent, up to the
  options' ``replay_buffer`` bytes, and sent again from that copy; a longer one
  is sent once, and a retry due after it raises ``BodyNotReplayableError``.
  Byte bodies, forms, JSON and multipart uploads are sent again as they are.
- ``total_timeout`` and ``attempt_timeout`` are enforced by the transport
  (httpx's own timeouts apply to each try's connect, reads and writes).
- ``aclose()`` closes the wrapped transport.

Only ``httpx.AsyncClient``: the engine waits and times on asyncio.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncIterator, Awaitable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import Any, Literal

import httpx

from aiohttp_retry.aiohttp_codec import within
from aiohttp_retry.engine import plan_of, run
from aiohttp_retry.engine.concurrency import ConcurrencyLimiter
from aiohttp_retry.engine.limits import limits_of
from aiohttp_retry.engine.plan import Plan
from aiohttp_retry.events import Listener, Listeners, TryHeadersUsed, try_headers
from aiohttp_retry.hooks import HookedExchange, Hooks
from aiohttp_retry.jitter import FullJitterRetry
from aiohttp_retry.observe.logging import LoggingListener
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.classify import has_header
from aiohttp_retry.policy.deadline import TIMEOUT_HEADER, format_timeout
from aiohttp_retry.policy.protocols import (
    AdaptiveThrottleLike,
    CircuitBreakerLike,
    RateLimiterLike,
    RetryBudgetLike,
    check_policy,
)
from aiohttp_retry.retry_options import INHERIT, Inherit, RetryOptionsBase
from aiohttp_retry.routes import UNSET, Route, RouteTable, Settings
from aiohttp_retry.transports.httpx_codec import DRAIN_LIMIT, HTTPX_CODEC, HttpxCodec, origin_key

try:  # the multipart stream renders its fields anew on every iteration: it can be sent again as it is
    from httpx._multipart import MultipartStream as _MultipartStream
except ImportError:  # pragma: no cover - a later httpx: such bodies are kept as they are sent, like streams
    _MultipartStream = httpx.ByteStream  # type: ignore[assignment,misc]

__all__ = ["DRAIN_LIMIT", "EXTENSION", "HTTPX_CODEC", "HttpxCodec", "RetryTransport", "origin_key"]

_DEFAULT_LOGGER = logging.getLogger("aiohttp_retry")

#: The key of ``request.extensions`` that holds one call's ``retry_options`` (``None``: one try).
EXTENSION = "retry_options"

_ABSENT: Any = object()


class _Replay(httpx.AsyncByteStream):
    """A one-shot request body that keeps what it sends, up to ``limit`` bytes, to send it again.

    Every iteration yields what is kept, then goes on reading the source from
    where the last one stopped. Once more than ``limit`` bytes have passed,
    nothing is kept and the body cannot be sent again.
    """

    def __init__(self, source: httpx.AsyncByteStream, limit: int) -> None:
        self._source = source
        self._limit = limit
        self._kept: list[bytes] = []
        self._size = 0
        self._rest: AsyncIterator[bytes] | None = None
        self._ended = False
        self.lost = False  # more than ``limit`` bytes have been sent: what was sent is gone

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.lost:
            raise httpx.StreamConsumed  # longer than replay_buffer, and sent
        for chunk in tuple(self._kept):
            yield chunk
        if self._ended:
            return
        if self._rest is None:
            self._rest = self._source.__aiter__()
        async for chunk in self._rest:
            if not self.lost:
                self._size += len(chunk)
                if self._size <= self._limit:
                    self._kept.append(chunk)
                else:
                    self.lost = True
                    self._kept.clear()
            yield chunk
        self._ended = True

    async def aclose(self) -> None:
        await self._source.aclose()


_NOT_RESENDABLE = (
    "the request body is a one-shot stream (an async iterator) longer than replay_buffer, which the previous try "
    "sent; pass bytes, or raise replay_buffer, to allow retries"
)


class _Exchange:
    """One call through the transport, as the engine sees it (made without ``__init__``: built on every call)."""

    __slots__ = ("body", "copies", "propagate", "request", "response", "text", "wrapped")
    codec = HTTPX_CODEC
    finish = None  # httpx's client applies its own checks (event hooks, raise_for_status) to what is returned
    request: httpx.Request
    wrapped: httpx.AsyncBaseTransport
    response: httpx.Response
    body: _Replay
    propagate: bool
    copies: bool
    text: str

    @property
    def method(self) -> str:
        """The request's method (for events)."""
        return self.request.method

    @property
    def url(self) -> str:
        """The request's URL as text (for events and limit rules), made once."""
        text: str | None = getattr(self, "text", None)
        if text is None:
            text = self.text = str(self.request.url)
        return text

    @property
    def hedgeable(self) -> bool:
        """Whether copies may be sent at once: not with a body that is read as it is sent."""
        return getattr(self, "body", None) is None

    def send(self, attempt: int, time_left: float | None) -> Awaitable[httpx.Response]:
        """Send try ``attempt`` through the wrapped transport, cut after ``time_left`` seconds."""
        request = self.request
        if attempt > 1 and getattr(self, "copies", False):
            # hedged tries may run at once: each gets headers of its own
            request = httpx.Request(
                request.method,
                request.url,
                headers=request.headers,
                stream=request.stream,
                extensions=request.extensions,
            )
        extra = try_headers.get() if TryHeadersUsed.flag else None
        if extra is not None:  # a listener's headers for this try (trace context)
            try_headers.set(None)
            request.headers.update(extra)
        if time_left is None:
            return self.wrapped.handle_async_request(request)
        if getattr(self, "propagate", False):
            request.headers[TIMEOUT_HEADER] = format_timeout(time_left)
        return within(self.wrapped.handle_async_request(request), time_left)

    def describe(self, _attempt: int) -> tuple[str, Any, Mapping[str, Any] | None]:
        """The request's method, URL and headers."""
        request = self.request
        return request.method, self.url, request.headers

    def resend_refusal(self, _attempt: int) -> str | None:
        """Why the request cannot be sent again: its streamed body was longer than ``replay_buffer``."""
        body: _Replay | None = getattr(self, "body", None)
        return _NOT_RESENDABLE if body is not None and body.lost else None


def _resent_after_sending(request: httpx.Request, plan: Plan) -> bool:
    """Whether the options may send ``request`` again after its body went out (a failed connect sent none)."""
    if plan.attempts < 2:  # noqa: PLR2004 - one try: nothing is sent again
        return False
    return request.method in plan.methods or has_header(request.headers, plan.idempotency_header)


_new_exchange = object.__new__
_REPLAYABLE = (httpx.ByteStream, _MultipartStream)


class RetryTransport(httpx.AsyncBaseTransport):
    """Sends each request through ``wrapped`` again as ``retry_options`` say.

    Args:
        wrapped: the transport that sends each try; default ``httpx.AsyncHTTPTransport()``.
            An ``httpx.AsyncClient`` given a transport ignores its own ``limits``,
            ``verify``, ``http2`` and ``proxy``: pass them to the wrapped transport.
        retry_options: the options of every request; default ``FullJitterRetry()``
            (idempotent requests, 3 tries). One call may pass others as
            ``extensions={"retry_options": ...}``; ``None`` there means one try.
        logger, retry_budget, circuit_breaker, listeners, rate_limiter, concurrency_limiter,
        throttle, hooks, routes: as for ``RetryClient`` (routes choose ``retry_options``
        and ``hooks``; httpx's client applies its own status checks).

    Raises:
        TypeError: ``wrapped`` is not an ``httpx.AsyncBaseTransport``, or another
            argument is of the wrong kind (the message names it).
    """

    def __init__(
        self,
        wrapped: httpx.AsyncBaseTransport | None = None,
        retry_options: RetryOptionsBase | None = None,
        *,
        logger: Any = None,
        retry_budget: RetryBudgetLike | Literal[Inherit.CLIENT] | None = Inherit.CLIENT,
        circuit_breaker: CircuitBreakerLike | None = None,
        listeners: Iterable[Listener] = (),
        rate_limiter: RateLimiterLike | None = None,
        concurrency_limiter: ConcurrencyLimiter | None = None,
        throttle: AdaptiveThrottleLike | None = None,
        hooks: Iterable[Any] = (),
        routes: Mapping[Any, Route] | None = None,
    ) -> None:
        if wrapped is not None and not isinstance(wrapped, httpx.AsyncBaseTransport):
            msg = (
                "wrapped must be None or an httpx.AsyncBaseTransport such as httpx.AsyncHTTPTransport(), "
                f"got a {type(wrapped).__name__}"
            )
            raise TypeError(msg)
        self._wrapped = wrapped if wrapped is not None else httpx.AsyncHTTPTransport()
        self._options = _checked_options(retry_options) or FullJitterRetry()
        self._one_try: RetryOptionsBase | None = None
        budget = RetryBudget() if retry_budget is Inherit.CLIENT else retry_budget
        self._retry_budget = check_policy(budget, "retry_budget", RetryBudgetLike, "RetryBudget()")
        self._breaker = check_policy(circuit_breaker, "circuit_breaker", CircuitBreakerLike, "CircuitBreaker()")
        self._limits = limits_of(rate_limiter, concurrency_limiter, throttle)
        checked = Hooks(hooks)
        self._hooks = checked if checked.hooks else None
        for where, route in (routes or {}).items():
            if isinstance(route, Route) and route.raise_for_status is not UNSET:
                msg = (
                    f"routes[{where!r}]: RetryTransport takes no raise_for_status by route; "
                    "httpx's client checks statuses itself (response.raise_for_status(), event hooks)"
                )
                raise ValueError(msg)
        table = RouteTable(routes or {}, Settings(self._options, raise_for_status=False, hooks=self._hooks))
        self._routes = table or None
        log = logger if isinstance(logger, LoggingListener) else LoggingListener(logger or _DEFAULT_LOGGER)
        self._listeners = Listeners(listeners, log)

    @property
    def retry_options(self) -> RetryOptionsBase:
        """The options applied to every request that does not choose its own."""
        return self._options

    @property
    def wrapped(self) -> httpx.AsyncBaseTransport:
        """The transport that sends each try."""
        return self._wrapped

    def handle_async_request(self, request: httpx.Request) -> Coroutine[Any, Any, httpx.Response]:
        """The call of ``request`` with retries: the engine's coroutine, which httpx awaits."""
        options, hooks = self._options, self._hooks
        key = origin_key(request.url)
        if self._routes is not None:  # the options and hooks of the routes the request matches
            options, _, hooks = self._routes.settings(key, str(request.url))
        if request.extensions:
            chosen = request.extensions.get(EXTENSION, _ABSENT)
            if chosen is not _ABSENT:
                options = self._call_options(chosen)
        plan = options._plan or plan_of(options)  # noqa: SLF001
        budget = self._retry_budget if plan.budget is INHERIT else plan.budget
        breaker = self._breaker if plan.breaker is INHERIT else plan.breaker
        listeners = self._listeners if not plan.listeners else self._listeners.with_users(plan.listeners)
        exchange = _new_exchange(_Exchange)
        exchange.request = request
        exchange.wrapped = self._wrapped
        if not isinstance(request.stream, _REPLAYABLE) and _resent_after_sending(request, plan):
            request.stream = exchange.body = _Replay(request.stream, plan.replay_buffer)  # type: ignore[arg-type]
        if plan.propagate:
            exchange.propagate = True
        if plan.hedging is not None:
            exchange.copies = True
        if hooks is not None:
            return run(plan, HookedExchange(exchange, hooks), key, budget, breaker, listeners, None, self._limits)
        return run(plan, exchange, key, budget, breaker, listeners, None, self._limits)

    def _call_options(self, chosen: Any) -> RetryOptionsBase:
        """The options one call chose through ``request.extensions``; ``None``: the transport's, with one try."""
        if chosen is None:
            if self._one_try is None:
                self._one_try = copy.copy(self._options)
                self._one_try.attempts = 1
            return self._one_try
        checked = _checked_options(chosen, f"request.extensions[{EXTENSION!r}]")
        assert checked is not None  # noqa: S101 - None was handled above
        return checked

    async def __aenter__(self) -> RetryTransport:
        await self._wrapped.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self._wrapped.__aexit__(exc_type, exc_value, traceback)

    async def aclose(self) -> None:
        """Close the wrapped transport (its pooled connections)."""
        await self._wrapped.aclose()

    def __repr__(self) -> str:
        return f"RetryTransport({self._wrapped!r}, {self._options!r})"


def _checked_options(value: object, name: str = "retry_options") -> RetryOptionsBase | None:
    if value is not None and not isinstance(value, RetryOptionsBase):
        msg = (
            f"{name} must be None or a RetryOptionsBase instance such as FullJitterRetry(), "
            f"got a {type(value).__name__}"
        )
        raise TypeError(msg)
    return value
