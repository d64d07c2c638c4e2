"""An in-memory transport for the engine, the way httpx ships ``MockTransport``.

The engine reads responses only through an exchange's codec; this module
proves it by driving :func:`aiohttp_retry.engine.run` with no HTTP client at all:

- :class:`MemoryResponse`: a status, a headers dict, and whether the engine
  ``drained`` and ``released`` it;
- :class:`MemoryCodec`: the :class:`~aiohttp_retry.engine.Codec` of those
  responses and of the exception classes below (one per error kind);
- :class:`MemoryExchange`: plays a script, one action per try, on the event
  loop's clock (virtual under ``looptime``), enforcing the ``time_left`` the
  engine gives each try with ``asyncio.timeout`` as a real transport would;
- :func:`collect`: ``Listeners`` that record every event, optionally with a
  ``LoggingListener`` on the real ``test.engine`` logger.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from aiohttp_retry.engine import plan_of, run
from aiohttp_retry.events import GaveUp, Listeners, TryFinished
from aiohttp_retry.observe.logging import LoggingListener
from aiohttp_retry.policy.stop import ErrorKind
from aiohttp_retry.retry_options import RetryOptionsBase

__all__ = [
    "KEY",
    "LOGGER_NAME",
    "URL",
    "ConnectFailed",
    "Delay",
    "Dropped",
    "FakeClock",
    "HttpError",
    "MemoryCodec",
    "MemoryExchange",
    "MemoryResponse",
    "Recorder",
    "Sent",
    "SpyBreaker",
    "SpyBudget",
    "TimedOut",
    "TlsFailed",
    "collect",
    "drive",
    "log_records",
]

LOGGER_NAME = "test.engine"
URL = "http://svc.test/x"
KEY = "svc.test"

E = TypeVar("E")


# -- responses and errors ----------------------------------------------------------------------------


@dataclass(eq=False)
class MemoryResponse:
    """A response held in memory; ``body_delay``: seconds reading its body takes when the engine drains it."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body_delay: float = 0.0
    attempt: int = 0  # the try that returned it (set by the exchange)
    released: bool = False
    drained: bool = False
    releases: int = 0  # how many times it was released (once is enough)
    drain_time_left: float | None = None  # the time the engine allowed for draining it

    def __repr__(self) -> str:
        state = "released" if self.released else "open"
        return f"<MemoryResponse {self.status} try={self.attempt} {state}>"


class ConnectFailed(Exception):  # noqa: N818 - named as the transport reports it
    """No connection was made (kind CONNECT)."""


class Dropped(Exception):  # noqa: N818
    """The connection failed after the request may have been sent (kind TRANSPORT)."""


class TimedOut(TimeoutError):  # noqa: N818
    """The transport's own timeout (kind TIMEOUT)."""


class TlsFailed(Exception):  # noqa: N818
    """A TLS failure (kind TLS)."""


class HttpError(Exception):
    """An HTTP error raised instead of returning a response (``raise_for_status``): kind OTHER."""

    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class MemoryCodec:
    """The engine's view of :class:`MemoryResponse` and of the errors above."""

    status: Callable[[MemoryResponse], int] = operator.attrgetter("status")

    def header(self, response: MemoryResponse, name: str) -> str | None:
        """A header, case-insensitively."""
        lower = name.lower()
        for key, value in response.headers.items():
            if key.lower() == lower:
                return value
        return None

    async def discard(self, response: MemoryResponse, time_left: float | None) -> None:
        """Read the body (``body_delay`` s, cut at ``time_left``), then release: always, even when cancelled."""
        response.drain_time_left = time_left
        try:
            if response.body_delay:
                if time_left is None:
                    await asyncio.sleep(response.body_delay)
                elif time_left > 0:
                    await asyncio.wait_for(asyncio.sleep(response.body_delay), time_left)
                else:
                    return
            response.drained = True
        except TimeoutError:
            pass
        finally:
            self.release(response)

    def release(self, response: MemoryResponse) -> None:
        """Release at once."""
        response.released = True
        response.releases += 1

    def error_kind(self, error: Exception) -> ErrorKind:
        """The kind of each exception class of this module; any ``TimeoutError`` is a timeout."""
        if isinstance(error, TlsFailed):
            return ErrorKind.TLS
        if isinstance(error, ConnectFailed):
            return ErrorKind.CONNECT
        if isinstance(error, TimeoutError):
            return ErrorKind.TIMEOUT
        if isinstance(error, Dropped):
            return ErrorKind.TRANSPORT
        return ErrorKind.OTHER

    def error_response(self, error: Exception) -> tuple[int, str | None] | None:
        """The status and ``Retry-After`` of an :class:`HttpError`."""
        if isinstance(error, HttpError):
            return error.status, error.retry_after
        return None


