"""CircuitBreaker state machine on a fake clock."""

from __future__ import annotations

import pytest

from aiohttp_retry import BreakerStateChange, CircuitBreaker
from aiohttp_retry.policy.breaker import CLOSED, HALF_OPEN, OPEN


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def make(**kwargs: object) -> tuple[CircuitBreaker, FakeClock, list[BreakerStateChange]]:
    clock = FakeClock()
    events: list[BreakerStateChange] = []
    settings: dict[str, object] = {
        "failure_ratio": 0.5,
        "minimum_throughput": 4,
        "window": 10,
        "break_duration": 5,
        "clock": clock,
        "listeners": [events.append],
    }
    settings.update(kwargs)
    return CircuitBreaker(**settings), clock, events  # type: ignore[arg-type]


def test_opens_at_the_failure_ratio_after_minimum_throughput() -> None:
    """Failures open the breaker only once the window holds minimum_throughput tries."""
    breaker, _, events = make()
    for failed in (True, True, True):
        assert breaker.acquire("a") is None
        breaker.record("a", failed=failed)
    assert breaker.state("a") == CLOSED  # 3 tries < 4
    breaker.record("a", failed=False)
    assert breaker.state("a") == CLOSED  # a success does not open it
    breaker.record("a", failed=True)  # 4 failures of 5
    assert breaker.state("a") == OPEN
    assert [(e.key, e.old, e.new) for e in events] == [("a", CLOSED, OPEN)]


def test_open_refuses_then_probes_then_closes() -> None:
    """Open refuses with the time to the probe; after break_duration one probe passes; success closes."""
    breaker, clock, events = make(minimum_throughput=1)
    breaker.record("a", failed=True)
    assert breaker.acquire("a") == 5
    clock.now += 3
    assert breaker.acquire("a") == pytest.approx(2)
    clock.now += 2
    assert breaker.state("a") == HALF_OPEN
    assert breaker.acquire("a") is None  # the probe
    assert breaker.acquire("a") == 0.0  # a second caller waits while the probe is out
    breaker.record("a", failed=False)
    assert breaker.state("a") == CLOSED
    assert breaker.acquire("a") is None
    assert [e.new for e in events] == [OPEN, HALF_OPEN, CLOSED]
    assert events[1].at == 55.0


def test_failed_probe_opens_again() -> None:
    """A failed probe opens the breaker for another break_duration."""
    breaker, clock, _ = make(minimum_throughput=1)
    breaker.record("a", failed=True)
    clock.now += 5
    assert breaker.acquire("a") is None
    breaker.record("a", failed=True)
    assert breaker.state("a") == OPEN
    assert breaker.acquire("a") == 5


def test_cancelled_probe_is_given_back() -> None:
    """A probe whose outcome never comes frees its slot."""
    breaker, clock, _ = make(minimum_throughput=1)
    breaker.record("a", failed=True)
    clock.now += 5
    assert breaker.acquire("a") is None
    breaker.release("a")
    assert breaker.acquire("a") is None


def test_keys_are_independent_and_old_failures_expire() -> None:
    """Breakers are per key, and failures older than the window are forgotten."""
    breaker, clock, _ = make(minimum_throughput=2)
    breaker.record("a", failed=True)
    clock.now += 11
    breaker.record("a", failed=True)
    assert breaker.state("a") == CLOSED
    breaker.record("b", failed=True)
    breaker.record("b", failed=True)
    assert breaker.state("b") == OPEN
    assert breaker.state("a") == CLOSED


def test_outcomes_while_open_are_ignored() -> None:
    """A try granted before the breaker opened reports into the void."""
    breaker, _, events = make(minimum_throughput=1)
    breaker.record("a", failed=True)
    breaker.record("a", failed=False)
    assert breaker.state("a") == OPEN
    assert len(events) == 1


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
