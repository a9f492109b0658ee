"""Figures against their tables: every chart is read back from its figure and compared."""

import re
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from report_set import cluster as cluster_evaluation

from evaluation.plots.balance import love_plot
from evaluation.plots.impact import AXIS_LIMIT, forest_plot
from evaluation.report.matching import balance_rows

sys.path.insert(0, str(Path(__file__).parent))
from figures import errorbar_points, same_name, scatter_points, ytick_labels  # noqa: E402


def _check_love_plot(chart, rows: pd.DataFrame):
    """Each drawn point sits on its own characteristic's row at |SMD| of the table."""
    drawn = scatter_points(chart.figure.axes[0])
    assert len(drawn) == 2 * len(rows)
    for stage, series in (("before", "before matching"), ("after", "after matching")):
        want = rows.set_index("label")[f"smd_{stage}"].abs().round(2)   # as the table shows
        got = drawn[drawn["series"] == series].set_index("label")["x"]
        assert sorted(got.index) == sorted(want.index)
        np.testing.assert_allclose(got[want.index].to_numpy(), want.to_numpy(), rtol=1e-12)
    # Chart.data says the same as the figure
    data = chart.data.set_index(["series", "label"])["x"].sort_index()
    np.testing.assert_allclose(data.to_numpy(),
                               drawn.set_index(["series", "label"])["x"].sort_index().to_numpy())


def test_love_plot_puts_each_point_on_its_own_row():
    # data order differs from the plotted (sorted) order: the bug of issue 12
    rows = pd.DataFrame({"label": ["prior attainment", "FSM", "EAL"],
                         "smd_before": [-0.83, 1.61, 0.1], "smd_after": [-0.2, 0.04, 0.0]})
    chart = love_plot(rows)
    _check_love_plot(chart, rows)
    ticks = ytick_labels(chart.figure.axes[0])
    assert ticks[max(ticks)] == "FSM"  # the largest imbalance at the top
    ax = chart.figure.axes[0]
    markers = {c.get_label(): c.get_facecolors() for c in ax.collections}
    assert len(markers["before matching"]) == 0 or markers["before matching"][0][3] == 0
    assert markers["after matching"][0][3] == 1  # hollow before, filled after
    xs = [line.get_xdata() for line in ax.lines if len(line.get_xdata()) == 2]
    lines = sorted(round(float(x[0]), 2) for x in xs if x[0] == x[1])
    # one source: the lines drawn, the alt text and the caption use the balance table's WWC
    # limits (a review found alt text saying 0.05/0.1 beside a table using 0.25)
    from evaluation.balance import WWC_BANDS

    assert lines == [b for b, _ in WWC_BANDS if np.isfinite(b)] == [0.05, 0.25]
    said = sorted(float(v) for v in re.findall(r"lines at [^.]*?(\d\.\d+)[^.]*?(\d\.\d+)",
                                                 chart.alt)[0])
    assert said == lines, chart.alt
    assert "0.1 " not in chart.alt and "0.1)" not in chart.alt
    assert "1 are above the What Works Clearinghouse limit of 0.25" not in chart.caption
    assert "0 are above the What Works Clearinghouse limit of 0.25" in chart.caption
    assert not plt.get_fignums()


def _check_forest(chart, table: pd.DataFrame):
    drawn = errorbar_points(chart.figure.axes[0]).set_index("label")
    want = table.set_index(table["label"].astype(str))
    assert sorted(drawn.index) == sorted(chart.data["label"])
    for label, row in drawn.iterrows():
        w = want.loc[label]
        lim = AXIS_LIMIT
        # at the table's two decimals exactly: finer, the SVG gives what the table rounds
        for col, key in (("x", "effect_size"), ("low", "es_ci_low"), ("high", "es_ci_high")):
            assert row[col] == pytest.approx(np.clip(round(w[key], 2), -lim, lim), abs=1e-12)


