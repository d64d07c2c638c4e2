"""RetryBudget and its rolling window, on a fake clock."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry import RetryBudget
from aiohttp_retry.policy.window import RollingCounter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reserve_allows_retries_without_traffic() -> None:
    """With no calls yet, min_per_second * window retries are allowed, then none."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_second=1, window=10, clock=clock)
    assert [budget.try_retry("a") for _ in range(11)] == [True] * 10 + [False]


def test_ratio_of_calls() -> None:
    """Without a reserve, each call earns ``ratio`` retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_second=0, window=10, clock=clock)
    for _ in range(50):
        budget.record_call("a")
    assert sum(budget.try_retry("a") for _ in range(100)) == 10


def test_spent_retries_come_back_when_the_window_passes() -> None:
    """Calls and retries older than the window no longer count."""
    clock = FakeClock()
    budget = RetryBudget(ratio=1.0, min_per_second=0, window=10, clock=clock)
    budget.record_call("a")
    assert budget.try_retry("a")
    assert not budget.try_retry("a")
    clock.now += 10.5
    assert not budget.try_retry("a")  # the call expired too
    budget.record_call("a")
    assert budget.try_retry("a")


def test_origins_are_independent_and_bounded() -> None:
    """Each key has its own budget; only max_keys keys are remembered."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0, min_per_second=0.1, window=10, max_keys=2, clock=clock)
    assert budget.try_retry("a")
    assert not budget.try_retry("a")
    assert budget.try_retry("b")
    assert budget.try_retry("c")  # evicts "a"
    assert len(budget._tallies) == 2
    assert budget.try_retry("a")  # forgotten, so fresh


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["call", "retry"]), st.floats(min_value=0, max_value=3)), min_size=1, max_size=300
    )
)
def test_retries_never_exceed_the_budget_in_any_window(steps: list[tuple[str, float]]) -> None:
    """Over any run, retries granted within the last window stay within ratio * calls + reserve."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_second=0.5, window=10, clock=clock)
    events: list[tuple[float, str]] = []
    for kind, advance in steps:
        clock.now += advance
        if kind == "call":
            budget.record_call("k")
            events.append((clock.now, "call"))
        elif budget.try_retry("k"):
            events.append((clock.now, "retry"))
            # the window counts whole buckets of 1 s: anything newer than 9 s ago is surely inside it
            # and anything older than 10 s surely outside it
            recent_retries = sum(1 for t, k in events if k == "retry" and t > clock.now - 9)
            window_calls = sum(1 for t, k in events if k == "call" and t > clock.now - 10)
            assert recent_retries <= 0.2 * window_calls + 5


def test_rolling_counter_expires_bucket_by_bucket() -> None:
    """Counts leave the window one bucket at a time."""
    counter = RollingCounter(window=4, buckets=4, names=("x",))
    for second in range(4):
        counter.add(0, float(second))
    assert counter.total(0, 3.5) == 4
    assert counter.total(0, 4.0) == 3
    assert counter.total(0, 6.0) == 1
    assert counter.total(0, 100.0) == 0


def test_calls_leave_the_window_bucket_by_bucket() -> None:
    """Calls count while their bucket is inside the window and stop counting once it falls out."""
    clock = FakeClock()
    budget = RetryBudget(ratio=1.0, min_per_second=0, window=10, clock=clock)
    for _ in range(3):
        budget.record_call("a")  # bucket of t = 1000
    clock.now += 5
    budget.record_call("a")  # bucket of t = 1005
    clock.now += 5.5  # t = 1010.5: the first bucket has left the window, the second has not
    assert budget.try_retry("a")
    assert not budget.try_retry("a")
    clock.now += 10  # t = 1020.5: neither the calls nor the retry are left in the window
    budget.record_call("a")
    assert budget.try_retry("a")
    assert not budget.try_retry("a")
