"""LatencySketch: quantiles within its relative accuracy, merges, and its array of buckets in bounded memory."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiohttp_retry.report import LatencySketch


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


# -- LatencySketch ---------------------------------------------------------------------------------


def test_sketch_quantiles_are_within_two_percent_of_exact_ones():
    rng = random.Random(20240611)
    values = [rng.lognormvariate(-3.0, 1.0) for _ in range(100_000)]
    sketch = LatencySketch()
    for value in values:
        sketch.add(value)
    for q in (0.5, 0.9, 0.99):
        found = sketch.quantile(q)
        assert found is not None
        assert abs(found / exact(values, q) - 1) <= 0.02, q
    assert sketch.count == 100_000
    assert sketch.min == min(values)
    assert sketch.max == max(values)
    assert sketch.mean == pytest.approx(sum(values) / len(values))
    assert sketch.quantile(0.0) == min(values)
    assert sketch.quantile(1.0) == max(values)
    assert sketch.quantiles([0.99, 0.5, 0.9]) == [sketch.quantile(0.99), sketch.quantile(0.5), sketch.quantile(0.9)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1e6), min_size=1, max_size=300), st.floats(0.0, 1.0))
def test_sketch_quantile_is_within_alpha_of_the_value_of_its_rank(values, q):
    sketch = LatencySketch(alpha=0.01)
    for value in values:
        sketch.add(value)
    found = sketch.quantile(q)
    assert found is not None
    assert abs(found - exact(values, q)) <= 0.01 * exact(values, q) * (1 + 1e-9)


def test_merge_equals_adding_every_value():
    rng = random.Random(7)
    first, second, everything = LatencySketch(), LatencySketch(), LatencySketch()
    for index in range(20_000):
        value = rng.lognormvariate(-2.0, 1.5) if index % 3 else 0.0
        (first if index % 2 else second).add(value)
        everything.add(value)
    first.merge(second)
    assert first.count == everything.count
    assert first.sum == pytest.approx(everything.sum)
    assert (first.min, first.max) == (everything.min, everything.max)
    qs = [i / 100 for i in range(101)]
    assert first.quantiles(qs) == everything.quantiles(qs)
    assert list(first.buckets()) == list(everything.buckets())


def test_merge_of_an_empty_sketch_changes_nothing_and_copy_is_independent():
    sketch = LatencySketch()
    sketch.add(0.5)
    sketch.merge(LatencySketch())
    twin = sketch.copy()
    twin.add(5.0)
    assert (sketch.count, sketch.max) == (1, 0.5)
    assert (twin.count, twin.max) == (2, 5.0)


def test_empty_sketch():
    sketch = LatencySketch()
    assert sketch.count == 0
    assert sketch.sum == 0.0
    assert sketch.mean is None
    assert sketch.min is None
    assert sketch.max is None
    assert sketch.quantile(0.5) is None
    assert sketch.quantiles([0.1, 0.9]) == [None, None]
    assert list(sketch.buckets()) == []
    assert "count=0" in repr(sketch)


def test_zero_and_negative_values_go_to_the_zero_bucket():
    sketch = LatencySketch()
    for value in (0.0, -1.0, 0.0, 2.0):
        sketch.add(value)
    assert sketch.count == 4
    assert sketch.min == -1.0
    assert sketch.quantile(0.0) == -1.0
    assert sketch.quantile(0.5) <= 0.0
    assert sketch.quantile(1.0) == 2.0
    assert next(iter(sketch.buckets())) == (0.0, 3)


def test_bucket_range_is_capped_and_the_tail_stays_accurate():
    sketch = LatencySketch(alpha=0.01, max_buckets=64)  # 64 buckets of 2 %: the top 3.6x of the values
    values = [1.5**i for i in range(-40, 40)]
    for value in values:
        sketch.add(value)
    other = LatencySketch(alpha=0.01, max_buckets=64)
    for value in values[:10]:
        other.add(value * 0.5)
    sketch.merge(other)
    kept = [value for value, _ in sketch.buckets()]
    assert kept[-1] / kept[0] <= sketch_gamma(0.01) ** 63 * (1 + 1e-9)
    assert sketch.count == 90
    assert sketch.quantile(0.99) == pytest.approx(exact(values + [v * 0.5 for v in values[:10]], 0.99), rel=0.01)
    assert sketch.max == max(values)


# -- LatencySketch: its array of buckets -----------------------------------------------------------


def sketch_gamma(alpha: float) -> float:
    return (1.0 + alpha) / (1.0 - alpha)


def expected_buckets(values, alpha=0.01, max_buckets=2048):
    """The buckets a sketch of ``values`` must hold: the lowest folded into the one max_buckets - 1 below the top."""
    gamma = sketch_gamma(alpha)
    multiplier = 1.0 / math.log(gamma)
    indexes = [math.ceil(math.log(value) * multiplier) for value in values if value > 0]
    zero = sum(1 for value in values if value <= 0)
    floor = max(indexes, default=0) - max_buckets + 1
    counts: dict[int, int] = {}
    for index in indexes:
        counts[max(index, floor)] = counts.get(max(index, floor), 0) + 1
    buckets = [(0.0, zero)] if zero else []
    return buckets + [(2.0 * gamma**index / (gamma + 1.0), counts[index]) for index in sorted(counts)]


def sketch_of(values, alpha=0.01, max_buckets=2048):
    sketch = LatencySketch(alpha, max_buckets)
    for value in values:
        sketch.add(value)
    return sketch


def test_the_range_grows_at_both_ends():
    values = [0.01 * 1.03**i for i in range(200)]
    upward = sketch_of(values)  # every value above the range
    downward = sketch_of(values[::-1])  # every value below it
    outward = sketch_of([values[(len(values) // 2) + (i // 2 if i % 2 else -(i // 2))] for i in range(1, 200)])
    for sketch, fed in ((upward, values), (downward, values), (outward, values[1:])):
        assert list(sketch.buckets()) == expected_buckets(fed)
        assert (sketch.count, sketch.min, sketch.max) == (len(fed), min(fed), max(fed))
        assert sketch.sum == pytest.approx(sum(fed))


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_the_lowest_buckets_fold_beyond_max_buckets(order):
    values = [1e-6 * 1.01**i for i in range(2000)]  # 1e-6 to 0.44: about 1000 buckets of 2 %
    if order == "descending":
        values.reverse()
    elif order == "shuffled":
        random.Random(3).shuffle(values)
    sketch = sketch_of(values, max_buckets=100)
    assert list(sketch.buckets()) == expected_buckets(values, max_buckets=100)
    assert sketch.count == 2000
    assert sketch.min == min(values)
    for q in (0.96, 0.99, 0.999):  # the top 100 buckets hold the top 5 % and stay accurate
        assert sketch.quantile(q) == pytest.approx(exact(values, q), rel=0.01)
    assert sketch.quantile(0.5) > exact(values, 0.5)  # folded up into the floor


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([0.001 * 1.1**i for i in range(30)], [5.0 * 1.1**i for i in range(30)]),  # apart, the second above
        ([5.0 * 1.1**i for i in range(30)], [0.001 * 1.1**i for i in range(30)]),  # apart, the second below
        ([0.01 * 1.05**i for i in range(100)], [0.02 * 1.05**i for i in range(20)]),  # within
        ([0.02 * 1.05**i for i in range(20)], [0.01 * 1.05**i for i in range(100)] + [0.0, 0.0]),  # around
        ([0.5, 0.5, 0.0], []),  # with an empty one
        ([], [0.0, 0.0]),  # the zero bucket only
    ],
)
@pytest.mark.parametrize("max_buckets", [2048, 120])
def test_merge_of_sketches_over_different_ranges(first, second, max_buckets):
    mine, theirs = sketch_of(first, max_buckets=max_buckets), sketch_of(second, max_buckets=max_buckets)
    mine.merge(theirs)
    everything = first + second
    assert list(mine.buckets()) == expected_buckets(everything, max_buckets=max_buckets)
    assert mine.count == len(everything)
    if everything:
        assert (mine.min, mine.max) == (min(everything), max(everything))
        assert mine.quantiles([0.5, 0.9, 0.99]) == sketch_of(everything, max_buckets=max_buckets).quantiles(
            [0.5, 0.9, 0.99]
        )
    assert list(theirs.buckets()) == expected_buckets(second, max_buckets=max_buckets)  # left as it was


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.floats(1e-9, 1e9), st.just(0.0)), max_size=150),
    st.integers(0, 150),
    st.integers(2, 80),
    st.booleans(),
)
def test_any_stream_and_merge_hold_the_buckets_of_the_model(values, cut, max_buckets, cleared_first):
    whole = sketch_of(values, max_buckets=max_buckets)
    assert list(whole.buckets()) == expected_buckets(values, max_buckets=max_buckets)
    assert whole.count == len(values)
    first = sketch_of([5e8, 1e-9, 3.0] if cleared_first else [], max_buckets=max_buckets)
    first.clear()  # a range (and memory) kept from values forgotten
    for value in values[:cut]:
        first.add(value)
    first.merge(sketch_of(values[cut:], max_buckets=max_buckets))
    assert list(first.buckets()) == expected_buckets(values, max_buckets=max_buckets)
    assert first.count == len(values)


@pytest.mark.parametrize("into_the_folded_one", [False, True])
def test_merge_keeps_the_higher_floor(into_the_folded_one):
    spread = [1e-6 * 1.1**i for i in range(100)]  # 1e-6 to 0.0125: folded to its top 50 buckets (2.7x)
    narrow = [5e-3, 6e-3, 1e-2]  # within 50 buckets: nothing folded
    folded, whole = sketch_of(spread, max_buckets=50), sketch_of(narrow, max_buckets=50)
    into, other = (folded, whole) if into_the_folded_one else (whole, folded)
    into.merge(other)
    assert list(into.buckets()) == expected_buckets(spread + narrow, max_buckets=50)
    into.add(1e-9)  # below the floor: counted in it
    into.add(1e-4)
    assert list(into.buckets()) == expected_buckets([*spread, *narrow, 1e-9, 1e-4], max_buckets=50)
    assert into.count == 105
    assert into.min == 1e-9


def test_clear_forgets_every_value_and_the_sketch_counts_again():
    values = [random.Random(5).lognormvariate(-3.0, 1.0) for _ in range(1000)]
    sketch = sketch_of(values, max_buckets=64)
    sketch.add(0.0)
    sketch.clear()
    assert (sketch.count, sketch.sum, sketch.min, sketch.max, sketch.mean) == (0, 0.0, None, None, None)
    assert sketch.quantile(0.5) is None
    assert list(sketch.buckets()) == []
    assert "count=0, buckets=0" in repr(sketch)
    again = [1e-5, 3.0, 0.2, 0.2, 1e3]  # far outside the range kept: the floor of the values before is gone
    for value in again:
        sketch.add(value)
    assert list(sketch.buckets()) == expected_buckets(again, max_buckets=64)
    assert sketch.quantiles([0.0, 0.5, 1.0]) == [1e-5, sketch_of(again, max_buckets=64).quantile(0.5), 1e3]


def test_copy_is_equal_and_independent():
    values = [random.Random(6).lognormvariate(-2.0, 2.0) for _ in range(5000)] + [0.0]
    sketch = sketch_of(values, max_buckets=300)
    twin = sketch.copy()
    assert list(twin.buckets()) == list(sketch.buckets())
    assert (twin.count, twin.sum, twin.min, twin.max) == (sketch.count, sketch.sum, sketch.min, sketch.max)
    assert twin.quantiles([0.1, 0.5, 0.99]) == sketch.quantiles([0.1, 0.5, 0.99])
    assert repr(twin) == repr(sketch)
    twin.add(1e6)
    twin.add(1e-9)
    assert list(twin.buckets()) == expected_buckets([*values, 1e6, 1e-9], max_buckets=300)
    assert twin.count == len(values) + 2
    sketch.clear()
    assert sketch.count == 0
    assert (twin.count, twin.max) == (len(values) + 2, 1e6)


def test_a_count_beyond_four_bytes_widens_the_buckets():
    sketch = sketch_of([0.5, 0.5, 2.0])
    counts = sketch._counts
    assert counts.itemsize == 4
    counts[counts.index(2)] = 2**32 - 1  # as if 2**32 - 1 values of 0.5 had been added
    sketch._count = 2**32
    sketch.add(0.5)  # overflows four bytes: every bucket now takes eight
    assert sketch._counts.itemsize == 8
    assert sketch.count == 2**32 + 1
    assert [count for _, count in sketch.buckets()] == [2**32, 1]
    assert sketch.quantile(0.5) == pytest.approx(0.5, rel=0.01)
    other = sketch_of([0.5, 2.0])
    other.merge(sketch)  # a merge overflows as well
    assert [count for _, count in other.buckets()] == [2**32 + 1, 2]
    assert other.count == 2**32 + 3
    sketch.clear()
    assert sketch._counts.itemsize == 4


def test_sketch_quantiles_of_adversarial_streams_are_within_two_percent():
    rng = random.Random(11)
    spread = [10 ** rng.uniform(-6.0, 4.0) for _ in range(20_000)]
    streams = {
        "1e-6 to 1e4": spread,
        "one value": [0.123] * 5000,
        "ascending": sorted(spread),
        "descending": sorted(spread, reverse=True),
        "lognormal ascending": sorted(rng.lognormvariate(-3.0, 1.0) for _ in range(20_000)),
        "two clusters": [1e-6] * 900 + [1e4] * 100,
    }
    for name, values in streams.items():
        sketch = sketch_of(values)
        for q in (0.001, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999):
            found = sketch.quantile(q)
            assert found is not None
            assert abs(found / exact(values, q) - 1) <= 0.02, (name, q)
        assert list(sketch.buckets()) == expected_buckets(values), name
    assert sketch_of([0.123] * 5000).quantiles([0.0, 0.5, 1.0]) == [0.123, 0.123, 0.123]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"alpha": 0}, "alpha"),
        ({"alpha": 1}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": "0.01"}, "alpha"),
        ({"alpha": True}, "alpha"),
        ({"max_buckets": 1}, "max_buckets"),
        ({"max_buckets": 10.0}, "max_buckets"),
        ({"max_buckets": True}, "max_buckets"),
    ],
)
def test_sketch_rejects_bad_arguments_naming_them(kwargs, parameter):
    with pytest.raises(ValueError, match=parameter):
        LatencySketch(**kwargs)


def test_sketch_rejects_bad_quantiles_values_and_merges():
    sketch = LatencySketch()
    sketch.add(1.0)
    for q in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError, match="q must be"):
            sketch.quantile(q)
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            sketch.add(value)
    assert sketch.count == 1
    with pytest.raises(ValueError, match="alpha"):
        sketch.merge(LatencySketch(alpha=0.02))
    with pytest.raises(TypeError):
        sketch.merge([1.0])  # type: ignore[arg-type]
