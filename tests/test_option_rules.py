"""Rules every option class keeps: each argument takes effect, defaults, and refusals naming the parameter."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry import (
    DecorrelatedJitterRetry,
    ExponentialRetry,
    FibonacciRetry,
    FullJitterRetry,
    Hedging,
    JitterRetry,
    ListRetry,
    RandomRetry,
    RetryOptionsBase,
)
from aiohttp_retry.policy import RetryAfter, TimeLimits
from aiohttp_retry.policy.breaker import CircuitBreaker
from aiohttp_retry.policy.budget import RetryBudget
from tests.memory_transport import MemoryExchange, MemoryResponse, drive

#: Every option class, built with its schedule's defaults (ListRetry needs its list).
CLASSES: dict[str, Callable[..., RetryOptionsBase]] = {
    "ExponentialRetry": ExponentialRetry,
    "RandomRetry": RandomRetry,
    "ListRetry": lambda **kwargs: ListRetry([0.0, 0.0, 0.0], **kwargs),
    "FibonacciRetry": FibonacciRetry,
    "JitterRetry": JitterRetry,
    "FullJitterRetry": FullJitterRetry,
    "DecorrelatedJitterRetry": DecorrelatedJitterRetry,
}
class_names = st.sampled_from(sorted(CLASSES))


def rejects_everything(response: object) -> bool:
    return False


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_class_keeps_what_to_retry(name: str) -> None:
    """statuses, exceptions, methods, retry_all_server_errors and the callback reach every class as given."""
    opts = CLASSES[name](
        statuses=[429, 404],
        exceptions=[KeyError],
        methods=["post", "get"],
        retry_all_server_errors=False,
        evaluate_response_callback=rejects_everything,
    )
    assert type(opts).__name__ == name
    assert opts.statuses == {404, 429}
    assert opts.exceptions == {KeyError}
    assert opts.methods == {"GET", "POST"}
    assert opts.retry_all_server_errors is False
    assert opts.evaluate_response_callback is rejects_everything


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_class_keeps_the_common_settings(name: str) -> None:
    """Every keyword of CommonOptions reaches every class; attempt_timeout may equal total_timeout."""
    after, hedging, budget, breaker = RetryAfter(statuses={503}), Hedging(delay=0.2), RetryBudget(), CircuitBreaker()
    opts = CLASSES[name](
        retry_network_errors=False,
        retry_after=after,
        total_timeout=5,
        attempt_timeout=5,
        propagate_timeout=True,
        idempotency_header="X-Key",
        replay_buffer=10,
        hedging=hedging,
        retry_budget=budget,
        circuit_breaker=breaker,
        listeners=[print],
    )
    assert opts.retry_network_errors is False
    assert opts.retry_after is after
    assert opts.time_limits == TimeLimits(total=5, attempt=5, propagate=True)
    assert opts.idempotency_header == "X-Key"
    assert opts.replay_buffer == 10
    assert opts.hedging is hedging
    assert opts.retry_budget is budget
    assert opts.circuit_breaker is breaker
    assert opts.listeners == (print,)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_class_has_the_same_common_defaults(name: str) -> None:
    """Left out, the common settings are: network errors retried, RetryAfter(), no limits, 1 MiB replay buffer."""
    opts = CLASSES[name]()
    assert opts.retry_network_errors is True
    assert opts.retry_after == RetryAfter()
    assert opts.time_limits == TimeLimits(total=None, attempt=None, propagate=False)
    assert opts.idempotency_header == "Idempotency-Key"
    assert opts.replay_buffer == 1024 * 1024
    assert opts.hedging is None
    assert opts.listeners == ()
    assert opts.retry_all_server_errors is True
    assert opts.evaluate_response_callback is None
    assert opts.statuses == frozenset()
    assert opts.exceptions == frozenset()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_class_refuses_unknown_keywords_by_name(name: str) -> None:
    """Misspelt keywords are listed, sorted, after the name of the class that refused them."""
    with pytest.raises(TypeError) as caught:
        CLASSES[name](totl_timeout=1, atempts=2)
    assert str(caught.value) == f"{name}() got unexpected keyword argument(s): atempts, totl_timeout"


@pytest.mark.looptime
@pytest.mark.parametrize("name", sorted(CLASSES))
async def test_every_class_retries_what_it_is_told(name: str) -> None:
    """A listed status is retried; without retry_all_server_errors a 503 is returned as it is."""
    exchange = MemoryExchange([429, 503, 200])
    response = await drive(CLASSES[name](statuses={429}, retry_all_server_errors=False), exchange)
    assert response.status == 503
    assert len(exchange.sends) == 2


@pytest.mark.looptime
@pytest.mark.parametrize("name", sorted(CLASSES))
async def test_every_class_consults_its_callback(name: str) -> None:
    """A response the callback rejects is retried; the one it accepts is returned."""
    seen: list[int] = []

    def first_is_bad(response: MemoryResponse) -> bool:
        seen.append(response.attempt)
        return response.attempt > 1

    exchange = MemoryExchange([200, 200])
    response = await drive(CLASSES[name](evaluate_response_callback=first_is_bad), exchange)
    assert (response.status, response.attempt, seen) == (200, 2, [1, 2])


@pytest.mark.looptime
@pytest.mark.parametrize("name", sorted(CLASSES))
async def test_every_class_retries_only_allowed_methods(name: str) -> None:
    """A method outside ``methods`` is tried once, whatever the status."""
    exchange = MemoryExchange([503, 200], method="PUT")
    response = await drive(CLASSES[name](methods={"GET"}), exchange)
    assert response.status == 503
    assert len(exchange.sends) == 1


@pytest.mark.parametrize(
    ("build", "schedule"),
    [
        (ExponentialRetry, [0.1, 0.2, 0.4, 0.8]),
        (FibonacciRetry, [2.0, 3.0, 3.0, 3.0]),
        (lambda: RandomRetry(random_func=lambda: 0.0), [0.1] * 4),
        (lambda: RandomRetry(random_func=lambda: 1.0), [3.0] * 4),
    ],
)
def test_schedule_defaults_are_literal(build: Callable[[], RetryOptionsBase], schedule: list[float]) -> None:
    """Defaults: 3 tries; exponential 0.1 s doubling; Fibonacci 1 s x F capped at 3 s; random 0.1 s to 3 s."""
    opts = build()
    assert opts.attempts == 3
    assert [opts.get_timeout(i) for i in range(4)] == pytest.approx(schedule)


@given(i=st.integers(0, 1000))
def test_default_exponential_schedule(i: int) -> None:
    """ExponentialRetry() waits min(0.1 * 2 ** i, 30) after failed try i + 1."""
    assert ExponentialRetry().get_timeout(i) == pytest.approx(min(0.1 * 2.0**i, 30.0))


class TopOfRange(random.Random):
    """A generator whose draws are always at the top of their range."""

    def random(self) -> float:
        return 1.0

    def uniform(self, a: float, b: float) -> float:  # noqa: ARG002 - always the top
        return b


@given(i=st.integers(0, 1000))
def test_default_jitter_schedule(i: int) -> None:
    """JitterRetry() adds up to 2 ** 2 s of jitter to ExponentialRetry()'s wait."""
    wait = JitterRetry(rng=TopOfRange()).get_timeout(i)
    assert wait == pytest.approx(min(0.1 * 2.0**i, 30.0) + 4.0)
    opts = JitterRetry()
    assert (opts.attempts, opts.retry_all_server_errors) == (3, True)


