"""Request bodies prepared once and sent on every try, checked against a real server through a plain session."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from aiohttp import ClientSession, FormData, payload
from multidict import MultiDict

from aiohttp_retry.body import needs_preparing, prepare_body
from tests.fault_server import FaultServer, Hit

CONTENT = b"hello world"


async def send(fault: FaultServer, path: str, data: Any, times: int) -> list[Hit]:
    """POST ``data`` ``times`` times, one after the other, through one session; the hits at ``path``."""
    async with ClientSession() as session:
        for _ in range(times):
            async with session.post(fault.url(path), data=data) as response:
                assert response.status == 200
                await response.read()
    return fault.hits_of(path)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def pipe_with(content: bytes) -> BinaryIO:
    """An unseekable file that reads ``content`` (at most a pipe buffer, 64 KiB) and then ends."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write(content)
    return os.fdopen(read_end, "rb")


def form_parts(hit: Hit) -> dict[str, tuple[str | None, str, bytes]]:
    """The parts of a multipart/form-data hit: name -> (filename, content type, content)."""
    head = f"Content-Type: {hit.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + hit.body)
    assert message.is_multipart()
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        parts[str(name)] = (part.get_filename(), part.get_content_type(), content)
    return parts


async def chunks_of(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(None, False, id="None"),
        pytest.param(b"x", False, id="bytes"),
        pytest.param(bytearray(b"x"), False, id="bytearray"),
        pytest.param(memoryview(b"x"), False, id="memoryview"),
        pytest.param("x", False, id="str"),
        pytest.param({"a": "1"}, False, id="dict"),
        pytest.param([("a", "1")], False, id="list"),
        pytest.param((("a", "1"),), False, id="tuple"),
        pytest.param(MultiDict({"a": "1"}), False, id="MultiDict"),
        pytest.param(FormData({"a": "1"}), False, id="FormData"),
        pytest.param(io.BytesIO(b"x"), True, id="BytesIO"),
        pytest.param(io.StringIO("x"), True, id="StringIO"),
        pytest.param(payload.BytesPayload(b"x"), True, id="Payload"),
        pytest.param(chunks_of(b"x"), True, id="async-iterable"),
        pytest.param({"f": io.BytesIO(b"x")}, True, id="dict-with-file"),
        pytest.param([("f", io.BytesIO(b"x"))], True, id="list-with-file"),
        pytest.param([io.BytesIO(b"x")], True, id="list-of-files"),
        pytest.param(FormData({"f": io.BytesIO(b"x")}), True, id="FormData-with-file"),
        pytest.param(object(), True, id="other"),
    ],
)
def test_needs_preparing_table(data: object, expected: bool) -> None:
    """Only bodies aiohttp rebuilds for every request by itself are left unprepared."""
    assert needs_preparing(data) is expected


def test_needs_preparing_form_fields() -> None:
    """A FormData needs preparing exactly when one of its fields is a file, a stream or a one-shot payload."""
    plain = FormData()
    plain.add_field("a", "1")
    plain.add_field("b", b"bytes", filename="b.bin", content_type="application/x-b")
    plain.add_field("c", payload.BytesPayload(b"c"))
    assert not needs_preparing(plain)
    with_stream = FormData()
    with_stream.add_field("s", chunks_of(b"x"), filename="s.bin")
    assert needs_preparing(with_stream)


async def test_forms_without_files_are_resent_by_aiohttp(fault: FaultServer) -> None:
    """aiohttp itself sends a FormData without file fields whole on every request (why it needs no preparing)."""
    urlencoded = FormData({"a": "1", "b": "2"})
    multipart = FormData()
    multipart.add_field("b", b"bytes", filename="b.bin")
    hits = await send(fault, "/urlencoded", urlencoded, 2)
    assert [h.body for h in hits] == [b"a=1&b=2"] * 2
    hits = await send(fault, "/multipart", multipart, 2)
    assert [form_parts(h)["b"] for h in hits] == [("b.bin", "application/octet-stream", b"bytes")] * 2


