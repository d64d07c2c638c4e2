"""The venv that holds aiohttp-retry 2.9.1 (the ``upstream`` contender), created on first use.

It lives in ``benchmarks/.venv-upstream`` (git-ignored) and gets the same
aiohttp version as the Python that runs the benchmarks, installed with pip.

Run: python -m benchmarks.upstream   # create or check it, print its Python
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import aiohttp

UPSTREAM_VERSION = "2.9.1"
VENV_DIR = Path(__file__).resolve().parent / ".venv-upstream"
PROBE = "import importlib.metadata as m, aiohttp; print(m.version('aiohttp_retry'), aiohttp.__version__)"


def venv_python(root: Path = VENV_DIR) -> Path:
    """The venv's Python executable."""
    return root / "bin" / "python"


def installed_versions(python: Path) -> tuple[str, str] | None:
    """``(aiohttp_retry, aiohttp)`` versions in the venv, or ``None`` when it is missing or broken."""
    if not python.exists():
        return None
    probe = subprocess.run([str(python), "-I", "-c", PROBE], capture_output=True, text=True, check=False, timeout=60)
    parts = probe.stdout.split()
    return (parts[0], parts[1]) if probe.returncode == 0 and len(parts) == 2 else None


def ensure_upstream_venv(root: Path = VENV_DIR, *, quiet: bool = True) -> Path:
    """Create or repair the venv so it has aiohttp-retry 2.9.1 and this aiohttp; return its Python."""
    python = venv_python(root)
    wanted = (UPSTREAM_VERSION, aiohttp.__version__)
    if installed_versions(python) == wanted:
        return python
    if not python.exists():
        print(f"creating {root} for aiohttp-retry {UPSTREAM_VERSION} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    cmd += ["--quiet"] if quiet else []
    cmd += [f"aiohttp-retry=={UPSTREAM_VERSION}", f"aiohttp=={aiohttp.__version__}"]
    done = subprocess.run(cmd, check=False, timeout=900)
    if done.returncode != 0:
        msg = f"pip could not install aiohttp-retry {UPSTREAM_VERSION} into {root} (exit {done.returncode})"
        raise RuntimeError(msg)
    found = installed_versions(python)
    if found != wanted:
        msg = f"{root} has aiohttp_retry/aiohttp {found}, expected {wanted}"
        raise RuntimeError(msg)
    return python


def main() -> None:
    print(ensure_upstream_venv(quiet=False))


if __name__ == "__main__":
    main()
