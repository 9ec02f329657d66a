"""The shape of the code: dependencies point one way, no import cycles, small files and functions."""

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("zoo", "export", "zoo_apps", "scripts", "tests")
# Each layer may import itself and the layers before it: zoo <- export <- zoo_apps <- scripts.
LAYERS = ("zoo", "export", "zoo_apps", "scripts")
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60


def python_files():
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in python_files()}


def imported_modules(path):
    """Every project module that `path` imports, at module level or inside functions."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from zoo import text` imports the module zoo.text; `from zoo.errors import ZooError`, zoo.errors.
            names += [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                for alias in node.names
            ]
    found = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for name, path in MODULES.items():
        layer = name.split(".")[0]
        if layer not in LAYERS:
            continue
        allowed = LAYERS[: LAYERS.index(layer) + 1]
        wrong += [f"{name} imports {other}" for other in imported_modules(path) if other.split(".")[0] not in allowed]
    assert not wrong


def test_no_import_cycles():
    graph = {name: imported_modules(path) - {name} for name, path in MODULES.items()}
    state, cycles = {}, []

    def visit(name, stack):
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                cycles.append(" -> ".join(stack[stack.index(other) :] + [other]))
            elif other not in state:
                visit(other, stack + [other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles


@pytest.mark.parametrize("path", python_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_files_and_functions_are_small(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_FILE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long


@pytest.mark.parametrize("command", [["format", "--check", "."], ["check", "."]], ids=["format", "lint"])
def test_code_is_formatted_and_linted(command):
    """ruff, as configured in pyproject.toml (the project's formatter and linter)."""
    result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
