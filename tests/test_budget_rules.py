"""Rules of the retry budget that callers rely on: defaults, boundaries of its buckets, expiry, keys."""

from __future__ import annotations

import pytest

from aiohttp_retry import RetryBudget


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def allowed(budget: RetryBudget, key: str = "a", limit: int = 1000) -> int:
    """How many retries the budget grants right now (spending them)."""
    granted = 0
    while granted < limit and budget.try_retry(key):
        granted += 1
    return granted


def test_defaults_are_twenty_percent_ten_per_second_over_ten_seconds() -> None:
    """RetryBudget() allows 20 % of calls plus 10 retries a second over a 10 s window, for 1024 keys."""
    budget = RetryBudget(clock=Clock())
    assert (budget.ratio, budget.min_per_second, budget.window, budget.max_keys) == (0.2, 10.0, 10.0, 1024)
    for _ in range(50):
        budget.record_call("a")
    assert allowed(budget) == 100 + 10  # the reserve of 10/s * 10 s, and 20 % of 50 calls


def test_default_window_expires_calls_after_ten_seconds() -> None:
    """With the default 10 s window, calls of the first second stop counting at 10 s, not before."""
    clock = Clock()
    budget = RetryBudget(min_per_second=0, clock=clock)
    for _ in range(10):
        budget.record_call("a")
    clock.now = 9.9
    assert allowed(budget) == 2
    clock.now = 10.0
    assert allowed(budget) == 0


def test_default_keeps_1024_keys() -> None:
    """The 1025th key makes the budget forget the first one; 1024 keys are all kept."""
    budget = RetryBudget(ratio=0, min_per_second=0.1, clock=Clock())
    for n in range(1024):
        assert budget.try_retry(f"k{n}")
    assert not budget.try_retry("k0")  # still remembered: its one retry is spent
    assert budget.try_retry("k1024")
    assert budget.try_retry("k0")  # the oldest key was forgotten, so it starts afresh


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"ratio": -0.1}, ValueError, "ratio"),
        ({"ratio": True}, TypeError, "ratio"),
        ({"min_per_second": float("nan")}, ValueError, "min_per_second"),
        ({"min_per_second": "1"}, TypeError, "min_per_second"),
        ({"window": 0}, ValueError, "window"),
        ({"max_keys": 0}, ValueError, "max_keys"),
        ({"max_keys": 2.0}, TypeError, "max_keys"),
    ],
)
def test_bad_settings_name_the_parameter(kwargs: dict[str, object], error: type[Exception], name: str) -> None:
    """Each refused setting raises an error whose message starts with the parameter's name."""
    with pytest.raises(error, match=rf"^{name} must be "):
        RetryBudget(**kwargs)  # type: ignore[arg-type]


def test_a_call_exactly_on_a_bucket_edge_belongs_to_the_later_bucket() -> None:
    """A call at 1.0 s lies in the bucket [1, 2): it still counts at 10.0 s, when [0, 1) has left the window."""
    clock = Clock()
    budget = RetryBudget(ratio=1, min_per_second=0, clock=clock)
    budget.record_call("a")  # [0, 1)
    clock.now = 1.0
    budget.record_call("a")  # [1, 2)
    clock.now = 10.0
    assert allowed(budget) == 1


def test_buckets_follow_the_window_length() -> None:
    """A 5 s window has buckets of 0.5 s: a call at 0.4 s leaves at 5.0 s, one at 0.6 s stays until 5.5 s."""

    def calls_left_at(now: float) -> int:
        clock = Clock(0.4)
        budget = RetryBudget(ratio=1, min_per_second=0, window=5, clock=clock)
        budget.record_call("a")
        clock.now = 0.6
        budget.record_call("a")
        clock.now = now
        return allowed(budget)

    assert [calls_left_at(now) for now in (4.9, 5.0, 5.4, 5.5)] == [2, 1, 1, 0]


def test_a_call_in_the_next_bucket_is_not_counted_in_the_one_before() -> None:
    """Calls in consecutive buckets expire one bucket apart: at 10.5 s only the call made at 1.5 s counts."""
    clock = Clock(0.5)
    budget = RetryBudget(ratio=1, min_per_second=0, clock=clock)
    budget.record_call("a")
    clock.now = 1.5
    budget.record_call("a")
    clock.now = 10.5
    assert allowed(budget) == 1


def test_a_jump_of_several_buckets_empties_exactly_those_left_behind() -> None:
    """After a gap of three buckets, the calls of the three oldest buckets are gone and the rest still count."""
    clock = Clock()
    budget = RetryBudget(ratio=1, min_per_second=0, clock=clock)
    for second in range(10):
        clock.now = second + 0.5
        for _ in range(second + 1):  # 1 call in [0, 1), 2 in [1, 2), ..., 10 in [9, 10)
            budget.record_call("a")
    clock.now = 12.5  # the window [3, 13) keeps the buckets of 4 + 5 + ... + 10 calls
    assert allowed(budget) == sum(range(4, 11))


def test_a_reading_on_an_edge_that_rounds_back_loses_no_call() -> None:
    """Where floating point puts a bucket's end back inside that bucket, calls counted there are all kept."""
    clock = Clock()
    budget = RetryBudget(ratio=1, min_per_second=0, window=7, clock=clock)
    per_second = 10 / 7
    edge = (6 + 1) / per_second  # where the bucket numbered 6 ends, as the budget computes it
    assert int(edge * per_second) == 6  # ...yet that reading still falls in bucket 6
    clock.now = edge - 0.01
    budget.record_call("a")
    clock.now = edge
    budget.record_call("a")
    budget.record_call("a")
    assert allowed(budget) == 3


def test_keys_are_forgotten_oldest_first() -> None:
    """When max_keys is reached the key first seen goes, even if it was used since."""
    budget = RetryBudget(ratio=0, min_per_second=0.1, max_keys=2, clock=Clock())
    assert budget.try_retry("a")
    assert budget.try_retry("b")
    assert not budget.try_retry("a")  # used again, yet still the oldest key
    assert budget.try_retry("c")  # forgets "a"
    assert not budget.try_retry("b")
    assert budget.try_retry("a")


def test_counts_tell_the_calls_and_retries_in_the_window() -> None:
    """counts(key): the calls (closed buckets and the one in progress) and the retries within the window now."""
    clock = Clock()
    budget = RetryBudget(ratio=1.0, min_per_second=0, window=10, clock=clock)
    assert budget.counts("a") == (0, 0)
    budget.record_call("a")
    clock.now = 1.0
    budget.record_call("a")
    budget.record_call("a")
    assert budget.try_retry("a")
    assert budget.counts("a") == (3, 1)
    assert budget.counts("b") == (0, 0)
    clock.now = 10.5  # the first second has left the window
    assert budget.counts("a") == (2, 1)
    clock.now = 11.0
    assert budget.counts("a") == (0, 0)


def test_record_retry_counts_a_retry_the_budget_would_refuse() -> None:
    """A retry granted by another rule (a fleet's) is counted all the same, and spends this budget's room."""
    clock = Clock()
    budget = RetryBudget(ratio=0.5, min_per_second=0, window=10, clock=clock)
    budget.record_call("a")
    budget.record_call("a")
    budget.record_retry("a")
    budget.record_retry("a")
    assert budget.counts("a") == (2, 2)
    assert not budget.try_retry("a")  # 2 retries already against a room of 1
    clock.now = 5.0
    budget.record_retry("a")
    assert budget.counts("a") == (2, 3)