async def test_aiohttp_alone_closes_the_file_it_sends(fault: FaultServer, tmp_path: Path) -> None:
    """The premise: given a file, aiohttp closes it once sent, so the same file cannot go out twice."""
    with write(tmp_path, "a.txt", CONTENT).open("rb") as file:
        await send(fault, "/plain", file, 1)
        await asyncio.sleep(0.05)  # aiohttp closes the file in an executor
        assert file.closed


async def test_file_is_sent_whole_on_every_try(fault: FaultServer, tmp_path: Path) -> None:
    """A file opened by the caller is sent whole three times, with aiohttp's headers, and stays open."""
    with write(tmp_path, "a.txt", CONTENT).open("rb") as file:
        body = await prepare_body(file, 1024)
        assert body.why_not_resend() is None
        hits = await send(fault, "/file", body.data, 3)
        assert [h.body for h in hits] == [CONTENT] * 3
        assert {(h.headers["Content-Type"], h.headers["Content-Length"]) for h in hits} == {("text/plain", "11")}
        assert body.why_not_resend() is None
        await asyncio.sleep(0.05)
        assert not file.closed
        file.seek(0)
        assert file.read() == CONTENT


async def test_large_seekable_file_is_rewound_not_buffered(fault: FaultServer, tmp_path: Path) -> None:
    """A seekable file far larger than the limit is re-read for every try, not held in memory."""
    content = bytes(range(256)) * 1200  # 300 KiB: several read chunks
    with write(tmp_path, "big.bin", content).open("rb") as file:
        body = await prepare_body(file, 10)
        assert not isinstance(body.data, (bytes, payload.BytesPayload))
        hits = await send(fault, "/big", body.data, 3)
        assert [h.body == content for h in hits] == [True] * 3
        assert body.why_not_resend() is None
        assert not file.closed


async def test_file_is_sent_from_its_position_at_the_call(fault: FaultServer, tmp_path: Path) -> None:
    """A file already read partly is sent from where it was when the call began, on every try."""
    with write(tmp_path, "a.bin", CONTENT).open("rb") as file:
        file.read(6)
        body = await prepare_body(file, 1024)
        hits = await send(fault, "/rest", body.data, 2)
        assert [h.body for h in hits] == [b"world"] * 2
        assert hits[0].headers["Content-Length"] == "5"


async def test_overlapping_sends_each_get_the_whole_file(fault: FaultServer, tmp_path: Path) -> None:
    """Concurrent (hedged) tries of one rewound file do not mix their chunks."""
    content = os.urandom(400_000)
    with write(tmp_path, "big.bin", content).open("rb") as file:
        body = await prepare_body(file, 0)
        async with ClientSession() as session:

            async def post() -> None:
                async with session.post(fault.url("/hedge"), data=body.data) as response:
                    await response.read()

            await asyncio.gather(*(post() for _ in range(4)))
    assert [h.body == content for h in fault.hits_of("/hedge")] == [True] * 4


async def test_bytesio_is_sent_whole_on_every_try(fault: FaultServer) -> None:
    """An in-memory binary file is rewound for every try too."""
    buffer = io.BytesIO(CONTENT)
    body = await prepare_body(buffer, 0)
    hits = await send(fault, "/bytesio", body.data, 3)
    assert [h.body for h in hits] == [CONTENT] * 3
    assert not buffer.closed


async def test_small_text_file_is_read_ahead_encoded(fault: FaultServer, tmp_path: Path) -> None:
    """A small text-mode file is read ahead into bytes, encoded as aiohttp would (utf-8), with its length."""
    text = "héllo wörld\n"
    write(tmp_path, "t.txt", text.encode())
    with (tmp_path / "t.txt").open(encoding="utf-8") as file:
        body = await prepare_body(file, 1024)
        hits = await send(fault, "/text", body.data, 2)
        assert [h.body for h in hits] == [text.encode()] * 2
        assert hits[0].headers["Content-Type"] == "text/plain; charset=utf-8"
        assert hits[0].headers["Content-Length"] == str(len(text.encode()))
        assert not file.closed


