"""The estimators' HTML representation links to their page in the package's API reference."""

from pathlib import Path

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

import sklearn_tjepa
import sklearn_tjepa.baselines
from sklearn_tjepa._doc_links import DOCS_URL

ROOT = Path(__file__).resolve().parents[1]

# Every public estimator class (TJEPATransformer, the fine-tuners, the baselines) and the name of
# its page in the API reference.
ESTIMATORS = [
    (getattr(module, name), f"{module.__name__}.{name}")
    for module in (sklearn_tjepa, sklearn_tjepa.baselines)
    for name in module.__all__
    if isinstance(getattr(module, name), type) and hasattr(getattr(module, name), "get_params")
]


def test_the_docs_url_is_the_one_pyproject_declares(pyproject):
    assert pyproject["project"]["urls"]["Documentation"] == DOCS_URL


def test_every_kind_of_estimator_is_covered():
    names = {name for _, name in ESTIMATORS}
    assert {"sklearn_tjepa.TJEPATransformer", "sklearn_tjepa.TJEPAClassifier",
            "sklearn_tjepa.baselines.MLPClassifier", "sklearn_tjepa.baselines.GBDTRegressor"} <= names


@pytest.mark.parametrize(("cls", "public_name"), ESTIMATORS, ids=[name for _, name in ESTIMATORS])
def test_html_repr_links_to_the_public_names_reference_page(cls, public_name):
    estimator = cls(estimator="xgboost") if "GBDT" in cls.__name__ else cls()
    html = estimator_html_repr(make_pipeline(estimator, StandardScaler()))
    assert f'href="{DOCS_URL}generated/{public_name}.html"' in html
    # the page is one the API reference generates
    module, name = public_name.rsplit(".", 1)
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    assert f".. currentmodule:: {module}\n" in api and f"   {name}\n" in api
    # scikit-learn's own steps keep their links to scikit-learn's site
    assert "scikit-learn.org" in html
