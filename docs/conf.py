"""Sphinx configuration of the sklearn-tjepa documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` (needs the ``docs`` extra); it
executes the gallery examples, which ``-D plot_gallery=0`` skips.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

# Document the checkout this file belongs to, even when another copy is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Gallery examples train small models; on a shared 2-core machine one intra-op thread is far
# faster than two competing ones.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sklearn_tjepa  # noqa: E402

project = "sklearn-tjepa"
author = "sklearn-tjepa developers"
copyright = f"2026, {author}"
release = sklearn_tjepa.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "examples/*.py", "examples/GALLERY_HEADER.rst"]

# API reference: one page per public name, generated from the docstrings.
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# No intersphinx: the build must work without network access.

# Markdown pages: anchors for ##/### headings so that pages can link to sections.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]


sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    # Each API page lists the examples that use its object (the minigallery in
    # _templates/autosummary/): the examples' names of this package are recorded here.
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("sklearn_tjepa",),
}

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-tjepa {release}"
html_theme_options = {
    "navigation_with_keys": False,
    # Getting started, user guide, examples, API, and the two measurement pages in the top bar.
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document a class's methods defined in this package, inherited ones included.

    Methods that come from scikit-learn's mixins (``score``, ``get_params``, the generated
    ``set_*_request`` of metadata routing, ...) or from built-in exceptions are left out: their
    pages are scikit-learn's and Python's.
    """
    module = getattr(obj, "__module__", None)
    if what == "class" and module is not None and not module.startswith("sklearn_tjepa"):
        return True
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
