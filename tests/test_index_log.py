"""Review finding: the index page (released with the reports) has a table of reports with
schools, EM pupils and headline effects per report, but no entry in the output checker's log.
Building the index now logs its tables as the reports log theirs (:mod:`evaluation.output_log`,
ACRO's format): the threshold applied to each count of EM pupils, and its outcome."""

from __future__ import annotations

import json

import pandas as pd
from lxml import html as lxml_html

from evaluation import checker_folder, output_log
from evaluation.index_page import build_index
from evaluation.render import RenderRecord


def _rec(slug, kind, n_em, reports):
    fields = {"phase": "secondary", "n_schools": 23, "n_em": n_em,
              "headline": "GCSE: +21.0 (11.8 to 30.2)"}
    return RenderRecord(slug, slug.title(), kind, "ok", {}, str(reports / "html" / f"{slug}.html"),
                        fields)


def test_the_index_logs_its_tables_with_the_rule_on_each_count(tmp_path, monkeypatch):
    monkeypatch.delenv(checker_folder.CHECKER_ENV, raising=False)
    reports = tmp_path / "reports"
    records = [_rec("overall", "overall", "196", reports),
               _rec("cluster-a", "cluster", "161", reports),
               _rec("cluster-b", "cluster", "c", reports),      # withheld by its report
               _rec("cluster-c", "cluster", "4", reports)]      # a small count: never shown
    page = build_index(records, reports / "index.html")
    folder = checker_folder.log_dir(checker_folder.INDEX_LOG, reports)
    log = json.loads((folder / "results.json").read_text())
    assert log["version"] == output_log.ACRO_FORMAT
    recs = log["results"]
    assert sorted(recs) == ["index-cluster-1", "index-overall-1"]
    assert {r["type"] for r in recs.values()} == {"table"}
    cluster = recs["index-cluster-1"]
    assert cluster["outcome"]["EM pupils"] == {
        "0": "ok", "1": "SecondarySuppression; ", "2": "MinimumThresholdCheck; "}
    assert cluster["status"] == "fail" and cluster["properties"]["suppressed_cells"] == 2
    assert recs["index-overall-1"]["status"] == "pass"
    # the log's file holds the table as the index shows it
    shown = pd.read_csv(folder / "index-cluster-1.csv", dtype=str, keep_default_na=False)
    assert shown["EM pupils"].tolist() == ["161", "c", "c"]
    doc = lxml_html.fromstring(page.read_text(encoding="utf-8"))
    cells = [[td.text_content().strip() for td in tr.findall("td")]
             for tr in doc.xpath("//table[caption='Cluster reports']/tbody/tr")]
    assert [c[3] for c in cells] == shown["EM pupils"].tolist()
    assert [c[2] for c in cells] == shown["Schools"].tolist() == ["23"] * 3
    assert not (reports / "results.json").exists()      # never among the released files


def test_a_failed_reports_reason_is_logged_as_the_page_shows_it(tmp_path, monkeypatch):
    """The index prints a failed report's reason under its status; the checker's log had the
    status only (every word the page prints should be before the checker)."""
    monkeypatch.delenv(checker_folder.CHECKER_ENV, raising=False)
    reports = tmp_path / "reports"
    reason = ("pupils.csv: column 'em': rows 3, 9 (2 rows) hold 'maybe'; expected one of "
              "1/0, true/false, yes/no, Y/N")
    failed = RenderRecord("cluster-a", "Cluster A", "cluster", "failed", {},
                          str(reports / "html" / "cluster-a.html"), {}, error=reason)
    page = build_index([_rec("overall", "overall", "196", reports), failed],
                       reports / "index.html")
    doc = lxml_html.fromstring(page.read_text(encoding="utf-8"))
    assert doc.xpath("//pre[@class='em-error']")[0].text_content() == reason
    folder = checker_folder.log_dir(checker_folder.INDEX_LOG, reports)
    logged = pd.read_csv(folder / "index-cluster-1.csv", dtype=str, keep_default_na=False)
    assert logged["Why it failed"].tolist() == [reason]
