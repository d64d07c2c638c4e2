"""PrometheusListener: metrics scraped from a real CollectorRegistry and parsed back, after real calls."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from aiohttp_retry import CircuitBreaker, ExponentialRetry, Hedging, RetryBudget, RetryClient
from aiohttp_retry.contrib.prometheus import PrometheusListener
from tests.drivers import Driver
from tests.fault_server import Drop, FaultServer, Reply


def scrape(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the registry's text exposition, parsed back: (name, labels) -> value."""
    text = generate_latest(registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The one sample of ``name`` whose labels include ``labels``; 0 when there is none."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) <= 1, f"{name} {labels}: several samples match"
    return found[0] if found else 0.0


def options(metrics: PrometheusListener, **settings: Any) -> ExponentialRetry:
    settings.setdefault("attempts", 3)
    settings.setdefault("start_timeout", 0.01)
    return ExponentialRetry(listeners=[metrics], **settings)


async def test_calls_tries_retries_and_durations(fault: FaultServer, make_driver: type[Driver]) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusListener(registry)
    fault.script("/flaky", 503, 200)
    fault.script("/down", 503)
    fault.script("/dropped", Drop(), 200)
    async with ClientSession() as session:
        driver = make_driver(session)
        for path in ("/flaky", "/down"):
            async with await driver.request("GET", fault.url(path), options(metrics)):
                pass
        # aiohttp itself resends an idempotent method once after a dropped connection: POST shows the drop.
        keyed = {"Idempotency-Key": "k1"}
        async with await driver.request("POST", fault.url("/dropped"), options(metrics), headers=keyed):
            pass
    samples = scrape(registry)
    origin = fault.base_url.split("//")[1]
    base = {"method": "GET", "origin": origin}
    post = {"method": "POST", "origin": origin}
    assert value(samples, "aiohttp_retry_calls_total", **base, outcome="success", status_class="2xx") == 1
    assert value(samples, "aiohttp_retry_calls_total", **base, outcome="last_try", status_class="5xx") == 1
    assert value(samples, "aiohttp_retry_calls_total", **post, outcome="success", status_class="2xx") == 1
    assert value(samples, "aiohttp_retry_tries_total", **base, status_class="5xx") == 4
    assert value(samples, "aiohttp_retry_tries_total", **base, status_class="2xx") == 1
    assert value(samples, "aiohttp_retry_tries_total", **post, status_class="transport") == 1
    assert value(samples, "aiohttp_retry_tries_total", **post, status_class="2xx") == 1
    assert value(samples, "aiohttp_retry_retries_total", **base, cause="status 503") == 3
    assert value(samples, "aiohttp_retry_retries_total", **post, cause=make_driver.disconnected.__name__) == 1
    assert value(samples, "aiohttp_retry_call_duration_seconds_count", **base) == 2
    assert value(samples, "aiohttp_retry_tries_per_call_sum", **base) == 2 + 3
    assert value(samples, "aiohttp_retry_tries_per_call_bucket", **base, le="1.0") == 0
    assert value(samples, "aiohttp_retry_tries_per_call_bucket", **base, le="2.0") == 1
    assert value(samples, "aiohttp_retry_tries_per_call_bucket", **base, le="3.0") == 2
    assert "route" not in {name for (_, labels) in samples for name, _ in labels}


async def test_routes_label_folds_ids_and_never_holds_a_raw_url(fault: FaultServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusListener(registry, routes=["/users/{id}"])
    async with RetryClient(listeners=[metrics]) as client:
        for path in ("/users/17?token=s3cret", "/users/42?token=s3cret", "/health"):
            async with client.get(fault.url(path)):
                pass
    samples = scrape(registry)
    assert value(samples, "aiohttp_retry_calls_total", route="/users/{id}", outcome="success") == 2
    assert value(samples, "aiohttp_retry_calls_total", route="other", outcome="success") == 1
    label_values = {label_value for (_, labels) in samples for _, label_value in labels}
    assert not [v for v in label_values if "s3cret" in v or "/users/1" in v or "/users/4" in v]


async def test_budget_refusals_and_gave_up_reason(fault: FaultServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusListener(registry, namespace="svc")
    fault.script("/down", 503)
    budget = RetryBudget(ratio=0.0, min_per_second=0.0)
    async with RetryClient(retry_budget=budget, listeners=[metrics]) as client:
        response = await client.get(fault.url("/down"), retry_options=ExponentialRetry(start_timeout=0.01))
        await response.release()
    samples = scrape(registry)
    assert value(samples, "svc_budget_refusals_total", method="GET") == 1
    assert value(samples, "svc_calls_total", outcome="budget_spent", status_class="5xx") == 1
    assert value(samples, "svc_retries_total") == 0


async def test_breaker_state_and_transitions(fault: FaultServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusListener(registry)
    fault.script("/down", 503)
    breaker = CircuitBreaker(failure_ratio=0.5, minimum_throughput=2, break_duration=60)
    async with RetryClient(circuit_breaker=breaker, listeners=[metrics]) as client:
        response = await client.get(fault.url("/down"), retry_options=ExponentialRetry(attempts=4, start_timeout=0.01))
        await response.release()
    samples = scrape(registry)
    origin = fault.base_url.split("//")[1]
    assert value(samples, "aiohttp_retry_breaker_transitions_total", origin=origin, old="closed", new="open") == 1
    assert value(samples, "aiohttp_retry_breaker_state", origin=origin, state="open") == 1
    assert value(samples, "aiohttp_retry_breaker_state", origin=origin, state="closed") == 0
    assert value(samples, "aiohttp_retry_calls_total", outcome="breaker_open") == 1


@pytest.mark.looptime
async def test_hedges_fired_and_won(fault: FaultServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusListener(registry)
    fault.script("/slow-first", Reply(delay=5), Reply(delay=0.01))
    async with RetryClient(listeners=[metrics]) as client:
        hedged = ExponentialRetry(attempts=2, hedging=Hedging(delay=0.1))
        async with client.get(fault.url("/slow-first"), retry_options=hedged) as response:
            assert response.status == 200
    samples = scrape(registry)
    assert value(samples, "aiohttp_retry_hedges_fired_total") == 1
    assert value(samples, "aiohttp_retry_hedges_won_total") == 1
    assert value(samples, "aiohttp_retry_calls_total", outcome="success") == 1


async def test_connect_failure_is_its_own_status_class() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusListener(registry)
    async with RetryClient(listeners=[metrics]) as client:
        with pytest.raises(Exception):  # noqa: B017 - the connector's error, whichever aiohttp raises
            await client.get("http://127.0.0.1:9/", retry_options=ExponentialRetry(attempts=2, start_timeout=0.01))
    samples = scrape(registry)
    assert value(samples, "aiohttp_retry_tries_total", status_class="connect") == 2
    assert value(samples, "aiohttp_retry_calls_total", outcome="last_try", status_class="connect") == 1


def test_one_listener_per_namespace_and_registry() -> None:
    registry = CollectorRegistry()
    PrometheusListener(registry)
    with pytest.raises(ValueError, match="namespace 'aiohttp_retry' is already registered"):
        PrometheusListener(registry)
    other = PrometheusListener(registry, namespace="second")  # the failed attempt left nothing behind
    assert other.registry is registry
    names = {family.name for family in registry.collect()}
    assert "second_calls" in names
    assert "aiohttp_retry_calls" in names


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"registry": "default"}, TypeError, "registry must be a prometheus_client.CollectorRegistry"),
        ({"namespace": "my-app"}, ValueError, "namespace must be"),
        ({"routes": "/users/{id}"}, TypeError, "routes must be an iterable"),
        ({"routes": ["users/{id}"]}, ValueError, "starting with '/'"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, Any], error: type[Exception], words: str) -> None:
    kwargs = {"registry": CollectorRegistry(), **kwargs}
    with pytest.raises(error, match=words):
        PrometheusListener(**kwargs)
