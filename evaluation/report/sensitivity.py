"""Every matching specification of the plan and a multilevel model, side by side."""

from __future__ import annotations

import pandas as pd

from evaluation.linked import remainder_hidden
from evaluation.report.display import Notice, Section
from evaluation.report.estimates import estimate_rows
from evaluation.report.impact import message_withheld, messages, withheld_outcomes
from evaluation.report.tables import group_withheld, threshold
from evaluation.results import EvaluationResult


def sensitivity(res: EvaluationResult) -> Section:
    """Show each phase's outcomes under every matching specification and a multilevel model."""
    parts = ["The same outcome models under each matching specification pre-specified in "
             "analysis.yml, and a multilevel alternative (random school intercept for point "
             "scores; GEE within school for thresholds). Results that agree across "
             "specifications are more credible."]
    for phase, pe in res.phases.items():
        if pe.sensitivity is None:
            parts.append(Notice(f"{phase.capitalize()}: {pe.not_estimable}", "not estimable"))
            continue
        outcomes = pd.DataFrame(res.plan.outcomes(phase)).set_index("name")
        table = pe.sensitivity.assign(
            label=pe.sensitivity["outcome"].map(outcomes["label"]),
            family=pe.sensitivity["outcome"].map(outcomes["family"]),
            Specification=pe.sensitivity["label"])
        # a specification's pupils beside the phase's: the difference (a caliper's
        # unmatched) is a count too; rows that would give a small one away are hidden
        rows = list(zip(table["Specification"], table["outcome"], strict=True))
        hide = remainder_hidden(pe.sample.n_em, dict(zip(rows, table["n_em"].fillna(0)
                                                         .astype(int), strict=True)),
                                threshold(res.plan))
        # a withheld phase total: every specification's count hides too (one equal to the
        # total would show it)
        flags = [r in hide or group_withheld(res, phase) for r in rows]
        # a note is withheld as the impact section withholds model messages (ninth review: a
        # separation warning of a withheld outcome's model showed in another outcome's row)
        withheld = withheld_outcomes(res, pe.impact.table(), phase)
        names = list(outcomes.index)
        notes = [flag or o in withheld or any(message_withheld(m, withheld, names)
                                              for m in [*messages(own), *messages(spec)])
                 for flag, o, own, spec in zip(flags, table["outcome"], table["model_note"],
                                               table["spec_note"], strict=True)]
        parts.append(f"{phase.capitalize()} phase.")
        parts.append(estimate_rows(res.plan, table, "Specification",
                                   hide={"EM pupils": flags, "Comparison pupils": flags,
                                         "Note": notes}))
    return Section("Sensitivity to the analysis choices", "sensitivity", parts)
