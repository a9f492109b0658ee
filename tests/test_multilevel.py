"""Random-intercept models against lme4 (tests/fixtures/lme4, lme4 1.1.31 from Debian)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import ModelWarning
from evaluation.inference import t_critical
from evaluation.models import build_design
from evaluation.multilevel import (
    SINGULAR_NOTICE,
    SINGULAR_TOL,
    MixedFit,
    fit_mixed,
    fit_multilevel,
    multilevel_impacts,
    specification_table,
)

FIX = Path(__file__).parent / "fixtures" / "lme4"
#: make_fixtures.R (lmer.csv) and make_fixtures_optimum.R (lmer_optimum.csv)
TERMS = {"cohort": ["prior", "fsm", "em"], "small": ["x", "em"]}
OPTIMUM = {name: ["prior", "fsm", "em"] for name in ("flat", "scaled", "singular",
                                                      "near_boundary")}
#: lme4's REML fit of near_boundary stops short of its own optimum (theta 0.0223137 against
#: optimize()'s 0.0223150 on its profiled deviance, 4e-11 lower): its school variance is
#: 1.2e-4 (relative) off; theta is compared with optimize()'s instead.
LME4_SHORT = {("near_boundary", True)}
#: make_fixtures_vcov.R (lmer_vcov.csv, lmer_review.csv): review 13's data sets (treatment t,
#: school g; L3 has a factor f) and a weighted one (lmer's prior weights).
REVIEW = {"L1": ["x"], "L2": ["x"], "L3": ["x", "f"]}
#: Relative tolerance on lme4's fixed-effect SEs and covariances (agreement is about 1e-7).
SE_RTOL = 1e-5


def _fit(name: str, reml: bool) -> MixedFit:
    d = pd.read_csv(FIX / f"{name}.csv")
    terms = {**TERMS, **OPTIMUM}[name]
    X = np.column_stack([np.ones(len(d))] + [d[c].to_numpy(float) for c in terms])
    return fit_mixed(d["y"], X, pd.factorize(d["school_id"])[0], reml=reml)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", list(TERMS))
def test_fixed_effects_variances_and_loglik_match_lme4(name, reml):
    r = pd.read_csv(FIX / "lmer.csv")
    r = r[(r["fixture"] == name) & (r["reml"] == reml)].set_index("term")
    m = _fit(name, reml)
    assert m.converged and m.notice == "" and m.reml is reml
    np.testing.assert_allclose(m.fe_params, r.loc[["(Intercept)"] + TERMS[name], "value"],
                               atol=1e-4, rtol=0)
    se = r.loc[["(Intercept)"] + TERMS[name], "se"]
    np.testing.assert_allclose(m.se_fe, se, atol=1e-4, rtol=0)
    np.testing.assert_allclose(m.se_fe, se, rtol=SE_RTOL, atol=0)
    assert m.var_group == pytest.approx(r.loc["var_school", "value"], rel=1e-5)
    assert m.var_residual == pytest.approx(r.loc["var_residual", "value"], rel=1e-5)
    assert m.llf == pytest.approx(r.loc["loglik", "value"], abs=1e-6)
    assert not m.singular


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", list(OPTIMUM))
def test_flat_badly_scaled_and_singular_fits_reach_lme4s_optimum(name, reml):
    """Review 13: a flat likelihood, a column x 1,000 and zero school variances (isSingular)."""
    r = pd.read_csv(FIX / "lmer_optimum.csv")
    r = r[(r["fixture"] == name) & (r["reml"] == reml)].set_index("term")
    value = r["value"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = _fit(name, reml)
    singular = bool(value["singular"])
    assert m.converged and m.singular is singular
    assert (SINGULAR_NOTICE in m.notice) is singular
    assert any(issubclass(w.category, ModelWarning) and str(w.message) == SINGULAR_NOTICE
               for w in caught) is singular
    np.testing.assert_allclose(m.fe_params, value[["(Intercept)"] + OPTIMUM[name]],
                               rtol=1e-6, atol=0)
    assert m.llf == pytest.approx(value["loglik"], abs=1e-6)
    assert m.var_residual == pytest.approx(value["var_residual"], rel=1e-5)
    # lme4's vcov at theta (review 13: statsmodels' cov_params() was 1.2% off when singular)
    se = r.loc[["(Intercept)"] + OPTIMUM[name], "se"]
    np.testing.assert_allclose(m.se_fe, se, atol=1e-4, rtol=0)
    np.testing.assert_allclose(m.se_fe, se, rtol=SE_RTOL, atol=0)
    if singular:                  # lme4: exactly zero; statsmodels holds at most THETA_FLOOR
        assert m.theta < SINGULAR_TOL and m.var_group == pytest.approx(0, abs=1e-6)
        return
    assert m.theta == pytest.approx(value["theta_optimum"], rel=1e-5)
    rel = 2e-4 if (name, reml) in LME4_SHORT else 1e-5
    assert m.var_group == pytest.approx(value["var_school"], rel=rel)


def test_singular_fit_notice_reaches_the_specification_table():
    """The singular-fit notice takes the non-convergence notice's path into the report."""
    d = pd.read_csv(FIX / "singular.csv")
    with pytest.warns(ModelWarning, match="singular"):
        res = fit_multilevel(d, "y", "gaussian", ["prior", "fsm"], treatment="em",
                             group="school_id")
    assert res.singular and res.converged and SINGULAR_NOTICE in res.notice
    table = specification_table({"multilevel": res})
    assert SINGULAR_NOTICE in table.loc[0, "note"]
    assert res.spec_rows()[0]["singular"]