async def test_large_text_file_is_rewound(fault: FaultServer, tmp_path: Path) -> None:
    """A text-mode file longer than the limit is re-read from its start for every try, chunked."""
    text = "ünïcode line\n" * 10_000
    write(tmp_path, "t.txt", text.encode())
    with (tmp_path / "t.txt").open(encoding="utf-8") as file:
        body = await prepare_body(file, 100)
        hits = await send(fault, "/text", body.data, 2)
        assert [h.body == text.encode() for h in hits] == [True] * 2
        assert body.why_not_resend() is None


async def test_small_unseekable_file_is_read_ahead(fault: FaultServer) -> None:
    """A pipe no longer than the limit is read ahead once and sent whole on every try."""
    with pipe_with(CONTENT) as pipe:
        body = await prepare_body(pipe, len(CONTENT))
        hits = await send(fault, "/pipe", body.data, 3)
        assert [h.body for h in hits] == [CONTENT] * 3
        assert body.why_not_resend() is None
        assert not pipe.closed


async def test_large_unseekable_file_is_sent_once_then_refused(fault: FaultServer) -> None:
    """A pipe longer than the limit goes out whole once; then the resend is refused, saying why."""
    content = b"z" * 1000
    with pipe_with(content) as pipe:
        body = await prepare_body(pipe, 100)
        assert body.why_not_resend() is None
        hits = await send(fault, "/pipe", body.data, 1)
        assert [h.body for h in hits] == [content]
        reason = body.why_not_resend()
        assert reason is not None
        assert "unseekable file" in reason
        assert "replay_buffer (100 bytes)" in reason
        assert not pipe.closed


async def test_small_stream_is_read_ahead(fault: FaultServer) -> None:
    """An async iterable within the limit becomes bytes, sent whole on every try."""
    body = await prepare_body(chunks_of(b"ab", b"cd", b"ef"), 6)
    assert body.data == b"abcdef"
    hits = await send(fault, "/stream", body.data, 2)
    assert [h.body for h in hits] == [b"abcdef"] * 2
    assert body.why_not_resend() is None


async def test_large_stream_is_sent_once_then_refused(fault: FaultServer) -> None:
    """A stream longer than the limit goes out whole once; then why_not_resend names replay_buffer."""
    body = await prepare_body(chunks_of(*[b"x" * 100] * 10), 250)
    assert body.why_not_resend() is None
    hits = await send(fault, "/stream", body.data, 1)
    assert [len(h.body) for h in hits] == [1000]
    reason = body.why_not_resend()
    assert reason is not None
    assert "one-shot stream longer than replay_buffer (250 bytes)" in reason


async def test_closed_file_is_refused_without_blaming_the_limit(fault: FaultServer, tmp_path: Path) -> None:
    """A file the caller closes between tries is refused with that reason, not replay_buffer."""
    file = write(tmp_path, "a.bin", CONTENT).open("rb")
    body = await prepare_body(file, 1024)
    await send(fault, "/closed", body.data, 1)
    assert body.why_not_resend() is None
    file.close()
    reason = body.why_not_resend()
    assert reason is not None
    assert "closed" in reason
    assert "replay_buffer" not in reason


async def test_consumed_file_payload_is_refused_without_blaming_the_limit(fault: FaultServer, tmp_path: Path) -> None:
    """A file payload the caller built is aiohttp's to close; once it is, the resend is refused, saying so."""
    file = write(tmp_path, "a.bin", CONTENT).open("rb")
    body = await prepare_body(payload.get_payload(file), 1024)
    assert body.why_not_resend() is None
    await send(fault, "/payload", body.data, 1)
    reason = body.why_not_resend()
    assert reason is not None
    assert "BufferedReaderPayload" in reason
    assert "replay_buffer" not in reason
    await asyncio.sleep(0.05)
    assert file.closed


