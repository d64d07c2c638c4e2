"""``RetryClient``: a ``ClientSession`` wrapper whose requests are retried.

The client holds what its calls share (session, options, retry budget,
breaker, listeners); each call is a :mod:`~aiohttp_retry.request_context`
object that the engine runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Literal

from aiohttp import ClientSession, ClientTimeout, hdrs

from aiohttp_retry.aiohttp_codec import RequestFunc, try_timeout
from aiohttp_retry.engine.concurrency import ConcurrencyLimiter
from aiohttp_retry.engine.limits import limits_of
from aiohttp_retry.events import Listener, Listeners
from aiohttp_retry.hooks import Hooks
from aiohttp_retry.observe.logging import LoggingListener
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.protocols import (
    AdaptiveThrottleLike,
    CircuitBreakerLike,
    RateLimiterLike,
    RetryBudgetLike,
    check_policy,
)
from aiohttp_retry.request_context import (
    _SESSION,
    _URL_TYPE,
    RaiseForStatus,
    RequestParams,
    _RequestContext,
    check_options,
)
from aiohttp_retry.retry_options import ExponentialRetry, Inherit, RetryOptionsBase
from aiohttp_retry.routes import Route, RouteTable, Settings

__all__ = ["RequestFunc", "RequestParams", "RetryClient"]

_LoggerType = Any

_DEFAULT_LOGGER = logging.getLogger("aiohttp_retry")


def _no_route(*_args: Any, **_kwargs: Any) -> Any:  # pragma: no cover - replaced before any call
    raise AssertionError


def _bind(listener: Listener, session: ClientSession) -> Listener:
    """``listener``, or what its ``for_aiohttp_session(session)`` returns when it has that method."""
    bind = getattr(listener, "for_aiohttp_session", None)
    return listener if bind is None else bind(session)


class RetryClient:
    """Sends requests through a ``ClientSession`` and retries them as the options say.

    Args:
        client_session: the session to send through. It stays the caller's:
            ``close()`` does not close it. When omitted, the client creates
            one from ``*args`` and ``**kwargs`` and closes it in ``close()``.
        logger: a ``logging.Logger`` or any object with ``debug``,
            ``warning`` and ``exception`` methods; default ``aiohttp_retry``.
            A :class:`~aiohttp_retry.observe.LoggingListener` is taken as it
            is (to give it a ``Redactor`` of your own).
        retry_options: the default options for every request; a new
            ``ExponentialRetry()`` when omitted.
        raise_for_status: raise ``aiohttp.ClientResponseError`` for a final
            response with status >= 400 (or a callable that checks it).
        retry_budget: keyword-only; the retry budget shared by this client's
            calls, per origin. Default ``RetryBudget()`` (20 % of calls, at
            least 10 retries a second); ``None`` turns it off.
        circuit_breaker: keyword-only; a ``CircuitBreaker`` shared by this
            client's calls, per origin. Default ``None`` (off).
        rate_limiter: keyword-only; a ``RateLimiter``: how many tries may start per
            window, per origin, in total or per rule. Default ``None`` (off).
        concurrency_limiter: keyword-only; a ``ConcurrencyLimiter``: how many tries
            may be in flight at once. Default ``None`` (off).
        throttle: keyword-only; an ``AdaptiveThrottle`` that sheds tries on the client
            while an origin refuses much of its work. Default ``None`` (off).
        routes: keyword-only; settings by route (:mod:`aiohttp_retry.routes`): a mapping
            from an origin, a path template or a compiled regex to a ``Route`` whose
            ``retry_options``, ``raise_for_status`` and ``hooks`` replace the client's for
            the requests it matches. Default none.
        hooks: keyword-only; what adds headers to every try (:mod:`aiohttp_retry.hooks`):
            callables ``hook(attempt, method, url)``, a ``BearerAuth`` (refreshed and
            resent within the try on 401), ``basic_auth(login, password)``. Default none.
        listeners: keyword-only; callables given every event of this client's
            calls (:mod:`aiohttp_retry.events`). ``logger`` gets its own
            logging listener in any case.

    ``retry_budget`` and ``circuit_breaker`` take any object with the methods of
    :class:`~aiohttp_retry.policy.protocols.RetryBudgetLike` or
    :class:`~aiohttp_retry.policy.protocols.CircuitBreakerLike`.
    """

    def __init__(
        self,
        client_session: ClientSession | None = None,
        logger: _LoggerType | None = None,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus = False,
        *args: Any,
        retry_budget: RetryBudgetLike | Literal[Inherit.CLIENT] | None = Inherit.CLIENT,
        circuit_breaker: CircuitBreakerLike | None = None,
        listeners: Iterable[Listener] = (),
        rate_limiter: RateLimiterLike | None = None,
        concurrency_limiter: ConcurrencyLimiter | None = None,
        throttle: AdaptiveThrottleLike | None = None,
        hooks: Iterable[Any] = (),
        routes: Mapping[Any, Route] | None = None,
        **kwargs: Any,
    ) -> None:
        self._closed: bool | None = None  # set first: __del__ reads it even if __init__ fails
        if client_session is not None and (args or kwargs):
            names = ", ".join(kwargs) or f"{len(args)} positional argument(s)"
            msg = (
                f"arguments for a new ClientSession ({names}) cannot be combined with client_session; "
                "configure that session instead"
            )
            raise TypeError(msg)
        check_options(retry_options)
        budget = RetryBudget() if retry_budget is Inherit.CLIENT else retry_budget
        self._retry_budget = check_policy(budget, "retry_budget", RetryBudgetLike, "RetryBudget()")
        self._breaker = check_policy(circuit_breaker, "circuit_breaker", CircuitBreakerLike, "CircuitBreaker()")
        self._limits = limits_of(rate_limiter, concurrency_limiter, throttle)
        checked = Hooks(hooks)
        self._hooks = checked if checked.hooks else None
        self._retry_options: RetryOptionsBase = retry_options or ExponentialRetry()
        self._raise_for_status = raise_for_status
        table = RouteTable(routes or {}, Settings(self._retry_options, raise_for_status, self._hooks))
        self._routes = table or None
        log = logger if isinstance(logger, LoggingListener) else LoggingListener(logger or _DEFAULT_LOGGER)
        self._logger: _LoggerType = log.logger
        self._timeouts: dict[float, tuple[Any, ClientTimeout | None]] = {}
        # (session, what sends a try through it, whether trace_request_ctx is read, its timeout): per session.
        self._route: tuple[Any, RequestFunc, bool, Any] = (None, _no_route, True, None)
        self._owned_session: ClientSession | None = None
        if client_session is None:
            client_session = self._owned_session = ClientSession(*args, **kwargs)
            self._closed = False
        self._client: Any = client_session
        # A listener may need to know the session (the OpenTelemetry one asks whether it is instrumented).
        self._listeners = Listeners(
            (_bind(listener, client_session) for listener in listeners) if listeners else (), log
        )

    def _timeout_for(self, given: Any, time_left: float) -> ClientTimeout | None:
        """The ``timeout=`` of a try with ``time_left`` seconds (``None``: keep the session's or the call's).

        Try 1 of every call with the same options has the same time left, so
        the answer is kept per time left, valid while the base timeout is the same object.
        """
        base = self._route[3] if given is _SESSION else given
        cached = self._timeouts.get(time_left)
        if cached is not None and cached[0] is base:
            return cached[1]
        timeout = try_timeout(base, time_left)
        if len(self._timeouts) >= 64:  # noqa: PLR2004 - later tries have ever-new times left: keep few
            self._timeouts.clear()
        self._timeouts[time_left] = (base, timeout)
        return timeout

    @property
    def retry_options(self) -> RetryOptionsBase:
        """The options used by requests that pass none of their own."""
        return self._retry_options

    def requests(
        self,
        params_list: list[RequestParams],
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
    ) -> _RequestContext:
        """Try ``params_list[0]`` first, then the next entry on each retry, repeating the last."""
        if not params_list:
            msg = "params_list must hold at least one RequestParams"
            raise ValueError(msg)
        return _RequestContext(self, "", None, retry_options, raise_for_status, {}, list(params_list))

    def request(
        self,
        method: str,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send ``method`` to ``url`` (or to each URL of a list in turn, one per try)."""
        return _RequestContext(self, method, url, retry_options, raise_for_status, kwargs)

    def get(
        self,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send a GET request; see :meth:`request`."""
        return _RequestContext(self, hdrs.METH_GET, url, retry_options, raise_for_status, kwargs)

    def options(
        self,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send a OPTIONS request; see :meth:`request`."""
        return _RequestContext(self, hdrs.METH_OPTIONS, url, retry_options, raise_for_status, kwargs)

    def head(
        self,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send a HEAD request; see :meth:`request`."""
        return _RequestContext(self, hdrs.METH_HEAD, url, retry_options, raise_for_status, kwargs)

    def post(
        self,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send a POST request; see :meth:`request`."""
        return _RequestContext(self, hdrs.METH_POST, url, retry_options, raise_for_status, kwargs)

    def put(
        self,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send a PUT request; see :meth:`request`."""
        return _RequestContext(self, hdrs.METH_PUT, url, retry_options, raise_for_status, kwargs)

    def patch(
        self,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send a PATCH request; see :meth:`request`."""
        return _RequestContext(self, hdrs.METH_PATCH, url, retry_options, raise_for_status, kwargs)

    def delete(
        self,
        url: _URL_TYPE,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus | None = None,
        **kwargs: Any,
    ) -> _RequestContext:
        """Send a DELETE request; see :meth:`request`."""
        return _RequestContext(self, hdrs.METH_DELETE, url, retry_options, raise_for_status, kwargs)

    async def close(self) -> None:
        """Close the session this client created; a session passed in stays open."""
        if self._owned_session is not None:
            await self._owned_session.close()
        self._closed = True

    async def __aenter__(self) -> RetryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __del__(self) -> None:
        if self._closed is False:
            self._logger.warning("RetryClient was not closed: call close() or use 'async with RetryClient()'")
