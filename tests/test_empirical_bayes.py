"""Empirical-Bayes shrinkage of per-task effects (``_empirical_bayes``).

Expected values come from the conjugate normal closed form, cvxpy (the
penalised maximum-likelihood mixture weights are a convex problem), direct
numerical integration, and simulation of the false sign rate.
"""

import numpy as np
import pytest
from scipy import integrate, stats

from mtstats.report import _empirical_bayes as eb


def test_posterior_of_one_normal_component_is_conjugate():
    x, s = np.array([1.3, -0.4, 2.0]), np.array([0.5, 1.0, 2.0])
    mode, sigma = 0.7, 0.8
    weights = np.array([0.0, 1.0])  # all prior mass on N(mode, sigma^2)
    post_w, post_mean, post_sd = eb._posterior(x, s, mode, np.array([sigma]),
                                               weights)
    mean = np.sum(post_w * post_mean, axis=1)
    shrink = sigma**2 / (sigma**2 + s**2)
    np.testing.assert_allclose(mean, mode + shrink * (x - mode), rtol=1e-12)
    np.testing.assert_allclose(post_sd[:, 1], np.sqrt(shrink) * s, rtol=1e-12)


def test_lfsr_and_quantiles_match_numerical_integration():
    x, s = np.array([0.9]), np.array([0.6])
    mode, sigmas = 0.5, np.array([0.3, 1.2])
    weights = np.array([0.3, 0.5, 0.2])  # point mass at 0, then the normals
    post_w, post_mean, post_sd = eb._posterior(x, s, mode, sigmas, weights)
    # Unnormalised posterior by hand: prior density times the likelihood.
    like = stats.norm(x[0], s[0]).pdf
    atom = weights[0] * like(0.0)

    def density(theta):
        prior = sum(w * stats.norm(mode, sd).pdf(theta)
                    for w, sd in zip(weights[1:], sigmas, strict=True))
        return prior * like(theta)

    positive = integrate.quad(density, 0, np.inf)[0]
    negative = integrate.quad(density, -np.inf, 0)[0]
    total = atom + positive + negative
    zero = np.zeros(1)
    below = eb._mixture_cdf(zero, post_w, post_mean, post_sd, left=True)[0]
    at_most = eb._mixture_cdf(zero, post_w, post_mean, post_sd, left=False)[0]
    assert below == pytest.approx(negative / total, rel=1e-7)
    assert at_most - below == pytest.approx(atom / total, rel=1e-7)
    q = eb._quantiles(0.9, post_w, post_mean, post_sd)[0]
    mass = (atom + negative + integrate.quad(density, 0, q)[0]) / total
    assert mass == pytest.approx(0.9, abs=1e-6)


def test_mixture_weights_match_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 0.5, 6), rng.normal(1.5, 0.7, 10)])
    s = rng.uniform(0.3, 0.9, x.size)
    task_weights = x.size * rng.dirichlet(np.ones(x.size))
    mode = 1.2
    sigmas = eb._grid(x, s, mode)
    loglik = eb._component_loglik(x, s, mode, sigmas)
    weights, objective = eb._fit_weights(loglik, eb.NULL_PENALTY, task_weights)
    pi = cp.Variable(loglik.shape[1], nonneg=True)
    scale = loglik.max(axis=1, keepdims=True)
    prob = cp.Problem(cp.Maximize(
        task_weights @ cp.log(np.exp(loglik - scale) @ pi)
        + (eb.NULL_PENALTY - 1) * cp.log(pi[0])), [cp.sum(pi) == 1])
    prob.solve(solver="CLARABEL")
    reference = prob.value + task_weights @ scale[:, 0]
    assert objective == pytest.approx(reference, abs=1e-5 * abs(reference))
    np.testing.assert_allclose(weights[0], pi.value[0], atol=2e-3)


def test_svalues_are_running_means_of_sorted_lfsr():
    lfsr = np.array([0.3, 0.01, np.nan, 0.05, 0.2])
    expected = np.array([(0.01 + 0.05 + 0.2 + 0.3) / 4, 0.01, np.nan,
                         0.03, (0.01 + 0.05 + 0.2) / 3])
    np.testing.assert_allclose(eb.svalues(lfsr), expected)


def test_shape_mismatch_and_unusable_rows():
    with pytest.raises(ValueError, match="shape"):
        eb.shrink_effects([1.0, 2.0], [1.0])
    effects, prior = eb.shrink_effects([1.0, np.nan, 0.5, 2.0], [1.0, 1.0, 0.0, 0.5])
    assert effects.loc[[1, 2], "lfsr"].isna().all()
    assert effects.loc[[0, 3], "lfsr"].notna().all()
    assert prior["n_fitted"] == 2


# ------------------------------------------------------------ simulations
# Normal means x_t ~ N(theta_t, s_t^2) with 12 tasks, as in a report on a
# dozen tasks; a call is false when its sign differs from sign(theta_t)
# (a call on theta_t = 0 is always false). Holm is the per-task z test after
# Holm's adjustment, the report's family-wise answer.

