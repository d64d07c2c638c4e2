"""Request bodies that can be sent more than once.

aiohttp rebuilds bytes, strings, forms without files (``FormData``, ``dict``,
``list``) for every request: :func:`needs_preparing` is false for them. The
rest is prepared once per call by :func:`prepare_body`, whose ``data`` every
try sends:

* a seekable binary file is re-read from its position at the call's start
  (positional, locked reads: hedged tries do not mix);
* an unseekable or text-mode file, or an async iterable, is read ahead into
  memory, up to ``limit`` bytes for the whole body; a longer one is sent once
  (a long seekable text file is re-read instead, chunked);
* a ``FormData`` (or ``dict``/``list``) with file or stream fields becomes one
  multipart body, its fields prepared so, names, filenames and content types
  kept; the caller's ``FormData`` is not modified;
* an aiohttp ``Payload`` is sent as given; once consumed, refused unless in memory.

Files stay the caller's. aiohttp 3.12-3.14 closes a file it is given (its
file payload's ``close()``, awaited when a request ends, closes the file in an
executor), so the same file cannot go out twice ("I/O operation on closed
file"); 3.12.2 would also size a reused file payload from the current
position. The payloads made here never close the file: after the call it is
open, positioned after what was read last; closing it is the caller's job. A
``Payload`` the caller built is aiohttp's to close, as without retries.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Mapping
from typing import Any

from aiohttp import FormData, StreamReader, hdrs, payload
from aiohttp.abc import AbstractStreamWriter
from aiohttp.multipart import MultipartWriter

__all__ = ["ReplayableBody", "needs_preparing", "prepare_body"]

_CHUNK = 2**16
_PLAIN = (bytes, bytearray, memoryview, str, type(None))

Check = Callable[[], "str | None"]


class ReplayableBody:
    """What to send as ``data`` on every try of one call (the same object each time), and whether it still can be."""

    __slots__ = ("_checks", "data", "limit")

    def __init__(self, data: Any, limit: int, checks: tuple[Check, ...] = ()) -> None:
        self.data = data
        self.limit = limit
        self._checks = checks

    @property
    def one_shot(self) -> bool:
        """Whether a part can be sent only once at a time (a long stream): such a body is never hedged."""
        return bool(self._checks)

    def why_not_resend(self) -> str | None:
        """A sentence saying why the body cannot be sent again, or ``None`` if it can."""
        return next((reason for check in self._checks if (reason := check()) is not None), None)


def needs_preparing(data: object) -> bool:
    """Whether ``data`` must go through :func:`prepare_body` to be sent on more than one try.

    False for what aiohttp builds anew for every request: ``None``, bytes-like
    objects, strings, forms (``FormData``, ``dict``, ``list``, ``tuple``,
    multidicts) without file or stream values. True for anything else.
    """
    if isinstance(data, _PLAIN):
        return False
    if isinstance(data, FormData):
        fields = _form_fields(data)
        return fields is None or any(_needs_preparing_value(value) for _, _, value in fields)
    if isinstance(data, (Mapping, list, tuple)):
        return any(_needs_preparing_value(value) for value in _form_values(data))
    return True


async def prepare_body(data: Any, limit: int) -> ReplayableBody:
    """Turn ``data`` into something every try can send, holding at most ``limit`` bytes in memory."""
    prep = _Preparation(limit)
    if isinstance(data, FormData) or (isinstance(data, (Mapping, list, tuple)) and needs_preparing(data)):
        form = data if isinstance(data, FormData) else FormData(data)  # what aiohttp would build
        prepared = await prep.form(form)
        if prepared is None:  # a form whose fields cannot be read: aiohttp sends it, as without retries
            return ReplayableBody(data, limit)
        return ReplayableBody(prepared, limit, tuple(prep.checks))
    if isinstance(data, io.IOBase):
        return ReplayableBody(await prep.file(data, {"disposition": None}), limit, tuple(prep.checks))
    if isinstance(data, payload.Payload):
        return ReplayableBody(data, limit, (_payload_check(data, "the request body"),))
    if isinstance(data, (AsyncIterable, StreamReader)):
        return ReplayableBody(await prep.stream(data, "the request body"), limit, tuple(prep.checks))
    return ReplayableBody(data, limit)


def _form_fields(form: FormData) -> list[tuple[Any, dict[str, str], Any]] | None:
    """``form``'s fields, (type options, headers, value) as in aiohttp 3.12 to 3.14; ``None`` if kept otherwise."""
    fields = getattr(form, "_fields", None)
    if not isinstance(fields, list) or not all(isinstance(f, tuple) and len(f) == 3 for f in fields):  # noqa: PLR2004
        return None
    return fields


