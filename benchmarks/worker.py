"""One benchmark contender in a fresh process: measures it against a running server, prints JSON.

Self-contained (stdlib, aiohttp and whichever ``aiohttp_retry`` or ``extapi`` the
running Python imports), so the runner can start it with the Python of the
upstream or the extapi venv too. Run by path, not with ``-m``, so that those
venvs do not pick up this checkout's ``aiohttp_retry`` from the current directory:

    python benchmarks/worker.py --contender retryclient --url http://127.0.0.1:8080/ \
        [--requests 20000] [--warmup 2000] [--concurrency 64] [--rss-requests 200000]
    python benchmarks/worker.py --contender bare --url ... --count 2000   # for valgrind: just N requests

Contenders, in the order the tables list them:

- bare: ClientSession(), the baseline; bare-again: the same code again, to show the run's A/A noise;
- retryclient: RetryClient();
- retryclient-listener: RetryClient(listeners=[lambda event: None]), a no-op listener on every event;
- retryclient-prometheus: RetryClient(listeners=[PrometheusListener(CollectorRegistry())]);
- retryclient-report: RetryClient(listeners=[Report()]);
- retryclient-otel: RetryClient(listeners=[OpenTelemetryListener(NoOpTracerProvider())]), the global meter;
- retryclient-protected: RetryClient(circuit_breaker=CircuitBreaker(),
  retry_options=ExponentialRetry(total_timeout=30.0)), a breaker and a total deadline;
- retryclient-limits: RetryClient(rate_limiter=RateLimiter(per_origin="20000/s"),
  concurrency_limiter=ConcurrencyLimiter(per_origin=100), throttle=AdaptiveThrottle()): one rate rule,
  one concurrency limit and the adaptive throttle, none of which ever has to wait or shed here;
- retryclient-fleet: RetryClient(retry_budget=SharedRetryBudget(fleet), circuit_breaker=SharedCircuitBreaker(fleet))
  over one RedisFleet on the Redis server the runner starts (its URL in AIOHTTP_RETRY_BENCH_REDIS; the sync
  interval in AIOHTTP_RETRY_BENCH_FLEET_INTERVAL, default 0.2 s);
- retryclient-request: RetryClient() sending every try through ClientSession.request (a reference:
  what the direct route to ClientSession._request saves);
- middleware: ClientSession(middlewares=[RetryMiddleware()]);
- middleware-protected: ClientSession(middlewares=[RetryMiddleware(FullJitterRetry(total_timeout=30.0),
  circuit_breaker=CircuitBreaker())]);
- middleware-noop: a middleware that only calls the next handler (a reference: aiohttp's own cost
  of the middleware form);
- httpx-bare: httpx.AsyncClient(), the baseline of the httpx contenders;
- httpx-transport: httpx.AsyncClient(transport=RetryTransport()), this library's httpx transport;
- httpx-retries: httpx.AsyncClient(transport=httpx_retries.RetryTransport()), httpx-retries 0.6 with its
  defaults (in the dev extra; the contender exits with a message where it is not installed);
- upstream: 2.9.1's RetryClient(), run with the upstream venv's Python;
- extapi: extapi 0.1.7's executors as its README composes them, with Prometheus metrics on:
  RetryableExecutor(PrometheusMetricsExecutor(AiohttpExecutor(), metrics_container=MetricsContainer(
  metrics_prefix="benchmark_", metrics_registry=CollectorRegistry()))), each GET with the URL's path as
  its path_template; run with the extapi venv's Python.

Each contender imports only the names it needs, when it starts: upstream's
aiohttp_retry has none of this checkout's newer ones, and the extapi venv has no
aiohttp_retry at all.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import resource
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from aiohttp_retry import RetryClient, RetryMiddleware

Fetch = Callable[[], Awaitable[int]]
Close = Callable[[], Awaitable[None]]
CONTENDERS = (
    "bare",
    "bare-again",
    "retryclient",
    "retryclient-listener",
    "retryclient-prometheus",
    "retryclient-report",
    "retryclient-otel",
    "retryclient-protected",
    "retryclient-limits",
    "retryclient-fleet",
    "retryclient-request",
    "middleware",
    "middleware-protected",
    "middleware-noop",
    "httpx-bare",
    "httpx-transport",
    "httpx-retries",
    "upstream",
    "extapi",
)
RETRY_CLIENTS = frozenset(
    {
        "retryclient",
        "retryclient-listener",
        "retryclient-prometheus",
        "retryclient-report",
        "retryclient-otel",
        "retryclient-protected",
        "retryclient-limits",
        "retryclient-fleet",
        "retryclient-request",
        "upstream",
    }
)
#: The contenders that attach one listener to RetryClient().
LISTENED = frozenset({"retryclient-listener", "retryclient-prometheus", "retryclient-report", "retryclient-otel"})
UPSTREAM_VERSION = "2.9.1"
EXTAPI_VERSION = "0.1.7"
HTTPX_RETRIES_VERSION = "0.6.0"


async def make_contender(name: str, url: str) -> tuple[Fetch, Close]:
    """``(fetch, close)``: one GET of ``url`` with its body read, and a closer."""
    if name == "extapi":
        require("extapi", EXTAPI_VERSION, name)
        return make_extapi(url)
    if name.startswith("httpx-"):
        return make_httpx(name, url)
    if name in RETRY_CLIENTS:
        if name == "upstream":
            require("aiohttp_retry", UPSTREAM_VERSION, name)
        client = make_retry_client(name)

        async def fetch_retry() -> int:
            async with client.get(url) as resp:
                await resp.read()
                return resp.status

        return fetch_retry, client.close
    if name in {"middleware", "middleware-protected"}:
        session = aiohttp.ClientSession(middlewares=[make_retry_middleware(name)])
    elif name == "middleware-noop":  # reference: what aiohttp's middleware dispatch costs by itself
        session = aiohttp.ClientSession(middlewares=[NoopMiddleware()])
    elif name in {"bare", "bare-again"}:  # bare-again: the same code again, to show the run's A/A noise
        session = aiohttp.ClientSession()
    else:
        msg = f"unknown contender {name!r}; choose from {', '.join(CONTENDERS)}"
        raise ValueError(msg)

    async def fetch() -> int:
        async with session.get(url) as resp:
            await resp.read()
            return resp.status

    return fetch, session.close


def require(distribution: str, version: str, contender: str) -> None:
    """Exit unless the running Python has ``version`` of ``distribution``."""
    try:
        found = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        found = "none"
    if found != version:
        msg = f"contender {contender} needs {distribution} {version}, not {found}; this Python has {library_info()}"
        raise SystemExit(msg)


def make_extapi(url: str) -> tuple[Fetch, Close]:
    """extapi's retrying executor around its Prometheus metrics executor around its aiohttp backend."""
    # Only this contender has them, in the extapi venv.
    from extapi.http.backends.aiohttp import AiohttpExecutor  # noqa: PLC0415
    from extapi.http.executors.metrics import PrometheusMetricsExecutor  # noqa: PLC0415
    from extapi.http.executors.retry import RetryableExecutor  # noqa: PLC0415
    from extapi.http.metrics.container import MetricsContainer  # noqa: PLC0415
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    backend = AiohttpExecutor()
    metrics = MetricsContainer(metrics_prefix="benchmark_", metrics_registry=CollectorRegistry())
    executor = RetryableExecutor(PrometheusMetricsExecutor(backend, metrics_container=metrics))
    # The path label, as extapi asks (without one it calls warnings.warn on every request): the URL's path.
    path = urllib.parse.urlsplit(url).path or "/"

    async def fetch_extapi() -> int:
        async with await executor.get(url, path_template=path) as resp:
            await resp.read()
            return resp.status

    return fetch_extapi, backend.close


