"""Prior attainment and outcomes on the real scales, EM effects and exact true effects.

Design (what EM can move, and why the default truth is recoverable):

* Every pupil has latent subject scores ``x = mu + s * e`` with ``e`` standard logistic, so a
  threshold ``x >= t`` holds with probability ``expit((mu - t) / s)`` exactly; ``mu`` is linear
  in prior attainment, the covariates, a school effect and a school-varying FSM effect.
* Primary: KS2 English and maths fine points carry every threshold outcome (level 4+ in both,
  two levels of progress from KS1); ``ks2_aps`` is the mean of English, maths and science fine
  points, so an EM effect on ``ks2_aps`` works through science and moves no threshold.
* Secondary: GCSE English and maths grades carry the E&M threshold and expected progress; six
  other subjects complete the best 8.  An EM effect of ``coef`` capped points gives each EM
  pupil ``coef / 6`` grade steps in the other subjects (the fraction as a chance of one more
  step), weakest eligible subject first, never across the C/D boundary nor from U: capped
  points rise by ``coef`` on average and no threshold outcome moves.
* A binary outcome's coefficient (log-odds) shifts the latent subject score(s) it thresholds by
  ``coef * s``: exactly a log-odds shift for expected progress; for composite thresholds each
  component moves by that log-odds, and knock-on effects on other outcomes are reported in the
  truth table (``effect`` is always exact: potential outcomes for point scores, generating
  probabilities for thresholds).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from evaluation.synthetic.params import DEFAULT_PARAMS

#: Sub-level points of KS1 teacher assessment (W, 1, 2C, 2B, 2A, 3, 4) and their levels.
KS1_POINTS = np.array([3.0, 9.0, 13.0, 15.0, 17.0, 21.0, 27.0])
_KS1_CUTS = (KS1_POINTS[1:] + KS1_POINTS[:-1]) / 2
KS2_RANGE = (15.0, 35.9)          # B/N score 15; tests stop at level 5
GRADE_C = 40.0
S_KS2 = 1.6                       # logistic scale of KS2 fine points
S_GCSE = 5.0                      # logistic scale of GCSE subject points
N_OTHER = 6                       # GCSE subjects besides English and maths in the best 8
SEC_PUPIL_SD = 9.0                # pupil SD of unexplained KS2-KS4 progress (GCSE points),
                                  # the unobserved support ``w`` included
U_BELOW = 8.0                     # latent GCSE points below which a subject is ungraded (U)

#: FSM effect on attainment (pupil SD) in a school with the national FSM share; how it changes
#: per unit of school FSM share is `WorldParams.fsm_gap_slope` (positive: smaller gaps in
#: high-FSM schools), its school-specific part `WorldParams.fsm_gap_school_sd`.
FSM_ATTAIN = {"primary": -0.33, "secondary": -0.33}
FSM_PROGRESS = {"primary": (0.0, 1.0), "secondary": (0.0, 0.0)}
#: Points of the latent subject scores per unit of progress (school value added, ``w``).
PROGRESS_POINTS = {"primary": 2.5, "secondary": 8.0}

#: Calibrated constants (points) by (cohort, fsm) for KS2 and GCSE latent scores; the
#: population's comparison schools get a further small shift that makes national rates exact.
BASE = {
    "primary": {(2008, False): 1.32, (2008, True): 0.0, (2009, False): 1.23,
                (2009, True): -0.09, (2010, False): 1.45, (2010, True): 0.18},
    "secondary": {(2008, False): 10.95, (2008, True): 5.6, (2009, False): 11.76,
                  (2009, True): 6.69, (2010, False): 13.37, (2010, True): 8.3},
}

#: How an outcome's EM coefficient reaches the latent scores: (channel, points per unit coef).
CHANNELS = {
    "ks2_aps": (("sci", 3.0),),
    "ks2_l4_em": (("eng", S_KS2), ("mat", S_KS2)),
    "ks2_ep_eng": (("eng", S_KS2),),
    "ks2_ep_mat": (("mat", S_KS2),),
    "gcse_capped_points": (("steps", 1.0 / 6.0),),
    "gcse_5ac": (("oth", S_GCSE),),
    "gcse_5ac_em": (("eng", S_GCSE), ("mat", S_GCSE)),
    "ks4_ep_eng": (("eng", S_GCSE),),
    "ks4_ep_mat": (("mat", S_GCSE),),
}
FAMILY = {o: ("gaussian" if o in ("ks2_aps", "gcse_capped_points") else "binomial")
          for o in CHANNELS}


#: The FSM effect never falls below this many pupil SD in magnitude (gaps narrow in high-FSM
#: schools but do not reverse).
FSM_FLOOR = -0.10


def _fsm_effect(share, fsm, pair):
    effect = pair[0] + pair[1] * (share - 0.17)
    return fsm * (np.minimum(effect, FSM_FLOOR) if pair[0] < 0 else effect)


def _base(phase, cohort, fsm):
    table = BASE[phase]
    out = np.zeros(len(cohort))
    for (c, f), v in table.items():
        out[(cohort == c) & (fsm == f)] = v
    return out


def _ks2_points(x):
    return np.floor(np.clip(x, *KS2_RANGE) * 10.0) / 10.0


def latents(rng, p, params=DEFAULT_PARAMS) -> dict:
    """Prior attainment and latent outcome means/noise for one phase's pupils frame ``p``.

    ``hidden`` in the result is the part of every latent subject score that the unobserved
    support ``w`` contributes (points), so outcomes without it are ``outcomes(lat, -hidden)``.
    """
    phase, share, fsm = p["phase"].iloc[0], p["_share"].to_numpy(), p["fsm"].to_numpy()
    # pupil attainment incl. the school effect: the same latent drives prior and outcomes,
    # so prior attainment relates to outcomes alike within and between schools
    level = p["_a"].to_numpy() + p["_u"].to_numpy()
    fsm_pair = (FSM_ATTAIN[phase], params.fsm_gap_slope[phase])
    attain = level + _fsm_effect(share, fsm, fsm_pair) + fsm * p["_g"].to_numpy()
    hidden = PROGRESS_POINTS[phase] * params.hidden_outcome_sd * p["_w"].to_numpy()
    progress = p["_v"].to_numpy() + _fsm_effect(share, fsm, FSM_PROGRESS[phase])
    base = _base(phase, p["cohort"].to_numpy(), fsm)
    n = len(p)
    if phase == "primary":
        sub = 16.6 + 3.1 * (attain[:, None] + 0.5 * rng.normal(size=(n, 3)))
        sub[:, 2] += 0.8                         # KS1 maths runs a little above English
        ks1 = KS1_POINTS[np.searchsorted(_KS1_CUTS, sub)]          # reading, writing, maths
        ks1_eng = (ks1[:, 0] + ks1[:, 1]) / 2
        lev = np.floor((np.c_[ks1_eng, ks1[:, 2]] - 3.0) / 6.0 + 0.5)
        pupil = rng.normal(0.0, 0.9, n)
        common = 27.2 + base + 1.3 * level + 2.5 * progress + hidden + pupil
        mu = {
            "eng": common + 0.62 * (ks1_eng - 15.6),
            "mat": common + 0.62 * (ks1[:, 2] - 15.6),
            "sci": common + 0.5 + 0.55 * (ks1.mean(axis=1) - 15.6),
        }
        eps = {k: rng.logistic(size=n) for k in ("eng", "mat", "sci")}
        prior = {"ks1_aps": np.round(ks1.mean(axis=1), 2)}
        return {"phase": "primary", "mu": mu, "eps": eps, "prior": prior, "hidden": hidden,
                "req": {"eng": 6.0 * (lev[:, 0] + 2), "mat": 6.0 * (lev[:, 1] + 2)}}
    ks2 = _ks2_points(27.6 + 3.6 * (attain[:, None] + 0.45 * rng.normal(size=(n, 3))))
    ks2_aps = np.round(ks2.mean(axis=1), 2)
    lev = np.floor(ks2[:, :2] / 6.0)
    # progress from 11 to 16 that prior attainment and the covariates do not predict, common
    # to all subjects: with it, prior attainment and the covariates explain about half of the
    # variance in capped points, the plan's `power.r2_pupil` (0.5)
    own = max(SEC_PUPIL_SD ** 2 - (PROGRESS_POINTS["secondary"] * params.hidden_outcome_sd) ** 2,
              0.0)
    pupil = rng.normal(0.0, np.sqrt(own), n)
    common = 38.0 + base + 3.2 * level + 8.0 * progress + hidden + pupil
    mu = {
        "eng": common + 1.52 * (ks2[:, 0] - 27.6),
        "mat": common + 1.68 * (ks2[:, 1] - 27.6),
        "oth": (common + 1.44 * (ks2_aps - 27.6) + rng.normal(0.0, 2.5, n))[:, None]
        + rng.normal(0.0, 2.0, (n, N_OTHER)),
    }
    eps = {"eng": rng.logistic(size=n), "mat": rng.logistic(size=n),
           "oth": rng.logistic(size=(n, N_OTHER)), "step": rng.random(n)}
    return {"phase": "secondary", "mu": mu, "eps": eps, "prior": {"ks2_aps": ks2_aps},
            "hidden": hidden,
            "req": {"eng": GRADE_C + 6.0 * (lev[:, 0] - 4), "mat": GRADE_C + 6.0 * (lev[:, 1] - 4)}}


def shifts(effects: dict, fsm: np.ndarray, treated: np.ndarray) -> dict:
    """Points added to each latent channel for treated pupils (coef + FSM interaction)."""
    out: dict[str, np.ndarray] = {}
    for outcome, routes in CHANNELS.items():
        coef = effects.get(outcome, 0.0) + effects.get(f"em_fsm:{outcome}", 0.0) * fsm
        for channel, scale in routes:
            out[channel] = out.get(channel, 0.0) + treated * coef * scale
    return out


def _grade(x):
    return np.where(x < U_BELOW, 0.0,
                    np.minimum(58.0, 16.0 + 6.0 * np.floor(np.maximum(x - 16.0, 0.0) / 6.0)))


def outcomes(lat: dict, delta=0.0, shift: dict | None = None) -> dict:
    """Observed outcomes given a calibration ``delta`` (points) and EM channel ``shift``."""
    shift = shift or {}

    def x(ch):
        return lat["mu"][ch] + _col(delta, lat["mu"][ch]) + _col(shift.get(ch, 0.0),
                                                                  lat["mu"][ch]) \
            + (S_KS2 if lat["phase"] == "primary" else S_GCSE) * lat["eps"][ch]

    if lat["phase"] == "primary":
        fp = {ch: _ks2_points(x(ch)) for ch in ("eng", "mat", "sci")}
        return {
            "ks2_aps": np.round((fp["eng"] + fp["mat"] + fp["sci"]) / 3.0, 2),
            "ks2_l4_em": ((fp["eng"] >= 24.0) & (fp["mat"] >= 24.0)).astype(float),
            "ks2_ep_eng": (fp["eng"] >= lat["req"]["eng"]).astype(float),
            "ks2_ep_mat": (fp["mat"] >= lat["req"]["mat"]).astype(float),
        }
    ge, gm, g0 = _grade(x("eng")), _grade(x("mat")), _grade(x("oth"))
    steps = np.broadcast_to(shift.get("steps", 0.0), ge.shape)
    steps = np.floor(steps) + (lat["eps"]["step"] < steps - np.floor(steps))
    g1 = _grade_steps(g0, steps.astype(int))
    n_ac = (ge >= GRADE_C).astype(int) + (gm >= GRADE_C) + (g0 >= GRADE_C).sum(axis=1)
    em_pass = (ge >= GRADE_C) & (gm >= GRADE_C)
    return {
        "gcse_capped_points": ge + gm + g1.sum(axis=1),
        "gcse_5ac_em": (em_pass & (n_ac >= 5)).astype(float),
        "gcse_5ac": (n_ac >= 5).astype(float),
        "ks4_ep_eng": (ge >= lat["req"]["eng"]).astype(float),
        "ks4_ep_mat": (gm >= lat["req"]["mat"]).astype(float),
    }


def _grade_steps(grades: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Move each row's grades by ``steps`` grade steps of 6 points.

    Weakest eligible subject first (strongest first when negative), never across the C/D
    boundary, never from or to U.
    """
    g = grades.copy()
    for sign in (1, -1):
        left = np.where(sign * steps > 0, np.abs(steps), 0)
        while left.any():
            ok = np.isin(g, (16.0, 22.0, 28.0, 40.0, 46.0, 52.0) if sign > 0
                         else (22.0, 28.0, 34.0, 46.0, 52.0, 58.0))
            ok &= (left > 0)[:, None]
            pick = np.where(ok, sign * g, np.inf).argmin(axis=1)
            rows = np.flatnonzero(ok.any(axis=1))
            g[rows, pick[rows]] += 6.0 * sign
            left = np.where(ok.any(axis=1), left - 1, 0)
    return g


