"""Rules of the rate limiter, the adaptive throttle and the concurrency limiter, without a network."""

from __future__ import annotations

import asyncio
import math
import os
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiohttp_retry import AdaptiveThrottle, BulkheadFullError, ConcurrencyLimiter, RateLimitedError, RateLimiter
from aiohttp_retry.policy.limits import parse_rate
from aiohttp_retry.policy.stop import ErrorKind

# -- reading rates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("10/s", (10, 1.0)),
        ("10 / second", (10, 1.0)),
        ("600/min", (600, 60.0)),
        ("5000/h", (5000, 3600.0)),
        ("100 per 90 s", (100, 90.0)),
        ("100 per 90s", (100, 90.0)),
        ("3 per 1.5 seconds", (3, 1.5)),
        ("2 PER 2 MIN", (2, 120.0)),
        ((7, 2.5), (7, 2.5)),
        (4, (4, 1.0)),
        (4.0, (4, 1.0)),
    ],
)
def test_rates_are_read_in_every_form(text: object, rate: tuple[int, float]) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("10", ValueError, r"^rate must be a rate such as '10/s'"),
        ("10/fortnight", ValueError, "got '10/fortnight'"),
        ("0/s", ValueError, "^rate must allow at least 1 try"),
        ("5 per 0 s", ValueError, "^rate must have a window of seconds > 0"),
        ((0, 1.0), ValueError, r"^rate\[0\] \(tries\) must be an integer >= 1"),
        ((3, math.inf), ValueError, "^rate must have a window of seconds > 0, got inf"),
        ((3, True), ValueError, "^rate must have a window"),
        (2.5, ValueError, "^rate as a number is whole tries per second"),
        (-1, ValueError, "^rate as a number"),
        (True, TypeError, "^rate must be a rate"),
        (None, TypeError, "got a NoneType"),
    ],
)
def test_unreadable_rates_are_refused(value: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_rate(value)


def test_a_limiter_needs_a_limit_and_well_formed_rules() -> None:
    with pytest.raises(ValueError, match=r"^RateLimiter needs a limit"):
        RateLimiter()
    with pytest.raises(ValueError, match=r"^rules\['/a'\] must be a rate"):
        RateLimiter(rules={"/a": "lots"})
    with pytest.raises(ValueError, match="keys must be an origin"):
        RateLimiter(rules={"http://a/b": "1/s"})
    with pytest.raises(TypeError, match=r"^rules must be a mapping"):
        RateLimiter(rules=["1/s"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^per_origin must be a rate"):
        RateLimiter("fast")


# -- the rate limiter --------------------------------------------------------------------------------------

asks = st.lists(st.tuples(st.floats(min_value=0, max_value=0.7), st.booleans()), min_size=1, max_size=120)


@settings(max_examples=200)
@given(asks=asks, count=st.integers(1, 6), seconds=st.sampled_from([0.5, 1.0, 2.5]))
def test_no_window_ever_holds_more_starts_than_allowed(
    asks: list[tuple[float, bool]], count: int, seconds: float
) -> None:
    """Whenever and however often tries ask (some giving their start back), starts never crowd a window,
    come in the order asked, and are never earlier than asked."""
    limiter = RateLimiter(per_origin=(count, seconds), slack=0.0)
    now = 0.0
    kept: list[float] = []
    for gap, cancel in asks:
        now += gap
        start = limiter.reserve("k", "/", now)
        assert start >= now
        assert not kept or start >= kept[-1]
        if cancel:
            limiter.cancel("k", "/", start)
        else:
            kept.append(start)
    for i, start in enumerate(kept):
        assert sum(1 for other in kept[i:] if other < start + seconds) <= count


def test_starts_are_as_early_as_the_window_allows() -> None:
    """3 per second, asked at 0: starts 0, 0, 0, then 1, 1, 1, then 2."""
    limiter = RateLimiter(slack=0.0, per_origin="3/s")
    assert [limiter.reserve("k", "/", 0.0) for _ in range(7)] == [0, 0, 0, 1, 1, 1, 2]
    assert limiter.reserve("k", "/", 10.0) == 10.0  # a quiet window starts at once


def test_slack_lengthens_every_window_and_keeps_starts_off_the_deadline() -> None:
    """With 10 ms of slack, 1/s starts at 0, 1.01, 2.02; a start is refused unless 10 ms before the deadline."""
    limiter = RateLimiter(per_origin="1/s")
    assert limiter.slack == 0.01
    assert [limiter.reserve("k", "/", 0.0) for _ in range(3)] == pytest.approx([0.0, 1.01, 2.02])
    tight = RateLimiter(per_origin="1/s", slack=0.25)
    tight.reserve("k", "/", 0.0)
    with pytest.raises(RateLimitedError):
        tight.reserve("k", "/", 0.0, 1.4)  # the start would be 1.25: not 0.25 s before 1.4
    assert tight.reserve("k", "/", 0.0, 1.5) == 1.25
    with pytest.raises(ValueError, match=r"^slack must be a finite number of seconds >= 0"):
        RateLimiter(per_origin="1/s", slack=-1)


def test_a_start_past_the_deadline_is_refused_and_not_reserved() -> None:
    limiter = RateLimiter(slack=0.0, per_origin="1/s")
    assert limiter.reserve("k", "/", 0.0, 0.5) == 0.0
    with pytest.raises(RateLimitedError) as refused:
        limiter.reserve("k", "/", 0.2, 0.5)
    assert refused.value.wait == pytest.approx(0.8)
    assert refused.value.limit == "1/s per origin (k)"
    assert "rate limit 1/s per origin (k): the next start is 0.800 s away" in str(refused.value)
    assert limiter.reserve("k", "/", 0.2) == 1.0  # the refusal took nothing


def test_a_start_given_back_is_taken_by_the_next() -> None:
    limiter = RateLimiter(slack=0.0, per_origin="1/s")
    limiter.reserve("k", "/", 0.0)
    later = limiter.reserve("k", "/", 0.0)
    limiter.cancel("k", "/", later)
    assert limiter.reserve("k", "/", 0.1) == 1.0
    limiter.cancel("k", "/", 5.0)  # not the last reserved: nothing changes
    assert limiter.reserve("k", "/", 0.1) == 2.0


def test_origins_total_and_rules_are_counted_apart() -> None:
    """Each origin has its own window; the total counts all; a rule counts what it matches."""
    per_origin = RateLimiter(slack=0.0, per_origin="1/s")
    assert [per_origin.reserve(k, "/", 0.0) for k in ("a", "b", "a")] == [0.0, 0.0, 1.0]
    total = RateLimiter(slack=0.0, total="2/s")
    assert [total.reserve(k, "/", 0.0) for k in ("a", "b", "c")] == [0.0, 0.0, 1.0]
    rules = RateLimiter(
        slack=0.0, rules={"API.example.com": "1/s", "/users/{id}": "1/s", re.compile(r"[?&]expensive=1"): "1 per 10 s"}
    )
    assert rules.reserve("api.example.com", "https://api.example.com/a", 0.0) == 0.0
    assert rules.reserve("api.example.com", "https://api.example.com/b", 0.0) == 1.0  # the origin's rule
    assert rules.reserve("other", "http://other/users/1", 0.0) == 0.0
    assert rules.reserve("third", "http://third/users/2?x=1", 0.0) == 1.0  # the template's rule, any origin
    assert rules.reserve("other", "http://other/users/1/posts", 0.0) == 0.0  # not the template: no rule
    assert rules.reserve("x", "http://x/q?expensive=1", 0.0) == 0.0
    assert rules.reserve("y", "http://y/r?a=2&expensive=1", 0.0) == 10.0


def test_the_binding_rule_is_named_in_the_refusal() -> None:
    limiter = RateLimiter(slack=0.0, per_origin="100/s", rules={"/search/{q}": "1 per 60 s"})
    limiter.reserve("k", "/search/a", 0.0)
    with pytest.raises(RateLimitedError, match=r"rate limit 1 per 60 s for /search/\{q\}"):
        limiter.reserve("k", "/search/b", 0.0, 30.0)


def test_origins_beyond_max_keys_are_forgotten_oldest_first() -> None:
    limiter = RateLimiter(slack=0.0, per_origin="1/s", max_keys=2)
    limiter.reserve("a", "/", 0.0)
    limiter.reserve("b", "/", 0.0)
    assert limiter.reserve("a", "/", 0.0) == 1.0  # remembered
    limiter.reserve("c", "/", 0.0)  # forgets "a", the origin known longest
    assert limiter.reserve("a", "/", 0.0) == 0.0
    assert limiter.reserve("c", "/", 0.0) == 1.0
    assert repr(limiter) == "RateLimiter(per_origin='1/s', slack=0.0)"
    assert repr(RateLimiter(total=(3, 2.0))) == "RateLimiter(total='3 per 2 s')"


def test_a_window_keeps_no_more_starts_than_it_needs() -> None:
    """Starts that have left every window from now on are dropped: memory stays near the limit's count."""
    limiter = RateLimiter(slack=0.0, per_origin="5/s")
    for step in range(1000):
        limiter.reserve("k", "/", step * 0.3)
    (window,) = limiter._by_key["k"]
    assert len(window.starts) <= 6


def test_a_total_limit_alone_keeps_nothing_per_origin() -> None:
    limiter = RateLimiter(slack=0.0, total="2/s")
    for n in range(100):
        limiter.reserve(f"origin-{n}", "/", float(n))
    assert limiter._by_key == {}
    assert limiter._origins == {}


# -- the adaptive throttle ---------------------------------------------------------------------------------


def test_throttle_defaults_and_validation() -> None:
    throttle = AdaptiveThrottle()
    assert (throttle.k, throttle.window, throttle.buckets) == (2.0, 120.0, 12)
    assert throttle.overload_statuses == frozenset({429, 503})
    with pytest.raises(ValueError, match=r"^k must be a number >= 1"):
        AdaptiveThrottle(k=0.5)
    with pytest.raises(TypeError, match=r"^overload_statuses must be status codes"):
        AdaptiveThrottle(overload_statuses="503")
    with pytest.raises(TypeError, match=r"^rng must be None or a random\.Random"):
        AdaptiveThrottle(rng=42)  # type: ignore[arg-type]


def test_what_counts_as_accepted() -> None:
    throttle = AdaptiveThrottle(overload_statuses=(503,))
    assert throttle.accepted(200, None)
    assert throttle.accepted(500, None)  # an error, but the server did the work
    assert throttle.accepted(429, None)  # not listed here
    assert not throttle.accepted(503, None)
    assert not throttle.accepted(None, ErrorKind.CONNECT)
    assert not throttle.accepted(None, ErrorKind.TIMEOUT)
    assert not throttle.accepted(None, ErrorKind.TRANSPORT)
    assert throttle.accepted(None, ErrorKind.TLS)


def test_the_probability_is_the_sre_formula() -> None:
    """(requests - k * accepts) / (requests + 1), over the window, never below 0."""
    throttle = AdaptiveThrottle(k=2.0, window=10, buckets=10, rng=random.Random(1))
    for i in range(10):
        throttle.record("k", 0.0, 200 if i < 2 else 503, None)
    assert throttle.probability("k", 0.5) == pytest.approx((10 - 2 * 2) / 11)
    assert throttle.probability("new", 0.5) == 0.0
    assert throttle.probability("k", 10.0) == 0.0  # the window has passed


def test_tries_under_way_are_not_counted_as_refused() -> None:
    """A burst of tries sent before any answer came (64 at once, say) sheds nothing."""
    throttle = AdaptiveThrottle(rng=random.Random(0))
    assert [throttle.check("k", 0.0) for _ in range(64)] == [None] * 64
    for _ in range(64):
        throttle.record("k", 0.1, 200, None)
    assert throttle.probability("k", 0.2) == 0.0


def test_a_shed_try_counts_as_a_request_at_once() -> None:
    throttle = AdaptiveThrottle(k=1.0, rng=random.Random(0))
    for _ in range(10):
        throttle.record("k", 0.0, 503, None)
    assert throttle.probability("k", 0.0) == pytest.approx(10 / 11)
    shed = [throttle.check("k", 0.0) for _ in range(20)]
    assert sum(p is not None for p in shed) > 10
    assert throttle.probability("k", 0.0) == pytest.approx(
        (10 + sum(p is not None for p in shed)) / (11 + sum(p is not None for p in shed))
    )


@given(count=st.integers(1, 300))
def test_a_server_that_accepts_everything_is_never_shed(count: int) -> None:
    throttle = AdaptiveThrottle(rng=random.Random(count))
    for i in range(count):
        assert throttle.check("k", i * 0.01) is None
        throttle.record("k", i * 0.01, 200, None)


def simulate(capacity: int, demand: int, k: float, seconds: int, heal_at: int, seed: int) -> list[tuple[int, int]]:
    """(sent, accepted) per second for a server that takes ``capacity`` a second until ``heal_at``, then all."""
    throttle = AdaptiveThrottle(k=k, window=120, rng=random.Random(seed))
    history = []
    for second in range(seconds):
        sent = accepted = 0
        for i in range(demand):
            now = second + i / demand
            if throttle.check("k", now) is not None:
                continue
            sent += 1
            took = second >= heal_at or accepted < capacity
            accepted += took
            throttle.record("k", now, 200 if took else 503, None)
        history.append((sent, accepted))
    return history


@settings(max_examples=int(os.environ.get("THROTTLE_EXAMPLES", "15")), deadline=None)
@given(
    capacity=st.integers(10, 30),
    demand_factor=st.sampled_from([3, 5, 10]),
    k=st.sampled_from([1.5, 2.0, 3.0]),
    seed=st.integers(0, 1000),
)
def test_load_settles_near_k_times_the_accepted(capacity: int, demand_factor: int, k: float, seed: int) -> None:
    """While overloaded, the server sees at most about k times what it accepts (15 % for chance), after 10 s."""
    history = simulate(capacity, capacity * demand_factor, k, seconds=40, heal_at=40, seed=seed)
    sent = sum(s for s, _ in history[10:])
    accepted = sum(a for _, a in history[10:])
    assert accepted >= 0.9 * capacity * 30  # the server is kept busy
    assert sent <= 1.15 * k * accepted


def test_traffic_recovers_within_one_window_after_the_server_heals() -> None:
    """30 s at 20 % capacity, then healed: within the 120 s window every try goes through again."""
    history = simulate(capacity=20, demand=100, k=2.0, seconds=160, heal_at=30, seed=3)
    assert sum(s for s, _ in history[20:30]) <= 2.2 * sum(a for _, a in history[20:30])
    assert history[30 + 121 :] == [(100, 100)] * len(history[30 + 121 :])


# -- the concurrency limiter -------------------------------------------------------------------------------


def test_concurrency_limiter_validation() -> None:
    with pytest.raises(ValueError, match=r"^ConcurrencyLimiter needs a limit"):
        ConcurrencyLimiter()
    with pytest.raises(ValueError, match=r"^per_origin must be an integer >= 1"):
        ConcurrencyLimiter(0)
    with pytest.raises(TypeError, match=r"^total must be an integer >= 1"):
        ConcurrencyLimiter(total=2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^max_queue must be None or an integer >= 0"):
        ConcurrencyLimiter(1, max_queue=-1)
    with pytest.raises(TypeError, match=r"^max_queue must be None or an integer >= 0"):
        ConcurrencyLimiter(1, max_queue="3")  # type: ignore[arg-type]
    assert ConcurrencyLimiter(1, max_queue=0).max_queue == 0


async def test_waiters_are_served_first_come_first_served() -> None:
    """A freed slot goes to the caller that waited longest, never to a newcomer."""
    limiter = ConcurrencyLimiter(total=1)
    pools = limiter.pools("k", "/")
    assert limiter.take_now(pools)
    order: list[int] = []

    async def waiter(n: int) -> None:
        await limiter.take(pools)
        order.append(n)

    tasks = [asyncio.ensure_future(waiter(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert not limiter.take_now(pools)  # a newcomer finds the queue and does not jump it
    for _ in range(3):
        limiter.leave(pools)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
    limiter.leave(pools)
    assert pools[0].busy == 0


async def test_a_full_queue_refuses_and_a_cancelled_waiter_hands_on_its_slot() -> None:
    limiter = ConcurrencyLimiter(total=1, max_queue=1)
    pools = limiter.pools("k", "/")
    assert limiter.take_now(pools)
    first = asyncio.ensure_future(limiter.take(pools))
    await asyncio.sleep(0)
    with pytest.raises(BulkheadFullError, match=r"concurrency limit 1 in total: all slots taken and 1 callers queued"):
        await limiter.take(pools)
    limiter.leave(pools)  # handed to the waiter...
    first.cancel()  # ...which is cancelled before it runs: the slot is freed, not lost
    with pytest.raises(asyncio.CancelledError):
        await first
    assert pools[0].busy == 0
    assert limiter.take_now(pools)


async def test_slots_of_several_limits_are_all_or_nothing() -> None:
    """A try needs a slot of each limit; if one cannot be had at once, none is taken."""
    limiter = ConcurrencyLimiter(per_origin=1, total=2)
    a, b = limiter.pools("a", "/"), limiter.pools("b", "/")
    assert limiter.take_now(a)
    assert not limiter.take_now(a)  # origin "a" is full
    assert a[0].busy == 1  # the total slot was not taken by the refused try
    assert limiter.take_now(b)
    assert not limiter.take_now(limiter.pools("c", "/"))  # the total is full


# -- rules that mutation testing asked for ----------------------------------------------------------------


class FixedRandom:
    """An rng whose every draw is ``value``: shedding becomes certain (0.0) or a known boundary."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_rate_numbers_at_their_bounds() -> None:
    assert parse_rate(1) == (1, 1.0)
    with pytest.raises(ValueError, match=r"^rate as a number is whole tries per second >= 1, got 0"):
        parse_rate(0)
    with pytest.raises(ValueError, match=r"^rate as a number is whole tries per second >= 1, got inf"):
        parse_rate(math.inf)
    with pytest.raises(TypeError, match=r"got a list$"):
        parse_rate([10, 1.0])


def test_limiter_settings_name_themselves() -> None:
    limiter = RateLimiter(total="2/s")
    assert (limiter.max_keys, limiter.total, limiter.per_origin) == (1024, (2, 1.0), None)
    with pytest.raises(ValueError, match=r"^total must be a rate"):
        RateLimiter(total="soon")
    with pytest.raises(ValueError, match=r"^max_keys must be an integer >= 1"):
        RateLimiter(total="2/s", max_keys=0)
    with pytest.raises(ValueError, match=r"^rules\['api\.example\.com'\] must be a rate"):
        RateLimiter(rules={"api.example.com": "often"})
    with pytest.raises(ValueError, match=r"^rules\['/x'\] must be a rate"):
        RateLimiter(rules={re.compile("/x"): "often"})
    assert repr(RateLimiter(rules={"/a": "1/s"})) == "RateLimiter(rules=...)"


def test_refusals_name_the_limit_that_binds() -> None:
    """The label names the total, an origin rule, a template rule or a regex rule; with several, the first."""
    total = RateLimiter(total="1/s", slack=0.0)
    total.reserve("k", "/", 0.0)
    with pytest.raises(RateLimitedError, match=r"^rate limit 1/s in total:"):
        total.reserve("k", "/", 0.0, 0.5)
    rules = RateLimiter(rules={"api.x.com": "1/s", re.compile(r"/q"): "1/s"}, slack=0.0)
    rules.reserve("api.x.com", "http://api.x.com/q", 0.0)
    with pytest.raises(RateLimitedError) as both:
        rules.reserve("api.x.com", "http://api.x.com/q", 0.0, 0.5)
    assert both.value.limit == "1/s for api.x.com"  # both bind at 1.0: the first named
    with pytest.raises(RateLimitedError) as regex:
        rules.reserve("other", "http://other/q", 0.0, 0.5)
    assert regex.value.limit == "1/s for //q/"  # a regular expression is shown between slashes


def test_a_deadline_already_too_close_is_refused_naming_a_limit() -> None:
    """Even a free window refuses a start that is not slack before the deadline, and says which limit."""
    limiter = RateLimiter(per_origin="5/s", slack=0.1)
    with pytest.raises(RateLimitedError) as refused:
        limiter.reserve("k", "/", 1.0, 1.05)
    assert refused.value.limit == "5/s per origin (k)"
    assert refused.value.wait == 0.0


def test_a_start_given_back_under_a_rule_frees_the_rule() -> None:
    limiter = RateLimiter(rules={"/search/{q}": "1/s"}, slack=0.0)
    limiter.reserve("k", "http://k/search/a", 0.0)
    later = limiter.reserve("k", "http://k/search/b", 0.0)
    limiter.cancel("k", "http://k/search/b", later)
    assert limiter.reserve("k", "http://k/search/c?x=1#top", 0.5) == 1.0


def test_origins_are_forgotten_also_when_rules_apply() -> None:
    limiter = RateLimiter(per_origin="1/s", rules={"/x": "100/s"}, max_keys=1, slack=0.0)
    limiter.reserve("a", "http://a/x", 0.0)
    limiter.reserve("b", "http://b/x", 0.0)  # forgets "a"
    assert limiter.reserve("a", "http://a/x", 0.0) == 0.0


def test_throttle_settings_name_themselves() -> None:
    throttle = AdaptiveThrottle()
    assert throttle.max_keys == 1024
    with pytest.raises(TypeError, match=r"^k must be a finite number"):
        AdaptiveThrottle(k="2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^buckets must be an integer >= 1"):
        AdaptiveThrottle(buckets=0)
    with pytest.raises(ValueError, match=r"^max_keys must be an integer >= 1"):
        AdaptiveThrottle(max_keys=0)
    with pytest.raises(TypeError, match=r"^overload_statuses must be status codes"):
        AdaptiveThrottle(overload_statuses=[503, "429"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^overload_statuses must be status codes"):
        AdaptiveThrottle(overload_statuses=[True])


def test_throttle_keys_are_forgotten_oldest_first() -> None:
    throttle = AdaptiveThrottle(max_keys=2)
    for key in ("a", "b"):
        throttle.record(key, 0.0, 503, None)
    assert throttle.probability("a", 0.0) == 0.5
    throttle.record("c", 0.0, 503, None)  # forgets "a"
    assert (throttle.probability("a", 0.0), throttle.probability("b", 0.0)) == (0.0, 0.5)


def test_one_refusal_sheds_half_and_check_returns_that_probability() -> None:
    """After one refused try (k=2): excess 1 of 1 request, so p = 1/2; a draw below it sheds, one at it sends."""
    always = AdaptiveThrottle(rng=FixedRandom(0.0))
    always.record("k", 0.0, 503, None)
    assert always.probability("k", 0.0) == 0.5
    assert always.check("k", 0.0) == 0.5
    boundary = AdaptiveThrottle(rng=FixedRandom(0.5))
    boundary.record("k", 0.0, 503, None)
    assert boundary.check("k", 0.0) is None


def test_a_balanced_history_sheds_nothing_in_a_later_bucket() -> None:
    """10 requests, 5 accepted, k=2: excess 0, nothing shed, also when the check opens a new bucket."""
    throttle = AdaptiveThrottle(rng=FixedRandom(0.0))
    for status in [200] * 5 + [503] * 5:
        throttle.record("k", 0.5, status, None)
    assert throttle.check("k", 0.6) is None  # the same bucket
    assert throttle.check("k", 15.0) is None  # a later bucket: counted through the window


def test_counts_leave_the_window_exactly_at_its_end() -> None:
    """A refusal in [0, 1) no longer counts at 1.0 in a window of one 1 s bucket; one at 1.0 counts in [1, 2)."""
    throttle = AdaptiveThrottle(window=1, buckets=1, rng=FixedRandom(0.0))
    throttle.record("k", 0.5, 503, None)
    assert throttle.check("k", 1.0) is None
    two = AdaptiveThrottle(window=2, buckets=2, rng=FixedRandom(0.0))
    two.record("k", 0.5, 503, None)
    two.record("k", 1.0, 503, None)  # the bucket [1, 2)
    assert two.probability("k", 2.5) == 0.5  # [1, 3) holds it, not the one at 0.5


def test_errors_are_refusals_unless_of_another_kind() -> None:
    throttle = AdaptiveThrottle()
    throttle.record("k", 0.0, None, ErrorKind.CONNECT)
    throttle.record("k", 0.0, None, ErrorKind.OTHER)
    assert throttle.probability("k", 0.0) == 0.0  # 2 requests, 1 accept: excess 0
    throttle.record("k", 0.0, None, ErrorKind.TIMEOUT)
    assert throttle.probability("k", 0.0) == pytest.approx(1 / 4)


def test_a_url_without_a_path_is_the_root() -> None:
    limiter = RateLimiter(rules={"/": "1/s"}, slack=0.0)
    limiter.reserve("k", "http://k", 0.0)
    assert limiter.reserve("k", "http://k/", 0.0) == 1.0  # the same rule: "http://k" has the path "/"


def test_a_total_and_a_per_origin_limit_apply_together() -> None:
    """The total binds across origins even where each origin's own window has room."""
    limiter = RateLimiter(per_origin="5/s", total="2/s", slack=0.0)
    assert [limiter.reserve(key, "/", 0.0) for key in ("a", "b", "a")] == [0.0, 0.0, 1.0]