def _form_values(data: Mapping[Any, Any] | list[Any] | tuple[Any, ...]) -> list[Any]:
    """The values of a ``dict``/``list``/``tuple`` body, as ``FormData(data)`` would take them."""
    if isinstance(data, Mapping):
        return list(data.values())
    values: list[Any] = []
    for item in data:
        if isinstance(item, Mapping):
            values.extend(item.values())
        elif isinstance(item, (list, tuple)) and len(item) == 2:  # noqa: PLR2004 - a (name, value) pair
            values.append(item[1])
        else:
            values.append(item)
    return values


def _needs_preparing_value(value: object) -> bool:
    """Whether a form value is a file, a stream or a payload that may not survive a send."""
    if isinstance(value, payload.Payload):
        return not _in_memory(value)
    return isinstance(value, (io.IOBase, AsyncIterable, StreamReader))


def _in_memory(body: payload.Payload) -> bool:
    """Whether aiohttp can write ``body`` again after sending and closing it."""
    if isinstance(body, (payload.BytesPayload, payload.BytesIOPayload)):
        return True
    if isinstance(body, MultipartWriter):
        return all(_in_memory(part) for part, _, _ in body)
    return False


def _payload_check(body: payload.Payload, what: str) -> Check:
    """Refuse a resend once aiohttp reports a caller's payload consumed (it closes file payloads once sent)."""

    def check() -> str | None:
        if _in_memory(body) or not body.consumed:
            return None
        return (
            f"{what} is an aiohttp {type(body).__name__} that the previous try consumed "
            "(aiohttp closes a file payload once it is sent); pass the file object itself, "
            "or bytes, to allow retries"
        )

    return check