def _col(v, like):
    """Broadcast a per-pupil vector (or scalar) against a (n,) or (n, k) array."""
    v = np.asarray(v, dtype=float)
    return v[:, None] if (v.ndim == 1 and np.ndim(like) == 2) else v


def probabilities(lat: dict, delta=0.0, shift: dict | None = None) -> dict:
    """Exact generating probabilities of every binary outcome."""
    shift = shift or {}

    def mu(ch):
        return lat["mu"][ch] + _col(delta, lat["mu"][ch]) + _col(shift.get(ch, 0.0),
                                                                  lat["mu"][ch])

    if lat["phase"] == "primary":
        lo, hi = KS2_RANGE

        def p_at(ch, t):
            t = np.broadcast_to(t, lat["mu"][ch].shape)
            return np.where(t <= lo, 1.0, np.where(t > hi, 0.0, expit((mu(ch) - t) / S_KS2)))

        return {
            "ks2_l4_em": p_at("eng", 24.0) * p_at("mat", 24.0),
            "ks2_ep_eng": p_at("eng", lat["req"]["eng"]),
            "ks2_ep_mat": p_at("mat", lat["req"]["mat"]),
        }
    pe = expit((mu("eng") - GRADE_C) / S_GCSE)
    pm = expit((mu("mat") - GRADE_C) / S_GCSE)
    po = expit((mu("oth") - GRADE_C) / S_GCSE)
    dist_o = _count_distribution(po)                      # P(k of the others at A*-C)
    at_least = np.cumsum(dist_o[:, ::-1], axis=1)[:, ::-1]  # P(count >= k)
    core = np.c_[(1 - pe) * (1 - pm), pe * (1 - pm) + pm * (1 - pe), pe * pm]
    p5 = sum(core[:, j] * at_least[:, 5 - j] for j in range(3))
    return {
        "gcse_5ac_em": pe * pm * at_least[:, 3],
        "gcse_5ac": p5,
        "ks4_ep_eng": expit((mu("eng") - np.maximum(lat["req"]["eng"], 16.0)) / S_GCSE),
        "ks4_ep_mat": expit((mu("mat") - np.maximum(lat["req"]["mat"], 16.0)) / S_GCSE),
    }


