"""The observe package: the logging listener and redaction."""

from __future__ import annotations

import logging
import string
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import yarl
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

import aiohttp_retry.observe
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
from aiohttp_retry.observe import (
    SENSITIVE_HEADERS,
    LoggingListener,
    Redactor,
    describe_error,
    redact_headers,
    redact_url,
)
from aiohttp_retry.observe.redact import DEFAULT_REDACTOR
from aiohttp_retry.policy.stop import ErrorKind, StopReason

LOGGER_NAME = "aiohttp_retry.tests.observe"
SECRET = "s3cret"
URL = f"http://user:{SECRET}@example.com/p?token={SECRET}&page=2#frag"
SAFE_URL = "http://example.com/p?token=***&page=***"
KEY = "example.com"

WARN_REASONS = [
    StopReason.LAST_TRY,
    StopReason.RETRY_AFTER_TOO_LONG,
    StopReason.DEADLINE,
    StopReason.BREAKER_OPEN,
    StopReason.BUDGET_SPENT,
    StopReason.BODY_NOT_REPLAYABLE,
]
DEBUG_REASONS = [StopReason.NOT_RETRYABLE, StopReason.CANCELLED]

# Attributes a LogRecord has of its own: an ``extra`` key among them makes logging raise.
RECORD_ATTRIBUTES = set(logging.LogRecord("n", logging.DEBUG, "p", 1, "m", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def response_error(status: int = 503) -> aiohttp.ClientResponseError:
    """An aiohttp error whose str and repr carry an Authorization header and the URL's secrets."""
    url = yarl.URL(URL)
    headers = CIMultiDictProxy(CIMultiDict({"Authorization": f"Bearer {SECRET}", "Cookie": f"id={SECRET}"}))
    info = aiohttp.RequestInfo(url, "GET", headers, url)
    return aiohttp.ClientResponseError(info, (), status=status, message="Service Unavailable")


def gave_up(
    reason: StopReason = StopReason.LAST_TRY,
    *,
    tries: int = 3,
    status: int | None = 503,
    error: BaseException | None = None,
    url: Any = URL,
) -> GaveUp:
    kind = None if error is None else ErrorKind.TRANSPORT
    return GaveUp(reason, tries, 3, "GET", url, KEY, status, error, kind, 1.5)


def every_event(url: Any = URL) -> list[Any]:
    """One of each event type, the URL and error carrying secrets."""
    return [
        TryStarted(1, 3, "GET", url, KEY),
        TryFinished(1, 3, "GET", url, KEY, None, response_error(), ErrorKind.OTHER, 0.1, 0.1, False),
        RetryScheduled(1, 3, "GET", url, KEY, "status 503", 0.25, False),
        GaveUp(StopReason.LAST_TRY, 3, 3, "GET", url, KEY, None, response_error(), ErrorKind.OTHER, 1.5),
        BudgetRefused(2, "GET", url, KEY),
        BreakerStateChange(KEY, "closed", "open", 12.0),
        HedgeFired(2, "GET", url, KEY, 0.05),
        HedgeWon(2, 2, "GET", url, KEY),
    ]


@pytest.fixture
def logger(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    """A real logger at DEBUG whose records caplog captures."""
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    return logging.getLogger(LOGGER_NAME)


def records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == LOGGER_NAME]


class Recorder:
    """A 2.9.1-style logger: debug, warning and exception, no info and no levels."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("debug", msg % args, kwargs))

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("warning", msg % args, kwargs))

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("exception", msg % args, kwargs))


class CountingURL:
    """A URL whose text counts how often it was asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0

    def __str__(self) -> str:
        self.calls += 1
        return self.text


# --- the log lines ---------------------------------------------------------------------------


def test_try_started_is_one_debug_line_with_the_2_9_1_text(logger, caplog):
    """TryStarted writes "Attempt N out of M" at DEBUG, as 2.9.1 did."""
    LoggingListener(logger)(TryStarted(1, 3, "GET", URL, KEY))
    assert records(caplog) == [(logging.DEBUG, "Attempt 1 out of 3")]


def test_try_finished_writes_nothing(logger, caplog):
    """TryFinished writes no line: the DEBUG line as the try starts is enough."""
    LoggingListener(logger)(TryFinished(1, 3, "GET", URL, KEY, 503, None, None, 0.1, 0.1, True))
    assert records(caplog) == []


def test_retry_scheduled_is_an_info_line_with_redacted_url(logger, caplog):
    """RetryScheduled writes method, redacted URL, cause, delay and try number at INFO."""
    LoggingListener(logger)(RetryScheduled(1, 3, "GET", URL, KEY, "status 503", 0.25, False))
    assert records(caplog) == [(logging.INFO, f"Retrying GET {SAFE_URL} after status 503 in 0.250 s (try 1 of 3)")]


def test_retry_scheduled_says_when_the_server_set_the_wait(logger, caplog):
    """A wait set by Retry-After is said so in the line."""
    event = RetryScheduled(2, 5, "POST", "/relative", KEY, "ServerDisconnectedError", 2.0, True)
    LoggingListener(logger)(event)
    assert records(caplog) == [
        (
            logging.INFO,
            (
                "Retrying POST /relative after ServerDisconnectedError in 2.000 s (try 2 of 5)"
                " as the server asked (Retry-After)"
            ),
        )
    ]


@pytest.mark.parametrize("reason", WARN_REASONS)
def test_gave_up_warns_for_reasons_worth_a_look(logger, caplog, reason):
    """GaveUp is a WARNING for last try, deadline, breaker, budget, Retry-After and body reasons."""
    LoggingListener(logger)(gave_up(reason))
    assert records(caplog) == [
        (logging.WARNING, f"Gave up on GET {SAFE_URL} after 3 tries: {reason.value}; last outcome: status 503")
    ]


@pytest.mark.parametrize("reason", DEBUG_REASONS)
def test_gave_up_is_debug_for_routine_reasons(logger, caplog, reason):
    """GaveUp is a DEBUG line when the outcome was not retryable or the caller cancelled."""
    error = aiohttp.ServerDisconnectedError()
    LoggingListener(logger)(gave_up(reason, tries=1, status=None, error=error))
    assert records(caplog) == [
        (
            logging.DEBUG,
            f"Gave up on GET {SAFE_URL} after 1 try: {reason.value}; last outcome: ServerDisconnectedError",
        )
    ]


def test_gave_up_describes_a_response_error_by_class_and_status(logger, caplog):
    """An error outcome is described by class name and status, never by its text."""
    LoggingListener(logger)(gave_up(status=None, error=response_error(502)))
    assert records(caplog) == [
        (
            logging.WARNING,
            f"Gave up on GET {SAFE_URL} after 3 tries: last try; last outcome: ClientResponseError (status 502)",
        )
    ]


def test_budget_refused_is_a_debug_line(logger, caplog):
    """BudgetRefused names the budget's key and the request at DEBUG."""
    LoggingListener(logger)(BudgetRefused(2, "GET", URL, KEY))
    assert records(caplog) == [(logging.DEBUG, f"Retry budget for {KEY} refused a retry of GET {SAFE_URL}")]


@pytest.mark.parametrize(
    ("old", "new", "level"),
    [
        ("closed", "open", logging.WARNING),
        ("half_open", "open", logging.WARNING),
        ("open", "half_open", logging.INFO),
        ("half_open", "closed", logging.INFO),
    ],
)
def test_breaker_state_change_warns_only_when_it_opens(logger, caplog, old, new, level):
    """A breaker that opens is a WARNING; any other change is INFO."""
    LoggingListener(logger)(BreakerStateChange(KEY, old, new, 1.0))
    assert records(caplog) == [(level, f"Circuit breaker for {KEY}: {old} -> {new}")]


def test_hedge_events_are_debug_lines(logger, caplog):
    """HedgeFired and HedgeWon write DEBUG lines with the redacted URL."""
    listener = LoggingListener(logger)
    listener(HedgeFired(2, "GET", URL, KEY, 0.05))
    listener(HedgeWon(2, 2, "GET", URL, KEY))
    assert records(caplog) == [
        (logging.DEBUG, f"Hedging GET {SAFE_URL}: started try 2 after 0.050 s"),
        (logging.DEBUG, f"Hedging GET {SAFE_URL}: try 2 won, out of 2 started"),
    ]


@pytest.mark.parametrize("thing", [None, "TryStarted", 42, (1, 3, "GET", URL, KEY), object()])
def test_unknown_objects_are_ignored(logger, caplog, thing):
    """Anything that is not an event of this library is ignored without a line or an error."""
    LoggingListener(logger)(thing)
    assert records(caplog) == []


def test_default_logger_is_aiohttp_retry():
    """Without a logger, lines go to the "aiohttp_retry" logger."""
    assert LoggingListener().logger is logging.getLogger("aiohttp_retry")


# --- extra -----------------------------------------------------------------------------------

EXPECTED_EXTRA = {
    TryStarted: {"retry_method", "retry_url", "retry_key", "retry_attempt", "retry_attempts"},
    RetryScheduled: {
        "retry_method",
        "retry_url",
        "retry_key",
        "retry_attempt",
        "retry_attempts",
        "retry_cause",
        "retry_delay",
        "retry_after",
    },
    GaveUp: {
        "retry_method",
        "retry_url",
        "retry_key",
        "retry_reason",
        "retry_tries",
        "retry_attempts",
        "retry_status",
        "retry_error",
        "retry_elapsed",
    },
    BudgetRefused: {"retry_method", "retry_url", "retry_key", "retry_attempt"},
    BreakerStateChange: {"retry_key", "retry_breaker_old", "retry_breaker_new"},
    HedgeFired: {"retry_method", "retry_url", "retry_key", "retry_attempt", "retry_elapsed"},
    HedgeWon: {"retry_method", "retry_url", "retry_key", "retry_attempt", "retry_tries"},
}


@pytest.mark.parametrize(
    "event", [e for e in every_event() if type(e) in EXPECTED_EXTRA], ids=lambda e: type(e).__name__
)
def test_extra_fields_are_prefixed_and_never_collide(logger, caplog, event):
    """Each line carries the retry_ fields that apply, none of them a LogRecord attribute."""
    LoggingListener(logger)(event)
    (record,) = [r for r in caplog.records if r.name == LOGGER_NAME]
    added = set(record.__dict__) - RECORD_ATTRIBUTES
    assert added == EXPECTED_EXTRA[type(event)]
    assert all(name.startswith("retry_") for name in added)
    assert not added & RECORD_ATTRIBUTES


def test_extra_values_are_the_event_facts(logger, caplog):
    """The extra fields hold the event's facts, the URL and error redacted."""
    LoggingListener(logger)(gave_up(status=None, error=response_error(503)))
    (record,) = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert record.retry_method == "GET"
    assert record.retry_url == SAFE_URL
    assert record.retry_key == KEY
    assert record.retry_reason == "last try"
    assert record.retry_tries == 3
    assert record.retry_attempts == 3
    assert record.retry_status is None
    assert record.retry_error == "ClientResponseError (status 503)"
    assert record.retry_elapsed == 1.5


# --- cost: nothing built for a level that is off -----------------------------------------------


class SpyRedactor(Redactor):
    """A redactor that records every URL it is asked to redact."""

    seen: list[object] = []  # noqa: RUF012 - a class-level log the frozen instance can append to

    def url(self, url: object) -> str:
        SpyRedactor.seen.append(url)
        return super().url(url)


def test_nothing_is_formatted_when_the_level_is_off(caplog):
    """At WARNING, DEBUG and INFO events touch neither the URL's text nor the redactor."""
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    url = CountingURL(URL)
    SpyRedactor.seen.clear()
    listener = LoggingListener(logging.getLogger(LOGGER_NAME), redactor=SpyRedactor())
    assert not listener.debug_on()
    for event in every_event(url):
        if not isinstance(event, (GaveUp, BreakerStateChange)):
            listener(event)
    listener(gave_up(StopReason.NOT_RETRYABLE, url=url))
    listener(BreakerStateChange(KEY, "open", "half_open", 1.0))
    assert url.calls == 0
    assert SpyRedactor.seen == []
    assert records(caplog) == []


def test_warnings_are_built_only_when_warning_is_on(caplog):
    """At ERROR even a WARNING-worthy GaveUp formats nothing."""
    caplog.set_level(logging.ERROR, logger=LOGGER_NAME)
    url = CountingURL(URL)
    listener = LoggingListener(logging.getLogger(LOGGER_NAME))
    listener(gave_up(StopReason.LAST_TRY, url=url))
    listener(BreakerStateChange(KEY, "closed", "open", 1.0))
    assert url.calls == 0
    assert records(caplog) == []


def test_debug_on_follows_the_logger_level(caplog):
    """debug_on reads the logger's level each time it is asked."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    listener = LoggingListener(logging.getLogger(LOGGER_NAME))
    assert not listener.debug_on()
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    assert listener.debug_on()


# --- loggers without levels -----------------------------------------------------------------


def test_a_logger_like_object_without_info_gets_every_line():
    """A 2.9.1-style logger without info or levels gets INFO lines through debug, and every level."""
    recorder = Recorder()
    listener = LoggingListener(recorder)
    assert listener.debug_on()
    for event in every_event():
        listener(event)
    listener(BreakerStateChange(KEY, "open", "half_open", 1.0))
    assert [(method, text) for method, text, _ in recorder.calls] == [
        ("debug", "Attempt 1 out of 3"),
        ("debug", f"Retrying GET {SAFE_URL} after status 503 in 0.250 s (try 1 of 3)"),
        (
            "warning",
            f"Gave up on GET {SAFE_URL} after 3 tries: last try; last outcome: ClientResponseError (status 503)",
        ),
        ("debug", f"Retry budget for {KEY} refused a retry of GET {SAFE_URL}"),
        ("warning", f"Circuit breaker for {KEY}: closed -> open"),
        ("debug", f"Hedging GET {SAFE_URL}: started try 2 after 0.050 s"),
        ("debug", f"Hedging GET {SAFE_URL}: try 2 won, out of 2 started"),
        ("debug", f"Circuit breaker for {KEY}: open -> half_open"),
    ]
    assert all(set(kwargs) == {"extra"} for _, _, kwargs in recorder.calls)


def test_a_logger_like_object_with_info_gets_info_lines_there():
    """A level-less logger that has info gets INFO lines through it."""

    class WithInfo(Recorder):
        def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
            self.calls.append(("info", msg % args, kwargs))

    recorder = WithInfo()
    LoggingListener(recorder)(RetryScheduled(1, 3, "GET", URL, KEY, "status 503", 0.25, False))
    assert [method for method, _, _ in recorder.calls] == ["info"]


def test_a_logger_adapter_keeps_its_levels(caplog):
    """A LoggerAdapter is asked for its levels like the logger it wraps."""
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    adapter = logging.LoggerAdapter(logging.getLogger(LOGGER_NAME), {})
    listener = LoggingListener(adapter)
    assert not listener.debug_on()
    listener(TryStarted(1, 3, "GET", URL, KEY))
    listener(gave_up())
    assert records(caplog) == [
        (logging.WARNING, f"Gave up on GET {SAFE_URL} after 3 tries: last try; last outcome: status 503")
    ]


@pytest.mark.parametrize(("kwargs", "parameter"), [({"logger": object()}, "logger"), ({"redactor": "x"}, "redactor")])
def test_bad_configuration_is_a_type_error_naming_the_parameter(kwargs, parameter):
    """A logger without logging methods, or a redactor that is none, fails at construction."""
    with pytest.raises(TypeError, match=parameter):
        LoggingListener(**kwargs)


# --- redaction ---------------------------------------------------------------------------------


def test_no_secret_reaches_log_text_extra_or_event_repr(logger, caplog):
    """Secrets in userinfo, query values and error headers appear in no line, no extra value and no repr."""
    listener = LoggingListener(logger, redactor=Redactor(query={"TOKEN"}))
    events = every_event()
    for event in events:
        listener(event)
        assert SECRET not in repr(event)
    ours = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert len(ours) == 7
    for record in ours:
        assert SECRET not in record.getMessage()
        for name, value in record.__dict__.items():
            if name.startswith("retry_"):
                assert SECRET not in str(value)
    # Only the named parameter is masked; others keep their values.
    assert ours[0].retry_url == "http://example.com/p?token=***&page=2"


def test_event_repr_masks_url_and_error():
    """An event's repr shows the URL without userinfo or query values and the error by class and status."""
    text = repr(gave_up(status=None, error=response_error()))
    assert "url='http://example.com/p?token=***&page=***'" in text
    assert "error=ClientResponseError (status 503)" in text
    assert "reason='last try'" in text


def test_describe_error_never_uses_the_errors_text():
    """describe_error gives class and status of a ClientResponseError whose repr carries Authorization."""
    error = response_error(503)
    assert SECRET in repr(error)  # the hazard this guards against
    assert describe_error(error) == "ClientResponseError (status 503)"


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ValueError(SECRET), "ValueError"),
        (aiohttp.ServerDisconnectedError(SECRET), "ServerDisconnectedError"),
        (type("WithStatus", (Exception,), {"status": True})(SECRET), "WithStatus"),
        (type("WithStatus", (Exception,), {"status": "503"})(SECRET), "WithStatus"),
        (type("WithStatus", (Exception,), {"status": 429})(SECRET), "WithStatus (status 429)"),
    ],
)
def test_describe_error_is_class_name_and_integer_status(error, text):
    """Only an integer (not bool) status is shown, and never the exception's message."""
    assert describe_error(error) == text


