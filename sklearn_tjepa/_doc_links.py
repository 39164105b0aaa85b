"""Links from the estimators' HTML representation to their pages in the API reference.

scikit-learn's HTML repr (in notebooks) shows a "?" linking each estimator to its documentation;
the estimators set ``_doc_link_module``, ``_doc_link_template`` and
``_doc_link_url_param_generator`` from here so that the link goes to this package's site.
"""

from __future__ import annotations

import importlib

# The ``Documentation`` URL of ``[project.urls]`` in pyproject.toml (a test keeps them equal).
DOCS_URL = "https://sklearn-tjepa.readthedocs.io/en/latest/"

DOC_LINK_MODULE = "sklearn_tjepa"

# The API reference has one page per public name, at generated/<public module>.<name>.html.
DOC_LINK_TEMPLATE = DOCS_URL + "generated/{public_name}.html"


def doc_link_url_params(estimator) -> dict[str, str]:
    """The ``public_name`` of ``estimator``'s class in :data:`DOC_LINK_TEMPLATE`.

    The public name is the class under the shortest module path that exports it
    (``sklearn_tjepa.TJEPATransformer``, not ``sklearn_tjepa.estimator.TJEPATransformer``).

    Parameters
    ----------
    estimator : estimator
        An instance of one of the package's estimators.

    Returns
    -------
    dict
        ``{"public_name": "<module>.<class name>"}``.
    """
    cls = type(estimator)
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        module = importlib.import_module(".".join(parts[:end]))
        if cls.__name__ in getattr(module, "__all__", ()) and getattr(module, cls.__name__, None) is cls:
            return {"public_name": f"{module.__name__}.{cls.__name__}"}
    return {"public_name": f"{cls.__module__}.{cls.__name__}"}
