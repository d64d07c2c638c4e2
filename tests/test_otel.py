"""OpenTelemetryListener: spans from the SDK's in-memory exporter and metrics from its in-memory reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import ClientSession
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, SpanKind, StatusCode

from aiohttp_retry import CircuitBreaker, CircuitOpenError, ExponentialRetry, Hedging, RetryClient, RetryMiddleware
from aiohttp_retry.contrib.otel import OpenTelemetryListener
from tests.fault_server import FaultServer, Reply

OPTIONS = {"attempts": 3, "start_timeout": 0.01}


class Telemetry:
    """A tracer provider exporting to memory, and a meter provider read in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def listener(self) -> OpenTelemetryListener:
        return OpenTelemetryListener(self.tracer_provider, self.meter_provider)

    def spans(self, kind: SpanKind | None = None) -> list[ReadableSpan]:
        found = self.exporter.get_finished_spans()
        return [span for span in found if kind is None or span.kind is kind]

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    found = Telemetry()
    yield found
    found.tracer_provider.shutdown()


async def call_through(kind: str, listener: OpenTelemetryListener, url: str, **kwargs: Any) -> int:
    """One GET through RetryClient or RetryMiddleware with ``listener`` attached to it."""
    options = ExponentialRetry(**{**OPTIONS, **kwargs})
    if kind == "client":
        async with RetryClient(retry_options=options, listeners=[listener]) as client, client.get(url) as response:
            return response.status
    middleware = RetryMiddleware(options, listeners=[listener])
    async with ClientSession(middlewares=[middleware]) as session, session.get(url) as response:
        return response.status


def traceparent_span_id(value: str) -> int:
    """The parent span id in a W3C traceparent header: version-traceid-spanid-flags."""
    return int(value.split("-")[2], 16)


