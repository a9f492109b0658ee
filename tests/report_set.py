"""The whole report set of one seed, built as the notebooks build it (evaluate, then sections).

Also a provocation data set: the default synthetic data of a seed, cut to five clusters and
edited to tempt every leak issue 14 lists.
"""

import functools
from dataclasses import replace

import numpy as np
from synthetic_data import generated

from evaluation.gaps.pupils import GAP_MEASURE
from evaluation.plan import load_plan
from evaluation.report import sections
from evaluation.results import evaluate


@functools.cache
def dataset(seed):
    """The default synthetic data of ``seed``, generated once per test process."""
    return generated(seed=seed, scenario="default")


def provocation_clusters(ds):
    """The clusters the provocation data keep: both secondary phases, the first two primary
    clusters with linked EM pupils and the first primary cluster without (cluster names are
    drawn with the seed, so they are chosen by that rule, not by name)."""
    s = ds.schools[ds.schools["role"].isin(["trial", "partner"])]
    with_em = set(ds.pupils.loc[ds.pupils["em"], "school_id"])
    secondary = sorted(s.loc[s["phase"] == "secondary", "cluster"].dropna().unique())
    primary = s[s["phase"] == "primary"].dropna(subset=["cluster"])
    linked = sorted(primary.loc[primary["school_id"].isin(with_em), "cluster"].unique())
    plain = sorted(set(primary["cluster"]) - set(linked))
    return (*secondary, *linked[:2], *plain[:1])


def provocation(seed=4):
    """Synthetic data crafted so that small counts sit beside totals everywhere.

    From the default data of ``seed`` (five clusters, national comparison schools kept):

    - an activity with a handful of EM pupils, and schools holding 3 and 9 of an activity's
      EM pupils (EM flags taken off the other EM pupils of those schools: they stay in the
      data as non-EM pupils);
    - every primary EM pupil FSM (a covariate with one value among the treated), and every
      one reaching level 4 (an outcome with one value: "every EM pupil has the value 1");
    - a tracked class with 1 FSM pupil and another with 2, and classes named alike across
      schools ("Y5A");
    - one primary cluster with 4 staff survey respondents, another with 3 pupil respondents;
    - a trial school whose latest cohort is all FSM, another with 1 FSM pupil in it;
    - a secondary cluster whose trial schools' latest pupils reach the gap measure in turn
      (every rate of its gap table shown), except one school's FSM pupils, none of whom
      reaches it (a rate of 0%, withheld: the cluster's row less the other schools' would
      give the 0 back).
    """
    ds = dataset(seed)
    s = ds.schools
    chosen = provocation_clusters(ds)
    linked_primary = chosen[-3:-1]
    keep = s[s["cluster"].isin(chosen) | (s["role"] == "comparison")]
    ds = ds.for_schools(keep["school_id"])
    p = ds.pupils.copy()
    latest = p["cohort"].max()
    programme = keep[keep["role"].isin(["trial", "partner"])]
    em_schools = sorted(p.loc[p["em"], "school_id"].unique())
    secondary = [x for x in em_schools if (programme.set_index("school_id").loc[x, "phase"]
                                           == "secondary")]
    for school, n in ((secondary[0], 3), (secondary[-1], 9), (secondary[-2], 6)):
        em = p.index[p["em"] & (p["school_id"] == school) & (p["cohort"] == latest)]
        p.loc[em[n:], "em"] = False
        p.loc[p.index[p["em"] & (p["school_id"] == school) & (p["cohort"] != latest)], "em"] \
            = False
    primary_em = p["em"] & (p["phase"] == "primary")
    p.loc[primary_em, "fsm"] = True
    p.loc[primary_em & p["ks2_l4_em"].notna(), "ks2_l4_em"] = 1.0   # all EM pupils pass
    trial = programme[programme["role"] == "trial"]
    in_latest = p["cohort"] == latest
    plain = [x for x in trial["school_id"] if x not in em_schools]
    p.loc[in_latest & (p["school_id"] == plain[0]), "fsm"] = True
    one = p.index[in_latest & (p["school_id"] == plain[1])]
    p.loc[one, "fsm"] = False
    p.loc[one[:1], "fsm"] = True
    _zero_rate_school(p, programme, latest)
    schools = ds.schools.assign(fsm_pct=ds.schools["school_id"].map(
        p.groupby("school_id")["fsm"].mean().mul(100).round(1)).fillna(0.0))
    t = ds.tracking.copy()
    for k, cls in zip((1, 2), sorted(t["class_id"].unique())[:2], strict=True):
        fsm_pupils = sorted(t.loc[(t["class_id"] == cls) & t["fsm"], "pupil_id"].unique())
        t.loc[(t["class_id"] == cls) & t["pupil_id"].isin(fsm_pupils[k:]), "fsm"] = False
    # schools name their classes alike ("Y5A" in every school), as they usually do
    t["class_id"] = t["class_id"].str.rsplit("-", n=1).str[-1]
    sv = ds.surveys
    cluster_of = dict(zip(schools["school_id"], schools["cluster"], strict=True))
    cut = []
    for cluster, instrument, n in ((linked_primary[1], "staff", 4),
                                   (linked_primary[0], "pupil", 3)):
        rows = sv[(sv["school_id"].map(cluster_of) == cluster)
                  & (sv["instrument"] == instrument)]
        ids = sorted(rows["respondent_id"].unique())
        cut.append(rows.index[~rows["respondent_id"].isin(ids[:n])])
    sv = sv.drop(index=np.concatenate(cut))
    meta = {**ds.meta, "scenario": "provocation"}
    return replace(ds, pupils=p, schools=schools, tracking=t, surveys=sv, meta=meta)


