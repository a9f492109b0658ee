"""How clustered a world is: ICCs, school FSM gaps and FSM concentration, real or synthetic.

The same measures are taken on the national school panel (`SchoolPanel`, one row per school and
exam year) and on synthetic pupils (aggregated to one row per school and cohort with
`school_table`), so the synthetic world can be checked against the real one
(``tests/test_synthetic_calibration.py``; targets and sources in ``data/README.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Published intraclass correlations used as targets where no pupil-level real data exist
#: (``reference/standards.md`` section 6): (low, high, source).
PUBLISHED_ICC = {
    "attainment": (0.15, 0.20, "Hedges and Hedberg (2007), EEPA 29(1):60-87: about 0.20 "
                                "unconditional, 0.15 with covariates (planning values)"),
    "value_added": (0.138, 0.15, "FFT Education Datalab (2020): about 15% of the variance in "
                                  "2015/16 Progress 8 between schools; London exam data "
                                  "(Goldstein et al. 1993, the multilevel textbooks' example): "
                                  "0.138 after adjusting for intake"),
}
#: Minimum pupils in each group for a school's gap to count (as in the issue and the DfE's
#: suppression of small groups).
MIN_GROUP = 10


def icc(values, groups) -> float:
    """One-way ANOVA estimate of the intraclass correlation of ``values`` within ``groups``.

    Missing values are left out; the estimator allows unequal group sizes (``n0``).

    Examples
    --------
    >>> icc([1.0, 1.2, 3.0, 3.2], ["a", "a", "b", "b"]) > 0.9
    True
    """
    d = pd.DataFrame({"y": np.asarray(values, dtype=float), "g": np.asarray(groups)}).dropna()
    g = d.groupby("g")["y"]
    n, m = g.size(), g.mean()
    k, big_n = len(n), len(d)
    msb = float((n * (m - d["y"].mean()) ** 2).sum() / (k - 1))
    msw = float(((d["y"] - d["g"].map(m)) ** 2).sum() / (big_n - k))
    n0 = (big_n - float((n ** 2).sum()) / big_n) / (k - 1)
    s2b = (msb - msw) / n0
    return s2b / (s2b + msw)


def residual_icc(pupils: pd.DataFrame, outcome: str, prior: str, covariates: list[str],
                 degree: int = 3) -> float:
    """ICC of an outcome's residual after OLS on prior attainment (powers) and covariates."""
    d = pupils.dropna(subset=[outcome, prior])
    z = (d[prior] - d[prior].mean()) / d[prior].std()
    x = pd.get_dummies(d[covariates], drop_first=True, dtype=float)
    x = pd.concat([x] + [(z ** k).rename(f"p{k}") for k in range(1, degree + 1)], axis=1)
    x.insert(0, "const", 1.0)
    y = d[outcome].to_numpy(dtype=float)
    beta, *_ = np.linalg.lstsq(x.to_numpy(dtype=float), y, rcond=None)
    return icc(y - x.to_numpy(dtype=float) @ beta, d["school_id"].to_numpy())


def school_table(pupils: pd.DataFrame, measure: str = "gcse_5ac_em",
                 prior: str = "ks2_aps") -> pd.DataFrame:
    """Synthetic pupils as a school panel: one row per school and cohort.

    Columns as `SchoolPanel.table`: ``urn, year, n_pupils, n_fsm, n_other, share_fsm, rate_all,
    rate_fsm, rate_other, gap, ks2_aps`` (rates in %, share in %; pupils with the measure).
    """
    d = pupils.dropna(subset=[measure])
    keys = [d["school_id"], d["cohort"]]
    y, f = d[measure].astype(float), d["fsm"].to_numpy()
    t = pd.DataFrame({
        "n_pupils": d.groupby(keys).size(),
        "n_fsm": pd.Series(f.astype(int), index=d.index).groupby(keys).sum(),
        "rate_all": y.groupby(keys).mean() * 100,
        "rate_fsm": y[f].groupby([k[f] for k in keys]).mean() * 100,
        "rate_other": y[~f].groupby([k[~f] for k in keys]).mean() * 100,
        "ks2_aps": d[prior].groupby(keys).mean(),
    })
    t.index.names = ["urn", "year"]
    t = t.reset_index()
    t["n_other"] = t["n_pupils"] - t["n_fsm"]
    t["share_fsm"] = 100 * t["n_fsm"] / t["n_pupils"]
    t["gap"] = t["rate_other"] - t["rate_fsm"]
    return t


def gap_summary(table: pd.DataFrame, min_group: int = MIN_GROUP) -> pd.DataFrame:
    """Per year: the school gaps' mean, SD, SD net of sampling noise, and slope on FSM share.

    Schools with at least ``min_group`` pupils in each group and a gap. ``signal_sd`` removes
    the mean binomial sampling variance of a gap (``r(1-r)/n`` per group) from its variance;
    ``slope_per_sd`` is the OLS slope of the gap (points) per SD of the school FSM share, so
    panels measuring FSM differently (ever-6 or current) compare on one scale. Also per year:
    the SD of school rates (all pupils, cohorts of 30+), of school mean KS2 points, the CV of
    school FSM shares and the share of FSM pupils in the third of schools with most of them.
    """
    rows = []
    for year, g in table.groupby("year"):
        ok = g[(g["n_fsm"] >= min_group) & (g["n_other"] >= min_group) & g["gap"].notna()]
        if not len(ok):
            continue
        gap = ok["gap"].astype(float)
        rf, ro = ok["rate_fsm"].astype(float) / 100, ok["rate_other"].astype(float) / 100
        noise = float(np.mean(rf * (1 - rf) / ok["n_fsm"].astype(float)
                              + ro * (1 - ro) / ok["n_other"].astype(float))) * 1e4
        share = ok["share_fsm"].astype(float)
        allg = g.dropna(subset=["share_fsm"]).sort_values("share_fsm", ascending=False)
        top = allg.iloc[: len(allg) // 3]
        s_all = allg["share_fsm"].astype(float)
        rows.append({
            "year": int(year), "schools": len(ok), "gap_mean": float(gap.mean()),
            "gap_sd": float(gap.std(ddof=1)),
            "signal_sd": float(np.sqrt(max(gap.var(ddof=1) - noise, 0.0))),
            "slope_per_sd": float(np.polyfit(share / share.std(ddof=1), gap, 1)[0]),
            "share_cv": float(s_all.std(ddof=1) / s_all.mean()),
            "fsm_in_top_third": float(top["n_fsm"].astype(float).sum()
                                      / allg["n_fsm"].astype(float).sum()),
            "rate_sd": float(g.loc[g["n_pupils"] >= 30, "rate_all"].astype(float).std(ddof=1)),
            "prior_sd": float(g["ks2_aps"].astype(float).std(ddof=1)),
        })
    return pd.DataFrame(rows)
