"""Reports rendered end to end on the default data, then read as a reader would."""

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from report_set import cluster as cluster_evaluation

from evaluation import config
from evaluation.catalog import report_specs
from evaluation.engine.build import build as run
from evaluation.index_page import build_index
from evaluation.io import write_dataset
from evaluation.render import load_records, render_report
from evaluation.security import attrition_band

sys.path.insert(0, str(Path(__file__).parent))
from browser import AXE, check_page, visit  # noqa: E402
from published_data import REAL, real_dir  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]



def _pick_clusters(ds):
    s = ds.schools
    linked = s[s["em_linked"] & s["cluster"].notna() & (s["phase"] == "primary")]
    estimable = sorted(linked["cluster"].unique())[0]
    unlinked = sorted(set(s.loc[(s["phase"] == "primary") & s["cluster"].notna(), "cluster"])
                      - set(linked["cluster"]))[0]
    return estimable, unlinked


@pytest.fixture(scope="module")
def build(tmp_path_factory, default_data):
    root = tmp_path_factory.mktemp("e2e")
    data = write_dataset(default_data, root / "data")
    reports = root / "reports"
    estimable, unlinked = _pick_clusters(default_data)
    specs = report_specs(data, REAL)  # no published report when the real files are absent
    by_title = {s.title: s for s in specs}
    chosen = [specs[0], by_title[estimable], by_title[unlinked],
              *[s for s in specs if s.kind == "published"][:1]]
    # as make reports renders them (one warm kernel, results shared between reports);
    # test_same_inputs_same_numbers renders one again in a new kernel, papermill's own engine
    run(chosen, reports, workers=1, progress=False)
    records = load_records(chosen, reports)
    build_index(records, reports / "index.html")
    return {"root": root, "data": data, "reports": reports, "specs": chosen,
            "records": records}


def _needs_published(build):
    if len(build["records"]) < 4:
        real_dir()  # skips, saying where the real DfE files were looked for


def _html(build, i):
    return Path(build["records"][i].html).read_text(encoding="utf-8")


def test_all_rendered_ok(build):
    want = ["ok", "ok", "not estimable", "ok"][:len(build["records"])]
    assert [r.status for r in build["records"]] == want, \
        [(r.slug, r.status, r.error) for r in build["records"]]


def test_each_page_is_titled_with_its_report(build):
    """Review finding: every page's <title> was "Notebook" (what the tab and screen readers
    announce)."""
    import html as html_lib

    for i, spec in enumerate(build["specs"]):
        title = re.search(r"<title>(.*?)</title>", _html(build, i), flags=re.S).group(1)
        assert html_lib.unescape(title).strip() == spec.title


@pytest.mark.parametrize("i", [0, 1, 2])
def test_registered_sections_present_in_order_without_code(build, i, default_data, plan):
    """Every section the registry lists for the report's kind is on the page, in order."""
    from evaluation.report import sections

    cluster = build["specs"][i].parameters.get("cluster")
    res = cluster_evaluation(config.DEFAULT_SEED, cluster)
    anchors = [s.anchor for s in sections(res)]
    page = _html(build, i)
    positions = [page.find(f'id="{a}"') for a in anchors]
    assert all(p > 0 for p in positions), dict(zip(anchors, positions, strict=True))
    assert positions == sorted(positions)
    assert page.find('id="summary"') < page.find('id="findings"') < page.find('id="profile"')
    for code in ("em.show", "import ", "evaluate(", "record_path ="):
        assert code not in page
    assert 'class="jp-InputArea' not in page and 'class="jp-CodeMirrorEditor' not in page
    assert "Synthetic data" in page


