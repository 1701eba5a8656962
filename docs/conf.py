"""Sphinx configuration for the mtstats documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(``pip install -e ".[docs]"`` first).

The build and the built pages need no network access:

* no intersphinx;
* MathJax is served from the build itself (``_static/mathjax/``, copied there
  by ``sphinx-mathjax-offline``) instead of a CDN;
* the PyData theme ships its fonts and scripts in ``_static/``;
* the example gallery shows the notebooks of ``../notebooks/`` with the
  outputs and figures stored in them (myst-nb, never executed here).
"""

import base64
import json
import re
import shutil
import struct
from pathlib import Path

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
    # After sphinx.ext.mathjax: points ``mathjax_path`` at the bundled MathJax
    # 3 (``_static/mathjax/tex-chtml.js``) and copies it into the build.
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_nb",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
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

# -- notebooks (myst-nb) ---------------------------------------------------------
# The notebooks are committed executed; the docs show their stored outputs.
nb_execution_mode = "off"
# ``$R^2$`` in the notebooks' markdown, as Jupyter renders it.
myst_enable_extensions = ["dollarmath"]
# Markdown links to ``#section-anchors`` in the notebooks resolve (levels 1-3).
myst_heading_anchors = 3

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"mtstats {release}"
html_static_path = ["_static"]
html_css_files = ["mtstats.css"]
html_theme_options = {
    # Nothing here may load from the internet (no version switcher JSON, no
    # analytics): the built pages must work offline (tests/test_docs.py).
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "user_guide": [], "examples/index": []}
html_show_sourcelink = False
html_copy_source = False


# -- example gallery ------------------------------------------------------------
# The notebooks live in ``notebooks/`` next to ``docs/`` (they are executed by
# the tests there). Sphinx reads only files under the source directory, so
# each build copies them into ``docs/examples/`` (ignored by git, see
# docs/.gitignore) and writes the gallery page ``examples/index.rst`` with one
# card per notebook: a figure of it as thumbnail (see ``_thumbnail``) and its
# ``#`` title.

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS.parent / "notebooks"
EXAMPLES = DOCS / "examples"


def _text(source):
    return "".join(source) if isinstance(source, list) else source


def _title(nb, default):
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^#\s+(.+?)\s*#*\s*$", _text(cell["source"]), re.M)
            if match:
                return match.group(1)
    return default


def _thumbnail(nb):
    """PNG bytes of the notebook's gallery thumbnail, or None.

    The figure of a cell tagged ``gallery-thumbnail`` if there is one, else the
    first landscape figure (tall ones make poor thumbnails), else the first.
    """
    tagged, landscape, first = None, None, None
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if not png:
                continue
            data = base64.b64decode(_text(png))
            first = first or data
            if not _is_portrait(data):
                landscape = landscape or data
            if "gallery-thumbnail" in cell.get("metadata", {}).get("tags", []):
                tagged = tagged or data
    return tagged or landscape or first


def _is_portrait(png):
    # Width and height are the first two fields of the IHDR chunk.
    width, height = struct.unpack(">II", png[16:24])
    return height > width


def _write_if_changed(path, data):
    # Unchanged files keep their mtime, so incremental builds stay incremental.
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)


def build_gallery():
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(
            f"no notebooks in {NOTEBOOKS}: the example gallery is built from the "
            "notebooks/ folder next to docs/ (build from a full source checkout)"
        )
    thumbs = EXAMPLES / "thumbnails"
    thumbs.mkdir(parents=True, exist_ok=True)
    keep = {"index.rst", "thumbnails"}
    cards = []
    for path in notebooks:
        keep.add(path.name)
        target = EXAMPLES / path.name
        if not target.is_file() or target.read_bytes() != path.read_bytes():
            shutil.copy2(path, target)
        nb = json.loads(path.read_text(encoding="utf-8"))
        title = _title(nb, path.stem)
        png = _thumbnail(nb)
        card = [
            "   .. container:: mt-gallery-card",
            "",
        ]
        if png is not None:
            _write_if_changed(thumbs / f"{path.stem}.png", png)
            card += [
                f"      .. image:: thumbnails/{path.stem}.png",
                f"         :alt: {title}",
                f"         :target: {path.stem}.html",
                # Tall figures show their top part, at full width (CSS).
                *(["         :class: mt-portrait"] if _is_portrait(png) else []),
                "",
            ]
        card += [f"      :doc:`{path.stem}`", ""]
        cards.append("\n".join(card))
    # Leftovers of notebooks that were renamed or removed.
    for stale in EXAMPLES.iterdir():
        if stale.name not in keep:
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
    for stale in thumbs.iterdir():
        if stale.stem not in {p.stem for p in notebooks}:
            stale.unlink()
    index = "\n".join([
        ".. Generated by docs/conf.py from ../notebooks/*.ipynb: do not edit.",
        "",
        "Examples",
        "========",
        "",
        "Worked analyses as Jupyter notebooks, shown here with the outputs and",
        "figures stored in them. The notebooks themselves are in the",
        "``notebooks/`` folder of the source tree; ``pip install -e \".[test]\"``",
        "installs everything they import.",
        "",
        ".. container:: mt-gallery",
        "",
        *cards,
        ".. toctree::",
        "   :hidden:",
        "",
        *[f"   {path.stem}" for path in notebooks],
        "",
    ])
    _write_if_changed(EXAMPLES / "index.rst", index.encode("utf-8"))


build_gallery()


def setup(app):
    # sphinx-mathjax-offline (0.0.2) only sets ``mathjax_path`` and copies
    # MathJax when the build has finished, which is safe in parallel builds,
    # but it does not say so: without this, ``sphinx -j N -W`` fails on its
    # warning.
    extension = app.extensions.get("sphinx-mathjax-offline")
    if extension is not None:
        extension.parallel_read_safe = True
        extension.parallel_write_safe = True
