"""The plan's `funding` and `glossary` are checked like every other key (review finding):
a bad value is refused naming analysis.yml, the key and what is allowed, instead of passing
`check` as "ok" and failing (or printing a negative or infinite cost) at render time."""

from __future__ import annotations

import pytest
import yaml

from evaluation import config
from evaluation.exceptions import PlanError
from evaluation.plan import load_plan


def _plan_with(tmp_path, key, value):
    raw = yaml.safe_load(config.ANALYSIS_PLAN.read_text(encoding="utf-8"))
    raw[key] = value
    path = tmp_path / "analysis.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("key, value, says", [
    ("funding", [1, 2], "funding: found [1, 2]; expected a mapping"),
    ("funding", {"per_school": {"primary": {"trial": "lots"}}},
     "funding.per_school.primary.trial: found 'lots'; expected a number at least 0"),
    ("funding", {"per_school": {"primary": {"trial": -5000}}},
     "funding.per_school.primary.trial: found -5000"),
    ("funding", {"years": 0}, "funding.years: found 0; expected a number above 0"),
    ("funding", {"per_la": {"nursery": 7000}}, "funding.per_la.nursery"),
    ("funding", {"per_schol": {}}, "funding.per_schol"),
    ("funding", {"currency": "USD"}, "funding.currency: found 'USD'; expected one of ['GBP']"),
    ("glossary", ["APS", "FSM"], "glossary: found ['APS', 'FSM']; expected a mapping"),
    ("glossary", {"APS": 5}, "glossary['APS']: found 5"),
    ("glossary", {"APS": ""}, "glossary['APS']: found ''"),
])
def test_bad_funding_or_glossary_is_refused_naming_the_key(tmp_path, key, value, says):
    path = _plan_with(tmp_path, key, value)
    with pytest.raises(PlanError) as err:
        load_plan(path)
    assert str(path) in str(err.value)
    assert says in str(err.value)


def test_the_shipped_plan_passes():
    plan = load_plan()
    assert plan.raw["funding"]["per_school"]["primary"] == {"trial": 5000, "partner": 3000}
    assert "EEF" in plan.raw["glossary"]
