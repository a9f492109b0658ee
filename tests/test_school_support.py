"""School-to-school support: the DiD estimator against pyfixest, the workflow on real data.

``fixtures/published/did_pyfixest.csv`` was made by pyfixest 0.60.0 in a throwaway venv from
``did_panel.csv`` (``make_did_fixture.py``; versions in ``did_versions.txt``).
"""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from published_data import real_dir, real_file

from evaluation.did import event_study
from evaluation.exceptions import DataError, NotEstimableError
from evaluation.io.dfe import published_sources, read_school_panel
from evaluation.plan import load_plan
from evaluation.report.display import Section
from evaluation.school_support import placebo_group, school_support, widest_gap_schools

FIX = Path(__file__).parent / "fixtures" / "published"


@pytest.fixture(scope="module")
def fixture():
    panel = pd.read_csv(FIX / "did_panel.csv", dtype={"urn": str})
    ref = pd.read_csv(FIX / "did_pyfixest.csv")
    return panel, ref


def test_event_study_matches_pyfixest_to_1e6(fixture):
    panel, ref = fixture
    es = event_study(panel, "y", 2015, weights="weight")
    want = ref[ref["model"] == "event_study"].set_index("Coefficient")
    got = es.table.set_index("year")
    for year in (2013, 2015):
        w = want.loc[f"year::{year}:treated"]
        g = got.loc[year]
        assert g["estimate"] == pytest.approx(w["Estimate"], abs=1e-6)
        assert g["se"] == pytest.approx(w["Std. Error"], abs=1e-6)
        assert g["lower"] == pytest.approx(w["2.5%"], abs=1e-6)
        assert g["upper"] == pytest.approx(w["97.5%"], abs=1e-6)
        assert g["p"] == pytest.approx(w["Pr(>|t|)"], abs=1e-6)
    assert es.dropped == 2 and es.n_obs == 118 and es.n_treated == 12 and es.reference == 2014


def test_did_matches_pyfixest_to_1e6(fixture):
    panel, ref = fixture
    did = event_study(panel, "y", 2015, weights="weight").did
    w = ref[ref["model"] == "did"].iloc[0]
    assert did["estimate"] == pytest.approx(w["Estimate"], abs=1e-6)
    assert did["se"] == pytest.approx(w["Std. Error"], abs=1e-6)
    assert (did["lower"], did["upper"]) == pytest.approx((w["2.5%"], w["97.5%"]), abs=1e-6)


def test_event_study_errors(fixture):
    panel, _ = fixture
    with pytest.raises(DataError, match=r"duplicate \(urn, year\) rows"):
        event_study(pd.concat([panel, panel.head(1)]), "y", 2015)
    with pytest.raises(NotEstimableError, match="needs years before and from 2013"):
        event_study(panel, "y", 2013)
    with pytest.raises(DataError, match=r"columns \['nope'\] not in the data"):
        event_study(panel, "nope", 2015)


@pytest.fixture(scope="module")
def panel():
    return read_school_panel(real_file("research-ks4-2013-2015-national", "isolatedSchools.csv"))


@pytest.fixture(scope="module")
def placebo(panel):
    return school_support(panel, placebo_group(panel, 105, seed=2011), 2015,
                          label="placebo schools")


def test_placebo_group_has_no_effect(placebo):
    # A random group had no support: the true effect is zero for every outcome.
    for es in placebo.estimates.values():
        assert es.did["lower"] < 0 < es.did["upper"] and abs(es.did["estimate"]) < 3
    pre = placebo.estimates["rate_fsm"].table.query("year == 2013").iloc[0]
    assert pre["lower"] < 0 < pre["upper"]


def test_matched_sample(placebo):
    s = placebo.schools
    assert placebo.n_supported == 105 and placebo.n_comparison == 105
    assert not set(s.loc[s.group == "supported", "urn"]) & set(s.loc[s.group == "comparison",
                                                                       "urn"])
    pairs = s.groupby("pair")["london"].nunique()
    assert (pairs == 1).all()  # exact on London
    assert placebo.exclusions.set_index("what").loc["candidate schools closed (left out)",
                                                    "n"] == 67


