"""The option classes: formulas, validation and properties of every schedule."""

from __future__ import annotations

import copy
import math
import pickle
import random

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
from aiohttp_retry.policy import RetryAfter
from aiohttp_retry.policy.breaker import CircuitBreaker
from aiohttp_retry.policy.budget import RetryBudget
from aiohttp_retry.retry_options import INHERIT, Inherit, check_breaker, check_budget

seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
factors = st.floats(min_value=1, max_value=100, allow_nan=False, allow_infinity=False)
indexes = st.integers(min_value=0, max_value=5000)


def test_defaults_match_the_compatible_api() -> None:
    """Defaults are 2.9.1's: three tries, every method, 5xx retried, no extra statuses."""
    opts = ExponentialRetry()
    assert opts.attempts == 3
    assert opts.methods == {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "POST", "PATCH", "CONNECT"}
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
        (lambda: ExponentialRetry(start_timeout=-0.1), "start_timeout"),
        (lambda: ExponentialRetry(start_timeout=math.nan), "start_timeout"),
        (lambda: ExponentialRetry(max_timeout=math.inf), "max_timeout"),
        (lambda: ExponentialRetry(factor=0.5), "factor"),
        (lambda: ExponentialRetry(factor=math.nan), "factor"),
        (lambda: RandomRetry(min_timeout=-1), "min_timeout"),
        (lambda: RandomRetry(min_timeout=5, max_timeout=1), "min_timeout"),
        (lambda: ListRetry([]), "timeouts"),
        (lambda: ListRetry([1, -1]), "timeouts"),
        (lambda: FibonacciRetry(multiplier=-2), "multiplier"),
        (lambda: FibonacciRetry(max_timeout=math.nan), "max_timeout"),
        (lambda: JitterRetry(random_interval_size=-1), "random_interval_size"),
        (lambda: ExponentialRetry(statuses={999}), "statuses"),
        (lambda: ExponentialRetry(statuses={-1}), "statuses"),
        (lambda: ExponentialRetry(methods=["GE T"]), "methods"),
        (lambda: ExponentialRetry(idempotency_header=""), "idempotency_header"),
        (lambda: ExponentialRetry(total_timeout=-1), "total_timeout"),
        (lambda: ExponentialRetry(attempt_timeout=0), "attempt_timeout"),
    ],
)
def test_bad_values_name_the_parameter(build: object, name: str) -> None:
    """A value of the right type but out of range is refused at construction with a ValueError naming it."""
    with pytest.raises(ValueError, match=name):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: ExponentialRetry(attempts=True), "attempts"),
        (lambda: ExponentialRetry(attempts=2.5), "attempts"),
        (lambda: ExponentialRetry(start_timeout="1"), "start_timeout"),
        (lambda: RandomRetry(random_func=0.5), "random_func"),
        (lambda: ListRetry("123"), "timeouts"),
        (lambda: ListRetry(3), "timeouts"),
        (lambda: ListRetry([1, "2"]), r"timeouts\[1\]"),
        (lambda: ExponentialRetry(statuses=503), "statuses"),
        (lambda: ExponentialRetry(statuses={"500"}), "statuses"),
        (lambda: ExponentialRetry(statuses={True}), "statuses"),
        (lambda: ExponentialRetry(exceptions=ValueError), "exceptions"),
        (lambda: ExponentialRetry(exceptions={"ValueError"}), "exceptions"),
        (lambda: ExponentialRetry(methods="GET"), "methods"),
        (lambda: ExponentialRetry(methods=5), "methods"),
        (lambda: ExponentialRetry(methods=[1]), "methods"),
        (lambda: ExponentialRetry(idempotency_header=123), "idempotency_header"),
        (lambda: ExponentialRetry(evaluate_response_callback=True), "evaluate_response_callback"),
        (lambda: ExponentialRetry(retry_after=60), "retry_after"),
        (lambda: ExponentialRetry(hedging=0.1), "hedging"),
        (lambda: ExponentialRetry(retry_budget=0.2), "retry_budget"),
        (lambda: ExponentialRetry(circuit_breaker=True), "circuit_breaker"),
        (lambda: ExponentialRetry(listeners=print), "listeners"),
        (lambda: ExponentialRetry(listeners=[print, "log"]), "listeners"),
        (lambda: ExponentialRetry(total_timeout="5"), "total_timeout"),
        (lambda: JitterRetry(rng=42), "rng"),
        (lambda: ExponentialRetry(retry_after=INHERIT), "retry_after"),
        (lambda: ExponentialRetry(hedging=INHERIT), "hedging"),
    ],
)
def test_wrong_types_name_the_parameter(build: object, name: str) -> None:
    """A value of the wrong type is refused at construction with a TypeError naming the parameter."""
    with pytest.raises(TypeError, match=name):
        build()  # type: ignore[operator]


