"""The decisions both strategies share: compiled options, and one call's state and verdicts.

:class:`Plan` is what the loops read from an options object, computed once
per object through its public properties (a subclass that overrides
``attempts`` or ``statuses`` is honoured everywhere) and recomputed after any
of its settings changes. :class:`Call` holds one call's state on the slow path
(the fast path in :mod:`aiohttp_retry.engine.entry` builds none) and answers the
questions the loops ask: may this try go, is this outcome a failure, wait how
long or stop why. Every "stop" is a :class:`~aiohttp_retry.policy.stop.StopReason`.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp_retry.engine.inbound import inbound_deadline
from aiohttp_retry.errors import CircuitOpenError, RetryTimeoutError
from aiohttp_retry.events import BudgetRefused, GaveUp, RetryScheduled, TryFinished, TryStarted, emit_to
from aiohttp_retry.policy.breaker import Permit
from aiohttp_retry.policy.classify import IDEMPOTENT_METHODS, error_is_retryable, has_header
from aiohttp_retry.policy.deadline import attempt_budget, fits_before
from aiohttp_retry.policy.stop import ErrorKind, StopReason

if TYPE_CHECKING:
    from aiohttp_retry.engine.limits import Limits
    from aiohttp_retry.engine.protocols import Codec, Exchange
    from aiohttp_retry.events import Listeners
    from aiohttp_retry.policy.protocols import CircuitBreakerLike, RetryBudgetLike
    from aiohttp_retry.retry_options import RetryOptionsBase

__all__ = ["Call", "Plan", "plan_of"]

#: A status at or above this is never a failure (``retry_all_server_errors=False``).
_NEVER = 1000


class Plan:
    """What the loops read from one options object, computed once."""

    __slots__ = (
        "attempt_limit",
        "attempts",
        "breaker",
        "budget",
        "callback",
        "exceptions",
        "fail_from",
        "first_limit",
        "hedging",
        "idempotency_header",
        "listeners",
        "methods",
        "network_errors",
        "options",
        "propagate",
        "replay_buffer",
        "retry_after",
        "statuses",
        "timed",
        "total",
        "veto_header",
        "watch",
    )

    def __init__(self, options: RetryOptionsBase) -> None:
        self.options = options
        self.attempts = options.attempts
        self.statuses = frozenset(options.statuses)
        self.fail_from = 500 if options.retry_all_server_errors else _NEVER
        self.callback = options.evaluate_response_callback
        self.methods = frozenset(options.methods)
        self.exceptions = tuple(options.exceptions)
        self.network_errors = options.retry_network_errors
        self.retry_after = options.retry_after
        # Statuses that need a look beyond the status itself: the listed ones and those whose
        # Retry-After may call for a retry. Any other status below fail_from ends a call at once.
        self.watch = self.statuses | frozenset(self.retry_after.statuses if self.retry_after is not None else ())
        self.idempotency_header, self.veto_header = options.idempotency_header, options.veto_header
        limits = options.time_limits
        self.total = limits.total
        self.attempt_limit = limits.attempt
        self.propagate = limits.propagate
        self.timed = limits.total is not None or limits.attempt is not None
        self.first_limit = min(math.inf if x is None else x for x in (limits.total, limits.attempt))
        self.hedging = options.hedging
        self.budget = options.retry_budget
        self.breaker = options.circuit_breaker
        self.listeners = tuple(getattr(options, "listeners", ()))
        self.replay_buffer = options.replay_buffer

    def failed(self, status: int) -> bool:
        """Whether ``status`` marks a failed try (for the retry decision and the breaker)."""
        return status >= self.fail_from or status in self.statuses


def plan_of(options: RetryOptionsBase) -> Plan:
    """The plan of ``options``, compiled on first use and after any change of its settings."""
    plan: Plan | None = options._plan  # noqa: SLF001 - the options object keeps its compiled form
    if plan is None:
        plan = options._plan = Plan(options)  # noqa: SLF001
    return plan


class Call:
    """One call on the slow path: its state, and the decisions the loops ask for."""

    __slots__ = (
        "attempts",
        "breaker",
        "budget",
        "codec",
        "exchange",
        "expires",
        "key",
        "limits",
        "listeners",
        "loop",
        "own_expiry",
        "plan",
        "previous",
        "reported",
        "started",
        "tries",
        "watching",
        "watching_starts",
    )

    def __init__(
        self,
        plan: Plan,
        exchange: Exchange[Any],
        key: str,
        budget: RetryBudgetLike | None,
        breaker: CircuitBreakerLike | None,
        listeners: Listeners,
        started: float | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.plan, self.exchange, self.key, self.listeners = plan, exchange, key, listeners
        self.budget, self.breaker, self.limits = budget, breaker, limits  # the stateful policies, keyed by key
        self.codec: Codec[Any] = exchange.codec
        # Who gets TryStarted and TryFinished: decided once per call.
        self.watching_starts, self.watching = listeners.for_tries()
        self.attempts = plan.attempts
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time() if started is None else started
        own = math.inf if plan.total is None else self.started + plan.total
        inherited = inbound_deadline.get()
        self.expires = own if inherited is None else min(own, inherited)
        self.own_expiry = inherited is None or own <= inherited
        self.previous: float | None = None
        self.tries = 0
        self.reported = False  # GaveUp emitted: a call gives up once, whatever happens after

    # -- time -------------------------------------------------------------------------------------

    def now(self) -> float:
        """The loop clock."""
        return self.loop.time()

    def time_left(self, now: float) -> float | None:
        """Seconds the next try may take: its own limit or the time left, whichever is shorter."""
        return attempt_budget(self.plan.attempt_limit, now, self.expires)

    def drain_time(self, reserve: float = 0.0) -> float | None:
        """Seconds a discarded body may take to drain: the time left less ``reserve``, if the call has a deadline.

        The sequential loop reserves the planned wait and a try as long as the
        last, so that draining never eats the time the next try was promised.
        """
        return None if self.expires == math.inf else max(self.expires - self.now() - reserve, 0.0)

    def limit_error(self, error: BaseException, try_started: float, time_left: float | None) -> BaseException:
        """The library's own timeout error when ``error`` is a timeout the library's limit caused, else ``error``."""
        if time_left is None or self.codec.error_kind(error) is not ErrorKind.TIMEOUT:  # type: ignore[arg-type]
            return error
        if self.now() < try_started + time_left - 1e-6:
            return error  # a timeout of the transport's own, before the library's limit
        plan = self.plan
        if plan.attempt_limit is not None and plan.attempt_limit <= self.expires - try_started:
            return RetryTimeoutError("attempt_timeout", plan.attempt_limit, self.tries)
        return self.deadline_error()

    def deadline_error(self) -> RetryTimeoutError:
        """The error of a call whose deadline ran out between tries."""
        plan = self.plan
        if self.own_expiry and plan.total is not None:
            return RetryTimeoutError("total_timeout", plan.total, self.tries)
        return RetryTimeoutError("inbound deadline (X-Request-Timeout)", self.expires - self.started, self.tries)

    # -- trying -----------------------------------------------------------------------------------

    def admit(self, attempt: int) -> Permit | None:
        """Count try ``attempt``, ask the breaker for it (``CircuitOpenError`` if refused); try 1 counts a call."""
        self.tries = attempt
        permit = None
        breaker = self.breaker
        if breaker is not None:
            granted = breaker.acquire(self.key)
            if not isinstance(granted, Permit):
                self.tries = attempt - 1
                self.refused(granted)
            permit = granted
            if permit.change is not None:
                self.listeners.emit(permit.change)
        if attempt == 1 and self.budget is not None:
            self.budget.record_call(self.key)
        if self.watching_starts:
            method, url, _ = self.exchange.describe(attempt)
            emit_to(self.watching_starts, TryStarted(attempt, self.attempts, method, url, self.key))
        return permit

    def refused(self, retry_in: float) -> NoReturn:
        """The breaker refused a try: report the call as given up, and raise ``CircuitOpenError``."""
        error = CircuitOpenError(self.key, float(retry_in))
        self.gave_up(StopReason.BREAKER_OPEN, None, error)
        raise error

    def record(self, permit: Permit | None, *, failed: bool) -> None:
        """Tell the breaker how a try granted with ``permit`` ended."""
        if permit is not None and self.breaker is not None:
            change = self.breaker.record(self.key, permit, failed=failed)
            if change is not None:
                self.listeners.emit(change)

    def record_error(self, permit: Permit | None, error: BaseException) -> None:
        """Tell the breaker about a try that raised; a cancelled one gives its permit back."""
        if permit is None or self.breaker is None:
            return
        if isinstance(error, Exception):
            listed = isinstance(error, self.plan.exceptions)
            self.record(permit, failed=listed or self.codec.error_kind(error) is not ErrorKind.OTHER)
        else:
            self.breaker.release(self.key, permit)

    def finished(
        self, attempt: int, status: int | None, error: BaseException | None, began: float, *, final: bool
    ) -> None:
        """Emit :class:`TryFinished` for try ``attempt`` when per-try events are watched."""
        if not self.watching:
            return
        now = self.now()
        method, url, _ = self.exchange.describe(attempt)
        kind = None if not isinstance(error, Exception) else self.codec.error_kind(error)
        event = TryFinished(
            attempt, self.attempts, method, url, self.key, status, error, kind, now - began, now - self.started, final
        )
        emit_to(self.watching, event)

    # -- judging ----------------------------------------------------------------------------------

    def idempotent(self, attempt: int) -> bool:
        """Whether try ``attempt`` may be sent twice at once: retried by the options, and idempotent."""
        allowed, idempotent = self._allowed(attempt)
        return allowed and idempotent

    def _allowed(self, attempt: int) -> tuple[bool, bool]:
        """Whether the options retry try ``attempt``'s request at all, and whether it is idempotent."""
        method, _, headers = self.exchange.describe(attempt)
        plan = self.plan
        keyed = has_header(headers, plan.idempotency_header)
        upper = method.upper()
        return keyed or upper in plan.methods, keyed or upper in IDEMPOTENT_METHODS

    def server_wait(self, status: int, header: str | None) -> float | None:
        """The wait a retried status's ``Retry-After`` asks for, when the options honour it."""
        retry_after = self.plan.retry_after
        if retry_after is None or header is None:
            return None
        asked: float | None = retry_after.asks(status, header, time.time())
        return asked

    async def response_failed(self, attempt: int, response: Any, *, last: bool = False) -> bool | StopReason:
        """Whether a response calls for another try; ``NOT_RETRYABLE`` when it failed but may not be retried.

        A failure is a status the options retry, a 413/429/503 whose valid
        ``Retry-After`` asks for another try, or a response the callback
        rejects (the callback is not consulted on the ``last`` try).
        """
        plan = self.plan
        status = self.codec.status(response)
        failed = plan.failed(status) or (
            status in plan.watch and self.server_wait(status, self.codec.header(response, "Retry-After")) is not None
        )
        if not failed and (plan.callback is None or last):
            return False
        allowed, _ = self._allowed(attempt)
        if not allowed:
            return StopReason.NOT_RETRYABLE if failed else False
        if not failed:
            verdict = plan.callback(response)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            return not verdict
        return True

    def error_retryable(self, attempt: int, error: Exception) -> bool:
        """Whether an error raised by try ``attempt`` is worth another try."""
        allowed, idempotent = self._allowed(attempt)
        plan = self.plan
        return error_is_retryable(
            self.codec.error_kind(error),
            listed=isinstance(error, plan.exceptions),
            allowed=allowed,
            idempotent=idempotent,
            network_errors=plan.network_errors,
        )

    def plan_retry(
        self, attempt: int, response: Any, status: int | None, header: str | None, try_took: float
    ) -> tuple[float, bool] | StopReason:
        """The wait before try ``attempt + 1`` and whether the server set it, or why the call must stop.

        In order: the last try was made; the server vetoes retries (its response carries the
        options' ``veto_header``); it asks for more than the options accept; the wait and a try as
        long as the last would pass the deadline; then :meth:`refusal`.
        """
        if attempt >= self.attempts:
            return StopReason.LAST_TRY
        plan = self.plan
        if response is not None and self.vetoed(response):
            return StopReason.SERVER_VETO
        options = plan.options
        delay = options.next_delay(attempt - 1, response, self.previous)
        if not 0 <= delay < math.inf:
            msg = f"{type(options).__name__}.get_timeout returned {delay!r}; a wait must be a finite number >= 0"
            raise ValueError(msg)
        from_server = False
        asked = None if status is None else self.server_wait(status, header)
        if asked is not None:
            if asked > plan.retry_after.max_wait:  # type: ignore[union-attr] # asked: it is set
                return StopReason.RETRY_AFTER_TOO_LONG
            if asked > delay:
                delay, from_server = asked, True
        if self.expires != math.inf and not fits_before(delay, self.now(), self.expires, try_took):
            return StopReason.DEADLINE
        refusal = self.refusal(attempt + 1)
        if refusal is not None:
            return refusal
        self.previous = delay
        return delay, from_server

    def vetoed(self, response: Any) -> bool:
        """Whether ``response`` carries the options' ``veto_header``: the server says not to retry."""
        return self.plan.veto_header is not None and self.codec.header(response, self.plan.veto_header) is not None

    def refusal(self, attempt: int) -> StopReason | None:
        """Why try ``attempt`` may not follow, time apart: breaker open, body spent, or the budget refuses.

        The budget is asked last: a retry that would not happen costs nothing from it.
        """
        if self.breaker is not None and self.breaker.would_refuse(self.key):
            return StopReason.BREAKER_OPEN
        if self.exchange.resend_refusal(attempt) is not None:
            return StopReason.BODY_NOT_REPLAYABLE
        if self.budget is not None and not self.budget.try_retry(self.key):
            method, url, _ = self.exchange.describe(attempt)
            self.listeners.emit(BudgetRefused(attempt, method, url, self.key))
            return StopReason.BUDGET_SPENT
        return None

    async def deliver(self, response: Any) -> Any:
        """Check the response the call returns (``raise_for_status``), hand it to the exchange, return it."""
        finish = self.exchange.finish
        if finish is not None:
            await finish(response)
        self.exchange.response = response
        return response

    # -- reporting --------------------------------------------------------------------------------

    def retrying(self, attempt: int, cause: str, delay: float, *, from_server: bool) -> None:
        """Emit :class:`RetryScheduled`."""
        method, url, _ = self.exchange.describe(attempt)
        self.listeners.emit(RetryScheduled(attempt, self.attempts, method, url, self.key, cause, delay, from_server))

    def gave_up(self, reason: StopReason, status: int | None, error: BaseException | None) -> None:
        """Emit :class:`GaveUp` (once per call), and note the reason on an error the call re-raises."""
        if self.reported:
            return
        self.reported = True
        method, url, _ = self.exchange.describe(max(self.tries, 1))
        kind = self.codec.error_kind(error) if isinstance(error, Exception) else None
        elapsed = self.now() - self.started
        self.listeners.emit(
            GaveUp(reason, self.tries, self.attempts, method, url, self.key, status, error, kind, elapsed)
        )
        if error is not None and hasattr(error, "add_note") and reason is not StopReason.CANCELLED:
            tries = "try" if self.tries == 1 else "tries"
            error.add_note(f"aiohttp_retry: gave up after {self.tries} {tries}: {reason.value}")