MEMORY_CODEC = MemoryCodec()


# -- the exchange ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` on the loop clock (cut by the try's ``time_left``), then play ``then``."""

    seconds: float
    then: Any = 200


class Sent(NamedTuple):
    """One try as the exchange saw it start."""

    attempt: int
    time_left: float | None
    at: float


class MemoryExchange:
    """One call's exchange: each ``send`` plays the next action of ``script``.

    An action is a status (``int``), a :class:`MemoryResponse`, an exception
    instance (raised), or a :class:`Delay` of any of these. ``resend_refusal``:
    a function of the attempt number returning why it cannot be sent, or ``None``.
    """

    def __init__(
        self,
        script: Iterable[Any],
        method: str = "GET",
        url: str = URL,
        headers: Mapping[str, str] | None = None,
        hedgeable: bool = True,
        resend_refusal: Callable[[int], str | None] | None = None,
        finish: Callable[[MemoryResponse], Any] | None = None,
    ) -> None:
        self.script = list(script)
        self.method = method
        self.url = url
        self.headers = headers
        self.hedgeable = hedgeable
        self.finish = finish
        self._refusal = resend_refusal
        self.codec = MEMORY_CODEC
        self.response: MemoryResponse | None = None
        self.sends: list[Sent] = []
        self.responses: list[MemoryResponse] = []
        #: Per send: the responses given out earlier and not released when it started.
        self.open_at_send: list[list[MemoryResponse]] = []
        self.in_flight = 0

    # Exchange protocol

    def send(self, attempt: int, time_left: float | None) -> Any:
        """Start try ``attempt``: record it, and return the coroutine that plays its action."""
        loop = asyncio.get_running_loop()
        self.sends.append(Sent(attempt, time_left, loop.time()))
        self.open_at_send.append([r for r in self.responses if not r.released])
        if not self.script:
            msg = f"script exhausted: try {attempt} has no action"
            raise AssertionError(msg)
        return self._play(attempt, self.script.pop(0), time_left)

    def describe(self, attempt: int) -> tuple[str, Any, Mapping[str, Any] | None]:  # noqa: ARG002
        """The method, URL and headers of every try."""
        return self.method, self.url, self.headers

    def resend_refusal(self, attempt: int) -> str | None:
        """Why try ``attempt`` cannot be sent, as the script says."""
        return None if self._refusal is None else self._refusal(attempt)

    # playing

    async def _play(self, attempt: int, action: Any, time_left: float | None) -> MemoryResponse:
        self.in_flight += 1
        try:
            if time_left is None:
                return await self._act(attempt, action)
            if sys.version_info < (3, 11):  # pragma: no cover - no asyncio.timeout
                return await asyncio.wait_for(self._act(attempt, action), time_left)
            async with asyncio.timeout(time_left):  # the library's limit, as a real transport enforces it
                return await self._act(attempt, action)
        finally:
            self.in_flight -= 1

    async def _act(self, attempt: int, action: Any) -> MemoryResponse:
        await asyncio.sleep(0)  # every try yields to the loop once, as real I/O does
        while isinstance(action, Delay):
            await asyncio.sleep(action.seconds)
            action = action.then
        if isinstance(action, BaseException):
            raise action
        response = MemoryResponse(action) if isinstance(action, int) else action
        response.attempt = attempt
        self.responses.append(response)
        return response

    # checks

    def unreleased(self, returned: object = None) -> list[MemoryResponse]:
        """The responses given out, other than ``returned``, that were never released."""
        return [r for r in self.responses if r is not returned and not r.released]

    def send_times(self) -> list[float]:
        """When each try started, on the loop clock."""
        return [sent.at for sent in self.sends]


# -- listeners and driving ---------------------------------------------------------------------------


