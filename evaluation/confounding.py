"""Sensitivity to unmeasured confounding: E-values and Rosenbaum bounds for matched designs.

Two questions a reviewer asks of any non-randomised comparison:

- **E-value** (VanderWeele and Ding 2017, *Annals of Internal Medicine* 167:268-274): the
  minimum strength of association, on the risk-ratio scale, that an unmeasured confounder
  would need with both EM and the outcome, over and above the measured covariates, to explain
  away the estimate (``e_value``) or to move its confidence interval to include no effect
  (``e_value_ci``). Point scores are put on the risk-ratio scale by ``RR = exp(0.91 d)`` (d the
  standardised mean difference, here Hedges' g); odds ratios by ``RR = sqrt(OR)`` when the
  outcome is common (15% or more) and ``RR = OR`` when rare, as the R package ``EValue`` does.
- **Rosenbaum bounds** (Rosenbaum 2002, *Observational Studies*, ch. 4): in 1:1 matched pairs,
  how far the odds of being in the EM group could differ between the two pupils of a pair
  (Gamma) before the upper bound of the one-sided Wilcoxon signed-rank p-value reaches the
  significance level (``gamma_critical``). The statistic and its normal approximation are those
  of R ``rbounds::psens`` (no continuity or ties correction); for a 0/1 outcome the signed-rank
  test on the pair differences is the sign test on the discordant pairs. For strata with
  several EM and several comparison pupils (the main design: school and cohort) and 1:k sets,
  :mod:`evaluation.confounding_strata` ports R ``senstrat`` (``gamma_strata``).

- **Observed-covariate benchmark** (McGowan and Greevy 2020, arXiv:2011.07030; R ``tipr``'s
  ``observed_covariate_e_value``): how strong each *measured* covariate is, on the same E-value
  scale, judged by how far leaving it out of the model moves the interval's limit nearer no
  effect. A hidden characteristic as strong as the strongest measured one is the benchmark a
  finding must beat (:func:`evaluation.confounding_benchmark.covariate_benchmarks`).

Neither figure says whether such a confounder exists; they say how strong it would have to be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

#: An outcome this common or commoner uses the square-root odds-ratio approximation (EValue).
COMMON_OUTCOME = 0.15
#: Fragility thresholds (see :class:`OutcomeConfounding`).
FRAGILE_E_VALUE = 1.5
FRAGILE_GAMMA = 1.5
#: Largest Gamma searched; beyond it ``gamma_critical`` is reported as this value.
MAX_GAMMA = 20.0


def e_value_rr(rr: float) -> float:
    """Return the E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))``, 1/RR below 1.

    Examples
    --------
    >>> round(e_value_rr(3.9), 2), round(e_value_rr(0.8), 3), e_value_rr(1.0)
    (7.26, 1.809, 1.0)
    """
    if not (rr > 0 and math.isfinite(rr)):
        return float("nan")
    rr = 1.0 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1.0))


def e_values(rr: float, low: float, high: float) -> tuple[float, float]:
    """Return the E-values of a risk ratio and of its CI limit nearer no effect.

    The interval's E-value is 1 when the interval contains 1 (no confounding is needed).

    Examples
    --------
    >>> [round(v, 3) for v in e_values(3.9, 1.8, 8.7)]
    [7.263, 3.0]
    >>> e_values(1.2, 0.9, 1.6)[1]
    1.0
    """
    point = e_value_rr(rr)
    if not all(math.isfinite(v) for v in (rr, low, high)):
        return point, float("nan")
    if low <= 1.0 <= high:
        return point, 1.0
    return point, e_value_rr(low if rr > 1 else high)


def observed_covariate_e_value(low: float, high: float, low_adj: float, high_adj: float
                               ) -> float:
    """Return the E-value of the shift a measured covariate causes in an interval.

    A port of R ``tipr::observed_covariate_e_value`` (version 1.0.2) on the risk-ratio scale:
    ``b`` is the full model's interval limit nearer no effect, ``b_adj`` the same limit of the
    model without the covariate; the result is the E-value of ``b / b_adj`` (or its inverse,
    whichever is at least 1). NaN when the full interval contains 1 (tipr refuses such input:
    "Please input a significant result") or a bound is not a positive number.

    Parameters
    ----------
    low, high : float
        The full model's interval as risk ratios.
    low_adj, high_adj : float
        The interval of the model that leaves the covariate out.

    Returns
    -------
    float

    Examples
    --------
    >>> round(observed_covariate_e_value(1.5, 2.5, 1.2, 2.0), 4)
    1.809
    >>> observed_covariate_e_value(0.8, 1.3, 1.2, 2.0)
    nan
    """
    bounds = (low, high, low_adj, high_adj)
    if not all(math.isfinite(v) and v > 0 for v in bounds) or low <= 1.0 <= high:
        return float("nan")
    b = low if low > 1.0 else high
    b_adj = low_adj if b > 1.0 else high_adj
    if b < 1.0:
        b, b_adj = 1.0 / b, 1.0 / b_adj
    ratio = b_adj / b if b < b_adj else b / b_adj
    return ratio + math.sqrt(ratio * (ratio - 1.0))


def rr_from_or(odds_ratio: float, common: bool) -> float:
    """Risk ratio approximating an odds ratio: ``sqrt(OR)`` for a common outcome, else ``OR``.

    Examples
    --------
    >>> rr_from_or(1.44, common=True), rr_from_or(1.44, common=False)
    (1.2, 1.44)
    """
    return math.sqrt(odds_ratio) if common else float(odds_ratio)


def rr_from_smd(d: float) -> float:
    """Risk ratio approximating a standardised mean difference: ``exp(0.91 d)``.

    Examples
    --------
    >>> round(rr_from_smd(0.5), 4)
    1.5762
    """
    return math.exp(0.91 * d)


def wilcoxon_bounds(differences, gamma: float) -> tuple[float, float]:
    """Rosenbaum's lower and upper bounds on the one-sided signed-rank p-value at ``gamma``.

    The alternative is that the treated member of a pair has the larger outcome. Zero
    differences are dropped; ranks of tied absolute differences are averaged (as
    ``rbounds::psens``).

    Parameters
    ----------
    differences : array-like
        Treated minus control outcome, one per matched pair.
    gamma : float
        Odds of differential assignment to treatment within a pair (1: no hidden bias).

    Returns
    -------
    (float, float)
        Lower and upper bound of the p-value.

    Examples
    --------
    >>> low, up = wilcoxon_bounds([1.2, 0.4, -0.3, 2.0, 0.8, 1.1, -0.1, 0.9], 1.0)
    >>> round(low, 4) == round(up, 4)
    True
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d) & (d != 0)]
    if len(d) == 0:
        return float("nan"), float("nan")
    ranks = stats.rankdata(np.abs(d))
    t = float(np.sum(ranks[d > 0]))
    p_plus = gamma / (1.0 + gamma)
    p_minus = 1.0 / (1.0 + gamma)
    var = float(np.sum(ranks ** 2) * p_plus * (1 - p_plus))
    upper = stats.norm.sf((t - np.sum(ranks) * p_plus) / math.sqrt(var))
    lower = stats.norm.sf((t - np.sum(ranks) * p_minus) / math.sqrt(var))
    return float(lower), float(upper)


