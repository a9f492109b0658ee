"""Outcome GLMs on matched data: effects with cluster-robust or wild-bootstrap inference."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from evaluation import effects
from evaluation.config import DEFAULT_SEED
from evaluation.exceptions import DataError, ModelWarning, NotEstimableError
from evaluation.inference import (
    ClusterDesign,
    cluster_vcov,
    logit_wild_bootstrap,
    t_critical,
    t_pvalue,
    wild_cluster_bootstrap,
)
from evaluation.schema import ETHNICITIES, SEN_LEVELS

#: Default of ``inference.wild_bootstrap_below`` when no plan is given.
WILD_BELOW = 30

#: Fewer schools than this: cluster-robust and wild-bootstrap inference is unreliable (Webb
#: weights are recommended down to about 5-6 clusters; MacKinnon and Webb 2018), so warn.
FEW_SCHOOLS = 6

#: Reference level first: the levels of the schema's categorical covariates.
LEVELS = {"sen": SEN_LEVELS, "ethnicity": ETHNICITIES}

#: A covariate term ``"<column>^<k>"`` (k = 2..9): the column's k-th power, centred at its mean
#: in the analysed rows (e.g. ``"ks2_aps^2"`` for a quadratic in prior attainment).
_POWER = re.compile(r"^(?P<base>.+)\^(?P<k>[2-9])$")


@dataclass(frozen=True)
class Design:
    """Rows analysed and their model matrix.

    Attributes
    ----------
    frame : pandas.DataFrame
        The analysed rows (a copy; the caller's frame is untouched).
    X : pandas.DataFrame
        Model matrix: ``const``, the treatment, the interaction if any, then covariates
        (dummies for categorical ones, reference = first level).
    y, weights : numpy.ndarray
        Outcome and prior weights.
    groups : numpy.ndarray
        Cluster codes 0..G-1.
    exclusions : dict
        Rows left out, by reason.
    dropped : tuple of str
        Model-matrix columns dropped as constant or aliased (as R's ``glm`` reports NA).
    """

    frame: pd.DataFrame
    X: pd.DataFrame
    y: np.ndarray
    weights: np.ndarray
    groups: np.ndarray
    exclusions: dict
    dropped: tuple


def _base(column: str) -> str:
    """Column a covariate term reads: ``"ks2_aps^2"`` (a centred power) reads ``ks2_aps``."""
    match = _POWER.match(column)
    return match["base"] if match else column


def _require(data: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in dict.fromkeys(map(_base, columns)) if c not in data.columns]
    if missing:
        raise DataError(f"`data` lacks column(s) {missing}; it has {list(data.columns)}")


def _rows(data: pd.DataFrame, outcome: str, covariates: list[str], treatment: str,
          weights: str | None, cluster: str) -> tuple[pd.DataFrame, dict]:
    exclusions: dict[str, int] = {}
    keep = np.ones(len(data), dtype=bool)
    for col in dict.fromkeys(map(_base, [outcome, treatment, *covariates, cluster])):
        miss = keep & data[col].isna().to_numpy()
        if miss.any():
            exclusions[f"missing {col}"] = int(miss.sum())
        keep &= ~miss
    if weights is not None:
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy()
        bad = keep & ~(w > 0)
        if bad.any():
            exclusions[f"zero or missing {weights}"] = int(bad.sum())
        keep &= ~bad
    return data[keep].reset_index(drop=True), exclusions


def _expand(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    power = _POWER.match(col)
    if power:
        base = frame[power["base"]].astype(float)
        return pd.DataFrame({col: (base - base.mean()) ** int(power["k"])})
    s = frame[col]
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return pd.DataFrame({col: s.astype(float)})
    levels = LEVELS.get(col) or tuple(sorted(s.astype(str).unique()))
    unknown = sorted(set(s.astype(str)) - set(levels))
    if unknown:
        raise DataError(f"column {col!r} has values {unknown}; allowed: {list(levels)}")
    cat = pd.Categorical(s.astype(str), categories=list(levels))
    dummies = pd.get_dummies(cat, prefix=col, prefix_sep="=", dtype=float)
    dummies.index = frame.index
    return dummies.iloc[:, 1:]


def _drop_aliased(X: pd.DataFrame, protect: list[str]) -> tuple[pd.DataFrame, tuple]:
    dropped = [c for c in X.columns if c != "const" and X[c].nunique() < 2]
    for c in protect:
        if c in dropped:
            raise NotEstimableError(f"`{c}` does not vary in the analysed rows, so its effect "
                                    "cannot be estimated")
    X = X.drop(columns=dropped)
    while True:  # drop the first column aliased with earlier ones, as R's glm reports NA
        values = X.to_numpy()
        diag = np.abs(np.diag(np.linalg.qr(values / np.linalg.norm(values, axis=0), "r")))
        aliased = np.flatnonzero(diag < 1e-7)
        if not len(aliased):
            break
        c = X.columns[aliased[0]]
        if c in protect:
            raise NotEstimableError(f"`{c}` is collinear with the covariates in the analysed "
                                    "rows, so its effect cannot be estimated")
        dropped.append(c)
        X = X.drop(columns=c)
    return X, tuple(dropped)


def build_design(data: pd.DataFrame, outcome: str, covariates: list[str], treatment: str = "em",
                 weights: str | None = "weights", cluster: str = "school_id",
                 interaction: str | None = None) -> Design:
    """Select the analysable rows (counting every exclusion) and build the model matrix.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2, 3, None], "em": [True, False, True, False],
    ...                    "x": [0.1, 0.5, 0.2, 0.3], "school_id": ["a", "a", "b", "b"]})
    >>> d = build_design(df, "y", ["x"], weights=None)
    >>> list(d.X.columns), d.exclusions
    (['const', 'em', 'x'], {'missing y': 1})
    """
    extra = [interaction] if interaction and interaction not in covariates else []
    covariates = [c for c in covariates if c != treatment] + extra
    _require(data, [outcome, treatment, *covariates, cluster] + ([weights] if weights else []))
    frame, exclusions = _rows(data, outcome, covariates, treatment, weights, cluster)
    if frame.empty:
        raise NotEstimableError(f"no row has {outcome!r} and every covariate observed "
                                f"(exclusions: {exclusions})")
    treat = frame[treatment].astype(bool)
    if treat.all() or not treat.any():
        raise NotEstimableError(f"the analysed rows for {outcome!r} have "
                                f"{'no comparison' if treat.all() else 'no EM'} pupils")
    parts = [pd.DataFrame({"const": 1.0, treatment: treat.astype(float)}, index=frame.index)]
    protect = [treatment]
    if interaction:
        name = f"{treatment}:{interaction}"
        parts.append(pd.DataFrame({name: treat * frame[interaction].astype(float)}))
        protect.append(name)
    parts += [_expand(frame, c) for c in covariates]
    X, dropped = _drop_aliased(pd.concat(parts, axis=1), protect)
    w = frame[weights].to_numpy(float) if weights else np.ones(len(frame))
    groups = pd.factorize(frame[cluster], sort=True)[0]
    return Design(frame, X, frame[outcome].to_numpy(float), w, groups, exclusions, dropped)


# --------------------------------------------------------------------------- families

@dataclass(frozen=True)
class _Family:
    make: object            # statsmodels family factory
    mean: object            # inverse link
    dmean: object           # d mean / d eta
    variance: object        # variance function of the mean
    bootstrap: object       # (design, X, column, n_boot, alpha, seed) -> BootstrapResult


def _wcr(d: Design, X: np.ndarray, column: int, n_boot, alpha, seed):
    return wild_cluster_bootstrap(X, d.y, d.weights, d.groups, column, n_boot, alpha, seed)


def _logit_wcr(d: Design, X: np.ndarray, column: int, n_boot, alpha, seed):
    xr = np.delete(X, column, axis=1)
    restricted = GLM(d.y, xr, family=families.Binomial(), var_weights=d.weights).fit()
    return logit_wild_bootstrap(X, d.y, d.weights, d.groups, column,
                                np.asarray(restricted.fittedvalues), n_boot, alpha, seed)


FAMILIES = {
    "gaussian": _Family(families.Gaussian, lambda e: e, np.ones_like, np.ones_like, _wcr),
    "binomial": _Family(families.Binomial, expit, lambda e: expit(e) * (1 - expit(e)),
                        lambda m: m * (1 - m), _logit_wcr),
}


# --------------------------------------------------------------------------- inference

@dataclass(frozen=True)
class _Inference:
    vcov: np.ndarray
    df: float | None
    critical: float         # for the headline effect
    p: float | None         # for the treatment coefficient (None: from the t statistic)
    label: str


def _cluster_design(d: Design, glm, fam: _Family, one_per_row: bool = False) -> ClusterDesign:
    mu = np.asarray(glm.fittedvalues)
    groups = np.arange(len(d.y)) if one_per_row else d.groups
    return ClusterDesign(d.X.to_numpy(), d.y - mu, d.weights, fam.variance(mu), groups)


def _naive(d, glm, fam, column, alpha, n_boot, seed):
    return _Inference(np.asarray(glm.cov_params()), None, t_critical(alpha, None), None,
                      "model-based (not clustered)")


def _cr(kind):
    def infer(d, glm, fam, column, alpha, n_boot, seed):
        g = int(d.groups.max()) + 1
        df = g - 1
        v = cluster_vcov(_cluster_design(d, glm, fam), kind)
        return _Inference(v, df, t_critical(alpha, df), None, f"{kind}, t({df})")
    return infer


def _wild(d, glm, fam, column, alpha, n_boot, seed):
    g = int(d.groups.max()) + 1
    v = cluster_vcov(_cluster_design(d, glm, fam), "CR1")
    boot = fam.bootstrap(d, d.X.to_numpy(), column, n_boot, alpha, seed)
    if not (np.isfinite(boot.critical) and np.isfinite(boot.p)):
        warnings.warn("the wild cluster bootstrap failed numerically; using CR1 with t(G-1)",
                      ModelWarning, stacklevel=4)
        return _cr("CR1")(d, glm, fam, column, alpha, n_boot, seed)
    return _Inference(v, g - 1, boot.critical, boot.p, boot.label)


#: Inference methods by name; "auto" picks "wild" below the plan's number of schools, else CR1.
INFERENCE = {"naive": _naive, "CR0": _cr("CR0"), "CR1": _cr("CR1"), "CR2": _cr("CR2"),
             "wild": _wild}


def _one_school(d, glm, fam, column, alpha, n_boot, seed):
    n, k = d.X.shape
    v = cluster_vcov(_cluster_design(d, glm, fam, one_per_row=True), "CR1")
    return _Inference(v, n - k, t_critical(alpha, n - k), None,
                      "HC1 (one school: clustered errors impossible)")


# --------------------------------------------------------------------------- effects

def _average_effect(fam: _Family, beta, X: pd.DataFrame, rows, treatment, interaction, frame,
                    weights):
    """Weighted mean over ``rows`` of mean(x, treated) - mean(x, untreated), with gradient."""
    x1 = X.loc[rows].copy()
    x0 = x1.copy()
    x1[treatment], x0[treatment] = 1.0, 0.0
    name = f"{treatment}:{interaction}"
    if interaction and name in X:
        x1[name], x0[name] = frame.loc[rows, interaction].astype(float), 0.0
    w = weights[np.asarray(rows)]
    w = w / w.sum()
    e1, e0 = x1.to_numpy() @ beta, x0.to_numpy() @ beta
    value = float(w @ (fam.mean(e1) - fam.mean(e0)))
    grad = (w * fam.dmean(e1)) @ x1.to_numpy() - (w * fam.dmean(e0)) @ x0.to_numpy()
    return value, grad


def _contrasts(fam, glm, d: Design, inf: _Inference, treatment, interaction, alpha):
    beta = np.asarray(glm.params)
    treat = d.frame[treatment].astype(bool).to_numpy()
    if interaction:
        fsm = d.frame[interaction].astype(bool).to_numpy()
        groups = {f"effect for {interaction.upper()} pupils": fsm, "effect for other pupils": ~fsm}
    else:
        groups = {"effect on EM pupils": np.ones(len(treat), dtype=bool)}
    # pupils each term rests on: EM and comparison pupils of its group
    counts = {k: (int((treat & g).sum()), int((~treat & g).sum())) for k, g in groups.items()}
    vals = {k: _average_effect(fam, beta, d.X, treat & g, treatment, interaction, d.frame,
                               d.weights) for k, g in groups.items() if (treat & g).any()}
    if interaction and len(vals) == 2:
        (v1, g1), (v2, g2) = vals.values()
        change = f"change in the {interaction.upper()} gap"
        vals[change] = (v1 - v2, g1 - g2)
        counts[change] = tuple(map(min, zip(*counts.values(), strict=True)))
    rows = []
    for term, (value, grad) in vals.items():
        se = float(np.sqrt(grad @ inf.vcov @ grad))
        headline = term == list(vals)[-1]
        crit = inf.critical if headline else t_critical(alpha, inf.df)
        p = inf.p if headline and inf.p is not None else t_pvalue(value / se, inf.df)
        label = inf.label if headline or inf.p is None else f"CR1, t({inf.df})"
        rows.append({"term": term, "estimate": value, "se": se, "ci_low": value - crit * se,
                     "ci_high": value + crit * se, "p": p, "inference": label,
                     "n_em": counts[term][0], "n_comparison": counts[term][1]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class OutcomeResult:
    """One outcome model: the statsmodels fit, the effect, its uncertainty and the sample.

    Attributes
    ----------
    outcome, family : str
        Outcome column and GLM family (``gaussian`` or ``binomial``).
    glm : statsmodels GLMResults
        The fitted weighted GLM (its own standard errors are model-based).
    estimate, se, ci_low, ci_high, p : float
        The adjusted effect on EM pupils: points (Gaussian) or the average marginal effect,
        i.e. risk difference on the 0-1 scale, over EM pupils (binomial).
    odds_ratio, or_ci_low, or_ci_high : float
        Binomial only (NaN otherwise): exp of the EM coefficient.
    effect_size, es_ci_low, es_ci_high : float
        Hedges' g (Gaussian; denominator: pooled unweighted within-group SD of the outcome in
        the analysed sample) or Cox index (binomial; adjusted log odds ratio / 1.65), both with
        the WWC factor ``1 - 3/(4N - 9)``.
    es_type : str
        ``"Hedges' g"`` or ``"Cox index"``.
    months : float
        EEF months of additional progress for ``effect_size``.
    inference : str
        How standard errors, CIs and p were obtained.
    n_em, n_comparison, n_schools : int
        Analysed sample.
    exclusions : dict
        Rows left out of this model, by reason.
    contrasts : pandas.DataFrame
        ``term, estimate, se, ci_low, ci_high, p, inference, n_em, n_comparison``: the effect
        on EM pupils, or with an interaction the effect for FSM pupils, for other pupils and the
        change in the FSM gap; the counts are the EM and comparison pupils a term rests on (for
        the change, the smaller of the two groups).
    dropped : tuple
        Model-matrix columns dropped as constant or aliased.
    vcov : pandas.DataFrame
        Variance matrix of the coefficients used for inference.
    n_comparison_effective : float
        Kish effective number of comparison pupils under the matching weights.
    icc : float
        ANOVA estimate of the outcome's intraclass correlation within schools (analysed rows).
    """

    outcome: str
    family: str
    glm: object = field(repr=False)
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float
    effect_size: float
    es_ci_low: float
    es_ci_high: float
    es_type: str
    months: float
    sd_pooled: float
    inference: str
    n_em: int
    n_comparison: int
    n_schools: int
    exclusions: dict
    contrasts: pd.DataFrame = field(repr=False)
    dropped: tuple
    vcov: pd.DataFrame = field(repr=False)
    n_comparison_effective: float = float("nan")
    icc: float = float("nan")

    def summary(self) -> pd.DataFrame:
        """One-row tidy summary of the effect.

        Examples
        --------
        >>> res.summary().columns[:3].tolist()  # doctest: +SKIP
        ['outcome', 'family', 'estimate']
        """
        keys = ["outcome", "family", "estimate", "se", "ci_low", "ci_high", "p", "odds_ratio",
                "or_ci_low", "or_ci_high", "effect_size", "es_ci_low", "es_ci_high", "es_type",
                "months", "inference", "n_em", "n_comparison", "n_schools"]
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`evaluation.multilevel.specification_table`."""
        return [{"outcome": self.outcome, "model": f"weighted GLM ({self.family})",
                 "estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high,
                 "p": self.p, "effect_size": self.effect_size, "es_type": self.es_type,
                 "n_em": self.n_em, "n_comparison": self.n_comparison,
                 "n_schools": self.n_schools, "inference": self.inference}]

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _fit_glm(d: Design, family: str):
    fam = FAMILIES[family]
    # exp() overflowing in the logit inverse is a symptom of separation, reported below
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="ignore"):
        warnings.simplefilter("always")
        glm = GLM(d.y, d.X, family=fam.make(), var_weights=d.weights).fit()
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    for w in caught:  # propagate: convergence and separation warnings are findings
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return glm, separated


