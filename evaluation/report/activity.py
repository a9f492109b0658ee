"""The headline effect by phase and by the EM activity the schools chose."""

from __future__ import annotations

import pandas as pd

from evaluation.report.display import Notice, Section
from evaluation.report.estimates import estimate_rows
from evaluation.results import EvaluationResult


def by_activity(res: EvaluationResult) -> Section:
    """Show the headline effect by phase and by the EM activity the school chose."""
    parts = ["The headline outcome of each phase, re-estimated within the schools that chose "
             "each activity. With one to a few schools per activity these are descriptive: "
             "activities were chosen by schools, not assigned."]
    frames = [pe.by_activity for pe in res.phases.values() if pe.by_activity is not None]
    if not frames:
        return Section("By phase and activity", "activity",
                       parts + [Notice("No phase has estimable impacts.", "not estimable")])
    df = pd.concat(frames, ignore_index=True)
    df = df.assign(Activity=df["phase"].str.capitalize() + ": " + df["group"].astype(str))
    # an activity's EM pupils as its model analysed them (matched), hidden as linked
    flags = [res.hidden(("em_activity_matched", p, str(g)))
             for p, g in zip(df["phase"], df["group"], strict=True)]
    table = estimate_rows(res.plan, df, "Activity", hide={"EM pupils": flags})
    # not the comparison pupils: an activity's is its schools' and, with one school, its
    # cluster's, which the cluster's report withholds with its EM pupils; with the school's
    # pupils of the year in the gap table it bounded the EM pupils (issue 14 review: 6 to [4, 8])
    parts.append(table.select([c for c in table.frame.columns if c != "Comparison pupils"]))
    return Section("By phase and activity", "activity", parts)
