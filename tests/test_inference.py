"""Cluster-robust variances and the wild cluster bootstrap against brute force and hand cases."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.inference import (
    WEBB_POINTS,
    ClusterDesign,
    bootstrap_pvalue,
    cluster_vcov,
    cr1_factor,
    critical_value,
    logit_wild_bootstrap,
    reparameterise,
    satterthwaite_df,
    webb_weights,
    wild_cluster_bootstrap,
)


def _data(seed=0, n_groups=7, size=25):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), size)
    n = len(g)
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    w = rng.uniform(0.5, 2.0, n)
    y = X @ [1.0, 0.0, 0.5] + rng.normal(size=n_groups)[g] + rng.normal(size=n)
    return X, y, w, g


def test_cr0_of_a_mean_is_hand_computed():
    # intercept-only, unit weights: Var = sum_g (sum_i e_i)^2 / n^2
    e = np.array([1.0, -2.0, 0.5, 0.5, 3.0, -3.0])
    g = np.array([0, 0, 1, 1, 2, 2])
    d = ClusterDesign(np.ones((6, 1)), e, np.ones(6), np.ones(6), g)
    assert cluster_vcov(d, "CR0")[0, 0] == pytest.approx(((-1) ** 2 + 1 ** 2 + 0) / 36)
    assert cluster_vcov(d, "CR1")[0, 0] == pytest.approx(2 / 36 * cr1_factor(6, 1, 3))


def test_cr1_factor_is_sandwich_hc1_with_cadjust():
    assert cr1_factor(100, 3, 10) == pytest.approx(10 / 9 * 99 / 97)


def test_cluster_vcov_errors_name_argument():
    d = ClusterDesign(np.ones((2, 1)), np.zeros(2), np.ones(2), np.ones(2), np.zeros(2, int))
    with pytest.raises(ValueError, match=r"`kind` should be one of \['CR0', 'CR1', 'CR2', "
                                         r"'CR3'\]; got 'HC3'"):
        cluster_vcov(d, "HC3")
    with pytest.raises(ValueError, match="at least 2 clusters; got 1"):
        cluster_vcov(d, "CR1")


def test_cr2_equals_cr0_scaled_when_design_is_balanced_intercept_only():
    # one regressor (intercept), equal clusters of m, unit weights: H_gg = J/n, and
    # (I - J/n)^(-1/2) scales the within-cluster sum by 1/sqrt(1 - m/n)
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(5), 4)
    e = rng.normal(size=20)
    e -= e.mean()
    d = ClusterDesign(np.ones((20, 1)), e, np.ones(20), np.ones(20), g)
    assert cluster_vcov(d, "CR2")[0, 0] == pytest.approx(cluster_vcov(d, "CR0")[0, 0] / 0.8)


def test_webb_weights_points_and_moments():
    w = webb_weights(11, 60000, np.random.default_rng(2))
    assert set(np.unique(w)) == set(WEBB_POINTS)
    assert np.mean(WEBB_POINTS) == pytest.approx(0)
    assert np.mean(WEBB_POINTS ** 2) == pytest.approx(1)
    assert w.mean() == pytest.approx(0, abs=0.01)
    assert (w ** 2).mean() == pytest.approx(1, abs=0.01)


def _brute_force_wcr(X, y, w, g, column, v):
    """Refit WLS and CR1 for each bootstrap sample: the textbook WCR."""
    n, k = X.shape
    G = g.max() + 1
    xr = np.delete(X, column, axis=1)
    br = np.linalg.lstsq(xr * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    fit_r, e_r = xr @ br, y - xr @ br
    bread = np.linalg.inv(X.T @ (X * w[:, None]))
    out = []
    for vb in v:
        ys = fit_r + e_r * vb[g]
        b = bread @ X.T @ (w * ys)
        u = ys - X @ b
        scores = np.zeros((G, k))
        np.add.at(scores, g, X * (w * u)[:, None])
        vc = cr1_factor(n, k, G) * bread @ scores.T @ scores @ bread
        out.append(b[column] / np.sqrt(vc[column, column]))
    return np.array(out)


def test_wild_cluster_bootstrap_closed_form_equals_brute_force():
    X, y, w, g = _data()
    res = wild_cluster_bootstrap(X, y, w, g, 1, n_boot=50, random_state=7)
    v = webb_weights(7, 50, np.random.default_rng(7))
    assert res.t_star == pytest.approx(_brute_force_wcr(X, y, w, g, 1, v), rel=1e-9)
    assert res.p == pytest.approx(np.mean(np.abs(res.t_star) >= abs(res.statistic)))
    assert res.critical == np.sort(np.abs(res.t_star))[::-1][2]   # ceil(0.05 * 50) = 3rd


def test_wild_cluster_bootstrap_is_deterministic_given_seed():
    X, y, w, g = _data(3)
    a = wild_cluster_bootstrap(X, y, w, g, 1, n_boot=99, random_state=11)
    b = wild_cluster_bootstrap(X, y, w, g, 1, n_boot=99, random_state=11)
    assert np.array_equal(a.t_star, b.t_star) and a.p == b.p


def test_logit_bootstrap_statistic_is_close_to_the_wald_t():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(12), 80)
    n = len(g)
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [-0.2, 0.15, 0.8])))).astype(float)
    w = np.ones(n)
    full = sm.GLM(y, X, family=sm.families.Binomial()).fit()
    mu = full.fittedvalues
    d = ClusterDesign(X, y - mu, w, mu * (1 - mu), g)
    wald = full.params[1] / np.sqrt(cluster_vcov(d, "CR1")[1, 1])
    restricted = sm.GLM(y, X[:, [0, 2]], family=sm.families.Binomial()).fit().fittedvalues
    res = logit_wild_bootstrap(X, y, w, g, 1, restricted, n_boot=199, random_state=1)
    assert res.statistic == pytest.approx(wald, abs=0.05)
    assert 1.5 < res.critical < 3.5


def test_logit_bootstrap_survives_fitted_probabilities_of_exactly_zero_or_one():
    rng = np.random.default_rng(6)
    g = np.repeat(np.arange(6), 40)
    X = np.column_stack([np.ones(240), rng.integers(0, 2, 240)])
    y = rng.integers(0, 2, 240).astype(float)
    mu = np.full(240, 0.4)
    y[:5], mu[:5] = 1.0, 1.0          # fitted probability 1 where y = 1
    res = logit_wild_bootstrap(X, y, np.ones(240), g, 1, mu, n_boot=99, random_state=1)
    assert np.isfinite(res.critical) and np.isfinite(res.p)


# ----------------------------------------------------------------- against wildboottest

WILD = Path(__file__).parent / "fixtures" / "wild"
GLM_INPUT = Path(__file__).parent / "fixtures" / "glm" / "input.csv"
HYPOTHESES = {"main:em": ("main", ["em"]), "gap:em": ("gap", ["em"]),
              "gap:em+em:fsm": ("gap", ["em", "em:fsm"]), "gap:em:fsm": ("gap", ["em:fsm"])}


@pytest.mark.parametrize("hypothesis", list(HYPOTHESES))
def test_wcr_equals_wildboottest_with_shared_draws(hypothesis):
    # shared.csv: wildboottest 0.3.2 (WCR, CR1 "11", Webb weights) with the draws in
    # draws.csv, on sqrt(w)-scaled OLS = our weighted least squares (make_fixtures.py).
    data = pd.read_csv(GLM_INPUT)
    kind, terms = HYPOTHESES[hypothesis]
    X = pd.read_csv(WILD / f"design_{kind}.csv")
    ref = pd.read_csv(WILD / "shared.csv").set_index("hypothesis").loc[hypothesis]
    draws = pd.read_csv(WILD / "draws.csv").to_numpy()
    groups = pd.factorize(data["school_id"], sort=True)[0]
    contrast = np.isin(X.columns, terms).astype(float)
    xt, j = reparameterise(X.to_numpy(), contrast)
    res = wild_cluster_bootstrap(xt, data["y"].to_numpy(float), data["weights"].to_numpy(float),
                                 groups, j, draws=draws)
    t_boot = ref[[f"t{i}" for i in range(999)]].to_numpy(float)
    np.testing.assert_allclose(res.t_star, t_boot, rtol=1e-8)
    assert res.statistic == pytest.approx(ref["t_stat"], rel=1e-10)
    assert res.p == pytest.approx(ref["p"], abs=1e-12)   # no ties: ">=" and ">" agree


def test_model_p_values_equal_wildboottest_with_the_same_draws_and_agree_by_monte_carlo():
    # fit_outcome draws Webb weights as rng.integers(0, 6, (B, G)): with the seed of
    # draws.csv they are the same draws, so each reported term's p is wildboottest's
    from evaluation.models import fit_outcome

    data = pd.read_csv(GLM_INPUT).astype({c: bool for c in ["em", "fsm", "female", "eal"]})
    draws = pd.read_csv(WILD / "draws.csv").to_numpy()
    assert np.array_equal(webb_weights(9, 999, np.random.default_rng(20240611)), draws)
    covs = ["ks2_aps", "fsm", "female", "sen", "eal", "ethnicity"]
    shared = pd.read_csv(WILD / "shared.csv").set_index("hypothesis")
    mc = pd.read_csv(WILD / "montecarlo.csv").set_index("hypothesis")
    terms = {"main:em": ("main", "effect on EM pupils"),
             "gap:em": ("gap", "effect for other pupils"),
             "gap:em+em:fsm": ("gap", "effect for FSM pupils"),
             "gap:em:fsm": ("gap", "change in the FSM gap")}
    fits = {}
    for kind in ("main", "gap"):
        for n_boot, seed in ((999, 20240611), (19999, 3)):
            res = fit_outcome(data, "y", "gaussian", covs, inference="wild", n_boot=n_boot,
                              random_state=seed, interaction="fsm" if kind == "gap" else None)
            fits[kind, n_boot] = res.contrasts.set_index("term")
    for hypothesis, (kind, term) in terms.items():
        row = fits[kind, 999].loc[term]
        assert row["estimate"] / row["se"] == pytest.approx(shared.loc[hypothesis, "t_stat"],
                                                            rel=1e-9)
        assert row["p"] == pytest.approx(shared.loc[hypothesis, "p"], abs=1e-12)
        # independent draws, B = 19999 each: within 4 Monte Carlo standard errors
        p_ref, p = mc.loc[hypothesis, "p"], fits[kind, 19999].loc[term, "p"]
        assert abs(p - p_ref) < 4 * np.sqrt(2 * p_ref * (1 - p_ref) / 19999)


def test_critical_value_makes_p_below_alpha_exactly_an_interval_excluding_zero():
    rng = np.random.default_rng(9)
    for b in (19, 99, 199, 999, 1000):
        t_star = np.round(rng.standard_t(4, size=b), 2)       # ties included
        for alpha in (0.01, 0.05, 0.1, 0.2):
            crit = critical_value(t_star, alpha)
            for t in np.concatenate([np.abs(t_star), np.linspace(0, 6, 61)]):
                assert (bootstrap_pvalue(t, t_star) < alpha) == (abs(t) > crit)


def test_satterthwaite_df_of_a_balanced_mean_difference_is_g_minus_1_per_arm():
    # clusters nested in two arms, equal sizes, unit weights: under the working model the
    # Bell-McCaffrey df of the difference in means is that of the pooled two-sample t, G - 2
    g = np.repeat(np.arange(8), 5)
    arm = (g >= 4).astype(float)
    X = np.column_stack([np.ones(40), arm])
    d = ClusterDesign(X, np.zeros(40), np.ones(40), np.ones(40), g)
    assert satterthwaite_df(d, [0.0, 1.0]) == pytest.approx(6.0)


@pytest.mark.parametrize("shape", [(0,), (7,), (500, 3), (500, 0), (40, 2, 3)])
def test_cluster_sums_are_numpy_s_add_at_to_the_last_bit(shape):
    """Issue 17: cluster sums moved from np.add.at to np.bincount, which adds in the same
    order: the same floats, NaN, infinities and -0.0 included, for any shape."""
    from evaluation.inference import _sum_by

    rng = np.random.default_rng(3)
    values = rng.normal(size=shape) * rng.choice([1e-12, 1.0, 1e12], size=shape)
    if values.size:
        flat = values.reshape(-1)
        flat[::11] = -0.0
        flat[5::97] = np.nan
        flat[7::131] = np.inf
    groups = rng.integers(0, 6, size=shape[0]).astype(np.int32)
    expected = np.zeros((6, *shape[1:]))
    np.add.at(expected, groups, values)
    got = _sum_by(values, groups, 6)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_cluster_sums_refuse_a_code_outside_the_groups():
    from evaluation.inference import _sum_by

    for codes in ([0, 1, 3], [0, -1, 1]):
        with pytest.raises(ValueError, match="expected codes 0 to 1"):
            _sum_by(np.ones(3), np.array(codes), 2)
    with pytest.raises(ValueError, match="expected integer codes"):   # np.add.at: a mask
        _sum_by(np.ones(2), np.array([True, False]), 2)
