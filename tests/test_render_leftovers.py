"""Review finding: a worker killed mid-render left `.<report>.<pid>.running.ipynb` behind
(test_build_dask's "no half-written file" failed when the kill landed mid-render); the
re-run of the same report now removes it."""

from __future__ import annotations

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
    holds every linked count unsuppressed: the next build removes it (three were left by a
    review's killed builds, stop 35)."""
    import os
    import signal
    import subprocess
    import sys

    from evaluation.engine.build import SCRATCH_PREFIX, build
    from evaluation.shared import SHARED_ENV

    monkeypatch.delenv(SHARED_ENV, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    orphan = tmp_path / f"{SCRATCH_PREFIX}{dead.pid}-x1"
    orphan.mkdir()
    (orphan / "linked-x.pickle").write_bytes(b"counts")
    live = tmp_path / f"{SCRATCH_PREFIX}{os.getppid()}-x2"     # a build still running
    live.mkdir()
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    pub, _ = small_published(tmp_path / "pub", 1)
    build(school_specs(pub), tmp_path / "out", progress=False, workers=1)
    assert not orphan.exists() and live.exists()
    assert not [p for p in tmp_path.glob(f"{SCRATCH_PREFIX}*") if p != live]
