"""Rules of the circuit breaker that callers rely on, on an injected clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry import BreakerStateChange, CircuitBreaker
from aiohttp_retry.policy.breaker import CLOSED, HALF_OPEN, OPEN, Permit


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def grant(breaker: CircuitBreaker, key: str = "a") -> Permit:
    permit = breaker.acquire(key)
    assert isinstance(permit, Permit), f"refused for {permit} s"
    return permit


def outcome(breaker: CircuitBreaker, key: str = "a", *, failed: bool) -> BreakerStateChange | None:
    return breaker.record(key, grant(breaker, key), failed=failed)


def opened(clock: Clock, **kwargs: object) -> CircuitBreaker:
    """A breaker for key "a" that one failure has just opened (break_duration 5 s unless given)."""
    settings: dict[str, object] = {"minimum_throughput": 1, "break_duration": 5, "clock": clock}
    settings.update(kwargs)
    breaker = CircuitBreaker(**settings)  # type: ignore[arg-type]
    assert outcome(breaker, failed=True) is not None
    assert breaker.state("a") == OPEN
    return breaker


# -- configuration ---------------------------------------------------------------------------------------


def test_defaults() -> None:
    """By default: half the tries failing, of at least 20 in 10 s (10 buckets), opens for 5 s; one probe; 1024 keys."""
    breaker = CircuitBreaker()
    assert (breaker.failure_ratio, breaker.minimum_throughput, breaker.window) == (0.5, 20, 10.0)
    assert (breaker.break_duration, breaker.half_open_probes, breaker.buckets, breaker.max_keys) == (5.0, 1, 10, 1024)
    assert isinstance(breaker.failure_ratio, float)


def test_default_minimum_throughput_and_ratio_in_action() -> None:
    """With the defaults, 19 failures leave the breaker closed and the 20th opens it; 10 of 20 is enough."""
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    for _ in range(19):
        assert outcome(breaker, failed=True) is None
    assert breaker.state("a") == CLOSED
    assert outcome(breaker, failed=True) is not None
    assert breaker.state("a") == OPEN
    assert breaker.acquire("a") == 5.0
    for _ in range(10):
        outcome(breaker, "b", failed=False)
    for _ in range(9):
        outcome(breaker, "b", failed=True)
    assert breaker.state("b") == CLOSED
    outcome(breaker, "b", failed=True)
    assert breaker.state("b") == OPEN


def test_default_window_is_tenseconds_in_onesecond_buckets() -> None:
    """Failures count for 10 s, to the second: one at 0.5 s is gone at 10 s, one at 1 s is not."""
    clock = Clock(0.5)
    breaker = CircuitBreaker(minimum_throughput=2, clock=clock)
    outcome(breaker, failed=True)
    clock.now = 10.0
    outcome(breaker, failed=True)
    assert breaker.state("a") == CLOSED
    clock.now = 1.0
    other = CircuitBreaker(minimum_throughput=2, clock=clock)
    outcome(other, failed=True)
    clock.now = 10.9
    outcome(other, failed=True)
    assert other.state("a") == OPEN


def test_settings_are_kept_and_shown() -> None:
    """Every constructor argument is kept as given (numbers of seconds as floats) and shown in the repr."""
    clock = Clock()
    breaker = CircuitBreaker(0.25, 7, 30, 12, 3, buckets=6, max_keys=9, clock=clock)
    assert breaker.failure_ratio == 0.25
    assert breaker.minimum_throughput == 7
    assert breaker.window == 30.0
    assert breaker.break_duration == 12.0
    assert breaker.half_open_probes == 3
    assert breaker.buckets == 6
    assert breaker.max_keys == 9
    assert breaker.clock is clock
    assert repr(breaker) == (
        "CircuitBreaker(failure_ratio=0.25, minimum_throughput=7, window=30.0, break_duration=12.0, half_open_probes=3)"
    )
    whole = CircuitBreaker(failure_ratio=1)
    assert whole.failure_ratio == 1.0
    assert isinstance(whole.failure_ratio, float)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"failure_ratio": 0.0}, ValueError, "failure_ratio"),
        ({"failure_ratio": 1.0001}, ValueError, "failure_ratio"),
        ({"failure_ratio": math.inf}, ValueError, "failure_ratio"),
        ({"failure_ratio": math.nan}, ValueError, "failure_ratio"),
        ({"failure_ratio": -0.5}, ValueError, "failure_ratio"),
        ({"failure_ratio": True}, TypeError, "failure_ratio"),
        ({"failure_ratio": "0.5"}, TypeError, "failure_ratio"),
        ({"minimum_throughput": True}, TypeError, "minimum_throughput"),
        ({"minimum_throughput": 2.0}, TypeError, "minimum_throughput"),
        ({"minimum_throughput": 0}, ValueError, "minimum_throughput"),
        ({"window": math.inf}, ValueError, "window"),
        ({"window": math.nan}, ValueError, "window"),
        ({"window": -1}, ValueError, "window"),
        ({"window": False}, TypeError, "window"),
        ({"break_duration": math.inf}, ValueError, "break_duration"),
        ({"break_duration": math.nan}, ValueError, "break_duration"),
        ({"break_duration": True}, TypeError, "break_duration"),
        ({"half_open_probes": True}, TypeError, "half_open_probes"),
        ({"half_open_probes": 1.0}, TypeError, "half_open_probes"),
        ({"buckets": 0}, ValueError, "buckets"),
        ({"buckets": True}, TypeError, "buckets"),
        ({"max_keys": 0}, ValueError, "max_keys"),
        ({"max_keys": True}, TypeError, "max_keys"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], error: type[Exception], name: str) -> None:
    """Wrong types raise TypeError and values out of range ValueError, each naming the parameter."""
    with pytest.raises(error, match=rf"^{name} must be "):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]


def test_failure_ratio_message_shows_the_range() -> None:
    """The failure_ratio message states the allowed interval and the value given."""
    with pytest.raises(ValueError, match=r"^failure_ratio must be in \(0, 1\], got 2$"):
        CircuitBreaker(failure_ratio=2)
    assert CircuitBreaker(break_duration=0).break_duration == 0.0


# -- closed: when the window opens the breaker ----------------------------------------------------------------


@given(
    ratio=st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]),
    minimum=st.integers(min_value=1, max_value=12),
    successes=st.integers(min_value=0, max_value=12),
)
def test_opens_at_the_first_failure_reaching_both_thresholds(ratio: float, minimum: int, successes: int) -> None:
    """After some successes, failures open the breaker at the first one with enough tries and share >= ratio."""
    clock = Clock()
    breaker = CircuitBreaker(failure_ratio=ratio, minimum_throughput=minimum, clock=clock)
    for _ in range(successes):
        assert outcome(breaker, failed=False) is None
    for failures in range(1, 30):
        tries = successes + failures
        change = outcome(breaker, failed=True)
        should_open = tries >= minimum and failures >= ratio * tries
        if should_open:
            assert change == BreakerStateChange("a", CLOSED, OPEN, clock.now)
            assert breaker.state("a") == OPEN
            break
        assert change is None
        assert breaker.state("a") == CLOSED


def test_exactly_at_the_ratio_opens() -> None:
    """A failure share equal to failure_ratio opens the breaker; just below it does not."""
    clock = Clock()
    breaker = CircuitBreaker(failure_ratio=0.25, minimum_throughput=4, clock=clock)
    for _ in range(3):
        outcome(breaker, failed=False)
    assert outcome(breaker, failed=True) is not None  # 1 of 4
    below = CircuitBreaker(failure_ratio=0.25, minimum_throughput=4, clock=clock)
    for _ in range(4):
        outcome(below, failed=False)
    assert outcome(below, failed=True) is None  # 1 of 5
    assert below.state("a") == CLOSED


def test_successes_alone_never_open() -> None:
    """However many tries succeed, the breaker stays closed and reports no change."""
    clock = Clock()
    breaker = CircuitBreaker(failure_ratio=0.1, minimum_throughput=1, clock=clock)
    for step in range(50):
        clock.now += 0.3 * (step % 3)
        assert outcome(breaker, failed=False) is None
    assert breaker.state("a") == CLOSED


def test_tries_and_failures_leave_the_window_together() -> None:
    """Successes older than the window stop diluting the failures, bucket by bucket."""
    clock = Clock(0.0)
    breaker = CircuitBreaker(failure_ratio=0.5, minimum_throughput=2, window=4, buckets=4, clock=clock)
    for _ in range(3):
        outcome(breaker, failed=False)  # bucket [0, 1)
    clock.now = 1.0
    outcome(breaker, failed=False)  # bucket [1, 2)
    clock.now = 4.5  # the first bucket has left: 1 success remains
    assert outcome(breaker, failed=True) is not None  # 1 failure of 2
    clock.now = 0.0
    kept = CircuitBreaker(failure_ratio=0.5, minimum_throughput=2, window=4, buckets=4, clock=clock)
    for _ in range(3):
        outcome(kept, failed=False)
    clock.now = 3.9
    assert outcome(kept, failed=True) is None  # 1 failure of 4


def test_a_success_in_a_later_bucket_is_counted() -> None:
    """A success that opens a new bucket counts as a try, like one within the bucket in progress."""
    clock = Clock(0.0)
    breaker = CircuitBreaker(failure_ratio=0.7, minimum_throughput=2, window=10, clock=clock)
    outcome(breaker, failed=True)
    clock.now = 2.0
    outcome(breaker, failed=False)
    assert outcome(breaker, failed=True) is None  # 2 failures of 3 tries is below 0.7
    assert breaker.state("a") == CLOSED


# -- open and half-open: refusing, probing, closing -----------------------------------------------------------


def test_open_refuses_until_the_break_has_passed_to_the_instant() -> None:
    """While open, a try is refused with the seconds left; at exactly break_duration a probe goes out."""
    clock = Clock()
    breaker = opened(clock)
    clock.now += 4.5
    assert breaker.acquire("a") == pytest.approx(0.5)
    assert breaker.would_refuse("a")
    clock.now += 0.5
    assert not breaker.would_refuse("a")
    probe = grant(breaker)
    assert probe.probe is True
    assert probe.change == BreakerStateChange("a", OPEN, HALF_OPEN, clock.now)


def test_probes_are_limited_to_half_open_probes_at_a_time() -> None:
    """With half_open_probes=3, exactly three probes are out at once; the fourth is refused with 0 s to wait."""
    clock = Clock()
    breaker = opened(clock, half_open_probes=3)
    clock.now += 5
    probes = [grant(breaker) for _ in range(3)]
    assert [p.probe for p in probes] == [True, True, True]
    assert probes[0].change is not None
    assert probes[1].change is None  # only the first probe moved the breaker to half-open
    assert probes[2].change is None
    assert breaker.acquire("a") == 0.0
    assert breaker.would_refuse("a")


def test_would_refuse_agrees_with_acquire_while_probing() -> None:
    """Half-open with a probe slot free, would_refuse says no; with every slot taken, yes; it changes nothing."""
    clock = Clock()
    breaker = opened(clock, half_open_probes=2)
    clock.now += 5
    grant(breaker)
    assert breaker.state("a") == HALF_OPEN
    assert not breaker.would_refuse("a")
    assert not breaker.would_refuse("a")  # asking twice takes no slot
    grant(breaker)
    assert breaker.would_refuse("a")
    assert breaker.acquire("a") == 0.0


def test_would_refuse_knows_nothing_of_an_unknown_key() -> None:
    """A key never used is not refused, and asking does not start tracking it."""
    breaker = CircuitBreaker()
    assert not breaker.would_refuse("never")
    assert breaker.record("never", Permit(0, probe=False), failed=True) is None
    breaker.release("never", Permit(0, probe=True))
    assert not breaker.would_refuse("never")


def test_releasing_a_probe_frees_exactly_its_own_slot() -> None:
    """A cancelled probe gives back one slot, no more; giving one back twice never makes room for an extra probe."""
    clock = Clock()
    breaker = opened(clock, half_open_probes=2)
    clock.now += 5
    first, second = grant(breaker), grant(breaker)
    breaker.release("a", first)
    third = grant(breaker)
    assert breaker.acquire("a") == 0.0
    breaker.release("a", third)
    breaker.release("a", second)
    breaker.release("a", second)  # once too often: the count stays at zero
    grant(breaker)
    grant(breaker)
    assert breaker.acquire("a") == 0.0


def test_releasing_a_closed_permit_changes_nothing() -> None:
    """Only probes hold a slot: releasing an ordinary permit does not let an extra probe through."""
    clock = Clock()
    breaker = opened(clock, half_open_probes=1)
    clock.now += 5
    grant(breaker)
    breaker.release("a", Permit(breaker.acquire("b").generation, probe=False))  # type: ignore[union-attr]
    breaker.release("a", Permit(2, probe=False))
    assert breaker.acquire("a") == 0.0


def test_generation_counts_state_changes() -> None:
    """A permit carries the number of state changes so far: 0 while never changed, then one more per change."""
    clock = Clock()
    breaker = CircuitBreaker(minimum_throughput=1, clock=clock)
    first = grant(breaker)
    assert (first.generation, first.probe) == (0, False)
    breaker.record("a", first, failed=True)  # closed -> open
    clock.now += 5
    probe = grant(breaker)  # open -> half-open
    assert (probe.generation, probe.probe) == (2, True)
    breaker.record("a", probe, failed=False)  # half-open -> closed
    again = grant(breaker)
    assert (again.generation, again.probe) == (3, False)


def test_changes_name_their_key() -> None:
    """Every state change says which key it happened to."""
    clock = Clock()
    breaker = CircuitBreaker(minimum_throughput=1, clock=clock)
    opening = outcome(breaker, "db", failed=True)
    assert opening == BreakerStateChange("db", CLOSED, OPEN, clock.now)
    clock.now += 5
    probe = grant(breaker, "db")
    assert probe.change == BreakerStateChange("db", OPEN, HALF_OPEN, clock.now)
    assert breaker.record("db", probe, failed=False) == BreakerStateChange("db", HALF_OPEN, CLOSED, clock.now)


def test_a_closed_again_breaker_counts_afresh_and_opens_again() -> None:
    """After a probe closes it, the breaker counts new outcomes from an empty window and can open again."""
    clock = Clock()
    breaker = CircuitBreaker(failure_ratio=0.5, minimum_throughput=2, clock=clock)
    outcome(breaker, failed=True)
    assert outcome(breaker, failed=True) is not None
    clock.now += 5
    assert breaker.record("a", grant(breaker), failed=False) is not None
    assert breaker.state("a") == CLOSED
    assert outcome(breaker, failed=True) is None  # 1 try in the fresh window: below minimum_throughput
    assert outcome(breaker, failed=True) == BreakerStateChange("a", CLOSED, OPEN, clock.now)


def test_a_probe_from_an_earlier_half_open_period_decides_nothing() -> None:
    """A slow probe answered after the breaker reopened and began probing again is ignored."""
    clock = Clock()
    breaker = opened(clock)
    clock.now += 5
    old_probe = grant(breaker)
    breaker.release("a", old_probe)  # pretend it is still under way: its slot was given back
    fail_probe = grant(breaker)
    assert breaker.record("a", fail_probe, failed=True) is not None  # reopened
    clock.now += 5
    grant(breaker)  # half-open again, one probe out
    assert breaker.record("a", old_probe, failed=False) is None
    assert breaker.state("a") == HALF_OPEN


# -- keys: how many are remembered and which is forgotten ------------------------------------------------------


def test_max_keys_is_the_number_remembered() -> None:
    """With max_keys=2, two open keys stay open; a third key makes the breaker forget one of them."""
    clock = Clock()
    breaker = CircuitBreaker(minimum_throughput=1, max_keys=2, clock=clock)
    outcome(breaker, "a", failed=True)
    outcome(breaker, "b", failed=True)
    assert breaker.would_refuse("a")
    assert breaker.would_refuse("b")
    grant(breaker, "c")
    assert [breaker.would_refuse(key) for key in ("a", "b")] == [False, True]


def test_the_least_recently_failed_key_is_forgotten_first() -> None:
    """Asking about an open key, or a failure, keeps it; the key left alone longest is forgotten."""
    clock = Clock()
    breaker = CircuitBreaker(minimum_throughput=1, max_keys=2, clock=clock)
    outcome(breaker, "a", failed=True)
    outcome(breaker, "b", failed=True)
    assert isinstance(breaker.acquire("a"), float)  # asked about while open: now the most recent
    grant(breaker, "c")
    assert [breaker.would_refuse(key) for key in ("a", "b")] == [True, False]


def test_a_key_that_never_failed_is_forgotten_before_one_that_did() -> None:
    """New keys go to the front of the line to be forgotten: they have nothing to lose."""
    clock = Clock()
    breaker = CircuitBreaker(minimum_throughput=1, max_keys=2, clock=clock)
    outcome(breaker, "a", failed=True)
    grant(breaker, "b")
    grant(breaker, "c")  # forgets "b", not the older but failing "a"
    assert breaker.would_refuse("a")
