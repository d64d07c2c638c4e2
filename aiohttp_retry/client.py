"""``RetryClient``: a ``ClientSession`` wrapper whose requests are retried.

This module translates between aiohttp's request API and the attempt loop in
:mod:`aiohttp_retry.engine`; every retry decision is made there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, cast

from aiohttp import ClientResponse, ClientSession, FormData, hdrs
from yarl import URL

from aiohttp_retry.body import ReplayableBody, prepare_body
from aiohttp_retry.engine import LoggerLike, RaiseForStatus, execute, first_is_final, start_first_try
from aiohttp_retry.policy.breaker import CircuitBreaker
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.deadline import TIMEOUT_HEADER, format_timeout
from aiohttp_retry.policy.origin import origin_of
from aiohttp_retry.retry_options import INHERIT, ExponentialRetry, Inherit, RetryOptionsBase, _checked

__all__ = ["RequestFunc", "RequestParams", "RetryClient"]

_RAW_URL_TYPE = str | URL
_URL_TYPE = _RAW_URL_TYPE | list[_RAW_URL_TYPE] | tuple[_RAW_URL_TYPE, ...]
_LoggerType = LoggerLike

#: What ``RetryClient`` calls once per try: ``ClientSession.request`` or alike.
RequestFunc = Callable[..., Awaitable[ClientResponse]]

_DEFAULT_LOGGER = logging.getLogger("aiohttp_retry")

# ``data`` that aiohttp rebuilds for every try, so nothing needs preparing.
_PLAIN_BODIES = (bytes, bytearray, memoryview, str, dict, list, tuple, FormData, type(None))


@dataclass(slots=True)
class RequestParams:
    """One try's request: the method, the URL and what else to pass to ``ClientSession.request``."""

    method: str
    url: _RAW_URL_TYPE
    headers: dict[str, Any] | None = None
    trace_request_ctx: dict[str, Any] | None = None
    kwargs: dict[str, Any] | None = None


class _RequestContext:
    """The result of ``RetryClient.get(...)`` and alike: await it, or use it with ``async with``.

    Nothing is sent until then. With ``async with`` the final response is
    released on exit; with ``await`` releasing it is the caller's job.
    """

    __slots__ = (
        "_bodies",
        "_client",
        "_kwargs",
        "_method",
        "_params_list",
        "_raise_for_status",
        "_request",
        "_response",
        "_retry_options",
        "_url",
        "_used",
    )
    _bodies: dict[int, ReplayableBody] | None
    _response: ClientResponse

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
        self._retry_options = retry_options or client._retry_options  # noqa: SLF001
        self._raise_for_status = client._raise_for_status if raise_for_status is None else raise_for_status  # noqa: SLF001
        self._used = False
        # One URL, the common case: method, url and the ClientSession.request keywords as given.
        self._method = method
        self._url = url
        self._kwargs = kwargs
        if params_list is None and not isinstance(url, (str, URL)):
            headers = kwargs.pop("headers", None)
            trace_request_ctx = kwargs.pop("trace_request_ctx", None)
            params_list = [RequestParams(method, u, headers, trace_request_ctx, kwargs) for u in _urls_of(url)]
        self._params_list = params_list

    def _params_of(self, attempt: int) -> RequestParams:
        """The entry of a URL list or ``requests()`` list that try ``attempt`` sends (the last one repeats)."""
        params_list = cast("list[RequestParams]", self._params_list)
        return params_list[attempt - 1] if attempt <= len(params_list) else params_list[-1]

    def _send(self, attempt: int, budget: float | None) -> Awaitable[ClientResponse]:
        """Try ``attempt``: ``ClientSession.request`` with ``current_attempt`` in the trace context."""
        params_list = self._params_list
        if params_list is None:
            method, url, given = self._method, self._url, self._kwargs
            kwargs = {**given}
        else:
            params = self._params_of(attempt)
            method, url, given = params.method, params.url, params.kwargs or {}
            kwargs = {**given, "headers": params.headers, "trace_request_ctx": params.trace_request_ctx}
        trace = kwargs.get("trace_request_ctx")
        # The real count wins over a caller's key of that name.
        kwargs["trace_request_ctx"] = {**trace, "current_attempt": attempt} if trace else {"current_attempt": attempt}
        if budget is not None and self._retry_options.time_limits.propagate:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), TIMEOUT_HEADER: format_timeout(budget)}
        if self._bodies:
            body = self._bodies.get(id(given))
            if body is not None:
                kwargs["data"] = body.data
        return self._request(method, url, **kwargs)

    def _describe(self, attempt: int) -> tuple[str, Mapping[str, Any] | None]:
        if self._params_list is None:
            return self._method, self._kwargs.get("headers")
        params = self._params_of(attempt)
        return params.method, params.headers

    def _why_not_resend(self, attempt: int) -> str | None:
        kwargs = self._kwargs if self._params_list is None else self._params_of(attempt).kwargs
        body = self._bodies.get(id(kwargs)) if self._bodies else None
        return body.why_not_resend() if body is not None else None

    async def _prepare_bodies(self, limit: int) -> None:
        every_kwargs = [self._kwargs] if self._params_list is None else [p.kwargs or {} for p in self._params_list]
        bodies: dict[int, ReplayableBody] = {}
        for kwargs in every_kwargs:
            data = kwargs.get("data")
            if not isinstance(data, _PLAIN_BODIES) and id(kwargs) not in bodies:
                bodies[id(kwargs)] = await prepare_body(data, limit)
        self._bodies = bodies

    async def _run(self) -> ClientResponse:
        """Send the request with retries; the final response is also kept for ``__aexit__``."""
        if self._used:
            msg = (
                "this request was already sent: a request context can be awaited or entered once; "
                "call the client's method again for a new request"
            )
            raise RuntimeError(msg)
        self._used = True
        self._bodies = None
        client = self._client
        self._request = _request_of(client._client)  # noqa: SLF001 - looked up per call, so replacing _client works
        options = self._retry_options
        budget = client._retry_budget if options.retry_budget is INHERIT else options.retry_budget  # noqa: SLF001
        breaker = client._breaker if options.circuit_breaker is INHERIT else options.circuit_breaker  # noqa: SLF001
        key = ""
        if budget is not None or breaker is not None or options.hedging is not None:
            # Shared state is kept per origin: that of the first URL (relative URLs share "").
            key = origin_of(self._url if self._params_list is None else self._params_list[0].url)  # type: ignore[arg-type]
        first: ClientResponse | Exception | None = None
        attempts = 0
        started: float | None = None
        kwargs = self._kwargs
        if self._params_list is None and ("data" not in kwargs or isinstance(kwargs["data"], _PLAIN_BODIES)):
            # Nothing to prepare: try 1 goes out at once unless a breaker, hedging or a time limit is involved.
            attempts = start_first_try(options, client._logger, key, budget, breaker)  # noqa: SLF001
            if attempts:
                try:
                    first = await self._send(1, None)
                except Exception as exc:  # noqa: BLE001 - judged by execute
                    first = exc
                else:
                    if not self._raise_for_status and first_is_final(options, attempts, first.status):
                        self._response = first
                        return first
        else:
            total = options.time_limits.total
            if total is None:
                await self._prepare_bodies(options.replay_buffer)
            else:  # reading a stream ahead is part of the call: the total budget covers it
                started = asyncio.get_running_loop().time()
                await asyncio.wait_for(self._prepare_bodies(options.replay_buffer), total)
        response = self._response = await execute(
            self._send,
            self._describe,
            options,
            raise_for_status=self._raise_for_status,
            logger=client._logger,  # noqa: SLF001
            why_not_resend=self._why_not_resend if self._bodies else None,
            key=key,
            budget=budget,
            breaker=breaker,
            started=started,
            first=first,
            attempts=attempts,
        )
        return response

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._run().__await__()

    __aenter__ = _run

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._response.release()  # set: __aexit__ runs only after __aenter__ returned it