def test_describe_error_survives_a_status_property_that_raises():
    """An error whose status property raises is still described by its class name."""

    class OddError(Exception):
        @property
        def status(self) -> int:
            raise RuntimeError(SECRET)

    assert describe_error(OddError()) == "OddError"


@pytest.mark.parametrize(
    ("url", "query", "expected"),
    [
        ("http://example.com/p", None, "http://example.com/p"),
        (f"http://user:{SECRET}@example.com:8080/p", None, "http://example.com:8080/p"),
        (f"https://{SECRET}@example.com/", None, "https://example.com/"),
        (f"http://example.com/p?token={SECRET}&a=1", None, "http://example.com/p?token=***&a=***"),
        (f"http://example.com/p?Token={SECRET}&a=1", ("TOKEN",), "http://example.com/p?Token=***&a=1"),
        (f"http://example.com/p?to%6Ben={SECRET}&a=1", ("token",), "http://example.com/p?to%6Ben=***&a=1"),
        (f"http://example.com/p?token={SECRET}", "token", "http://example.com/p?token=***"),
        (f"http://example.com/p?token={SECRET}", (), f"http://example.com/p?token={SECRET}"),
        (f"http://example.com/p#{SECRET}", None, "http://example.com/p"),
        (f"/relative/path?key={SECRET}", None, "/relative/path?key=***"),
        (f"/hook?{SECRET}", None, "/hook?***"),
        ("/users/@me", None, "/users/@me"),
        ("http://example.com/users/@me?q=1", None, "http://example.com/users/@me?q=***"),
        (f"http://[::1]:8080/p?x={SECRET}", None, "http://[::1]:8080/p?x=***"),
        (f"user:{SECRET}@example.com/p", None, "example.com/p"),
        (f"http://user:{SECRET}#x@example.com/", None, "http://***"),
        ("http://user:s3/cr3t@example.com/p", None, "http://example.com/p"),
        (yarl.URL(f"http://user:{SECRET}@example.com/p?token={SECRET}"), None, "http://example.com/p?token=***"),
        ("", None, ""),
    ],
)
def test_redact_url(url, query, expected):
    """redact_url drops userinfo and fragment and masks the query values asked for."""
    assert redact_url(url, query) == expected


