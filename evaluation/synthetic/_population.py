"""Schools and pupils' background characteristics (the national-like population)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.schema import COHORTS, ETHNICITIES
from evaluation.synthetic.params import DEFAULT_PARAMS, WorldParams

#: National means by phase: FSM share, EAL share, school cohort size (mean, sd, min, max).
#: The spread of school FSM shares and school effects are in `WorldParams`.
PHASE = {
    "primary": {"fsm": 0.17, "eal": 0.14, "size": (30.0, 11.0, 8, 90)},
    "secondary": {"fsm": 0.14, "eal": 0.11, "size": (180.0, 55.0, 50, 340)},
}
#: Ethnic group probabilities for non-EAL and EAL pupils (order of schema.ETHNICITIES).
_ETHNICITY_P = {
    False: (0.86, 0.04, 0.03, 0.03, 0.002, 0.008, 0.03),
    True: (0.20, 0.06, 0.42, 0.16, 0.03, 0.10, 0.03),
}
#: Effects on attainment, in pupil standard deviations.
EFFECTS = {
    "female": 0.08, "sen_support": -0.95, "sen_statement": -1.6, "eal": -0.12, "lac": -0.8,
    "idaci": -0.25,
    "ethnicity": {"white": 0.0, "mixed": 0.0, "asian": 0.05, "black": -0.08, "chinese": 0.4,
                  "other": -0.02, "unclassified": -0.1},
}


def school_frame(rng, phase: str, n: int, shares=None, mean: float | None = None,
                 params: WorldParams = DEFAULT_PARAMS) -> pd.DataFrame:
    """School-level draws: FSM share, EAL share, effects; one row per school (no ids yet).

    School FSM shares are Beta with the phase's shape (``params.fsm_share_beta_a``) and the
    given ``mean`` unless ``shares`` are given.
    """
    p = PHASE[phase]
    if shares is None:
        a, mean = params.fsm_share_beta_a[phase], p["fsm"] if mean is None else mean
        shares = rng.beta(a, a * (1 - mean) / mean, n)
    centred = shares - p["fsm"]
    eal = np.clip(rng.beta(0.6, 0.6 * (1 - p["eal"]) / p["eal"], n) + 0.3 * np.clip(centred, 0, 1),
                  0, 0.95)
    return pd.DataFrame({
        "phase": phase,
        "_share": shares,
        "_eal": eal,
        # school attainment effect (pupil SD): deprived schools lower on average
        "_u": rng.normal(0.0, params.school_sd[phase], n)
        + params.school_deprivation[phase] * centred,
        # school value added on progress (pupil SD)
        "_v": rng.normal(0.0, params.value_added_sd[phase], n) - 0.3 * centred,
        # school-specific part of the FSM effect (pupil SD): gaps differ between schools
        "_g": rng.normal(0.0, params.fsm_gap_school_sd[phase], n),
    })


def cohort_sizes(rng, phase: str, n: int) -> np.ndarray:
    """Pupils per cohort: an (n schools, len(COHORTS)) integer array."""
    mean, sd, lo, hi = PHASE[phase]["size"]
    base = rng.normal(mean, sd, n)
    return np.clip(np.rint(base[:, None] * rng.normal(1.0, 0.06, (n, len(COHORTS)))), lo, hi
                   ).astype(int)


def pupils_frame(rng, schools: pd.DataFrame, sizes: np.ndarray) -> pd.DataFrame:
    """Draw pupils' characteristics for the given schools and per-cohort sizes.

    ``schools`` needs school_id, phase and the private school columns of `school_frame`.
    Returns one row per pupil with the schema's background columns plus private latents
    (``_a``: attainment in pupil SD, before school effects; ``_w``: support at home that no
    data set records, standard normal, independent of everything observed).
    """
    n_by_row = sizes.ravel()
    school_idx = np.repeat(np.repeat(np.arange(len(schools)), len(COHORTS)), n_by_row)
    cohort = np.repeat(np.tile(np.asarray(COHORTS), len(schools)), n_by_row)
    rank = _rank_within(school_idx * 10_000 + cohort)
    s = schools.iloc[school_idx].reset_index(drop=True)
    n = len(s)
    share = s["_share"].to_numpy()
    fsm = rng.random(n) < share
    lac = rng.random(n) < np.where(fsm, 0.014, 0.0035)
    female = rng.random(n) < 0.49
    u = rng.random(n)
    sen_p_stat = np.where(fsm | lac, 0.04, 0.02) + 0.05 * lac
    sen_p_sup = np.where(fsm | lac, 0.26, 0.16) + 0.2 * lac
    sen = np.where(u < sen_p_stat, "statement", np.where(u < sen_p_stat + sen_p_sup, "support",
                                                         "none"))
    eal = rng.random(n) < s["_eal"].to_numpy()
    eth = _ethnicity(rng, eal)
    idaci = np.clip(rng.beta(2.0, 6.0, n) * 0.6 + 0.7 * share + 0.12 * fsm, 0.0, 1.0).round(3)
    eff = EFFECTS
    a = (
        rng.normal(0.0, 1.0, n)
        + eff["female"] * female
        + eff["sen_support"] * (sen == "support")
        + eff["sen_statement"] * (sen == "statement")
        + eff["eal"] * eal
        + eff["lac"] * lac
        + eff["idaci"] * idaci
        + pd.Series(eth).map(eff["ethnicity"]).to_numpy()
    )
    ids = s["school_id"].astype(str)
    pupil_id = ids + "-" + pd.Series(cohort).astype(str) + "-" + pd.Series(rank + 1).astype(
        str).str.zfill(3)
    return pd.DataFrame({
        "pupil_id": pupil_id,
        "cohort": cohort.astype("int64"),
        "school_id": ids,
        "phase": s["phase"].to_numpy(),
        "em": False,
        "fsm": fsm,
        "female": female,
        "sen": sen,
        "eal": eal,
        "ethnicity": eth,
        "lac": lac,
        "idaci": idaci,
        "_a": a,
        "_share": share,
        "_u": s["_u"].to_numpy(),
        "_v": s["_v"].to_numpy(),
        "_g": s["_g"].to_numpy(),
        "_w": rng.normal(0.0, 1.0, n),
    })


def _ethnicity(rng, eal: np.ndarray) -> np.ndarray:
    out = np.empty(len(eal), dtype=object)
    for flag, probs in _ETHNICITY_P.items():
        idx = np.flatnonzero(eal == flag)
        out[idx] = rng.choice(np.asarray(ETHNICITIES, dtype=object), size=len(idx), p=probs)
    return out


def _rank_within(keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal (sorted, contiguous) keys."""
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    lengths = np.diff(np.r_[starts, len(keys)])
    return np.arange(len(keys)) - np.repeat(starts, lengths)
