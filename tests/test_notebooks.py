"""Every notebook in notebooks/ runs from top to bottom without an error."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "python3"


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory):
    """A ``python3`` kernel spec, installed into a temporary prefix if missing.

    The temporary spec runs the interpreter running pytest (which has mtstats
    installed) and is found through ``JUPYTER_PATH``; nothing is written to the
    user's Jupyter directories.
    """
    from jupyter_client.kernelspec import find_kernel_specs

    if KERNEL in find_kernel_specs():
        yield KERNEL
        return
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(prefix=str(prefix), kernel_name=KERNEL)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        assert KERNEL in find_kernel_specs()
        yield KERNEL


#: Notebooks whose run takes minutes (03: cross-validated models and a full
#: report on real data, about 5 min here); executed by ``pytest -m slow``.
SLOW_NOTEBOOKS = {"03_reports.ipynb"}


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW_NOTEBOOKS else p
    for p in NOTEBOOKS], ids=lambda p: p.name)
def test_notebook_runs(path, kernel_name, monkeypatch, tmp_path):
    """The notebook runs in a temporary working folder and writes nothing
    into ``notebooks/`` (the committed, executed copy is left untouched)."""
    # The kernel inherits this environment: plots render off-screen.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    before = {p: p.stat().st_mtime_ns for p in NOTEBOOK_DIR.rglob("*")}
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError if any cell raises
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors
    after = {p: p.stat().st_mtime_ns for p in NOTEBOOK_DIR.rglob("*")}
    assert after == before, "the notebook wrote into notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_executed_with_figures(path):
    """Readers on GitHub and in the docs see results and figures: every code
    cell ran (in order) and at least one figure is stored."""
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.get("execution_count") for cell in code]
    assert all(counts) and counts == sorted(counts), counts
    images = [out for cell in code for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})]
    assert images, f"{path.name} stores no figure"
