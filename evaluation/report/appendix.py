"""Appendices: exclusions by reason, how small cells were protected, provenance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.provenance import evaluated_at
from evaluation.report.display import Section
from evaluation.report.tables import (
    count_withheld,
    exclusion_rows,
    marker,
    matched_counts,
    outcome_withheld,
    plain,
    safe_table,
    threshold,
)
from evaluation.results import EvaluationResult


def data_quality(res: EvaluationResult) -> Section:
    """Exclusions by reason, per phase: nobody is dropped without being counted."""
    parts = ["Pupils left out of the impact analysis, by reason, in the order the rules are "
             "applied. Counts below the disclosure threshold are suppressed."]
    for phase, pe in res.phases.items():
        ex, hide = exclusion_rows(res, pe)    # hidden where another table gives them away
        ex = ex.rename(columns={"reason": f"Reason ({phase})"})
        parts.append(safe_table(res.plan, ex, {"EM": "EM", "Comparison": "Comparison"},
                                hide=hide))
        if pe.match is not None:
            em, comp = matched_counts(res, pe)
            parts.append(f"Analysed (matched): {em} EM and {comp} comparison pupils; each "
                         "outcome's own count is in the impact table.")
    unused = res.data.meta.get("unused_columns") or {}
    if unused:
        parts.append("Columns in the data that no analysis reads (a misspelt name would show "
                     "here): " + "; ".join(f"{t}: {', '.join(cols)}"
                                           for t, cols in unused.items()) + ".")
    return Section("Appendix: data quality", "data-quality", parts)


#: How the further suppressed counts were chosen: as few as possible or, where no such choice
#: protects every small count, all of them (:class:`evaluation.disclosure.HiddenAll`).
CHOSEN = "chosen to suppress as little as possible"
CHOSEN_ALL = ("no choice of a few could protect every small count, so every count linked to "
              "one is suppressed (far more than the minimum)")


def disclosure_notes(res: EvaluationResult) -> Section:
    """How small cells were protected."""
    text = (f"No figure in this report rests on fewer than {threshold(res.plan)} pupils. A "
            f"count, percentage or average below that is replaced by '{marker(res.plan)}'; "
            "where anything else published (a total, another table or another report) would let a "
            "suppressed count be worked out or narrowed, further counts are suppressed too, "
            f"{CHOSEN_ALL if res.linked is not None and res.linked.hides_everything else CHOSEN}"
            "; anything resting on a suppressed count is suppressed with it. Figures leave out "
            "any point or bar resting on fewer pupils, and say so in their caption. No pupil "
            "identifier appears anywhere. The threshold is set in analysis.yml "
            "(disclosure.threshold).")
    return Section("Appendix: disclosure control", "disclosure", [text])


#: Provenance items as readers read them (the parameters' code names stay in the notebook).
ITEM_WORDS = {"parameter cluster": "report's cluster", "parameter data_dir": "data folder",
              "parameter plan_path": "analysis plan file", "parameter seed": "random seed"}


def departures(res: EvaluationResult) -> list[str]:
    """List what the report could not do as the plan pre-specified (nothing: empty).

    The inference method the plan's ``auto`` rule picks is the plan's, not a departure.

    Examples
    --------
    >>> departures(res)  # doctest: +SKIP
    ['Primary phase: the impact was not estimated (...)']
    """
    out = []
    today = evaluated_at().date().isoformat()
    if res.plan.date and res.plan.date > today:
        out.append(f"The analysis plan is dated {res.plan.date}, after this analysis was run "
                   f"({today}): it was not fixed before the analysis")
    for phase, pe in res.phases.items():
        name = phase.capitalize()
        if not pe.estimable:
            out.append(f"{name} phase: the impact was not estimated ({pe.not_estimable})")
            continue
        for row in pe.impact.table().to_dict("records"):
            if row["outcome"] not in pe.impact.outcomes:
                # a withheld sample's model messages are withheld too (they can describe it),
                # and so are those on an outcome whose pupils reaching it are withheld
                why = ("the reason rests on a withheld number of pupils"
                       if count_withheld(res, phase, "em")
                       or outcome_withheld(res, phase, row["outcome"])
                       else plain(str(row.get('note') or ''), res.plan))
                out.append(f"{name} phase, {row['label']}: not estimated ({why})")
    return out


def plan_date_words(plan) -> str:
    """Words for the plan's date beside its hash ("fixed on 2026-11-25", or that it has none).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> plan_date_words(SimpleNamespace(date="2026-11-25"))
    'fixed on 2026-11-25'
    """
    if plan.date:
        return f"fixed on {plan.date}"
    return "with no date recorded (analysis.yml has no plan_date)"


def provenance(res: EvaluationResult) -> Section:
    """Package version, commit, input hashes, parameters, plan hash, departures, time."""
    table = res.provenance.assign(item=res.provenance["item"].map(
        lambda v: ITEM_WORDS.get(v, v)))
    gone = departures(res)
    parts = ["Everything needed to rebuild this report. The same inputs, plan and seed give the "
             "same numbers.", safe_table(res.plan, table),
             f"Pre-specified analysis plan: {Path(res.plan.path).name}, SHA-256 "
             f"{res.plan.sha256}, {plan_date_words(res.plan)}. "
             + ("Departures from the plan: " + "; ".join(gone) + "." if gone else
                "Departures from the plan: none; every pre-specified outcome was estimated "
                "as the plan asks.")]
    if res.data.is_synthetic:
        meta = res.data.meta
        parts.insert(1, f"Data: synthetic, scenario '{meta.get('scenario')}', "
                        f"seed {meta.get('seed')}, {meta.get('generator', '')}.")
        world = world_parameters(meta)
        if world is not None:
            parts += ["The synthetic world's parameters (evaluation.synthetic.WorldParams; "
                      "targets and sources in data/README.md):", safe_table(res.plan, world)]
    return Section("Appendix: provenance", "provenance", parts)


def world_parameters(meta: dict) -> pd.DataFrame | None:
    """Return the generator's world parameters (``meta["params"]``), one row per parameter.

    Examples
    --------
    >>> world_parameters({"params": {"school_sd": {"primary": 0.46, "secondary": 0.42},
    ...                              "hidden_selection_or": 1.3}}).values.tolist()[0]
    ['How much schools differ in attainment (SD of the school effect)', '0.46', '0.42']
    """
    from evaluation.synthetic.params import PARAMETER_WORDS

    params = meta.get("params")
    if not params:
        return None
    rows = [[PARAMETER_WORDS.get(k, k.replace("_", " ")),
             *(f"{v[p]:g}" if isinstance(v, dict) else f"{v:g}"
                  for p in ("primary", "secondary"))] for k, v in params.items()]
    return pd.DataFrame(rows, columns=["Parameter", "Primary", "Secondary"])
