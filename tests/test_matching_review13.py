"""MatchIt 4.7.2 on the hostile review of issue 13: findings 1 and 4 to 8.

Fixtures in tests/fixtures/matchit/review13 (``make_fixtures.R``, on the review's data sets
A, B, C, E and our S; see its README): every specification below is compared with MatchIt
row label by row label: weights (1e-12), subclasses (as partitions), distance, discarded,
``match.matrix``, every row of ``summary()`` in MatchIt's order (1e-6, ``Std. Pair Dist.``
included) and its sample sizes; where MatchIt stops, we stop too.

1. Optimal pair matching crashed (ZeroDivisionError) when LEMON's cycle cancelling found no
   cycle left in the residual network: LEMON's ``HowardMmc`` then reports cost 0, size 1.
4. ``summary()`` left out variables named only in ``exact``, ``mahvars``, a caliper or
   ``antiexact``; MatchIt's ``X`` has them, after the covariates, in that order.
5. The SMD's fallback SD (a group's SD 0 or undefined): MatchIt's ``pooled_sd`` with
   sampling weights of ones (n - 1), not its unweighted branch (n - 2).
6. Matched / Unmatched count units by matching weight x sampling weight > 0, as ``nn``.
7. optmatch refuses full matching on R integer distances of which some are 0.
8. ``subclass`` as quantile cut points (and a non-integer number, rounded).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import pairs_by_label, partition

from evaluation.exceptions import NotEstimableError
from evaluation.matching import match

HERE = Path(__file__).parent / "fixtures" / "matchit" / "review13"

A = ["x1", "x2", "grp", "bin"]
B = ["s", "f", "lvl"]
E = ["z", "w"]
XY = ["x1", "x2"]
SPECS = {
    # 1. optimal pair matching: LEMON's cycle cancelling with no cycle left (mq == 0)
    "f1_E_opt": ("E", dict(covariates=E, method="optimal")),
    "f1_E_opt_tol": ("E", dict(covariates=E, method="optimal", tol=1e-7)),
    "f1_E_opt_atc": ("E", dict(covariates=E, method="optimal", estimand="ATC")),
    "f1_E_opt_r2": ("E", dict(covariates=E, method="optimal", ratio=2)),
    "f1_E_opt_mah": ("E", dict(covariates=E, method="optimal", distance="mahalanobis")),
    "f1_E_full": ("E", dict(covariates=E, method="full")),
    # 4. summary rows: MatchIt's X (covariates, exact, mahvars, caliper, antiexact)
    "f4_A_nn_exact_sch_r2": ("A", dict(covariates=A, exact=["sch", "bin"], ratio=2,
                                       estimand="ATC")),
    "f4_A_mah_exact_cal": ("A", dict(covariates=XY, distance="mahalanobis", exact="sch",
                                     caliper={"x1": 0.5}, estimand="ATC")),
    "f4_B_nn_score_exact": ("B", dict(covariates=B, distance="s", exact="str_",
                                      estimand="ATC")),
    "f4_B_nn_mahvars_exact": ("B", dict(covariates=B, mahvars=["s", "f"], exact="str_",
                                        estimand="ATC", caliper=0.5)),
    "f4_E_nn_anti_k": ("E", dict(covariates=E, antiexact="k", ratio=2)),
    "f4_E_nn_exact_k_reuse": ("E", dict(covariates=E, exact="k", reuse_max=2, ratio=3)),
    "f4_A_full_exact_mah": ("A", dict(covariates=XY, method="full", exact="bin",
                                      distance="mahalanobis")),
    "f4_B_full_exact": ("B", dict(covariates=B, method="full", exact="str_")),
    "f4_E_full_anti": ("E", dict(covariates=E, method="full", antiexact="k")),
    "f4_A_nn_calvar_notcov": ("A", dict(covariates=["x1", "grp"], caliper={"x2": 0.5})),
    "f4_A_nn_mahvars_notcov": ("A", dict(covariates=["x1", "grp"], mahvars=["x2"],
                                         estimand="ATC")),
    "f4_B_opt_exact": ("B", dict(covariates=["s", "f"], method="optimal", exact="str_",
                                 estimand="ATC")),
    "f4_A_nn_all_four": ("A", dict(covariates=["x1"], exact=["bin"], mahvars=["x2", "x1"],
                                   caliper={"distance": 0.5, "sch": 3, "x2": 2},
                                   std_caliper=False, antiexact=["grp"])),
    "f4_A_full_cal_anti": ("A", dict(covariates=["x1"], method="full",
                                     caliper={"uscore": 0.3}, std_caliper=False,
                                     antiexact=["bin"])),
    # 5. SMD's standard deviation when a group's is 0 / undefined (one treated unit)
    "f5_C_nn": ("C", dict(covariates=XY)),
    "f5_C_nn_r5": ("C", dict(covariates=XY, ratio=5)),
    "f5_C_mah_r3": ("C", dict(covariates=XY, distance="mahalanobis", ratio=3)),
    "f5_C_full": ("C", dict(covariates=XY, method="full")),
    "f5_C_opt": ("C", dict(covariates=XY, method="optimal", ratio=3)),
    "f5_C_exact": ("C", dict(covariates=["x2"], method="exact")),
    # 6. sample sizes with zero sampling weights
    "f6_A_nn_sw": ("A", dict(covariates=A, s_weights="sw", estimand="ATC")),
    "f6_A_nn_sw_mah": ("A", dict(covariates=XY, distance="mahalanobis", s_weights="sw",
                                 estimand="ATC")),
    "f6_A_exact_ate_sw": ("A", dict(covariates=["grp", "bin"], method="exact",
                                    estimand="ATE", s_weights="sw")),
    "f6_A_cem_sw": ("A", dict(covariates=["x1", "x2", "grp"], method="cem", s_weights="sw")),
    "f6_A_cem_k2k_sw": ("A", dict(covariates=["x1", "x2", "grp"], method="cem", k2k=True,
                                  s_weights="sw")),
    "f6_E_sub_probit_sw": ("E", dict(covariates=E, method="subclass", link="probit",
                                     subclass=5, s_weights="k")),
    "f6_E_full_sw": ("E", dict(covariates=E, method="full", s_weights="k")),
    # 7. optmatch's "Nonpositive discrepancies" (integer distances, full matching)
    "f7_B_full_score": ("B", dict(covariates=B, method="full", distance="s")),
    "f7_B_full_score_atc": ("B", dict(covariates=B, method="full", distance="s",
                                      estimand="ATC")),
    "f7_B_full_score_maxc1": ("B", dict(covariates=B, method="full", distance="s",
                                        max_controls=1)),
    "f7_B_full_score_min05": ("B", dict(covariates=B, method="full", distance="s",
                                        min_controls=0.5, max_controls=2)),
    "f7_B_full_score_disc": ("B", dict(covariates=B, method="full", distance="s",
                                       discard="both")),
    "f7_B_full_score_min1": ("B", dict(covariates=B, method="full", distance="s",
                                       min_controls=1, max_controls=5, estimand="ATC")),
    "f7_B_full_score_min1_r3": ("B", dict(covariates=B, method="full", distance="s",
                                          min_controls=1, max_controls=3, estimand="ATC")),
    "f7_B_full_score_num": ("B", dict(covariates=B, method="full", distance="s_num")),
    "f7_B_full_score_exact": ("B", dict(covariates=B, method="full", distance="s",
                                        exact="str_")),
    "f7_B_full_score_cal": ("B", dict(covariates=B, method="full", distance="s",
                                      caliper=0.5, std_caliper=False)),
    "f7_B_full_score_anti": ("B", dict(covariates=B, method="full", distance="s",
                                       antiexact="lvl")),
    "f7_B_full_score_mahvars": ("B", dict(covariates=B, method="full", distance="s",
                                          mahvars=["f"])),
    "f7_B_opt_score": ("B", dict(covariates=B, method="optimal", distance="s",
                                 estimand="ATC")),
    # 8. subclass as quantile cut points (and a non-integer number, rounded)
    "f8_A_sub_q": ("A", dict(covariates=A, method="subclass", subclass=[0.2, 0.5, 0.8])),
    "f8_A_sub_q_atc": ("A", dict(covariates=A, method="subclass", subclass=[0.1, 0.5],
                                 estimand="ATC")),
    "f8_A_sub_q_ate": ("A", dict(covariates=A, method="subclass",
                                 subclass=[0.0, 0.3, 0.6, 1.0], estimand="ATE")),
    "f8_E_sub_q_dup": ("E", dict(covariates=E, method="subclass", subclass=[0.7, 0.3, 0.3])),
    "f8_B_sub_q_ate": ("B", dict(covariates=B, method="subclass", distance="s_num",
                                 subclass=[0.25, 0.5, 0.75], estimand="ATE")),
    "f8_A_sub_2_5": ("A", dict(covariates=A, method="subclass", subclass=2.5)),
    "f8_A_sub_4_6": ("A", dict(covariates=A, method="subclass", subclass=4.6)),
    "f8_S_sub4": ("S", dict(covariates=["x"], method="subclass", distance="d", subclass=4)),
    "f8_S_sub3": ("S", dict(covariates=["x"], method="subclass", distance="d", subclass=3)),
    "f8_S_sub_q": ("S", dict(covariates=["x"], method="subclass", distance="d",
                             subclass=[0.3, 0.6])),
    "f8_S_sub_q5": ("S", dict(covariates=["x"], method="subclass", distance="d",
                              subclass=[0.1, 0.2, 0.5, 0.9])),
    "f8_A_sub_one_q": ("A", dict(covariates=A, method="subclass", subclass=[0.5])),
    "f8_A_sub_q_out": ("A", dict(covariates=A, method="subclass", subclass=[0.2, 1.5])),
}

_DATA: dict = {}
_RUNS: dict = {}


def _data(name: str) -> pd.DataFrame:
    if name not in _DATA:
        _DATA[name] = pd.read_csv(HERE / f"{name}.csv")
    return _DATA[name]


def _run(name: str):
    """(data, result or the exception raised) of one specification, once per process."""
    if name not in _RUNS:
        ds, kw = SPECS[name]
        data = _data(ds)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _RUNS[name] = data, match(data, "treat", **kw)
        except (ValueError, NotEstimableError) as e:
            _RUNS[name] = data, e
    return _RUNS[name]


@pytest.fixture(scope="module")
def r_out() -> dict:
    return {k: pd.read_csv(HERE / f"{k}.csv", keep_default_na=k != "pairs")
            for k in ("units", "pairs", "balance", "nn", "errors")}


ERRORS = set(pd.read_csv(HERE / "errors.csv")["fixture"])
MATCHED = [n for n in SPECS if n not in ERRORS]


def test_fixture_files_cover_the_specifications():
    units = set(pd.read_csv(HERE / "units.csv")["fixture"])
    assert units | ERRORS == set(SPECS) and not units & ERRORS
    assert len(SPECS) == 59 and len(ERRORS) == 7


@pytest.mark.parametrize("name", MATCHED)
def test_weights_subclasses_distance_as_matchit(name, r_out):
    data, res = _run(name)
    assert not isinstance(res, Exception), f"{name}: {res}"
    u = r_out["units"]
    r = u[u["fixture"] == name].set_index("id").loc[data["id"]]
    np.testing.assert_allclose(res.weights.to_numpy(), r["weights"].to_numpy(), atol=1e-12,
                               rtol=0, err_msg=name)
    ours = res.subclass.to_numpy(dtype=float, na_value=np.nan)
    assert partition(data["id"], pd.Series(ours)) == partition(data["id"], r["subclass"])
    np.testing.assert_array_equal(res.discarded.to_numpy(), r["discarded"].to_numpy())
    if res.distance is not None:
        np.testing.assert_allclose(res.distance.to_numpy(), r["distance"].to_numpy(),
                                   atol=1e-6, rtol=0, err_msg=name)


@pytest.mark.parametrize("name", [n for n in MATCHED if SPECS[n][1].get("method", "nearest")
                                  in ("nearest", "optimal") or SPECS[n][1].get("k2k")])
def test_match_matrix_by_row_label_as_matchit(name, r_out):
    data, res = _run(name)
    ours = pairs_by_label(data, res)
    p = r_out["pairs"]
    p = p[(p["fixture"] == name) & (p["matched"] != "NA") & (p["matched"] != "")]
    theirs = {(f, c): m for f, c, m in zip(p["focal"], p["column"], p["matched"],
                                            strict=True)}
    assert ours == theirs, name


@pytest.mark.parametrize("name", MATCHED)
def test_summary_every_row_as_matchit(name, r_out):
    """All of MatchIt's rows, in its order, and no other; every statistic to 1e-6."""
    _, res = _run(name)
    summ = res.summary()
    b = r_out["balance"]
    stats = {"means_treated": "Means Treated", "means_control": "Means Control",
             "smd": "Std. Mean Diff.", "var_ratio": "Var. Ratio", "ecdf_mean": "eCDF Mean",
             "ecdf_max": "eCDF Max"}
    for stage, label in (("all", "All data"), ("matched", "Matched data")):
        r = b[(b["fixture"] == name) & (b["stage"] == stage)].set_index("row")
        assert list(summ.index) == list(r.index), (name, stage)
        cols = dict(stats, **({"pair_dist": "Std. Pair Dist."} if stage == "matched" else {}))
        for rc, oc in cols.items():
            ours = (summ[(label, oc)] if (label, oc) in summ.columns
                    else pd.Series(np.nan, index=summ.index))
            np.testing.assert_allclose(ours.to_numpy(float), r[rc].to_numpy(float),
                                       atol=1e-6, rtol=0, equal_nan=True,
                                       err_msg=f"{name} {stage} {oc}")


