"""A published-data summary gives no withheld gap or hidden count back (issue 14, review 14).

Every summary of the published-gap reports (mean and interval, median, quartiles, spread,
"gap > 0" counts, the slope, the trend's year and the headline) was fitted on every unit with
both figures, the withheld gaps included: with one gap withheld, the summary less the gaps
the table shows rests on that one. The pupil totals added the hidden counts: on the real KS2
2019 file (LA 850) the five hidden counts of other pupils summed to 42, putting each in
[6, 9]. Checked against statsmodels' DerSimonian-Laird (``combine_effects``), pandas'
quantiles of the shown gaps, and a brute-force enumeration of the hidden counts.
"""

from __future__ import annotations

import html as html_lib
import itertools
import re

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from evaluation.gaps.published import UnitGaps, gaps_withheld, published_report
from evaluation.io.dfe import PublishedSource
from evaluation.plan import load_plan
from evaluation.results import PublishedResult

HEADER = ("RECTYPE,ALPHAIND,LEA,ESTAB,URN,SCHNAME,TOTPUPS,TELIG,TFSM6CLA1A,PTFSM6CLA1A,"
          "TNotFSM6CLA1A,PTRWM_EXP,PTRWM_EXP_FSM6CLA1A,PTRWM_EXP_NotFSM6CLA1A")


def _school(i, n_fsm, n_other, fsm_rate, other_rate):
    share = round(100 * n_fsm / (n_fsm + n_other))
    return (f"1,{i},999,{2000 + i},{900000 + i},School {i:02d},{3 * (n_fsm + n_other)},"
            f"{n_fsm + n_other},{n_fsm},{share}%,{n_other},60%,{fsm_rate}%,{other_rate}%")


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    """Fourteen schools with large groups and one whose 8 FSM pupils make its gap withheld."""
    rng = np.random.default_rng(14)
    rows = [_school(i, int(rng.integers(30, 60)), int(rng.integers(40, 90)),
                    int(rng.integers(35, 55)), int(rng.integers(60, 80))) for i in range(1, 15)]
    rows.append(_school(15, 8, 50, 25, 70))
    path = tmp_path_factory.mktemp("la999") / "2021-2022_999_ks2final.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    src = PublishedSource("crafted", "Crafted LA 999", "performance_tables", (path,),
                          "hand-made", "tests")
    return src


def test_one_withheld_gap_is_left_out_of_every_summary(crafted):
    every = published_report(crafted)
    safe = published_report(crafted, threshold=10)
    g = safe.gaps
    assert g.left_out == 1 and len(g.summarised) == 14 and len(g.estimable) == 15
    shown = g.estimable[~gaps_withheld(g.estimable, 10)]
    assert shown["name"].tolist() == g.summarised["name"].tolist()
    assert "School 15" not in shown["name"].tolist()
    # the mean and its interval: statsmodels' DerSimonian-Laird on the shown gaps only
    ref = combine_effects(shown["gap"].to_numpy(), shown["_var"].to_numpy(), method_re="dl")
    half = 1.959964 * ref.sd_eff_w_re
    np.testing.assert_allclose([g.mean, g.mean_lower, g.mean_upper],
                               [ref.mean_effect_re, ref.mean_effect_re - half,
                                ref.mean_effect_re + half], rtol=1e-9)
    assert not np.isclose(every.gaps.mean, g.mean)     # the withheld one did move it
    table = g.summary().set_index("statistic")["value"]
    assert table["median gap (pp)"] == shown["gap"].median()
    assert table["lower quartile (pp)"] == shown["gap"].quantile(0.25)
    assert table["schools with group behind (gap > 0)"] == (shown["gap"] > 0).sum()
    assert table["schools left out of the summary (gap withheld)"] == 1
    assert safe.slope.n == 14 and every.slope.n == 15
    assert "across 14 schools" in safe.headline


def test_the_report_says_what_it_left_out_and_shows_no_withheld_figure(crafted):
    from evaluation.report import sections

    plan = load_plan()
    res = PublishedResult(published_report(crafted, threshold=plan.threshold), plan)
    page = "".join(s._repr_html_() for s in sections(res, "published"))
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg\b.*?</svg>", " ", page,
                                                             flags=re.S)))
    g = res.report.gaps
    assert "Across the 14 schools whose gaps are shown (of 15" in text
    assert f"{g.mean:.1f} percentage points behind" in text
    # the withheld school's rates and gap (25% and 70%: 45.0) appear nowhere
    row = re.search(r"School 15(.*?)</tr>", page, flags=re.S).group(1)
    assert "45.0" not in row and "25.0" not in row and "70.0" not in row
    # the FSM total would give the 8 back; the other pupils' total hides nothing
    n_other = int(g.summarised["n_other"].sum())
    assert f"{n_other:,} other pupils" in text


def _feasible(h, r, t):
    """Values each of ``h`` hidden counts in [1, t - 1] summing to ``r`` can take."""
    values = set()
    for combo in itertools.product(range(1, t), repeat=h):
        if sum(combo) == r:
            values.update(combo)
    return values


@pytest.mark.parametrize("h", [1, 2, 3])
def test_a_pupil_total_is_shown_only_when_it_narrows_no_hidden_count(h):
    t = 6
    for r in range(h, h * (t - 1) + 1):
        hidden = [r - (h - 1)] + [1] * (h - 1)        # any split: only the sum matters
        n = pd.Series([*hidden, 40, 50], dtype="float64")
        table = pd.DataFrame({"n_group": n, "n_other": 100.0, "rate_group": 50.0,
                              "rate_other": 50.0, "gap": 0.0})
        if max(hidden) >= t:
            continue
        g = UnitGaps(table, table, "FSM", "school", "", "schools", 0.0, 0.0, 0.0, 0.0,
                     threshold=t)
        full = _feasible(h, r, t) == set(range(1, t))
        assert np.isfinite(g.pupil_totals()[0]) == full, (h, r)


def test_order_statistics_rest_on_the_shown_gaps_only():
    """Fifteenth review: with 21 of 52 gaps withheld (KS4 2017, LA 936) the summary's upper
    quartile of all 52 (29.2) and "52 with group behind" put one withheld gap at exactly 29,
    five at 30 or more and all 21 above 0. The median, quartiles and sign counts now rest on
    the gaps the table shows, and say so; a reader can recompute them from it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from published_data import real_dir

    from evaluation.report import sections

    plan = load_plan()
    res = PublishedResult(published_report("dfe-ks4-2017-la936", real_dir(), plan.threshold),
                          plan)
    g = res.report.gaps
    assert g.left_out == 0 and len(g.shown) < len(g.summarised)
    section = next(s for s in sections(res, "published") if s.anchor == "distribution")
    summary, table = (p.frame for p in section.parts if hasattr(p, "frame")
                      and ("Value" in p.frame or "Gap (pp)" in p.frame))
    gaps = pd.to_numeric(table["Gap (pp)"], errors="coerce").dropna()
    assert len(gaps) == len(g.shown)
    values = dict(zip(summary[""], summary["Value"], strict=True))
    n = len(gaps)
    assert values[f"median of the {n} shown gaps (pp)"] == f"{gaps.median():.1f}"
    assert values[f"upper quartile of the {n} shown gaps (pp)"] == f"{gaps.quantile(0.75):.1f}"
    assert values[f"schools with group behind (gap > 0), of the {n} shown"] == str(
        int((gaps > 0).sum()))
