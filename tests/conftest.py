"""Shared fixtures: the array namespaces every kernel is tested under."""

import numpy as np
import pytest


def _cuda_available():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


HAS_CUDA = _cuda_available()


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu``-marked tests, visibly, where no CUDA device exists."""
    if HAS_CUDA:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device (none found)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


NAMESPACES = ["numpy", "array_api_strict", pytest.param("cupy", marks=pytest.mark.gpu)]


@pytest.fixture(params=NAMESPACES)
def xp(request):
    """Array namespace: NumPy, array_api_strict, and CuPy where a GPU exists."""
    if request.param == "numpy":
        from array_api_compat import numpy as xp_numpy

        return xp_numpy
    if request.param == "array_api_strict":
        return pytest.importorskip("array_api_strict")
    from array_api_compat import cupy as xp_cupy

    return xp_cupy


@pytest.fixture
def rng():
    """A seeded generator."""
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def plug_in_empirical_bayes():
    """The comparison's empirical-Bayes columns from the plug-in posterior
    (``n_bootstrap=0``) instead of 20 bootstrap refits of the prior, which
    take most of the time of a report (about 7 of 8 s here).

    For the modules that test what a page or a text shows (structure,
    escaping, notes), not the values; the bootstrap-averaged posterior is
    tested in test_empirical_bayes.py, and the reports of
    test_report_comparison.py, test_cli.py and test_packaging.py compute it.
    """
    from functools import partial
    from unittest import mock

    from mtstats.report import _cvtests
    from mtstats.report._empirical_bayes import shrink_effects

    with mock.patch.object(_cvtests, "shrink_effects",
                           partial(shrink_effects, n_bootstrap=0)):
        yield
