"""Time limits, pure: validation, per-try budgets, whether a wait still fits."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry import ExponentialRetry
from aiohttp_retry.policy import TimeLimits, attempt_budget, fits_before, format_timeout
from aiohttp_retry.policy.deadline import parse_timeout_header


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"total_timeout": 0}, "total_timeout"),
        ({"total_timeout": -1}, "total_timeout"),
        ({"total_timeout": math.inf}, "total_timeout"),
        ({"attempt_timeout": math.nan}, "attempt_timeout"),
        ({"attempt_timeout": 5, "total_timeout": 2}, "attempt_timeout"),
        ({"replay_buffer": -1}, "replay_buffer"),
    ],
)
def test_inconsistent_limits_are_refused(kwargs: dict[str, object], name: str) -> None:
    """Bad or contradictory limits fail at construction, naming the parameter."""
    with pytest.raises(ValueError, match=name):
        ExponentialRetry(**kwargs)  # type: ignore[arg-type]


def test_wrong_kind_of_retry_after_is_a_type_error() -> None:
    """A number where a RetryAfter policy is expected is a TypeError naming retry_after."""
    with pytest.raises(TypeError, match="retry_after"):
        ExponentialRetry(retry_after=60)  # type: ignore[typeddict-item]


def test_unknown_keyword_is_a_type_error() -> None:
    """A misspelt keyword fails loudly, as Python's own would."""
    with pytest.raises(TypeError, match="total_timout"):
        ExponentialRetry(total_timout=3)  # type: ignore[call-arg]


def test_expiry_takes_the_earlier_deadline() -> None:
    """The call's deadline is its own total or an inherited one, whichever comes first."""
    limits = TimeLimits(total=10)
    assert limits.expiry(100) == 110
    assert limits.expiry(100, inherited=105) == 105
    assert limits.expiry(100, inherited=120) == 110
    assert TimeLimits().expiry(100) == math.inf
    assert TimeLimits().expiry(100, inherited=101) == 101


@given(
    limit=st.one_of(st.none(), st.floats(min_value=0.001, max_value=100)),
    now=st.floats(min_value=0, max_value=1e6),
    left=st.floats(min_value=-10, max_value=100),
)
def test_budget_is_the_shorter_of_limit_and_time_left(limit: float | None, now: float, left: float) -> None:
    """A try gets its own limit or the time left, never more, never negative."""
    budget = attempt_budget(limit, now, now + left)
    assert budget is not None
    assert 0 <= budget <= (limit if limit is not None else max(left, 0)) + 1e-9
    assert attempt_budget(None, now, math.inf) is None


def test_a_wait_fits_only_with_room_for_the_next_try() -> None:
    """A wait is allowed only if it and a try as long as the last end before the deadline."""
    assert fits_before(1.0, now=0.0, expires=2.0)
    assert not fits_before(2.0, now=0.0, expires=2.0)
    assert not fits_before(1.0, now=0.0, expires=2.0, reserve=1.5)
    assert fits_before(1e9, now=0.0, expires=math.inf, reserve=1e9)


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), (" 3 ", 3.0), ("0", 0.0)])
def test_timeout_header_values(value: str, seconds: float) -> None:
    """X-Request-Timeout carries a number of seconds."""
    assert parse_timeout_header(value) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-1", "nan", "inf", "1e400"])
def test_bad_timeout_header_values(value: str | None) -> None:
    """Absent, negative and non-finite values set no deadline."""
    assert parse_timeout_header(value) is None


def test_format_timeout() -> None:
    """The header value has millisecond precision and is never negative."""
    assert format_timeout(1.23456) == "1.235"
    assert format_timeout(-0.2) == "0.000"
