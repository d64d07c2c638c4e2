"""The option classes: which outcomes to retry, how often, and how long to wait.

Each class is a thin, validated face over the pure functions in
:mod:`aiohttp_retry.policy`. An options object holds configuration only, never
the state of a request, so one object can serve any number of concurrent
requests and clients.

``get_timeout(attempt, response)`` returns the wait before the next try.
``attempt`` counts the sleeps of one request from 0: ``get_timeout(0)`` is the
wait after the first failed attempt.
"""

from __future__ import annotations

import enum
import random
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, TypeVar

from aiohttp_retry.policy.backoff import (
    exponential_delay,
    fibonacci_delay,
    jittered_exponential_delay,
    list_delay,
    uniform_delay,
)
from aiohttp_retry.policy.breaker import CircuitBreaker
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.policy.classify import ALL_METHODS
from aiohttp_retry.policy.deadline import TimeLimits
from aiohttp_retry.policy.hedging import Hedging
from aiohttp_retry.policy.retry_after import RetryAfter
from aiohttp_retry.policy.validate import check_attempts, check_delay, check_factor, check_size

if TYPE_CHECKING:
    from aiohttp import ClientResponse
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_REPLAY_BUFFER",
    "INHERIT",
    "CommonOptions",
    "EvaluateResponseCallbackType",
    "ExponentialRetry",
    "FibonacciRetry",
    "Inherit",
    "JitterRetry",
    "ListRetry",
    "RandomRetry",
    "RetryOptions",
    "RetryOptionsBase",
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


def _checked(value: _T, name: str, kind: type) -> _T:
    if value is not None and value is not Inherit.CLIENT and not isinstance(value, kind):
        msg = f"{name} must be a {kind.__name__} instance or None, got {value!r}"
        raise ValueError(msg)
    return value


#: Bytes of a one-shot request body (async iterable) read ahead so that it can be sent again.
DEFAULT_REPLAY_BUFFER = 1024 * 1024


class CommonOptions(TypedDict, total=False):
    """Keyword-only settings that every option class accepts.

    Attributes:
        retry_network_errors: retry connection errors, server disconnects and
            timeouts (:data:`~aiohttp_retry.policy.NETWORK_ERRORS`) for
            idempotent requests, and failed connects for every request. Default True.
        retry_after: how ``Retry-After`` is honoured; ``None`` ignores it.
            Default ``RetryAfter()``: 429 and 503, at most 60 s.
        total_timeout: seconds for the whole call, tries and waits included.
        attempt_timeout: seconds for one try, until its response headers arrive.
        propagate_timeout: send the time left to the server as ``X-Request-Timeout``.
        idempotency_header: a request carrying this header is treated as
            idempotent whatever its method. Default ``"Idempotency-Key"``.
        replay_buffer: bytes of an async-iterable body read ahead so that it
            can be sent again; a longer body is sent once and not retried.
        hedging: overlap tries of idempotent requests (``RetryClient`` only); default off.
        retry_budget: the retry budget for calls with these options; default
            the client's or middleware's own (on: 20 % per origin).
        circuit_breaker: the circuit breaker for calls with these options;
            default the client's or middleware's own (off unless given).
    """

    retry_network_errors: bool
    retry_after: RetryAfter | None
    total_timeout: float | None
    attempt_timeout: float | None
    propagate_timeout: bool
    idempotency_header: str | None
    replay_buffer: int
    hedging: Hedging | None
    retry_budget: RetryBudget | Literal[Inherit.CLIENT] | None
    circuit_breaker: CircuitBreaker | Literal[Inherit.CLIENT] | None


