"""Sections of a school report: the school's gaps over the years and its place among schools."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from evaluation.disclosure import rates_revealing_counts, safe_count
from evaluation.report.display import Notice, Section
from evaluation.report.tables import marker, safe_table, threshold
from evaluation.schools.result import (
    DEST_COUNT_COLUMNS,
    DEST_RATE_SIZES,
    PLACED,
    SIMILAR_DECIMALS,
    SchoolResult,
    destination_gap_shown,
    place_decimals,
    published_places,
)

DEST_LABELS = {"year": "Year published", "n_dis": "Disadvantaged pupils",
               "rate_dis": "Disadvantaged %", "dis_lower": "95% CI low",
               "dis_upper": "95% CI high", "n_other": "Other pupils", "rate_other": "Other %",
               "other_lower": "95% CI low ", "other_upper": "95% CI high ",
               "gap": "Gap (pp)", "gap_lower": "Gap 95% CI low", "gap_upper": "Gap 95% CI high"}
DEST_COUNTS = {"rate_dis": "n_dis", "dis_lower": "n_dis", "dis_upper": "n_dis",
               "rate_other": "n_other", "other_lower": "n_other", "other_upper": "n_other",
               "gap": ["n_dis", "n_other"], "gap_lower": ["n_dis", "n_other"],
               "gap_upper": ["n_dis", "n_other"]}
#: A year's statistics are withheld together where a rate of its cohort gives fewer than the
#: threshold pupils with, or without, a sustained destination.
DEST_STATISTICS = tuple(DEST_COUNTS)


def _withheld_years(res: SchoolResult) -> dict[str, list[bool]]:
    """Return the destinations table's one decision: which years' statistics are withheld.

    A year is withheld where a rate of its cohort gives fewer than the threshold pupils with,
    or without, a destination.
    """
    return rates_revealing_counts(res.destinations, DEST_RATE_SIZES, DEST_STATISTICS,
                                  threshold(res.plan),
                                  counts={"rate_dis": "k_dis", "rate_other": "k_other"})


def _gap_shown(res: SchoolResult) -> pd.DataFrame:
    """Return the destination years whose gap is shown.

    Enough pupils in both groups, and not withheld by the destinations table: the summary,
    findings, place table and index use this one rule.
    """
    d = res.destinations
    return d[destination_gap_shown(d, threshold(res.plan))]


def latest_destination(res: SchoolResult) -> pd.Series | None:
    """Return the latest destination year whose gap is shown (None: none is).

    The findings and the summary quote this one row, naming its year; the place table and
    the index take the latest year's, shown or not (:func:`latest_year_gap`).
    """
    shown = _gap_shown(res)
    return shown.iloc[-1] if len(shown) else None


#: Why a school has no similar schools.
NO_SIMILAR = ("the file lacks this school's size, share disadvantaged or prior attainment, so "
              "no similar schools can be found")


def similar_schools_words(res: SchoolResult) -> str:
    """Return "its n most similar schools" (one: "its most similar school"; none: "").

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> [similar_schools_words(SimpleNamespace(similar=range(n))) for n in (0, 1, 20)]
    ['', 'its most similar school', 'its 20 most similar schools']
    """
    n = len(res.similar)
    return "" if not n else "its most similar school" if n == 1 else \
        f"its {n} most similar schools"


def latest_year_gap(res: SchoolResult) -> tuple[int | None, float | None, bool]:
    """Return the "latest year" destinations gap of the place table: year, gap, withheld.

    The latest year with a destinations row for the school; its gap where shown (None:
    withheld, or not published); and whether the page's destinations table withholds that
    year's gap ("c" there, so "c" in the place table and the index too; where the Department
    did not publish a rate and nothing is withheld, all three are blank). The year is None
    where the school has no destinations row. The place table and the index entry show this
    one figure (review 17, A9), which is the one the school is ranked on among all schools.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> latest_year_gap(SimpleNamespace(destinations=pd.DataFrame({"year": []})))
    (None, None, False)
    """
    if not len(res.destinations):
        return None, None, False
    value = res.place.set_index("measure").at[PLACED["dest_gap"][0], "value"]
    d = res.destinations
    latest = (d["year"] == d["year"].max()).to_numpy()
    withheld = bool(destinations_table(res).hidden["gap"].to_numpy()[latest].any())
    return int(d["year"].max()), None if pd.isna(value) or withheld else float(value), withheld


def header(res: SchoolResult) -> Section:
    """Title and what the report is."""
    p = res.profile
    size = (f"{int(p['pupils']):,} pupils on roll" if pd.notna(p["pupils"])
            else "size not published")
    share = (f"{p['share_dis']:z.0f}% of its KS4 pupils disadvantaged"
             if pd.notna(p["share_dis"]) else "share disadvantaged not published")
    la = res.la if res.la_named else \
        f"{res.la} (the file gives the local authority's code, not its name)"
    return Section(f"{res.name}", "top", [
        f"URN {res.urn}, {la}; {res.phase} school, {size}, {share}.",
        "Disadvantaged pupils (eligible for free school meals in the last six years, or looked "
        "after) against all other pupils, from the Department for Education's published "
        "school-level files, read as published."], level=1)


def _ahead(gap: float, decimals: int) -> str:
    """Return " (disadvantaged pupils ahead)" where a gap, as shown, is negative.

    Examples
    --------
    >>> _ahead(-9.1, 1), _ahead(-0.04, 1), _ahead(3.0, 1)
    (' (disadvantaged pupils ahead)', '', '')
    """
    return " (disadvantaged pupils ahead)" if round(float(gap), decimals) < 0 else ""


def findings(res: SchoolResult) -> Section:
    """Give the school's gaps in a few sentences, with the numbers of the tables below."""
    out = []
    a = res.attainment.set_index("measure")
    if pd.notna(a.at["Attainment 8", "gap"]):
        gap = a.at["Attainment 8", "gap"]
        out.append(f"Attainment 8: disadvantaged pupils averaged {a.at['Attainment 8', 'dis']:z.1f}"
                   f" against {a.at['Attainment 8', 'other']:z.1f} for other pupils, a gap of "
                   f"{gap:z.1f} points{_ahead(gap, 1)}.")
    else:
        out.append("Attainment 8 was not published for both groups, so no gap can be shown.")
    last = latest_destination(res)
    if last is not None:
        out.append(f"Sustained destinations (published {int(last['year'])}): "
                   f"{last['rate_dis']:z.0f}% of disadvantaged and {last['rate_other']:z.0f}% of "
                   f"other pupils, a gap of {last['gap']:z.0f} points{_ahead(last['gap'], 0)} "
                   f"(95% CI {last['gap_lower']:z.1f} to {last['gap_upper']:z.1f}).")
    pl = res.place.set_index("measure")
    row = pl.loc["Attainment 8 gap (other minus disadvantaged)"]
    if pd.notna(row["all_rank"]):
        among = (f" and {int(row['similar_rank'])} of {int(row['similar_n'])} among itself "
                 f"and {similar_schools_words(res)}" if len(res.similar) else
                 f"; it has no similar schools ({NO_SIMILAR})")
        out.append(f"Its Attainment 8 gap ranks {int(row['all_rank']):,} of "
                   f"{int(row['all_n']):,} schools (1 = the smallest gap; a negative gap, "
                   f"disadvantaged pupils ahead, ranks before a gap of 0){among}.")
    if res.status == "not estimable":
        return Section("Findings", "findings", [Notice(
            "No gap is published for this school in any of the files read: every "
            "figure for one of the groups is suppressed or missing.", "not estimable")])
    return Section("Findings", "findings",
                   [Notice("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in out) + "</ul>",
                           "findings")])


