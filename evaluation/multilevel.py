"""Multilevel alternative (random school intercept / GEE) and the specification table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.genmod import cov_struct, families
from statsmodels.genmod.generalized_estimating_equations import GEE
from statsmodels.regression.mixed_linear_model import MixedLM

from evaluation import effects
from evaluation.exceptions import NotEstimableError
from evaluation.inference import t_critical, t_pvalue
from evaluation.models import FAMILIES, _average_effect, build_design


@dataclass(frozen=True)
class MultilevelResult:
    """A multilevel fit of one outcome: the effect on EM pupils and its uncertainty.

    Attributes
    ----------
    outcome, family, model : str
        ``model`` says what was fitted.
    fit : statsmodels results
        MixedLMResults (Gaussian) or GEEResults (binomial).
    estimate, se, ci_low, ci_high, p : float
        Points (Gaussian) or average marginal effect over EM pupils (binomial, 0-1 scale);
        CI and p from t(G - 1).
    effect_size : float
        Hedges' g (same denominator as the GLM) or Cox index (GEE log odds ratio / 1.65).
    n_em, n_comparison, n_schools : int
        Analysed sample.
    exclusions : dict
        Rows left out, by reason.
    """

    outcome: str
    family: str
    model: str
    fit: object = field(repr=False)
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    effect_size: float
    es_type: str
    n_em: int
    n_comparison: int
    n_schools: int
    exclusions: dict

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`specification_table`."""
        return [{"outcome": self.outcome, "model": self.model, "estimate": self.estimate,
                 "ci_low": self.ci_low, "ci_high": self.ci_high, "p": self.p,
                 "effect_size": self.effect_size, "es_type": self.es_type, "n_em": self.n_em,
                 "n_comparison": self.n_comparison, "n_schools": self.n_schools,
                 "inference": self._inference()}]

    def _inference(self) -> str:
        kind = "model-based" if self.family == "gaussian" else "robust x G/(G-1)"
        return f"{kind}, t({self.n_schools - 1})"

    def summary(self) -> pd.DataFrame:
        """Return the effect as a one-row DataFrame.

        Examples
        --------
        >>> fit_multilevel(df, "y", "gaussian", ["x"]).summary()  # doctest: +SKIP
        """
        return pd.DataFrame(self.spec_rows())

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _mixed(d, treatment):
    x = d.X
    fit = MixedLM(d.y, x, groups=d.groups).fit(reml=True)
    column = list(x.columns).index(treatment)
    beta = np.asarray(fit.fe_params)
    return fit, float(beta[column]), float(np.sqrt(fit.cov_params().iloc[column, column])), \
        float(beta[column]), "random school intercept (REML, unweighted)"


def _gee(d, treatment):
    fit = GEE(d.y, d.X, groups=d.groups, family=families.Binomial(),
                 cov_struct=cov_struct.Exchangeable(), weights=d.weights).fit(
        cov_type="robust")
    treat = d.frame[treatment].astype(bool).to_numpy()
    value, grad = _average_effect(FAMILIES["binomial"], np.asarray(fit.params), d.X, treat,
                                  treatment, None, d.frame, d.weights)
    g = int(d.groups.max()) + 1
    cov = np.asarray(fit.cov_params()) * g / (g - 1)  # statsmodels' bias_reduced fails with weights
    column = list(d.X.columns).index(treatment)
    return fit, value, float(np.sqrt(grad @ cov @ grad)), float(fit.params.iloc[column]), \
        "GEE, exchangeable within school (weighted)"


#: Multilevel model by family.
MODELS = {"gaussian": _mixed, "binomial": _gee}


