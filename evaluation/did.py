"""Difference-in-differences and event studies on school panels, school-clustered intervals."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.exceptions import DataError, NotEstimableError


@dataclass(frozen=True)
class EventStudy:
    """Two-way fixed-effects event study (and its pooled difference-in-differences).

    Model: ``y_it = a_i + l_t + sum_k b_k * treated_i * 1[t = k] + e_it`` for every year
    ``k`` but the reference year (the last year before support), weighted least squares with
    the matching weights; ``did`` is the same model with one term ``treated_i * post_t``.
    Standard errors are clustered by school (CRV1): ``G/(G-1) * (N-1)/(N-K)`` times the
    sandwich, with ``K`` the number of coefficients plus the levels of the fixed effects not
    nested in the clusters (the years; school effects are nested in school clusters), as
    ``pyfixest.feols`` counts them by default (checked to 1e-6 on a fixture it made);
    intervals and p-values use the t distribution with ``G - 1`` degrees of freedom.

    Attributes
    ----------
    outcome, reference : str, int
        Outcome column and reference year.
    table : pandas.DataFrame
        ``term, year, estimate, se, lower, upper, p`` for each year against the reference
        (pre-support years: placebo checks; post-support years: effects).
    did : dict
        ``estimate, se, lower, upper, p`` of the pooled post-support effect.
    n_obs, n_schools, n_treated : int
        School-years and schools in the fit, treated schools.
    dropped : int
        School-years without the outcome (counted, not in the fit).

    Examples
    --------
    >>> d = pd.DataFrame({"urn": list("aabbccdd"), "year": [1, 2] * 4,
    ...                   "treated": [1, 1, 1, 1, 0, 0, 0, 0],
    ...                   "y": [1.0, 3.0, 2.0, 3.5, 1.0, 1.5, 2.0, 2.0]})
    >>> round(event_study(d, "y", support_year=2).did["estimate"], 3)
    1.5
    """

    outcome: str
    reference: int
    table: pd.DataFrame = field(repr=False)
    did: dict
    n_obs: int
    n_schools: int
    n_treated: int
    dropped: int = 0
    alpha: float = 0.05

    def summary(self) -> pd.DataFrame:
        """Event-study rows and the pooled effect in one table."""
        pooled = pd.DataFrame([{"term": "after support (pooled)", "year": np.nan, **self.did}])
        return pd.concat([self.table, pooled], ignore_index=True)

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(self.outcome)}: {self.n_treated} supported of "
                f"{self.n_schools} schools, {self.n_obs} school-years; reference year "
                f"{self.reference}</p>" + self.summary().to_html(index=False, border=0,
                                                                 float_format="{:z.3f}".format))


def _fit(y, terms, units, years, w, cluster, alpha):
    """WLS with unit and year dummies; CRV1 covariance of the ``terms`` coefficients."""
    u = pd.get_dummies(units).to_numpy(float)
    t = pd.get_dummies(years).to_numpy(float)[:, 1:]
    x = np.column_stack([terms, u, t])
    sw = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    resid = y - x @ beta
    xtwx = (x * w[:, None]).T @ x
    bread = np.linalg.pinv(xtwx)
    scores = pd.DataFrame(x * (w * resid)[:, None]).groupby(cluster.to_numpy()).sum().to_numpy()
    meat = scores.T @ scores
    # K: the coefficients plus the levels of every fixed effect not nested in the cluster
    # (the years; school effects are nested in school clusters), as pyfixest counts them
    n, k, g = len(y), terms.shape[1], len(np.unique(cluster))
    adj = g / (g - 1) * (n - 1) / (n - k - t.shape[1] - 1)
    vcov = adj * bread @ meat @ bread
    est = beta[:k]
    se = np.sqrt(np.diag(vcov)[:k])
    crit = stats.t.ppf(1 - alpha / 2, g - 1)
    p = 2 * stats.t.sf(np.abs(est / se), g - 1)
    return est, se, est - crit * se, est + crit * se, p


def event_study(data: pd.DataFrame, outcome: str, support_year: int,
                treated: str = "treated", unit: str = "urn", time: str = "year",
                weights: str | None = None, reference: int | None = None,
                alpha: float = 0.05) -> EventStudy:
    """Estimate an event study and a difference-in-differences with school-clustered SEs.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel: one row per school and year. Not modified.
    outcome : str
        Outcome column; rows where it is missing are counted in ``dropped``.
    support_year : int
        First year after support began (years from it on are "post").
    treated, unit, time : str
        Columns: treatment indicator (0/1 or bool), school id (also the cluster), year.
    weights : str, optional
        Column of weights (e.g. matching weights); rows with weight 0 are left out.
    reference : int, optional
        Reference year (default: the last year before ``support_year`` with the outcome).
    alpha : float
        1 - confidence level.

    Returns
    -------
    EventStudy

    Raises
    ------
    DataError
        Missing columns or duplicate school-years.
    NotEstimableError
        No pre- or post-support year with the outcome, or fewer than two treated or
        comparison schools.
    """
    cols = [unit, time, treated, outcome] + ([weights] if weights else [])
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(f"event_study: columns {missing} not in the data; have "
                        f"{list(data.columns)[:15]}")
    d = data[cols].copy()
    dup = d.duplicated([unit, time])
    if dup.any():
        raise DataError(f"event_study: {int(dup.sum())} duplicate ({unit}, {time}) rows, e.g. "
                        f"{d.loc[dup, [unit, time]].head(3).values.tolist()}")
    w = d[weights].astype(float) if weights else pd.Series(1.0, index=d.index)
    keep = d[outcome].notna() & (w > 0)
    dropped = int((d[outcome].isna() & (w > 0)).sum())
    d, w = d[keep], w[keep]
    years = sorted(d[time].unique())
    pre = [y for y in years if y < support_year]
    post = [y for y in years if y >= support_year]
    if not pre or not post:
        raise NotEstimableError(f"event_study: {outcome!r} needs years before and from "
                                f"{support_year}; has {years}")
    reference = reference if reference is not None else pre[-1]
    tr = d[treated].astype(bool).to_numpy()
    groups = d.groupby(unit)[treated].first().astype(bool)
    if groups.sum() < 2 or (~groups).sum() < 2:
        raise NotEstimableError(f"event_study: {outcome!r} has {int(groups.sum())} supported "
                                f"and {int((~groups).sum())} comparison schools; need 2 each")
    terms_years = [yr for yr in years if yr != reference]
    yv, tv = d[outcome].to_numpy(float), d[time].to_numpy()
    ev = np.column_stack([(tr & (tv == yr)).astype(float) for yr in terms_years])
    args = (d[unit], d[time], w.to_numpy(float), d[unit], alpha)
    est, se, lo, hi, p = _fit(yv, ev, *args)
    table = pd.DataFrame({"term": [f"supported x {yr}" for yr in terms_years],
                          "year": terms_years, "estimate": est, "se": se, "lower": lo,
                          "upper": hi, "p": p})
    post_term = (tr & (tv >= support_year)).astype(float)[:, None]
    e2, s2, l2, h2, p2 = _fit(yv, post_term, *args)
    did = {"estimate": float(e2[0]), "se": float(s2[0]), "lower": float(l2[0]),
           "upper": float(h2[0]), "p": float(p2[0])}
    return EventStudy(outcome, int(reference), table, did, len(d), int(len(groups)),
                      int(groups.sum()), dropped, alpha)
