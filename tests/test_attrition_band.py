"""Review finding: the security rule table showed attrition to the percent. In the overall
report's primary phase 5% of 98 pupils (18 + 75 analysed) pinned the three suppressed
exclusion counts (EM and comparison pupils without prior attainment, comparison pupils
without the outcome) to a sum of exactly 5, so each to 1-3. The table now shows the EEF band
the rating uses."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from evaluation.report.summary import summary
from evaluation.security import attrition_band


def test_rule_table_shows_the_attrition_band_not_the_share(default_evaluation):
    pe = default_evaluation.phases["primary"]
    assert (pe.sample.n_em, pe.sample.n_comparison) == (18, 75)
    assert f"{pe.security.attrition:.0%}" == "5%"  # 5 of 98: it would give the sum away
    text = lxml_html.fromstring(summary(default_evaluation)._repr_html_()).text_content()
    rows = re.findall(r"Pupils lost for missing data \(attrition\)(.*?)(\d)Threat", text)
    assert rows == [("10% or less", "5"), ("10% or less", "5")]
    assert "(attrition)5%" not in text


def test_band_edges_follow_the_eef_table():
    assert attrition_band(0.10) == "10% or less"
    assert attrition_band(0.11) == "over 10% to 20%"
    assert attrition_band(0.50) == "over 40% to 50%"
    assert attrition_band(0.51) == "over 50%"
    assert attrition_band(float("nan")) == "cannot be worked out"
