"""No hang, no NaN answer: the solver's guards, and fits with no minimiser."""

import signal
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.exceptions import ConvergenceWarning

import mtstats
from mtstats._designs import SharedDesign
from mtstats._separation import is_separated
from mtstats.losses import LogisticLoss, SquaredLoss
from mtstats.penalties import L21
from mtstats.solvers import NumericalBreakdown, solve


@pytest.fixture
def alarm():
    """Fail instead of hanging: a test using this has 60 s."""
    def handler(signum, frame):
        raise TimeoutError("the solve did not return within 60 s")
    previous = signal.signal(signal.SIGALRM, handler)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class NaNProx(L21):
    """A penalty whose prox breaks down (returns NaN)."""

    def prox(self, W, step):
        return W * np.nan


class OverflowingLoss(SquaredLoss):
    """A loss that overflows away from the null model's predictor."""

    def value(self, eta, y, s):
        return np.inf if np.any(np.abs(eta) > 1.0) else super().value(eta, y, s)


def _problem(rng, loss):
    X = rng.standard_normal((30, 4))
    Y = X @ rng.standard_normal((4, 2))
    if isinstance(loss, LogisticLoss):
        Y = (Y > 0).astype(float)
    return SharedDesign(X, 2), Y, np.full(Y.shape, 1 / 30)


@pytest.mark.parametrize("loss", [SquaredLoss(), LogisticLoss()])
def test_a_nan_prox_stops_with_a_clear_error(loss, rng, alarm):
    design, Y, s = _problem(rng, loss)
    with pytest.raises(NumericalBreakdown, match="objective is nan"):
        solve(loss, NaNProx(0.1), design, Y, s)


def test_an_infinite_objective_stops_the_line_search(rng, alarm):
    design, Y, s = _problem(rng, SquaredLoss())
    with pytest.raises(NumericalBreakdown) as info:
        solve(OverflowingLoss(), L21(0.0), design, 3 * Y, s)
    assert isinstance(info.value, ValueError | FloatingPointError)


@pytest.mark.parametrize("loss", [SquaredLoss(), LogisticLoss()])
def test_zero_sample_weights_do_not_spin(loss, rng, alarm):
    """Regression test: zero weights made the step infinite, and halving an
    infinite step never ends; the solver now stops at once with an error."""
    design, Y, _ = _problem(rng, loss)
    with pytest.raises(NumericalBreakdown, match="step"):
        solve(loss, L21(0.1), design, Y, np.full(Y.shape, np.inf))


@pytest.mark.parametrize("name", ["GroupLassoClassifier", "IndependentClassifier",
                                  "PooledClassifier", "GroupLassoRegressor"])
def test_all_zero_weights_fail_fast(name, rng, alarm):
    X = rng.standard_normal((40, 3))
    Y = (X @ rng.standard_normal((3, 2)) > 0).astype(int)
    with pytest.raises(ValueError, match="task_weight is zero for every task"):
        getattr(mtstats, name)(task_weight=[0.0, 0.0]).fit(X, Y)


# --------------------------------------------------------- separation


def _separable(rng, n=40):
    X = rng.standard_normal((n, 2))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0.1).astype(int)


def _overlapping(rng, n=20):
    """Every row twice, once per class: no hyperplane separates them."""
    X = rng.standard_normal((n, 2))
    return np.vstack([X, X]), np.r_[np.ones(n), np.zeros(n)].astype(int)


def test_linear_program_decides_separation(rng):
    X, y = _separable(rng)
    with_intercept = np.column_stack([X, np.ones(len(X))])
    assert is_separated(with_intercept, y)
    X, y = _overlapping(rng)
    assert not is_separated(np.column_stack([X, np.ones(len(X))]), y)
    # quasi-complete separation: separable except for ties on the boundary
    X = np.r_[rng.uniform(0.1, 1, (10, 1)), rng.uniform(-1, -0.1, (10, 1)),
              np.zeros((2, 1))]
    y = np.r_[np.ones(10), np.zeros(10), 1, 0]
    assert is_separated(np.column_stack([X, np.ones(len(X))]), y)


@pytest.mark.parametrize("name, params", [
    ("IndependentClassifier", {}), ("GroupLassoClassifier", {}),
    ("TraceNormClassifier", {}), ("PooledClassifier", {})])
def test_alpha_zero_on_separated_classes_warns_and_is_not_converged(name, params,
                                                                    rng):
    """Regression test: alpha=0 on separable data reported converged_=True
    with coefficients near 58, although no minimiser exists."""
    X, y = _separable(rng)
    Y = np.column_stack([y, y])
    estimator = getattr(mtstats, name)(alpha=0.0, max_iter=300, **params)
    with pytest.warns(ConvergenceWarning, match="no finite minimiser"):
        estimator.fit(X, Y)
    assert not estimator.converged_


def test_alpha_zero_without_separation_matches_statsmodels(rng):
    """Unpenalised per-task logistic fits exist and equal the MLE."""
    blocks = [_overlapping(rng) for _ in range(2)]
    for _, y in blocks:  # perturb the duplicates' labels so the MLE is not 0
        y[:5] = 1 - y[:5]
    X = np.vstack([X for X, _ in blocks])
    tasks = np.repeat([0, 1], [len(y) for _, y in blocks])
    y = np.concatenate([y for _, y in blocks])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator = mtstats.IndependentClassifier(alpha=0.0, tol=1e-10,
                                                  task_column=-1)
        estimator.fit(np.column_stack([X, tasks]), y)
    assert estimator.converged_
    for t in range(2):
        rows = tasks == t
        mle = sm.Logit(y[rows], sm.add_constant(X[rows])).fit(disp=0)
        np.testing.assert_allclose(estimator.coef_[t], mle.params[1:], atol=1e-4)
        assert estimator.intercept_[t] == pytest.approx(mle.params[0], abs=1e-4)


def test_positive_alpha_on_separated_classes_is_fine(rng):
    X, y = _separable(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator = mtstats.IndependentClassifier(alpha=0.01).fit(X, y)
    assert estimator.converged_ and np.all(np.abs(estimator.coef_) < 50)


@pytest.mark.parametrize("name", ["IndependentRegressor", "IndependentClassifier"])
def test_one_zero_task_weight_drops_that_task_from_the_loss(name, rng):
    """A single zero weight is allowed: that task's loss vanishes, so the
    other (separable) tasks fit as if it were absent, and its coefficients
    are the penalty's minimiser, zero."""
    X = rng.standard_normal((60, 3))
    Y = X @ rng.standard_normal((3, 3)) + rng.standard_normal((60, 3))
    if name.endswith("Classifier"):
        Y = (Y > 0).astype(int)
    estimator = getattr(mtstats, name)
    weighted = estimator(alpha=0.05, tol=1e-10, task_weight=[0.0, 1.0, 1.0]).fit(X, Y)
    alone = estimator(alpha=0.05, tol=1e-10).fit(X, Y[:, 1:])
    np.testing.assert_allclose(weighted.coef_[1:], alone.coef_, atol=1e-6)
    np.testing.assert_allclose(weighted.coef_[0], 0.0, atol=1e-12)
