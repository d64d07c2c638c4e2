"""OpenTelemetry: a span per call, a CLIENT span per try, trace context sent with every try.

Needs the extra: pip install 'aiohttp_retry[otel]' (the SDK below is what an application adds)
Run: python examples/otel.py
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from local_server import serve
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.contrib.otel import OpenTelemetryListener


async def main() -> None:
    answers = iter([503, 200])
    parents = []

    async def flaky(request: web.Request) -> web.Response:
        parents.append(request.headers.get("traceparent"))
        return web.Response(status=next(answers, 200))

    app = web.Application()
    app.router.add_get("/flaky", flaky)
    # An application sets its provider up once (usually globally, with an OTLP exporter);
    # here the spans go to memory so that the example can print them.
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    listener = OpenTelemetryListener(tracer_provider=provider)
    async with serve(app) as url, RetryClient(listeners=[listener]) as client:
        options = ExponentialRetry(attempts=3, start_timeout=0.01)
        async with client.get(f"{url}/flaky?token=s3cret", retry_options=options) as response:
            print(f"status {response.status}")
    for span in sorted(exporter.get_finished_spans(), key=lambda span: span.start_time or 0):
        attributes = dict(span.attributes or {})
        keys = ("http.response.status_code", "http.request.resend_count")
        shown = {key: attributes[key] for key in keys if key in attributes}
        print(f"{span.kind.name:8} {span.name} {attributes.get('url.full')} {shown}")
    print("traceparent sent with each try:")
    for value in parents:
        print(f"  {value}")


if __name__ == "__main__":
    asyncio.run(main())