_SESSION_REQUEST = ClientSession.request


def _request_of(session: Any) -> RequestFunc:
    """What sends one try through ``session``: its ``request`` method, or the coroutine behind it.

    ``ClientSession.request`` only wraps ``ClientSession._request(...)`` in a
    context-manager object that awaiting it unwraps again; building that
    wrapper costs as much as the rest of the success path, so when the session
    uses aiohttp's own ``request`` (not overridden by a subclass or replaced on
    the instance) the coroutine is awaited directly, with the same arguments
    and the same result, TraceConfig hooks included.
    """
    request = session.request
    if getattr(request, "__func__", None) is _SESSION_REQUEST:
        return cast("RequestFunc", session._request)  # noqa: SLF001
    return cast("RequestFunc", request)


def _urls_of(url: _URL_TYPE | None) -> tuple[_RAW_URL_TYPE, ...]:
    if isinstance(url, (list, tuple)) and url:
        return tuple(url)
    msg = f"url must be a str, a yarl.URL, or a non-empty list or tuple of them (one per try), got {url!r}"
    raise ValueError(msg)


class RetryClient:
    """Sends requests through a ``ClientSession`` and retries them as the options say.

    Args:
        client_session: the session to send through. It stays the caller's:
            ``close()`` does not close it. When omitted, the client creates
            one from ``*args`` and ``**kwargs`` and closes it in ``close()``.
        logger: a ``logging.Logger`` or any object with ``debug``,
            ``warning`` and ``exception`` methods; default ``aiohttp_retry``.
        retry_options: the default options for every request; a new
            ``ExponentialRetry()`` when omitted.
        raise_for_status: raise ``aiohttp.ClientResponseError`` for a final
            response with status >= 400 (or a callable that checks it).
        retry_budget: keyword-only; the retry budget shared by this client's
            calls, per origin. Default ``RetryBudget()`` (20 % of calls, at
            least 10 retries a second); ``None`` turns it off.
        circuit_breaker: keyword-only; a ``CircuitBreaker`` shared by this
            client's calls, per origin. Default ``None`` (off).
    """

    def __init__(
        self,
        client_session: ClientSession | None = None,
        logger: LoggerLike | None = None,
        retry_options: RetryOptionsBase | None = None,
        raise_for_status: RaiseForStatus = False,
        *args: Any,
        retry_budget: RetryBudget | Literal[Inherit.CLIENT] | None = Inherit.CLIENT,
        circuit_breaker: CircuitBreaker | None = None,
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
        if retry_options is not None and not isinstance(retry_options, RetryOptionsBase):
            msg = f"retry_options must be a RetryOptionsBase instance such as ExponentialRetry(), got {retry_options!r}"
            raise TypeError(msg)
        self._owned_session: ClientSession | None = None
        if client_session is None:
            client_session = self._owned_session = ClientSession(*args, **kwargs)
            self._closed = False
        self._client: Any = client_session
        self._logger: LoggerLike = logger or _DEFAULT_LOGGER
        self._retry_options: RetryOptionsBase = retry_options or ExponentialRetry()
        self._raise_for_status = raise_for_status
        self._retry_budget = (
            RetryBudget() if retry_budget is Inherit.CLIENT else _checked(retry_budget, "retry_budget", RetryBudget)
        )
        self._breaker = _checked(circuit_breaker, "circuit_breaker", CircuitBreaker)

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
