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

from evaluation import cli, output_log
from evaluation.catalog import school_specs
from evaluation.engine.build import build

pytestmark = pytest.mark.slow


def _files(spec, out):
    return [spec.html_path(out), spec.record_path(out), spec.log_path(out),
            spec.executed_path(out), output_log.log_dir(spec.slug, out) / "results.json"]


@pytest.fixture()
def two_built(tmp_path, monkeypatch):
    """Two school reports built into ``out``; the CLI then sees only the first."""
    monkeypatch.delenv(output_log.CHECKER_ENV, raising=False)
    pub, _ = small_published(tmp_path / "pub", 2)
    specs = school_specs(pub)
    out = tmp_path / "out"
    summary = build(specs, out, workers=1, progress=False)
    assert summary.counts["ok"] == 2
    for spec in specs:
        assert all(p.is_file() for p in _files(spec, out)), spec.slug
    monkeypatch.setattr(cli, "_specs", lambda args: specs[:1])
    return specs, out


def test_a_full_build_removes_every_file_of_a_report_no_longer_in_it(two_built, capsys):
    (kept, gone), out = two_built
    checker = output_log.checker_dir(out)
    others = [out / "html" / "style.css", out / "notes.txt", checker / "notes.txt",
              checker / "schools" / "school-1" / "results.json",
              checker / output_log.INDEX_LOG / "results.json"]
    for p in others:                       # not a report's file: never touched
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("{}")
    assert cli.main(["build", "--reports", str(out), "--workers", "1", "--no-progress"]) == 0
    assert [p for p in _files(gone, out) if p.exists()] == []
    assert not output_log.log_dir(gone.slug, out).exists()
    assert all(p.is_file() for p in _files(kept, out))
    assert all(p.is_file() for p in others)
    err = capsys.readouterr().err
    assert f"removed 1 report(s) no longer in the build (5 files and log folders): {gone.slug}" \
        in err, err


def test_rendering_one_report_removes_no_other(two_built):
    (kept, other), out = two_built
    assert cli.main(["render", kept.slug, "--reports", str(out)]) == 0
    assert all(p.is_file() for p in _files(other, out))
