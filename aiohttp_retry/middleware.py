"""``RetryMiddleware``: the attempt loop as an aiohttp client middleware.

    session = ClientSession(middlewares=[RetryMiddleware(FullJitterRetry(attempts=4))])

Each try calls the next handler with the same request. aiohttp applies the
session's ``raise_for_status`` to the final response only, after the
middleware. The middleware sees one request per ``session.request`` call, so
aiohttp's TraceConfig hooks fire once per call, not once per try.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from typing import Any, Literal

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, payload

from aiohttp_retry.engine import LoggerLike, execute, first_is_final, start_first_try
from aiohttp_retry.jitter import FullJitterRetry
from aiohttp_retry.policy.breaker import CircuitBreaker
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.deadline import TIMEOUT_HEADER, format_timeout
from aiohttp_retry.retry_options import INHERIT, Inherit, RetryOptionsBase, _checked

__all__ = ["RetryMiddleware"]

_NOT_RESENDABLE = (
    "the request body is a one-shot stream (an async iterable or unseekable file) that the previous try "
    "consumed; pass bytes, or use RetryClient, which reads such bodies ahead, to allow retries"
)


class RetryMiddleware:
    """Retries requests of a ``ClientSession`` as ``retry_options`` say.

    Args:
        retry_options: the options of every request through this middleware;
            default ``FullJitterRetry()`` (idempotent requests, 3 tries). For
            one call, pass ``middlewares=[RetryMiddleware(other_options)]`` to
            ``session.request``, which replaces the session's middlewares.
        logger, retry_budget, circuit_breaker: as for ``RetryClient``.

    Options with ``hedging`` are refused: aiohttp cannot send one request
    object twice at once.
    """

    __slots__ = ("_breaker", "_logger", "_options", "_retry_budget")

    def __init__(
        self,
        retry_options: RetryOptionsBase | None = None,
        *,
        logger: LoggerLike | None = None,
        retry_budget: RetryBudget | Literal[Inherit.CLIENT] | None = Inherit.CLIENT,
        circuit_breaker: CircuitBreaker | None = None,
    ) -> None:
        if retry_options is not None and not isinstance(retry_options, RetryOptionsBase):
            msg = f"retry_options must be a RetryOptionsBase instance such as FullJitterRetry(), got {retry_options!r}"
            raise TypeError(msg)
        if retry_options is not None and retry_options.hedging is not None:
            msg = (
                "hedging cannot be used with RetryMiddleware: aiohttp cannot send one request object twice at once; "
                "use RetryClient for hedged requests"
            )
            raise ValueError(msg)
        self._options = retry_options or FullJitterRetry()
        self._retry_budget = (
            RetryBudget() if retry_budget is Inherit.CLIENT else _checked(retry_budget, "retry_budget", RetryBudget)
        )
        self._breaker = _checked(circuit_breaker, "circuit_breaker", CircuitBreaker)
        self._logger: LoggerLike = logger or logging.getLogger("aiohttp_retry")

    @property
    def retry_options(self) -> RetryOptionsBase:
        """The options applied to every request."""
        return self._options

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        """Send ``request`` through ``handler`` once per try."""
        options = self._options
        budget = self._retry_budget if options.retry_budget is INHERIT else options.retry_budget
        breaker = self._breaker if options.circuit_breaker is INHERIT else options.circuit_breaker
        # origin_key(request.url), inlined: aiohttp has computed the Host header's host[:port] already.
        key = (request.url.host_port_subcomponent or "") if budget is not None or breaker is not None else ""
        first: ClientResponse | Exception | None = None
        attempts = start_first_try(options, self._logger, key, budget, breaker)
        if attempts:
            try:
                first = await handler(request)
            except Exception as exc:  # noqa: BLE001 - judged by execute
                first = exc
            else:
                if first_is_final(options, attempts, first.status):
                    return first
        # Only calls that need a retry decision get here: the closures cost nothing on the success path.
        propagate = options.time_limits.propagate

        def send(_attempt: int, time_left: float | None) -> Awaitable[ClientResponse]:
            if propagate and time_left is not None:
                request.headers[TIMEOUT_HEADER] = format_timeout(time_left)
            return handler(request)

        def describe(_attempt: int) -> tuple[str, Mapping[str, Any] | None]:
            return request.method, request.headers

        def why_not_resend(_attempt: int) -> str | None:
            body = request.body
            return _NOT_RESENDABLE if isinstance(body, payload.Payload) and body.consumed else None

        return await execute(
            send,
            describe,
            options,
            logger=self._logger,
            why_not_resend=why_not_resend,
            key=key,
            budget=budget,
            breaker=breaker,
            hedging_allowed=False,
            first=first,
            attempts=attempts,
        )
