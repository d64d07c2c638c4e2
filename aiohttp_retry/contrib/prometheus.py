"""Prometheus metrics from the library's events (extra ``prometheus``: the official ``prometheus-client``).

    from prometheus_client import CollectorRegistry
    from aiohttp_retry.contrib.prometheus import PrometheusListener

    metrics = PrometheusListener(registry=CollectorRegistry(), routes=["/users/{id}"])
    client = RetryClient(listeners=[metrics])

Metrics (``aiohttp_retry_`` is the default ``namespace``):

=====================================  =========  ==================================================
name                                   type       labels
=====================================  =========  ==================================================
``calls_total``                        counter    method, origin, [route], outcome, status_class
``call_duration_seconds``              histogram  method, origin, [route]
``tries_per_call``                     histogram  method, origin, [route]
``tries_total``                        counter    method, origin, [route], status_class
``retries_total``                      counter    method, origin, [route], cause
``budget_refusals_total``              counter    method, origin, [route]
``hedges_fired_total``                 counter    method, origin, [route]
``hedges_won_total``                   counter    method, origin, [route]
``breaker_state``                      gauge      origin, state (1 for the current state, else 0)
``breaker_transitions_total``          counter    origin, old, new
=====================================  =========  ==================================================

``outcome`` is ``success`` or the stop reason of a call that gave up
(``last_try``, ``budget_spent``, ``breaker_open``, ...); ``status_class`` is
``2xx`` ... ``5xx``, or the kind of the error a try raised (``connect``,
``transport``, ``timeout``, ``tls``, ``other``), or ``none`` when nothing was
sent. ``origin`` is ``host[:port]`` (beyond ``max_origins`` distinct origins,
``other``). ``route`` exists only when ``routes`` are given: the matching
template, or ``other``. No label ever holds a raw URL, so the number of series
stays bounded.

The listener counts in plain Python objects and hands them to the registry
as a collector when it is scraped: an event costs a few dictionary and list
operations, where a ``prometheus_client`` metric object takes a lock and
several Python calls per update (about five times the instructions, measured).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from aiohttp_retry.observe.routes import Routes, origin_and_path, status_class
from aiohttp_retry.policy.breaker import CLOSED, HALF_OPEN, OPEN

try:
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
except ImportError as missing:  # pragma: no cover - exercised only without the extra
    msg = "aiohttp_retry.contrib.prometheus needs the 'prometheus' extra: pip install 'aiohttp_retry[prometheus]'"
    raise ImportError(msg) from missing

__all__ = ["DURATION_BUCKETS", "TRIES_BUCKETS", "PrometheusListener"]

#: Seconds; OpenTelemetry's advised buckets for HTTP durations (also prometheus-client's default).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
TRIES_BUCKETS = (1, 2, 3, 4, 5, 7, 10)
_STATES = (CLOSED, OPEN, HALF_OPEN)
_KEPT = 4096  # request names remembered on the way to their series; beyond, the cache starts over


class _Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size  # one per bucket and one above the last (+Inf); not cumulative
        self.sum = 0.0


class _Series:
    """Everything counted for one (method, origin[, route])."""

    __slots__ = (
        "calls",
        "duration",
        "fired",
        "labels",
        "refusals",
        "retries",
        "succeeded",
        "tries",
        "tries_hist",
        "won",
    )

    def __init__(self, labels: tuple[str, ...], durations: int, tries: int) -> None:
        self.labels = labels
        self.succeeded: dict[str, int] = {}  # calls that succeeded, by status class
        self.calls: dict[tuple[str, str], int] = {}  # calls that gave up: (outcome, status class)
        self.tries: dict[str, int] = {}  # status class
        self.retries: dict[str, int] = {}  # cause
        self.duration = _Histogram(durations)
        self.tries_hist = _Histogram(tries)
        self.refusals = self.fired = self.won = 0


def _histogram(bounds: Sequence[float], histogram: _Histogram) -> list[tuple[str, float]]:
    """Cumulative buckets in the exposition's form, +Inf last."""
    buckets, total = [], 0
    for bound, count in zip((*map(float, bounds), float("inf")), histogram.counts, strict=True):
        total += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(total)))
    return buckets


def _check_buckets(buckets: Sequence[float], name: str) -> tuple[float, ...]:
    values = tuple(buckets)
    ok = values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not ok or list(values) != sorted(set(values)) or values[-1] == float("inf"):
        msg = f"{name} must be a non-empty increasing sequence of finite numbers"
        raise ValueError(msg)
    return values


