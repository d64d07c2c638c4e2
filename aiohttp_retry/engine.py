"""The attempt loop: the one place where tries are sent, judged, released and spaced.

Adapters hand the loop a ``send(attempt, budget)`` function that performs try
number ``attempt`` (1-based) within ``budget`` seconds (``None``: unbounded)
and returns its response. The loop knows nothing of how that function reaches
the network.

Contract: every response that is not handed back to the caller is released
before the next try starts or the call ends, cancellation included; no wait
starts that would end past the call's deadline; no retry is sent that the
retry budget or the circuit breaker refuses.

``execute`` runs tries one after another; with ``Hedging`` in the options and
an idempotent request, :mod:`aiohttp_retry.hedge` runs them overlapping. Both
take their decisions from one :class:`Call`.

Most calls end with try 1, so the adapters may send it themselves, in their
own frame, before ``execute`` exists for the call: :func:`start_first_try`
says whether they may (and counts the call), :func:`first_is_final` whether
its response ends the call; any other outcome goes to ``execute(first=...)``,
which judges it like every later try. The decisions stay here; the adapters
only await.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Protocol, cast

from aiohttp import ClientResponseError, hdrs

from aiohttp_retry.errors import BodyNotReplayableError, CircuitOpenError
from aiohttp_retry.policy.breaker import CircuitBreaker, Permit
from aiohttp_retry.policy.classify import (
    IDEMPOTENT_METHODS,
    NETWORK_ERRORS,
    Verdict,
    exception_is_retryable,
    is_failure_status,
    response_verdict,
)
from aiohttp_retry.policy.deadline import attempt_budget, fits_before

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from aiohttp_retry.policy.budget import RetryBudget
    from aiohttp_retry.retry_options import RetryOptionsBase

__all__ = [
    "DRAIN_LIMIT",
    "Call",
    "Describe",
    "LoggerLike",
    "RaiseForStatus",
    "Send",
    "Sleep",
    "execute",
    "first_is_final",
    "inbound_deadline",
    "set_inbound_deadline",
    "start_first_try",
]


class LoggerLike(Protocol):
    """Any object with the three logging methods the library calls."""

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102


#: ``True`` to call ``response.raise_for_status()`` on the final response, or a
#: function (sync or async) called with it that raises to reject it.
RaiseForStatus = bool | Callable[["ClientResponse"], Any]

Sleep = Callable[[float], Awaitable[Any]]

#: Performs try ``attempt`` within ``budget`` seconds (``None``: no limit).
Send = Callable[[int, "float | None"], Awaitable["ClientResponse"]]

#: The method and headers of try ``attempt``.
Describe = Callable[[int], "tuple[str, Mapping[str, Any] | None]"]

#: The event-loop clock reading by which the request being served must be answered.
#: Set by :func:`aiohttp_retry.server.deadline_middleware`; calls made meanwhile inherit it.
inbound_deadline: ContextVar[float | None] = ContextVar("aiohttp_retry_inbound_deadline", default=None)


class _Inbound:
    """Whether any inbound deadline was ever set in this process: until then the fast path skips the lookup."""

    used = False


def set_inbound_deadline(expires: float) -> Token[float | None]:
    """Set :data:`inbound_deadline` for the current context; reset it with the token returned."""
    _Inbound.used = True
    return inbound_deadline.set(expires)


def _debug_enabled(logger: LoggerLike) -> bool:
    is_enabled = getattr(logger, "isEnabledFor", None)
    return True if is_enabled is None else bool(is_enabled(logging.DEBUG))


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _has_header(headers: Mapping[str, Any] | None, name: str | None) -> bool:
    if not headers or name is None:
        return False
    if name in headers:  # case-insensitive for aiohttp's multidicts
        return True
    lower = name.lower()
    return any(key.lower() == lower for key in headers)


def describe_exception(exc: BaseException) -> str:
    """A log-safe description: the exception's type, and the status of a ClientResponseError.

    Never its repr: aiohttp's ClientResponseError repr carries the request's
    headers, Authorization included.
    """
    if isinstance(exc, ClientResponseError):
        return f"{type(exc).__name__} (status {exc.status})"
    return type(exc).__name__


async def check_final(response: ClientResponse, raise_for_status: RaiseForStatus) -> None:
    """Apply ``raise_for_status`` to the response the call is about to return."""
    if raise_for_status is True:
        response.raise_for_status()  # aiohttp releases the response before raising
        return
    try:
        await _maybe_await(raise_for_status(response))  # type: ignore[operator]
    except BaseException:
        response.release()
        raise


#: Error bodies up to this size are read before release, so their connection goes back to the pool.
DRAIN_LIMIT = 64 * 1024


async def discard(response: ClientResponse) -> None:
    """Release a response the call will not return, reading a small body first to keep its connection.

    Releasing an unread body closes the connection; reading a few kilobytes is
    cheaper than a new connection (and a TLS handshake) for the next try.
    """
    try:
        length = response.content_length
        if length is not None and length <= DRAIN_LIMIT and response.method != "HEAD":
            await response.read()
    except Exception:  # noqa: BLE001, S110 - a body that cannot be read is simply not reused
        pass
    finally:
        response.release()


async def _send_within(send: Send, attempt: int, budget: float) -> ClientResponse:
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(budget):
            return await send(attempt, budget)
    return await asyncio.wait_for(send(attempt, budget), budget)  # pragma: no cover - Python 3.10


class Call:
    """The state and the decisions of one call: what the loops ask before and after each try."""

    __slots__ = (
        "attempts",
        "breaker",
        "budget",
        "clock",
        "debug",
        "describe",
        "expires",
        "first_sent",
        "key",
        "logger",
        "options",
        "previous",
        "why_not_resend",
    )

    def __init__(
        self,
        options: RetryOptionsBase,
        describe: Describe,
        logger: LoggerLike,
        *,
        key: str = "",
        budget: RetryBudget | None = None,
        breaker: CircuitBreaker | None = None,
        why_not_resend: Callable[[int], str | None] | None = None,
        first_sent: bool = False,
        attempts: int | None = None,
        started: float | None = None,
    ) -> None:
        self.options = options
        # Read once per call: later changes to the options do not affect a running call.
        self.attempts = options.attempts if attempts is None else attempts
        self.describe = describe
        self.logger = logger
        self.debug = _debug_enabled(logger)
        self.key = key
        self.budget = budget
        self.breaker = breaker
        self.why_not_resend = why_not_resend
        self.previous: float | None = None
        limits = options.time_limits
        inherited = inbound_deadline.get()
        timed = limits.total is not None or limits.attempt is not None or inherited is not None
        self.clock = asyncio.get_running_loop().time if timed else None
        if self.clock is None:
            self.expires = math.inf
        else:
            self.expires = limits.expiry(self.clock() if started is None else started, inherited)
        self.first_sent = first_sent
        if budget is not None and not first_sent:
            budget.record_call(key)

    def now(self) -> float:
        """The loop's clock when the call has a deadline, else 0 (no clock is read)."""
        return self.clock() if self.clock else 0.0

    def idempotent(self, attempt: int) -> bool:
        """Whether try ``attempt`` may be sent while another copy is under way."""
        method, headers = self.describe(attempt)
        keyed = _has_header(headers, self.options.idempotency_header)
        return keyed or (method.upper() in IDEMPOTENT_METHODS and method.upper() in self.options.methods)

    def admit(self, attempt: int) -> Permit | None:
        """Log try ``attempt`` and ask the circuit breaker for it: its permit, or ``CircuitOpenError`` if refused."""
        if attempt == 1 and self.first_sent:
            return None  # sent (and logged) before the call's state was built; no breaker then
        if self.debug:
            self.logger.debug("Attempt %d out of %d", attempt, self.attempts)
        if self.breaker is None:
            return None
        permit = self.breaker.acquire(self.key)
        if not isinstance(permit, Permit):
            raise CircuitOpenError(self.key, permit)
        return permit

    async def send(self, send: Send, attempt: int, started: float) -> ClientResponse:
        """Send try ``attempt`` within the time it is allowed."""
        budget = attempt_budget(self.options.time_limits.attempt, started, self.expires) if self.clock else None
        return await (send(attempt, None) if budget is None else _send_within(send, attempt, budget))

    def failed_response(self, response: ClientResponse) -> bool:
        """Whether the status marks a failure of the server (for the breaker and the retry decision)."""
        options = self.options
        return is_failure_status(response.status, options.statuses, server_errors=options.retry_all_server_errors)

    def record(self, permit: Permit | None, *, failed: bool) -> None:
        """Tell the circuit breaker how a try granted with ``permit`` ended."""
        if permit is not None and self.breaker is not None:
            self.breaker.record(self.key, permit, failed=failed)

    def record_exception(self, permit: Permit | None, exc: BaseException) -> None:
        """Tell the circuit breaker about a try that raised (cancellation gives a probe back)."""
        if permit is None or self.breaker is None:
            return
        if isinstance(exc, Exception):
            failed = isinstance(exc, NETWORK_ERRORS + self.options._exception_tuple)  # noqa: SLF001
            self.breaker.record(self.key, permit, failed=failed)
        else:
            self.breaker.release(self.key, permit)

    async def retryable(self, response: ClientResponse) -> bool:
        """Whether a response is worth another try: method allowed, and its status or the callback says so."""
        options = self.options
        callback = options.evaluate_response_callback
        allowed = response.method in options.methods or _has_header(
            response.request_info.headers, options.idempotency_header
        )
        verdict = response_verdict(
            response.status,
            allowed,
            statuses=options.statuses,
            retry_server_errors=options.retry_all_server_errors,
            has_callback=callback is not None,
        )
        if verdict is Verdict.ASK:
            return not await _maybe_await(callback(response))  # type: ignore[misc]
        return verdict is Verdict.RETRY

    def retries_exception(self, exc: Exception, attempt: int) -> bool:
        """Whether an exception from try ``attempt`` calls for another try: attempts are left and it is retryable."""
        return attempt < self.attempts and self.retryable_exception(exc, attempt)

    def retryable_exception(self, exc: Exception, attempt: int) -> bool:
        """Whether an exception from try ``attempt`` is worth another try."""
        method, headers = self.describe(attempt)
        options = self.options
        return exception_is_retryable(
            exc,
            method.upper(),
            keyed=_has_header(headers, options.idempotency_header),
            exceptions=options._exception_tuple,  # noqa: SLF001
            methods=options.methods,
            network_errors=options.retry_network_errors,
        )

    def resend_refusal(self, attempt: int) -> str | None:
        """Why try ``attempt`` cannot be sent (a consumed one-shot body), or ``None``."""
        return self.why_not_resend(attempt) if self.why_not_resend else None

    def spend_retry(self) -> bool:
        """Take one retry from the retry budget; ``False`` if it is exhausted."""
        return self.budget is None or self.budget.try_retry(self.key)

    def breaker_open(self) -> bool:
        """Whether the circuit breaker would refuse a try right now (open, or probing with no probe free)."""
        return self.breaker is not None and self.breaker.would_refuse(self.key)

    def plan_wait(
        self,
        attempt: int,
        response: ClientResponse | None,
        status: int,
        headers: Mapping[str, str] | None,
        started: float,
    ) -> float | None:
        """The wait before try ``attempt + 1``, or ``None`` when the call must end with this outcome.

        The schedule's wait, lengthened by a honoured ``Retry-After``; ``None``
        when the server asks for too long, when the wait and a try as long as
        the last would pass the deadline, when the breaker is open, or when the
        retry budget is spent.
        """
        options = self.options
        delay = options.next_delay(attempt - 1, response, self.previous)
        if not 0 <= delay < math.inf:
            msg = f"{type(options).__name__}.get_timeout returned {delay!r}; a wait must be a finite number >= 0"
            raise ValueError(msg)
        retry_after = options.retry_after
        if retry_after is not None and headers is not None:
            wait = retry_after.apply(delay, status, headers.get(hdrs.RETRY_AFTER), time.time())
            if wait is None:
                return None
            delay = wait
        now = self.now()
        if self.breaker_open() or not fits_before(delay, now, self.expires, now - started) or not self.spend_retry():
            return None
        self.previous = delay
        return delay


