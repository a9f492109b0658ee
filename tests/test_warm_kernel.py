"""A warm kernel runs each notebook as a new kernel would: fresh names, the current environment.

The kernel outlives the report that started it, so what the renderer sets for one report (the
output checker's log folder) must reach the next report's notebook, not stay as the first's.
"""

import nbformat
import papermill as pm

import evaluation.engine.warm  # noqa: F401  (registers the engine)
from evaluation import output_log
from evaluation.engine.kernels import IPCKernelManager


def test_each_report_in_a_warm_kernel_gets_its_own_log_folder_and_fresh_names(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("out = ''", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import os, pathlib\n"
            "pathlib.Path(out).write_text(os.environ.get('EM_OUTPUT_LOG', 'unset') + '|' +\n"
            "                             str('leftover' in dir()))\n"
            "leftover = 1"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    src = tmp_path / "probe.ipynb"
    nbformat.write(nb, src)
    seen, started = {}, evaluation.engine.warm.STATS["kernels_started"]
    for slug in ("first", "second"):
        out = tmp_path / f"{slug}.txt"
        with output_log.requested(slug, tmp_path):
            pm.execute_notebook(str(src), str(tmp_path / f"{slug}-run.ipynb"),
                                parameters={"out": str(out)}, engine_name="warm",
                                kernel_manager_class=IPCKernelManager, progress_bar=False)
        seen[slug] = out.read_text()
    pm.execute_notebook(str(src), str(tmp_path / "third-run.ipynb"),
                        parameters={"out": str(tmp_path / "third.txt")}, engine_name="warm",
                        kernel_manager_class=IPCKernelManager, progress_bar=False)
    assert seen["first"] == f"{output_log.log_dir('first', tmp_path).resolve()}|False"
    assert seen["second"] == f"{output_log.log_dir('second', tmp_path).resolve()}|False"
    assert (tmp_path / "third.txt").read_text() == "unset|False"
    assert evaluation.engine.warm.STATS["kernels_started"] - started <= 1  # one kernel, reused
