"""Rules of the rolling counter that the breaker's window is built on."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry.policy.window import RollingCounter

# A span of 2 s (8 s in 4 buckets): times that are multiples of 0.25 divide by it exactly,
# so the model below computes the same bucket as the counter.
WINDOW, BUCKETS, SPAN = 8.0, 4, 2.0


def test_a_new_counter_is_empty() -> None:
    """Before anything is counted every kind totals 0, whatever the clock reads."""
    counter = RollingCounter(WINDOW, BUCKETS, ("a", "b"))
    assert counter.total(0, 0.0) == 0
    assert counter.total(1, 123.0) == 0


def test_kinds_are_counted_apart_and_amounts_add_up() -> None:
    """Each kind has its own count; ``amount`` counts that many events at once."""
    counter = RollingCounter(WINDOW, BUCKETS, ("a", "b", "c"))
    counter.add(0, 1.0)
    counter.add(1, 1.0, amount=5)
    counter.add(2, 3.0, 2)
    counter.add(1, 5.0)
    assert [counter.total(i, 5.0) for i in range(3)] == [1, 6, 2]


def test_counts_of_closed_buckets_stay_until_they_leave() -> None:
    """A bucket that closed keeps counting for the whole window, in every kind."""
    counter = RollingCounter(WINDOW, BUCKETS, ("a", "b"))
    counter.add(0, 0.5)
    counter.add(1, 0.5, 3)
    counter.add(0, 2.5)  # closes the first bucket
    assert (counter.total(0, 7.9), counter.total(1, 7.9)) == (2, 3)
    assert (counter.total(0, 8.0), counter.total(1, 8.0)) == (1, 0)  # the first bucket left at 8 s
    assert (counter.total(0, 10.0), counter.total(1, 10.0)) == (0, 0)


def test_several_buckets_expire_together() -> None:
    """A jump of several spans empties every bucket it passes over at once, keeping the rest."""
    counter = RollingCounter(WINDOW, BUCKETS, ("x",))
    for second, amount in ((0.0, 1), (2.0, 2), (4.0, 4), (6.0, 8)):
        counter.add(0, second, amount)
    assert counter.total(0, 7.0) == 15
    assert counter.total(0, 10.0) == 12  # buckets of 0 s and 2 s left together; 4 s and 6 s remain
    assert counter.total(0, 13.9) == 8
    assert counter.total(0, 14.0) == 0


def test_a_jump_past_the_whole_window_forgets_everything() -> None:
    """After a gap longer than the window nothing is left, however many buckets were full."""
    counter = RollingCounter(WINDOW, BUCKETS, ("x",))
    for second in range(8):
        counter.add(0, float(second), 3)
    counter.add(0, 100.0)
    assert counter.total(0, 100.0) == 1
    counter.add(0, 102.0)
    assert counter.total(0, 107.9) == 2


def test_bumping_the_newest_bucket_counts_until_it_ends() -> None:
    """``newest`` holds the bucket in progress and ``until`` the reading at which it ends."""
    counter = RollingCounter(WINDOW, BUCKETS, ("x", "y"))
    assert counter.until == -math.inf
    counter.add(1, 3.0)
    assert counter.until == 4.0
    assert counter.newest == [0, 1]
    counter.newest[0] += 2
    assert counter.total(0, 3.5) == 2
    counter.add(0, 4.0)  # a new bucket
    assert counter.newest == [1, 0]
    assert counter.until == 6.0
    assert (counter.total(0, 5.0), counter.total(1, 5.0)) == (3, 1)


def test_clear_forgets_closed_and_open_buckets() -> None:
    """After ``clear`` every kind counts from zero, in the same bucket and later ones."""
    counter = RollingCounter(WINDOW, BUCKETS, ("a", "b"))
    counter.add(0, 0.0, 4)
    counter.add(1, 2.0, 2)
    counter.add(0, 3.0)
    counter.clear()
    assert (counter.total(0, 3.0), counter.total(1, 3.0)) == (0, 0)
    counter.add(1, 3.5)
    assert (counter.total(0, 3.5), counter.total(1, 3.5)) == (0, 1)
    counter.add(0, 5.0)
    assert (counter.total(0, 9.0), counter.total(1, 9.0)) == (1, 1)
    # the slots cleared while closed must not be subtracted again when they leave the window
    assert (counter.total(0, 10.0), counter.total(1, 10.0)) == (1, 0)
    assert (counter.total(0, 12.0), counter.total(1, 12.0)) == (0, 0)


def test_resolution_is_window_over_buckets() -> None:
    """An event counts for the window rounded to its bucket, whose width is ``window / buckets``."""
    fine = RollingCounter(10.0, 10, ("x",))
    coarse = RollingCounter(10.0, 2, ("x",))
    for counter in (fine, coarse):
        counter.add(0, 4.5)
    assert fine.total(0, 13.9) == 1
    assert fine.total(0, 14.0) == 0  # its 1 s bucket [4, 5) left at 14 s
    assert coarse.total(0, 14.0) == 0  # its 5 s bucket [0, 5) left at 10 s
    later = RollingCounter(10.0, 2, ("x",))
    later.add(0, 5.0)
    assert later.total(0, 14.9) == 1
    assert later.total(0, 15.0) == 0


times = st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=60).map(
    lambda steps: [sum(steps[: i + 1]) * 0.25 for i in range(len(steps))]
)


@given(
    moments=times,
    kinds=st.lists(st.integers(min_value=0, max_value=1), min_size=60, max_size=60),
    amounts=st.lists(st.integers(min_value=1, max_value=3), min_size=60, max_size=60),
    reads=st.lists(st.booleans(), min_size=60, max_size=60),
)
def test_totals_match_a_list_of_events(
    moments: list[float], kinds: list[int], amounts: list[int], reads: list[bool]
) -> None:
    """At any reading the total is the sum of events whose bucket is one of the last ``buckets`` ones."""
    counter = RollingCounter(WINDOW, BUCKETS, ("a", "b"))
    events: list[tuple[float, int, int]] = []

    def expected(kind: int, now: float) -> int:
        tick = now // SPAN
        return sum(n for t, k, n in events if k == kind and tick - BUCKETS < t // SPAN <= tick)

    for now, kind, amount, read in zip(moments, kinds, amounts, reads, strict=False):
        if read:
            assert counter.total(kind, now) == expected(kind, now)
        counter.add(kind, now, amount)
        events.append((now, kind, amount))
        assert counter.total(0, now) == expected(0, now)
        assert counter.total(1, now) == expected(1, now)
    last = moments[-1]
    for later in (last + SPAN, last + 3 * SPAN, last + WINDOW):
        assert counter.total(0, later) == expected(0, later)
        assert counter.total(1, later) == expected(1, later)


def test_clock_readings_below_zero_fall_in_their_own_buckets() -> None:
    """A monotonic clock may read below zero: -1.5 s lies in the bucket [-2, 0) of 2 s, not in [0, 2)."""
    counter = RollingCounter(WINDOW, BUCKETS, ("a",))
    counter.add(0, -7.5)  # bucket [-8, -6)
    counter.add(0, -0.5)  # bucket [-2, 0)
    assert counter.total(0, -0.5) == 2  # the window [-8, 0)
    assert counter.total(0, 0.0) == 1  # the window [-6, 2) holds [-2, 0) but no longer [-8, -6)
    assert counter.total(0, 6.0) == 0