def attainment(res: SchoolResult) -> Section:
    """Attainment 8 and Progress 8 of the two groups, as published (no interval: no counts)."""
    places = published_places(res.attainment)       # Attainment 8 to one, Progress 8 two
    t = safe_table(res.plan, res.attainment, {},
                   decimals={"dis": places, "other": places, "gap": places},
                   labels={"measure": "Measure", "dis": "Disadvantaged", "other": "Other",
                           "gap": "Gap (other minus disadvantaged)",
                           "status": "What the file says"})
    title, when = (f"Attainment and progress, {res.year}", "") if res.year else (
        "Attainment and progress", " The file does not state its year.")
    return Section(title, "attainment", [
        t, "The performance table publishes each group's average score but neither the number "
        "of pupils in each group at KS4 nor the spread of their scores, so no interval can be "
        "given for these gaps; the Department withheld the figures of small groups itself "
        f"(codes kept in the last column).{when}"])


#: The last school's destinations table, (result, table): its page, place table and index
#: entry read this one table (10 ms each; 3,056 schools a national build).
_TABLE: list = [None, None]


def destinations_table(res: SchoolResult):
    """Return the destinations table as the page shows it (None: the school has no row).

    Its suppressed cells are the one decision on what is withheld: the place table and the
    index entry show "c" for the latest year's gap exactly where this table does.
    """
    if _TABLE[0] is res:
        return _TABLE[1]
    d = res.destinations.drop(columns=list(DEST_COUNT_COLUMNS))
    t = None
    if not d.empty:
        counts = ("n_dis", "n_other")  # pupils: whole numbers (held as floats beside NaN)
        t = safe_table(res.plan, d, DEST_COUNTS, decimals={c: 0 if c in counts else 1
                                                             for c in d.columns if c != "year"},
                       labels=DEST_LABELS, hide=_withheld_years(res))
    _TABLE[:] = [res, t]
    return t