def _check_separation(d: Design, outcome: str, treatment: str) -> None:
    treat = d.frame[treatment].astype(bool).to_numpy()
    for name, rows in (("EM", treat), ("comparison", ~treat)):
        values = np.unique(d.y[rows])
        if len(values) < 2:
            raise NotEstimableError(
                f"{outcome!r}: every {name} pupil analysed has the value {values[0]:g} "
                "(perfect separation), so the odds ratio is infinite; not estimable")


def fit_outcome(data: pd.DataFrame, outcome: str, family: str, covariates: list[str],
                treatment: str = "em", weights: str | None = "weights",
                cluster: str = "school_id", inference: str = "auto", alpha: float = 0.05,
                n_boot: int = 999, random_state=DEFAULT_SEED, interaction: str | None = None,
                wild_below: int = WILD_BELOW) -> OutcomeResult:
    """Fit one weighted outcome GLM and estimate the effect of EM with small-sample inference.

    Parameters
    ----------
    data : pandas.DataFrame
        Matched data (e.g. ``MatchResult.matched_data()``); not modified.
    outcome : str
        Outcome column.
    family : {"gaussian", "binomial"}
        Gaussian/identity or binomial/logit.
    covariates : list of str
        Adjustment covariates (prior attainment first, as ``Plan.covariates``); categorical
        ones become dummies with the first schema level as reference; ``"<column>^k"`` adds
        the column's centred k-th power (``"ks2_aps^2"``).
    treatment, weights, cluster : str
        Treatment indicator, matching-weight column (None: unweighted), cluster column.
    inference : {"auto", "wild", "CR1", "CR2", "CR0", "naive"}
        ``auto``: the wild cluster bootstrap (restricted, Webb weights; a score bootstrap for
        binomial models) when there are fewer than ``wild_below`` clusters, else CR1 with
        t(G - 1). With one school, HC1 is used and a ModelWarning raised.
    alpha : float
        1 - confidence level.
    n_boot : int
        Bootstrap replications.
    random_state : int or numpy.random.Generator
        Seed of the bootstrap.
    interaction : str, optional
        Binary covariate interacted with the treatment (``"fsm"``: the gap question).
    wild_below : int
        Threshold of the ``auto`` rule (the plan's ``inference.wild_bootstrap_below``).

    Returns
    -------
    OutcomeResult

    Raises
    ------
    NotEstimableError
        No EM or comparison pupils, a treatment that does not vary, or perfect separation.
    ValueError
        Unknown ``family`` or ``inference``.

    Examples
    --------
    >>> res = fit_outcome(matched, "ks2_aps", "gaussian", ["ks1_aps", "fsm"])  # doctest: +SKIP
    >>> res.estimate, res.ci_low, res.ci_high  # doctest: +SKIP
    """
    if family not in FAMILIES:
        raise ValueError(f"`family` should be one of {sorted(FAMILIES)}; got {family!r}")
    allowed = ["auto", *INFERENCE]
    if inference not in allowed:
        raise ValueError(f"`inference` should be one of {allowed}; got {inference!r}")
    d = build_design(data, outcome, covariates, treatment, weights, cluster, interaction)
    if family == "binomial":
        bad = sorted(set(np.unique(d.y)) - {0.0, 1.0})
        if bad:
            raise DataError(f"binomial outcome {outcome!r} should be 0/1; got {bad[:5]}")
        _check_separation(d, outcome, treatment)
    glm, separated = _fit_glm(d, family)
    column = list(d.X.columns).index(f"{treatment}:{interaction}" if interaction else treatment)
    coef = float(glm.params.iloc[column])
    if separated and abs(coef) > 10:
        raise NotEstimableError(f"{outcome!r}: perfect separation on {treatment!r} "
                                f"(coefficient {coef:.1f}); the effect is not estimable")
    n_schools = int(d.groups.max()) + 1
    if inference == "auto":
        inference = "wild" if n_schools < wild_below else "CR1"
    infer = INFERENCE[inference]
    if n_schools < 2 and inference != "naive":
        warnings.warn(f"{outcome!r}: one school only, so standard errors cannot be clustered; "
                      "using HC1", ModelWarning, stacklevel=2)
        infer = _one_school
    fam = FAMILIES[family]
    try:  # exp() overflow in the logit inverse gives fitted 0/1: the exact limit
        with np.errstate(over="ignore"):
            inf = infer(d, glm, fam, column, alpha, n_boot, random_state)
    except np.linalg.LinAlgError as err:
        raise NotEstimableError(
            f"{outcome!r}: the information matrix is singular ({err}); usually quasi-complete "
            "separation (a covariate group in which every pupil has the same outcome), so the "
            "standard errors are not estimable") from err
    if not inf.vcov[column, column] > 0:  # a sandwich is PSD: <= 0 or NaN is numerical failure
        raise NotEstimableError(
            f"{outcome!r}: the variance of the effect came out {inf.vcov[column, column]:.3g}; "
            "the model is too close to singular (usually quasi-complete separation) for "
            "standard errors")
    if 2 <= n_schools < FEW_SCHOOLS and inference != "naive":
        warnings.warn(f"{outcome!r}: only {n_schools} schools, too few for reliable "
                      "cluster-robust inference; read the interval as descriptive",
                      ModelWarning, stacklevel=2)
    table = _contrasts(fam, glm, d, inf, treatment, interaction, alpha)
    if family == "binomial":  # risk differences cannot leave [-1, 1]
        table[["ci_low", "ci_high"]] = table[["ci_low", "ci_high"]].clip(-1.0, 1.0)
    head = table.iloc[-1]
    treat = d.frame[treatment].astype(bool).to_numpy()
    n_em, n_comp = int(treat.sum()), int((~treat).sum())
    coef_se = float(np.sqrt(inf.vcov[column, column]))
    crit = inf.critical
    coef_ci = (coef - crit * coef_se, coef + crit * coef_se)
    omega = effects.small_sample_factor(n_em, n_comp)
    sd = effects.pooled_sd(float(np.std(d.y[treat], ddof=1)), float(np.std(d.y[~treat], ddof=1)),
                           n_em, n_comp)
    if family == "gaussian":
        es = [omega * v / sd for v in (coef, *coef_ci)]
        odds, es_type = (np.nan, np.nan, np.nan), "Hedges' g"
    else:
        es = [effects.cox_from_log_odds(v, n_em, n_comp) for v in (coef, *coef_ci)]
        odds, es_type = tuple(np.exp([coef, *coef_ci])), "Cox index"
    return OutcomeResult(
        outcome, family, glm, float(head["estimate"]), float(head["se"]), float(head["ci_low"]),
        float(head["ci_high"]), float(head["p"]), *map(float, odds), *map(float, es), es_type,
        effects.months_progress(es[0]), sd, inf.label, n_em, n_comp, n_schools,
        dict(d.exclusions), table, d.dropped,
        pd.DataFrame(inf.vcov, index=d.X.columns, columns=d.X.columns),
        effects.kish_n(d.weights[~treat]), effects.icc_anova(d.y, d.groups))


