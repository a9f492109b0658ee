"""Impact estimates per phase: the tables, a forest plot, the FSM-gap question, model notices."""

from __future__ import annotations

import re

import pandas as pd

from evaluation.plots.impact import forest_plot
from evaluation.report.comparison import describe_spec
from evaluation.report.display import Notice, Section, ratio_text
from evaluation.report.tables import (
    count_withheld,
    effect_columns,
    group_withheld,
    informative,
    outcome_withheld,
    p_value,
    plain,
    safe_table,
    threshold,
)
from evaluation.results import EvaluationResult

RESTS = ["EM pupils", "Comparison pupils"]


def impact_tables(res: EvaluationResult, table: pd.DataFrame, phase: str | None = None) -> list:
    """Format and suppress an impact table (``ImpactResult.table()``) for display.

    Two tables, suppressed as one: the effects (counts, effect with its CI, p-values, the
    indicative-only flag) and their sizes (effect size with its CI, odds ratio, EEF months of
    progress, MDES). Binary outcomes are shown in percentage points; effect sizes are Hedges' g
    (point scores) or the Cox index (thresholds); the odds ratio is given for thresholds.
    Estimates that are not informative show why, and no months of progress.
    """
    rows = table.to_dict("records")
    shown = effect_columns(table)
    df = pd.DataFrame({
        "Outcome": table["label"],
        "EM pupils": table["n_em"].fillna(0).astype(int),
        "Comparison pupils": table["n_comparison"].fillna(0).astype(int),
        "Schools": table["n_schools"].fillna(0).astype(int),
        "Effect (95% CI)": shown["Effect (95% CI)"],
        "Units": table["units"],
        "p": shown["p"],
        "p (Holm)": [p_value(r["p_holm"]) if informative(r) else "" for r in rows],
        "Indicative only": table["indicative"],
        "Effect size (95% CI)": [
            f"{r['effect_size']:z.2f} ({r['es_ci_low']:z.2f} to {r['es_ci_high']:z.2f})"
            if pd.notna(r["effect_size"]) and informative(r) else "" for r in rows],
        "Effect size measure": table["es_type"].astype(object).fillna(""),
        "Odds ratio (95% CI)": [ratio_text(r["odds_ratio"], r["or_ci_low"], r["or_ci_high"])
                                if informative(r) else "" for r in rows],
        "Months' progress": shown["Months' progress"],
        "MDES": table["mdes"].round(2),
        "Note": [plain(r.get("not_informative") or "", res.plan) if not informative(r) else ""
                 for r in rows],
    })
    counts = {c: RESTS for c in ["Effect (95% CI)", "p", "p (Holm)", "Effect size (95% CI)",
                                 "Odds ratio (95% CI)", "Months' progress", "MDES", "Note"]}
    counts.update({"EM pupils": "EM pupils", "Comparison pupils": "Comparison pupils"})
    hide = {c: [phase is not None and count_withheld(res, phase, who)] * len(df)
            for c, who in (("EM pupils", "em"), ("Comparison pupils", "comparison"))}
    safe = safe_table(res.plan, df, counts, decimals={"MDES": 2, "Months' progress": 0},
                      hide=hide)
    effects = ["Outcome", "EM pupils", "Comparison pupils", "Schools", "Effect (95% CI)",
               "Units", "p", "p (Holm)", "Indicative only"]
    if df["Note"].astype(bool).any():
        effects.append("Note")
    return [safe.select(effects),
            "Effect sizes and precision. Hedges' g (point scores) is the adjusted difference "
            "over the pooled standard deviation of the EM and comparison pupils' unadjusted "
            "scores, with the small-sample correction; the Cox index (thresholds) is the "
            "adjusted log odds ratio divided by 1.65. Months of additional progress follow the "
            "EEF's conversion of the effect size; MDES is the minimum detectable effect size.",
            safe.select(["Outcome", "Effect size (95% CI)", "Effect size measure",
                         "Odds ratio (95% CI)", "Months' progress", "MDES"])]


def gap_table(res: EvaluationResult, gap: pd.DataFrame, phase: str | None = None):
    """Show the FSM-gap table, suppressing rows that rest on too few EM or comparison pupils.

    The counts decide suppression but are not shown: beside the phase's EM total they would
    give away the size of the smaller group.
    """
    shown = effect_columns(gap)
    df = pd.DataFrame({
        "Outcome": gap["outcome"].map(res.plan.label),
        "Estimate": gap["term"],
        "EM pupils": gap["n_em"].astype(int),
        "Comparison pupils": gap["n_comparison"].astype(int),
        "Effect (95% CI)": shown["Effect (95% CI)"],
        "p": shown["p"],
    })
    safe = safe_table(res.plan, df, {"EM pupils": "EM pupils",
                                     "Comparison pupils": "Comparison pupils",
                                     "Effect (95% CI)": RESTS, "p": RESTS},
                      hide={"EM pupils": [phase is not None and group_withheld(res, phase)]
                            * len(df)})
    return safe.select(["Outcome", "Estimate", "Effect (95% CI)", "p"])


