"""The schools in scope: LA, phase, role, EM activity, FSM share, EM pupils analysed."""

from __future__ import annotations

import pandas as pd

from evaluation.report.display import Section
from evaluation.report.tables import safe_table
from evaluation.results import EvaluationResult
from evaluation.subgroups import school_groups


def profile(res: EvaluationResult) -> Section:
    """Show the schools in scope and how many EM pupils each contributes."""
    s = res.schools
    em_counts = pd.concat(
        [pe.sample.data.loc[pe.sample.data["em"], "school_id"] for pe in res.phases.values()]
        or [pd.Series(dtype=str)]
    ).value_counts()
    df = pd.DataFrame({
        "School": s["school_name"].to_numpy(),
        "Local authority": s["la"].to_numpy(),
        "Phase": s["phase"].to_numpy(),
        "Role": s["role"].to_numpy(),
        "EM activity": s["school_id"].map(school_groups(s, "em_activity")).fillna("")
        .to_numpy(),
        "FSM %": s["fsm_pct"].round(1).to_numpy(),
        "Pupil data linked": s["em_linked"].to_numpy(),
        "EM pupils analysed": s["school_id"].map(em_counts).fillna(0).astype(int).to_numpy(),
    }).sort_values(["Phase", "Role", "School"])
    ids = s["school_id"].to_numpy()[df.index]
    table = safe_table(res.plan, df, {"EM pupils analysed": "EM pupils analysed"},
                       hide={"EM pupils analysed": [res.hidden(("em_school", i)) for i in ids]})
    by_role = s["role"].value_counts().reindex(["trial", "partner"], fill_value=0)
    roles = [f"{n} {role} school{'s' if n != 1 else ''}" for role, n in by_role.items() if n]
    intro = (f"{len(s)} schools: {' and '.join(roles)}. FSM % is the share of the school's "
             "pupils eligible for free school meals.")
    return Section("Cluster profile" if res.scope == "cluster" else "Schools", "profile",
                   [intro, table])
