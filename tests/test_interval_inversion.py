"""No shown rate and interval of published destinations pins a small count (issue 14, review 14).

The fourteenth review inverted the school reports' Wilson and Newcombe intervals: Thomas
Tallis School's 2021 row (94.0% of 160 other pupils, 89.7 to 97.0) was shown because the rule
guessed rint(94% x 160) = 150 with a destination, while the intervals rested on the published
151, leaving 9 without one; and a whole percentage of more than 100 pupils allows several
counts (95% of 194: 184 or 185), so a single guess let {9, 10} through in 11 rows of the
destinations report. This attacker reads each shown row as a reader would, lists every count
the whole-percent rate allows, keeps those whose intervals (statsmodels' Wilson and
Newcombe, rounded as shown) match, and fails where any kept count leaves fewer than the
threshold pupils with, or without, a destination. Built from the real DfE files (skipped,
saying where, when they are absent).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

sys.path.insert(0, str(Path(__file__).parent))
from published_data import real_dir  # noqa: E402

#: URNs of the review's school-years pinned to 9 (2021, 2022, 2022) and a school with none.
URNS = ("100190", "118097", "136094", "100049")


def _num(text) -> float:
    text = str(text).replace(",", "")
    return float(text) if text not in ("c", "", "nan") else np.nan


def _allowed(rate: float, n: int) -> list[int]:
    """Counts a whole-percent rate of n allows (the DfE rounds these rates to whole numbers);
    the nearest ones where none does exactly (a rate on another base than the cohort)."""
    allowed = [k for k in range(n + 1) if abs(100 * k / n - rate) <= 0.5 + 1e-9]
    return allowed or [k for k in range(n + 1) if abs(100 * k / n - rate) <= 100 / n]


def _one_decimal(x) -> float:
    return float(f"{100 * x:.1f}")


def _pinned(n1, r1, n0, r0, t, group_ci=None, gap_ci=None) -> list[tuple[int, int]]:
    """Count pairs (group, other) consistent with what is shown that leave a small count.

    Any count the rates alone allow that leaves fewer than ``t`` with, or without, is one
    (the reader narrows it to a few values: 95% of 194 is 9 or 10 without); so is any pair
    the intervals keep.
    """
    bad = [(k1, k0) for k1 in _allowed(r1, n1) for k0 in _allowed(r0, n0)
           if min(k1, n1 - k1, k0, n0 - k0) < t]
    if bad:
        return bad
    for k1 in _allowed(r1, n1):
        if group_ci is not None:
            lo, hi = proportion_confint(k1, n1, method="wilson")
            if (_one_decimal(lo), _one_decimal(hi)) != group_ci[0]:
                continue
        for k0 in _allowed(r0, n0):
            if group_ci is not None:
                lo, hi = proportion_confint(k0, n0, method="wilson")
                if (_one_decimal(lo), _one_decimal(hi)) != group_ci[1]:
                    continue
            if gap_ci is not None:
                lo, hi = confint_proportions_2indep(k0, n0, k1, n1, method="newcomb")
                if (_one_decimal(lo), _one_decimal(hi)) != gap_ci:
                    continue
            if min(k1, n1 - k1, k0, n0 - k0) < t:
                bad.append((k1, k0))
    return bad


@pytest.fixture(scope="module")
def plan():
    import evaluation as em

    return em.load_plan()


def test_no_shown_row_of_the_destinations_report_pins_a_small_count(plan):
    import evaluation as em
    from evaluation.report import sections

    res = em.evaluate_published("dfe-ks4-destinations-2017-2022-national", plan, real_dir())
    section = next(s for s in sections(res, "published") if s.anchor == "distribution")
    f = next(p.frame for p in section.parts if hasattr(p, "frame") and "Group pupils" in p.frame)
    shown = f[f["Gap (pp)"] != "c"]
    assert len(shown) > 50
    checked = 0
    for _, row in shown.iterrows():
        n1, n0 = int(_num(row["Group pupils"])), int(_num(row["Other pupils"]))
        r1, r0 = _num(row["Group %"]), _num(row["Other %"])
        gap_ci = (_num(row["95% CI low"]), _num(row["95% CI high"]))
        assert not _pinned(n1, r1, n0, r0, plan.threshold, gap_ci=gap_ci), row["Name"]
        checked += 1
    # the rows the review narrowed to {9, 10} are withheld
    for name in ("Frederick Gough School", "Trinity Academy Halifax"):
        rows = f[f["Name"] == name]
        assert len(rows) == 1 and rows["Gap (pp)"].iloc[0] == "c", name
    assert checked == len(shown)


@pytest.fixture(scope="module")
def schools():
    from evaluation.schools import load_schools

    return load_schools(real_dir(), "dfe-ks4-2023-national",
                        "dfe-ks4-destinations-2017-2022-national")


@pytest.mark.parametrize("urn", URNS)
def test_no_shown_year_of_a_school_report_pins_a_small_count(plan, schools, urn):
    from evaluation.report import sections
    from evaluation.schools import evaluate_school

    res = evaluate_school(urn, plan, data=schools)
    section = next(s for s in sections(res, "school") if s.anchor == "destinations")
    f = next(p.frame for p in section.parts if hasattr(p, "frame"))
    assert not {"k_dis", "k_other"} & set(f.columns)      # the rule's counts, never shown
    # the rule reads the published counts too (review 15: it could not see them)
    assert {"k_dis", "k_other"} <= set(res.destinations.columns)
    for _, row in f.iterrows():
        if row["Disadvantaged %"] == "c" or row["Other %"] == "c":
            continue
        n1, n0 = int(_num(row["Disadvantaged pupils"])), int(_num(row["Other pupils"]))
        group_ci = ((_num(row["95% CI low"]), _num(row["95% CI high"])),
                    (_num(row["95% CI low "]), _num(row["95% CI high "])))
        gap_ci = (_num(row["Gap 95% CI low"]), _num(row["Gap 95% CI high"]))
        bad = _pinned(n1, _num(row["Disadvantaged %"]), n0, _num(row["Other %"]),
                      plan.threshold, group_ci, gap_ci)
        assert not bad, (urn, row["Year published"], bad)
    if urn == "100190":     # Thomas Tallis School, 2021: 151 of 160 in the file, 9 without
        year = f[f["Year published"].astype(str) == "2021"]
        assert (year["Other %"] == "c").all()


def test_a_school_year_has_one_interval_in_both_reports(plan, schools):
    """The destinations report and the school's own report gave two gap intervals for one
    school-year (5.6 to 24.8 against 6.2 to 25.2): one from the rounded rate, one from the
    published count. Both now rest on the published count."""
    import evaluation as em
    from evaluation.schools import evaluate_school

    res = em.evaluate_published("dfe-ks4-destinations-2017-2022-national", plan, real_dir())
    table = res.report.gaps.table.set_index("unit")
    compared = 0
    urns = [u for u in schools.schools.index.astype(str) if u in table.index][:40]
    for urn in urns:
        d = evaluate_school(urn, plan, data=schools).destinations.set_index("year")
        if 2022 not in d.index or urn not in table.index or pd.isna(table.at[urn, "gap_lower"]):
            continue
        np.testing.assert_allclose(
            [table.at[urn, "gap_lower"], table.at[urn, "gap_upper"]],
            [d.at[2022, "gap_lower"], d.at[2022, "gap_upper"]], rtol=0, atol=1e-9)
        compared += 1
    assert compared >= 3
