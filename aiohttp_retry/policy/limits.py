"""Rate limits: how many tries may start in a window, per origin, for all requests, or per rule.

A limit is written ``"10/s"``, ``"600/min"``, ``"5000/h"``, ``"100 per 90 s"``,
as a pair ``(100, 90.0)`` (tries, seconds), or as a number of tries per second.
A :class:`RateLimiter` holds three kinds of limit, each optional:

- ``per_origin``: every origin (``host[:port]``) has a window of its own;
- ``total``: one window for every request through the client;
- ``rules``: a mapping from where to what; where is an origin (``"api.example.com"``),
  a path template (``"/users/{id}"``, any origin) or a compiled regular expression
  searched in the full URL. A rule counts every request it matches in one window.

A try must be allowed by every limit that applies to it. The limiter is a
sliding log with reservations: a try asks for the earliest moment at which no
window of any applicable limit would hold more tries than allowed, and at no
moment earlier than the last one reserved there (callers are served in the order
they ask). It reserves that moment for the try, which then waits until it comes.
No lock is needed: asking and reserving happen in one synchronous step.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp_retry.errors import RateLimitedError
from aiohttp_retry.policy.validate import check_count, check_delay

__all__ = ["LimitRules", "RateLimiter", "parse_rate"]

_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}
_RATE = re.compile(r"\s*(\d+)\s*(?:/|per)\s*(\d+(?:\.\d+)?)?\s*([a-z]+)\s*", re.IGNORECASE)
_RATE_HELP = "such as '10/s', '600/min', '100 per 90 s', (100, 90.0) or 10 (per second)"


def parse_rate(value: Any, name: str = "rate") -> tuple[int, float]:
    """``value`` as (tries, seconds).

    Raises:
        TypeError: ``value`` is not a string, a pair or a number.
        ValueError: it cannot be read, or a count is not >= 1 or a window not > 0.
    """
    if isinstance(value, str):
        found = _RATE.fullmatch(value)
        unit = _UNITS.get(found[3].lower()) if found else None
        if found is None or unit is None:
            msg = f"{name} must be a rate {_RATE_HELP}, got {value!r}"
            raise ValueError(msg)
        count, seconds = int(found[1]), float(found[2] or 1) * unit
    elif isinstance(value, tuple) and len(value) == 2:  # noqa: PLR2004 - a pair
        count, seconds = check_count(value[0], f"{name}[0] (tries)"), value[1]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 0 < value < math.inf or value != int(value):
            msg = f"{name} as a number is whole tries per second >= 1, got {value!r}; {_RATE_HELP}"
            raise ValueError(msg)
        count, seconds = int(value), 1.0
    else:
        msg = f"{name} must be a rate {_RATE_HELP}, got a {type(value).__name__}"
        raise TypeError(msg)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < math.inf:
        msg = f"{name} must have a window of seconds > 0, got {seconds!r}"
        raise ValueError(msg)
    if count < 1:
        msg = f"{name} must allow at least 1 try, got {value!r}"
        raise ValueError(msg)
    return count, float(seconds)


def _describe(count: int, seconds: float) -> str:
    return f"{count}/s" if seconds == 1.0 else f"{count} per {seconds:g} s"


class LimitRules:
    """Which of a limiter's rules apply to a request, worked out once per origin and URL (cached, bounded).

    ``rules`` maps where (an origin, a path template, or a compiled regular
    expression searched in the full URL) to a limit, which ``make(limit, name,
    where)`` turns into the object the limiter keeps (a window, a pool of slots).
    """

    def __init__(self, rules: Mapping[Any, Any] | None, name: str, make: Any) -> None:
        if rules is not None and not isinstance(rules, Mapping):
            msg = f"{name} must be a mapping from where to a limit, such as {{'api.example.com': ...}}, got {rules!r}"
            raise TypeError(msg)
        self._by_origin: dict[str, Any] = {}
        self._templates: list[tuple[re.Pattern[str], Any]] = []
        self._patterns: list[tuple[re.Pattern[str], Any]] = []
        self._cache: dict[tuple[str, Any], tuple[Any, ...]] = {}
        for where, limit in (rules or {}).items():
            if isinstance(where, re.Pattern):
                self._patterns.append((where, make(limit, f"{name}[{where.pattern!r}]", f"/{where.pattern}/")))
            elif isinstance(where, str) and where.startswith("/"):
                literal = (re.escape(part) for part in re.split(r"\{[^{}/]*\}", where))
                self._templates.append((re.compile("[^/]+".join(literal)), make(limit, f"{name}[{where!r}]", where)))
            elif isinstance(where, str) and where and "/" not in where:
                self._by_origin[where.lower()] = make(limit, f"{name}[{where!r}]", where)
            else:
                msg = (
                    f"{name} keys must be an origin ('api.example.com:8443'), a path template starting with '/' "
                    f"or a compiled regular expression, got {where!r}"
                )
                raise ValueError(msg)

    def __bool__(self) -> bool:
        return bool(self._by_origin or self._templates or self._patterns)

    def matching(self, key: str, url: Any) -> tuple[Any, ...]:
        """The limits of the rules that apply to ``url`` at origin ``key``, in the order given."""
        cache = self._cache
        found = cache.get((key, url))
        if found is not None:
            return found
        text = str(url)
        path = urlsplit(text).path or "/"
        hits = []
        own = self._by_origin.get(key.lower())
        if own is not None:
            hits.append(own)
        hits.extend(limit for pattern, limit in self._templates if pattern.fullmatch(path))
        hits.extend(limit for pattern, limit in self._patterns if pattern.search(text))
        found = tuple(hits)
        if len(cache) >= 4096:  # noqa: PLR2004 - ever-new URLs (ids in paths): start again rather than grow
            cache.clear()
        cache[key, url] = found
        return found


class _Window:
    """The reserved starts of one limit, oldest first (the ones older than its window are dropped)."""

    __slots__ = ("count", "label", "seconds", "starts")

    def __init__(self, count: int, seconds: float, label: str) -> None:
        self.count = count
        self.seconds = seconds
        self.label = label
        self.starts: deque[float] = deque()

    def earliest(self, now: float, slack: float) -> float:
        """The earliest start at or after ``now`` (and not before the last reserved) this window allows.

        The window is taken ``slack`` seconds longer than it is.
        """
        starts = self.starts
        held = len(starts)
        if not held:
            return now
        at = max(now, starts[-1])
        if held >= self.count:
            # the count-th most recent start must have left the window: at >= it + seconds
            free = starts[held - self.count] + self.seconds + slack
            at = max(at, free)
            horizon = now - self.seconds
            while starts and starts[0] <= horizon:  # starts no window from now on can hold: memory stays bounded
                starts.popleft()
        return at


class RateLimiter:
    """Limits on how many tries start per window: per origin, in total, and per rule (see the module's text).

    Args:
        per_origin: a limit each origin has to itself.
        total: a limit for all requests together.
        rules: a mapping from where (origin, path template or compiled regex) to a limit.
        max_keys: origins whose windows are kept at once; the one known longest is forgotten first.
        slack: seconds added to every window (default 0.01), so that the jitter between
            the moment a try is due and the moment it reaches the server (a timer waking
            late, a new connection) does not put more tries in one of the server's windows.
            A start is also refused unless it comes ``slack`` before the call's deadline.

    A try whose earliest start would come after its call's deadline is not
    started: the call ends with :class:`~aiohttp_retry.errors.RateLimitedError`
    (stop reason ``"rate limited"``), naming the limit. Retries and hedges are tries too.

    Raises:
        TypeError, ValueError: a limit cannot be read (the message names it), or no limit is given.
    """

    def __init__(
        self,
        per_origin: Any = None,
        *,
        total: Any = None,
        rules: Mapping[Any, Any] | None = None,
        max_keys: int = 1024,
        slack: float = 0.01,
    ) -> None:
        self.per_origin = None if per_origin is None else parse_rate(per_origin, "per_origin")
        self.slack = check_delay(slack, "slack")
        self.total = None if total is None else parse_rate(total, "total")
        self.rules = LimitRules(rules, "rules", _window_of)
        if self.per_origin is None and self.total is None and not self.rules:
            msg = "RateLimiter needs a limit: per_origin='10/s', total=..., or rules={'api.example.com': '10/s'}"
            raise ValueError(msg)
        self.max_keys = check_count(max_keys, "max_keys")
        self._total = None if self.total is None else _Window(*self.total, f"{_describe(*self.total)} in total")
        self._all = () if self._total is None else (self._total,)
        self._origins: dict[str, _Window] = {}
        self._by_key: dict[str, tuple[_Window, ...]] = {}  # without rules, the windows of each origin

    def _windows(self, key: str, url: Any) -> tuple[_Window, ...]:
        """The windows of the limits that apply to a try to ``url`` at origin ``key`` (per origin, kept)."""
        if self.per_origin is None and not self.rules:
            return self._all  # the total alone: the same for every origin
        windows = [] if self._total is None else [self._total]
        if self.per_origin is not None:
            origins = self._origins
            window = origins.get(key)
            if window is None:
                if len(origins) >= self.max_keys:
                    oldest = next(iter(origins))
                    del origins[oldest]
                    self._by_key.pop(oldest, None)
                count, seconds = self.per_origin
                window = origins[key] = _Window(count, seconds, f"{_describe(count, seconds)} per origin ({key})")
            windows.append(window)
        if self.rules:
            windows.extend(self.rules.matching(key, url))
            return tuple(windows)
        found = self._by_key[key] = tuple(windows)
        return found

    def reserve(self, key: str, url: Any, now: float, latest: float = math.inf) -> float:
        """Reserve the earliest start for a try to ``url`` (origin ``key``) at or after ``now``; return it.

        Raises:
            RateLimitedError: that start would come after ``latest`` (nothing is reserved).
        """
        windows = self._by_key.get(key) or self._windows(key, url)
        at = now
        binding = None
        slack = self.slack
        for window in windows:
            earliest = window.earliest(now, slack)
            if earliest > at:
                at, binding = earliest, window
        if at > latest - slack:
            label = binding.label if binding is not None else windows[0].label
            raise RateLimitedError(label, at - now)
        for window in windows:
            window.starts.append(at)
        return at

    def cancel(self, key: str, url: Any, at: float) -> None:
        """Give back a start reserved at ``at`` that will not be used, where no later one was reserved since."""
        for window in self._windows(key, url):
            if window.starts and window.starts[-1] == at:
                window.starts.pop()

    def __repr__(self) -> str:
        parts = []
        if self.per_origin is not None:
            parts.append(f"per_origin={_describe(*self.per_origin)!r}")
        if self.total is not None:
            parts.append(f"total={_describe(*self.total)!r}")
        if self.rules:
            parts.append("rules=...")
        if self.slack != 0.01:  # noqa: PLR2004 - the default
            parts.append(f"slack={self.slack}")
        return f"RateLimiter({', '.join(parts)})"


def _window_of(limit: Any, name: str, where: str) -> _Window:
    count, seconds = parse_rate(limit, name)
    return _Window(count, seconds, f"{_describe(count, seconds)} for {where}")