def test_redact_url_never_raises_on_unprintable_objects():
    """An object whose str raises is a placeholder, not an error."""

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError(SECRET)

    assert redact_url(Unprintable()) == "<unprintable URL>"
    assert Redactor().url(Unprintable()) == "<unprintable URL>"


def test_redact_headers_masks_sensitive_and_named_headers():
    """Authorization, Proxy-Authorization, Cookie, Set-Cookie and named headers are masked in any case."""
    headers = CIMultiDict(
        [
            ("Authorization", f"Bearer {SECRET}"),
            ("PROXY-AUTHORIZATION", f"Basic {SECRET}"),
            ("cookie", f"id={SECRET}"),
            ("Set-Cookie", f"a={SECRET}"),
            ("Set-Cookie", f"b={SECRET}"),
            ("X-Api-Key", SECRET),
            ("Accept", "text/plain"),
            ("Accept", "application/json"),
        ]
    )
    redacted = redact_headers(headers, ["x-API-key"])
    assert redacted == {
        "Authorization": "***",
        "PROXY-AUTHORIZATION": "***",
        "cookie": "***",
        "Set-Cookie": "***",
        "X-Api-Key": "***",
        "Accept": "text/plain, application/json",
    }
    assert SECRET not in str(redacted)
    assert Redactor(headers=frozenset({"X-API-KEY"})).headers_of(headers) == redacted
    assert redact_headers(None) == {}
    assert DEFAULT_REDACTOR.headers_of({}) == {}
    assert {"authorization", "proxy-authorization", "cookie", "set-cookie"} == SENSITIVE_HEADERS


