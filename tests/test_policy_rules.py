"""Backoff formulas, classification, time limits and policy checks at their boundaries."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry.policy import (
    ALL_METHODS,
    IDEMPOTENT_METHODS,
    SAFE_METHODS,
    ErrorKind,
    StopReason,
    TimeLimits,
    attempt_budget,
    decorrelated_jitter_delay,
    error_is_retryable,
    exponential_delay,
    fibonacci_delay,
    fits_before,
    format_timeout,
    full_jitter_delay,
    is_failure_status,
    jittered_exponential_delay,
    list_delay,
    method_allowed,
    uniform_delay,
)
from aiohttp_retry.policy.breaker import Permit
from aiohttp_retry.policy.deadline import parse_timeout_header
from aiohttp_retry.policy.protocols import CircuitBreakerLike, RetryBudgetLike, check_policy

small = st.floats(min_value=0, max_value=100, allow_nan=False)

# --- backoff -------------------------------------------------------------------------------------


@given(start=small, factor=st.floats(min_value=1, max_value=4), cap=small, index=st.integers(0, 30))
def test_exponential_is_start_times_factor_power_capped(start: float, factor: float, cap: float, index: int) -> None:
    """exponential_delay is min(start * factor ** index, cap)."""
    assert exponential_delay(start, factor, cap, index) == min(start * factor**index, cap)


def test_exponential_examples() -> None:
    """Index 0 is the start itself; each index multiplies by the factor until the cap."""
    assert exponential_delay(0.5, 2, 100, 0) == 0.5
    assert exponential_delay(0.5, 2, 100, 1) == 1.0
    assert exponential_delay(0.5, 2, 100, 3) == 4.0
    assert exponential_delay(0.5, 2, 3.0, 3) == 3.0


@pytest.mark.parametrize("index", [1100, 10_000, 10**6])
def test_exponential_saturates_at_the_cap(index: int) -> None:
    """A power too large for a float gives the cap, not an OverflowError."""
    assert exponential_delay(1.0, 2.0, 30.0, index) == 30.0
    assert full_jitter_delay(1.0, 2.0, 30.0, index, 0.5) == 15.0


@pytest.mark.parametrize("index", [1024, 1100, 10**6])
def test_exponential_from_zero_stays_at_zero(index: int) -> None:
    """A start of 0 waits 0 at every index, also where the power no longer fits in a float."""
    assert exponential_delay(0.0, 2.0, 30.0, index) == 0.0
    assert full_jitter_delay(0.0, 2.0, 30.0, index, 0.5) == 0.0


@pytest.mark.parametrize("multiplier", [0.0, 5e-324, 1e-300])
@pytest.mark.parametrize("index", [1500, 10**7])
def test_fibonacci_with_a_tiny_multiplier_ends_at_the_cap_or_zero(multiplier: float, index: int) -> None:
    """A zero or subnormal multiplier at a huge index returns at once: 0 for no multiplier, else the cap."""
    assert fibonacci_delay(multiplier, 60.0, index) == (60.0 if multiplier else 0.0)


def test_fibonacci_factors() -> None:
    """The factors are 2, 3, 5, 8, 13, 21 for indexes 0, 1, 2, ...; the cap bounds them."""
    assert [fibonacci_delay(1.0, 1000, i) for i in range(7)] == [2, 3, 5, 8, 13, 21, 34]
    assert [fibonacci_delay(0.5, 1000, i) for i in range(4)] == [1.0, 1.5, 2.5, 4.0]
    assert [fibonacci_delay(1.0, 6, i) for i in range(5)] == [2, 3, 5, 6, 6]
    assert fibonacci_delay(1.0, 1.5, 0) == 1.5


@pytest.mark.parametrize("index", [2000, 10**7])
def test_fibonacci_stops_growing_at_the_cap(index: int) -> None:
    """Past the cap the sequence is not computed further: a huge index is the cap, quickly and without overflow."""
    assert fibonacci_delay(1.0, 60.0, index) == 60.0
    assert fibonacci_delay(0.0, 60.0, 5) == 0.0
    assert fibonacci_delay(0.0, 0.0, 2000) == 0.0  # no multiplier and no cap: no wait, at any index


@given(multiplier=small, index=st.sampled_from([0, 1, 5, 2000, 10**7]))
def test_fibonacci_with_zero_cap_never_waits(multiplier: float, index: int) -> None:
    """A cap of zero means no wait at all, for any multiplier (zero included) and any index."""
    assert fibonacci_delay(multiplier, 0.0, index) == 0.0


@given(low=small, high=small, draw=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_uniform_maps_the_draw_linearly(low: float, high: float, draw: float) -> None:
    """uniform_delay is low + draw * (high - low)."""
    assert uniform_delay(low, high, draw) == low + draw * (high - low)


def test_uniform_examples() -> None:
    """Draw 0 is low, draw 0.5 the midpoint."""
    assert uniform_delay(2.0, 6.0, 0.0) == 2.0
    assert uniform_delay(2.0, 6.0, 0.5) == 4.0
    assert uniform_delay(2.0, 6.0, 0.25) == 3.0


def test_jittered_exponential_adds_draw_to_the_power_factor_after_the_cap() -> None:
    """The jitter term is jitter_draw ** factor, added after the cap."""
    assert jittered_exponential_delay(1.0, 2.0, 3.0, 5, 3.0) == 3.0 + 9.0
    assert jittered_exponential_delay(1.0, 3.0, 100.0, 1, 2.0) == 3.0 + 8.0
    assert jittered_exponential_delay(1.0, 2.0, 100.0, 0, 0.0) == 1.0


def test_list_delay_repeats_the_last_entry() -> None:
    """Each index takes its entry; past the end, the last one."""
    delays = [0.1, 0.5, 2.0]
    assert [list_delay(delays, i) for i in range(6)] == [0.1, 0.5, 2.0, 2.0, 2.0, 2.0]
    assert list_delay([7.0], 0) == 7.0


def test_full_jitter_scales_the_exponential_wait() -> None:
    """full_jitter_delay is draw times the capped exponential wait."""
    assert full_jitter_delay(1.0, 2.0, 100.0, 3, 0.5) == 4.0
    assert full_jitter_delay(1.0, 2.0, 5.0, 3, 0.5) == 2.5
    assert full_jitter_delay(1.0, 2.0, 5.0, 3, 0.0) == 0.0


def test_decorrelated_jitter() -> None:
    """uniform(start, 3 * previous) capped; the first wait uses previous = start; never below start."""
    assert decorrelated_jitter_delay(1.0, 100.0, None, 0.5) == 2.0  # uniform(1, 3) at 0.5
    assert decorrelated_jitter_delay(1.0, 100.0, 4.0, 0.5) == 6.5  # uniform(1, 12) at 0.5
    assert decorrelated_jitter_delay(1.0, 100.0, 4.0, 0.0) == 1.0
    assert decorrelated_jitter_delay(1.0, 5.0, 4.0, 0.5) == 5.0
    assert decorrelated_jitter_delay(3.0, 100.0, 0.5, 0.5) == 3.0  # 3 * 0.5 < start: the range is [start, start]


@given(
    start=small,
    cap=small,
    previous=st.one_of(st.none(), small),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_decorrelated_jitter_formula(start: float, cap: float, previous: float | None, draw: float) -> None:
    """The formula, restated."""
    high = max(3 * (start if previous is None else previous), start)
    assert decorrelated_jitter_delay(start, cap, previous, draw) == min(cap, start + draw * (high - start))


# --- classification ------------------------------------------------------------------------------


def test_method_sets() -> None:
    """The idempotent methods of RFC 9110; the compatible default adds POST, PATCH and CONNECT."""
    assert frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}) == IDEMPOTENT_METHODS
    assert SAFE_METHODS == IDEMPOTENT_METHODS
    assert IDEMPOTENT_METHODS | {"POST", "PATCH", "CONNECT"} == ALL_METHODS


def test_failure_status_boundary() -> None:
    """500 is the first server error; 499 is not one unless listed."""
    assert is_failure_status(500, (), server_errors=True)
    assert not is_failure_status(499, (), server_errors=True)
    assert is_failure_status(499, (499,), server_errors=True)
    assert not is_failure_status(500, (), server_errors=False)
    assert is_failure_status(429, (429,), server_errors=False)


def test_method_allowed_without_key() -> None:
    """Without a key only the listed methods may be retried."""
    assert method_allowed("PUT", {"PUT"}, keyed=False)
    assert not method_allowed("PUT", {"GET"}, keyed=False)
    assert method_allowed("PUT", {"GET"}, keyed=True)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_each_error_kind(kind: ErrorKind) -> None:
    """For an allowed idempotent unlisted request: connect, transport and timeout are retried, TLS and other not."""
    got = error_is_retryable(kind, listed=False, allowed=True, idempotent=True, network_errors=True)
    assert got == (kind in {ErrorKind.CONNECT, ErrorKind.TRANSPORT, ErrorKind.TIMEOUT})
    assert error_is_retryable(kind, listed=True, allowed=True, idempotent=False, network_errors=False)
    assert not error_is_retryable(kind, listed=True, allowed=False, idempotent=True, network_errors=False)
    connect = kind is ErrorKind.CONNECT
    assert error_is_retryable(kind, listed=False, allowed=False, idempotent=False, network_errors=True) == connect


def test_stop_reasons_and_error_kinds_read_as_phrases() -> None:
    """str() of a stop reason or an error kind is its phrase."""
    assert [str(r) for r in StopReason] == [
        "last try",
        "not retryable",
        "Retry-After too long",
        "deadline",
        "breaker open",
        "budget spent",
        "body not replayable",
        "cancelled",
        "rate limited",
        "bulkhead full",
        "throttled",
        "server veto",
    ]
    assert [str(k) for k in ErrorKind] == ["connect", "transport", "timeout", "tls", "other"]
    assert f"{StopReason.DEADLINE}" == "deadline"


# --- time limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"total": 0}, "total_timeout must be a finite number of seconds > 0, got 0"),
        ({"attempt": -1.5}, "attempt_timeout must be a finite number of seconds > 0, got -1.5"),
        ({"total": math.inf}, "total_timeout must be a finite number of seconds > 0, got inf"),
        ({"total": 2, "attempt": 5}, "attempt_timeout (5) must not exceed total_timeout (2)"),
        ({"total": 2.0, "attempt": 2.5}, "attempt_timeout (2.5) must not exceed total_timeout (2.0)"),
    ],
)
def test_time_limit_messages(kwargs: dict[str, float], text: str) -> None:
    """Each bad limit is a ValueError naming it, as the options spell it."""
    with pytest.raises(ValueError) as info:
        TimeLimits(**kwargs)
    assert str(info.value) == text


def test_bool_limit_is_a_type_error() -> None:
    """A bool is not a number of seconds."""
    with pytest.raises(TypeError) as info:
        TimeLimits(attempt=True)
    assert str(info.value) == "attempt_timeout must be a finite number of seconds > 0, got True"


def test_attempt_limit_may_equal_total() -> None:
    """A try may be allowed the whole call: attempt == total is consistent."""
    limits = TimeLimits(total=2.0, attempt=2.0)
    assert (limits.total, limits.attempt, limits.propagate) == (2.0, 2.0, False)
    assert TimeLimits(attempt=5).attempt == 5
    assert TimeLimits(total=5).total == 5


def test_budget_examples() -> None:
    """The time left shortens a try; the try's own limit applies when shorter; past the deadline, zero."""
    assert attempt_budget(5.0, 100.0, 102.0) == 2.0
    assert attempt_budget(1.0, 100.0, 102.0) == 1.0
    assert attempt_budget(None, 100.0, 103.5) == 3.5
    assert attempt_budget(3.0, 100.0, math.inf) == 3.0
    assert attempt_budget(None, 100.0, math.inf) is None
    past = attempt_budget(None, 100.0, 99.0)
    assert past == 0.0
    assert type(past) is float
    assert attempt_budget(5.0, 100.0, 100.0) == 0.0


