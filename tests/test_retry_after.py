"""Retry-After in both forms, and garbage, fuzzed: never a wait past the cap."""

from __future__ import annotations

import email.utils
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry.policy import DEFAULT_RETRY_AFTER_STATUSES, RetryAfter, parse_retry_after

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
    status=st.sampled_from([413, 429, 500, 503]),
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


@pytest.mark.parametrize("bad", [-1, math.inf, math.nan])
def test_bad_cap_is_refused(bad: float) -> None:
    """max_wait must be a finite number of seconds >= 0."""
    with pytest.raises(ValueError, match="max_wait"):
        RetryAfter(max_wait=bad)


@pytest.mark.parametrize(("kwargs", "name"), [({"max_wait": "60"}, "max_wait"), ({"statuses": 429}, "statuses")])
def test_wrong_types_are_refused(kwargs: dict[str, object], name: str) -> None:
    """A cap that is not a number, or one status where a collection belongs, is a TypeError naming it."""
    with pytest.raises(TypeError, match=name):
        RetryAfter(**kwargs)  # type: ignore[arg-type]


def test_statuses_are_checked() -> None:
    """Statuses outside 100..599 are refused; a valid collection is kept as a frozenset."""
    with pytest.raises(ValueError, match="from 100 to 599"):
        RetryAfter(statuses={4290})
    assert RetryAfter(statuses=[503]).statuses == frozenset({503})


def test_default_statuses() -> None:
    """By default 413, 429 and 503 are read: the statuses RFC 9110 pairs with Retry-After."""
    assert frozenset({413, 429, 503}) == DEFAULT_RETRY_AFTER_STATUSES
    assert RetryAfter().statuses == DEFAULT_RETRY_AFTER_STATUSES
    assert RetryAfter().apply(0.1, 413, "2", NOW) == 2


def test_asks_reads_only_the_listed_statuses() -> None:
    """asks gives the server's wait for a listed status with a valid header, and None otherwise."""
    policy = RetryAfter()
    assert policy.asks(503, "3", NOW) == 3
    assert policy.asks(413, "120", NOW) == 120  # above max_wait: still what the server asked
    assert policy.asks(500, "3", NOW) is None
    assert policy.asks(429, None, NOW) is None
    assert policy.asks(429, "soon", NOW) is None
    in_an_hour = email.utils.format_datetime(NOW_DT + timedelta(hours=1), usegmt=True)
    assert policy.asks(429, in_an_hour, NOW) == 3600


@given(
    delay=st.floats(min_value=0, max_value=1000),
    status=st.sampled_from([200, 413, 429, 500, 503]),
    header=st.one_of(st.none(), header_values),
    cap=st.floats(min_value=0, max_value=600),
)
def test_apply_follows_asks(delay: float, status: int, header: str | None, cap: float) -> None:
    """apply is asks plus the rule: the schedule's wait if the server says nothing, else the longer one or stop."""
    policy = RetryAfter(max_wait=cap)
    asked = policy.asks(status, header, NOW)
    wait = policy.apply(delay, status, header, NOW)
    if asked is None:
        assert wait == delay
    elif asked > cap:
        assert wait is None
    else:
        assert wait == max(delay, asked)
    assert asked is None or (status in policy.statuses and header is not None and asked >= 0)


def test_repr_is_sorted() -> None:
    """repr lists the statuses in order, so it is the same in every run."""
    assert repr(RetryAfter()) == "RetryAfter(statuses={413, 429, 503}, max_wait=60.0)"
    assert repr(RetryAfter(statuses=(), max_wait=5)) == "RetryAfter(statuses=set(), max_wait=5.0)"


def test_past_date_relative_to_now() -> None:
    """A date one hour before now gives None; one hour after gives 3600 s."""
    before = email.utils.format_datetime(NOW_DT - timedelta(hours=1), usegmt=True)
    after = email.utils.format_datetime(NOW_DT + timedelta(hours=1), usegmt=True)
    assert parse_retry_after(before, NOW) is None
    assert parse_retry_after(after, NOW) == 3600
