"""The report builder: papermill execution, HTML without code, error pages, records, index."""

import json
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from evaluation.index_page import build_index
from evaluation.render import ReportSpec, load_records, render_report

pytestmark = pytest.mark.slow


def _notebook(path, body):
    params = new_code_cell('who = "world"\nrecord_path = ""', metadata={"tags": ["parameters"]})
    cells = [params, new_markdown_cell("# A report"), new_code_cell(body)]
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}}), str(path))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    nbs = root / "nbs"
    nbs.mkdir()
    _notebook(nbs / "ok.ipynb",
              "SECRET_CODE_MARKER = 1\n"
              "from evaluation.render import save_record\n"
              "print(f'hello {who}')\n"
              "save_record(record_path, phase='primary', n_schools=3, n_em=12,"
              " headline='+1.0 (95% CI 0.1 to 1.9)', status='ok')")
    _notebook(nbs / "fail.ipynb", "raise ValueError('the cluster has no schools')")
    reports = root / "reports"
    ok = ReportSpec("cluster-ok", "OK cluster", "ok.ipynb", {"who": "readers"}, "cluster")
    bad = ReportSpec("cluster-bad", "Bad cluster", "fail.ipynb", {}, "cluster")
    recs = [render_report(ok, reports, nbs), render_report(bad, reports, nbs)]
    return root, reports, [ok, bad], recs


def test_ok_report_has_outputs_but_no_code(built):
    _, reports, _, recs = built
    assert recs[0].status == "ok"
    page = (reports / "html" / "cluster-ok.html").read_text()
    assert "hello readers" in page
    assert "SECRET_CODE_MARKER" not in page
    assert "<script src=" not in page  # nothing fetched from the network
    assert "cdnjs" not in page


def test_failing_report_gets_error_page_and_is_retried(built):
    _, reports, _, recs = built
    assert recs[1].status == "failed"
    assert "ValueError: the cluster has no schools" in recs[1].error
    html_path = reports / "html" / "cluster-bad.html"
    page = html_path.read_text()
    assert "could not be produced" in page and "the cluster has no schools" in page
    assert "logs/cluster-bad.log" in page
    assert os.stat(html_path).st_mtime == 0  # make sees it as stale and renders it again


def test_index_lists_every_report_with_status(built):
    _, reports, specs, _ = built
    records = load_records(specs, reports)
    assert [r.status for r in records] == ["ok", "failed"]
    index = build_index(records, reports / "index.html").read_text()
    assert 'href="html/cluster-ok.html"' in index and 'href="html/cluster-bad.html"' in index
    assert "+1.0 (95% CI 0.1 to 1.9)" in index
    assert "status-failed" in index and "1 failed" in index
    rec = json.loads((reports / "records" / "cluster-ok.json").read_text())
    assert rec["fields"]["n_em"] == 12


def test_cli_index_exits_non_zero_when_a_report_failed(built, monkeypatch, capsys):
    from evaluation import catalog, cli

    root, reports, specs, _ = built
    monkeypatch.setattr(catalog, "report_specs", lambda *a, **k: specs)
    assert cli.main(["index", "--data", str(root), "--reports", str(reports)]) == 1
    assert "FAILED reports: cluster-bad" in capsys.readouterr().err
    monkeypatch.setattr(catalog, "report_specs", lambda *a, **k: specs[:1])
    assert cli.main(["index", "--data", str(root), "--reports", str(reports)]) == 0
