"""``RetryMiddleware``: the engine as an aiohttp client middleware.

    session = ClientSession(middlewares=[RetryMiddleware(FullJitterRetry(attempts=4))])

Each try calls the next handler with the same request. aiohttp applies the
session's ``raise_for_status`` to the final response only, after the
middleware. The middleware sees one request per ``session.request`` call, so
aiohttp's TraceConfig hooks fire once per call, not once per try: the
middleware's tries are visible through its events (``listeners=``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Coroutine, Iterable, Mapping
from typing import Any, Literal

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, payload

from aiohttp_retry.aiohttp_codec import AIOHTTP_CODEC, within
from aiohttp_retry.engine import plan_of, run
from aiohttp_retry.engine.concurrency import ConcurrencyLimiter
from aiohttp_retry.engine.limits import limits_of
from aiohttp_retry.events import Listener, Listeners, TryHeadersUsed, try_headers
from aiohttp_retry.hooks import HookedExchange, Hooks
from aiohttp_retry.jitter import FullJitterRetry
from aiohttp_retry.observe.logging import LoggingListener
from aiohttp_retry.policy.budget import RetryBudget
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

__all__ = ["RetryMiddleware"]

_DEFAULT_LOGGER = logging.getLogger("aiohttp_retry")

_NOT_RESENDABLE = (
    "the request body is a one-shot stream (an async iterable or unseekable file) that the previous try "
    "consumed; pass bytes, or use RetryClient, which reads such bodies ahead, to allow retries"
)


def _check_hedging(options: RetryOptionsBase) -> None:
    if options.hedging is not None:
        msg = (
            "hedging cannot be used with RetryMiddleware: aiohttp cannot send one request object twice at once; "
            "use RetryClient for hedged requests"
        )
        raise ValueError(msg)


class _Exchange:
    """One call through the middleware, as the engine sees it.

    Built on every request, so it is made with ``object.__new__`` and two
    attribute stores (no ``__init__`` frame); the rest is read from the request
    when the engine asks, or is a class-level default.
    """

    __slots__ = ("handler", "propagate", "request", "response")
    codec = AIOHTTP_CODEC
    hedgeable = False  # aiohttp cannot send one ClientRequest twice at once
    finish = None  # aiohttp applies the session's raise_for_status after the middleware
    request: ClientRequest
    handler: ClientHandlerType
    propagate: bool
    response: ClientResponse

    @property
    def method(self) -> str:
        """The request's method (for events)."""
        return self.request.method

    @property
    def url(self) -> Any:
        """The request's URL (for events)."""
        return self.request.url

    def send(self, _attempt: int, time_left: float | None) -> Awaitable[ClientResponse]:
        """Call the next handler; a time limit is the library's own timer (aiohttp's is per call here)."""
        extra = try_headers.get() if TryHeadersUsed.flag else None
        if extra is not None:  # a listener's headers for this try (trace context)
            try_headers.set(None)
            self.request.headers.update(extra)
        if time_left is None:
            return self.handler(self.request)
        if getattr(self, "propagate", False):
            self.request.headers[TIMEOUT_HEADER] = format_timeout(time_left)
        return within(self.handler(self.request), time_left)

    def describe(self, _attempt: int) -> tuple[str, Any, Mapping[str, Any] | None]:
        """The request's method, URL and headers (the session's defaults included)."""
        request = self.request
        return request.method, request.url, request.headers

    def resend_refusal(self, _attempt: int) -> str | None:
        """Why the request cannot be sent again: its one-shot body was consumed."""
        body = self.request.body
        return _NOT_RESENDABLE if isinstance(body, payload.Payload) and body.consumed else None


_new_exchange = object.__new__


class RetryMiddleware:
    """Retries requests of a ``ClientSession`` as ``retry_options`` say.

    Args:
        retry_options: the options of every request through this middleware;
            default ``FullJitterRetry()`` (idempotent requests, 3 tries). For
            one call, pass ``middlewares=[RetryMiddleware(other_options)]`` to
            ``session.request``, which replaces the session's middlewares.
        logger, retry_budget, circuit_breaker, listeners, rate_limiter, concurrency_limiter,
        throttle, hooks: as for ``RetryClient``.
        routes: settings by route, as for ``RetryClient``, of ``retry_options`` and ``hooks``
            (aiohttp applies the session's ``raise_for_status`` after the middleware).

    Options with ``hedging`` are refused: aiohttp cannot send one request
    object twice at once.
    """

    __slots__ = ("_breaker", "_hooks", "_limits", "_listeners", "_logger", "_options", "_retry_budget", "_routes")

    def __init__(
        self,
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
        if retry_options is not None and not isinstance(retry_options, RetryOptionsBase):
            msg = (
                "retry_options must be None or a RetryOptionsBase instance such as FullJitterRetry(), "
                f"got a {type(retry_options).__name__}"
            )
            raise TypeError(msg)
        if retry_options is not None:
            _check_hedging(retry_options)
        self._options = retry_options or FullJitterRetry()
        budget = RetryBudget() if retry_budget is Inherit.CLIENT else retry_budget
        self._retry_budget = check_policy(budget, "retry_budget", RetryBudgetLike, "RetryBudget()")
        self._breaker = check_policy(circuit_breaker, "circuit_breaker", CircuitBreakerLike, "CircuitBreaker()")
        self._limits = limits_of(rate_limiter, concurrency_limiter, throttle)
        checked = Hooks(hooks)
        self._hooks = checked if checked.hooks else None
        for where, route in (routes or {}).items():
            if isinstance(route, Route) and route.raise_for_status is not UNSET:
                msg = (
                    f"routes[{where!r}]: RetryMiddleware takes no raise_for_status by route; "
                    "aiohttp applies the session's raise_for_status after the middleware"
                )
                raise ValueError(msg)
            if isinstance(route, Route) and route.retry_options is not None and route.retry_options is not UNSET:
                _check_hedging(route.retry_options)
        table = RouteTable(routes or {}, Settings(self._options, raise_for_status=False, hooks=self._hooks))
        self._routes = table or None
        log = logger if isinstance(logger, LoggingListener) else LoggingListener(logger or _DEFAULT_LOGGER)
        self._logger = log.logger
        self._listeners = Listeners(listeners, log)

    @property
    def retry_options(self) -> RetryOptionsBase:
        """The options applied to every request."""
        return self._options

    def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> Coroutine[Any, Any, ClientResponse]:
        """The call of ``request`` with retries: the engine's coroutine, which aiohttp awaits."""
        options, hooks = self._options, self._hooks
        if self._routes is not None:  # the options and hooks of the routes the request matches
            options, _, hooks = self._routes.settings(request.url.host_port_subcomponent or "", request.url)
        plan = options._plan or plan_of(options)  # noqa: SLF001
        budget = self._retry_budget if plan.budget is INHERIT else plan.budget
        breaker = self._breaker if plan.breaker is INHERIT else plan.breaker
        # The origin key, as aiohttp has computed it for the Host header already.
        limits = self._limits
        key = (
            (request.url.host_port_subcomponent or "")
            if budget is not None or breaker is not None or limits is not None
            else ""
        )
        listeners = self._listeners if not plan.listeners else self._listeners.with_users(plan.listeners)
        exchange = _new_exchange(_Exchange)
        exchange.request = request
        exchange.handler = handler
        if plan.propagate:
            exchange.propagate = True
        if hooks is not None:
            return run(plan, HookedExchange(exchange, hooks), key, budget, breaker, listeners, None, limits)
        return run(plan, exchange, key, budget, breaker, listeners, None, limits)
