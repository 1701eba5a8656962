"""Docstrings: every Examples section runs, every public parameter is documented."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import mtstats

MODULES = sorted(m.name for m in pkgutil.walk_packages(mtstats.__path__, "mtstats."))
PUBLIC = [name for name in mtstats.__all__ if name[0].isupper()]
#: Modules whose examples fit *CV twins or build reports (4-13 s each, half
#: the time of this test): run with ``pytest -m slow``.
SLOW_EXAMPLES = {"mtstats.estimators.cv", "mtstats.estimators.cv_decomposed",
                 "mtstats.report.comparison", "mtstats.report.task_report"}


@pytest.mark.parametrize("module_name", [
    pytest.param(name, marks=pytest.mark.slow) if name in SLOW_EXAMPLES else name
    for name in MODULES])
def test_examples_run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS
                                   | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name):
        runner.run(test)
    assert runner.failures == 0


@pytest.mark.parametrize("name", PUBLIC)
def test_public_estimators_document_every_parameter(name):
    validate = pytest.importorskip("numpydoc.validate")
    result = validate.validate(f"mtstats.{name}")
    wanted = {"PR01", "PR02", "GL08", "SS01", "EX01"}  # params, summary, examples
    problems = [(code, msg) for code, msg in result["errors"] if code in wanted]
    assert problems == []


@pytest.mark.parametrize("name", PUBLIC)
def test_estimator_docstrings_have_math_and_references(name):
    doc = inspect.getdoc(getattr(mtstats, name))
    assert "math::" in doc or ":math:" in doc
    assert "References" in doc or "See Also" in doc
