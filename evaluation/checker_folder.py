"""Where the output checker's logs go, and how a renderer asks a report's notebook for its log.

Kept apart from :mod:`evaluation.output_log`, which writes the logs (and imports pandas and
the disclosure rules): the build's worker processes only name folders, and so start without
the numerical libraries (issue 17).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

#: The environment variable naming the folder the log is written to.
ENV = "EM_OUTPUT_LOG"
#: The name of the index page's log folder in the checker folder (no report has this slug).
INDEX_LOG = "index"

#: The environment variable naming the folder of every report's log; without it, the
#: project's ``checker/`` (:func:`checker_dir`).
CHECKER_ENV = "EVALUATION_CHECKER_DIR"


def checker_dir(reports_dir: str | Path) -> Path:
    """Return the folder of the output checker's logs: never inside the reports' folder.

    The log is for the output checker, not for release: it names the rule that hid each
    cell, so it tells a small count from the counts hidden to protect it (ninth review of
    issue 14). For reports inside the project (``reports/``, ``reports/schools/``) it is the
    project's ``checker/`` with the same sub-path; elsewhere the folder beside the reports'
    named ``<reports>-checker``; ``EVALUATION_CHECKER_DIR`` names another.

    Examples
    --------
    >>> import os
    >>> from evaluation import config
    >>> old = os.environ.pop(CHECKER_ENV, None)
    >>> checker_dir(config.REPORTS_DIR / "schools").relative_to(config.PROJECT_ROOT).as_posix()
    'checker/reports/schools'
    >>> checker_dir("/srv/out/reports").as_posix()
    '/srv/out/reports-checker'
    >>> os.environ[CHECKER_ENV] = "/srv/out/reports/html/ck"
    >>> checker_dir("/srv/out/reports")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: EVALUATION_CHECKER_DIR='/srv/out/reports/html/ck' is inside the reports' ...
    >>> del os.environ[CHECKER_ENV]
    >>> if old is not None:
    ...     os.environ[CHECKER_ENV] = old
    """
    from evaluation import config

    where = os.environ.get(CHECKER_ENV)
    reports_dir = Path(reports_dir).resolve()
    if where:
        chosen = Path(where).resolve()
        for released in (reports_dir, config.REPORTS_DIR.resolve()):
            if chosen.is_relative_to(released):
                raise ValueError(
                    f"{CHECKER_ENV}={where!r} is inside the reports' folder {released}, which "
                    "readers get: the checker's log tells the small counts from the counts "
                    "hidden to protect them; name a folder outside it")
        return chosen
    root = config.PROJECT_ROOT.resolve()
    if reports_dir.is_relative_to(root) and reports_dir != root:
        return root / "checker" / reports_dir.relative_to(root)
    return reports_dir.parent / f"{reports_dir.name}-checker"


def log_dir(slug: str, reports_dir: str | Path) -> Path:
    """Where a report's log goes: ``<checker folder>/<slug>/`` (:func:`checker_dir`).

    Examples
    --------
    >>> import os
    >>> from evaluation import config
    >>> old = os.environ.pop(CHECKER_ENV, None)
    >>> log_dir("overall", config.REPORTS_DIR).relative_to(config.PROJECT_ROOT).as_posix()
    'checker/reports/overall'
    >>> if old is not None:
    ...     os.environ[CHECKER_ENV] = old
    """
    return checker_dir(reports_dir) / slug


@contextlib.contextmanager
def requested(slug: str, reports_dir: str | Path):
    """Ask the notebook run inside this block to write its log (sets ``EM_OUTPUT_LOG``)."""
    old = os.environ.get(ENV)
    folder = log_dir(slug, reports_dir).resolve()
    for stale in [folder / "results.json", *folder.glob("*.csv")]:   # a failed build leaves
        stale.unlink(missing_ok=True)                                 # no log of an old one
    os.environ[ENV] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old
