"""Make an executed notebook's bytes depend only on its inputs, whichever kernel ran it.

Both render paths (a new kernel per report, or one warm kernel for many) pass their executed
notebook through :func:`normalise_notebook` before export, so the HTML of a report is the same
byte for byte: papermill's timings and random cell id, nbclient's timestamps and the kernel's
running execution counts are removed or renumbered.
"""

from __future__ import annotations

#: Notebook and cell metadata keys that hold times, durations or paths of one run.
RUN_KEYS = ("papermill", "execution")


def normalise_notebook(nb):
    """Strip run-specific metadata and renumber execution counts, in place; return ``nb``.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("1", execution_count=7,
    ...             metadata={"tags": ["injected-parameters"], "papermill": {"duration": 1}})]
    >>> c = normalise_notebook(nb).cells[0]
    >>> c.id, c.execution_count, "papermill" in c.metadata
    ('injected-parameters', 1, False)
    """
    for key in RUN_KEYS:
        nb.metadata.pop(key, None)
    count = 0
    for i, cell in enumerate(nb.cells):
        for key in RUN_KEYS:
            cell.get("metadata", {}).pop(key, None)
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
        elif not cell.get("id"):
            cell["id"] = f"cell-{i}"
        if cell.get("cell_type") != "code":
            continue
        if cell.get("execution_count") is not None:
            count += 1
            cell["execution_count"] = count
            for out in cell.get("outputs", []):
                if "execution_count" in out:
                    out["execution_count"] = count
    return nb
