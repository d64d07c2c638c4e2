"""What a report keeps per endpoint, and the immutable summary it hands out.

:class:`Row` holds the running counts of one endpoint, updated in place by the
report's listener; :class:`EndpointStats` is a read-only snapshot of a row (or
of all rows together) with the ratios and quantiles worked out.
"""

from __future__ import annotations

import math
import struct
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp_retry.report.sketch import LatencySketch

__all__ = ["ALL_METHODS", "EXACT", "NO_SLOT", "EndpointStats", "Row", "Slot", "SlotStats", "stats_of", "totals_of"]

#: The ``method`` of the overflow row and of the totals: they span every method.
ALL_METHODS = "*"
#: Widest bucket range of a second's latency sketch. Its accuracy is the row's (1 %), so that the second
#: is merged into the row's sketch when it closes: each duration is bucketed once, in the slot. 1024
#: buckets span a ratio of 10**8 before the lowest ones are folded; only the range in use takes memory.
SLOT_BUCKETS = 1024
_SLOT_QUANTILES = [0.5, 0.9, 0.99, 1.0]
#: Calls of one endpoint in one second whose durations are kept as they are before they go into a sketch.
EXACT = 8


def _counts(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` as a new dict, largest first (ties by name)."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class Slot:
    """The calls of one endpoint that end within the current second: how many succeeded, and their durations.

    Only a row's current second has a slot; when the next second starts, the
    slot is summed up into a record of the row's timeline and cleared for it.
    The first durations of a second are kept as they are, so that a quiet
    second is summed up quickly and exactly; from the ``EXACT + 1``-th call on,
    all of them are counted in the slot's sketch.
    """

    __slots__ = ("durations", "second", "sketch", "successes")

    def __init__(self, second: int) -> None:
        self.second = second
        self.successes = 0
        #: The durations of the calls that ended in this second while at most ``EXACT``; ``None`` once in ``sketch``.
        self.durations: list[float] | None = []
        self.sketch = LatencySketch(max_buckets=SLOT_BUCKETS)

    def spill(self, duration: float) -> None:
        """Count ``duration``, and the durations kept so far, in the sketch, where the next ones go too."""
        add = self.sketch.add
        for kept in self.durations or ():
            add(kept)
        add(duration)
        self.durations = None

    def add_to(self, sketch: LatencySketch) -> None:
        """Count this second's durations in ``sketch`` (a row's): a merge once they are in the slot's sketch."""
        durations = self.durations
        if durations is None:
            sketch.merge(self.sketch)
        else:
            for duration in durations:
                sketch.add(duration)

    def summary(self) -> tuple[int, float, float, float, float]:
        """Calls, p50, p90, p99 and max of the second; a slot is summed up only once counted in."""
        durations = self.durations
        if durations is None:
            sketch = self.sketch
            p50, p90, p99, top = sketch.ascending(_SLOT_QUANTILES)
            return sketch.count, p50, p90, p99, top
        ordered = sorted(durations)  # the value of rank q * (calls - 1), rounded down, as the sketch ranks
        last = len(ordered) - 1
        return last + 1, ordered[int(0.5 * last)], ordered[int(0.9 * last)], ordered[int(0.99 * last)], ordered[-1]

    def reset(self, second: int) -> None:
        """Make this the slot of ``second``, with no calls yet (the object is reused: no allocation once a second)."""
        self.second = second
        self.successes = 0
        if self.durations is None:
            self.sketch.clear()
            self.durations = []
        else:
            self.durations.clear()

    def record(self) -> tuple[float, ...]:
        """The second summed up: second, calls, successes, p50, p90, p99, max."""
        calls, p50, p90, p99, top = self.summary()
        return (self.second, calls, self.successes, p50, p90, p99, top)


#: The slot of a row before its first call: shared, never written (no clock reading falls in its second).
NO_SLOT = Slot(-(2**62))

#: One second of a row's timeline, 16 bytes: second (int32), calls and successes (uint16), then its
#: p50, p90, p99 and max as duration codes (int16).
_RECORD = struct.Struct("<iHH4h")
_SIZE = _RECORD.size
_CROWDED = 2**16 - 1  # the calls and successes of a second with this many calls or more: the counts are kept apart
_CODES_PER_UNIT = 1024.0  # codes per unit of natural log: a decoded duration is within 0.05 % of the recorded one
_CODE_LIMIT = 2**15 - 1  # durations beyond e**+/-32 (1.3e-14 s to 7.9e13 s) are recorded as those bounds
_NO_DURATION = -(2**15)  # the code of a duration of zero or less, read back as 0.0
_SECOND_LIMIT = 2**31 - 1  # seconds beyond +/-68 years are recorded as this bound
_exp = math.exp
_floor = math.floor
_log = math.log


def _code(duration: float) -> int:
    """``duration`` (seconds) as a 16-bit code: its natural log in 1/1024ths, rounded."""
    if duration <= 0.0:
        return _NO_DURATION
    code = _floor(_log(duration) * _CODES_PER_UNIT + 0.5)
    return code if -_CODE_LIMIT <= code <= _CODE_LIMIT else _CODE_LIMIT if code > 0 else -_CODE_LIMIT


def _duration(code: int) -> float:
    """The duration (seconds) of a code made by :func:`_code`, within 0.05 %."""
    return 0.0 if code == _NO_DURATION else _exp(code / _CODES_PER_UNIT)


class SlotStats(NamedTuple):
    """One second of one endpoint's timeline: the calls that ended in it and their durations (seconds).

    ``second`` counts from the report's creation; a second without calls has no record.
    """

    second: int
    calls: int
    successes: int
    gave_up: int
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None


def _slot_stats(record: Sequence[float]) -> SlotStats:
    second, calls, successes, p50, p90, p99, top = record
    return SlotStats(int(second), int(calls), int(successes), int(calls - successes), p50, p90, p99, top)


class Row:
    """The running counts of one endpoint (method and route name); updated in place by the report.

    Its timeline keeps at most ``seconds`` seconds, each a record of 16 bytes in
    one byte array, plus the current second's slot. A second's durations are kept
    as 16-bit logarithmic codes, read back within 0.05 % (a duration of zero or
    less reads back as 0.0), far finer than the 2 % of a slot's sketch. The
    counts of a second with 65,535 calls or more are kept exactly, apart.
    """

    __slots__ = (
        "calls",
        "causes",
        "closed",
        "crowded",
        "fired",
        "first",
        "gave_up",
        "last",
        "method",
        "oldest",
        "refused",
        "route",
        "seconds",
        "sketch",
        "slot",
        "statuses",
        "successes",
        "tries",
        "won",
    )

    def __init__(self, method: str, route: str, now: float, seconds: int) -> None:
        self.method = method
        self.route = route
        self.calls = 0
        self.successes = 0
        self.tries = 0
        self.refused = 0
        self.fired = 0
        self.won = 0
        self.causes: dict[str, int] = {}
        self.gave_up: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.sketch = LatencySketch()
        self.first = now
        self.last = now
        self.seconds = seconds
        self.closed = array("B")  # the past seconds' packed records: a ring once full, its oldest record at ``oldest``
        self.oldest = 0
        #: The calls and successes of the records of seconds too crowded for their fields, by record position.
        self.crowded: dict[int, tuple[int, int]] | None = None
        self.slot = NO_SLOT  # a placeholder: the first call starts a real slot

    def roll(self, second: int) -> Slot:
        """The slot of ``second``, started now after closing the current one (kept if the clock went back)."""
        slot = self.slot
        if second < slot.second:
            return slot
        if slot is NO_SLOT:
            slot = self.slot = Slot(second)
            return slot
        self._close(slot)
        slot.add_to(self.sketch)
        slot.reset(second)
        return slot

    def latencies(self) -> LatencySketch:
        """The durations of every call so far: the row's sketch, with the current second's added to a copy."""
        slot = self.slot
        if slot is NO_SLOT or slot.durations == []:
            return self.sketch
        sketch = self.sketch.copy()
        slot.add_to(sketch)
        return sketch

    def _close(self, slot: Slot) -> None:
        """Keep the record of ``slot``'s second in the timeline, in place of the oldest one once full."""
        calls, p50, p90, p99, top = slot.summary()
        try:  # the durations ascend (often equal in a quiet second): coded once each, in range if the ends are
            c50 = _floor(_log(p50) * _CODES_PER_UNIT + 0.5)
            c90 = c50 if p90 == p50 else _floor(_log(p90) * _CODES_PER_UNIT + 0.5)
            c99 = c90 if p99 == p90 else _floor(_log(p99) * _CODES_PER_UNIT + 0.5)
            c100 = c99 if top == p99 else _floor(_log(top) * _CODES_PER_UNIT + 0.5)
            codes = (c50, c90, c99, c100)
            if c50 < -_CODE_LIMIT or c100 > _CODE_LIMIT:
                codes = (_code(p50), _code(p90), _code(p99), _code(top))
        except ValueError:  # a duration of zero or less
            codes = (_code(p50), _code(p90), _code(p99), _code(top))
        second, successes = slot.second, slot.successes
        if not -_SECOND_LIMIT <= second <= _SECOND_LIMIT:
            second = _SECOND_LIMIT if second > 0 else -_SECOND_LIMIT
        crowd = calls >= _CROWDED
        counted = (_CROWDED, _CROWDED) if crowd else (calls, successes)
        closed, crowded = self.closed, self.crowded
        at = len(closed)
        if at < self.seconds * _SIZE:
            closed.frombytes(_RECORD.pack(second, *counted, *codes))
        else:  # full: the record replaces the oldest one
            at = self.oldest
            _RECORD.pack_into(closed, at, second, *counted, *codes)
            self.oldest = (at + _SIZE) % len(closed)
            if crowded is not None:
                crowded.pop(at, None)
        if crowd:
            if crowded is None:
                crowded = self.crowded = {}
            crowded[at] = (calls, successes)

    def timeline(self) -> list[SlotStats]:
        """The seconds kept (at most ``seconds``), oldest first, the current one included."""
        closed, crowded = self.closed, self.crowded
        stats = []
        for at in [*range(self.oldest, len(closed), _SIZE), *range(0, self.oldest, _SIZE)]:
            second, calls, successes, p50, p90, p99, top = _RECORD.unpack_from(closed, at)
            if crowded is not None and calls == _CROWDED:
                calls, successes = crowded[at]
            stats.append(
                SlotStats(
                    second,
                    calls,
                    successes,
                    calls - successes,
                    _duration(p50),
                    _duration(p90),
                    _duration(p99),
                    _duration(top),
                )
            )
        if self.slot is not NO_SLOT:
            stats.append(_slot_stats(self.slot.record()))
        return stats[-self.seconds :]


@dataclass(frozen=True)
class EndpointStats:
    """What a report saw of one endpoint (or, from :meth:`Report.totals`, of all of them).

    Durations are in seconds and cover whole calls, waits and retries included;
    they, ``success_ratio`` and ``calls_per_second`` are ``None`` until a call
    ended. ``tries`` is the sum of the tries of all calls; ``retries_by_cause``
    counts the retries scheduled by their cause (``"status 503"``,
    ``"ServerDisconnectedError"``); ``gave_up`` counts the calls that gave up by
    :class:`~aiohttp_retry.StopReason` value; ``statuses`` counts the calls by
    how they ended: a status class (``"2xx"`` ... ``"5xx"``), an error kind
    (``"connect"``, ``"timeout"`` ...), or ``"none"`` when nothing was sent.
    """

    method: str
    route: str
    calls: int
    successes: int
    success_ratio: float | None
    tries: int
    retries: int
    retries_by_cause: dict[str, int]
    gave_up: dict[str, int]
    budget_refusals: int
    statuses: dict[str, int]
    hedges_fired: int
    hedges_won: int
    mean: float | None
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    calls_per_second: float | None

    @property
    def endpoint(self) -> str:
        """``"GET /users/{id}"``; the route alone for a row that spans every method."""
        return self.route if self.method == ALL_METHODS else f"{self.method} {self.route}"

    @property
    def tries_per_call(self) -> float | None:
        """The mean number of tries per call; ``None`` until a call ended."""
        return self.tries / self.calls if self.calls else None

    @property
    def gave_up_total(self) -> int:
        """How many calls gave up, for whatever reason."""
        return sum(self.gave_up.values())

    def as_dict(self) -> dict[str, Any]:
        """The fields, and ``endpoint`` and ``tries_per_call``, as a JSON-serialisable dict."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["endpoint"] = self.endpoint
        fields["tries_per_call"] = self.tries_per_call
        for name in ("retries_by_cause", "gave_up", "statuses"):
            fields[name] = dict(fields[name])
        return fields


def stats_of(row: Row) -> EndpointStats:
    """A snapshot of ``row``."""
    calls, sketch = row.calls, row.latencies()
    span = row.last - row.first
    causes = _counts(row.causes)
    p50, p90, p99 = sketch.quantiles((0.5, 0.9, 0.99))
    return EndpointStats(
        method=row.method,
        route=row.route,
        calls=calls,
        successes=row.successes,
        success_ratio=row.successes / calls if calls else None,
        tries=row.tries,
        retries=sum(causes.values()),
        retries_by_cause=causes,
        gave_up=_counts(row.gave_up),
        budget_refusals=row.refused,
        statuses=_counts(row.statuses),
        hedges_fired=row.fired,
        hedges_won=row.won,
        mean=sketch.mean,
        p50=p50,
        p90=p90,
        p99=p99,
        max=sketch.max,
        calls_per_second=calls / span if calls and span > 0 else None,
    )


def totals_of(rows: Iterable[Row], route: str = "(total)") -> EndpointStats:
    """A snapshot of ``rows`` taken together: counts added up, latency sketches merged."""
    rows = list(rows)
    total = Row(ALL_METHODS, route, min((row.first for row in rows), default=0.0), 1)
    total.last = max((row.last for row in rows), default=0.0)
    for row in rows:
        total.calls += row.calls
        total.successes += row.successes
        total.tries += row.tries
        total.refused += row.refused
        total.fired += row.fired
        total.won += row.won
        for into, counted in ((total.causes, row.causes), (total.gave_up, row.gave_up), (total.statuses, row.statuses)):
            for name, count in counted.items():
                into[name] = into.get(name, 0) + count
        total.sketch.merge(row.latencies())
    return stats_of(total)
