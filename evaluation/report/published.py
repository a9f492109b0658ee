"""Sections of a published-data gap report: findings, gaps by school, slope, references."""

from __future__ import annotations

import html
import re

import pandas as pd

from evaluation.plots.published import gap_distribution_chart, gap_share_chart
from evaluation.report.display import Notice, Section
from evaluation.report.tables import safe_table
from evaluation.results import PublishedResult

GAP_LABELS = {"name": "Name", "n_group": "Group pupils", "n_other": "Other pupils",
              "rate_group": "Group %", "rate_other": "Other %", "gap": "Gap (pp)",
              "gap_lower": "95% CI low", "gap_upper": "95% CI high",
              "gap_shrunk": "Shrunk gap (pp)", "share": "Group share %", "level": "Level",
              "status": "What the file says"}
COUNTS = {"rate_group": "n_group", "rate_other": "n_other",
          "gap": ["n_group", "n_other"], "gap_lower": ["n_group", "n_other"],
          "gap_upper": ["n_group", "n_other"], "gap_shrunk": ["n_group", "n_other"]}


#: How the slope's verdict reads against the source documents' claim.
CLAIM = {"agree": "agree with", "contradict": "contradict",
         "inconclusive": "neither confirm nor contradict"}


def _markdown(text: str) -> str:
    """Markdown bold and line breaks of the analysis' prose as escaped HTML."""
    escaped = html.escape(text.replace("  \n", "\n"))
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"`([^`]+)`", r"\1", escaped)
    return "".join(f"<p>{p}</p>" for p in escaped.split("\n") if p.strip())


def header(res: PublishedResult) -> Section:
    """Title and what the report is."""
    return Section(f"FSM and disadvantage gaps: {res.title}", "top",
                   ["Disadvantaged (or FSM) pupils against all other pupils, per school or local "
                    "authority, from the Department for Education's own file, read as "
                    "published."], level=1)


def findings(res: PublishedResult) -> Section:
    """Show the findings in four short sentences: the gap, its spread, the slope, what is missing.

    The numbers are those of the tables below (the gap summary, the slope), one decimal.
    """
    g, s = res.report.gaps, res.report.slope
    n, total = len(g.estimable), len(g.table)
    sentences = [
        f"Across the {n:,} {g.unit_plural} that published both rates, {g.group} pupils were on "
        f"average {g.mean:.1f} percentage points behind other pupils ({g.measure_label}; 95% CI "
        f"{g.mean_lower:.1f} to {g.mean_upper:.1f}).",
        f"Gaps differ between {g.unit_plural}: the spread of their true gaps (standard "
        f"deviation) is about {g.tau:.1f} points, once sampling noise in small cohorts is "
        "allowed for.",
        f"For each 10 points more {g.group} pupils, the gap changes by {s.slope:+.1f} points "
        f"(95% CI {s.lower:+.1f} to {s.upper:+.1f}): these data {CLAIM[s.verdict]} the source "
        "documents' claim that schools with more disadvantaged pupils have smaller gaps.",
        f"{total - n:,} of the {total:,} {g.unit_plural} in the file did not publish both rates "
        "(small cohorts are suppressed by the Department); they are counted in the data-quality "
        "appendix, not dropped.",
    ]
    body = "".join(f"<p>{html.escape(t)}</p>" for t in sentences)
    return Section("Findings", "findings", [Notice(body, "findings")])


def gap_distribution(res: PublishedResult) -> Section:
    """Summary of the gaps, each unit's gap with its interval, and the chart."""
    gaps = res.report.gaps
    summary = gaps.summary()
    counts = summary["statistic"].str.startswith(("schools", "LAs", "units"))
    shown = pd.DataFrame({
        "": summary["statistic"],
        "Value": [f"{int(v):,}" if c else f"{v:.1f}"
                  for v, c in zip(summary["value"], counts, strict=True)]})
    cols = [c for c in GAP_LABELS if c in gaps.table.columns]
    table = gaps.table[cols].sort_values("gap", ascending=False, na_position="last")
    return Section("Gap distribution", "distribution", [
        "Gap = other pupils' rate minus the group's rate, in percentage points (positive: the "
        "group is behind). Intervals are 95% Newcombe intervals; the shrunk gap pulls small "
        "cohorts towards the mean. LA, regional and national rows are references (drawn as "
        "lines), never part of the summary.",
        safe_table(res.plan, shown),
        gap_distribution_chart(gaps),
        safe_table(res.plan, table, COUNTS, labels=GAP_LABELS),
        safe_table(res.plan, gaps.status_counts().rename(columns={"status": "What the file says",
                                                                  "schools": "Units"})),
    ])


def slope(res: PublishedResult) -> Section:
    """Show the gap against the share of the group, with the fitted slope."""
    s = res.report.slope
    text = (f"For each 10 points more {res.report.gaps.group} pupils, the gap changes by "
            f"{s.slope:+.1f} points (95% CI {s.lower:+.1f} to {s.upper:+.1f}, {s.n:,} "
            f"{res.report.gaps.unit_plural}): these data {CLAIM[s.verdict]} the claim.")
    return Section("Gap against the share of disadvantaged pupils", "share",
                   ["The source documents claim that schools with more FSM pupils have smaller "
                    "gaps (a negative slope).", text, gap_share_chart(res.report.gaps, s)])


def references(res: PublishedResult) -> Section:
    """LA, regional and national rows of the file."""
    ref = res.report.reference_table()
    return Section("LA, regional and national rows", "references",
                   [safe_table(res.plan, ref, COUNTS, labels=GAP_LABELS)])


def data_quality(res: PublishedResult) -> Section:
    """Every code in the file and the rows left out of the school analysis, counted."""
    labels = {"file": "File", "code": "Code", "reason": "Meaning", "category": "Counted as",
              "n": "Cells", "what": "Rows", "column": "Column"}
    parts = ["Every code in the file, in total: no value is silently missing."]
    parts.append(safe_table(res.plan, res.report.code_totals, labels=labels))
    if len(res.report.other_rows):
        parts.append(safe_table(res.plan, res.report.other_rows, labels=labels))
    return Section("Appendix: data quality", "data-quality", parts)


def index_record(res: PublishedResult) -> dict:
    """Return the index page's entry for a published-data report."""
    src = res.report.source
    return {"title": src.title, "kind": "published", "phase": src.phase,
            "n_schools": res.report.n_schools, "headline": res.report.headline,
            "status": "ok"}


def source(res: PublishedResult) -> Section:
    """Source, provenance and licence."""
    return Section("Appendix: source and licence", "source",
                   [Notice(_markdown(res.report.attribution()), "findings")])
