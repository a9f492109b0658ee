"""``unit_id`` (MatchIt's ``unit.id``) against R MatchIt 4.7.2.

Fixtures: tests/fixtures/matchit/unit_id (make_fixtures.R there; MatchIt 4.7.2 as in
../PROVENANCE), 19 nearest-neighbour specifications on the three fixture data sets with a
derived unit id ``family`` (same rule here as in the R script): vector distance, Mahalanobis,
``mahvars``, ratio 2, caliper, ATC, ``m_order`` smallest/closest/farthest, ``reuse_max`` 2,
``antiexact`` and exact strata. Weights (1e-12), subclasses, pairs (``match_matrix`` by row
label) and sample sizes must be identical.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import assert_sample_sizes, pairs_by_label

from evaluation.matching import match

HERE = Path(__file__).parent / "fixtures" / "matchit"
UID = HERE / "unit_id"
P = ["age", "educ", "race", "married", "re74"]
M = ["age", "educ", "re74"]
T = ["prior", "fsm", "female"]
S = ["prior", "fsm", "female", "sen", "eal"]
MAH = dict(distance="mahalanobis")
FAMILY = {"people": lambda i: i // 3, "ties": lambda i: i % 40, "schools": lambda i: i // 2}
TREAT = {"people": "treat", "ties": "treat", "schools": "em"}

SPECS = {
    "people_unit": ("people", dict(covariates=P)),
    "people_unit_ratio2": ("people", dict(covariates=P, ratio=2)),
    "people_unit_caliper": ("people", dict(covariates=P, caliper=0.1)),
    "people_unit_atc": ("people", dict(covariates=P, estimand="ATC")),
    "people_unit_smallest": ("people", dict(covariates=P, m_order="smallest")),
    "people_unit_closest": ("people", dict(covariates=P, m_order="closest")),
    "people_unit_farthest_ratio2": ("people", dict(covariates=P, m_order="farthest", ratio=2)),
    "people_unit_reuse2": ("people", dict(covariates=P, replace=True, reuse_max=2)),
    "people_unit_antiexact": ("people", dict(covariates=P, antiexact="married")),
    "people_unit_mahalanobis": ("people", dict(covariates=M, **MAH)),
    "people_unit_mahalanobis_ratio2": ("people", dict(covariates=M, ratio=2, **MAH)),
    "people_unit_mahalanobis_exact": ("people", dict(covariates=M, exact="married", **MAH)),
    "people_unit_mahalanobis_closest": ("people", dict(covariates=M, m_order="closest", **MAH)),
    "people_unit_mahvars": ("people", dict(covariates=P, mahvars=M, caliper=0.25)),
    "ties_unit": ("ties", dict(covariates=T)),
    "ties_unit_ratio2": ("ties", dict(covariates=T, ratio=2)),
    "ties_unit_exact": ("ties", dict(covariates=T, exact="school")),
    "schools_unit_exact": ("schools", dict(covariates=S, exact="school_id")),
    "schools_unit_exact_caliper": ("schools", dict(covariates=S, exact=["school_id", "cohort"],
                                                   caliper=0.2)),
}
_RUNS: dict = {}


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(HERE / f"{name}.csv")
    return d.assign(family=FAMILY[name](np.arange(len(d))))


def _run(name: str, unit_id="family"):
    key = (name, unit_id)
    if key not in _RUNS:
        data_name, kw = SPECS[name]
        data = _data(data_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _RUNS[key] = data, match(data, TREAT[data_name], unit_id=unit_id, **kw)
    return _RUNS[key]


@pytest.fixture(scope="module")
def r_units():
    return pd.read_csv(UID / "units.csv")


def test_fixtures_cover_every_spec(r_units):
    assert set(r_units["fixture"]) == set(SPECS)


@pytest.mark.parametrize("name", list(SPECS))
def test_weights_and_subclasses_identical_to_matchit(name, r_units):
    data, res = _run(name)
    r = r_units[r_units["fixture"] == name].set_index("id").loc[data["id"]]
    np.testing.assert_allclose(res.weights.to_numpy(), r["weights"].to_numpy(), rtol=0,
                               atol=1e-12)
    np.testing.assert_array_equal(res.subclass.to_numpy(dtype=float, na_value=np.nan),
                                  r["subclass"].to_numpy(float))


@pytest.mark.parametrize("name", list(SPECS))
def test_pairs_identical_to_matchit(name):
    data, res = _run(name)
    ours = pairs_by_label(data, res)
    rp = pd.read_csv(UID / "pairs.csv")
    rp = rp[(rp["fixture"] == name) & rp["control"].notna()]
    assert ours == dict(zip(zip(rp["treated"], rp["column"], strict=True), rp["control"],
                            strict=True))


@pytest.mark.parametrize("name", list(SPECS))
def test_sample_sizes_identical_to_matchit(name):
    _, res = _run(name)
    nn = pd.read_csv(UID / "nn.csv").set_index(["fixture", "sample"])
    assert_sample_sizes(res.summary().attrs["sample_sizes"], nn, name,
                        ("All", "Matched", "Unmatched", "Discarded", "Matched (ESS)"))


@pytest.mark.parametrize("name", ["people_unit", "ties_unit", "people_unit_mahalanobis",
                                  "people_unit_closest", "schools_unit_exact"])
def test_unit_id_changes_the_match(name):
    """The fixtures exercise unit_id: without it the matched sets differ."""
    _, with_id = _run(name)
    _, without = _run(name, unit_id=None)
    assert not np.array_equal(with_id.weights.to_numpy(), without.weights.to_numpy())


def test_a_family_is_used_once():
    """Once a pair is made, no other unit of either member's family is matched (ratio 1)."""
    data, res = _run("people_unit")
    fam = data["family"].to_numpy()
    mm = res.match_matrix
    treated = np.flatnonzero(data["treat"].to_numpy().astype(bool))
    pairs = [(t, row[0]) for t, row in zip(treated, mm, strict=True) if row[0] >= 0]
    used = [{fam[t], fam[c]} for t, c in pairs]
    for i, a in enumerate(used):
        for b in used[i + 1:]:
            assert not (a & b)


def test_unit_id_with_each_unit_its_own_id_changes_nothing():
    data, res = _run("people_unit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own = match(data, "treat", P, unit_id="id")
        plain = match(data, "treat", P)
    np.testing.assert_array_equal(own.weights.to_numpy(), plain.weights.to_numpy())


def test_unit_id_names_a_missing_column():
    data, _ = _run("people_unit")
    with pytest.raises(Exception, match="unit_id"):
        match(data, "treat", P, unit_id="no_such_column")
