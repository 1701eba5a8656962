"""The cases of the per-estimator test matrices that the default run keeps.

Every estimator family has a regressor and a classifier (and a *CV twin of
each), fitted in the wide and in the long layout. The tests that fit every
estimator in every layout keep, by default, one member of each family in one
layout (``DEFAULT_MEMBER``) and mark the other cases ``slow``: ``pytest -m
slow`` runs them, as tests/test_cv_estimators.py does for the scikit-learn
checks of the *CV twins. The kept members cover all eleven families, both
losses, and each loss in both layouts; for the four decomposition families
(two penalised parts, the slowest fits) it is the regressor, whose fits are
the cheaper ones.

The helpers build the same test ids as stacked ``parametrize`` decorators
did, so the default and the slow run together collect the same tests as
before.
"""

import itertools

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

#: family: (the member the default run keeps, the layout it keeps it in)
DEFAULT_MEMBER = {
    "GroupLasso": ("Classifier", "wide"),
    "TraceNorm": ("Classifier", "long"),
    "Independent": ("Regressor", "wide"),
    "Pooled": ("Classifier", "long"),
    "Clustered": ("Regressor", "long"),
    "SharedPrivate": ("Classifier", "wide"),
    "Graph": ("Classifier", "long"),
    "Dirty": ("Regressor", "wide"),
    "SparseLowRank": ("Regressor", "wide"),
    "RobustTraceNorm": ("Regressor", "long"),
    "RobustGroupLasso": ("Regressor", "long"),
}


def split_name(name):
    """``"DirtyRegressorCV"`` -> ``("Dirty", "Regressor")``; ``(name, None)``
    for a name that is not a regressor's or a classifier's."""
    base = name.removesuffix("CV")
    for kind in ("Regressor", "Classifier"):
        if base.endswith(kind):
            return base.removesuffix(kind), kind
    return name, None


def kept_by_default(name, layout=None):
    """Whether the default run keeps this estimator (in this layout). A
    family not in ``DEFAULT_MEMBER`` yet (a new estimator) is kept whole."""
    family, kind = split_name(name)
    if family not in DEFAULT_MEMBER:
        return True
    member, member_layout = DEFAULT_MEMBER[family]
    return kind == member and layout in (None, member_layout)


def cases(*axes, keep):
    """Every combination of the axes, as ``pytest.param``; a combination for
    which ``keep(*combination)`` is false is marked ``slow``.

    The axes are given in the order of the test id (the innermost stacked
    ``parametrize`` first), and the id is the one pytest gives those stacked
    decorators: the values' ``str`` joined by ``-``.
    """
    return [pytest.param(*values, id="-".join(map(str, values)),
                         marks=() if keep(*values) else pytest.mark.slow)
            for values in itertools.product(*axes)]


def parametrize_with_checks_by_default(estimators, keep=lambda estimator: True,
                                       **kwargs):
    """``parametrize_with_checks`` (same ids), with the checks of every
    estimator for which ``keep(estimator)`` is false marked ``slow``, and the
    expected failures too: they are non-strict ``xfail``, which cannot fail a
    run (they report XFAIL or XPASS), and the default run does not spend
    time on them."""
    mark = parametrize_with_checks(estimators, **kwargs)
    argnames, values = mark.args
    params = []
    for value in values:
        marks = list(getattr(value, "marks", ()))  # xfail of expected failures
        estimator, check = getattr(value, "values", value)
        if marks or not keep(estimator):
            marks.append(pytest.mark.slow)
        params.append(pytest.param(estimator, check, marks=marks,
                                   id=getattr(value, "id", None)))
    return pytest.mark.parametrize(argnames, params, **mark.kwargs)
