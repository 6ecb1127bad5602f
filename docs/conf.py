"""Sphinx configuration of the skreg documentation.

Build from the repository root with::

    python -m sphinx -b html docs docs/_build/html

The API pages are generated from the docstrings (autosummary + numpydoc), the
gallery from the scripts in ``examples/`` (sphinx-gallery runs them).
"""

import os
import sys

# Prefer the package of this checkout when it is not installed.
sys.path.insert(0, os.path.abspath(".."))

import skreg

project = "skreg"
author = "The skreg developers"
copyright = "the skreg developers, BSD-3-Clause"
release = skreg.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "README.md"]
root_doc = "index"

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
# set_output is scikit-learn's own method; its docstring links into the
# scikit-learn docs, which are not part of this build.
autodoc_default_options = {"members": True, "inherited-members": True,
                           "exclude-members": "set_output"}
# numpydoc lists the public methods of each class itself; autosummary tables of
# the members (one stub page per method) would only add noise.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False

# -- sphinx-gallery -------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # Link the API pages to the examples that use each object.
    "doc_module": ("skreg",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skreg": None},
}

# -- HTML -------------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "Fast, scikit-learn compatible sparse regression",
    "fixed_sidebar": True,
}
html_static_path = []


# -- skip scikit-learn's generic estimator API ------------------------------------
# fit/predict are documented (inherited from skreg's base class); the methods
# every scikit-learn estimator has (get_params, set_params, score, metadata
# routing) are not: their docstrings point into scikit-learn's own docs.
_SKLEARN_GENERIC = {"get_params", "set_params", "score", "get_metadata_routing"}


def _skip_sklearn_generic(app, what, name, obj, skip, options):
    if what == "class" and (name in _SKLEARN_GENERIC
                            or (name.startswith("set_") and name.endswith("_request"))):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_generic)
