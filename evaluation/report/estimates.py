"""Tables of one estimate per row (by activity, by specification, by cluster), one format."""

from __future__ import annotations

import pandas as pd

from evaluation.disclosure import SafeTable
from evaluation.plan import Plan
from evaluation.report.tables import effect_columns, plain, safe_table

RESTS = ["EM pupils", "Comparison pupils"]


def estimate_rows(plan: Plan, df: pd.DataFrame, first: str, hide=None) -> SafeTable:
    """Show rows of estimates: ``first`` column, outcome, counts, effect (95% CI), p, note.

    ``df`` has the columns of ``ImpactResult.table()`` (``label``, ``family``, ``n_schools``,
    ``n_em``, ``n_comparison``, ``estimate``, ``ci_low``, ``ci_high``, ``p``, ``note``...).
    ``hide`` maps ``EM pupils`` / ``Comparison pupils`` to one flag per row for counts hidden
    because another table or report would give them away (everything resting on them goes too).
    """
    shown = effect_columns(df)
    out = pd.DataFrame({
        first: df[first],
        "Outcome": df["label"],
        "Schools": df["n_schools"].fillna(0).astype(int),
        "EM pupils": df["n_em"].fillna(0).astype(int),
        "Comparison pupils": df["n_comparison"].fillna(0).astype(int),
        "Effect (95% CI)": shown["Effect (95% CI)"],
        "p": shown["p"],
        "Note": [plain(str(n), plan) for n in df["note"].astype(object).fillna("")],
    })
    return safe_table(plan, out, {"EM pupils": "EM pupils",
                                  "Comparison pupils": "Comparison pupils",
                                  "Effect (95% CI)": RESTS, "p": RESTS, "Note": RESTS},
                      hide=hide)
