"""Our ACRO rules give ACRO's own outcome, cell by cell, on tables ACRO 1.0.2 checked.

``tests/fixtures/acro/acro_outcomes.json`` was made by running ACRO 1.0.2 (with pandas 2.3.3,
in a throwaway environment; ACRO is not a dependency) through
``tests/fixtures/acro/make_fixture.py``: a counts table with a zero and a cell of 4, tables of
means and sums with an N-K-dominated cell and a p-ratio cell, a regression with 9 residual
degrees of freedom and one with 38, each under ACRO's default settings and with the other
choice of ``zeros_are_disclosive`` and ``check_missing_values``.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.plan import load_plan
from evaluation.sdc_rules import Rules, check_table, dof_check, status

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "acro" / "acro_outcomes.json")
                     .read_text())
TABLES = {k: v for k, v in FIXTURE["outputs"].items() if v["type"] == "table"}
MODELS = {k: v for k, v in FIXTURE["outputs"].items() if v["type"] == "regression"}


def _aggfunc(summary):
    return "mean" if summary.startswith("Mean") else "sum" if summary.startswith("Sum") \
        else "count"


def test_fixture_is_acro_1_0_2_with_its_defaults():
    assert FIXTURE["acro_version"] == "1.0.2"
    assert FIXTURE["settings"]["default"] == {
        k: v for k, v in vars(Rules()).items()
        if k != "safe_threshold"} | {"safe_threshold": 10}
    assert len(TABLES) == 6 and len(MODELS) == 2


@pytest.mark.parametrize("uid", sorted(TABLES))
def test_tables_agree_with_acro_cell_by_cell(uid):
    case = TABLES[uid]
    rules = Rules(**FIXTURE["settings"][case["config"]])
    data = pd.DataFrame(FIXTURE["data"])
    if case["config"] != "default":          # the fixture_* tables lack one pupil's score
        data.loc[FIXTURE["missing_score_row"], "score"] = np.nan
    agg = _aggfunc(case["summary"])
    ours = check_table(data, "school", "term", None if agg == "count" else "score", agg, rules)
    theirs = pd.DataFrame(case["outcome"]).T.reindex(index=ours.index, columns=ours.columns)
    assert ours.to_dict() == theirs.to_dict()
    assert status(ours) == case["status"]
    assert (ours != "ok").to_numpy().sum() >= 2          # each table has failing cells


@pytest.mark.parametrize("uid", sorted(MODELS))
def test_models_agree_with_acro(uid):
    d = pd.DataFrame(FIXTURE["models"][uid])
    fit = sm.OLS(d["y"], sm.add_constant(d.drop(columns="y"))).fit()
    assert fit.df_resid == MODELS[uid]["properties"]["dof"]
    st, summary = dof_check(fit.df_resid, Rules(**FIXTURE["settings"]["default"]))
    assert (st, summary) == (MODELS[uid]["status"], MODELS[uid]["summary"])


def test_rules_come_from_the_plan(tmp_path):
    plan = load_plan()
    rules = Rules.from_plan(plan)
    d = plan.section("disclosure")
    assert rules.safe_threshold == plan.threshold
    assert rules.zeros_are_disclosive == d["zeros_are_disclosive"]
    assert (rules.safe_nk_n, rules.safe_nk_k, rules.safe_pratio_p, rules.safe_dof_threshold) \
        == (2, 0.9, 0.1, 10)


@pytest.mark.parametrize("line, message", [
    ("safe_nk_k: 0.9 ", "disclosure.safe_nk_k: found 1.5; expected a number above 0 and below 1"),
    ("safe_nk_n: 2 ", "disclosure.safe_nk_n: found 0; expected a whole number at least 1"),
    ("safe_pratio_p: 0.1 ", "disclosure.safe_pratio_p: found 'ten'"),
    ("safe_dof_threshold: 10 ", "disclosure.safe_dof_threshold: found 2.5"),
    ("zeros_are_disclosive: false", "disclosure.zeros_are_disclosive: found 'no'; expected "
                                    "true or false"),
    ("check_missing_values: false", "disclosure.check_missing_values: found 1; expected true"),
])
def test_bad_rule_values_are_refused_naming_the_plan_and_the_key(tmp_path, line, message):
    from evaluation.exceptions import PlanError
    from evaluation.plan import config

    bad = {"safe_nk_k": "1.5", "safe_nk_n": "0", "safe_pratio_p": "ten",
           "safe_dof_threshold": "2.5", "zeros_are_disclosive": "'no'",
           "check_missing_values": "1"}
    key = line.split(":")[0]
    text = config.ANALYSIS_PLAN.read_text()
    start = text.index(f"  {key}:")
    end = text.index("\n", start)
    path = tmp_path / "analysis.yml"
    path.write_text(text[:start] + f"  {key}: {bad[key]}" + text[end:])
    with pytest.raises(PlanError) as err:
        load_plan(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_an_unknown_rule_is_refused(tmp_path):
    from evaluation.exceptions import PlanError
    from evaluation.plan import config

    text = config.ANALYSIS_PLAN.read_text().replace("  safe_nk_n: 2", "  safe_nk_m: 2")
    (tmp_path / "analysis.yml").write_text(text)
    with pytest.raises(PlanError, match=r"disclosure\.safe_nk_m: found 'safe_nk_m'; expected "
                                        r"only keys \[.*'safe_nk_n'"):
        load_plan(tmp_path / "analysis.yml")
