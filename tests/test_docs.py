"""The documentation covers the public API and cites nothing outside the repository."""

import re
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
    pattern = re.compile(r"SPEC\.md|SPEC section|ENGINEERING|\.\./shared|engineering notes")
    files = [*DOCS.glob("*.md"), *DOCS.glob("*.rst"), *DOCS.glob("user_guide/*.rst"),
             *DOCS.glob("examples/*.py"), ROOT / "README.md"]
    offending = [f"{f.relative_to(ROOT)}:{i}" for f in files
                 for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert not offending, offending