def start_first_try(
    options: RetryOptionsBase,
    logger: LoggerLike,
    key: str,
    budget: RetryBudget | None,
    breaker: CircuitBreaker | None,
) -> int:
    """Open the fast path: the number of tries of a call whose try 1 the adapter may send at once, else 0.

    Try 1 may go out before :func:`execute` builds any state when no circuit
    breaker, hedging or time limit is involved; it is then logged and counted
    in the retry budget here. The adapter awaits it in its own frame, returns
    the response when :func:`first_is_final` says so, and otherwise hands the
    outcome to ``execute(first=..., attempts=...)``, which judges it like any try.
    """
    if breaker is not None or options.hedging is not None:
        return 0
    limits = options.time_limits
    if limits.total is not None or limits.attempt is not None or (_Inbound.used and inbound_deadline.get() is not None):
        return 0
    attempts: int = options._attempts  # noqa: SLF001 - the attribute behind the property: this runs on every call
    if not isinstance(logger, logging.Logger) or logger.isEnabledFor(logging.DEBUG):
        logger.debug("Attempt %d out of %d", 1, attempts)
    if budget is not None:
        budget.record_call(key)
    return attempts


def first_is_final(options: RetryOptionsBase, attempts: int, status: int) -> bool:
    """Whether try 1's response, of ``status``, ends the call without a retry decision to make.

    True when it is the only try, or when its status marks no failure and no
    response callback could ask for a retry (:func:`is_failure_status`, inlined).
    """
    return attempts == 1 or (
        (status < 500 or not options.retry_all_server_errors)  # noqa: PLR2004
        and status not in options._statuses  # noqa: SLF001
        and options.evaluate_response_callback is None
    )


