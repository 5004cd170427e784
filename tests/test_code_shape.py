"""The code keeps the shape that keeps it easy to change: small modules, short functions.

No module over 400 lines and no function over 60, in the kernel, the plugin
packages, the benchmarks and the tests alike. Every multi-value return in the
kernel and the plugin packages is a named attrs class, not a bare tuple.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def python_files() -> list[Path]:
    found = []
    for top in ("src", "plugins", "bench", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if not any(p.startswith(".") or p in ("out", "build", "__pycache__") for p in parts):
                found.append(path)
    return found


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_function_sizes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= MAX_MODULE_LINES, f"{lines} lines (at most {MAX_MODULE_LINES})"
    long = [f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


#: ``path::function`` -> why a bare tuple is the natural type there. Keep it short.
TUPLE_RETURNS_ALLOWED = {
    "src/salesrules/errors.py::__reduce__": "pickle's protocol is a (callable, args) tuple",
}


def _source_files() -> list[Path]:
    return [p for p in python_files() if p.relative_to(ROOT).parts[0] == "src"
            or (p.relative_to(ROOT).parts[0] == "plugins" and "src" in p.relative_to(ROOT).parts)]


def _fixed_tuple(annotation: ast.expr | None) -> bool:
    """``tuple[A, B]`` (or ``Tuple``): a record of fixed length; ``tuple[X, ...]`` is a sequence."""
    if not isinstance(annotation, ast.Subscript):
        return False
    name = annotation.value
    if not (isinstance(name, ast.Name) and name.id in ("tuple", "Tuple")):
        return False
    args = annotation.slice
    items = args.elts if isinstance(args, ast.Tuple) else [args]
    return not (len(items) == 2 and isinstance(items[1], ast.Constant)
                and items[1].value is Ellipsis)


def _own_returns(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The function's return statements, not those of the functions nested in it."""
    out, stack = [], list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                 ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return out


def tuple_returns(path: Path) -> list[str]:
    """Functions annotated ``-> tuple[A, B]`` or returning a literal tuple of 2+ values."""
    found = []
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        sequence = (isinstance(fn.returns, ast.Subscript) and not _fixed_tuple(fn.returns)
                    and isinstance(fn.returns.value, ast.Name)
                    and fn.returns.value.id in ("tuple", "Tuple"))
        literal = [r.lineno for r in _own_returns(fn)
                   if isinstance(r.value, ast.Tuple) and len(r.value.elts) >= 2]
        if _fixed_tuple(fn.returns) or (literal and not sequence):
            found.append(f"{fn.name} (line {fn.lineno})")
    return found


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_multi_value_returns_are_named_classes(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    found = [f for f in tuple_returns(path)
             if f"{rel}::{f.split(' ')[0]}" not in TUPLE_RETURNS_ALLOWED]
    assert not found, ("bare tuples returned (make each a small @attrs.frozen class with "
                       f"named fields, or allow it in TUPLE_RETURNS_ALLOWED): {', '.join(found)}")


def test_the_tuple_check_finds_what_it_should(tmp_path: Path) -> None:
    code = tmp_path / "m.py"
    code.write_text(
        "def a() -> tuple[int, str]:\n    return f()\n"
        "def b(x):\n    return x, 1\n"
        "def c() -> tuple[int, ...]:\n    return 1, 2\n"
        "def d():\n    def inner():\n        return 1, 2\n    return inner\n"
        "def e():\n    return (1,)\n", encoding="utf-8")
    assert tuple_returns(code) == ["a (line 1)", "b (line 3)", "inner (line 8)"]


def test_every_allowed_tuple_return_still_exists() -> None:
    for key in TUPLE_RETURNS_ALLOWED:
        rel, name = key.split("::")
        assert any(f.startswith(f"{name} (") for f in tuple_returns(ROOT / rel)), (
            f"{key} no longer returns a tuple: remove it from TUPLE_RETURNS_ALLOWED")
