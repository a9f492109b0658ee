"""Review finding: the summary's rule tables ("Criterion / Value / Padlocks", one per phase)
reached the output checker's log only inside the summary's text record (``custom``), not as
tables. Every table a report shows is now a table of its log: the rendered page has as many
``<table>`` elements as the log has table records, the rule tables among them."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evaluation import checker_folder, output_log
from evaluation.catalog import report_specs
from evaluation.io import write_dataset
from evaluation.render import render_report
from evaluation.report.summary import summary

pytestmark = pytest.mark.slow


class _Tables(HTMLParser):
    """Count the ``<table>`` elements of a page."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def handle_starttag(self, tag, attrs):
        self.n += tag == "table"


def _n_tables(page: str) -> int:
    parser = _Tables()
    parser.feed(page)
    return parser.n


def _table_records(log: dict) -> dict:
    return {uid: r for uid, r in log["results"].items() if r["type"] == "table"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, default_data):
    """The rendered page of the cluster "Secondary phase 1" and its checker log."""
    root = tmp_path_factory.mktemp("tables")
    data = write_dataset(default_data, root / "data")
    spec = next(s for s in report_specs(data, root / "no-published-files")
                if s.title == "Secondary phase 1")
    reports = root / "reports"
    rec = render_report(spec, reports)
    assert rec.status == "ok", rec.error
    log = json.loads((checker_folder.log_dir(spec.slug, reports) / "results.json").read_text())
    return Path(rec.html).read_text(encoding="utf-8"), log


def test_every_table_of_a_rendered_report_is_a_table_of_its_log(rendered):
    page, log = rendered
    tables = _table_records(log)
    assert _n_tables(page) == len(tables) > 10
    rule = [r for uid, r in tables.items() if uid.startswith("summary-")]
    assert len(rule) == page.count('class="em-table em-rule"') == 1
    assert list(rule[0]["outcome"]) == ["Criterion", "Value", "Padlocks"]
    assert rule[0]["comments"][0].startswith("How the security rating was worked out")


def test_the_overall_summary_logs_both_phases_rule_tables(default_evaluation):
    section = summary(default_evaluation)
    log, files = output_log.build(default_evaluation, [section])
    tables = _table_records(log)
    assert _n_tables(section._repr_html_()) == len(tables) == 2
    for uid, rec in tables.items():
        assert list(files[uid].columns) == ["Criterion", "Value", "Padlocks"]
        assert rec["fair"]["checks_needed"] and rec["status"] in ("pass", "fail")
    # the summary's text no longer carries the tables' cells
    text = " ".join(r["properties"]["text"] for r in log["results"].values()
                    if r["type"] == "custom")
    assert "Padlocks" not in text and "lowest of the first three" not in text