def fit_multilevel(data: pd.DataFrame, outcome: str, family: str, covariates: list[str],
                   treatment: str = "em", group: str = "school_id",
                   weights: str | None = "weights", alpha: float = 0.05) -> MultilevelResult:
    """Fit the multilevel alternative: random school intercept (Gaussian) or GEE (binomial).

    Gaussian: linear mixed model with a random intercept per school, REML; statsmodels'
    MixedLM takes no weights, so it is unweighted and relies on covariate adjustment.
    Binomial: GEE with an exchangeable working correlation within school, matching weights,
    robust (sandwich) covariance times G/(G - 1). CIs and p use t(G - 1).

    Parameters
    ----------
    data : pandas.DataFrame
        Matched data (not modified).
    outcome, family, covariates, treatment : str
        As :func:`evaluation.models.fit_outcome`.
    group : str
        School column.
    weights : str or None
        Weight column (used by GEE only).
    alpha : float
        1 - confidence level.

    Returns
    -------
    MultilevelResult

    Raises
    ------
    NotEstimableError
        Fewer than two schools, or no EM / comparison pupils.

    Examples
    --------
    >>> res = fit_multilevel(matched, "ks2_aps", "gaussian", ["ks1_aps"])  # doctest: +SKIP
    >>> res.estimate  # doctest: +SKIP
    """
    if family not in MODELS:
        raise ValueError(f"`family` should be one of {sorted(MODELS)}; got {family!r}")
    d = build_design(data, outcome, covariates, treatment, weights, group)
    n_schools = int(d.groups.max()) + 1
    if n_schools < 2:
        raise NotEstimableError(f"a multilevel model of {outcome!r} needs at least two schools;"
                                f" got {n_schools}")
    fit, value, se, coef, label = MODELS[family](d, treatment)
    treat = d.frame[treatment].astype(bool).to_numpy()
    n_em, n_comp = int(treat.sum()), int((~treat).sum())
    df = n_schools - 1
    crit = t_critical(alpha, df)
    if family == "gaussian":
        sd = effects.pooled_sd(float(np.std(d.y[treat], ddof=1)),
                               float(np.std(d.y[~treat], ddof=1)), n_em, n_comp)
        es, es_type = effects.small_sample_factor(n_em, n_comp) * coef / sd, "Hedges' g"
    else:
        es, es_type = effects.cox_from_log_odds(coef, n_em, n_comp), "Cox index"
    return MultilevelResult(outcome, family, label, fit, value, se, value - crit * se,
                            value + crit * se, t_pvalue(value / se, df), float(es), es_type,
                            n_em, n_comp, n_schools, dict(d.exclusions))


@dataclass(frozen=True)
class MultilevelImpacts:
    """Multilevel fits of several outcomes (outcome -> MultilevelResult, or reason)."""

    results: dict
    not_estimable: dict

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`specification_table`."""
        return [row for res in self.results.values() for row in res.spec_rows()]


def multilevel_impacts(data: pd.DataFrame, outcomes: list[dict], covariates: list[str],
                       **kwargs) -> MultilevelImpacts:
    """Fit :func:`fit_multilevel` to every outcome of a plan phase.

    Examples
    --------
    >>> ml = multilevel_impacts(matched, plan.outcomes("primary"),
    ...                         plan.covariates("primary"))  # doctest: +SKIP
    """
    results, failed = {}, {}
    for spec in outcomes:
        try:
            results[spec["name"]] = fit_multilevel(data, spec["name"], spec["family"],
                                                   covariates, **kwargs)
        except NotEstimableError as err:
            failed[spec["name"]] = str(err)
    return MultilevelImpacts(results, failed)


def specification_table(results: dict) -> pd.DataFrame:
    """Tidy table of the same outcomes under several specifications.

    Parameters
    ----------
    results : dict
        Specification name (a matching spec of the plan, or e.g. ``"multilevel"``) ->
        ``ImpactResult``, ``OutcomeResult``, ``MultilevelResult`` or ``MultilevelImpacts``
        (anything with ``spec_rows()``).

    Returns
    -------
    pandas.DataFrame
        ``specification, outcome, model, estimate, ci_low, ci_high, p, effect_size, es_type,
        n_em, n_comparison, n_schools, inference``, ordered by outcome then specification.

    Examples
    --------
    >>> specification_table({"manchester": impact, "multilevel": ml})  # doctest: +SKIP
    """
    rows = [{"specification": name, **row} for name, res in results.items()
            for row in res.spec_rows()]
    cols = ["specification", "outcome", "model", "estimate", "ci_low", "ci_high", "p",
            "effect_size", "es_type", "n_em", "n_comparison", "n_schools", "inference"]
    out = pd.DataFrame(rows, columns=cols)
    order = {name: i for i, name in enumerate(results)}
    outcome_order = {o: i for i, o in enumerate(dict.fromkeys(out["outcome"]))}
    return out.sort_values(["outcome", "specification"],
                           key=lambda s: s.map(outcome_order if s.name == "outcome" else order),
                           kind="stable").reset_index(drop=True)