class RetryOptionsBase:
    """What to retry and how many times; subclasses add the wait between tries.

    Args:
        attempts: total number of tries, the first included; an int >= 1.
        statuses: status codes to retry, in addition to every status >= 500
            when ``retry_all_server_errors`` is true.
        exceptions: exception classes to retry for every method in ``methods``.
        methods: HTTP methods that may be retried at all (case-insensitive);
            default: all nine standard methods.
        retry_all_server_errors: retry every status >= 500.
        evaluate_response_callback: consulted for responses whose status
            alone does not call for a retry; ``False`` means retry. Sync or async.
        **common: the keyword-only settings of :class:`CommonOptions`.
    """

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
        self.attempts = attempts
        self.statuses = statuses
        self.exceptions = exceptions
        self.methods = methods
        self.retry_all_server_errors = retry_all_server_errors
        if evaluate_response_callback is not None and not callable(evaluate_response_callback):
            msg = f"evaluate_response_callback must be callable or None, got {evaluate_response_callback!r}"
            raise ValueError(msg)
        self.evaluate_response_callback = evaluate_response_callback
        unknown = set(common) - set(CommonOptions.__annotations__)
        if unknown:
            msg = f"{type(self).__name__}() got unexpected keyword argument(s): {', '.join(sorted(unknown))}"
            raise TypeError(msg)
        self.retry_network_errors = bool(common.get("retry_network_errors", True))
        self.retry_after = _checked(common.get("retry_after", RetryAfter()), "retry_after", RetryAfter)
        self.idempotency_header = common.get("idempotency_header", "Idempotency-Key")
        self.time_limits = TimeLimits(
            total=common.get("total_timeout"),
            attempt=common.get("attempt_timeout"),
            propagate=bool(common.get("propagate_timeout", False)),
        )
        self.replay_buffer = check_size(common.get("replay_buffer", DEFAULT_REPLAY_BUFFER), "replay_buffer")
        self.hedging = _checked(common.get("hedging"), "hedging", Hedging)
        self.retry_budget = _checked(common.get("retry_budget", Inherit.CLIENT), "retry_budget", RetryBudget)
        self.circuit_breaker = _checked(
            common.get("circuit_breaker", Inherit.CLIENT), "circuit_breaker", CircuitBreaker
        )

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
        codes = frozenset(value or ())
        bad = [c for c in codes if isinstance(c, bool) or not isinstance(c, int)]
        if bad:
            msg = f"statuses must hold integer status codes, got {bad[0]!r}"
            raise ValueError(msg)
        self._statuses = codes

    @property
    def exceptions(self) -> frozenset[type[BaseException]]:
        """Exception classes retried for every allowed method."""
        return self._exceptions

    @exceptions.setter
    def exceptions(self, value: Iterable[type[BaseException]] | None) -> None:
        classes = frozenset(value or ())
        bad = [c for c in classes if not (isinstance(c, type) and issubclass(c, BaseException))]
        if bad:
            msg = f"exceptions must hold exception classes, got {bad[0]!r}"
            raise ValueError(msg)
        self._exceptions = classes
        self._exception_tuple = tuple(classes)

    @property
    def methods(self) -> frozenset[str]:
        """Upper-case HTTP methods that may be retried."""
        return self._methods

    @methods.setter
    def methods(self, value: Iterable[str] | None) -> None:
        if value is None:
            self._methods = ALL_METHODS
            return
        if isinstance(value, str):
            msg = f"methods must be a collection of method names such as {{'GET', 'PUT'}}, got the string {value!r}"
            raise ValueError(msg)
        bad = [m for m in value if not isinstance(m, str)]
        if bad:
            msg = f"methods must hold method names as strings, got {bad[0]!r}"
            raise ValueError(msg)
        self._methods = frozenset(m.upper() for m in value)

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:
        """Seconds to wait after failed try number ``attempt + 1``.

        ``response`` is the failed response, or ``None`` when the try raised.
        """
        raise NotImplementedError

    def next_delay(self, attempt: int, response: ClientResponse | None, previous: float | None) -> float:  # noqa: ARG002
        """The wait the engine asks for: ``get_timeout`` unless a schedule needs the ``previous`` wait."""
        return self.get_timeout(attempt, response)


