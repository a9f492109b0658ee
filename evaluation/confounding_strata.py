"""Rosenbaum sensitivity analysis for strata and matched sets (several treated, several controls).

The main design matches exactly within school and cohort: each stratum holds several EM and
several comparison pupils, and the 1:k specifications give sets of one EM pupil and k
comparison pupils. The 1:1 signed-rank bounds of :mod:`evaluation.confounding` do not apply to
them. This module is a port of Rosenbaum's R package ``senstrat`` (1.0.3; Rosenbaum 2018,
"Sensitivity analysis for stratified comparisons in an observational study of the effect of
smoking on homocysteine levels", *Annals of Applied Statistics* 12:2312-2334; Gastwirth, Krieger
and Rosenbaum 2000, *JRSS-B* 62:545-555):

- each pupil's outcome is scored within its stratum (:func:`mscores`: Huber's M-scores, as
  ``senstrat::mscores``; a 0/1 outcome is used as it is, which gives the Mantel-Haenszel
  statistic);
- the test statistic is the EM pupils' total score; under a hidden bias of at most Gamma (the
  odds of being in the EM group may differ by up to Gamma between two pupils of one stratum),
  its largest expectation and variance in each stratum come from the extended hypergeometric
  (Fisher's noncentral) distribution with exact moments (``method="BU"`` of senstrat);
- the strata are combined by the separable approximation with senstrat's one-step linear Taylor
  bound, which is at worst slightly conservative (``senstrat(..., detail=FALSE)``).

For sets of one treated and k controls this is ``sensitivitymv::senmv`` (Rosenbaum 2007,
*Biometrics* 63:456-464). ``tests/fixtures/confounding/make_strata_fixtures.R`` checks both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

#: Largest Gamma searched; beyond it the critical Gamma is reported as this value.
MAX_GAMMA = 20.0


def mscores(y, z, strata, inner: float = 0.0, trim: float = 3.0, lam: float = 0.5) -> np.ndarray:
    """Huber M-scores aligned within strata, as ``senstrat::mscores``.

    Each outcome is compared with every other of its stratum; the differences, scaled by the
    ``lam`` quantile of all within-stratum absolute differences, are capped at ``trim`` and
    averaged. A stratum of one scores 0.

    Parameters
    ----------
    y : array-like
        Outcomes (no missing values).
    z : array-like
        Treatment indicator (1 treated, 0 control); unused by the scores themselves, as in R.
    strata : array-like
        Stratum of each unit.
    inner, trim, lam : float
        senstrat's ``inner``, ``trim`` and ``lambda``.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> mscores([1.0, 2.0, 4.0, 3.0], [1, 0, 1, 0], [1, 1, 2, 2]).round(2).tolist()
    [-1.0, 1.0, 1.0, -1.0]
    """
    y = np.asarray(y, dtype=float)
    if len(np.asarray(z)) != len(y) or len(np.asarray(strata)) != len(y):
        raise ValueError(f"`y`, `z` and `strata` should have the same length; got {len(y)}, "
                         f"{len(np.asarray(z))} and {len(np.asarray(strata))}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"`y` has {int((~np.isfinite(y)).sum())} missing or infinite values; "
                         "score only pupils with the outcome observed")
    codes, _ = pd.factorize(pd.Series(strata), sort=False)
    groups = [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]
    adif = np.concatenate([np.abs(np.subtract.outer(y[g], y[g]))[np.triu_indices(len(g), 1)]
                           for g in groups if len(g) >= 2] or [np.zeros(0)])
    sig = float(np.quantile(adif, lam)) if len(adif) else 1.0
    out = np.zeros(len(y))
    for g in groups:
        if len(g) < 2:
            continue
        dif = np.subtract.outer(y[g], y[g])
        if math.isinf(trim):
            sc = dif
        else:
            sc = np.sign(dif) * trim * np.minimum(
                trim - inner, np.maximum(0.0, np.abs(dif / sig) - inner)) / (trim - inner)
        out[g] = sc.sum(axis=1) / (len(g) - 1)
    return out


def _fnch_moments(big_n: int, n: int, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the EM pupils among the ``m`` with u=1, for m = 1..N-1.

    Fisher's noncentral hypergeometric distribution: ``m`` units with u=1 and ``N - m`` with
    u=0, ``n`` drawn, odds ratio ``gamma`` (exact, by summing the probabilities).
    """
    m = np.arange(1, big_n)[:, None]
    x = np.arange(0, n + 1)[None, :]
    ok = (x <= m) & (n - x <= big_n - m)
    with np.errstate(invalid="ignore"):
        logw = (special.gammaln(m + 1) - special.gammaln(x + 1) - special.gammaln(m - x + 1)
                + special.gammaln(big_n - m + 1) - special.gammaln(n - x + 1)
                - special.gammaln(big_n - m - n + x + 1) + x * math.log(gamma))
    logw = np.where(ok, logw, -np.inf)
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    p = w / w.sum(axis=1, keepdims=True)
    mean = (p * x).sum(axis=1)
    var = (p * x ** 2).sum(axis=1) - mean ** 2
    return mean, np.maximum(var, 0.0)