def test_forest_plot_draws_each_interval_and_counts_omissions():
    t = pd.DataFrame({"label": ["Points", "Pass rate"], "effect_size": [0.2, -0.1],
                      "es_ci_low": [0.05, -0.4], "es_ci_high": [0.35, 0.2],
                      "es_type": ["Hedges' g", "Cox index"], "n_em": [50, 50],
                      "n_comparison": [400, 400], "months": [3, -1],
                      "informative": [True, True]})
    chart = forest_plot(t)
    _check_forest(chart, t)
    assert chart.omitted == 0 and "zero line" in chart.caption
    small = forest_plot(t.assign(n_em=[50, 5]))
    assert small.omitted == 1 and "fewer than 10 pupils" in small.caption
    assert list(small.data["label"]) == ["Points"]
    wide = t.assign(es_ci_low=[-0.2, -120.0], es_ci_high=[0.3, 120.0])
    cut = forest_plot(wide)
    _check_forest(cut, wide)
    assert cut.figure.axes[0].get_xlim() == pytest.approx((-2.1, 2.1))
    assert "1 interval(s) reach beyond \u00b12 SD" in cut.caption
    assert "-120.00 to 120.00" in cut.alt
    useless = forest_plot(t.assign(informative=[True, False]))
    assert list(useless.data["label"]) == ["Points"] and "Pass rate" in useless.caption
    assert not plt.get_fignums()


def test_every_chart_of_the_overall_result_matches_its_table(default_evaluation):
    res = default_evaluation
    checked = 0
    for pe in res.phases.values():
        if not pe.estimable:
            continue
        rows = balance_rows(pe.balance, res.plan)
        _check_love_plot(love_plot(rows), rows)
        table = pe.impact.table()
        _check_forest(forest_plot(table), table[table["effect_size"].notna()])
        checked += 2
    het = res.heterogeneity()
    for _, part in het[het["estimate"].notna()].groupby("phase"):
        part = part.assign(label=part["cluster"])
        _check_forest(forest_plot(part, threshold=1), part)
        checked += 1
    assert checked >= 5