def test_overall_shows_the_replication(build, default_data, default_evaluation):
    page = _html(build, 0)
    assert "196" in page and "4,794" in page and "11 (9 + 2)" in page
    assert "133 schools: 123 trial schools and 10 partner schools." in page
    # the page shows the library's estimate, and the known-truth table judges it honestly
    table = default_evaluation.phases["secondary"].impact.table().set_index("outcome")
    gcse = table.loc["gcse_capped_points"]
    truth = default_data.truth.set_index(["phase", "outcome"]).loc[
        ("secondary", "gcse_capped_points"), "effect"]
    known = next(t for t in _tables(page) if "Interval contains the truth" in t.columns)
    row = known[known["Outcome"].str.startswith("GCSE capped")].iloc[0]
    assert row["True effect"] == f"{truth:+.1f} points"
    assert row["Estimate (95% CI)"] == \
        f"{gcse['estimate']:+.1f} ({gcse['ci_low']:.1f} to {gcse['ci_high']:.1f})"
    assert gcse["ci_low"] <= truth <= gcse["ci_high"]
    assert row["Interval contains the truth"] == "yes"
    # every informative interval contains the truth; the two-school primary phase's
    # intervals are not informative, so they are not judged
    verdict = known.set_index("Phase")["Interval contains the truth"]
    assert (verdict["Secondary"] == "yes").all() and (verdict["Primary"] == "not judged").all()
    # the GCSE points effect is significant after Holm, no other pre-specified outcome is;
    # the primary phase's estimates are not informative and carry no p-value
    effects = [t for t in _tables(page) if "p (Holm)" in t.columns and "Outcome" in t.columns]
    holm = pd.concat(effects).drop_duplicates("Outcome").set_index("Outcome")["p (Holm)"]
    assert len(holm) == 9 and (holm == "").sum() == 4, holm
    p_holm = holm[holm != ""].map(lambda v: 0.0 if v == "<0.001" else float(v))
    is_gcse = p_holm.index.str.startswith("GCSE capped")
    assert is_gcse.sum() == 1 and (p_holm[is_gcse] < 0.05).all()
    assert (p_holm[~is_gcse] >= 0.05).all(), p_holm


def _tables(page):
    from io import StringIO

    return pd.read_html(StringIO(page), attrs={"class": "em-table"}, keep_default_na=False)


def test_not_estimable_cluster_says_why_and_keeps_other_sections(build):
    page = _html(build, 2)
    assert "Not estimable." in page
    for anchor in ("profile", "gaps", "surveys", "tracking"):
        assert f'id="{anchor}"' in page


def test_published_report_attributes_the_licence(build):
    _needs_published(build)
    page = _html(build, 3)
    assert "Open Government Licence" in page and "Department for Education" in page


def test_no_pupil_identifier_in_any_output_file(build, default_data):
    ids = set(default_data.pupils["pupil_id"]) | set(default_data.surveys["respondent_id"]) \
        | set(default_data.tracking["pupil_id"])
    token = re.compile(r"[A-Za-z0-9_\-]+")
    files = [p for p in build["reports"].rglob("*") if p.is_file()]
    assert len(files) >= 9
    for path in files:
        text = path.read_text(encoding="utf-8", errors="ignore")
        leaked = ids.intersection(token.findall(text))
        assert not leaked, f"{path.name} shows identifiers {sorted(leaked)[:5]}"


def test_index_links_every_report_with_headline_and_status(build):
    index = (build["reports"] / "index.html").read_text()
    for rec in build["records"]:
        assert f'href="html/{rec.slug}.html"' in index
    assert "status-not-estimable" in index and "status-ok" in index
    overall = build["records"][0]
    assert overall.fields["headline"] in index  # the impact table's own text (test_agreement)


NAMES = ["overall", "cluster", "unlinked", "published"]


@pytest.mark.browser
@pytest.mark.parametrize("name", ["index", *NAMES])
def test_reports_open_offline_in_chromium(build, name):
    if name == "published":
        _needs_published(build)
    reports = build["reports"]
    page = {"index": reports / "index.html"} | {
        n: Path(build["records"][i].html)
        for i, n in enumerate(NAMES[:len(build["records"])])}
    shot = reports / f"screenshot-{name}.png"
    v = visit(page[name], shot)
    assert v.blocked == [] and v.failed == [], (v.blocked, v.failed)
    assert v.console_errors == [] and v.page_errors == []
    assert v.broken_images == 0
    assert v.anchors_missing == []
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 900)
    assert len(img.getcolors(maxcolors=1 << 20) or []) > 50  # not a blank page


