"""Rendering reports: papermill execution, nbconvert export, records for the index page."""

from __future__ import annotations

import json
from pathlib import Path


def save_record(path: str | Path | None, **fields) -> None:
    """Write a report's headline record (JSON) for the index page; no-op when path is empty.

    The report notebooks call this in their last cell with the numbers the index shows.

    Parameters
    ----------
    path : str or pathlib.Path or None
        Where to write; the renderer passes it as the ``record_path`` parameter.
    **fields
        JSON-serialisable values, e.g. ``title``, ``phase``, ``n_schools``, ``n_em``,
        ``headline``, ``status``.

    Examples
    --------
    >>> save_record("", title="x")  # nothing written
    """
    if not path:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields, indent=2, sort_keys=True, default=str) + "\n")