class ExponentialRetry(RetryOptionsBase):
    """Waits ``min(start_timeout * factor ** attempt, max_timeout)``: 0.1, 0.2, 0.4 ... by default."""

    def __init__(
        self,
        attempts: int = 3,
        start_timeout: float = 0.1,
        max_timeout: float = 30.0,
        factor: float = 2.0,
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        super().__init__(
            attempts,
            statuses,
            exceptions,
            methods,
            retry_all_server_errors,
            evaluate_response_callback,
            **common,
        )
        self._start_timeout = check_delay(start_timeout, "start_timeout")
        self._max_timeout = check_delay(max_timeout, "max_timeout")
        self._factor = check_factor(factor)

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
        """``min(start_timeout * factor ** attempt, max_timeout)``."""
        return exponential_delay(self._start_timeout, self._factor, self._max_timeout, attempt)


class RandomRetry(RetryOptionsBase):
    """Waits ``min_timeout + random_func() * (max_timeout - min_timeout)``, whatever the attempt."""

    def __init__(
        self,
        attempts: int = 3,
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        min_timeout: float = 0.1,
        max_timeout: float = 3.0,
        random_func: Callable[[], float] = random.random,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        super().__init__(
            attempts,
            statuses,
            exceptions,
            methods,
            retry_all_server_errors,
            evaluate_response_callback,
            **common,
        )
        self.min_timeout = check_delay(min_timeout, "min_timeout")
        self.max_timeout = check_delay(max_timeout, "max_timeout")
        if self.min_timeout > self.max_timeout:
            msg = f"min_timeout ({min_timeout!r}) must not exceed max_timeout ({max_timeout!r})"
            raise ValueError(msg)
        if not callable(random_func):
            msg = f"random_func must be a callable returning a float in [0, 1), got {random_func!r}"
            raise ValueError(msg)
        self.random = random_func

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
        """``min_timeout + random_func() * (max_timeout - min_timeout)``."""
        return uniform_delay(self.min_timeout, self.max_timeout, self.random())


class ListRetry(RetryOptionsBase):
    """Waits ``timeouts[attempt]``; ``attempts`` is ``len(timeouts)``.

    With N timeouts there are N tries and N - 1 waits, ``timeouts[0]`` first.
    If ``attempts`` is raised later, the last entry repeats.
    """

    def __init__(
        self,
        timeouts: list[float],
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        if isinstance(timeouts, (str, bytes)) or not isinstance(timeouts, Iterable):
            msg = f"timeouts must be a non-empty list of seconds, got {timeouts!r}"
            raise ValueError(msg)
        self.timeouts = [check_delay(t, "timeouts[]") for t in timeouts]
        if not self.timeouts:
            msg = "timeouts must be a non-empty list of seconds, got an empty one"
            raise ValueError(msg)
        super().__init__(
            len(self.timeouts),
            statuses,
            exceptions,
            methods,
            retry_all_server_errors,
            evaluate_response_callback,
            **common,
        )

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
        """``timeouts[attempt]``, the last entry past the end."""
        return list_delay(self.timeouts, attempt)


class FibonacciRetry(RetryOptionsBase):
    """Waits ``min(multiplier * F, max_timeout)`` for F = 2, 3, 5, 8, 13 ...

    The sequence starts again with every request.
    """

    def __init__(
        self,
        attempts: int = 3,
        multiplier: float = 1.0,
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        max_timeout: float = 3.0,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        super().__init__(
            attempts,
            statuses,
            exceptions,
            methods,
            retry_all_server_errors,
            evaluate_response_callback,
            **common,
        )
        self.multiplier = check_delay(multiplier, "multiplier")
        self.max_timeout = check_delay(max_timeout, "max_timeout")

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
        """``min(multiplier * F(attempt + 3), max_timeout)``."""
        return fibonacci_delay(self.multiplier, self.max_timeout, attempt)


class JitterRetry(ExponentialRetry):
    """The exponential wait plus ``uniform(0, random_interval_size) ** factor``.

    The jitter is added after the cap, so a wait may exceed ``max_timeout`` by
    up to ``random_interval_size ** factor``. Draws come from ``rng`` (default:
    the ``random`` module's global generator).
    """

    def __init__(
        self,
        attempts: int = 3,
        start_timeout: float = 0.1,
        max_timeout: float = 30.0,
        factor: float = 2.0,
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        random_interval_size: float = 2.0,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        *,
        rng: random.Random | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        super().__init__(
            attempts,
            start_timeout,
            max_timeout,
            factor,
            statuses,
            exceptions,
            methods,
            retry_all_server_errors,
            evaluate_response_callback,
            **common,
        )
        self._random_interval_size = check_delay(random_interval_size, "random_interval_size")
        self._rng = rng

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
        """``min(start_timeout * factor ** attempt, max_timeout) + uniform(0, random_interval_size) ** factor``."""
        draw = (self._rng or random).uniform(0, self._random_interval_size)
        return jittered_exponential_delay(self._start_timeout, self._factor, self._max_timeout, attempt, draw)


def RetryOptions(*args: Any, **kwargs: Any) -> ExponentialRetry:  # noqa: N802
    """Build an :class:`ExponentialRetry` (deprecated alias)."""
    warnings.warn("RetryOptions is deprecated; use ExponentialRetry", DeprecationWarning, stacklevel=2)
    return ExponentialRetry(*args, **kwargs)
