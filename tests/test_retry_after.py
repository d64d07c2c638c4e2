"""Retry-After in both forms, and garbage, fuzzed: never a wait past the cap."""

from __future__ import annotations

import email.utils
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry.policy import RetryAfter, parse_retry_after

NOW = 1_800_000_000.0  # a fixed wall-clock reading: 2027-01-15
NOW_DT = datetime.fromtimestamp(NOW, tz=timezone.utc)

http_dates = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(timezone.utc),
).map(lambda d: d.replace(microsecond=0))


@given(seconds=st.integers(min_value=0, max_value=10**9))
def test_seconds_form(seconds: int) -> None:
    """A non-negative integer is that many seconds."""
    assert parse_retry_after(str(seconds), NOW) == seconds
    assert parse_retry_after(f"  {seconds} ", NOW) == seconds


@given(moment=http_dates, form=st.sampled_from(["imf", "rfc850", "asctime"]))
def test_date_forms(moment: datetime, form: str) -> None:
    """An HTTP-date in the future is the time until it; one in the past (or now) gives None."""
    if form == "imf":
        text = email.utils.format_datetime(moment, usegmt=True)
    elif form == "rfc850":
        text = moment.strftime("%A, %d-%b-%y %H:%M:%S GMT")
        if not 1970 <= moment.year < 2069:  # two-digit years only name 1970-2068
            return
    else:
        text = f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}"
    expected = (moment - NOW_DT).total_seconds()
    got = parse_retry_after(text, NOW)
    if expected > 0:
        assert got == pytest.approx(expected)
    else:
        assert got is None


@given(text=st.text(max_size=40))
def test_garbage_is_none_or_a_sane_wait(text: str) -> None:
    """Any text parses to None or to a finite, non-negative wait; it never raises."""
    got = parse_retry_after(text, NOW)
    assert got is None or (math.isfinite(got) and got >= 0)


@pytest.mark.parametrize("text", ["", "soon", "-5", "1e3", "0x10", "Mon, 99 Nov 1994 08:49:37 GMT", "12 apples"])
def test_known_garbage(text: str) -> None:
    """Negative numbers, other notations, impossible dates and words are unusable."""
    assert parse_retry_after(text, NOW) is None


header_values = st.one_of(
    st.integers(min_value=0, max_value=10**7).map(str),
    http_dates.map(lambda d: email.utils.format_datetime(d, usegmt=True)),
    st.text(max_size=30),
)


@given(
    delay=st.floats(min_value=0, max_value=1000),
    status=st.sampled_from([429, 500, 503]),
    header=st.one_of(st.none(), header_values),
    cap=st.floats(min_value=0, max_value=600),
)
def test_apply_never_waits_past_the_cap(delay: float, status: int, header: str | None, cap: float) -> None:
    """The wait is the schedule's, or longer for a honoured header, and never a server-asked wait past the cap."""
    policy = RetryAfter(max_wait=cap)
    wait = policy.apply(delay, status, header, NOW)
    if wait is None:
        assert header is not None
        assert status in policy.statuses
        return
    assert wait >= delay
    assert wait == delay or wait <= cap


def test_apply_rules() -> None:
    """Honoured only for the configured statuses; longer of both; above the cap, stop."""
    policy = RetryAfter()
    assert policy.apply(0.1, 503, "3", NOW) == 3
    assert policy.apply(5.0, 503, "3", NOW) == 5.0
    assert policy.apply(0.1, 500, "3", NOW) == 0.1
    assert policy.apply(0.1, 429, "61", NOW) is None
    assert policy.apply(0.1, 429, None, NOW) == 0.1
    assert RetryAfter(statuses={500}).apply(0.1, 500, "3", NOW) == 3


@pytest.mark.parametrize("bad", [-1, math.inf, math.nan, "60"])
def test_bad_cap_is_refused(bad: object) -> None:
    """max_wait must be a finite number of seconds >= 0."""
    with pytest.raises(ValueError, match="max_wait"):
        RetryAfter(max_wait=bad)  # type: ignore[arg-type]


def test_past_date_relative_to_now() -> None:
    """A date one hour before now gives None; one hour after gives 3600 s."""
    before = email.utils.format_datetime(NOW_DT - timedelta(hours=1), usegmt=True)
    after = email.utils.format_datetime(NOW_DT + timedelta(hours=1), usegmt=True)
    assert parse_retry_after(before, NOW) is None
    assert parse_retry_after(after, NOW) == 3600
