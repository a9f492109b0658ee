"""Pupil-level FSM gaps: hand-computed tables, trends against national, FSM-share pattern."""

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import NotEstimableError
from evaluation.gaps.pupils import (
    ALL_EM,
    cluster_groups,
    fsm_attainment,
    gap_trends,
    gap_vs_fsm_share,
)
from evaluation.national import national_gaps


def pupils_frame():
    """Two primary schools, two cohorts; one secondary school."""
    rows = []
    # school a, 2008: FSM 1/2 pass (aps 25, 27), non-FSM 3/3 (aps 29, 30, 31) + one missing
    for fsm, l4, aps in [(True, 1, 25), (True, 0, 27), (False, 1, 29), (False, 1, 30),
                         (False, 1, 31), (False, np.nan, np.nan)]:
        rows.append(("a", 2008, "primary", fsm, l4, aps, np.nan))
    # school a, 2010: all pass
    for fsm in (True, False, False):
        rows.append(("a", 2010, "primary", fsm, 1.0, 28.0, np.nan))
    # school b, 2008: no FSM pupil
    for _ in range(3):
        rows.append(("b", 2008, "primary", False, 0.0, 24.0, np.nan))
    # school c (secondary), 2008
    for fsm, g in [(True, 0.0), (False, 1.0), (False, 0.0)]:
        rows.append(("c", 2008, "secondary", fsm, np.nan, np.nan, g))
    df = pd.DataFrame(rows, columns=["school_id", "cohort", "phase", "fsm", "ks2_l4_em",
                                     "ks2_aps", "gcse_5ac_em"])
    df.insert(0, "pupil_id", [f"p{i}" for i in range(len(df))])
    return df


SCHOOLS = pd.DataFrame({"school_id": ["a", "b", "c"], "cluster": ["X", "X", None],
                        "role": ["trial", "partner", "comparison"],
                        "fsm_pct": [30.0, 2.0, 10.0]})


def test_fsm_attainment_by_school_and_cohort_hand_computed():
    t = fsm_attainment(pupils_frame(), by=("school_id", "cohort"),
                       outcomes=["ks2_l4_em", "ks2_aps", "gcse_5ac_em"])
    row = t.query("school_id == 'a' and cohort == 2008 and outcome == 'ks2_l4_em'").iloc[0]
    assert (row["fsm_value"], row["non_fsm_value"]) == (50.0, 100.0)
    assert row["gap"] == 50.0 and row["units"] == "percent"
    assert row["overall_value"] == pytest.approx(80.0)
    assert (row["n_fsm"], row["n_non_fsm"], row["n"], row["n_missing"]) == (2, 3, 5, 1)
    assert (row["national_fsm"], row["national_non_fsm"]) == (54.0, 76.0)
    assert row["national_gap"] == 22.0
    aps = t.query("school_id == 'a' and cohort == 2008 and outcome == 'ks2_aps'").iloc[0]
    assert (aps["fsm_value"], aps["non_fsm_value"], aps["gap"]) == (26.0, 30.0, 4.0)
    assert aps["units"] == "points" and np.isnan(aps["national_gap"])
    b = t.query("school_id == 'b' and outcome == 'ks2_l4_em'").iloc[0]
    assert b["n_fsm"] == 0 and np.isnan(b["gap"]) and b["non_fsm_value"] == 0.0
    # each phase only gets its own outcomes
    assert set(t.loc[t["phase"] == "secondary", "outcome"]) == {"gcse_5ac_em"}
    assert set(t.loc[t["phase"] == "primary", "outcome"]) == {"ks2_l4_em", "ks2_aps"}
    c = t.query("school_id == 'c'").iloc[0]
    assert c["national_gap"] == pytest.approx(28.2)


def test_fsm_attainment_by_cluster_keeps_pupils_of_no_cluster():
    p = pupils_frame()
    t = fsm_attainment(p, by="cluster", outcomes="ks2_l4_em", schools=SCHOOLS)
    x = t[t["cluster"] == "X"].iloc[0]
    assert (x["n_fsm"], x["n_non_fsm"], x["n_missing"]) == (3, 8, 1)
    # pooled cohorts: no single national year
    assert np.isnan(x["national_gap"])
    gc = fsm_attainment(p, by="cluster", outcomes="gcse_5ac_em", schools=SCHOOLS)
    assert gc["cluster"].isna().tolist() == [True] and gc["n"].tolist() == [3]
    assert len(p) == 15 and "cluster" not in p  # caller's frame untouched


