"""The Extra Mile design: EM schools, target groups, data linkage and missing data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.schema import COHORTS
from evaluation.synthetic import _names, _population

#: Published totals of the core EM sample (DFE-RR133 research brief).
N_EM, N_COMPARISON = 196, 4794
#: Secondary phases: (em_phase, cluster name, schools per LA, target cohorts).
SECONDARY_PHASES = (
    ("secondary_1", "Secondary phase 1", (3,) + (2,) * 10, (2009, 2010)),
    ("secondary_2", "Secondary phase 2", (2,) * 30, (2010,)),
)
PRIMARY_CLUSTERS, PRIMARY_TRIAL_PER_CLUSTER, PRIMARY_COHORTS = 10, 4, (2010,)
#: Schools whose pupil-level EM data link in the 2011 scenario, per em_phase.
LINKED_2011 = {"secondary_1": 7, "secondary_2": 2, "primary": 2}
MISSING_RATE = 0.06       # share of pupils with prior attainment or outcomes missing
MISSING_KIND = {"prior": 0.45, "outcome": 0.45, "both": 0.10}
#: Target-group size (low, high) in an unlinked stratum, by phase.
TARGET_SIZE = {"secondary": (10, 22), "primary": (5, 11)}
#: Weights of the schools' choice of target pupils (logit scale, plus Gumbel chance).
SELECTION = {"fsm": 2.4, "lac": 2.0, "low_prior": 0.6, "idaci": 1.0}


def em_schools(rng, las: list[str], stems: list[str], params) -> pd.DataFrame:
    """Draw the EM programme schools: ids, names, LAs, clusters, roles, activities, FSM shares."""
    la_order = rng.permutation(len(las))
    rows, used = [], 0
    for em_phase, cluster, per_la, _ in SECONDARY_PHASES:
        for k, n_schools in enumerate(per_la):
            la = las[la_order[used + k]]
            rows += [dict(phase="secondary", la=la, cluster=cluster, role="trial",
                          em_phase=em_phase) for _ in range(n_schools)]
        used += len(per_la)
    for k in range(PRIMARY_CLUSTERS):
        la = las[la_order[used + k]]
        roles = ["trial"] * PRIMARY_TRIAL_PER_CLUSTER + ["partner"]
        rows += [dict(phase="primary", la=la, cluster=f"{la} cluster", role=r,
                      em_phase="primary") for r in roles]
    df = pd.DataFrame(rows)
    sec = (df["phase"] == "secondary").to_numpy()
    n_sec, n_pri = int(sec.sum()), int((~sec).sum())
    df["school_id"] = np.where(sec, [f"49{i:04d}" for i in range(1, len(df) + 1)],
                               [f"19{i:04d}" for i in range(1, len(df) + 1)])
    names = np.empty(len(df), dtype=object)
    names[sec] = _names.school_names(stems, "secondary", 0, n_sec)
    names[~sec] = _names.school_names(stems, "primary", 0, n_pri)
    df["school_name"] = names
    activity = np.where(
        sec, np.asarray(_names.SECONDARY_ACTIVITIES, dtype=object)[rng.integers(0, 4, len(df))],
        np.asarray(_names.PRIMARY_ACTIVITIES, dtype=object)[rng.integers(0, 7, len(df))])
    df["em_activity"] = np.where(df["role"] == "trial", activity, None)
    shares = np.where(sec, rng.uniform(0.24, 0.50, len(df)), rng.uniform(0.26, 0.58, len(df)))
    linked = np.zeros(len(df), dtype=bool)
    for em_phase, n_linked in LINKED_2011.items():
        idx = np.flatnonzero((df["em_phase"] == em_phase) & (df["role"] == "trial"))
        if em_phase == "primary":      # two schools from different clusters
            idx = idx[::PRIMARY_TRIAL_PER_CLUSTER]
        linked[idx[:n_linked]] = True
    df["_linked_2011"] = linked
    extra = pd.concat([
        _population.school_frame(rng, phase, int(mask.sum()), shares=shares[mask],
                                 params=params)
        .set_axis(np.flatnonzero(mask))
        for phase, mask in (("secondary", sec), ("primary", ~sec))
    ]).sort_index()
    df = pd.concat([df, extra[["_share", "_eal", "_u", "_v", "_g"]]], axis=1)
    cohorts = {p: c for p, _, _, c in SECONDARY_PHASES} | {"primary": PRIMARY_COHORTS}
    df["_target_cohorts"] = [() if r == "partner" else cohorts[e]
                             for r, e in zip(df["role"], df["em_phase"], strict=True)]
    return df


def em_plan(rng, schools: pd.DataFrame) -> tuple[np.ndarray, dict]:
    """Cohort sizes (schools x cohorts) and target sizes per stratum, exact for linked strata.

    Returns
    -------
    sizes : numpy.ndarray
        Pupils per school and cohort.
    plan : dict
        ``(row, cohort) -> (target size, target missing, comparison missing or None)``;
        missing counts are fixed for linked strata and ``None`` (random) elsewhere.
    """
    sec = (schools["phase"] == "secondary").to_numpy()
    sizes = np.where(
        sec[:, None],
        np.clip(np.rint(rng.normal(195, 35, len(sec))[:, None]
                        * rng.normal(1, 0.05, (len(sec), len(COHORTS)))), 120, 340),
        np.clip(np.rint(rng.normal(42, 10, len(sec))[:, None]
                        * rng.normal(1, 0.05, (len(sec), len(COHORTS)))), 15, 90),
    ).astype(int)
    strata = [(i, c) for i in range(len(schools)) for c in schools["_target_cohorts"].iloc[i]]
    plan = {}
    for i, c in strata:
        lo, hi = TARGET_SIZE[schools["phase"].iloc[i]]
        plan[(i, c)] = (int(rng.integers(lo, hi)), None, None)
    linked = [s for s in strata if schools["_linked_2011"].iloc[s[0]]]
    is_pri = np.array([schools["phase"].iloc[i] == "primary" for i, _ in linked])
    em = np.zeros(len(linked), dtype=int)
    cmp = np.zeros(len(linked), dtype=int)
    em[is_pri] = rng.integers(6, 10, int(is_pri.sum()))
    cmp[is_pri] = rng.integers(30, 50, int(is_pri.sum()))
    em[~is_pri] = _allocate(N_EM - em[is_pri].sum(), rng.uniform(0.7, 1.3, int((~is_pri).sum())))
    cmp[~is_pri] = _allocate(N_COMPARISON - cmp[is_pri].sum(),
                             rng.normal(1.0, 0.1, int((~is_pri).sum())))
    em_miss = rng.binomial(em, MISSING_RATE)
    cmp_miss = rng.binomial(cmp, MISSING_RATE)
    for k, (i, c) in enumerate(linked):
        sizes[i, COHORTS.index(c)] = em[k] + em_miss[k] + cmp[k] + cmp_miss[k]
        plan[(i, c)] = (int(em[k] + em_miss[k]), int(em_miss[k]), int(cmp_miss[k]))
    return sizes, plan


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(int)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def select_targets(rng, pupils: pd.DataFrame, prior: np.ndarray, plan: dict,
                   school_row: np.ndarray, params) -> np.ndarray:
    """Target-group flags: in each planned stratum the pupils ranked highest on a choice score.

    The school's choice depends on FSM, looked-after status, low prior attainment and IDACI,
    and on the unobserved support ``w`` (log odds ratio ``log(params.hidden_selection_or)``
    per SD lower ``w``), plus chance (Gumbel: the top of ``score + Gumbel`` is a draw without
    replacement with probabilities proportional to ``exp(score)``, so the weights are log odds
    ratios of being chosen): mostly FSM and LAC pupils.
    """
    z = (prior - np.nanmean(prior)) / np.nanstd(prior)
    w = SELECTION
    score = (w["fsm"] * pupils["fsm"].to_numpy() + w["lac"] * pupils["lac"].to_numpy()
             - w["low_prior"] * z + w["idaci"] * pupils["idaci"].to_numpy()
             - np.log(params.hidden_selection_or) * pupils["_w"].to_numpy()
             + rng.gumbel(size=len(pupils)))
    size = _stratum_value(plan, school_row, pupils["cohort"].to_numpy(), 0)
    return _rank_in_groups(school_row * 10_000 + pupils["cohort"].to_numpy(), -score) < size


def missingness(rng, pupils: pd.DataFrame, target: np.ndarray, plan: dict,
                school_row: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Flag missing prior attainment and missing outcomes (all outcomes together).

    Linked strata get exactly the planned numbers of target and comparison pupils with missing
    data; elsewhere each pupil's data are missing with probability `MISSING_RATE`.
    """
    n = len(pupils)
    noise = rng.random(n)
    missing = noise < MISSING_RATE
    if school_row is not None:
        cohort = pupils["cohort"].to_numpy()
        n_t = _stratum_value(plan, school_row, cohort, 1)
        n_c = _stratum_value(plan, school_row, cohort, 2)
        fixed = n_t >= 0
        rank = _rank_in_groups((school_row * 10_000 + cohort) * 2 + target, noise)
        missing = np.where(fixed, rank < np.where(target, n_t, n_c), missing)
    kind = rng.choice(list(MISSING_KIND), size=n, p=list(MISSING_KIND.values()))
    return missing & (kind != "outcome"), missing & (kind != "prior")


def _stratum_value(plan, school_row, cohort, k) -> np.ndarray:
    """Per pupil: element ``k`` of the stratum's plan (-1 when unplanned or ``None``)."""
    out = np.full(len(cohort), -1 if k else 0)
    for (i, c), vals in plan.items():
        if vals[k] is not None:
            out[(school_row == i) & (cohort == c)] = vals[k]
    return out


def _rank_in_groups(groups: np.ndarray, key: np.ndarray) -> np.ndarray:
    """0-based rank of ``key`` (ascending) within each group."""
    order = np.lexsort((key, groups))
    g = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    rank_sorted = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    rank = np.empty(len(g), dtype=int)
    rank[order] = rank_sorted
    return rank
