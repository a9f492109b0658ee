"""Covariate calipers with Mahalanobis matching against R MatchIt 4.7.2 (issue 13).

Fixtures: tests/fixtures/matchit/caliper_strata (make_fixtures.R there generates the data,
data.csv, and runs MatchIt 4.7.2; see PROVENANCE), 25 nearest-neighbour specifications with
calipers on covariates: ``distance="mahalanobis"`` and ``mahvars``, exact strata (one and two
variables, strata without one group), ``antiexact``, ratio 1 and 2, with and without
replacement, ``reuse_max``, ATC, ``m_order="closest"``, ``unit_id``, a caliper on a variable
outside the Mahalanobis variables, two covariate calipers, a caliper with a distance caliper,
one Mahalanobis variable and a distance column affine in the caliper variable; discrete
covariates with exact duplicates, so ties and differences equal to the caliper are common.
MatchIt sorts each call's units by the Mahalanobis column affine in the caliper variable,
checks the caliper there and, with exact strata, rescales it stratum after stratum (see
``evaluation.matching._nearest._CaliperSpace``). Pairs (``match_matrix`` by row label),
weights (1e-12), subclasses and sample sizes must be identical.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import assert_sample_sizes, pairs_by_label, r_pairs_of, read_units

from evaluation.matching import match

FIX = Path(__file__).parent / "fixtures" / "matchit" / "caliper_strata"
M = ["prior", "income"]
P = ["prior", "fsm", "income"]
MAH = dict(distance="mahalanobis")
REG = dict(exact="region")
INC = dict(caliper={"income": 0.5})
RAW = dict(std_caliper=False)

#: fixture -> match() arguments (treatment "treat"). Same specifications as make_fixtures.R.
SPECS = {
    "mah_cal": dict(covariates=M, **MAH, **INC),
    "mah_cal_raw": dict(covariates=M, **MAH, **INC, **RAW),
    "mah_cal_region": dict(covariates=M, **MAH, **REG, **INC),
    "mah_cal_region_raw": dict(covariates=M, **MAH, **REG, caliper={"income": 1.0}, **RAW),
    "mah_cal_region_antiexact": dict(covariates=M, **MAH, **REG, antiexact="girl", **INC),
    "mah_cal_region_ratio2": dict(covariates=M, **MAH, **REG, **INC, ratio=2),
    "mah_cal_region_replace": dict(covariates=M, **MAH, **REG, **INC, replace=True),
    "mah_cal_region_ratio2_replace": dict(covariates=M, **MAH, **REG, **INC, ratio=2,
                                          replace=True),
    "mah_cal_region_reuse2_ratio2": dict(covariates=M, **MAH, **REG, **INC, ratio=2,
                                         replace=True, reuse_max=2),
    "mah_cal_region_atc": dict(covariates=M, **MAH, **REG, **INC, estimand="ATC"),
    "mah_cal_region_closest": dict(covariates=M, **MAH, **REG, **INC, m_order="closest"),
    "mah_cal_region_closest_ratio2": dict(covariates=M, **MAH, **REG, **INC,
                                          m_order="closest", ratio=2),
    "mah_cal_school": dict(covariates=["prior", "income", "x"], **MAH, exact="school",
                           caliper={"income": 1.0, "prior": 2.0}, **RAW),
    "mah_cal_region_girl": dict(covariates=["income", "prior"], **MAH,
                                exact=["region", "girl"], caliper={"prior": 1.0}, **RAW),
    "mah_cal_two": dict(covariates=M, **MAH, **REG, caliper={"prior": 1.0, "income": 1.0},
                        **RAW),
    "mah_cal_not_mahvar": dict(covariates=M, **MAH, **REG, caliper={"x": 0.3}),
    "mah_cal_unit_id": dict(covariates=M, **MAH, **REG, **INC, unit_id="family"),
    "mah_one_cal_region": dict(covariates=["income"], **MAH, **REG, caliper={"income": 1.0},
                               **RAW),
    "mahvars_cal": dict(covariates=P, mahvars=M, **INC),
    "mahvars_cal_region": dict(covariates=P, mahvars=M, **REG, **INC),
    "mahvars_cal_region_antiexact_ratio2": dict(covariates=P, mahvars=M, **REG,
                                                antiexact="fsm", **INC, ratio=2),
    "mahvars_cal_dist_region": dict(covariates=P, mahvars=M, **REG,
                                    caliper={"distance": 0.5, "income": 1.0}, **RAW),
    "mahvars_cal_region_ratio2_replace": dict(covariates=P, mahvars=M, **REG, **INC, ratio=2,
                                              replace=True),
    "score_cal_region": dict(covariates=M, distance="score", **REG, **INC, **RAW),
    "score_cal_dist": dict(covariates=M, distance="score",
                           caliper={"distance": 0.2, "income": 0.5}, **RAW, ratio=2),
}
_RUNS: dict = {}


def _data() -> pd.DataFrame:
    return pd.read_csv(FIX / "data.csv")


def _run(name: str):
    if name not in _RUNS:
        data = _data()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _RUNS[name] = data, match(data, "treat", **SPECS[name])
    return _RUNS[name]


@pytest.fixture(scope="module")
def r_units() -> pd.DataFrame:
    return read_units(FIX)


@pytest.fixture(scope="module")
def r_pairs() -> pd.DataFrame:
    return pd.read_csv(FIX / "pairs.csv")


def test_fixtures_cover_every_spec(r_units, r_pairs):
    nn = pd.read_csv(FIX / "nn.csv")
    assert set(r_units["fixture"]) == set(r_pairs["fixture"]) == set(nn["fixture"]) == set(SPECS)


@pytest.mark.parametrize("name", list(SPECS))
def test_weights_and_subclasses_identical_to_matchit(name, r_units):
    data, res = _run(name)
    r = r_units[r_units["fixture"] == name].set_index("id")
    w = pd.Series(0.0, index=data["id"])
    w[r.index] = r["weights"].map(float)
    np.testing.assert_allclose(res.weights.to_numpy(), w.to_numpy(), rtol=0, atol=1e-12)
    sub = pd.Series(np.nan, index=data["id"])
    sub[r.index] = r["subclass"].to_numpy(float)
    np.testing.assert_array_equal(res.subclass.to_numpy(dtype=float, na_value=np.nan),
                                  sub.to_numpy())


@pytest.mark.parametrize("name", list(SPECS))
def test_pairs_identical_to_matchit(name, r_pairs):
    data, res = _run(name)
    ours = pairs_by_label(data, res)
    theirs = r_pairs_of(r_pairs, name)
    assert len(ours) == len(theirs)
    assert ours == theirs


@pytest.mark.parametrize("name", list(SPECS))
def test_sample_sizes_identical_to_matchit(name):
    _, res = _run(name)
    nn = pd.read_csv(FIX / "nn.csv").set_index(["fixture", "sample"])
    assert_sample_sizes(res.summary().attrs["sample_sizes"], nn, name,
                        ("All", "Matched", "Unmatched", "Discarded", "Matched (ESS)"))


def test_data_are_parsed_as_r_parses_them():
    """The distances rest on the values bit for bit: pandas must parse as strtod does."""
    data = _data()
    text = pd.read_csv(FIX / "data.csv", dtype=str)
    for col in ("income", "x", "score"):
        assert (data[col].to_numpy() == text[col].map(float).to_numpy()).all(), col


def test_strata_shrink_the_caliper():
    """MatchIt's in-place rescaling, reproduced: with exact strata some treated units stay
    unmatched although an unused control of their stratum is within the stated caliper."""
    data, res = _run("mah_cal_region_raw")
    w = res.weights.to_numpy()
    t = data["treat"].to_numpy() == 1
    free_c = data[~t & (w == 0)]
    stranded = [i for i in np.flatnonzero(t & (w == 0))
                if ((free_c["region"] == data["region"].iat[i])
                    & ((free_c["income"] - data["income"].iat[i]).abs() <= 1.0)).any()]
    assert stranded