def gamma_critical(differences, alpha: float = 0.05, max_gamma: float = MAX_GAMMA) -> float:
    """Smallest Gamma at which the upper-bound signed-rank p-value reaches ``alpha``.

    1.0 when the test is not significant even without hidden bias; ``max_gamma`` when it stays
    significant up to there; NaN without any non-zero pair difference.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> round(gamma_critical(rng.normal(0.8, 1, 80)), 2) > 2
    True
    """
    d = np.asarray(differences, dtype=float)
    if not np.any(np.isfinite(d) & (d != 0)):
        return float("nan")

    def excess(g):
        return wilcoxon_bounds(d, g)[1] - alpha

    if excess(1.0) >= 0:
        return 1.0
    if excess(max_gamma) < 0:
        return float(max_gamma)
    return float(optimize.brentq(excess, 1.0, max_gamma, xtol=1e-6))


@dataclass(frozen=True)
class OutcomeConfounding:
    """How strong an unmeasured confounder would have to be to explain one outcome's estimate.

    Attributes
    ----------
    outcome : str
        The outcome's name.
    scale : str
        How the estimate was put on the risk-ratio scale.
    rr, rr_ci_low, rr_ci_high : float
        The estimate and its interval as risk ratios (above 1: EM pupils did better).
    e_value, e_value_ci : float
        E-values of the estimate and of the interval's limit nearer no effect (1 when the
        interval includes no effect).
    gamma_critical : float
        Rosenbaum's critical Gamma for the 1:1 matched pairs (NaN without pairs).
    n_pairs : int
        Matched pairs with the outcome observed for both pupils (0 without pairs).
    gamma_strata : float
        Rosenbaum's critical Gamma for the main design's matched strata (school and cohort,
        several EM and several comparison pupils each; :mod:`evaluation.confounding_strata`,
        a port of R ``senstrat``), NaN without strata.
    n_strata : int
        Strata with both groups and the outcome observed (0 without strata).
    most_treated : int
        The most EM pupils in one stratum (1 for pairs and 1:k sets).
    benchmark : float
        The observed-covariate E-value of the strongest measured covariate (NaN when not
        computed: the interval's E-value is below ``FRAGILE_E_VALUE``, so the finding is
        fragile whatever the benchmark, or no covariate could be left out).
    benchmark_covariate : str or None
        That covariate.
    fragile : bool
        The documented rule: True when the interval already includes no effect
        (``e_value_ci`` = 1), or when ``e_value_ci`` is below the larger of
        ``FRAGILE_E_VALUE`` (1.5) and ``benchmark`` (a hidden characteristic no stronger than
        the strongest measured one could move the interval to no effect), or when
        ``gamma_critical`` (the pairs) or ``gamma_strata`` (the main design's strata) is
        below ``FRAGILE_GAMMA`` (1.5); also True when none of these can be computed.
    """

    outcome: str
    scale: str
    rr: float
    rr_ci_low: float
    rr_ci_high: float
    e_value: float
    e_value_ci: float
    gamma_critical: float = float("nan")
    n_pairs: int = 0
    gamma_strata: float = float("nan")
    n_strata: int = 0
    most_treated: int = 0
    benchmark: float = float("nan")
    benchmark_covariate: str | None = None
    fragile: bool = field(init=False)

    @property
    def threshold(self) -> float:
        """The E-value the interval must reach not to be fragile: ``max(1.5, benchmark)``."""
        if math.isfinite(self.benchmark):
            return max(FRAGILE_E_VALUE, self.benchmark)
        return FRAGILE_E_VALUE

    def __post_init__(self):
        e_ok = math.isfinite(self.e_value_ci)
        g_ok = math.isfinite(self.gamma_critical)
        s_ok = math.isfinite(self.gamma_strata)
        weak = ((e_ok and self.e_value_ci < self.threshold)
                or (g_ok and self.gamma_critical < FRAGILE_GAMMA)
                or (s_ok and self.gamma_strata < FRAGILE_GAMMA))
        object.__setattr__(self, "fragile", bool(weak or not (e_ok or g_ok or s_ok)))

    def summary(self) -> pd.DataFrame:
        """One-row tidy summary."""
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "outcome", "scale", "rr", "rr_ci_low", "rr_ci_high", "e_value", "e_value_ci",
            "gamma_critical", "n_pairs", "gamma_strata", "n_strata", "benchmark",
            "benchmark_covariate", "fragile")}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _pair_differences(pairs: pd.DataFrame, outcome: str, treatment: str) -> np.ndarray:
    sub = pairs[["subclass", treatment, outcome]].dropna()
    treated = sub[sub[treatment].astype(bool)].groupby("subclass")[outcome].mean()
    control = sub[~sub[treatment].astype(bool)].groupby("subclass")[outcome].mean()
    both = treated.index.intersection(control.index)
    return (treated.loc[both] - control.loc[both]).to_numpy(dtype=float)


