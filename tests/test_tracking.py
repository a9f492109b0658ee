"""Termly class tracking: the published Year 5 table, closing rules, summaries."""

import numpy as np
import pandas as pd
import pytest

from evaluation.tracking import class_gap_table, closing_summary, published_layout

# The 2013 report's Year 5 example: (term, subject) -> (FSM APS, whole class APS, gap, closing).
PUBLISHED = {
    ("autumn", "reading"): (19.9, 22.1, -2.2, None),
    ("autumn", "writing"): (17.5, 20.4, -2.9, None),
    ("autumn", "numeracy"): (17.0, 19.0, -2.0, None),
    ("spring", "reading"): (22.3, 23.4, -1.1, True),
    ("spring", "writing"): (19.9, 21.2, -1.3, True),
    ("spring", "numeracy"): (18.9, 21.6, -2.7, False),
}
N_FSM, N_CLASS = 6, 30
SPREAD = np.array([-1.5, -0.5, 0.0, 0.0, 0.5, 1.5])  # sums to zero: the FSM mean stays exact


def year5_rows() -> pd.DataFrame:
    """30 pupils, 6 FSM, whose class figures (FSM included) reproduce the published table."""
    rows = []
    for (term, subject), (fsm_aps, class_aps, _, _) in PUBLISHED.items():
        rest = (N_CLASS * class_aps - N_FSM * fsm_aps) / (N_CLASS - N_FSM)
        scores = np.concatenate([fsm_aps + SPREAD, np.full(N_CLASS - N_FSM, rest)])
        for i, aps in enumerate(scores):
            rows.append({"pupil_id": f"p{i:02d}", "school_id": "s1", "class_id": "Y5",
                         "term": term, "subject": subject, "aps": aps, "fsm": i < N_FSM})
    return pd.DataFrame(rows)


def test_rebuilds_published_year5_table():
    table = class_gap_table(year5_rows())
    assert len(table) == 6
    for row in table.itertuples():
        fsm_aps, class_aps, gap, closing = PUBLISHED[(row.term, row.subject)]
        assert round(row.fsm_aps, 1) == fsm_aps
        assert round(row.class_aps, 1) == class_aps
        assert row.gap == pytest.approx(gap, abs=1e-9)
        assert pd.isna(row.closing) if closing is None else bool(row.closing) is closing
        assert (row.n_fsm, row.n_class, row.n_missing) == (6, 30, 0)
        assert row.comparison == "whole class"
    layout = published_layout(table, "Y5")
    assert layout.loc[("spring", "numeracy"), "gap closing"] == "no"
    assert layout.loc[("spring", "reading"), "gap closing"] == "yes"
    assert layout.loc[("autumn", "reading"), "gap closing"] == ""
    assert layout.loc[("autumn", "writing"), "whole class"] == pytest.approx(20.4)


def test_rest_of_class_excludes_fsm_pupils():
    data = year5_rows()
    table = class_gap_table(data, comparison="rest_of_class")
    row = table[(table["term"] == "autumn") & (table["subject"] == "reading")].iloc[0]
    rest = (30 * 22.1 - 6 * 19.9) / 24
    assert row["class_aps"] == pytest.approx(rest)
    assert row["gap"] == pytest.approx(19.9 - rest)  # -2.75: wider than the published -2.2
    assert row["n_class"] == 24 and row["comparison"] == "rest of class"


def test_does_not_modify_input_and_counts_missing_scores():
    data = year5_rows()
    data.loc[(data["pupil_id"] == "p29") & (data["term"] == "autumn"), "aps"] = np.nan
    before = data.copy()
    table = class_gap_table(data)
    pd.testing.assert_frame_equal(data, before)
    autumn = table[table["term"] == "autumn"]
    assert autumn["n_missing"].tolist() == [1, 1, 1]
    assert autumn["n_class"].tolist() == [29, 29, 29]


def test_unknown_comparison_and_term_are_named():
    with pytest.raises(ValueError, match=r"`comparison` should be one of \['rest_of_class', "
                                         r"'whole_class'\]; got 'class'"):
        class_gap_table(year5_rows(), comparison="class")
    bad = year5_rows().assign(term="winter")
    with pytest.raises(ValueError, match="`tracking.term` should be one of.*'winter'"):
        class_gap_table(bad)


def test_closing_uses_size_of_gap_and_previous_tracked_term():
    # gap -3 (autumn), no spring, -1 (summer): closing vs autumn; FSM ahead +2 -> +4 is not
    t = pd.DataFrame({
        "school_id": "s", "class_id": ["A"] * 4 + ["B"] * 4, "subject": "writing",
        "term": ["autumn", "autumn", "summer", "summer"] * 2,
        "fsm": [True, False] * 4, "aps": [17, 23, 19, 21, 22, 18, 24, 16.0],
    })
    table = class_gap_table(t, comparison="rest_of_class")
    assert table["gap"].tolist() == [-6.0, -2.0, 4.0, 8.0]
    assert table["closing"].tolist()[1::2] == [True, False]


