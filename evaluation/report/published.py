"""Sections of a published-data gap report: findings, gaps by school, slope, references."""

from __future__ import annotations

import html
import re

import pandas as pd

from evaluation.disclosure import SafeTable
from evaluation.gaps.published import INTERNAL_COLUMNS, RANDOM_EFFECTS, gaps_withheld
from evaluation.numbers import signed
from evaluation.plots.published import (
    dense,
    gap_distribution_chart,
    gap_share_chart,
    gap_trend_chart,
)
from evaluation.report.display import Notice, Section
from evaluation.report.tables import (
    hidden_flags,
    safe_table,
    threshold,
)
from evaluation.results import PublishedResult

GAP_LABELS = {"name": "Name", "n_group": "Group pupils", "n_other": "Other pupils",
              "rate_group": "Group %", "rate_other": "Other %", "gap": "Gap (pp)",
              "gap_lower": "95% CI low", "gap_upper": "95% CI high",
              "gap_shrunk": "Shrunk gap (pp)", "share": "Group share %", "level": "Level",
              "status": "What the file says"}
#: Columns dropped from a table when the file gives none of them (no counts, no intervals).
NUMERIC = ("n_group", "n_other", "gap_lower", "gap_upper", "gap_shrunk", "share")
COUNTS = {"rate_group": "n_group", "rate_other": "n_other",
          "gap": ["n_group", "n_other"], "gap_lower": ["n_group", "n_other"],
          "gap_upper": ["n_group", "n_other"], "gap_shrunk": ["n_group", "n_other"],
          # the group's share of the pupils, with the other pupils, gives the group's count
          "share": ["n_group", "n_other"]}
#: A row's rates and gap are hidden together where its gap is withheld
#: (:func:`evaluation.gaps.published.gaps_withheld`, the rule of every report of the set).
RATE_STATISTICS = ("rate_group", "rate_other", "gap", "gap_lower", "gap_upper", "gap_shrunk")


#: How the slope's verdict reads against the source documents' claim.
CLAIM = {"agree": "agree with", "contradict": "contradict",
         "inconclusive": "neither confirm nor contradict"}


#: The status of a unit with both figures published, left blank in a long table (a note says so).
BOTH_PUBLISHED = "published"


class DenseTable(SafeTable):
    """A long table (every school of a national file) in light markup: the same cells.

    The same suppressed, formatted frame as :class:`evaluation.disclosure.SafeTable` (an
    instance of it, so the output checker logs it), with numbers right-aligned by one CSS rule
    instead of a class on every cell, and a unit's "What the file says" left blank when both
    figures are published (the note above the table says so): a third of the weight.
    """

    def _repr_html_(self) -> str:
        numeric = [pd.api.types.is_numeric_dtype(self.values[c])
                   and not pd.api.types.is_bool_dtype(self.values[c])
                   for c in self.values.columns]
        esc = html.escape
        head = "".join(f'<th class="{"num" if n else "txt"}">{esc(str(c))}</th>'
                       for c, n in zip(self.frame.columns, numeric, strict=True))
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(str(v))}</td>" if n else f'<td class="t">{esc(str(v))}'
                             "</td>" for v, n in zip(row, numeric, strict=True)) + "</tr>"
            for row in self.frame.itertuples(index=False))
        style = ("<style>table.em-dense td{text-align:right;font-variant-numeric:tabular-nums}"
                 "table.em-dense td.t{text-align:left}</style>")
        note = f'<p class="em-footnote">{esc(self.footnote)}</p>' if self.footnote else ""
        return (f'{style}<table class="em-table em-dense"><thead><tr>{head}</tr></thead>'
                f"<tbody>{rows}</tbody></table>{note}")


def dense_table(table: SafeTable) -> SafeTable:
    """Return the table in light markup when it is long (``plots.published.dense``).

    Examples
    --------
    >>> from evaluation.disclosure import suppress
    >>> t = suppress(pd.DataFrame({"n": range(400)}), {}, threshold=10)
    >>> type(dense_table(t)).__name__, '<td>399</td>' in dense_table(t)._repr_html_()
    ('DenseTable', True)
    """
    if not dense(table.frame):
        return table
    import dataclasses

    return DenseTable(**{f.name: getattr(table, f.name) for f in dataclasses.fields(table)})


def _share_words(gaps) -> str:
    """`` (<what the share is>)`` when it is not the file's own share of the group."""
    return f" ({gaps.share_label[0].lower()}{gaps.share_label[1:]})" if gaps.share_label else ""


def _labels(gaps) -> dict:
    """Column labels in the gaps' unit (percentages and pp, or mean scores and points)."""
    labels = dict(GAP_LABELS)
    if gaps.share_label:
        labels["share"] = "Share % (census)"
    if gaps.unit == "pp":
        return labels
    return {**labels, "rate_group": "Group (mean)", "rate_other": "Other (mean)",
            "gap": "Gap (points)", "gap_shrunk": "Shrunk gap (points)"}


