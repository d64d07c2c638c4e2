"""Checks that reject bad configuration with a message naming the parameter.

A value of the wrong type raises ``TypeError``; a value of the right type that
is out of range raises ``ValueError``. Every message says what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "check_attempts",
    "check_callable",
    "check_count",
    "check_delay",
    "check_exceptions",
    "check_factor",
    "check_header_name",
    "check_listeners",
    "check_methods",
    "check_ratio",
    "check_size",
    "check_statuses",
    "check_window",
]

# RFC 9110 section 5.6.2: a method is a token, and so is a header name.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _number(value: object, name: str, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{name} must be {allowed}, got {value!r}"
        raise TypeError(msg)
    return value


def check_count(value: object, name: str, what: str = "") -> int:
    """Return ``value`` if it is an int >= 1 (``what`` explains the count)."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an integer >= 1{what}, got {value!r}"
        raise TypeError(msg)
    if value < 1:
        msg = f"{name} must be an integer >= 1{what}, got {value!r}"
        raise ValueError(msg)
    return value


def check_attempts(value: object, name: str = "attempts") -> int:
    """Return ``value`` if it is an int >= 1."""
    return check_count(value, name, " (the total number of tries, the first included)")


def check_window(value: object, name: str = "window") -> float:
    """Return ``value`` as a float if it is a finite number of seconds > 0."""
    allowed = "a finite number of seconds > 0"
    if not 0 < _number(value, name, allowed) < math.inf:
        msg = f"{name} must be {allowed}, got {value!r}"
        raise ValueError(msg)
    return float(value)  # type: ignore[arg-type]


def check_delay(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number of seconds >= 0."""
    allowed = "a finite number of seconds >= 0"
    if not 0 <= _number(value, name, allowed) < math.inf:
        msg = f"{name} must be {allowed}, got {value!r}"
        raise ValueError(msg)
    return float(value)  # type: ignore[arg-type]


def check_factor(value: object, name: str = "factor") -> float:
    """Return ``value`` as a float if it is a finite number >= 1."""
    allowed = "a finite number >= 1"
    if not 1 <= _number(value, name, allowed) < math.inf:
        msg = f"{name} must be {allowed}, got {value!r}"
        raise ValueError(msg)
    return float(value)  # type: ignore[arg-type]


def check_size(value: object, name: str) -> int:
    """Return ``value`` if it is an int >= 0 (a number of bytes)."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be a whole number of bytes >= 0, got {value!r}"
        raise TypeError(msg)
    if value < 0:
        msg = f"{name} must be a whole number of bytes >= 0, got {value!r}"
        raise ValueError(msg)
    return value


def check_ratio(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number >= 0 (a ratio)."""
    allowed = "a finite number >= 0"
    if not 0 <= _number(value, name, allowed) < math.inf:
        msg = f"{name} must be {allowed}, got {value!r}"
        raise ValueError(msg)
    return float(value)  # type: ignore[arg-type]


def check_callable(value: object, name: str, what: str) -> Any:
    """Return ``value`` if it is ``None`` or callable; ``what`` says what it is called for."""
    if value is not None and not callable(value):
        msg = f"{name} must be {what} or None, got {value!r}"
        raise TypeError(msg)
    return value


def _items(value: object, name: str, allowed: str) -> list[Any]:
    # A str is iterable, but "GET" as methods means {"G", "E", "T"}: never what was meant.
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        msg = f"{name} must be {allowed}, got {value!r}"
        raise TypeError(msg)
    return list(value)


def check_statuses(value: object, name: str = "statuses") -> frozenset[int]:
    """Return ``value`` as a frozenset if it is a collection of status codes from 100 to 599."""
    codes = _items(value, name, "a collection of status codes such as {429, 503}")
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int):
            msg = f"{name} must hold integer status codes from 100 to 599, got {code!r}"
            raise TypeError(msg)
        if not 100 <= code <= 599:  # noqa: PLR2004 - the range of HTTP status codes
            msg = f"{name} must hold status codes from 100 to 599, got {code!r}"
            raise ValueError(msg)
    return frozenset(codes)


def check_exceptions(value: object, name: str = "exceptions") -> frozenset[type[BaseException]]:
    """Return ``value`` as a frozenset if it is a collection of exception classes."""
    if isinstance(value, type):  # the likeliest slip: one class where a collection belongs
        msg = f"{name} must be a collection of exception classes such as {{{value.__name__}}}, got {value!r} alone"
        raise TypeError(msg)
    classes = _items(value, name, "a collection of exception classes such as {TimeoutError}")
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            msg = f"{name} must hold exception classes such as TimeoutError, got {cls!r}"
            raise TypeError(msg)
    return frozenset(classes)


def check_methods(value: object, name: str = "methods") -> frozenset[str]:
    """Return ``value`` as a frozenset of upper-case names if it is a collection of HTTP method names."""
    methods = _items(value, name, "a collection of method names such as {'GET', 'PUT'}")
    for method in methods:
        if not isinstance(method, str):
            msg = f"{name} must hold method names as strings, got {method!r}"
            raise TypeError(msg)
        if not _TOKEN.fullmatch(method):
            msg = f"{name} must hold method names such as 'GET' (letters, no spaces), got {method!r}"
            raise ValueError(msg)
    return frozenset(m.upper() for m in methods)


def check_header_name(value: object, name: str) -> str | None:
    """Return ``value`` if it is ``None`` or a valid header name."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"{name} must be a header name such as 'Idempotency-Key', or None, got {value!r}"
        raise TypeError(msg)
    if not _TOKEN.fullmatch(value):
        msg = f"{name} must be a non-empty header name such as 'Idempotency-Key' (no spaces), or None, got {value!r}"
        raise ValueError(msg)
    return value


def check_listeners(value: object, name: str = "listeners") -> tuple[Callable[[Any], object], ...]:
    """Return ``value`` as a tuple if it is a collection of callables (each takes one event)."""
    listeners = _items(value, name, "a collection of callables taking one event, such as [print]")
    for listener in listeners:
        if not callable(listener):
            msg = f"{name} must hold callables taking one event, got {listener!r}"
            raise TypeError(msg)
    return tuple(listeners)
