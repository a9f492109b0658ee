"""Small-cell suppression: primary, secondary, identifiers refused, formatting."""

import numpy as np
import pandas as pd
import pytest

from evaluation.disclosure import safe_count, suppress


def test_primary_suppression_of_counts_and_the_statistics_resting_on_them():
    df = pd.DataFrame({"group": ["a", "b", "c"], "n": [9, 10, 0], "rate": [55.5, 60.25, np.nan]})
    t = suppress(df, {"rate": "n"}, threshold=10)
    assert t.frame["n"].tolist() == ["c", "10", "0"]
    assert t.frame["rate"].tolist() == ["c", "60.2", ""]
    assert np.isnan(t.values.loc[0, "rate"]) and t.values.loc[1, "rate"] == 60.25
    assert t.n_suppressed == 2
    assert "fewer than 10 pupils" in t.footnote


def test_gap_rests_on_both_groups():
    df = pd.DataFrame({"n_fsm": [12, 5], "n_non_fsm": [40, 50], "gap": [-20.0, -15.0]})
    t = suppress(df, {"gap": ["n_fsm", "n_non_fsm"]}, threshold=10)
    assert t.frame["gap"].tolist() == ["-20.0", "c"]


def test_secondary_suppression_protects_a_cell_derivable_from_the_total():
    df = pd.DataFrame({"n_fsm": [4, 30], "n_non_fsm": [50, 60], "n": [54, 90]})
    t = suppress(df, {}, threshold=10, totals={"n": ["n_fsm", "n_non_fsm"]})
    # 54 - 50 would reveal the suppressed 4: the other part goes too
    assert t.frame.iloc[0].tolist() == ["c", "c", "54"]
    assert t.frame.iloc[1].tolist() == ["30", "60", "90"]
    assert t.n_suppressed == 2


def test_a_split_table_keeps_the_whole_tables_suppression_under_display_names():
    df = pd.DataFrame({"n_em": [4, 30], "effect": [1.5, 2.25], "size": [0.1, 0.2],
                       "label": ["x", "y"]})
    t = suppress(df, {"effect": "n_em", "size": "n_em"}, threshold=10,
                 labels={"size": "Effect size"})
    sizes = t.select(["label", "Effect size"])
    assert sizes.frame.to_dict("list") == {"label": ["x", "y"], "Effect size": ["c", "0.2"]}
    assert sizes.n_suppressed == 1 and "fewer than 10" in sizes.footnote
    assert np.isnan(sizes.values.iloc[0, 1])
    clean = t.select(["label"])
    assert clean.n_suppressed == 0 and clean.footnote == ""
    assert t.n_suppressed == 3


def test_identifier_columns_are_refused():
    with pytest.raises(ValueError, match="identifier columns \\['pupil_id'\\]"):
        suppress(pd.DataFrame({"pupil_id": ["x"], "n": [20]}), {})


def test_unknown_count_column_is_named():
    with pytest.raises(ValueError, match="\\['n_missing'\\]"):
        suppress(pd.DataFrame({"rate": [1.0]}), {"rate": "n_missing"})


def test_threshold_and_marker_are_respected_and_html_carries_the_footnote():
    df = pd.DataFrame({"n": [4, 6]})
    t = suppress(df, {"n": "n"}, threshold=5, marker="*")
    assert t.frame["n"].tolist() == ["*", "6"]
    assert "* = suppressed" in t._repr_html_()


def test_safe_count():
    assert [safe_count(n) for n in (0, 1, 9, 10, 4794)] == ["0", "c", "c", "10", "4,794"]
