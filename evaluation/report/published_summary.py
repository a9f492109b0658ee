"""Summary first and a glossary last for the reports of published data (gaps, support, schools).

These reports describe what the Department for Education publishes; they evaluate no
programme. Each summary gives the headline in plain words with its interval, how many schools
and pupils it rests on, and what it can and cannot show, including why it carries no EEF
padlock rating. Every number is taken from the same result object as the tables below.
"""

from __future__ import annotations

import html

import pandas as pd

from evaluation.gaps.published import RANDOM_EFFECTS
from evaluation.numbers import signed
from evaluation.report.display import Section
from evaluation.report.glossary import _Terms
from evaluation.report.school_support import support_withheld
from evaluation.report.tables import threshold

#: Why a descriptive report carries no padlocks (the EEF scale rates impact evaluations).
NO_PADLOCKS = ("It carries no EEF padlock rating: padlocks rate how secure an estimate of a "
               "programme's impact is, and this report estimates no impact; it describes "
               "published figures.")


class _Box:
    """A summary box: already-escaped paragraphs."""

    def __init__(self, paragraphs: list[str]):
        self.paragraphs = paragraphs

    def _repr_html_(self) -> str:
        body = "".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        return f'<div class="em-summary">{body}</div>'


def _pupils(gaps) -> str:
    """Pupils the summary rests on, in words ("" when not shown: ``UnitGaps.pupil_totals``)."""
    n_g, n_o = gaps.pupil_totals()
    if pd.isna(n_g) or pd.isna(n_o):
        return ""
    return f"{int(n_g):,} {gaps.group} and {int(n_o):,} other pupils"


def gaps_summary(res) -> Section:
    """Summarise a published-data gap report: the mean gap with its CI, units, pupils, limits.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> g = SimpleNamespace(summarised=[1, 2], pupil_totals=lambda: (50, 110), left_out=0,
    ...                     group="FSM", mean=20.0, mean_lower=15.0, mean_upper=25.0,
    ...                     unit_words="percentage points", unit_plural="schools", unit="pp",
    ...                     measure_label="reaching level 4", method="random effects")
    >>> text = gaps_summary(SimpleNamespace(report=SimpleNamespace(gaps=g)))._repr_html_()
    >>> "20.0 percentage points behind other pupils (95% CI 15.0 to 25.0)." in text
    True
    """
    g = res.report.gaps
    n = len(g.summarised)
    pupils = _pupils(g)
    rests = (f"It rests on {n:,} {g.unit_plural} that published both figures"
             + (f" and whose gaps are shown ({g.left_out:,} more rest on fewer than "
                f"{g.threshold} pupils: too few to summarise without giving one away)"
                if g.left_out else "")
             + (f", with {pupils} between them." if pupils else
                "; the file gives no pupil counts, so every one counts equally."
                if g.method != RANDOM_EFFECTS else
                "; their pupil total is not shown, as it would give away a small count."))
    can = ("What it can show: how large the gap between the two groups is in these "
           f"{g.unit_plural} and how much it differs between them, as published"
           + ("." if g.method != RANDOM_EFFECTS else
              ", with small cohorts' sampling noise allowed for."))
    cannot = ("What it cannot show: why gaps differ, or whether any programme narrowed them. "
              f"The figures are for whole {g.unit_plural}, not pupils followed over time, "
              f"and {g.unit_plural} whose figures the Department suppressed for small numbers "
              "are left out of the mean (they are counted in the appendix). " + NO_PADLOCKS)
    head = (f"On average, {g.group} pupils were {g.mean:z.1f} {g.unit_words} behind other "
            f"pupils (95% CI {g.mean_lower:z.1f} to {g.mean_upper:z.1f}). The measure: "
            f"{_lower_first(g.measure_label)}.")
    return Section("Summary", "summary", [_Box([head, rests, can, cannot])])


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def support_summary(res) -> Section:
    """Summarise the school-to-school support report: the change for FSM pupils, with limits."""
    r = res.result
    t = r.trends
    last = int(t["year"].max())
    sup = t[(t["group"] == "supported") & (t["year"] == last)]
    es = r.estimates.get("rate_fsm")
    if es is not None and support_withheld(res, "rate_fsm"):
        head = ("The change after support for FSM pupils is withheld: it would give away a "
                "figure resting on fewer pupils than the disclosure threshold.")
    elif es is not None:
        d = es.did
        head = ("After support, the share of FSM pupils in the supported schools with 5 or "
                "more GCSEs at A*-C including English and maths changed by "
                f"{signed(d['estimate'], 1)} percentage points more than in comparison schools "
                "with similar results before support (95% CI "
                f"{signed(d['lower'], 1)} to {signed(d['upper'], 1)}).")
    else:
        head = "The change after support could not be estimated for FSM pupils."
    if r.label.startswith("placebo"):
        # no list of supported schools was given: say so before any number
        head = (f"No list of supported schools was given, so this report runs the method on "
                f"{r.n_supported:,} placebo schools drawn at random that received no support "
                "(their true effect is zero): it shows what the analysis does, not the effect "
                "of any support. " + head.replace("the supported schools", "these schools")
                .replace("After support,", "After the support year,"))
    fsm = sup["fsm_pupils"].sum(min_count=1) if "fsm_pupils" in sup else float("nan")
    pupils = (f", with {int(fsm):,} FSM pupils in the supported schools in {last}"
              if pd.notna(fsm) and fsm >= threshold(res.plan) else "")
    group = "placebo" if r.label.startswith("placebo") else "supported"
    rests = (f"It rests on {r.n_supported:,} {group} schools and {r.n_comparison:,} "
             f"comparison schools{pupils.replace('supported', group)}.")
    can = ("What it can show: whether FSM pupils' results in the supported schools moved "
           "differently from those of schools that looked alike before support "
           "(a difference-in-differences comparison of published school figures).")
    cannot = ("What it cannot show: the effect on any one pupil, or that support caused the "
              "change: schools were chosen for support, not at random, and other changes "
              "in the same years are not ruled out. If the placebo check below fails, the "
              "estimate is not credible. It carries no EEF padlock rating: padlocks rate "
              "pupil-level evaluations of a programme, and this comparison uses published "
              "whole-school figures of schools that were chosen for support.")
    parts = [head, rests, can, cannot]
    if group == "placebo":
        parts = [p.replace("the supported schools", "these placebo schools") for p in parts]
    return Section("Summary", "summary", [_Box(parts)])