class PrometheusListener:
    """A listener that counts calls, tries, retries, refusals, breaker changes and hedges for Prometheus.

    Args:
        registry: where the metrics are registered; default: prometheus-client's global ``REGISTRY``.
            One registry holds one listener per ``namespace`` (a second raises ``ValueError``);
            attach the same listener to every client and middleware that should share it.
        namespace: the prefix of every metric name.
        routes: route templates (``"/users/{id}"``); when given, a ``route`` label names the
            matching template (``other`` when none matches). Never a raw path.
        duration_buckets: histogram buckets of ``call_duration_seconds``.
        tries_buckets: histogram buckets of ``tries_per_call``.
        max_origins: distinct origins labelled by name; later ones are labelled ``other``.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = "aiohttp_retry",
        routes: Iterable[str] = (),
        duration_buckets: Sequence[float] = DURATION_BUCKETS,
        tries_buckets: Sequence[float] = TRIES_BUCKETS,
        max_origins: int = 1000,
    ) -> None:
        if registry is not None and not isinstance(registry, CollectorRegistry):
            msg = f"registry must be a prometheus_client.CollectorRegistry or None, got a {type(registry).__name__}"
            raise TypeError(msg)
        if not isinstance(namespace, str) or not namespace.replace("_", "a").isalnum() or namespace[0].isdigit():
            msg = "namespace must be letters, digits and underscores, not starting with a digit, e.g. 'aiohttp_retry'"
            raise ValueError(msg)
        if not isinstance(max_origins, int) or isinstance(max_origins, bool) or max_origins < 1:
            msg = "max_origins must be an int >= 1"
            raise ValueError(msg)
        self.registry = REGISTRY if registry is None else registry
        self.namespace = namespace
        self.routes = Routes(routes)
        self.duration_buckets = _check_buckets(duration_buckets, "duration_buckets")
        self.tries_buckets = _check_buckets(tries_buckets, "tries_buckets")
        self.max_origins = max_origins
        self._labels = ("method", "origin", *(("route",) if self.routes else ()))
        self._named: dict[tuple[str, Any, str], _Series] = {}  # (method, url, key) -> its series
        self._series: dict[tuple[str, ...], _Series] = {}
        self._origins: set[str] = set()
        self._breakers: dict[str, str] = {}  # origin -> state
        self._transitions: dict[tuple[str, str, str], int] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {
            TryFinished: self._try_finished,
            GaveUp: self._gave_up,
            RetryScheduled: self._retry_scheduled,
            BudgetRefused: self._budget_refused,
            HedgeFired: self._hedge_fired,
            HedgeWon: self._hedge_won,
            BreakerStateChange: self._breaker_changed,
        }
        #: The events it counts, each given straight to its handler; no TryStarted is built for it.
        self.listens_to = self._handlers
        try:
            self.registry.register(self)
        except ValueError as clash:
            msg = (
                f"namespace {namespace!r} is already registered in this registry: attach one PrometheusListener "
                "to every client, or give each its own namespace or registry"
            )
            raise ValueError(msg) from clash

    # -- events -----------------------------------------------------------------------------------

    def __call__(self, event: Any) -> None:
        """Count ``event`` in the metrics it concerns."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _series_of(self, method: str, url: Any, key: str) -> _Series:
        """The series of a request, found through a cache of request names."""
        named = self._named
        series = named.get((method, url, key))
        if series is not None:
            return series
        origin, path = origin_and_path(url)
        origin = key or origin
        if origin not in self._origins:
            if len(self._origins) >= self.max_origins:
                origin = "other"
            else:
                self._origins.add(origin)
        labels: tuple[str, ...] = (method.upper(), origin)
        if self.routes:
            labels = (*labels, self.routes.match(path) or "other")
        series = self._series.get(labels)
        if series is None:
            size = len(self.duration_buckets) + 1, len(self.tries_buckets) + 1
            series = self._series[labels] = _Series(labels, *size)
        if len(named) >= _KEPT:
            named.clear()
        named[method, url, key] = series
        return series

    def _try_finished(self, event: TryFinished) -> None:
        series = self._named.get((event.method, event.url, event.key)) or self._series_of(
            event.method, event.url, event.key
        )
        ended = status_class(event.status, event.error_kind)
        tries = series.tries
        tries[ended] = tries.get(ended, 0) + 1
        if event.final:  # the call succeeded: the same as _observe, written out (it runs on every call)
            succeeded = series.succeeded
            succeeded[ended] = succeeded.get(ended, 0) + 1
            elapsed = event.elapsed
            duration = series.duration
            duration.counts[bisect_left(self.duration_buckets, elapsed)] += 1
            duration.sum += elapsed
            histogram = series.tries_hist
            histogram.counts[bisect_left(self.tries_buckets, event.attempt)] += 1
            histogram.sum += event.attempt

    def _observe(self, series: _Series, elapsed: float, tries: int) -> None:
        duration = series.duration
        duration.counts[bisect_left(self.duration_buckets, elapsed)] += 1
        duration.sum += elapsed
        if tries:
            histogram = series.tries_hist
            histogram.counts[bisect_left(self.tries_buckets, tries)] += 1
            histogram.sum += tries

    def _gave_up(self, event: GaveUp) -> None:
        series = self._series_of(event.method, event.url, event.key)
        outcome = (event.reason.name.lower(), status_class(event.status, event.error_kind))
        series.calls[outcome] = series.calls.get(outcome, 0) + 1
        self._observe(series, event.elapsed, event.tries)

    def _retry_scheduled(self, event: RetryScheduled) -> None:
        retries = self._series_of(event.method, event.url, event.key).retries
        retries[event.cause] = retries.get(event.cause, 0) + 1

    def _budget_refused(self, event: BudgetRefused) -> None:
        self._series_of(event.method, event.url, event.key).refusals += 1

    def _hedge_fired(self, event: HedgeFired) -> None:
        self._series_of(event.method, event.url, event.key).fired += 1

    def _hedge_won(self, event: HedgeWon) -> None:
        self._series_of(event.method, event.url, event.key).won += 1

    def _breaker_changed(self, event: BreakerStateChange) -> None:
        self._breakers[event.key] = event.new
        change = (event.key, event.old, event.new)
        self._transitions[change] = self._transitions.get(change, 0) + 1

    # -- the registry's side ----------------------------------------------------------------------

    def _families(self) -> dict[str, Any]:
        ns, call = self.namespace, self._labels
        return {
            "calls": CounterMetricFamily(f"{ns}_calls", "Calls, by outcome", labels=[*call, "outcome", "status_class"]),
            "duration": HistogramMetricFamily(
                f"{ns}_call_duration_seconds", "Call durations, retries included", labels=call
            ),
            "tries_hist": HistogramMetricFamily(f"{ns}_tries_per_call", "Tries per call", labels=call),
            "tries": CounterMetricFamily(
                f"{ns}_tries", "Tries, by status class or error kind", labels=[*call, "status_class"]
            ),
            "retries": CounterMetricFamily(f"{ns}_retries", "Retries scheduled, by cause", labels=[*call, "cause"]),
            "refusals": CounterMetricFamily(f"{ns}_budget_refusals", "Retries the retry budget refused", labels=call),
            "fired": CounterMetricFamily(f"{ns}_hedges_fired", "Hedged tries started", labels=call),
            "won": CounterMetricFamily(f"{ns}_hedges_won", "Hedged calls answered by a later try", labels=call),
            "state": GaugeMetricFamily(
                f"{ns}_breaker_state", "Circuit breaker state (1: current)", labels=["origin", "state"]
            ),
            "transitions": CounterMetricFamily(
                f"{ns}_breaker_transitions", "Circuit breaker state changes", labels=["origin", "old", "new"]
            ),
        }

    def describe(self) -> Iterator[Any]:
        """The metric families (without samples): the registry checks their names for clashes."""
        return iter(self._families().values())

    def collect(self) -> Iterator[Any]:
        """The metric families with their samples, read from the counts at this moment."""
        families = self._families()
        for series in list(self._series.values()):
            labels = list(series.labels)
            for kind, count in list(series.succeeded.items()):
                families["calls"].add_metric([*labels, "success", kind], count)
            for (outcome, kind), count in list(series.calls.items()):
                families["calls"].add_metric([*labels, outcome, kind], count)
            for kind, count in list(series.tries.items()):
                families["tries"].add_metric([*labels, kind], count)
            for cause, count in list(series.retries.items()):
                families["retries"].add_metric([*labels, cause], count)
            families["duration"].add_metric(labels, _histogram(self.duration_buckets, series.duration),
                                            series.duration.sum)  # fmt: skip
            families["tries_hist"].add_metric(labels, _histogram(self.tries_buckets, series.tries_hist),
                                              series.tries_hist.sum)  # fmt: skip
            families["refusals"].add_metric(labels, series.refusals)
            families["fired"].add_metric(labels, series.fired)
            families["won"].add_metric(labels, series.won)
        for origin, current in list(self._breakers.items()):
            for state in _STATES:
                families["state"].add_metric([origin, state], 1 if state == current else 0)
        for (origin, old, new), count in list(self._transitions.items()):
            families["transitions"].add_metric([origin, old, new], count)
        return iter(families.values())

    def __repr__(self) -> str:
        return f"PrometheusListener(namespace={self.namespace!r}, routes={list(self.routes.templates)!r})"
