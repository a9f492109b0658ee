"""E-values and Rosenbaum bounds against R's EValue 4.1.4 and rbounds 2.2 (fixtures) and
the worked example of VanderWeele & Ding (2017)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.confounding import (
    FRAGILE_E_VALUE,
    e_values,
    gamma_critical,
    outcome_confounding,
    rr_from_or,
    rr_from_smd,
    wilcoxon_bounds,
)

FIX = Path(__file__).parent / "fixtures" / "confounding"
EVALUES = pd.read_csv(FIX / "evalues.csv")


def test_published_worked_example():
    # VanderWeele & Ding (2017), Ann Intern Med 167:268: RR 3.9 (1.8 to 8.7) -> 7.2 and 3.0
    point, ci = e_values(3.9, 1.8, 8.7)
    assert round(point, 1) == 7.3 and round(ci, 1) == 3.0


@pytest.mark.parametrize("i", range(len(EVALUES)))
def test_e_values_match_r_evalue(i):
    row = EVALUES.iloc[i]
    if row["kind"] == "MD":
        d, se = row["est"], row["extra"]
        # EValue's evalues.MD: RR = exp(0.91 d), interval exp(0.91 d -/+ 1.78 se)
        lo, hi = d - 1.78 * se / 0.91, d + 1.78 * se / 0.91
        rr, rr_lo, rr_hi = rr_from_smd(d), rr_from_smd(lo), rr_from_smd(hi)
    elif row["kind"] == "RR":
        rr, rr_lo, rr_hi = row["est"], row["lo"], row["hi"]
    else:
        common = row["kind"] == "OR_common"
        rr, rr_lo, rr_hi = (rr_from_or(row[k], common) for k in ("est", "lo", "hi"))
    assert (rr, rr_lo, rr_hi) == pytest.approx((row["rr"], row["rr_lo"], row["rr_hi"]), rel=1e-9)
    point, ci = e_values(rr, rr_lo, rr_hi)
    want_ci = row["e_lower"] if pd.notna(row["e_lower"]) else row["e_upper"]
    assert point == pytest.approx(row["e_point"], rel=1e-9)
    assert ci == pytest.approx(want_ci, rel=1e-9)


@pytest.mark.parametrize("case", ["shift", "small", "binary"])
def test_rosenbaum_bounds_match_rbounds_psens(case):
    pairs = pd.read_csv(FIX / f"psens_{case}_pairs.csv")
    bounds = pd.read_csv(FIX / f"psens_{case}_bounds.csv")
    diffs = pairs["x"] - pairs["y"]
    for _, b in bounds.iterrows():
        low, up = wilcoxon_bounds(diffs, b["Gamma"])
        assert round(low, 4) == pytest.approx(b["Lower bound"], abs=1e-12)
        assert round(up, 4) == pytest.approx(b["Upper bound"], abs=1e-12)
    # the critical Gamma lies where rbounds' upper bound crosses 0.05 on its grid
    g = gamma_critical(diffs, 0.05)
    below = bounds.loc[bounds["Upper bound"] < 0.05, "Gamma"]
    if bounds["Upper bound"].iloc[0] >= 0.05:
        assert g == 1.0
    else:
        assert below.max() <= g + 1e-9 and g <= below.max() + 0.05


def test_fragile_rule():
    strong = outcome_confounding({"outcome": "y", "family": "gaussian", "estimate": 9.0,
                                  "effect_size": 0.8, "es_ci_low": 0.6, "es_ci_high": 1.0})
    assert strong.e_value_ci > FRAGILE_E_VALUE and not strong.fragile
    crossing = outcome_confounding({"outcome": "y", "family": "gaussian", "estimate": 1.0,
                                    "effect_size": 0.1, "es_ci_low": -0.1, "es_ci_high": 0.3})
    assert crossing.e_value_ci == 1.0 and crossing.fragile
    missing = outcome_confounding({"outcome": "y", "family": "binomial", "estimate": 0.1,
                                   "odds_ratio": np.nan, "or_ci_low": np.nan,
                                   "or_ci_high": np.nan})
    assert missing.fragile


def test_pairs_give_gamma_in_the_estimates_direction():
    rng = np.random.default_rng(3)
    n = 150
    y_t, y_c = rng.normal(-0.7, 1, n), rng.normal(0, 1, n)
    pairs = pd.DataFrame({"subclass": np.repeat(np.arange(n), 2), "em": np.tile([1, 0], n),
                          "y": np.column_stack([y_t, y_c]).ravel()})
    row = {"outcome": "y", "family": "gaussian", "estimate": -0.7, "effect_size": -0.7,
           "es_ci_low": -0.9, "es_ci_high": -0.5}
    r = outcome_confounding(row, pairs=pairs)
    assert r.n_pairs == n and r.gamma_critical > 2
    assert r.gamma_critical == pytest.approx(gamma_critical(y_c - y_t))