@given(
    delay=st.floats(0, 100),
    now=st.floats(0, 1000),
    reserve=st.floats(0, 100),
    expires=st.floats(0, 2000),
)
def test_fits_before_rule(delay: float, now: float, reserve: float, expires: float) -> None:
    """A wait fits exactly when now + delay + reserve is strictly before the deadline."""
    assert fits_before(delay, now, expires, reserve) == (now + delay + reserve < expires)


def test_fits_before_examples() -> None:
    """Each of now, delay and reserve moves the end of the next try."""
    assert fits_before(1.0, 5.0, 7.0, 0.5)
    assert not fits_before(1.0, 5.0, 7.0, 1.0)
    assert not fits_before(1.0, 6.0, 7.0)
    assert fits_before(0.0, 6.0, 7.0)
    assert fits_before(0.5, 1.0, 2.0, reserve=0.25)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0.000"),
        (0.0004, "0.000"),
        (0.0005, "0.001"),
        (1.5, "1.500"),
        (12.3456, "12.346"),
        (-5, "0.000"),
        (3600, "3600.000"),
    ],
)
def test_format_timeout_values(seconds: float, text: str) -> None:
    """Three decimals, rounded; a negative time left is sent as zero."""
    assert format_timeout(seconds) == text


@pytest.mark.parametrize("value", ["1e400", "-0.001", "-inf", "NaN", "abc", "1 2"])
def test_timeout_header_rejects(value: str) -> None:
    """Values that are negative, not finite or not a number give no deadline."""
    assert parse_timeout_header(value) is None


