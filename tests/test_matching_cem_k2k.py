"""CEM's ``k2k_method`` and ``mpower`` against R MatchIt 4.7.2 (``do_k2k``).

Fixtures: tests/fixtures/matchit/cem_k2k (make_fixtures.R there, on ../cem/a.csv and b.csv;
see PROVENANCE), 46 specifications: 34 that MatchIt matches (every k2k.method, Minkowski
powers 0.5, 1, 2 and 3, ``k2k_method=None``, ATT / ATC / ATE, ``m_order`` data, closest and
farthest, sampling weights, discrete covariates with heavy ties, a capitalised partial name)
and 12 it refuses. Subclass numbers, weights (1e-12), sample sizes and pairs must be
MatchIt's; the transformed covariates (robust Mahalanobis, scaled Euclidean) and the
``stats::dist`` matrices must be R's bit for bit, since ties between distances are broken
by their last bits; what MatchIt refuses is refused with a ValueError naming the argument.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import assert_sample_sizes, assert_valid_match, cem_data

from evaluation.exceptions import IgnoredArgumentWarning
from evaluation.matching import _cem, _dist_matrix, match
from evaluation.matching._r_arithmetic import r_dist
from evaluation.matching.distance import transform_covariates

FIX = Path(__file__).parent / "fixtures" / "matchit" / "cem_k2k"
F = ["x1", "x2", "f3", "flag"]
FD = ["x2", "f3", "flag"]
C4 = dict(cutpoints={"x1": 4})
C3 = dict(cutpoints={"x2": 3})
M = "k2k_method"

#: fixture -> (data set, match() arguments; method="cem", k2k=True). As make_fixtures.R.
SPECS = {
    "a_euclidean": ("a", dict(covariates=F, **{M: "euclidean"}, **C4)),
    "a_scaled_euclidean": ("a", dict(covariates=F, **{M: "scaled_euclidean"}, **C4)),
    "a_scaled_euclidean_sw": ("a", dict(covariates=F, **{M: "scaled_euclidean"},
                                        s_weights="sw", **C4)),
    "a_robust_mahalanobis": ("a", dict(covariates=F, **{M: "robust_mahalanobis"}, **C4)),
    "a_robust_mahalanobis_sw_closest": ("a", dict(covariates=F, **{M: "robust_mahalanobis"},
                                                  s_weights="sw", m_order="closest", **C4)),
    "a_robust_mahalanobis_atc": ("a", dict(covariates=F, **{M: "robust_mahalanobis"},
                                           estimand="ATC", **C4)),
    "a_euclidean_farthest_ate": ("a", dict(covariates=F, **{M: "euclidean"},
                                           m_order="farthest", estimand="ATE", **C4)),
    "a_scaled_euclidean_closest": ("a", dict(covariates=F, **{M: "scaled_euclidean"},
                                             m_order="closest", **C4)),
    "a_eucl_upper_partial": ("a", dict(covariates=F, **{M: "EUCL"}, **C4)),
    "a_minkowski2_atc": ("a", dict(covariates=F, **{M: "minkowski"}, mpower=2,
                                   estimand="ATC", **C4)),
    "a_maximum": ("a", dict(covariates=F, **{M: "maximum"}, **C4)),
    "a_manhattan": ("a", dict(covariates=F, **{M: "manhattan"}, **C4)),
    "a_canberra": ("a", dict(covariates=F, **{M: "canberra"}, **C4)),
    "a_binary": ("a", dict(covariates=F, **{M: "binary"}, **C4)),
    "a_minkowski1": ("a", dict(covariates=F, **{M: "minkowski"}, mpower=1, **C4)),
    "a_minkowski3": ("a", dict(covariates=F, **{M: "minkowski"}, mpower=3, **C4)),
    "a_minkowski_half": ("a", dict(covariates=F, **{M: "minkowski"}, mpower=0.5, **C4)),
    "a_manhattan_closest": ("a", dict(covariates=F, **{M: "manhattan"}, m_order="closest",
                                      **C4)),
    "a_maximum_farthest": ("a", dict(covariates=F, **{M: "maximum"}, m_order="farthest",
                                     **C4)),
    "a_canberra_ate": ("a", dict(covariates=F, **{M: "canberra"}, estimand="ATE", **C4)),
    "a_binary_closest_ate": ("a", dict(covariates=F, **{M: "binary"}, m_order="closest",
                                       estimand="ATE", **C4)),
    "a_minkowski3_farthest": ("a", dict(covariates=F, **{M: "minkowski"}, mpower=3,
                                        m_order="farthest", **C4)),
    "a_manhattan_mpower_ignored": ("a", dict(covariates=F, **{M: "manhattan"}, mpower=3,
                                             **C4)),
    "a_null": ("a", dict(covariates=F, **{M: None}, **C4)),
    "a_null_atc": ("a", dict(covariates=F, **{M: None}, estimand="ATC", **C4)),
    "a_null_closest": ("a", dict(covariates=F, **{M: None}, m_order="closest", **C4)),
    "d_euclidean": ("a", dict(covariates=FD, **{M: "euclidean"}, **C3)),
    "d_manhattan": ("a", dict(covariates=FD, **{M: "manhattan"}, **C3)),
    "d_maximum_closest": ("a", dict(covariates=FD, **{M: "maximum"}, m_order="closest",
                                    **C3)),
    "d_robust_mahalanobis": ("a", dict(covariates=FD, **{M: "robust_mahalanobis"}, **C3)),
    "d_null_farthest": ("a", dict(covariates=FD, **{M: None}, m_order="farthest", **C3)),
    "b_manhattan": ("b", dict(covariates=F, **{M: "manhattan"}, cutpoints={"x1": 3})),
    "b_scaled_euclidean_atc": ("b", dict(covariates=F, **{M: "scaled_euclidean"},
                                         estimand="ATC", cutpoints={"x1": 3})),
    "b_minkowski3_closest": ("b", dict(covariates=F, **{M: "minkowski"}, mpower=3,
                                       m_order="closest", cutpoints={"x1": 3})),
}
#: What MatchIt refuses (errors.csv) -> (arguments, the argument our message names).
REFUSED = {
    "e_method_unknown": (dict(**{M: "foo"}), M),
    "e_method_ambiguous": (dict(**{M: "ma"}), M),
    "e_method_number": (dict(**{M: 3}), M),
    "e_method_two": (dict(**{M: ["euclidean", "manhattan"]}), M),
    "e_mpower_zero": (dict(**{M: "minkowski"}, mpower=0), "mpower"),
    "e_mpower_negative": (dict(**{M: "minkowski"}, mpower=-1), "mpower"),
    "e_mpower_string": (dict(**{M: "minkowski"}, mpower="3"), "mpower"),
    "e_mpower_na": (dict(**{M: "minkowski"}, mpower=float("nan")), "mpower"),
    "e_mpower_inf": (dict(**{M: "minkowski"}, mpower=float("inf")), "mpower"),
    "e_manhattan_atc": (dict(**{M: "manhattan"}, estimand="ATC"), M),
    "e_minkowski3_atc_closest": (dict(**{M: "minkowski"}, mpower=3, estimand="ATC",
                                      m_order="closest"), "m_order"),
    "e_euclidean_atc_farthest": (dict(**{M: "euclidean"}, estimand="ATC",
                                      m_order="farthest"), "m_order"),
}


DATA = {"a": cem_data("a"), "b": cem_data("b")}
_RUNS: dict = {}


def _run(name: str):
    if name not in _RUNS:
        data_name, kw = SPECS[name]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = match(DATA[data_name], "treat", method="cem", k2k=True, **kw)
        _RUNS[name] = DATA[data_name], res, caught
    return _RUNS[name]


@pytest.fixture(scope="module")
def r_units() -> pd.DataFrame:
    return pd.read_csv(FIX / "units.csv", dtype={"weights": str})


def test_fixtures_cover_every_spec(r_units):
    assert set(r_units["fixture"]) == set(SPECS)
    assert set(pd.read_csv(FIX / "errors.csv")["fixture"]) == set(REFUSED)
    assert len(SPECS) + len(REFUSED) == 46


@pytest.mark.parametrize("name", list(SPECS))
def test_subclasses_weights_and_sample_sizes_are_matchits(name, r_units):
    data, res, _ = _run(name)
    assert_valid_match(res)
    r = r_units[r_units["fixture"] == name].set_index("id").loc[data["id"]]
    np.testing.assert_array_equal(res.subclass.to_numpy(dtype=float, na_value=np.nan),
                                  r["subclass"].to_numpy(float))
    np.testing.assert_allclose(res.weights.to_numpy(), r["weights"].map(float).to_numpy(),
                               atol=1e-12, rtol=0)
    nn = pd.read_csv(FIX / "nn.csv").set_index(["fixture", "sample"])
    assert_sample_sizes(res.summary().attrs["sample_sizes"], nn, name)


@pytest.mark.parametrize("name", list(SPECS))
def test_pairs_are_matchits(name):
    data, res, _ = _run(name)
    r = pd.read_csv(FIX / "pairs.csv")
    r = r[r["fixture"] == name]
    ids = data["id"].to_numpy()
    t = data["treat"].to_numpy().astype(bool)
    focal = ids[t if res.spec["focal"] == "treated" else ~t]
    ours = {f: (ids[k] if k >= 0 else None) for f, k in zip(focal, res.match_matrix[:, 0],
                                                             strict=True)}
    theirs = {f: (k if isinstance(k, str) else None) for f, k in zip(r["focal"], r["match"],
                                                                      strict=True)}
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(set(pd.read_csv(FIX / "transform.csv")["fixture"])))
def test_transformed_covariates_are_rs_bit_for_bit(name):
    data_name, kw = SPECS[name]
    data = DATA[data_name]
    sw = data[kw["s_weights"]].to_numpy(float) if "s_weights" in kw else None
    ours = transform_covariates(_dist_matrix(data, kw["covariates"]),
                                data["treat"].to_numpy(bool), kw[M], sw)
    r = pd.read_csv(FIX / "transform.csv", dtype={"value": str})
    r = r[r["fixture"] == name]
    theirs = np.full(ours.shape, np.nan)
    row = pd.Series(np.arange(len(data)), index=data["id"])
    theirs[row[r["id"]].to_numpy(), r["column"].to_numpy() - 1] = r["value"].map(float)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", sorted(set(pd.read_csv(FIX / "dist.csv")["fixture"])))
def test_dist_within_strata_is_rs_bit_for_bit(name):
    data_name, kw = SPECS[name]
    data = DATA[data_name].set_index("id")
    X = pd.DataFrame(transform_covariates(_dist_matrix(data, kw["covariates"]),
                                          data["treat"].to_numpy(bool), "euclidean"),
                     index=data.index)
    r = pd.read_csv(FIX / "dist.csv", dtype={"value": str})
    r = r[r["fixture"] == name]
    for focal, g in r.groupby("focal"):
        ours = r_dist(X.loc[[focal]].to_numpy(), X.loc[g["other"]].to_numpy(), kw[M],
                      kw.get("mpower", 2.0))[0]
        np.testing.assert_array_equal(ours, g["value"].map(float).to_numpy(), err_msg=focal)


def test_the_discrete_fixtures_are_full_of_ties():
    """Most chosen controls of ``d_manhattan`` share their distance with another control of
    the stratum: which one MatchIt takes (the first in the data's order, ``find_control_mat``)
    decides the pairs compared above."""
    data, res, _ = _run("d_manhattan")
    X = transform_covariates(_dist_matrix(data, FD), data["treat"].to_numpy(bool),
                             "euclidean")
    codes = _cem.strata(data, FD, C3["cutpoints"])
    treat = data["treat"].to_numpy(bool)
    chosen = [(t, c) for t, c in zip(np.flatnonzero(treat), res.match_matrix[:, 0],
                                     strict=True) if c >= 0]
    tied = sum(int((r_dist(X[[t]], X[~treat & (codes == codes[t])], "manhattan")[0]
                    == r_dist(X[[t]], X[[c]], "manhattan")[0, 0]).sum() > 1)
               for t, c in chosen)
    assert tied > len(chosen) / 2


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_matchit_refuses_is_a_value_error_naming_the_argument(name):
    kw, argument = REFUSED[name]
    with pytest.raises(ValueError, match=f"`{argument}`"):
        match(DATA["a"], "treat", F, method="cem", k2k=True, **C4, **kw)


def test_mpower_away_from_two_is_ignored_unless_minkowski():
    _, res, caught = _run("a_manhattan_mpower_ignored")
    assert any(issubclass(w.category, IgnoredArgumentWarning) and "`mpower`" in str(w.message)
               for w in caught)
    assert res.match_matrix is not None


def test_k2k_method_without_k2k_is_ignored_with_a_warning():
    with pytest.warns(IgnoredArgumentWarning, match=r"\['k2k_method', 'mpower'\] are used "
                                                    r"only with k2k=True"):
        res = match(DATA["a"], "treat", F, method="cem", k2k_method="manhattan", mpower=3)
    assert res.match_matrix is None
    with pytest.warns(IgnoredArgumentWarning, match=r"\['k2k_method'\] are not used with "
                                                    r"method='nearest'"):
        match(DATA["a"], "treat", F, k2k_method="manhattan")
