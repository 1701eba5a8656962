"""scikit-learn checks that cannot pass at an estimator's default tolerance."""

from sklearn.base import is_regressor

#: Families whose penalty has a non-smooth part (L1, L21, L1/L-infinity,
#: nuclear norm, column norms): FISTA approaches their solution at the rate
#: the duality-gap tolerance allows, not to 1e-7 in the predictions.
NON_SMOOTH = ("GroupLasso", "Independent", "Pooled", "Dirty", "SparseLowRank",
              "RobustTraceNorm", "RobustGroupLasso", "Graph")

SAMPLE_WEIGHT_REASON = (
    "the check wants weighted and repeated-row fits to give predictions equal "
    "to 1e-7 relative at the default tol=1e-4, a duality-gap tolerance on the "
    "objective; both are the same objective, but the solver takes different "
    "paths (rows or Gram statistics are chosen by a flop count that depends on "
    "the number of rows), and stops within tol of the optimum on each. "
    "tests/test_sample_weight.py checks the equivalence at tol=1e-10 (coef_ to "
    "1e-6) for every estimator and layout (one per family by default, all of "
    "them with -m slow).")


def tolerance_limited_checks(estimator):
    """``{check name: reason}`` for the sample-weight equivalence checks."""
    name = type(estimator).__name__
    if not (is_regressor(estimator) and name.startswith(NON_SMOOTH)):
        return {}
    return {f"check_sample_weight_equivalence_on_{kind}_data": SAMPLE_WEIGHT_REASON
            for kind in ("dense", "sparse")}