@given(seconds=st.floats(min_value=0, max_value=1e6))
def test_timeout_header_round_trip(seconds: float) -> None:
    """A formatted time left reads back to within half a millisecond."""
    got = parse_timeout_header(format_timeout(seconds))
    assert got is not None
    assert abs(got - seconds) <= 0.0005 + 1e-9


# --- policy objects ------------------------------------------------------------------------------


class Budget:
    def record_call(self, _key: str) -> None:
        pass

    def try_retry(self, _key: str) -> bool:
        return True


class Breaker:
    def acquire(self, _key: str) -> Permit | float:
        return 0.0

    def record(self, _key: str, _permit: Permit, *, failed: bool) -> None:
        pass

    def release(self, _key: str, _permit: Permit) -> None:
        pass

    def would_refuse(self, _key: str) -> bool:
        return False


def test_check_policy_accepts_none_and_implementations() -> None:
    """None and any object with the protocol's methods are returned as they are."""
    budget, breaker = Budget(), Breaker()
    assert check_policy(None, "retry_budget", RetryBudgetLike, "RetryBudget()") is None
    assert check_policy(budget, "retry_budget", RetryBudgetLike, "RetryBudget()") is budget
    assert check_policy(breaker, "circuit_breaker", CircuitBreakerLike, "CircuitBreaker()") is breaker


def test_check_policy_messages_list_the_methods() -> None:
    """The TypeError names the parameter, the protocol's methods in order, an example and the value."""
    with pytest.raises(TypeError) as info:
        check_policy(60, "retry_budget", RetryBudgetLike, "RetryBudget()")
    assert str(info.value) == (
        "retry_budget must be None or an object with the methods record_call, try_retry (such as RetryBudget()), got 60"
    )
    with pytest.raises(TypeError) as info:
        check_policy(Budget(), "circuit_breaker", CircuitBreakerLike, "CircuitBreaker()")
    assert str(info.value).startswith(
        "circuit_breaker must be None or an object with the methods acquire, record, release, would_refuse "
        "(such as CircuitBreaker()), got <"
    )
