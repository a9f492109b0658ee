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


HOSTILE = ("a\"b' `touch {p}/backtick` $(touch {p}/dollar) \\\" + __import__('os')"
           ".system('touch {p}/py') + \"\nsecond line \\")


def test_hostile_parameter_reaches_the_notebook_as_text(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "echo.ipynb", "from evaluation.render import save_record\n"
                                  "save_record(record_path, received=who, status='ok')")
    value = HOSTILE.format(p=tmp_path)
    spec = ReportSpec("cluster-echo", "Echo", "echo.ipynb", {"who": value}, "cluster")
    rec = render_report(spec, tmp_path / "reports", nbs)
    assert rec.status == "ok", rec.error
    assert rec.fields["received"] == value
    assert not [p.name for p in tmp_path.iterdir() if p.name in ("backtick", "dollar", "py")]


def test_whole_message_reaches_error_page_and_index(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "bad.ipynb", "from evaluation.exceptions import DataError\n"
                                 "raise DataError(\"pupils.csv: table 'pupils' is invalid:\\n"
                                 "  column 'em': 2 of 9 rows (rows 1, 4): found 'maybe'; "
                                 "expected a yes/no flag <b>\")")
    reports = tmp_path / "reports"
    bad = ReportSpec("cluster-bad", "Bad cluster", "bad.ipynb", {}, "cluster")
    unbuilt = ReportSpec("cluster-later", "Later cluster", "bad.ipynb", {}, "cluster")
    rec = render_report(bad, reports, nbs)
    assert rec.error == ("DataError: pupils.csv: table 'pupils' is invalid:\n  column 'em': "
                         "2 of 9 rows (rows 1, 4): found 'maybe'; expected a yes/no flag <b>")
    page = (reports / "html" / "cluster-bad.html").read_text()
    assert "column &#x27;em&#x27;: 2 of 9 rows (rows 1, 4)" in page and "&lt;b&gt;" in page
    records = load_records([bad, unbuilt], reports)
    assert [r.status for r in records] == ["failed", "not built"]
    index = build_index(records, reports / "index.html").read_text()
    assert "column &#39;em&#39;: 2 of 9 rows (rows 1, 4)" in index and "&lt;b&gt;" in index
    assert "status-not-built" in index and 'href="html/cluster-later.html"' not in index
    assert "1 failed, 1 not built" in index


def test_cli_render_exit_code(monkeypatch, capsys, tmp_path):
    from evaluation import catalog, cli, render
    from evaluation.render import RenderRecord

    spec = ReportSpec("cluster-x", "X", "x.ipynb", {"cluster": "X"}, "cluster")
    failed = RenderRecord("cluster-x", "X", "cluster", "failed", {}, "x.html", {},
                          "DataError: line one\n  line two")
    monkeypatch.setattr(catalog, "report_specs", lambda *a, **k: [spec])
    monkeypatch.setattr(render, "render_report", lambda *a, **k: failed)
    assert cli.main(["render", "--cluster", "X", "--reports", str(tmp_path)]) == 1
    assert "line one\n  line two" in capsys.readouterr().err
    assert cli.main(["render", "cluster-x", "--keep-going", "--reports", str(tmp_path)]) == 0
    assert cli.main(["render", "--cluster", "Y", "--reports", str(tmp_path)]) == 2
    assert "no cluster named 'Y'" in capsys.readouterr().err


def _make(*args, cwd):
    import subprocess

    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def hostile_data(tmp_path):
    import shutil
    from pathlib import Path

    base = Path(__file__).parent / "fixtures" / "bad_input" / "base"
    d = tmp_path / "my data"
    shutil.copytree(base, d)
    schools = (d / "schools.csv").read_text()
    name = HOSTILE.format(p=tmp_path).replace("\n", " ")
    quoted = '"' + name.replace('"', '""') + '"'
    (d / "schools.csv").write_text(schools.replace("Birch cluster", quoted))
    return tmp_path, d, name


def test_make_report_passes_names_as_text(hostile_data):
    from evaluation import config

    tmp_path, d, name = hostile_data
    root = config.PROJECT_ROOT
    if not (root / ".venv" / ".installed").exists():
        pytest.skip("make report needs the project's .venv (run `make env`)")
    out = _make("report", f"DATA={d}", f"CLUSTER={name}", f"REPORTS={tmp_path / 'rep'}",
                cwd=root)
    assert out.returncode == 0, out.stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name in ("backtick", "dollar", "py")]
    html = list((tmp_path / "rep" / "html").glob("cluster-*.html"))
    assert len(html) == 1 and "Traceback" not in html[0].read_text()
    # a name that is not a cluster: refused by name, exit 2, nothing run
    out = _make("report", f"DATA={d}", "CLUSTER=x`touch " + str(tmp_path / "bt") + "`$(shell "
                f"touch {tmp_path / 'sh'})", f"REPORTS={tmp_path / 'rep'}", cwd=root)
    assert out.returncode == 2 and "no cluster named" in out.stderr
    assert not (tmp_path / "bt").exists() and not (tmp_path / "sh").exists()
    out = _make("report", f"DATA={d}", "CLUSTER=x", f"SEED=4;touch {tmp_path / 'seed'}",
                cwd=root)
    assert out.returncode == 2 and "SEED must be a whole number" in out.stderr
    assert not (tmp_path / "seed").exists()
    # sixteenth review: REPORTS was spliced into the recipes in single quotes
    out = _make("report", f"DATA={d}", "CLUSTER=x",
                f"REPORTS={tmp_path / 'r'}'; touch {tmp_path / 'rq'}; echo '", cwd=root)
    assert out.returncode == 2 and not (tmp_path / "rq").exists()