async def execute(  # noqa: C901, PLR0912, PLR0915 - the one attempt loop; its branches are the contract
    send: Send,
    describe: Describe,
    options: RetryOptionsBase,
    *,
    raise_for_status: RaiseForStatus = False,
    logger: LoggerLike,
    sleep: Sleep = asyncio.sleep,
    why_not_resend: Callable[[int], str | None] | None = None,
    key: str = "",
    budget: RetryBudget | None = None,
    breaker: CircuitBreaker | None = None,
    hedging_allowed: bool = True,
    started: float | None = None,
    first: ClientResponse | Exception | None = None,
    attempts: int = 0,
) -> ClientResponse:
    """Send tries until one is final, then return its response or raise its exception.

    A response is final on the last try, when its request may not be retried,
    when neither its status nor the options' response callback asks for a
    retry, or when :meth:`Call.plan_wait` ends the call. An exception ends the
    call unless the options retry it and a wait is planned.
    ``why_not_resend(attempt)`` tells why a try cannot be sent again (a
    consumed one-shot body). ``key`` names the origin for the retry budget
    and the circuit breaker. ``started``: the loop-clock reading at which the
    call began, if the adapter did work before (its deadline counts from there).
    ``first`` and ``attempts``: the outcome of a try 1 that the adapter sent
    on the fast path, and the count :func:`start_first_try` returned for it.
    """
    first_sent = first is not None
    call = Call(
        options,
        describe,
        logger,
        key=key,
        budget=budget,
        breaker=breaker,
        why_not_resend=why_not_resend,
        first_sent=first_sent,
        attempts=attempts if first_sent else None,
        started=started,
    )
    if options.hedging is not None and hedging_allowed and call.idempotent(1):
        from aiohttp_retry.hedge import execute_hedged  # noqa: PLC0415 - the rarer strategy loads on first use

        return await execute_hedged(call, send, raise_for_status, options.hedging)
    attempts = call.attempts
    statuses = options.statuses
    server_errors = options.retry_all_server_errors
    plain = options.evaluate_response_callback is None  # no callback: the status alone decides
    attempt = 1
    while True:
        permit = call.admit(attempt)
        started = call.now()
        response: ClientResponse | None = None
        try:
            if first_sent and attempt == 1:
                if isinstance(first, Exception):
                    raise first  # noqa: TRY301 - try 1's outcome, judged like any other
                response = cast("ClientResponse", first)
            elif call.clock is None:
                response = await send(attempt, None)
            else:
                response = await call.send(send, attempt, started)
            status = response.status
            failed = is_failure_status(status, statuses, server_errors=server_errors)
            if permit is not None:
                call.record(permit, failed=failed)
            wait = None
            if attempt < attempts and (failed or not plain) and await call.retryable(response):
                wait = call.plan_wait(attempt, response, status, response.headers, started)
            if wait is None:
                if raise_for_status:
                    await check_final(response, raise_for_status)
                return response
            if call.debug:
                logger.debug("Retrying after response code: %s", status)
            reason = call.resend_refusal(attempt + 1)
            if reason:
                raise BodyNotReplayableError(reason, status)  # noqa: TRY301 - released below
        except BodyNotReplayableError:
            if response is not None:
                response.release()
            raise
        except Exception as exc:
            if response is None:
                call.record_exception(permit, exc)
            else:
                response.release()
            if not call.retries_exception(exc, attempt):
                raise
            status, headers = (exc.status, exc.headers) if isinstance(exc, ClientResponseError) else (0, None)
            wait = call.plan_wait(attempt, None, status, headers, started)
            if wait is None:
                raise
            if call.debug:
                logger.debug("Retrying after exception: %s", describe_exception(exc))
            reason = call.resend_refusal(attempt + 1)
            if reason:
                raise BodyNotReplayableError(reason) from exc
        except BaseException as exc:
            if response is None:
                call.record_exception(permit, exc)
            else:
                response.release()
            raise
        else:
            await discard(response)
        await sleep(wait)
        attempt += 1
