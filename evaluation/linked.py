"""Counts shared between tables and reports, and which of them every report hides.

A school's EM pupils appear in its cluster's profile and in the overall one; a cluster's EM
pupils in its findings, its matching table, its appendix and the overall report's cluster
comparison; an activity's EM pupils are the sum of its schools'; a trends row's pupils are
its FSM plus its non-FSM pupils, and the "All EM schools" row is the sum of the clusters'
rows. Suppressing each table on its own lets a reader subtract across them. Here every such
count of the whole report set is computed once from all the data, with the relations a
reader can see, and :func:`evaluation.disclosure.protect` chooses the counts to hide; each
report then hides exactly those, whichever report is built, so no two reports disagree.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.disclosure import protect
from evaluation.gaps.pupils import GAP_MEASURE, cluster_groups, fsm_attainment, phase_pupils
from evaluation.matching.pairing import one_to_one, ratio_bounds
from evaluation.plan import Plan
from evaluation.sample import analysis_sample
from evaluation.schema import PHASES
from evaluation.subgroups import school_groups

OVERALL = "overall"


@dataclass(frozen=True)
class LinkedCounts:
    """The counts the reports share and the ones every report hides.

    Keys: ``("em", scope, phase)`` and ``("comparison", scope, phase)`` (scope a cluster or
    ``"overall"``), ``("em_school", school_id)``, ``("em_activity", phase, activity)``,
    ``("school_fsm" | "school_non_fsm", phase, school_name, cohort)``,
    ``("trend_n" | "trend_fsm" | "trend_non_fsm", phase, group, year)``, and for termly
    tracking ``("class_fsm", school_id, class_id, subject, term)`` (a class's FSM pupils;
    schools may name their classes alike) and
    ``("track_fsm", scope, subject, start, end)`` (a period's FSM pupils: those of the
    classes counted in it, at its end term), and for the surveys
    ``("survey", scope, instrument, item, "n_baseline" | "n_follow_up" | "n_paired")``,
    and the exclusions table's ``("excluded", scope, phase, reason, "em" | "comparison")``,
    the pupils behind each share of the "Outcomes before adjustment" table
    ``("desc_n" | "desc_pass" | "desc_fail", scope, phase, outcome, "em" | "comparison")``,
    the matching table's ``("em_matched" | "em_unmatched" | "em_discarded", scope, phase)``
    (and ``comparison_...``), the impact table's pupils with the headline outcome
    ``("impact_n", scope, phase, "em" | "comparison")`` (the matched ones),
    and ``("class_n", school_id, class_id, subject, term)`` (a class's pupils with a score).

    ``relations`` are the sums a reader can see (``total = sum(parts)``), ``at_most`` the
    inequalities (``key <= sum(parts)``: paired respondents are at most those of either
    wave, a class's FSM pupils at most its pupils, a period's FSM pupils at most its end
    term's classes', a school's analysed pupils at most its pupils in the gap table; a list
    on the left is a sum). ``zeros`` are the counts of 0 behind a rate of 0% or 100%, hidden
    and protected like small ones.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.synthetic import generate
    >>> linked = linked_counts(generate(seed=4, include_population=False), load_plan())
    >>> linked.hidden(("em", "Ormwick cluster", "primary"))
    True
    """

    values: dict[Hashable, int] = field(repr=False)
    relations: tuple = field(repr=False)
    hide: frozenset = field(repr=False)
    threshold: int = 10
    at_most: tuple = field(repr=False, default=())
    zeros: frozenset = field(repr=False, default=frozenset())

    def hidden(self, key: Hashable) -> bool:
        """Whether the count is hidden (a count not linked: whether it is below the threshold).

        A key that is not linked falls back to primary suppression only.
        """
        if key in self.values:
            return key in self.hide
        return False

    def mask(self, keys) -> list[bool]:
        """:meth:`hidden` of each key."""
        return [self.hidden(k) for k in keys]

    @property
    def hides_everything(self) -> bool:
        """Whether no minimal pattern was found and every count that may be hidden is."""
        from evaluation.disclosure import HiddenAll

        return isinstance(self.hide, HiddenAll)

    @property
    def n_primary(self) -> int:
        """Counts hidden because they are below the threshold, or 0 behind a 0% or 100% rate."""
        return sum(1 for v in self.values.values() if 0 < v < self.threshold) + len(self.zeros)

    @property
    def n_secondary(self) -> int:
        """Counts hidden only so that no primary one can be worked out."""
        return len(self.hide) - self.n_primary


def _holds(values, total, parts) -> bool:
    return total in values and all(p in values for p in parts) and \
        values[total] == sum(values[p] for p in parts)


#: Linked counts by the content of the data and the plan, and the seed (see
#: :func:`linked_counts`).
_CACHE: OrderedDict[str, LinkedCounts] = OrderedDict()


def linked_counts(ds, plan: Plan, seed: int | None = None) -> LinkedCounts:
    """Compute every linked count of the report set and choose the ones to hide.

    The result depends only on the content of the data and of the plan and on the seed, and
    every report of a set asks for the same one: it is computed once per content (a digest
    of every table and of the plan) and seed, and kept for the process's later reports (a
    warm kernel renders many); in a build, one worker computes it and the others read it
    (:mod:`evaluation.shared`).

    Parameters
    ----------
    ds : Dataset
        All data (every programme school; national comparison schools are ignored).
    plan : Plan
        The plan (threshold, main matching specification).
    seed : int, optional
        Seed of the main matching (as :func:`evaluation.results.evaluate` passes it); default
        ``config.DEFAULT_SEED``.

    Returns
    -------
    LinkedCounts
    """
    if seed is None:
        from evaluation.config import DEFAULT_SEED
        seed = DEFAULT_SEED
    from evaluation.memo import kept

    # one data set at a time: memory stays bounded
    return kept(_CACHE, f"{ds.digest()}{plan.digest()}{seed}",
                lambda: _linked_counts(ds, plan, seed), maxsize=1, shared_as="linked")


def _linked_counts(ds, plan: Plan, seed: int) -> LinkedCounts:
    # the matchings and models here repeat each report's own, whose warnings the report
    # shows through the disclosure control; printed here they reached the overall report's
    # page raw, with every scope's counts ("4 of 6 treated units have no control within the
    # caliper") and the code's paths (fifth review of issue 14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _counts_of_every_report(ds, plan, seed)


def _counts_of_every_report(ds, plan: Plan, seed: int) -> LinkedCounts:
    schools = ds.schools[ds.schools["role"].isin(["trial", "partner"])]
    values: dict = {}
    relations: list = []
    at_most: list = []
    clusters = sorted(schools["cluster"].dropna().unique())
    pupils = ds.pupils[ds.pupils["school_id"].isin(schools["school_id"])]
    for phase in PHASES:
        in_phase = schools[schools["phase"] == phase]
        ph_pupils = pupils[pupils["phase"] == phase]
        if ph_pupils.empty:
            continue
        full = analysis_sample(ph_pupils, phase, plan)
        sample = full.data
        samples = _exclusion_counts(full, ph_pupils, phase, plan, schools, clusters, values,
                                    relations)
        matched_em = _matching_counts(samples, phase, plan, seed, values, relations,
                                      at_most)
        em = sample.loc[sample["em"], "school_id"].value_counts()
        comp = sample.loc[~sample["em"], "school_id"].value_counts()
        for sid in in_phase["school_id"]:
            values[("em_school", sid)] = int(em.get(sid, 0))
        scopes = {OVERALL: in_phase}
        scopes.update({c: in_phase[in_phase["cluster"] == c] for c in clusters})
        for scope, members in scopes.items():
            if members.empty:
                continue
            ids = list(members["school_id"])
            values[("em", scope, phase)] = int(em.reindex(ids).fillna(0).sum())
            values[("comparison", scope, phase)] = int(comp.reindex(ids).fillna(0).sum())
            relations.append((("em", scope, phase), [("em_school", s) for s in ids]))
        in_clusters = [c for c in clusters if (in_phase["cluster"] == c).any()]
        relations.append((("comparison", OVERALL, phase),
                          [("comparison", c, phase) for c in in_clusters]))
        activities = school_groups(in_phase, "em_activity").dropna()
        for activity, members in activities.groupby(activities):
            key = ("em_activity", phase, str(activity))
            ids = list(members.index)
            values[key] = int(em.reindex(ids).fillna(0).sum())
            relations.append((key, [("em_school", s) for s in ids]))
            # the activity table shows the matched ones (its model's pupils): the rest of
            # the activity's schools' pupils were not matched (review of issue 14: with a
            # caliper, 18 in the school table against 17 in the activity table gave 1)
            shown = ("em_activity_matched", phase, str(activity))
            values[shown] = int(matched_em.reindex(ids).fillna(0).sum())
            values[("em_activity_unmatched", phase, str(activity))] = values[key] - values[shown]
            relations.append((key, [shown, ("em_activity_unmatched", phase, str(activity))]))
        # the activities split the phase's EM pupils: their matched ones add up to the
        # matching table's matched (and so the rest to its unmatched and discarded; sixth
        # review of issue 14: with a caliper at threshold 5, two activities' hidden 3 and 2
        # beside the phase's shown 5 matched were each narrowed to 1 to 4); kept where it holds
        relations.append((("em_matched", OVERALL, phase),
                          [("em_activity_matched", phase, str(a)) for a in activities.unique()]))
        if phase in GAP_MEASURE:
            _gap_counts(ph_pupils, ds, schools, clusters, phase, values, relations)
            _analysed_at_most(sample, ph_pupils, in_phase, clusters, phase, at_most)
    _tracking_counts(ds, schools, clusters, values, relations, at_most)
    _survey_counts(ds, schools, clusters, values, relations, at_most)
    relations = [(t, ps) for t, ps in relations if ps and _holds(values, t, ps)]
    at_most = [(k, ps) for k, ps in at_most
               if all(p in values for p in [*(k if isinstance(k, list) else [k]), *ps])]
    # a phase's EM and comparison pupils are withheld together (report.tables.count_withheld)
    together = [(a, k) for k in values if k[0] in ("em", "comparison") and len(k) == 3
                for a in [("em" if k[0] == "comparison" else "comparison", *k[1:])]
                if values.get(a, 0) > 0 and values[k] > 0]
    # the impact table's counts (the headline outcome's pupils, and each outcome's: those
    # behind a share of the descriptive table) are shown exactly where the phase's are
    # (count_withheld). They were once taken as always shown: with a caliper at threshold 5,
    # an overall 6 beside two clusters' 2 and 4 left no pattern safe, and every cell of
    # every report was hidden (fifth review of issue 14)
    together += [pair for k in values if k[0] in ("impact_n", "desc_n")
                 for who in [k[3] if k[0] == "impact_n" else k[4]]
                 for pair in ((k, (who, *k[1:3])), ((who, *k[1:3]), k))
                 if (who, *k[1:3]) in values]
    zeros = _zero_rate_counts(values)
    hide = protect(values, relations, threshold=plan.threshold,
                   implies=_rate_implies(values) + together, at_most=at_most,
                   sensitive=zeros)
    return LinkedCounts(values, tuple(relations), hide, plan.threshold, tuple(at_most), zeros)


def _analysed_at_most(sample, ph_pupils, in_phase, clusters, phase, at_most):
    """Add: a school's analysed pupils are at most its pupils in the gap table.

    Where every pupil a school gives the analysis is of the gap table's (latest) year with
    the gap measure observed, its EM and comparison pupils together are at most the table's
    FSM and non-FSM pupils of the school (and, over a scope, those reaching the gap measure,
    or not, at most the schools' reaching it, or not). Its comparison pupils are published
    for no school, only summed over a scope; what the bound says about published counts is
    then exactly:
    a school's EM pupils are at most its pupils in the table, and a scope's EM and
    comparison pupils together at most the sum over its schools (where all of them qualify).
    """
    measure = GAP_MEASURE[phase]
    latest = int(ph_pupils["cohort"].max())
    fits = ((sample["cohort"] == latest) & sample[measure].notna()).groupby(
        sample["school_id"]).all()
    names = dict(zip(in_phase["school_id"], in_phase["school_name"], strict=True))
    year = str(latest)

    def size(sid):
        return [(f"school_{v}", phase, names[sid], year) for v in ("fsm", "non_fsm")]

    for sid in fits.index[fits.to_numpy()]:
        if sid in names:
            at_most.append((("em_school", sid), size(sid)))
    scopes = {OVERALL: in_phase}
    scopes.update({c: in_phase[in_phase["cluster"] == c] for c in clusters})
    for scope, members in scopes.items():
        ids = [s for s in members["school_id"] if s in fits.index]   # analysed pupils
        if ids and fits.reindex(ids).all():
            at_most.append(([("em", scope, phase), ("comparison", scope, phase)],
                            [k for s in ids for k in size(s)]))
            # and those reaching the gap measure (or not) at most the schools' (twelfth
            # review: 114 comparison pupils reaching it beside the schools' 119 left the EM
            # pupils reaching it in [0, 5])
            for o in OUTCOMES:
                at_most.append(([(f"desc_{o}", scope, phase, measure, w)
                                 for w in ("em", "comparison")],
                                [(f"school_{o}_{v}", phase, names[sid], year)
                                 for sid in ids for v in ("fsm", "non_fsm")]))


def _tracking_counts(ds, schools, clusters, values, relations, at_most):
    """Add tracking counts: a period's FSM pupils are its counted classes' at the end term.

    A class's pupils are its FSM and its other pupils (the whole class is the comparison;
    ``("class_non_fsm", school_id, class_id, subject, term)``, shown nowhere but worked out
    by subtraction), its FSM pupils at most its pupils, and a
    period's FSM pupils at most the FSM pupils of every class of its end term (the counted
    ones are some of them).
    """
    from evaluation.tracking import class_gap_table, closing_summary

    tracking = getattr(ds, "tracking", None)
    if tracking is None or tracking.empty:
        return
    scopes = {OVERALL: list(schools["school_id"])}
    scopes.update({c: list(schools.loc[schools["cluster"] == c, "school_id"]) for c in clusters})
    table = class_gap_table(tracking[tracking["school_id"].isin(scopes[OVERALL])])
    cols = ["school_id", "class_id", "subject", "term", "n_fsm", "n_class"]
    for r in table[cols].itertuples(index=False):
        cell = (r.school_id, r.class_id, r.subject, r.term)
        values[("class_fsm", *cell)] = int(r.n_fsm)
        values[("class_n", *cell)] = int(r.n_class)
        # the whole class is its FSM and its other pupils: a class of 27 with 20 FSM pupils
        # has 7 others, whose mean the class and FSM means would give
        values[("class_non_fsm", *cell)] = int(r.n_class - r.n_fsm)
        relations.append((("class_n", *cell), [("class_fsm", *cell), ("class_non_fsm", *cell)]))
        at_most.append((("class_fsm", *cell), [("class_n", *cell)]))
    # each term's classes: (school, class, has a gap), in the table's order
    classes: dict[tuple, list] = {}
    for r in table[["subject", "term", "school_id", "class_id", "gap"]].itertuples(index=False):
        classes.setdefault((r.subject, r.term), []).append(
            (r.school_id, r.class_id, not pd.isna(r.gap)))
    for scope, ids in scopes.items():
        part = tracking[tracking["school_id"].isin(ids)]
        if part.empty:
            continue
        inside = set(ids)
        for r in closing_summary(part).itertuples(index=False):
            key = ("track_fsm", scope, r.subject, r.start, r.end)
            values[key] = int(r.n_fsm)
            if (r.subject, r.end) not in classes:
                continue
            end = [(s, c, g) for s, c, g in classes[(r.subject, r.end)] if s in inside]
            at_most.append((key, [("class_fsm", s, c, r.subject, r.end) for s, c, _ in end]))
            # the classes with a gap at both ends are the ones counted (closing_summary)
            started = {(s, c) for s, c, g in classes.get((r.subject, r.start), []) if g}
            relations.append((key, [("class_fsm", s, c, r.subject, r.end) for s, c, g in end
                                    if g and (s, c) in started]))


def _exclusion_counts(full, ph_pupils, phase, plan, schools, clusters, values, relations):
    """Add pupils excluded per reason: the overall report's are the sum of the clusters'."""
    samples = {OVERALL: full}
    for c in clusters:
        ids = set(schools.loc[schools["cluster"] == c, "school_id"])
        part = ph_pupils[ph_pupils["school_id"].isin(ids)]
        if not part.empty:
            samples[c] = analysis_sample(part, phase, plan)
    for scope, sample in samples.items():
        for r in sample.exclusions.itertuples(index=False):
            for col in ("em", "comparison"):
                values[("excluded", scope, phase, r.reason, col)] = int(getattr(r, col))
    for r in full.exclusions.itertuples(index=False):
        for col in ("em", "comparison"):
            parts = [("excluded", c, phase, r.reason, col) for c in samples if c != OVERALL]
            relations.append((("excluded", OVERALL, phase, r.reason, col), parts))
    return samples


#: The rows of the matching table (``MatchResult.counts``) below its "All" row.
MATCH_ROWS = ("Matched", "Unmatched", "Discarded")


def _matching_counts(samples, phase, plan, seed, values, relations, at_most) -> pd.Series:
    """Add each report's matching table: all = matched + unmatched + discarded pupils.

    A phase's EM (comparison) pupils are its matched, unmatched and discarded ones, each
    shown in its own cell of the matching table. Keys
    ``("em_matched" | "em_unmatched" | "em_discarded", scope, phase)`` and the same with
    ``comparison``. Two hidden cells that add up to a hidden total are each at least 1,
    so the total is at least 2: without these relations a total beside a shown sum could be
    narrowed below the threshold's width (issue 14's attacker, seed 7).
    """
    from evaluation.matching import match
    from evaluation.sensitivity import match_args

    matched_em = pd.Series(dtype="int64")     # the overall match's EM pupils per school
    for scope, sample in samples.items():
        data = sample.data
        if data.empty or not data["em"].any() or data["em"].all():
            continue
        try:
            matched = match(data, treatment="em", **match_args(plan.main_spec(), plan, phase),
                            random_state=seed)
        except ValueError:      # the report shows no matching table for this phase either
            continue
        counts = matched.counts
        for who, col in (("em", "Treated"), ("comparison", "Control")):
            parts = []
            for row in MATCH_ROWS:
                if row in counts.index:
                    key = (f"{who}_{row.lower()}", scope, phase)
                    values[key] = int(counts.loc[row, col])
                    parts.append(key)
            relations.append(((who, scope, phase), parts))
            # the impact table's pupils with the headline outcome are the matched ones (the
            # sample requires it); it shows them unless the phase's counts are withheld
            # (review of issue 14: with a caliper, all 161 less the impact table's 153 gave
            # the 8 unmatched EM pupils the matching table hid)
            if (f"{who}_matched", scope, phase) in values:
                key = ("impact_n", scope, phase, who)
                values[key] = values[(f"{who}_matched", scope, phase)]
                relations.append(((f"{who}_matched", scope, phase), [key]))
        if one_to_one(plan.main_spec()) and ("em_matched", scope, phase) in values:
            # one comparison pupil per matched EM pupil, as the plan a report prints says
            # (seventh review of issue 14: with 1:1 matching without replacement, the
            # overall and clusters' comparison pupils gave phase 2's 2 unmatched EM pupils)
            relations.append((("comparison_matched", scope, phase),
                              [("em_matched", scope, phase)]))
        elif (bounds := ratio_bounds(plan.main_spec())) is not None:
            # k:1 matching: at most k of one group per matched pupil of the other, and, where
            # none is used twice, at least one each (ninth review: not encoded for ratio 2)
            many, few, k, disjoint = bounds
            many, few = ((f"{w}_matched", scope, phase) for w in (many, few))
            at_most.append((many, [few] * k))
            if disjoint:
                at_most.append((few, [many]))
        _descriptive_counts(matched, scope, phase, plan, values, relations)
        if scope == OVERALL:
            md = matched.matched_data()
            matched_em = md.loc[md["em"].astype(bool), "school_id"].value_counts()
    _descriptive_sums(samples, phase, values, relations)
    return matched_em


def _descriptive_counts(matched, scope, phase, plan, values, relations):
    """Add what each share of the "Outcomes before adjustment" table gives with its pupils.

    A share of pupils reaching a threshold outcome times the pupils with that outcome is the
    number reaching it (and not reaching it). Keys ``("desc_n" | "desc_pass" | "desc_fail",
    scope, phase, outcome, "em" | "comparison")``; pupils = reaching + not reaching.
    """
    from evaluation.descriptives import outcome_descriptives

    data = matched.matched_data()
    table = outcome_descriptives(data, plan.outcomes(phase))
    treated = data["em"].astype(bool).to_numpy()
    for r in table[table["family"] == "binomial"].itertuples(index=False):
        y = data[r.outcome].to_numpy(dtype=float)
        for who, group in (("em", treated), ("comparison", ~treated)):
            seen = group & ~np.isnan(y)
            keys = {k: (f"desc_{k}", scope, phase, r.outcome, who) for k in ("n", "pass", "fail")}
            values[keys["n"]] = int(seen.sum())
            values[keys["pass"]] = int((seen & (y == 1)).sum())
            values[keys["fail"]] = int((seen & (y != 1)).sum())
            relations.append((keys["n"], [keys["pass"], keys["fail"]]))


def _descriptive_sums(samples, phase, values, relations):
    """Relate the overall table's counts to the clusters' sums (where the data add up)."""
    for k in [k for k in values if k[0].startswith("desc_") and k[1] == OVERALL
              and k[2] == phase]:
        parts = [(k[0], c, *k[2:]) for c in samples if c != OVERALL]
        parts = [p for p in parts if p in values]
        if parts:
            relations.append((k, parts))


#: The survey counts each report shows per item (``evaluation.surveys.survey_change``).
SURVEY_COUNTS = ("n_baseline", "n_follow_up", "n_paired")


def _survey_counts(ds, schools, clusters, values, relations, at_most):
    """Add survey respondents per item: the overall report's are the sum of the clusters'.

    An item's paired respondents are at most its respondents of either wave.
    """
    from evaluation.surveys import survey_change

    surveys = getattr(ds, "surveys", None)
    if surveys is None or surveys.empty:
        return
    scopes = {OVERALL: list(schools["school_id"])}
    scopes.update({c: list(schools.loc[schools["cluster"] == c, "school_id"]) for c in clusters})
    for instrument in ("pupil", "staff"):
        of = surveys[surveys["instrument"] == instrument]
        seen = {}
        for scope, ids in scopes.items():
            part = of[of["school_id"].isin(ids)]
            if part["score"].isna().all():        # no answered item: no survey table
                continue
            table = survey_change(part, instrument).table
            for r in table[["item", *SURVEY_COUNTS]].itertuples(index=False):
                for col in SURVEY_COUNTS:
                    key = ("survey", scope, instrument, r.item, col)
                    values[key] = int(getattr(r, col))
                    seen.setdefault((r.item, col), []).append(scope)
                for wave in ("n_baseline", "n_follow_up"):
                    at_most.append((("survey", scope, instrument, r.item, "n_paired"),
                                    [("survey", scope, instrument, r.item, wave)]))
        for (item, col), scopes_seen in seen.items():
            parts = [("survey", c, instrument, item, col) for c in scopes_seen if c != OVERALL]
            if OVERALL in scopes_seen and parts:
                relations.append((("survey", OVERALL, instrument, item, col), parts))


def remainder_hidden(total: int, parts: dict, threshold: int = 10) -> frozenset:
    """Which of several counts, each printed beside a total it is part of, must be hidden.

    Each part leaves out ``total - part`` pupils (a caliper's unmatched pupils, the pupils
    missing one outcome) that nobody prints, but a reader can subtract. When that remainder
    is between 1 and ``threshold - 1``, the part is hidden (the total stays shown: it is
    printed elsewhere); :func:`evaluation.disclosure.protect` decides, so that the remainder
    keeps an interval at least as wide as the threshold.

    Parameters
    ----------
    total : int
        The count shown (a phase's EM pupils analysed).
    parts : dict
        Key -> a count printed beside it that is at most ``total``.
    threshold : int

    Returns
    -------
    frozenset
        Keys of ``parts`` to hide.

    Examples
    --------
    >>> sorted(remainder_hidden(18, {"caliper": 11, "cem": 18, "nn": 3}))
    ['caliper', 'nn']
    """
    values = {("total",): int(total)}
    relations = []
    for k, v in parts.items():
        if not 0 <= int(v) <= int(total):
            raise ValueError(f"`parts`: {k!r} is {v}, not between 0 and the total {total}")
        values[("part", k)] = int(v)
        values[("rest", k)] = int(total) - int(v)
        relations.append((("total",), [("part", k), ("rest", k)]))
    hide = protect(values, relations, threshold=threshold, shown=[("total",)])
    return frozenset(k for k in parts if ("part", k) in hide)


def trend_counts(pupils: pd.DataFrame, groups: dict, measure: str) -> pd.DataFrame:
    """Pupils with ``measure`` observed per group of schools and year: all, FSM, non-FSM.

    The counts of :func:`evaluation.gaps.pupils.gap_trends` (one row per group and year with
    any pupil), from one pass over the pupils instead of one per group.

    Examples
    --------
    >>> p = pd.DataFrame({"school_id": ["a", "a", "b"], "cohort": 2010,
    ...                   "fsm": [True, False, True], "y": [1.0, None, 0.0]})
    >>> t = trend_counts(p, {"A": ["a"], "AB": ["a", "b"]}, "y")
    >>> t[["group", "n", "n_fsm"]].values.tolist()
    [['A', 1, 1], ['AB', 2, 2]]
    """
    observed = pupils[measure].notna()
    fsm = pupils["fsm"].astype(bool)
    per_school = pd.DataFrame({
        "school_id": pupils["school_id"], "year": pupils["cohort"], "n": observed,
        "n_fsm": observed & fsm, "n_non_fsm": observed & ~fsm,
    }).groupby(["school_id", "year"]).sum()
    rows = []
    for name, ids in groups.items():
        part = per_school[per_school.index.get_level_values("school_id").isin(list(ids))]
        if len(part):
            rows.append(part.groupby(level="year").sum().reset_index().assign(group=name))
    cols = ["group", "year", "n", "n_fsm", "n_non_fsm"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def _gap_counts(ph_pupils, ds, schools, clusters, phase, values, relations):
    measure = GAP_MEASURE[phase]
    latest = int(ph_pupils["cohort"].max())
    by_school = fsm_attainment(ph_pupils[ph_pupils["cohort"] == latest],
                               by=("school_name", "cohort"), outcomes=measure, schools=schools)
    for r in by_school.to_dict("records"):
        for var in ("fsm", "non_fsm"):
            values[("school_" + var, phase, r["school_name"], str(r["cohort"]))] = \
                int(r["n_" + var])
    in_phase = set(schools.loc[schools["phase"] == phase, "school_id"])
    groups = dict(cluster_groups(schools, None))
    for c in clusters:
        groups.update(cluster_groups(schools, c))
    # the phase's pupils of the whole population: the columns read, taken once (and kept for
    # the reports' gap trends)
    taught, rows = phase_pupils(ds, phase, measure)
    groups = {k: v for k, v in groups.items()     # as the trends (results._gaps)
              if in_phase.intersection(v) and taught.intersection(v)}
    trends = trend_counts(rows, groups, measure)
    names = dict(zip(schools["school_id"], schools["school_name"], strict=True))
    for r in trends.to_dict("records"):
        year = str(r["year"])
        key = {v: ("trend_" + v, phase, r["group"], year) for v in ("n", "fsm", "non_fsm")}
        values[key["n"]] = int(r["n"])
        values[key["fsm"]] = int(r["n_fsm"])
        values[key["non_fsm"]] = int(r["n_non_fsm"])
        relations.append((key["n"], [key["fsm"], key["non_fsm"]]))
        for var in ("fsm", "non_fsm"):
            relations.append((key[var], [("school_" + var, phase, names[s], year)
                                         for s in groups[r["group"]]]))
    for total, role in (("All EM schools", "trial"), ("All partner schools", "partner")):
        for year in trends["year"].astype(str).unique():
            for var in ("n", "fsm", "non_fsm"):
                parts = [("trend_" + var, phase, g, year) for g in groups
                         if g.endswith(f": {role} schools")]
                relations.append((("trend_" + var, phase, total, year), parts))
    _rate_counts(rows, groups, names, phase, latest, values, relations)
    return pd.DataFrame()


#: The counts a shown rate gives with its size: pupils reaching the measure and not reaching it.
OUTCOMES = ("pass", "fail")


def _rate_implies(values) -> list:
    """Pairs (a, b) of :func:`evaluation.disclosure.protect`: hiding a hides b, for rates.

    A row's rates are shown or hidden together (``evaluation.report.gaps``), so the counts
    they give (reaching, not reaching) are hidden together; and a rate resting on a hidden
    count is hidden, so a hidden count of a row hides the counts its rates give.
    """
    rows: dict = {}
    for k in values:
        if k[0].startswith(("school_pass_", "school_fail_")):
            rows.setdefault(("school", *k[1:]), []).append(k)
        elif k[0].startswith(("trend_pass_", "trend_fail_")):
            rows.setdefault(("trend", *k[1:]), []).append(k)
        elif k[0] in ("desc_pass", "desc_fail"):
            rows.setdefault(("desc", *k[1:]), []).append(k)
    out = []
    for (table, *rest), keys in rows.items():
        sizes = ([("school_fsm", *rest), ("school_non_fsm", *rest)] if table == "school" else
                 [("desc_n", *rest)] if table == "desc" else
                 [(f"trend_{v}", *rest) for v in ("n", "fsm", "non_fsm")])
        for a in [*keys, *sizes]:
            out += [(a, b) for b in keys if b != a and a in values]
    return out


def _rate_size(key) -> Hashable:
    """Return the key of the pupils a count reaching a measure (or not) is a share of."""
    kind, *rest = key
    if kind in ("desc_pass", "desc_fail"):
        return ("desc_n", *rest)
    table, _, var = kind.split("_", 2)             # school_pass_fsm, trend_fail_n
    return (f"{table}_{var}", *rest)


def _zero_rate_counts(values) -> frozenset:
    """Return the counts of 0 pupils reaching a measure (or not) in a group with pupils.

    Their rate is 0% or 100% (every pupil of the group shares the outcome), withheld like a
    small count (:func:`evaluation.disclosure.rates_revealing_counts`), so they are
    protected like one: nothing else published may give the 0 back.

    Examples
    --------
    >>> v = {("desc_n", "x"): 12, ("desc_pass", "x"): 12, ("desc_fail", "x"): 0}
    >>> sorted(_zero_rate_counts(v))
    [('desc_fail', 'x')]
    """
    return frozenset(
        k for k, v in values.items()
        if v == 0 and k[0].startswith(("school_pass_", "school_fail_", "trend_pass_",
                                       "trend_fail_", "desc_pass", "desc_fail"))
        and values.get(_rate_size(k), 0) > 0)


def _rate_counts(pupils, groups, names, phase, latest, values, relations):
    """Add the counts each shown rate implies: a rate times its pupils is a count reaching it.

    A school's FSM rate times its FSM pupils gives its FSM pupils reaching the measure; a
    group's the same, and the group's count is the sum of its schools' (a cluster's trial
    row of the latest year), the "All EM schools" row the sum of the clusters' trial rows, a
    row's pupils reaching it those of its FSM plus its non-FSM pupils. With these relations
    a hidden school's rate cannot be worked out from its group's rate and the visible
    schools' (issue 14). Keys ``("school_pass_fsm" | "school_fail_fsm" | ..., phase, school,
    year)`` and ``("trend_pass_n" | "trend_fail_fsm" | ..., phase, group, year)``.
    """
    measure = GAP_MEASURE[phase]
    seen = pupils[pupils[measure].notna()]
    fsm = seen["fsm"].astype(bool)
    per = pd.DataFrame({
        "school_id": seen["school_id"], "year": seen["cohort"],
        "pass_fsm": (seen[measure] == 1) & fsm, "fail_fsm": (seen[measure] != 1) & fsm,
        "pass_non_fsm": (seen[measure] == 1) & ~fsm, "fail_non_fsm": (seen[measure] != 1) & ~fsm,
    }).groupby(["school_id", "year"]).sum()
    per.index = per.index.set_levels(per.index.levels[1].astype(str), level="year")
    year = str(latest)
    for sid, name in names.items():
        if ("school_fsm", phase, name, year) not in values:
            continue
        row = per.loc[(sid, year)] if (sid, year) in per.index else None
        for var in ("fsm", "non_fsm"):
            keys = {o: (f"school_{o}_{var}", phase, name, year) for o in OUTCOMES}
            for o in OUTCOMES:
                values[keys[o]] = 0 if row is None else int(row[f"{o}_{var}"])
            relations.append((("school_" + var, phase, name, year), list(keys.values())))
    for group, ids in groups.items():
        part = per[per.index.get_level_values("school_id").isin(list(ids))]
        for y, counts in part.groupby(level="year").sum().iterrows():
            if ("trend_n", phase, group, y) not in values:
                continue
            for o in OUTCOMES:
                for var in ("fsm", "non_fsm"):
                    key = (f"trend_{o}_{var}", phase, group, y)
                    values[key] = int(counts[f"{o}_{var}"])
                    relations.append((key, [(f"school_{o}_{var}", phase, names[s], y)
                                            for s in ids]))
                values[(f"trend_{o}_n", phase, group, y)] = \
                    values[(f"trend_{o}_fsm", phase, group, y)] \
                    + values[(f"trend_{o}_non_fsm", phase, group, y)]
                relations.append(((f"trend_{o}_n", phase, group, y),
                                  [(f"trend_{o}_fsm", phase, group, y),
                                   (f"trend_{o}_non_fsm", phase, group, y)]))
            for var in ("n", "fsm", "non_fsm"):
                relations.append((("trend_" + var, phase, group, y),
                                  [(f"trend_{o}_{var}", phase, group, y) for o in OUTCOMES]))
    for total, role in (("All EM schools", "trial"), ("All partner schools", "partner")):
        years = {k[3] for k in values if k[0] == "trend_n" and k[1] == phase}
        for y in years:
            for o in OUTCOMES:
                for var in ("n", "fsm", "non_fsm"):
                    parts = [(f"trend_{o}_{var}", phase, g, y) for g in groups
                             if g.endswith(f": {role} schools")]
                    relations.append(((f"trend_{o}_{var}", phase, total, y), parts))