def test_failing_cluster_gets_error_page_index_shows_it_and_build_fails(build):
    from evaluation.render import ReportSpec

    reports = build["reports"]
    bad = ReportSpec("cluster-nowhere", "Nowhere cluster", "cluster_report.ipynb",
                     {"cluster": "Nowhere cluster", "data_dir": str(build["data"])}, "cluster")
    rec = render_report(bad, reports)
    assert rec.status == "failed" and "Nowhere cluster" in rec.error
    page = Path(rec.html).read_text()
    assert "could not be produced" in page and "logs/cluster-nowhere.log" in page
    index = build_index(load_records(build["specs"] + [bad], reports), reports / "index.html")
    assert "status-failed" in index.read_text()


def test_same_inputs_same_numbers(build):
    """A report rendered again in a new kernel (papermill's own engine) is the build's,
    byte for byte but for the time it was evaluated."""
    spec = build["specs"][1]
    again = render_report(spec, build["root"] / "again")
    strip = re.compile(r"(evaluated at \(UTC\)</td>\s*<td[^>]*>)[^<]*")
    first = strip.sub(r"\1", _html(build, 1))
    second = strip.sub(r"\1", Path(again.html).read_text())
    assert first.count("evaluated at (UTC)") == 1
    assert first == second


def test_exploration_notebook_runs_anywhere_and_gives_the_reports_numbers(build, tmp_path):
    """The researcher's notebook, run from another directory, shows the overall headline."""
    import papermill as pm

    from evaluation.engine.kernels import IPCKernelManager

    out = tmp_path / "exploration.ipynb"
    pm.execute_notebook(str(config.NOTEBOOKS_DIR / "exploration.ipynb"), str(out),
                        parameters={"data_dir": str(build["data"])}, cwd=str(tmp_path),
                        kernel_name="python3", progress_bar=False,
                        kernel_manager_class=IPCKernelManager)  # no TCP port to collide on
    import nbformat

    nb = nbformat.read(str(out), as_version=4)
    cell = next(c for c in nb.cells if "em.index_record(res)" in c.source)
    shown = cell.outputs[0]["data"]["text/plain"].strip("'\"")
    assert shown == build["records"][0].fields["headline"]


