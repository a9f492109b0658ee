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


PROBE = """\
import os
from evaluation.render import save_record
save_record(record_path, status="ok", epoch=os.environ.get("SOURCE_DATE_EPOCH", "unset"))
"""


@pytest.fixture(scope="module")
def one_worker():
    """A Dask cluster of one worker process, started before any test sets a variable."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_the_build_s_source_date_epoch_reaches_dask_tasks(one_worker, tmp_path, monkeypatch):
    """Review 17, finding 11: the worker's environment replaced the build's on Dask."""
    import json

    from probe_notebook import probe_reports

    from evaluation.engine.build import build

    specs = probe_reports(tmp_path / "nbs", PROBE, 1)
    out = tmp_path / "out"
    seen = []
    for epoch in ("1700000000", "1600000000", None):   # the same warm kernel each time
        if epoch is None:
            monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        summary = build(specs, out, tmp_path / "nbs", scheduler=one_worker, progress=False,
                        force=True)
        assert summary.counts["ok"] == 1, summary.text()
        seen.append(json.loads(specs[0].record_path(out).read_text())["fields"]["epoch"])
    assert seen == ["1700000000", "1600000000", "unset"]


def test_dask_workers_of_other_code_refuse_to_render(one_worker, tmp_path, monkeypatch):
    """Review 17, finding 2: workers that imported older code rendered with the new key."""
    from probe_notebook import probe_reports

    from evaluation.engine import build as engine

    specs = probe_reports(tmp_path / "nbs", PROBE, 2)
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        m.setattr(engine, "package_hash", lambda: "0123456789abcdef")
        summary = engine.build(specs, out, tmp_path / "nbs", scheduler=one_worker,
                               progress=False)
    assert summary.counts["failed"] == 2, summary.text()
    assert "failed: 2 x WorkerCodeError" in summary.text()
    error = summary.records[0]["error"]
    assert "restart the Dask workers" in error, error
    assert not specs[0].html_path(out).exists()         # nothing rendered with the old code
    assert not engine.up_to_date(specs[0], out, engine.input_keys(specs, tmp_path / "nbs")[
        specs[0].slug])
    # the notebooks (and the plan) are read by each report, not imported: an edit to them
    # needs no restart (second review: every task failed with a false WorkerCodeError)
    nb = tmp_path / "nbs" / specs[0].notebook
    nb.write_text(nb.read_text().replace('"metadata": {', '"metadata": {"edited": true, ', 1))
    assert '"edited": true' in nb.read_text()
    summary = engine.build(specs, out, tmp_path / "nbs", scheduler=one_worker, progress=False)
    assert summary.counts["ok"] == 2, summary.text()
