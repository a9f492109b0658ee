"""The school reports as tasks on a Dask cluster (two local workers), one killed mid-run."""

import os
import signal

import pytest
from school_data import small_published

pytestmark = pytest.mark.slow


def test_dask_build_survives_a_killed_worker(tmp_path):
    distributed = pytest.importorskip("distributed")
    from evaluation.catalog import school_specs
    from evaluation.engine.build import build
    from evaluation.index_page import build_school_index
    from evaluation.render import load_records

    pub, urns = small_published(tmp_path / "pub", 8)
    specs = school_specs(pub)
    out = tmp_path / "out"
    killed = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:

        def on_done(rec):
            if killed:
                return
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        summary = build(specs, out, scheduler=client, progress=False, on_done=on_done)
        pids_after = set(client.run(os.getpid).values())
    assert killed and killed[0] not in pids_after  # a worker really died mid-run
    slugs = [r["slug"] for r in summary.records]
    assert sorted(slugs) == sorted(s.slug for s in specs)  # every report, each once
    assert len(slugs) == len(set(slugs))
    assert summary.counts["ok"] == 8
    for s in specs:
        page = s.html_path(out).read_text()
        assert page.rstrip().endswith("</html>") and "Attainment and progress" in page
    leftovers = [p.name for p in out.rglob("*") if p.name.startswith(".")]
    assert leftovers == []  # no half-written file
    index = build_school_index(load_records(specs, out), out / "index.html").read_text()
    statuses = [(r.slug, r.status) for r in load_records(specs, out)]
    assert index.count("<tr class=\"ok\">") == 8, statuses
