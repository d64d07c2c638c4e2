"""Rules of the option classes' reprs, the deprecated factory, and the decorrelated schedule's entry points."""

from __future__ import annotations

import random
from typing import Any

import pytest

from aiohttp_retry import (
    DecorrelatedJitterRetry,
    ExponentialRetry,
    FibonacciRetry,
    FullJitterRetry,
    Hedging,
    JitterRetry,
    ListRetry,
    RandomRetry,
    RetryOptions,
    RetryOptionsBase,
)
from tests.memory_transport import MemoryResponse


def test_repr_of_each_class_with_its_defaults() -> None:
    """Left to their defaults, the classes show these schedules and nothing else."""
    assert repr(RandomRetry()) == "RandomRetry(attempts=3, min_timeout=0.1, max_timeout=3.0)"
    assert repr(FibonacciRetry()) == "FibonacciRetry(attempts=3, multiplier=1.0, max_timeout=3.0)"
    assert repr(JitterRetry()) == (
        "JitterRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0, random_interval_size=2.0)"
    )
    assert repr(FullJitterRetry()) == "FullJitterRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0)"
    assert repr(DecorrelatedJitterRetry()) == "DecorrelatedJitterRetry(attempts=3, start_timeout=0.1, max_timeout=30.0)"
    assert repr(ListRetry([0.5, 1])) == "ListRetry(timeouts=[0.5, 1.0])"


def test_repr_shows_every_common_setting_that_differs() -> None:
    """Network errors, time limits, propagation, replay buffer, hedging and breaker show once changed."""
    opts = ExponentialRetry(
        retry_network_errors=False,
        attempt_timeout=2,
        propagate_timeout=True,
        replay_buffer=10,
        hedging=Hedging(),
        circuit_breaker=None,
    )
    assert repr(opts) == (
        "ExponentialRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0, retry_network_errors=False, "
        "attempt_timeout=2, propagate_timeout=True, replay_buffer=10, hedging=Hedging(delay=0.05, percentile=None), "
        "circuit_breaker=None)"
    )


def test_repr_of_no_methods_at_all() -> None:
    """methods=[] retries no method; repr spells the empty set as Python does."""
    opts = FullJitterRetry(methods=[])
    assert opts.methods == frozenset()
    assert repr(opts) == "FullJitterRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0, methods=set())"


def test_repr_sorts_methods_by_name() -> None:
    """Methods are listed in the order of their names, however repr quotes each one."""
    opts = ExponentialRetry(methods=["b'", "a"])
    assert repr(opts).endswith("methods={'A', \"B'\"})")


class BoundCallback:
    """A callable object that binds like a function (a descriptor), as decorator classes do."""

    def __get__(self, instance: object, owner: type | None = None) -> BoundCallback:
        return self

    def __call__(self, response: object) -> bool:  # noqa: ARG002 - accepts every response
        return True

    def __repr__(self) -> str:
        return "BoundCallback()"


def test_repr_of_a_callable_object_without_a_name() -> None:
    """A callback with no __qualname__ of its own is shown by its own repr."""
    opts = RandomRetry(evaluate_response_callback=BoundCallback())
    assert repr(opts) == (
        "RandomRetry(attempts=3, min_timeout=0.1, max_timeout=3.0, evaluate_response_callback=BoundCallback())"
    )


def test_repr_of_jittered_classes_with_everything_changed() -> None:
    """The schedule parameters given show in repr, in the order of the signature."""
    assert repr(FullJitterRetry(5, 1, 10, 3)) == (
        "FullJitterRetry(attempts=5, start_timeout=1.0, max_timeout=10.0, factor=3.0)"
    )
    assert repr(DecorrelatedJitterRetry(4, 0.5, 8)) == (
        "DecorrelatedJitterRetry(attempts=4, start_timeout=0.5, max_timeout=8.0)"
    )
    assert repr(JitterRetry(2, 0.2, 5, 1.5, random_interval_size=1)) == (
        "JitterRetry(attempts=2, start_timeout=0.2, max_timeout=5.0, factor=1.5, random_interval_size=1.0)"
    )


def test_retry_options_warns_the_caller() -> None:
    """RetryOptions() warns once, with this message, about the caller's code rather than the library's."""
    with pytest.warns(DeprecationWarning, match="ExponentialRetry") as caught:
        RetryOptions()
    assert [str(w.message) for w in caught] == ["RetryOptions is deprecated; use ExponentialRetry"]
    assert not caught[0].filename.endswith("retry_options.py")


def test_retry_options_passes_positional_arguments_on() -> None:
    """RetryOptions takes ExponentialRetry's arguments positionally too."""
    with pytest.warns(DeprecationWarning, match="deprecated"):
        opts = RetryOptions(5, 1.0, 4.0, 3.0)
    assert opts.attempts == 5
    assert [opts.get_timeout(i) for i in range(3)] == [1.0, 3.0, 4.0]


class Recording(DecorrelatedJitterRetry):
    """A decorrelated schedule that records what its next_delay is asked."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[tuple[int, Any, float | None]] = []

    def next_delay(self, attempt: int, response: Any, previous: float | None) -> float:
        self.asked.append((attempt, response, previous))
        return super().next_delay(attempt, response, previous)


def test_decorrelated_get_timeout_is_a_first_wait() -> None:
    """get_timeout(attempt, response) asks next_delay with the same attempt and response and no previous wait."""
    opts = Recording(rng=random.Random(3))
    response = MemoryResponse(503)
    wait = opts.get_timeout(4, response)
    assert opts.asked == [(4, response, None)]
    assert 0.1 <= wait <= 0.3


def test_decorrelated_draws_from_its_rng() -> None:
    """Two schedules seeded alike draw the same waits; the first lies in [start, 3 * start]."""
    a = DecorrelatedJitterRetry(start_timeout=1, rng=random.Random(9))
    b = DecorrelatedJitterRetry(start_timeout=1, rng=random.Random(9))
    waits = [a.get_timeout(i) for i in range(5)]
    assert waits == [b.get_timeout(i) for i in range(5)]
    assert all(1 <= w <= 3 for w in waits)
    assert len(set(waits)) == 5


def test_the_base_class_defaults_to_three_tries() -> None:
    """RetryOptionsBase() on its own tries three times, like every schedule."""
    assert RetryOptionsBase().attempts == 3
    assert repr(RetryOptionsBase()) == "RetryOptionsBase(attempts=3)"
