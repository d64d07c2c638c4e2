"""Request bodies that can be sent more than once.

Bytes, strings, forms and JSON are rebuilt by aiohttp for every try. Files
and async iterables are one-shot: a second try would read them at their end
and send nothing. Files become one payload object for the whole call (aiohttp
rewinds it before each try); async iterables are read ahead, up to a limit,
into bytes, and a longer one is sent once and then reported as not resendable.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from aiohttp import payload

__all__ = ["ReplayableBody", "prepare_body"]


class ReplayableBody:
    """What to send as ``data`` on every try, and whether it can still be sent."""

    __slots__ = ("_payload", "data", "limit")

    def __init__(self, data: Any, limit: int, one_shot: payload.Payload | None = None) -> None:
        self.data = data
        self.limit = limit
        self._payload = one_shot

    def why_not_resend(self) -> str | None:
        """A sentence saying why the body cannot be sent again, or ``None`` if it can."""
        if self._payload is None or not self._payload.consumed:
            return None
        return (
            f"the request body is a one-shot stream longer than replay_buffer ({self.limit} bytes) "
            "and the previous try consumed it; pass bytes, or raise replay_buffer, to allow retries"
        )


async def _chain(head: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in head:
        yield chunk
    async for chunk in rest:
        yield chunk


async def prepare_body(data: Any, limit: int) -> ReplayableBody:
    """Turn ``data`` into something every try can send, reading at most ``limit`` bytes ahead."""
    if isinstance(data, io.IOBase):
        file_payload = payload.get_payload(data)
        return ReplayableBody(file_payload, limit, file_payload)
    if isinstance(data, payload.Payload):
        return ReplayableBody(data, limit, data)
    if not isinstance(data, AsyncIterable):
        return ReplayableBody(data, limit)
    chunks: list[bytes] = []
    size = 0
    iterator = aiter(data)
    while size <= limit:
        try:
            chunk = await anext(iterator)
        except StopAsyncIteration:
            return ReplayableBody(b"".join(chunks), limit)
        chunks.append(chunk)
        size += len(chunk)
    stream = payload.AsyncIterablePayload(_chain(chunks, iterator))
    return ReplayableBody(stream, limit, stream)
