"""Each report build writes the output checker's log in ACRO's format, holding no suppressed value.

The schema is read from ``tests/fixtures/acro/results.json``: the ``results.json`` ACRO 1.0.2
itself wrote at ``finalise(..., "json")`` for the sample tables and models of
``tests/fixtures/acro/make_fixture.py``. Our log must have the same keys at every level with
the same types, cell outcomes of the same form, and, for every suppressed cell, only the
marker in the table file.
"""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from evaluation import checker_folder, output_log
from evaluation.disclosure import SafeTable
from evaluation.plan import load_plan
from evaluation.report import sections
from evaluation.results import evaluate
from evaluation.synthetic import generate

ACRO = json.loads((Path(__file__).parent / "fixtures" / "acro" / "results.json").read_text())
OUTCOME = re.compile(r"ok|(\w+; )+")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("seed1")]  # conftest.DOCTEST_GROUPS


def _type(v):
    return "number" if isinstance(v, int | float) and not isinstance(v, bool) else \
        type(v).__name__


def _schema():
    """Keys and value types of ACRO's records, by output type (``table``, ``regression``)."""
    out = {}
    for rec in ACRO["results"].values():
        if rec["type"] in ("table", "regression"):
            out.setdefault(rec["type"], {k: _type(v) for k, v in rec.items()})
    file_keys = {k for rec in ACRO["results"].values() for f in rec["files"] for k in f}
    sdc_keys = {k for rec in ACRO["results"].values() if rec["type"] == "table"
                for f in rec["files"] for k in f["sdc"]}
    fair_keys = {k for rec in ACRO["results"].values() if rec["type"] == "table"
                 for k in rec["fair"]} - {"dependent", "independent"}
    return out, file_keys, sdc_keys, fair_keys


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    res = evaluate(generate(seed=1, include_population=False), load_plan(),
                   cluster="Secondary phase 1", seed=1)
    secs = sections(res)
    folder = tmp_path_factory.mktemp("checker")
    path = output_log.write(folder, res, secs)
    return res, secs, json.loads(path.read_text()), folder


def test_the_acro_fixture_is_acros_own_log():
    assert ACRO["version"] == "1.0.2" and ACRO["tool"]["name"] == "ACRO"
    assert {r["type"] for r in ACRO["results"].values()} >= {"table", "regression"}


def test_log_has_acros_schema(built):
    _, _, log, _ = built
    records, file_keys, sdc_keys, fair_keys = _schema()
    assert set(log) == set(ACRO) and set(log["tool"]) == set(ACRO["tool"])
    assert log["version"] == ACRO["version"]
    kinds = {r["type"] for r in log["results"].values()}
    assert kinds <= {"table", "regression", "custom"} and {"table", "regression"} <= kinds
    for uid, rec in log["results"].items():
        want = records["table" if rec["type"] == "custom" else rec["type"]]
        assert {k: _type(v) for k, v in rec.items()} == want, uid
        assert rec["uid"] == uid and rec["status"] in ("pass", "fail", "review")
        assert fair_keys <= set(rec["fair"]), uid
        for f in rec["files"]:
            assert set(f) == file_keys and set(f["sdc"]) == sdc_keys, uid
        if rec["type"] == "regression":
            # a number, or None where the report withholds the model's pupils
            assert rec["properties"]["dof"] is None or isinstance(rec["properties"]["dof"], int)
            assert rec["outcome"] == {}
            assert rec["summary"].startswith("MinimumDoFCheck: ")
        for col in rec["outcome"].values():
            assert all(OUTCOME.fullmatch(v) for v in col.values()), uid
        pd.Timestamp(rec["timestamp"])


def test_log_lists_every_table_and_model_and_holds_no_suppressed_value(built):
    res, secs, log, folder = built
    tables = [(s, p) for s in secs for p in s.parts if isinstance(p, SafeTable)]
    records = [r for r in log["results"].values() if r["type"] == "table"]
    assert len(records) == len(tables) >= 5
    n_models = sum(len(p.impact.outcomes) + len(p.impact.gaps) for p in res.phases.values()
                   if p.impact is not None)
    assert sum(r["type"] == "regression" for r in log["results"].values()) == n_models > 0
    marker = res.plan.section("disclosure").get("marker", "c")
    n_hidden = 0
    for (section, table), rec in zip(tables, records, strict=True):
        shown = pd.read_csv(folder / rec["files"][0]["name"], dtype=str, keep_default_na=False)
        # the shown table, with text a spreadsheet would run as a formula made inert
        assert shown.to_numpy().tolist() == \
            output_log.spreadsheet_safe(table.frame).to_numpy().tolist()
        hidden = table.hidden.to_numpy()
        n_hidden += int(hidden.sum())
        assert rec["properties"]["suppressed_cells"] == int(hidden.sum())
        for i, j in zip(*hidden.nonzero(), strict=True):
            assert shown.iat[i, j] == marker
            value = table.values.iat[i, j]
            assert pd.isna(value)                  # nothing left to leak
        # every cell the threshold fails is hidden, unless it shows or rests on a zero
        cells = rec["files"][0]["sdc"]["cells"]
        zeros = {tuple(c) for c in cells["PresenceOfZeroCheck"]}
        for i, j in cells["MinimumThresholdCheck"]:
            assert hidden[i, j] or (i, j) in zeros, (section.anchor, i, j)
    assert n_hidden > 0, "the sample report hides nothing: the test would prove little"


def test_the_renderer_asks_for_the_log(built, tmp_path, monkeypatch):
    res, secs, _, _ = built
    monkeypatch.delenv(checker_folder.ENV, raising=False)
    assert output_log.write_requested(res, secs) is None
    stale = checker_folder.log_dir("x", tmp_path) / "results.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    with checker_folder.requested("x", tmp_path):
        assert not stale.exists()                  # an old log never outlives a new build
        path = output_log.write_requested(res, secs)
    assert path == stale.resolve() and json.loads(path.read_text())["results"]
    import os
    assert checker_folder.ENV not in os.environ


def test_the_checkers_files_hold_no_live_spreadsheet_formula(tmp_path):
    """Review finding (issue 14): a cluster named =HYPERLINK("http://x") was written as is
    into the CSV files the output checker opens in a spreadsheet."""
    from evaluation.disclosure import suppress
    from evaluation.report.display import Section

    table = suppress(pd.DataFrame({"Cluster": ['=HYPERLINK("http://x")', "@SUM(A1)", "Ash"],
                                   "Gap": ["-3.5", "+2", "1.0"], "n": [40, 50, 60]}),
                     {"n": "n"})
    output_log.write(tmp_path, None, [Section("Gaps", "gaps", [table])])
    text = (tmp_path / "gaps-1.csv").read_text()
    cells = [c for line in text.splitlines() for c in line.split(",")]
    assert not [c for c in cells if c.lstrip('"').startswith(("=", "@"))], text
    assert "-3.5" in cells and "+2" in cells        # a number stays a number