def school_summary(res) -> Section:
    """Summarise a school's report: its Attainment 8 gap and destinations gap, with limits."""
    from evaluation.report.school import NO_SIMILAR, latest_destination, similar_schools_words

    a = res.attainment.set_index("measure")
    parts = []
    if "Attainment 8" in a.index and pd.notna(a.at["Attainment 8", "gap"]):
        gap = round(float(a.at["Attainment 8", "gap"]), 1)   # other minus disadvantaged
        than = (f"{gap:z.1f} Attainment 8 points below other pupils" if gap > 0 else
                f"{-gap:z.1f} Attainment 8 points above other pupils" if gap < 0 else
                "the same Attainment 8 average as other pupils, to 0.1 points")
        parts.append(f"Disadvantaged pupils at {res.name} scored {than} (no interval: the "
                     "Department publishes no pupil counts or spread for this figure).")
    else:
        parts.append("No Attainment 8 gap is published for this school.")
    last = latest_destination(res)
    if last is not None:
        parts.append(f"In the destinations published in {int(last['year'])}, the gap in "
                     f"staying in education or work was {last['gap']:z.0f} percentage points "
                     f"(95% CI {last['gap_lower']:z.1f} to {last['gap_upper']:z.1f}).")
    p = res.profile
    size = (f"{int(p['pupils']):,} pupils on roll" if pd.notna(p.get("pupils"))
            else "a number of pupils that is not published")
    similar = (f"with {similar_schools_words(res)}" if len(res.similar) else
               f"with no similar schools ({NO_SIMILAR})")
    parts.append(f"It rests on one school with {size}, compared with {res.among} and "
                 f"{similar}.")
    parts.append("What it can show: how the school's gaps compare with other schools' in the "
                 "published figures. What it cannot show: why, or the effect of anything the "
                 "school did; a small cohort's figures move a lot from year to year by chance. "
                 + NO_PADLOCKS)
    return Section("Summary", "summary", [_Box(parts)])


def glossary(res) -> Section:
    """List the glossary of the published-data reports (``analysis.yml: glossary_published``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> plan = SimpleNamespace(raw={"glossary_published": {"pp": "Percentage points."}})
    >>> "<dt>pp</dt>" in glossary(SimpleNamespace(plan=plan))._repr_html_()
    True
    """
    return Section("Glossary", "glossary", [_Terms(res.plan.raw.get("glossary_published", {}))])
