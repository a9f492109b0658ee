"""Published means go through ACRO's dominance rules (N-K and p-ratio), as ACRO applies them.

The reference is ACRO 1.0.2's own outcome on its sample tables of means and sums
(``tests/fixtures/acro/acro_outcomes.json``, made by ``tests/fixtures/acro/make_fixture.py``
with ACRO run in a throwaway environment): school B's summer term (one pupil's 400 of 720
points) and school C's autumn term (1,000 of 1,009) fail ``NKCheck`` and ``PPercentCheck``;
the other cells with ten pupils or more pass. :func:`evaluation.disclosure.suppress` given the
pupils' values must hide exactly the cells ACRO fails and log them under ACRO's names. Then
the report's unadjusted-outcome table is built on crafted matched data where one EM pupil's
score dominates a mean (it must be hidden, with the difference that would give it back) and
another mean is ordinary (it must be shown).
"""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evaluation.descriptives import outcome_descriptives
from evaluation.disclosure import suppress
from evaluation.disclosure_cells import cell_contributions, rate_contributions
from evaluation.plan import load_plan
from evaluation.report.flow import descriptive
from evaluation.sdc_rules import CHECKS, Rules

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "acro" / "acro_outcomes.json")
                     .read_text())


def _acro_cells(uid):
    """ACRO's outcome of each (school, term) cell of a fixture table."""
    out = FIXTURE["outputs"][uid]["outcome"]
    return {(school, term): v for school, row in out.items() for term, v in row.items()}


@pytest.mark.parametrize("uid, agg", [("default/output_1", "mean"),
                                      ("default/output_2", "sum")])
def test_suppress_hides_exactly_the_cells_acro_fails_on_its_own_tables(uid, agg):
    data = pd.DataFrame(FIXTURE["data"])
    rules = Rules(**FIXTURE["settings"]["default"])
    acro = _acro_cells(uid)
    keys = pd.DataFrame(sorted(acro), columns=["school", "term"])
    g = data.groupby(["school", "term"])["score"]
    cells = list(keys.itertuples(index=False, name=None))
    table = keys.assign(n=[int(g.size().get(k, 0)) for k in cells],
                        value=[float(getattr(g, agg)().get(k, np.nan)) for k in cells])
    table.loc[table["n"] == 0, "value"] = np.nan
    safe = suppress(table, {"value": "n"}, threshold=rules.safe_threshold, rules=rules,
                    contributions={"value": cell_contributions(data, keys, "score")})
    ours = {k: safe.checks.at[i, "value"] for i, k in
            enumerate(keys.itertuples(index=False, name=None))}
    # our cells also name PresenceOfZeroCheck on an empty cell; ACRO checks it on counts only
    names = CHECKS[agg]
    ours = {k: "".join(f"{n}; " for n in names if f"{n};" in v) or "ok" for k, v in ours.items()}
    assert ours == acro
    dominated = {k for k, v in acro.items() if "NKCheck" in v or "PPercentCheck" in v}
    assert dominated == {("B", "summer"), ("C", "autumn")}          # the fixture's design
    for i, k in enumerate(keys.itertuples(index=False, name=None)):
        assert bool(safe.hidden.at[i, "value"]) == (k in dominated or 0 < table.at[i, "n"] < 10)
        assert (safe.frame.at[i, "value"] == "c") == bool(safe.hidden.at[i, "value"])


def _phase(matched, plan, phase="secondary"):
    outcomes = plan.outcomes(phase)[:2]            # capped points (gaussian), 5A*-C EM (0/1)
    d = outcome_descriptives(matched, outcomes)
    sample = SimpleNamespace(n_em=int(matched["em"].sum()),
                             n_comparison=int((~matched["em"]).sum()))
    return SimpleNamespace(phase=phase, estimable=True, not_estimable="", descriptives=d,
                           sample=sample, match=SimpleNamespace(matched_data=lambda: matched))


def _matched(em_points):
    rng = np.random.default_rng(3)
    n_em, n_cmp = len(em_points), 40
    return pd.DataFrame({
        "em": [True] * n_em + [False] * n_cmp,
        "gcse_capped_points": np.r_[em_points, rng.normal(300, 40, n_cmp).round()],
        "gcse_5ac_em": np.r_[np.tile([1.0, 0.0], n_em)[:n_em],
                             np.tile([1.0, 0.0], n_cmp // 2)],
        "weights": 1.0,
    })


def _res(matched):
    plan = load_plan()
    return SimpleNamespace(plan=plan, cluster="X", phases={"secondary": _phase(matched, plan)},
                           hidden=lambda key: False, clusters={})


def test_a_mean_one_pupil_dominates_is_hidden_in_the_report_and_logged():
    # 24 EM pupils: one with 30,000 points, 23 with 10 (the top two hold 99.3%)
    matched = _matched([30000.0] + [10.0] * 23)
    table = descriptive(_res(matched)).parts[-1]
    row = table.frame.set_index("Outcome").iloc[0]
    assert row["EM"] == "c" and row["Difference"] == "c"     # the difference would give it
    assert row["Comparison"] != "c" and row["Comparison (weighted)"] != "c"
    check = table.checks.iloc[0, list(table.frame.columns).index("EM")]
    assert "NKCheck; " in check and "PPercentCheck; " in check
    # the 0/1 outcome's EM share (12 of 24 reach it) passes both rules and is shown
    ordinary = table.frame.set_index("Outcome").iloc[1]
    assert ordinary["EM"] == "50.0" and ordinary["Difference"] != "c"
    assert table.checks.iloc[1, list(table.frame.columns).index("EM")] == "ok"


def test_an_ordinary_mean_is_shown():
    matched = _matched(np.linspace(250.0, 365.0, 24))
    table = descriptive(_res(matched)).parts[-1]
    row = table.frame.set_index("Outcome").iloc[0]
    assert row["EM"] == "307.5" and row["Difference"] != "c"
    assert (table.checks.to_numpy() == "ok").all()


def test_a_zero_rate_fails_the_p_ratio_as_in_acro():
    # ACRO's PPercentCheck on twelve zeros: the largest is 0, so the ratio is the rest (0)
    t = pd.DataFrame({"fsm_value": [0.0, 45.0], "n_fsm": [12, 40],
                      "non_fsm_value": [50.0, 55.0], "n_non_fsm": [30, 60],
                      "gap": [50.0, 10.0]})
    safe = suppress(t, {"fsm_value": "n_fsm", "non_fsm_value": "n_non_fsm",
                        "gap": ["n_fsm", "n_non_fsm"]}, **rate_contributions(t))
    assert safe.frame.iloc[0][["fsm_value", "non_fsm_value", "gap"]].tolist() == ["c"] * 3
    assert safe.checks.at[0, "fsm_value"] == "PPercentCheck; "
    assert safe.frame.iloc[1][["fsm_value", "gap"]].tolist() == ["45.0", "10.0"]
