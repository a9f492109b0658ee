"""Known-truth check: estimates and intervals against the true effects of synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["phase", "outcome", "label", "family", "true_effect", "estimate", "ci_low",
           "ci_high", "covered", "error", "p_holm"]


def truth_check(table: pd.DataFrame, truth: pd.DataFrame, phase: str) -> pd.DataFrame:
    """Set each outcome's estimate and 95% CI against the true effect on the EM pupils.

    Parameters
    ----------
    table : pandas.DataFrame
        ``ImpactResult.table()`` of the phase (estimates in points or 0-1 risk differences).
    truth : pandas.DataFrame
        ``Dataset.truth`` of a synthetic data set: ``phase``, ``outcome`` and ``effect`` (the
        average effect on the phase's EM pupils, on the scale of the estimates).
    phase : str
        The phase of ``table``.

    Returns
    -------
    pandas.DataFrame
        One row per outcome of ``table`` with a stored truth: ``phase, outcome, label, family,
        true_effect, estimate, ci_low, ci_high, covered`` (the interval contains the truth;
        missing when not estimated), ``error`` (estimate minus truth) and ``p_holm``.

    Raises
    ------
    ValueError
        If ``truth`` lacks one of the columns ``phase``, ``outcome`` or ``effect``.

    Examples
    --------
    >>> table = pd.DataFrame({"outcome": ["y"], "label": ["Points"], "family": ["gaussian"],
    ...                       "estimate": [13.0], "ci_low": [8.0], "ci_high": [18.0],
    ...                       "p_holm": [0.01]})
    >>> truth = pd.DataFrame({"phase": ["secondary"], "outcome": ["y"], "effect": [20.0]})
    >>> truth_check(table, truth, "secondary")[["true_effect", "covered", "error"]]
       true_effect  covered  error
    0         20.0    False   -7.0
    """
    missing = sorted({"phase", "outcome", "effect"} - set(truth.columns))
    if missing:
        raise ValueError(f"`truth` lacks the columns {missing}; expected the synthetic "
                         "generator's truth table (phase, outcome, effect)")
    true = truth[truth["phase"] == phase].set_index("outcome")["effect"]
    rows = table[table["outcome"].isin(true.index)]
    est, lo, hi = (rows[c].astype(float).to_numpy() for c in ("estimate", "ci_low", "ci_high"))
    effect = rows["outcome"].map(true).astype(float).to_numpy()
    known = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    covered = pd.array(np.where(known, (lo <= effect) & (effect <= hi), False), dtype="boolean")
    covered[~known] = pd.NA
    out = pd.DataFrame({
        "phase": phase, "outcome": rows["outcome"].to_numpy(), "label": rows["label"].to_numpy(),
        "family": rows["family"].to_numpy(), "true_effect": effect, "estimate": est,
        "ci_low": lo, "ci_high": hi, "covered": covered, "error": est - effect,
        "p_holm": rows["p_holm"].astype(float).to_numpy()})
    return out[COLUMNS].reset_index(drop=True)


__all__ = ["truth_check"]