@pytest.mark.parametrize("kind", ["client", "middleware"])
async def test_a_call_span_and_a_client_span_per_try(fault: FaultServer, telemetry: Telemetry, kind: str) -> None:
    fault.script("/flaky", 503, 200)
    status = await call_through(kind, telemetry.listener(), fault.url("/flaky?token=s3cret"))
    assert status == 200
    (call,) = telemetry.spans(SpanKind.INTERNAL)
    tries = sorted(telemetry.spans(SpanKind.CLIENT), key=lambda span: span.start_time or 0)
    assert len(tries) == 2
    assert call.name == "GET"
    assert call.attributes is not None
    assert call.attributes["aiohttp_retry.tries"] == 2
    assert call.attributes["http.response.status_code"] == 200
    assert "aiohttp_retry.stop_reason" not in call.attributes
    assert [event.name for event in call.events] == ["retry scheduled"]
    first, second = tries
    for span in tries:
        assert span.parent is not None
        assert span.parent.span_id == call.context.span_id
        assert span.context.trace_id == call.context.trace_id
        attributes = span.attributes or {}
        assert attributes["http.request.method"] == "GET"
        assert attributes["server.address"] == "127.0.0.1"
        assert attributes["server.port"] == int(fault.base_url.rsplit(":", 1)[1])
        assert "s3cret" not in attributes["url.full"]
        assert attributes["url.full"].endswith("/flaky?token=***")
    assert (first.attributes or {})["http.response.status_code"] == 503
    assert (first.attributes or {})["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in (first.attributes or {})
    assert (second.attributes or {})["http.request.resend_count"] == 1
    assert second.status.status_code is StatusCode.UNSET
    # Each try carried its own span's trace context to the server.
    sent = [hit.headers["traceparent"] for hit in fault.hits_of("/flaky")]
    assert [traceparent_span_id(value) for value in sent] == [first.context.span_id, second.context.span_id]


@pytest.mark.parametrize("kind", ["client", "middleware"])
async def test_a_call_that_gives_up_says_why(fault: FaultServer, telemetry: Telemetry, kind: str) -> None:
    fault.script("/down", 503)
    assert await call_through(kind, telemetry.listener(), fault.url("/down")) == 503
    (call,) = telemetry.spans(SpanKind.INTERNAL)
    attributes = call.attributes or {}
    assert attributes["aiohttp_retry.stop_reason"] == "last_try"
    assert attributes["aiohttp_retry.tries"] == 3
    assert attributes["error.type"] == "503"
    assert call.status.status_code is StatusCode.ERROR
    assert call.status.description == "gave up: last try"
    assert len(telemetry.spans(SpanKind.CLIENT)) == 3
    durations = telemetry.points("aiohttp_retry.call.duration")
    assert {point.attributes["aiohttp_retry.outcome"]: point.count for point in durations} == {"last_try": 1}
    assert durations[0].attributes["server.address"] == "127.0.0.1"
    (retries,) = telemetry.points("aiohttp_retry.retries")
    assert (retries.attributes["cause"], retries.value) == ("status 503", 2)
    (tries,) = telemetry.points("aiohttp_retry.call.tries")
    assert (tries.count, tries.sum) == (1, 3)


async def test_a_refused_call_still_has_a_span(fault: FaultServer, telemetry: Telemetry) -> None:
    fault.script("/down", 503)
    breaker = CircuitBreaker(minimum_throughput=1, failure_ratio=0.5, break_duration=60)
    listener = telemetry.listener()
    async with RetryClient(circuit_breaker=breaker, listeners=[listener]) as client:
        async with client.get(fault.url("/down"), retry_options=ExponentialRetry(attempts=1)) as response:
            assert response.status == 503
        with pytest.raises(CircuitOpenError):
            await client.get(fault.url("/down"))
    refused = telemetry.spans(SpanKind.INTERNAL)[-1]
    assert (refused.attributes or {})["aiohttp_retry.stop_reason"] == "breaker_open"
    assert (refused.attributes or {})["aiohttp_retry.tries"] == 0
    assert (refused.attributes or {})["error.type"] == "CircuitOpenError"
    assert len(telemetry.spans(SpanKind.CLIENT)) == 1  # the refused call sent nothing
    transitions = telemetry.points("aiohttp_retry.breaker.transitions")
    assert [(p.attributes["old"], p.attributes["new"], p.value) for p in transitions] == [("closed", "open", 1)]


async def test_with_the_aiohttp_instrumentation_no_duplicate_try_spans(
    fault: FaultServer, telemetry: Telemetry
) -> None:
    """The instrumentation's span of each try is kept and marked; the listener adds only the call span."""
    fault.script("/flaky", 503, 503, 200)
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    try:
        async with ClientSession() as session:  # made while instrumented: it has the instrumentation's trace config
            client = RetryClient(session, retry_options=ExponentialRetry(**OPTIONS), listeners=[telemetry.listener()])
            async with client.get(fault.url("/flaky")) as response:
                assert response.status == 200
            second = RetryClient(session, listeners=[telemetry.listener()])  # marks the session once only
            assert sum(getattr(c, "_aiohttp_retry_resend_count", False) for c in session.trace_configs) == 1
            del second
    finally:
        instrumentor.uninstrument()
    (call,) = telemetry.spans(SpanKind.INTERNAL)
    tries = sorted(telemetry.spans(SpanKind.CLIENT), key=lambda span: span.start_time or 0)
    assert len(tries) == 3  # the instrumentation's, one per try; none of the listener's
    assert all(span.parent is not None and span.parent.span_id == call.context.span_id for span in tries)
    assert [(span.attributes or {}).get("http.request.resend_count") for span in tries] == [None, 1, 2]
    sent = [hit.headers["traceparent"] for hit in fault.hits_of("/flaky")]
    assert [traceparent_span_id(value) for value in sent] == [span.context.span_id for span in tries]


async def test_with_the_instrumentation_the_middleware_still_makes_try_spans(
    fault: FaultServer, telemetry: Telemetry
) -> None:
    """The instrumentation sees one request around the middleware's tries: the listener makes the try spans."""
    fault.script("/flaky", 503, 200)
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    try:
        assert await call_through("middleware", telemetry.listener(), fault.url("/flaky")) == 200
    finally:
        instrumentor.uninstrument()
    (outer,) = [span for span in telemetry.spans(SpanKind.CLIENT) if span.parent is None]
    (call,) = telemetry.spans(SpanKind.INTERNAL)
    tries = [span for span in telemetry.spans(SpanKind.CLIENT) if span.parent is not None]
    assert call.parent is not None
    assert call.parent.span_id == outer.context.span_id
    assert len(tries) == 2
    assert all(span.parent is not None and span.parent.span_id == call.context.span_id for span in tries)


@pytest.mark.parametrize("kind", ["client", "middleware"])
async def test_a_no_op_tracer_provider_makes_no_spans_and_still_measures(
    fault: FaultServer, telemetry: Telemetry, kind: str
) -> None:
    listener = OpenTelemetryListener(NoOpTracerProvider(), telemetry.meter_provider)
    fault.script("/flaky", 503, 200)
    fault.script("/down", 503)
    assert await call_through(kind, listener, fault.url("/flaky")) == 200
    assert await call_through(kind, listener, fault.url("/down")) == 503
    assert all("traceparent" not in hit.headers for hit in fault.hits)
    assert not telemetry.spans()
    durations = telemetry.points("aiohttp_retry.call.duration")
    assert {p.attributes["aiohttp_retry.outcome"]: p.count for p in durations} == {"success": 1, "last_try": 1}
    tries = {p.attributes["aiohttp_retry.outcome"]: p.sum for p in telemetry.points("aiohttp_retry.call.tries")}
    assert tries == {"success": 2, "last_try": 3}


async def test_calls_after_a_traced_call_carry_nothing_stale(fault: FaultServer, telemetry: Telemetry) -> None:
    """The headers a try was given are taken once: a later call without the listener sends none."""
    async with RetryClient(listeners=[telemetry.listener()]) as traced, traced.get(fault.url("/a")):
        pass
    async with RetryClient() as plain, plain.get(fault.url("/b")):
        pass
    assert "traceparent" in fault.hits_of("/a")[0].headers
    assert "traceparent" not in fault.hits_of("/b")[0].headers


def test_try_spans_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="try_spans must be True or False"):
        OpenTelemetryListener(try_spans="yes")  # type: ignore[arg-type]