def test_non_convergence_is_reported_not_hidden(monkeypatch):
    import evaluation.multilevel as ml

    monkeypatch.setattr(ml, "GRADIENT_TOL", -1.0)   # no fit can pass the gradient check
    with pytest.warns(ModelWarning, match="did not converge with any optimiser"):
        m = _fit("small", True)
    assert not m.converged and "should not be relied on" in m.notice
    assert [a[0] for a in m.attempts] == list(ml.OPTIMIZERS)


def test_first_optimiser_rejected_when_it_lands_on_a_bad_point(monkeypatch):
    """lbfgs alone stops at a zero school variance on the cohort data; it is not accepted."""
    import evaluation.multilevel as ml

    monkeypatch.setattr(ml, "OPTIMIZERS", ("lbfgs", "bfgs"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelWarning)
        m = _fit("cohort", True)
    assert m.attempts[0][0] == "lbfgs" and not m.attempts[0][1]
    assert m.optimizer == "bfgs" and m.var_group == pytest.approx(0.0959164, abs=1e-4)


def _design(name: str):
    """(y, X with lme4's column names, school codes, prior weights or None) of a fixture."""
    d = pd.read_csv(FIX / f"{name}.csv")
    if name in REVIEW:
        des = build_design(d, "y", REVIEW[name], "t", None, "g")
        X = des.X.rename(columns={"const": "(Intercept)", "f=b": "fb", "f=c": "fc"})
        return des.y, X, des.groups, None
    terms = {**TERMS, **OPTIMUM, "weighted": OPTIMUM["flat"]}[name]
    X = pd.DataFrame({"(Intercept)": 1.0, **{c: d[c].astype(float) for c in terms}})
    w = d["weights"].to_numpy(float) if name == "weighted" else None
    return d["y"].to_numpy(float), X, pd.factorize(d["school_id"])[0], w


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", [*TERMS, *OPTIMUM, *REVIEW, "weighted"])
def test_fixed_effects_vcov_is_lme4s(name, reml):
    """Review 13, finding 13: the whole of lme4's vcov (sigma^2 (X' V^-1 X)^-1 at theta)."""
    r = pd.read_csv(FIX / "lmer_vcov.csv")
    r = r[(r["fixture"] == name) & (r["reml"] == reml)]
    v = r.pivot(index="row", columns="col", values="value")
    y, X, codes, w = _design(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)       # L2 and singular are singular
        m = fit_mixed(y, X, codes, reml=reml, weights=w)
    v = v.loc[X.columns, X.columns].to_numpy()
    sd = np.sqrt(np.diag(v))
    np.testing.assert_allclose(m.se_fe, sd, rtol=SE_RTOL, atol=0)
    # covariances relative to the product of the SEs (correlations within SE_RTOL)
    np.testing.assert_allclose(m.cov_fe / np.outer(sd, sd), v / np.outer(sd, sd),
                               rtol=0, atol=SE_RTOL)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", list(REVIEW))
def test_review_fits_se_and_interval_are_lme4s(name, reml):
    """Review 13's fits: L2's SE of x was 10% (REML) and 25% (ML) off, L3's 1e-3."""
    r = pd.read_csv(FIX / "lmer_review.csv")
    r = r[(r["fixture"] == name) & (r["reml"] == reml)].set_index("term")
    d = pd.read_csv(FIX / f"{name}.csv")
    singular = bool(r.loc["singular", "value"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_multilevel(d, "y", "gaussian", REVIEW[name], treatment="t", group="g",
                             reml=reml)
    assert res.converged and res.singular is singular
    assert any(str(w.message) == SINGULAR_NOTICE for w in caught) is singular
    assert res.model == f"random school intercept ({'REML' if reml else 'ML'}, unweighted)"
    assert res.estimate == pytest.approx(r.loc["t", "value"], rel=1e-6)
    assert res.se == pytest.approx(r.loc["t", "se"], rel=SE_RTOL)
    crit = t_critical(0.05, res.n_schools - 1)
    assert res.ci_low == pytest.approx(r.loc["t", "value"] - crit * r.loc["t", "se"], rel=1e-5)
    assert res.ci_high == pytest.approx(r.loc["t", "value"] + crit * r.loc["t", "se"], rel=1e-5)
    y, X, codes, _ = _design(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        m = fit_mixed(y, X, codes, reml=reml)
    np.testing.assert_allclose(m.fe_params, r.loc[X.columns, "value"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(m.se_fe, r.loc[X.columns, "se"], rtol=SE_RTOL, atol=0)
    assert m.llf == pytest.approx(r.loc["loglik", "value"], abs=1e-6)
    assert m.var_residual == pytest.approx(r.loc["var_residual", "value"], rel=1e-5)
    if singular:
        assert m.theta < SINGULAR_TOL and m.var_group == pytest.approx(0, abs=1e-6)
    else:
        assert m.var_group == pytest.approx(r.loc["var_school", "value"], rel=1e-5)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_prior_weights_as_lmer(reml):
    """Review 13, finding 14: weights are lmer's prior weights (residual variance sigma^2 / w),
    not ignored: fixed effects, SEs, variances and logLik as ``lmer(..., weights = weights)``."""
    r = pd.read_csv(FIX / "lmer_review.csv")
    r = r[(r["fixture"] == "weighted") & (r["reml"] == reml)].set_index("term")
    y, X, codes, w = _design("weighted")
    m = fit_mixed(y, X, codes, reml=reml, weights=w)
    assert m.converged and not m.singular
    np.testing.assert_allclose(m.fe_params, r.loc[X.columns, "value"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(m.se_fe, r.loc[X.columns, "se"], rtol=SE_RTOL, atol=0)
    assert m.var_group == pytest.approx(r.loc["var_school", "value"], rel=1e-5)
    assert m.var_residual == pytest.approx(r.loc["var_residual", "value"], rel=1e-5)
    assert m.theta == pytest.approx(r.loc["theta", "value"], rel=1e-5)
    assert m.llf == pytest.approx(r.loc["loglik", "value"], abs=1e-6)
    d = pd.read_csv(FIX / "weighted.csv")
    res = fit_multilevel(d, "y", "gaussian", ["prior", "fsm"], treatment="em",
                         group="school_id", weights="weights", reml=reml)
    assert res.model.endswith("prior weights)")
    assert res.estimate == pytest.approx(r.loc["em", "value"], rel=1e-6)
    assert res.se == pytest.approx(r.loc["em", "se"], rel=SE_RTOL)
    plain = fit_multilevel(d, "y", "gaussian", ["prior", "fsm"], treatment="em",
                           group="school_id", reml=reml)
    assert plain.model.endswith("unweighted)") and plain.estimate != res.estimate


def test_bad_weights_are_refused():
    y, X, codes, w = _design("weighted")
    for bad in (np.where(np.arange(len(w)) == 3, 0.0, w), np.where(np.arange(len(w)) == 3,
                                                                   np.nan, w), w[:-1]):
        with pytest.raises(ValueError, match="`weights` should be finite, positive"):
            fit_mixed(y, X, codes, weights=bad)


def test_treatment_and_school_columns_have_no_project_defaults():
    """Review 13, finding 14: no em / school_id / weights defaults in a general function."""
    d = pd.read_csv(FIX / "small.csv")
    with pytest.raises(TypeError, match="treatment"):
        fit_multilevel(d, "y", "gaussian", ["x"], group="school_id")
    with pytest.raises(TypeError, match="group"):
        fit_multilevel(d, "y", "gaussian", ["x"], treatment="em")
    with pytest.raises(TypeError, match="treatment"):
        multilevel_impacts(d, [{"name": "y", "family": "gaussian"}], ["x"], group="school_id")
    res = fit_multilevel(d.rename(columns={"em": "t", "school_id": "g"}), "y", "gaussian",
                         ["x"], treatment="t", group="g")
    assert res.model.endswith("unweighted)")