def _counts(df: pd.DataFrame, counts: dict = COUNTS) -> dict:
    """Keep the statistics whose count columns the table has.

    A file without cohort counts has none: its figures were suppressed by the Department
    before publication, code by code (counted in the data-quality appendix).
    """
    def present(v):
        return all(c in df.columns for c in ([v] if isinstance(v, str) else v))

    return {k: v for k, v in counts.items() if present(v)}


def gap_table(res: PublishedResult, table: pd.DataFrame) -> SafeTable:
    """Return a table of units' gaps as every section shows it (one rule, one decision).

    The counts below the threshold are hidden with every figure resting on them, and, for
    rates, a row's figures where a rate of its pupils gives fewer than the threshold pupils
    reaching the measure or not.
    """
    withheld = gaps_withheld(table, threshold(res.plan), res.report.gaps.unit).tolist()
    table = table.drop(columns=[c for c in INTERNAL_COLUMNS if c in table])
    return safe_table(res.plan, table, _counts(table), labels=_labels(res.report.gaps),
                      hide={c: withheld for c in RATE_STATISTICS if c in table})


def _gap_columns(res: PublishedResult) -> pd.DataFrame:
    """Return the gaps table with the columns a reader is shown (those with any value).

    The published counts reaching the measure come along for :func:`gap_table`'s rule,
    which drops them before showing the table.
    """
    gaps = res.report.gaps
    cols = [c for c in GAP_LABELS if c in gaps.table.columns
            and (c not in NUMERIC or gaps.table[c].notna().any())]
    return gaps.table[cols + [c for c in ("k_group", "k_other") if c in gaps.table]]


def _gap_hidden(res: PublishedResult) -> pd.DataFrame:
    """Return which cells of the gaps table are hidden, indexed like it (any row order)."""
    table = _gap_columns(res)
    return hidden_flags(gap_table(res, table), table)


def _distribution_table(res: PublishedResult) -> tuple[pd.DataFrame, SafeTable]:
    """Every unit, widest shown gap first, then those whose gap is withheld, by name.

    A withheld gap is not placed by its value: sorted among the shown ones, it would lie
    between its neighbours' (tenth review of issue 14: 1,541 of 2,664 withheld destination
    gaps were pinned exactly).
    """
    table = _gap_columns(res)
    withheld = _gap_hidden(res)["gap"]
    table = pd.concat([
        table[~withheld].sort_values("gap", ascending=False, na_position="last"),
        table[withheld].sort_values("name", kind="stable")])
    return table, gap_table(res, _blank_published(table))


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
    across = (f"Across the {n:,} {g.unit_plural} that published both figures"
              if not g.left_out else
              f"Across the {n - g.left_out:,} {g.unit_plural} whose gaps are shown (of {n:,} "
              f"that published both figures: the other {g.left_out:,} rest on fewer than "
              f"{g.threshold} pupils, too few to summarise without giving one away)")
    if g.method == RANDOM_EFFECTS:
        spread = (f"Gaps differ between {g.unit_plural}: the spread of their true gaps "
                  f"(standard deviation) is about {g.tau:z.1f} points, once sampling noise in "
                  "small cohorts is allowed for.")
    else:
        q1, q3 = g.shown["gap"].quantile([0.25, 0.75])
        spread = (f"Gaps differ between {g.unit_plural}: the middle half"
                  + (f" of the {len(g.shown):,} shown" if len(g.shown) < len(g.summarised)
                     else "") + f" lie between {q1:z.1f} "
                  f"and {q3:z.1f} {g.unit_words}; the file has no cohort counts, so sampling "
                  f"noise cannot be told apart from true differences and every "
                  f"{g.unit_label} counts equally in the mean.")
    sentences = [
        f"{across}, {g.group} pupils were on average {g.mean:z.1f} {g.unit_words} behind "
        f"other pupils ({g.measure_label}; 95% CI "
        f"{g.mean_lower:z.1f} to {g.mean_upper:z.1f}).",
        spread,
        f"For each 10 points more {g.group} pupils{_share_words(g)}, the gap changes "
        f"by {signed(s.slope, 1)} {g.unit_words} (95% CI {signed(s.lower, 1)} to "
        f"{signed(s.upper, 1)}): these data {CLAIM[s.verdict]} the source documents' claim "
        "that schools with more disadvantaged pupils have smaller gaps.",
        f"{total - n:,} of the {total:,} {g.unit_plural} in the file did not publish both "
        "figures (small cohorts are suppressed by the Department); they are counted in the "
        "data-quality appendix, not dropped.",
    ]
    trend = res.report.trend
    if len(trend) > 1:
        first, last = trend.iloc[0], trend.iloc[-1]
        sentences.insert(1, (
            f"From {first['year']} to {last['year']} the mean gap across {g.unit_plural} went "
            f"from {first['mean']:z.1f} to {last['mean']:z.1f} {g.unit_words}"
            + (f", and the national row's gap from {first['national_gap']:z.0f} to "
               f"{last['national_gap']:z.0f}" if trend["national_gap"].notna().all() else "")
            + "."))
    body = "".join(f"<p>{html.escape(t)}</p>" for t in sentences)
    return Section("Findings", "findings", [Notice(body, "findings")])


