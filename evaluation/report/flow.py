"""What a reviewer checks first: the flow of schools and pupils, and outcomes before adjustment.

Counts come from the phase's results and pass the same disclosure control as the tables that
show them elsewhere (the data-quality and matching tables), so a value suppressed there is
suppressed here too.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from evaluation.report.comparison import describe_spec
from evaluation.report.display import Notice, Section
from evaluation.report.tables import (
    exclusion_rows,
    group_withheld,
    matched_counts,
    safe_table,
    scale,
    scope_name,
    threshold,
)
from evaluation.results import EvaluationResult, PhaseResult


def _box(text: str, out: list[str] | None = None) -> str:
    side = ""
    if out:
        side = ('<div class="em-flow-out"><strong>Left out</strong><ul>'
                + "".join(f"<li>{html.escape(o)}</li>" for o in out) + "</ul></div>")
    return f'<li><div class="em-flow-box">{html.escape(text)}</div>{side}</li>'


def _exclusions(res: EvaluationResult, pe: PhaseResult) -> list[str]:
    # hidden as the data-quality table hides them (a count another report gives away)
    ex, hide = exclusion_rows(res, pe)
    shown = safe_table(res.plan, ex, {"EM": "EM", "Comparison": "Comparison"}, hide=hide).frame
    return [f"{r['reason']}: {r['EM']} EM, {r['Comparison']} comparison"
            for _, r in shown.iterrows() if not (str(r["EM"]) == "0"
                                                 and str(r["Comparison"]) == "0")]


def phase_flow(res: EvaluationResult, phase: str, pe: PhaseResult) -> str:
    """Draw the flow diagram of one phase as an HTML list of boxes (read aloud as text)."""
    s = res.schools[res.schools["phase"] == phase]
    trial, partner = int((s["role"] == "trial").sum()), int((s["role"] == "partner").sum())
    linked = int((s["role"].eq("trial") & s["em_linked"].astype(bool)).sum())
    steps = [_box(f"Schools in the programme: {trial + partner} ({trial} trial, "
                  f"{partner} partner)"),
             _box(f"Trial schools whose EM pupils are identified in the attainment data: "
                  f"{linked}", [f"{trial - linked} trial school"
                                f"{'s' if trial - linked != 1 else ''} without linked EM "
                                "pupil data"] if trial - linked else None)]
    if not pe.estimable:
        steps.append(_box(f"No analysis: {pe.not_estimable}"))
    else:
        em, comp = matched_counts(res, pe)
        steps.append(_box("EM pupils and their classmates in the same schools and year groups",
                          _exclusions(res, pe)))
        steps.append(_box(f"Matched and analysed: {em} EM pupils and {comp} comparison pupils "
                          f"in {pe.sample.n_schools} school"
                          f"{'s' if pe.sample.n_schools != 1 else ''} (each outcome's own "
                          "count is in the impact table)"))
    label = (f"Flow diagram, {phase} phase: from the schools in the programme to the pupils "
             "analysed, with what was left out at each step.")
    return (f'<figure class="em-flow" aria-label="{html.escape(label)}"><ol>'
            + "".join(steps) + f"</ol><figcaption>{html.escape(label)}</figcaption></figure>")


class _Html:
    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text


def flow(res: EvaluationResult) -> Section:
    """Build the flow diagram of schools and pupils, per phase."""
    parts = ["How schools and pupils reached the analysis. Counts below the disclosure "
             f"threshold ({threshold(res.plan)}) are shown as "
             f"'{res.plan.raw['disclosure']['marker']}'."]
    for phase, pe in res.phases.items():
        parts.append(_Html(phase_flow(res, phase, pe)))
    return Section("From the programme to the analysis", "flow", parts)


def _dominance(pe: PhaseResult, d: pd.DataFrame) -> dict:
    """Return the means' pupil values, for the N-K and p-ratio rules (issue 14)."""
    from evaluation.disclosure_cells import descriptive_contributions

    c = descriptive_contributions(pe.match.matched_data(), d["outcome"])
    return {"contributions": {"EM": c["mean_em"], "Comparison": c["mean_comparison"],
                              "Comparison (weighted)": c["mean_comparison_weighted"]},
            "together": {"EM": ["Difference"], "Comparison (weighted)": ["Difference"]}}


def _small_strata(matched: pd.DataFrame, t: int, treatment: str = "em") -> bool:
    """Whether the matched pupils fall in several school-and-year strata, one of them small.

    Small: between 1 and ``t - 1`` EM or comparison pupils.
    """
    keys = [c for c in ("school_id", "cohort") if c in matched]
    if not keys:
        return False
    counts = matched.groupby(keys)[treatment].agg(["sum", "size"])
    em, comparison = counts["sum"], counts["size"] - counts["sum"]
    small = ((em > 0) & (em < t)) | ((comparison > 0) & (comparison < t))
    return len(counts) > 1 and bool(small.any())