class _Preparation:
    """The state of one :func:`prepare_body` call: the memory budget, the checks, a lock per file."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit
        self.checks: list[Check] = []
        self._locks: dict[int, threading.Lock] = {}

    async def form(self, form: FormData) -> MultipartWriter | FormData | None:
        """A multipart body equal to ``form``'s, each file or stream field prepared; ``None`` if unreadable."""
        fields = _form_fields(form)
        if fields is None or not getattr(form, "_is_multipart", False):  # a urlencoded form has no files
            return None
        if not any(_needs_preparing_value(value) for _, _, value in fields):
            return form
        charset: str | None = getattr(form, "_charset", None)
        copy = FormData(quote_fields=getattr(form, "_quote_fields", True), charset=charset, default_to_multipart=True)
        for type_options, headers, value in fields:
            prepared = value
            if isinstance(value, payload.Payload):
                self.checks.append(_payload_check(value, f"the form field {type_options.get('name')!r}"))
            elif _needs_preparing_value(value):
                # The arguments FormData gives get_payload for a field, so headers match an unprepared send.
                kwargs: dict[str, Any] = {"headers": headers, "encoding": charset}
                if hdrs.CONTENT_TYPE in headers:
                    kwargs["content_type"] = headers[hdrs.CONTENT_TYPE]
                if isinstance(value, io.IOBase):
                    prepared = await self.file(value, kwargs)
                else:
                    prepared = await self.stream(value, f"the form field {type_options.get('name')!r}", headers)
            copy._fields.append((type_options, headers, prepared))  # FormData's field triples: see _form_fields
        writer = copy()
        if not isinstance(writer, MultipartWriter):  # pragma: no cover - a form with files is multipart
            return None
        replayable = _ReplayableMultipart("form-data", boundary=writer.boundary)
        for part, _, _ in writer:
            replayable.append_payload(part)
        return replayable

    async def file(self, file: io.IOBase, kwargs: dict[str, Any]) -> payload.Payload:
        """A payload sending ``file`` from its current position on every try; ``kwargs`` go to aiohttp's payload."""
        # aiohttp's own payload for the file gives the headers (content type from the file name,
        # a text file's encoding); it is never sent, so it never closes the file.
        model = payload.get_payload(file, **kwargs)
        if isinstance(model, payload.BytesPayload):  # a StringIO: aiohttp read it into memory already
            return model
        start = _position(file)
        text = isinstance(file, io.TextIOBase)
        lock = self._locks.setdefault(id(file), threading.Lock())
        if start is not None and not text:
            end = file.seek(0, io.SEEK_END)
            file.seek(start)
            body = _RewindingFile(file, start, max(end - start, 0), model, lock)
            self.checks.append(body.why_not)
            return body
        chunks = _file_chunks(file, model.encoding or "utf-8")
        head, rest = await self.read_ahead(chunks)
        if rest is None:
            return payload.BytesPayload(b"".join(head), content_type=model.content_type, headers=model.headers)
        if start is not None:  # a long text file: read again from the start, its byte size unknown
            await chunks.aclose()
            file.seek(start)
            body = _RewindingFile(file, start, None, model, lock)
            self.checks.append(body.why_not)
            return body
        reason = (
            f"the request body is an unseekable file (a pipe or socket) longer than replay_buffer "
            f"({self.limit} bytes) and the previous try consumed it; pass bytes or a seekable file, "
            "or raise replay_buffer, to allow retries"
        )
        return self.one_shot(head, rest, reason, {"content_type": model.content_type, "headers": model.headers})

    async def stream(self, value: Any, what: str, headers: dict[str, str] | None = None) -> Any:
        """An async iterable read ahead (bytes for a body, a payload for a form field), or a one-shot payload."""
        chunks = value.iter_any() if isinstance(value, StreamReader) else value
        head, rest = await self.read_ahead(aiter(chunks))
        if rest is None:
            return b"".join(head) if headers is None else payload.BytesPayload(b"".join(head), headers=headers)
        reason = (
            f"{what} is a one-shot stream longer than replay_buffer ({self.limit} bytes) and the previous "
            "try consumed it; pass bytes, or raise replay_buffer, to allow retries"
        )
        return self.one_shot(head, rest, reason, {} if headers is None else {"headers": headers})

    async def read_ahead(self, chunks: AsyncIterator[bytes]) -> tuple[list[bytes], AsyncIterator[bytes] | None]:
        """Read ``chunks`` while the budget lasts: (all of it, ``None``), or (what was read, the rest)."""
        head: list[bytes] = []
        size = 0
        while size <= self.left:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                self.left -= size
                return head, None
            head.append(chunk)
            size += len(chunk)
        self.left = 0
        return head, chunks

    def one_shot(
        self, head: list[bytes], rest: AsyncIterator[bytes], reason: str, kwargs: dict[str, Any]
    ) -> payload.Payload:
        """A stream that can be sent once; from its first read on, a resend is refused with ``reason``."""
        started = False

        async def chain() -> AsyncIterator[bytes]:
            nonlocal started
            started = True
            for chunk in head:
                yield chunk
            async for chunk in rest:
                yield chunk

        self.checks.append(lambda: reason if started else None)
        return payload.AsyncIterablePayload(chain(), **kwargs)


