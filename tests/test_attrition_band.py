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
    from evaluation.report.summary import _attrition_withheld

    text = lxml_html.fromstring(summary(default_evaluation)._repr_html_()).text_content()
    shown = 0
    for phase, pe in default_evaluation.phases.items():
        if pe.security is None:
            continue
        share = pe.security.attrition
        assert f"(attrition){share:.0%}" not in text   # the share would give sums away
        if _attrition_withheld(default_evaluation, phase, pe):   # it would narrow a hidden count
            assert "(attrition)withheld" in text
            continue
        assert f"(attrition){attrition_band(share)}" in text
        shown += 1
    assert shown and re.search(r"Pupils lost for missing data \(attrition\)", text)


def test_band_edges_follow_the_eef_table():
    assert attrition_band(0.10) == "10% or less"
    assert attrition_band(0.11) == "over 10% to 20%"
    assert attrition_band(0.50) == "over 40% to 50%"
    assert attrition_band(0.51) == "over 50%"
    assert attrition_band(float("nan")) == "cannot be worked out"


def test_the_rating_is_withheld_where_it_would_give_the_withheld_band_back(default_evaluation):
    """Where attrition is the lowest criterion, the rating is its padlocks, so its band: with
    the band withheld, a rating that pins it is withheld too (summary box and rule table)."""
    from dataclasses import replace

    from evaluation.report.summary import _attrition_withheld, _rating_withheld, phase_summary

    res = default_evaluation
    phase, pe = next((ph, pe) for ph, pe in res.phases.items()
                     if pe.security is not None and _attrition_withheld(res, ph, pe))
    assert not _rating_withheld(res, phase, pe)   # a rating of 0 after 3 threats says nothing

    def box(pe):
        return lxml_html.fromstring("".join(p._repr_html_() for p in phase_summary(res, phase, pe))
                                    ).text_content()

    a = pe.security.attrition_padlocks
    pinned = replace(pe, security=replace(pe.security, design=5, mdes_padlocks=5, threats=(),
                                          padlocks=a))
    assert _rating_withheld(res, phase, pinned)
    text = box(pinned)
    assert "of 5 padlocks" not in text and "Evidence security: withheld" in text
    assert re.search(r"Rating\s*lowest of the first three, minus one per threat\s*-", text)
    assert "of 5 padlocks" in box(pe)


def test_the_numbers_lost_in_each_band_are_found_by_bisection_as_by_trying_each():
    # every number up to three times the pupils analysed was tried (0.8 s of a report set);
    # the bands are runs of the numbers lost, found by bisection: the same numbers
    from evaluation.report.summary import lost_in_bands
    from evaluation.security import attrition_padlocks

    for kept in (0, 1, 7, 9, 10, 87, 99, 100, 333, 1001, 4720):
        limit = 3 * kept + 100
        every = [attrition_padlocks(x / (x + kept) if x + kept else 1.0) for x in range(limit)]
        for padlocks in ({5}, {4}, {3}, {2}, {1}, {0}, {0, 5}, {2, 3, 4}, set()):
            assert lost_in_bands(kept, padlocks, limit) == [
                x for x, p in enumerate(every) if p in padlocks], (kept, padlocks)
