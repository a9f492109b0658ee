"""Every number a report publishes has an entry in the output checker's log.

The rendered report (the HTML of its sections, as the notebook displays them) is read as a
reader gets it: every piece of text holding a digit (a table cell, a paragraph, a box of the
flow diagram, the summary page, a figure's caption, an accessible name read aloud) is listed
with its section. Each must be found in the log that the build writes
(:mod:`evaluation.output_log`): a table cell among the cells of a table record of its section,
a table's footnote among its record's comments, any other text in the published text of a
record of its section; and each record names the rules applied and their outcome. Figures'
SVG tick labels are the drawn data, which the figure's record holds as its file.
"""

import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from synthetic_data import generated

from evaluation import output_log
from evaluation.plan import load_plan
from evaluation.report import sections
from evaluation.results import evaluate

pytestmark = pytest.mark.slow

VOID = {"br", "img", "hr", "meta", "input", "link", "col", "path", "use", "rect", "circle",
        "line", "polyline", "polygon", "stop"}


class _Published(HTMLParser):
    """(section anchor, where, text) of every text with a digit in the rendered report."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.section, self.found = [], None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id")
        label = attrs.get("aria-label")
        if label and re.search(r"\d", label) and "svg" not in self.stack:
            self.found.append((self.section, "label", label.strip()))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        text = re.sub(r"\s+", " ", data).strip()
        if not text or not re.search(r"\d", text) or "svg" in self.stack \
                or "style" in self.stack:
            return
        where = "cell" if ("td" in self.stack or "th" in self.stack) else \
            "details" if "summary" in self.stack else "text"
        self.found.append((self.section, where, text))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    res = evaluate(generated(seed=1), load_plan(), cluster="Secondary phase 1", seed=1)
    secs = sections(res)
    folder = tmp_path_factory.mktemp("checker")
    log = json.loads(output_log.write(folder, res, secs).read_text())
    parser = _Published()
    parser.feed("\n".join(s._repr_html_() for s in secs))
    return secs, log, folder, parser.found


def test_every_number_bearing_element_has_a_log_entry(built):
    secs, log, folder, found = built
    titles = {s.anchor: s.title for s in secs}
    by_section = {}
    for uid, rec in log["results"].items():
        if rec["type"] == "regression":
            continue
        title = rec["properties"]["section"]
        entry = by_section.setdefault(title, {"cells": set(), "text": "", "rows": set()})
        if rec["type"] == "table":
            shown = pd.read_csv(folder / rec["files"][0]["name"], dtype=str,
                                keep_default_na=False)
            # a cell a spreadsheet would run as a formula is written with an apostrophe
            entry["cells"] |= {c[1:] if c.startswith("'") else c
                               for c in [*shown.to_numpy().ravel(), *shown.columns]}
            entry["rows"].add(len(shown))
            entry["text"] += " " + " ".join(rec["comments"])      # the table's footnote
        else:
            entry["text"] += " " + rec["properties"]["text"]
        # each record names the rules applied and the outcome of each
        assert rec["fair"]["checks_needed"] and rec["status"] in ("pass", "fail"), uid
        assert set(rec["fair"]["check_status"]) == set(rec["fair"]["checks_needed"]), uid
    missing = []
    for anchor, where, text in found:
        entry = by_section.get(titles.get(anchor), {"cells": set(), "text": "", "rows": set()})
        if where == "cell" and text in entry["cells"]:
            continue
        if where == "details":
            n = int(re.search(r"([\d,]+) rows", text).group(1).replace(",", ""))
            if n in entry["rows"]:
                continue
        if text in entry["text"] or text == titles.get(anchor):
            continue
        missing.append((anchor, where, text[:120]))
    assert not missing, "\n".join(map(str, missing))
    kinds = {(rec["type"], rec["properties"].get("method")) for rec in log["results"].values()}
    assert {("table", "suppress"), ("custom", "text"), ("custom", "figure")} <= kinds
    assert len(found) > 100                  # the report publishes numbers: the test reads them


def test_the_flow_diagram_and_the_summary_page_are_logged_with_their_rules(built):
    secs, log, _, _ = built
    recs = {uid: r for uid, r in log["results"].items() if r["type"] == "custom"}
    flow = [r for uid, r in recs.items() if uid.startswith("flow-text-")]
    summary = [r for uid, r in recs.items() if uid.startswith("summary-text-")]
    assert flow and summary
    for rec in flow + summary:
        assert rec["fair"]["checks_needed"] == ["MinimumThresholdCheck", "ClassDisclosureCheck"]
        assert rec["status"] == "pass", rec["summary"]
    # the flow diagram's pupil counts are each checked against the threshold
    counts = [c for r in flow for c in r["properties"]["counts"]]
    assert any("EM pupils" in c for c in counts)
    assert all(v == "ok" for r in flow for v in r["outcome"]["count"].values())


def test_a_small_count_in_text_fails_the_check():
    from evaluation.report.display import Notice, Section

    log, _ = output_log.build(None, [Section("Notes", "notes", [
        Notice("7 of 18 treated units have no control"), "There are 196 EM pupils.",
        "Every EM pupil analysed has the value 1."])])
    recs = log["results"]
    assert recs["notes-text-1"]["status"] == "fail"
    assert recs["notes-text-1"]["outcome"]["count"] == {"0": "MinimumThresholdCheck; "}
    assert recs["notes-text-2"]["status"] == "pass"
    assert recs["notes-text-3"]["fair"]["check_status"]["ClassDisclosureCheck"] == "fail"


def test_every_figure_s_file_holds_the_marks_it_draws(built):
    """A figure's record carried its caption as its file where the chart kept no data frame
    (the gap charts, tracking, surveys): a checker could not see what was drawn."""
    secs, log, folder, _ = built
    figures = [r for r in log["results"].values() if r["properties"].get("method") == "figure"]
    charts = [p for s in secs for p in s.parts if hasattr(p, "figure") and hasattr(p, "alt")]
    assert len(figures) == len([c for c in charts if re.search(r"\d", f"{c.caption} {c.alt}")])
    for rec in figures:
        frame = pd.read_csv(folder / rec["files"][0]["name"])
        assert "text" not in frame.columns and len(frame) > 0, rec["uid"]
        numeric = frame.select_dtypes("number")
        assert numeric.notna().any().any(), rec["uid"]


def test_drawn_marks_reads_a_chart_with_an_empty_interval():
    """A chart whose intervals are all withheld has an empty LineCollection (a crafted
    cluster's report failed on it: 'too many indices for array')."""
    from matplotlib.figure import Figure

    from evaluation.plots._chart import drawn_marks

    fig = Figure()
    ax = fig.subplots()
    ax.vlines([], [], [])
    ax.plot([1.0], [2.0], "o", label="EM")
    marks = drawn_marks(fig)
    assert marks[["kind", "x", "y"]].values.tolist() == [["point", 1.0, 2.0]]