def test_no_tracked_row_or_one_term_gives_an_empty_summary():
    """Review of issue 17: a header-only tracking table (the schema allows one) crashed the
    vectorised summary; it has no period to compare, like a table of one term."""
    from evaluation.tracking import SUMMARY_COLUMNS

    rows = year5_rows()
    for table in (rows.iloc[:0], rows[rows["term"] == rows["term"].iloc[0]],
                  rows.assign(subject=None)):
        summary = closing_summary(table)
        assert summary.empty and list(summary.columns) == SUMMARY_COLUMNS


def test_closing_summary_counts_classes_and_schools():
    base = year5_rows()
    other = base.assign(class_id="Y5b")
    # class Y5b: FSM pupils fall back in spring reading (gap widens)
    mask = (other["term"] == "spring") & (other["subject"] == "reading") & other["fsm"]
    other.loc[mask, "aps"] -= 3.0
    third = base.assign(school_id="s2", class_id="Z")
    third = third[~third["fsm"]]  # no FSM pupil: no gap, excluded and counted
    summary = closing_summary(pd.concat([base, other, third], ignore_index=True))
    reading = summary[summary["subject"] == "reading"].iloc[0]
    assert (reading["start"], reading["end"]) == ("autumn", "spring")
    assert reading["n_classes"] == 2 and reading["n_classes_closing"] == 1
    assert reading["share_classes_closing"] == 0.5
    assert reading["n_classes_excluded"] == 1
    # school s1 pools both classes: FSM mean drops 1.5 on average; closing is recomputed
    assert reading["n_schools"] == 1
    numeracy = summary[summary["subject"] == "numeracy"].iloc[0]
    assert numeracy["n_classes_closing"] == 0 and numeracy["n_schools_closing"] == 0
    assert numeracy["n_fsm"] == 12
    writing = summary[summary["subject"] == "writing"].iloc[0]
    assert writing["share_classes_closing"] == 1.0 and writing["share_schools_closing"] == 1.0


def test_three_terms_add_a_whole_year_period():
    spring = year5_rows()
    summer = spring[spring["term"] == "spring"].assign(term="summer")
    summary = closing_summary(pd.concat([spring, summer], ignore_index=True))
    periods = summary[["start", "end"]].drop_duplicates().values.tolist()
    assert periods == [["autumn", "spring"], ["spring", "summer"], ["autumn", "summer"]]
    # summer equals spring: no change is not closing
    s2s = summary[(summary["start"] == "spring")]
    assert s2s["n_classes_closing"].tolist() == [0, 0, 0]


def test_class_gap_chart_omits_small_classes():
    import matplotlib.pyplot as plt

    from evaluation.plots.tracking import class_gap_chart, closing_chart

    open_before = plt.get_fignums()
    table = class_gap_table(year5_rows())
    chart = class_gap_chart(table, threshold=10)  # 6 FSM pupils: every gap rests on too few
    assert chart.omitted == 6
    assert "6 points are not shown: each rests on fewer than 10 pupils" in chart.caption
    assert class_gap_chart(table, threshold=5).omitted == 0
    assert plt.get_fignums() == open_before  # no figure left in pyplot's global registry
    summary = closing_summary(year5_rows())
    bars = closing_chart(summary, threshold=10)
    assert bars.omitted == 6  # 3 subjects x (classes, schools)
    assert "autumn to spring" in bars.figure.axes[0].get_title()
    with pytest.raises(ValueError, match="`start`/`end` should be one of"):
        closing_chart(summary, threshold=1, start="spring", end="summer")


def test_counts_map_lets_disclosure_suppress_every_fsm_figure():
    from evaluation.disclosure import suppress
    from evaluation.tracking import COUNTS

    safe = suppress(class_gap_table(year5_rows()), COUNTS, threshold=10)
    assert set(safe.frame["fsm_aps"]) == {"c"} and set(safe.frame["gap"]) == {"c"}
    assert set(safe.frame["closing"]) == {"c"}
    assert safe.frame["class_aps"].tolist()[:2] == ["19.0", "21.6"]


def test_default_data_tracking_is_complete_and_consistent(default_data):
    tracking = default_data.tracking
    table = class_gap_table(tracking)
    per_class = table.groupby("class_id").size()
    assert (per_class == 9).all()  # three subjects x three terms
    assert table.loc[table["term"] == "autumn", "closing"].isna().all()
    assert table.loc[table["term"] != "autumn", "closing"].notna().all()
    rows = tracking.groupby(["class_id", "subject", "term"]).size()
    got = table.set_index(["class_id", "subject", "term"])
    assert ((got["n_class"] + got["n_missing"]) == rows.reindex(got.index)).all()
    summary = closing_summary(tracking)
    assert summary["n_classes"].max() == tracking["class_id"].nunique()
    assert summary["share_classes_closing"].between(0, 1).all()
