"""Report sections that decide what a reader may see: model messages."""

from types import SimpleNamespace

import pandas as pd

from evaluation.report.impact import model_notices

EV = SimpleNamespace(plan=SimpleNamespace(threshold=10))


def _table(n_em):
    return pd.DataFrame({"outcome": ["y", "z"], "label": ["Points", "Pass rate"],
                         "n_em": n_em, "n_comparison": [200, 200],
                         "note": ["", "'z': every EM pupil analysed has the value 1"]})


def test_messages_are_labelled_when_every_estimate_rests_on_enough_pupils():
    notices = model_notices(EV, _table([40, 40]), ["PerfectSeparationWarning: separation"])
    assert [n.text for n in notices] == ["Pass rate: every EM pupil analysed has the value 1",
                                         "PerfectSeparationWarning: separation"]


def test_messages_about_small_groups_and_unattributed_ones_are_withheld():
    notices = model_notices(EV, _table([40, 6]), ["PerfectSeparationWarning: separation"])
    assert [n.text for n in notices] == [
        "Model messages about Pass rate are withheld: those estimates rest on fewer than 10 "
        "pupils."]
