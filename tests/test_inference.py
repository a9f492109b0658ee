"""Cluster-robust variances and the wild cluster bootstrap against brute force and hand cases."""

import numpy as np
import pytest

from evaluation.inference import (
    WEBB_POINTS,
    ClusterDesign,
    cluster_vcov,
    cr1_factor,
    logit_wild_bootstrap,
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
    with pytest.raises(ValueError, match=r"`kind` should be one of \['CR0', 'CR1', 'CR2'\]; "
                                         r"got 'HC3'"):
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
    assert res.critical == pytest.approx(np.quantile(np.abs(res.t_star), 0.95))


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
