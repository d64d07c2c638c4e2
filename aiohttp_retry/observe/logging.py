"""Logging as a listener: :class:`LoggingListener` turns events into log lines.

Levels: one DEBUG line as each try starts; INFO for each retry; WARNING when a
call gives up for a reason worth a look (last try, deadline, breaker, budget,
Retry-After too long, body not replayable) and when a breaker opens; DEBUG for
the rest. Every line carries ``extra`` fields prefixed ``retry_`` (so none
collides with a ``LogRecord`` attribute), and shows URLs and errors only
through a :class:`~aiohttp_retry.observe.redact.Redactor`.

Nothing is formatted, redacted or built for a level the logger does not emit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp_retry.events import (
    BreakerStateChange,
    BudgetRefused,
    GaveUp,
    HedgeFired,
    HedgeWon,
    RetryScheduled,
    TryStarted,
)
from aiohttp_retry.observe.redact import DEFAULT_REDACTOR, Redactor, describe_error
from aiohttp_retry.policy.stop import StopReason

__all__ = ["LoggerLike", "LoggingListener"]

DEBUG, INFO, WARNING = logging.DEBUG, logging.INFO, logging.WARNING

#: Reasons for giving up that deserve a WARNING; the others (not retryable, cancelled) are routine.
_WARN_REASONS = frozenset(
    {
        StopReason.LAST_TRY,
        StopReason.RETRY_AFTER_TOO_LONG,
        StopReason.DEADLINE,
        StopReason.BREAKER_OPEN,
        StopReason.BUDGET_SPENT,
        StopReason.BODY_NOT_REPLAYABLE,
    }
)

_RETRYING = "Retrying %s %s after %s in %.3f s (try %d of %d)"
_RETRYING_AS_ASKED = _RETRYING + " as the server asked (Retry-After)"


class LoggerLike(Protocol):
    """Any object with the logging methods of aiohttp-retry 2.9.1's logger protocol; it has no levels."""

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102


def _always(_level: int) -> bool:
    return True


