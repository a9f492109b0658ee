"""Review 13 (findings 2, 3, 9-12) against R MatchIt 4.7.2.

Fixtures: tests/fixtures/matchit/review13b (make_fixtures.R there, see PROVENANCE), 46
specifications on the reviewer's data sets A (306 units, duplicated covariate rows), E
(150, near separation) and F (120, quasi-separation: R's logit scores reach the clamp of
``binomial()$linkinv``):

* 2: logit fitted probabilities clamped as R's C ``logit_linkinv`` (linear predictors beyond
  +-30 give exactly ``eps / (1 + eps)`` or ``1 / (1 + eps)``), so such units tie as in R;
* 3: linear predictors in R's ``dgemv`` order, so duplicated covariate rows get one score;
* 10: MatchIt's formula as ``treatment``;
* 11: ``distance`` = ``"euclidean"``, ``"scaled_euclidean"``, ``"robust_mahalanobis"`` for
  nearest, optimal and full matching (ATT, ATC, ATE, ratio, replacement, exact, caliper,
  ``m_order="closest"``, sampling weights, one covariate, upper case);
* 12: ``estimand`` in any case.

Pairs (``match_matrix`` by row label), weights (1e-12), matched sets and summary sample
sizes must be identical; scores clamped in R must be ours bit for bit, and rows R gives one
score must get one score here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import partition

from evaluation.matching import match

FIX = Path(__file__).parent / "fixtures" / "matchit" / "review13b"
FA = ["x1", "x2", "grp", "bin"]
FN = ["x1", "x2", "bin"]
FE = ["z", "w", "k"]
FF = ["z", "w"]
ATC = dict(estimand="ATC")
GLMC = dict(distance_options={"control": {"epsilon": 1e-8, "maxit": 25}})

#: fixture -> (data set, match() arguments); the specifications of make_fixtures.R.
SPECS = {
    "F_nn": ("F", dict(covariates=FF)),
    "F_nn_atc": ("F", dict(covariates=FF, **ATC)),
    "F_nn_atc_r2": ("F", dict(covariates=FF, **ATC, ratio=2)),
    "F_nn_atc_closest": ("F", dict(covariates=FF, **ATC, m_order="closest")),
    "F_nn_atc_replace": ("F", dict(covariates=FF, **ATC, replace=True, ratio=3)),
    "F_nn_atc_glmcontrol": ("F", dict(covariates=FF, **ATC, **GLMC)),
    "F_nn_cal": ("F", dict(covariates=FF, caliper=0.5)),
    "F_sub": ("F", dict(covariates=FF, method="subclass", subclass=4)),
    "F_opt_atc": ("F", dict(covariates=FF, method="optimal", **ATC)),
    "F_full": ("F", dict(covariates=FF, method="full")),
    "F_nn_probit_atc": ("F", dict(covariates=FF, **ATC, link="probit")),
    "F_nn_cloglog_atc": ("F", dict(covariates=FF, **ATC, link="cloglog")),
    "A_nn_linlogit": ("A", dict(covariates=FA, link="linear.logit")),
    "A_nn_linlogit_atc": ("A", dict(covariates=FA, link="linear.logit", **ATC)),
    "A_nn_linlogit_atc_r2": ("A", dict(covariates=FA, link="linear.logit", **ATC, ratio=2)),
    "A_nn_linprobit_atc": ("A", dict(covariates=FA, link="linear.probit", **ATC)),
    "A_nn_logit_atc": ("A", dict(covariates=FA, **ATC)),
    "F_nn_linlogit_atc": ("F", dict(covariates=FF, link="linear.logit", **ATC)),
    "A_formula_atc": ("A", dict(treatment="treat ~ x1 + x2 + grp + bin", **ATC)),
    "A_eucl_atc": ("A", dict(covariates=FN, distance="euclidean", **ATC)),
    "A_eucl_atc_r2": ("A", dict(covariates=FN, distance="euclidean", **ATC, ratio=2)),
    "A_scaled_atc": ("A", dict(covariates=FN, distance="scaled_euclidean", **ATC)),
    "A_scaled_factor_atc": ("A", dict(covariates=FA, distance="scaled_euclidean", **ATC)),
    "A_robust_atc": ("A", dict(covariates=FA, distance="robust_mahalanobis", **ATC)),
    "A_robust_att_replace": ("A", dict(covariates=FA, distance="robust_mahalanobis",
                                       replace=True)),
    "A_robust_sw_atc": ("A", dict(covariates=FA, distance="robust_mahalanobis", **ATC,
                                  s_weights="sw2")),
    "A_scaled_sw_atc": ("A", dict(covariates=FN, distance="scaled_euclidean", **ATC,
                                  s_weights="sw2")),
    "A_eucl_exact_atc": ("A", dict(covariates=FN, distance="euclidean", **ATC, exact="sch")),
    "A_scaled_closest_atc": ("A", dict(covariates=FN, distance="scaled_euclidean", **ATC,
                                       m_order="closest")),
    "A_robust_cal_atc": ("A", dict(covariates=FA, distance="robust_mahalanobis", **ATC,
                                   caliper={"x1": 0.3})),
    "A_eucl_one": ("A", dict(covariates=["x2"], distance="euclidean", **ATC)),
    "A_eucl_upper_atc": ("A", dict(covariates=FN, distance="Euclidean", **ATC)),
    "E_eucl": ("E", dict(covariates=FE, distance="euclidean")),
    "E_scaled_r2": ("E", dict(covariates=FE, distance="scaled_euclidean", ratio=2)),
    "E_robust": ("E", dict(covariates=FE, distance="robust_mahalanobis")),
    "E_opt_eucl": ("E", dict(covariates=FE, method="optimal", distance="euclidean")),
    "E_opt_scaled": ("E", dict(covariates=FE, method="optimal", distance="scaled_euclidean")),
    "E_opt_robust": ("E", dict(covariates=FE, method="optimal",
                               distance="robust_mahalanobis")),
    "E_full_eucl": ("E", dict(covariates=FE, method="full", distance="euclidean")),
    "E_full_scaled": ("E", dict(covariates=FE, method="full", distance="scaled_euclidean")),
    "E_full_robust": ("E", dict(covariates=FE, method="full", distance="robust_mahalanobis")),
    "E_full_robust_ate": ("E", dict(covariates=FE, method="full",
                                    distance="robust_mahalanobis", estimand="ATE")),
    "E_nn_atc_lower": ("E", dict(covariates=FE, estimand="atc")),
    "E_full_ate_lower": ("E", dict(covariates=FE, method="full", estimand="ate")),
    "E_sub_atc_lower": ("E", dict(covariates=FE, method="subclass", estimand="atc",
                                  subclass=4)),
    "E_exact_ate_lower": ("E", dict(covariates=["k"], method="exact", estimand="Ate")),
}
_RUNS: dict = {}


def _r(name: str):
    units = pd.read_csv(FIX / "units.csv", dtype={"subclass": str}).query("spec == @name")
    pairs = pd.read_csv(FIX / "pairs.csv").query("spec == @name")
    nn = pd.read_csv(FIX / "nn.csv").query("spec == @name").set_index("sample")
    return units.set_index("id"), pairs, nn


def _run(name: str):
    if name not in _RUNS:
        data_name, kw = SPECS[name]
        data = pd.read_csv(FIX / f"{data_name}.csv").set_index("id", drop=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _RUNS[name] = data, match(data, **{"treatment": "treat", **kw})
    return _RUNS[name]


def test_fixture_specs_are_make_fixtures_specs():
    text = (FIX / "make_fixtures.R").read_text()
    assert set(pd.read_csv(FIX / "units.csv")["spec"]) == set(SPECS)
    for name in SPECS:
        assert f"  {name} = list(" in text, name


@pytest.mark.parametrize("name", list(SPECS))
def test_matches_matchit(name):
    data, res = _run(name)
    units, pairs, nn = _r(name)
    ids = data.index.to_numpy()
    assert np.allclose(res.weights.to_numpy(), units.loc[ids, "weights"].to_numpy(float),
                       rtol=0, atol=1e-12), name
    ours = partition(ids, res.subclass.astype("float").to_numpy())
    theirs = partition(ids, pd.to_numeric(units.loc[ids, "subclass"]).to_numpy())
    assert ours == theirs, name
    if len(pairs):
        focal = res.spec["focal"] == "treated"
        treat = data["treat"].to_numpy().astype(bool)
        f_ids = ids[treat if focal else ~treat]
        mm = res.match_matrix
        got = {(f_ids[i], j + 1): (ids[mm[i, j]] if mm[i, j] >= 0 else None)
               for i in range(mm.shape[0]) for j in range(mm.shape[1])}
        want = {(r.focal, r.col): (None if pd.isna(r.match) else r.match)
                for r in pairs.itertuples()}
        assert got == want, name
    sizes = res.summary().attrs["sample_sizes"]
    for sample in ("All", "Matched", "Unmatched", "Discarded", "All (ESS)", "Matched (ESS)"):
        for col in ("Control", "Treated"):
            assert sizes.loc[sample, col] == pytest.approx(nn.loc[sample, col.lower()],
                                                           abs=1e-9), (name, sample, col)


SCORED = [n for n, (_, kw) in SPECS.items()
          if kw.get("distance", "glm") == "glm" and kw.get("method") != "exact"]


@pytest.mark.parametrize("name", SCORED)
def test_scores_clamped_and_tied_as_in_r(name):
    """Scores R clamps are ours bit for bit; rows R gives one score get one score here."""
    data, res = _run(name)
    units, _, _ = _r(name)
    r = units.loc[data.index, "distance"].to_numpy(float)
    ours = res.distance.to_numpy()
    eps = np.finfo(float).eps
    clamped = (r == eps / (1 + eps)) | (r == 1 / (1 + eps))
    np.testing.assert_array_equal(ours[clamped], r[clamped])
    for _, pos in pd.Series(np.arange(len(r))).groupby(r):
        assert len(set(ours[pos.to_numpy()])) == 1, (name, data.index[pos.to_numpy()].tolist())
    np.testing.assert_allclose(ours, r, rtol=1e-6, atol=1e-9)


def test_f_has_clamped_units():
    units, _, _ = _r("F_nn_atc")
    eps = np.finfo(float).eps
    assert (units["distance"].astype(float) == eps / (1 + eps)).sum() >= 5


def test_treatment_is_required():
    d = pd.read_csv(FIX / "E.csv")
    with pytest.raises(TypeError, match=r"match\(\): `treatment` is required .*'treat ~ x1"):
        match(d, covariates=FE)
    with pytest.raises(TypeError, match=r"`treatment` is required"):
        match(d)


def test_formula_errors_say_how():
    d = pd.read_csv(FIX / "E.csv")
    with pytest.raises(ValueError, match=r"term 'z:w' is not a column name; write the "
                                         r"right-hand side as column names joined by '\+'"):
        match(d, "treat ~ z + z:w")
    with pytest.raises(ValueError, match=r"and `covariates` is given too"):
        match(d, "treat ~ z", ["w"])
    with pytest.raises(ValueError, match=r"term 'I\(z\^2\)' is not a column name"):
        match(d, "treat ~ I(z^2)")
    with pytest.raises(ValueError, match=r"term '\.' is not a column name"):
        match(d, "treat ~ .")
    res = match(d, " treat~z+w ")
    assert res.covariates == ["z", "w"] and res.treatment == "treat"


def test_unknown_distance_lists_supported():
    d = pd.read_csv(FIX / "E.csv")
    with pytest.raises(ValueError, match=r"`distance`='manhattan' is not supported and is not "
                                         r"a column of `data`; supported: 'glm', "
                                         r"'mahalanobis', 'robust_mahalanobis', 'euclidean', "
                                         r"'scaled_euclidean'"):
        match(d, "treat", FE, distance="manhattan")
    with pytest.raises(ValueError, match=r"'gam' \(a MatchIt propensity-score method"):
        match(d, "treat", FE, distance="gam")
    with pytest.raises(ValueError, match=r"cannot be 'euclidean' with method='subclass'"):
        match(d, "treat", FE, distance="euclidean", method="subclass")
    with pytest.raises(ValueError, match=r"`mahvars` needs .* not 'scaled_euclidean'"):
        match(d, "treat", FE, distance="scaled_euclidean", mahvars=["z"])


def test_estimand_case_and_partial_as_matchit():
    d = pd.read_csv(FIX / "E.csv")
    assert match(d, "treat", FE, estimand="atc").spec["estimand"] == "ATC"
    assert match(d, "treat", FE, method="Full", estimand="Ate").spec["estimand"] == "ATE"
    with pytest.raises(ValueError, match=r"`estimand`='ATE' is not available with "
                                         r"method='nearest'"):
        match(d, "treat", FE, estimand="ate")
    with pytest.raises(ValueError, match=r"`estimand` should be one of"):
        match(d, "treat", FE, estimand="at")


def test_deprecated_link_distance_warns_and_fits_glm():
    d = pd.read_csv(FIX / "F.csv")
    with pytest.warns(Warning, match=r"`distance`='probit' will be deprecated"):
        old = match(d, "treat", FF, distance="probit", estimand="ATC")
    new = match(d, "treat", FF, link="probit", estimand="ATC")
    np.testing.assert_array_equal(old.distance, new.distance)