def _texts(chart):
    fig = chart.figure
    out = [chart.caption, chart.alt, fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend:
            out += [t.get_text() for t in legend.get_texts()]
    return out


def test_every_chart_names_what_it_shows_in_readers_words(default_evaluation, plan):
    """Titles, axes, legends, captions and alt texts use the plan's labels, never code names."""
    from evaluation.plots import Chart
    from evaluation.report import sections

    codes = {o["name"] for phase in plan.raw["outcomes"].values() for o in phase}
    codes |= set(plan.raw["covariates"]) | set(plan.raw["prior"].values())
    codes = {c for c in codes if plan.covariate_label(c) != c}  # 'ethnicity' is a word too
    n = 0
    for section in sections(default_evaluation):
        for chart in (p for p in section.parts if isinstance(p, Chart)):
            texts = " | ".join(_texts(chart))
            leaked = {c for c in codes if re.search(rf"\b{c}\b", texts)}
            assert not leaked, (section.anchor, leaked, texts[:300])
            n += 1
        if section.anchor == "gaps":  # every chart is titled by the measure it draws
            labels = {plan.label(g.measure) for g in default_evaluation.gaps.values()}
            for chart in (p for p in section.parts if isinstance(p, Chart)):
                suptitle, title = _texts(chart)[2:4]
                assert any(lb in suptitle or lb in title for lb in labels), (suptitle, title)
    assert n >= 8


def test_forest_plot_leaves_out_rows_its_table_hides():
    """Ninth review: the clusters' forest plot drew a cluster whose table row was hidden (its
    counts withheld to protect another's) with its estimate in the alt text."""
    t = pd.DataFrame({"label": ["A", "B", "C"], "effect_size": [0.2, -0.1, 0.3],
                      "es_ci_low": [0.05, -0.4, 0.1], "es_ci_high": [0.35, 0.2, 0.5],
                      "es_type": "Hedges' g", "n_em": [50, 50, 40],
                      "n_comparison": [400, 400, 300], "months": [3, -1, 4],
                      "informative": True})
    chart = forest_plot(t, hidden=pd.Series([False, True, False]))
    assert sorted(chart.data["label"]) == ["A", "C"] and chart.omitted == 1
    assert "B " not in chart.alt and "1 row is not shown" in chart.caption


def _cut_off(chart) -> tuple | None:
    """The box of what a chart draws where it reaches beyond its figure, else None.

    The figures are drawn at their laid-out size, not cropped to their content
    (``Chart.svg``): a title or label wider than the figure would be cut off for a reader.
    Measured as matplotlib lays the figure out (its own font metrics), in inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = chart.figure
    box = fig.get_tightbbox(FigureCanvasAgg(fig).get_renderer())
    width, height = fig.get_size_inches()
    tol = 0.01
    if box.x0 < -tol or box.y0 < -tol or box.x1 > width + tol or box.y1 > height + tol:
        return tuple(round(float(v), 2) for v in (box.x0, box.y0, box.x1, box.y1, width,
                                                  height))
    return None


def test_no_chart_text_is_cut_off(default_evaluation, default_data, plan):
    """Every title, label, tick label and legend entry lies inside its figure, for the
    overall report, a secondary cluster's report (its tracking chart) and a published
    data set's gap-against-share chart with the longest share label the readers give."""
    import dataclasses

    from evaluation import config
    from evaluation.gaps.published import gap_vs_share, unit_gaps
    from evaluation.io.dfe import FIXTURES, read_performance_tables
    from evaluation.plots import Chart
    from evaluation.plots.published import gap_share_chart
    from evaluation.report import sections

    cluster = cluster_evaluation(config.DEFAULT_SEED, "Secondary phase 1")
    charts = [p for res in (default_evaluation, cluster) for s in sections(res)
              for p in s.parts if isinstance(p, Chart)]
    gaps = unit_gaps(read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv"))
    gaps = dataclasses.replace(gaps, share_label="Percentage of pupils eligible for FSM at "
                               "any time during the past 6 years")
    charts.append(gap_share_chart(gaps, gap_vs_share(gaps)))
    assert len(charts) >= 15
    cut = {c.alt[:60]: t for c in charts if (t := _cut_off(c))}
    assert cut == {}, cut


def test_no_chart_text_is_cut_off_with_long_school_and_cluster_names(default_data, plan):
    """Review of issue 17: the figures are no longer cropped to their content, and a
    cluster's bar chart by school put its legend past the figure's edge with school names of
    50 characters (the national KS4 file has 100 such names, the longest 83: "St Francis
    Xavier School - a Joint Catholic and Church of England Voluntary Academy"), and its
    names past the left edge with longer ones; the trend chart's panel title, a long
    cluster name, ran past both edges."""
    from evaluation import config
    from evaluation.plots import Chart
    from evaluation.report import sections
    from evaluation.results import evaluate

    name = ("The Northern Moors, Dales and Coast Secondary Schools Partnership (Phase 1, "
            "2008 Cohort)")
    ds = default_data.copy()
    inside = ds.schools["cluster"] == "Secondary phase 1"
    ds.schools.loc[inside, "school_name"] = (
        ds.schools.loc[inside, "school_name"]
        + " - a Joint Catholic and Church of England Voluntary Academy")
    ds.schools["cluster"] = ds.schools["cluster"].replace("Secondary phase 1", name)
    result = evaluate(ds, plan, cluster=name, seed=config.DEFAULT_SEED)
    charts = [p for s in sections(result) for p in s.parts if isinstance(p, Chart)]
    assert len(charts) >= 3
    cut = {c.alt[:60]: t for c in charts if (t := _cut_off(c))}
    assert cut == {}, cut


def test_a_wrapped_school_name_reads_back_as_the_tables_name():
    """Review of fbceab2: a school's name is wrapped in the bar chart, and test_agreement
    read a label back by joining its lines with a space. textwrap breaks after a hyphen
    ("Stoke-on-" / "Trent") and inside a word longer than a line, so such a name (common
    in real school names) no longer matched its table though the chart showed it whole."""
    from evaluation.gaps.pupils import fsm_attainment
    from evaluation.plots.gaps import attainment_chart

    names = ["Newcastle-under-Lyme, Stoke-on-Trent and Kingston-upon-Thames Academy-Trust",
             "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch-Community-Primary",
             "A short school"]
    pupils = pd.DataFrame({"school_id": np.repeat(names, 20), "cohort": 2010,
                           "phase": "primary", "fsm": ([True] * 10 + [False] * 10) * 3,
                           "ks2_l4_em": [1.0, 0.0] * 30})
    table = fsm_attainment(pupils)
    chart = attainment_chart(table, "ks2_l4_em", threshold=10)
    labels = [t.get_text() for t in chart.figure.axes[0].get_yticklabels()]
    assert any("\n" in label for label in labels)           # the long names are wrapped
    assert all(map(same_name, labels, table[table.columns[0]])), labels
    # as test_agreement read them: the hyphenated and the long names did not match
    assert [v.replace("\n", " ") for v in labels] != table[table.columns[0]].tolist()
    assert _cut_off(chart) is None
    assert not same_name("Stoke-on- Trent", "Stoke-on-Trent School")