def test_redactor_normalises_names():
    """Redactor stores any collection of names as a lower-cased frozenset."""
    redactor = Redactor(headers=["X-Key"], query=("Token", "SIG"))
    assert redactor.headers == frozenset({"x-key"})
    assert redactor.query == frozenset({"token", "sig"})
    assert Redactor().query is None
    assert redactor.url(f"http://h/?sig={SECRET}&x=1") == "http://h/?sig=***&x=1"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"headers": "authorization"}, "headers"),
        ({"query": "token"}, "query"),
        ({"headers": None}, "headers"),
        ({"query": 5}, "query"),
        ({"query": [b"token"]}, "query"),
    ],
)
def test_redactor_rejects_what_is_not_a_collection_of_names(kwargs, parameter):
    """A plain str (or anything but a collection of str) is a TypeError naming the parameter."""
    with pytest.raises(TypeError, match=f"^{parameter} "):
        Redactor(**kwargs)


def test_public_names_match_all():
    """observe's __all__ is the documented public names, each importable."""
    assert set(aiohttp_retry.observe.__all__) == {
        "LoggingListener",
        "Redactor",
        "redact_url",
        "redact_headers",
        "describe_error",
        "SENSITIVE_HEADERS",
    }
    for name in aiohttp_retry.observe.__all__:
        assert hasattr(aiohttp_retry.observe, name)


