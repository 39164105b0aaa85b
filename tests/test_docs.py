"""The documentation covers the public API, cites nothing outside the repository, lists every
extra, and its newcomer examples define every name they use."""

import ast
import builtins
import re
import tomllib
from pathlib import Path

import pytest

import sklearn_tjepa
import sklearn_tjepa.baselines
import sklearn_tjepa.callbacks
import sklearn_tjepa.plotting
import sklearn_tjepa.tracking

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _documented_names() -> set[str]:
    """Fully qualified names listed under autosummary in the API reference."""
    names, module = set(), None
    for line in (DOCS / "api.rst").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match.group(1)
        elif (match := re.match(r" {3}([A-Za-z_][A-Za-z0-9_]*)$", line)) and module:
            names.add(f"{module}.{match.group(1)}")
    return names


@pytest.mark.parametrize(
    "module",
    [sklearn_tjepa, sklearn_tjepa.baselines, sklearn_tjepa.callbacks, sklearn_tjepa.plotting, sklearn_tjepa.tracking],
    ids=lambda m: m.__name__,
)
def test_every_public_name_has_a_reference_page(module):
    public = {f"{module.__name__}.{name}" for name in module.__all__ if not name.startswith("__")}
    missing = public - _documented_names()
    assert not missing, f"add these to docs/api.rst: {sorted(missing)}"


def test_docs_cite_nothing_outside_the_repository():
    # internal notes, and the project's planning ("issue 10", "the next round"), which users do not have
    pattern = re.compile(
        r"SPEC\.md|SPEC section|ENGINEERING|\.\./shared|engineering notes|[Ii]ssue[- ]?\d+|next round|this round"
    )
    files = [*DOCS.glob("*.md"), *DOCS.glob("*.rst"), *DOCS.glob("user_guide/*.rst"),
             *DOCS.glob("examples/*.py"), ROOT / "README.md"]
    offending = [f"{f.relative_to(ROOT)}:{i}" for f in files
                 for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert not offending, offending


def _extras() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted(pyproject["project"]["optional-dependencies"])


def test_every_extra_is_listed_in_readme_and_getting_started():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = (DOCS / "getting_started.rst").read_text(encoding="utf-8")
    assert _extras(), "pyproject.toml declares no extras"
    assert [extra for extra in _extras() if f"`[{extra}]`" not in readme] == [], "README lists extras as `[name]`"
    assert [extra for extra in _extras() if not re.search(rf"^``{extra}``\s", table, re.MULTILINE)] == [], (
        "docs/getting_started.rst lists extras as rows of its table"
    )


def _python_blocks(path: Path) -> list[str]:
    """The Python code blocks of a Markdown or reStructuredText page."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:(?: {3}.*)?\n)+)", text, re.MULTILINE)
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def _undefined_names(source: str) -> set[str]:
    """Names a script reads but never imports, assigns, defines or gets from builtins.

    A static check, blind to order and scope: it catches a name that is not defined anywhere
    in the script, such as an example's ``X_train`` that the reader would have to invent.
    """
    tree = ast.parse(source)
    defined = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            defined.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return used - defined


NEWCOMER_PAGES = [ROOT / "README.md", DOCS / "index.rst", DOCS / "getting_started.rst"]


@pytest.mark.parametrize("page", NEWCOMER_PAGES, ids=lambda p: p.name)
def test_newcomer_examples_define_every_name_they_use(page):
    blocks = _python_blocks(page)
    assert blocks, f"{page.name} has no Python example"
    for block in blocks:
        assert _undefined_names(block) == set(), f"{page.name}: example uses names it never defines:\n{block}"


@pytest.mark.parametrize("script", sorted((DOCS / "examples").glob("*.py")), ids=lambda p: p.name)
def test_gallery_examples_define_every_name_they_use(script):
    assert _undefined_names(script.read_text(encoding="utf-8")) == set()


def test_undefined_names_sees_a_missing_variable():
    assert _undefined_names("from x import f\nf(X_train, y)\ny = 1") == {"X_train"}


def _unintended_outputs(script: str) -> list[str]:
    """Last lines of gallery cells that would show an object's repr in the rendered page.

    sphinx-gallery shows the value of a cell's last statement when it is an expression: a
    fitted estimator's diagram after ``model.fit(...)``, a ``Legend`` object, ... A cell may end
    with ``print(...)``, a ``DataFrame.head()`` shown on purpose, a statement that is not an
    expression, or an expression silenced by a trailing ``;``.
    """
    offending = []
    for cell in re.split(r"^# %%.*$", script, flags=re.MULTILINE)[1:]:
        body = ast.parse(cell).body
        last_line = cell.rstrip().splitlines()[-1] if body else ""
        if not body or not isinstance(body[-1], ast.Expr) or last_line.rstrip().endswith(";"):
            continue
        value = body[-1].value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print":
            continue
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "head":
            continue
        offending.append(last_line.strip())
    return offending


@pytest.mark.parametrize("script", sorted((DOCS / "examples").glob("*.py")), ids=lambda p: p.name)
def test_gallery_cells_show_no_stray_object_repr(script):
    assert _unintended_outputs(script.read_text(encoding="utf-8")) == []


def test_unintended_outputs_sees_a_fit_at_the_end_of_a_cell():
    script = '"""Title"""\n# %%\nmodel.fit(X)\n# %%\nmodel.fit(X);\n# %%\nprint(1)\n# %%\nX.head()\n'
    assert _unintended_outputs(script) == ["model.fit(X)"]
