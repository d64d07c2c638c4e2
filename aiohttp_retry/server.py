"""Deadline propagation on the server side: an ``aiohttp.web`` middleware.

    app = web.Application(middlewares=[deadline_middleware])

A request that arrives with ``X-Request-Timeout: 0.5`` has half a second to
be answered. While its handler runs, every ``RetryClient`` or
``RetryMiddleware`` call it makes inherits that deadline: no try or wait of
theirs runs past it, and with ``propagate_timeout=True`` they pass the time
left on downstream.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler

from aiohttp_retry.engine.inbound import inbound_deadline, set_inbound_deadline
from aiohttp_retry.policy.deadline import TIMEOUT_HEADER, parse_timeout_header

__all__ = ["current_deadline", "deadline_middleware"]


@web.middleware
async def deadline_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Make the request's ``X-Request-Timeout`` the deadline of the calls its handler makes."""
    seconds = parse_timeout_header(request.headers.get(TIMEOUT_HEADER))
    if seconds is None:
        return await handler(request)
    expires = asyncio.get_running_loop().time() + seconds
    outer = inbound_deadline.get()
    token = set_inbound_deadline(expires if outer is None else min(expires, outer))
    try:
        return await handler(request)
    finally:
        inbound_deadline.reset(token)


def current_deadline() -> float | None:
    """Seconds left for the request being served, or ``None`` when it set no deadline."""
    expires = inbound_deadline.get()
    return None if expires is None else max(expires - asyncio.get_running_loop().time(), 0.0)
