"""The index page of all reports: one row per report with its headline numbers and status."""

from __future__ import annotations

from pathlib import Path

import jinja2

from evaluation.render import STATUSES, RenderRecord

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


def build_index(records: list[RenderRecord], path: str | Path, synthetic: bool = True) -> Path:
    """Write ``index.html`` linking every report (relative links) with its headline numbers.

    Parameters
    ----------
    records : list of RenderRecord
        From the renderer (``evaluation.render.load_records``), in display order.
    path : str or pathlib.Path
        The index file to write.
    synthetic : bool
        Whether the pupil data are synthetic (adds the banner).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> build_index([], "/tmp/em-demo/index.html").name
    'index.html'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    groups = []
    for kind, title in KIND_TITLES.items():
        rows = [_row(r, path.parent) for r in records if r.kind == kind]
        if rows:
            groups.append({"title": title, "rows": rows})
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
        footer=f"{len(records)} reports, {n_failed} failed, {n_unbuilt} not built.",
    )
    path.write_text(page, encoding="utf-8")
    return path


#: Columns of the school index: (record field, title, type).
SCHOOL_COLUMNS = (("title", "School", "txt"), ("urn", "URN", "txt"),
                  ("la", "Local authority", "txt"),
                  ("pupils", "Pupils", "num"), ("share_dis", "Disadvantaged %", "num"),
                  ("att8_gap", "Attainment 8 gap", "num"),
                  ("att8_gap_rank", "Gap rank (1 = narrowest)", "num"),
                  ("dest_gap", "Destinations gap, latest (pp)", "num"),
                  ("status", "Status", "txt"))


def _school_cell(value, kind: str) -> dict:
    text = "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
    if kind == "num":
        try:
            sort = repr(float(str(value).replace(",", ""))) if value not in (None, "") else ""
        except ValueError:  # a suppression marker: sorts after every number
            sort = ""
        return {"text": text, "sort": sort, "css": "num"}
    return {"text": text, "sort": text.lower(), "css": "txt"}


def build_school_index(records: list[RenderRecord], path: str | Path,
                       title: str = "School reports") -> Path:
    """Write a searchable, sortable index of school reports (one self-contained HTML page).

    A plain table with a few lines of inline JavaScript: a search box filtering rows on any
    text, and column headers that sort (numbers numerically, blanks last). No network access.

    Parameters
    ----------
    records : list of RenderRecord
        Records of the school reports (``kind == "school"``), in URN order.
    path : str or pathlib.Path
        The index file to write (atomically).
    title : str
        Page title.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> build_school_index([], "/tmp/em-demo/schools/index.html").name
    'index.html'
    """
    from evaluation.render import write_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for rec in records:
        f = dict(rec.fields)
        f["title"] = rec.title
        status = rec.status if rec.status in STATUSES else "failed"
        f["status"] = status
        href = Path(rec.html).resolve().relative_to(path.parent.resolve()).as_posix()
        cells = [_school_cell(f.get(k), kind) for k, _, kind in SCHOOL_COLUMNS]
        rows.append({"href": href, "cells": cells, "status_class": status.replace(" ", "-")})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True)
    counts = {s: sum(r.status == s for r in records) for s in STATUSES}
    page = env.get_template("school_index.html.j2").render(
        title=title,
        intro=("One report per school: disadvantaged and other pupils' results and the gap, "
               "over the years published, and the school's place among all schools and "
               "among similar schools. Search by name, URN or local authority; click a "
               "column heading to sort."),
        columns=[{"title": t, "type": k, "css": k} for _, t, k in SCHOOL_COLUMNS],
        rows=rows,
        footer=(f"{len(records)} school reports: {counts['ok']} ok, {counts['not estimable']} "
                f"not estimable, {counts['failed']} failed, {counts['not built']} not built."),
    )
    return write_atomic(path, page)