def test_fsm_attainment_errors_name_argument():
    with pytest.raises(ValueError, match=r"`outcomes` should be among .*got \['ks3'\]"):
        fsm_attainment(pupils_frame(), outcomes="ks3")
    with pytest.raises(ValueError, match="`by` uses school columns \\['cluster'\\]: pass"):
        fsm_attainment(pupils_frame(), by="cluster")
    with pytest.raises(ValueError, match="`by` names columns \\['colour'\\]"):
        fsm_attainment(pupils_frame(), by="colour", schools=SCHOOLS)


def test_cluster_groups_and_trends_in_national_college_form():
    s = SCHOOLS.assign(cluster=["X", "X", "Y"], role=["trial", "partner", "trial"])
    groups = cluster_groups(s, "X")
    assert groups == {"X: trial schools": ("a",), "X: partner schools": ("b",),
                      ALL_EM: ("a", "c")}
    assert cluster_groups(s) == {ALL_EM: ("a", "c"), "All partner schools": ("b",)}
    with pytest.raises(ValueError, match="`cluster` should be one of \\['X', 'Y'\\]; got 'Z'"):
        cluster_groups(s, "Z")
    tr = gap_trends(pupils_frame(), s, {"A": ["a"]}, "ks2_l4_em")
    a = tr.table[tr.table["group"] == "A"].set_index("year")
    assert a.loc[2008, "gap"] == 50.0 and a.loc[2010, "gap"] == 0.0
    assert a.loc[2008, "n_schools"] == 1
    nat = tr.table[tr.table["group"] == "National"].set_index("year")
    assert nat.loc[2008, "gap"] == 22.0 and nat["n"].isna().all()
    ch = tr.changes.set_index("group")
    assert ch.loc["A", "gap_change"] == -50.0 and ch.loc["A", "fsm_change"] == 50.0
    assert ch.loc["National", "gap_change"] == pytest.approx(-0.7)
    assert ch.loc["National", "fsm_change"] == pytest.approx(1.8)
    assert tr.summary().equals(tr.changes)
    with pytest.raises(NotEstimableError,
                       match=r"group 'none': no primary pupils \(for 'ks2_l4_em'\) in its 1 sch"):
        gap_trends(pupils_frame(), s, {"none": ["zz"]}, "ks2_l4_em")


def share_data(gaps_by_school, pct):
    rows = []
    for school, (gap, n_fsm, n_non) in gaps_by_school.items():
        rows += [(school, True, 50.0 - gap)] * n_fsm + [(school, False, 50.0)] * n_non
    p = pd.DataFrame(rows, columns=["school_id", "fsm", "ks2_aps"]).assign(
        phase="primary", cohort=2010)
    s = pd.DataFrame({"school_id": list(pct), "fsm_pct": list(pct.values())})
    return p, s


def test_gap_vs_fsm_share_exact_line_and_bands():
    # gap = 20 - 0.5 * fsm_pct exactly
    pct = {"a": 2.0, "b": 4.0, "c": 10.0, "d": 20.0, "e": 30.0, "z": 3.0}
    gaps = {k: (20 - 0.5 * v, 3, 7) for k, v in pct.items() if k != "z"}
    gaps["z"] = (0.0, 0, 5)  # no FSM pupil: excluded and counted
    p, s = share_data(gaps, pct)
    r = gap_vs_fsm_share(p, s, "ks2_aps")
    assert r.slope == pytest.approx(-0.5) and r.intercept == pytest.approx(20.0)
    assert r.excluded["no FSM pupil with the outcome"] == 1
    assert len(r.schools) == 5 and r.schools["weight"].iloc[0] == pytest.approx(2.1)
    bands = r.bands.set_index("band")
    assert bands.loc["<5%", "mean_gap"] == pytest.approx(18.5)
    assert bands.loc[">18%", "mean_gap"] == pytest.approx(7.5)
    assert r.difference == pytest.approx(-11.0)
    assert bands.loc["5-18%", "n_schools"] == 1
    assert r.summary()["statistic"].iloc[-1] == "difference (>18% minus <5%)"


