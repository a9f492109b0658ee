"""Assemble schools and pupils: EM block, national population, calibration, potential outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.national import national_figures
from evaluation.schema import OUTCOMES, PRIOR
from evaluation.synthetic import _design, _names, _outcomes, _population

#: Comparison (non-EM) schools in the population, by phase (EM schools come on top).
N_POPULATION = {"primary": 1450, "secondary": 1100}
#: Independent random streams, so that the EM schools do not depend on the population.
STREAM = {"em": 1, "population": 2, "surveys": 3, "tracking": 4}
#: Measure calibrated to national figures, by phase.
CALIBRATED = {"primary": "ks2_l4_em", "secondary": "gcse_5ac_em"}


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the named random stream of a seed."""
    return np.random.default_rng([seed, STREAM[name]])


def build(seed: int, effects: dict, include_population: bool, params):
    """Return (schools, pupils) with private columns (leading underscore) still attached."""
    las, stems = _names.place_names(seed)
    rng = stream(seed, "em")
    em_sch = _design.em_schools(rng, las, stems, params)
    sizes, plan = _design.em_plan(rng, em_sch)
    em_pup = _population.pupils_frame(rng, em_sch, sizes)
    row = np.repeat(np.repeat(np.arange(len(em_sch)), sizes.shape[1]), sizes.ravel())
    em_pup["_linked_2011"] = em_sch["_linked_2011"].to_numpy()[row]
    parts = {ph: _phase_block(rng, em_pup, ph, effects, plan, row, params)
             for ph in ("primary", "secondary")}
    schools = [em_sch]
    if include_population:
        prng = stream(seed, "population")
        pop_sch = _population_schools(prng, las, stems, em_pup, params)
        pop_sizes = np.vstack([_population.cohort_sizes(prng, ph, N_POPULATION[ph])
                               for ph in ("primary", "secondary")])
        pop_pup = _population.pupils_frame(prng, pop_sch, pop_sizes)
        pop_pup["_linked_2011"] = False
        for ph in ("primary", "secondary"):
            pop = _phase_block(prng, pop_pup, ph, effects, None, None, params)
            parts[ph] = _calibrate(parts[ph], pop, ph)
        schools.append(pop_sch)
    pupils = pd.concat([_finish(*parts[ph], ph) for ph in ("primary", "secondary")],
                       ignore_index=True)
    return pd.concat(schools, ignore_index=True), pupils


def _population_schools(rng, las, stems, em_pupils, params) -> pd.DataFrame:
    """Draw the comparison schools.

    Their mean FSM share makes the national share (EM schools included) the published one in
    expectation.
    """
    frames = []
    for ph, start, first_id in (("primary", 50, 100001), ("secondary", 83, 400001)):
        n = N_POPULATION[ph]
        em = em_pupils[em_pupils["phase"] == ph]
        expected = n * _population.PHASE[ph]["size"][0] * 3
        target = _population.PHASE[ph]["fsm"]
        mean = (target * (len(em) + expected) - em["fsm"].sum()) / expected
        f = _population.school_frame(rng, ph, n, mean=float(mean), params=params)
        f["school_id"] = [str(first_id + i) for i in range(n)]
        f["school_name"] = _names.school_names(stems, ph, start, n)
        f["la"] = np.asarray(las, dtype=object)[rng.integers(0, len(las), n)]
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    return out.assign(cluster=None, role="comparison", em_phase=None, em_activity=None,
                      _linked_2011=False)


def _phase_block(rng, pupils, phase, effects, plan, row, params):
    """Latents, targets, missingness and potential outcomes for one phase of a block."""
    mask = (pupils["phase"] == phase).to_numpy()
    p = pupils[mask].reset_index(drop=True)
    lat = _outcomes.latents(rng, p, params)
    prior = lat["prior"][PRIOR[phase]]
    if plan is None:
        treated = np.zeros(len(p), dtype=bool)
        miss_prior, miss_out = _design.missingness(rng, p, treated, {}, None)
    else:
        treated = _design.select_targets(rng, p, prior, plan, row[mask], params)
        miss_prior, miss_out = _design.missingness(rng, p, treated, plan, row[mask])
    shift = _outcomes.shifts(effects, p["fsm"].to_numpy(), treated)
    p["_treated"] = treated
    p["_miss_prior"], p["_miss_out"] = miss_prior, miss_out
    p[PRIOR[phase]] = prior
    return p, lat, shift


