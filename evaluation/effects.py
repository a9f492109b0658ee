"""Effect sizes (Hedges' g, Cox index), EEF months' progress, ICC, MDES and Holm adjustment."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

#: Logit-to-d scale factor of the Cox index (WWC).
COX_SCALE = 1.65

#: EEF Teaching and Learning Toolkit conversion: (upper bound of |effect size| at 2 dp, months).
#: Negative effect sizes map to the same number of months with a minus sign; above 1.00: 12.
EEF_MONTHS = ((0.01, 0), (0.09, 1), (0.18, 2), (0.26, 3), (0.35, 4), (0.44, 5), (0.52, 6),
              (0.61, 7), (0.69, 8), (0.78, 9), (0.87, 10), (0.95, 11), (1.00, 12))


def small_sample_factor(n_treated: int, n_comparison: int) -> float:
    """WWC small-sample correction ``omega = 1 - 3 / (4N - 9)`` with ``N = n_T + n_C``.

    Examples
    --------
    >>> round(small_sample_factor(10, 10), 6)
    0.957746
    """
    n = n_treated + n_comparison
    return 1.0 - 3.0 / (4.0 * n - 9.0)


def pooled_sd(sd_treated: float, sd_comparison: float, n_treated: int, n_comparison: int) -> float:
    """Pooled within-group standard deviation (WWC): the denominator of Hedges' g.

    Examples
    --------
    >>> pooled_sd(2.0, 2.0, 10, 30)
    2.0
    """
    num = (n_treated - 1) * sd_treated ** 2 + (n_comparison - 1) * sd_comparison ** 2
    return math.sqrt(num / (n_treated + n_comparison - 2))


def hedges_g(difference: float, sd_treated: float, sd_comparison: float, n_treated: int,
             n_comparison: int) -> float:
    """Hedges' g in the WWC form: ``omega * difference / s_pooled``.

    Parameters
    ----------
    difference : float
        Mean difference, treated minus comparison (the covariate-adjusted difference when
        a model was fitted, as the WWC prefers).
    sd_treated, sd_comparison : float
        Unadjusted outcome standard deviations of each group (sample SD, ddof 1).
    n_treated, n_comparison : int
        Group sizes.

    Returns
    -------
    float

    Examples
    --------
    >>> round(hedges_g(5.0, 10.0, 10.0, 20, 20), 6)
    0.490066
    """
    s = pooled_sd(sd_treated, sd_comparison, n_treated, n_comparison)
    return small_sample_factor(n_treated, n_comparison) * difference / s


def cox_from_log_odds(log_odds_ratio: float, n_treated: int, n_comparison: int) -> float:
    """Cox index from a (possibly adjusted) log odds ratio: ``omega * log OR / 1.65``.

    Examples
    --------
    >>> round(cox_from_log_odds(1.65, 1000, 1000), 4)
    0.9996
    """
    return small_sample_factor(n_treated, n_comparison) * log_odds_ratio / COX_SCALE


def cox_index(p_treated: float, p_comparison: float, n_treated: int, n_comparison: int) -> float:
    """Cox index of two proportions (WWC): ``omega * (logit p_T - logit p_C) / 1.65``.

    Raises
    ------
    ValueError
        If a proportion is 0 or 1 (the index is undefined) or outside [0, 1].

    Examples
    --------
    >>> round(cox_index(0.6, 0.5, 100, 100), 4)
    0.2448
    """
    for name, p in (("p_treated", p_treated), ("p_comparison", p_comparison)):
        if not 0 < p < 1:
            raise ValueError(f"`{name}` should be strictly between 0 and 1 (the Cox index is "
                             f"undefined otherwise); got {p!r}")
    log_or = math.log(p_treated / (1 - p_treated)) - math.log(p_comparison / (1 - p_comparison))
    return cox_from_log_odds(log_or, n_treated, n_comparison)


def months_progress(effect_size: float) -> float:
    """EEF months of additional progress for an effect size (Toolkit table, 2 dp).

    The effect size is rounded to 2 dp and looked up in the EEF Teaching and Learning
    Toolkit table (standards.md section 3); negative values mirror positive ones; effect
    sizes above 1.00 give 12 months; NaN gives NaN.

    Examples
    --------
    >>> months_progress(0.2), months_progress(-0.1), months_progress(0.01)
    (3, -2, 0)
    """
    if effect_size is None or not np.isfinite(effect_size):
        return float("nan")
    size = round(abs(float(effect_size)), 2)
    months = next((m for upper, m in EEF_MONTHS if size <= upper + 1e-9), 12)
    return -months if effect_size < 0 and months else months


def icc_anova(y, groups) -> float:
    """One-way ANOVA estimator of the intraclass correlation (unequal group sizes).

    ``(MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``n0 = (N - sum n_j^2 / N) / (J - 1)``;
    negative estimates are truncated at 0. Missing outcomes are ignored.

    Returns
    -------
    float
        NaN when there are fewer than two groups or no within-group variation.

    Examples
    --------
    >>> round(icc_anova([1, 2, 3, 11, 12, 13], ["a", "a", "a", "b", "b", "b"]), 4)
    0.9803
    """
    y = np.asarray(y, dtype=float)
    codes = pd.factorize(np.asarray(groups))[0]   # a missing group: -1
    keep = ~np.isnan(y) & (codes >= 0)
    y, codes = y[keep], pd.factorize(codes[keep])[0]
    sizes = np.bincount(codes).astype(float)
    j, n = len(sizes), len(y)
    if j < 2 or n <= j:
        return float("nan")
    means = np.bincount(codes, weights=y) / sizes
    msw = float(((y - means[codes]) ** 2).sum()) / (n - j)
    msb = float((sizes * (means - y.mean()) ** 2).sum()) / (j - 1)
    n0 = (n - float((sizes ** 2).sum()) / n) / (j - 1)
    denom = msb + (n0 - 1) * msw
    if denom <= 0:
        return float("nan")
    return max(0.0, (msb - msw) / denom)


def _mdes_within(p, n, j, icc, r2_pupil, r2_school, omega):
    return (icc * omega * (1 - r2_school) / j
            + (1 - icc) * (1 - r2_pupil) / (p * (1 - p) * n)), j - 1


def _mdes_cluster(p, n, j, icc, r2_pupil, r2_school, omega):
    return (icc * (1 - r2_school) / (p * (1 - p) * j)
            + (1 - icc) * (1 - r2_pupil) / (p * (1 - p) * n)), j - 2


#: Two-level designs (Dong and Maynard 2013, PowerUp!): variance factor and degrees of freedom.
#: within: pupils compared within schools (blocked individual assignment, BIRA2_1r);
#: cluster: whole schools treated (CRA2_2, the Bloom 2006 formula in standards.md section 6).
MDES_DESIGNS = {"within": _mdes_within, "cluster": _mdes_cluster}


def mdes(n_treated: float, n_comparison: float, n_schools: int, icc: float,
         r2_pupil: float = 0.0, r2_school: float = 0.0, alpha: float = 0.05, power: float = 0.8,
         design: str = "within", omega: float = 0.0) -> float:
    """Minimum detectable effect size (SD units) of a two-level sample of pupils in schools.

    ``MDES = M * sqrt(variance factor)`` with ``M = t(1 - alpha/2, df) + t(power, df)``.
    ``within`` (the EM design: EM pupils and comparators in the same schools):
    ``rho omega (1 - R2_2) / J + (1 - rho)(1 - R2_1) / (P (1 - P) N)``, ``df = J - 1``;
    ``cluster`` (whole schools treated): ``rho (1 - R2_2) / (P (1 - P) J) +
    (1 - rho)(1 - R2_1) / (P (1 - P) J n)``, ``df = J - 2``.

    Parameters
    ----------
    n_treated, n_comparison : float
        Pupils per group (pass the Kish effective size of a weighted group).
    n_schools : int
        Number of schools J.
    icc : float
        Intraclass correlation rho of the outcome.
    r2_pupil, r2_school : float
        Variance explained by covariates at pupil and school level.
    alpha, power : float
        Two-sided significance level and power.
    design : {"within", "cluster"}
        See above.
    omega : float
        ``within`` only: variance of the effect across schools relative to the school
        intercept variance (0: the same effect in every school).

    Returns
    -------
    float
        NaN when the degrees of freedom are below 1.

    Raises
    ------
    ValueError
        If ``design`` is unknown or ``icc`` is outside [0, 1].

    Examples
    --------
    >>> round(mdes(196, 4794, 11, 0.15, r2_pupil=0.5), 3)
    0.148
    """
    if design not in MDES_DESIGNS:
        raise ValueError(f"`design` should be one of {sorted(MDES_DESIGNS)}; got {design!r}")
    if not 0 <= icc <= 1:
        raise ValueError(f"`icc` should be between 0 and 1; got {icc!r}")
    n = n_treated + n_comparison
    p = n_treated / n
    var, df = MDES_DESIGNS[design](p, n, n_schools, icc, r2_pupil, r2_school, omega)
    if df < 1:
        return float("nan")
    m = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    return float(m * math.sqrt(var))


def kish_n(weights) -> float:
    """Kish effective sample size ``(sum w)^2 / sum w^2``.

    Examples
    --------
    >>> kish_n([1, 1, 2])
    2.6666666666666665
    """
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w ** 2).sum())


def is_indicative(mdes_value: float, threshold: float) -> bool:
    """Flag results as indicative only: MDES above the threshold (or not computable).

    Examples
    --------
    >>> is_indicative(0.35, 0.2), is_indicative(0.15, 0.2), is_indicative(float("nan"), 0.2)
    (True, False, True)
    """
    return bool(not np.isfinite(mdes_value) or mdes_value > threshold)


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values; NaN entries (not estimable) stay NaN and don't count.

    The i-th smallest of m p-values becomes ``max over j <= i of min(1, (m - j + 1) p_(j))``,
    as ``statsmodels.stats.multitest.multipletests(method="holm")`` (tested to agree), which
    is not called because it runs a full garbage collection on every call (0.1 s each in a
    report process).

    Examples
    --------
    >>> holm([0.01, 0.04, float("nan"), 0.03]).round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    steps = np.arange(len(order), 0, -1)
    out[order] = np.minimum(np.maximum.accumulate(p[order] * steps), 1.0)
    return out


def outcome_range(name: str, family: str) -> tuple[float, float] | None:
    """Possible values ``(low, high)`` of an outcome: the schema's, or 0-1 for binary ones.

    From the ``low``/``high`` of the pupil table's column in :mod:`evaluation.schema`
    (e.g. KS2 average point score 9-39, GCSE capped points 0-464); binomial outcomes are 0/1.
    None when unknown.

    Examples
    --------
    >>> outcome_range("ks2_aps", "gaussian"), outcome_range("gcse_5ac", "binomial")
    ((9.0, 39.0), (0.0, 1.0))
    >>> outcome_range("made_up", "gaussian") is None
    True
    """
    from evaluation.schema import TABLES

    if family == "binomial":
        return (0.0, 1.0)
    column = next((c for c in TABLES["pupils"] if c.name == name), None)
    if column is None or column.low is None or column.high is None:
        return None
    return (float(column.low), float(column.high))


def informativeness(ci_low: float, ci_high: float, value_range: tuple | None,
                    n_clusters: int, min_clusters: int, method: str = "the method",
                    proportion: bool = False) -> tuple[bool, str]:
    """Is an interval informative? Not when wider than the outcome's range or from too few clusters.

    An interval for an effect on an outcome that can only take values in ``[low, high]`` says
    nothing when it is wider than ``high - low`` (for a risk difference, 100 percentage
    points); nor does one from fewer clusters than the inference method needs
    (:data:`evaluation.inference.MIN_CLUSTERS`).

    Parameters
    ----------
    ci_low, ci_high : float
        The interval (before any clipping to the possible range).
    value_range : tuple or None
        ``(low, high)`` of the outcome; None skips the width rule.
    n_clusters, min_clusters : int
        Clusters the interval rests on and the fewest the method needs.
    method : str
        The method's name, for the reason.
    proportion : bool
        The effect is a risk difference on the 0-1 scale (the reason speaks of percentage
        points).

    Returns
    -------
    bool, str
        Informative, and the reason when not ("" otherwise).

    Examples
    --------
    >>> informativeness(-0.9, 0.5, (0, 1), 12, 6, proportion=True)
    (False, 'interval 140.0 percentage points wide, wider than the outcome can range (100)')
    >>> informativeness(-2.0, 3.0, (9, 39), 4, 6, "the wild cluster bootstrap")
    (False, '4 clusters: fewer than the 6 the wild cluster bootstrap needs')
    >>> informativeness(-2.0, 3.0, (9, 39), 12, 6)
    (True, '')
    """
    reasons = []
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        reasons.append("no finite interval")
    elif value_range is not None:
        low, high = value_range
        span, width = high - low, ci_high - ci_low
        if width > span:
            if proportion:
                reasons.append(f"interval {100 * width:z.1f} percentage points wide, wider than "
                               "the outcome can range (100)")
            else:
                reasons.append(f"interval {width:.3g} wide, wider than the outcome can range "
                               f"({low:g} to {high:g})")
    if n_clusters < min_clusters:
        reasons.append(f"{n_clusters} cluster{'s' if n_clusters != 1 else ''}: fewer than the "
                       f"{min_clusters} {method} needs")
    return not reasons, "; ".join(reasons)