def descriptive(res: EvaluationResult) -> Section:
    """Unadjusted outcomes of EM and comparison pupils, before any model."""
    weights = describe_spec(res.plan.main_spec(), res.plan).weights
    weighted = weights or "with the matching's weights (all equal here)"
    parts = ["Outcomes as they are, before any adjustment: the mean score (point scores) or the "
             "share of pupils reaching the threshold (%), for the matched EM pupils and for the "
             f"matched comparison pupils as they are and {weighted}. The impact estimates then "
             "adjust for prior attainment and the other characteristics."]
    for phase, pe in res.phases.items():
        parts.append(f"{phase.capitalize()} phase.")
        if not pe.estimable or pe.descriptives is None or not len(pe.descriptives):
            parts.append(Notice(f"No outcomes to describe: {pe.not_estimable or 'no data'}",
                                "not estimable"))
            continue
        d = pe.descriptives
        k = d["family"].map(scale)
        df = pd.DataFrame({
            "Outcome": d["outcome"].map(res.plan.label),
            "Shown as": d["family"].map({"gaussian": "mean points", "binomial": "% reaching"}),
            "EM pupils": d["n_em"], "Comparison pupils": d["n_comparison"],
            "EM": (d["mean_em"] * k).round(1),
            "Comparison": (d["mean_comparison"] * k).round(1),
            "Comparison (weighted)": (d["mean_comparison_weighted"] * k).round(1),
            "Difference": (d["difference"] * k).round(1),
        })
        # A share of n pupils reveals how many reached the threshold and how many did not
        # (12.5% of 16 is 2 pupils): both counts are checked like the group's own size.
        binary = (d["family"] == "binomial").to_numpy()
        for group, n_col, mean_col in (("EM", "n_em", "mean_em"),
                                       ("Comparison", "n_comparison", "mean_comparison")):
            n = d[n_col].to_numpy()
            yes = np.where(binary, np.rint(d[mean_col].to_numpy() * n), n).astype(int)
            df[f"{group} reaching"] = yes
            df[f"{group} not reaching"] = np.where(binary, n - yes, n)
            # 0% or 100% says every pupil of the group shares the outcome (sixth review)
            df[f"{group} all alike"] = binary & (n > 0) & ((yes == 0) | (yes == n))
        em_counts = ["EM pupils", "EM reaching", "EM not reaching"]
        cmp_counts = ["Comparison pupils", "Comparison reaching", "Comparison not reaching"]
        rests = em_counts + cmp_counts
        hide = {c: [group_withheld(res, phase)] * len(df) for c in ("EM pupils",
                                                                    "Comparison pupils")}
        # a share another report's shares would give away (the overall share minus the other
        # clusters'): hidden in every report (evaluation.linked)
        scope = scope_name(res)
        for col, who in (("EM", "em"), ("Comparison", "comparison")):
            hide[col] = [alike or any(res.hidden((f"desc_{k}", scope, phase, o, who))
                                      for k in ("pass", "fail"))
                         for o, alike in zip(d["outcome"], df[f"{col} all alike"],
                                             strict=True)]
        # EM = weighted comparison + difference: a hidden share hides both (review 2 of
        # issue 14: 35.9 - 19.1 gave a hidden 16.8% back)
        # the weighted share weighs each school and year by its EM pupils: beside the plain
        # one it gives a small stratum's pupils back (sixth review: 6 EM and 30 comparison
        # pupils of one school, from two shares per outcome); hidden wherever one is small
        matched = pe.match.matched_data()      # each outcome's pupils: those who have it
        small = [_small_strata(matched[matched[o].notna()], threshold(res.plan))
                 for o in d["outcome"]]
        hide["Comparison (weighted)"] = [h or s for h, s in zip(hide["Comparison"], small,
                                                               strict=True)]
        hide["Difference"] = [a or b or s for a, b, s in zip(hide["EM"], hide["Comparison"],
                                                            small, strict=True)]
        safe = safe_table(res.plan, df, {"EM pupils": "EM pupils",
                                         "Comparison pupils": "Comparison pupils",
                                         "EM": em_counts, "Comparison": cmp_counts,
                                         "Comparison (weighted)": cmp_counts,
                                         "Difference": rests},
                          decimals={c: 1 for c in ("EM", "Comparison", "Comparison (weighted)",
                                                   "Difference")}, hide=hide,
                          **_dominance(pe, d))
        parts.append(safe.select(["Outcome", "Shown as", "EM", "Comparison",
                                  "Comparison (weighted)", "Difference"]))
    return Section("Outcomes before adjustment", "descriptive", parts)
