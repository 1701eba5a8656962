"""Sphinx configuration for the mtstats documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The build needs no network access (no intersphinx).
"""

import re

import mtstats

project = "mtstats"
author = "mtstats developers"
copyright = "mtstats developers"
release = mtstats.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# -- autodoc / autosummary ---------------------------------------------------
autosummary_generate = True
autosummary_generate_overwrite = True
# Module pages list what the module exports in ``__all__`` (see
# _templates/autosummary/module.rst).
autosummary_ignore_module_all = False
autodoc_typehints = "none"

# -- numpydoc ------------------------------------------------------------------
# Class members are listed by autosummary/autodoc, not by numpydoc, which would
# otherwise emit a stub for every method and attribute (and warn when the stub
# targets do not exist).
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- HTML ------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"mtstats {release}"
html_static_path = []
