"""A propensity model with aliased columns is fitted as R's glm fits it (review of issue 13).

R's glm drops the columns its pivoted QR finds aliased (a constant, a duplicate, a sum of
other columns) and fits the rest. Ours raised a singular-matrix error for the logit and
gave other scores for probit and cloglog (58 of 58 treated units another control). The
fixture is MatchIt 4.7.2's (``tests/fixtures/matchit/aliased/make_fixture.R``).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.matching import match

HERE = Path(__file__).parent / "fixtures" / "matchit" / "aliased"
R = pd.read_csv(HERE / "weights.csv", dtype={"id": str, "weight": str, "distance": str})
SPECS = {
    "logit_c0": (["x1", "x2", "c0"], "logit", "nearest"),
    "logit_dup": (["x1", "x1dup", "x2"], "logit", "nearest"),
    "probit_sum": (["x1", "x2", "x9"], "probit", "nearest"),
    "cloglog_c0": (["x1", "x2", "c0"], "cloglog", "nearest"),
    "probit_dup": (["x1", "x1dup", "x2"], "probit", "nearest"),
    "full_cloglog_sum": (["x1", "x2", "x9"], "cloglog", "full"),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_aliased_columns_are_dropped_as_r_drops_them(name):
    data = pd.read_csv(HERE / "data.csv", dtype={"id": str}).set_index("id")
    covariates, link, method = SPECS[name]
    r = R[R["spec"] == name].set_index("id").loc[data.index]
    m = match(data, "treat", covariates, link=link, method=method)
    np.testing.assert_allclose(m.distance.to_numpy(), r["distance"].astype(float), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(m.weights.to_numpy(), r["weight"].astype(float), rtol=1e-9,
                               atol=1e-12)
