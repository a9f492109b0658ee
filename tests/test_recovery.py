"""The known-truth check: estimates and intervals set against stored true effects."""

import numpy as np
import pandas as pd
import pytest

from evaluation.recovery import truth_check

TRUTH = pd.DataFrame({"phase": ["secondary", "secondary", "secondary", "primary"],
                      "outcome": ["points", "rate", "lost", "points"],
                      "effect": [20.0, 0.0, 0.0, 5.0]})


def _table():
    return pd.DataFrame({
        "outcome": ["points", "rate", "lost", "unstored"],
        "label": ["Points", "Rate", "Lost", "No truth"],
        "family": ["gaussian", "binomial", "binomial", "gaussian"],
        "estimate": [13.2, 0.02, np.nan, 1.0], "ci_low": [8.1, -0.05, np.nan, 0.0],
        "ci_high": [18.2, 0.10, np.nan, 2.0], "p_holm": [0.005, 0.6, np.nan, 0.1]})


def test_covered_error_and_only_this_phase():
    out = truth_check(_table(), TRUTH, "secondary")
    assert out["outcome"].tolist() == ["points", "rate", "lost"]  # no stored truth: left out
    assert out["true_effect"].tolist() == [20.0, 0.0, 0.0]  # the primary row is not used
    assert out["covered"].tolist() == [False, True, pd.NA]
    assert out["error"].iloc[0] == pytest.approx(-6.8)
    assert np.isnan(out["error"].iloc[2])


def test_interval_ends_count_as_covered():
    table = _table().assign(ci_high=[20.0, 0.0, np.nan, 2.0])
    assert truth_check(table, TRUTH, "secondary")["covered"].tolist()[:2] == [True, True]


def test_truth_without_effect_column_is_refused():
    with pytest.raises(ValueError, match=r"lacks the columns \['effect'\]"):
        truth_check(_table(), TRUTH.drop(columns="effect"), "secondary")


def test_default_data_recovers_the_nulls(default_data, default_evaluation):
    table = default_evaluation.phases["secondary"].impact.table()
    out = truth_check(table, default_data.truth, "secondary")
    truth = default_data.truth.set_index("outcome")["effect"]
    assert out.set_index("outcome")["true_effect"].to_dict() == {
        o: truth[o] for o in out["outcome"]}
    nulls = out[out["true_effect"] == 0.0]
    assert len(nulls) == 4 and nulls["covered"].all()
