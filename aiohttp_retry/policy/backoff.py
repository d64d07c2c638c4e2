"""Backoff schedules as pure functions of the retry index.

``retry_index`` counts the sleeps of one request from 0: index 0 is the wait
after the first failed attempt. Each function is deterministic for its inputs;
randomness arrives as an already drawn number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "decorrelated_jitter_delay",
    "exponential_delay",
    "fibonacci_delay",
    "full_jitter_delay",
    "jittered_exponential_delay",
    "list_delay",
    "uniform_delay",
]


def exponential_delay(start: float, factor: float, cap: float, retry_index: int) -> float:
    """``min(start * factor ** retry_index, cap)``; saturates at ``cap`` instead of overflowing.

    A ``start`` of 0 waits 0 at every index, however large the power.
    """
    try:
        delay = start * factor**retry_index
    except OverflowError:
        return cap if start else 0.0
    return min(delay, cap)


def fibonacci_delay(multiplier: float, cap: float, retry_index: int) -> float:
    """``min(multiplier * F(retry_index + 3), cap)`` with F(1) = F(2) = 1.

    The sequence of factors is 2, 3, 5, 8, 13, ...; it is computed from the
    index alone, so every request starts again at the beginning.
    """
    if not multiplier:
        return 0.0
    # In floats, so the factor overflows to infinity (and past the cap) instead of growing without
    # bound: with a tiny multiplier the loop still ends within ~1,500 steps, whatever the index.
    previous, current = 1.0, 2.0
    for _ in range(retry_index):
        if multiplier * current >= cap:
            break
        previous, current = current, previous + current
    return min(multiplier * current, cap)


def uniform_delay(low: float, high: float, draw: float) -> float:
    """Map a draw from [0, 1) onto [low, high): ``low + draw * (high - low)``."""
    return low + draw * (high - low)


def jittered_exponential_delay(
    start: float,
    factor: float,
    cap: float,
    retry_index: int,
    jitter_draw: float,
) -> float:
    """Add ``jitter_draw ** factor`` to the exponential delay.

    ``jitter_draw`` is uniform on [0, random_interval_size]. The jitter term is
    added after the cap, so the result may exceed ``cap`` by up to
    ``random_interval_size ** factor``.
    """
    return exponential_delay(start, factor, cap, retry_index) + math.pow(jitter_draw, factor)


def list_delay(delays: Sequence[float], retry_index: int) -> float:
    """``delays[retry_index]``, repeating the last entry past the end of the list."""
    if retry_index < len(delays):
        return delays[retry_index]
    return delays[-1]


def full_jitter_delay(start: float, factor: float, cap: float, retry_index: int, draw: float) -> float:
    """``draw * min(start * factor ** retry_index, cap)``: uniform on [0, the exponential wait)."""
    return draw * exponential_delay(start, factor, cap, retry_index)


def decorrelated_jitter_delay(start: float, cap: float, previous: float | None, draw: float) -> float:
    """``min(cap, uniform(start, 3 * previous))``, with ``previous = start`` for the first wait."""
    high = max(3 * (start if previous is None else previous), start)
    return min(cap, uniform_delay(start, high, draw))
