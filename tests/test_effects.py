"""Effect-size, months, ICC, MDES and Holm formulas against hand-computed values."""

import math

import numpy as np
import pytest
from scipy import stats

from evaluation import effects


def test_hedges_g_hand_computed():
    # s_pooled = sqrt((9*16 + 19*25) / 28) = sqrt(619/28); omega = 1 - 3/(4*30 - 9)
    s = math.sqrt((9 * 16 + 19 * 25) / 28)
    omega = 1 - 3 / 111
    assert effects.pooled_sd(4.0, 5.0, 10, 20) == pytest.approx(s, rel=1e-12)
    assert effects.hedges_g(3.0, 4.0, 5.0, 10, 20) == pytest.approx(omega * 3.0 / s, rel=1e-12)
    assert effects.hedges_g(3.0, 4.0, 5.0, 10, 20) == pytest.approx(0.6208057, abs=1e-6)


def test_cox_index_hand_computed_and_undefined():
    # logit(0.3) - logit(0.2) = log(0.3/0.7) - log(0.25) = 0.5389965
    omega = 1 - 3 / (4 * 100 - 9)
    assert effects.cox_index(0.3, 0.2, 50, 50) == pytest.approx(omega * 0.5389965 / 1.65,
                                                                abs=1e-7)
    assert effects.cox_from_log_odds(-1.65, 10, 10) == pytest.approx(-(1 - 3 / 71))
    with pytest.raises(ValueError, match=r"`p_comparison` should be strictly between 0 and 1"):
        effects.cox_index(0.5, 1.0, 10, 10)


@pytest.mark.parametrize("es, months", [
    (0.0, 0), (0.01, 0), (0.02, 1), (0.09, 1), (0.1, 2), (0.18, 2), (0.19, 3), (0.26, 3),
    (0.27, 4), (0.44, 5), (0.45, 6), (0.52, 6), (0.53, 7), (0.69, 8), (0.7, 9), (0.87, 10),
    (0.88, 11), (0.96, 12), (1.0, 12), (1.7, 12), (-0.2, -3), (-0.45, -6), (0.184, 2),
    (0.186, 3), (-0.004, 0),
])
def test_months_progress_follows_eef_toolkit_table(es, months):
    assert effects.months_progress(es) == months


def test_months_progress_nan():
    assert math.isnan(effects.months_progress(float("nan")))


def test_icc_anova_hand_computed():
    # groups a: 1,2,3 (mean 2), b: 11,12,13 (mean 12); MSW = 4/4 = 1; MSB = 3*(25+25)/1 = 150
    # n0 = 3: ICC = (150 - 1) / (150 + 2*1) = 149/152
    y = [1, 2, 3, 11, 12, 13]
    assert effects.icc_anova(y, list("aaabbb")) == pytest.approx(149 / 152)
    assert effects.icc_anova([1, 2, 1, 2], list("aabb")) == 0.0           # truncated at 0
    assert math.isnan(effects.icc_anova([1, 2, 3], list("aaa")))            # one group


def test_icc_anova_recovers_simulated_icc():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(200), 30)
    y = rng.normal(0, math.sqrt(0.2), 200)[g] + rng.normal(0, math.sqrt(0.8), len(g))
    assert effects.icc_anova(y, g) == pytest.approx(0.2, abs=0.04)


def test_mdes_within_hand_computed():
    m = stats.t.ppf(0.975, 10) + stats.t.ppf(0.8, 10)
    p = 196 / 4990
    expected = m * math.sqrt((1 - 0.15) * (1 - 0.5) / (p * (1 - p) * 4990))
    assert effects.mdes(196, 4794, 11, 0.15, r2_pupil=0.5) == pytest.approx(expected)
    with_het = m * math.sqrt(0.15 * 0.5 / 11 + (1 - 0.15) * (1 - 0.5) / (p * (1 - p) * 4990))
    assert effects.mdes(196, 4794, 11, 0.15, r2_pupil=0.5, omega=0.5) == pytest.approx(with_het)


def test_mdes_cluster_design_matches_bloom_formula():
    # J = 40 schools, half treated, 25 pupils each, rho = .2, R2 = .5 at both levels
    m = stats.t.ppf(0.975, 38) + stats.t.ppf(0.8, 38)
    expected = m * math.sqrt(0.2 * 0.5 / (0.25 * 40) + 0.8 * 0.5 / (0.25 * 40 * 25))
    got = effects.mdes(500, 500, 40, 0.2, r2_pupil=0.5, r2_school=0.5, design="cluster")
    assert got == pytest.approx(expected)


def test_mdes_errors_and_degenerate_df():
    with pytest.raises(ValueError, match=r"`design` should be one of \['cluster', 'within'\]; "
                                         r"got 'blocked'"):
        effects.mdes(10, 10, 4, 0.1, design="blocked")
    with pytest.raises(ValueError, match=r"`icc` should be between 0 and 1; got 1.5"):
        effects.mdes(10, 10, 4, 1.5)
    assert math.isnan(effects.mdes(10, 10, 1, 0.1))     # one school: df = 0


def test_indicative_rule():
    assert effects.is_indicative(0.21, 0.2)
    assert not effects.is_indicative(0.2, 0.2)
    assert effects.is_indicative(float("nan"), 0.2)


def test_holm_hand_computed_and_nan():
    # sorted 0.01, 0.03, 0.04 (m = 3): 0.03, 0.06, max(0.06, 0.04) = 0.06
    got = effects.holm([0.04, 0.01, np.nan, 0.03])
    assert got[[0, 1, 3]] == pytest.approx([0.06, 0.03, 0.06])
    assert math.isnan(got[2])


def test_holm_agrees_with_statsmodels_including_ties_caps_and_edge_sizes():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(7)
    for m in (1, 2, 5, 12, 40):
        p = rng.beta(0.4, 1.0, m)
        p[: m // 3] = p[0]  # ties
        assert effects.holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-15)
    assert effects.holm([0.6, 0.7]).tolist() == [1.0, 1.0]  # capped at 1
    assert np.isnan(effects.holm([np.nan, np.nan])).all()
    assert effects.holm([]).shape == (0,)


def test_kish_n():
    assert effects.kish_n([1, 1, 1, 1]) == 4
    assert effects.kish_n([2, 0.5, 0.5]) == pytest.approx(9 / 4.5)
