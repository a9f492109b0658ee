"""Covariate balance before and after matching, as MatchIt's summary computes it; WWC bands."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.factors import is_categorical, levels

_SQRT_EPS = np.sqrt(np.finfo(float).eps)
#: Decimals of a standardised mean difference wherever a reader sees one (table, plot,
#: text): drawn finer, an SMD with the groups' sizes gives back the pupils having a
#: characteristic (eighth review of issue 14: the love plot's SVG gave them to 1e-8).
SMD_DECIMALS = 2
#: What Works Clearinghouse baseline-equivalence bands on |SMD| (upper bound, verdict).
WWC_BANDS = ((0.05, "satisfies"), (0.25, "requires adjustment"), (np.inf, "does not satisfy"))
SUMMARY_COLUMNS = {"mean_treated": "Means Treated", "mean_control": "Means Control",
                   "smd": "Std. Mean Diff.", "var_ratio": "Var. Ratio",
                   "ecdf_mean": "eCDF Mean", "ecdf_max": "eCDF Max"}


def wwc_band(smd: float) -> str:
    """Return the What Works Clearinghouse baseline-equivalence verdict for an SMD.

    Examples
    --------
    >>> wwc_band(0.05), wwc_band(-0.2), wwc_band(0.3)
    ('satisfies', 'requires adjustment', 'does not satisfy')
    """
    if smd is None or not np.isfinite(smd):
        return ""
    return next(label for bound, label in WWC_BANDS if abs(smd) <= bound)


def _wvar(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    """MatchIt's ``wvar``: p(1-p) for binary, else the unbiased weighted variance."""
    w = w / w.sum()
    m = np.sum(w * x)
    if binary:
        return m * (1 - m)
    with np.errstate(invalid="ignore", divide="ignore"):   # one unit: NaN, as R's NA
        return np.sum(w * (x - m) ** 2) / (1 - np.sum(w ** 2))


def _pooled_sd(x: np.ndarray, t: np.ndarray, binary: bool, s: np.ndarray | None = None
               ) -> float:
    """MatchIt's ``pooled_sd`` (proportional contribution; sampling weights ``s``).

    Without ``s`` the sampling weights are ones, as ``summary.matchit`` always passes them
    (MatchIt's unweighted branch, dividing by n - 2, is never reached from its summary):
    the weighted formula, whose denominator is n - 1 for unit weights.
    """
    if s is None:
        s = np.ones(len(x))
    groups = [g for g in (True, False) if (t == g).any()]   # R: unique(t)
    if binary:
        return np.sqrt(sum(np.sum(x[t == g] * s[t == g])
                           * (1 - np.sum(x[t == g] * s[t == g]) / s[t == g].sum())
                           / s.sum() for g in groups))
    centred = x.astype(float).copy()
    for g in groups:
        centred[t == g] -= np.sum(x[t == g] * s[t == g]) / s[t == g].sum()
    wn = s / s.sum()
    return np.sqrt(np.sum(wn * centred ** 2) / (1 - np.sum(wn ** 2)))