def make_httpx(name: str, url: str) -> tuple[Fetch, Close]:
    """An ``httpx.AsyncClient``: bare, over this library's ``RetryTransport``, or over httpx-retries'."""
    import httpx  # noqa: PLC0415 - only the httpx contenders need it

    if name == "httpx-transport":
        from aiohttp_retry.transports.httpx import RetryTransport  # noqa: PLC0415 - not in upstream

        client = httpx.AsyncClient(transport=RetryTransport())
    elif name == "httpx-retries":
        require("httpx-retries", HTTPX_RETRIES_VERSION, name)
        import httpx_retries  # noqa: PLC0415 - only this contender needs it

        client = httpx.AsyncClient(transport=httpx_retries.RetryTransport())
    else:
        client = httpx.AsyncClient()

    async def fetch_httpx() -> int:
        response = await client.get(url)  # read whole, as the other contenders read theirs
        return response.status_code

    return fetch_httpx, client.aclose


def make_listener(name: str) -> Any:
    """The listener of a ``retryclient-<listener>`` contender."""
    if name == "retryclient-prometheus":
        from prometheus_client import CollectorRegistry  # noqa: PLC0415 - only this contender needs it

        from aiohttp_retry.contrib.prometheus import PrometheusListener  # noqa: PLC0415 - not in upstream

        return PrometheusListener(CollectorRegistry())
    if name == "retryclient-report":
        from aiohttp_retry.report import Report  # noqa: PLC0415 - not in upstream

        return Report()
    if name == "retryclient-otel":
        from opentelemetry.trace import NoOpTracerProvider  # noqa: PLC0415 - only this contender needs it

        from aiohttp_retry.contrib.otel import OpenTelemetryListener  # noqa: PLC0415 - not in upstream

        return OpenTelemetryListener(NoOpTracerProvider())
    return lambda _event: None  # retryclient-listener: a no-op on every event


