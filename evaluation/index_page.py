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
