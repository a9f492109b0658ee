"""Coarsened exact matching agrees with R MatchIt 4.7.2 exactly (issue 13).

Fixtures: tests/fixtures/matchit/cem (make_fixtures.R, run with MatchIt 4.7.2; see PROVENANCE
there). Subclass numbers must be MatchIt's (not only the same partition), weights within
1e-12, sample sizes equal, k2k pairs equal; MatchIt's warnings are ours (as
IgnoredArgumentWarning) and what MatchIt refuses we refuse with a ValueError.
"""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import assert_valid_match, cem_data

from evaluation.exceptions import IgnoredArgumentWarning
from evaluation.matching import _cem, match

FIX = Path(__file__).parent / "fixtures" / "matchit" / "cem"
C = ["x1", "x2", "f3", "flag"]
NAN = float("nan")

#: fixture -> (data set, match() arguments); the specifications of make_fixtures.R.
SPECS = {
    "a_default": ("a", {}),
    "a_atc": ("a", dict(estimand="ATC")),
    "a_ate": ("a", dict(estimand="ATE")),
    "a_cut0": ("a", dict(cutpoints={"x2": 0, "x1": 3})),
    "a_cutna": ("a", dict(cutpoints={"x2": NAN, "x1": 3})),
    "a_cutnum": ("a", dict(cutpoints={"x1": 5, "x2": 3})),
    "a_cutvec": ("a", dict(cutpoints={"x1": [60, 40, 50], "x2": [4, 8]})),
    "a_cutvec_ate": ("a", dict(cutpoints={"x1": [45, 55], "x2": [4, 8]}, estimand="ATE")),
    "a_q4": ("a", dict(cutpoints={"x1": "q4", "x2": "q3"})),
    "a_q4_atc": ("a", dict(cutpoints={"x1": "q4", "x2": "q5"}, estimand="ATC")),
    "a_fd": ("a", dict(cutpoints={"x1": "fd", "x2": "fd"})),
    "a_scott": ("a", dict(cutpoints={"x1": "scott", "x2": "scott"})),
    "a_sturges": ("a", dict(cutpoints={"x1": "sturges", "x2": "st"})),
    "a_cut_all": ("a", dict(cutpoints=4)),
    "a_cut_all_q": ("a", dict(cutpoints="q3")),
    "a_cut1": ("a", dict(cutpoints={"x2": 1, "x1": 4})),
    "a_cut1_only": ("a", dict(covariates=["x2"], cutpoints={"x2": 1})),
    "a_ordered": ("a", dict(covariates=["x1", "lvl"], cutpoints={"lvl": 2, "x1": 4})),
    "a_cut_unknown": ("a", dict(cutpoints={"x1": 3, "zz": 2, "f3": 2})),
    "a_grouping": ("a", dict(grouping={"f3": [["a", "b"], ["c", "d"]]}, cutpoints={"x1": 4})),
    "a_grouping_num": ("a", dict(grouping={"x2": [list(range(0, 4)), list(range(4, 7)),
                                                  list(range(7, 13))]},
                                 cutpoints={"x1": 3})),
    "a_grouping_num_ate": ("a", dict(grouping={"x2": [list(range(0, 5)), list(range(5, 13))]},
                                     cutpoints={"x1": 3}, estimand="ATE")),
    "a_grouping_flag": ("a", dict(grouping={"flag": [[True, False]]}, cutpoints={"x1": 4})),
    "a_grouping_cutpoints": ("a", dict(grouping={"f3": [["b", "c", "d"]]},
                                       cutpoints={"f3": 3, "x1": 4})),
    "a_k2k": ("a", dict(k2k=True, cutpoints={"x1": 4})),
    "a_k2k_closest": ("a", dict(k2k=True, m_order="closest", cutpoints={"x1": 4})),
    "a_k2k_farthest": ("a", dict(k2k=True, m_order="farthest", cutpoints={"x1": 4})),
    "a_k2k_atc": ("a", dict(k2k=True, estimand="ATC", cutpoints={"x1": 4})),
    "a_k2k_ate_closest": ("a", dict(k2k=True, estimand="ATE", m_order="closest",
                                    cutpoints={"x1": 4})),
    "a_k2k_sw_closest": ("a", dict(k2k=True, m_order="closest", s_weights="sw",
                                   cutpoints={"x1": 4})),
    "a_k2k_num": ("a", dict(covariates=["x1", "x2"], k2k=True, m_order="closest")),
    "a_k2k_num_farthest": ("a", dict(covariates=["x1", "x2"], k2k=True, m_order="farthest")),
    "a_exact": ("a", dict(exact="school")),
    "a_k2k_exact": ("a", dict(k2k=True, exact=["school"], cutpoints={"x1": 4})),
    "a_m_order_largest": ("a", dict(m_order="largest")),
    "b_default": ("b", {}),
    "b_ate": ("b", dict(estimand="ATE")),
    "b_cutvec": ("b", dict(cutpoints={"x1": [45, 55], "x2": 0})),
    "b_grouping": ("b", dict(grouping={"f3": [["a", "d"]]}, cutpoints={"x1": "q3"})),
    "b_k2k_closest": ("b", dict(k2k=True, m_order="closest", cutpoints={"x1": 3})),
    "b_k2k_farthest_ate": ("b", dict(k2k=True, m_order="farthest", estimand="ATE",
                                     cutpoints={"x1": 3})),
    "b_k2k_atc": ("b", dict(k2k=True, estimand="ATC", cutpoints={"x1": 3})),
    # refused by MatchIt
    "e_cut_name": ("a", dict(cutpoints={"x1": "foo"})),
    "e_cut_negative": ("a", dict(cutpoints={"x2": -1})),
    "e_cut_q1": ("a", dict(cutpoints={"x1": "q1"})),
    "e_cut_fraction": ("a", dict(cutpoints={"x1": 2.5})),
    "e_cut_ambiguous": ("a", dict(cutpoints={"x1": "s"})),
    "e_grouping_not_list": ("a", dict(grouping={"f3": ["a", "b"]})),
    "e_k2k_largest": ("a", dict(k2k=True, m_order="largest")),
    "e_k2k_atc_closest": ("a", dict(k2k=True, estimand="ATC", m_order="closest",
                                    cutpoints={"x1": 4})),
    "e_k2k_atc_farthest": ("b", dict(k2k=True, estimand="ATC", m_order="farthest",
                                     cutpoints={"x1": 3})),
}
#: The argument each refusal names.
REFUSED = {"e_cut_name": "cutpoints", "e_cut_negative": "cutpoints", "e_cut_q1": "cutpoints",
           "e_cut_fraction": "cutpoints", "e_cut_ambiguous": "cutpoints",
           "e_grouping_not_list": "grouping", "e_k2k_largest": "m_order",
           "e_k2k_atc_closest": "m_order", "e_k2k_atc_farthest": "m_order"}