@given(i=st.integers(0, 1000))
def test_default_full_jitter_schedule(i: int) -> None:
    """FullJitterRetry() waits up to min(0.1 * 2 ** i, 30) s."""
    assert FullJitterRetry(rng=TopOfRange()).get_timeout(i) == pytest.approx(min(0.1 * 2.0**i, 30.0))


def test_default_decorrelated_schedule() -> None:
    """DecorrelatedJitterRetry() starts below 0.3 s, grows to 3 x the last wait, capped at 30 s; 3 tries."""
    opts = DecorrelatedJitterRetry(rng=TopOfRange())
    assert opts.attempts == 3
    assert opts.get_timeout(0) == pytest.approx(0.3)
    assert opts.next_delay(1, None, 2.0) == pytest.approx(6.0)
    assert opts.next_delay(2, None, 20.0) == 30.0


#: (class, parameter) pairs that take a number of seconds or a factor
NUMBERS = [
    ("ExponentialRetry", "start_timeout"),
    ("ExponentialRetry", "max_timeout"),
    ("ExponentialRetry", "factor"),
    ("RandomRetry", "min_timeout"),
    ("RandomRetry", "max_timeout"),
    ("FibonacciRetry", "multiplier"),
    ("FibonacciRetry", "max_timeout"),
    ("JitterRetry", "start_timeout"),
    ("JitterRetry", "max_timeout"),
    ("JitterRetry", "factor"),
    ("JitterRetry", "random_interval_size"),
    ("FullJitterRetry", "start_timeout"),
    ("FullJitterRetry", "max_timeout"),
    ("FullJitterRetry", "factor"),
    ("DecorrelatedJitterRetry", "start_timeout"),
    ("DecorrelatedJitterRetry", "max_timeout"),
]
not_numbers = st.sampled_from([True, False, "1", b"1", None, [1.0]])
not_finite = st.sampled_from([math.inf, -math.inf, math.nan])


