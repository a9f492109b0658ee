"""Remove the files of reports no longer in the build: a full build leaves only its own reports.

Readers get ``reports/html/`` whole; a report built from an earlier data set (a cluster that
is no longer there) would go out with it, unlinked from the index but published all the same.
A full build (``python -m evaluation build``, ``make reports``; and ``python -m evaluation
schools`` without ``--limit``, in the school reports' folder) therefore removes every file of
a report whose slug is not among the reports it builds: its page, record, failure log, executed
notebook and its folder of the output checker's log. A report is known by the record the
renderer wrote for it: only its files, with the names the renderer gives them, are touched,
never a file the renderer did not write (a user's own files in a folder given as the reports'
folder), never the reports of published files, and never a checker folder shared with other
report sets. Published reports are kept because their set follows the folder of published
files named for the build (a misnamed one removed all seven); a source dropped from that
folder therefore leaves its page behind (public data, not a pupil's). A checker log whose
report left no record (a render killed before its end) is left too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from evaluation import checker_folder
from evaluation.render import ReportSpec

#: The renderer's folders under the reports' folder and the suffix of the file each report
#: has there (:class:`evaluation.render.ReportSpec`): ``<folder>/<slug><suffix>``.
REPORT_FILES = (("html", ".html"), ("records", ".json"), ("logs", ".log"),
                ("_executed", ".ipynb"))
#: What a report's folder of the checker's log holds (:func:`evaluation.output_log.write`).
LOG_FILES = ("results.json", "*.csv")


#: Kinds of report never removed: they come from the published files, not the data (a missing
#: or misnamed folder of published files would otherwise remove them).
KEPT_KINDS = ("published", "school_support")


def _stale_slugs(reports_dir: Path, slugs: set[str]) -> list[str]:
    """Return the slugs of reports this renderer built here that are not in ``slugs``.

    A report is known by its render record (``records/<slug>.json``, written by
    :func:`evaluation.render.render_report`, naming its slug and kind): a file the renderer did
    not write, even with a report's suffix in a report's folder, is never a report.
    """
    out = []
    for record in sorted((reports_dir / "records").glob("*.json")):
        if record.stem in slugs or record.name.startswith("."):
            continue
        try:
            rec = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (isinstance(rec, dict) and rec.get("slug") == record.stem
                and isinstance(rec.get("kind"), str) and rec["kind"] not in KEPT_KINDS
                and "status" in rec):
            out.append(record.stem)
    return out


def _log_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a report's checker log and nothing else (no sub-folder)."""
    if not folder.is_dir() or not (folder / "results.json").is_file():
        return False
    logged = {p for pattern in LOG_FILES for p in folder.glob(pattern)}
    return all(p in logged for p in folder.iterdir())


def prune(specs: Iterable[ReportSpec], reports_dir: str | Path,
          keep: Iterable[str] = (checker_folder.INDEX_LOG,)) -> dict[str, list[Path]]:
    """Remove the files of every report not in ``specs``; return them by report slug.

    Parameters
    ----------
    specs : iterable of ReportSpec
        The reports of the build: their files are kept.
    reports_dir : str or pathlib.Path
        The reports' folder (``html/``, ``records/``, ``logs/``, ``_executed/``); the checker
        folder beside it (:func:`evaluation.checker_folder.checker_dir`) loses the log folders
        of the reports removed.
    keep : iterable of str
        Other names kept in the checker folder (the index page's log).

    Returns
    -------
    dict of str to list of pathlib.Path
        The files removed, by the slug of their report (a checker log folder is listed as
        the folder).

    Examples
    --------
    A report of an earlier data set goes; a page the renderer did not write stays.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()) / "reports"
    >>> for folder in ("html", "records"):
    ...     (root / folder).mkdir(parents=True)
    >>> for slug in ("overall", "cluster-gone", "holiday"):
    ...     _ = (root / "html" / f"{slug}.html").write_text("<p>")
    >>> _ = (root / "records" / "cluster-gone.json").write_text(json.dumps(
    ...     {"slug": "cluster-gone", "kind": "cluster", "status": "ok"}))
    >>> out = prune([ReportSpec("overall", "Overall", "x.ipynb")], root)
    >>> {slug: [p.name for p in files] for slug, files in out.items()}
    {'cluster-gone': ['cluster-gone.html', 'cluster-gone.json']}
    >>> sorted(p.name for p in (root / "html").iterdir())
    ['holiday.html', 'overall.html']
    """
    reports_dir = Path(reports_dir).resolve()
    slugs = {s.slug for s in specs} | set(keep)
    # the checker folder may be shared with other report sets (EVALUATION_CHECKER_DIR): its
    # folders are then theirs too, and none is removed
    checker = None if os.environ.get(checker_folder.CHECKER_ENV) else \
        checker_folder.checker_dir(reports_dir)
    removed: dict[str, list[Path]] = {}
    for slug in _stale_slugs(reports_dir, slugs):
        for folder, suffix in REPORT_FILES:
            p = reports_dir / folder / f"{slug}{suffix}"
            if p.is_file():
                p.unlink()
                removed.setdefault(slug, []).append(p)
        log = checker / slug if checker is not None else None
        if log is not None and _log_folder(log):
            for p in log.iterdir():
                p.unlink()
            log.rmdir()
            removed.setdefault(slug, []).append(log)
    return dict(sorted(removed.items()))
