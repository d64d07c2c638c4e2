"""Retry-After at its edges: exact boundaries, dates without a zone, huge and malformed values."""

from __future__ import annotations

import calendar
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry.policy import DEFAULT_RETRY_AFTER_STATUSES, RetryAfter, parse_retry_after

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
NOW_DT = datetime.fromtimestamp(NOW, tz=timezone.utc)


ZONES = pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York", "Pacific/Chatham", "UTC"])


@contextmanager
def machine_zone(zone: str) -> Iterator[None]:
    """Set the process's local time zone to ``zone`` for the duration of the block."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


zoneless_moments = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2099, 12, 31),  # noqa: DTZ001
).map(lambda d: d.replace(microsecond=0))


@ZONES
@given(moment=zoneless_moments)
def test_asctime_date_is_gmt_in_any_zone(zone: str, moment: datetime) -> None:
    """An asctime date carries no zone; it is read as GMT whatever the machine's local zone."""
    text = f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}"
    gmt = calendar.timegm(moment.timetuple())
    with machine_zone(zone):
        assert parse_retry_after(text, gmt - 90.0) == 90.0
        assert parse_retry_after(text, gmt) is None


@ZONES
@given(moment=zoneless_moments)
def test_minus_zero_zone_is_gmt_in_any_zone(zone: str, moment: datetime) -> None:
    """'-0000' (a date whose zone is unknown) is also read as GMT."""
    text = f"{moment:%a, %d %b %Y %H:%M:%S} -0000"
    gmt = calendar.timegm(moment.timetuple())
    with machine_zone(zone):
        assert parse_retry_after(text, gmt - 3600.0) == 3600.0


@ZONES
def test_explicit_offsets_are_honoured(zone: str) -> None:
    """A date with a numeric offset or a named zone means that offset, not GMT and not local time."""
    gmt = calendar.timegm((2027, 1, 15, 10, 0, 0))
    with machine_zone(zone):
        assert parse_retry_after("Fri, 15 Jan 2027 10:00:00 GMT", gmt - 10) == 10
        assert parse_retry_after("Fri, 15 Jan 2027 12:00:00 +0200", gmt - 10) == 10
        assert parse_retry_after("Fri, 15 Jan 2027 05:00:00 EST", gmt - 10) == 10
        assert parse_retry_after("Friday, 15-Jan-27 10:00:00 GMT", gmt - 10) == 10


def test_date_exactly_now_or_past_gives_none() -> None:
    """A date equal to now asks for no wait at all: None, not zero; one second later is one second."""
    assert parse_retry_after("Fri, 15 Jan 2027 08:00:00 GMT", NOW) is None
    assert parse_retry_after("Fri, 15 Jan 2027 08:00:01 GMT", NOW) == 1.0
    assert parse_retry_after("Fri, 15 Jan 2027 07:59:59 GMT", NOW) is None


@pytest.mark.parametrize("digits", [309, 310, 400, 5000])
def test_overflowing_seconds_are_unusable(digits: int) -> None:
    """A delay of 309 digits or more does not fit a float: None, never an infinite wait."""
    assert parse_retry_after("9" * digits, NOW) is None
    assert parse_retry_after("2" + "0" * (digits - 1), NOW) is None


def test_largest_representable_seconds_are_kept() -> None:
    """Up to about 1.8e308 still fits a float, so it is a (very long) wait."""
    assert parse_retry_after("1" + "0" * 308, NOW) == 1e308
    assert parse_retry_after("9" * 308, NOW) == float("9" * 308)


@pytest.mark.parametrize(("text", "seconds"), [("1.5", 1.5), ("0", 0.0), ("0.0", 0.0), ("007", 7.0), ("\t2\n", 2.0)])
def test_seconds_forms(text: str, seconds: float) -> None:
    """Digits, with an optional fraction and surrounding white space, are seconds; zero is a valid wait."""
    assert parse_retry_after(text, NOW) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "-1",
        "-0",
        "+3",
        "1.",
        ".5",
        "1.5.2",
        "1,5",
        "3 s",
        "inf",
        "nan",
        "1e2",
        "Fri, 15 Jan 2027",
        "99999999999999999999 GMT",
    ],
)
def test_malformed_values_are_unusable(text: str) -> None:
    """Empty, signed, exponent or partial values, words and incomplete dates say nothing usable."""
    assert parse_retry_after(text, NOW) is None


@given(
    whole=st.integers(min_value=0, max_value=10**6),
    millis=st.integers(min_value=0, max_value=999),
    delay=st.floats(min_value=0, max_value=2e6),
    status=st.sampled_from(sorted(DEFAULT_RETRY_AFTER_STATUSES)),
)
def test_wait_equal_to_max_wait_is_accepted(whole: int, millis: int, delay: float, status: int) -> None:
    """A server asking for exactly max_wait seconds is obeyed: the wait is the longer of both."""
    header = f"{whole}.{millis:03d}"
    cap = float(header)
    policy = RetryAfter(max_wait=cap)
    assert policy.apply(delay, status, header, NOW) == max(delay, cap)


def test_max_wait_boundaries() -> None:
    """max_wait itself is allowed, the smallest step above it is not; zero accepts only immediate retries."""
    policy = RetryAfter(max_wait=60)
    assert policy.apply(0.0, 503, "60", NOW) == 60
    assert policy.apply(0.0, 503, "60.000001", NOW) is None
    zero = RetryAfter(max_wait=0)
    assert zero.apply(0.5, 503, "0", NOW) == 0.5
    assert zero.apply(0.5, 503, "1", NOW) is None


def test_max_wait_is_stored_as_a_float() -> None:
    """An int max_wait is kept as a float, and statuses as a frozenset."""
    policy = RetryAfter(statuses=[503], max_wait=5)
    assert type(policy.max_wait) is float
    assert policy.max_wait == 5.0
    assert type(policy.statuses) is frozenset


@pytest.mark.parametrize("bad", [-1, -0.001, float("inf"), float("nan")])
def test_bad_max_wait_message(bad: float) -> None:
    """The message names max_wait, says what is allowed and shows the value."""
    with pytest.raises(ValueError) as info:
        RetryAfter(max_wait=bad)
    assert str(info.value) == f"max_wait must be a finite number of seconds >= 0, got {bad!r}"


def test_bad_statuses_message() -> None:
    """The statuses of a RetryAfter are checked under the name statuses."""
    with pytest.raises(ValueError) as info:
        RetryAfter(statuses={99})
    assert str(info.value) == "statuses must hold status codes from 100 to 599, got 99"


def test_max_wait_true_is_a_type_error() -> None:
    """A bool is not a number of seconds."""
    with pytest.raises(TypeError) as info:
        RetryAfter(max_wait=True)
    assert str(info.value) == "max_wait must be a finite number of seconds >= 0, got True"


def test_unusable_header_keeps_the_schedule() -> None:
    """A listed status with a header that says nothing usable waits as the schedule says."""
    policy = RetryAfter(max_wait=1)
    assert policy.apply(0.25, 503, "soon", NOW) == 0.25
    assert policy.apply(0.25, 503, "9" * 400, NOW) == 0.25
    assert policy.asks(503, "9" * 400, NOW) is None
