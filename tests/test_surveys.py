"""Perception surveys: wording, means, paired/unpaired change, Holm, non-response."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.surveys import ITEMS, items, survey_change


def long(rows):
    return pd.DataFrame(rows, columns=["respondent_id", "school_id", "instrument", "wave",
                                       "item", "score"])


def panel(item="p01", before=(4, 5, 6, 7), after=(6, 6, 9, 8), school="x", prefix="r"):
    rows = []
    for wave, scores in (("baseline", before), ("follow_up", after)):
        for i, s in enumerate(scores):
            rows.append((f"{prefix}{i}", school, "pupil", wave, item, float(s)))
    return long(rows)


def test_items_hold_the_handbook_instruments():
    assert len(items("pupil")) == 10 and len(items("staff")) == 12
    assert ITEMS["p07"] == ("pupil", "I want to go to university")
    assert ITEMS["s12"][0] == "staff" and "parents/carers" in ITEMS["s12"][1]
    assert items("staff")["item"].tolist() == [f"s{i:02d}" for i in range(1, 13)]


def test_paired_change_matches_hand_computation():
    r = survey_change(panel(), "pupil")
    row = r.table.iloc[0]
    d = np.array([2, 1, 3, 1.0])
    assert row["test"] == "paired" and row["n_paired"] == 4
    assert row["change"] == pytest.approx(1.75)
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    assert row["ci_low_change"] == pytest.approx(1.75 - half)
    assert row["p"] == pytest.approx(stats.ttest_rel([6, 6, 9, 8], [4, 5, 6, 7]).pvalue)
    assert row["mean_baseline"] == 5.5 and row["mean_follow_up"] == 7.25
    sd = np.sqrt((np.var([4, 5, 6, 7], ddof=1) + np.var([6, 6, 9, 8], ddof=1)) / 2)
    assert row["standardised_change"] == pytest.approx(1.75 / sd)
    assert row["wording"] == "I enjoy school and learning"


def test_different_respondents_give_welch_unpaired_test():
    data = panel()
    data.loc[data["wave"] == "follow_up", "respondent_id"] += "_new"
    row = survey_change(data, "pupil").table.iloc[0]
    assert row["test"] == "unpaired" and row["n_paired"] == 0
    welch = stats.ttest_ind([6, 6, 9, 8], [4, 5, 6, 7], equal_var=False)
    assert row["p"] == pytest.approx(welch.pvalue)
    ci = welch.confidence_interval(0.95)
    assert (row["ci_low_change"], row["ci_high_change"]) == pytest.approx((ci.low, ci.high))


def test_holm_adjusts_within_group_and_nonresponse_is_counted():
    a = panel("p01")
    b = panel("p02", before=(5, 5, 5, 6), after=(5, 6, 5, 6))
    c = panel("p03", before=(2, 3, 2, 3), after=(8, 9, 9, 8))
    data = pd.concat([a, b, c], ignore_index=True)
    data.loc[(data["item"] == "p02") & (data["respondent_id"] == "r0")
             & (data["wave"] == "follow_up"), "score"] = np.nan
    r = survey_change(data, "pupil")
    p = r.table.set_index("item")["p"]
    order = p.sort_values().index
    # Holm step-down: sorted p times (m, m-1, ...), made monotone, capped at 1
    expected = np.maximum.accumulate((p[order] * np.array([3, 2, 1])).clip(upper=1))
    assert r.table.set_index("item").loc[order, "p_holm"].to_numpy() == pytest.approx(
        expected.to_numpy())
    assert r.table.set_index("item").loc["p02", ["n_follow_up", "n_paired"]].tolist() == [3, 3]
    nr = r.nonresponse.set_index(["wave", "item"])
    assert nr.loc[("follow_up", "p02"), ["n_respondents", "n_answered", "n_missing"]].tolist() \
        == [4, 3, 1]
    assert nr.loc[("baseline", "p02"), "n_missing"] == 0


def test_by_cluster_counts_schools_without_cluster_and_keeps_extra_items():
    data = pd.concat([panel(school="x"), panel(school="y", prefix="q"),
                      panel("p11", school="z", prefix="t")], ignore_index=True)
    schools = pd.DataFrame({"school_id": ["x", "y", "z"], "cluster": ["A", "B", None]})
    r = survey_change(data, "pupil", by="cluster", schools=schools)
    assert r.table["cluster"].tolist() == ["A", "B"]
    assert r.excluded == {"rows of schools with no cluster": 8}
    extra = survey_change(data, "pupil", by="school_id")
    assert extra.table.set_index("school_id").loc["z", "wording"] == "(item added by the school)"


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`instrument` should be one of \['pupil', 'staff'\]; "
                                         r"got 'parent'"):
        survey_change(panel(), "parent")
    with pytest.raises(ValueError, match="`by` should be a surveys column.*'cluster'"):
        survey_change(panel(), "pupil", by="cluster")
    with pytest.raises(ValueError, match="no rows for instrument 'staff'"):
        survey_change(panel(), "staff")


def test_input_not_modified_and_result_is_frozen():
    data = panel()
    before = data.copy()
    r = survey_change(data, "pupil")
    pd.testing.assert_frame_equal(data, before)
    with pytest.raises(AttributeError):
        r.alpha = 0.1
    assert "<table" in r._repr_html_()


def test_dumbbell_draws_items_and_omits_small_waves():
    from evaluation.plots.surveys import survey_dumbbell

    data = pd.concat([panel("p01", before=range(1, 11), after=range(2, 12)),
                      panel("p02")], ignore_index=True)
    data["score"] = data["score"].clip(upper=10)
    result = survey_change(data, "pupil")
    chart = survey_dumbbell(result, threshold=10)
    labels = [t.get_text() for t in chart.figure.axes[0].get_yticklabels()]
    assert labels[-1].startswith("I enjoy school and learning")  # first item on top
    assert chart.omitted == 2  # p02: 4 respondents per wave
    assert "2 means are not shown: each rests on fewer than 10 respondents" in chart.caption
    grouped = survey_change(data, "pupil", by="school_id")
    with pytest.raises(ValueError, match=r"`group` should be one of \['x'\]"):
        survey_dumbbell(grouped, threshold=10)
    assert survey_dumbbell(grouped, threshold=1, group="x").omitted == 0


@pytest.mark.parametrize("instrument, n_items", [("pupil", 10), ("staff", 12)])
def test_default_data_surveys_are_consistent(default_data, instrument, n_items):
    r = survey_change(default_data.surveys, instrument)
    assert len(r.table) == n_items
    assert (r.table["wording"] != "(item added by the school)").all()
    answered = r.nonresponse.pivot(index="item", columns="wave", values="n_answered")
    t = r.table.set_index("item")
    assert (t["n_baseline"] == answered["baseline"]).all()
    assert (t["n_follow_up"] == answered["follow_up"]).all()
    assert (t["n_paired"] <= t[["n_baseline", "n_follow_up"]].min(axis=1)).all()
    assert (t["p_holm"] >= t["p"]).all() and (t["p_holm"] <= 1).all()
    inside = (t["ci_low_change"] <= t["change"]) & (t["change"] <= t["ci_high_change"])
    assert inside.all()


def test_item_answered_in_one_wave_only_is_not_tested():
    data = panel()
    data = data[~((data["wave"] == "follow_up") & (data["respondent_id"] != "r0"))]
    row = survey_change(data, "pupil").table.iloc[0]
    assert (row["n_baseline"], row["n_follow_up"], row["n_paired"]) == (4, 1, 1)
    assert row["test"] == "not tested" and np.isnan(row["p"]) and np.isnan(row["p_holm"])
    assert row["change"] == pytest.approx(6.0 - 5.5)