def is_common(data: pd.DataFrame | None, outcome: str) -> bool:
    """Whether a 0/1 outcome is common (mean at least 15%); True without data (conservative).

    Examples
    --------
    >>> is_common(pd.DataFrame({"y": [0, 0, 0, 1]}), "y"), is_common(None, "y")
    (True, True)
    """
    if data is None or outcome not in data:
        return True
    return float(pd.to_numeric(data[outcome], errors="coerce").mean()) >= COMMON_OUTCOME


def ratio_interval(row, common: bool = True) -> tuple[float, float, float, str]:
    """Return an estimate and its interval on the risk-ratio scale, and the scale's words.

    Parameters
    ----------
    row : mapping
        ``family`` and, for point scores, ``effect_size``, ``es_ci_low``, ``es_ci_high``
        (Hedges' g); for thresholds ``odds_ratio``, ``or_ci_low``, ``or_ci_high`` (a row of
        ``ImpactResult.table()`` or ``OutcomeResult.summary()``).
    common : bool
        Whether a 0/1 outcome is common (:func:`is_common`).

    Returns
    -------
    (float, float, float, str)
        Risk ratio, its interval (NaN when not finite or not positive) and the scale's words.

    Examples
    --------
    >>> [round(v, 3) for v in ratio_interval({"family": "binomial", "odds_ratio": 1.44,
    ...     "or_ci_low": 1.21, "or_ci_high": 1.69})[:3]]
    [1.2, 1.1, 1.3]
    """
    r = dict(row)
    if r["family"] == "gaussian":
        vals = [r.get(k, float("nan")) for k in ("effect_size", "es_ci_low", "es_ci_high")]
        scale = "risk ratio approximated from the effect size, exp(0.91 g)"
        ok = all(_finite(v) for v in vals)
        rr = [rr_from_smd(float(v)) for v in vals] if ok else None
    else:
        vals = [r.get(k, float("nan")) for k in ("odds_ratio", "or_ci_low", "or_ci_high")]
        scale = ("risk ratio approximated by the square root of the odds ratio (common outcome)"
                 if common else "odds ratio taken as the risk ratio (rare outcome)")
        ok = all(_finite(v) for v in vals) and min(vals) > 0
        rr = [rr_from_or(float(v), common) for v in vals] if ok else None
    if rr is None:
        return float("nan"), float("nan"), float("nan"), scale
    return rr[0], rr[1], rr[2], scale


