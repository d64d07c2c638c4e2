"""One call of ``RetryClient``: what ``client.get(...)`` returns, and the engine's exchange for it.

Awaiting it (or entering it) sends the request through the engine
(:func:`aiohttp_retry.engine.run`); every retry decision is made there. Each
try is one ``ClientSession`` request, so aiohttp's TraceConfig hooks and
client instrumentation see every try, with ``current_attempt`` in
``trace_request_ctx``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from aiohttp import ClientResponse
from multidict import CIMultiDict
from yarl import URL

from aiohttp_retry.aiohttp_codec import AIOHTTP_CODEC, check_final, origin_of, route_of, session_origin, within
from aiohttp_retry.body import ReplayableBody, needs_preparing, prepare_body
from aiohttp_retry.engine import plan_of, run
from aiohttp_retry.errors import RetryTimeoutError
from aiohttp_retry.events import TryHeadersUsed, try_headers
from aiohttp_retry.hooks import HookedExchange
from aiohttp_retry.options_base import INHERIT, RetryOptionsBase
from aiohttp_retry.policy.deadline import TIMEOUT_HEADER, format_timeout

if TYPE_CHECKING:
    from aiohttp_retry.client import RetryClient
    from aiohttp_retry.events import Listeners
    from aiohttp_retry.routes import RouteTable

__all__ = ["RaiseForStatus", "RequestParams", "check_options"]

_RAW_URL_TYPE = str | URL

#: ``timeout`` not given for the call: the session's applies.
_SESSION: Any = object()
_URL_TYPE = _RAW_URL_TYPE | list[_RAW_URL_TYPE] | tuple[_RAW_URL_TYPE, ...]

#: ``True`` to call ``response.raise_for_status()`` on the final response, or a
#: function (sync or async) called with it that raises to reject it.
RaiseForStatus = bool | Callable[[ClientResponse], Any]


def check_options(retry_options: object) -> None:
    """Refuse anything but ``None`` or an options object, naming ``retry_options``."""
    if retry_options is not None and not isinstance(retry_options, RetryOptionsBase):
        msg = (
            "retry_options must be None or a RetryOptionsBase instance such as ExponentialRetry(attempts=5), "
            f"got a {type(retry_options).__name__}"
        )
        raise TypeError(msg)


@dataclass(slots=True)
class RequestParams:
    """One try's request: the method, the URL and what else to pass to ``ClientSession.request``."""

    method: str
    url: _RAW_URL_TYPE
    headers: dict[str, Any] | None = None
    trace_request_ctx: dict[str, Any] | None = None
    kwargs: dict[str, Any] | None = None


def _try_headers(given: Any, extra: Mapping[str, str] | None, time_left: float | None) -> CIMultiDict[str]:
    """A try's own headers: the call's, a listener's ``extra`` (taken once), the time left to propagate."""
    headers: CIMultiDict[str] = CIMultiDict(given or ())
    if extra is not None:
        try_headers.set(None)
        headers.update(extra)
    if time_left is not None:
        headers[TIMEOUT_HEADER] = format_timeout(time_left)
    return headers


