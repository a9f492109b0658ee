"""match(): failure cases, warnings, counts, argument checks and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matching_helpers import assert_valid_match

from evaluation.exceptions import (
    DataError,
    IgnoredArgumentWarning,
    MatchingWarning,
    NotEstimableError,
)
from evaluation.matching import match


def _school(seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for s, (n, n_em) in enumerate([(20, 4), (15, 3), (6, 6), (12, 0), (5, 4)]):
        for i in range(n):
            rows.append({"school_id": f"S{s}", "cohort": 2010, "em": i < n_em,
                         "prior": float(rng.normal(15, 3)), "fsm": bool(rng.random() < .3),
                         "sen": ["none", "support", "statement"][i % 3]})
    return pd.DataFrame(rows)


def test_hand_computed_nearest_pairs_and_ties_go_to_the_control_met_first():
    df = pd.DataFrame({"em": [True, False, False, True, False], "x": [2.0, 1.0, 3.0, 5.0, 9.0]})
    m = match(df, "em", ["x"], distance="x")
    # largest first: x=5 takes 3 (gap 2 < 4); x=2 then has 1 (gap 1) left
    assert m.match_matrix.tolist() == [[1], [2]]
    tie = match(df.iloc[:3], "em", ["x"], distance="x")   # 2 is 1 from both 1 and 3
    assert tie.match_matrix.tolist() == [[1]]              # left neighbour, met first
    # MatchIt walks outward over ALL units sorted by x (1.0, 1.5, 2.0, 3.0), left first:
    # from x=2.0 the left control is 2 places away (step 3), the right one 1 place (step 2)
    df2 = pd.DataFrame({"em": [True, False, False, True], "x": [2.0, 1.0, 3.0, 1.5]})
    walk = match(df2, "em", ["x"], distance="x", m_order="data")
    assert walk.match_matrix.tolist() == [[2], [1]]


def test_all_em_school_is_counted_and_named():
    with pytest.warns(MatchingWarning, match=r"6 treated unit\(s\) in 1 stratum.*\[S2, 2010\]"):
        m = match(_school(), "em", ["prior", "fsm"], exact=["school_id", "cohort"])
    assert m.exclusions["treated: no control in its exact stratum"] == 6
    assert_valid_match(m)


def test_fewer_comparators_than_ratio_warns_with_strata():
    with pytest.warns(MatchingWarning, match=r"fewer control units than treated units in some "
                      r"`exact` strata; not all treated units will get a match .*\[S4, 2010\]"):
        m = match(_school(), "em", ["prior", "fsm"], exact=["school_id", "cohort"], ratio=3)
    assert_valid_match(m)
    assert m.counts.loc["Matched", "Treated"] == 4 + 3 + 1  # S4: one control for 4 EM


def test_exact_no_comparators_in_any_stratum():
    df = _school()
    df = df[df["school_id"].isin(["S2", "S3"])]
    with pytest.raises(NotEstimableError, match=r"no exact stratum holds both .*6 treated"):
        match(df, "em", method="exact", exact=["school_id", "cohort"])


def test_manchester_design_both_forms_agree_and_strata_without_em_counted():
    df = _school()
    a = match(df, "em", method="exact", exact=["school_id", "cohort"])
    b = match(df, "em", method="exact", covariates=["school_id", "cohort"])
    pd.testing.assert_series_equal(a.weights, b.weights)
    assert a.exclusions == {"treated: no control in its stratum": 6,
                            "control: stratum without treated units": 12}
    # weights: S0 controls 4/16 each, S1 3/12, S4 4/1, rescaled to sum to 29 matched controls
    raw = {"S0": 4 / 16, "S1": 3 / 12, "S4": 4 / 1}
    ctrl = df[~df["em"] & df["school_id"].isin(raw)]
    expect = ctrl["school_id"].map(raw)
    expect = expect * len(ctrl) / expect.sum()
    np.testing.assert_allclose(a.weights[ctrl.index], expect)


def test_caliper_dropping_every_treated_unit():
    with pytest.raises(NotEstimableError, match=r"no treated unit found a control within "
                                                 r"the caliper \(1e-09 ->"):
        match(_school(), "em", ["prior", "fsm"], exact=["school_id", "cohort"], caliper=1e-9)


def test_caliper_some_unmatched_warns_and_counts():
    with pytest.warns(MatchingWarning, match="have no control within the caliper"):
        m = match(_school(), "em", ["prior", "fsm"], exact=["school_id", "cohort"],
                  caliper=0.05)
    assert m.exclusions["treated: no control left within the caliper"] > 0
    assert_valid_match(m)


def test_perfect_separation_warns_and_carries_on():
    df = _school()
    df["sep"] = df["em"].astype(float) * 10 + df["prior"] / 100
    with pytest.warns(MatchingWarning, match=r"perfect separation in the propensity model"):
        m = match(df, "em", ["sep"], exact=["school_id", "cohort"])
    assert_valid_match(m)


def test_missing_covariate_names_column_and_rows():
    df = _school()
    df.loc[[1, 5, 7], "prior"] = np.nan
    with pytest.raises(DataError, match=r"'prior': 3 row\(s\) \(e.g. index \[1, 5, 7\]\)"):
        match(df, "em", ["prior", "fsm"])


def test_bad_arguments_name_allowed_values():
    with pytest.raises(ValueError, match=r"`m_order` should be one of \['largest'"):
        match(_school(), "em", ["prior"], m_order="nearest")
    with pytest.raises(ValueError, match=r"`estimand`='ATE' is not available with "
                                         r"method='nearest'.*\['ATT', 'ATC'\]"):
        match(_school(), "em", ["prior"], estimand="ATE")
    with pytest.raises(ValueError, match=r"`link` should be one of \['logit', 'probit'"):
        match(_school(), "em", ["prior"], link="cauchit")
    with pytest.raises(ValueError, match=r"`method` should be one of"):
        match(_school(), "em", ["prior"], method="genetic")
    with pytest.warns(IgnoredArgumentWarning, match=r"\['ratio'\] are not used with "
                                                    r"method='exact'"):
        match(_school(), "em", method="exact", exact=["school_id"], ratio=2)


def test_matched_data_refuses_to_overwrite():
    df = _school().assign(weights=1.0)
    m = match(df, "em", method="exact", exact=["school_id"])
    with pytest.raises(ValueError, match=r"already has column\(s\) \['weights'\]"):
        m.matched_data()


def test_discard_both_counts_discarded_units():
    df = pd.DataFrame({"em": [True, True, False, False, False, False],
                       "x": [0.5, 0.9, 0.1, 0.4, 0.6, 0.95]})
    m = match(df, "em", ["x"], distance="x", discard="both")
    assert m.counts.loc["Discarded"].tolist() == [3, 0]  # 0.1, 0.4, 0.95 outside [0.5, 0.9]
    assert m.exclusions["control: discarded (outside common support)"] == 3


def test_same_seed_same_result_random_order():
    a = match(_school(), "em", ["prior", "fsm"], m_order="random", random_state=5)
    b = match(_school(), "em", ["prior", "fsm"], m_order="random", random_state=5)
    assert a.weights.equals(b.weights)


def test_categorical_reference_level_and_propensity_model():
    m = match(_school(), "em", ["prior", "sen"])
    assert list(m.propensity_model.params.index) == ["Intercept", "prior", "senstatement",
                                                      "sensupport"]
    np.testing.assert_allclose(m.propensity_model.fittedvalues, m.distance, atol=1e-8)


def test_warm_started_logit_equals_r_style_cold_start():
    from evaluation.matching.distance import WARM_START_ROWS, _irls, fit_logit

    rng = np.random.default_rng(5)
    n = WARM_START_ROWS + 1
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.random(n) < 0.3])
    y = (rng.random(n) < 1 / (1 + np.exp(-(-4 + 0.5 * X[:, 1] + X[:, 2])))).astype(float)
    fit = fit_logit(X, y)
    _, eta, _, converged = _irls(np.ascontiguousarray(X.T), y, None, 25, 1e-10)
    assert fit.converged and converged
    np.testing.assert_allclose(fit.fitted, 1 / (1 + np.exp(-eta)), atol=1e-9)


def test_unknown_argument_names_it_and_the_supported_ones():
    with pytest.raises(TypeError, match=r"match\(\): unsupported argument\(s\) 'm.order' "
                                        r"\(did you mean 'm_order'\?\); supported arguments: "
                                        r"\['data', 'treatment'.*'k2k', 's_weights', "
                                        r"'min_controls', 'max_controls', 'tol', "
                                        r"'distance_options', 'unit_id', 'k2k_method', "
                                        r"'mpower'\]"):
        match(_school(), "em", ["prior"], **{"m.order": "data"})
    with pytest.raises(TypeError, match=r"unsupported argument\(s\) 'calliper'"):
        match(_school(), "em", ["prior"], calliper=0.2)


def test_a_single_name_is_one_column_not_its_characters():
    df = _school()
    a = match(df, "em", "prior", exact="school_id")
    b = match(df, "em", ["prior"], exact=["school_id"])
    assert a.spec["exact"] == ["school_id"] and a.covariates == ["prior"]
    pd.testing.assert_series_equal(a.weights, b.weights)
    with pytest.raises(TypeError, match=r"`exact` should be a column name or a list"):
        match(df, "em", "prior", exact=3)


def test_distance_values_equal_the_same_column():
    df = _school()
    by_name = match(df.assign(score=df["prior"]), "em", ["prior"], distance="score")
    by_values = match(df, "em", ["prior"], distance=df["prior"])
    by_array = match(df, "em", ["prior"], distance=df["prior"].to_numpy())
    assert (by_name.match_matrix == by_values.match_matrix).all()
    assert (by_array.match_matrix == by_values.match_matrix).all()
    assert by_values.spec["distance"] == "<values>"
    with pytest.raises(ValueError, match=r"must have the index of `data`"):
        match(df, "em", ["prior"], distance=df["prior"].reset_index(drop=True).iloc[::-1])
    with pytest.raises(ValueError, match=r"3 numbers \(one per row"):
        match(df.head(3), "em", ["prior"], distance=[0.1, 0.2])


def test_get_matches_needs_pairs():
    m = match(_school(), "em", method="exact", exact="school_id")
    with pytest.raises(ValueError, match=r"get_matches\(\) needs pairs .*use matched_data"):
        m.get_matches()
