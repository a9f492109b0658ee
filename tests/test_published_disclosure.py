"""The published-data reports follow the set's disclosure rules (issue 14, fourth review).

A hidden count of a school's group must not come back through its share of the pupils
("Group share %" with the other pupils gave 1 disadvantaged pupil of 26); a rate must not be
shown where it gives fewer than the threshold pupils reaching the measure, or not (the school
reports withheld what the national report printed); and the figures draw only what the
tables show. Built from the real DfE files (skipped, saying where, when they are absent).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from published_data import real_dir  # noqa: E402

SOURCES = ("dfe-ks2-2017-la850", "dfe-ks4-destinations-2017-2022-national")


@pytest.fixture(scope="module", params=SOURCES)
def report(request):
    import evaluation as em
    from evaluation.report import sections

    plan = em.load_plan()
    res = em.evaluate_published(request.param, plan, real_dir())
    return plan, res, sections(res, "published")


def _number(text):
    return float(str(text).replace(",", "")) if str(text) not in ("c", "") else np.nan


def test_no_hidden_count_comes_back_through_a_share_or_a_rate(report):
    plan, res, secs = report
    t = plan.threshold
    tables = [p.frame for s in secs for p in s.parts
              if hasattr(p, "frame") and "Group pupils" in p.frame]
    assert tables
    for f in tables:
        hidden = (f["Group pupils"] == "c") | (f["Other pupils"] == "c")
        if "Group share %" in f:
            assert (f.loc[hidden, "Group share %"] == "c").all()
        if res.report.gaps.unit != "pp":
            continue
        for rate, n in (("Group %", "Group pupils"), ("Other %", "Other pupils")):
            r = f[rate].map(_number).to_numpy()
            size = f[n].map(_number).to_numpy()
            reach = np.rint(r / 100 * size)
            shown = ~np.isnan(r)
            small = ((reach > 0) & (reach < t)) | ((size - reach > 0) & (size - reach < t))
            assert not (shown & small).any(), f.loc[shown & small, ["Name", rate, n]].head()


def test_the_charts_draw_only_the_gaps_the_table_shows(report):
    _plan, _res, secs = report
    section = next(s for s in secs if s.anchor == "distribution")
    table = next(p.frame for p in section.parts
                 if hasattr(p, "frame") and "Group pupils" in p.frame)
    shown = table["Gap (pp)"].map(_number).dropna() if "Gap (pp)" in table else \
        table["Gap (points)"].map(_number).dropna()
    chart = next(p for p in section.parts if hasattr(p, "figure"))
    dots = next(line for line in chart.figure.axes[0].get_lines() if line.get_marker() == "o")
    drawn = np.sort(np.asarray(dots.get_ydata(), dtype=float))
    np.testing.assert_allclose(drawn, np.sort(shown.to_numpy()), atol=0.051)
    assert "are not shown: each rests on fewer than 10" in chart.caption or len(drawn) == len(table)


def test_a_school_s_place_rests_only_on_gaps_the_schools_own_reports_show():
    """Fifth review: the median, ranks and counts of "Place among schools" were computed over
    every school's latest destinations gap, 2,372 of 2,496 of them hidden in their own reports
    (Haverstock's own hidden gap was among its similar schools' 20)."""
    import evaluation as em
    from evaluation.schools import evaluate_school, load_schools
    from evaluation.schools.result import destination_gap_shown

    plan = em.load_plan()
    data = load_schools(real_dir(), "dfe-ks4-2023-national",
                        "dfe-ks4-destinations-2017-2022-national")
    latest = data.destinations.sort_values("year").groupby("urn").tail(1)
    shown = latest[destination_gap_shown(latest, plan.threshold)]
    in_table = shown["urn"].isin(data.schools.index).sum()
    res = evaluate_school("100049", plan, data=data)
    row = res.place.set_index("measure").loc["Sustained destinations gap, latest year (pp)"]
    assert row["all_n"] == in_table < len(latest) / 2
    assert np.isnan(row["value"]) and np.isnan(row["all_rank"])   # its own gap is hidden
    assert row["similar_n"] <= len(res.similar)


def test_no_rate_of_0_or_100_percent_says_every_pupil_of_a_group_shares_it():
    """Sixth review: St Ursula's Convent School's report showed 31 disadvantaged pupils at
    100.0% with a sustained destination (2021), and its summary said so in words: every one
    of them. Such a year is withheld like one with fewer than 10 pupils either way."""
    import evaluation as em
    from evaluation.report import sections
    from evaluation.schools import evaluate_school, load_schools

    plan = em.load_plan()
    data = load_schools(real_dir(), "dfe-ks4-2023-national",
                        "dfe-ks4-destinations-2017-2022-national")
    res = evaluate_school("100193", plan, data=data)
    html = "".join(s._repr_html_() for s in sections(res, "school"))
    assert "100.0" not in html and "100%" not in html


def test_a_withheld_gap_is_not_placed_among_the_shown_ones_by_its_value(report):
    """Tenth review: "every school, widest gap first" sorted on the true gap, withheld ones
    included, so each withheld gap lay between its shown neighbours (St Andrew's, LA 936,
    between two rows of 21.0, was exactly 21). Shown gaps come first, widest first; then the
    withheld ones, by name."""
    _plan, _res, secs = report
    section = next(s for s in secs if s.anchor == "distribution")
    table = next(p.frame for p in section.parts
                 if hasattr(p, "frame") and "Group pupils" in p.frame)
    col = "Gap (pp)" if "Gap (pp)" in table else "Gap (points)"
    hidden = (table[col] == "c").to_numpy()
    assert hidden.any() and not hidden[:hidden.argmax()].any()          # one block, at the end
    assert hidden[hidden.argmax():].all()
    shown = table.loc[~hidden, col].map(_number).dropna().to_numpy()
    assert (np.diff(shown) <= 0).all()
    names = table.loc[hidden, "Name"].tolist()
    assert names == sorted(names)