class Recorder:
    """A listener that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        """The events of one class, in order."""
        return [event for event in self.events if isinstance(event, kind)]

    def one(self, kind: type[E]) -> E:
        """The only event of ``kind`` (fails the test if there are none or several)."""
        found = self.of(kind)
        assert len(found) == 1, f"expected one {kind.__name__}, got {found!r}"
        return found[0]

    def kinds(self) -> list[str]:
        """The class names of the events, in order."""
        return [type(event).__name__ for event in self.events]


def collect(*, log: bool = False, extra: Sequence[Callable[[Any], object]] = ()) -> tuple[Listeners, Recorder]:
    """``Listeners`` recording every event; with ``log``, also a ``LoggingListener`` on ``test.engine``."""
    recorder = Recorder()
    logger = LoggingListener(logging.getLogger(LOGGER_NAME)) if log else None
    return Listeners((recorder, *extra), logger), recorder


async def drive(
    options: RetryOptionsBase,
    exchange: MemoryExchange,
    *,
    listeners: Listeners | None = None,
    budget: Any = None,
    breaker: Any = None,
    key: str = KEY,
) -> Any:
    """Run one call through the engine, as an adapter does.

    When a :class:`Recorder` listens, checks that the call ended with exactly one
    event that ends a call (a final ``TryFinished`` or a ``GaveUp``), however it
    ended, and that this event was the call's last.
    """
    listeners = listeners or Listeners()
    recorders = [listener for listener in listeners.given if isinstance(listener, Recorder)]
    marks = [len(recorder.events) for recorder in recorders]
    try:
        return await run(plan_of(options), exchange, key, budget, breaker, listeners)
    finally:
        for recorder, mark in zip(recorders, marks, strict=True):
            new = recorder.events[mark:]
            ends = [i for i, e in enumerate(new) if isinstance(e, GaveUp) or (isinstance(e, TryFinished) and e.final)]
            assert len(ends) == 1, f"a call must end with one final TryFinished or one GaveUp, got {new!r}"
            assert ends[0] == len(new) - 1, f"the event that ends a call must be its last, got {new!r}"


class FakeClock:
    """A monotonic clock for breakers and budgets that moves only when told."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on."""
        self.now += seconds


def log_records(caplog: Any) -> list[logging.LogRecord]:
    """The records caplog captured from the ``test.engine`` logger."""
    return [record for record in caplog.records if record.name == LOGGER_NAME]


def gave_up_line(caplog: Any) -> logging.LogRecord:
    """The one "Gave up" record of the test logger."""
    found = [r for r in log_records(caplog) if r.getMessage().startswith("Gave up")]
    assert len(found) == 1, [r.getMessage() for r in log_records(caplog)]
    return found[0]


class SpyBudget:
    """A retry budget of its own (no library class): grants ``allow`` retries, records every question."""

    def __init__(self, allow: int = 1_000) -> None:
        self.allow = allow
        self.calls: list[str] = []
        self.retries: list[str] = []

    def record_call(self, key: str) -> None:
        """Count a call."""
        self.calls.append(key)

    def try_retry(self, key: str) -> bool:
        """Grant a retry while any is left."""
        self.retries.append(key)
        if self.allow <= 0:
            return False
        self.allow -= 1
        return True


class SpyBreaker:
    """Wraps a real breaker (by delegation, not inheritance) and records every question the engine asks."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.log: list[tuple[Any, ...]] = []

    def acquire(self, key: str) -> Any:
        """Delegate; record the answer."""
        granted = self.inner.acquire(key)
        self.log.append(("acquire", key, granted))
        return granted

    def record(self, key: str, permit: Any, *, failed: bool) -> Any:
        """Delegate; record the outcome."""
        self.log.append(("record", key, failed))
        return self.inner.record(key, permit, failed=failed)

    def release(self, key: str, permit: Any) -> None:
        """Delegate; record the release."""
        self.log.append(("release", key))
        self.inner.release(key, permit)

    def would_refuse(self, key: str) -> bool:
        """Delegate."""
        return bool(self.inner.would_refuse(key))

    def calls(self, name: str) -> list[tuple[Any, ...]]:
        """The recorded questions named ``name``."""
        return [entry for entry in self.log if entry[0] == name]
