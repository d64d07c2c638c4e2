"""A mergeable latency histogram with bounded relative error and bounded memory.

Values are counted in logarithmic buckets: with relative accuracy ``alpha``,
``gamma = (1 + alpha) / (1 - alpha)`` and a positive value ``x`` falls in
bucket ``ceil(log(x) / log(gamma))``. Every value in bucket ``i`` lies in
``(gamma**(i-1), gamma**i]``, so the bucket's representative value
``2 * gamma**i / (gamma + 1)`` is within ``alpha`` of each of them, relatively.
A quantile is therefore within ``alpha`` of the value of that rank, whatever
the distribution, and two sketches with the same ``alpha`` merge exactly.

The counts live in one contiguous array covering a range of bucket indexes,
widened at either end when a value falls outside it, with some spare buckets
so that widening stays rare. A bucket takes four bytes (``array('I')``) until
one of them counts 2**32 values; then the array is widened to eight bytes a
bucket (``array('q')``) and stays so until :meth:`LatencySketch.clear`. Memory is
bounded by ``max_buckets``, the widest range kept: when a value would make it
wider, the lowest buckets are folded into the one ``max_buckets - 1`` below the
highest, and later values below that floor join it. Only the lowest quantiles
lose accuracy, never the tail. Zero and negative values are counted apart, in
a zero bucket. The count, sum, minimum and maximum are exact.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator
from itertools import compress

__all__ = ["LatencySketch"]

_NO_FLOOR = -(2**62)  # below any bucket index a float can reach
_SPARE = 16  # buckets added beyond the one needed when the range widens (plus an eighth of its width)
_NARROW, _WIDE = "I", "q"  # the typecode of the counts, then the one they are widened to
_NARROW_ZERO = array(_NARROW, (0,))  # repeated into a range of empty buckets
_ceil = math.ceil
_log = math.log


class LatencySketch:
    """A log-bucketed histogram of positive values (latencies in seconds, say) answering quantiles.

    Args:
        alpha: relative accuracy of quantiles, ``0 < alpha < 1`` (default ``0.01``: 1 %).
        max_buckets: widest range of buckets kept, at least 2 (default 2048: at ``alpha=0.01``
            the largest value may be 10**17 times the smallest before any bucket is folded).

    A quantile ``q`` is the value of rank ``q * (count - 1)`` rounded down (the
    lower one), within ``alpha``; ``quantile(0)`` and ``quantile(1)`` are the exact
    minimum and maximum.

    Raises:
        ValueError: ``alpha`` or ``max_buckets`` out of range.
    """

    __slots__ = (
        "_count",
        "_counts",
        "_floor",
        "_gamma",
        "_max",
        "_min",
        "_multiplier",
        "_offset",
        "_sum",
        "_zero",
        "alpha",
        "max_buckets",
    )

    def __init__(self, alpha: float = 0.01, max_buckets: int = 2048) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
            msg = f"alpha must be a number with 0 < alpha < 1 (relative accuracy, such as 0.01), got {alpha!r}"
            raise ValueError(msg)
        if isinstance(max_buckets, bool) or not isinstance(max_buckets, int) or max_buckets < 2:  # noqa: PLR2004
            msg = f"max_buckets must be an integer >= 2, got {max_buckets!r}"
            raise ValueError(msg)
        self.alpha = float(alpha)
        self.max_buckets = max_buckets
        self._gamma = (1.0 + self.alpha) / (1.0 - self.alpha)
        self._multiplier = 1.0 / math.log(self._gamma)
        self._counts = array(_NARROW)  # the count of bucket ``_offset + i`` at ``i``
        self._offset = 0
        self._floor = _NO_FLOOR  # values of a lower bucket are counted in this one (set once buckets are folded)
        self._zero = 0
        self._count = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    def add(self, value: float) -> None:
        """Count ``value`` once.

        Raises:
            ValueError: ``value`` is NaN or infinite.
        """
        try:
            index = _ceil(_log(value) * self._multiplier)
        except (ValueError, OverflowError):  # zero, negative, NaN or infinite: off the fast path
            self._add_zero(value)
            return
        at = index - self._offset
        if at >= 0:
            try:
                self._counts[at] += 1
            except (IndexError, OverflowError):  # above the range, or a count outgrew its four bytes
                self._place(index)
        else:
            self._place(index)
        self._count += 1
        self._sum += value
        if value < self._min:  # noqa: PLR1730 - an if costs less than a call to min()
            self._min = value
        if value > self._max:  # noqa: PLR1730
            self._max = value

    def _add_zero(self, value: float) -> None:
        if not -math.inf < value <= 0.0:  # NaN compares false; infinities have no bucket
            msg = f"LatencySketch counts finite numbers, got {value!r}"
            raise ValueError(msg)
        self._count += 1
        self._sum += value
        self._min = min(self._min, value)
        self._max = max(self._max, value)
        self._zero += 1

    def _extent(self) -> tuple[int, int] | None:
        """The lowest and highest bucket indexes that are not empty; ``None`` when all are."""
        raw = self._counts.tobytes()
        size = self._counts.itemsize
        head = len(raw) - len(raw.lstrip(b"\0"))  # the first non-zero byte lies in the first non-empty bucket
        if head == len(raw):
            return None
        tail = len(raw.rstrip(b"\0"))
        return self._offset + head // size, self._offset + (tail - 1) // size

    def _place(self, index: int) -> None:
        """Count a value of bucket ``index``, widening the range (or folding its lowest buckets) to hold it.

        Called by :meth:`add` before it counts the value: while every value counted is in the
        zero bucket, every other bucket is empty (and no floor is set).
        """
        counts = self._counts
        if self._count == self._zero:  # every bucket empty: the range moves (as wide), centred on the new one
            if not counts:
                counts = self._counts = _NARROW_ZERO * min(_SPARE, self.max_buckets)
            middle = len(counts) >> 1
            self._offset = index - middle
            counts[middle] = 1
            return
        index = max(index, self._floor)
        offset = self._offset
        at = index - offset
        if 0 <= at < len(counts):
            self._bump(at, 1)
            return
        limit = self.max_buckets
        spare = _SPARE + len(counts) // 8
        if index < offset:  # the range grows down to the new bucket, and some spare ones below it
            low, high = max(index - spare, self._floor), offset + len(counts) - 1
        else:
            low, high = offset, index + spare
        if high - low >= limit:  # too wide: the empty ends go first, then the lowest buckets are folded
            first, last = self._extent() or (index, index)  # never empty here: some value is in a bucket
            first, last = min(first, index), max(last, index)
            room = limit - (last - first + 1)
            if room < 0:
                low = self._floor = last - limit + 1
                high = last
                index = max(index, low)
            elif index == first:
                low = max(first - min(room, spare), self._floor)
                high = min(high, low + limit - 1)
            else:
                high = last + min(room, spare)
                low = max(low, high - limit + 1)
        self._relayout(low, high)
        self._bump(index - low, 1)

    def _bump(self, at: int, count: int) -> None:
        """Add ``count`` to the bucket at ``at`` in the array, widening the array's items if it overflows."""
        try:
            self._counts[at] += count
        except OverflowError:
            self._counts = array(_WIDE, self._counts)
            self._counts[at] += count

    def _relayout(self, low: int, high: int) -> None:
        """Cover buckets ``low`` to ``high`` exactly, counts below ``low`` folded into it (none lie above ``high``)."""
        counts, offset = self._counts, self._offset
        fresh = array(counts.typecode, (0,)) * (high - low + 1)
        begin, end = max(low, offset), min(high + 1, offset + len(counts))
        if begin < end:
            fresh[begin - low : end - low] = counts[begin - offset : end - offset]
        self._counts, self._offset = fresh, low
        if offset < low:
            self._bump(0, sum(counts[: low - offset]))

    def merge(self, other: LatencySketch) -> None:
        """Add every value counted by ``other`` (a sketch with the same ``alpha``) to this one.

        Raises:
            ValueError: ``other`` has another ``alpha``: its buckets do not line up with these.
        """
        if not isinstance(other, LatencySketch):
            msg = f"merge needs a LatencySketch, got a {type(other).__name__}"
            raise TypeError(msg)
        if other._gamma != self._gamma:
            msg = f"cannot merge sketches of different alpha: {self.alpha} and {other.alpha}"
            raise ValueError(msg)
        if other._count == 0:
            return
        self._count += other._count
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        self._zero += other._zero
        theirs = other._extent()
        if theirs is None:  # only zeros
            return
        floor = self._floor = max(self._floor, other._floor)
        mine = self._extent()
        low, high = theirs if mine is None else (min(mine[0], theirs[0]), max(mine[1], theirs[1]))
        low = max(low, floor)  # the highest bucket is at or above either floor: it holds values
        if high - low >= self.max_buckets:
            low = self._floor = high - self.max_buckets + 1
        self._relayout(low, high)
        shift = other._offset - low
        for at, count in enumerate(other._counts):
            if count:
                self._bump(max(at + shift, 0), count)

    def copy(self) -> LatencySketch:
        """A sketch of the same values, independent of this one."""
        twin = LatencySketch(self.alpha, self.max_buckets)
        twin._counts = self._counts[:]
        twin._offset, twin._floor, twin._zero = self._offset, self._floor, self._zero
        twin._count, twin._sum, twin._min, twin._max = self._count, self._sum, self._min, self._max
        return twin

    def quantile(self, q: float) -> float | None:
        """The value at quantile ``q`` (``0 <= q <= 1``), within ``alpha`` relative; ``None`` when empty.

        Raises:
            ValueError: ``q`` out of range.
        """
        return self.quantiles((q,))[0]

    def quantiles(self, qs: Iterable[float]) -> list[float | None]:
        """The values at each of the quantiles ``qs``, in one pass over the buckets (see :meth:`quantile`).

        Raises:
            ValueError: a quantile out of range.
        """
        wanted = list(qs)
        for q in wanted:
            if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 <= q <= 1.0:
                msg = f"q must be a number with 0 <= q <= 1, got {q!r}"
                raise ValueError(msg)
        if self._count == 0:
            return [None] * len(wanted)
        order = sorted(range(len(wanted)), key=wanted.__getitem__)
        values = self.ascending([wanted[at] for at in order])
        found: list[float | None] = [None] * len(wanted)
        for at, value in zip(order, values, strict=True):
            found[at] = value
        return found

    def ascending(self, qs: list[float]) -> list[float]:
        """The values at ``qs``, quantiles already checked and in ascending order, of a sketch not empty."""
        low, high = self._min, self._max
        if low == high:  # every value the same (one value, say): every quantile is it
            return [low] * len(qs)
        last = self._count - 1
        lowest = highest = 0
        ranks = []
        for q in qs:  # the extremes are known exactly: the minimum and maximum
            if q <= 0.0:
                lowest += 1
            elif q >= 1.0:
                highest += 1
            else:
                ranks.append(q * last)
        return [low] * lowest + self._at_ranks(ranks) + [high] * highest

    def _at_ranks(self, ranks: list[float]) -> list[float]:
        """The values of ``ranks`` (ascending, each below the count): a bucket's value, clamped into [min, max]."""
        low, high = self._min, self._max
        found: list[float] = []
        seen, at, wanted = self._zero, 0, len(ranks)
        while at < wanted and ranks[at] < seen:  # the zero bucket's values are at most 0: the minimum is the best guess
            found.append(low)
            at += 1
        if at == wanted:
            return found
        # some value is positive: the buckets of the minimum (or the floor) and of the maximum bound the others
        gamma, offset, multiplier = self._gamma, self._offset, self._multiplier
        scale = 2.0 / (gamma + 1.0)
        begin = 0 if low <= 0.0 else max(_ceil(_log(low) * multiplier) - offset, 0)  # below 0: folded into the floor
        window = self._counts[begin : _ceil(_log(high) * multiplier) - offset + 1]
        position = 0
        for position, count in compress(enumerate(window, begin), window):  # the non-empty buckets
            seen += count
            if seen > ranks[at]:
                value = scale * gamma ** (offset + position)
                if value < low:  # clamped into [min, max], where every value is
                    value = low
                elif value > high:
                    value = high
                while at < wanted and seen > ranks[at]:
                    found.append(value)
                    at += 1
                if at == wanted:
                    return found
        # past the last bucket only by float rounding: its value
        return found + [min(max(scale * gamma ** (offset + position), low), high)] * (wanted - at)

    def clear(self) -> None:
        """Forget every value; the range of buckets (and as much memory) is kept for the next ones."""
        self._counts = _NARROW_ZERO * len(self._counts)
        self._floor = _NO_FLOOR
        self._zero = 0
        self._count = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    def buckets(self) -> Iterator[tuple[float, int]]:
        """Each non-empty bucket as (representative value, count), lowest first; the zero bucket as 0.0."""
        if self._zero:
            yield 0.0, self._zero
        gamma, offset = self._gamma, self._offset
        for at, count in enumerate(self._counts):
            if count:
                yield 2.0 * gamma ** (offset + at) / (gamma + 1.0), count

    @property
    def count(self) -> int:
        """How many values were added."""
        return self._count

    @property
    def sum(self) -> float:
        """The exact sum of the values."""
        return self._sum

    @property
    def mean(self) -> float | None:
        """The exact mean of the values; ``None`` when empty."""
        return self._sum / self._count if self._count else None

    @property
    def min(self) -> float | None:
        """The smallest value; ``None`` when empty."""
        return self._min if self._count else None

    @property
    def max(self) -> float | None:
        """The largest value; ``None`` when empty."""
        return self._max if self._count else None

    def __repr__(self) -> str:
        buckets = len(self._counts) - self._counts.count(0) + bool(self._zero)
        return f"LatencySketch(alpha={self.alpha}, count={self._count}, buckets={buckets})"