def test_gap_vs_fsm_share_weights_by_pupils():
    # two low schools: the bigger one dominates the band mean
    pct = {"a": 2.0, "b": 3.0, "d": 20.0, "e": 30.0}
    gaps = {"a": (20.0, 10, 10), "b": (10.0, 1, 1), "d": (5.0, 4, 4), "e": (5.0, 4, 4)}
    p, s = share_data(gaps, pct)
    r = gap_vs_fsm_share(p, s, "ks2_aps")
    low = r.bands.set_index("band").loc["<5%", "mean_gap"]
    assert low == pytest.approx((20 * 5 + 10 * 0.5) / 5.5)
    assert r.difference == pytest.approx(5 - low)


def test_gap_vs_fsm_share_needs_both_bands():
    pct = {"a": 10.0, "b": 12.0, "c": 20.0}
    p, s = share_data({k: (5.0, 3, 3) for k in pct}, pct)
    with pytest.raises(NotEstimableError, match="under 5% and over 18% FSM.*got 0 and 1"):
        gap_vs_fsm_share(p, s, "ks2_aps")


# ----------------------------------------------------------------- default synthetic data

KS2_NAT = national_gaps("ks2_l4_em").set_index("year")["gap"]
KS4_NAT = national_gaps("gcse_5ac_em").set_index("year")["gap"]


@pytest.fixture(scope="module")
def national_trends(default_data):
    ds = default_data
    every = {"all schools": ds.schools["school_id"].tolist()}
    return {m: gap_trends(ds.pupils, ds.schools, every, m)
            for m in ("ks2_l4_em", "gcse_5ac_em")}


@pytest.mark.parametrize("measure, published", [("ks2_l4_em", KS2_NAT),
                                                ("gcse_5ac_em", KS4_NAT)])
def test_default_data_reproduce_national_gaps(national_trends, measure, published):
    t = national_trends[measure].table
    synthetic = t[t["group"] == "all schools"].set_index("year")["gap"]
    for year in (2008, 2009, 2010):
        assert abs(synthetic[year] - published[year]) <= 1.0, (measure, year, synthetic[year])


@pytest.mark.parametrize("measure", ["ks2_l4_em", "gcse_5ac_em"])
def test_default_data_reproduce_national_gap_change(national_trends, measure):
    ch = national_trends[measure].changes.set_index("group")
    # KS2: gap 22 -> 21 (change -0.7); KS4: steady at 28 (change -0.6)
    assert abs(ch.loc["all schools", "gap_change"] - ch.loc["National", "gap_change"]) <= 1.0


def test_default_data_reproduce_fsm_share_pattern(default_data):
    ds = default_data
    r = gap_vs_fsm_share(ds.pupils, ds.schools, "gcse_5ac_em")
    # Published: schools over 18% FSM have gaps about 10 points smaller than schools under 5%.
    # "About 10" is read as 5 to 15 points; the estimate's own 95% CI must also exclude 0.
    assert -15.0 <= r.difference <= -5.0, r.summary()
    assert r.difference_ci[1] < 0
    assert r.slope < 0


def test_gap_charts_respect_threshold():
    from evaluation.plots.gaps import attainment_chart, gap_share_chart, gap_trend_chart

    t = fsm_attainment(pupils_frame(), by=("school_id",), outcomes="ks2_l4_em")
    bars = attainment_chart(t, "ks2_l4_em", threshold=3)
    # a: 3 FSM, 5 non-FSM shown; b: 0 FSM (nothing to omit), 3 non-FSM shown
    assert bars.omitted == 0
    assert attainment_chart(t, "ks2_l4_em", threshold=4).omitted == 2
    s = SCHOOLS.assign(cluster=["X", "X", "Y"], role=["trial", "partner", "trial"])
    trend = gap_trend_chart(gap_trends(pupils_frame(), s, "X", "ks2_l4_em"), threshold=2)
    # trial a: 2008 FSM 2 / non-FSM 3 kept, 2010 FSM 1 dropped; partner b: non-FSM 3 kept
    assert trend.omitted == 2  # a 2010 FSM, and the all-EM panel's 2010 FSM point
    assert "2 points are not shown: each rests on fewer than 2 pupils" in trend.caption
    pct = {"a": 2.0, "b": 4.0, "d": 20.0, "e": 30.0}
    p, sch = share_data({k: (5.0, 12 if k != "e" else 3, 20) for k in pct}, pct)
    share = gap_share_chart(gap_vs_fsm_share(p, sch, "ks2_aps"), threshold=10)
    assert share.omitted == 1
    assert "1 school is not shown: it rests on fewer than 10 pupils" in share.caption


