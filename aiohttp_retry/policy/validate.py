"""Checks that reject bad configuration with a message naming the parameter."""

from __future__ import annotations

import math

__all__ = ["check_attempts", "check_count", "check_delay", "check_factor", "check_ratio", "check_size", "check_window"]


def check_count(value: object, name: str, what: str = "") -> int:
    """Return ``value`` if it is an int >= 1, else raise ``ValueError`` (``what`` explains the count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be an integer >= 1{what}, got {value!r}"
        raise ValueError(msg)
    return value


def check_attempts(value: object, name: str = "attempts") -> int:
    """Return ``value`` if it is an int >= 1, else raise ``ValueError``."""
    return check_count(value, name, " (the total number of tries, the first included)")


def check_window(value: object, name: str = "window") -> float:
    """Return ``value`` as a float if it is a finite number of seconds > 0, else raise ``ValueError``."""
    if check_delay(value, name) == 0:
        msg = f"{name} must be a finite number of seconds > 0, got {value!r}"
        raise ValueError(msg)
    return float(value)  # type: ignore[arg-type]


def check_delay(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number >= 0, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value < math.inf):
        msg = f"{name} must be a finite number of seconds >= 0, got {value!r}"
        raise ValueError(msg)
    return float(value)


def check_factor(value: object, name: str = "factor") -> float:
    """Return ``value`` as a float if it is a finite number >= 1, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (1 <= value < math.inf):
        msg = f"{name} must be a finite number >= 1, got {value!r}"
        raise ValueError(msg)
    return float(value)


def check_size(value: object, name: str) -> int:
    """Return ``value`` if it is an int >= 0 (a number of bytes), else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"{name} must be a whole number of bytes >= 0, got {value!r}"
        raise ValueError(msg)
    return value


def check_ratio(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number >= 0 (a ratio), else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value < math.inf):
        msg = f"{name} must be a finite number >= 0, got {value!r}"
        raise ValueError(msg)
    return float(value)
