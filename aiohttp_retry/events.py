"""Events: what the library reports about each call and each try, to whoever listens.

A listener is any callable taking one event; attach listeners to ``RetryClient``
or ``RetryMiddleware`` (``listeners=[...]``) or to one call's options
(``ExponentialRetry(listeners=[...])``). With nobody listening, no event is
built. A listener that raises is logged once and never breaks a call; one that
returns an awaitable has it run as a task of its own.

Every event is an immutable, slotted tuple with named fields::

    TryStarted           a try is about to be sent
    TryFinished          a try ended: its status, or its error and the error's kind; final=True
                         when the call returns its outcome without giving up
    RetryScheduled       a try failed and another follows after ``delay`` seconds
    GaveUp               the call ends with a failed outcome, and why (a StopReason)
    BudgetRefused        the retry budget refused a retry (the call then gives up)
    BreakerStateChange   a circuit breaker changed state (closed, open, half_open)
    HedgeFired           a hedged call started another overlapping try
    HedgeWon             the try whose answer a hedged call returns

``url`` is the URL as the caller gave it (a ``str`` or ``yarl.URL``, possibly
relative to the session's ``base_url``); an event's ``repr`` shows it without
userinfo and query values. ``key`` is the origin (``host[:port]``) that keys the
retry budget and the circuit breaker; ``""`` where none was needed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from functools import partial
from logging import DEBUG
from types import FunctionType
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp_retry.policy.stop import ErrorKind, StopReason

if TYPE_CHECKING:
    from aiohttp_retry.observe.logging import LoggingListener

__all__ = [
    "BreakerStateChange",
    "BudgetRefused",
    "Event",
    "GaveUp",
    "HedgeFired",
    "HedgeWon",
    "Listener",
    "Listeners",
    "RetryScheduled",
    "TryFinished",
    "TryStarted",
    "emit_to",
]

_log = logging.getLogger("aiohttp_retry")


def _safe_repr(event: Any) -> str:
    from aiohttp_retry.observe.redact import describe_error, redact_url  # noqa: PLC0415 - only reprs need it

    parts = []
    for name, value in zip(event._fields, event, strict=True):
        if name == "url":
            text = repr(redact_url(value))
        elif name == "error":
            text = "None" if value is None else describe_error(value)
        elif isinstance(value, (StopReason, ErrorKind)):
            text = repr(value.value)
        else:
            text = repr(value)
        parts.append(f"{name}={text}")
    return f"{type(event).__name__}({', '.join(parts)})"


class TryStarted(NamedTuple):
    """Try ``attempt`` of at most ``attempts`` is about to be sent."""

    attempt: int
    attempts: int
    method: str
    url: Any
    key: str


class TryFinished(NamedTuple):
    """Try ``attempt`` ended with ``status``, or raised ``error`` of ``error_kind``.

    ``duration`` is the try's own time in seconds and ``elapsed`` the call's so
    far (loop clock). ``final`` is true when the call ends with this outcome and does not
    give up; a call that gives up ends with :class:`GaveUp` instead, so every call ends with
    exactly one of the two.
    """

    attempt: int
    attempts: int
    method: str
    url: Any
    key: str
    status: int | None
    error: BaseException | None
    error_kind: ErrorKind | None
    duration: float
    elapsed: float
    final: bool


class RetryScheduled(NamedTuple):
    """Try ``attempt`` failed with ``cause`` ("status 503", "ServerDisconnectedError"); the next follows in ``delay`` s.

    ``retry_after`` is true when the server's ``Retry-After`` set the wait.
    """

    attempt: int
    attempts: int
    method: str
    url: Any
    key: str
    cause: str
    delay: float
    retry_after: bool


class GaveUp(NamedTuple):
    """The call ends after ``tries`` tries with a failed outcome (``status`` or ``error``), for ``reason``."""

    reason: StopReason
    tries: int
    attempts: int
    method: str
    url: Any
    key: str
    status: int | None
    error: BaseException | None
    error_kind: ErrorKind | None
    elapsed: float


class BudgetRefused(NamedTuple):
    """The retry budget for ``key`` refused the retry that would have been try ``attempt``."""

    attempt: int
    method: str
    url: Any
    key: str


class BreakerStateChange(NamedTuple):
    """The circuit breaker for ``key`` went from ``old`` to ``new`` at clock reading ``at``."""

    key: str
    old: str
    new: str
    at: float


class HedgeFired(NamedTuple):
    """A hedged call started try ``attempt`` while earlier ones were under way, ``after`` s into the call."""

    attempt: int
    method: str
    url: Any
    key: str
    after: float


class HedgeWon(NamedTuple):
    """Try ``attempt`` of a hedged call gave the answer returned, out of ``tries`` started."""

    attempt: int
    tries: int
    method: str
    url: Any
    key: str


Event = TryStarted | TryFinished | RetryScheduled | GaveUp | BudgetRefused | BreakerStateChange | HedgeFired | HedgeWon

# One log-safe repr for every event: URLs without userinfo and query values, errors by class.
for _event_class in (TryStarted, TryFinished, RetryScheduled, GaveUp, BudgetRefused, HedgeFired, HedgeWon):
    _event_class.__repr__ = _safe_repr  # type: ignore[method-assign]

#: Anything called with each event; an awaitable it returns is run as a task.
Listener = Callable[[Any], object]


class Listeners:
    """The listeners of a client, a middleware or a call, and the logging listener of its logger.

    ``users`` are the listeners given by the user; ``log`` turns events into
    log lines. :meth:`for_tries` tells who wants per-try events now (the users,
    and the logging listener only at DEBUG), so that a call nobody watches
    builds none.
    """

    __slots__ = ("all", "debug_on", "log", "users")

    def __init__(self, users: Iterable[Listener] = (), log: LoggingListener | None = None) -> None:
        users = tuple(users)
        for listener in users:
            if not callable(listener):
                msg = f"listeners must hold callables taking one event, got {listener!r}"
                raise TypeError(msg)
        # An object whose class defines __call__ in Python is kept as its bound __call__: calling that
        # costs less than calling the object, which looks the method up on every call.
        self.users: tuple[Listener, ...] = tuple(_direct(listener) for listener in users)
        self.log = log
        self.all: tuple[Listener, ...] = self.users if log is None else (*self.users, log)
        #: Whether the logger writes DEBUG lines now (a C-level partial: it runs on every call).
        self.debug_on: Callable[[], bool] = partial(log.enabled, DEBUG) if log is not None else _never

    def for_tries(self) -> tuple[Listener, ...]:
        """Who gets per-try events now: the users, and the logging listener only while DEBUG is on."""
        return self.all if self.debug_on() else self.users

    def with_users(self, more: Iterable[Listener]) -> Listeners:
        """These listeners and ``more``."""
        more = tuple(more)
        return Listeners((*self.users, *more), self.log) if more else self

    def emit(self, event: Any) -> None:
        """Give ``event`` to every listener; one that raises is logged once and skipped."""
        emit_to(self.all, event)


def _direct(listener: Listener) -> Listener:
    """``listener``, or its bound ``__call__`` when its class defines one in Python."""
    call = type(listener).__call__
    if isinstance(call, FunctionType):
        bound: Listener = call.__get__(listener)
        return bound
    return listener


def emit_to(listeners: tuple[Listener, ...], event: Any) -> None:
    """Give ``event`` to each of ``listeners``; one that raises is logged once and skipped."""
    for listener in listeners:
        try:
            result = listener(event)
            if result is not None:
                listener_result(result, listener)
        except Exception:  # noqa: BLE001, PERF203 - a listener never breaks a call
            listener_raised(listener)


def listener_result(result: object, listener: Listener) -> None:
    """Deal with what ``listener`` returned other than ``None``: an awaitable runs as a task."""
    if inspect.isawaitable(result):
        _run_detached(result, listener)


def _never() -> bool:
    return False


#: The listeners that raised and were reported, by id; each is held, so that its id stays its own.
_failed: dict[int, Listener] = {}
_FAILED_KEPT = 256  # beyond this many, start over: a listener made per call must not grow it forever
_tasks: set[Any] = set()


def listener_raised(listener: Listener, error: BaseException | None = None) -> None:
    """Log that ``listener`` raised (the exception being handled, or ``error``), once per listener."""
    if _failed.get(id(listener)) is listener:
        return
    if len(_failed) >= _FAILED_KEPT:
        _failed.clear()
    _failed[id(listener)] = listener
    _log.error("listener %r raised; it is skipped for this event (reported once)", listener, exc_info=error or True)


def _run_detached(awaitable: Any, listener: Listener) -> None:
    """Run an async listener's awaitable as a task, kept referenced until done, its failure logged once."""
    import asyncio  # noqa: PLC0415 - the event classes themselves need no event loop

    task = asyncio.ensure_future(awaitable)
    _tasks.add(task)

    def done(finished: Any) -> None:
        _tasks.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            listener_raised(listener, finished.exception())

    task.add_done_callback(done)
