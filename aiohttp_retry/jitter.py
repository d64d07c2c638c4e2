"""Jittered exponential schedules with safe defaults.

Many clients that fail together and retry on the same schedule come back
together, and the server sees its load arrive in waves. Randomising each wait
spreads them out. Of the common schemes, *full jitter* (a wait drawn
uniformly between 0 and the exponential step) spreads load best for the least
total waiting, and is the recommended choice; *decorrelated jitter* grows
each wait from the previous one and suits long outages.

Unlike the five 2.9.1-compatible classes, these retry only idempotent
requests by default: ``methods`` defaults to GET, HEAD, OPTIONS, PUT, DELETE
and TRACE, and a request carrying an ``Idempotency-Key`` header is retried
whatever its method.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

from aiohttp_retry.policy.backoff import decorrelated_jitter_delay, full_jitter_delay
from aiohttp_retry.policy.classify import SAFE_METHODS
from aiohttp_retry.policy.validate import check_delay, check_factor
from aiohttp_retry.retry_options import CommonOptions, EvaluateResponseCallbackType, RetryOptionsBase

if TYPE_CHECKING:
    from aiohttp import ClientResponse
    from typing_extensions import Unpack

__all__ = ["DecorrelatedJitterRetry", "FullJitterRetry"]


class _JitteredRetry(RetryOptionsBase):
    _default_methods = SAFE_METHODS

    def __init__(
        self,
        attempts: int = 3,
        start_timeout: float = 0.1,
        max_timeout: float = 30.0,
        *,
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        rng: random.Random | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        super().__init__(
            attempts, statuses, exceptions, methods, retry_all_server_errors, evaluate_response_callback, **common
        )
        self.start_timeout = check_delay(start_timeout, "start_timeout")
        self.max_timeout = check_delay(max_timeout, "max_timeout")
        if rng is not None and not isinstance(rng, random.Random):
            msg = f"rng must be a random.Random instance or None, got {rng!r}"
            raise TypeError(msg)
        self.rng = rng or random.Random()

    def _schedule(self) -> dict[str, object]:
        return {**super()._schedule(), "start_timeout": self.start_timeout, "max_timeout": self.max_timeout}


class FullJitterRetry(_JitteredRetry):
    """Waits ``uniform(0, min(start_timeout * factor ** attempt, max_timeout))``; the recommended schedule.

    Defaults: 3 attempts, ``start_timeout`` 0.1 s, ``max_timeout`` 30 s,
    ``factor`` 2; idempotent requests only (see the module docstring).
    """

    def __init__(
        self,
        attempts: int = 3,
        start_timeout: float = 0.1,
        max_timeout: float = 30.0,
        factor: float = 2.0,
        *,
        statuses: Iterable[int] | None = None,
        exceptions: Iterable[type[BaseException]] | None = None,
        methods: Iterable[str] | None = None,
        retry_all_server_errors: bool = True,
        evaluate_response_callback: EvaluateResponseCallbackType | None = None,
        rng: random.Random | None = None,
        **common: Unpack[CommonOptions],
    ) -> None:
        super().__init__(
            attempts,
            start_timeout,
            max_timeout,
            statuses=statuses,
            exceptions=exceptions,
            methods=methods,
            retry_all_server_errors=retry_all_server_errors,
            evaluate_response_callback=evaluate_response_callback,
            rng=rng,
            **common,
        )
        self.factor = check_factor(factor)

    def _schedule(self) -> dict[str, object]:
        return {**super()._schedule(), "factor": self.factor}

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:  # noqa: ARG002
        """``uniform(0, min(start_timeout * factor ** attempt, max_timeout))``."""
        return full_jitter_delay(self.start_timeout, self.factor, self.max_timeout, attempt, self.rng.random())


class DecorrelatedJitterRetry(_JitteredRetry):
    """Waits ``min(max_timeout, uniform(start_timeout, 3 * previous_wait))``.

    The first wait is drawn from ``[start_timeout, 3 * start_timeout)``. Each
    request keeps its own previous wait; ``get_timeout`` on its own, which
    cannot know it, draws a first wait. Defaults: 3 attempts, ``start_timeout``
    0.1 s, ``max_timeout`` 30 s; idempotent requests only.
    """

    def get_timeout(self, attempt: int, response: ClientResponse | None = None) -> float:
        """A first wait: ``uniform(start_timeout, 3 * start_timeout)``, capped."""
        return self.next_delay(attempt, response, None)

    def next_delay(self, attempt: int, response: ClientResponse | None, previous: float | None) -> float:  # noqa: ARG002
        """``min(max_timeout, uniform(start_timeout, 3 * previous))``."""
        return decorrelated_jitter_delay(self.start_timeout, self.max_timeout, previous, self.rng.random())