class _RequestContext:
    """The result of ``RetryClient.get(...)`` and alike: await it, or use it with ``async with``.

    Nothing is sent until then. With ``async with`` the final response is
    released on exit; with ``await`` releasing it is the caller's job. For the
    engine it is the call's exchange: it sends try ``n`` and describes it.
    """

    __slots__ = (
        "_bodies",
        "_client",
        "_hooks",
        "_kwargs",
        "_params_list",
        "_raise_for_status",
        "_request",
        "_retry_options",
        "_traced",
        "_used",
        "finish",
        "hedgeable",
        "method",
        "response",
        "url",
    )
    codec = AIOHTTP_CODEC
    _bodies: dict[int, ReplayableBody] | None
    response: ClientResponse

    def __init__(
        self,
        client: RetryClient,
        method: str,
        url: _URL_TYPE | None,
        retry_options: RetryOptionsBase | None,
        raise_for_status: RaiseForStatus | None,
        kwargs: dict[str, Any],
        params_list: list[RequestParams] | None = None,
    ) -> None:
        self._client = client
        if retry_options is None:
            self._retry_options = client._retry_options  # noqa: SLF001
        else:
            check_options(retry_options)
            self._retry_options = retry_options
        self._raise_for_status = client._raise_for_status if raise_for_status is None else raise_for_status  # noqa: SLF001
        self._used = False
        # One URL, the common case: method, url and the ClientSession.request keywords as given.
        # With a list, ``method`` and ``url`` are those of try 1 (for events and the origin key).
        self.method = method
        self.url: Any = url
        self._kwargs = kwargs
        if params_list is None and not isinstance(url, (str, URL)):
            headers = kwargs.pop("headers", None)
            trace_request_ctx = kwargs.pop("trace_request_ctx", None)
            params_list = [RequestParams(method, u, headers, trace_request_ctx, kwargs) for u in _urls_of(url)]
        if params_list is not None:
            self.method, self.url = params_list[0].method, params_list[0].url
        self._params_list = params_list
        if client._routes is not None:  # noqa: SLF001
            self._routed(client._routes, retry_options, raise_for_status)  # noqa: SLF001

    def _routed(self, routes: RouteTable, retry_options: Any, raise_for_status: Any) -> None:
        """Take the settings of the routes the call matches; what the call passed itself wins over every route."""
        session = self._client._client  # noqa: SLF001
        settings = routes.settings(origin_of(self.url) or session_origin(session, self.url), self.url)
        if retry_options is None:
            self._retry_options = settings.retry_options
        if raise_for_status is None:
            self._raise_for_status = settings.raise_for_status
        self._hooks = settings.hooks

    def _params_of(self, attempt: int) -> RequestParams:
        """The entry of a URL list or ``requests()`` list that try ``attempt`` sends (the last one repeats)."""
        params_list = cast("list[RequestParams]", self._params_list)
        return params_list[attempt - 1] if attempt <= len(params_list) else params_list[-1]

    def send(self, attempt: int, time_left: float | None) -> Awaitable[ClientResponse]:  # noqa: C901 - short routes first
        """Try ``attempt``: ``ClientSession.request`` with ``current_attempt`` in the trace context.

        Only what the try needs is built: a session with no trace configs, on
        aiohttp's own route, never reads ``trace_request_ctx``.
        """
        params_list = self._params_list
        extra = try_headers.get() if TryHeadersUsed.flag else None
        if params_list is None:
            method, url, given = self.method, self.url, self._kwargs
            if not given and not self._traced and extra is None:  # a plain call on aiohttp's own route
                if time_left is None:
                    return self._request(method, url)
                if not self._retry_options.time_limits.propagate:
                    timeout = self._client._timeout_for(_SESSION, time_left)  # noqa: SLF001
                    return (
                        self._request(method, url) if timeout is None else self._request(method, url, timeout=timeout)
                    )
            kwargs = {**given} if given else {}
        else:
            params = self._params_of(attempt)
            method, url, given = params.method, params.url, params.kwargs or {}
            kwargs = {**given, "headers": params.headers, "trace_request_ctx": params.trace_request_ctx}
        if self._traced:
            trace = kwargs.get("trace_request_ctx")
            # The real count wins over a caller's key of that name; a context that is no mapping goes as it is.
            if trace is None or isinstance(trace, Mapping):
                kwargs["trace_request_ctx"] = (
                    {**trace, "current_attempt": attempt} if trace else {"current_attempt": attempt}
                )
        propagate = time_left is not None and self._retry_options.time_limits.propagate
        if extra is not None or propagate:
            kwargs["headers"] = _try_headers(kwargs.get("headers"), extra, time_left if propagate else None)
        if time_left is not None:
            # An explicit timeout=None means "no limit" to aiohttp, not "the session's".
            timeout = self._client._timeout_for(kwargs.get("timeout", _SESSION), time_left)  # noqa: SLF001
            if timeout is not None:
                kwargs["timeout"] = timeout
        if self._bodies:
            body = self._bodies.get(id(given))
            if body is not None:
                kwargs["data"] = body.data
        return self._request(method, url, **kwargs)

    def describe(self, attempt: int) -> tuple[str, Any, Mapping[str, Any] | None]:
        """The method, URL and headers (the session's defaults included) of try ``attempt``."""
        if self._params_list is None:
            method, url, headers = self.method, self.url, self._kwargs.get("headers")
        else:
            params = self._params_of(attempt)
            method, url, headers = params.method, params.url, params.headers
        defaults = getattr(self._client._client, "headers", None)  # noqa: SLF001
        if defaults:
            merged = CIMultiDict(defaults)
            merged.update(CIMultiDict(headers or ()))  # any form aiohttp takes: a mapping or (name, value) pairs
            return method, url, merged
        if headers is not None and not isinstance(headers, Mapping):
            headers = CIMultiDict(headers)
        return method, url, headers

    def resend_refusal(self, attempt: int) -> str | None:
        """Why try ``attempt`` cannot be sent (a one-shot body already consumed), or ``None``."""
        if not self._bodies:
            return None
        kwargs = self._kwargs if self._params_list is None else self._params_of(attempt).kwargs
        body = self._bodies.get(id(kwargs))
        return body.why_not_resend() if body is not None else None

    async def _check_final(self, response: ClientResponse) -> None:
        await check_final(response, self._raise_for_status)

    async def _prepare_bodies(self, limit: int) -> None:
        every_kwargs = [self._kwargs] if self._params_list is None else [p.kwargs or {} for p in self._params_list]
        bodies: dict[int, ReplayableBody] = {}
        for kwargs in every_kwargs:
            data = kwargs.get("data")
            if needs_preparing(data) and id(kwargs) not in bodies:
                bodies[id(kwargs)] = await prepare_body(data, limit)
        self._bodies = bodies

    def _start(self) -> Coroutine[Any, Any, ClientResponse]:
        """The call as one coroutine: the engine's, unless a body must be read ahead first."""
        if self._used:
            msg = (
                "this request was already sent: a request context can be awaited or entered once; "
                "call the client's method again for a new request"
            )
            raise RuntimeError(msg)
        self._used = True
        self._bodies = None
        self.hedgeable = True
        self.finish = self._check_final if self._raise_for_status else None
        client = self._client
        session = client._client  # noqa: SLF001 - looked up per call, so replacing _client works
        # Worked out once per session (aiohttp discourages setting attributes on a session, so a
        # ``request`` replaced on the instance after the first call is not seen; a subclass always is).
        route = client._route  # noqa: SLF001
        if route[0] is not session:
            route = client._route = (session, *route_of(session), getattr(session, "timeout", None))  # noqa: SLF001
        self._request, self._traced = route[1], route[2]
        options = self._retry_options
        plan = options._plan or plan_of(options)  # noqa: SLF001
        budget = client._retry_budget if plan.budget is INHERIT else plan.budget  # noqa: SLF001
        breaker = client._breaker if plan.breaker is INHERIT else plan.breaker  # noqa: SLF001
        limits = client._limits  # noqa: SLF001
        key = ""
        if budget is not None or breaker is not None or plan.hedging is not None or limits is not None:
            key = origin_of(self.url) or session_origin(session, self.url)
        listeners = client._listeners if not plan.listeners else client._listeners.with_users(plan.listeners)  # noqa: SLF001
        hooks = client._hooks if client._routes is None else self._hooks  # noqa: SLF001
        exchange = self if hooks is None else HookedExchange(self, hooks)
        if self._params_list is None and ("data" not in self._kwargs or not needs_preparing(self._kwargs["data"])):
            return run(plan, exchange, key, budget, breaker, listeners, None, limits)
        return self._run_prepared(plan, exchange, key, budget, breaker, listeners, limits)

    async def _run_prepared(
        self, plan: Any, exchange: Any, key: str, budget: Any, breaker: Any, listeners: Listeners, limits: Any
    ) -> ClientResponse:
        """Read one-shot bodies ahead, then run; reading is part of the call, so its deadline covers it."""
        started = asyncio.get_running_loop().time()
        if plan.total is None:
            await self._prepare_bodies(plan.replay_buffer)
        else:
            try:
                await within(self._prepare_bodies(plan.replay_buffer), plan.total)
            except TimeoutError as error:
                limit = "total_timeout"  # reading the body ahead used up the whole call
                raise RetryTimeoutError(limit, plan.total, 0) from error
        if self._bodies and any(body.one_shot for body in self._bodies.values()):
            self.hedgeable = False  # a body that can be sent once at a time is never sent twice at once
        return await run(plan, exchange, key, budget, breaker, listeners, started, limits)

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._start().__await__()

    __aenter__ = _start  # returns the coroutine that ``async with`` awaits

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.response.release()  # set: __aexit__ runs only after __aenter__ returned it


def _urls_of(url: _URL_TYPE | None) -> tuple[_RAW_URL_TYPE, ...]:
    if isinstance(url, (list, tuple)) and url:
        return tuple(url)
    what = "an empty one" if isinstance(url, (list, tuple)) else f"a {type(url).__name__}"
    msg = f"url must be a str, a yarl.URL, or a non-empty list or tuple of them (one per try), got {what}"
    raise ValueError(msg)