def _zero_rate_school(p, programme, latest):
    """Edit ``p`` in place: in the last secondary cluster, trial schools' latest pupils reach
    the gap measure in turn (FSM and non-FSM apart), but none of one school's FSM pupils do."""
    measure = GAP_MEASURE["secondary"]
    secondary = programme[programme["phase"] == "secondary"]
    cluster = sorted(secondary["cluster"].dropna().unique())[-1]
    ids = sorted(secondary.loc[(secondary["cluster"] == cluster)
                               & (secondary["role"] == "trial"), "school_id"])
    rows = p[p["school_id"].isin(ids) & (p["cohort"] == latest) & p[measure].notna()]
    turn = rows.groupby(["school_id", "fsm"]).cumcount() % 2
    p.loc[rows.index, measure] = (turn == 0).astype(float)
    em_schools = set(p.loc[p["em"], "school_id"])
    zero = next(x for x in ids if x not in em_schools)
    p.loc[rows.index[(rows["school_id"] == zero) & rows["fsm"]], measure] = 0.0


@functools.cache
def _plan():
    return load_plan()


def overall(seed):
    """The overall evaluation of a seed's default data under the repository's plan, once per
    test process: the ``default_evaluation`` fixture and the seed's report set share it (it
    was computed up to four times a run, 14 s each)."""
    return cluster(seed, None)


@functools.cache
def cluster(seed, name):
    """A cluster's evaluation (``None``: the overall one) of a seed's default data under the
    repository's plan, once per test process (the seed's report set and the tests of single
    clusters share it)."""
    return evaluate(dataset(seed), _plan(), cluster=name, seed=seed)


@functools.cache
def _build_seed(seed):
    return _build(seed, dataset(seed), _plan(), overall(seed), functools.partial(cluster, seed))


def build(seed, data=None, plan=None):
    """Return the plan and {cluster or None: (result, sections)} for every report of a seed.

    ``data`` replaces the default synthetic data of ``seed`` (e.g. :func:`provocation`);
    ``plan`` replaces the repository's plan (e.g. ``plans.caliper_plan``: another main
    specification). The report set of a seed's default data under the repository's plan is
    built once per test process (the attacker and the agreement tests share it: they run in
    one xdist group); results and sections are frozen.
    """
    if data is None and plan is None:
        return _build_seed(seed)
    return _build(seed, dataset(seed) if data is None else data, plan)


def _build(seed, ds, plan=None, whole=None, of_cluster=None):
    plan = load_plan() if plan is None else plan
    whole = evaluate(ds, plan, cluster=None, seed=seed) if whole is None else whole
    of_cluster = of_cluster or (lambda name: evaluate(ds, plan, cluster=name, seed=seed))
    reports = {None: (whole, sections(whole))}
    for name in whole.clusters:
        res = of_cluster(name)
        reports[name] = (res, sections(res))
    return plan, reports