def test_make_report_fails_loudly_on_bad_data(hostile_data):
    from evaluation import config

    tmp_path, d, _ = hostile_data
    root = config.PROJECT_ROOT
    if not (root / ".venv" / ".installed").exists():
        pytest.skip("make report needs the project's .venv (run `make env`)")
    pupils = (d / "pupils.csv").read_text().replace("Q003,2010,S1,secondary,false",
                                                    "Q003,2010,S1,secondary,maybe")
    (d / "pupils.csv").write_text(pupils)
    out = _make("report", f"DATA={d}", "CLUSTER=Ashdown cluster",
                f"REPORTS={tmp_path / 'rep'}", cwd=root)
    assert out.returncode != 0 and "report] Error 1" in out.stderr  # render's exit code 1
    expected = "column 'em': 1 of 12 rows (row 3): found 'maybe'; expected a yes/no flag"
    assert expected in out.stderr and "Traceback" not in out.stderr
    page = (tmp_path / "rep" / "html" / "cluster-ashdown-cluster.html").read_text()
    assert "column &#x27;em&#x27;: 1 of 12 rows (row 3)" in page
    index = (tmp_path / "rep" / "index.html").read_text()
    assert "column &#39;em&#39;: 1 of 12 rows (row 3)" in index
    assert index.count("status-not-built") >= 2  # overall and the other cluster: not built


def _makefile_in(folder):
    """Copy the Makefile and what it reads while loading into ``folder`` (for ``make -n``)."""
    import shutil

    from evaluation import config

    root = config.PROJECT_ROOT
    (folder / "evaluation").mkdir()
    shutil.copy(root / "evaluation" / "config.py", folder / "evaluation" / "config.py")
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(root / name, folder / name)


def test_make_knows_the_default_data_however_data_names_it(tmp_path):
    """Ninth review of issue 17: ``DATA=./data/synthetic/default SEED=5`` analysed seed 7's
    data with seed 5 (no data step), and ``DATA=<another data set> SEED=5`` recorded seed 5
    for the default data, so the next plain ``make reports`` generated it again for nothing."""
    _makefile_in(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "schools.csv").write_text("school_id\n")
    stamp = tmp_path / "data" / "synthetic" / ".seed"
    for data in ("./data/synthetic/default", str(tmp_path / "data" / "synthetic" / "default")):
        out = _make("-n", "reports", f"DATA={data}", "SEED=5", cwd=tmp_path)
        assert "evaluation data --scenario default --seed 5" in out.stdout, out.stdout
        assert stamp.read_text().strip() == "5"
    stamp.write_text("7\n")
    out = _make("-n", "reports", f"DATA={other}", "SEED=5", cwd=tmp_path)
    assert "evaluation data" not in out.stdout and "--seed 5" in out.stdout
    assert stamp.read_text().strip() == "7"                 # the default data's seed is kept


def test_make_takes_no_spaced_path_for_the_default_data(tmp_path):
    """Tenth review of issue 17: ``filter`` reads words, so ``DATA="data/synthetic/default
    copy"`` (a copy of the default data) was taken for the default data: make generated the
    default data with the copy's SEED, recorded it, and followed the default's meta.json, not
    the copy's tables. A symbolic link to the default data is the default data."""
    _makefile_in(tmp_path)
    (tmp_path / "data" / "synthetic" / "default").mkdir(parents=True)
    copy = tmp_path / "data" / "synthetic" / "default copy"
    copy.mkdir()
    (copy / "schools.csv").write_text("school_id\n")
    (tmp_path / "link").symlink_to(tmp_path / "data" / "synthetic" / "default")
    stamp = tmp_path / "data" / "synthetic" / ".seed"
    stamp.write_text("7\n")
    for data in ("data/synthetic/default copy", "x data/synthetic/default"):
        out = _make("-n", "reports", f"DATA={data}", "SEED=5", cwd=tmp_path)
        assert "evaluation data" not in out.stdout and "--seed 5" in out.stdout, out.stdout
        assert stamp.read_text().strip() == "7"
    out = _make("-n", "reports", "DATA=link", "SEED=5", cwd=tmp_path)
    assert "evaluation data --scenario default --seed 5" in out.stdout, out.stdout