def test_national_trend_against_a_hand_count(placebo):
    path = real_file("research-ks4-2013-2015-national", "isolatedSchools.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    n = sum(int(r["tever6fsm13"]) for r in rows)
    rate = sum(float(r["ac.gcse.fsm13"]) * int(r["tever6fsm13"]) for r in rows) / n
    nat = placebo.trends.query("group == 'national' and year == 2013").iloc[0]
    assert nat["fsm_pupils"] == n == 134026 and nat["schools"] == 2577
    assert nat["rate_fsm"] == pytest.approx(100 * rate, abs=1e-9)
    assert placebo.trends["fsm_pupils"].map(type).eq(int).all()


def test_widest_gap_group_shows_why_the_placebo_check_matters(panel):
    r = school_support(panel, widest_gap_schools(panel, 2013, 0.05), 2015)
    pre = r.estimates["rate_fsm"].table.query("year == 2013").iloc[0]
    assert pre["upper"] < 0  # the groups moved apart before support: flagged in findings
    from evaluation.report.school_support import findings
    from evaluation.results import SupportResult

    view = SupportResult(r, None, (), load_plan())
    assert "placebo check before support fails" in findings(view).parts[0].text


def test_sections_render_and_numbers_agree(placebo):
    from evaluation.report import sections
    from evaluation.results import SupportResult

    source = published_sources(real_dir())["research-ks4-2013-2015-national"]
    secs = sections(SupportResult(placebo, source, (), load_plan()), "school_support")
    assert all(isinstance(s, Section) for s in secs)
    html = "".join(s._repr_html_() for s in secs)
    est = placebo.estimates["rate_fsm"].did["estimate"]
    assert f"{est:+.1f}" in html and "Matched comparison schools" in html
    # review 20: the FSM rate's estimate read "points" in the findings, "pp" in the index
    from evaluation.numbers import signed

    assert f"is {signed(est, 1)} percentage points (95% CI" in html


def test_unknown_schools_and_years_are_errors(panel):
    with pytest.raises(DataError, match=r"1 of the 1 schools are not in the panel.*'1'"):
        school_support(panel, ["1"], 2015)
    with pytest.raises(NotEstimableError, match="support_year 2013 needs earlier years"):
        school_support(panel, placebo_group(panel, 5, 1), 2013)


def test_deterministic(panel, placebo):
    again = school_support(panel, placebo_group(panel, 105, seed=2011), 2015,
                           label="placebo schools")
    assert again.trends.equals(placebo.trends)
    assert np.isclose(again.estimates["gap"].did["estimate"],
                      placebo.estimates["gap"].did["estimate"], rtol=0, atol=0)


def test_matching_and_estimates_tables_show_words_not_code_names(placebo):
    """Review finding: the balance table showed mean_treated, wwc_band, rate_fsm_2013 ... and
    the estimates table called the FSM outcome just "FSM"."""
    import re

    from lxml import html as lxml_html

    from evaluation.report.school_support import estimates, matching
    from evaluation.results import SupportResult

    view = SupportResult(placebo, None, (), load_plan())
    for section in (matching(view), estimates(view)):
        text = lxml_html.fromstring(section._repr_html_()).text_content()
        assert not re.findall(r"\b[a-z]+_[a-z0-9_]+\b", text), section.title
    text = lxml_html.fromstring(matching(view)._repr_html_()).text_content()
    assert "FSM (ever-6) share of the KS4 cohort (%), 2014" in text
    assert "standardised mean difference (SMD)" in text
    text = lxml_html.fromstring(estimates(view)._repr_html_()).text_content()
    assert "FSM (ever-6) pupils with 5+ A*-C including English and maths" in text


def test_two_schools_rates_follow_the_disclosure_rules(panel):
    """Eighth review of issue 14: with two supported schools the trends table printed an FSM
    rate of 0.0% of 34 pupils (and in the findings "24% to 0%"), 9.2% of 42 (4 pupils) and
    an other-pupils rate resting on 6 pupils. Rates follow the rule of every other report:
    hidden where they rest on, or give, fewer than the threshold's pupils (none included);
    the charts and the findings show what the table shows."""
    import re

    from lxml import html as lxml_html

    from evaluation.report.school_support import findings, trend_hidden, trends
    from evaluation.results import SupportResult

    r = school_support(panel, ["139237", "112379"], 2015)
    view = SupportResult(r, None, (), load_plan())
    t, hidden = r.trends, trend_hidden(view)
    sup = t["group"] == "supported"
    thr = 10
    for rate, base in (("rate_fsm", "base_fsm"), ("rate_all", "base_all"),
                       ("rate_other", "base_other")):
        yes = (t[rate] / 100 * t[base]).round()
        small = t[rate].notna() & ((t[base] < thr) | (yes < thr) | (t[base] - yes < thr))
        assert hidden.loc[small, rate].all(), rate
    assert hidden.loc[sup, "rate_fsm"].any()          # the crafted case is there
    section = trends(view)
    table = next(p for p in section.parts if hasattr(p, "frame"))
    shown = table.frame
    marker = load_plan().section("disclosure").get("marker", "c")
    assert (shown.loc[hidden["rate_fsm"].to_numpy(), "FSM rate (%)"] == marker).all()
    for chart in (p for p in section.parts if hasattr(p, "figure")):
        drawn = {round(y, 6) for line in chart.figure.axes[0].get_lines()
                 if not line.get_label().startswith("_")       # not the grey year line
                 for y in line.get_ydata() if np.isfinite(y)}
        for col in ("rate_fsm", "gap"):
            if chart.figure.axes[0].get_title().startswith("Gap") != (col == "gap"):
                continue
            for v in t.loc[hidden[col] & t[col].notna(), col]:
                assert round(round(v, 1), 6) not in drawn, (col, v)
    words = lxml_html.fromstring(findings(view)._repr_html_()).text_content()
    assert "to 0%" not in words and "a withheld figure" in words
    assert re.search(r"all schools \d+% to \d+%", words)


@pytest.mark.parametrize("urns", [("101813", "134199"), ("136333", "137727")])
def test_estimates_and_balance_withhold_what_the_trends_table_withholds(panel, urns):
    """Tenth review of issue 14: with two supported schools the balance table's mean FSM rate
    of 2014 was 0.00 (both schools 0%: 0 of 42 FSM pupils, withheld in the trends table) or
    100.00 in 2013, and the event-study rows gave the same figures back. Every figure resting
    on a withheld trends figure is withheld: balance rows, estimates, the event chart, the
    findings, the summary and the index."""
    from lxml import html as lxml_html

    from evaluation.report.published_summary import support_summary
    from evaluation.report.school_support import (
        estimates,
        findings,
        index_record,
        matching,
        support_withheld,
        trend_hidden,
    )
    from evaluation.results import SupportResult

    r = school_support(panel, list(urns), 2015)
    source = published_sources(real_dir())["research-ks4-2013-2015-national"]
    view = SupportResult(r, source, (), load_plan())
    t, hidden = r.trends, trend_hidden(view)
    pair = t["group"].isin(["supported", "comparison"])
    assert (hidden.loc[pair, "rate_fsm"] & t.loc[pair, "rate_fsm"].notna()).any()
    assert support_withheld(view, "rate_fsm")
    balance = next(p.frame for p in matching(view).parts if hasattr(p, "frame"))
    checked = 0
    for col, words in (("rate_fsm", "FSM pupils with"), ("rate_all", "all pupils with"),
                       ("gap", "FSM gap")):
        for year in t.loc[pair & hidden[col] & t[col].notna(), "year"].unique():
            rows = balance[balance["matched on"].str.startswith(words)
                           & balance["matched on"].str.endswith(f", {year}")]
            assert (rows["supported schools (mean)"] == "c").all(), (col, year)
            checked += len(rows)
    assert checked, balance["matched on"].tolist()
    section = estimates(view)
    table = next(p.frame for p in section.parts if hasattr(p, "frame"))
    fsm = table["outcome"].str.startswith("FSM (ever-6)")
    assert fsm.any() and (table.loc[fsm, "estimate"] == "c").all()
    assert not [p for p in section.parts if hasattr(p, "figure")]    # no event chart
    words = " ".join(lxml_html.fromstring(x._repr_html_()).text_content()
                     for x in (findings(view), support_summary(view)))
    assert "withheld" in words and "DiD withheld" in index_record(view)["headline"]


def test_balance_over_fewer_schools_than_the_threshold_is_withheld(panel):
    """Eleventh review: with two supported schools, the FSM share's mean and SMD (the SD of
    two values) gave each school's share back, 5.4% and 23.2%; with the trends table's 18
    FSM pupils of 191 only 8 FSM pupils of 148 fitted. A mean over fewer schools than the
    threshold is withheld (ACRO's minimum count, counted in schools)."""
    from lxml import html as lxml_html

    from evaluation.report.school_support import matching
    from evaluation.results import SupportResult

    r = school_support(panel, ["103009", "137317"], 2015)
    section = matching(SupportResult(r, None, (), load_plan()))
    balance = next(p.frame for p in section.parts if hasattr(p, "frame"))
    for col in ("supported schools (mean)", "standardised mean difference (SMD)"):
        assert (balance[col] == "c").all(), col
    assert "fewer than 10 schools" in lxml_html.fromstring(section._repr_html_()).text_content()


def test_the_event_chart_draws_the_estimates_as_its_table_shows_them(placebo):
    """Eleventh review: the event chart drew the raw estimates, finer than the table's two
    decimals (a figure shows what its table shows, no finer)."""
    from evaluation.plots.school_support import event_chart

    es = placebo.estimates["rate_fsm"]
    chart = event_chart(es, 2015)
    drawn = [y for line in chart.figure.axes[0].get_lines() if line.get_marker() == "o"
             for y in line.get_ydata()]
    want = [round(v, 2) for v in es.table["estimate"]]
    assert sorted(drawn) == sorted([*want, 0.0])
