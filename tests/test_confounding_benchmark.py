"""Observed-covariate E-values: against R's tipr, and as the benchmark of the fragile rule."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.confounding import observed_covariate_e_value, outcome_confounding
from evaluation.confounding_benchmark import covariate_benchmarks, strongest

FIX = Path(__file__).parent / "fixtures" / "confounding"


@pytest.mark.parametrize("row", pd.read_csv(FIX / "observed_covariate_evalues.csv",
                                            keep_default_na=False).to_dict("records"))
def test_observed_covariate_e_value_matches_tipr(row):
    bounds = [row["lb"], row["ub"], row["lb_adj"], row["ub_adj"]]
    if row["transform"] == "OR":          # tipr's transform: the square root of each bound
        bounds = [math.sqrt(b) for b in bounds]
    assert observed_covariate_e_value(*bounds) == pytest.approx(row["e_value"], abs=1e-12)


def test_an_interval_that_includes_no_effect_has_no_benchmark():
    assert math.isnan(observed_covariate_e_value(0.9, 1.4, 1.1, 1.6))


def _world(n_schools=20, per=60, seed=3, strength=1.0):
    rng = np.random.default_rng(seed)
    n = n_schools * per
    d = pd.DataFrame({"school_id": np.repeat(np.arange(n_schools), per),
                      "x": rng.normal(size=n), "z": rng.normal(size=n)})
    d["em"] = (strength * d["x"] + rng.normal(size=n) > 0).astype(int)
    d["y"] = 0.6 * d["em"] + strength * d["x"] + 0.05 * d["z"] + rng.normal(size=n)
    d["weights"] = 1.0
    return d


def test_a_strong_measured_confounder_is_the_benchmark_and_a_weak_one_is_not():
    b = covariate_benchmarks(_world(), "y", "gaussian", ["x", "z"], outcome_range=(-20, 20))
    value, name = strongest(b)
    assert name == "x" and value > 1.5
    assert b.set_index("covariate").loc["z", "e_value"] < 1.2


def test_a_finding_below_its_benchmark_is_fragile_and_above_it_is_not():
    row = {"outcome": "y", "family": "gaussian", "estimate": 2.0,
           "effect_size": 0.5, "es_ci_low": 0.35, "es_ci_high": 0.65}
    plain = outcome_confounding(row)
    assert not plain.fragile and plain.threshold == 1.5
    above = outcome_confounding(row, benchmark=(plain.e_value_ci - 0.1, "x"))
    below = outcome_confounding(row, benchmark=(plain.e_value_ci + 0.1, "x"))
    assert not above.fragile and below.fragile and below.benchmark_covariate == "x"
