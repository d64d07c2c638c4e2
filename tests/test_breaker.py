"""CircuitBreaker state machine on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from aiohttp_retry import BreakerStateChange, CircuitBreaker
from aiohttp_retry.policy.breaker import CLOSED, HALF_OPEN, OPEN, Permit


def grant(breaker: CircuitBreaker, key: str = "a") -> Permit:
    permit = breaker.acquire(key)
    assert isinstance(permit, Permit), f"refused for {permit} s"
    return permit


def fail(breaker: CircuitBreaker, key: str = "a") -> None:
    breaker.record(key, grant(breaker, key), failed=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class Recording(CircuitBreaker):
    """A breaker that keeps the state changes it reports to the engine (from acquire and record)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events: list[BreakerStateChange] = []

    def acquire(self, key: str) -> Permit | float:
        granted = super().acquire(key)
        if isinstance(granted, Permit) and granted.change is not None:
            self.events.append(granted.change)
        return granted

    def record(self, key: str, permit: Permit, *, failed: bool) -> BreakerStateChange | None:
        change = super().record(key, permit, failed=failed)
        if change is not None:
            self.events.append(change)
        return change


def make(**kwargs: object) -> tuple[CircuitBreaker, FakeClock, list[BreakerStateChange]]:
    clock = FakeClock()
    settings: dict[str, object] = {
        "failure_ratio": 0.5,
        "minimum_throughput": 4,
        "window": 10,
        "break_duration": 5,
        "clock": clock,
    }
    settings.update(kwargs)
    breaker = Recording(**settings)
    return breaker, clock, breaker.events


def test_opens_at_the_failure_ratio_after_minimum_throughput() -> None:
    """Failures open the breaker only once the window holds minimum_throughput tries."""
    breaker, _, events = make()
    for _ in range(3):
        fail(breaker)
    assert breaker.state("a") == CLOSED  # 3 tries < 4
    breaker.record("a", grant(breaker), failed=False)
    assert breaker.state("a") == CLOSED  # a success does not open it
    fail(breaker)  # 4 failures of 5
    assert breaker.state("a") == OPEN
    assert [(e.key, e.old, e.new) for e in events] == [("a", CLOSED, OPEN)]


def test_open_refuses_then_probes_then_closes() -> None:
    """Open refuses with the time to the probe; after break_duration one probe passes; success closes."""
    breaker, clock, events = make(minimum_throughput=1)
    fail(breaker)
    assert breaker.acquire("a") == 5
    clock.now += 3
    assert breaker.acquire("a") == pytest.approx(2)
    clock.now += 2
    assert breaker.state("a") == HALF_OPEN
    probe = grant(breaker)
    assert probe.probe
    assert breaker.acquire("a") == 0.0  # a second caller waits while the probe is out
    breaker.record("a", probe, failed=False)
    assert breaker.state("a") == CLOSED
    assert not grant(breaker).probe
    assert [e.new for e in events] == [OPEN, HALF_OPEN, CLOSED]
    assert events[1].at == 55.0


def test_failed_probe_opens_again() -> None:
    """A failed probe opens the breaker for another break_duration."""
    breaker, clock, _ = make(minimum_throughput=1)
    fail(breaker)
    clock.now += 5
    breaker.record("a", grant(breaker), failed=True)
    assert breaker.state("a") == OPEN
    assert breaker.acquire("a") == 5


def test_cancelled_probe_is_given_back() -> None:
    """A probe whose outcome never comes frees its slot."""
    breaker, clock, _ = make(minimum_throughput=1)
    fail(breaker)
    clock.now += 5
    breaker.release("a", grant(breaker))
    assert grant(breaker).probe


def test_keys_are_independent_and_old_failures_expire() -> None:
    """Breakers are per key, and failures older than the window are forgotten."""
    breaker, clock, _ = make(minimum_throughput=2)
    fail(breaker)
    clock.now += 11
    fail(breaker)
    assert breaker.state("a") == CLOSED
    fail(breaker, "b")
    fail(breaker, "b")
    assert breaker.state("b") == OPEN
    assert breaker.state("a") == CLOSED


def test_outcomes_of_earlier_states_are_ignored() -> None:
    """A slow try granted before the breaker changed state cannot decide the new state."""
    breaker, clock, events = make(minimum_throughput=1)
    early = grant(breaker)
    fail(breaker)
    breaker.record("a", early, failed=False)  # granted while closed, answers while open
    assert breaker.state("a") == OPEN
    clock.now += 5
    probe = grant(breaker)
    breaker.record("a", early, failed=False)  # answers while the real probe is out
    breaker.release("a", early)
    assert breaker.state("a") == HALF_OPEN
    assert breaker.acquire("a") == 0.0  # the probe slot is still taken
    breaker.record("a", probe, failed=False)
    assert breaker.state("a") == CLOSED
    assert [e.new for e in events] == [OPEN, HALF_OPEN, CLOSED]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"failure_ratio": 0}, "failure_ratio"),
        ({"failure_ratio": 1.5}, "failure_ratio"),
        ({"minimum_throughput": 0}, "minimum_throughput"),
        ({"half_open_probes": 0}, "half_open_probes"),
        ({"window": 0}, "window"),
        ({"break_duration": -1}, "break_duration"),
    ],
)
def test_bad_breaker_settings(kwargs: dict[str, float], name: str) -> None:
    """Bad settings are refused at construction, naming the parameter."""
    with pytest.raises(ValueError, match=name):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]
