"""A minimal HTTP/1.1 keep-alive server on a raw ``asyncio.Protocol`` (uvloop when importable).

Used by the benchmark runner when nginx is missing, and by the soak test. It
reads requests without bodies (the benchmarks send GETs only), answers
pipelined requests in order, and in ``mix`` mode answers about 90 % with 200,
8 % with 503 and drops about 2 % of connections without answering.

Run: python benchmarks/http_server.py --port 8080 [--mode ok|mix] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
UNAVAILABLE = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\nbusy"
END_OF_HEAD = b"\r\n\r\n"


class Chooser:
    """Picks each answer: always 200 in ``ok`` mode, a weighted mix in ``mix`` mode."""

    def __init__(self, mode: str, seed: int, fail_503: float, drop: float) -> None:
        self.mixed = mode == "mix"
        self.rng = random.Random(seed)
        self.fail_503 = fail_503
        self.drop = drop
        self.counts = {"200": 0, "503": 0, "dropped": 0}

    def next(self) -> bytes | None:
        """The bytes to answer with, or ``None`` to drop the connection."""
        if not self.mixed:
            return OK
        roll = self.rng.random()
        if roll < self.drop:
            self.counts["dropped"] += 1
            return None
        if roll < self.drop + self.fail_503:
            self.counts["503"] += 1
            return UNAVAILABLE
        self.counts["200"] += 1
        return OK


class KeepAliveProtocol(asyncio.Protocol):
    """Answers each complete request head on the connection, in order."""

    def __init__(self, chooser: Chooser) -> None:
        self.chooser = chooser
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport is None:
            return
        buffer = self.buffer + data
        answers: list[bytes] = []
        end = buffer.find(END_OF_HEAD)
        while end >= 0:
            buffer = buffer[end + 4 :]
            answer = self.chooser.next()
            if answer is None:
                if answers:
                    transport.write(b"".join(answers))
                transport.close()
                self.transport = None
                return
            answers.append(answer)
            end = buffer.find(END_OF_HEAD)
        self.buffer = buffer
        if answers:
            transport.write(answers[0] if len(answers) == 1 else b"".join(answers))

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002 - asyncio's signature
        self.transport = None


async def serve(port: int, chooser: Chooser) -> None:
    """Serve on 127.0.0.1:port until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    server = await loop.create_server(lambda: KeepAliveProtocol(chooser), "127.0.0.1", port, backlog=1024)
    async with server:
        await stop
    if chooser.mixed:
        print("server answered: " + ", ".join(f"{k}: {v:,}" for k, v in chooser.counts.items()), flush=True)


def run(port: int, mode: str = "ok", seed: int = 1, fail_503: float = 0.08, drop: float = 0.02) -> None:
    """Run the server in this process, on uvloop when it is importable."""
    chooser = Chooser(mode, seed, fail_503, drop)
    try:
        import uvloop  # noqa: PLC0415 - optional
    except ImportError:
        asyncio.run(serve(port, chooser))
    else:
        uvloop.run(serve(port, chooser))


def main() -> None:
    parser = argparse.ArgumentParser(description="minimal keep-alive HTTP server for the benchmarks")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("ok", "mix"), default="ok")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fail-503", type=float, default=0.08, help="share of 503 answers in mix mode")
    parser.add_argument("--drop", type=float, default=0.02, help="share of dropped connections in mix mode")
    args = parser.parse_args()
    run(args.port, args.mode, args.seed, args.fail_503, args.drop)


if __name__ == "__main__":
    main()
