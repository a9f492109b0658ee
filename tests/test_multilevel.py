"""Random-intercept models against lme4 (tests/fixtures/lme4, lme4 1.1.31 from Debian)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import ModelWarning
from evaluation.multilevel import MixedFit, fit_mixed

FIX = Path(__file__).parent / "fixtures" / "lme4"
TERMS = {"cohort": ["prior", "fsm", "em"], "small": ["x", "em"]}


def _fit(name: str, reml: bool) -> MixedFit:
    d = pd.read_csv(FIX / f"{name}.csv")
    X = np.column_stack([np.ones(len(d))] + [d[c].to_numpy(float) for c in TERMS[name]])
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
    np.testing.assert_allclose(np.sqrt(np.diag(np.asarray(m.fit.cov_params()))[:len(m.fe_params)]),
                               r.loc[["(Intercept)"] + TERMS[name], "se"], atol=1e-4, rtol=0)
    assert m.var_group == pytest.approx(r.loc["var_school", "value"], abs=1e-4)
    assert m.var_residual == pytest.approx(r.loc["var_residual", "value"], abs=1e-4)
    assert m.llf == pytest.approx(r.loc["loglik", "value"], abs=1e-4)


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