def _ecdf(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Mean and max absolute difference of the weighted eCDFs (MatchIt's ``qqsum``)."""
    w = w.astype(float).copy()
    for g in (True, False):
        w[t == g] /= w[t == g].sum()
    order = np.argsort(x, kind="stable")
    xs, ws, ts = x[order], w[order], t[order]
    signed = np.where(ts == ts[0], -ws, ws)
    at = np.append(np.diff(xs) != 0, True)
    diff = np.abs(np.cumsum(signed))[at]
    return float(diff.mean()), float(diff.max())


#: SD in the SMD's denominator per estimand (MatchIt's summary: ``s.d.denom``).
SD_DENOMINATORS = {"ATT": "treated", "ATC": "control", "ATE": "pooled"}


def _denominator(x: np.ndarray, t: np.ndarray, binary: bool, kind: str, s: np.ndarray
                 ) -> float:
    """MatchIt's standardising SD: one group's, or the mean of both groups' variances.

    Weighted by the sampling weights ``s`` (ones without), never by matching weights.
    """
    if kind == "pooled":
        return float(np.sqrt((_wvar(x[t], s[t], binary) + _wvar(x[~t], s[~t], binary)) / 2))
    g = t if kind == "treated" else ~t
    return float(np.sqrt(_wvar(x[g], s[g], binary)))


def _one(x: np.ndarray, t: np.ndarray, w: np.ndarray, denominator: str = "treated",
         s: np.ndarray | None = None) -> dict:
    """MatchIt's ``bal1var`` (standardised) for one numeric column.

    ``w``: the weights of the means, variance ratio and eCDFs (matching weights times
    sampling weights); ``s``: the sampling weights of the SMD's denominator.
    """
    binary = bool(np.all((x == 0) | (x == 1)))
    mt = np.sum(x[t] * w[t]) / w[t].sum()
    mc = np.sum(x[~t] * w[~t]) / w[~t].sum()
    diff = mt - mc
    too_small = (w[t] != 0).sum() < 2 and (w[~t] != 0).sum() < 2
    smd = vr = sd = np.nan
    if abs(diff) <= _SQRT_EPS:
        smd = diff
    elif not too_small:
        sd = _denominator(x, t, binary, denominator, np.ones(len(x)) if s is None else s)
        if not np.isfinite(sd) or sd < _SQRT_EPS:
            sd = _pooled_sd(x, t, binary, s)
        smd = diff / sd
    if binary:
        em = ex = abs(diff)
    elif too_small:
        em = ex = np.nan
    else:
        vr = _wvar(x[t], w[t], False) / _wvar(x[~t], w[~t], False)
        em, ex = _ecdf(x, t, w)
    return {"mean_treated": mt, "mean_control": mc, "smd": smd, "var_ratio": vr,
            "ecdf_mean": em, "ecdf_max": ex, "sd": sd, "too_small": too_small}


def _columns(data: pd.DataFrame, covariates: list[str]):
    """(variable, level, type, values) for each covariate or categorical level."""
    for c in covariates:
        s = data[c]
        if is_categorical(s):
            for lv in levels(s):
                yield c, str(lv), "categorical", (s == lv).to_numpy(float), s.isna().to_numpy()
        else:
            kind = "binary" if pd.api.types.is_bool_dtype(s) or set(
                pd.unique(s.dropna())) <= {0, 1} else "continuous"
            yield c, None, kind, s.to_numpy(float), s.isna().to_numpy()


def balance_table(data: pd.DataFrame, treatment: str, covariates: list[str],
                  weights: pd.Series | np.ndarray | None = None,
                  s_d_denominator: str = "treated",
                  s_weights: pd.Series | np.ndarray | None = None) -> pd.DataFrame:
    """Balance statistics of each covariate (and each level of a categorical one).

    Computed as MatchIt's ``summary.matchit`` with ``standardize = TRUE`` for the ATT: means
    weighted by ``weights``; the standardised mean difference divided by the standard
    deviation of the treated group in ``data`` *unweighted* (so before and after matching
    share one denominator; binary variables use sqrt(p(1 - p))); the variance ratio
    treated / control (weighted; not for binary variables); the mean and maximum distance
    between the weighted empirical CDFs (for binary variables both equal the absolute
    difference in proportions). Rows with a missing value of a covariate are left out of
    that covariate's statistics and counted in ``n_missing``.

    Parameters
    ----------
    data : pandas.DataFrame
        Data (not modified).
    treatment : str
        Boolean treatment column.
    covariates : list of str
        Columns; strings / categoricals give one row per level.
    weights : array-like, optional
        Matching weights aligned to ``data`` (units with weight 0 count as unmatched).
    s_d_denominator : {"treated", "control", "pooled"}, default "treated"
        SD in the denominator of the SMD: the treated group's (ATT), the control group's
        (ATC) or the square root of the mean of the two groups' variances (ATE), as
        MatchIt's ``s.d.denom``.
    s_weights : array-like, optional
        Sampling weights (MatchIt's ``s.weights``): they multiply ``weights`` in the means,
        variance ratio and eCDFs, and weight the standard deviation of the SMD.

    Returns
    -------
    pandas.DataFrame
        Columns variable, level, type, mean_treated, mean_control, smd, var_ratio,
        ecdf_mean, ecdf_max, wwc_band, n_missing.

    Examples
    --------
    >>> d = pd.DataFrame({"em": [True, True, False, False], "x": [1.0, 2.0, 2.0, 3.0]})
    >>> float(balance_table(d, "em", ["x"])["smd"].iloc[0])
    -1.414213562373095
    """
    if s_d_denominator not in SD_DENOMINATORS.values():
        raise ValueError(f"`s_d_denominator` should be one of {list(SD_DENOMINATORS.values())}"
                         f"; got {s_d_denominator!r}")
    missing = [c for c in [treatment, *covariates] if c not in data.columns]
    if missing:
        raise KeyError(f"balance_table: column(s) {missing} are not in `data`")
    t_all = data[treatment].to_numpy().astype(bool)
    w_all = np.ones(len(data)) if weights is None else np.asarray(weights, float)
    s_all = None if s_weights is None else np.asarray(s_weights, float)
    if s_all is not None:
        w_all = w_all * s_all
    rows = []
    for var, level, kind, x, na in _columns(data, covariates):
        ok = ~na
        stats = _one(x[ok], t_all[ok], w_all[ok], s_d_denominator,
                     None if s_all is None else s_all[ok])
        stats.pop("sd"), stats.pop("too_small")
        rows.append({"variable": var, "level": level, "type": kind, **stats,
                     "wwc_band": wwc_band(stats["smd"]), "n_missing": int(na.sum())})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class BalanceSummary:
    """Balance before and after matching.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy: :func:`balance_table` columns plus ``stage`` ("before" / "after").
    counts : pandas.DataFrame
        Sample sizes (MatchResult.counts).
    distance : pandas.DataFrame or None
        The distance's row before / after (MatchIt prints it first), when there is one.
    method : str
        Matching method.
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    distance: pd.DataFrame | None = field(default=None, repr=False)
    method: str = ""
    bool_variables: tuple = ()
    pair_dist: pd.Series | None = field(default=None, repr=False)
    sample_sizes: pd.DataFrame | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """Wide table in MatchIt's ``summary.matchit`` layout (All data | Matched data).

        Returns
        -------
        pandas.DataFrame
            Rows named as MatchIt names them (``distance``, ``x``, ``fsmTRUE``,
            ``sensupport``...); the matched data also carry MatchIt's ``Std. Pair Dist.``
            (mean absolute within-pair, or within-subclass, difference over the SMD's
            denominator); ``attrs["sample_sizes"]`` holds MatchIt's sample-size table
            (All (ESS), All, Matched (ESS), Matched, Unmatched, Discarded).

        Examples
        --------
        >>> balance(result).summary()  # doctest: +SKIP
        """
        parts = [self.table] if self.distance is None else [self.distance, self.table]
        tab = pd.concat(parts, ignore_index=True)
        tab = tab.assign(row=_row_names(tab, self.bool_variables))
        wide = {}
        for stage, label in (("before", "All data"), ("after", "Matched data")):
            part = tab[tab["stage"] == stage].set_index("row")[list(SUMMARY_COLUMNS)]
            wide[label] = part.rename(columns=SUMMARY_COLUMNS)
        if self.pair_dist is not None:
            wide["Matched data"] = wide["Matched data"].assign(
                **{"Std. Pair Dist.": self.pair_dist.reindex(wide["Matched data"].index)})
        out = pd.concat(wide, axis=1)
        out.index.name = None
        out.attrs["sample_sizes"] = (self.sample_sizes if self.sample_sizes is not None
                                     else self.counts)
        return out

    def _repr_html_(self) -> str:
        return (self.summary().round(4).to_html(caption="Balance (MatchIt layout)")
                + self.counts.to_html(caption="Sample sizes"))


def _row_names(tab: pd.DataFrame, bool_variables) -> list[str]:
    """MatchIt's row names: ``x``, ``<factor><level>``, ``<logical>TRUE``."""
    names = [v if lv is None or pd.isna(lv) else f"{v}{lv}" for v, lv in
             zip(tab["variable"], tab["level"], strict=True)]
    return [f"{n}TRUE" if n in bool_variables else n for n in names]


def _mean_cross_pair_gap(x: np.ndarray, t: np.ndarray, sub: np.ndarray) -> float:
    """Mean |x_t - x_c| over all treated-control pairs sharing a subclass (pairdistsubC)."""
    has = ~np.isnan(sub)
    x, t, sub = x[has], t[has], sub[has]
    order = np.lexsort((x, sub))
    x, t, sub = x[order], t[order], sub[order]
    start = np.r_[True, sub[1:] != sub[:-1]]
    group = np.cumsum(start) - 1
    total = 0.0
    pairs = 0.0
    for g in (True, False):   # each pair counted once, by its later member in the sort
        is_other = (t != g).astype(float)
        cnt = np.cumsum(is_other) - is_other
        sm = np.cumsum(x * is_other) - x * is_other
        first = np.flatnonzero(start)
        cnt = cnt - cnt[first][group]
        sm = sm - sm[first][group]
        mine = t == g
        total += float(np.sum(x[mine] * cnt[mine] - sm[mine]))
        pairs += float(np.sum(cnt[mine]))
    return total / pairs if pairs else np.nan


def _mean_matrix_gap(x: np.ndarray, focal_rows: np.ndarray, mm: np.ndarray) -> float:
    """Mean |x_focal - x_match| over the entries of the match matrix (no subclasses)."""
    rows, cols = np.nonzero(mm >= 0)
    return float(np.mean(np.abs(x[focal_rows[rows]] - x[mm[rows, cols]]))) if len(rows) \
        else np.nan


def _pair_distances(result, data: pd.DataFrame, covs: list[str], denominator: str
                    ) -> pd.Series:
    """MatchIt's ``Std. Pair Dist.`` of every summary row (``pair.dist`` in bal1var)."""
    t = data[result.treatment].to_numpy().astype(bool)
    w = result.weights.to_numpy()
    sw = None if result.s_weights is None else result.s_weights.to_numpy()
    sub = result.subclass.to_numpy(dtype=float, na_value=np.nan)
    use_sub = bool(np.any(~np.isnan(sub)))
    mm = result.match_matrix
    if (not use_sub and mm is None) or result.method == "subclass":
        return pd.Series(dtype=float)   # MatchIt's summary of subclasses reports none
    focal = t if result.spec.get("focal", "treated") == "treated" else ~t
    focal_rows = np.flatnonzero(focal)
    cols = list(_columns(data, covs))
    values = [("distance", None, result.distance.to_numpy())] if result.distance is not None \
        else []
    values += [(v, lv, x) for v, lv, _, x, _ in cols]
    out = {}
    bools = tuple(c for c in covs if pd.api.types.is_bool_dtype(data[c]))
    for var, level, x in values:
        if np.isnan(x).any():
            continue
        name = _row_names(pd.DataFrame({"variable": [var], "level": [level]}), bools)[0]
        stats = _one(x, t, w if sw is None else w * sw, denominator, sw)
        if stats["too_small"] and abs(stats["mean_treated"] - stats["mean_control"]) \
                > _SQRT_EPS:
            out[name] = np.nan
            continue
        gap = (_mean_cross_pair_gap(x, t, sub) if use_sub
               else _mean_matrix_gap(x, focal_rows, mm))
        sd = stats["sd"]
        out[name] = gap / sd if np.isfinite(sd) and abs(gap) > 1e-8 else gap
    return pd.Series(out, dtype=float)


def _x_variables(result) -> list[str]:
    """MatchIt's ``X`` (its summary's variables); the covariates for other objects."""
    return list(getattr(result, "x_variables", result.covariates))


def balance(result, covariates: list[str] | None = None) -> BalanceSummary:
    """Balance before and after matching for a :class:`~evaluation.matching.MatchResult`.

    Parameters
    ----------
    result : MatchResult
        A match.
    covariates : list of str, optional
        Columns of the matched data to check (default: MatchIt's ``X``, the covariates then
        the other variables named in ``exact``, ``mahvars``, the caliper and ``antiexact``:
        ``MatchResult.x_variables``). They need not have been matched on: the Manchester
        design matches on school and cohort only and checks balance on every model
        covariate.

    Returns
    -------
    BalanceSummary

    Examples
    --------
    >>> balance(result, ["fsm", "sen"]).table  # doctest: +SKIP
    """
    covs = list(covariates or _x_variables(result))
    data, t = result.data, result.treatment
    denominator = SD_DENOMINATORS[result.spec.get("estimand", "ATT")]
    sw = None if result.s_weights is None else result.s_weights.to_numpy()
    parts = []
    for stage, w in (("before", None), ("after", result.weights.to_numpy())):
        tab = balance_table(data, t, covs, weights=w, s_d_denominator=denominator,
                            s_weights=sw)
        tab.insert(0, "stage", stage)
        parts.append(tab)
    table = pd.concat(parts, ignore_index=True)
    dist = None
    if result.distance is not None:
        frame = pd.DataFrame({t: data[t].to_numpy(), "distance": result.distance.to_numpy()})
        dist = pd.concat([balance_table(frame, t, ["distance"], weights=w,
                                        s_d_denominator=denominator,
                                        s_weights=sw).assign(stage=s)
                          for s, w in (("before", None), ("after", result.weights.to_numpy()))],
                         ignore_index=True)
    bools = tuple(c for c in covs if pd.api.types.is_bool_dtype(data[c]))
    return BalanceSummary(table, result.counts, dist, result.method, bools,
                          _pair_distances(result, data, covs, denominator),
                          result.sample_sizes())


def _one_in_subclass(x: np.ndarray, t: np.ndarray, s: np.ndarray, inside: np.ndarray,
                     denominator: str) -> dict:
    """MatchIt's ``bal1var.subclass`` for the units ``inside`` a subclass.

    Means, variance ratio and eCDFs of the subclass's units (sampling weights only). The SD
    of the SMD is the subclass's treated (control) units' for the ATT (ATC) and the whole
    sample's pooled SD for the ATE; the fallback for a zero SD is the whole sample's, as in
    MatchIt's code; a difference is standardised only above 1e-8.
    """
    binary = bool(np.all((x == 0) | (x == 1)))
    xi, ti, si = x[inside], t[inside], s[inside]
    mt = np.sum(xi[ti] * si[ti]) / si[ti].sum() if ti.any() else np.nan
    mc = np.sum(xi[~ti] * si[~ti]) / si[~ti].sum() if (~ti).any() else np.nan
    diff = mt - mc
    too_small = ti.sum() < 2 and (~ti).sum() < 2
    smd = vr = np.nan
    if abs(diff) > 1e-8:
        if not too_small:
            sd = (_denominator(x, t, binary, "pooled", s) if denominator == "pooled"
                  else _denominator(xi, ti, binary, denominator, si))
            if not np.isfinite(sd) or sd < _SQRT_EPS:
                sd = _pooled_sd(x, t, binary, s)
            smd = diff / sd
    else:
        smd = diff
    if binary:
        em = ex = abs(diff)
    elif too_small:
        em = ex = np.nan
    else:
        vr = _wvar(xi[ti], si[ti], False) / _wvar(xi[~ti], si[~ti], False)
        em, ex = _ecdf(xi, ti, np.ones(len(xi)))
    return {"mean_treated": mt, "mean_control": mc, "smd": smd, "var_ratio": vr,
            "ecdf_mean": em, "ecdf_max": ex}


def subclass_balance(result, covariates: list[str] | None = None) -> pd.DataFrame:
    """Balance within each subclass, as MatchIt's ``summary(m, subclass = TRUE)``.

    Parameters
    ----------
    result : MatchResult
        A match with subclasses (``method="subclass"``; any method whose result has them).
    covariates : list of str, optional
        Columns to check (default: MatchIt's ``X``, ``MatchResult.x_variables``).

    Returns
    -------
    pandas.DataFrame
        Index (``"Subclass k"``, row name as in :meth:`BalanceSummary.summary`), columns
        Means Treated, Means Control, Std. Mean Diff., Var. Ratio, eCDF Mean, eCDF Max.

    Raises
    ------
    ValueError
        If the result has no subclasses.

    Examples
    --------
    >>> subclass_balance(result).loc["Subclass 1"]  # doctest: +SKIP
    """
    sub = result.subclass.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(sub).all():
        raise ValueError(f"method={result.method!r} made no subclasses; per-subclass "
                         "balance needs them (method='subclass', 'exact' or 'cem')")
    covs = list(covariates or _x_variables(result))
    data = result.data
    t_all = data[result.treatment].to_numpy().astype(bool)
    s_all = (np.ones(len(data)) if result.s_weights is None
             else result.s_weights.to_numpy())
    denominator = SD_DENOMINATORS[result.spec.get("estimand", "ATT")]
    values = ([("distance", None, result.distance.to_numpy())]
              if result.distance is not None else [])
    values += [(v, lv, x) for v, lv, _, x, _ in _columns(data, covs)]
    bools = tuple(c for c in covs if pd.api.types.is_bool_dtype(data[c]))
    names = _row_names(pd.DataFrame({"variable": [v for v, _, _ in values],
                                     "level": [lv for _, lv, _ in values]}), bools)
    parts = {}
    for k in np.unique(sub[~np.isnan(sub)]).astype(int):
        inside = sub == k
        rows = {name: _one_in_subclass(x, t_all, s_all, inside, denominator)
                for name, (_, _, x) in zip(names, values, strict=True)}
        parts[f"Subclass {k}"] = pd.DataFrame(rows).T.rename(columns=SUMMARY_COLUMNS)
    return pd.concat(parts)


def subclass_sizes(result) -> pd.DataFrame:
    """Sample sizes by subclass, as MatchIt's ``summary(m, subclass = TRUE)$qn``.

    Rows Control, Treated, Total; a column per subclass, then ``Unmatched`` and
    ``Discarded`` when there are such units, then ``All``.

    Examples
    --------
    >>> subclass_sizes(result)  # doctest: +SKIP
    """
    sub = result.subclass.to_numpy(dtype=float, na_value=np.nan)
    t = result.data[result.treatment].to_numpy().astype(bool)
    disc = result.discarded.to_numpy()
    cols = {}
    for k in np.unique(sub[~np.isnan(sub) & ~disc]).astype(int):
        cols[str(k)] = [int(((sub == k) & ~disc & ~t).sum()), int(((sub == k) & ~disc & t).sum())]
    unmatched = np.isnan(sub) & ~disc
    if unmatched.any():
        cols["Unmatched"] = [int((unmatched & ~t).sum()), int((unmatched & t).sum())]
    if disc.any():
        cols["Discarded"] = [int((disc & ~t).sum()), int((disc & t).sum())]
    out = pd.DataFrame(cols, index=["Control", "Treated"])
    out.loc["Total"] = out.sum()
    out["All"] = out.sum(axis=1)
    return out


def balance_row_keys(table: pd.DataFrame) -> list[tuple]:
    """Return each "before" row's characteristic: ``(variable, level)``, in the rows' order.

    The same characteristic in two reports' balance tables has the same key (a report's
    :attr:`~evaluation.results.PhaseResult.balance_withheld` is in this order).

    Examples
    --------
    >>> d = pd.DataFrame({"em": [True, True, False, False], "fsm": [1, 0, 0, 1]})
    >>> balance_row_keys(balance_table(d, "em", ["fsm"]).assign(stage="before"))
    [('fsm', '')]
    """
    before = table[table["stage"] == "before"]
    return [(str(v), "" if pd.isna(lv) else str(lv))
            for v, lv in zip(before["variable"], before["level"], strict=True)]


def small_group_rows(table: pd.DataFrame, data: pd.DataFrame, matched: pd.DataFrame,
                     threshold: int, treatment: str = "em") -> np.ndarray:
    """Per row of ``table`` at the "before" stage: whether its groups are too small to show.

    The standardised difference of a yes/no characteristic (or a level of a categorical one)
    is a function of the shares having it; with the group's size shown, a share gives the
    pupils having it (review of issue 14: an SMD gave 18 FSM of 22 EM pupils). A row is
    withheld, in its table and in every sentence quoting balance, when in the sample or the
    matched sample the treated or the control pupils having it, or lacking it, are fewer than
    ``threshold``, none included: a group all of whose pupils have it (or lack it) is an
    attribute disclosure (fifth review: an SMD of 1.39 beside 13 and 74 pupils could only be
    13 of 13 EM pupils FSM; ACRO's ``PresenceOfZeroCheck``).

    Examples
    --------
    >>> d = pd.DataFrame({"em": [True] * 12 + [False] * 12, "fsm": [1] * 11 + [0] * 13,
    ...                   "age": range(24)})
    >>> tab = balance_table(d, "em", ["fsm", "age"]).assign(stage="before")
    >>> small_group_rows(tab, d, d, 10).tolist()
    [True, False]
    """
    before = table[table["stage"] == "before"]
    out = []
    for r in before.itertuples(index=False):
        if r.type not in ("binary", "categorical"):
            out.append(False)
            continue
        flag = False
        for frame in (data, matched):
            v = frame[r.variable]
            has = (v.astype(str) == str(r.level)) if r.type == "categorical" else \
                v.astype(float).eq(1.0)
            treated = frame[treatment].astype(bool)
            for grp in (treated, ~treated):
                for n in (int((has & grp).sum()), int((~has & grp & v.notna()).sum())):
                    flag |= n < threshold
        out.append(flag)
    return np.array(out, dtype=bool)
