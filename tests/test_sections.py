"""Report sections that decide what a reader may see: model messages."""

from types import SimpleNamespace

import pandas as pd

from evaluation.plan import load_plan
from evaluation.report.impact import model_notices

PLAN = load_plan()
EV = SimpleNamespace(plan=PLAN)
PASS_RATE = PLAN.label("gcse_5ac_em")


def _table(n_em):
    return pd.DataFrame({"outcome": ["gcse_capped_points", "gcse_5ac_em"],
                         "label": [PLAN.label("gcse_capped_points"), PASS_RATE],
                         "n_em": n_em, "n_comparison": [200, 200],
                         "note": ["", "'gcse_5ac_em': every EM pupil analysed has the value 1"]})


def test_messages_are_in_readers_words_when_every_estimate_rests_on_enough_pupils():
    notices = model_notices(EV, _table([40, 40]), ["PerfectSeparationWarning: separation"])
    assert [n.text for n in notices] == [
        f"{PASS_RATE}: every EM pupil analysed has the value 1",
        "The model could not fully separate the effects of its terms (perfect or quasi-perfect "
        "separation), so treat its figures with care: separation"]


def test_messages_about_small_groups_and_unattributed_ones_are_withheld():
    notices = model_notices(EV, _table([40, 6]), ["PerfectSeparationWarning: separation"])
    assert [n.text for n in notices] == [
        f"Model messages about {PASS_RATE} are withheld: those estimates rest on a withheld "
        "number of pupils."]


def test_model_warnings_become_sentences_without_statistical_jargon():
    from evaluation.report.tables import plain

    text = plain("ModelWarning: 'ks2_aps': only 2 schools, too few for reliable cluster-robust "
                 "inference; read the interval as descriptive", PLAN)
    assert text.startswith(PLAN.label("ks2_aps") + ": only 2 schools, too few to measure")
    assert "cluster-robust" not in text and "Warning" not in text and "ks2_aps" not in text


def test_summary_and_glossary_lead_and_close_the_cluster_and_overall_reports():
    from evaluation.report import CONTENTS, REPORTS
    from evaluation.report.glossary import glossary
    from evaluation.report.summary import summary

    for kind in ("cluster", "overall"):
        parts = [p for p in REPORTS[kind] if p != CONTENTS]
        assert parts[1] is summary and parts[-1] is glossary


def test_padlock_bands_follow_the_eef_2019_table():
    """reference/standards.md section 3: MDES <=0.2: 5 ... >=0.6: 0; attrition <=10%: 5 ..."""
    from evaluation.security import security_rating

    mdes = {0.20: 5, 0.21: 4, 0.29: 4, 0.30: 3, 0.39: 3, 0.45: 2, 0.55: 1, 0.60: 0}
    for value, want in mdes.items():
        assert security_rating("randomised", value, 0.0, 0.0).mdes_padlocks == want, value
    attrition = {0.10: 5, 0.11: 4, 0.25: 3, 0.35: 2, 0.50: 1, 0.51: 0}
    for value, want in attrition.items():
        assert security_rating("randomised", 0.1, value, 0.0).attrition_padlocks == want, value
    # a matched design caps at 3; failing the WWC balance standard costs a padlock
    assert security_rating("matched", 0.1, 0.0, 0.0).padlocks == 3
    assert security_rating("matched", 0.1, 0.0, 0.26).padlocks == 2
    assert security_rating("matched", 0.1, 0.0, 0.25).padlocks == 3


def test_cost_scale_follows_the_eef_toolkit():
    """EEF 'About the Toolkits: cost': <80 very low, <=200 low, <=720 moderate, <=1,200 high."""
    from evaluation.security import cost_rating

    cases = {50: "very low", 80: "very low", 81: "low", 200: "low", 700: "moderate",
             1200: "high", 1201: "very high"}
    for cost, words in cases.items():
        assert cost_rating(cost)[0] == words, cost