# --------------------------------------------------------------------------- all outcomes

_TABLE = ["outcome", "label", "family", "units", "primary", "n_em", "n_comparison", "n_schools",
          "estimate", "ci_low", "ci_high", "p", "p_holm", "effect_size", "es_ci_low",
          "es_ci_high", "es_type", "odds_ratio", "or_ci_low", "or_ci_high", "months", "icc",
          "icc_source", "mdes", "indicative", "inference", "note"]
_GAP_TABLE = ["outcome", "family", "term", "estimate", "se", "ci_low", "ci_high", "p",
              "inference", "n_em", "n_comparison"]


@dataclass(frozen=True)
class ImpactResult:
    """Impact of EM on every pre-specified outcome of a phase, with gaps, precision and counts.

    Attributes
    ----------
    outcomes : dict of str to OutcomeResult
        Main-effect fits of the estimable outcomes.
    gaps : dict of str to OutcomeResult
        ``em x fsm`` interaction fits.
    not_estimable : dict of str to str
        Outcome -> reason.
    specs : tuple of dict
        The plan's outcome entries (name, label, family, units, primary).
    precision : pandas.DataFrame
        Per outcome: ``icc``, ``icc_source`` (data or plan default), ``mdes``, ``indicative``.
    exclusions : dict
        Pupils excluded by reason: those passed in (sample construction) plus those dropped by
        each model, keyed ``"<outcome>: <reason>"``.
    n_em, n_comparison, n_schools : int
        Pupils and schools of the data given (each outcome's own counts are in ``table()``).
    alpha : float
        1 - confidence level.
    unfitted : dict of str to dict
        Analysable ``n_em``, ``n_comparison`` and ``n_schools`` of each outcome that could not
        be estimated, so that its row still says how many pupils it rests on.
    """

    outcomes: dict
    gaps: dict
    not_estimable: dict
    specs: tuple
    precision: pd.DataFrame = field(repr=False)
    exclusions: dict
    n_em: int
    n_comparison: int
    n_schools: int
    alpha: float = 0.05
    unfitted: dict = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per pre-specified outcome (NaN and a note when not estimable).

        Examples
        --------
        >>> impact.table()[["outcome", "estimate", "p_holm", "indicative"]]  # doctest: +SKIP
        """
        rows = []
        for spec in self.specs:
            name = spec["name"]
            row = {"outcome": name, "label": spec.get("label", name), "family": spec["family"],
                   "units": spec.get("units", ""), "primary": bool(spec.get("primary", False)),
                   "note": self.not_estimable.get(name, "")}
            if name in self.outcomes:
                row.update(self.outcomes[name].summary().iloc[0].drop(["outcome", "family"]))
            row.update(self.unfitted.get(name, {}))
            row.update(self.precision.loc[name].to_dict() if name in self.precision.index
                       else {})
            rows.append(row)
        out = pd.DataFrame(rows).reindex(columns=_TABLE)
        out["p_holm"] = effects.holm(out["p"].astype(float))
        out["indicative"] = out["indicative"].astype("boolean").fillna(True).astype(bool)
        return out

    def gap_table(self) -> pd.DataFrame:
        """Answer the gap question per outcome: effect for FSM pupils, others, change in gap.

        The change is (effect for FSM pupils) - (effect for other pupils): positive means EM
        narrowed the FSM gap. Points or risk differences (0-1) as in :meth:`table`;
        ``n_em``/``n_comparison`` are the pupils each term rests on (for the change, the
        smaller group), for disclosure control.

        Examples
        --------
        >>> impact.gap_table()["term"].unique().tolist()  # doctest: +SKIP
        ['effect for FSM pupils', 'effect for other pupils', 'change in the FSM gap']
        """
        frames = [res.contrasts.assign(outcome=name, family=res.family)
                  for name, res in self.gaps.items()]
        if not frames:
            return pd.DataFrame(columns=_GAP_TABLE)
        return pd.concat(frames, ignore_index=True)[_GAP_TABLE]

    def summary(self) -> pd.DataFrame:
        """Readable table: label, n, effect (95% CI), p (Holm), effect size, months, MDES.

        Examples
        --------
        >>> impact.summary().columns[0]  # doctest: +SKIP
        'Outcome'
        """
        t = self.table()
        scale = np.where(t["family"] == "gaussian", 1.0, 100.0)
        est = [f"{e:+.2f} ({lo:.2f} to {hi:.2f})" if np.isfinite(e) else "not estimable"
               for e, lo, hi in zip(t["estimate"] * scale, t["ci_low"] * scale,
                                    t["ci_high"] * scale, strict=True)]
        return pd.DataFrame({
            "Outcome": t["label"], "EM pupils": t["n_em"], "Comparison pupils": t["n_comparison"],
            "Schools": t["n_schools"], "Effect (95% CI)": est, "Units": t["units"],
            "p": t["p"].round(3), "p (Holm)": t["p_holm"].round(3),
            "Effect size": t["effect_size"].round(2), "Effect size type": t["es_type"],
            "Months' progress": t["months"], "MDES": t["mdes"].round(2),
            "Indicative only": t["indicative"]})

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`evaluation.multilevel.specification_table`."""
        return [row for res in self.outcomes.values() for row in res.spec_rows()]

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _precision(res: OutcomeResult, power: dict, alpha: float) -> dict:
    icc, source = res.icc, "data"
    if not np.isfinite(icc):
        icc, source = float(power.get("icc_default", 0.15)), "plan default"
    value = effects.mdes(res.n_em, res.n_comparison_effective, res.n_schools, icc,
                         r2_pupil=float(power.get("r2_pupil", 0.0)), alpha=alpha,
                         power=float(power.get("power", 0.8)))
    return {"icc": icc, "icc_source": source, "mdes": value,
            "indicative": effects.is_indicative(value, float(power.get("indicative_mdes",
                                                                          0.2)))}


