"""Workers started before the build knows its reports: their kernels, the build's variables.

A full build starts its workers, and each worker its kernel, while it lists the reports
(issue 17: a first report's first cell came 3-4 s into a build). Those workers were started
before the build set the variables its reports read (its commit, the folder of results its
workers share): each task gives them. Their kernels get the workers' environment (Arrow's
memory pool: ``engine.worker_environment``).
"""

import contextlib
import io
import os
import sys
import tempfile

import pytest
from probe_notebook import probe_reports

from evaluation.engine import build as engine
from evaluation.engine import warm
from evaluation.provenance import COMMIT_ENV
from evaluation.shared import SHARED_ENV

pytestmark = pytest.mark.slow

PROBE = """\
import os
from evaluation.render import save_record
save_record(record_path, status="ok", commit=os.environ.get("EVALUATION_COMMIT", ""),
            shared=os.environ.get("EVALUATION_SHARED_DIR", ""), kernel=os.getpid(),
            cwd=os.getcwd(), mpl=os.environ.get("MPLBACKEND", ""),
            arrow=__import__("pyarrow").default_memory_pool().backend_name)
"""

#: Imported by every Python process started with it on its path: a kernel process says
#: something of its own as it starts (not from a cell).
CHATTER = """\
import sys
try:
    _cmd = open("/proc/self/cmdline", "rb").read()
except OSError:
    _cmd = b""
if b"ipykernel_launcher" in _cmd:
    sys.stderr.write("kernel chatter: starting up\\n")
    sys.stderr.flush()
"""

#: What a worker's warm engine counts (kernels started, notebooks run), asked of a worker.
STATS = "__import__('evaluation.engine.warm', fromlist=['STATS']).STATS.copy()"


def test_workers_started_before_the_build_render_with_its_commit_and_shared_folder(
        tmp_path, monkeypatch):
    nbs = tmp_path / "nbs"
    specs = probe_reports(nbs, PROBE, 4)
    monkeypatch.delenv(COMMIT_ENV, raising=False)
    monkeypatch.delenv(SHARED_ENV, raising=False)
    monkeypatch.delenv(engine.ARROW_POOL_VARIABLE, raising=False)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(CHATTER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    reports = tmp_path / "reports"
    assert engine.nothing_built(reports)
    with engine.local_workers(2, nbs) as pool:
        # the workers exist, and their kernels, before the build sets its variables
        before = [pool.submit(eval, STATS).result() for _ in range(4)]
        monkeypatch.setenv(COMMIT_ENV, "feedbeef")
        summary = engine.build(specs, reports, nbs, progress=False, pool=pool)
        after = [pool.submit(eval, STATS).result() for _ in range(4)]
    # each worker's kernel started as the worker did, before any report, and served them all
    assert all(s == {"kernels_started": 1, "notebooks": 0} for s in before), before
    assert all(s["kernels_started"] == 1 and s["notebooks"] >= 1 for s in after), after
    fields = [r["fields"] for r in summary.records]
    assert [r["status"] for r in summary.records] == ["ok"] * 4
    assert {f["commit"] for f in fields} == {"feedbeef"}
    shared = {f["shared"] for f in fields}
    assert len(shared) == 1 and os.path.basename(os.path.dirname(shared.pop())).startswith(
        "evaluation-shared-")
    assert {f["cwd"] for f in fields} == {str(nbs.resolve())}
    assert {f["mpl"] for f in fields} == {"Agg"}
    assert {f["arrow"] for f in fields} == {engine.ARROW_POOL}  # and none left set here
    assert engine.ARROW_POOL_VARIABLE not in os.environ
    kernels = {f["kernel"] for f in fields}
    assert len(kernels) <= 2                                 # one warm kernel per worker
    # what each kernel said as it started is in the log of its worker's first report, once
    logs = [(reports / "logs" / f"{s.slug}.log").read_text() for s in specs]
    assert sum(log.count("kernel chatter: starting up") for log in logs) == len(kernels)
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


def _cli_build(monkeypatch, tmp_path, data, *argv):
    """Run ``python -m evaluation build`` with the listing and the build faked: which
    workers were started before the reports were listed?"""
    from evaluation import cli

    started = []

    @contextlib.contextmanager
    def fake_workers(workers=None, notebooks_dir=None):
        started.append(workers)
        yield "early pool"

    seen = []
    monkeypatch.setattr(engine, "local_workers", fake_workers)
    monkeypatch.setattr(engine, "build", lambda specs, *a, pool=None, **k: seen.append(pool)
                        or engine.BuildSummary())
    monkeypatch.setattr(cli, "_specs", lambda args: seen.append("listed") or [])
    monkeypatch.setattr(cli, "_write_index", lambda args, specs: 0)
    assert cli.main(["build", "--data", str(data), "--reports", str(tmp_path), "--no-progress",
                     *argv]) == 0
    return started, seen


def test_a_full_build_starts_its_workers_before_listing_its_reports(tmp_path, monkeypatch,
                                                                   default_data_dir):
    """Into an empty folder, on a machine of at most EARLY_WORKERS cores (second review of
    this change: with more, a report submitted before the early workers were ready started
    one more worker and kernel each, 5 processes for 3 tasks with 2 started early)."""
    cores = len(os.sched_getaffinity(0)) or 1
    started, seen = _cli_build(monkeypatch, tmp_path, default_data_dir)
    if 1 < cores <= engine.EARLY_WORKERS:
        assert started == [cores] and seen == ["listed", "early pool"]
    started, seen = _cli_build(monkeypatch, tmp_path, default_data_dir, "--workers", "3")
    assert started == [3] and seen == ["listed", "early pool"]
    for argv in (["--workers", "1"], ["--engine", "cold"], ["--scheduler", "tcp://x:8786"],
                 ["--workers", str(engine.EARLY_WORKERS + 1)]):
        started, seen = _cli_build(monkeypatch, tmp_path, default_data_dir, *argv)
        assert started == [] and seen == ["listed", None], argv
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "overall.json").write_text("{}")     # built before: incremental
    started, seen = _cli_build(monkeypatch, tmp_path, default_data_dir)
    assert started == [] and seen == ["listed", None]


def test_a_build_that_stops_leaves_nothing_running_after_it_cleans_up(tmp_path, monkeypatch):
    """Review of this change: stopped (Ctrl-C, or an error in its own process), a build with
    workers started early removed its private folder of shared results while the workers went
    on rendering every queued report, and wrote that folder again. The queued reports are now
    cancelled and the running ones awaited before the build cleans up."""
    import time

    nbs = tmp_path / "nbs"
    specs = probe_reports(nbs, "import time\ntime.sleep(1)\n" + PROBE, 8)
    monkeypatch.delenv(SHARED_ENV, raising=False)
    # the build's own folder, not every evaluation-shared-* of /tmp: another test's build,
    # run at the same time by another test process, has one there too
    made, mkdtemp = [], tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp",
                        lambda *a, **k: made.append(mkdtemp(*a, **k)) or made[-1])

    def stop(record):
        raise KeyboardInterrupt

    reports = tmp_path / "reports"
    with pytest.raises(KeyboardInterrupt), engine.local_workers(1, nbs) as pool:
        engine.build(specs, reports, nbs, progress=False, pool=pool, on_done=stop)
    time.sleep(1.5)                    # a report still running would finish by now
    scratch = [m for m in made if os.path.basename(m).startswith("evaluation-shared-")]
    assert len(scratch) == 1 and not os.path.exists(scratch[0]), scratch
    # the queued ones cancelled (the executor hands one more than it runs to its worker)
    assert len(list((reports / "html").glob("*.html"))) <= 4
