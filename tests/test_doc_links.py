"""The estimators' HTML representation links to their page in the package's API reference."""

import tomllib
from pathlib import Path

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa._doc_links import DOCS_URL

ROOT = Path(__file__).resolve().parents[1]

# (estimator, its name in the API reference)
ESTIMATORS = [(TJEPATransformer(), "sklearn_tjepa.TJEPATransformer")]


def test_the_docs_url_is_the_one_pyproject_declares():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Documentation"] == DOCS_URL


@pytest.mark.parametrize(("estimator", "public_name"), ESTIMATORS, ids=[name for _, name in ESTIMATORS])
def test_html_repr_links_to_the_public_names_reference_page(estimator, public_name):
    html = estimator_html_repr(make_pipeline(estimator, StandardScaler()))
    assert f'href="{DOCS_URL}generated/{public_name}.html"' in html
    # the page is one the API reference generates
    module, name = public_name.rsplit(".", 1)
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    assert f".. currentmodule:: {module}\n" in api and f"   {name}\n" in api
    # scikit-learn's own steps keep their links to scikit-learn's site
    assert "scikit-learn.org" in html
