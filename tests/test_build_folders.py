"""Review of issue 17, findings 6, 7 and 3: a build keeps to the folder it builds.

- A misspelt DATA removed every cluster and design-value report: a full build whose data could
  not be read now removes nothing, and says why.
- A reports folder moved or copied made the next build crash (the index linked the absolute
  path of an old record); a record of a page elsewhere is not this folder's page.
- A task's record naming a page not in this build's folder (Dask tasks shared between two
  builds) was counted as built.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import Future

import pytest
from probe_notebook import probe_reports

from evaluation import cli
from evaluation.engine.build import build, up_to_date
from evaluation.engine.dask import task_key
from evaluation.index_page import build_index
from evaluation.render import load_records

pytestmark = pytest.mark.slow

PROBE = "from evaluation.render import save_record\nsave_record(record_path, status='ok')\n"


def _earlier_report(out, slug, kind="cluster"):
    """The page and record of a report an earlier build left in ``out``."""
    (out / "html").mkdir(parents=True, exist_ok=True)
    (out / "records").mkdir(exist_ok=True)
    page = out / "html" / f"{slug}.html"
    page.write_text("<p>earlier</p>")
    (out / "records" / f"{slug}.json").write_text(json.dumps(
        {"slug": slug, "title": slug, "kind": kind, "status": "ok", "seconds": {},
         "html": str(page), "fields": {}, "error": ""}))
    return page


def test_a_misspelt_data_folder_removes_no_report(tmp_path, capsys):
    out = tmp_path / "reports"
    pages = [_earlier_report(out, "cluster-ashstead-cluster"),
             _earlier_report(out, "design-value", "design_value"),
             _earlier_report(out, "overall", "overall")]
    index = out / "index.html"
    index.write_text("<p>earlier index</p>")
    # refused before anything is built (second review: the overall report's error page
    # replaced the good one, and the index lost the clusters)
    code = cli.main(["build", "--data", str(tmp_path / "defualt"), "--published",
                     str(tmp_path / "none"), "--reports", str(out), "--workers", "1",
                     "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert all(p.read_text() == "<p>earlier</p>" for p in pages), err
    assert index.read_text() == "<p>earlier index</p>"
    assert (f"{tmp_path / 'defualt'}: no such data directory; nothing was built and no report "
            "removed") in err, err
    # a folder without a schools table: refused too, saying what a data folder holds
    (tmp_path / "empty").mkdir()
    assert cli.main(["build", "--data", str(tmp_path / "empty"), "--published",
                     str(tmp_path / "none"), "--reports", str(out), "--no-progress"]) == 1
    assert "no schools.parquet or schools.csv" in capsys.readouterr().err
    assert all(p.read_text() == "<p>earlier</p>" for p in pages)


def test_a_build_whose_data_fail_to_read_removes_no_report(tmp_path, capsys, default_data_dir):
    """A data set that is there but fails to read (a bad value): nothing removed, and why."""
    out = tmp_path / "reports"
    pages = [_earlier_report(out, "cluster-of-an-earlier-data-set")]
    bad = tmp_path / "bad"
    shutil.copytree(default_data_dir, bad)
    (bad / "pupils.parquet").unlink()
    (bad / "pupils.csv").write_text("pupil_id\n1\n")          # the pupils fail to read
    code = cli.main(["build", "--data", str(bad), "--published", str(tmp_path / "none"),
                     "--reports", str(out), "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert all(p.read_text() == "<p>earlier</p>" for p in pages), err
    assert "no report of an earlier build removed: report overall could not read its data" \
        in err, err


def test_a_moved_or_copied_folder_builds_its_own_pages_and_index(tmp_path):
    specs = probe_reports(tmp_path / "nbs", PROBE, 2)
    first = tmp_path / "first"
    assert build(specs, first, tmp_path / "nbs", workers=1, progress=False).counts["ok"] == 2
    copy, moved = tmp_path / "copy", tmp_path / "moved"
    shutil.copytree(first, copy)
    shutil.move(first, moved)
    # the index of a moved folder links its own pages (it raised ValueError)
    index = build_index(load_records(specs, moved), moved / "index.html").read_text()
    assert 'href="html/probe-0.html"' in index
    # a record naming a page elsewhere is not this folder's page: built again here
    key = json.loads(specs[0].record_path(copy).read_text())["fields"]["input_key"]
    assert not up_to_date(specs[0], copy, key)
    summary = build(specs, copy, tmp_path / "nbs", workers=1, progress=False)
    assert summary.counts["ok"] == 2, summary.text()
    for spec in specs:
        assert json.loads(spec.record_path(copy).read_text())["html"] == \
            str(spec.html_path(copy.resolve()))
    assert build(specs, copy, tmp_path / "nbs", workers=1, progress=False).skipped == \
        [s.slug for s in specs]


class _ElsewherePool:
    """Workers that report every page as written to another folder (another build's task)."""

    def __init__(self, elsewhere):
        self.elsewhere = elsewhere

    def submit(self, fn, spec, *args, **kwargs):
        page = spec.html_path(self.elsewhere)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<p>")
        future = Future()
        future.set_result({"slug": spec.slug, "title": spec.title, "kind": spec.kind,
                           "status": "ok", "seconds": {}, "html": str(page), "fields": {},
                           "error": ""})
        return future

    def shutdown(self, **kwargs):
        pass


def test_a_report_whose_page_is_not_in_this_folder_is_not_counted_as_built(tmp_path):
    specs = probe_reports(tmp_path / "nbs", PROBE, 2)
    out = tmp_path / "out"
    summary = build(specs, out, tmp_path / "nbs", progress=False,
                    pool=_ElsewherePool(tmp_path / "other"))
    assert summary.counts["failed"] == 2 and summary.counts["ok"] == 0, summary.text()
    assert "failed: 2 x PageMissing" in summary.text()
    assert str(specs[0].html_path(out.resolve())) in summary.records[0]["error"]


def test_dask_task_keys_differ_between_reports_folders_and_notebooks_folders(tmp_path):
    spec = probe_reports(tmp_path / "nbs", PROBE, 1)[0]
    keys = {task_key((spec, r, n, "key", "warm")) for r in ("/a", "/b") for n in ("/n", "/m")}
    assert len(keys) == 4
    assert task_key((spec, "/a", "/n", "key")) == task_key((spec, "/a", "/n", "key", None))