N_TASKS = 12
SCENARIOS = {
    "null": lambda rng: np.zeros(N_TASKS),
    "shared": lambda rng: np.full(N_TASKS, 0.8),
    "mixed": lambda rng: rng.choice([1.5, -1.5, 0.0], N_TASKS, p=[0.5, 0.25, 0.25]),
    "mostly_null": lambda rng: rng.choice([1.5, -1.5, 0.0], N_TASKS, p=[0.3, 0.2, 0.5]),
    "one_hurt": lambda rng: np.where(np.arange(N_TASKS) == 0, -2.0, 0.8),
}


def _simulate(scenario, n_reps, seed=0):
    """Mean false sign rate and power of the EB calls and of Holm, and the
    Monte-Carlo standard error of the EB false sign rate (``eb_fsr_se``)."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(seed)
    out = {"eb_fsr": [], "eb_power": [], "holm_fsr": [], "holm_power": []}
    for rep in range(n_reps):
        theta = SCENARIOS[scenario](rng)
        s = rng.uniform(0.5, 1.5, N_TASKS)
        x = rng.normal(theta, s)
        effects, _ = eb.shrink_effects(x, s, random_state=rep)
        reject = multipletests(2 * stats.norm.sf(np.abs(x / s)), 0.05, "holm")[0]
        for name, sign in (("eb", effects["eb_sign"].to_numpy()),
                           ("holm", np.where(reject, np.sign(x), 0))):
            called = sign != 0
            false = called & (sign != np.sign(theta))
            out[f"{name}_fsr"].append(false.sum() / max(called.sum(), 1))
            nonzero = theta != 0
            right = called & nonzero & (sign == np.sign(theta))
            out[f"{name}_power"].append(right.sum() / max(nonzero.sum(), 1))
    summary = {k: float(np.mean(v)) for k, v in out.items()}
    summary["eb_fsr_se"] = float(np.std(out["eb_fsr"], ddof=1) / np.sqrt(n_reps))
    return summary


def test_global_null_gate_is_exact():
    """Under the global null the gate rejects at its level (uniform p)."""
    rng = np.random.default_rng(7)
    s = rng.uniform(0.5, 1.5, N_TASKS)
    p = np.array([eb.global_null_pvalue(rng.normal(0, s), s) for _ in range(4000)])
    assert np.mean(p <= 0.05) <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 4000)
    assert np.mean(p <= 0.05) >= 0.025  # Bonferroni of two: between a/2 and a


def test_shared_effects_two_replicates_sanity():
    """The first two replicates of the test below, a check of direction only
    (measured: EB calls 24 of the 24 tasks, all with the right sign; Holm
    calls 1). Rates need the replicates of ``pytest -m slow``: the 25 below
    and the 300 of test_false_sign_rate_holds_its_level."""
    result = _simulate("shared", 2)
    assert result["eb_fsr"] == 0
    assert result["eb_power"] > result["holm_power"] + 0.2


@pytest.mark.slow
def test_shared_effects_power_beats_holm():
    result = _simulate("shared", 25)
    assert result["eb_fsr"] <= 0.05
    assert result["eb_power"] > result["holm_power"] + 0.2


def _assert_hurt_task_is_never_called_helped(n_reps):
    rng = np.random.default_rng(3)
    for rep in range(n_reps):
        theta = SCENARIOS["one_hurt"](rng)
        s = rng.uniform(0.3, 0.6, N_TASKS)
        effects, _ = eb.shrink_effects(rng.normal(theta, s), s, random_state=rep)
        assert effects["eb_sign"].iloc[0] <= 0


def test_one_hurt_task_among_helped_is_not_called_helped_in_three_replicates():
    """The first three of the 15 replicates below (the same draws): the
    assertion holds in each replicate, so fewer replicates ask the same."""
    _assert_hurt_task_is_never_called_helped(3)


@pytest.mark.slow
def test_one_hurt_task_among_helped_is_not_called_helped():
    """Negative transfer stands out: the hurt task is never called helped."""
    _assert_hurt_task_is_never_called_helped(15)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["null", "mixed", "mostly_null", "shared"])
def test_false_sign_rate_holds_its_level(scenario):
    """300 replicates; the mean FSR may exceed 0.05 by Monte-Carlo error only
    (a one-sided test at about 2.5%, its standard error below 0.01). Half
    the tasks exactly unaffected ("mostly_null") is the hardest case: its
    FSR measured 0.050 here, 0.062 with another seed (150 replicates): at
    the nominal level, not below it."""
    result = _simulate(scenario, 300)
    assert result["eb_fsr"] <= 0.05 + 2 * result["eb_fsr_se"]
    if scenario in ("mixed", "shared"):
        assert result["eb_power"] > result["holm_power"]
