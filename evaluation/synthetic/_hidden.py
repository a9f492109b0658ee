"""The known strength of selection on the unobserved support ``w``, on the E-value's scales.

Per phase and outcome, over the analysable pupils of the linked school-cohort strata (the
Manchester design: EM pupils and the non-EM pupils of their school and cohort, prior attainment
and the outcome observed):

* ``bias_hidden``: what ``w`` adds to the untreated outcome of the EM pupils minus the same for
  their comparators weighted as exact matching on school and cohort weights them (each stratum
  counts as its EM pupils). It is the bias of a matched estimate that adjusts for everything
  observed but not ``w`` (outcome units: points, or a risk difference).
* ``rr_eu``: risk ratio of being an EM pupil for ``w`` below versus above zero (its median),
  within strata (Mantel-Haenszel; inverted when below 1, as the E-value's scale is).
* ``rr_ud``: risk ratio of the untreated outcome for ``w`` above versus below zero among the
  comparators (binary outcomes: from the generating probabilities; point scores: the
  standardised difference ``d`` converted as ``exp(0.91 d)``, VanderWeele and Ding 2017).
* ``bias_factor``: ``rr_eu * rr_ud / (rr_eu + rr_ud - 1)`` (Ding and VanderWeele 2016), the
  largest factor by which a binary confounder of those strengths could shift a risk ratio.
* ``evalue_hidden``: the E-value that bias factor corresponds to, ``B + sqrt(B (B - 1))``: a
  finding whose reported E-value is below it could be explained by the hidden selection.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.schema import OUTCOMES, PRIOR

COLUMNS = ["bias_hidden", "rr_eu", "rr_ud", "bias_factor", "evalue_hidden"]


def hidden_selection(pupils: pd.DataFrame) -> pd.DataFrame:
    """One row per phase and outcome with the columns `COLUMNS` (NaN where not estimable)."""
    rows = []
    for phase, outcomes in OUTCOMES.items():
        p = pupils[pupils["phase"] == phase]
        stratum = p["school_id"].astype(str) + "|" + p["cohort"].astype(str)
        linked = set(stratum[p["em"].to_numpy()])
        for o in outcomes:
            ok = (stratum.isin(linked) & p[PRIOR[phase]].notna() & p[o].notna()).to_numpy()
            rows.append({"phase": phase, "outcome": o,
                         **_stats(p[ok], stratum[ok].to_numpy(), o)})
    return pd.DataFrame(rows)


def _stats(p: pd.DataFrame, stratum: np.ndarray, o: str) -> dict:
    t = p["em"].to_numpy()
    if not t.any() or t.all():
        return dict.fromkeys(COLUMNS, np.nan)
    hid, y0, low = p[f"_hid_{o}"].to_numpy(), p[f"_y0_{o}"].to_numpy(), p["_w"].to_numpy() < 0
    s = pd.DataFrame({"s": stratum, "t": t, "hid": hid, "low": low})
    per = s.groupby(["s", "t"])["hid"].mean().unstack()
    n_t = s[s["t"]].groupby("s").size()
    per = per.dropna()
    n_t = n_t.reindex(per.index)
    bias = float(np.average(per[True] - per[False], weights=n_t)) if len(per) else np.nan
    # Mantel-Haenszel risk ratio of treatment, w low vs high, over strata
    g = s.groupby("s")
    a = g.apply(lambda d: (d["t"] & d["low"]).sum(), include_groups=False)
    b = g.apply(lambda d: (d["t"] & ~d["low"]).sum(), include_groups=False)
    n1, n0, n = g["low"].sum(), (~s["low"]).groupby(s["s"]).sum(), g.size()
    den = (b * n1 / n).sum()
    rr_eu = float((a * n0 / n).sum() / den) if den > 0 else np.nan
    rr_eu = max(rr_eu, 1.0 / rr_eu) if rr_eu > 0 else np.nan
    c = ~t
    hi_y, lo_y = y0[c & ~low], y0[c & low]
    if p[o].dropna().isin([0.0, 1.0]).all():
        ratio = hi_y.mean() / lo_y.mean() if lo_y.mean() > 0 else np.nan
    else:
        ratio = np.exp(0.91 * (hi_y.mean() - lo_y.mean()) / y0[c].std(ddof=1))
    rr_ud = float(max(ratio, 1.0 / ratio)) if np.isfinite(ratio) and ratio > 0 else np.nan
    bf = rr_eu * rr_ud / (rr_eu + rr_ud - 1.0)
    return {"bias_hidden": bias, "rr_eu": rr_eu, "rr_ud": rr_ud, "bias_factor": bf,
            "evalue_hidden": bf + np.sqrt(bf * (bf - 1.0)) if bf >= 1 else 1.0}
