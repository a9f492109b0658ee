"""Provenance of a report: package version, git commit, input hashes, parameters, plan, time."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation import config

if TYPE_CHECKING:                 # the build's workers read the commit without pandas
    import pandas as pd

    from evaluation.plan import Plan

#: Set by a build to the commit it read once, so that every report of one build carries the
#: same label (a report read alone reads it itself).
COMMIT_ENV = "EVALUATION_COMMIT"
#: The reproducible-builds variable: the time every report gives (:func:`build_time`).
DATE_ENV = "SOURCE_DATE_EPOCH"


def git_commit(root: str | Path = config.PROJECT_ROOT) -> str:
    """Return the checkout's commit (``+changes`` when the tree differs), or ``unknown``.

    Inside a build, the commit the build read when it started (``EVALUATION_COMMIT``).

    Examples
    --------
    >>> len(git_commit()) >= 7
    True
    """
    if os.environ.get(COMMIT_ENV):
        return os.environ[COMMIT_ENV]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=True).stdout
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.strip() + ("+changes" if dirty.strip() else "")


def provenance_table(plan: Plan, parameters: dict, hashes: dict | None = None) -> pd.DataFrame:
    """Everything needed to rebuild a report, as a two-column table.

    Parameters
    ----------
    plan : Plan
        The analysis plan used (its SHA-256 is listed).
    parameters : dict
        The notebook's papermill parameters (``record_path`` is left out: it is a build detail).
    hashes : dict, optional
        File name -> SHA-256 of each input file (``Dataset.meta["file_hashes"]``).

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` and ``value``.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> t = provenance_table(load_plan(), {"seed": 1})
    >>> t["item"].tolist()[:2]
    ['package version', 'git commit']
    """
    import pandas as pd

    rows = [
        ("package version", metadata.version("evaluation")),
        ("git commit", git_commit()),
        ("analysis plan", f"{Path(plan.path).name} sha256:{plan.sha256[:16]}"
                          + (f", dated {plan.date}" if plan.date else ", undated")),
    ]
    rows += [(f"parameter {k}", _short(v)) for k, v in sorted(parameters.items())
             if k != "record_path"]
    rows += [(f"input {name}", f"sha256:{digest[:16]}")
             for name, digest in sorted((hashes or {}).items())]
    rows.append(("evaluated at (UTC)", evaluated_at().strftime("%Y-%m-%d %H:%M:%S")))
    return pd.DataFrame(rows, columns=["item", "value"])


def evaluated_at() -> datetime:
    """Return the time a report gives as its evaluation's: now, or ``SOURCE_DATE_EPOCH``.

    The reproducible-builds convention: with ``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC)
    set, two builds of the same data, plan and code are byte-identical, this line included.

    Examples
    --------
    >>> import os
    >>> os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    >>> evaluated_at().isoformat()
    '2023-11-14T22:13:20+00:00'
    >>> del os.environ["SOURCE_DATE_EPOCH"]
    """
    epoch = os.environ.get(DATE_ENV, "").strip()
    if epoch:
        if not epoch.isdigit():
            raise ValueError(f"SOURCE_DATE_EPOCH should be whole seconds since 1970; got "
                             f"{epoch!r}")
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def _short(value) -> str:
    text = str(value)
    root = str(config.PROJECT_ROOT)
    return text.replace(root + "/", "") if root in text else text
