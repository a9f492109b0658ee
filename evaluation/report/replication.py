"""The replication of DFE-RR133: the published sample and result against ours; known truth."""

from __future__ import annotations

import pandas as pd

from evaluation.disclosure import safe_count
from evaluation.numbers import signed
from evaluation.report.display import Section
from evaluation.report.tables import (
    effect_text,
    informative,
    informative_mask,
    marker,
    safe_table,
    scale,
    threshold,
    withheld,
)
from evaluation.results import EvaluationResult

#: What the DFE-RR133 research brief reports about its quantitative sample and results.
PUBLISHED = {
    "EM pupils analysed": 196,
    "EM schools (secondary + primary)": "11 (9 + 2)",
    "comparison pupils": 4794,
    "statistically significant outcomes": "GCSE points score (EM pupils higher)",
}


def replication(res: EvaluationResult) -> Section:
    """Show the replication of DFE-RR133: the published sample and result against ours."""
    sec, pri = res.phases.get("secondary"), res.phases.get("primary")
    n_sec = sec.sample.n_schools if sec else 0
    n_pri = pri.sample.n_schools if pri else 0
    alpha = float(res.plan.section("inference")["alpha"])
    significant = []
    for pe in res.phases.values():
        if pe.estimable:
            t = pe.impact.table()
            keep = (t["p_holm"] < alpha) & informative_mask(t)
            significant += t.loc[keep, "label"].tolist()
    t = threshold(res.plan)
    # the phases' sum gives a withheld phase away beside the other phase's count
    total = {who: marker(res.plan) if any(withheld(res, p, who) for p in res.phases) else
             safe_count(n, t) for who, n in (("em", res.n_em), ("comparison", res.n_comparison))}
    ours = {
        "EM pupils analysed": total["em"],
        "EM schools (secondary + primary)": f"{res.n_em_schools} ({n_sec} + {n_pri})",
        "comparison pupils": total["comparison"],
        "statistically significant outcomes": "; ".join(significant) or "none",
    }
    df = pd.DataFrame({"": list(PUBLISHED), "DFE-RR133 (2011)": [
        f"{v:,}" if isinstance(v, int) else v for v in PUBLISHED.values()],
        "This replication": [ours[k] for k in PUBLISHED]})
    note = ("The published evaluation compared EM pupils with pupils from the same schools using "
            "descriptive analysis and generalised linear models, found one statistically "
            "significant difference (GCSE points, in favour of EM pupils), and called its results "
            "indicative because the sample was small. Significance here is after Holm adjustment "
            "across each phase's pre-specified outcomes.")
    return Section("Replication of DFE-RR133", "replication",
                   [note, safe_table(res.plan, df), *known_truth(res)])


def known_truth(res: EvaluationResult) -> list:
    """Synthetic data only: each estimate and its 95% CI against the stored true effect.

    Only informative intervals are counted: an interval spanning the outcome's whole range
    contains any truth and proves nothing.
    """
    check = res.truth
    if check is None or check.empty:
        return []
    units = check["family"].map({"gaussian": "points"}).fillna("percentage points")
    rows = check.to_dict("records")
    judged_mask = [informative(r) and pd.notna(r["covered"]) for r in rows]
    df = pd.DataFrame({
        "Phase": check["phase"].str.capitalize(), "Outcome": check["label"],
        "EM pupils": check["n_em"].fillna(0).astype(int),
        "Comparison pupils": check["n_comparison"].fillna(0).astype(int),
        "True effect": [f"{signed(r['true_effect'] * scale(r['family']), 1)} {u}"
                        for r, u in zip(rows, units, strict=True)],
        "Estimate (95% CI)": [effect_text(r) for r in rows],
        "Interval contains the truth": [("yes" if r["covered"] else "no") if ok else
                                        "not judged" for r, ok in zip(rows, judged_mask,
                                                                      strict=True)],
    })
    rests = ["EM pupils", "Comparison pupils"]
    table = safe_table(res.plan, df, {"EM pupils": "EM pupils",
                                      "Comparison pupils": "Comparison pupils",
                                      "Estimate (95% CI)": rests,
                                      "Interval contains the truth": rests},
                       hide={col: [withheld(res, p, who) for p in check["phase"]]
                             for col, who in (("EM pupils", "em"),
                                              ("Comparison pupils", "comparison"))})
    shown = ((check[["n_em", "n_comparison"]].fillna(0) >= threshold(res.plan)).all(axis=1)
             & ~check["phase"].map(lambda p: withheld(res, p, "em")
                                   or withheld(res, p, "comparison")).astype(bool))
    judged = check.loc[shown & pd.Series(judged_mask, index=check.index), "covered"]
    text = (f"Known truth. The data are synthetic, so the true average effect of EM on the EM "
            f"pupils is known. {int(judged.sum())} of {len(judged)} informative 95% intervals "
            "shown contain it.")
    missed = check[shown & pd.Series(judged_mask, index=check.index)
                   & check["covered"].eq(False).fillna(False)]
    if len(missed):
        text += (" Any one 95% interval misses the truth about one time in twenty, so a miss on "
                 "one data set is expected now and then; whether the method covers the truth "
                 "95% of the time is checked over many simulated data sets "
                 "(bench/README_models.md). Missed here: "
                 + "; ".join(f"{r['label']} (true "
                             f"{signed(r['true_effect'] * scale(r['family']), 1)}, "
                             f"estimate {effect_text(r)})" for r in missed.to_dict("records"))
                 + ".")
    return [text, table]