MATCHED = [n for n in SPECS if n not in REFUSED]
K2K = [n for n in MATCHED if SPECS[n][1].get("k2k")]


DATA = {"a": cem_data("a"), "b": cem_data("b")}
_RUNS: dict = {}


def _run(name: str):
    """``(data, result, warnings)`` of one specification, matched once per process."""
    if name not in _RUNS:
        data_name, kw = SPECS[name]
        kw = {"covariates": C, "method": "cem", **kw}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = match(DATA[data_name], "treat", **kw)
        _RUNS[name] = DATA[data_name], res, caught
    return _RUNS[name]


@pytest.fixture(scope="module")
def r_units():
    return pd.read_csv(FIX / "units.csv")


@pytest.fixture(scope="module")
def r_nn():
    return pd.read_csv(FIX / "nn.csv").set_index(["fixture", "sample"])


def test_fixtures_cover_every_spec(r_units):
    errors = pd.read_csv(FIX / "errors.csv")
    assert set(r_units["fixture"]) == set(MATCHED)
    assert set(errors["fixture"]) == set(REFUSED)
    assert len(SPECS) == 51


@pytest.mark.parametrize("name", MATCHED)
def test_subclasses_weights_and_counts_are_matchits(name, r_units, r_nn):
    data, res, _ = _run(name)
    assert_valid_match(res)
    r = r_units[r_units["fixture"] == name].set_index("id").loc[data["id"]]
    ours = res.subclass.to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(ours, r["subclass"].to_numpy(float),
                                  err_msg=f"{name}: subclass numbers differ")
    np.testing.assert_allclose(res.weights.to_numpy(), r["weights"].to_numpy(), atol=1e-12,
                               rtol=0, err_msg=f"{name}: weights differ")
    for sample in ("All", "Matched", "Unmatched", "Discarded"):
        for col in ("Control", "Treated"):
            assert res.counts.loc[sample, col] == r_nn.loc[(name, sample), col.lower()], (
                name, sample, col)


