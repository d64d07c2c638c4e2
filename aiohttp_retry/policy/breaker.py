"""A circuit breaker per origin: stop calling a dependency that keeps failing, and probe for its return.

States, per key:

- ``closed``: tries flow; each try's outcome is counted in a rolling window.
  Once the window holds at least ``minimum_throughput`` tries and the share of
  failures reaches ``failure_ratio``, the breaker opens.
- ``open``: tries are refused at once, for ``break_duration`` seconds.
- ``half_open``: up to ``half_open_probes`` tries at a time are let through.
  A probe that succeeds closes the breaker (with a fresh window); one that
  fails opens it again for another ``break_duration``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp_retry.events import BreakerStateChange
from aiohttp_retry.policy.validate import check_count, check_delay, check_ratio, check_window
from aiohttp_retry.policy.window import RollingCounter

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "BreakerStateChange", "CircuitBreaker", "Permit"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
_TRIES, _FAILURES = 0, 1


@dataclass(frozen=True)
class Permit:
    """A granted try: the breaker's generation (state changes so far) and whether it is a half-open probe.

    ``change`` is the state change that granting it caused (open to half-open), if any.

    Outcomes are reported with their permit, so a slow try granted before the
    breaker last changed state cannot decide the new state.
    """

    generation: int
    probe: bool
    change: BreakerStateChange | None = None


class _Circuit:
    __slots__ = ("generation", "opened_at", "permit", "probes", "state", "window")

    def __init__(self, window: RollingCounter) -> None:
        self.state = CLOSED
        self.window = window
        self.opened_at = 0.0
        self.probes = 0
        self.generation = 0
        self.permit = Permit(0, probe=False)  # shared by every try granted while closed


class CircuitBreaker:
    """Per-key circuit breakers with one configuration.

    Args:
        failure_ratio: share of failed tries in the window that opens the breaker (0 < r <= 1).
        minimum_throughput: tries the window must hold before the ratio counts.
        window: seconds of the rolling window, kept in ``buckets`` buckets.
        break_duration: seconds an open breaker refuses tries before probing.
        half_open_probes: tries let through at a time while probing.
        max_keys: origins tracked at once; when full, the one that least recently failed
            (or was asked about while open or half-open) is forgotten first, and one that
            never failed before any of them. A closed origin whose tries all succeeded
            loses nothing by it.
        clock: a monotonic clock in seconds.

    State changes are returned to the engine (:meth:`record`, ``Permit.change``),
    which emits them as :class:`~aiohttp_retry.events.BreakerStateChange` events
    to the listeners of the call that caused them.
    """

    def __init__(
        self,
        failure_ratio: float = 0.5,
        minimum_throughput: int = 20,
        window: float = 10.0,
        break_duration: float = 5.0,
        half_open_probes: int = 1,
        *,
        buckets: int = 10,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < check_ratio(failure_ratio, "failure_ratio") <= 1:
            msg = f"failure_ratio must be in (0, 1], got {failure_ratio!r}"
            raise ValueError(msg)
        self.failure_ratio = float(failure_ratio)
        self.minimum_throughput = check_count(minimum_throughput, "minimum_throughput")
        self.window = check_window(window)
        self.break_duration = check_delay(break_duration, "break_duration")
        self.half_open_probes = check_count(half_open_probes, "half_open_probes")
        self.buckets = check_count(buckets, "buckets")
        self.max_keys = check_count(max_keys, "max_keys")
        self.clock = clock
        self._circuits: OrderedDict[str, _Circuit] = OrderedDict()

    def _circuit(self, key: str) -> _Circuit:
        circuits = self._circuits
        circuit = circuits.get(key)
        if circuit is None:
            if len(circuits) >= self.max_keys:
                circuits.popitem(last=False)
            circuit = circuits[key] = _Circuit(RollingCounter(self.window, self.buckets, ("tries", "failures")))
            circuits.move_to_end(key, last=False)  # a new key has not failed yet: first to be forgotten
        elif circuit.state is not CLOSED:
            circuits.move_to_end(key)
        return circuit

    def _move(self, key: str, circuit: _Circuit, new: str, now: float) -> BreakerStateChange:
        old, circuit.state = circuit.state, new
        circuit.generation += 1
        circuit.permit = Permit(circuit.generation, probe=False)
        if new == OPEN:
            circuit.opened_at = now
        if new == CLOSED:
            circuit.window.clear()
        circuit.probes = 0
        return BreakerStateChange(key, old, new, now)

    def state(self, key: str) -> str:
        """The current state for ``key`` (an open breaker past its break reads ``half_open``)."""
        circuit = self._circuit(key)
        if circuit.state == OPEN and self.clock() - circuit.opened_at >= self.break_duration:
            return HALF_OPEN
        return circuit.state

    def would_refuse(self, key: str) -> bool:
        """Whether :meth:`acquire` would refuse a try to ``key`` now (it changes nothing)."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.state == CLOSED:
            return False
        if circuit.state == OPEN and self.clock() - circuit.opened_at < self.break_duration:
            return True
        return circuit.probes >= self._probe_limit(key) and circuit.state == HALF_OPEN

    def acquire(self, key: str) -> Permit | float:
        """Ask to send a try to ``key``: a :class:`Permit` grants it; a number refuses it (seconds to a probe)."""
        circuit = self._circuits.get(key)
        if circuit is not None and circuit.state is CLOSED:
            return circuit.permit  # the common case, on every call: no bookkeeping
        circuit = self._circuit(key)
        if circuit.state == CLOSED:
            return circuit.permit
        now = self.clock()
        change = None
        if circuit.state == OPEN:
            left = circuit.opened_at + self.break_duration - now
            if left > 0:
                return left
            change = self._move(key, circuit, HALF_OPEN, now)
        if circuit.probes >= self._probe_limit(key):
            return 0.0
        circuit.probes += 1
        return Permit(circuit.generation, probe=True, change=change)

    def _probe_limit(self, _key: str) -> int:
        """Probes a half-open breaker lets through at a time (a fleet's breaker has its slots granted)."""
        return self.half_open_probes

    def record(self, key: str, permit: Permit, *, failed: bool) -> BreakerStateChange | None:
        """Report the outcome of a try granted with ``permit``; outcomes from an earlier state are ignored.

        Returns the state change the outcome caused, or ``None``.
        """
        circuit = self._circuits.get(key)
        if circuit is None or permit.generation != circuit.generation:
            return None
        now = self.clock()
        if permit.probe:
            return self._move(key, circuit, OPEN if failed else CLOSED, now)
        window = circuit.window
        if not failed and now < window.until:
            window.newest[_TRIES] += 1  # a success within the newest bucket: the common case, inline
            return None
        window.add(_TRIES, now)
        if failed:
            self._circuits.move_to_end(key)  # keys are forgotten least recently failed first
            window.add(_FAILURES, now)
            tries = window.total(_TRIES, now)
            if (
                tries >= self.minimum_throughput
                and window.total(_FAILURES, now) >= self.failure_ratio * tries
                and self._opens_here(key)
            ):
                return self._move(key, circuit, OPEN, now)
        return None

    def _opens_here(self, _key: str) -> bool:
        """Whether this breaker's own window may open it (a fleet's breaker opens on the fleet's window)."""
        return True

    def release(self, key: str, permit: Permit) -> None:
        """Give back a granted try whose outcome will never be known (it was cancelled)."""
        circuit = self._circuits.get(key)
        if circuit is not None and permit.probe and permit.generation == circuit.generation and circuit.probes > 0:
            circuit.probes -= 1

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(failure_ratio={self.failure_ratio}, minimum_throughput={self.minimum_throughput}, "
            f"window={self.window}, break_duration={self.break_duration}, half_open_probes={self.half_open_probes})"
        )
