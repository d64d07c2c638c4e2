"""Checks of the response a call returns: allowed statuses, an exception class per status, validators.

A :class:`StatusCheck` is what aiohttp calls a ``raise_for_status`` callable, so
it goes where aiohttp takes one::

    check = StatusCheck(allowed={200, 201, 204}, errors={401: AuthError, 404: NotFound}, validators=[no_error_field])
    RetryClient(raise_for_status=check)  # or per call: client.get(url, raise_for_status=check)
    ClientSession(raise_for_status=check, middlewares=[RetryMiddleware()])

It runs once, on the response the call ends with, after every retry decision:
a check never cancels a retry, and a response it rejects is released before
the error is raised.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp_retry.errors import RetryError
from aiohttp_retry.observe.redact import redact_url
from aiohttp_retry.policy.validate import check_statuses

__all__ = ["StatusCheck", "StatusError"]


class StatusError(RetryError):
    """A call ended with a status its :class:`StatusCheck` does not allow.

    ``status``, ``method`` and ``url`` (redacted: no userinfo, no query values) describe the
    response. A class given in ``StatusCheck(errors=...)`` is raised the same way: called with
    one message, then given these three attributes; subclassing this class is the easy way.
    """

    status: int
    method: str
    url: str


def _raise(kind: type[BaseException], status: int, method: str, url: str, reason: str) -> None:
    error = kind(f"{method} {url} ended with status {status}{reason}")
    error.status, error.method, error.url = status, method, url  # type: ignore[attr-defined]
    raise error


class StatusCheck:
    """What the final response of a call must satisfy, checked in this order.

    Args:
        errors: a mapping from status to the exception class raised for it
            (``{401: AuthError}``); first, whatever ``allowed`` says.
        allowed: the statuses a call may end with; any other raises :class:`StatusError`.
            ``None`` (the default): every status not in ``errors``.
        validators: callables given the response (sync or async); one that raises
            rejects it (typed errors of your own, for errors inside a 200, say). They may
            read the body. They run only for a status that passed the first two checks.

    Raises:
        TypeError, ValueError: a setting of the wrong kind (the message names it).
    """

    __slots__ = ("allowed", "errors", "validators")

    def __init__(
        self,
        *,
        errors: Mapping[int, type[BaseException]] | None = None,
        allowed: Iterable[int] | None = None,
        validators: Iterable[Callable[[Any], Any]] = (),
    ) -> None:
        if errors is not None and not isinstance(errors, Mapping):
            msg = f"errors must be a mapping from status to exception class, such as {{401: AuthError}}, got {errors!r}"
            raise TypeError(msg)
        checked = dict(errors or {})
        check_statuses(checked, "errors")
        for status, kind in checked.items():
            if not (isinstance(kind, type) and issubclass(kind, BaseException)):
                msg = f"errors[{status}] must be an exception class such as StatusError, got {kind!r}"
                raise TypeError(msg)
        self.errors = checked
        self.allowed = None if allowed is None else check_statuses(allowed, "allowed")
        if isinstance(validators, (str, bytes)) or not isinstance(validators, Iterable):
            msg = f"validators must be an iterable of callables taking the response, got {validators!r}"
            raise TypeError(msg)
        self.validators = tuple(validators)
        for validator in self.validators:
            if not callable(validator):
                msg = f"validators must hold callables taking the response, got {validator!r}"
                raise TypeError(msg)

    async def __call__(self, response: Any) -> None:
        """Check ``response``; release it and raise if it fails a check."""
        try:
            status = response.status
            kind = self.errors.get(status)
            if kind is not None:
                _raise(kind, status, response.method, redact_url(response.url), "")
            if self.allowed is not None and status not in self.allowed:
                allowed = ", ".join(str(s) for s in sorted(self.allowed))
                _raise(StatusError, status, response.method, redact_url(response.url), f" (allowed: {allowed})")
            for validator in self.validators:
                result = validator(response)
                if inspect.isawaitable(result):
                    await result
        except BaseException:
            response.release()
            raise

    def __repr__(self) -> str:
        return f"StatusCheck(errors={self.errors!r}, allowed={self.allowed!r}, validators={self.validators!r})"