@pytest.mark.parametrize("name", K2K)
def test_k2k_pairs_are_matchits(name):
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


def test_first_row_treated_numbers_subclasses_among_the_treated(r_units):
    """MatchIt numbers strata by first appearance in the group of the first row."""
    data, res, _ = _run("a_default")
    assert data["treat"].iloc[0] == 1 and res.subclass.iloc[0] == 1
    treated_first = res.subclass[data["treat"].to_numpy() == 1].dropna().drop_duplicates()
    assert treated_first.tolist() == list(range(1, len(treated_first) + 1))


@pytest.mark.parametrize("name,argument", [("a_cut_unknown", "cutpoints"),
                                           ("a_grouping_cutpoints", "cutpoints"),
                                           ("a_exact", "exact"), ("a_k2k_exact", "exact")])
def test_matchits_warnings_are_ignored_argument_warnings(name, argument):
    r = pd.read_csv(FIX / "warnings.csv")
    n_r = int((r["fixture"] == name).sum())
    _, res, caught = _run(name)
    ours = [w for w in caught if issubclass(w.category, IgnoredArgumentWarning)]
    assert len(ours) == n_r
    assert all(f"`{argument}`" in str(w.message) for w in ours)
    if argument == "exact":
        assert res.spec["exact"] is None


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_matchit_refuses_is_a_value_error_naming_the_argument(name):
    data_name, kw = SPECS[name]
    with pytest.raises(ValueError, match=f"`{REFUSED[name]}`") as err:
        match(DATA[data_name], "treat", C, method="cem", **kw)
    got = repr(next(iter(kw.get(REFUSED[name], {}).values()), None)) if isinstance(
        kw.get(REFUSED[name]), dict) else repr(kw.get(REFUSED[name]))
    assert got in str(err.value)


@pytest.mark.parametrize("cut,message", [
    ([30], "two or more cut points"), (True, "got True"), ("q", "got 'q'"),
    ({"x1": 3}, "got {'x1': 3}"), (-np.inf, "got -inf")])
def test_other_bad_cutpoints_are_refused(cut, message):
    with pytest.raises(ValueError, match="`cutpoints` entry for 'x1'") as err:
        match(DATA["a"], "treat", C, method="cem", cutpoints={"x1": cut})
    assert message in str(err.value)


def test_k2k_must_be_a_flag():
    with pytest.raises(ValueError, match="`k2k` should be True or False; got 'no'"):
        match(DATA["a"], "treat", C, method="cem", k2k="no")


def test_grouping_names_outside_the_covariates_warn():
    with pytest.warns(IgnoredArgumentWarning, match="`grouping` names \\['school'\\]"):
        match(DATA["a"], "treat", C, method="cem", grouping={"school": [["S01", "S02"]]})


def test_r_arithmetic_helpers():
    # R: signif(c(52.613, -0.0012345678, 123456.7), 5); seq(0.25, 0.75, by = 0.25);
    # quantile(c(3, 1, 2, 10), c(0.1, 0.5), names = FALSE)
    from evaluation.matching import _r_arithmetic as r

    np.testing.assert_array_equal(r.signif(np.array([52.613, -0.0012345678, 123456.7]), 5),
                                  [52.613, -0.0012346, 123460.0])
    np.testing.assert_array_equal(r.seq_by(0.25, 0.75, 0.25), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(r.quantile7(np.array([3.0, 1, 2, 10]), [0.1, 0.5]),
                               [1.3, 2.5], rtol=0, atol=1e-15)


def test_docstring_examples_run():
    result = doctest.testmod(_cem, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 5