def outcome_confounding(row, data: pd.DataFrame | None = None, pairs: pd.DataFrame | None = None,
                        treatment: str = "em", alpha: float = 0.05,
                        strata: pd.DataFrame | None = None, covariates=(),
                        benchmark: tuple[float, str | None] = (float("nan"), None)
                        ) -> OutcomeConfounding:
    """Return E-values (with ``pairs``, Rosenbaum's Gamma) for a row of an impact table.

    Parameters
    ----------
    row : mapping
        A row of ``ImpactResult.table()``: ``outcome``, ``family``, ``estimate``; for point
        scores ``effect_size``, ``es_ci_low``, ``es_ci_high`` (Hedges' g); for thresholds
        ``odds_ratio``, ``or_ci_low``, ``or_ci_high``.
    data : pandas.DataFrame, optional
        The analysed pupils, to tell a common (>= 15%) from a rare 0/1 outcome (default:
        common, the conservative choice).
    pairs : pandas.DataFrame, optional
        1:1 matched pairs (``subclass``, the treatment and the outcome), for Rosenbaum bounds.
    treatment : str
        Treatment column of ``pairs``.
    alpha : float
        Significance level of the Rosenbaum test (one-sided, in the estimate's direction).
    strata : pandas.DataFrame, optional
        The main design's matched data (``subclass``: its strata or matched sets, the
        treatment and the outcome), for Rosenbaum's bound on a stratified comparison.
    covariates : sequence of str
        Covariates the stratified test adjusts the outcome for (those of the outcome model).
    benchmark : (float, str or None)
        The strongest measured covariate's observed-covariate E-value and its name
        (:func:`evaluation.confounding_benchmark.strongest`); NaN when not computed.

    Returns
    -------
    OutcomeConfounding

    Examples
    --------
    >>> r = outcome_confounding({"outcome": "y", "family": "gaussian", "estimate": 2.0,
    ...                          "effect_size": 0.5, "es_ci_low": 0.304, "es_ci_high": 0.696})
    >>> round(r.e_value, 2), r.fragile
    (2.53, False)
    >>> outcome_confounding({"outcome": "y", "family": "gaussian", "estimate": 2.0,
    ...                      "effect_size": 0.5, "es_ci_low": 0.304, "es_ci_high": 0.696},
    ...                     benchmark=(2.4, "prior attainment")).fragile
    True
    """
    r = dict(row)
    name = r["outcome"]
    rr, rr_lo, rr_hi, scale = ratio_interval(r, is_common(data, name))
    if all(math.isfinite(v) for v in (rr, rr_lo, rr_hi)):
        e_point, e_ci = e_values(rr, rr_lo, rr_hi)
    else:
        e_point = e_ci = float("nan")
    gamma, n_pairs = float("nan"), 0
    if pairs is not None and name in pairs:
        diffs = _pair_differences(pairs, name, treatment)
        n_pairs = len(diffs)
        sign = -1.0 if _finite(r.get("estimate")) and r["estimate"] < 0 else 1.0
        if n_pairs:
            gamma = gamma_critical(sign * diffs, alpha)
    g_strata, n_strata, most = float("nan"), 0, 0
    if strata is not None and name in strata and "subclass" in strata:
        from evaluation.confounding_strata import strata_gamma

        sign = -1.0 if _finite(r.get("estimate")) and r["estimate"] < 0 else 1.0
        g_strata, n_strata, most = strata_gamma(strata, name, treatment, "subclass", sign, alpha,
                                                covariates)
    return OutcomeConfounding(name, scale, rr, rr_lo, rr_hi, e_point, e_ci, gamma, n_pairs,
                              g_strata, n_strata, most, float(benchmark[0]), benchmark[1])


def _finite(v) -> bool:
    return v is not None and not pd.isna(v) and math.isfinite(float(v))


def confounding_table(results: dict) -> pd.DataFrame:
    """Stack :class:`OutcomeConfounding` results (outcome -> result) into one tidy table.

    Examples
    --------
    >>> r = outcome_confounding({"outcome": "y", "family": "binomial", "estimate": 0.1,
    ...                          "odds_ratio": 1.83, "or_ci_low": 1.2, "or_ci_high": 2.8})
    >>> confounding_table({"y": r})[["outcome", "fragile"]].values.tolist()
    [['y', True]]
    """
    if not results:
        return pd.DataFrame(columns=OutcomeConfounding.__dataclass_fields__)
    return pd.concat([r.summary() for r in results.values()], ignore_index=True)
