"""Workers started before the build knows its reports: their kernels, the build's variables.

A full build starts its workers, and each worker its kernel, while it lists the reports
(issue 17: a first report's first cell came 3-4 s into a build). Those workers were started
before the build set the variables its reports read (its commit, the folder of results its
workers share): each task gives them.
"""

import io
import os
import sys
import tempfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from evaluation.engine import build as engine
from evaluation.engine import warm
from evaluation.provenance import COMMIT_ENV
from evaluation.render import ReportSpec
from evaluation.shared import SHARED_ENV

pytestmark = pytest.mark.slow

PROBE = """\
import os
from evaluation.render import save_record
save_record(record_path, status="ok", commit=os.environ.get("EVALUATION_COMMIT", ""),
            shared=os.environ.get("EVALUATION_SHARED_DIR", ""), kernel=os.getpid(),
            cwd=os.getcwd(), mpl=os.environ.get("MPLBACKEND", ""))
"""


def test_workers_started_before_the_build_render_with_its_commit_and_shared_folder(
        tmp_path, monkeypatch):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    params = new_code_cell('record_path = ""', metadata={"tags": ["parameters"]})
    nbformat.write(new_notebook(cells=[params, new_code_cell(PROBE)], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}),
        str(nbs / "probe.ipynb"))
    specs = [ReportSpec(f"probe-{i}", f"Probe {i}", "probe.ipynb", {}, "cluster")
             for i in range(4)]
    monkeypatch.delenv(COMMIT_ENV, raising=False)
    monkeypatch.delenv(SHARED_ENV, raising=False)
    reports = tmp_path / "reports"
    assert engine.nothing_built(reports)
    with engine.local_workers(2, nbs) as pool:
        # the workers exist, and their kernels, before the build sets its variables
        monkeypatch.setenv(COMMIT_ENV, "feedbeef")
        summary = engine.build(specs, reports, nbs, progress=False, pool=pool)
    fields = [r["fields"] for r in summary.records]
    assert [r["status"] for r in summary.records] == ["ok"] * 4
    assert {f["commit"] for f in fields} == {"feedbeef"}
    shared = {f["shared"] for f in fields}
    assert len(shared) == 1 and os.path.basename(os.path.dirname(shared.pop())).startswith(
        "evaluation-shared-")
    assert {f["cwd"] for f in fields} == {str(nbs.resolve())}
    assert {f["mpl"] for f in fields} == {"Agg"}
    assert len({f["kernel"] for f in fields}) <= 2          # one warm kernel per worker
    assert not engine.nothing_built(reports)


def test_what_the_kernel_process_writes_goes_to_the_report_it_was_written_during(
        monkeypatch):
    out = tempfile.TemporaryFile()
    monkeypatch.setattr(warm, "_STATE", {"output": out, "read": 0})
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    out.write(b"kernel: starting\n")
    out.flush()
    warm._forward_output()
    assert err.getvalue() == "kernel: starting\n"
    warm._forward_output()                            # nothing new: nothing written
    out.write("kernel: d\u00e9j\u00e0 vu\n".encode())
    out.flush()
    warm._forward_output()
    assert err.getvalue() == "kernel: starting\nkernel: d\u00e9j\u00e0 vu\n"
    out.close()


def test_a_worker_whose_kernel_cannot_start_early_says_so_and_still_takes_reports(
        monkeypatch, capsys):
    from evaluation.engine import kernels

    def broken(cwd, kernel_name="python3"):
        raise RuntimeError("no such kernel: python3")

    monkeypatch.setattr(kernels, "launch", broken)
    monkeypatch.setattr(warm, "_STATE", {})          # this process has no warm kernel yet
    monkeypatch.setitem(sys.modules, "rfc3987_syntax", None)   # as _warm_init sets them
    monkeypatch.setenv("MPLBACKEND", "Agg")
    engine._warm_init("/nonexistent")                 # does not raise
    err = capsys.readouterr().err
    assert "could not start its kernel before its first report" in err
    assert "no such kernel: python3" in err and "that report starts one" in err
    assert "km" not in warm._STATE


def test_why_a_kernel_died_as_it_started_reaches_the_report_s_log(tmp_path, monkeypatch,
                                                                   capsys):
    """Review of this change: a kernel's own output went to a temporary file, read after
    each notebook; a kernel that died before answering left the log with "Kernel died before
    replying to kernel_info" and not its own reason."""
    import json

    spec = tmp_path / "kernels" / "dying"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; sys.stderr.write('boom: no module named "
                 "missing_thing\\n'); sys.exit(3)", "-f", "{connection_file}"],
        "display_name": "dying", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setattr(warm, "_STATE", {})
    with pytest.raises(RuntimeError, match="died"):
        warm.start(tmp_path, "dying", startup_timeout=20)
    assert "boom: no module named missing_thing" in capsys.readouterr().err
    assert "km" not in warm._STATE
