"""Agreement with R MatchIt 4.7: matched sets, pairs, weights, subclasses, balance, counts.

Fixtures: tests/fixtures/matchit (make_fixtures.R run with MatchIt 4.7.2 built from its
upstream sources; see README.md and PROVENANCE there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import (
    assert_sample_sizes,
    assert_valid_match,
    fixture_data,
    partition,
    run_spec,
)

from evaluation.balance import balance

FIX = Path(__file__).parent / "fixtures" / "matchit"
P_COVS = ["age", "educ", "race", "married", "re74"]
S_COVS = ["prior", "fsm", "female", "sen", "eal"]
T_COVS = ["prior", "fsm", "female"]
STRATA = ["school_id", "cohort"]
MAH = dict(distance="mahalanobis")

#: fixture -> (data set, match() arguments). Same specifications as make_fixtures.R.
SPECS = {
    "people_nearest": ("people", dict(covariates=P_COVS)),
    "people_nearest_caliper": ("people", dict(covariates=P_COVS, caliper=0.1)),
    "people_nearest_ratio2_replace": ("people", dict(covariates=P_COVS, ratio=2, replace=True)),
    "people_nearest_smallest_discard": ("people", dict(covariates=P_COVS, m_order="smallest",
                                                       discard="both")),
    "people_nearest_ratio2_data": ("people", dict(covariates=P_COVS, ratio=2, m_order="data")),
    "people_nearest_ratio3_caliper": ("people", dict(covariates=P_COVS, ratio=3,
                                                     caliper=0.25)),
    "people_mahalanobis": ("people", dict(covariates=["age", "educ", "re74"], **MAH)),
    "people_mahalanobis_covcaliper": ("people", dict(covariates=["age", "educ", "re74"],
                                                     caliper={"age": 0.25}, **MAH)),
    "people_mahalanobis_ratio2": ("people", dict(covariates=["age", "educ", "re74"], ratio=2,
                                                 **MAH)),
    "people_exact": ("people", dict(method="exact", covariates=["race", "married"])),
    "people_cem": ("people", dict(method="cem", covariates=["age", "educ", "race", "married"])),
    "people_cem_cutpoints": ("people", dict(method="cem",
                                            covariates=["age", "educ", "race", "married"],
                                            cutpoints={"age": [25, 35, 45], "educ": 3})),
    "people_subclass": ("people", dict(method="subclass", covariates=P_COVS, subclass=6)),
    "ties_nearest": ("ties", dict(covariates=T_COVS)),
    "ties_nearest_score": ("ties", dict(covariates=T_COVS, distance="score")),
    "ties_nearest_score_ratio2": ("ties", dict(covariates=T_COVS, distance="score", ratio=2)),
    "ties_nearest_score_ratio3_replace": ("ties", dict(covariates=T_COVS, distance="score",
                                                       ratio=3, replace=True)),
    "ties_nearest_ratio2_replace": ("ties", dict(covariates=T_COVS, ratio=2, replace=True)),
    "ties_nearest_caliper_smallest": ("ties", dict(covariates=T_COVS, caliper=0.05,
                                                   m_order="smallest")),
    "ties_nearest_school": ("ties", dict(covariates=T_COVS, exact=["school"])),
    "ties_nearest_score_school_ratio2": ("ties", dict(covariates=T_COVS, distance="score",
                                                      exact=["school"], ratio=2)),
    "ties_mahalanobis": ("ties", dict(covariates=["prior", "fsm"], **MAH)),
    "ties_mahalanobis_ratio2": ("ties", dict(covariates=T_COVS, ratio=2, **MAH)),
    "ties_mahalanobis_replace": ("ties", dict(covariates=["prior", "fsm"], ratio=2,
                                              replace=True, **MAH)),
    "ties_mahalanobis_one": ("ties", dict(covariates=["prior"], **MAH)),
    # R: em ~ school_id + cohort_f (cohort as a factor, so in the summary too)
    "schools_exact": ("schools", dict(method="exact", covariates=["school_id", "cohort_f"])),
    "schools_nearest": ("schools", dict(covariates=S_COVS, exact=STRATA)),
    "schools_nearest_caliper": ("schools", dict(covariates=S_COVS, exact=STRATA, caliper=0.2)),
    "schools_nearest_ratio2_caliper": ("schools", dict(covariates=S_COVS, exact=STRATA,
                                                       ratio=2, caliper=0.5)),
    "schools_nearest_ratio3_replace": ("schools", dict(covariates=S_COVS, exact=STRATA,
                                                       ratio=3, replace=True)),
    "schools_mahalanobis": ("schools", dict(covariates=["prior", "fsm"], exact=STRATA, **MAH)),
    "schools_cem": ("schools", dict(method="cem", covariates=["prior", "fsm", "sen",
                                                            "school_id", "cohort_f"])),
    "schools_subclass": ("schools", dict(method="subclass", covariates=S_COVS + STRATA,
                                         subclass=6)),
    # m_order closest / farthest
    "people_nearest_closest": ("people", dict(covariates=P_COVS, m_order="closest")),
    "people_nearest_farthest": ("people", dict(covariates=P_COVS, m_order="farthest")),
    "people_nearest_closest_ratio2_caliper": ("people", dict(covariates=P_COVS,
                                                             m_order="closest", ratio=2,
                                                             caliper=0.25)),
    "ties_nearest_score_closest": ("ties", dict(covariates=T_COVS, distance="score",
                                                m_order="closest")),
    "ties_nearest_score_farthest_ratio2": ("ties", dict(covariates=T_COVS, distance="score",
                                                        ratio=2, m_order="farthest")),
    "ties_nearest_score_closest_reuse2": ("ties", dict(covariates=T_COVS, distance="score",
                                                       reuse_max=2, m_order="closest")),
    "schools_nearest_closest_caliper": ("schools", dict(covariates=S_COVS, exact=STRATA,
                                                        caliper=0.5, m_order="closest")),
    "ties_mahalanobis_one_closest": ("ties", dict(covariates=["prior"], m_order="closest",
                                                  **MAH)),
    "people_mahalanobis_closest": ("people", dict(covariates=["age", "educ", "re74"],
                                                  m_order="closest", **MAH)),
    "people_mahalanobis_farthest_ratio2": ("people", dict(covariates=["age", "educ", "re74"],
                                                          m_order="farthest", ratio=2, **MAH)),
    "ties_mahalanobis_closest": ("ties", dict(covariates=["prior", "fsm"], m_order="closest",
                                              **MAH)),
    "schools_mahalanobis_closest": ("schools", dict(covariates=["prior", "fsm"], exact=STRATA,
                                                    m_order="closest", **MAH)),
    "people_mahvars_closest_caliper": ("people", dict(covariates=P_COVS,
                                                      mahvars=["age", "educ", "re74"],
                                                      caliper=0.25, m_order="closest")),
    # estimands
    "people_nearest_atc": ("people", dict(covariates=P_COVS, estimand="ATC")),
    "people_nearest_atc_ratio2_replace": ("people", dict(covariates=P_COVS, estimand="ATC",
                                                         ratio=2, replace=True)),
    "ties_nearest_score_atc": ("ties", dict(covariates=T_COVS, distance="score",
                                            estimand="ATC")),
    "schools_nearest_atc_caliper": ("schools", dict(covariates=S_COVS, exact=STRATA,
                                                    estimand="ATC", caliper=0.5)),
    "people_exact_atc": ("people", dict(method="exact", covariates=["race", "married"],
                                        estimand="ATC")),
    "people_exact_ate": ("people", dict(method="exact", covariates=["race", "married"],
                                        estimand="ATE")),
    "schools_exact_ate": ("schools", dict(method="exact", covariates=["school_id", "cohort_f"],
                                          estimand="ATE")),
    "people_cem_atc": ("people", dict(method="cem", covariates=["age", "educ", "race",
                                                                "married"], estimand="ATC")),
    "people_cem_ate": ("people", dict(method="cem", covariates=["age", "educ", "race",
                                                                "married"], estimand="ATE")),
    "people_subclass_atc": ("people", dict(method="subclass", covariates=P_COVS, subclass=5,
                                           estimand="ATC")),
    "people_subclass_ate": ("people", dict(method="subclass", covariates=P_COVS, subclass=6,
                                           estimand="ATE")),
    # link and a user distance
    "people_nearest_probit": ("people", dict(covariates=P_COVS, link="probit")),
    "people_nearest_cloglog_caliper": ("people", dict(covariates=P_COVS, link="cloglog",
                                                      caliper=0.2)),
    "people_nearest_linear_logit_caliper": ("people", dict(covariates=P_COVS,
                                                           link="linear.logit", caliper=0.2)),
    "people_nearest_linear_probit_ratio2": ("people", dict(covariates=P_COVS,
                                                           link="linear.probit", ratio=2)),
    "people_subclass_linear_cloglog": ("people", dict(method="subclass", covariates=P_COVS,
                                                      subclass=4, link="linear.cloglog")),
    # one name where a list is expected (MatchIt's exact = "school")
    "ties_nearest_exact_string": ("ties", dict(covariates=T_COVS, exact="school")),
    # mahvars, antiexact, reuse_max, k2k
    "people_mahvars_caliper": ("people", dict(covariates=P_COVS,
                                              mahvars=["age", "educ", "re74"], caliper=0.25)),
    "ties_mahvars_ratio2_caliper": ("ties", dict(covariates=T_COVS, mahvars=["prior", "fsm"],
                                                 caliper=0.1, ratio=2)),
    "schools_mahvars_one": ("schools", dict(covariates=S_COVS, mahvars="prior", exact=STRATA,
                                            caliper=0.5)),
    "people_nearest_antiexact": ("people", dict(covariates=P_COVS, antiexact="married")),
    "ties_nearest_score_antiexact_ratio2": ("ties", dict(covariates=T_COVS, distance="score",
                                                         antiexact=["school"], ratio=2)),
    "people_mahalanobis_antiexact": ("people", dict(covariates=["age", "educ", "re74"],
                                                    antiexact="race", **MAH)),
    "people_nearest_reuse2": ("people", dict(covariates=P_COVS, reuse_max=2)),
    "ties_nearest_score_ratio2_reuse3": ("ties", dict(covariates=T_COVS, distance="score",
                                                      ratio=2, reuse_max=3)),
    "people_mahalanobis_reuse2_ratio2": ("people", dict(covariates=["age", "educ", "re74"],
                                                        reuse_max=2, ratio=2, **MAH)),
    "people_cem_k2k": ("people", dict(method="cem", covariates=["age", "educ", "race",
                                                                "married"], k2k=True)),
    "schools_cem_k2k": ("schools", dict(method="cem", covariates=["prior", "fsm", "sen",
                                                                "school_id", "cohort_f"],
                                        k2k=True)),
    "ties_cem_k2k_atc": ("ties", dict(method="cem", covariates=T_COVS, k2k=True,
                                      estimand="ATC")),
    # sampling weights (s.weights = "sw")
    "people_nearest_sw": ("people", dict(covariates=P_COVS, s_weights="sw")),
    "people_nearest_sw_ratio2_caliper": ("people", dict(covariates=P_COVS, s_weights="sw",
                                                        ratio=2, caliper=0.25)),
    "people_nearest_probit_sw": ("people", dict(covariates=P_COVS, link="probit",
                                                s_weights="sw")),
    "people_mahalanobis_sw": ("people", dict(covariates=["age", "educ", "re74"],
                                             s_weights="sw", **MAH)),
    "people_mahvars_sw": ("people", dict(covariates=P_COVS, mahvars=["age", "educ"],
                                         caliper=0.3, s_weights="sw")),
    "people_exact_sw": ("people", dict(method="exact", covariates=["race", "married"],
                                       s_weights="sw")),
    "people_subclass_sw_ate": ("people", dict(method="subclass", covariates=P_COVS,
                                              subclass=5, estimand="ATE", s_weights="sw")),
    "schools_nearest_sw": ("schools", dict(covariates=S_COVS, exact=STRATA, s_weights="sw")),
    "people_cem_k2k_sw": ("people", dict(method="cem", covariates=["age", "educ", "race",
                                                                   "married"], k2k=True,
                                         s_weights="sw")),
}


def _data(name: str) -> pd.DataFrame:
    return fixture_data(name)


@pytest.fixture(scope="module")
def r_units():
    return pd.read_csv(FIX / "units.csv")


@pytest.fixture(scope="module")
def r_pairs():
    return pd.read_csv(FIX / "pairs.csv")


@pytest.fixture(scope="module")
def r_balance():
    return pd.read_csv(FIX / "balance.csv")


@pytest.fixture(scope="module")
def r_nn():
    return pd.read_csv(FIX / "nn.csv").set_index(["fixture", "sample"])


@pytest.fixture(scope="module")
def r_matches():
    return pd.read_csv(FIX / "matches.csv")



def _run(name):
    return run_spec(name, *SPECS[name])




def test_fixtures_cover_every_spec(r_units, r_nn):
    assert set(r_units["fixture"]) == set(SPECS)
    assert len(SPECS) == 84


@pytest.mark.parametrize("name", list(SPECS))
def test_weights_subclasses_and_counts_match_matchit(name, r_units, r_nn):
    data, res = _run(name)
    assert_valid_match(res)
    r = r_units[r_units["fixture"] == name].set_index("id").loc[data["id"]]
    np.testing.assert_allclose(res.weights.to_numpy(), r["weights"].to_numpy(), atol=1e-12,
                               rtol=0, err_msg=f"{name}: weights differ")
    ours = pd.Series(res.subclass.to_numpy(dtype=float, na_value=np.nan))
    assert partition(data["id"], ours) == partition(data["id"], r["subclass"]), name
    for sample in ("All", "Matched", "Unmatched", "Discarded"):
        assert res.counts.loc[sample, "Control"] == r_nn.loc[(name, sample), "control"], sample
        assert res.counts.loc[sample, "Treated"] == r_nn.loc[(name, sample), "treated"], sample
    if res.distance is not None:
        np.testing.assert_allclose(res.distance.to_numpy(), r["distance"].to_numpy(), atol=1e-6)


NEAREST = [n for n, (_, kw) in SPECS.items() if kw.get("method", "nearest") == "nearest"
           or kw.get("k2k")]


@pytest.mark.parametrize("name", NEAREST)
def test_match_matrix_pairs_by_row_label_match_matchit(name, r_pairs):
    """Every focal unit's matches, in MatchIt's column order, ties included."""
    data, res = _run(name)
    ids = data["id"].to_numpy()
    t = data[res.treatment].to_numpy().astype(bool)
    treated = ids[t if res.spec["focal"] == "treated" else ~t]
    mm = res.match_matrix
    ours = {(t, c + 1): (ids[k] if k >= 0 else None)
            for t, row in zip(treated, mm, strict=True) for c, k in enumerate(row)}
    r = r_pairs[r_pairs["fixture"] == name]
    theirs = {(t, c): (k if isinstance(k, str) else None)
              for t, c, k in zip(r["treated"], r["column"], r["control"], strict=True)}
    ours = {k: v for k, v in ours.items() if v is not None}
    theirs = {k: v for k, v in theirs.items() if v is not None}
    diff = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
    assert not diff, (f"{name}: {len(diff)} of {len(theirs)} pairs differ, e.g. "
                      f"{[(k, ours.get(k), theirs.get(k)) for k in diff[:5]]}")


@pytest.mark.parametrize("name", list(SPECS))
def test_balance_summary_matches_matchit_within_1e6(name, r_balance):
    data, res = _run(name)
    summ = balance(res).summary()
    r = r_balance[r_balance["fixture"] == name]
    stats = {"means_treated": "Means Treated", "means_control": "Means Control",
             "smd": "Std. Mean Diff.", "var_ratio": "Var. Ratio", "ecdf_mean": "eCDF Mean",
             "ecdf_max": "eCDF Max"}
    compared = 0
    for stage, label in (("all", "All data"), ("matched", "Matched data")):
        rs = r[r["stage"] == stage].set_index("row")
        # every row of MatchIt's summary, in its order (its X: covariates, then the
        # variables of exact, mahvars, caliper and antiexact), and no other
        assert list(summ.index) == list(rs.index), (name, stage)
        for row in rs.index:
            for rc, oc in stats.items():
                np.testing.assert_allclose(summ.loc[row, (label, oc)], rs.loc[row, rc],
                                           atol=1e-6, rtol=0, equal_nan=True,
                                           err_msg=f"{name} {stage} {row} {oc}")
                compared += 1
    assert compared >= 12


@pytest.mark.parametrize("name", list(SPECS))
def test_std_pair_dist_and_effective_sample_sizes_match_matchit(name, r_balance, r_nn):
    """summary()'s Std. Pair Dist. column and MatchIt's sample-size table (with ESS)."""
    data, res = _run(name)
    summ = res.summary()
    r = r_balance[(r_balance["fixture"] == name) & (r_balance["stage"] == "matched")]
    r = r.set_index("row")["pair_dist"]
    assert list(summ.index) == list(r.index), name
    np.testing.assert_allclose(summ[("Matched data", "Std. Pair Dist.")],
                               r[summ.index], atol=1e-6, rtol=0, equal_nan=True, err_msg=name)
    assert_sample_sizes(summ.attrs["sample_sizes"], r_nn, name)


GET_MATCHES = ["people_nearest", "people_nearest_ratio2_replace",
               "ties_nearest_score_ratio3_replace", "people_nearest_reuse2",
               "people_nearest_atc", "people_cem_k2k", "people_nearest_sw_ratio2_caliper"]


@pytest.mark.parametrize("name", GET_MATCHES)
def test_get_matches_rows_sets_and_weights_match_matchit(name, r_matches):
    """One row per set member: same sets (ids, weights), numbered alike, treated first."""
    data, res = _run(name)
    ours = res.get_matches(id="row_id")
    ours["row_id"] = data["id"].to_numpy()[ours["row_id"].to_numpy()]
    r = r_matches[r_matches["fixture"] == name]
    assert len(ours) == len(r)
    np.testing.assert_array_equal(ours["subclass"], r["subclass"])
    t = dict(zip(data["id"], data[res.treatment].astype(bool), strict=True))
    np.testing.assert_array_equal(ours["row_id"].map(t), r["id"].map(t))
    key = ["subclass", "row_id", "weights"]
    theirs = r.rename(columns={"id": "row_id"})[key].sort_values(key[:2])
    mine = ours[key].sort_values(key[:2])
    np.testing.assert_array_equal(mine[key[:2]].to_numpy(), theirs[key[:2]].to_numpy())
    np.testing.assert_allclose(mine["weights"].to_numpy(), theirs["weights"].to_numpy(),
                               atol=1e-12)


SUBCLASS = [n for n, (_, kw) in SPECS.items() if kw.get("method") == "subclass"]


@pytest.mark.parametrize("name", SUBCLASS)
def test_per_subclass_balance_and_sizes_match_matchit(name):
    """summary(m, subclass = TRUE): each subclass's balance table and the sizes table."""
    data, res = _run(name)
    by_sub, sizes = res.subclass_summary()
    r = pd.read_csv(FIX / "subclass_balance.csv")
    r = r[r["fixture"] == name].set_index(["subclass", "row"])
    stats = {"means_treated": "Means Treated", "means_control": "Means Control",
             "smd": "Std. Mean Diff.", "var_ratio": "Var. Ratio", "ecdf_mean": "eCDF Mean",
             "ecdf_max": "eCDF Max"}
    common = [k for k in r.index if k in by_sub.index]
    assert len(common) >= 0.9 * len(r), (len(common), len(r))
    for rc, oc in stats.items():
        np.testing.assert_allclose(by_sub.loc[common, oc].to_numpy(float),
                                   r.loc[common, rc].to_numpy(float), atol=1e-6, rtol=0,
                                   equal_nan=True, err_msg=f"{name} {oc}")
    q = pd.read_csv(FIX / "subclass_sizes.csv")
    q = q[q["fixture"] == name].pivot(index="group", columns="column", values="n")
    assert sorted(sizes.columns) == sorted(q.columns)
    for col in q.columns:
        for grp in ("Control", "Treated", "Total"):
            assert sizes.loc[grp, col] == q.loc[grp, col], (name, grp, col)