@pytest.mark.looptime
async def test_a_hedged_call_has_a_span_per_try_and_marks_the_hedge(fault: FaultServer, telemetry: Telemetry) -> None:
    fault.script("/slow-first", Reply(delay=5), Reply(delay=0.01))
    hedged = ExponentialRetry(attempts=2, hedging=Hedging(delay=0.1))
    client = RetryClient(listeners=[telemetry.listener()])
    async with client, client.get(fault.url("/slow-first"), retry_options=hedged) as response:
        assert response.status == 200
    (call,) = telemetry.spans(SpanKind.INTERNAL)
    assert [event.name for event in call.events] == ["hedge fired", "hedge won"]
    tries = {
        (span.attributes or {}).get("http.request.resend_count", 0): span for span in telemetry.spans(SpanKind.CLIENT)
    }
    assert sorted(tries) == [0, 1]
    assert tries[0].status.status_code is StatusCode.ERROR  # the slow try, cancelled when the hedge answered
    assert (tries[0].attributes or {})["error.type"] == "CancelledError"
    assert (tries[1].attributes or {})["http.response.status_code"] == 200
    assert all(span.parent is not None and span.parent.span_id == call.context.span_id for span in tries.values())
    sent = {traceparent_span_id(hit.headers["traceparent"]) for hit in fault.hits_of("/slow-first")}
    assert sent == {span.context.span_id for span in tries.values()}