def withheld_outcomes(res: EvaluationResult, table: pd.DataFrame,
                      phase: str | None = None) -> set:
    """Outcomes of an impact table whose model messages are withheld.

    Those whose estimate rests on fewer pupils than the threshold, those whose pupils
    reaching a threshold are withheld (:func:`outcome_withheld`), and every one where the
    phase's groups are withheld.
    """
    small = table[["n_em", "n_comparison"]].fillna(0).astype(int)
    t = threshold(res.plan)
    withheld = set(table.loc[((small > 0) & (small < t)).any(axis=1), "outcome"])
    if phase is not None:
        withheld |= {o for o in table["outcome"] if outcome_withheld(res, phase, o)}
    if phase is not None and group_withheld(res, phase):
        withheld = set(table["outcome"])
    return withheld


def messages(text: str) -> list[str]:
    """Split a note of several caught warnings ("warnings: A: ...; B: ...") into messages.

    Examples
    --------
    >>> messages("warnings: ModelWarning: 'x': few; read it; PerfectSeparationWarning: y")
    ["ModelWarning: 'x': few; read it", 'PerfectSeparationWarning: y']
    """
    text = re.sub(r"^warnings:\s*", "", str(text or "").strip())
    return [m for m in re.split(r";\s+(?=\w*Warning: )", text) if m]


def message_withheld(text: str, withheld: set, names) -> bool:
    """Return whether a model message is withheld.

    It is where it quotes a withheld outcome, or quotes none while any outcome's messages are
    withheld (it may concern one of them).

    Examples
    --------
    >>> message_withheld("Perfect separation detected", {"ks2_l4_em"}, ["ks2_aps", "ks2_l4_em"])
    True
    >>> message_withheld("'ks2_aps': slow convergence", {"ks2_l4_em"}, ["ks2_aps", "ks2_l4_em"])
    False
    """
    quoted = [name for name in names if f"'{name}'" in text]
    return bool(withheld) and (not quoted or bool(withheld.intersection(quoted)))


def model_notices(res: EvaluationResult, table: pd.DataFrame, warned=(),
                  phase: str | None = None) -> list[Notice]:
    """Turn the model notes and warnings of an impact table into notices a reader can share.

    Outcome columns are named by their labels. A message about an outcome whose estimate rests
    on fewer pupils than the threshold is withheld (it could say, for instance, that every EM
    pupil reached the threshold), and so is a message naming no outcome while any outcome's
    messages are withheld (it may concern one of them); one notice says which outcomes'
    messages were withheld.
    """
    withheld = withheld_outcomes(res, table, phase)
    names = dict(zip(table["outcome"], table["label"], strict=True))
    out, hidden = [], []
    for text in [n for n in table["note"].fillna("") if n] + list(warned):
        if message_withheld(text, withheld, names):
            quoted = [name for name in names if f"'{name}'" in text]
            hidden += [names[n] for n in (quoted or names) if n in withheld]
            continue
        out.append(Notice(plain(text, res.plan), "warning"))
    if hidden:
        out.append(Notice(f"Model messages about {', '.join(dict.fromkeys(hidden))} are withheld: "
                          "those estimates rest on a withheld number of pupils.", "note"))
    return out


def impact(res: EvaluationResult) -> Section:
    """Impact estimates per phase: the table, a forest plot, the FSM-gap question, warnings."""
    compared = describe_spec(res.plan.main_spec(), res.plan).compared_with()
    parts = ["One row per pre-specified outcome (analysis.yml). Effects are adjusted differences "
             f"between EM pupils and {compared} (main analysis: see 'The matched comparison'): "
             "points for point scores, percentage points for thresholds. p (Holm) adjusts for "
             "testing several outcomes. MDES is the smallest effect size (in standard "
             "deviations) the sample could detect with 80% power; above the plan's threshold, "
             "results are indicative only."]
    t = threshold(res.plan)
    for phase, pe in res.phases.items():
        parts.append(f"{phase.capitalize()} phase.")
        if not pe.estimable:
            parts.append(Notice(f"The {phase} impact cannot be estimated: {pe.not_estimable}",
                                "not estimable"))
            continue
        table = pe.impact.table()
        parts += impact_tables(res, table, phase)
        drawable = ((table[["n_em", "n_comparison"]].min(axis=1) >= t) & table["informative"]
                    & table["effect_size"].notna() & (not group_withheld(res, phase)))
        if drawable.any():
            parts.append(forest_plot(table, threshold=t, mdes=float(pe.headline()["mdes"])))
        else:
            parts.append(Notice("No forest plot: no estimate of this phase is both shown and "
                                "informative.", "note"))
        inference = sorted(set(table["inference"].dropna()))
        if group_withheld(res, phase):
            # residual degrees of freedom are pupils minus model terms: beside a withheld
            # count they would give it back (review: "t(20)" with 'c' EM and comparison pupils)
            inference = sorted({re.sub(r"\bt\(\d+(?:\.\d+)?\)", "t (degrees of freedom "
                                       "withheld with the pupil counts)", i) for i in inference})
        clustered = (table["n_schools"] > 1).any()
        parts.append("Inference: " + "; ".join(inference) + "."
                     + (" Standard errors are clustered by school." if clustered else ""))
        gap = pe.impact.gap_table()
        if len(gap):
            parts.append("Does EM help FSM pupils more? The effect for FSM pupils, for other "
                         "pupils, and the change in the FSM gap (positive: the gap narrowed).")
            parts.append(gap_table(res, gap, phase))
        parts += model_notices(res, table, pe.warnings, phase)
    return Section("Impact estimates", "impact", parts)
