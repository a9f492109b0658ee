"""``distance_options`` (R's glm.control) makes the propensity model stop where R's glm stops.

Fixture: tests/fixtures/matchit/glm_control/fits.csv (make_fixtures.R, R 4.2.2's ``glm``) on
120,000 rows built without a random number generator (golden-ratio sequences), rebuilt here
by the same arithmetic. R's fit with ``epsilon = 1e-4`` stops after 4 iterations, short of
the maximum-likelihood estimate; following R's iterations reproduces that stop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.matching import match
from evaluation.matching.distance import propensity_score

FIX = Path(__file__).parent / "fixtures" / "matchit" / "glm_control" / "fits.csv"


def _rows(n: int = 120_000) -> pd.DataFrame:
    i = np.arange(1, n + 1, dtype=float)

    def u(a):
        return i * a - np.floor(i * a)

    x1 = 4 * u(0.6180339887498949) - 2
    x2 = (u(0.7548776662466927) < 0.3).astype(float)
    p = 1 / (1 + np.exp(-(-2.5 + 0.8 * x1 + 0.6 * x2)))
    return pd.DataFrame({"y": (u(0.5698402909980532) < p).astype(int), "x1": x1, "x2": x2})


@pytest.fixture(scope="module")
def rows():
    return _rows()


@pytest.mark.parametrize("eps", [1e-8, 1e-4])
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_r_iterations_reproduce_glm(rows, eps, link):
    r = pd.read_csv(FIX, dtype={"estimate": str, "fitted_1": str, "fitted_n": str})
    r = r[(r["epsilon"] == eps) & (r["link"] == link)]
    assert int(rows["y"].sum()) == r["n_treated"].iloc[0], "the same rows as R's"
    ps, fit, _ = propensity_score(rows, "y", ["x1", "x2"], link,
                                  control={"epsilon": eps, "maxit": 25})
    assert fit.iterations == r["iter"].iloc[0]
    np.testing.assert_allclose(fit.params, r["estimate"].astype(float), rtol=1e-10, atol=0)
    np.testing.assert_allclose(ps.iloc[[0, -1]], [float(r["fitted_1"].iloc[0]),
                                                   float(r["fitted_n"].iloc[0])],
                               rtol=1e-10, atol=0)


def test_default_fit_converges_past_rs_loose_stop(rows):
    """Without the option the fit is the MLE, which R's epsilon = 1e-4 stop is not."""
    r = pd.read_csv(FIX)
    r = r[(r["epsilon"] == 1e-4) & (r["link"] == "logit")]
    _, fit, _ = propensity_score(rows, "y", ["x1", "x2"])
    gap = np.abs(fit.params - r["estimate"].to_numpy(float)).max()
    assert gap > 1e-5


def test_match_takes_matchits_distance_options(rows):
    small = rows.iloc[:3000]
    a = match(small, "y", ["x1", "x2"], distance_options={"control": {"epsilon": 1e-4}})
    b = match(small, "y", ["x1", "x2"], distance_options={"epsilon": 1e-4, "maxit": 25})
    pd.testing.assert_series_equal(a.distance, b.distance)
    assert a.spec["distance_options"] == {"epsilon": 1e-4, "maxit": 25}
    with pytest.raises(ValueError, match=r"unsupported key\(s\) \['epsilon_'\]"):
        match(small, "y", ["x1", "x2"], distance_options={"epsilon_": 1e-8})
