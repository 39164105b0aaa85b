"""Tests for sklearn_tjepa._checks: the scalar parameter checks, a leaf module of the package."""

import ast
from pathlib import Path

import numpy as np
import pytest

import sklearn_tjepa
from sklearn_tjepa._checks import (
    check_bool,
    check_fraction,
    check_instance,
    check_int,
    check_option,
    check_rate,
    check_real,
    check_seed,
)

PACKAGE = Path(sklearn_tjepa.__file__).parent


@pytest.mark.parametrize(
    "check, value, error, match",
    [
        (lambda v: check_int("depth", v), 0, ValueError, r"depth must be a positive int, got depth=0"),
        (lambda v: check_int("depth", v), True, TypeError, r"depth must be a positive int"),
        (lambda v: check_int("depth", v, min_value=2), 1, ValueError, r"depth must be an int >= 2"),
        (lambda v: check_real("lr", v, positive=True), 0.0, ValueError, r"lr must be a positive float"),
        (lambda v: check_real("wd", v), float("inf"), ValueError, r"wd must be a non-negative float"),
        (lambda v: check_real("share", v, max_value=1.0), 1.5, ValueError, r"share must be a float in \[0.0, 1.0\]"),
        (lambda v: check_real("scale", v, min_value=1.0), 0.5, ValueError, r"scale must be a float >= 1.0"),
        (lambda v: check_rate("dropout", v), 1.0, ValueError, r"dropout must be a float in \[0, 1\)"),
        (lambda v: check_option("norm", v, ("pre", "post")), "mid", ValueError, r"norm must be one of \('pre', 'post'\)"),
        (lambda v: check_option("norm", v, ("pre", "post")), 1, TypeError, r"norm must be one of \('pre', 'post'\), got norm=1"),
        (lambda v: check_option("norm", v, ("pre", "post")), ["pre"], TypeError, r"got norm=\['pre'\]"),
        (lambda v: check_seed("random_state", v), "0", TypeError, r"random_state must be None, an int in \[0, 2\*\*32\)"),
        (lambda v: check_seed("random_state", v), True, TypeError, r"got random_state=True"),
        (lambda v: check_seed("random_state", v), -1, ValueError, r"got random_state=-1"),
        (lambda v: check_instance("path", v, (str,), "a str"), 3, TypeError, r"path must be a str, got path=3"),
        (lambda v: check_bool("resume", v), "yes", TypeError, r"resume must be a bool"),
        (lambda v: check_fraction("validation_fraction", v), None, TypeError, r"must be a float in \(0, 1\)"),
        (lambda v: check_fraction("validation_fraction", v, allow_none=True), 1.0, ValueError, r"None or a float"),
    ],
)
def test_checks_name_the_parameter_and_the_expectation(check, value, error, match):
    with pytest.raises(error, match=match):
        check(value)


@pytest.mark.parametrize("value", [1, 64])
def test_check_int_accepts_valid_values(value):
    check_int("d_model", value)


@pytest.mark.parametrize("value", [None, 0, 2**32 - 1, np.int64(7), np.random.RandomState(0)])
def test_check_seed_accepts_what_check_random_state_takes(value):
    check_seed("random_state", value)


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_, 1, 0, np.int64(1)])
def test_check_bool_accepts_python_and_numpy_bools_and_0_1(value):
    check_bool("early_stopping", value)


@pytest.mark.parametrize("value", [2, -1, 1.0, "yes", None])
def test_check_bool_refuses_other_values_with_type_error(value):
    with pytest.raises(TypeError, match=r"early_stopping must be a bool, got early_stopping="):
        check_bool("early_stopping", value)


def test_check_fraction_accepts_none_only_when_allowed():
    check_fraction("validation_fraction", None, allow_none=True)
    check_fraction("validation_fraction", 0.2)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_imports(path: Path, modules) -> set[str]:
    """The package's modules that ``path`` imports, at its top level or inside functions."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return imported & set(modules)


def test_checks_imports_nothing_from_the_package():
    source = ast.parse((PACKAGE / "_checks.py").read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(source)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert not [name for name in imported if name is None or name.startswith("sklearn_tjepa")]


def test_no_module_imports_itself_through_other_modules():
    # Package __init__ files are left out: they only re-export their children (and a module
    # reading sklearn_tjepa.__version__ does not make a cycle of definitions).
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"}
    graph = {name: _package_imports(path, modules) for name, path in modules.items()}
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            name, path = stack.pop()
            for imported in graph[name]:
                if imported == start:
                    cycles.append(" -> ".join([*path, start]))
                elif imported not in seen:
                    seen.add(imported)
                    stack.append((imported, [*path, imported]))
    assert cycles == []
