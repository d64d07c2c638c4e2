"""The deadline of the request being served, inherited by the calls its handler makes."""

from __future__ import annotations

from contextvars import ContextVar, Token

__all__ = ["inbound_deadline", "set_inbound_deadline"]

#: The event-loop clock reading by which the request being served must be answered.
#: Set by :func:`aiohttp_retry.server.deadline_middleware`; calls made meanwhile inherit it.
inbound_deadline: ContextVar[float | None] = ContextVar("aiohttp_retry_inbound_deadline", default=None)


class _Used:
    """Whether any inbound deadline was ever set in this process: until then the fast path skips the lookup."""

    flag = False


def set_inbound_deadline(expires: float) -> Token[float | None]:
    """Set :data:`inbound_deadline` for the current context; reset it with the token returned."""
    _Used.flag = True
    return inbound_deadline.set(expires)