def test_a_single_value_where_a_collection_belongs_says_what_is_allowed() -> None:
    """statuses=503 or exceptions=ValueError is explained, not "'int' object is not iterable"."""
    with pytest.raises(TypeError) as caught:
        ExponentialRetry(statuses=503)  # type: ignore[arg-type]
    assert str(caught.value) == "statuses must be a collection of status codes such as {429, 503}, got 503"
    with pytest.raises(TypeError, match=r"exceptions must be a collection of exception classes such as \{"):
        ExponentialRetry(exceptions=ValueError)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"methods must be a collection of method names such as \{"):
        ExponentialRetry(methods=5)  # type: ignore[arg-type]


def test_status_range_is_in_the_message() -> None:
    """A status code outside 100..599 is refused with the allowed range in the message."""
    with pytest.raises(ValueError, match="statuses must hold status codes from 100 to 599, got 999"):
        ExponentialRetry(statuses={429, 999})
    assert ExponentialRetry(statuses={100, 599}).statuses == {100, 599}


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"total_timeout": -1}, "total_timeout"), ({"attempt_timeout": 0}, "attempt")]
)
def test_time_limits_must_be_above_zero(kwargs: dict[str, float], name: str) -> None:
    """0 is refused as a time limit, so the message says "> 0", never ">= 0"."""
    with pytest.raises(ValueError, match=f"{name}.* must be a finite number of seconds > 0") as caught:
        ExponentialRetry(**kwargs)  # type: ignore[arg-type]
    assert ">= 0" not in str(caught.value)


def test_idempotency_header_may_be_none() -> None:
    """None turns the idempotency header off; a header name is kept as given."""
    assert ExponentialRetry(idempotency_header=None).idempotency_header is None
    assert ExponentialRetry(idempotency_header="X-Request-Id").idempotency_header == "X-Request-Id"


def test_listeners_are_stored_as_a_tuple() -> None:
    """listeners default to (); any collection of callables is kept, in order, as a tuple."""
    seen: list[object] = []
    assert ExponentialRetry().listeners == ()
    opts = FibonacciRetry(listeners=[seen.append, print])
    assert opts.listeners == (seen.append, print)


class DuckBudget:
    """A retry budget that is no RetryBudget, only shaped like one."""

    def record_call(self, key: str) -> None:
        pass

    def try_retry(self, _key: str) -> bool:
        return True


class DuckBreaker:
    """A circuit breaker that is no CircuitBreaker, only shaped like one."""

    def acquire(self, _key: str) -> float:
        return 0.0

    def record(self, key: str, permit: object, *, failed: bool) -> None:
        pass

    def release(self, key: str, permit: object) -> None:
        pass

    def would_refuse(self, _key: str) -> bool:
        return False


def test_budget_and_breaker_accept_any_implementation() -> None:
    """Any object implementing the protocols is accepted, and so are None and Inherit.CLIENT."""
    budget, breaker = DuckBudget(), DuckBreaker()
    opts = ExponentialRetry(retry_budget=budget, circuit_breaker=breaker)  # type: ignore[typeddict-item]
    assert opts.retry_budget is budget
    assert opts.circuit_breaker is breaker
    assert ExponentialRetry(retry_budget=RetryBudget(), circuit_breaker=CircuitBreaker()).retry_budget is not None
    off = ExponentialRetry(retry_budget=None, circuit_breaker=None)
    assert off.retry_budget is None
    assert off.circuit_breaker is None
    assert ExponentialRetry().retry_budget is Inherit.CLIENT
    assert ExponentialRetry().circuit_breaker is Inherit.CLIENT


def test_budget_and_breaker_checks_for_the_adapters() -> None:
    """check_budget and check_breaker pass the allowed values through and refuse others with a TypeError."""
    budget, breaker = DuckBudget(), DuckBreaker()
    for value in (None, INHERIT, budget):
        assert check_budget(value) is value
    for value in (None, INHERIT, breaker):
        assert check_breaker(value) is value
    with pytest.raises(TypeError, match="retry_budget must be None or an object with the methods record_call"):
        check_budget(breaker)
    with pytest.raises(TypeError, match="circuit_breaker must be None or an object with the methods acquire"):
        check_breaker(budget)
    with pytest.raises(TypeError, match="mine"):
        check_budget(0.2, "mine")