def make_retry_client(name: str) -> RetryClient:
    """The ``RetryClient`` of a ``retryclient*`` contender or of ``upstream``."""
    from aiohttp_retry import RetryClient  # noqa: PLC0415 - only the contenders that need it load it

    if name in LISTENED:
        return RetryClient(listeners=[make_listener(name)])
    if name == "retryclient-protected":
        from aiohttp_retry import CircuitBreaker, ExponentialRetry  # noqa: PLC0415 - not in upstream

        return RetryClient(circuit_breaker=CircuitBreaker(), retry_options=ExponentialRetry(total_timeout=30.0))
    if name == "retryclient-limits":
        from aiohttp_retry import AdaptiveThrottle, ConcurrencyLimiter, RateLimiter  # noqa: PLC0415 - not in upstream

        return RetryClient(
            rate_limiter=RateLimiter(per_origin="20000/s"),
            concurrency_limiter=ConcurrencyLimiter(per_origin=100),
            throttle=AdaptiveThrottle(),
        )
    if name == "retryclient-fleet":
        from aiohttp_retry.contrib.redis import (  # noqa: PLC0415 - the redis extra
            RedisFleet,
            SharedCircuitBreaker,
            SharedRetryBudget,
        )

        url = os.environ.get("AIOHTTP_RETRY_BENCH_REDIS")
        if not url:
            msg = "contender retryclient-fleet needs AIOHTTP_RETRY_BENCH_REDIS (python -m benchmarks starts a server)"
            raise SystemExit(msg)
        fleet = RedisFleet(url=url, interval=float(os.environ.get("AIOHTTP_RETRY_BENCH_FLEET_INTERVAL", "0.2")))
        return RetryClient(retry_budget=SharedRetryBudget(fleet), circuit_breaker=SharedCircuitBreaker(fleet))
    if name == "retryclient-request":
        # Reference: every try through ClientSession.request, as for a session whose request is
        # overridden, to show what the direct route to ClientSession._request saves.
        import aiohttp_retry.aiohttp_codec  # noqa: PLC0415 - not in upstream

        aiohttp_retry.aiohttp_codec._SESSION_REQUEST = None  # type: ignore[assignment]  # noqa: SLF001
    return RetryClient()


def make_retry_middleware(name: str) -> RetryMiddleware:
    """The ``RetryMiddleware`` of a ``middleware*`` contender (not ``middleware-noop``)."""
    from aiohttp_retry import RetryMiddleware  # noqa: PLC0415 - only the contenders that need it load it

    if name == "middleware-protected":
        from aiohttp_retry import CircuitBreaker, FullJitterRetry  # noqa: PLC0415

        return RetryMiddleware(FullJitterRetry(total_timeout=30.0), circuit_breaker=CircuitBreaker())
    return RetryMiddleware()


class NoopMiddleware:
    """A client middleware that only calls the next handler, shaped like RetryMiddleware (a class instance)."""

    async def __call__(self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType) -> Any:
        return await handler(request)


