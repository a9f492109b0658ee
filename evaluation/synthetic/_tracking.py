"""Termly class-level tracking of Year 5 pupils' average point scores (2009-10)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.schema import SUBJECTS, TERMS

#: Class average in the autumn term and FSM pupils' gap to it (points), by subject.
AUTUMN_MEAN = {"reading": 22.1, "writing": 20.4, "numeracy": 19.0}
FSM_GAP = {"reading": -2.6, "writing": -3.2, "numeracy": -2.4}
TERM_GAIN = 1.6                 # points gained per term by the class
CLOSING = (0.45, 0.6)           # per-term narrowing of the FSM gap in a class: mean, sd
CLASS_SIZE = (28, 33)
ABSENT = 0.02                   # share of pupil-term-subject scores missing


def tracking(rng, schools: pd.DataFrame) -> pd.DataFrame:
    """Tracking rows for every Year 5 class of the primary trial schools."""
    trial = schools[(schools["em_phase"] == "primary") & (schools["role"] == "trial")]
    n_classes = rng.choice([1, 2], size=len(trial), p=[0.6, 0.4])
    class_school = np.repeat(trial["school_id"].to_numpy(), n_classes)
    class_share = np.repeat(trial["_share"].to_numpy(), n_classes)
    letter = pd.Series(class_school).groupby(class_school).cumcount().map(lambda k: "AB"[k])
    class_id = pd.Series(class_school).astype(str) + "-Y5" + letter
    size = rng.integers(*CLASS_SIZE, len(class_id))
    cls = np.repeat(np.arange(len(class_id)), size)
    n = len(cls)
    fsm = rng.random(n) < class_share[cls]
    pupil_id = class_id.to_numpy()[cls] + "-" + pd.Series(
        pd.Series(cls).groupby(cls).cumcount() + 1).astype(str).str.zfill(2).to_numpy()
    ability = rng.normal(0.0, 2.8, n)
    rows = []
    for subject in SUBJECTS:
        closing = rng.normal(*CLOSING, len(class_id))[cls]
        level = AUTUMN_MEAN[subject] + rng.normal(0.0, 1.0, len(class_id))[cls] + ability
        # FSM pupils' gap to the whole class (which includes them) is FSM_GAP on average
        level = level + fsm * FSM_GAP[subject] / (1.0 - class_share[cls])
        for t, term in enumerate(TERMS):
            aps = level + t * (TERM_GAIN + fsm * closing) + rng.normal(0.0, 0.8, n)
            aps = np.round(np.clip(aps, 3.0, 39.0), 1)
            aps[rng.random(n) < ABSENT] = np.nan
            rows.append(pd.DataFrame({
                "pupil_id": pupil_id, "school_id": class_school[cls],
                "class_id": class_id.to_numpy()[cls], "term": term, "subject": subject,
                "aps": aps, "fsm": fsm,
            }))
    return pd.concat(rows, ignore_index=True)
