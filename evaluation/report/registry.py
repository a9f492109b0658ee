"""The registry of sections per kind of report, and the functions that build a report from it.

Imported through :mod:`evaluation.report` (``from evaluation.report import sections``).
"""

from __future__ import annotations

from collections.abc import Callable

from evaluation.design_value import DesignValueResult
from evaluation.report import (
    activity,
    appendix,
    design_value,
    flow,
    front,
    gaps,
    glossary,
    heterogeneity,
    hidden,
    impact,
    matching,
    profile,
    published,
    published_summary,
    record,
    replication,
    school,
    school_support,
    sensitivity,
    summary,
    surveys,
    tracking,
)
from evaluation.report.display import Section, contents
from evaluation.results import EvaluationResult, PublishedResult, SupportResult
from evaluation.schools.result import SchoolResult

#: Where the table of contents goes in a report's list of sections.
CONTENTS = "contents"

#: The sections of each kind of report, in order (each a function of the result).
REPORTS: dict[str, tuple[Callable | str, ...]] = {
    "cluster": (front.header, summary.summary, front.findings, CONTENTS, profile.profile,
                gaps.gaps, flow.flow, matching.matched_comparison, flow.descriptive,
                impact.impact,
                hidden.hidden_differences, surveys.surveys, tracking.tracking,
                appendix.data_quality, appendix.disclosure_notes, appendix.provenance,
                glossary.glossary),
    "overall": (front.header, summary.summary, front.findings, CONTENTS,
                replication.replication, profile.profile, gaps.gaps, flow.flow,
                matching.matched_comparison, flow.descriptive, impact.impact,
                hidden.hidden_differences,
                activity.by_activity, sensitivity.sensitivity, heterogeneity.heterogeneity,
                surveys.surveys, tracking.tracking, appendix.data_quality,
                appendix.disclosure_notes, appendix.provenance, glossary.glossary),
    "published": (published.header, published_summary.gaps_summary, published.findings,
                  CONTENTS, published.gap_distribution,
                  published.trend, published.slope, published.references,
                  published.data_quality, published.source, published_summary.glossary),
    "school_support": (school_support.header, published_summary.support_summary,
                       school_support.findings, CONTENTS,
                       school_support.trends, school_support.estimates, school_support.matching,
                       school_support.source, published_summary.glossary),
    "design_value": (design_value.header, design_value.findings, CONTENTS,
                     design_value.comparison, design_value.world, glossary.glossary),
    "school": (school.header, published_summary.school_summary, school.findings, CONTENTS,
               school.attainment, school.destinations, school.place, school.similar,
               school.source, published_summary.glossary),
}


#: The index entry of each kind of result.
RECORDS = {EvaluationResult: record.index_record, PublishedResult: published.index_record,
           SupportResult: school_support.index_record, SchoolResult: school.index_record,
           DesignValueResult: design_value.index_record}


def index_record(res: EvaluationResult | PublishedResult | SupportResult) -> dict:
    """Return the index page's entry for a report (its headline as the report shows it)."""
    return RECORDS[type(res)](res)


def sections(res: EvaluationResult | PublishedResult, kind: str | None = None) -> list[Section]:
    """Build every section of a report from its result, in the registry's order.

    Parameters
    ----------
    res : EvaluationResult or PublishedResult
        The scope's results.
    kind : {"cluster", "overall", "published", "school_support"}, optional
        Kind of report; by default the result's scope.

    Returns
    -------
    list of Section
        The header, the sections, and the table of contents where ``CONTENTS`` stands,
        listing every section after the header.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.results import evaluate
    >>> from evaluation.synthetic import generate
    >>> res = evaluate(generate(seed=1, include_population=False), load_plan(),
    ...                cluster="Secondary phase 1", seed=1)
    >>> [s.anchor for s in sections(res)][:4]
    ['top', 'summary', 'findings', 'contents']
    """
    kind = kind or res.scope
    if kind not in REPORTS:
        raise ValueError(f"`kind` should be one of {sorted(REPORTS)}; got {kind!r}")
    built = [part if part == CONTENTS else part(res) for part in REPORTS[kind]]
    listed = [(s.title, s.anchor) for s in built[1:] if isinstance(s, Section)]
    return [contents(listed) if s == CONTENTS else s for s in built]


def show(res: EvaluationResult | PublishedResult, kind: str | None = None) -> None:
    """Display every section of a report in a notebook (one output per section)."""
    from IPython.display import display

    from evaluation import output_log

    built = sections(res, kind)
    output_log.write_requested(res, built)   # when the renderer asks (checker/<slug>/)
    for section in built:
        display(section)


__all__ = ["CONTENTS", "RECORDS", "REPORTS", "index_record", "sections", "show"]