def rss_kb() -> int:
    """The resident set size now, in KiB (VmRSS; the peak from getrusage where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123 - hot-path-free, stdlib only
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def sequential(fetch: Fetch, n: int) -> tuple[list[int], float, float, int]:
    """``n`` requests one after another: latencies (ns), CPU seconds, wall seconds, non-200 count."""
    latencies = [0] * n
    bad = 0
    clock = time.perf_counter_ns
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        start = clock()
        status = await fetch()
        latencies[i] = clock() - start
        if status != 200:
            bad += 1
    return latencies, time.process_time() - cpu0, time.perf_counter() - wall0, bad


async def concurrent(fetch: Fetch, n: int, concurrency: int) -> tuple[float, float, int]:
    """``n`` requests from ``concurrency`` tasks sharing ``fetch``: wall seconds, CPU seconds, non-200 count."""
    tickets = iter(range(n))
    bad = 0

    async def task() -> None:
        nonlocal bad
        for _ in tickets:
            if await fetch() != 200:
                bad += 1

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(task() for _ in range(concurrency)))
    return time.perf_counter() - wall0, time.process_time() - cpu0, bad


def percentile(sorted_values: list[int], fraction: float) -> float:
    """The value at ``fraction`` (0..1) of the sorted list, nearest rank."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return float(sorted_values[index])


def library_info() -> dict[str, Any]:
    """Versions and locations of what this process imported, to show which aiohttp_retry ran."""
    info: dict[str, Any] = {"python": sys.version.split()[0], "aiohttp": aiohttp.__version__}
    module = sys.modules.get("aiohttp_retry")
    if module is not None:
        info["aiohttp_retry_file"] = getattr(module, "__file__", None)
        try:
            info["aiohttp_retry"] = importlib.metadata.version("aiohttp_retry")
        except importlib.metadata.PackageNotFoundError:
            info["aiohttp_retry"] = getattr(module, "__version__", "unknown")
    for other in ("extapi", "httpx", "httpx_retries"):
        if other in sys.modules:
            info[other] = importlib.metadata.version(other.replace("_", "-"))
    return info


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then the concurrency-1 phase, the concurrent phase, and requests up to ``rss_requests``."""
    fetch, close = await make_contender(args.contender, args.url)
    try:
        await concurrent(fetch, args.warmup, args.concurrency)
        await sequential(fetch, min(args.warmup, 1000))
        rss_warm = rss_kb()
        latencies, cpu, wall, bad1 = await sequential(fetch, args.requests)
        wall64, cpu64, bad64 = await concurrent(fetch, args.requests, args.concurrency)
        done = args.warmup + min(args.warmup, 1000) + 2 * args.requests
        rest = max(0, args.rss_requests - done)
        *_, bad_rest = await concurrent(fetch, rest, args.concurrency)
    finally:
        await close()
    latencies.sort()
    return {
        "contender": args.contender,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "cpu_us_per_request": cpu / args.requests * 1e6,
        "cpu_us_per_request_c64": cpu64 / args.requests * 1e6,
        "rps_c1": args.requests / wall,
        "rps_c64": args.requests / wall64,
        "p50_us": percentile(latencies, 0.50) / 1e3,
        "p99_us": percentile(latencies, 0.99) / 1e3,
        "rss_after_warmup_mb": rss_warm / 1024,
        "rss_mb": rss_kb() / 1024,
        "rss_after_requests": done + rest,
        "non_200": bad1 + bad64 + bad_rest,
        **library_info(),
    }


async def count_only(args: argparse.Namespace) -> dict[str, Any]:
    """A short warm-up, then exactly ``--count`` requests one after another (for instruction counts)."""
    fetch, close = await make_contender(args.contender, args.url)
    try:
        *_, bad_warm = await sequential(fetch, args.warmup)
        *_, bad = await sequential(fetch, args.count)
    finally:
        await close()
    return {"contender": args.contender, "count": args.count, "non_200": bad + bad_warm, **library_info()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="run one benchmark contender and print JSON")
    parser.add_argument("--contender", choices=CONTENDERS, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=20_000, help="requests per measured phase")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rss-requests", type=int, default=200_000, help="requests done before the final RSS")
    parser.add_argument("--count", type=int, help="only send this many requests at concurrency 1 (valgrind mode)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = asyncio.run(count_only(args) if args.count is not None else measure(args))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
