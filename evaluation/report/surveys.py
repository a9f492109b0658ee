"""Perception surveys: item means at baseline and follow-up, and the change."""

from __future__ import annotations

from evaluation.linked import SURVEY_COUNTS
from evaluation.plots.surveys import survey_dumbbell
from evaluation.report.display import Notice, Section, p_text
from evaluation.report.tables import hidden_flags, safe_table, scope_name, threshold
from evaluation.results import EvaluationResult
from evaluation.surveys import COUNTS

LABELS = {"wording": "Statement", "n_baseline": "n baseline", "n_follow_up": "n follow-up",
          "n_paired": "n paired", "mean_baseline": "Baseline", "mean_follow_up": "Follow-up",
          "change": "Change", "ci_low_change": "CI low", "ci_high_change": "CI high",
          "test": "Test", "p_holm": "p (Holm)", "standardised_change": "Standardised change"}


def _dominance(res: EvaluationResult, instrument: str, table) -> dict:
    """Return the item means' answers, for the N-K and p-ratio rules (issue 14)."""
    from evaluation.disclosure_cells import cell_contributions

    d = res.data.surveys
    d = d[d["instrument"] == instrument]
    change = ["change", "ci_low_change", "ci_high_change", "p_holm", "standardised_change"]
    return {"contributions": {
        f"mean_{w}": cell_contributions(d, table[["item"]].assign(wave=w), "score")
        for w in ("baseline", "follow_up")},
        "together": {f"mean_{w}": change for w in ("baseline", "follow_up")}}


def surveys(res: EvaluationResult) -> Section:
    """Pupil and staff perception surveys: item means at baseline and follow-up, change."""
    parts = ["The handbook's surveys (Annex 5, pupils; Annex 6, staff about the target pupils), "
             "scored 1 (disagree completely) to 10 (agree completely), at baseline (autumn "
             "2009) and follow-up (spring 2010). Change is paired where the same respondent "
             "answered both waves."]
    if not res.surveys:
        return Section("Perception surveys", "surveys",
                       parts + [Notice("No answered survey item for these schools.")])
    for instrument in ("pupil", "staff"):
        result = res.surveys.get(instrument)
        if result is None:
            parts.append(Notice(f"No answered {instrument} survey item for these schools."))
            continue
        shown = result.table[list(LABELS)].assign(p_holm=p_text(result.table["p_holm"]))
        parts.append(f"{instrument.capitalize()} survey.")
        scope = scope_name(res)   # counts another report would give away stay hidden
        hide = {c: [res.hidden(("survey", scope, instrument, item, c))
                    for item in result.table["item"]] for c in SURVEY_COUNTS}
        safe = safe_table(res.plan, shown, COUNTS, labels=LABELS, decimals=2, hide=hide,
                          **_dominance(res, instrument, result.table))
        parts.append(safe)
        parts.append(survey_dumbbell(result, threshold(res.plan),
                                     hidden=hidden_flags(safe, result.table)))
    return Section("Perception surveys", "surveys", parts)
