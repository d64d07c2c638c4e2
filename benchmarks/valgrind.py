"""Instructions per request under valgrind's cachegrind, start-up cancelled out.

Each contender's worker runs twice under ``valgrind --tool=cachegrind
--cache-sim=no``, sending N1 and then N2 requests at concurrency 1 to a server
running outside valgrind; instructions per request = (I2 - I1) / (N2 - N1).
Used by ``python -m benchmarks`` (``--skip-valgrind`` leaves it out).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.servers import pinned

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
VALGRIND = ["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]


def valgrind_binary() -> str | None:
    """The valgrind executable, or ``None`` when it is not installed."""
    return shutil.which("valgrind")


def instructions(python: str, contender: str, url: str, count: int, core: int, env: Mapping[str, str]) -> int:
    """Total instructions of one worker process that sends ``count`` requests after a short warm-up."""
    valgrind = valgrind_binary() or "valgrind"
    worker = [python, str(WORKER), "--contender", contender, "--url", url, "--count", str(count), "--warmup", "50"]
    cmd = pinned([valgrind, *VALGRIND, *worker], core)
    timeout = 120 + count * 0.1
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=HERE, env=dict(env))
    found = I_REFS.search(done.stderr)
    if done.returncode != 0 or not found:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        msg = f"valgrind run of {contender} ({count} requests) failed with exit {done.returncode}:\n{tail}"
        raise RuntimeError(msg)
    return int(found.group(1).replace(",", ""))


def count_contender(
    python: str, contender: str, url: str, lengths: tuple[int, int], core: int, env: Mapping[str, str]
) -> dict[str, Any]:
    """Both runs of one contender and the instructions per request they imply."""
    n1, n2 = lengths
    started = time.perf_counter()
    i1 = instructions(python, contender, url, n1, core, env)
    i2 = instructions(python, contender, url, n2, core, env)
    return {
        "n1": n1,
        "n2": n2,
        "i1": i1,
        "i2": i2,
        "per_request": (i2 - i1) / (n2 - n1),
        "seconds": time.perf_counter() - started,
    }


def count_all(
    pythons: Mapping[str, str], url: str, lengths: tuple[int, int], core: int, env: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Instructions per request of every contender; a failure is recorded and the others still run."""
    counts: dict[str, dict[str, Any]] = {}
    for contender, python in pythons.items():
        print(f"  valgrind: {contender} ({lengths[0]} and {lengths[1]} requests) ...", file=sys.stderr, flush=True)
        try:
            counts[contender] = count_contender(python, contender, url, lengths, core, env)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"  valgrind: {contender} FAILED: {exc}", file=sys.stderr)
            counts[contender] = {"error": str(exc)}
        else:
            entry = counts[contender]
            print(f"    {entry['per_request']:,.0f} instr/request, {entry['seconds']:.0f} s", file=sys.stderr)
    return counts