def _position(file: io.IOBase) -> int | None:
    """The position of a seekable ``file``, or ``None`` if it cannot be rewound."""
    try:
        if not file.seekable():
            return None
        return file.tell()
    except (OSError, ValueError):
        return None


async def _file_chunks(file: io.IOBase, encoding: str) -> AsyncGenerator[bytes, None]:
    """The rest of ``file``, read in an executor (unless in memory), text encoded with ``encoding``."""
    loop = asyncio.get_running_loop()
    read: Callable[[int], Any] = file.read
    while True:
        chunk = read(_CHUNK) if _is_in_memory_file(file) else await loop.run_in_executor(None, read, _CHUNK)
        if not chunk:
            return
        yield chunk.encode(encoding) if isinstance(chunk, str) else bytes(chunk)


def _is_in_memory_file(file: object) -> bool:
    return isinstance(file, (io.BytesIO, io.StringIO))


class _RewindingFile(payload.Payload):
    """A seekable file sent from the same start position on every try; it never closes the file.

    Every read seeks to where this send is, under a lock shared by all
    payloads of the file, so concurrent sends each get the whole body.
    """

    def __init__(
        self, file: io.IOBase, start: int, size: int | None, model: payload.Payload, lock: threading.Lock
    ) -> None:
        super().__init__(file, headers=model.headers, content_type=model.content_type, encoding=model.encoding)
        self._file = file
        self._start = start
        self._byte_size = size
        self._lock = lock
        self._text_encoding = model.encoding or "utf-8"

    @property
    def size(self) -> int | None:
        """Bytes sent: from the start position to the end of the file (``None`` for a text file)."""
        return self._byte_size

    @property
    def consumed(self) -> bool:
        """Whether the file can no longer be read: the caller closed it."""
        return bool(self._file.closed)

    @property
    def autoclose(self) -> bool:
        """Nothing to close here: the file is the caller's."""
        return True

    def why_not(self) -> str | None:
        if not self._file.closed:
            return None
        return "the request body is a file that was closed after the previous try; keep it open until the call ends"

    def _read_at(self, position: Any, size: int) -> tuple[bytes, Any]:
        """Read up to ``size`` bytes (characters for text) at ``position``; the chunk and the position after it."""
        with self._lock:
            self._file.seek(position)
            chunk = self._file.read(size)
            after = self._file.tell()
        if isinstance(chunk, str):
            chunk = chunk.encode(self._text_encoding)
        return bytes(chunk), after

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        """Write the file from its start position; never more than its size, nor than ``content_length``."""
        loop = asyncio.get_running_loop()
        left = self._byte_size
        if content_length is not None:
            left = content_length if left is None else min(left, content_length)
        position: Any = self._start
        while left is None or left > 0:
            want = _CHUNK if left is None else min(_CHUNK, left)
            if _is_in_memory_file(self._file):
                chunk, position = self._read_at(position, want)
            else:
                chunk, position = await loop.run_in_executor(None, self._read_at, position, want)
            if not chunk:
                return
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            await writer.write(chunk)

    def _read_all(self) -> bytes:
        chunks: list[bytes] = []
        chunk, position = self._read_at(self._start, _CHUNK)
        while chunk:
            chunks.append(chunk)
            chunk, position = self._read_at(position, _CHUNK)
        return b"".join(chunks)[: self._byte_size]

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:  # blocking, as aiohttp's
        return self._read_all().decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:  # noqa: ARG002
        return await asyncio.get_running_loop().run_in_executor(None, self._read_all)

    async def close(self) -> None:
        """Nothing to do: the file stays open for the next try and for the caller (so does ``_close``)."""

    def _close(self) -> None:
        pass


class _ReplayableMultipart(MultipartWriter):
    """A multipart form written again on every try; closing it closes only payloads the caller made."""

    @property
    def consumed(self) -> bool:
        return any(part.consumed for part, _, _ in self)

    async def close(self) -> None:
        for part, _, _ in self:
            if not part.autoclose and not part.consumed:
                await part.close()
