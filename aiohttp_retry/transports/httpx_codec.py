"""Everything the engine needs from httpx: statuses, headers, discarding responses, the kinds of its errors.

- :data:`HTTPX_CODEC` reads ``httpx.Response`` and tells the kind of an httpx error;
- :func:`origin_key` gives the key of shared state, the same as for aiohttp.
"""

from __future__ import annotations

import asyncio
import operator
import ssl

import httpx

from aiohttp_retry.aiohttp_codec import within
from aiohttp_retry.policy.stop import ErrorKind

__all__ = ["DRAIN_LIMIT", "HTTPX_CODEC", "HttpxCodec", "origin_key"]

#: Error bodies up to this size are read before the response is closed, so their connection is kept.
DRAIN_LIMIT = 64 * 1024


def _tls_failure(error: BaseException) -> bool:
    """Whether an ``ssl.SSLError`` is behind ``error`` (httpx wraps it in ``ConnectError``)."""
    seen = 0
    cause: BaseException | None = error
    while cause is not None and seen < 8:  # noqa: PLR2004 - httpx and httpcore wrap twice; a loop is impossible
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


class HttpxCodec:
    """The engine's view of ``httpx.Response`` and httpx's exceptions."""

    __slots__ = ()

    #: The status code (a C-level attribute getter: this runs on every call).
    status = operator.attrgetter("status_code")

    def header(self, response: httpx.Response, name: str) -> str | None:
        """A response header, case-insensitively."""
        value: str | None = response.headers.get(name)
        return value

    async def discard(self, response: httpx.Response, time_left: float | None) -> None:
        """Close a response the call will not return, reading a small body first so its connection is kept.

        httpx closes the connection of a response closed unread. A body of up to
        :data:`DRAIN_LIMIT` bytes (by its ``Content-Length``, or as it arrives when
        chunked) is read first, cut when the call's time runs out.
        """
        try:
            length = response.headers.get("Content-Length")
            small = length is None or (length.isdigit() and int(length) <= DRAIN_LIMIT)
            if small and (time_left is None or time_left > 0):  # (httpcore knows a HEAD answer has no body)
                read = _drain(response)
                await (read if time_left is None else within(read, time_left))
        except Exception:  # noqa: BLE001, S110 - a body that cannot be read is simply not reused
            pass
        finally:
            await response.aclose()

    def release(self, response: httpx.Response) -> None:
        """Close at once, without waiting (cancellation paths): the close runs as a task of its own."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - no loop left: nothing can be closed any more
            return
        task = loop.create_task(response.aclose())
        _CLOSING.add(task)  # kept until done, so that it is neither collected nor lost
        task.add_done_callback(_CLOSING.discard)

    def error_kind(self, error: Exception) -> ErrorKind:
        """The kind of failure an httpx exception is."""
        if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            # nothing was sent: no connection, or none free in the pool; unless TLS refused the peer
            return ErrorKind.TLS if _tls_failure(error) else ErrorKind.CONNECT
        if isinstance(error, (httpx.TimeoutException, TimeoutError)):
            return ErrorKind.TIMEOUT
        if isinstance(error, (httpx.NetworkError, httpx.RemoteProtocolError)):
            return ErrorKind.TLS if _tls_failure(error) else ErrorKind.TRANSPORT
        return ErrorKind.OTHER  # LocalProtocolError, UnsupportedProtocol, ProxyError, anything else

    def error_response(self, error: Exception) -> tuple[int, str | None] | None:
        """The status and ``Retry-After`` of an ``httpx.HTTPStatusError``."""
        if isinstance(error, httpx.HTTPStatusError):
            response = error.response
            return response.status_code, response.headers.get("Retry-After")
        return None


HTTPX_CODEC = HttpxCodec()

_CLOSING: set[asyncio.Task[None]] = set()


async def _drain(response: httpx.Response) -> None:
    """Read the body as it arrives, stopping past :data:`DRAIN_LIMIT` bytes (the close then drops the connection)."""
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > DRAIN_LIMIT:
            return


def origin_key(url: httpx.URL) -> str:
    """``host[:port]`` as the ``Host`` header spells it (default port dropped, IPv6 in brackets), as for aiohttp."""
    key = url.netloc.decode("ascii")
    if key[-1:] == "." or ".:" in key:  # a fully qualified name: the same origin as without its dot
        host, colon, port = key.rpartition(":") if key[-1:] != "." else (key, "", "")
        key = host.rstrip(".") + colon + port
    return key
