"""Hedging: when to send another try while the first is still under way.

A slow replica sets everyone's tail latency. Sending a second, identical
request after a short delay, and taking whichever answer comes first, cuts
that tail for a small share of extra requests. The delay is fixed, or a
percentile of the recent latencies of the same origin, so that only the
slowest few per cent of calls are hedged.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from aiohttp_retry.policy.validate import check_count, check_delay

__all__ = ["Hedging"]


class Hedging:
    """How to hedge idempotent requests.

    Args:
        delay: seconds before the next hedge while no answer has come; used
            alone, or until ``min_samples`` latencies are known when
            ``percentile`` is set.
        percentile: hedge after this quantile (0 < q < 1, e.g. 0.95) of the
            origin's recent latencies.
        min_samples: latencies needed before the percentile is used.
        samples: latencies kept per origin (the most recent).
        max_keys: origins tracked at once; the least recently used is forgotten first.

    The total number of tries, the first included, is the options' ``attempts``.
    """

    def __init__(
        self,
        delay: float = 0.05,
        *,
        percentile: float | None = None,
        min_samples: int = 20,
        samples: int = 200,
        max_keys: int = 1024,
    ) -> None:
        self.delay = check_delay(delay, "delay")
        if percentile is not None and not (isinstance(percentile, float) and 0 < percentile < 1):
            msg = f"percentile must be a float between 0 and 1 (exclusive) or None, got {percentile!r}"
            raise ValueError(msg)
        for name, value in (("min_samples", min_samples), ("samples", samples), ("max_keys", max_keys)):
            check_count(value, name)
        if min_samples > samples:
            msg = f"min_samples ({min_samples}) must not exceed samples ({samples})"
            raise ValueError(msg)
        self.percentile = percentile
        self.min_samples = min_samples
        self.samples = samples
        self.max_keys = max_keys
        self._latencies: OrderedDict[str, deque[float]] = OrderedDict()

    def record(self, key: str, seconds: float) -> None:
        """Remember how long an answered try to ``key`` took."""
        if self.percentile is None:
            return
        latencies = self._latencies.get(key)
        if latencies is None:
            latencies = self._latencies[key] = deque(maxlen=self.samples)
            if len(self._latencies) > self.max_keys:
                self._latencies.popitem(last=False)
        else:
            self._latencies.move_to_end(key)
        latencies.append(seconds)

    def delay_for(self, key: str) -> float:
        """Seconds to wait for an answer from ``key`` before sending the next hedge."""
        latencies = self._latencies.get(key) if self.percentile is not None else None
        if latencies is None or len(latencies) < self.min_samples:
            return self.delay
        # percentile < 1, so the index is below len: the product of a float under 1 and a count
        # rounds to at most the next float below that count
        return sorted(latencies)[int(self.percentile * len(latencies))]  # type: ignore[operator]

    def __repr__(self) -> str:
        return f"Hedging(delay={self.delay}, percentile={self.percentile})"
