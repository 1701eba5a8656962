"""The Sphinx documentation builds without a single warning."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mtstats

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_page_lists_every_public_name():
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    public = [name for name in mtstats.__all__ if name != "__version__"]
    missing = [name for name in public
               if not re.search(rf"\bmtstats\.{re.escape(name)}\b", api)]
    assert not missing, f"add to docs/api.rst: {missing}"


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    # Build from a copy so that autosummary's generated stubs and the doctrees
    # never touch the source tree.
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "generated"))
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(source), str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in ["index.html", "api.html", "user_guide.html",
                 "generated/mtstats.TraceNormRegressor.html",
                 "generated/mtstats.solvers.solve.html"]:
        assert (out / page).is_file(), page
