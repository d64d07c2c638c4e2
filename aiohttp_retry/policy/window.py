"""A rolling count over a time window, in a fixed ring of buckets: O(1) memory and time."""

from __future__ import annotations

import math

__all__ = ["RollingCounter"]


class RollingCounter:
    """Counts events per name over the last ``window`` seconds, to a resolution of ``window / buckets``.

    ``now`` readings come from a monotonic clock and must not go backwards.
    """

    __slots__ = ("_counts", "_epoch", "_names", "_span", "closed", "newest", "until")

    def __init__(self, window: float, buckets: int, names: tuple[str, ...]) -> None:
        self._span = window / buckets
        self._names = names
        self._counts = [[0] * buckets for _ in names]
        self.closed = [0] * len(names)
        self._epoch = -math.inf  # index of the newest bucket, in units of span
        #: Counts of the newest bucket, and the clock reading at which it ends: a caller that
        #: reads ``now < until`` may bump ``newest[i]`` (and ``total`` follows) without a call,
        #: and read the total as ``closed[i] + newest[i]`` (``closed``: the other buckets in the window).
        self.newest = [0] * len(names)
        self.until = -math.inf

    def _advance(self, now: float) -> None:
        """Move the newest bucket to the one holding ``now``, emptying those that left the window."""
        tick = int(now // self._span)
        size = len(self._counts[0])
        if tick != self._epoch:
            if self._epoch != -math.inf:  # close the newest bucket into the ring
                slot = int(self._epoch) % size
                for i, counts in enumerate(self._counts):
                    counts[slot] = self.newest[i]
                    self.closed[i] += self.newest[i]
            stale = size if self._epoch == -math.inf else min(tick - int(self._epoch), size)
            for step in range(stale):
                slot = (tick - step) % size
                for i, counts in enumerate(self._counts):
                    self.closed[i] -= counts[slot]
                    counts[slot] = 0
            self.newest = [0] * len(self._names)
            self._epoch = tick
            self.until = (tick + 1) * self._span

    def add(self, index: int, now: float, amount: int = 1) -> None:
        """Count ``amount`` events of kind ``index`` at ``now``."""
        if now >= self.until:
            self._advance(now)
        self.newest[index] += amount

    def total(self, index: int, now: float) -> int:
        """Events of kind ``index`` within the window ending at ``now``."""
        if now >= self.until:
            self._advance(now)
        return self.closed[index] + self.newest[index]

    def clear(self) -> None:
        """Forget every count."""
        for counts in self._counts:
            counts[:] = [0] * len(counts)
        self.closed = [0] * len(self._names)
        self.newest = [0] * len(self._names)
