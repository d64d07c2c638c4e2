"""Rules of the hedging policy: defaults, the percentile it waits for, the samples and keys it keeps."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry import Hedging


def test_defaults() -> None:
    """Hedging() waits a fixed 50 ms; with a percentile, after 20 of the last 200 latencies; 1024 keys."""
    hedging = Hedging()
    assert (hedging.delay, hedging.percentile) == (0.05, None)
    assert (hedging.min_samples, hedging.samples, hedging.max_keys) == (20, 200, 1024)


def test_settings_are_kept() -> None:
    """Every constructor argument is kept as given."""
    hedging = Hedging(0.2, percentile=0.9, min_samples=5, samples=7, max_keys=3)
    assert (hedging.delay, hedging.percentile, hedging.min_samples, hedging.samples, hedging.max_keys) == (
        0.2,
        0.9,
        5,
        7,
        3,
    )
    assert Hedging(min_samples=4, samples=4).samples == 4  # as many needed as kept is allowed


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"delay": -1}, ValueError, "^delay must be "),
        ({"delay": True}, TypeError, "^delay must be "),
        ({"percentile": 0.0}, ValueError, "^percentile must be "),
        ({"percentile": 1.0}, ValueError, "^percentile must be "),
        ({"percentile": 95}, ValueError, "^percentile must be "),
        ({"percentile": math.nan}, ValueError, "^percentile must be "),
        ({"min_samples": 0}, ValueError, "^min_samples must be "),
        ({"min_samples": 2.0}, TypeError, "^min_samples must be "),
        ({"samples": 0}, ValueError, "^samples must be "),
        ({"samples": True}, TypeError, "^samples must be "),
        ({"max_keys": 0}, ValueError, "^max_keys must be "),
        ({"max_keys": None}, TypeError, "^max_keys must be "),
        ({"min_samples": 5, "samples": 4}, ValueError, r"^min_samples \(5\) must not exceed samples \(4\)$"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    """Each refused setting raises an error whose message starts with the parameter's name."""
    with pytest.raises(error, match=message):
        Hedging(**kwargs)  # type: ignore[arg-type]


def feed(hedging: Hedging, key: str, latencies: list[float]) -> None:
    for seconds in latencies:
        hedging.record(key, seconds)


@given(
    latencies=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=60, unique=True),
    percentile=st.sampled_from([0.01, 0.1, 0.5, 0.9, 0.95, 0.99, math.nextafter(1.0, 0.0)]),
)
def test_the_delay_is_the_percentile_of_the_recent_latencies(latencies: list[int], percentile: float) -> None:
    """The delay is the latency at rank floor(q * n) of the n sorted samples (from 0): never past the slowest."""
    hedging = Hedging(1.0, percentile=percentile, min_samples=1, samples=60)
    feed(hedging, "a", [ms / 1000 for ms in latencies])
    ordered = sorted(latencies)
    rank = math.floor(percentile * len(ordered))
    assert rank < len(ordered)
    assert hedging.delay_for("a") == ordered[rank] / 1000


def test_the_slowest_of_twenty_is_the_99th_percentile() -> None:
    """Of 20 distinct latencies the 0.99 quantile is the slowest and the 0.5 quantile the 11th."""
    latencies = [n / 100 for n in range(1, 21)]
    slow = Hedging(percentile=0.99)
    median = Hedging(percentile=0.5)
    feed(slow, "a", latencies)
    feed(median, "a", latencies)
    assert slow.delay_for("a") == 0.20
    assert median.delay_for("a") == 0.11


def test_the_fixed_delay_holds_until_min_samples_are_known() -> None:
    """Below min_samples latencies the fixed delay is used; from min_samples on, the percentile."""
    hedging = Hedging(0.5, percentile=0.5, min_samples=3, samples=10)
    feed(hedging, "a", [0.1, 0.1])
    assert hedging.delay_for("a") == 0.5
    hedging.record("a", 0.1)
    assert hedging.delay_for("a") == 0.1


def test_only_the_most_recent_samples_count() -> None:
    """With samples=3, three fast answers after three slow ones make the delay fast again."""
    hedging = Hedging(1.0, percentile=0.5, min_samples=3, samples=3)
    feed(hedging, "a", [0.9, 0.9, 0.9])
    assert hedging.delay_for("a") == 0.9
    feed(hedging, "a", [0.1, 0.1, 0.1])
    assert hedging.delay_for("a") == 0.1


def test_without_a_percentile_nothing_is_recorded() -> None:
    """A fixed delay stays fixed whatever latencies are reported."""
    hedging = Hedging(0.3, min_samples=1)
    feed(hedging, "a", [5.0] * 30)
    assert hedging.delay_for("a") == 0.3


def test_keys_are_independent() -> None:
    """Each key has its own latencies; an unknown key gets the fixed delay."""
    hedging = Hedging(1.0, percentile=0.5, min_samples=1)
    hedging.record("a", 0.1)
    hedging.record("b", 0.7)
    assert (hedging.delay_for("a"), hedging.delay_for("b"), hedging.delay_for("c")) == (0.1, 0.7, 1.0)


def test_max_keys_are_kept_and_the_least_recently_used_goes_first() -> None:
    """With max_keys=2 two keys are kept; a third forgets the one recorded least recently."""
    hedging = Hedging(1.0, percentile=0.5, min_samples=1, max_keys=2)
    hedging.record("a", 0.1)
    hedging.record("b", 0.2)
    assert (hedging.delay_for("a"), hedging.delay_for("b")) == (0.1, 0.2)
    hedging.record("a", 0.1)  # "a" used again: "b" is now the least recent
    hedging.record("c", 0.3)
    assert (hedging.delay_for("a"), hedging.delay_for("b"), hedging.delay_for("c")) == (0.1, 1.0, 0.3)
