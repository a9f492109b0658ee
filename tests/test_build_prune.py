"""Review finding: a full build left the reports of an earlier data set in ``reports/html/``.

Building the seed-5 data set's reports, then the default data set's into the same folder, kept
the 9 cluster reports of seed 5 (other cluster names) with their records, logs, executed
notebooks and checker folders: unlinked from the index, but in the folder given to readers. A
full build (``python -m evaluation build``) now removes every file of a report not in the
build, and says so; rendering one report removes nothing. Small school reports stand in for
the evaluation's (same renderer, same files, a second each).
"""

from __future__ import annotations

import pytest
from school_data import small_published

from evaluation import checker_folder, cli
from evaluation.catalog import school_specs
from evaluation.engine.build import build

pytestmark = pytest.mark.slow


def _files(spec, out):
    return [spec.html_path(out), spec.record_path(out), spec.log_path(out),
            spec.executed_path(out), checker_folder.log_dir(spec.slug, out) / "results.json"]


@pytest.fixture()
def two_built(tmp_path, monkeypatch):
    """Two school reports built into ``out``; the CLI then sees only the first."""
    monkeypatch.delenv(checker_folder.CHECKER_ENV, raising=False)
    pub, _ = small_published(tmp_path / "pub", 2)
    specs = school_specs(pub)
    out = tmp_path / "out"
    summary = build(specs, out, workers=1, progress=False)
    assert summary.counts["ok"] == 2
    for spec in specs:
        assert all(p.is_file() for p in _files(spec, out)), spec.slug
    monkeypatch.setattr(cli, "_specs", lambda args: specs[:1])
    return specs, out


def test_a_full_build_removes_every_file_of_a_report_no_longer_in_it(two_built, capsys,
                                                                     default_data_dir):
    (kept, gone), out = two_built
    checker = checker_folder.checker_dir(out)
    others = [out / "html" / "style.css", out / "notes.txt", checker / "notes.txt",
              checker / "schools" / "school-1" / "results.json",
              checker / checker_folder.INDEX_LOG / "results.json"]
    for p in others:                       # not a report's file: never touched
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("{}")
    assert cli.main(["build", "--data", str(default_data_dir), "--reports", str(out),
                     "--workers", "1", "--no-progress"]) == 0
    assert [p for p in _files(gone, out) if p.exists()] == []
    assert not checker_folder.log_dir(gone.slug, out).exists()
    assert all(p.is_file() for p in _files(kept, out))
    assert all(p.is_file() for p in others)
    err = capsys.readouterr().err
    assert f"removed 1 report(s) no longer in the build (5 files and log folders): {gone.slug}" \
        in err, err


def test_rendering_one_report_removes_no_other(two_built):
    (kept, other), out = two_built
    assert cli.main(["render", kept.slug, "--reports", str(out)]) == 0
    assert all(p.is_file() for p in _files(other, out))


def test_only_reports_the_renderer_built_are_removed(tmp_path, monkeypatch):
    """Sixth review: every page, record, log and notebook whose name was not a current slug
    went, a user's own files included ("holiday.html", "taxes.json"), with a folder of theirs
    beside the reports; a published report went when the published folder was misnamed; and
    with a checker folder shared between report sets, one set removed another's log."""
    import json

    from evaluation.engine.prune import prune
    from evaluation.render import ReportSpec

    monkeypatch.delenv(checker_folder.CHECKER_ENV, raising=False)
    out = tmp_path / "userdir"
    mine = [out / "html" / "holiday.html", out / "records" / "taxes.json",
            out / "logs" / "syslog.log", out / "_executed" / "analysis.ipynb",
            checker_folder.checker_dir(out) / "mystuff" / "results.json"]
    for p in mine:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("{}")
    for slug, kind in (("published-dfe-x", "published"), ("cluster-gone", "cluster")):
        (out / "html" / f"{slug}.html").write_text("<p>")
        (out / "records" / f"{slug}.json").write_text(json.dumps(
            {"slug": slug, "kind": kind, "status": "ok"}))
        log = checker_folder.log_dir(slug, out)
        log.mkdir(parents=True)
        (log / "results.json").write_text("{}")
    keep = [ReportSpec("overall", "Overall", "x.ipynb")]
    monkeypatch.setenv(checker_folder.CHECKER_ENV, str(checker_folder.checker_dir(out)))
    assert [p.name for p in prune(keep, out)["cluster-gone"]] == ["cluster-gone.html",
                                                                  "cluster-gone.json"]
    assert checker_folder.log_dir("cluster-gone", out).is_dir()   # a shared checker folder
    monkeypatch.delenv(checker_folder.CHECKER_ENV)
    (out / "records" / "cluster-gone.json").write_text(json.dumps(
        {"slug": "cluster-gone", "kind": "cluster", "status": "ok"}))
    assert prune(keep, out) == {"cluster-gone": [out.resolve() / "records" / "cluster-gone.json",
                                                 checker_folder.log_dir("cluster-gone", out)]}
    assert all(p.is_file() for p in mine)
    assert (out / "html" / "published-dfe-x.html").is_file()
