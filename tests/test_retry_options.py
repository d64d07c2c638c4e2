"""The option classes: formulas, validation and properties of every schedule."""

from __future__ import annotations

import math
import random
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry import (
    ExponentialRetry,
    FibonacciRetry,
    JitterRetry,
    ListRetry,
    RandomRetry,
    RetryOptions,
    RetryOptionsBase,
)
from aiohttp_retry.policy import ALL_METHODS

seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
factors = st.floats(min_value=1, max_value=100, allow_nan=False, allow_infinity=False)
indexes = st.integers(min_value=0, max_value=5000)


def test_defaults_match_the_compatible_api() -> None:
    """Defaults are 2.9.1's: three tries, every method, 5xx retried, no extra statuses."""
    opts = ExponentialRetry()
    assert opts.attempts == 3
    assert opts.methods == ALL_METHODS
    assert opts.statuses == frozenset()
    assert opts.exceptions == frozenset()
    assert opts.retry_all_server_errors is True
    assert opts.retry_network_errors is True
    assert [opts.get_timeout(i) for i in range(3)] == [0.1, 0.2, 0.4]


def test_methods_are_upper_cased_and_statuses_copied() -> None:
    """methods are normalised; statuses are snapshotted, so a generator works and later edits do not leak."""
    codes = [429]
    opts = RandomRetry(statuses=(c for c in codes), methods=["get", "Put"])
    codes.append(404)
    assert opts.methods == {"GET", "PUT"}
    assert opts.statuses == {429}


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: ExponentialRetry(attempts=0), "attempts"),
        (lambda: ExponentialRetry(attempts=-1), "attempts"),
        (lambda: ExponentialRetry(attempts=True), "attempts"),
        (lambda: ExponentialRetry(attempts=2.5), "attempts"),
        (lambda: ExponentialRetry(start_timeout=-0.1), "start_timeout"),
        (lambda: ExponentialRetry(start_timeout=math.nan), "start_timeout"),
        (lambda: ExponentialRetry(max_timeout=math.inf), "max_timeout"),
        (lambda: ExponentialRetry(factor=0.5), "factor"),
        (lambda: ExponentialRetry(factor=math.nan), "factor"),
        (lambda: RandomRetry(min_timeout=-1), "min_timeout"),
        (lambda: RandomRetry(min_timeout=5, max_timeout=1), "min_timeout"),
        (lambda: RandomRetry(random_func=0.5), "random_func"),
        (lambda: ListRetry([]), "timeouts"),
        (lambda: ListRetry([1, -1]), "timeouts"),
        (lambda: ListRetry("123"), "timeouts"),
        (lambda: FibonacciRetry(multiplier=-2), "multiplier"),
        (lambda: FibonacciRetry(max_timeout=math.nan), "max_timeout"),
        (lambda: JitterRetry(random_interval_size=-1), "random_interval_size"),
        (lambda: ExponentialRetry(statuses={"500"}), "statuses"),
        (lambda: ExponentialRetry(exceptions={"ValueError"}), "exceptions"),
        (lambda: ExponentialRetry(methods="GET"), "methods"),
        (lambda: ExponentialRetry(methods=[1]), "methods"),
    ],
)
def test_bad_configuration_names_the_parameter(build: object, name: str) -> None:
    """Every bad value is refused at construction with a ValueError naming the parameter."""
    with pytest.raises(ValueError, match=name):
        build()  # type: ignore[operator]


def test_attempts_are_checked_when_changed_later() -> None:
    """Setting attempts on a live object is validated too."""
    opts = ExponentialRetry()
    opts.attempts = 5
    assert opts.attempts == 5
    with pytest.raises(ValueError, match="attempts"):
        opts.attempts = 0


def test_base_class_has_no_schedule() -> None:
    """RetryOptionsBase can be built (2.9.1 allowed it) but has no get_timeout of its own."""
    with pytest.raises(NotImplementedError):
        RetryOptionsBase().get_timeout(0)


def test_retry_options_factory_is_deprecated() -> None:
    """RetryOptions() warns and builds an ExponentialRetry with the given arguments."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opts = RetryOptions(attempts=7)
    assert isinstance(opts, ExponentialRetry)
    assert opts.attempts == 7
    assert any("ExponentialRetry" in str(w.message) for w in caught)


def test_list_retry_repeats_its_last_entry() -> None:
    """ListRetry's attempts equal the list length; a raised attempts count repeats the last wait."""
    opts = ListRetry([1, 2, 3])
    assert opts.attempts == 3
    opts.attempts = 6
    assert [opts.get_timeout(i) for i in range(5)] == [1, 2, 3, 3, 3]


def test_jitter_uses_an_injected_generator() -> None:
    """JitterRetry draws from ``rng`` when given, leaving the global generator alone."""
    a = JitterRetry(attempts=5, rng=random.Random(1))
    b = JitterRetry(attempts=5, rng=random.Random(1))
    assert [a.get_timeout(i) for i in range(5)] == [b.get_timeout(i) for i in range(5)]


@given(start=seconds, factor=factors, cap=seconds, i=indexes)
def test_exponential_is_capped_and_monotonic(start: float, factor: float, cap: float, i: int) -> None:
    """Exponential waits never exceed the cap, never shrink, and never overflow."""
    opts = ExponentialRetry(start_timeout=start, factor=factor, max_timeout=cap)
    now, later = opts.get_timeout(i), opts.get_timeout(i + 1)
    assert 0 <= now <= later <= cap
    assert math.isfinite(later)


@given(mult=st.floats(min_value=0, max_value=1e3), cap=seconds, i=st.integers(0, 200))
def test_fibonacci_is_capped_monotonic_and_stateless(mult: float, cap: float, i: int) -> None:
    """Fibonacci waits are capped, non-decreasing, and the same each time they are asked for."""
    opts = FibonacciRetry(multiplier=mult, max_timeout=cap)
    first = [opts.get_timeout(k) for k in (i, i + 1)]
    again = [opts.get_timeout(k) for k in (i, i + 1)]
    assert first == again
    assert 0 <= first[0] <= first[1] <= cap


@given(lo=seconds, width=seconds, seed=st.integers(0, 2**32))
def test_random_stays_within_bounds(lo: float, width: float, seed: int) -> None:
    """Random waits lie in [min_timeout, max_timeout]."""
    opts = RandomRetry(min_timeout=lo, max_timeout=lo + width, random_func=random.Random(seed).random)
    assert all(lo <= opts.get_timeout(i) <= lo + width for i in range(5))


@given(
    start=seconds,
    factor=st.floats(min_value=1, max_value=4),
    cap=seconds,
    size=st.floats(min_value=0, max_value=10),
    i=indexes,
    seed=st.integers(0, 2**32),
)
def test_jitter_stays_within_its_documented_bound(
    start: float, factor: float, cap: float, size: float, i: int, seed: int
) -> None:
    """A jittered wait lies between the exponential wait and that plus size ** factor."""
    opts = JitterRetry(
        start_timeout=start, factor=factor, max_timeout=cap, random_interval_size=size, rng=random.Random(seed)
    )
    base = ExponentialRetry(start_timeout=start, factor=factor, max_timeout=cap).get_timeout(i)
    assert base <= opts.get_timeout(i) <= base + size**factor + 1e-9


@given(delays=st.lists(seconds, min_size=1, max_size=20), i=indexes)
def test_list_returns_its_entries(delays: list[float], i: int) -> None:
    """ListRetry returns the i-th entry, the last one past the end."""
    assert ListRetry(delays).get_timeout(i) == delays[min(i, len(delays) - 1)]