def _stratum_moments(sc: np.ndarray, n: int, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the moments of a stratum's treated total for each worst-case u (senstrat ev).

    u puts 1 on the m largest scores, m = 1..N-1 (Rosenbaum 2002, expressions 4.31-4.32).
    """
    q = np.sort(sc)
    big_n = len(q)
    m = np.arange(1, big_n)
    et, vt = _fnch_moments(big_n, n, gamma)
    top = np.cumsum(q[::-1])[:-1]                 # sum of the m largest, m = 1..N-1
    top2 = np.cumsum(q[::-1] ** 2)[:-1]
    low, low2 = q.sum() - top, (q ** 2).sum() - top2
    rest = big_n - m
    qb1, qb0 = top / m, low / rest
    with np.errstate(invalid="ignore", divide="ignore"):
        w1 = np.where(m > 1, (top2 - m * qb1 ** 2) / (m - 1), 0.0)
        w0 = np.where(rest > 1, (low2 - rest * qb0 ** 2) / (rest - 1), 0.0)
    expect = et * qb1 + (n - et) * qb0
    term = (w1 - w0) * et - (et * et + vt) * (w1 / m + w0 / rest)
    term = term + n * (big_n + 2 * et - (m + n)) * w0 / rest
    return expect, term + vt * (qb1 - qb0) ** 2


@dataclass(frozen=True)
class StrataBound:
    """Upper bound on the one-sided P-value of a stratified test under a bias of at most Gamma.

    Attributes
    ----------
    gamma : float
        The bias allowed (1: none).
    p_value, deviate, statistic, expected, variance : float
        senstrat's linear Taylor bound (its ``Result``).
    p_separable, deviate_separable : float
        The separable approximation (senstrat's ``detail=TRUE``; ``senmv`` for 1:k sets),
        slightly liberal.
    n_strata, n_treated, n_control : int
        Strata with both groups and the units in them.
    """

    gamma: float
    p_value: float
    deviate: float
    statistic: float
    expected: float
    variance: float
    p_separable: float
    deviate_separable: float
    n_strata: int
    n_treated: int
    n_control: int

    def summary(self) -> pd.DataFrame:
        """One-row tidy summary."""
        return pd.DataFrame([self.__dict__])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _prepare(sc, z, strata):
    sc = np.asarray(sc, dtype=float)
    raw = np.asarray(z)
    if not np.all(np.isin(raw, (0, 1))):   # checked before any conversion: 1.7 is not 1
        raise ValueError("`z` should hold 0 (control) or 1 (treated) only; got "
                         f"{sorted(set(raw.tolist()) - {0, 1})[:5]}")
    z = raw.astype(int)
    if not (len(sc) == len(z) == len(strata)):
        raise ValueError(f"`sc`, `z` and `strata` should have the same length; got {len(sc)}, "
                         f"{len(z)} and {len(strata)}")
    if not np.all(np.isin(z, (0, 1))):
        raise ValueError("`z` should hold 0 (control) or 1 (treated) only")
    if not np.all(np.isfinite(sc)):
        raise ValueError(f"`sc` has {int((~np.isfinite(sc)).sum())} missing values")
    codes, _ = pd.factorize(pd.Series(strata), sort=True)
    out = []
    for k in range(codes.max() + 1 if len(codes) else 0):
        g = codes == k
        n = int(z[g].sum())
        if 0 < n < int(g.sum()):
            out.append((sc[g], z[g], n))
    return out


def senstrat(sc, z, strata, gamma: float = 1.0, alternative: str = "greater",
             alpha: float = 0.05) -> StrataBound:
    """Rosenbaum's bound for a stratified comparison, as R ``senstrat::senstrat``.

    Strata holding only treated or only control units are left out (they do not affect a
    permutation test), as senstrat does.

    Parameters
    ----------
    sc : array-like
        Scored outcomes (:func:`mscores`, or a 0/1 outcome itself).
    z : array-like
        1 treated, 0 control.
    strata : array-like
        Stratum (matched set) of each unit.
    gamma : float
        Largest odds ratio of treatment between two units of a stratum (at least 1).
    alternative : {"greater", "less"}
        Direction of the one-sided test.
    alpha : float
        Level used by the linear Taylor bound (senstrat's ``level``).

    Returns
    -------
    StrataBound

    Examples
    --------
    >>> b = senstrat([3.0, 1, 0, 4, 2, 1], [1, 0, 0, 1, 0, 0], [1, 1, 1, 2, 2, 2], 1.0)
    >>> round(b.statistic, 1), round(b.expected, 3), b.n_strata
    (7.0, 3.667, 2)
    """
    if not gamma >= 1:
        raise ValueError(f"`gamma` should be at least 1; got {gamma!r}")
    if alternative not in ("greater", "less"):
        raise ValueError(f"`alternative` should be 'greater' or 'less'; got {alternative!r}")
    kappa = stats.norm.ppf(1 - alpha)
    sign = -1.0 if alternative == "less" else 1.0
    strata_ = _prepare(sign * np.asarray(sc, dtype=float), z, strata)
    if not strata_:
        raise ValueError("no stratum holds both treated and control units")
    moments, t, ex, vr = [], 0.0, [], []
    for scs, zs, n in strata_:
        mu, nu = _stratum_moments(scs, n, gamma)
        t += float(scs[zs == 1].sum())
        top = mu.max()
        at = mu == top
        moments.append((mu, nu))
        ex.append(top)
        vr.append(nu[at].max())
    expected, variance = float(np.sum(ex)), float(np.sum(vr))
    if not variance > 0:
        raise ValueError("the scores do not vary within any stratum holding both groups: "
                         "there is nothing to test")
    dev = (t - expected) / math.sqrt(variance)
    ex_l, vr_l = [], []
    for (mu, nu), e, v in zip(moments, ex, vr, strict=True):
        adj = (mu - e) + kappa * nu / (2 * math.sqrt(variance)) - kappa * v / (
            2 * math.sqrt(variance))
        k = int(np.argmax(adj))
        ex_l.append(mu[k])
        vr_l.append(nu[k])
    expected_l, variance_l = float(np.sum(ex_l)), float(np.sum(vr_l))
    dev_l = (t - expected_l) / math.sqrt(variance_l)
    return StrataBound(
        gamma=float(gamma), p_value=float(stats.norm.sf(dev_l)), deviate=sign * dev_l,
        statistic=sign * t, expected=sign * expected_l, variance=variance_l,
        p_separable=float(stats.norm.sf(dev)), deviate_separable=sign * dev, n_strata=len(strata_),
        n_treated=int(sum(n for _, _, n in strata_)),
        n_control=int(sum(len(s) - n for s, _, n in strata_)))


def gamma_critical_strata(sc, z, strata, alpha: float = 0.05, alternative: str = "greater",
                          max_gamma: float = MAX_GAMMA) -> float:
    """Smallest Gamma at which the bound on the P-value reaches ``alpha``.

    1.0 when the test is not significant even without hidden bias; ``max_gamma`` when it stays
    significant up to there.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> st = np.repeat(np.arange(20), 10)
    >>> z = np.tile([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], 20)
    >>> y = rng.normal(0, 1, 200) + 0.8 * z
    >>> round(gamma_critical_strata(mscores(y, z, st), z, st), 1) > 1.5
    True
    """
    def excess(g):
        return senstrat(sc, z, strata, g, alternative, alpha).p_value - alpha

    if excess(1.0) >= 0:
        return 1.0
    if excess(max_gamma) < 0:
        return float(max_gamma)
    return float(optimize.brentq(excess, 1.0, max_gamma, xtol=1e-6))


def adjusted_outcome(data: pd.DataFrame, outcome: str, covariates) -> pd.Series:
    """Residuals of the outcome on the covariates, fitted without the treatment (Rosenbaum 2002).

    Covariance adjustment for a permutation test (Rosenbaum 2002, *Statistical Science*
    17:286-327): the test is applied to what the measured covariates do not explain, fitted
    by least squares on every pupil with the outcome and covariates observed, the treatment
    left out. Categorical covariates enter as indicators. Rows with a missing value get NaN.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [0.0, 1, 2, 3]})
    >>> bool(adjusted_outcome(df, "y", ["x"]).abs().max() < 1e-12)
    True
    """
    cols = [c for c in covariates if c in data]
    frame = data[[outcome, *cols]].dropna()
    x = pd.get_dummies(frame[cols], drop_first=True, dtype=float) if cols else \
        pd.DataFrame(index=frame.index)
    x = np.column_stack([np.ones(len(frame)), x.to_numpy(dtype=float)])
    y = pd.to_numeric(frame[outcome]).to_numpy(dtype=float)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    return pd.Series(y - x @ beta, index=frame.index).reindex(data.index)


def strata_gamma(data: pd.DataFrame, outcome: str, treatment: str = "em",
                 strata: str = "subclass", direction: float = 1.0,
                 alpha: float = 0.05, covariates=()) -> tuple[float, int, int]:
    """Critical Gamma of an outcome in matched strata, with the strata and sets counted.

    Without ``covariates``, a 0/1 outcome is tested as it is (the Mantel-Haenszel statistic)
    and a point score by its M-scores within strata. With them, the outcome is first
    covariance-adjusted (:func:`adjusted_outcome`) and its residuals are M-scored, so the
    test compares EM and comparison pupils of a stratum who are alike on the covariates the
    outcome model adjusts for. Pupils without the outcome, or outside any stratum, are left
    out of this test only.

    Parameters
    ----------
    data : pandas.DataFrame
        Matched data with the ``strata`` column (MatchIt's ``subclass``), the treatment and
        the outcome.
    outcome, treatment, strata : str
        Column names.
    direction : float
        Sign of the estimate: the test looks for an effect in this direction.
    alpha : float
        One-sided level.
    covariates : sequence of str
        Covariates to adjust for (none by default).

    Returns
    -------
    (float, int, int)
        Critical Gamma (NaN when no stratum has both groups with the outcome), the number of
        strata used, and the largest number of EM pupils in one stratum.

    Examples
    --------
    >>> df = pd.DataFrame({"subclass": [1, 1, 1, 2, 2, 2], "em": [1, 0, 0, 1, 0, 0],
    ...                    "y": [5.0, 1, 2, 6, 2, 3]})
    >>> g, k, most = strata_gamma(df, "y")
    >>> k, most
    (2, 1)
    """
    missing = [c for c in covariates if c not in data]
    if missing:
        raise ValueError(f"strata_gamma: covariate(s) {missing} not in the data; expected "
                         f"some of {sorted(map(str, data.columns))[:12]}")
    covariates = [c for c in covariates if c not in (outcome, treatment)]
    work = data[[strata, treatment, outcome, *covariates]]
    if covariates:
        work = work.assign(**{outcome: adjusted_outcome(work, outcome, covariates)})
    sub = work[[strata, treatment, outcome]].dropna()
    y = pd.to_numeric(sub[outcome], errors="coerce").to_numpy(dtype=float)
    z = sub[treatment].astype(bool).astype(int).to_numpy()
    st = sub[strata].to_numpy()
    used = _prepare(np.zeros(len(y)), z, st)
    if not used:
        return float("nan"), 0, 0
    binary = set(np.unique(y)) <= {0.0, 1.0}
    sc = y if binary else mscores(y, z, st)
    alt = "less" if direction < 0 else "greater"
    try:
        gamma = gamma_critical_strata(sc, z, st, alpha, alt)
    except ValueError:   # an outcome that does not vary within strata: not assessed
        return float("nan"), len(used), max(n for _, _, n in used)
    return gamma, len(used), max(n for _, _, n in used)
