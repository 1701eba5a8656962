"""The Sphinx documentation builds without a single warning and works offline."""

import base64
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import mtstats

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"


def test_api_page_lists_every_public_name():
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    public = [name for name in mtstats.__all__ if name != "__version__"]
    missing = [name for name in public
               if not re.search(rf"\bmtstats\.{re.escape(name)}\b", api)]
    assert not missing, f"add to docs/api.rst: {missing}"


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    """Build the HTML docs once, from a copy, with ``-W``; return the output dir."""
    for module in ["sphinx", "numpydoc", "myst_nb", "pydata_sphinx_theme",
                   "sphinx-mathjax-offline"]:
        pytest.importorskip(module)
    tmp = tmp_path_factory.mktemp("docs")
    # Build from a copy so that autosummary's generated stubs, the gallery that
    # conf.py writes into docs/examples/ and the doctrees never touch the
    # source tree. conf.py reads the notebooks from ../notebooks/.
    source = tmp / "docs"
    shutil.copytree(DOCS, source,
                    ignore=shutil.ignore_patterns("_build", "generated", "examples"))
    # docs/adding_a_formulation.rst includes code from ../mtstats/
    shutil.copytree(ROOT / "mtstats", tmp / "mtstats",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "notebooks").mkdir()
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy2(notebook, tmp / "notebooks" / notebook.name)
    out = tmp / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp / "doctrees"), str(source), str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_docs_build_without_warnings(built_docs):
    for page in ["index.html", "api.html", "user_guide.html", "examples/index.html",
                 "generated/mtstats.TraceNormRegressor.html",
                 "generated/mtstats.solvers.solve.html"]:
        assert (built_docs / page).is_file(), page


class _Resources(HTMLParser):
    """Collect what a page loads: scripts, stylesheets and other links, images."""

    def __init__(self):
        super().__init__()
        self.scripts, self.links, self.images = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def _resources(page):
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _is_remote(url):
    return urlsplit(url).scheme in ("http", "https") or url.startswith("//")


def _local_file(page, url):
    return (page.parent / urlsplit(url).path).resolve()


def test_docs_load_nothing_from_the_internet(built_docs):
    pages = sorted(built_docs.rglob("*.html"))
    assert len(pages) > 10
    remote = [(str(page.relative_to(built_docs)), url)
              for page in pages
              for found in [_resources(page)]
              for url in found.scripts + found.links + found.images
              if _is_remote(url)]
    assert not remote, remote
    # Nor do the stylesheets (fonts, @import).
    css_remote = [str(css.relative_to(built_docs))
                  for css in built_docs.joinpath("_static").rglob("*.css")
                  if re.search(r"(url\(|@import)\s*['\"]?(https?:)?//",
                               css.read_text(encoding="utf-8", errors="replace"))]
    assert not css_remote, css_remote


def test_mathjax_is_served_from_the_build(built_docs):
    with_maths = [page for page in sorted(built_docs.rglob("*.html"))
                  if 'class="math' in page.read_text(encoding="utf-8")]
    names = {str(page.relative_to(built_docs)) for page in with_maths}
    # The user guide, many docstrings and the notebooks are full of maths.
    assert {"user_guide.html", "examples/01_quickstart.html"} <= names, names
    assert any(name.startswith("generated/") for name in names), names
    for page in with_maths:
        mathjax = [src for src in _resources(page).scripts if "mathjax" in src.lower()]
        assert mathjax, f"{page.name} loads no MathJax"
        for src in mathjax:
            assert not _is_remote(src), src
            assert _local_file(page, src).is_file(), (page.name, src)
    # MathJax's CommonHTML output needs its web fonts next to it.
    fonts = list(built_docs.joinpath("_static").rglob("MathJax_Main-Regular.woff"))
    assert fonts


def _png_outputs(notebook):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum("image/png" in output.get("data", {})
               for cell in nb["cells"] for output in cell.get("outputs", []))


def _is_png(page, src):
    if src.startswith("data:image/png;base64,"):
        data = base64.b64decode(src.split(",", 1)[1])
    else:
        path = _local_file(page, src)
        if not path.is_file():
            return False
        data = path.read_bytes()
    return data.startswith(b"\x89PNG")


def test_gallery_shows_every_notebook_with_its_figures(built_docs):
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert notebooks
    gallery = built_docs / "examples" / "index.html"
    gallery_html = gallery.read_text(encoding="utf-8")
    for notebook in notebooks:
        page = built_docs / "examples" / f"{notebook.stem}.html"
        assert page.is_file(), page
        assert f'href="{notebook.stem}.html"' in gallery_html, notebook.name
        figures = [src for src in _resources(page).images if _is_png(page, src)]
        expected = _png_outputs(notebook)
        assert expected >= 1, f"{notebook.name} has no stored figure"
        assert len(figures) >= expected, (notebook.name, figures)
    # One thumbnail per notebook (each has a figure).
    thumbs = [src for src in _resources(gallery).images if _is_png(gallery, src)]
    assert len(thumbs) == len(notebooks), thumbs
