"""Propensity scores under quasi-separation stop where R's glm stops (review of issue 13).

One level of a factor is all treated: the estimates grow with every iteration, so where the
fit stops decides the linear predictors, the standardised caliper and so the matched sets.
Our default fit used to converge further than R's glm (linear predictors 4 apart, 3 to 4
more pairs within a caliper). The fixture is MatchIt 4.7.2's
(``tests/fixtures/matchit/separation/make_fixture.R``, the review's data set G).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.matching import match

HERE = Path(__file__).parent / "fixtures" / "matchit" / "separation"
R = pd.read_csv(HERE / "weights.csv", dtype={"id": str, "weight": str, "distance": str})


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(HERE / "data.csv", dtype={"id": str}).set_index("id")


@pytest.mark.parametrize("link,caliper", sorted(set(zip(R["link"], R["caliper"],
                                                        strict=True))))
def test_matches_and_scores_as_matchit_under_separation(data, link, caliper):
    r = R[(R["link"] == link) & (R["caliper"] == caliper)].set_index("id").loc[data.index]
    m = match(data, "treat", ["ks2", "fsm", "reg", "eal", "cont"], link=link,
              caliper=caliper)
    np.testing.assert_allclose(m.distance.to_numpy(), r["distance"].astype(float), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(m.weights.to_numpy(), r["weight"].astype(float), rtol=1e-12,
                               atol=0)


def test_a_whole_number_ratio_given_as_a_float_is_that_many_controls(data):
    """Review finding: ratio=2.0 (R's ratio = 2 is a double) raised a bare TypeError."""
    a = match(data, "treat", ["ks2", "fsm", "cont"], ratio=2.0)
    b = match(data, "treat", ["ks2", "fsm", "cont"], ratio=2)
    assert a.match_matrix.shape[1] == 2
    np.testing.assert_array_equal(a.match_matrix, b.match_matrix)


def test_misaligned_sampling_weights_are_named_as_such(data):
    """Review finding: the message named `distance`."""
    w = pd.Series(1.0, index=[f"x{i}" for i in range(len(data))])
    with pytest.raises(ValueError, match="`s_weights` given as a Series must have the index"):
        match(data, "treat", ["ks2"], s_weights=w)