@given(where=st.sampled_from(NUMBERS), value=st.one_of(not_numbers, not_finite, st.floats(max_value=-1e-9)))
def test_a_bad_number_is_refused_naming_its_parameter(where: tuple[str, str], value: object) -> None:
    """Booleans and non-numbers are a TypeError, infinities, NaN and negatives a ValueError; both name the parameter."""
    name, parameter = where
    expected = ValueError if isinstance(value, float) else TypeError
    with pytest.raises(expected) as caught:
        CLASSES[name](**{parameter: value})
    assert str(caught.value).startswith(f"{parameter} must be a finite number")


@given(name=class_names, parameter=st.sampled_from(["total_timeout", "attempt_timeout"]), value=not_finite)
def test_time_limits_refuse_infinity_and_nan(name: str, parameter: str, value: float) -> None:
    """A time limit must be finite: no limit is spelt None, never math.inf."""
    with pytest.raises(ValueError, match=f"^{parameter} must be a finite number of seconds > 0"):
        CLASSES[name](**{parameter: value})


@given(name=class_names, value=st.sampled_from([True, False, 2.5, math.inf, math.nan, "3", None]))
def test_attempts_must_be_an_int(name: str, value: object) -> None:
    """attempts is a whole number: a bool or float is refused with a TypeError naming it."""
    if name == "ListRetry":
        opts = CLASSES[name]()
        with pytest.raises(TypeError, match=r"^attempts must be an integer >= 1"):
            opts.attempts = value  # type: ignore[assignment]
        return
    with pytest.raises(TypeError, match=r"^attempts must be an integer >= 1"):
        CLASSES[name](attempts=value)