def test_changing_a_setting_clears_the_compiled_plan() -> None:
    """The engine's compiled form is dropped whenever any setting is assigned, kept otherwise."""
    opts = ExponentialRetry()
    assert opts._plan is None
    sentinel = object()
    opts._plan = sentinel
    assert opts._plan is sentinel  # setting the plan itself keeps it
    opts.get_timeout(1)
    assert opts._plan is sentinel  # reading changes nothing
    opts.attempts = 5
    assert opts._plan is None
    opts._plan = sentinel
    opts.retry_after = None
    assert opts._plan is None
    opts._plan = sentinel
    opts.statuses = {429}
    assert opts._plan is None


def test_a_copy_compiles_its_own_plan() -> None:
    """copy and pickle leave the compiled form behind: it refers to the object it was built from."""
    opts = ExponentialRetry(statuses={429})
    opts._plan = object()
    for twin in (copy.copy(opts), copy.deepcopy(opts), pickle.loads(pickle.dumps(opts))):  # noqa: S301 - our own bytes
        assert twin._plan is None
        assert repr(twin) == repr(opts)
    assert opts._plan is not None


def test_a_refused_change_keeps_the_old_value() -> None:
    """A setter that refuses a value leaves the option as it was."""
    opts = ExponentialRetry(statuses={429})
    with pytest.raises(TypeError, match="statuses"):
        opts.statuses = 429  # type: ignore[assignment]
    assert opts.statuses == {429}


def callback(response: object) -> bool:
    return True


def test_repr_shows_the_schedule_and_what_differs_from_the_defaults() -> None:
    """repr names the class, its schedule's parameters and the common settings that are not defaults, sorted."""
    assert repr(ExponentialRetry()) == "ExponentialRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0)"
    opts = ExponentialRetry(
        statuses={503, 429},
        exceptions={ValueError, KeyError},
        methods=["put", "get"],
        evaluate_response_callback=callback,
        total_timeout=5,
        retry_after=None,
        listeners=[print],
    )
    assert repr(opts) == (
        "ExponentialRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0, statuses={429, 503}, "
        "exceptions={KeyError, ValueError}, methods={'GET', 'PUT'}, evaluate_response_callback=callback, "
        "retry_after=None, total_timeout=5, listeners=[print])"
    )


@pytest.mark.parametrize(
    ("opts", "text"),
    [
        (RetryOptionsBase(), "RetryOptionsBase(attempts=3)"),
        (RandomRetry(), "RandomRetry(attempts=3, min_timeout=0.1, max_timeout=3.0)"),
        (
            RandomRetry(random_func=random.Random(1).random),
            "RandomRetry(attempts=3, min_timeout=0.1, max_timeout=3.0, random_func=Random.random)",
        ),
        (ListRetry([1, 2.5]), "ListRetry(timeouts=[1.0, 2.5])"),
        (FibonacciRetry(attempts=4), "FibonacciRetry(attempts=4, multiplier=1.0, max_timeout=3.0)"),
        (
            JitterRetry(retry_all_server_errors=False),
            (
                "JitterRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0, random_interval_size=2.0, "
                "retry_all_server_errors=False)"
            ),
        ),
        (
            ExponentialRetry(retry_after=RetryAfter(statuses={503}), retry_budget=None, idempotency_header=None),
            (
                "ExponentialRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0, "
                "retry_after=RetryAfter(statuses={503}, max_wait=60.0), idempotency_header=None, retry_budget=None)"
            ),
        ),
    ],
)
def test_repr_of_every_class(opts: RetryOptionsBase, text: str) -> None:
    """Each option class has a readable, deterministic repr."""
    assert repr(opts) == text


def test_repr_of_a_list_retry_whose_attempts_changed() -> None:
    """ListRetry shows attempts only when it no longer follows from the list."""
    opts = ListRetry([1, 2])
    opts.attempts = 4
    assert repr(opts) == "ListRetry(timeouts=[1.0, 2.0], attempts=4)"


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
    with pytest.warns(DeprecationWarning, match="ExponentialRetry") as caught:
        opts = RetryOptions(attempts=7)
    assert isinstance(opts, ExponentialRetry)
    assert opts.attempts == 7
    assert [w.category for w in caught] == [DeprecationWarning]


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
