"""What every options object has: which outcomes to retry, how many times, and the common settings.

:class:`RetryOptionsBase` holds what does not depend on the schedule; the
schedules themselves (the 2.9.1-compatible classes) are in
:mod:`aiohttp_retry.retry_options`, which re-exports everything here.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypedDict, TypeVar

from aiohttp_retry.policy.classify import ALL_METHODS
from aiohttp_retry.policy.deadline import TimeLimits
from aiohttp_retry.policy.hedging import Hedging
from aiohttp_retry.policy.protocols import CircuitBreakerLike, RetryBudgetLike, check_policy
from aiohttp_retry.policy.retry_after import RetryAfter
from aiohttp_retry.policy.validate import (
    check_attempts,
    check_callable,
    check_exceptions,
    check_header_name,
    check_listeners,
    check_methods,
    check_size,
    check_statuses,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_REPLAY_BUFFER",
    "INHERIT",
    "CommonOptions",
    "EvaluateResponseCallbackType",
    "Inherit",
    "RetryOptionsBase",
    "check_breaker",
    "check_budget",
]

#: Decides whether a response is good (``True``: return it) or worth another
#: attempt (``False``). May be a plain function or a coroutine function.
EvaluateResponseCallbackType = Callable[["ClientResponse"], Awaitable[bool] | bool]


class Inherit(enum.Enum):
    """Marks a setting left to the client or middleware that runs the call."""

    CLIENT = "client"


#: ``Inherit.CLIENT`` as a plain module constant: reading a member through the enum
#: class costs about as much as the rest of the success path's checks together.
INHERIT: Final = Inherit.CLIENT

_T = TypeVar("_T")

#: Bytes of a one-shot request body (async iterable) read ahead so that it can be sent again.
DEFAULT_REPLAY_BUFFER = 1024 * 1024

_DEFAULT_RETRY_AFTER: Final = RetryAfter()  # frozen, so every options object can share it


def _checked(value: _T, name: str, kind: type, *, inherit: bool = True) -> _T:
    """Return ``value`` if it is ``None``, a ``kind``, or ``Inherit.CLIENT`` when ``inherit``; else raise TypeError."""
    if value is not None and not (inherit and value is INHERIT) and not isinstance(value, kind):
        msg = f"{name} must be a {kind.__name__} instance or None, got {value!r}"
        raise TypeError(msg)
    return value


def check_budget(value: object, name: str = "retry_budget") -> RetryBudgetLike | Literal[Inherit.CLIENT] | None:
    """Return ``value`` if it is ``None``, ``Inherit.CLIENT`` or a retry budget, else raise ``TypeError``."""
    return INHERIT if value is INHERIT else check_policy(value, name, RetryBudgetLike, "RetryBudget()")


def check_breaker(value: object, name: str = "circuit_breaker") -> CircuitBreakerLike | Literal[Inherit.CLIENT] | None:
    """Return ``value`` if it is ``None``, ``Inherit.CLIENT`` or a circuit breaker, else raise ``TypeError``."""
    return INHERIT if value is INHERIT else check_policy(value, name, CircuitBreakerLike, "CircuitBreaker()")


def _shown(value: object) -> str:
    """``value`` as ``repr`` shows it: sets sorted, classes and functions by name (never an address)."""
    if isinstance(value, (set, frozenset)):
        try:
            items = sorted(value)
        except TypeError:
            items = sorted(value, key=_shown)
        return "{" + ", ".join(map(_shown, items)) + "}" if items else "set()"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_shown, value)) + "]"
    if isinstance(value, type) or inspect.isroutine(value):
        return str(getattr(value, "__qualname__", value))
    return repr(value)


class CommonOptions(TypedDict, total=False):
    """Keyword-only settings that every option class accepts.

    Attributes:
        retry_network_errors: retry connection errors, server disconnects and
            timeouts (:data:`~aiohttp_retry.policy.NETWORK_ERRORS`) for
            idempotent requests, and failed connects for every request. Default True.
        retry_after: how ``Retry-After`` is honoured; ``None`` ignores it.
            Default ``RetryAfter()``: 413, 429 and 503, at most 60 s.
        total_timeout: seconds for the whole call, tries and waits included (> 0).
        attempt_timeout: seconds for one try, until its response headers arrive (> 0).
        propagate_timeout: send the time left to the server as ``X-Request-Timeout``.
        idempotency_header: a request carrying this header is treated as
            idempotent whatever its method; ``None``: no such header.
            Default ``"Idempotency-Key"``.
        veto_header: a response carrying this header (any value) is never retried: the
            call ends with it (stop reason ``"server veto"``); ``None``: no such header.
            Default ``"X-Do-Not-Retry"``.
        replay_buffer: bytes of an async-iterable body read ahead so that it
            can be sent again; a longer body is sent once and not retried.
        hedging: overlap tries of idempotent requests (``RetryClient`` only); default off.
        retry_budget: the retry budget for calls with these options, any
            :class:`~aiohttp_retry.policy.protocols.RetryBudgetLike`; ``None``:
            none. Default the client's or middleware's own (on: 20 % per origin).
        circuit_breaker: the circuit breaker for calls with these options, any
            :class:`~aiohttp_retry.policy.protocols.CircuitBreakerLike`; ``None``:
            none. Default the client's or middleware's own (off unless given).
        listeners: callables, each called with every event
            (:mod:`aiohttp_retry.events`) of the calls made with these options,
            besides the client's or middleware's own listeners. Default none.
    """

    retry_network_errors: bool
    retry_after: RetryAfter | None
    total_timeout: float | None
    attempt_timeout: float | None
    propagate_timeout: bool
    idempotency_header: str | None
    veto_header: str | None
    replay_buffer: int
    hedging: Hedging | None
    retry_budget: RetryBudgetLike | Literal[Inherit.CLIENT] | None
    circuit_breaker: CircuitBreakerLike | Literal[Inherit.CLIENT] | None
    listeners: Iterable[Callable[[Any], object]]


class RetryOptionsBase:
    """What to retry and how many times; subclasses add the wait between tries.

    What the loop reads is computed once per options object and recomputed
    after any setting changes: assigning any attribute clears the compiled
    form the engine keeps in ``_plan``. Change settings by assignment, not by
    mutating a value in place.

    Args:
        attempts: total number of tries, the first included; an int >= 1.
        statuses: status codes (100 to 599) to retry, in addition to every
            status >= 500 when ``retry_all_server_errors`` is true.
        exceptions: exception classes to retry for every method in ``methods``.
        methods: HTTP methods that may be retried at all (case-insensitive);
            default: all nine standard methods.
        retry_all_server_errors: retry every status >= 500.
        evaluate_response_callback: consulted for responses whose status
            alone does not call for a retry; ``False`` means retry. Sync or async.
        **common: the keyword-only settings of :class:`CommonOptions`.

    A value of the wrong type raises ``TypeError``, one out of range ``ValueError``.
    """

    #: The methods retried when ``methods`` is ``None``.
    _default_methods: ClassVar[frozenset[str]] = ALL_METHODS
    #: The engine's compiled form of these options; ``None`` until first use and after any change.
    _plan: Any = None

    def __init__(
        self,
        attempts: int = 3,
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        unknown = set(common) - set(CommonOptions.__annotations__)
        if unknown:
            msg = f"{type(self).__name__}() got unexpected keyword argument(s): {', '.join(sorted(unknown))}"
            raise TypeError(msg)
        self.attempts = attempts
        self.statuses = statuses
        self.exceptions = exceptions
        self.methods = methods
        self.retry_all_server_errors = retry_all_server_errors
        self.evaluate_response_callback = check_callable(
            evaluate_response_callback,
            "evaluate_response_callback",
            "a callable taking the response and returning a bool (or an awaitable of one)",
        )
        self.retry_network_errors = bool(common.get("retry_network_errors", True))
        self.retry_after = _checked(
            common.get("retry_after", _DEFAULT_RETRY_AFTER), "retry_after", RetryAfter, inherit=False
        )
        self.idempotency_header = check_header_name(
            common.get("idempotency_header", "Idempotency-Key"), "idempotency_header"
        )
        self.veto_header = check_header_name(common.get("veto_header", "X-Do-Not-Retry"), "veto_header")
        self.time_limits = TimeLimits(
            total=common.get("total_timeout"),
            attempt=common.get("attempt_timeout"),
            propagate=bool(common.get("propagate_timeout", False)),
        )
        self.replay_buffer = check_size(common.get("replay_buffer", DEFAULT_REPLAY_BUFFER), "replay_buffer")
        self.hedging = _checked(common.get("hedging"), "hedging", Hedging, inherit=False)
        self.retry_budget = check_budget(common.get("retry_budget", INHERIT))
        self.circuit_breaker = check_breaker(common.get("circuit_breaker", INHERIT))
        self.listeners: tuple[Callable[[Any], object], ...] = check_listeners(common.get("listeners", ()))

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "_plan":  # the compiled form is stale now; the engine rebuilds it on next use
            object.__setattr__(self, "_plan", None)

    def __getstate__(self) -> dict[str, Any]:
        # A copy compiles its own plan: the compiled form refers back to the object it was built from.
        return {name: value for name, value in vars(self).items() if name != "_plan"}

    @property
    def attempts(self) -> int:
        """Total number of tries, the first included."""
        return self._attempts

    @attempts.setter
    def attempts(self, value: int) -> None:
        self._attempts = check_attempts(value)

    @property
    def statuses(self) -> frozenset[int]:
        """Status codes retried besides the server errors."""
        return self._statuses

    @statuses.setter
    def statuses(self, value: Iterable[int] | None) -> None:
        self._statuses = frozenset() if value is None else check_statuses(value)

    @property
    def exceptions(self) -> frozenset[type[BaseException]]:
        """Exception classes retried for every allowed method."""
        return self._exceptions

    @exceptions.setter
    def exceptions(self, value: Iterable[type[BaseException]] | None) -> None:
        self._exceptions = frozenset() if value is None else check_exceptions(value)
        self._exception_tuple = tuple(self._exceptions)

    @property
    def methods(self) -> frozenset[str]:
        """Upper-case HTTP methods that may be retried."""
        return self._methods

    @methods.setter
    def methods(self, value: Iterable[str] | None) -> None:
        self._methods = self._default_methods if value is None else check_methods(value)

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:
        """Seconds to wait after failed try number ``attempt + 1``.

        ``response`` is the failed response, or ``None`` when the try raised.
        """
        raise NotImplementedError

    def next_delay(self, attempt: int, response: ClientResponse | None, previous: float | None) -> float:  # noqa: ARG002
        """The wait the engine asks for: ``get_timeout`` unless a schedule needs the ``previous`` wait."""
        return self.get_timeout(attempt, response)

    def _schedule(self) -> dict[str, object]:
        """The parameters ``repr`` always shows: the number of tries and the schedule's own."""
        return {"attempts": self.attempts}

    def __repr__(self) -> str:
        limits = self.time_limits
        common: dict[str, tuple[object, object]] = {  # setting: (value, default)
            "statuses": (self.statuses, frozenset()),
            "exceptions": (self.exceptions, frozenset()),
            "methods": (self.methods, self._default_methods),
            "retry_all_server_errors": (self.retry_all_server_errors, True),
            "evaluate_response_callback": (self.evaluate_response_callback, None),
            "retry_network_errors": (self.retry_network_errors, True),
            "retry_after": (self.retry_after, _DEFAULT_RETRY_AFTER),
            "total_timeout": (limits.total, None),
            "attempt_timeout": (limits.attempt, None),
            "propagate_timeout": (limits.propagate, False),
            "idempotency_header": (self.idempotency_header, "Idempotency-Key"),
            "veto_header": (self.veto_header, "X-Do-Not-Retry"),
            "replay_buffer": (self.replay_buffer, DEFAULT_REPLAY_BUFFER),
            "hedging": (self.hedging, None),
            "retry_budget": (self.retry_budget, INHERIT),
            "circuit_breaker": (self.circuit_breaker, INHERIT),
            "listeners": (self.listeners, ()),
        }
        parts = [f"{name}={_shown(value)}" for name, value in self._schedule().items()]
        parts += [f"{name}={_shown(value)}" for name, (value, default) in common.items() if value != default]
        return f"{type(self).__name__}({', '.join(parts)})"
