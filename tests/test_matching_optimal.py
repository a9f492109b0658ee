"""Optimal pair and full matching against R MatchIt 4.7.2 + optmatch 0.10.8, and exact optima.

Fixtures: tests/fixtures/matchit/optmatch (make_fixtures.R; versions in PROVENANCE there).
optmatch rounds each distance to ``ceiling(0.5 + d / epsilon)`` and solves the rounded problem
exactly. What is compared, per fixture:

- the resolution ``epsilon`` of each exact stratum: equal to optmatch's (relative 1e-13);
- the optimum: the total rounded distance of our matched sets equals that of MatchIt's sets,
  stratum by stratum (integers, exactly), both computed with optmatch's epsilon;
- matched sets, subclasses (the numbers themselves), weights (1e-12), pairs
  (``match_matrix`` by row label) and the sample-size table with effective sample sizes:
  identical in every fixture, ties included, and the matched-data balance and
  ``Std. Pair Dist.`` within 1e-6. The rounded problems have several optima in 31 of the 38
  fixtures (``TIED``: 1-D distances tie whenever two pairs can be crossed); identity there
  needs optmatch's network in its arc order and its solver, LEMON's cycle cancelling
  (``evaluation.matching._lemon``, tested on its own in test_matching_lemon.py).

Independently of R: on small problems the optimum is checked against scipy's assignment
solver (pair matching) and against mixed-integer programs (scipy.optimize.milp) of the
minimum-cost edge cover (full matching) and of variable-ratio matching.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import assert_sample_sizes, fixture_data, pairs_by_label, partition, run_spec
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

from evaluation.exceptions import IgnoredArgumentWarning, NotEstimableError
from evaluation.matching import _dist_matrix, match
from evaluation.matching.distance import mahalanobis_space

FIX = Path(__file__).parent / "fixtures" / "matchit"
OPT = FIX / "optmatch"
P = ["age", "educ", "race", "married", "re74"]
S = ["prior", "fsm", "female", "sen", "eal"]
T = ["prior", "fsm", "female"]
M = ["age", "educ", "re74"]
ST = ["school_id", "cohort"]
MAH = dict(distance="mahalanobis")
FINE = dict(tol=1e-7)

#: fixture -> (data set, match() arguments). Same specifications as make_fixtures.R.
SPECS = {
    "people_optimal": ("people", dict(covariates=P, method="optimal")),
    "people_optimal_ratio2": ("people", dict(covariates=P, method="optimal", ratio=2)),
    "people_optimal_tol": ("people", dict(covariates=P, method="optimal", **FINE)),
    "people_optimal_ratio3_tol": ("people", dict(covariates=P, method="optimal", ratio=3,
                                                 **FINE)),
    "people_optimal_discard": ("people", dict(covariates=P, method="optimal",
                                              discard="both")),
    "people_optimal_exact": ("people", dict(covariates=P, method="optimal", exact="married")),
    "people_optimal_atc": ("people", dict(covariates=P, method="optimal", estimand="ATC")),
    "people_optimal_mahalanobis": ("people", dict(covariates=M, method="optimal", **MAH)),
    "people_optimal_variable": ("people", dict(covariates=P, method="optimal", ratio=2,
                                               min_controls=1, max_controls=3, **FINE)),
    "ties_optimal": ("ties", dict(covariates=T, method="optimal")),
    "ties_optimal_score": ("ties", dict(covariates=T, method="optimal", distance="score")),
    "ties_optimal_school_ratio2": ("ties", dict(covariates=T, method="optimal",
                                                exact="school", ratio=2)),
    "schools_optimal": ("schools", dict(covariates=S, method="optimal", exact=ST)),
    "schools_optimal_ratio2": ("schools", dict(covariates=S, method="optimal", exact=ST,
                                               ratio=2)),
    "people_full": ("people", dict(covariates=P, method="full")),
    "people_full_tol": ("people", dict(covariates=P, method="full", **FINE)),
    "people_full_atc": ("people", dict(covariates=P, method="full", estimand="ATC")),
    "people_full_ate_tol": ("people", dict(covariates=P, method="full", estimand="ATE",
                                           **FINE)),
    "people_full_minmax": ("people", dict(covariates=P, method="full", min_controls=1,
                                          max_controls=3, **FINE)),
    "people_full_max2": ("people", dict(covariates=P, method="full", max_controls=2, **FINE)),
    "people_full_caliper": ("people", dict(covariates=P, method="full", caliper=0.1, **FINE)),
    "people_full_discard": ("people", dict(covariates=P, method="full", discard="both",
                                           **FINE)),
    "people_full_exact": ("people", dict(covariates=P, method="full", exact="married",
                                         **FINE)),
    "people_full_mahalanobis": ("people", dict(covariates=M, method="full", **MAH)),
    "people_full_antiexact": ("people", dict(covariates=P, method="full", antiexact="married",
                                             **FINE)),
    "people_full_sw": ("people", dict(covariates=P, method="full", s_weights="sw", **FINE)),
    "ties_full": ("ties", dict(covariates=T, method="full")),
    # make_fixtures.R passes as.numeric(d$score): R's integer column is refused by optmatch
    # for full matching (tests/test_matching_review13.py), so the same doubles here
    "ties_full_score": ("ties", dict(covariates=T, method="full",
                                     distance=fixture_data("ties")["score"].astype(float))),
    "ties_full_school": ("ties", dict(covariates=T, method="full", exact="school")),
    "schools_full": ("schools", dict(covariates=S, method="full", exact=ST)),
    "schools_full_caliper": ("schools", dict(covariates=S, method="full", exact=ST,
                                             caliper=0.5, **FINE)),
    "people_optimal_mahalanobis_tol": ("people", dict(covariates=M, method="optimal", **FINE,
                                                      **MAH)),
    "people_optimal_mahalanobis_ratio2_tol": ("people", dict(covariates=M, method="optimal",
                                                             ratio=2, **FINE, **MAH)),
    "people_optimal_mahalanobis_atc_tol": ("people", dict(covariates=M, method="optimal",
                                                          estimand="ATC", **FINE, **MAH)),
    "people_full_mahalanobis_ate_tol": ("people", dict(covariates=M, method="full",
                                                       estimand="ATE", **FINE, **MAH)),
    "people_full_mahalanobis_max2_tol": ("people", dict(covariates=M, method="full",
                                                        max_controls=2, **FINE, **MAH)),
    "schools_optimal_mahalanobis_tol": ("schools", dict(covariates=["prior", "sen"],
                                                        method="optimal", exact=ST, **FINE,
                                                        **MAH)),
    "schools_full_mahalanobis_tol": ("schools", dict(covariates=["prior", "sen"],
                                                     method="full", exact=ST, **FINE, **MAH)),
}
#: Fixtures whose rounded problem has a unique optimum (a solver returning another optimum
#: of equal cost, as HiGHS's dual simplex did, agreed with optmatch only on these); in all
#: the others the optimum is tied and only optmatch's own algorithm gives its matched sets.
UNIQUE = {"people_full_caliper", "people_full_mahalanobis", "people_optimal_mahalanobis_tol",
          "people_optimal_mahalanobis_ratio2_tol", "people_optimal_mahalanobis_atc_tol",
          "people_full_mahalanobis_ate_tol", "people_full_mahalanobis_max2_tol"}
TIED = set(SPECS) - UNIQUE


def _data(name: str) -> pd.DataFrame:
    return fixture_data(name)


@pytest.fixture(scope="module")
def r_units():
    return pd.read_csv(OPT / "units.csv")


@pytest.fixture(scope="module")
def r_subproblems():
    return pd.read_csv(OPT / "subproblems.csv")



def _run(name):
    return run_spec(name, *SPECS[name])




def _r_labels(data: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """MatchIt's exact-stratum labels (``exactify(..., include_vars = TRUE)``)."""
    parts = [data[c].map(lambda v, c=c: f"{c} = {v}") if pd.api.types.is_numeric_dtype(data[c])
             else data[c].map(lambda v, c=c: f'{c} = "{v}"') for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + ", " + p
    return out.to_numpy()


def _stratum_costs(data, res, sub, r, eps_r) -> dict:
    """Total rounded distance (optmatch's integers, R's epsilon) of the sets, by stratum."""
    treat = data[res.treatment].to_numpy().astype(bool)
    if res.spec["distance"] == "mahalanobis":   # MatchIt's covariate matrix (factors / sqrt 2)
        space = mahalanobis_space(_dist_matrix(data, res.covariates), treat,
                                  res.discarded.to_numpy(), None)
    else:
        space = r["distance"].to_numpy()[:, None]
    exact = res.spec.get("exact")
    labels = _r_labels(data, exact) if exact else np.full(len(data), "_")
    out: dict = {}
    for s in np.unique(sub[~np.isnan(sub)]):
        m = np.flatnonzero(sub == s)
        t, c = m[treat[m]], m[~treat[m]]
        assert len(t) == 1 or len(c) == 1, "a matched set has one treated or one control unit"
        hub, spokes = (t[0], c) if len(t) == 1 else (c[0], t)
        assert len(set(labels[m])) == 1, "a matched set lies within one exact stratum"
        d = np.sqrt(((space[spokes] - space[hub]) ** 2).sum(axis=1))
        lab = labels[hub]
        out[lab] = out.get(lab, 0) + int(np.ceil(0.5 + d / eps_r[lab]).sum())
    return out


def test_fixtures_cover_every_spec(r_units):
    assert set(r_units["fixture"]) == set(SPECS)
    assert len(SPECS) == 38


@pytest.mark.parametrize("name", list(SPECS))
def test_rounding_resolution_matches_optmatch(name, r_subproblems):
    data, res = _run(name)
    r = r_subproblems[r_subproblems["fixture"] == name]
    ours = res.spec["resolution"]
    exact = res.spec.get("exact")
    if exact:
        rl = _r_labels(data, exact)
        ol = data[exact].astype(str).agg(", ".join, axis=1).to_numpy()
        to_r = dict(zip(ol, rl, strict=True))
        ours = {to_r[k]: v for k, v in ours.items()}
    else:
        ours = {"_": ours["all"]}
    theirs = dict(zip(r["stratum"], r["epsilon"], strict=True))
    assert ours.keys() == theirs.keys()
    for k, v in theirs.items():
        assert ours[k] == pytest.approx(v, rel=1e-13, abs=0), (name, k)


@pytest.mark.parametrize("name", list(SPECS))
def test_same_optimum_as_optmatch_stratum_by_stratum(name, r_units, r_subproblems):
    """Total rounded distance of our matched sets == MatchIt's, in every exact stratum."""
    data, res = _run(name)
    r = r_units[r_units["fixture"] == name].set_index("id").loc[data["id"]]
    sp = r_subproblems[r_subproblems["fixture"] == name]
    eps = dict(zip(sp["stratum"], sp["epsilon"], strict=True))
    ours = res.subclass.to_numpy(dtype=float, na_value=np.nan)
    mine = _stratum_costs(data, res, ours, r, eps)
    theirs = _stratum_costs(data, res, r["subclass"].to_numpy(float), r, eps)
    assert mine == theirs
    assert (partition(data["id"].to_numpy(), ours)
            == partition(data["id"].to_numpy(), r["subclass"].to_numpy(float))), name


def test_ties_are_a_majority_of_the_fixtures():
    """The identity tests below bite on ties: 31 of the 38 specifications have tied optima."""
    assert len(TIED) == 31 and UNIQUE < set(SPECS)


@pytest.mark.parametrize("name", list(SPECS))
def test_identical_subclass_numbers(name, r_units):
    """Subclasses identical to MatchIt's, the numbers included (MatchIt numbers the sets in
    the ICU-collated order of ``"<optmatch label>|<exact stratum>"``)."""
    data, res = _run(name)
    r = r_units[r_units["fixture"] == name].set_index("id").loc[data["id"]]
    np.testing.assert_array_equal(res.subclass.to_numpy(dtype=float, na_value=np.nan),
                                  r["subclass"].to_numpy(float))


@pytest.mark.parametrize("name", list(SPECS))
def test_counts_match_matchit(name):
    data, res = _run(name)
    nn = pd.read_csv(OPT / "nn.csv").set_index(["fixture", "sample"])
    for sample in ("All", "Matched", "Unmatched", "Discarded"):
        for col in ("Control", "Treated"):
            assert res.counts.loc[sample, col] == nn.loc[(name, sample), col.lower()], \
                (name, sample, col)


@pytest.mark.parametrize("name", list(SPECS))
def test_identical_weights_pairs_and_ess(name, r_units):
    data, res = _run(name)
    r = r_units[r_units["fixture"] == name].set_index("id").loc[data["id"]]
    np.testing.assert_allclose(res.weights.to_numpy(), r["weights"].to_numpy(), atol=1e-12,
                               rtol=0)
    nn = pd.read_csv(OPT / "nn.csv").set_index(["fixture", "sample"])
    assert_sample_sizes(res.summary().attrs["sample_sizes"], nn, name)
    if res.spec["method"] != "optimal":
        assert res.match_matrix is None
        return
    ours = pairs_by_label(data, res)
    rp = pd.read_csv(OPT / "pairs.csv")
    rp = rp[(rp["fixture"] == name) & rp["control"].notna()]
    theirs = dict(zip(zip(rp["treated"], rp["column"], strict=True), rp["control"],
                      strict=True))
    assert ours == theirs


@pytest.mark.parametrize("name", list(SPECS))
def test_balance_and_std_pair_dist_match_matchit(name):
    """summary(): matched-data balance and Std. Pair Dist. within 1e-6 of MatchIt's."""
    _, res = _run(name)
    summ = res.summary()
    r = pd.read_csv(OPT / "balance.csv")
    r = r[r["fixture"] == name].set_index("row")
    stats = {"means_treated": "Means Treated", "means_control": "Means Control",
             "smd": "Std. Mean Diff.", "var_ratio": "Var. Ratio", "ecdf_mean": "eCDF Mean",
             "ecdf_max": "eCDF Max", "pair_dist": "Std. Pair Dist."}
    common = [row for row in r.index if row in summ.index]
    assert len(common) >= 3
    for rc, oc in stats.items():
        np.testing.assert_allclose(summ.loc[common, ("Matched data", oc)].to_numpy(float),
                                   r.loc[common, rc].to_numpy(float), atol=1e-6, rtol=0,
                                   equal_nan=True, err_msg=f"{name} {oc}")


@pytest.mark.parametrize("name", list(SPECS))
def test_weights_follow_matchit_rules(name):
    """Subclass weights (MatchIt's get_weights_from_subclass) and set structure."""
    data, res = _run(name)
    t = data[res.treatment].to_numpy().astype(bool)
    w, sub = res.weights.to_numpy(), res.subclass.to_numpy(dtype=float, na_value=np.nan)
    assert ((w > 0) == ~np.isnan(sub)).all()
    assert not (w[res.discarded.to_numpy()] > 0).any()
    est = res.spec["estimand"]
    for grp in (t, ~t):
        nz = grp & (w > 0)
        assert np.isclose(w[nz].mean(), 1.0)
    if est == "ATT":
        assert (w[t & (w > 0)] == 1).all()
    elif est == "ATC":
        assert (w[~t & (w > 0)] == 1).all()
    if res.spec["method"] == "optimal" and res.spec.get("max_controls") is None:
        k = (res.match_matrix >= 0).sum(axis=1)
        assert k.max() <= res.spec["ratio"]


# ---------------------------------------------------------------- exact optima, no R


def _frame(rng, nt, nc, dims=1):
    x = rng.normal(size=(nt + nc, dims))
    data = pd.DataFrame(x, columns=[f"x{i}" for i in range(dims)])
    data["t"] = np.r_[np.ones(nt, bool), np.zeros(nc, bool)]
    data["d"] = x[:, 0]
    return data


def _sets(res):
    sub = res.subclass.to_numpy(dtype=float, na_value=np.nan)
    return [np.flatnonzero(sub == s) for s in np.unique(sub[~np.isnan(sub)])]


def _real_cost(res, x):
    t = res.data["t"].to_numpy()
    cost = 0.0
    for m in _sets(res):
        a, b = m[t[m]], m[~t[m]]
        hub, spokes = (a[0], b) if len(a) == 1 else (b[0], a)
        cost += np.sqrt(((x[spokes] - x[hub]) ** 2).sum(axis=1)).sum()
    return cost


def _dist(x, nt):
    return np.sqrt(((x[:nt, None, :] - x[None, nt:, :]) ** 2).sum(axis=2))


@pytest.mark.parametrize("seed,ratio", [(1, 1), (2, 1), (3, 2), (4, 3)])
def test_pair_matching_reaches_the_assignment_optimum(seed, ratio):
    rng = np.random.default_rng(seed)
    nt, nc = 9, 30
    data = _frame(rng, nt, nc, dims=2)
    res = match(data, "t", ["x0", "x1"], method="optimal", distance="mahalanobis",
                ratio=ratio, tol=1e-9)
    x = mahalanobis_space(data[["x0", "x1"]].to_numpy(), data["t"].to_numpy(),
                          np.zeros(len(data), bool))
    d = np.repeat(_dist(x, nt), ratio, axis=0)
    r, c = linear_sum_assignment(d)
    assert _real_cost(res, x) == pytest.approx(d[r, c].sum(), abs=1e-6)
    assert all(len(m) == ratio + 1 for m in _sets(res))


def _edge_cover(d, max_t=None, min_t=1, max_c=None, n_arcs=None):
    """Minimum-cost edge cover (optionally degree-bounded) by mixed-integer programming."""
    nt, nc = d.shape
    n = nt * nc
    rows = np.zeros((nt, n))
    cols = np.zeros((nc, n))
    for i in range(nt):
        rows[i, i * nc:(i + 1) * nc] = 1
    for j in range(nc):
        cols[j, j::nc] = 1
    cons = [LinearConstraint(rows, min_t, np.inf if max_t is None else max_t),
            LinearConstraint(cols, 0 if max_c == 1 else 1, np.inf if max_c is None else max_c)]
    if n_arcs is not None:
        cons.append(LinearConstraint(np.ones((1, n)), n_arcs, n_arcs))
    out = milp(d.ravel(), constraints=cons, integrality=np.ones(n), bounds=Bounds(0, 1))
    assert out.success
    return out.fun


@pytest.mark.parametrize("seed,dims", [(5, 1), (6, 2), (7, 3)])
def test_full_matching_reaches_the_minimum_edge_cover(seed, dims):
    """Full matching without bounds is a minimum-cost edge cover (stars, every unit)."""
    rng = np.random.default_rng(seed)
    nt, nc = 7, 12
    data = _frame(rng, nt, nc, dims)
    cols = [f"x{i}" for i in range(dims)]
    x = data[cols].to_numpy()
    res = match(data, "t", cols, method="full", distance="d" if dims == 1 else "mahalanobis",
                tol=1e-9)
    if dims > 1:
        x = mahalanobis_space(x, data["t"].to_numpy(), np.zeros(len(data), bool))
    assert _real_cost(res, x) == pytest.approx(_edge_cover(_dist(x, nt)), abs=1e-6)
    assert (res.weights > 0).all(), "full matching matches every unit"


def test_full_matching_with_max_controls_reaches_the_bounded_edge_cover():
    rng = np.random.default_rng(8)
    nt, nc = 8, 14
    data = _frame(rng, nt, nc, 2)
    res = match(data, "t", ["x0", "x1"], method="full", distance="mahalanobis",
                max_controls=2, tol=1e-9)
    x = mahalanobis_space(data[["x0", "x1"]].to_numpy(), data["t"].to_numpy(),
                          np.zeros(len(data), bool))
    assert _real_cost(res, x) == pytest.approx(_edge_cover(_dist(x, nt), max_t=2), abs=1e-6)
    t = data["t"].to_numpy()
    assert all((~t[m]).sum() <= 2 for m in _sets(res))


def test_variable_ratio_matching_reaches_its_integer_program():
    rng = np.random.default_rng(9)
    nt, nc = 8, 30
    data = _frame(rng, nt, nc, 2)
    res = match(data, "t", ["x0", "x1"], method="optimal", distance="mahalanobis", ratio=2.5,
                min_controls=1, max_controls=4, tol=1e-9)
    x = mahalanobis_space(data[["x0", "x1"]].to_numpy(), data["t"].to_numpy(),
                          np.zeros(len(data), bool))
    best = _edge_cover(_dist(x, nt), max_t=4, min_t=1, max_c=1, n_arcs=20)
    assert _real_cost(res, x) == pytest.approx(best, abs=1e-6)
    assert int((res.weights[~data["t"]] > 0).sum()) == 20


def test_rounding_keeps_the_optimum_within_optmatch_tolerance():
    """With the default tol the total distance is within tol x units of the true optimum."""
    rng = np.random.default_rng(10)
    nt, nc = 20, 60
    data = _frame(rng, nt, nc, 1)
    res = match(data, "t", ["x0"], method="optimal", distance="d")
    x = data[["x0"]].to_numpy()
    d = _dist(x, nt)
    r, c = linear_sum_assignment(d)
    assert 0 <= _real_cost(res, x) - d[r, c].sum() <= 0.001 * (nt + nc)


def test_exact_strata_and_caliper_are_respected():
    data = _data("schools")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = match(data, "em", S, method="full", exact=ST, caliper=0.3)
    key = data[ST].astype(str).agg("|".join, axis=1).to_numpy()
    t = data["em"].to_numpy().astype(bool)
    d = res.distance.to_numpy()
    width = res.spec["caliper_distance"]
    for m in _sets(res):
        assert len(set(key[m])) == 1
        a, b = m[t[m]], m[~t[m]]
        hub, spokes = (a[0], b) if len(a) == 1 else (b[0], a)
        assert (np.abs(d[spokes] - d[hub]) <= width).all()
    assert res.weights[key == "S09|2010"].eq(0).all(), "a stratum without treated units"


def test_infeasible_constraints_raise_as_matchit_fails():
    """MatchIt 4.7.2 fails on optimal + antiexact = ~married here too.

    optmatch reports "Matching failed. (Restrictions impossible to meet?)": 32 unmarried and
    16 married treated units could each get a control of the other status (90 and 162 of
    them), but MatchIt's edge pruning for 1:1 matching leaves no feasible matching.
    """
    with pytest.raises(NotEstimableError, match="no matching meets the constraints"):
        match(_data("people"), "treat", P, method="optimal", antiexact="married")


def test_arguments_as_matchit_checks_them():
    data = _data("people")
    with pytest.raises(ValueError, match="whole number"):
        match(data, "treat", P, method="optimal", ratio=1.5)
    with pytest.raises(ValueError, match="greater than `ratio`"):
        match(data, "treat", P, method="optimal", ratio=2, max_controls=2)
    with pytest.raises(ValueError, match="calipers cannot be used"):
        match(data, "treat", P, method="full", caliper=0.1, min_controls=1)
    with pytest.raises(ValueError, match="estimand"):
        match(data, "treat", P, method="optimal", estimand="ATE")
    with pytest.warns(IgnoredArgumentWarning, match="caliper"):
        match(data, "treat", P, method="optimal", caliper=0.1)


@pytest.mark.parametrize("kwargs, name", [
    (dict(method="optimal", ratio=2, max_controls="3"), "max_controls"),
    (dict(method="optimal", ratio=2, max_controls=3, min_controls="1"), "min_controls"),
    (dict(method="optimal", ratio=2, max_controls=np.inf), "max_controls"),
    (dict(method="full", min_controls="a"), "min_controls"),
    (dict(method="full", max_controls=[1, 2]), "max_controls"),
    (dict(method="full", min_controls=True), "min_controls"),
    (dict(method="full", max_controls=float("nan")), "max_controls"),
])
def test_bad_min_max_controls_name_the_argument(kwargs, name):
    """A bad bound is refused with a ValueError naming it, never a bare TypeError."""
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"t": rng.random(60) < 0.3, "x": rng.normal(size=60)})
    with pytest.raises(ValueError, match=f"`{name}`"):
        match(d, "t", ["x"], **kwargs)


def test_full_matching_with_max_controls_below_one_half_does_not_crash():
    """optmatch's transposed branch (max.controls <= 0.5, no omit fraction): each control
    must then serve at least 2 treated units; with every unit matched that is impossible
    here (16 treated, 44 controls), which is reported as not estimable, not a TypeError."""
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"t": rng.random(60) < 0.3, "x": rng.normal(size=60)})
    assert d["t"].sum() == 16
    with pytest.raises(NotEstimableError):
        match(d, "t", ["x"], method="full", max_controls=0.5)


def test_min_controls_without_max_controls_is_reported_as_ignored():
    """Optimal matching reads `min_controls` only for variable ratio (`max_controls` given);
    alone it used to be dropped without a word."""
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"t": rng.random(60) < 0.3, "x": rng.normal(size=60)})
    with pytest.warns(IgnoredArgumentWarning, match="min_controls"):
        match(d, "t", ["x"], method="optimal", ratio=2, min_controls=1)
