"""Annex 5 (pupil) and Annex 6 (staff) perception surveys, baseline and follow-up."""

from __future__ import annotations

import numpy as np
import pandas as pd

PUPIL_ITEMS = tuple(f"p{i:02d}" for i in range(1, 11))
STAFF_ITEMS = tuple(f"s{i:02d}" for i in range(1, 13))
#: True change baseline -> follow-up (scale points) on the items that improve.
TRUE_CHANGE = {"p01": 0.6, "p02": 0.5, "p05": 0.7, "p07": 0.4,
               "s01": 0.6, "s03": 0.8, "s05": 0.5, "s09": 0.6, "s12": 0.7}
RESPONSE = {"baseline": 0.85, "follow_up": 0.78}   # chance a respondent answers a wave
ITEM_NONRESPONSE = 0.03
STAFF_PER_SCHOOL = (4, 9)


def surveys(rng, schools: pd.DataFrame, pupils: pd.DataFrame) -> pd.DataFrame:
    """Survey responses (long) in EM trial schools of the 2009-10 programme.

    Target pupils of the 2010 cohort answer the pupil survey; a few staff per school answer
    the staff survey about the target pupils.
    """
    surveyed = schools[(schools["role"] == "trial")
                       & schools["em_phase"].isin(["primary", "secondary_2"])]["school_id"]
    target = pupils[pupils["_treated"] & (pupils["cohort"] == 2010)
                    & pupils["school_id"].isin(set(surveyed))]
    pupil_resp = target["school_id"].to_numpy()
    n_staff = rng.integers(*STAFF_PER_SCHOOL, len(surveyed))
    staff_resp = np.repeat(surveyed.to_numpy(), n_staff)
    return pd.concat([
        _responses(rng, pupil_resp, "pupil", PUPIL_ITEMS, "R"),
        _responses(rng, staff_resp, "staff", STAFF_ITEMS, "T"),
    ], ignore_index=True)


def _responses(rng, school_ids: np.ndarray, instrument: str, items: tuple, prefix: str):
    n = len(school_ids)
    rank = pd.Series(school_ids).groupby(school_ids).cumcount().to_numpy() + 1
    ids = np.char.add(np.char.add(prefix + np.asarray(school_ids, dtype=str), "-"),
                      np.char.zfill(rank.astype(str), 3))
    person = rng.normal(0.0, 1.1, n)
    item_mean = rng.uniform(5.6, 7.4, len(items))
    change = np.array([TRUE_CHANGE.get(i, 0.0) for i in items])
    frames = []
    for w, (wave, p_resp) in enumerate(RESPONSE.items()):
        answers = rng.random(n) < p_resp
        raw = (item_mean[None, :] + person[answers, None] + w * change[None, :]
               + rng.normal(0.0, 1.4, (int(answers.sum()), len(items))))
        score = np.clip(np.rint(raw), 1, 10)
        score[rng.random(score.shape) < ITEM_NONRESPONSE] = np.nan
        frames.append(pd.DataFrame({
            "respondent_id": np.repeat(ids[answers], len(items)),
            "school_id": np.repeat(school_ids[answers], len(items)),
            "instrument": instrument,
            "wave": wave,
            "item": np.tile(np.asarray(items, dtype=object), int(answers.sum())),
            "score": score.ravel(),
        }))
    return pd.concat(frames, ignore_index=True)