def test_factor_below_one_is_refused() -> None:
    """A factor below 1 would shrink the waits: it is refused, naming it."""
    for build in (ExponentialRetry, JitterRetry, FullJitterRetry):
        with pytest.raises(ValueError, match=r"^factor must be a finite number >= 1, got 0\.5$"):
            build(factor=0.5)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: ListRetry([]),
            ValueError,
            "timeouts must be a non-empty list of seconds such as [0.5, 1, 2], got an empty one",
        ),
        (
            lambda: RandomRetry(min_timeout=2, max_timeout=1),
            ValueError,
            "min_timeout (2) must not exceed max_timeout (1)",
        ),
        (
            lambda: RandomRetry(random_func=0.5),
            TypeError,
            "random_func must be a callable returning a float in [0, 1), got 0.5",
        ),
        (lambda: JitterRetry(rng=7), TypeError, "rng must be a random.Random instance or None, got 7"),
        (lambda: FullJitterRetry(rng=7), TypeError, "rng must be a random.Random instance or None, got 7"),
        (
            lambda: ExponentialRetry(evaluate_response_callback=True),
            TypeError,
            (
                "evaluate_response_callback must be a callable taking the response and returning a bool "
                "(or an awaitable of one) or None, got True"
            ),
        ),
        (
            lambda: ExponentialRetry(retry_after=60),
            TypeError,
            "retry_after must be a RetryAfter instance or None, got 60",
        ),
        (lambda: ExponentialRetry(hedging=0.1), TypeError, "hedging must be a Hedging instance or None, got 0.1"),
        (
            lambda: ExponentialRetry(idempotency_header=123),
            TypeError,
            "idempotency_header must be a header name such as 'Idempotency-Key', or None, got 123",
        ),
        (
            lambda: ExponentialRetry(replay_buffer=-1),
            ValueError,
            "replay_buffer must be a whole number of bytes >= 0, got -1",
        ),
        (
            lambda: ExponentialRetry(replay_buffer=True),
            TypeError,
            "replay_buffer must be a whole number of bytes >= 0, got True",
        ),
        (
            lambda: ExponentialRetry(retry_budget=0.2),
            TypeError,
            (
                "retry_budget must be None or an object with the methods record_call, try_retry "
                "(such as RetryBudget()), got 0.2"
            ),
        ),
        (
            lambda: ExponentialRetry(circuit_breaker=True),
            TypeError,
            (
                "circuit_breaker must be None or an object with the methods acquire, record, release, would_refuse "
                "(such as CircuitBreaker()), got True"
            ),
        ),
    ],
)
def test_refusals_say_what_is_allowed(build: Callable[[], object], error: type[Exception], message: str) -> None:
    """Each refusal starts with the parameter's name and says what it accepts."""
    with pytest.raises(error) as caught:
        build()
    assert str(caught.value) == message


def test_random_retry_bounds_may_be_equal() -> None:
    """min_timeout == max_timeout is a fixed wait, not an error."""
    opts = RandomRetry(min_timeout=1.5, max_timeout=1.5)
    assert [opts.get_timeout(i) for i in range(3)] == [1.5, 1.5, 1.5]


def test_random_retry_uses_its_random_func() -> None:
    """Each wait maps one call of random_func onto [min_timeout, max_timeout]."""
    draws = iter([0.0, 0.5, 0.25])
    opts = RandomRetry(min_timeout=1, max_timeout=3, random_func=lambda: next(draws))
    assert [opts.get_timeout(i) for i in range(3)] == [1.0, 2.0, 1.5]


def test_a_custom_schedule_sees_the_failed_response() -> None:
    """A RetryOptionsBase subclass defining get_timeout receives the attempt and response the engine passes."""
    seen: list[tuple[int, Any]] = []

    class ByResponse(RetryOptionsBase):
        def get_timeout(self, attempt: int, response: Any = None) -> float:
            seen.append((attempt, response))
            return 1.0

    response = MemoryResponse(503)
    assert ByResponse().next_delay(2, response, 0.5) == 1.0
    assert seen == [(2, response)]


@pytest.mark.looptime
async def test_a_custom_schedule_sees_the_response_in_a_call() -> None:
    """Through the engine, a custom get_timeout is asked with try numbers from 0 and each failed response."""
    seen: list[tuple[int, int | None]] = []

    class ByResponse(RetryOptionsBase):
        def get_timeout(self, attempt: int, response: Any = None) -> float:
            seen.append((attempt, None if response is None else response.status))
            return 0.5

    exchange = MemoryExchange([503, 502, 200])
    response = await drive(ByResponse(), exchange)
    assert response.status == 200
    assert seen == [(0, 503), (1, 502)]


def test_setters_clear_the_compiled_plan() -> None:
    """Assigning statuses, exceptions, methods or any other setting makes the engine recompile."""
    opts = FullJitterRetry()
    for name, value in [("exceptions", {KeyError}), ("methods", {"GET"}), ("max_timeout", 3.0), ("factor", 3.0)]:
        opts._plan = object()
        setattr(opts, name, value)
        assert opts._plan is None, name
