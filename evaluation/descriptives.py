"""Unadjusted outcomes by group: the descriptive analysis that comes before any model."""

from __future__ import annotations

import numpy as np
import pandas as pd


def outcome_descriptives(matched: pd.DataFrame, outcomes: list[dict],
                         treatment: str = "em", weights: str = "weights") -> pd.DataFrame:
    """Mean (share for 0/1 outcomes) and SD of each outcome, EM against comparison pupils.

    The comparison pupils' mean is given twice: as they are, and weighted by the matching
    weights (each school and year counting as much as its EM pupils), which is what the EM
    pupils are compared with before any adjustment.

    Parameters
    ----------
    matched : pandas.DataFrame
        Matched data (``MatchResult.matched_data()``), with the treatment and weights.
    outcomes : list of dict
        The plan's outcome entries (``name``, ``family``).
    treatment, weights : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        One row per outcome: ``outcome``, ``family``, ``n_em``, ``mean_em``, ``sd_em``,
        ``n_comparison``, ``mean_comparison``, ``sd_comparison``,
        ``mean_comparison_weighted``, ``difference`` (EM minus weighted comparison).

    Examples
    --------
    >>> d = pd.DataFrame({"em": [1, 1, 0, 0, 0], "y": [5.0, 7.0, 4.0, 6.0, np.nan],
    ...                   "weights": [1.0, 1.0, 1.0, 3.0, 1.0]})
    >>> t = outcome_descriptives(d, [{"name": "y", "family": "gaussian"}])
    >>> t.loc[0, ["mean_em", "mean_comparison", "mean_comparison_weighted"]].tolist()
    [6.0, 5.0, 5.5]
    >>> int(t.loc[0, "n_em"]), int(t.loc[0, "n_comparison"])
    (2, 2)
    """
    rows = []
    treated = matched[treatment].astype(bool)
    for spec in outcomes:
        name = spec["name"]
        if name not in matched:
            continue
        y = pd.to_numeric(matched[name], errors="coerce")
        ok = y.notna()
        em, comp = y[ok & treated], y[ok & ~treated]
        w = matched.loc[comp.index, weights] if weights in matched else pd.Series(1.0, comp.index)
        weighted = float(np.average(comp, weights=w)) if len(comp) and w.sum() > 0 else np.nan
        rows.append({"outcome": name, "family": spec["family"],
                     "n_em": int(len(em)), "mean_em": float(em.mean()) if len(em) else np.nan,
                     "sd_em": float(em.std()) if len(em) > 1 else np.nan,
                     "n_comparison": int(len(comp)),
                     "mean_comparison": float(comp.mean()) if len(comp) else np.nan,
                     "sd_comparison": float(comp.std()) if len(comp) > 1 else np.nan,
                     "mean_comparison_weighted": weighted})
    out = pd.DataFrame(rows)
    if len(out):
        out["difference"] = out["mean_em"] - out["mean_comparison_weighted"]
    return out
