"""Remove the files of reports no longer in the build: a full build leaves only its own reports.

Readers get ``reports/html/`` whole; a report built from an earlier data set (a cluster that
is no longer there) would go out with it, unlinked from the index but published all the same.
A full build (``python -m evaluation build``, ``make reports``) therefore removes every file of
a report whose slug is not among the reports it builds: its page, record, failure log, executed
notebook and its folder of the output checker's log. Only files the renderer writes, with the
names it gives them, are touched; nothing outside the reports' folder and its checker folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from evaluation import output_log
from evaluation.render import ReportSpec

#: The renderer's folders under the reports' folder and the suffix of the file each report
#: has there (:class:`evaluation.render.ReportSpec`): ``<folder>/<slug><suffix>``.
REPORT_FILES = (("html", ".html"), ("records", ".json"), ("logs", ".log"),
                ("_executed", ".ipynb"))
#: What a report's folder of the checker's log holds (:func:`evaluation.output_log.write`).
LOG_FILES = ("results.json", "*.csv")


def _report_files(reports_dir: Path) -> list[Path]:
    """Return every file the renderer writes for a report under ``reports_dir``, any slug."""
    return [p for folder, suffix in REPORT_FILES
            for p in sorted((reports_dir / folder).glob(f"*{suffix}"))
            if p.is_file() and not p.name.startswith(".")]


def _log_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a report's checker log and nothing else (no sub-folder)."""
    if not folder.is_dir() or not (folder / "results.json").is_file():
        return False
    logged = {p for pattern in LOG_FILES for p in folder.glob(pattern)}
    return all(p in logged for p in folder.iterdir())


def _stale_logs(reports_dir: Path, keep: set[str], stale: set[str]) -> list[Path]:
    """Return the checker's log folders to remove: those of ``stale`` slugs, and orphans.

    An orphan is a log folder of no report in ``keep``; it is removed only where the checker
    folder is this reports' folder's own (:func:`evaluation.output_log.checker_dir` without
    ``EVALUATION_CHECKER_DIR``, which may be shared with other report sets).
    """
    checker = output_log.checker_dir(reports_dir)
    if not checker.is_dir():
        return []
    own = not os.environ.get(output_log.CHECKER_ENV)
    return [f for f in sorted(checker.iterdir())
            if f.name not in keep and (f.name in stale or own) and _log_folder(f)]


def prune(specs: Iterable[ReportSpec], reports_dir: str | Path,
          keep: Iterable[str] = (output_log.INDEX_LOG,)) -> dict[str, list[Path]]:
    """Remove the files of every report not in ``specs``; return them by report slug.

    Parameters
    ----------
    specs : iterable of ReportSpec
        The reports of the build: their files are kept.
    reports_dir : str or pathlib.Path
        The reports' folder (``html/``, ``records/``, ``logs/``, ``_executed/``); the checker
        folder beside it (:func:`evaluation.output_log.checker_dir`) loses the log folders
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
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()) / "reports"
    >>> (root / "html").mkdir(parents=True)
    >>> for slug in ("overall", "cluster-gone"):
    ...     _ = (root / "html" / f"{slug}.html").write_text("<p>")
    >>> prune([ReportSpec("overall", "Overall", "x.ipynb")], root)  # doctest: +ELLIPSIS
    {'cluster-gone': [PosixPath('.../reports/html/cluster-gone.html')]}
    >>> sorted(p.name for p in (root / "html").iterdir())
    ['overall.html']
    """
    reports_dir = Path(reports_dir).resolve()
    slugs = {s.slug for s in specs}
    files = [p for p in _report_files(reports_dir) if p.stem not in slugs]
    logs = _stale_logs(reports_dir, slugs | set(keep), {p.stem for p in files})
    removed: dict[str, list[Path]] = {}
    for p in files:
        p.unlink(missing_ok=True)
        removed.setdefault(p.stem, []).append(p)
    for folder in logs:
        for p in folder.iterdir():
            p.unlink(missing_ok=True)
        folder.rmdir()
        removed.setdefault(folder.name, []).append(folder)
    return dict(sorted(removed.items()))
