"""Adaptive throttling: shed load on the client while a server refuses much of it.

Each origin counts, over a rolling ``window``, the tries the client wanted to
send (``requests``: those it shed, and those sent once their outcome is known)
and those the server accepted (``accepts``). A new try is shed, without
touching the network, with probability

    max(0, (requests - k * accepts) / (requests + 1))

(the client-side throttling of Google's SRE book, chapter "Handling Overload").
While the server accepts everything the probability is 0; when it accepts a
share ``a``, the tries that reach it settle near ``k * a`` of what the client
wants to send, so a struggling server sees at most about ``k`` times the load it
can take. ``k`` = 2 keeps the server's view of demand; lower is more aggressive.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from aiohttp_retry.policy.stop import ErrorKind
from aiohttp_retry.policy.validate import check_count, check_ratio, check_window
from aiohttp_retry.policy.window import RollingCounter

__all__ = ["AdaptiveThrottle"]

_REQUESTS, _ACCEPTS = 0, 1
#: Error kinds that say the server did not take the try: it could not be reached, or did not answer in time.
_REFUSING_ERRORS = frozenset({ErrorKind.CONNECT, ErrorKind.TRANSPORT, ErrorKind.TIMEOUT})


class AdaptiveThrottle:
    """Per-origin client-side load shedding (see the module's text for the rule).

    Args:
        k: how many times the accepted load a server may be sent (``k >= 1``; default 2).
        window: seconds over which requests and accepts are counted (default 120), in ``buckets`` buckets.
        overload_statuses: statuses that mean the server refused the work (default 429 and 503);
            any other response is accepted. A try that could not connect, broke off or timed out
            is not accepted either.
        max_keys: origins tracked at once; the one known longest is forgotten first.
        rng: the source of the draws (``random.Random``), for reproducible runs.

    A shed try ends its call with :class:`~aiohttp_retry.errors.ThrottledError`
    (stop reason ``"throttled"``). Retries and hedges count and are shed like first tries.
    """

    def __init__(
        self,
        k: float = 2.0,
        window: float = 120.0,
        *,
        buckets: int = 12,
        overload_statuses: Iterable[int] = (429, 503),
        max_keys: int = 1024,
        rng: random.Random | None = None,
    ) -> None:
        self.k = check_ratio(k, "k")
        if self.k < 1:
            msg = f"k must be a number >= 1 (how many times the accepted load may be sent), got {k!r}"
            raise ValueError(msg)
        self.window = check_window(window)
        self.buckets = check_count(buckets, "buckets")
        if isinstance(overload_statuses, (str, bytes)) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in overload_statuses
        ):
            msg = f"overload_statuses must be status codes such as (429, 503), got {overload_statuses!r}"
            raise TypeError(msg)
        self.overload_statuses = frozenset(overload_statuses)
        self.max_keys = check_count(max_keys, "max_keys")
        if rng is not None and not callable(getattr(rng, "random", None)):
            msg = f"rng must be None or a random.Random, got {rng!r}"
            raise TypeError(msg)
        self._random = (rng or random.Random()).random
        self._counters: dict[str, RollingCounter] = {}

    def _counter(self, key: str) -> RollingCounter:
        """A new counter for ``key``, which has none (the one known longest is forgotten if there are max_keys)."""
        counters = self._counters
        if len(counters) >= self.max_keys:
            del counters[next(iter(counters))]
        counter = counters[key] = RollingCounter(self.window, self.buckets, ("requests", "accepts"))
        return counter

    def probability(self, key: str, now: float) -> float:
        """The probability with which a try to ``key`` would be shed now (counts nothing)."""
        counter = self._counters.get(key)
        if counter is None:
            return 0.0
        requests = counter.total(_REQUESTS, now)
        excess = requests - self.k * counter.total(_ACCEPTS, now)
        return excess / (requests + 1) if excess > 0 else 0.0

    def check(self, key: str, now: float) -> float | None:
        """Decide on a try to ``key``: ``None`` to send it, or the probability with which it was shed.

        A shed try counts as a request at once; a try that is sent counts when its
        outcome is recorded, so tries still under way never look like refusals.
        """
        counter = self._counters.get(key) or self._counter(key)
        if now < counter.until:  # within the newest bucket: the common case, inline
            newest, closed = counter.newest, counter.closed
            requests = closed[_REQUESTS] + newest[_REQUESTS]
            excess = requests - self.k * (closed[_ACCEPTS] + newest[_ACCEPTS])
        else:
            requests = counter.total(_REQUESTS, now)
            excess = requests - self.k * counter.total(_ACCEPTS, now)
        if excess <= 0:
            return None
        probability = excess / (requests + 1)
        if self._random() >= probability:
            return None
        counter.add(_REQUESTS, now)
        return probability

    def accepted(self, status: int | None, kind: ErrorKind | None) -> bool:
        """Whether the server took a try that ended with ``status`` or an error of ``kind``."""
        if status is not None:
            return status not in self.overload_statuses
        return kind not in _REFUSING_ERRORS

    def record(self, key: str, now: float, status: int | None, kind: ErrorKind | None) -> None:
        """Count a sent try that ended with ``status`` or an error of ``kind``: a request, and maybe an accept."""
        counter = self._counters.get(key) or self._counter(key)
        if now >= counter.until:
            counter.add(_REQUESTS, now)  # moves the newest bucket to ``now``
        else:
            counter.newest[_REQUESTS] += 1
        if self.accepted(status, kind):
            counter.newest[_ACCEPTS] += 1

    def __repr__(self) -> str:
        return f"AdaptiveThrottle(k={self.k}, window={self.window})"