# --- property ------------------------------------------------------------------------------------

_PLAIN = st.text(string.ascii_lowercase, min_size=1, max_size=8)
# Secrets share no character with the rest of the URL, so finding one in the output is a leak.
_SECRET = st.text(string.ascii_uppercase + string.digits + "!$'()*+,;=:@/?#% ~", min_size=3, max_size=12).filter(
    lambda s: sum(c.isalnum() for c in s) >= 2
)


@st.composite
def secret_urls(draw: st.DrawFn) -> tuple[object, list[str]]:
    """A URL (text or yarl.URL) with a password and query values drawn from the secret alphabet."""
    password = draw(_SECRET)
    values = draw(st.lists(_SECRET, max_size=3))
    names = draw(st.lists(_PLAIN, min_size=len(values), max_size=len(values)))
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in zip(names, values, strict=True))
    path = "/".join(draw(st.lists(_PLAIN, max_size=3)))
    relative = draw(st.booleans())
    if relative:
        text = f"/{path}" + (f"?{query}" if query else "")
    else:
        user = draw(_PLAIN)
        host = draw(_PLAIN)
        text = f"http://{user}:{quote(password, safe='')}@{host}.test/{path}" + (f"?{query}" if query else "")
    url: object = yarl.URL(text) if draw(st.booleans()) else text
    secrets = values if relative else [password, *values]
    return url, secrets


@settings(max_examples=200, deadline=None)
@given(secret_urls())
def test_redact_url_never_shows_a_password_or_query_value(case):
    """For generated URLs, redact_url returns no password and no query value, raw or encoded."""
    url, secrets = case
    text = redact_url(url)
    for secret in secrets:
        assert secret not in text
        assert quote(secret, safe="") not in text


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.binary(), st.integers(), st.none()), st.none() | st.lists(st.text(max_size=5)))
def test_redact_url_never_raises(garbage, query):
    """redact_url returns text for any input and any query names."""
    assert isinstance(redact_url(garbage, query), str)