def _calibrate(em_part, pop_part, phase):
    """Shift the population's latent scores per (cohort, FSM) so national rates are exact."""
    measure = CALIBRATED[phase]
    table = national_figures(measure)
    em_p, em_lat, em_shift = em_part
    pop, lat, shift = pop_part
    em_obs = _outcomes.outcomes(em_lat, 0.0, em_shift)[measure][~em_p["_miss_out"].to_numpy()]
    em_keys = em_p[~em_p["_miss_out"]][["cohort", "fsm"]].to_numpy()
    delta = np.zeros(len(pop))
    for rec in table[table["group"] != "all"].itertuples():
        fsm = rec.group == "fsm"
        sel = ((pop["cohort"] == rec.year) & (pop["fsm"] == fsm) & ~pop["_miss_out"]).to_numpy()
        em_sel = (em_keys[:, 0] == rec.year) & (em_keys[:, 1] == fsm)
        sub = _subset(lat, sel)
        n = sel.sum() + em_sel.sum()
        passed_em = em_obs[em_sel].sum()

        def passes(d, rows, sub=sub):
            return _outcomes.outcomes(_subset(sub, rows), d)[measure] > 0.5

        d = _outcomes.calibrate_count(passes, sel.sum(), passed_em, n, rec.value / 100.0)
        delta[((pop["cohort"] == rec.year) & (pop["fsm"] == fsm)).to_numpy()] = d
    pop = pop.assign(_delta=delta)
    return _concat_parts(em_part, (pop, lat, shift))


def _subset(lat: dict, sel: np.ndarray) -> dict:
    return {**lat, **{k: {c: v[sel] for c, v in lat[k].items()} for k in ("mu", "eps", "req")},
            "hidden": lat["hidden"][sel]}


def _concat_parts(a, b):
    pa, la, sa = a
    pb, lb, sb = b
    lat = {**la, **{k: {c: np.concatenate([la[k][c], lb[k][c]]) for c in la[k]}
                    for k in ("mu", "eps", "req")},
           "hidden": np.concatenate([la["hidden"], lb["hidden"]])}
    shift = {c: np.concatenate([np.broadcast_to(sa.get(c, 0.0), len(pa)),
                                np.broadcast_to(sb.get(c, 0.0), len(pb))])
             for c in set(sa) | set(sb)}
    return pd.concat([pa, pb], ignore_index=True), lat, shift


def _finish(p, lat, shift, phase) -> pd.DataFrame:
    """Observed outcomes, missing values, and potential outcomes for the truth table.

    ``_hid_<outcome>``: what the unobserved support ``w`` adds to the untreated outcome
    (points, or probability for binary outcomes), for the known hidden-selection bias.
    """
    delta = p["_delta"].fillna(0.0).to_numpy() if "_delta" in p else 0.0
    y1 = _outcomes.outcomes(lat, delta, shift)
    y0 = _outcomes.outcomes(lat, delta, None)
    y0_nw = _outcomes.outcomes(lat, delta - lat["hidden"], None)
    p1 = _outcomes.probabilities(lat, delta, shift)
    p0 = _outcomes.probabilities(lat, delta, None)
    p0_nw = _outcomes.probabilities(lat, delta - lat["hidden"], None)
    out = p.copy()
    miss = out["_miss_out"].to_numpy()
    for o in OUTCOMES[phase]:
        out[o] = np.where(miss, np.nan, y1[o])
        out[f"_te_{o}"] = y1[o] - y0[o] if o not in p1 else p1[o] - p0[o]
        out[f"_hid_{o}"] = y0[o] - y0_nw[o] if o not in p1 else p0[o] - p0_nw[o]
        out[f"_y0_{o}"] = y0[o] if o not in p1 else p0[o]
    out[PRIOR[phase]] = np.where(out["_miss_prior"], np.nan, out[PRIOR[phase]])
    return out
