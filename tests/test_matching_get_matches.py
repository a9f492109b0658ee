"""get_matches() rows in MatchIt 4.7.2's order when controls serve several sets.

Fixtures: tests/fixtures/matchit/get_matches (make_fixtures.R there; versions in PROVENANCE).
With replacement or ``reuse_max`` MatchIt lists a set's controls as ``merge(sort = FALSE)``
leaves them: a control met in an earlier set before those first met in this one. The review
of issue 13 found 168 and 150 rows out of R's order on its own data; sets and weights were
already equal.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import fixture_data

from evaluation.matching import match

ROWS = pd.read_csv(Path(__file__).parent / "fixtures" / "matchit" / "get_matches" / "rows.csv")
TIES = ["prior", "fsm", "female"]
PEOPLE = ["age", "educ", "race", "married", "re74"]
SPECS = {
    "ties_replace_ratio2": ("ties", dict(covariates=TIES, ratio=2, replace=True)),
    "ties_reuse2_ratio3": ("ties", dict(covariates=TIES, ratio=3, reuse_max=2)),
    "ties_atc_replace_ratio2": ("ties", dict(covariates=TIES, estimand="ATC", ratio=2,
                                             replace=True)),
    "people_replace": ("people", dict(covariates=PEOPLE, replace=True)),
    "people_reuse3_ratio2_sw": ("people", dict(covariates=PEOPLE, ratio=2, reuse_max=3,
                                               s_weights="sw")),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_get_matches_rows_in_matchit_order(name):
    data_name, kw = SPECS[name]
    data = fixture_data(data_name).set_index("id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = match(data, "treat", **kw).get_matches(id="uid")
    r = ROWS[ROWS["fixture"] == name]
    assert rows["uid"].tolist() == r["id"].tolist()
    assert rows["subclass"].tolist() == r["subclass"].tolist()
    np.testing.assert_allclose(rows["weights"].to_numpy(), r["weights"].to_numpy(float),
                               rtol=1e-12)
    # the repeated controls make the order informative: some set lists a reused one first
    reused = r.groupby("id")["subclass"].transform("size") > 1
    assert reused.any()
