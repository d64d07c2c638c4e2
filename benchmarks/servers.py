"""Local HTTP servers for the benchmarks, each in its own process pinned to one core.

``local_server()`` starts nginx when its binary is on PATH (a throw-away
config in a temporary directory), else ``benchmarks/http_server.py``, and
always stops it. Not meant to be run directly: ``python -m benchmarks`` uses it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ default_type text/plain; return 200 "ok"; }}
    }}
}}
"""


@dataclass(frozen=True)
class Cores:
    """Which core the server gets and which the client (the same one on a one-core machine)."""

    server: int
    client: int


def pick_cores() -> Cores:
    """The first allowed core for the server, the second for the clients."""
    allowed = sorted(os.sched_getaffinity(0))
    return Cores(allowed[0], allowed[1] if len(allowed) > 1 else allowed[0])


def pinned(cmd: list[str], core: int) -> list[str]:
    """``cmd`` prefixed with ``taskset -c core`` when taskset exists (children inherit the pinning)."""
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(core), *cmd] if taskset else cmd


def pin_pid(pid: int, core: int) -> None:
    """Pin a running process to ``core``; a process that already exited is ignored."""
    with suppress(ProcessLookupError, PermissionError):
        os.sched_setaffinity(pid, {core})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerStartError(RuntimeError):
    """The server process did not come up."""


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Return once 127.0.0.1:port accepts connections; raise if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"the server process exited with code {proc.returncode} before listening on port {port}"
            raise ServerStartError(msg)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    msg = f"no server listening on 127.0.0.1:{port} after {timeout:.0f} s"
    raise ServerStartError(msg)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc`` (SIGTERM, then SIGKILL after 5 s) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def nginx_command(tmp: Path, port: int) -> list[str]:
    """Write the config into ``tmp`` and return the command that runs nginx on it."""
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=port))
    nginx = shutil.which("nginx") or "nginx"
    return [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]


def python_server_command(port: int, mode: str = "ok", seed: int = 1) -> list[str]:
    """The command that runs ``benchmarks/http_server.py``."""
    return [sys.executable, str(HERE / "http_server.py"), "--port", str(port), "--mode", mode, "--seed", str(seed)]


@dataclass(frozen=True)
class Server:
    """A running local server."""

    kind: str
    url: str
    pid: int


@contextmanager
def server_process(cmd: list[str], port: int, core: int, log: Path | None = None) -> Iterator[int]:
    """Run ``cmd`` pinned to ``core`` until the block ends; yield its pid once it listens on ``port``."""
    out = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(pinned(cmd, core), stdout=out, stderr=subprocess.STDOUT)
    try:
        pin_pid(proc.pid, core)
        wait_listening(port, proc)
        yield proc.pid
    finally:
        stop(proc)
        if log and not isinstance(out, int):
            out.close()


@contextmanager
def local_server(core: int, *, prefer_nginx: bool = True) -> Iterator[Server]:
    """The fastest local server available: nginx if installed, else the asyncio one."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="aiohttp-retry-bench-") as name:
        tmp = Path(name)
        use_nginx = prefer_nginx and shutil.which("nginx") is not None
        cmd = nginx_command(tmp, port) if use_nginx else python_server_command(port)
        kind = "nginx" if use_nginx else "python-asyncio"
        with ExitStack() as stack:
            try:
                pid = stack.enter_context(server_process(cmd, port, core, tmp / "server.log"))
            except ServerStartError as exc:
                logs = [
                    p.read_text(errors="replace")[-2000:] for p in (tmp / "server.log", tmp / "error.log") if p.exists()
                ]
                raise ServerStartError(f"{kind} server failed: {exc}\n" + "\n".join(logs)) from exc
            yield Server(kind, f"http://127.0.0.1:{port}/", pid)
