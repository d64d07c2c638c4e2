"""The option classes: which outcomes to retry, how often, and how long to wait.

Each class is a thin, validated face over the pure functions in
:mod:`aiohttp_retry.policy`. An options object holds configuration only, never
the state of a request, so one object can serve any number of concurrent
requests and clients. What all of them share is in :mod:`aiohttp_retry.options_base`.

``get_timeout(attempt, response)`` returns the wait before the next try.
``attempt`` counts the sleeps of one request from 0: ``get_timeout(0)`` is the
wait after the first failed attempt.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp_retry.options_base import (
    DEFAULT_REPLAY_BUFFER,
    INHERIT,
    CommonOptions,
    EvaluateResponseCallbackType,
    Inherit,
    RetryOptionsBase,
    check_breaker,
    check_budget,
)
from aiohttp_retry.policy.backoff import (
    exponential_delay,
    fibonacci_delay,
    jittered_exponential_delay,
    list_delay,
    uniform_delay,
)
from aiohttp_retry.policy.validate import check_delay, check_factor

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
    "check_breaker",
    "check_budget",
]


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
            attempts, statuses, exceptions, methods, retry_all_server_errors, evaluate_response_callback, **common
        )
        self._start_timeout = check_delay(start_timeout, "start_timeout")
        self._max_timeout = check_delay(max_timeout, "max_timeout")
        self._factor = check_factor(factor)

    def _schedule(self) -> dict[str, object]:
        return {
            **super()._schedule(),
            "start_timeout": self._start_timeout,
            "max_timeout": self._max_timeout,
            "factor": self._factor,
        }

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
            attempts, statuses, exceptions, methods, retry_all_server_errors, evaluate_response_callback, **common
        )
        self.min_timeout = check_delay(min_timeout, "min_timeout")
        self.max_timeout = check_delay(max_timeout, "max_timeout")
        if self.min_timeout > self.max_timeout:
            msg = f"min_timeout ({min_timeout!r}) must not exceed max_timeout ({max_timeout!r})"
            raise ValueError(msg)
        if not callable(random_func):
            msg = f"random_func must be a callable returning a float in [0, 1), got {random_func!r}"
            raise TypeError(msg)
        self.random = random_func

    def _schedule(self) -> dict[str, object]:
        shown = {**super()._schedule(), "min_timeout": self.min_timeout, "max_timeout": self.max_timeout}
        return shown if self.random is random.random else {**shown, "random_func": self.random}

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
            msg = f"timeouts must be a non-empty list of seconds such as [0.5, 1, 2], got {timeouts!r}"
            raise TypeError(msg)
        self.timeouts = [check_delay(t, f"timeouts[{i}]") for i, t in enumerate(timeouts)]
        if not self.timeouts:
            msg = "timeouts must be a non-empty list of seconds such as [0.5, 1, 2], got an empty one"
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

    def _schedule(self) -> dict[str, object]:
        # attempts follows from timeouts unless it was changed later
        shown: dict[str, object] = {"timeouts": self.timeouts}
        return shown if self.attempts == len(self.timeouts) else {**shown, **super()._schedule()}

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
            attempts, statuses, exceptions, methods, retry_all_server_errors, evaluate_response_callback, **common
        )
        self.multiplier = check_delay(multiplier, "multiplier")
        self.max_timeout = check_delay(max_timeout, "max_timeout")

    def _schedule(self) -> dict[str, object]:
        return {**super()._schedule(), "multiplier": self.multiplier, "max_timeout": self.max_timeout}

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
            attempts, start_timeout, max_timeout, factor, statuses, exceptions, methods,
            retry_all_server_errors, evaluate_response_callback, **common,
        )  # fmt: skip
        self._random_interval_size = check_delay(random_interval_size, "random_interval_size")
        if rng is not None and not isinstance(rng, random.Random):
            msg = f"rng must be a random.Random instance or None, got {rng!r}"
            raise TypeError(msg)
        self._rng = rng

    def _schedule(self) -> dict[str, object]:
        return {**super()._schedule(), "random_interval_size": self._random_interval_size}

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
        """``min(start_timeout * factor ** attempt, max_timeout) + uniform(0, random_interval_size) ** factor``."""
        draw = (self._rng or random).uniform(0, self._random_interval_size)
        return jittered_exponential_delay(self._start_timeout, self._factor, self._max_timeout, attempt, draw)


def RetryOptions(*args: Any, **kwargs: Any) -> ExponentialRetry:  # noqa: N802
    """Build an :class:`ExponentialRetry` (deprecated alias)."""
    warnings.warn("RetryOptions is deprecated; use ExponentialRetry", DeprecationWarning, stacklevel=2)
    return ExponentialRetry(*args, **kwargs)