def test_no_python_or_code_names_in_visible_text(build, plan):
    """Readers never see None, NaN, a traceback, a warning class or a column name."""
    import html as html_lib

    codes = {o["name"] for phase in plan.raw["outcomes"].values() for o in phase}
    words = ["nan", "NaN", "<NA>", "Traceback", "Warning:", *sorted(codes)]
    for i, rec in enumerate(build["records"]):
        page = re.sub(r"<(style|script)\b.*?</\1>", " ", _html(build, i), flags=re.S)
        text = html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", page)))
        found = [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
        found += re.findall(r"\bNone\b(?! of)", text)  # Python's None, not "None of the..."
        found += re.findall(r"\w*Warning\b|\S+\.py:\d+", text)  # ModelWarning, file.py:97
        assert not found, (rec.slug, found)


def _visible(page: str) -> str:
    import html as html_lib

    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def test_summary_page_in_eef_form_from_the_same_results(build, default_evaluation):
    """The overall summary: months and grades, padlocks with the rule, pupils, cost, balance."""
    from evaluation.effects import months_progress
    from evaluation.report.tables import effect_text

    page = _html(build, 0)
    summary = _visible(page[page.find('id="summary"'):page.find('id="findings"')])
    pe = default_evaluation.phases["secondary"]
    head = pe.headline()
    # the impact table's own text of the headline, and its months (with the CI's months)
    assert effect_text(head).split(" ", 1)[0] + " points" in summary
    lo, hi = (int(months_progress(head[k])) for k in ("es_ci_low", "es_ci_high"))
    assert f"{int(head['months']):+d} months of additional progress" in summary
    assert f"(95% CI {lo:+d} months to {hi:+d} months)" in summary
    grades = head["estimate"] / 6  # QCA: 6 points a grade (reference/standards.md)
    assert f"about {grades:.1f} GCSE grades more" in summary
    # padlocks by the documented rule, with its inputs shown
    sec = pe.security
    assert f"{sec.padlocks} of 5 padlocks" in summary
    assert sec.padlocks == max(0, min(sec.design, sec.mdes_padlocks, sec.attrition_padlocks)
                               - len(sec.threats))
    assert f"{sec.mdes:.2f}" in summary and attrition_band(sec.attrition) in summary
    # pupils and schools as the impact table counts them
    assert f"{pe.sample.n_em:,} EM pupils and {pe.sample.n_comparison:,} comparison" in summary
    # cost on the EEF scale from the plan's funding
    c = pe.cost
    assert f"£{c.per_pupil:,.0f} per EM pupil per year ({c.symbol}, {c.rating}" in summary
    # balance fails the WWC standard here (EM pupils are chosen for FSM and low attainment):
    # the summary says so and no page calls the groups comparable
    assert sec.balance_fails and "does not meet its baseline-equivalence standard" in summary
    for i in range(len(build["records"])):
        assert "comparable" not in _visible(_html(build, i)).lower()


def test_every_outcome_has_a_confounding_sentence(build, default_evaluation):
    page = _visible(_html(build, 0))
    hidden = page[page.find("Sensitivity to hidden differences"):]
    for row in default_evaluation.phases["secondary"].impact.table().to_dict("records"):
        assert f"{row['label']}: " in hidden, row["label"]
    c = default_evaluation.phases["secondary"].confounding["gcse_capped_points"]
    assert f"{c.e_value:.2f} times as likely" in hidden


def test_glossary_explains_the_technical_words_used(build, plan):
    terms = [t.split(" (")[0] for t in plan.raw["glossary"]]
    words = ["MDES", "SMD", "Hedges' g", "Cox index", "Holm", "E-value", "Gamma", "QCA",
             "padlocks", "WWC", "odds ratio", "FSM", "EAL", "attrition"]
    for i in range(3):
        text = _visible(_html(build, i))
        body, glossary = text.rsplit("Glossary", 1)
        for w in words:
            if w.lower() in body.lower():
                assert any(w.lower() in t.lower() for t in terms), w


def test_no_snake_case_code_name_in_visible_text(build):
    for i, rec in enumerate(build["records"]):
        text = _visible(re.sub(r"<svg\b.*?</svg>", " ", _html(build, i), flags=re.S))
        codes = re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)
        assert not codes, (rec.slug, sorted(set(codes))[:10])


#: Page weight limits (issue 16): a cluster report under 400 KB, the overall under 1.2 MB.
WEIGHT = {"overall": 1_200_000, "cluster": 400_000, "unlinked": 400_000}


@pytest.mark.browser
@pytest.mark.parametrize("name", NAMES)
def test_reports_are_light_legible_printable_and_accessible(build, name):
    """Page weight, no overlapping text in any figure, alt text, axe-core, A4 pages."""
    if name == "published":
        _needs_published(build)
    assert AXE.exists(), f"axe-core is missing at {AXE}: run `make axe`"
    path = Path(build["records"][NAMES.index(name)].html)
    if name in WEIGHT:
        assert path.stat().st_size < WEIGHT[name], path.stat().st_size
    check = check_page(path, pdf=name == "overall")
    assert check.figures >= 1 and check.text_boxes > 10
    assert check.unlabelled_figures == 0
    assert check.overlaps == [], check.overlaps[:5]
    assert check.outside == [], check.outside[:5]
    serious = [v for v in check.violations if v[1] in ("serious", "critical")]
    assert serious == [], serious
    if name == "overall":
        assert 0 < check.pdf_pages < 30, check.pdf_pages
