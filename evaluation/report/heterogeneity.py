"""Each cluster's own headline result, side by side (the clusters' reports show the same)."""

from __future__ import annotations

from evaluation.plots.impact import forest_plot
from evaluation.report.display import Notice, Section
from evaluation.report.estimates import estimate_rows
from evaluation.report.tables import count_withheld, group_withheld, threshold
from evaluation.results import EvaluationResult


def heterogeneity(res: EvaluationResult) -> Section:
    """Show the headline effect of each cluster, as each cluster's own report gives it."""
    parts = ["The headline outcome of each phase in each cluster, exactly as each cluster's own "
             "report gives it. Clusters whose pupil data did not link contribute nothing here."]
    df = res.heterogeneity()
    if df.empty or "estimate" not in df or df["estimate"].isna().all():
        return Section("Differences between clusters", "heterogeneity",
                       parts + [Notice("No cluster has estimable impacts.", "not estimable")])
    df = df.rename(columns={"cluster": "Cluster"})
    hide = {col: [count_withheld(res, p, who, cluster=c)
                  for c, p in zip(df["Cluster"], df["phase"], strict=True)]
            for col, who in (("EM pupils", "em"), ("Comparison pupils", "comparison"))}
    parts.append(estimate_rows(res.plan, df, "Cluster", hide=hide))
    t = threshold(res.plan)
    for phase, part in df.groupby("phase", sort=False):
        shown = part["Cluster"].map(
            lambda c, ph=phase: not group_withheld(res, ph, cluster=c)).astype(bool)
        drawable = part[(part[["n_em", "n_comparison"]].min(axis=1) >= t) & shown
                        & part["estimate"].notna() & part["informative"].fillna(False)]
        if len(drawable) > 1:
            parts.append(forest_plot(part.assign(label=part["Cluster"]), threshold=t,
                                     title=f"{phase.capitalize()}: headline effect by cluster",
                                     hidden=~shown))   # as the table hides them
    return Section("Differences between clusters", "heterogeneity", parts)
