"""A warm kernel runs each notebook as a new kernel would: fresh names, the current environment.

The kernel outlives the report that started it, so what the renderer sets for one report (the
output checker's log folder) must reach the next report's notebook, not stay as the first's.
"""

import nbformat
import papermill as pm

import evaluation.engine.warm  # noqa: F401  (registers the engine)
from evaluation import checker_folder
from evaluation.engine.kernels import IPCKernelManager


def test_each_report_in_a_warm_kernel_gets_its_own_log_folder_and_fresh_names(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("out = ''", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import os, pathlib\n"
            "pathlib.Path(out).write_text(os.environ.get('EM_OUTPUT_LOG', 'unset') + '|' +\n"
            "                             str('leftover' in dir() or 'gc' in dir()) + '|' +\n"
            "                             str(__import__('gc').get_threshold()[0]))\n"
            "leftover = 1"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    src = tmp_path / "probe.ipynb"
    nbformat.write(nb, src)
    seen, started = {}, evaluation.engine.warm.STATS["kernels_started"]
    for slug in ("first", "second"):
        out = tmp_path / f"{slug}.txt"
        with checker_folder.requested(slug, tmp_path):
            pm.execute_notebook(str(src), str(tmp_path / f"{slug}-run.ipynb"),
                                parameters={"out": str(out)}, engine_name="warm",
                                kernel_manager_class=IPCKernelManager, progress_bar=False)
        seen[slug] = out.read_text()
    pm.execute_notebook(str(src), str(tmp_path / "third-run.ipynb"),
                        parameters={"out": str(tmp_path / "third.txt")}, engine_name="warm",
                        kernel_manager_class=IPCKernelManager, progress_bar=False)
    # the collector's threshold is the warm kernel's (kernels.GC_CODE), from the first report
    assert seen["first"] == f"{checker_folder.log_dir('first', tmp_path).resolve()}|False|3000"
    assert seen["second"] == f"{checker_folder.log_dir('second', tmp_path).resolve()}|False|3000"
    assert (tmp_path / "third.txt").read_text() == "unset|False|3000"
    assert evaluation.engine.warm.STATS["kernels_started"] - started <= 1  # one kernel, reused


def test_a_build_reads_its_commit_once_and_gives_it_to_every_report(monkeypatch):
    """Every report of one build carries the commit the build read when it started."""
    import os

    from evaluation import provenance
    from evaluation.engine import build as build_module
    from evaluation.engine.kernels import FORWARDED_ENV

    calls, seen = [], []
    monkeypatch.delenv(provenance.COMMIT_ENV, raising=False)
    monkeypatch.setattr(build_module, "git_commit", lambda: calls.append(1) or "abc123")
    monkeypatch.setattr(build_module, "_run_local", lambda args, workers, finished, **kw:
                        seen.append((provenance.git_commit(), len(args))))
    monkeypatch.setattr(build_module, "input_keys", lambda specs, nb: {s.slug: "k" for s in specs})
    monkeypatch.setattr(build_module, "up_to_date", lambda *a: False)
    from evaluation.render import ReportSpec

    specs = [type("Spec", (), {"slug": slug, "kind": "cluster",
                               "executed_path": ReportSpec.executed_path})()
             for slug in ("a", "b")]
    build_module.build(specs, "/tmp/em-commit-test", progress=False)
    assert calls == [1] and seen == [("abc123", 2)]
    assert provenance.COMMIT_ENV not in os.environ      # restored after the build
    assert provenance.COMMIT_ENV in FORWARDED_ENV        # warm kernels are given it