class LoggingListener:
    """Writes events to ``logger`` as log lines, URLs and errors redacted by ``redactor``.

    Args:
        logger: a ``logging.Logger`` (or ``LoggerAdapter``), or any object with
            ``debug``, ``warning`` and ``exception`` methods. Such an object has
            no levels, so every line is written to it; INFO lines go to its
            ``info`` if it has one, else to ``debug``. Default: the
            ``aiohttp_retry`` logger.
        redactor: what to hide in URLs (default: userinfo and every query value).

    Raises:
        TypeError: ``logger`` lacks ``debug`` or ``warning``, or ``redactor`` is
            not a :class:`Redactor`.
    """

    __slots__ = ("_debug", "_enabled", "_handlers", "_info", "_warning", "enabled", "listens_to", "logger", "redactor")

    def __init__(self, logger: logging.Logger | LoggerLike | None = None, *, redactor: Redactor | None = None) -> None:
        if logger is None:
            logger = logging.getLogger("aiohttp_retry")
        for name in ("debug", "warning"):
            if not callable(getattr(logger, name, None)):
                msg = f"logger must be a logging.Logger or have debug, warning and exception methods, got {logger!r}"
                raise TypeError(msg)
        if redactor is not None and not isinstance(redactor, Redactor):
            msg = f"redactor must be an aiohttp_retry.observe.Redactor or None, got {redactor!r}"
            raise TypeError(msg)
        self.logger = logger
        self.redactor = DEFAULT_REDACTOR if redactor is None else redactor
        # Bound once: these run on every request.
        self._enabled: Callable[[int], bool] = (
            logger.isEnabledFor if isinstance(logger, (logging.Logger, logging.LoggerAdapter)) else _always
        )
        #: ``enabled(level)``: whether the logger writes lines of ``level`` (always, for one without levels).
        self.enabled = self._enabled
        self._debug: Callable[..., object] = logger.debug
        info = getattr(logger, "info", None)
        self._info: Callable[..., object] = info if callable(info) else logger.debug
        self._warning: Callable[..., object] = logger.warning
        self._handlers: dict[type, Callable[[Any], None]] = {
            TryStarted: self._try_started,
            RetryScheduled: self._retry_scheduled,
            GaveUp: self._gave_up,
            BudgetRefused: self._budget_refused,
            BreakerStateChange: self._breaker_state_change,
            HedgeFired: self._hedge_fired,
            HedgeWon: self._hedge_won,
        }
        #: The events it logs (a TryFinished says nothing the next line does not): no other is built for it.
        self.listens_to = self._handlers

    def __repr__(self) -> str:
        return f"LoggingListener({self.logger!r}, redactor={self.redactor!r})"

    def debug_on(self) -> bool:
        """Whether the logger writes DEBUG lines (always, for a logger without levels)."""
        return self._enabled(DEBUG)

    def __call__(self, event: object) -> None:
        """Log ``event``; objects that are not events of this library are ignored."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _try_started(self, event: TryStarted) -> None:
        if not self._enabled(DEBUG):
            return
        extra = self._request_extra(event.method, self.redactor.url(event.url), event.key)
        extra["retry_attempt"] = event.attempt
        extra["retry_attempts"] = event.attempts
        self._debug("Attempt %d out of %d", event.attempt, event.attempts, extra=extra)

    def _retry_scheduled(self, event: RetryScheduled) -> None:
        if not self._enabled(INFO):
            return
        url = self.redactor.url(event.url)
        extra = self._request_extra(event.method, url, event.key)
        extra["retry_attempt"] = event.attempt
        extra["retry_attempts"] = event.attempts
        extra["retry_cause"] = event.cause
        extra["retry_delay"] = event.delay
        extra["retry_after"] = event.retry_after
        self._info(
            _RETRYING_AS_ASKED if event.retry_after else _RETRYING,
            event.method,
            url,
            event.cause,
            event.delay,
            event.attempt,
            event.attempts,
            extra=extra,
        )

    def _gave_up(self, event: GaveUp) -> None:
        warn = event.reason in _WARN_REASONS
        if not self._enabled(WARNING if warn else DEBUG):
            return
        url = self.redactor.url(event.url)
        error = None if event.error is None else describe_error(event.error)
        outcome = f"status {event.status}" if event.status is not None else (error or "none")
        reason = str(event.reason)  # a StopReason reads as its value
        extra = self._request_extra(event.method, url, event.key)
        extra["retry_reason"] = reason
        extra["retry_tries"] = event.tries
        extra["retry_attempts"] = event.attempts
        extra["retry_status"] = event.status
        extra["retry_error"] = error
        extra["retry_elapsed"] = event.elapsed
        (self._warning if warn else self._debug)(
            "Gave up on %s %s after %d %s: %s; last outcome: %s",
            event.method,
            url,
            event.tries,
            "try" if event.tries == 1 else "tries",
            reason,
            outcome,
            extra=extra,
        )

    def _budget_refused(self, event: BudgetRefused) -> None:
        if not self._enabled(DEBUG):
            return
        url = self.redactor.url(event.url)
        extra = self._request_extra(event.method, url, event.key)
        extra["retry_attempt"] = event.attempt
        self._debug("Retry budget for %s refused a retry of %s %s", event.key, event.method, url, extra=extra)

    def _breaker_state_change(self, event: BreakerStateChange) -> None:
        opened = event.new == "open"
        if not self._enabled(WARNING if opened else INFO):
            return
        extra = {"retry_key": event.key, "retry_breaker_old": event.old, "retry_breaker_new": event.new}
        (self._warning if opened else self._info)(
            "Circuit breaker for %s: %s -> %s", event.key, event.old, event.new, extra=extra
        )

    def _hedge_fired(self, event: HedgeFired) -> None:
        if not self._enabled(DEBUG):
            return
        url = self.redactor.url(event.url)
        extra = self._request_extra(event.method, url, event.key)
        extra["retry_attempt"] = event.attempt
        extra["retry_elapsed"] = event.after
        self._debug(
            "Hedging %s %s: started try %d after %.3f s", event.method, url, event.attempt, event.after, extra=extra
        )

    def _hedge_won(self, event: HedgeWon) -> None:
        if not self._enabled(DEBUG):
            return
        url = self.redactor.url(event.url)
        extra = self._request_extra(event.method, url, event.key)
        extra["retry_attempt"] = event.attempt
        extra["retry_tries"] = event.tries
        self._debug(
            "Hedging %s %s: try %d won, out of %d started", event.method, url, event.attempt, event.tries, extra=extra
        )

    @staticmethod
    def _request_extra(method: str, url: str, key: str) -> dict[str, Any]:
        """The ``extra`` fields every per-call line carries; ``url`` already redacted."""
        return {"retry_method": method, "retry_url": url, "retry_key": key}
