"""The jittered schedules and their safe defaults."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry import DecorrelatedJitterRetry, ExponentialRetry, FullJitterRetry
from aiohttp_retry.policy import ALL_METHODS, IDEMPOTENT_METHODS

seconds = st.floats(min_value=0, max_value=1e4)


def test_safe_default_methods() -> None:
    """The jittered classes retry idempotent methods only unless told otherwise."""
    idempotent = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}  # RFC 9110, section 9.2.2
    assert FullJitterRetry().methods == idempotent
    assert DecorrelatedJitterRetry().methods == idempotent
    assert FullJitterRetry(methods={"post"}).methods == {"POST"}
    assert "POST" in ExponentialRetry().methods  # the compatible classes keep 2.9.1's default


@given(start=seconds, cap=seconds, i=st.integers(0, 3000), seed=st.integers(0, 2**32))
def test_full_jitter_is_below_the_exponential_step(start: float, cap: float, i: int, seed: int) -> None:
    """A full-jitter wait lies in [0, min(start * 2 ** i, cap)]."""
    wait = FullJitterRetry(start_timeout=start, max_timeout=cap, rng=random.Random(seed)).get_timeout(i)
    assert 0 <= wait <= ExponentialRetry(start_timeout=start, max_timeout=cap).get_timeout(i)


@given(
    start=seconds,
    cap=seconds,
    previous=st.one_of(st.none(), seconds),
    seed=st.integers(0, 2**32),
)
def test_decorrelated_jitter_bounds(start: float, cap: float, previous: float | None, seed: int) -> None:
    """A decorrelated wait lies in [start, 3 * previous], capped; the first one in [start, 3 * start]."""
    opts = DecorrelatedJitterRetry(start_timeout=start, max_timeout=cap, rng=random.Random(seed))
    wait = opts.next_delay(0, None, previous)
    high = 3 * (start if previous is None else previous)
    assert min(start, cap) <= wait + 1e-9
    assert wait <= min(max(high, start), cap) + 1e-9


def test_decorrelated_jitter_grows_from_the_previous_wait() -> None:
    """Fed its own waits, the decorrelated schedule climbs towards the cap on average."""
    opts = DecorrelatedJitterRetry(start_timeout=1, max_timeout=1000, rng=random.Random(5))
    waits: list[float] = []
    previous = None
    for i in range(8):
        previous = opts.next_delay(i, None, previous)
        waits.append(previous)
    assert waits[-1] > waits[0]
    assert all(1 <= w <= 1000 for w in waits)
    assert 1 <= opts.get_timeout(0) <= 3


def test_methods_reset_to_the_safe_default() -> None:
    """Setting methods back to None restores the class's own default, not the compatible classes' one."""
    opts = FullJitterRetry(methods={"POST"})
    opts.methods = None
    assert opts.methods == IDEMPOTENT_METHODS


def test_repr() -> None:
    """repr shows the schedule; the safe default methods are a default, so they are not shown."""
    assert repr(FullJitterRetry()) == "FullJitterRetry(attempts=3, start_timeout=0.1, max_timeout=30.0, factor=2.0)"
    assert repr(DecorrelatedJitterRetry(attempts=5, methods={"GET"})) == (
        "DecorrelatedJitterRetry(attempts=5, start_timeout=0.1, max_timeout=30.0, methods={'GET'})"
    )
    assert "methods={" in repr(FullJitterRetry(methods=ALL_METHODS))


def test_rng_must_be_a_generator() -> None:
    """An rng that is not a random.Random is refused at construction, naming it."""
    with pytest.raises(TypeError, match="rng"):
        FullJitterRetry(rng=7)  # type: ignore[arg-type]
