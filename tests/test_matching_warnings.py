"""MatchIt's warnings when too few controls are left, against R MatchIt 4.7.2.

Fixtures: tests/fixtures/matchit/warnings (make_fixtures.R there; versions in its
PROVENANCE): optimal pair matching with a ratio the controls cannot give (6 of 252 controls
for 48 treated), the ATC with fewer treated than controls, an average ratio with
``max_controls`` above it, exact strata; nearest-neighbour matching with a ratio too large
overall and in exact strata, and with ``unit_id`` (MatchIt counts control unit IDs); with
``discard`` (nearest counts before discarding, optimal after). Each
MatchIt warning must open one of ours (after MatchIt's capital letter and full stop; ours
may go on to name the strata), and where MatchIt gives none we give none of these.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import MatchingWarning
from evaluation.matching import match

HERE = Path(__file__).parent / "fixtures" / "matchit"
P = ["age", "educ", "race", "married", "re74"]
T = ["prior", "fsm", "female"]
S = ["prior", "fsm", "female", "sen", "eal"]
FAMILY = {"people": lambda i: i // 3, "ties": lambda i: i % 40, "schools": lambda i: i // 2}
TREAT = {"people": "treat", "ties": "treat", "schools": "em"}

SPECS = {
    "optimal_ratio6": ("people", dict(covariates=P, method="optimal", ratio=6)),
    "optimal_ratio5": ("people", dict(covariates=P, method="optimal", ratio=5)),
    "optimal_atc": ("people", dict(covariates=P, method="optimal", estimand="ATC")),
    "optimal_average3": ("ties", dict(covariates=T, method="optimal", ratio=3,
                                      min_controls=1, max_controls=4)),
    "optimal_exact_ratio3": ("schools", dict(covariates=S, method="optimal", ratio=3,
                                             exact="school_id")),
    "nearest_ratio6": ("people", dict(covariates=P, ratio=6)),
    "nearest_exact_ratio5": ("schools", dict(covariates=S, ratio=5, exact="school_id")),
    "nearest_unit_ratio2": ("ties", dict(covariates=T, ratio=2, unit_id="family")),
    "nearest_unit_people_ratio3": ("people", dict(covariates=P, ratio=3, unit_id="family")),
    "nearest_unit_exact": ("schools", dict(covariates=S, exact="school_id",
                                           unit_id="family")),
    "nearest_ratio5_discard_control": ("people", dict(covariates=P, ratio=5,
                                                      discard="control")),
    "nearest_ratio5_discard_both": ("people", dict(covariates=P, ratio=5, discard="both")),
    "optimal_ratio5_discard_control": ("people", dict(covariates=P, method="optimal", ratio=5,
                                                      discard="control")),
}
SHORTFALL = re.compile(r"will get|not enough .* for an average")


def _matchit_text(w: str) -> str:
    """MatchIt's message as its ``.wrn`` builds it, without the capital and the full stop."""
    w = " ".join(str(w).split())
    return (w[:1].lower() + w[1:]).rstrip(".")


@pytest.fixture(scope="module")
def r_warnings():
    table = pd.read_csv(HERE / "warnings" / "warnings.csv", keep_default_na=False)
    return {k: [_matchit_text(w) for w in g["warning"] if w] for k, g in
            table.groupby("fixture")}


def test_fixtures_cover_every_spec(r_warnings):
    assert set(r_warnings) == set(SPECS)
    assert sum(map(len, r_warnings.values())) >= 7


@pytest.mark.parametrize("name", sorted(SPECS))
def test_shortfall_warnings_are_matchits(name, r_warnings):
    data_name, kw = SPECS[name]
    data = pd.read_csv(HERE / f"{data_name}.csv")
    data = data.assign(family=FAMILY[data_name](np.arange(len(data))))
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        match(data, TREAT[data_name], random_state=1, **kw)
    ours = [str(w.message) for w in got
            if issubclass(w.category, MatchingWarning) and SHORTFALL.search(str(w.message))]
    theirs = r_warnings[name]
    assert len(ours) == len(theirs), (ours, theirs)
    for text in theirs:
        assert any(o.startswith(text) for o in ours), (text, ours)
