"""Review finding: a worker killed mid-render left `.<report>.<pid>.running.ipynb` behind
(test_build_dask's "no half-written file" failed when the kill landed mid-render); the
re-run of the same report now removes it."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from school_data import small_published

from evaluation.catalog import school_specs
from evaluation.render import render_report


def test_rerun_removes_a_dead_workers_half_written_notebook(tmp_path):
    pub, _ = small_published(tmp_path / "pub", 1)
    (spec,) = school_specs(pub)
    out = tmp_path / "out"
    executed = spec.executed_path(out)
    executed.parent.mkdir(parents=True)
    stale = executed.with_name(f".{executed.name}.999999.running.ipynb")
    stale.write_text("{half written")
    # and the record a killed run's kernel wrote late (they gathered in /tmp, 29 in a day)
    late = executed.with_name(f".{executed.name}.999999-ab.running.json")
    late.write_text("{}")
    tmp = Path(tempfile.gettempdir())
    before = set(tmp.glob("em-record-*"))
    rec = render_report(spec, out)
    assert rec.status == "ok"
    assert not stale.exists() and not late.exists()
    assert [p.name for p in out.rglob(".*")] == []
    assert set(tmp.glob("em-record-*")) == before      # nothing of the run in /tmp


def test_the_checker_log_is_written_outside_the_reports_folder(tmp_path, monkeypatch):
    """Ninth review of issue 14: the log (ACRO's format) names the rule that hid each cell, so
    it tells a small count from those hidden to protect it; written under ``reports/`` it
    went out with the reports. It goes to the checker's own folder."""
    from evaluation import checker_folder

    monkeypatch.delenv(checker_folder.CHECKER_ENV, raising=False)
    pub, _ = small_published(tmp_path / "pub", 1)
    (spec,) = school_specs(pub)
    out = tmp_path / "out"
    assert render_report(spec, out).status == "ok"
    log = checker_folder.log_dir(spec.slug, out) / "results.json"
    assert log.is_file() and not log.resolve().is_relative_to(out.resolve())
    assert not list(out.rglob("results.json"))
    assert not [p for p in out.rglob("*") if p.is_file() and "SecondarySuppression"
                in p.read_text(errors="ignore")]


def test_the_shared_results_live_outside_the_reports_and_go_when_the_build_ends(tmp_path,
                                                                                 monkeypatch):
    """Tenth review of issue 14: the results the workers share (every linked count, small
    ones included, unsuppressed) were pickled under ``reports/_shared`` and published with the
    reports. They go to a private folder of the build, removed when it ends; a folder an
    earlier build left under the reports is removed too."""
    import os

    from evaluation.engine.build import build
    from evaluation.shared import SHARED_ENV

    monkeypatch.delenv(SHARED_ENV, raising=False)
    pub, _ = small_published(tmp_path / "pub", 1)
    specs = school_specs(pub)
    out = tmp_path / "out"
    (out / "_shared" / "old").mkdir(parents=True)
    (out / "_shared" / "old" / "linked-x.pickle").write_bytes(b"counts")
    seen = []
    build(specs, out, progress=False, workers=1,
          on_done=lambda rec: seen.append(os.environ.get(SHARED_ENV)))
    assert seen and seen[0] and not seen[0].startswith(str(out))
    assert not os.path.exists(seen[0]) and SHARED_ENV not in os.environ
    assert not list(out.rglob("*.pickle")) and not (out / "_shared").exists()


def test_a_killed_builds_shared_results_are_removed_by_the_next_build(tmp_path, monkeypatch):
    """A build killed outright (SIGKILL) cannot remove its folder of shared results, which
    holds every linked count unsuppressed and the pupil data read: the next build removes it,
    even one with nothing to render (review 20: 169 MB stayed after an up-to-date build), and
    never a running build's, whatever process ids it can see (a build in another PID
    namespace lost its folder to one that read process ids)."""
    import os
    import signal
    import subprocess
    import sys

    from evaluation.engine.build import SCRATCH_LOCK, SCRATCH_PREFIX, build
    from evaluation.shared import SHARED_ENV

    monkeypatch.delenv(SHARED_ENV, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pub, _ = small_published(tmp_path / "pub", 1)
    specs = school_specs(pub)
    build(specs, tmp_path / "out", progress=False, workers=1)     # built: now up to date

    def folder_of(name, hold):
        folder = tmp_path / f"{SCRATCH_PREFIX}{name}"
        folder.mkdir()
        (folder / "linked-x.pickle").write_bytes(b"counts")
        (folder / SCRATCH_LOCK).touch()
        code = ("import fcntl, sys, time; f = open(sys.argv[1]); "
                "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(120)")
        holder = subprocess.Popen([sys.executable, "-c", code, str(folder / SCRATCH_LOCK)],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "held"
        if not hold:
            holder.send_signal(signal.SIGKILL)      # the build killed outright
            holder.wait()
        return folder, holder

    orphan, _ = folder_of("killed", hold=False)
    live, running = folder_of("running", hold=True)
    (tmp_path / f"{SCRATCH_PREFIX}999999999999999999999-x").write_text("a file")
    try:
        summary = build(specs, tmp_path / "out", progress=False, workers=1)
        assert not summary.records                  # nothing to render
        assert not orphan.exists() and live.exists()
    finally:
        running.kill()
        running.wait()
    assert os.path.exists(tmp_path / f"{SCRATCH_PREFIX}999999999999999999999-x")


def test_a_build_killed_outright_takes_its_workers_and_kernels_with_it(tmp_path):
    """Review 20: after `kill -9` of a build, its two workers (reparented) and their kernels
    (717 MB and 518 MB) kept rendering into the reports' folder for as long as their reports
    took. Each worker now watches its build and ends with it; each kernel watches its worker."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from probe_notebook import probe_reports

    nbs = tmp_path / "nbs"
    code = ("import os, time\nopen(os.environ['EM_TEST_PIDS'] + f'/{os.getpid()}', 'w')"
            ".write(str(os.getppid()))\ntime.sleep(120)\n")
    probe_reports(nbs, code, 2)
    pids = tmp_path / "pids"
    pids.mkdir()
    script = ("import sys; sys.path.insert(0, sys.argv[2]); from probe_notebook import "
              "probe_reports; from pathlib import Path; from evaluation.engine.build import "
              "build; nbs = Path(sys.argv[1]); specs = probe_reports(nbs, "
              "(nbs / 'code.py').read_text(), 2); build(specs, nbs.parent / 'out', "
              "nbs, workers=2, progress=False)")
    (nbs / "code.py").write_text(code)
    tests = str(Path(__file__).parent)
    proc = subprocess.Popen([sys.executable, "-c", script, str(nbs), tests],
                            env={**os.environ, "EM_TEST_PIDS": str(pids)})
    try:
        deadline = time.monotonic() + 90
        while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        kernels = {int(p.name): int(p.read_text()) for p in pids.iterdir()}
        assert len(kernels) == 2, "the probes did not start"
        workers = set(kernels.values())
        assert len(workers) == 2 and proc.pid not in workers
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        def alive(pid):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            with open(f"/proc/{pid}/stat") as fh:     # a zombie has ended
                return fh.read().split(") ")[-1][0] != "Z"
        deadline = time.monotonic() + 10
        while any(alive(p) for p in [*workers, *kernels]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in [*workers, *kernels] if alive(p)]
    finally:
        proc.kill()
        for p in pids.iterdir():
            for pid in (int(p.name), int(p.read_text())):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_a_reports_folder_with_braces_in_its_name_renders(tmp_path):
    # review 20: papermill reads its paths as format strings: a folder named "{x}" failed
    # every report (PapermillMissingParameterException, IndexError for "{0}")
    pub, _ = small_published(tmp_path / "pub", 1)
    (spec,) = school_specs(pub)
    for name in ("out {x}", "out {0} }{"):
        rec = render_report(spec, tmp_path / name)
        assert rec.status == "ok", rec.error
        assert spec.html_path(tmp_path / name).is_file()
