"""Negative calipers (least distances) against R MatchIt 4.7.2.

MatchIt reads a negative caliper as a least distance: paired units must be farther apart than
its absolute value. Fixtures: tests/fixtures/matchit/negative_caliper (make_fixtures.R there;
MatchIt 4.7.2 and optmatch 0.10.8, see PROVENANCE), 53 specifications on four data sets: a
continuous propensity score (people), an integer distance column whose differences fall
exactly on the caliper (ties), exact strata (schools) and discrete covariates with exact
duplicates and a distance column affine in a caliper covariate (caliper_strata/data.csv).
They mix negative and positive calipers on the distance and on covariates, ratio 1 to 3,
replacement and ``reuse_max``, every ``m_order``, ``mahvars`` and Mahalanobis distances
(one variable: MatchIt's vector routine), the ATC, and optimal full matching (optmatch's
``caliper(compare = `>=`)``). Pairs (``match_matrix`` by row label), weights (1e-12),
subclasses (the numbers) and sample sizes must be identical.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import (
    assert_sample_sizes,
    fixture_data,
    pairs_by_label,
    r_pairs_of,
    read_units,
)

from evaluation.exceptions import NotEstimableError
from evaluation.matching import match

FIX = Path(__file__).parent / "fixtures" / "matchit" / "negative_caliper"
PF = ["age", "educ", "race", "married", "re74"]
PM = ["age", "educ", "re74"]
TF = ["prior", "fsm", "female"]
SF = ["prior", "fsm", "female", "sen", "eal"]
ST = ["school_id", "cohort"]
CF = ["prior", "income"]
CP = ["prior", "fsm", "income"]
MAH = dict(distance="mahalanobis")
RAW = dict(std_caliper=False)
SCORE = dict(distance="score")
FULL = dict(method="full", tol=1e-7)

#: fixture -> (data set, match() arguments). Same specifications as make_fixtures.R.
SPECS = {
    "people_neg": ("people", dict(covariates=PF, caliper=-0.1)),
    "people_neg_ratio2": ("people", dict(covariates=PF, caliper=-0.1, ratio=2)),
    "people_neg_replace": ("people", dict(covariates=PF, caliper=-0.2, replace=True)),
    "people_neg_ratio2_replace": ("people", dict(covariates=PF, caliper=-0.1, ratio=2,
                                                 replace=True)),
    "people_neg_reuse2_ratio2": ("people", dict(covariates=PF, caliper=-0.1, ratio=2,
                                                reuse_max=2)),
    "people_neg_smallest": ("people", dict(covariates=PF, caliper=-0.1, m_order="smallest")),
    "people_neg_data": ("people", dict(covariates=PF, caliper=-0.1, m_order="data")),
    "people_neg_closest": ("people", dict(covariates=PF, caliper=-0.1, m_order="closest")),
    "people_neg_farthest_ratio2": ("people", dict(covariates=PF, caliper=-0.1,
                                                  m_order="farthest", ratio=2)),
    "people_neg_atc": ("people", dict(covariates=PF, caliper=-0.1, estimand="ATC")),
    "people_neg_wide": ("people", dict(covariates=PF, caliper=-1.0)),
    "people_neg_wide_ratio3_closest": ("people", dict(covariates=PF, caliper=-0.8, ratio=3,
                                                      m_order="closest")),
    "people_neg_age": ("people", dict(covariates=PF, caliper={"age": -0.5})),
    "people_pos_dist_neg_age": ("people", dict(covariates=PF,
                                               caliper={"distance": 0.5, "age": -0.3})),
    "people_neg_dist_pos_re74": ("people", dict(covariates=PF,
                                                caliper={"distance": -0.05, "re74": 1.0},
                                                std_caliper=[True, False])),
    "people_neg_two_covs_ratio2": ("people", dict(covariates=PF,
                                                  caliper={"age": -0.2, "educ": -1.0},
                                                  std_caliper=[True, False], ratio=2)),
    "people_mahvars_neg": ("people", dict(covariates=PF, mahvars=PM, caliper=-0.1)),
    "people_mahvars_neg_closest_ratio2": ("people", dict(covariates=PF, mahvars=PM,
                                                         caliper=-0.1, m_order="closest",
                                                         ratio=2)),
    "people_mah_neg_age": ("people", dict(covariates=PM, **MAH, caliper={"age": -0.5})),
    "people_mah_mix_replace": ("people", dict(covariates=PM, **MAH,
                                              caliper={"age": 0.5, "re74": -0.2},
                                              replace=True, ratio=2)),
    "people_mah_neg_age_farthest": ("people", dict(covariates=PM, **MAH,
                                                   caliper={"age": -0.5},
                                                   m_order="farthest")),
    "ties_score_neg": ("ties", dict(covariates=TF, **SCORE, caliper=-2.0, **RAW)),
    "ties_score_neg_ratio2": ("ties", dict(covariates=TF, **SCORE, caliper=-2.0, **RAW,
                                           ratio=2)),
    "ties_score_neg_ratio3_replace": ("ties", dict(covariates=TF, **SCORE, caliper=-1.0,
                                                   **RAW, ratio=3, replace=True)),
    "ties_score_neg_closest": ("ties", dict(covariates=TF, **SCORE, caliper=-2.0, **RAW,
                                            m_order="closest")),
    "ties_score_neg_farthest": ("ties", dict(covariates=TF, **SCORE, caliper=-2.0, **RAW,
                                             m_order="farthest")),
    "ties_score_neg_smallest_ratio2": ("ties", dict(covariates=TF, **SCORE, caliper=-1.0,
                                                    **RAW, m_order="smallest", ratio=2)),
    "ties_score_neg_prior": ("ties", dict(covariates=TF, **SCORE,
                                          caliper={"distance": -1.0, "prior": 1.0}, **RAW)),
    "ties_score_neg_school": ("ties", dict(covariates=TF, **SCORE, caliper=-2.0, **RAW,
                                           exact="school")),
    "ties_mah_neg_prior": ("ties", dict(covariates=TF, **MAH, caliper={"prior": -1.0},
                                        **RAW)),
    "ties_mah_one_neg_prior": ("ties", dict(covariates=["prior"], **MAH,
                                            caliper={"prior": -1.0}, **RAW)),
    "ties_mah_one_neg_prior_closest": ("ties", dict(covariates=["prior"], **MAH,
                                                    caliper={"prior": -1.0}, **RAW,
                                                    m_order="closest", ratio=2)),
    "schools_neg": ("schools", dict(covariates=SF, exact=ST, caliper=-0.1)),
    "schools_neg_ratio2": ("schools", dict(covariates=SF, exact=ST, caliper=-0.1, ratio=2)),
    "schools_mix_prior_ratio2": ("schools", dict(covariates=SF, exact=ST,
                                                 caliper={"distance": 0.5, "prior": -1.0},
                                                 std_caliper=[True, False], ratio=2)),
    "schools_mah_neg_prior": ("schools", dict(covariates=["prior", "fsm"], **MAH, exact=ST,
                                              caliper={"prior": -2.0}, **RAW)),
    "strata_mah_neg_income": ("strata", dict(covariates=CF, **MAH, exact="region",
                                             caliper={"income": -0.5})),
    "strata_mah_pos_prior_neg_income": ("strata", dict(covariates=CF, **MAH, exact="region",
                                                       caliper={"prior": 1.0, "income": -1.0},
                                                       **RAW)),
    "strata_mah_neg_income_closest_ratio2": ("strata", dict(covariates=CF, **MAH,
                                                            exact="region",
                                                            caliper={"income": -1.0}, **RAW,
                                                            m_order="closest", ratio=2)),
    "strata_mahvars_neg_dist_region": ("strata", dict(covariates=CP, mahvars=CF,
                                                      exact="region",
                                                      caliper={"distance": -0.3,
                                                               "income": 1.0}, **RAW)),
    "strata_score_neg_income": ("strata", dict(covariates=CF, **SCORE,
                                               caliper={"income": -1.5}, **RAW)),
    "strata_score_neg_dist_pos_income": ("strata", dict(covariates=CF, **SCORE,
                                                        caliper={"distance": -0.3,
                                                                 "income": 2.0}, **RAW)),
    "strata_score_pos_dist_neg_income_ratio2": ("strata", dict(covariates=CF, **SCORE,
                                                               caliper={"distance": 1.0,
                                                                        "income": -0.5},
                                                               **RAW, ratio=2)),
    "strata_negscore_pos_income": ("strata", dict(covariates=CF, distance="neg_score",
                                                  caliper={"income": 1.0}, **RAW,
                                                  replace=True)),
    "strata_score_neg_income_unit_id": ("strata", dict(covariates=CF, **SCORE,
                                                       caliper={"income": -1.0}, **RAW,
                                                       unit_id="family")),
    "strata_mah_neg_income_unit_id_ratio2": ("strata", dict(covariates=CF, **MAH,
                                                            exact="region",
                                                            caliper={"income": -1.0}, **RAW,
                                                            unit_id="family", ratio=2)),
    "people_neg_discard": ("people", dict(covariates=PF, caliper=-0.3, discard="both")),
    "people_full_neg": ("people", dict(covariates=PF, **FULL, caliper=-0.1)),
    "people_full_neg_age": ("people", dict(covariates=PF, **FULL, caliper={"age": -0.3})),
    "ties_full_score_neg": ("ties", dict(covariates=TF, method="full", **SCORE, caliper=-2.0,
                                         **RAW)),
    "schools_full_mix_prior": ("schools", dict(covariates=SF, **FULL, exact=ST,
                                               caliper={"distance": 0.5, "prior": -1.0},
                                               std_caliper=[True, False])),
}
#: Specifications MatchIt refuses (errors.csv) -> (data set, arguments, our error, message).
REFUSED = {
    "people_neg_none_far_enough": ("people", dict(covariates=PF, caliper=-100.0),
                                   NotEstimableError,
                                   r"no treated unit found a control within the caliper "
                                   r".*shorten its negative part"),
    "people_full_neg_min_controls": ("people", dict(covariates=PF, method="full",
                                                    caliper=-0.1, min_controls=1,
                                                    max_controls=3),
                                     ValueError, r"calipers cannot be used with "
                                                 r"method='full' when `min_controls`"),
}
_RUNS: dict = {}


def _data(name: str) -> pd.DataFrame:
    """A fixture data set as make_fixtures.R reads it (``strata``: caliper_strata/data.csv,
    with ``neg_score = -score``, a distance decreasing in ``income``)."""
    if name != "strata":
        return fixture_data(name)
    data = fixture_data("caliper_strata/data")
    return data.assign(neg_score=-data["score"])


def _run(name: str):
    if name not in _RUNS:
        data_name, kw = SPECS[name]
        data = _data(data_name)
        treatment = "em" if data_name == "schools" else "treat"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _RUNS[name] = data, match(data, treatment, **kw)
    return _RUNS[name]


@pytest.fixture(scope="module")
def r_units() -> pd.DataFrame:
    return read_units(FIX)


@pytest.fixture(scope="module")
def r_pairs() -> pd.DataFrame:
    return pd.read_csv(FIX / "pairs.csv")


def test_fixtures_cover_every_spec(r_units, r_pairs):
    nn = pd.read_csv(FIX / "nn.csv")
    assert set(r_units["fixture"]) == set(nn["fixture"]) == set(SPECS)
    assert set(r_pairs["fixture"]) == {k for k, (_, kw) in SPECS.items()
                                       if kw.get("method") != "full"}
    assert set(pd.read_csv(FIX / "errors.csv")["fixture"]) == set(REFUSED)
    assert len(SPECS) + len(REFUSED) == 53


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_as_matchit_refuses(name):
    data_name, kw, error, message = REFUSED[name]
    with pytest.raises(error, match=message):
        match(_data(data_name), "treat", **kw)


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


@pytest.mark.parametrize("name", [k for k, (_, kw) in SPECS.items()
                                  if kw.get("method") != "full"])
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
    assert_sample_sizes(res.summary().attrs["sample_sizes"], nn, name)


def test_pairs_are_farther_apart_than_the_negative_caliper():
    """Every pair of a negative distance caliper is more than ``|caliper|`` apart (strictly:
    the integer score's differences of exactly 2 are refused), and some treated unit's
    nearest control was passed over."""
    data, res = _run("ties_score_neg")
    d = data["score"].to_numpy(float)
    treated = np.flatnonzero(data["treat"].to_numpy() == 1)
    mm = res.match_matrix
    gaps = np.abs(d[treated] - d[mm[:, 0]])
    assert (gaps > 2).all()
    controls = d[data["treat"].to_numpy() == 0]
    nearest = np.abs(d[treated][:, None] - controls[None, :]).min(axis=1)
    assert (nearest <= 2).any()


def test_full_matching_keeps_pairs_at_exactly_the_negative_caliper():
    """optmatch's ``compare = `>=```: in full matching a pair exactly ``|caliper|`` apart is
    allowed (nearest neighbour refuses it)."""
    data, res = _run("ties_full_score_neg")
    d = data["score"].to_numpy(float)
    t = data["treat"].to_numpy() == 1
    sub = res.subclass.to_numpy(dtype=float, na_value=np.nan)
    gaps = [abs(d[i] - d[j]) for s in np.unique(sub[~np.isnan(sub)])
            for i in np.flatnonzero((sub == s) & t) for j in np.flatnonzero((sub == s) & ~t)]
    assert min(gaps) == 2
