"""A listener that sums up calls per endpoint: success ratio, tries, retries, refusals, reasons and latency.

    report = Report(routes=["/users/{id}"])
    client = RetryClient(listeners=[report])
    ...
    print(report)            # an aligned plain-text table, one row per endpoint, and the totals
    report.log()             # one log line per endpoint, with structured ``extra`` fields
    report.as_dict()         # the same, JSON-serialisable

An endpoint is a method and a route name: the first route template matching
the URL's path, or else the URL's origin and its path with identifier-like
segments folded (``api.example.com/users/{id}``). No raw URL, query string or
userinfo ever reaches a row; the bounded cache that maps a request's method and
URL to its row keeps neither a query string nor a URL with userinfo. Memory is bounded whatever the traffic: at most
``max_endpoints`` rows (then one ``(other)`` row), a bounded number of retry
causes per row, latency sketches of bounded size and a timeline of at most
``timeline_seconds`` one-second slots per row.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp_retry.events import (
    BreakerStateChange,
    BudgetRefused,
    GaveUp,
    HedgeFired,
    HedgeWon,
    RetryScheduled,
    TryFinished,
)
from aiohttp_retry.observe.routes import STATUS_CLASSES, Routes, fold_path, origin_and_path, status_class
from aiohttp_retry.report.stats import ALL_METHODS, EXACT, EndpointStats, Row, SlotStats, stats_of, totals_of
from aiohttp_retry.report.text import log_rows, text_table

__all__ = ["OTHER", "Report"]

#: The route name of the row that takes every endpoint beyond ``max_endpoints``.
OTHER = "(other)"
_CAUSES_KEPT = 32  # distinct retry causes per row; further ones are counted as "other"
_NAMES_KEPT = 4096  # (method, url, key) -> row entries cached; beyond, the cache starts over
_BREAKER_CHANGES_KEPT = 100


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be an integer >= 1, got {value!r}"
        raise ValueError(msg)
    return value


class Report:
    """A listener that keeps per-endpoint statistics of calls in bounded memory, and shows them.

    Args:
        routes: route templates (``"/users/{id}"``) naming the URLs they match; a URL no
            template matches is named by its origin and folded path.
        max_endpoints: most rows kept; calls to further endpoints are counted in one
            ``(other)`` row.
        timeline_seconds: most one-second slots kept per row for :meth:`timeline` and
            charts; the oldest are dropped.
        clock: the clock read for call rates and the timeline (seconds); default
            ``time.monotonic``, which is the event loop's clock too.

    Raises:
        ValueError: ``max_endpoints`` or ``timeline_seconds`` is not an integer >= 1,
            or a route template does not start with ``/``.
        TypeError: ``routes`` is a string or holds something other than strings.
    """

    def __init__(
        self,
        routes: Iterable[str] = (),
        *,
        max_endpoints: int = 200,
        timeline_seconds: int = 600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_endpoints = _positive_int("max_endpoints", max_endpoints)
        self.timeline_seconds = _positive_int("timeline_seconds", timeline_seconds)
        if not callable(clock):
            msg = f"clock must be a callable returning seconds, such as time.monotonic, got {clock!r}"
            raise TypeError(msg)
        self.routes = Routes(routes)
        self._clock = clock
        self._start = clock()
        self._rows: dict[tuple[str, str], Row] = {}
        self._other: Row | None = None
        self._names: dict[tuple[str, Any, str], Row] = {}
        #: The latest circuit breaker state changes, oldest first: (key, old, new, at).
        self.breaker_changes: deque[tuple[str, str, str, float]] = deque(maxlen=_BREAKER_CHANGES_KEPT)
        self._handlers: dict[type, Callable[[Any], None]] = {
            TryFinished: self._try_finished,
            GaveUp: self._gave_up,
            RetryScheduled: self._retry_scheduled,
            BudgetRefused: self._budget_refused,
            HedgeFired: self._hedge_fired,
            HedgeWon: self._hedge_won,
            BreakerStateChange: self._breaker_changed,
        }
        #: The events it sums up, each given straight to its handler; no TryStarted is built for it.
        self.listens_to = self._handlers

    def __call__(self, event: Any) -> None:
        """Take one event; any object that is not an event of interest is ignored."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    # -- naming --------------------------------------------------------------------------------

    def _row_of(self, method: str, url: Any, key: str, now: float) -> Row:
        """The row of a request (not cached yet): named, found or made, and cached when safe."""
        cacheable = True
        if isinstance(url, str):
            if "?" in url or "#" in url:  # cache under the URL without its query: never keep a query
                url = url.partition("#")[0].partition("?")[0]
                row = self._names.get((method, url, key))
                if row is not None:
                    return row
            cacheable = "@" not in url
        else:
            cacheable = not (url.raw_query_string or url.raw_fragment or url.raw_user)
        origin, path = origin_and_path(url)
        route = self.routes.match(path) if self.routes else None
        name = route if route is not None else (key or origin) + fold_path(path)
        upper = method.upper()
        row = self._rows.get((upper, name))
        if row is None:
            if len(self._rows) < self.max_endpoints:
                row = self._rows[upper, name] = Row(upper, name, now, self.timeline_seconds)
            else:
                if self._other is None:
                    self._other = Row(ALL_METHODS, OTHER, now, self.timeline_seconds)
                row = self._other
        if cacheable:
            names = self._names
            if len(names) >= _NAMES_KEPT:
                names.clear()
            names[method, url, key] = row
        return row

    # -- events --------------------------------------------------------------------------------

    def _try_finished(self, event: TryFinished) -> None:
        if not event.final:
            return
        row = self._ended(event.method, event.url, event.key, event.elapsed, event.status, event.error_kind)
        row.successes += 1
        row.slot.successes += 1
        row.tries += event.attempt

    def _gave_up(self, event: GaveUp) -> None:
        row = self._ended(event.method, event.url, event.key, event.elapsed, event.status, event.error_kind)
        row.tries += event.tries
        reason = event.reason.value
        gave_up = row.gave_up
        gave_up[reason] = gave_up.get(reason, 0) + 1

    def _ended(self, method: str, url: Any, key: str, elapsed: float, status: int | None, kind: Any) -> Row:
        """Count a call that ended after ``elapsed`` seconds with ``status`` or an error of ``kind``: its row."""
        now = self._clock()
        row = self._names.get((method, url, key))
        if row is None:
            row = self._row_of(method, url, key, now - elapsed)
        row.calls += 1
        # a status code's class without a call to status_class, which gives the same
        name = STATUS_CLASSES.get(status, "other") if status is not None else status_class(None, kind)
        statuses = row.statuses
        statuses[name] = statuses.get(name, 0) + 1
        row.last = now
        if now - elapsed < row.first:  # noqa: PLR1730 - cheaper than min(); the call began before the row
            row.first = now - elapsed
        second = int(now - self._start)
        slot = row.slot
        if slot.second != second:
            slot = row.roll(second)
        durations = slot.durations  # the row's sketch gets them when the second closes
        if durations is None:
            slot.sketch.add(elapsed)
        elif len(durations) < EXACT:
            durations.append(elapsed)
        else:
            slot.spill(elapsed)
        return row

    def _event_row(self, event: Any) -> Row:
        row = self._names.get((event.method, event.url, event.key))
        return row if row is not None else self._row_of(event.method, event.url, event.key, self._clock())

    def _retry_scheduled(self, event: RetryScheduled) -> None:
        causes = self._event_row(event).causes
        cause = event.cause
        if cause not in causes and len(causes) >= _CAUSES_KEPT - 1:
            cause = "other"
        causes[cause] = causes.get(cause, 0) + 1

    def _budget_refused(self, event: BudgetRefused) -> None:
        self._event_row(event).refused += 1

    def _hedge_fired(self, event: HedgeFired) -> None:
        self._event_row(event).fired += 1

    def _hedge_won(self, event: HedgeWon) -> None:
        self._event_row(event).won += 1

    def _breaker_changed(self, event: BreakerStateChange) -> None:
        self.breaker_changes.append((event.key, event.old, event.new, event.at))

    # -- reading -------------------------------------------------------------------------------

    def _all_rows(self) -> list[Row]:
        rows = list(self._rows.values())
        if self._other is not None:
            rows.append(self._other)
        return rows

    def rows(self) -> list[EndpointStats]:
        """A snapshot of every endpoint, most calls first (ties by endpoint name); ``(other)`` among them."""
        stats = [stats_of(row) for row in self._all_rows()]
        stats.sort(key=lambda each: (-each.calls, each.route, each.method))
        return stats

    def totals(self) -> EndpointStats:
        """A snapshot of all endpoints together (method ``"*"``, route ``"(total)"``)."""
        return totals_of(self._all_rows())

    def timeline(self) -> dict[str, list[SlotStats]]:
        """Each endpoint's calls per second (as kept: the latest ``timeline_seconds`` seconds with calls).

        Seconds count from the report's creation; endpoints come most calls first.
        """
        rows = sorted(self._all_rows(), key=lambda row: (-row.calls, row.route, row.method))
        return {_endpoint_name(row): row.timeline() for row in rows}

    def __str__(self) -> str:
        return text_table(self.rows(), self.totals())

    def __repr__(self) -> str:
        calls = sum(row.calls for row in self._all_rows())
        return f"<Report: {len(self._rows)} endpoints, {calls} calls>"

    def log(self, logger: logging.Logger | logging.LoggerAdapter[Any] | None = None, level: int = logging.INFO) -> None:
        """Write one line per endpoint to ``logger`` (default ``aiohttp_retry.report``) at ``level``.

        Each line carries its figures as ``extra`` fields prefixed ``retry_report_``
        (``retry_report_route``, ``retry_report_calls``, ``retry_report_p99`` ...).
        """
        log_rows(self.rows(), logging.getLogger("aiohttp_retry.report") if logger is None else logger, level)

    def as_dict(self) -> dict[str, Any]:
        """Rows, totals and breaker changes as JSON-serialisable data (durations in seconds)."""
        return {
            "rows": [stats.as_dict() for stats in self.rows()],
            "totals": self.totals().as_dict(),
            "breaker_changes": [
                {"key": key, "old": old, "new": new, "at": at} for key, old, new, at in self.breaker_changes
            ],
        }


def _endpoint_name(row: Row) -> str:
    """The display name of ``row``'s endpoint."""
    return row.route if row.method == ALL_METHODS else f"{row.method} {row.route}"
