"""The plan's date (issue 16): validated by the loader as an ISO date, shown beside its hash."""

from __future__ import annotations

import pytest
import yaml

from evaluation import config
from evaluation.exceptions import PlanError
from evaluation.plan import load_plan
from evaluation.provenance import provenance_table


def _plan_with(tmp_path, value):
    raw = yaml.safe_load(config.ANALYSIS_PLAN.read_text(encoding="utf-8"))
    if value is None:
        raw.pop("plan_date")
    else:
        raw["plan_date"] = value
    path = tmp_path / "analysis.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_project_plan_is_dated():
    plan = load_plan()
    assert plan.date == str(yaml.safe_load(config.ANALYSIS_PLAN.read_text())["plan_date"])


@pytest.mark.parametrize("value", ["25/11/2026", "2026-13-01", "yesterday", 20261125, "2026-2-1"])
def test_a_bad_date_is_refused_naming_the_file_and_key(tmp_path, value):
    with pytest.raises(PlanError) as err:
        load_plan(_plan_with(tmp_path, value))
    text = str(err.value)
    assert "analysis.yml" in text and "plan_date: found" in text and "YYYY-MM-DD" in text


def test_a_quoted_iso_date_is_accepted_and_an_undated_plan_says_so(tmp_path):
    assert load_plan(_plan_with(tmp_path, "2025-01-31")).date == "2025-01-31"
    undated = load_plan(_plan_with(tmp_path, None))
    assert undated.date is None
    row = provenance_table(undated, {}).set_index("item").loc["analysis plan", "value"]
    assert row.endswith("undated")


def test_the_date_is_shown_beside_the_hash():
    from types import SimpleNamespace

    import pandas as pd

    from evaluation.report.appendix import provenance

    plan = load_plan()
    row = provenance_table(plan, {}).set_index("item").loc["analysis plan", "value"]
    assert f"sha256:{plan.sha256[:16]}, dated {plan.date}" in row
    res = SimpleNamespace(plan=plan, provenance=provenance_table(plan, {}),
                          phases={}, data=SimpleNamespace(is_synthetic=False))
    text = " ".join(str(p) for p in provenance(res).parts if isinstance(p, str))
    assert f"SHA-256 {plan.sha256}, fixed on {plan.date}." in text
    assert isinstance(res.provenance, pd.DataFrame)


def test_a_plan_dated_after_the_analysis_is_a_departure(tmp_path):
    """Review finding: plan_date 2999-01-01 was accepted without a word."""
    from types import SimpleNamespace

    from evaluation.report.appendix import departures

    future = SimpleNamespace(plan=load_plan(_plan_with(tmp_path, "2999-01-01")), phases={})
    assert any("dated 2999-01-01, after this analysis" in d for d in departures(future))
    assert departures(SimpleNamespace(plan=load_plan(), phases={})) == []
