"""OpenTelemetry traces and metrics from the library's events (extra ``otel``: ``opentelemetry-api`` only).

    from aiohttp_retry.contrib.otel import OpenTelemetryListener

    client = RetryClient(listeners=[OpenTelemetryListener()])          # or
    session = ClientSession(middlewares=[RetryMiddleware(listeners=[OpenTelemetryListener()])])

Spans, following OpenTelemetry's HTTP semantic conventions:

- one ``INTERNAL`` span per call, named after its method, around all of its
  tries and waits; always made, so that every try of a call has the same
  parent. It carries ``aiohttp_retry.tries``, and ``aiohttp_retry.stop_reason``
  with an error status when the call gave up; span events mark each scheduled
  retry (cause and wait), a budget refusal and a hedge.
- one ``CLIENT`` span per try (``http.request.method``, ``server.address``,
  ``server.port``, ``url.full`` without userinfo and query values,
  ``http.response.status_code`` or ``error.type``, and
  ``http.request.resend_count`` on every try after the first), whose W3C trace
  context is sent in that try's headers. When
  ``opentelemetry-instrumentation-aiohttp-client`` already makes a ``CLIENT``
  span for each try of a ``RetryClient`` (its session was created while the
  instrumentation was on), the listener makes none of its own and sets
  ``http.request.resend_count`` on those instead. ``RetryMiddleware``'s tries
  are seen by nothing else, so the listener always makes their spans.

Metrics through the meter API (for users without Prometheus):
``aiohttp_retry.call.duration`` (s; its count is the number of calls, by
``aiohttp_retry.outcome``: ``success`` or the stop reason),
``aiohttp_retry.call.tries``, ``aiohttp_retry.retries`` (cause),
``aiohttp_retry.budget.refusals``, ``aiohttp_retry.breaker.transitions``,
``aiohttp_retry.hedges`` (won). With a no-op tracer provider the listener
makes no spans and only measures.

Attach the listener to a client or a middleware: a listener given only in an
options object is not told which session it serves, so it always makes its own
try spans.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from aiohttp_retry import __version__
from aiohttp_retry.events import (
    BreakerStateChange,
    BudgetRefused,
    GaveUp,
    HedgeFired,
    HedgeWon,
    RetryScheduled,
    TryFinished,
    TryStarted,
    set_try_headers,
)
from aiohttp_retry.observe.redact import redact_url

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, trace
    from opentelemetry.propagate import inject
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as missing:  # pragma: no cover - exercised only without the extra
    msg = "aiohttp_retry.contrib.otel needs the 'otel' extra: pip install 'aiohttp_retry[otel]'"
    raise ImportError(msg) from missing

__all__ = ["OpenTelemetryListener"]

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_HTTP_ERROR = 400  # CLIENT spans: a 4xx or 5xx answer is an error (semantic conventions)
_KEPT = 4096  # URLs whose attributes are remembered


class _Call:
    """The spans of the call in progress in this context."""

    __slots__ = ("context", "span", "token", "tries")

    def __init__(self, span: Any, context: Any, token: Any) -> None:
        self.span = span
        self.context = context  # the parent of the try spans; None: the call span is a no-op, so are its tries
        self.token = token  # set when the call span was made the current span
        self.tries: dict[int, Any] = {}


#: The call in progress in this task's context: events of one call are emitted in the task that runs it.
_current: ContextVar[_Call | None] = ContextVar("aiohttp_retry_otel_call", default=None)


def _instrumented(session: Any) -> bool:
    """Whether ``session`` has the trace config of opentelemetry-instrumentation-aiohttp-client."""
    return any(getattr(config, "_is_instrumented_by_opentelemetry", False) for config in session.trace_configs)


class OpenTelemetryListener:
    """A listener that makes OpenTelemetry spans and metrics of each call and each try.

    Args:
        tracer_provider: default: the global one (``opentelemetry.trace.get_tracer_provider()``).
        meter_provider: default: the global one.
        try_spans: make a ``CLIENT`` span per try (see the module's notes for when they are skipped).
    """

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None, *, try_spans: bool = True) -> None:
        if not isinstance(try_spans, bool):
            msg = f"try_spans must be True or False, got a {type(try_spans).__name__}"
            raise TypeError(msg)
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.try_spans = try_spans
        self._tracer = trace.get_tracer("aiohttp_retry", __version__, tracer_provider)
        meter = metrics.get_meter("aiohttp_retry", __version__, meter_provider)
        self._duration = meter.create_histogram(
            "aiohttp_retry.call.duration",
            "s",
            "Calls, by outcome, and their durations, retries included",
            explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS),
        )
        self._tries = meter.create_histogram("aiohttp_retry.call.tries", "{try}", "Tries per call")
        self._retries = meter.create_counter("aiohttp_retry.retries", "{retry}", "Retries scheduled, by cause")
        self._refusals = meter.create_counter("aiohttp_retry.budget.refusals", "{retry}", "Retries the budget refused")
        self._transitions = meter.create_counter(
            "aiohttp_retry.breaker.transitions", "{change}", "Circuit breaker state changes"
        )
        self._hedges = meter.create_counter("aiohttp_retry.hedges", "{try}", "Hedged tries started, and won")
        self._attributes: dict[tuple[str, Any], dict[str, Any]] = {}
        self._outcomes: dict[tuple[str, Any, str], dict[str, Any]] = {}
        #: A no-op tracer (NoOpTracerProvider) makes no spans: the listener then only measures.
        self._dark = isinstance(self._tracer, trace.NoOpTracer)
        self._handlers: dict[type, Callable[[Any], None]] = {
            TryStarted: self._try_started,
            TryFinished: self._try_finished,
            GaveUp: self._gave_up,
            RetryScheduled: self._retry_scheduled,
            BudgetRefused: self._budget_refused,
            BreakerStateChange: self._breaker_changed,
            HedgeFired: self._hedge_fired,
            HedgeWon: self._hedge_won,
        }
        #: The events it uses, each given straight to its handler; without spans, no TryStarted is built for it.
        if self._dark:
            del self._handlers[TryStarted]
        self.listens_to = self._handlers

    def for_aiohttp_session(self, session: Any) -> OpenTelemetryListener:
        """The listener for a ``RetryClient`` on ``session`` (called by ``RetryClient`` itself).

        On a session instrumented by opentelemetry-instrumentation-aiohttp-client,
        whose spans already cover each try, a listener that makes no try spans
        and adds ``http.request.resend_count`` to those spans instead.
        """
        if not self.try_spans or not _instrumented(session):
            return self
        bound = OpenTelemetryListener(self.tracer_provider, self.meter_provider, try_spans=False)
        configs = session.trace_configs
        if not any(getattr(config, "_aiohttp_retry_resend_count", False) for config in configs):
            configs.append(_resend_count_config())
        return bound

    # -- events -----------------------------------------------------------------------------------

    def __call__(self, event: Any) -> None:
        """Turn ``event`` into spans, span events and measurements."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _request_attributes(self, method: str, url: Any) -> dict[str, Any]:
        """``http.request.method``, ``server.address``, ``server.port`` and ``url.full`` of a request (cached)."""
        found = self._attributes.get((method, url))
        if found is not None:
            return found
        text = str(url)
        parts = urlsplit(text)
        attributes: dict[str, Any] = {"http.request.method": method.upper(), "url.full": redact_url(text)}
        if parts.hostname:
            attributes["server.address"] = parts.hostname
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
            if port is not None:
                attributes["server.port"] = port
        if len(self._attributes) >= _KEPT:
            self._attributes.clear()
        self._attributes[method, url] = attributes
        return attributes

    def _try_started(self, event: TryStarted) -> None:
        if self._dark:
            return
        call = _current.get()
        attributes = self._request_attributes(event.method, event.url)
        if event.attempt == 1 or call is None:
            span = self._tracer.start_span(attributes["http.request.method"], kind=SpanKind.INTERNAL)
            if not span.get_span_context().is_valid:  # no tracing at all (a no-op provider): nothing to add to
                call = _Call(span, None, None)
            else:
                span.set_attributes(attributes)
                context = trace.set_span_in_context(span)
                # Current only for the spans of others: the instrumentation's try spans need this parent.
                call = _Call(span, context, None if self.try_spans else otel_context.attach(context))
            _current.set(call)
        if not self.try_spans or call.context is None:
            return
        span = self._tracer.start_span(
            attributes["http.request.method"], call.context, kind=SpanKind.CLIENT, attributes=attributes
        )
        if event.attempt > 1:
            span.set_attribute("http.request.resend_count", event.attempt - 1)
        call.tries[event.attempt] = span
        carrier: dict[str, str] = {}
        inject(carrier, context=trace.set_span_in_context(span))
        set_try_headers(carrier)

    def _try_finished(self, event: TryFinished) -> None:
        call = _current.get()
        if call is None:  # no spans (tracing is off): measure the call that ends here
            if event.final:
                attributes = self._outcome(event.method, event.url, "success")
                self._duration.record(event.elapsed, attributes)
                self._tries.record(event.attempt, attributes)
            return
        span = call.tries.pop(event.attempt, None)
        if span is not None:
            if event.status is not None:
                span.set_attribute("http.response.status_code", event.status)
                if event.status >= _HTTP_ERROR:
                    span.set_attribute("error.type", str(event.status))
                    span.set_status(Status(StatusCode.ERROR))
            elif event.error is not None:
                span.set_attribute("error.type", type(event.error).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(event.error).__qualname__))
            span.end()
        if event.final:
            call.span.set_attribute("aiohttp_retry.tries", event.attempt)
            if event.status is not None:
                call.span.set_attribute("http.response.status_code", event.status)
            self._end(call, "success", event.method, event.url, event.elapsed, event.attempt)

    def _gave_up(self, event: GaveUp) -> None:
        call = _current.get()
        if call is None and self._dark:
            self._end(None, event.reason.name.lower(), event.method, event.url, event.elapsed, event.tries)
            return
        if call is None:  # nothing was sent (the breaker refused, the deadline had passed): a span still says why
            attributes = self._request_attributes(event.method, event.url)
            span = self._tracer.start_span(attributes["http.request.method"], kind=SpanKind.INTERNAL)
            span.set_attributes(attributes)
            call = _Call(span, None, None)
        for span in call.tries.values():  # tries that never finished (the call was interrupted)
            span.end()
        call.tries.clear()
        reason = event.reason.name.lower()
        span = call.span
        span.set_attribute("aiohttp_retry.tries", event.tries)
        span.set_attribute("aiohttp_retry.stop_reason", reason)
        if event.status is not None:
            span.set_attribute("http.response.status_code", event.status)
        error = type(event.error).__qualname__ if event.error is not None else None
        span.set_attribute("error.type", error or (str(event.status) if event.status is not None else reason))
        span.set_status(Status(StatusCode.ERROR, f"gave up: {event.reason.value}"))
        self._end(call, reason, event.method, event.url, event.elapsed, event.tries)

    def _end(self, call: _Call | None, outcome: str, method: str, url: Any, elapsed: float, tries: int) -> None:
        if call is not None:
            call.span.end()
            _current.set(None)
            if call.token is not None:
                otel_context.detach(call.token)
        attributes = self._outcome(method, url, outcome)
        self._duration.record(elapsed, attributes)
        if tries:
            self._tries.record(tries, attributes)

    def _outcome(self, method: str, url: Any, outcome: str) -> dict[str, Any]:
        """The attributes of a call's measurements: method, server address, outcome (cached)."""
        found = self._outcomes.get((method, url, outcome))
        if found is None:
            request = self._request_attributes(method, url)
            found = {"http.request.method": request["http.request.method"], "aiohttp_retry.outcome": outcome}
            if "server.address" in request:
                found["server.address"] = request["server.address"]
            if len(self._outcomes) >= _KEPT:
                self._outcomes.clear()
            self._outcomes[method, url, outcome] = found
        return found

    def _retry_scheduled(self, event: RetryScheduled) -> None:
        call = _current.get()
        if call is not None:
            details = {"aiohttp_retry.cause": event.cause, "aiohttp_retry.delay": event.delay}
            call.span.add_event("retry scheduled", {**details, "aiohttp_retry.retry_after": event.retry_after})
        self._retries.add(1, {"http.request.method": event.method.upper(), "cause": event.cause})

    def _budget_refused(self, event: BudgetRefused) -> None:
        call = _current.get()
        if call is not None:
            call.span.add_event("retry budget refused", {"aiohttp_retry.attempt": event.attempt})
        self._refusals.add(1, {"http.request.method": event.method.upper(), "aiohttp_retry.origin": event.key})

    def _breaker_changed(self, event: BreakerStateChange) -> None:
        call = _current.get()
        if call is not None:
            call.span.add_event("circuit breaker", {"aiohttp_retry.old": event.old, "aiohttp_retry.new": event.new})
        self._transitions.add(1, {"aiohttp_retry.origin": event.key, "old": event.old, "new": event.new})

    def _hedge_fired(self, event: HedgeFired) -> None:
        call = _current.get()
        if call is not None:
            call.span.add_event("hedge fired", {"aiohttp_retry.attempt": event.attempt})
        self._hedges.add(1, {"won": False})

    def _hedge_won(self, event: HedgeWon) -> None:
        call = _current.get()
        if call is not None:
            call.span.add_event("hedge won", {"aiohttp_retry.attempt": event.attempt})
        self._hedges.add(1, {"won": True})

    def __repr__(self) -> str:
        return f"OpenTelemetryListener(try_spans={self.try_spans})"


def _resend_count_config() -> Any:
    """A TraceConfig that marks the instrumentation's span of a resent try with ``http.request.resend_count``.

    It runs after the instrumentation's own (appended later), so the span the
    instrumentation just made is the current one; ``RetryClient`` puts the try
    number in ``trace_request_ctx``.
    """
    from aiohttp import TraceConfig  # noqa: PLC0415 - this module's one use of aiohttp

    async def on_request_start(_session: Any, context: SimpleNamespace, _params: Any) -> None:
        attempt = (getattr(context, "trace_request_ctx", None) or {}).get("current_attempt", 1)
        if attempt > 1:
            trace.get_current_span().set_attribute("http.request.resend_count", attempt - 1)

    config = TraceConfig()
    config.on_request_start.append(on_request_start)
    config.freeze()
    config._aiohttp_retry_resend_count = True  # type: ignore[attr-defined]  # noqa: SLF001 - our mark, once per session
    return config
