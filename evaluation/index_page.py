"""The index page of all reports: one row per report with its headline numbers and status."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

import jinja2
import markupsafe
import pandas as pd

from evaluation.disclosure import SafeTable
from evaluation.render import STATUSES, RenderRecord, write_atomic

KIND_TITLES = {
    "overall": "The evaluation as a whole",
    "cluster": "Cluster reports",
    "design_value": "What the evaluation could have had (synthetic data)",
    "published": "Gap analyses of published DfE data",
}
INTRO = (
    "Reports of the Extra Mile evaluation: the matched comparison of pupils in EM target groups "
    "with pupils from the same schools, one report per cluster and one overall, plus analyses "
    "of the FSM gap in the Department for Education's published files."
)


def _row(rec: RenderRecord, index_dir: Path) -> dict:
    f = {k: v for k, v in rec.fields.items() if v is not None}
    href = Path(rec.html).resolve().relative_to(index_dir.resolve()).as_posix()
    status = rec.status if rec.status in STATUSES else "failed"
    return {
        "href": href,
        "title": rec.title,
        "phase": f.get("phase", ""),
        "n_schools": (f"{f['n_schools']:,}" if isinstance(f.get("n_schools"), int)
                      else f.get("n_schools", "")),
        "n_em": f.get("n_em", ""),
        "headline": f.get("headline", "") if status in ("ok", "not estimable") else "",
        "built": status != "not built",
        "status": status,
        "status_class": status.replace(" ", "-"),
        "error": rec.error if status == "failed" else "",
    }


#: Columns of the index's tables as logged: (row key, title); "n_em" is the count of pupils.
#: The page shows a failed report's reason under its status: the log has it as a column, so
#: that the output checker sees every word the page prints.
INDEX_COLUMNS = (("title", "Report"), ("phase", "Phase"), ("n_schools", "Schools"),
                 ("n_em", "EM pupils"), ("headline", "Headline effect (95% CI)"),
                 ("status", "Status"), ("error", "Why it failed"))


def index_table(rows: list[dict], plan) -> SafeTable:
    """Return one group's rows as a table fit to publish: the threshold on the EM pupils.

    The count of EM pupils is checked against the plan's threshold (as every report's
    tables are, :func:`evaluation.report.tables.safe_table`); a count its report withheld
    (the marker) stays hidden. The index shows the table's cells.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> rows = [{"title": "A", "phase": "primary", "n_schools": "5", "n_em": n,
    ...          "headline": "", "status": "ok"} for n in ("161", "3", "c")]
    >>> t = index_table(rows, load_plan())
    >>> t.frame["EM pupils"].tolist(), t.checks["n_em"].tolist()[1:]
    (['161', 'c', 'c'], ['MinimumThresholdCheck; ', 'SecondarySuppression; '])
    """
    from evaluation.report.tables import safe_table

    df = pd.DataFrame([{k: str(r.get(k, "")) for k, _ in INDEX_COLUMNS} for r in rows],
                      columns=[k for k, _ in INDEX_COLUMNS], dtype=object)
    withheld = [n != "" and not n.replace(",", "").isdigit() for n in df["n_em"]]
    return safe_table(plan, df, {"n_em": "n_em"}, hide={"n_em": withheld},
                      labels=dict(INDEX_COLUMNS))


def _log(groups: list[dict], index_dir: Path, plan) -> Path:
    """Write the index's entry in the output checker's log (its tables, as the reports do)."""
    from types import SimpleNamespace

    from evaluation import checker_folder, output_log
    from evaluation.report.display import Section

    sections = [Section(g["title"], f"index-{g['kind']}", [g["table"]]) for g in groups]
    return output_log.write(checker_folder.log_dir(checker_folder.INDEX_LOG, index_dir),
                            SimpleNamespace(plan=plan), sections)


def _group(kind: str, title: str, rows: list[dict], plan) -> dict:
    """One table of the index: its rows with the count cells as the safe table shows them."""
    table = index_table(rows, plan)
    for row, n_schools, n_em in zip(rows, table.frame["Schools"], table.frame["EM pupils"],
                                    strict=True):
        row.update(n_schools=n_schools, n_em=n_em)
    return {"kind": kind, "title": title, "rows": rows, "table": table}


def build_index(records: list[RenderRecord], path: str | Path, synthetic: bool = True,
                plan=None) -> Path:
    """Write ``index.html`` linking every report (relative links) with its headline numbers.

    It links the school reports' own index too when ``make school-reports`` has written one
    beside it (``schools/index.html``).

    Parameters
    ----------
    records : list of RenderRecord
        From the renderer (``evaluation.render.load_records``), in display order.
    path : str or pathlib.Path
        The index file to write.
    synthetic : bool
        Whether the pupil data are synthetic (adds the banner).
    plan : Plan, optional
        Its disclosure rules apply to the index's counts (default ``analysis.yml``). The
        index's tables are logged for the output checker in ``<checker folder>/index/``
        (:func:`evaluation.checker_folder.log_dir`), as each report's are.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> build_index([], "/tmp/em-demo/index.html").name
    'index.html'
    """
    from evaluation.plan import load_plan

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan or load_plan()
    groups = []
    for kind, title in KIND_TITLES.items():
        rows = [_row(r, path.parent) for r in records if r.kind == kind]
        if rows:
            groups.append(_group(kind, title, rows, plan))
    _log(groups, path.parent, plan)
    n_failed = sum(r.status == "failed" for r in records)
    n_unbuilt = sum(r.status == "not built" for r in records)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
    )
    page = env.get_template("index.html.j2").render(
        title="Extra Mile evaluation: reports",
        intro=INTRO,
        banner=("Synthetic data: the pupil-level reports are built from generated data "
                "calibrated to published figures, not from real pupils.") if synthetic else "",
        groups=groups,
        schools="schools/index.html" if (path.parent / "schools" / "index.html").is_file()
        else "",
        footer=f"{len(records)} reports, {n_failed} failed, {n_unbuilt} not built.",
    )
    path.write_text(page, encoding="utf-8")
    _link_school_index(path.parent / "schools" / "index.html")
    return path


#: Where a school index written before the evaluation's own index gets its link back to it.
EVALUATION_LINK_SLOT = "<!-- em:evaluation-link -->"


def _evaluation_link() -> markupsafe.Markup:
    """Return the school index's link back to the evaluation's index (one folder up)."""
    return markupsafe.Markup('<p><a href="../index.html">All reports</a>: the evaluation\'s '
                             "own reports and those of published files.</p>")


def _link_school_index(path: Path) -> None:
    """Give a school index written before the evaluation's index its link back to it.

    ``make school-reports`` then ``make reports`` left the school index without the link
    (it is written only where the evaluation's index already was) until the school reports
    were built again.
    """
    if path.is_file():
        page = path.read_text(encoding="utf-8")
        if EVALUATION_LINK_SLOT in page:
            write_atomic(path, page.replace(EVALUATION_LINK_SLOT, str(_evaluation_link()), 1))


#: Columns of the school index: (record field, title, type).
SCHOOL_COLUMNS = (("title", "School", "txt"), ("urn", "URN", "txt"),
                  ("la", "Local authority", "txt"),
                  ("pupils", "Pupils on roll", "num"),
                  ("share_dis", "Disadvantaged % (KS4)", "num"),
                  ("att8_gap", "Attainment 8 gap (other minus disadvantaged)", "num"),
                  ("att8_gap_rank", "Gap rank (1 = smallest)", "num"),
                  ("dest_gap", "Destinations gap, latest year (pp)", "num"),
                  ("dest_year", "Destinations year", "txt"),
                  ("status", "Status", "txt"))
#: The columns the search box reads (what it says it searches).
SCHOOL_SEARCHED = ("title", "urn", "la")


def _school_cell(value, kind: str) -> dict:
    """Return a cell of the school index: its text and the value it sorts by.

    The text is also what is searched (not the link's markup). A number sorts by value; a
    blank or a suppression marker has no value (it sorts last).
    """
    text = "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
    if kind == "num":
        try:
            sort = repr(float(str(value).replace(",", ""))) if value not in (None, "") else ""
        except ValueError:  # a suppression marker
            sort = ""
        return {"text": text, "sort": sort, "css": "num"}
    return {"text": text, "sort": text.lower(), "css": "txt"}


def _school_notes(records, rows, mark: str, threshold: int) -> list[str]:
    """Return the notes under the school index: counts, ranks, and what a blank or mark is."""
    counts = {s: sum(r.status == s for r in records) for s in STATUSES}
    notes = [f"{len(records):,} school reports: {counts['ok']:,} ok, "
             f"{counts['not estimable']:,} not estimable, {counts['failed']:,} failed, "
             f"{counts['not built']:,} not built."]
    ranked = sorted({r.fields["att8_gap_ranked"] for r in records
                     if r.fields.get("att8_gap_ranked")})
    notes.append("The Attainment 8 gap is other pupils' average minus disadvantaged pupils'; "
                 "the destinations gap is other pupils' rate minus disadvantaged pupils', in "
                 "percentage points. A negative gap: disadvantaged pupils are ahead.")
    if ranked:
        among = " or ".join(f"{n:,}" for n in ranked)
        notes.append(f"Ranks are among the {among} schools of the performance table with a "
                     "published Attainment 8 gap: 1 is the smallest gap, so a negative gap "
                     "ranks before a gap of 0.")
    if any(c["text"] == mark for r in rows for c in r["cells"]):
        notes.append(f"{mark}: withheld by this project's disclosure control, as on the "
                     f"school's page: the latest year's figures rest on fewer than {threshold} "
                     f"pupils, or its rates and cohorts give fewer than {threshold} pupils with, "
                     "or without, a sustained destination (the page gives every year).")
    notes.append("A blank cell: not published, or not applicable, in the Department's file; no "
                 "destinations row for the school; or a report not built.")
    return notes


@functools.cache
def _datatables() -> tuple[str, str]:
    """Return DataTables' script (base64, imported as a module) and stylesheet.

    As itables bundles them for offline use: the index fetches nothing from the network.
    """
    from itables import options

    js = Path(options.dt_bundle)
    return (base64.b64encode(js.read_bytes()).decode("ascii"),
            js.with_suffix(".css").read_text(encoding="utf-8"))


def build_school_index(records: list[RenderRecord], path: str | Path,
                       title: str = "School reports", plan=None) -> Path:
    """Write a searchable, sortable, paged index of school reports (one self-contained page).

    The table is written out in full, then made a DataTables widget (DataTables as itables
    bundles it, inlined: nothing is fetched from the network): a search box, 50 schools a page,
    and headings that sort (numbers by value, text in the reader's language; blank and
    suppressed cells last either way). The search box reads the school's name, URN and local
    authority. Without scripts it stays a plain table of every school.

    Parameters
    ----------
    records : list of RenderRecord
        Records of the school reports (``kind == "school"``), in URN order.
    path : str or pathlib.Path
        The index file to write (atomically).
    title : str
        Page title.
    plan : Plan, optional
        Its disclosure threshold and marker, which the notes explain (default
        ``analysis.yml``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> build_school_index([], "/tmp/em-demo/schools/index.html").name
    'index.html'
    """
    from evaluation.catalog import SCHOOL_SLUG
    from evaluation.plan import load_plan
    from evaluation.report.tables import marker

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan or load_plan()
    mark = marker(plan)
    rows = []
    for rec in records:
        f = dict(rec.fields)
        f["title"] = rec.title
        status = rec.status if rec.status in STATUSES else "failed"
        f["status"] = status
        if status == "not built":       # no page to link; its URN is in its name
            f["urn"] = rec.slug.removeprefix(SCHOOL_SLUG.format(urn=""))
            href = ""
        else:
            href = Path(rec.html).resolve().relative_to(path.parent.resolve()).as_posix()
        cells = [_school_cell(f.get(k), kind) for k, _, kind in SCHOOL_COLUMNS]
        rows.append({"href": href, "cells": cells, "status_class": status.replace(" ", "-")})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True)
    script, style = _datatables()
    kinds = [k for _, _, k in SCHOOL_COLUMNS]
    page = env.get_template("school_index.html.j2").render(
        title=title,
        intro=("One report per school: disadvantaged and other pupils' results and the gap, "
               "over the years published, and the school's place among all schools and "
               "among similar schools."),
        caption=f"School reports: {len(records):,} schools, one row each",
        columns=[{"title": t, "css": k} for _, t, k in SCHOOL_COLUMNS],
        numeric=[i for i, k in enumerate(kinds) if k == "num"],
        text=[i for i, k in enumerate(kinds) if k == "txt"],
        unsearched=[i for i, (k, _, _) in enumerate(SCHOOL_COLUMNS)
                    if k not in SCHOOL_SEARCHED],
        rows=rows,
        notes=_school_notes(records, rows, mark, plan.threshold),
        datatables_js=script, datatables_css=markupsafe.Markup(style),
        evaluation=(_evaluation_link() if (path.parent.parent / "index.html").is_file()
                    else markupsafe.Markup(EVALUATION_LINK_SLOT)),
    )
    return write_atomic(path, page)
