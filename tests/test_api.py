"""The public surface: documented names, module paths that 2.9.1 users import."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import aiohttp_retry

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_names() -> set[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- api -->(.*?)<!-- /api -->", text, re.DOTALL)
    assert block is not None, "README lost its public-name list"
    return set(re.findall(r"`(\w+)`", block.group(1)))


def test_all_matches_the_readme() -> None:
    """aiohttp_retry.__all__ lists exactly the names the README documents, and each exists."""
    assert set(aiohttp_retry.__all__) == documented_names()
    for name in aiohttp_retry.__all__:
        assert getattr(aiohttp_retry, name) is not None


def test_compatible_module_paths() -> None:
    """The submodule paths of 2.9.1 still resolve to the same objects."""
    client = importlib.import_module("aiohttp_retry.client")
    options = importlib.import_module("aiohttp_retry.retry_options")
    types = importlib.import_module("aiohttp_retry.types")
    assert client.RetryClient is aiohttp_retry.RetryClient
    assert client.RequestParams is aiohttp_retry.RequestParams
    assert options.RetryOptionsBase is aiohttp_retry.RetryOptionsBase
    assert types.ClientType is not None


def test_every_module_declares_all() -> None:
    """Every module of the package has an __all__ whose names exist."""
    root = Path(aiohttp_retry.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        assert hasattr(module, "__all__"), name
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.{exported}"


def test_package_is_typed() -> None:
    """The py.typed marker ships with the package."""
    assert (Path(aiohttp_retry.__file__).parent / "py.typed").is_file()