def gap_distribution(res: PublishedResult) -> Section:
    """Summary of the gaps, each unit's gap with its interval, and the chart."""
    gaps = res.report.gaps
    summary = gaps.summary()
    counts = summary["statistic"].str.startswith(gaps.unit_plural)   # units counted
    shown = pd.DataFrame({
        "": summary["statistic"],
        "Value": [f"{int(v):,}" if c else f"{v:z.1f}"
                  for v, c in zip(summary["value"], counts, strict=True)]})
    table, safe = _distribution_table(res)
    if gaps.method == RANDOM_EFFECTS:
        how = ("Intervals are 95% Newcombe intervals; the shrunk gap pulls small cohorts "
               "towards the mean.")
    else:
        how = (f"The mean weighs every {gaps.unit_label} equally, with a 95% t interval: "
               "the file gives no cohort counts, so no interval per "
               f"{gaps.unit_label} and no shrinkage.")
    return Section("Gap distribution", "distribution", [
        f"Gap = other pupils' figure minus the group's, in {gaps.unit_words} (positive: the "
        f"group is behind). {how} LA, regional and national rows are references (drawn as "
        "lines), never part of the summary.",
        safe_table(res.plan, shown),
        gap_distribution_chart(gaps, hidden=hidden_flags(safe, table),
                               threshold=threshold(res.plan)),
        *([f"Every {gaps.unit_label}, widest gap first; 'What the file says' is left blank "
           "where both figures are published."] if dense(table) else []),
        dense_table(safe),
        safe_table(res.plan, gaps.status_counts().rename(columns={"status": "What the file says",
                                                                  "schools": "Units"})),
    ])


def _blank_published(table: pd.DataFrame) -> pd.DataFrame:
    """Blank the status of units with both figures published, in a long table only."""
    if not dense(table) or "status" not in table:
        return table
    both = table["status"].astype(str).str.fullmatch(r"[^:;]+: published; [^:;]+: published")
    return table.assign(status=table["status"].where(~both, ""))


def slope(res: PublishedResult) -> Section:
    """Show the gap against the share of the group, with the fitted slope."""
    s = res.report.slope
    g = res.report.gaps
    text = (f"For each 10 points more {g.group} pupils{_share_words(g)}, the gap "
            f"changes by {signed(s.slope, 1)} {g.unit_words} (95% CI {signed(s.lower, 1)} to "
            f"{signed(s.upper, 1)}, {s.n:,} {g.unit_plural}): these data {CLAIM[s.verdict]} the "
            "claim.")
    return Section("Gap against the share of disadvantaged pupils", "share",
                   ["The source documents claim that schools with more FSM pupils have smaller "
                    "gaps (a negative slope).", text,
                    gap_share_chart(g, s, hidden=_gap_hidden(res),
                                    threshold=threshold(res.plan))])


TREND_LABELS = {"year": "Year", "units": "Schools with both figures",
                "mean": "Mean school gap", "mean_lower": "95% CI low",
                "mean_upper": "95% CI high", "national_group": "National: group",
                "national_other": "National: other", "national_gap": "National gap",
                "national_n_group": "National: group pupils",
                "national_n_other": "National: other pupils"}
TREND_COUNTS = {"national_group": "national_n_group", "national_other": "national_n_other",
                "national_gap": ["national_n_group", "national_n_other"]}


def trend(res: PublishedResult) -> Section:
    """Show the gap year by year when the source holds several years of the same table."""
    t, g = res.report.trend, res.report.gaps
    if len(t) < 2:
        year = res.report.source.year or "one year"
        return Section("Gap by year", "trend", [
            f"This source holds one year ({year}): no trend to show."])
    shown = t[[c for c in TREND_LABELS if c in t.columns]]
    return Section("Gap by year", "trend", [
        f"Each year's file read the same way: the mean gap across {g.unit_plural} (schools "
        f"only, {g.unit_words}) and the national row the Department publishes in the file.",
        safe_table(res.plan, shown, TREND_COUNTS, labels=TREND_LABELS),
        gap_trend_chart(t, g.unit, g.group),
    ])


def references(res: PublishedResult) -> Section:
    """LA, regional and national rows of the file."""
    ref = res.report.reference_table()
    return Section("LA, regional and national rows", "references",
                   [gap_table(res, ref)])


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