def test_counts_map_lets_disclosure_suppress_small_groups():
    from evaluation.disclosure import suppress
    from evaluation.gaps.pupils import COUNTS

    t = fsm_attainment(pupils_frame(), by="school_id", outcomes="ks2_l4_em")
    safe = suppress(t.drop(columns=["phase"]), COUNTS, threshold=4).values.set_index("school_id")
    assert np.isnan(safe.loc["a", "fsm_value"]) and np.isnan(safe.loc["a", "gap"])
    assert safe.loc["a", "non_fsm_value"] == 100.0


def test_results_do_not_depend_on_row_order():
    p = pupils_frame()
    shuffled = p.sample(frac=1.0, random_state=np.random.default_rng(3)).reset_index(drop=True)
    a = fsm_attainment(p, by=("school_id", "cohort"))
    b = fsm_attainment(shuffled, by=("school_id", "cohort"))
    pd.testing.assert_frame_equal(a, b)
    pct = {"a": 2.0, "b": 4.0, "c": 10.0, "d": 20.0, "e": 30.0}
    q, s = share_data({k: (20 - 0.3 * v, 4, 9) for k, v in pct.items()}, pct)
    r1 = gap_vs_fsm_share(q, s, "ks2_aps")
    r2 = gap_vs_fsm_share(q.iloc[::-1], s.iloc[::-1], "ks2_aps")
    assert r1.slope == pytest.approx(r2.slope) and r1.difference == pytest.approx(r2.difference)


def test_national_figures_alongside_when_the_pupils_have_one_cohort():
    import pandas as pd

    from evaluation.gaps.pupils import fsm_attainment

    p = pd.DataFrame({"school_id": ["a"] * 4, "cohort": 2010, "phase": "primary",
                      "fsm": [True, True, False, False], "ks2_l4_em": [1.0, 0.0, 1.0, 1.0]})
    t = fsm_attainment(p, by="school_id", outcomes="ks2_l4_em")
    assert t[["national_fsm", "national_non_fsm"]].iloc[0].tolist() == [55.8, 77.1]
    p2 = pd.concat([p, p.assign(cohort=2009)])
    assert fsm_attainment(p2, by="school_id", outcomes="ks2_l4_em")["national_fsm"].isna().all()


def test_the_gap_share_scatter_draws_no_school_whose_rates_the_tables_would_withhold(
        default_evaluation):
    """Ninth review: the scatter drew every school with 10 FSM and 10 non-FSM pupils, though
    the tables withhold a rate giving fewer than 10 pupils reaching the measure (or not)."""
    import numpy as np

    from evaluation.plots._chart import Chart
    from evaluation.report.gaps import gaps

    res = default_evaluation
    charts = [p for p in gaps(res).parts if isinstance(p, Chart) and "Scatter" in p.alt]
    checked = 0
    for chart in charts:
        phase = next(ph for ph, g in res.gaps.items() if g.share is not None
                     and f"{g.share.schools.shape[0] - chart.omitted} schools" in chart.alt)
        t = res.gaps[phase].share.schools
        drawn = np.concatenate([c.get_offsets() for c in chart.figure.axes[0].collections
                                if len(c.get_offsets())])
        for x, y in drawn:
            row = t[np.isclose(t["fsm_pct"], x) & np.isclose(t["gap"], y)].iloc[0]
            for rate, n in (("fsm_value", "n_fsm"), ("non_fsm_value", "n_non_fsm")):
                yes = round(row[rate] / 100 * row[n])
                assert min(yes, row[n] - yes) >= 10, (phase, row.to_dict())
            checked += 1
    assert checked > 100


def test_nullable_outcome_columns_give_numbers_with_nan():
    # review 20: a Float64 column gave <NA> in the table (np.isfinite then <NA>, not False)
    p = pd.DataFrame({"school_id": ["a"] * 4, "cohort": 2010, "phase": "primary",
                      "fsm": [True, True, False, False],
                      "ks2_l4_em": pd.array([1.0, None, None, None], dtype="Float64")})
    t = fsm_attainment(p, outcomes="ks2_l4_em")
    assert t["non_fsm_value"].dtype == np.float64 and not np.isfinite(t["non_fsm_value"]).any()
    assert t["fsm_value"].tolist() == [100.0]