def _count_distribution(p: np.ndarray) -> np.ndarray:
    """Poisson-binomial distribution of the number of successes per row of ``p``.

    Examples
    --------
    >>> _count_distribution(np.array([[0.5, 0.5]])).tolist()
    [[0.25, 0.5, 0.25]]
    """
    dist = np.zeros((p.shape[0], p.shape[1] + 1))
    dist[:, 0] = 1.0
    for j in range(p.shape[1]):
        q = p[:, j:j + 1]
        step = dist * (1 - q)
        step[:, 1:] += dist[:, :-1] * q       # one more success (the same sums, in place)
        dist = step
    return dist


def calibrate_count(passes, size: int, passed: float, n: int, target: float,
                    lo: float = -20.0, hi: float = 20.0) -> float:
    """Smallest shift (points) whose rate reaches ``target``, scoring only open pupils.

    The rate is ``(passed + passes(d, all).sum()) / n``, found in 60 steps of bisection.
    ``passes(d, rows)`` says which of ``size`` pupils (those at ``rows``, an index array)
    reach the measure under shift ``d``; each pupil's result only ever turns from no to yes
    as ``d`` grows (its score rises with ``d``, through rounding that never reverses an
    order). So a pupil reaching it at the bracket's lower end reaches it everywhere in the
    bracket, and one not reaching it at the upper end nowhere: each step takes the same
    decision, on the same count, as scoring every pupil would, and the shift is exactly
    that of a bisection scoring every pupil at every step. Its 60 steps cost about four
    scorings of every pupil instead of 60 (half the time of generating a data set).

    Examples
    --------
    Two of four pupils reach 3.5 (scores 1 to 4) at a shift of 0.5 or more; with one more
    pupil who reached it already, 3 of 5 is a rate of 0.6:

    >>> scores = np.array([1.0, 2.0, 3.0, 4.0])
    >>> round(calibrate_count(lambda d, rows: scores[rows] + d >= 3.5, 4, 1.0, 5, 0.6), 9)
    0.5
    """
    every = np.arange(size)
    at_lo, at_hi = passes(lo, every), passes(hi, every)
    reached = int(at_lo.sum())               # reach it wherever the bracket ends
    open_rows = every[at_hi & ~at_lo]
    for _ in range(60):
        mid = (lo + hi) / 2
        now = passes(mid, open_rows)
        if (passed + float(reached + int(now.sum()))) / n >= target:
            hi, open_rows = mid, open_rows[now]          # the rest miss it below mid
        else:
            lo, reached, open_rows = mid, reached + int(now.sum()), open_rows[~now]
    return hi
