"""Argument forms and refusals of match() and MatchResult.summary() (issue 13, review 2).

The review of issue 13 found ``std_caliper=[True, False]`` silently read as True (184 pairs
against MatchIt's 163), ``summary(un=False)`` missing, and values MatchIt refuses accepted
(``replace="yes"``, ``k2k="no"``) or refused with a bare TypeError (``caliper=[0.1]``).
The vector form is checked against MatchIt 4.7.2 (tests/fixtures/matchit/arguments).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matching_helpers import fixture_data

from evaluation.matching import match

FIX = Path(__file__).parent / "fixtures" / "matchit" / "arguments"
UNITS = pd.read_csv(FIX / "units.csv")
SUMMARY = pd.read_csv(FIX / "summary.csv")
PEOPLE = ["age", "educ", "race", "married", "re74"]
SPECS = {
    "std_vector": dict(caliper={"distance": 0.2, "re74": 2000, "age": 0.5},
                       std_caliper=[True, False, True]),
    "std_vector_raw_distance": dict(caliper={"distance": 0.03, "age": 0.5},
                                    std_caliper={"distance": False, "age": True}),
}


@pytest.fixture(scope="module")
def people():
    return fixture_data("people").set_index("id")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_std_caliper_per_caliper_as_matchit(people, name):
    m = match(people, "treat", PEOPLE, **SPECS[name])
    r = UNITS[UNITS["fixture"] == name].set_index("id").loc[people.index]
    np.testing.assert_allclose(m.weights.to_numpy(), r["weights"].to_numpy(float), rtol=1e-12)
    s = SUMMARY[SUMMARY["fixture"] == name]
    assert m.counts.loc["Matched"].tolist() == [s["matched_control"].iloc[0],
                                                s["matched_treated"].iloc[0]]
    ours = m.summary(un=False)
    assert list(ours.columns.get_level_values(0).unique()) == ["Matched data"]
    np.testing.assert_allclose(ours[("Matched data", "Std. Mean Diff.")].loc[s["row"]],
                               s["smd"].to_numpy(float), atol=1e-6)


@pytest.mark.parametrize("kw, message", [
    (dict(replace="yes"), "`replace` should be True or False; got 'yes'"),
    (dict(method="cem", k2k="no"), "`k2k` should be True or False; got 'no'"),
    (dict(caliper=[0.1]), "`caliper` should be a number (on the distance) or a dict"),
    (dict(caliper={"distance": "0.1"}), "`caliper` should be a number"),
    (dict(caliper={"distance": 0.1, "age": 1.0}, std_caliper=[True]),
     "`std_caliper` should be True or False, or one of them per caliper"),
    (dict(caliper=0.1, std_caliper="yes"), "`std_caliper` should be True or False"),
    (dict(s_weights=True), "`s_weights` should be a column name or one weight per row"),
    (dict(exact="married", antiexact="married"), "`exact` and `antiexact` both name"),
])
def test_values_matchit_refuses_are_refused_naming_the_argument(people, kw, message):
    with pytest.raises(ValueError) as err:
        match(people, "treat", PEOPLE, **kw)
    assert message in str(err.value)


def test_summary_names_an_unknown_argument_and_refuses_a_non_flag(people):
    m = match(people, "treat", PEOPLE)
    with pytest.raises(TypeError, match=r"unsupported argument\(s\) 'interactions'; supported "
                                        r"arguments: \['un', 'subclass'\]"):
        m.summary(interactions=True)
    with pytest.raises(ValueError, match="`un` should be True or False"):
        m.summary(un="no")
    both = m.summary()
    assert both.attrs["sample_sizes"].equals(m.summary(un=False).attrs["sample_sizes"])
    assert both["Matched data"].equals(m.summary(un=False)["Matched data"])