def estimate_impacts(data: pd.DataFrame, outcomes: list[dict], covariates: list[str],
                     plan=None, exclusions: dict | None = None, random_state=DEFAULT_SEED,
                     treatment: str = "em", weights: str | None = "weights",
                     inference: str = "auto", gap: str | None = "fsm") -> ImpactResult:
    """Fit every pre-specified outcome: effects, gaps, MDES, Holm, exclusions.

    Parameters
    ----------
    data : pandas.DataFrame
        Matched data with a ``weights`` column (not modified).
    outcomes : list of dict
        ``Plan.outcomes(phase)``: name, label, family, units, primary.
    covariates : list of str
        ``Plan.covariates(phase)``.
    plan : Plan, optional
        Supplies ``inference`` (cluster, wild_bootstrap_below, bootstrap_reps, alpha) and
        ``power`` (icc_default, r2_pupil, power, indicative_mdes); defaults otherwise.
    exclusions : dict, optional
        Exclusions made before matching, by reason (carried into the result).
    random_state : int
        Seed; each outcome's bootstrap gets its own stream from it.
    treatment, weights : str
        Treatment and matching-weight columns.
    inference : str
        As :func:`fit_outcome`.
    gap : str or None
        Binary covariate of the gap question (None: no gap table).

    Returns
    -------
    ImpactResult

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> plan = load_plan()
    >>> res = estimate_impacts(matched, plan.outcomes("primary"),
    ...                        plan.covariates("primary"), plan=plan)  # doctest: +SKIP
    """
    inf = plan.section("inference") if plan is not None else {}
    power = plan.section("power") if plan is not None else {}
    alpha = float(inf.get("alpha", 0.05))
    args = {"treatment": treatment, "weights": weights,
            "cluster": inf.get("cluster", "school_id"), "inference": inference, "alpha": alpha,
            "n_boot": int(inf.get("bootstrap_reps", 999)),
            "wild_below": int(inf.get("wild_bootstrap_below", WILD_BELOW))}
    seeds = np.random.SeedSequence(random_state).spawn(2 * len(outcomes))
    fits, gaps, failed, precision, unfitted = {}, {}, {}, {}, {}
    excl = dict(exclusions or {})
    for i, spec in enumerate(outcomes):
        name = spec["name"]
        try:
            res = fit_outcome(data, name, spec["family"], covariates,
                              random_state=np.random.default_rng(seeds[2 * i]), **args)
        except NotEstimableError as err:
            failed[name] = str(err)
            frame, dropped = _rows(data, name, [c for c in covariates if c != treatment],
                                   treatment, weights, args["cluster"])
            excl.update({f"{name}: {k}": v for k, v in dropped.items()})
            treat = frame[treatment].astype(bool)
            unfitted[name] = {"n_em": int(treat.sum()), "n_comparison": int((~treat).sum()),
                              "n_schools": int(frame[args["cluster"]].nunique())}
            continue
        fits[name] = res
        excl.update({f"{name}: {k}": v for k, v in res.exclusions.items()})
        precision[name] = _precision(res, power, alpha)
        if gap:
            try:
                gaps[name] = fit_outcome(data, name, spec["family"], covariates,
                                         random_state=np.random.default_rng(seeds[2 * i + 1]),
                                         interaction=gap, **args)
            except NotEstimableError as err:
                failed.setdefault(f"{name} (gap)", str(err))
    treat = data[treatment].astype(bool)
    return ImpactResult(fits, gaps, failed, tuple(dict(s) for s in outcomes),
                        pd.DataFrame.from_dict(precision, orient="index"), excl,
                        int(treat.sum()), int((~treat).sum()),
                        int(data[args["cluster"]].nunique()), alpha, unfitted)
