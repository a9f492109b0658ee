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
        "Perfect separation (every pupil in some group had the same result): separation"]


def test_messages_about_small_groups_and_unattributed_ones_are_withheld():
    notices = model_notices(EV, _table([40, 6]), ["PerfectSeparationWarning: separation"])
    assert [n.text for n in notices] == [
        f"Model messages about {PASS_RATE} are withheld: those estimates rest on a withheld "
        "number of pupils."]
