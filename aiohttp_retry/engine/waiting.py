"""Waiting with a time limit without ever losing the caller's cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["bounded"]


async def bounded(awaitable: Awaitable[Any], seconds: float, *, unused: Callable[[Any], object] | None = None) -> Any:
    """Await ``awaitable`` for at most ``seconds``: its result, or ``TimeoutError`` once the time is up.

    A cancellation of the caller always propagates. ``asyncio.wait_for`` before Python 3.12 returns
    the result instead, dropping the cancellation, when both arrive in the same loop iteration: a
    sync cancelled just as its answer came kept running, and whoever waited for it waited for ever.
    ``unused(result)`` is called when the awaitable finished but the caller, cancelled, will not use
    the result (a slot taken, say, that must be given back).
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait((task,), timeout=seconds)
        if not done:  # the time is up: cancel it, and wait until it has ended
            task.cancel()
            await asyncio.wait((task,))
    except asyncio.CancelledError:
        task.cancel()  # a no-op if it has finished
        task.add_done_callback(lambda finished: _settle(finished, unused))
        raise
    if not done and (task.cancelled() or task.exception() is not None):
        raise TimeoutError
    return task.result()


def _settle(task: asyncio.Future[Any], unused: Callable[[Any], object] | None) -> None:
    """The outcome of a task nobody awaits any more: its error retrieved, or its result handed to ``unused``."""
    if task.cancelled() or task.exception() is not None:
        return
    if unused is not None:
        unused(task.result())