@pytest.mark.parametrize("name", MATCHED)
def test_sample_sizes_as_matchit(name, r_out):
    _, res = _run(name)
    nn = r_out["nn"]
    r = nn[nn["fixture"] == name].set_index("row")
    ours = res.summary().attrs["sample_sizes"]
    assert list(ours.index) == list(r.index)
    np.testing.assert_allclose(ours[["Control", "Treated"]].to_numpy(float),
                               r[["control", "treated"]].to_numpy(float), atol=1e-9, rtol=0,
                               err_msg=name)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_refused_where_matchit_stops(name, r_out):
    _, res = _run(name)
    assert isinstance(res, Exception), f"{name}: MatchIt stops, we matched"
    msg = str(res)
    if name.startswith("f7_"):
        assert "Nonpositive discrepancies" in msg and "'s'" in msg and "astype(float)" in msg
    else:
        assert "`subclass`" in msg


def test_integer_distances_go_unrounded_to_the_solver():
    """optmatch's intSolve: the same match as MatchIt on the integer column; the same
    values as doubles are rounded (ceiling(0.5 + d / epsilon)), which it also matches."""
    _, a = _run("f7_B_full_score_min1")
    assert a.spec["resolution"] == {"all": 1.0}
    _, b = _run("f7_B_full_score_num")
    assert b.spec["resolution"]["all"] < 0.01
