"""The layering the design promises, read from the source: who imports whom, and how big modules grow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "aiohttp_retry"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, *, runtime_only: bool, nested: bool = False) -> set[str]:
    """Modules imported (``runtime_only``: not under ``if TYPE_CHECKING``; ``nested``: inside functions too)."""
    found: set[str] = set()

    def visit(node: ast.AST, *, top: bool) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.If) and runtime_only and is_type_checking(node):
            for child in node.orelse:
                visit(child, top=top)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if nested:
                for child in ast.iter_child_nodes(node):
                    visit(child, top=False)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, top=top)

    visit(ast.parse(path.read_text()), top=True)
    return found


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def package_imports(name: str, *, nested: bool = False) -> set[str]:
    """The package's own modules that ``name`` imports at run time (a module, or the module holding a name)."""
    result = set()
    for imported in imports_of(SOURCES[name], runtime_only=True, nested=nested):
        module = imported
        while module and module not in SOURCES:
            module = module.rpartition(".")[0]
        if module.startswith("aiohttp_retry") and module != name:
            result.add(module)
    return result


def closure(name: str, *, nested: bool = False) -> set[str]:
    seen: set[str] = set()
    stack = [name]
    while stack:
        for dep in package_imports(stack.pop(), nested=nested):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


CORE = sorted(n for n in SOURCES if n.startswith(("aiohttp_retry.engine", "aiohttp_retry.policy")))


@pytest.mark.parametrize("name", CORE)
def test_core_imports_no_http_client(name: str) -> None:
    """engine/ and policy/ import neither aiohttp nor yarl, directly or through any module of the package they load."""
    for module in {name} | closure(name, nested=True):
        imported = imports_of(SOURCES[module], runtime_only=True, nested=True)
        foreign = {i for i in imported if i.split(".")[0] in {"aiohttp", "yarl"}}
        assert not foreign, f"{name} reaches {module}, which imports {sorted(foreign)}"


@pytest.mark.parametrize("name", CORE)
def test_policy_needs_no_event_loop(name: str) -> None:
    """policy/ is pure: no module of it imports asyncio."""
    if not name.startswith("aiohttp_retry.policy"):
        return
    assert "asyncio" not in imports_of(SOURCES[name], runtime_only=False, nested=True)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_no_import_cycles(name: str) -> None:
    """No module of the package imports, at load time, a module that imports it back."""
    assert name not in closure(name), f"{name} is part of an import cycle"


def test_strategies_do_not_import_each_other() -> None:
    """The sequential and the hedged strategy share the plan module and nothing else of each other."""
    sequential = package_imports("aiohttp_retry.engine.sequential", nested=True)
    hedged = package_imports("aiohttp_retry.engine.hedged", nested=True)
    assert "aiohttp_retry.engine.hedged" not in sequential
    assert "aiohttp_retry.engine.sequential" not in hedged
    assert "aiohttp_retry.engine.plan" in sequential & hedged


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    """No module grows past about 400 lines: one concept per file."""
    assert len(path.read_text().splitlines()) <= MAX_LINES


OPTIONAL = ("prometheus_client", "opentelemetry", "rich", "matplotlib", "redis", "httpx", "limits")
EXTRA_HOMES = (
    "aiohttp_retry.contrib.",
    "aiohttp_retry.transports.",
    "aiohttp_retry.report.rich",
    "aiohttp_retry.report.chart",
)


@pytest.mark.parametrize("name", sorted(n for n in SOURCES if not n.startswith(EXTRA_HOMES)))
def test_only_integrations_import_optional_dependencies(name: str) -> None:
    """The core depends on aiohttp alone: outside contrib/ (and the report's renderers) no module imports an extra."""
    imported = imports_of(SOURCES[name], runtime_only=True, nested=True)
    assert not {module for module in imported if module.split(".")[0] in OPTIONAL}


def test_importing_the_package_loads_no_optional_dependency() -> None:
    """``import aiohttp_retry`` in a fresh interpreter loads none of the extras' libraries."""
    code = (
        "import sys, aiohttp_retry, aiohttp_retry.observe, aiohttp_retry.demo; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
