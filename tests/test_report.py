"""The report package: the latency sketch, the Report listener, its text, rich and chart renderings."""

from __future__ import annotations

import gc
import io
import json
import logging
import random
import sys
import tracemalloc

import pytest
import yarl
from PIL import Image
from rich.console import Console

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.events import (
    BreakerStateChange,
    BudgetRefused,
    GaveUp,
    HedgeFired,
    HedgeWon,
    RetryScheduled,
    TryFinished,
    TryStarted,
)
from aiohttp_retry.policy.stop import ErrorKind, StopReason
from aiohttp_retry.report import EndpointStats, Report
from aiohttp_retry.report.chart import write_chart
from aiohttp_retry.report.rich import rich_table
from aiohttp_retry.report.stats import EXACT
from tests.fault_server import FaultServer
from tests.test_sketch import sketch_of

SECRET = "s3cret"
USERS = "http://api.test/users"


class Clock:
    """A clock the test sets by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def success(url, elapsed, *, attempt=1, status=200, method="GET", key="api.test"):
    return TryFinished(attempt, 3, method, url, key, status, None, None, elapsed, elapsed, True)


def failure(url, elapsed, reason=StopReason.LAST_TRY, *, tries=3, status=503, kind=None, method="GET", key="api.test"):
    error = None if kind is None else OSError("refused")
    return GaveUp(reason, tries, 3, method, url, key, status, error, kind, elapsed)


def retry(url, cause="status 503", *, attempt=1, method="GET", key="api.test"):
    return RetryScheduled(attempt, 3, method, url, key, cause, 0.1, False)


# -- Report: counting ------------------------------------------------------------------------------


def scripted(report: Report, clock: Clock) -> None:
    """Six calls to two endpoints, whose every count is known."""
    first, second = f"{USERS}/17", f"{USERS}/42"
    items = "http://api.test/orders/9/items"
    report(TryStarted(1, 3, "GET", first, "api.test"))
    clock.now = 101.0
    report(success(first, 0.010))  # call 1: one try
    report(retry(second))
    report(TryFinished(1, 3, "GET", second, "api.test", 503, None, None, 0.01, 0.01, False))
    clock.now = 102.0
    report(success(second, 0.030, attempt=2))  # call 2: two tries, one retry
    report(retry(first))
    report(retry(first, "ServerDisconnectedError", attempt=2))
    clock.now = 103.0
    report(failure(first, 0.5))  # call 3: gave up after 3 tries
    report(BudgetRefused(2, "GET", second, "api.test"))
    clock.now = 105.0
    report(failure(second, 0.020, StopReason.BUDGET_SPENT, tries=1))  # call 4: the budget refused the retry
    report(retry(items, "ClientConnectorError", method="POST"))
    report(failure(items, 0.2, tries=2, status=None, kind=ErrorKind.CONNECT, method="POST"))  # call 5
    report(HedgeFired(2, "POST", items, "api.test", 0.05))
    report(HedgeWon(2, 2, "POST", items, "api.test"))
    report(success(items, 0.1, attempt=2, status=201, method="post"))  # call 6: hedged, the second try won
    report(BreakerStateChange("api.test", "closed", "open", 104.5))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def report(clock: Clock) -> Report:
    report = Report(routes=["/orders/{id}/items"], clock=clock)
    scripted(report, clock)
    return report


def test_rows_hold_the_exact_counts(report):
    users, items = report.rows()
    assert (users.method, users.route, users.endpoint) == ("GET", "api.test/users/{id}", "GET api.test/users/{id}")
    assert (users.calls, users.successes, users.success_ratio) == (4, 2, 0.5)
    assert (users.tries, users.tries_per_call) == (7, 1.75)
    assert users.retries == 3
    assert users.retries_by_cause == {"status 503": 2, "ServerDisconnectedError": 1}
    assert users.gave_up == {"budget spent": 1, "last try": 1}
    assert users.gave_up_total == 2
    assert users.budget_refusals == 1
    assert users.statuses == {"2xx": 2, "5xx": 2}
    assert (users.hedges_fired, users.hedges_won) == (0, 0)
    assert users.max == 0.5
    assert users.mean == pytest.approx((0.010 + 0.030 + 0.5 + 0.020) / 4)
    # quantiles are of rank q * (n - 1), rounded down: p50 and p99 of four calls are the second and third
    assert users.p50 == pytest.approx(0.020, rel=0.01)
    assert users.p99 == pytest.approx(0.030, rel=0.01)
    # from the start of the first call (100.99) to the end of the last (105.0)
    assert users.calls_per_second == pytest.approx(4 / 4.01)

    assert (items.method, items.route) == ("POST", "/orders/{id}/items")
    assert (items.calls, items.successes, items.tries, items.retries) == (2, 1, 4, 1)
    assert items.gave_up == {"last try": 1}
    assert items.statuses == {"2xx": 1, "connect": 1}
    assert (items.hedges_fired, items.hedges_won) == (1, 1)


def test_totals_add_the_rows_up(report):
    totals = report.totals()
    assert isinstance(totals, EndpointStats)
    assert (totals.method, totals.route, totals.endpoint) == ("*", "(total)", "(total)")
    assert (totals.calls, totals.successes, totals.tries, totals.retries) == (6, 3, 11, 4)
    assert totals.gave_up == {"last try": 2, "budget spent": 1}
    assert totals.budget_refusals == 1
    assert totals.statuses == {"2xx": 3, "5xx": 2, "connect": 1}
    assert totals.max == 0.5
    assert totals.p50 == pytest.approx(0.030, rel=0.01)  # of 0.01, 0.02, 0.03, 0.1, 0.2, 0.5


def test_breaker_changes_are_kept_bounded(report):
    assert list(report.breaker_changes) == [("api.test", "closed", "open", 104.5)]
    for index in range(150):
        report(BreakerStateChange("api.test", "open", "half_open", float(index)))
    assert len(report.breaker_changes) == 100
    assert report.breaker_changes[-1][3] == 149.0


def test_text_table_shows_the_cells(report):
    text = str(report)
    lines = text.splitlines()
    assert lines[0].split("  ")[0] == "endpoint"
    for column in ("calls", "success %", "tries/call", "retries", "refused", "gave up", "p50 ms", "p99 ms", "max ms"):
        assert column in lines[0]
    users = next(line for line in lines if line.startswith("GET api.test/users/{id}"))
    for cell in ("4", "50.0", "1.75", "3", "1", "budget_spent 1, last_try 1", "20.0", "29.9", "500.0", "1.0"):
        assert f" {cell}" in users, cell
    items = next(line for line in lines if line.startswith("POST /orders/{id}/items"))
    assert "last_try 1" in items
    total = lines[-1]
    assert total.startswith("total")
    for cell in ("6", "50.0", "1.83", "4", "last_try 2, budget_spent 1"):
        assert f" {cell}" in total, cell
    assert len({len(line) for line in lines if set(line) <= {"-", " "}}) == 1  # the rules are aligned


def test_unknown_events_and_tries_in_progress_are_ignored(clock):
    report = Report(clock=clock)
    for thing in (None, "text", 42, TryStarted(1, 3, "GET", USERS, "api.test")):
        report(thing)
    report(TryFinished(1, 3, "GET", USERS, "api.test", 503, None, None, 0.1, 0.1, False))
    assert report.rows() == []
    totals = report.totals()
    assert (totals.calls, totals.p50, totals.success_ratio, totals.calls_per_second) == (0, None, None, None)
    assert "total" in str(report)
    assert repr(report) == "<Report: 0 endpoints, 0 calls>"


def test_a_row_seen_only_through_retries_has_no_latency_yet(clock):
    report = Report(clock=clock)
    report(retry(f"{USERS}/1"))
    (row,) = report.rows()
    assert (row.calls, row.retries, row.p50, row.success_ratio) == (0, 1, None, None)


def test_ids_are_folded_into_one_row(clock):
    report = Report(clock=clock)
    for url in (f"{USERS}/17", f"{USERS}/42", yarl.URL(f"{USERS}/99"), f"{USERS}/5f0c2a9e-3b1d-4c8e-9f2a-1b2c3d4e5f60"):
        report(success(url, 0.01))
    report(success(f"{USERS}/me", 0.01))
    assert [(row.route, row.calls) for row in report.rows()] == [
        ("api.test/users/{id}", 4),
        ("api.test/users/me", 1),
    ]


def test_origin_comes_from_the_url_when_the_event_has_no_key(clock):
    report = Report(clock=clock)
    report(success("https://other.test:8443/a/7", 0.01, key=""))
    report(success("/relative/7", 0.01, key=""))
    assert {row.route for row in report.rows()} == {"other.test:8443/a/{id}", "/relative/{id}"}


def test_route_templates_win_over_folding(clock):
    report = Report(routes=["/users/{id}", "/users/{id}/posts"], clock=clock)
    for url in (f"{USERS}/17", f"{USERS}/me", f"{USERS}/42/posts", f"{USERS}/a/b/c"):
        report(success(url, 0.01))
    assert {row.route: row.calls for row in report.rows()} == {
        "/users/{id}": 2,
        "/users/{id}/posts": 1,
        "api.test/users/a/b/c": 1,
    }


def test_methods_are_upper_case_and_make_rows_of_their_own(clock):
    report = Report(clock=clock)
    report(success(f"{USERS}/1", 0.01, method="get"))
    report(success(f"{USERS}/1", 0.01, method="GET"))
    report(success(f"{USERS}/1", 0.01, method="DELETE"))
    assert {(row.method, row.calls) for row in report.rows()} == {("GET", 2), ("DELETE", 1)}


def test_endpoints_beyond_the_limit_share_the_other_row(clock):
    report = Report(max_endpoints=3, clock=clock)
    for index in range(6):
        report(success(f"http://api.test/e{index}", 0.01 * (index + 1)))
        report(retry(f"http://api.test/e{index}"))
    report(success("http://api.test/e0", 0.01))
    rows = report.rows()
    assert [(row.endpoint, row.calls) for row in rows] == [
        ("(other)", 3),
        ("GET api.test/e0", 2),
        ("GET api.test/e1", 1),
        ("GET api.test/e2", 1),
    ]
    assert rows[0].retries == 3
    assert rows[0].max == pytest.approx(0.06)
    assert "(other)" in str(report)
    assert report.totals().calls == 7


def test_distinct_retry_causes_are_bounded(clock):
    report = Report(clock=clock)
    for index in range(40):
        report(retry(USERS, f"Error{index}"))
    report(retry(USERS, "Error0"))
    (row,) = report.rows()
    assert len(row.retries_by_cause) == 32
    assert row.retries == 41
    assert row.retries_by_cause["other"] == 9
    assert row.retries_by_cause["Error0"] == 2


def test_calls_that_sent_nothing_have_status_none(clock):
    report = Report(clock=clock)
    report(failure(USERS, 0.0, StopReason.BREAKER_OPEN, tries=0, status=None))
    (row,) = report.rows()
    assert row.statuses == {"none": 1}
    assert row.gave_up == {"breaker open": 1}


def test_secrets_in_urls_never_reach_any_output(clock, caplog):
    report = Report(clock=clock)
    urls = [
        f"http://user:hunter2@api.test/users/17?token={SECRET}#frag",
        f"http://api.test/users/18?token={SECRET}",
        f"http://api.test/users/18?token={SECRET}",
        yarl.URL(f"http://user:hunter2@api.test/users/19?token={SECRET}"),
        yarl.URL(f"http://api.test/search?q={SECRET}"),
    ]
    for url in urls:
        report(retry(url))
        report(success(url, 0.01))
    caplog.set_level(logging.INFO, logger="aiohttp_retry.report")
    report.log()
    console = rich_console()
    console.print(rich_table(report))
    outputs = [str(report), json.dumps(report.as_dict()), caplog.text, console.file.getvalue()]
    outputs += [json.dumps(vars(record), default=str) for record in caplog.records]
    for text in outputs:
        for secret in (SECRET, "hunter2", "token", "frag", "user:"):
            assert secret not in text
    # nor does the naming cache keep such a URL
    assert not any(SECRET in str(url) or "hunter2" in str(url) for _, url, _ in report._names)
    assert sum(row.calls for row in report.rows()) == 5


def test_as_dict_is_json_serialisable(report):
    data = json.loads(json.dumps(report.as_dict()))
    assert [row["endpoint"] for row in data["rows"]] == ["GET api.test/users/{id}", "POST /orders/{id}/items"]
    assert data["rows"][0]["gave_up"] == {"budget spent": 1, "last try": 1}
    assert data["totals"]["calls"] == 6
    assert data["breaker_changes"] == [{"key": "api.test", "old": "closed", "new": "open", "at": 104.5}]


def test_log_writes_one_line_per_row_with_prefixed_extras(report, caplog):
    caplog.set_level(logging.INFO, logger="aiohttp_retry.report")
    report.log()
    assert len(caplog.records) == 2
    record = caplog.records[0]
    assert record.name == "aiohttp_retry.report"
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("GET api.test/users/{id}: 4 calls, 50.0% succeeded, 1.75 tries/call")
    assert record.retry_report_route == "api.test/users/{id}"
    assert record.retry_report_calls == 4
    assert record.retry_report_gave_up == {"budget spent": 1, "last try": 1}
    assert record.retry_report_max == 0.5


def test_log_goes_to_the_given_logger_at_the_given_level_only_when_enabled(report, caplog):
    logger = logging.getLogger("tests.report")
    caplog.set_level(logging.WARNING, logger="tests.report")
    report.log(logger, logging.DEBUG)
    assert caplog.records == []
    report.log(logger, logging.WARNING)
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]


@pytest.mark.parametrize(
    ("kwargs", "error", "parameter"),
    [
        ({"max_endpoints": 0}, ValueError, "max_endpoints"),
        ({"max_endpoints": 2.5}, ValueError, "max_endpoints"),
        ({"timeline_seconds": 0}, ValueError, "timeline_seconds"),
        ({"clock": 5}, TypeError, "clock"),
        ({"routes": "/users/{id}"}, TypeError, "routes"),
        ({"routes": ["users/{id}"]}, ValueError, "routes"),
    ],
)
def test_report_rejects_bad_arguments(kwargs, error, parameter):
    with pytest.raises(error, match=parameter):
        Report(**kwargs)


# -- timeline --------------------------------------------------------------------------------------


def test_timeline_has_one_record_per_second_with_calls(clock):
    report = Report(clock=clock)
    for second, (ok, bad) in enumerate([(3, 1), (0, 0), (2, 0)]):
        clock.now = 100.0 + second + 0.5
        for _ in range(ok):
            report(success(USERS, 0.01 * (second + 1)))
        for _ in range(bad):
            report(failure(USERS, 1.0))
    (slots,) = report.timeline().values()
    assert [(s.second, s.calls, s.successes, s.gave_up) for s in slots] == [(0, 4, 3, 1), (2, 2, 2, 0)]
    assert slots[0].p50 == pytest.approx(0.01, rel=0.02)
    assert slots[0].max == 1.0
    assert slots[1].p99 == pytest.approx(0.03, rel=0.02)


def test_timeline_keeps_the_latest_seconds_only(clock):
    report = Report(clock=clock, timeline_seconds=5)
    for second in range(12):
        clock.now = 100.0 + second
        report(success(USERS, 0.01))
        report(success(USERS, 0.02))
    clock.now = 99.0  # a clock that went back: counted in the latest second
    report(success(USERS, 0.03))
    slots = report.timeline()["GET api.test/users"]
    assert [s.second for s in slots] == [7, 8, 9, 10, 11]
    assert [s.calls for s in slots] == [2, 2, 2, 2, 3]


def test_timeline_durations_read_back_within_a_twentieth_of_a_percent(clock):
    report = Report(clock=clock)
    rng = random.Random(8)
    kept = []
    for second in range(30):
        clock.now = 100.0 + second
        for _ in range(50):
            report(success(USERS, rng.lognormvariate(-4.0, 1.5)))
        kept.append(report.timeline()["GET api.test/users"][-1])  # the current second: exact
    clock.now = 200.0
    report(success(USERS, 0.01))
    closed = report.timeline()["GET api.test/users"][:-1]
    assert [slot.second for slot in closed] == list(range(30))
    for exact_slot, slot in zip(kept, closed, strict=True):
        assert (slot.calls, slot.successes, slot.gave_up) == (exact_slot.calls, exact_slot.successes, 0)
        for name in ("p50", "p90", "p99", "max"):
            assert getattr(slot, name) == pytest.approx(getattr(exact_slot, name), rel=0.0005), name


def test_a_quiet_second_is_summed_up_exactly_and_a_busy_one_by_its_sketch(clock):
    report = Report(clock=clock)
    quiet = [0.3, 0.01, 0.2, 0.05, 0.07, 0.011, 0.4, 0.02]  # EXACT calls: their durations kept as they are
    busy = [0.001 * 1.3**i for i in range(EXACT + 1)]  # one more: all of them go into the slot's sketch
    for second, durations in enumerate([quiet, busy, quiet[:3]]):
        clock.now = 100.0 + second
        for index, duration in enumerate(durations):
            report(success(USERS, duration) if index % 3 else failure(USERS, duration))
    (row,) = report._rows.values()
    assert list(row.slot.durations) == quiet[:3]  # the busy second's sketch was cleared for this one
    assert row.slot.sketch.count == 0
    first, second, third = report.timeline()["GET api.test/users"]
    assert (first.calls, first.successes, first.gave_up) == (8, 5, 3)
    ordered = sorted(quiet)
    for found, wanted in zip(first[4:], [ordered[3], ordered[6], ordered[6], ordered[7]], strict=True):
        assert found == pytest.approx(wanted, rel=0.0005)  # exact, but for the 16-bit code of the record
    assert (second.calls, second.successes) == (9, 6)
    sketch = sketch_of(busy, max_buckets=1024)
    for found, wanted in zip(second[4:], sketch.quantiles([0.5, 0.9, 0.99, 1.0]), strict=True):
        assert found == pytest.approx(wanted, rel=0.0005)
    assert third[4:] == (0.2, 0.2, 0.2, 0.3)  # the current second, exact: ranks 1, 1.8 and 1.98 round down to 1


def test_a_busy_second_of_calls_that_took_no_time(clock):
    report = Report(clock=clock)
    for _ in range(EXACT + 2):
        report(failure(USERS, 0.0, StopReason.BREAKER_OPEN, tries=0, status=None))
    report(success(USERS, 0.5))
    clock.now = 101.0
    report(success(USERS, 0.5))
    first, _ = report.timeline()["GET api.test/users"]
    assert (first.calls, first.gave_up, first.p50, first.p99) == (EXACT + 3, EXACT + 2, 0.0, 0.0)
    assert first.max == pytest.approx(0.5, rel=0.0005)


def test_timeline_of_calls_that_took_no_time(clock):
    report = Report(clock=clock)
    report(failure(USERS, 0.0, StopReason.BREAKER_OPEN, tries=0, status=None))
    clock.now = 101.0
    report(success(USERS, 2.5))
    first, second = report.timeline()["GET api.test/users"]
    assert (first.calls, first.gave_up, first.p50, first.p99, first.max) == (1, 1, 0.0, 0.0, 0.0)
    assert second.max == 2.5


def test_timeline_counts_crowded_seconds_exactly_and_forgets_them_with_their_record(clock):
    report = Report(clock=clock, timeline_seconds=3)
    ok, bad = success(USERS, 0.001), failure(USERS, 0.002)
    for _ in range(70_000):  # more calls in one second than a record's 16-bit fields hold
        report(ok)
    for _ in range(3):
        report(bad)
    for second in (1, 2):
        clock.now = 100.0 + second
        report(ok)
    (row,) = report._rows.values()
    slots = report.timeline()["GET api.test/users"]
    assert [(s.second, s.calls, s.successes, s.gave_up) for s in slots] == [
        (0, 70_003, 70_000, 3),
        (1, 1, 1, 0),
        (2, 1, 1, 0),
    ]
    assert len(row.crowded) == 1
    for second in (3, 4):  # the record of second 0 is replaced when second 3 closes
        clock.now = 100.0 + second
        report(ok)
    assert [s.second for s in report.timeline()["GET api.test/users"]] == [2, 3, 4]
    assert row.crowded == {}
    for _ in range(65_535):
        report(bad)
    clock.now = 105.0
    report(ok)
    slots = report.timeline()["GET api.test/users"]
    assert [(s.second, s.calls, s.successes, s.gave_up) for s in slots] == [
        (3, 1, 1, 0),
        (4, 65_536, 1, 65_535),
        (5, 1, 1, 0),
    ]
    assert slots[1].p50 == pytest.approx(0.002, rel=0.02)


def test_timeline_seconds_far_off_are_saturated():
    clock = Clock(0.0)
    report = Report(clock=clock)
    for now in (0.0, 2.0**40, 2.0**41):  # a clock far off: the seconds closed are kept as 2**31 - 1
        clock.now = now
        report(success(USERS, 0.01))
    assert [slot.second for slot in report.timeline()["GET api.test/users"]] == [0, 2**31 - 1, 2**41]


def test_a_report_of_many_calls_stays_small():
    clock = Clock(0.0)
    rng = random.Random(9)
    urls = [f"http://api.test/service{e}/items/7" for e in range(50)]
    seconds = [[success(url, rng.lognormvariate(-3.0, 0.8)) for url in urls] for _ in range(600)]
    gc.collect()
    tracemalloc.start()
    report = Report(clock=clock)
    for second, events in enumerate(seconds):
        clock.now = second + 0.5
        for event in events:
            report(event)
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.totals().calls == 30_000
    # 50 rows with a full timeline of 600 seconds, 16 bytes each, and their sketches: under 15 KB a row
    assert retained < 50 * 15_000
    assert peak < 50 * 15_000


# -- rich and charts -------------------------------------------------------------------------------


def rich_console():
    return Console(file=io.StringIO(), width=200, color_system=None)


def png_format(path) -> str:
    """The format PIL reads in the file at ``path``, and checks that the image is not empty."""
    with Image.open(path) as image:
        assert image.size[0] > 0
        assert image.size[1] > 0
        return image.format


def test_rich_table_renders_endpoints_and_numbers(report):
    console = rich_console()
    console.print(rich_table(report))
    text = console.file.getvalue()
    assert "GET api.test/users/{id}" in text
    assert "POST /orders/{id}/items" in text
    for cell in ("50.0", "1.75", "budget_spent 1", "500.0", "total", "1.83"):
        assert cell in text


def test_rich_table_without_rich_names_the_extra(report, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich.table", None)
    with pytest.raises(ImportError, match=r"pip install 'aiohttp_retry\[rich\]'"):
        rich_table(report)


def test_chart_is_a_png(report, clock, tmp_path):
    for second in range(20):
        clock.now = 106.0 + second
        report(success(f"{USERS}/1", 0.01 + second / 1000))
        if second % 4 == 0:
            report(failure(f"{USERS}/1", 0.3))
    path = write_chart(report, tmp_path / "report.png")
    assert path == tmp_path / "report.png"
    assert png_format(path) == "PNG"


def test_chart_of_an_empty_report(tmp_path):
    path = write_chart(Report(), str(tmp_path / "empty.png"), endpoints=1)
    assert png_format(path) == "PNG"


def test_chart_without_matplotlib_names_the_extra(report, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'aiohttp_retry\[charts\]'"):
        write_chart(report, tmp_path / "x.png")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="endpoints"):
        write_chart(report, tmp_path / "x.png", endpoints=0)


# -- through a real client -------------------------------------------------------------------------


@pytest.mark.looptime
async def test_report_of_real_calls(fault: FaultServer):
    for index in range(3):
        fault.script(f"/items/{index}", 503, 200)
    fault.script("/down", 503)
    report = Report(routes=["/down"])
    options = ExponentialRetry(attempts=3, start_timeout=0.5)
    async with RetryClient(retry_options=options, listeners=[report]) as client:
        for index in range(3):
            async with client.get(fault.url(f"/items/{index}?token={SECRET}")) as response:
                assert response.status == 200
        async with client.get(fault.url("/down")) as response:
            assert response.status == 503
    origin = fault.base_url.removeprefix("http://")
    items, down = report.rows()
    assert (items.route, items.calls, items.successes, items.tries) == (f"{origin}/items/{{id}}", 3, 3, 6)
    assert items.retries_by_cause == {"status 503": 3}
    assert items.statuses == {"2xx": 3}
    assert items.p50 is not None
    assert items.p50 >= 0.5  # each call waited out its backoff (virtual time)
    assert (down.route, down.calls, down.successes, down.tries, down.retries) == ("/down", 1, 0, 3, 2)
    assert down.gave_up == {"last try": 1}
    assert down.statuses == {"5xx": 1}
    assert SECRET not in str(report)


@pytest.mark.parametrize("calls", [1, EXACT, EXACT + 1, 200])
def test_a_rows_latencies_include_the_current_second(clock, calls):
    """A row's latencies cover every call at any moment, the current second's (held or in its sketch) included."""
    report = Report(clock=clock)
    durations = [0.001 * 1.07 ** (i % 90) for i in range(calls)]
    for duration in durations:
        report(success(USERS, duration))
    (stats,) = report.rows()
    wanted = sketch_of(durations)
    assert (stats.calls, stats.max) == (calls, max(durations))
    assert [stats.p50, stats.p90, stats.p99] == wanted.quantiles([0.5, 0.9, 0.99])
    assert stats.mean == pytest.approx(sum(durations) / calls, rel=1e-12)
    assert report.totals().p99 == stats.p99
    clock.now += 1.0  # the next second closes this one: its durations join the row's sketch
    report(success(USERS, 0.5))
    (after,) = report.rows()
    assert after.calls == calls + 1
    assert after.p99 == sketch_of([*durations, 0.5]).quantile(0.99)
    assert after.max == max(*durations, 0.5)
