"""Shared pieces of the scenario scripts: a free port, and a server process that is always stopped."""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_listening(port: int) -> None:
    """Return once 127.0.0.1:port accepts connections (exit after about 10 s)."""
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return
    sys.exit(f"the scenario server on port {port} did not start")


@contextmanager
def server_process(script: str, port: int, seed: int) -> Iterator[None]:
    """Run ``script --serve PORT --seed SEED`` in another process for the duration of the block."""
    server = subprocess.Popen([sys.executable, script, "--serve", str(port), "--seed", str(seed)])
    try:
        yield
    finally:
        server.terminate()
        server.wait()


def serve_or_run(
    script: str,
    args: argparse.Namespace,
    serve: Callable[[int, int], None],
    run: Callable[[int], Coroutine[Any, Any, None]],
) -> None:
    """In the ``--serve PORT`` child, serve; otherwise start that child and run the scenario against it."""
    if args.serve:
        serve(args.serve, args.seed)
        return
    port = free_port()
    with server_process(script, port, args.seed):
        asyncio.run(run(port))
