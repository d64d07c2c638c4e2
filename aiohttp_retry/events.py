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

A listener may add headers to the try it hears of in ``TryStarted``: it calls
:func:`set_try_headers` with a mapping, and the adapter adds it to that try's
request (trace context propagation uses this). The adapter takes it once.

``url`` is the URL as the caller gave it (a ``str`` or ``yarl.URL``, possibly
relative to the session's ``base_url``); an event's ``repr`` shows it without
userinfo and query values. ``key`` is the origin (``host[:port]``) that keys the
retry budget and the circuit breaker; ``""`` where none was needed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from functools import partial
from logging import DEBUG
from types import FunctionType, MethodType
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
    "SharedStateLost",
    "SharedStateRestored",
    "TryFinished",
    "TryStarted",
    "emit_to",
    "set_try_headers",
    "try_headers",
]

_log = logging.getLogger("aiohttp_retry")

#: Headers for the try about to be sent: set by a listener while it handles ``TryStarted``, taken by the adapter.
try_headers: ContextVar[Mapping[str, str] | None] = ContextVar("aiohttp_retry_try_headers", default=None)


class TryHeadersUsed:
    """Whether any listener ever set try headers in this process: until then the adapters skip the lookup."""

    flag = False


def set_try_headers(headers: Mapping[str, str]) -> None:
    """Add ``headers`` to the try about to be sent; call it while handling that try's ``TryStarted``."""
    TryHeadersUsed.flag = True
    try_headers.set(headers)


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
    exactly one of the two, and no event of that call follows it.
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


class SharedStateLost(NamedTuple):
    """The shared state in ``store`` did not answer (``reason``): its policies decide locally from ``at`` on."""

    store: str
    reason: str
    at: float


class SharedStateRestored(NamedTuple):
    """The shared state in ``store`` answers again, after ``down_for`` seconds: its policies share from ``at`` on."""

    store: str
    down_for: float
    at: float


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


Event = (
    TryStarted
    | TryFinished
    | RetryScheduled
    | GaveUp
    | BudgetRefused
    | BreakerStateChange
    | HedgeFired
    | HedgeWon
    | SharedStateLost
    | SharedStateRestored
)

# One log-safe repr for every event: URLs without userinfo and query values, errors by class.
for _event_class in (TryStarted, TryFinished, RetryScheduled, GaveUp, BudgetRefused, HedgeFired, HedgeWon):
    _event_class.__repr__ = _safe_repr  # type: ignore[method-assign]

#: Anything called with each event; an awaitable it returns is run as a task.
Listener = Callable[[Any], object]


class Listeners:
    """The listeners of a client, a middleware or a call, and the logging listener of its logger.

    ``given`` are the listeners given by the user; ``log`` turns events into
    log lines. :meth:`for_tries` tells who wants per-try events now (the users,
    and the logging listener only at DEBUG), so that a call nobody watches
    builds none. A listener with a ``listens_to`` attribute is given only the
    events it names there (see :func:`_receivers`).
    """

    __slots__ = (
        "_by_kind",
        "all_finished",
        "all_started",
        "debug_on",
        "finished",
        "given",
        "log",
        "started",
    )

    def __init__(self, users: Iterable[Listener] = (), log: LoggingListener | None = None) -> None:
        given = tuple(users)
        for listener in given:
            if not callable(listener):
                msg = f"listeners must hold callables taking one event, got {listener!r}"
                raise TypeError(msg)
        self.given = given
        self.log = log
        #: Who gets TryStarted and TryFinished: the users' receivers (``started``, ``finished``), and
        #: with the logging listener's (``all_started``, ``all_finished``) for when it writes DEBUG lines.
        self.started = _receivers(given, TryStarted)
        self.finished = _receivers(given, TryFinished)
        self.all_started = self.started if log is None else (*self.started, *_receivers((log,), TryStarted))
        self.all_finished = self.finished if log is None else (*self.finished, *_receivers((log,), TryFinished))
        #: Whether the logger writes DEBUG lines now (a C-level partial: it runs on every call).
        self.debug_on: Callable[[], bool] = partial(log.enabled, DEBUG) if log is not None else _never
        self._by_kind: dict[type, tuple[Listener, ...]] = {}

    def for_tries(self) -> tuple[tuple[Listener, ...], tuple[Listener, ...]]:
        """Who gets ``TryStarted`` and ``TryFinished`` now: the users, and the logging listener at DEBUG."""
        if self.debug_on():
            return self.all_started, self.all_finished
        return self.started, self.finished

    def with_users(self, more: Iterable[Listener]) -> Listeners:
        """These listeners and ``more``."""
        more = tuple(more)
        return Listeners((*self.given, *more), self.log) if more else self

    def emit(self, event: Any) -> None:
        """Give ``event`` to every listener that wants it; one that raises is logged once and skipped."""
        kind = type(event)
        targets = self._by_kind.get(kind)
        if targets is None:
            everyone = self.given if self.log is None else (*self.given, self.log)
            targets = self._by_kind[kind] = _receivers(everyone, kind)
        emit_to(targets, event)


def _receivers(listeners: Iterable[Any], kind: type) -> tuple[Listener, ...]:
    """What to call with events of ``kind``, for each of ``listeners`` that wants them.

    A listener without ``listens_to`` gets every event. One whose ``listens_to``
    is a mapping (event class to callable) gets each event it names through the
    callable it maps it to, with no dispatch of its own; any other collection
    names the event classes it is called with.
    """
    found = []
    for listener in listeners:
        wanted = getattr(listener, "listens_to", None)
        if isinstance(wanted, Mapping):
            receiver = wanted.get(kind)
            if receiver is not None:
                found.append(receiver)
        elif wanted is None or kind in wanted:
            found.append(_direct(listener))
    return tuple(found)


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
_failed: dict[int, object] = {}
_FAILED_KEPT = 256  # beyond this many, start over: a listener made per call must not grow it forever
_tasks: set[Any] = set()


def listener_raised(listener: Listener, error: BaseException | None = None) -> None:
    """Log that ``listener`` raised (the exception being handled, or ``error``), once per listener.

    A method is reported once for its object: the methods an object receives
    events through (its ``__call__``, or those its ``listens_to`` maps) are one listener.
    """
    owner: object = listener.__self__ if isinstance(listener, MethodType) else listener
    if _failed.get(id(owner)) is owner:
        return
    if len(_failed) >= _FAILED_KEPT:
        _failed.clear()
    _failed[id(owner)] = owner
    _log.error("listener %r raised; it is skipped for this event (reported once)", owner, exc_info=error or True)


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
