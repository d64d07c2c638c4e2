"""The venv that holds extapi 0.1.7 and prometheus-client (the ``extapi`` contender), created on first use.

It lives in ``benchmarks/.venv-extapi`` (git-ignored) and, like the upstream
venv (``benchmarks/upstream.py``), gets the same aiohttp version as the Python
that runs the benchmarks; prometheus-client too when that Python has it, so that
extapi's metrics and ``retryclient-prometheus`` use the same one. This
checkout's ``aiohttp_retry`` is not installed there.

Run: python -m benchmarks.extapi_venv   # create or check it, print its Python
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.upstream import ensure_venv, pinned_like_here

EXTAPI_VERSION = "0.1.7"
VENV_DIR = Path(__file__).resolve().parent / ".venv-extapi"
REQUIREMENTS = (f"extapi=={EXTAPI_VERSION}", pinned_like_here("prometheus-client"))


def main() -> None:
    print(ensure_venv(VENV_DIR, REQUIREMENTS, quiet=False))


if __name__ == "__main__":
    main()
