"""The venv that holds aiohttp-retry 2.9.1 (the ``upstream`` contender), created on first use.

It lives in ``benchmarks/.venv-upstream`` (git-ignored) and gets the same
aiohttp version as the Python that runs the benchmarks, installed with pip.
:func:`ensure_venv` also builds the venvs of the other contenders that run
another library (``benchmarks/extapi_venv.py``).

Run: python -m benchmarks.upstream   # create or check it, print its Python
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

import aiohttp

UPSTREAM_VERSION = "2.9.1"
VENV_DIR = Path(__file__).resolve().parent / ".venv-upstream"
REQUIREMENTS = (f"aiohttp-retry=={UPSTREAM_VERSION}",)
PROBE = "import importlib.metadata as m, sys, aiohttp; print(*(m.version(name) for name in sys.argv[1:]))"


def venv_python(root: Path = VENV_DIR) -> Path:
    """The venv's Python executable."""
    return root / "bin" / "python"


def pinned_like_here(distribution: str) -> str:
    """``distribution==version`` of the version this Python has, or just ``distribution`` if it has none."""
    try:
        return f"{distribution}=={importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return distribution


def installed_versions(python: Path, distributions: Sequence[str]) -> tuple[str, ...] | None:
    """The versions of ``distributions`` in the venv, or ``None`` when it is missing, broken or lacks one."""
    if not python.exists():
        return None
    cmd = [str(python), "-I", "-c", PROBE, *distributions]
    probe = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    parts = tuple(probe.stdout.split())
    return parts if probe.returncode == 0 and len(parts) == len(distributions) else None


def ensure_venv(root: Path, requirements: Sequence[str], *, quiet: bool = True) -> Path:
    """Create or repair the venv at ``root`` so it has ``requirements`` and this aiohttp; return its Python.

    A requirement is ``name==version`` or just ``name`` (any version will do).
    """
    python = venv_python(root)
    requirements = [*requirements, f"aiohttp=={aiohttp.__version__}"]
    names = [requirement.partition("==")[0] for requirement in requirements]
    wanted = [requirement.partition("==")[2] for requirement in requirements]

    def satisfied(found: tuple[str, ...] | None) -> bool:
        return found is not None and all(not want or want == have for want, have in zip(wanted, found, strict=True))

    if satisfied(installed_versions(python, names)):
        return python
    if not python.exists():
        print(f"creating {root} for {' '.join(requirements)} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    cmd += ["--quiet"] if quiet else []
    done = subprocess.run([*cmd, *requirements], check=False, timeout=900)
    if done.returncode != 0:
        msg = f"pip could not install {' '.join(requirements)} into {root} (exit {done.returncode})"
        raise RuntimeError(msg)
    found = installed_versions(python, names)
    if not satisfied(found):
        msg = f"{root} has {', '.join(names)} {found}, expected {' '.join(requirements)}"
        raise RuntimeError(msg)
    return python


def main() -> None:
    print(ensure_venv(VENV_DIR, REQUIREMENTS, quiet=False))


if __name__ == "__main__":
    main()
