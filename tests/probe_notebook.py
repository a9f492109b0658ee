"""A probe notebook for the build's tests: a ``record_path`` parameter, then the probe's code."""

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from evaluation.render import ReportSpec

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def probe_reports(folder, code, n):
    """Write ``folder/probe.ipynb`` (created) running ``code``; return ``n`` reports of it."""
    folder.mkdir(exist_ok=True)
    params = new_code_cell('record_path = ""', metadata={"tags": ["parameters"]})
    nbformat.write(new_notebook(cells=[params, new_code_cell(code)],
                                metadata={"kernelspec": KERNELSPEC}),
                   str(folder / "probe.ipynb"))
    return [ReportSpec(f"probe-{i}", f"Probe {i}", "probe.ipynb", {}, "cluster")
            for i in range(n)]