async def test_bytes_payload_is_resent(fault: FaultServer) -> None:
    """An in-memory payload the caller built is sent as given on every try."""
    body = await prepare_body(payload.BytesPayload(CONTENT), 0)
    hits = await send(fault, "/payload", body.data, 2)
    assert [h.body for h in hits] == [CONTENT] * 2
    assert body.why_not_resend() is None


async def test_form_with_file_is_sent_whole_on_every_try(fault: FaultServer, tmp_path: Path) -> None:
    """A FormData with a file field goes out three times with the whole file, its filename and content type."""
    with write(tmp_path, "a.txt", CONTENT).open("rb") as file:
        form = FormData()
        form.add_field("f", file, filename="a.txt")
        form.add_field("note", "hi")
        body = await prepare_body(form, 0)  # a seekable file does not count against the limit
        hits = await send(fault, "/form", body.data, 3)
        for hit in hits:
            assert hit.headers["Content-Type"].startswith("multipart/form-data; boundary=")
            assert form_parts(hit) == {
                "f": ("a.txt", "text/plain", CONTENT),
                "note": (None, "text/plain", b"hi"),
            }
        assert len({h.body for h in hits}) == 1
        assert body.why_not_resend() is None
        assert not file.closed
        assert len(form._fields) == 2  # the caller's form is untouched


async def test_form_file_keeps_given_filename_and_content_type(fault: FaultServer, tmp_path: Path) -> None:
    """A file field sent on a retry keeps the filename and content type given to add_field."""
    with write(tmp_path, "a.txt", CONTENT).open("rb") as file:
        form = FormData()
        form.add_field("upload", file, filename="report.csv", content_type="application/x-report")
        body = await prepare_body(form, 0)
        hits = await send(fault, "/form", body.data, 2)
        assert [form_parts(h) for h in hits] == [{"upload": ("report.csv", "application/x-report", CONTENT)}] * 2


async def test_dict_with_file_is_sent_as_a_form_on_every_try(fault: FaultServer, tmp_path: Path) -> None:
    """A dict with a file value becomes the multipart form aiohttp would send, on every try."""
    with write(tmp_path, "a.txt", CONTENT).open("rb") as file:
        body = await prepare_body({"f": file, "x": "1"}, 0)
        hits = await send(fault, "/dict", body.data, 2)
        assert [form_parts(h) for h in hits] == [
            {"f": ("a.txt", "text/plain", CONTENT), "x": (None, "text/plain", b"1")}
        ] * 2
        assert not file.closed


async def test_form_with_unseekable_and_stream_fields_within_the_limit(fault: FaultServer) -> None:
    """Pipe and async-iterable fields within the limit are read ahead and sent whole on every try."""
    with pipe_with(CONTENT) as pipe:
        form = FormData()
        form.add_field("p", pipe, filename="p.bin")
        form.add_field("s", chunks_of(b"ab", b"cd"), filename="s.bin")
        body = await prepare_body(form, len(CONTENT) + 4)
        hits = await send(fault, "/form", body.data, 2)
        expected = {
            "p": ("p.bin", "application/octet-stream", CONTENT),
            "s": ("s.bin", "application/octet-stream", b"abcd"),
        }
        assert [form_parts(h) for h in hits] == [expected] * 2
        assert body.why_not_resend() is None


async def test_form_with_large_unseekable_field_is_sent_once_then_refused(fault: FaultServer) -> None:
    """A form whose pipe field exceeds the limit goes out whole once; then the resend is refused, saying why."""
    content = b"q" * 1000
    with pipe_with(content) as pipe:
        form = FormData()
        form.add_field("p", pipe, filename="p.bin")
        body = await prepare_body(form, 100)
        hits = await send(fault, "/form", body.data, 1)
        assert form_parts(hits[0])["p"] == ("p.bin", "application/octet-stream", content)
        reason = body.why_not_resend()
        assert reason is not None
        assert "unseekable file" in reason