def destinations(res: SchoolResult) -> Section:
    """Sustained destinations by group and year, with intervals; small groups suppressed."""
    t = destinations_table(res)
    if t is None:
        return Section("Destinations after KS4", "destinations", [Notice(
            "The destinations files hold no row for this school.", "not estimable")])
    return Section("Destinations after KS4, by year", "destinations", [
        t, "Share of pupils in a sustained education, apprenticeship or employment destination. "
        "Intervals: Wilson score intervals for each group's rate and Newcombe's hybrid score "
        "interval for the gap (95%), from the published counts (binomial); where a count of "
        "pupils with a destination is not published it is taken from the published rate and "
        f"cohort. A year's figures are withheld where a rate and its cohort give fewer than "
        f"{threshold(res.plan)} pupils with, or without, a destination. Years are those of "
        "publication."])


def place(res: SchoolResult) -> Section:
    """Rank and medians among all schools of the file and among similar schools."""
    p = res.place.copy()
    _, _, withheld = latest_year_gap(res)
    # where the destinations table withholds the latest year's gap, so does its place (where
    # the Department did not publish it, it is blank, as in the destinations table)
    gone = withheld & (p["measure"] == PLACED["dest_gap"][0])
    for c in ("all_rank", "similar_rank"):
        p[c] = p[c].map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
    t = safe_table(res.plan, p, {}, decimals=place_decimals(p),
                   hide={c: gone.tolist() for c in ("value", "all_rank", "similar_rank")},
                   labels={"measure": "Measure", "value": "This school",
                           "all_median": "Median, all schools", "all_rank": "Rank, all",
                           "all_n": "Schools", "similar_median": "Median, similar schools",
                           "similar_rank": "Rank, similar", "similar_n": "Similar (incl. this)"})
    return Section("Place among schools", "place", [
        t, "Rank 1 is the highest score or the smallest gap (gaps are other minus "
        "disadvantaged pupils, so a negative gap, where disadvantaged pupils are ahead, ranks "
        f"before a gap of 0). Similar schools: the "
        f"{res.k} nearest schools of the same phase on size, share disadvantaged and the "
        "shares with low and high prior attainment (each standardised; Euclidean distance), "
        "computed once for all schools of the file."])


def similar(res: SchoolResult) -> Section:
    """List the similar schools and how far each is from this one."""
    if res.similar.empty:
        return Section("Similar schools", "similar", [Notice(
            NO_SIMILAR[0].upper() + NO_SIMILAR[1:] + ".", "not estimable")])
    s = res.similar.copy()
    s["pupils"] = s["pupils"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
    t = safe_table(res.plan, s, {}, decimals=SIMILAR_DECIMALS,
                   labels={"urn": "URN", "name": "School", "la": "Local authority",
                           "pupils": "Pupils on roll", "share_dis": "Disadvantaged % (KS4)",
                           "prior_low": "Low prior %", "prior_high": "High prior %",
                           "att8_gap": "Attainment 8 gap", "distance": "Distance"})
    return Section("Similar schools", "similar", [t])


def source(res: SchoolResult) -> Section:
    """Files read and the disclosure rule."""
    files = "; ".join(Path(s).name for s in res.sources)
    return Section("Source and disclosure", "source", [
        f"Files: {files} (Department for Education, Open Government Licence).",
        f"Disclosure: no figure resting on fewer than {threshold(res.plan)} pupils is shown; "
        f"such cells read '{marker(res.plan)}'."])


def index_record(res: SchoolResult) -> dict:
    """Return the index entry of a school report: URN, LA, share disadvantaged, gaps as shown."""
    a = res.attainment.set_index("measure")
    # the place table's "latest year" gap (never an earlier year's, review 17, A9)
    year, last, withheld = latest_year_gap(res)
    dest = f"{last:z.1f}" if last is not None else marker(res.plan) if withheld else ""
    gap = a.at["Attainment 8", "gap"]
    rank, ranked = res.place.set_index("measure").loc[
        "Attainment 8 gap (other minus disadvantaged)", ["all_rank", "all_n"]]
    p = res.profile
    return {
        "title": res.name, "urn": res.urn, "la": res.la, "phase": res.phase,
        "pupils": safe_count(int(p["pupils"]), 1) if pd.notna(p["pupils"]) else "",
        # as the page's header gives it (the file has whole percentages)
        "share_dis": None if pd.isna(p["share_dis"]) else f"{p['share_dis']:z.0f}",
        # the text the page's tables and sentences give (one decimal, never "-0.0")
        "att8_gap": None if pd.isna(gap) else f"{gap:z.1f}",
        "att8_gap_rank": None if pd.isna(rank) else int(rank),
        "att8_gap_ranked": int(ranked) if pd.notna(rank) else None,
        "dest_gap": dest, "dest_year": None if year is None else str(year),
        "headline": (f"Attainment 8 gap {gap:z.1f}" if pd.notna(gap) else "not estimable"),
        "status": res.status,
    }


__all__ = ["NO_SIMILAR", "attainment", "destinations", "findings", "header", "index_record",
           "place", "similar", "similar_schools_words", "source"]
