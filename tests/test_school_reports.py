"""School reports: intervals against published examples, similar schools against an exhaustive
search, values against the DfE's own files, warm = cold HTML, incremental builds, the index."""

import csv
import io
import re

import numpy as np
import pandas as pd
import pytest
from published_data import real_dir, real_file
from school_data import DEST, KS4, small_published
from scipy.spatial.distance import cdist

from evaluation.schools.result import wilson


def test_wilson_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:857-872, example 81/263: score 0.2553-0.3662
    low, upp = wilson(np.array([81.0]), np.array([263.0]))
    assert (round(low[0] / 100, 4), round(upp[0] / 100, 4)) == (0.2553, 0.3662)


def test_gap_interval_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:873-890, method 10: 56/70 - 48/80 ->
    # 0.0524 to 0.3339; 9/10 - 3/10 -> 0.1705 to 0.8090
    from evaluation.schools.result import _destinations

    d = pd.DataFrame({"urn": ["1", "1"], "year": [2020, 2021], "n_dis": [80.0, 10.0],
                      "k_dis": [48.0, 3.0], "rate_dis": [60.0, 30.0], "n_other": [70.0, 10.0],
                      "k_other": [56.0, 9.0], "rate_other": [80.0, 90.0]})
    out = _destinations(d)
    assert out["gap_lower"].round(2).tolist() == [5.24, 17.05]
    assert out["gap_upper"].round(2).tolist() == [33.39, 80.90]


@pytest.fixture(scope="module")
def national():
    from evaluation.schools import load_schools

    return load_schools(real_dir())


def test_similar_schools_equal_an_exhaustive_search(national):
    from evaluation.schools import similar_schools
    from evaluation.schools.similar import FEATURES

    s = similar_schools(national.schools, k=20)
    x = national.schools[list(FEATURES)].dropna().astype(float).sort_index()
    z = ((x - x.mean()) / x.std(ddof=0)).to_numpy()
    dist = cdist(z, z)  # every pair, no tree
    urns = x.index.to_numpy()
    assert len(s.neighbours) == len(x) == 2970 and len(s.unmatched) == 86
    for i in range(0, len(x), 97):
        d = dist[i].copy()
        d[i] = np.inf
        expected = urns[np.lexsort((urns, d))][:20]
        assert list(s.of(urns[i])) == list(expected)
        np.testing.assert_allclose(s.neighbours.at[urns[i], "distances"], np.sort(d)[:20])


def test_school_figures_are_the_files_own(national):
    from evaluation.plan import load_plan
    from evaluation.schools import evaluate_school

    ks4 = real_file(KS4, "england_filtered.csv")
    raw = {r["URN"]: r for r in csv.DictReader(io.StringIO(ks4.read_text(encoding="utf-8-sig")))}
    dest = real_file(DEST, "2017_england_ks4-pupdest.csv")
    draw = {r["URN"]: r for r in csv.DictReader(io.StringIO(dest.read_text(encoding="utf-8-sig")))}
    res = evaluate_school("100049", load_plan(), data=national)
    a = res.attainment.set_index("measure")
    assert res.name == raw["100049"]["SCHNAME.x"] == "Haverstock School"
    assert a.at["Attainment 8", "dis"] == float(raw["100049"]["ATT8SCR_FSM6CLA1A"]) == 37.7
    assert a.at["Attainment 8", "other"] == float(raw["100049"]["ATT8SCR_NFSM6CLA1A"]) == 48.5
    d = res.destinations.set_index("year")
    assert d.at[2017, "n_dis"] == float(draw["100049"]["COHORT_DIS"])
    assert d.at[2017, "rate_dis"] == float(draw["100049"]["OVERALL_DESTPER_DIS"].rstrip("%"))
    assert list(d.index) == [2017, 2018, 2019, 2021, 2022]
    # the place among all schools counts the schools with a published gap
    pl = res.place.set_index("measure").loc["Attainment 8 gap (other minus disadvantaged)"]
    gaps = national.schools["att8_gap"].dropna()
    assert pl["all_n"] == len(gaps) and pl["all_rank"] == (gaps < 10.8 - 1e-9).sum() + 1


def test_small_destination_groups_are_suppressed(national):
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.schools import evaluate_school

    plan = load_plan()
    d = national.destinations
    small = d[(d["n_dis"] > 0) & (d["n_dis"] < plan.threshold)].iloc[0]
    res = evaluate_school(small["urn"], plan, data=national)
    html = "".join(s._repr_html_() for s in sections(res, "school"))
    table = html[html.index('id="destinations"'):html.index('id="place"')]
    row = re.search(rf"<tr><td[^>]*>{int(small['year'])}</td>(.*?)</tr>", table).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == plan.raw["disclosure"]["marker"]  # the small count itself
    assert cells[1] == plan.raw["disclosure"]["marker"]  # its rate
    assert f"{small['rate_dis']:.1f}" not in cells[:4]


def _pages_and_keys(pub):
    """Each school's page as shown (its sections' HTML, in process) and its build key."""
    from evaluation.catalog import school_specs
    from evaluation.engine.build import input_keys
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.schools import evaluate_school, load_schools

    specs = school_specs(pub)
    data, plan = load_schools(pub), load_plan()
    pages = {s.parameters["urn"]: "".join(x._repr_html_() for x in sections(
        evaluate_school(s.parameters["urn"], plan, data=data), "school")) for s in specs}
    keys = {s.parameters["urn"]: k for s, k in zip(specs, input_keys(specs).values(),
                                                     strict=True)}
    return pages, keys


def test_a_schools_key_changes_exactly_when_its_page_would(tmp_path):
    # review 17, A1: a page whose numbers change (its ranks, the medians, the number of
    # schools ranked, its similar schools and their figures) must be re-rendered, and only
    # those: the reference is each page as a fresh render shows it
    pub, urns = small_published(tmp_path / "pub", 40)
    pages, keys = _pages_and_keys(pub)
    f = pub / KS4 / "england_filtered.csv"
    f.write_text(f.read_text().replace(",37.7,48.5,", ",37.8,48.5,", 1))  # Haverstock
    pages2, keys2 = _pages_and_keys(pub)
    shown = {u for u in urns if pages[u] != pages2[u]}
    assert {u for u in urns if keys[u] != keys2[u]} == shown
    assert "100049" in shown and 1 < len(shown) < len(urns)   # not every page
    # five schools leave the file: the others' ranks and similar lists change
    fewer, _ = small_published(tmp_path / "fewer", 35)
    pages3, keys3 = _pages_and_keys(fewer)
    shown = {u for u in urns[:35] if pages[u] != pages3[u]}
    assert shown and {u for u in urns[:35] if keys[u] != keys3[u]} == shown


def test_a_schools_key_covers_what_every_page_says_of_the_table(tmp_path):
    # second review of issue 17: a school with no figures added in a new authority changed
    # "every school in the performance table (N schools in M local authorities)" on every
    # page, and a renamed table file the "Files:" line, with no key changed
    pub, urns = small_published(tmp_path / "pub", 12)
    pages, keys = _pages_and_keys(pub)
    f = pub / KS4 / "england_filtered.csv"
    rows = list(csv.reader(io.StringIO(f.read_text(encoding="utf-8"))))
    head, new = rows[0], list(rows[1])
    new[head.index("URN")], new[head.index("LEA")], new[head.index("LANAME")] = \
        "999999", "999", "Newtown"
    for col in ("ATT8SCR_FSM6CLA1A", "ATT8SCR_NFSM6CLA1A", "P8MEA_FSM6CLA1A",
                "P8MEA_NFSM6CLA1A"):
        new[head.index(col)] = "NA"                     # no gap: ranked among no one
    with f.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(new)
    pages2, keys2 = _pages_and_keys(pub)
    changed = {u for u in urns if pages[u] != pages2[u]}
    assert changed == set(urns)                         # "13 schools in 4 authorities"
    assert {u for u in urns if keys[u] != keys2[u]} == changed
    f.rename(f.with_name("england_ks4final.csv"))
    pages3, keys3 = _pages_and_keys(pub)
    assert all(pages3[u] != pages2[u] and keys3[u] != keys2[u] for u in urns)


def test_a_schools_key_ignores_how_pandas_holds_a_missing_code():
    # second review of issue 17: a missing code was None in a column with no code at all,
    # NaN once any school had one, so one school's code changed every school's key
    from evaluation.schools.data import DESTINATION_COLUMNS, SchoolData

    figures = ["pupils", "share_dis", "prior_low", "prior_high", "att8_dis", "att8_gap",
               "p8_dis", "p8_gap"]
    s = pd.DataFrame({"name": ["A", "B"], "la": "X", "phase": "secondary",
                      **{c: [1.0, 2.0] for c in figures}},
                     index=pd.Index(["1", "2"], name="urn"))
    dest = pd.DataFrame(columns=["urn", "year", *DESTINATION_COLUMNS])
    none = pd.DataFrame({"prior_low": [None, None]}, dtype=object, index=s.index)
    some = pd.DataFrame({"prior_low": pd.array([np.nan, "NA"], dtype="str")}, index=s.index)
    assert (SchoolData(s, none, dest).input_hash("1", threshold=10)
            == SchoolData(s, some, dest).input_hash("1", threshold=10))


def test_a_measure_not_published_lists_the_files_codes_only(national):
    # second review of issue 17: a group with a figure added its missing code, "nan", to the
    # other group's: Lubavitch House read "not published (NA, nan)"
    from evaluation.plan import load_plan
    from evaluation.schools import evaluate_school

    statuses = []
    for urn in national.codes.index[national.codes.notna().any(axis=1)][:60]:
        statuses += evaluate_school(urn, load_plan(), data=national).attainment["status"].tolist()
    assert statuses and not [s for s in statuses if "nan" in s.lower()]
    assert any(s.startswith("not published (") for s in statuses)


def test_school_index_is_a_searchable_sortable_table(tmp_path):
    import html as html_lib

    from evaluation.index_page import build_school_index
    from evaluation.render import RenderRecord

    recs = [RenderRecord(f"school-{u}", n, "school", "ok", {}, str(tmp_path / "html" / f"{u}.html"),
                         {"urn": u, "la": "Camden", "att8_gap": g, "pupils": "1,163",
                          "dest_gap": d, "att8_gap_rank": r, "att8_gap_ranked": 2928})
            for u, n, g, d, r in (("1", "Alpha <School>", 3.5, "c", 7), ("2", "Beta", None,
                                                                        "2.5", None))]
    recs.append(RenderRecord("school-3", "Gamma", "school", "not built", {},
                             str(tmp_path / "html" / "school-3.html")))
    html = build_school_index(recs, tmp_path / "index.html").read_text()
    text = html_lib.unescape(html)
    assert html.count("<tr class=") == 3 and "Alpha &lt;School&gt;" in html
    assert 'data-order="1163.0"' in html and "new DataTable(" in html
    # a suppressed cell sorts last; the marker, blanks and ranks are explained
    assert '<td class="num" data-order="" data-search="c">c</td>' in html
    assert ("c: withheld by this project's disclosure control, as on the school's page: the "
            "latest year's figures rest on fewer than 10 pupils, or its rates and cohorts give "
            "fewer than 10 pupils with, or without, a sustained destination") in text
    assert "A blank cell: not published, or not applicable, in the Department's file" in text
    assert "Ranks are among the 2,928 schools of the performance table" in text
    # a report not built has no page to link, and keeps its URN
    row = re.search(r'<tr class="not-built">(.*?)</tr>', html).group(1)
    assert "<a " not in row and '<td class="txt" data-order="3" data-search="3">3</td>' in row
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched from the network
    assert not re.search(r"\bimport\s*\(?\s*[\"']https?:", html)


def test_a_school_index_written_first_links_the_evaluation_once_it_is_built(tmp_path):
    # `make school-reports` then `make reports`: the school index had no link back to the
    # evaluation's index until the school reports were built again (noticed in stop 34)
    from evaluation.index_page import build_index, build_school_index
    from evaluation.render import RenderRecord

    rec = RenderRecord("school-1", "Alpha", "school", "ok", {},
                       str(tmp_path / "schools" / "html" / "school-1.html"), {"urn": "1"})
    schools = build_school_index([rec], tmp_path / "schools" / "index.html")
    assert 'href="../index.html"' not in schools.read_text()
    build_index([], tmp_path / "index.html")
    assert schools.read_text().count('<a href="../index.html">All reports</a>') == 1
    assert 'href="schools/index.html"' in (tmp_path / "index.html").read_text()
    build_index([], tmp_path / "index.html")           # once only
    assert schools.read_text().count('href="../index.html"') == 1
    # built after the evaluation's index, it links it at once
    assert 'href="../index.html"' in build_school_index(
        [rec], tmp_path / "schools" / "index.html").read_text()


def test_ipc_kernels_started_at_once_do_not_collide():
    import asyncio

    from evaluation.engine.kernels import IPCKernelManager

    async def start_all(n):
        kms = [IPCKernelManager(kernel_name="python3") for _ in range(n)]
        await asyncio.gather(*(km.start_kernel() for km in kms))
        try:
            for km in kms:
                kc = km.client()
                kc.start_channels()
                await kc.wait_for_ready(timeout=60)
                kc.stop_channels()
            return [km.ip for km in kms]
        finally:
            await asyncio.gather(*(km.shutdown_kernel(now=True) for km in kms))

    ips = asyncio.run(start_all(3))
    assert len(set(ips)) == 3


@pytest.mark.slow
def test_warm_build_equals_cold_render_and_is_incremental(tmp_path):
    from evaluation.catalog import school_specs
    from evaluation.engine.build import build
    from evaluation.render import load_records, render_report

    pub, urns = small_published(tmp_path / "pub", 3)
    specs = school_specs(pub)
    out = tmp_path / "warm"
    first = build(specs, out, workers=1, progress=False)
    assert first.counts["ok"] == 3
    cold = render_report(specs[1], tmp_path / "cold")  # a new kernel, papermill's own engine
    assert cold.status == "ok"
    assert (specs[1].html_path(out).read_bytes()
            == specs[1].html_path(tmp_path / "cold").read_bytes())
    # nothing changed: nothing rendered
    assert build(specs, out, workers=1, progress=False).skipped == [s.slug for s in specs]
    # one school's data change: the pages a fresh build would show differently, and those
    # pages as a fresh build shows them (review 17, A1; with three schools, each lists the
    # other two among its similar schools, so all three change)
    f = pub / KS4 / "england_filtered.csv"
    f.write_text(f.read_text().replace(",37.7,48.5,", ",38.7,48.5,", 1))
    again = build(school_specs(pub), out, workers=1, progress=False)
    fresh = build(school_specs(pub), tmp_path / "fresh", workers=1, progress=False)
    assert ">38.7</td>" in specs[0].html_path(out).read_text()   # as published: one decimal
    assert "school-100049" in [r["slug"] for r in again.records]
    for s in specs:
        assert s.html_path(out).read_bytes() == s.html_path(tmp_path / "fresh").read_bytes()
    assert fresh.counts["ok"] == 3
    assert [r.status for r in load_records(specs, out)] == ["ok"] * 3


@pytest.mark.slow
def test_a_full_school_build_removes_the_pages_of_schools_no_longer_in_the_file(tmp_path,
                                                                              capsys):
    """Incremental builds keep every page; a school that left the file kept its page among
    those given to readers, unlisted by the index. A full build (no --limit) removes it; a
    build of the first n schools removes nothing."""
    from evaluation.cli import main

    three, urns = small_published(tmp_path / "three", 3)
    two, _ = small_published(tmp_path / "two", 2)
    out = tmp_path / "schools"
    args = ["schools", "--reports", str(out), "--workers", "1", "--no-progress"]
    assert main([*args, "--published", str(three)]) == 0
    gone = out / "html" / f"school-{urns[2]}.html"
    assert gone.is_file()
    assert main([*args, "--published", str(two), "--limit", "2"]) == 0
    assert gone.is_file()                          # a partial build removes nothing
    assert main([*args, "--published", str(two)]) == 0
    assert not gone.is_file() and not (out / "records" / gone.with_suffix(".json").name).exists()
    assert "removed 1 report(s) no longer in the build" in capsys.readouterr().err
    assert f"school-{urns[2]}" not in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.browser
def test_school_index_filters_sorts_and_pages_in_a_browser(tmp_path):
    """The index is a DataTables widget offline: search, sort (blanks last both ways), pages."""
    import shutil

    from browser import ARGS, CHROMIUM

    if not shutil.which(CHROMIUM):
        pytest.skip("chromium not installed (make browser)")
    from playwright.sync_api import expect, sync_playwright

    from evaluation.index_page import build_school_index
    from evaluation.render import RenderRecord

    data = [("100", "Alder School", "Camden", 12.5), ("101", "Birk Hall", "Leeds", None),
            ("102", "Cedar High", "Camden", 3.0), ("103", "Damson College", "York", 20.25)]
    data += [(str(200 + i), f"Rowan {i:02d}", "Wirral", 30.0 + i) for i in range(56)]
    recs = [RenderRecord(f"school-{u}", n, "school", "ok", {},
                         str(tmp_path / "html" / f"school-{u}.html"),
                         {"urn": u, "la": la, "att8_gap": g, "dest_gap": "c" if g is None
                          else "", "dest_year": "" if g is None else "2022"})
            for u, n, la, g in data]
    path = build_school_index(recs, tmp_path / "index.html")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        requests, errors = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: (requests.append(r.request.url), r.continue_()
                                      if r.request.url.startswith(("file:", "blob:"))
                                      else r.abort()))
        page.goto(path.resolve().as_uri())
        names = page.locator("#em-schools tbody td:first-child")   # as shown: waits for it
        info = page.locator("#em-schools_wrapper .dt-info")
        expect(info).to_have_text("Schools 1 to 50 of 60")         # DataTables took over
        expect(names).to_have_count(50)                             # the first page of 60
        search = page.locator("#em-schools_wrapper input[type=search]")
        search.fill("camden")
        expect(names).to_have_text(["Alder School", "Cedar High"])
        search.fill("c")               # neither the links' markup nor the marker is searched
        expect(names).to_have_text(["Alder School", "Cedar High", "Damson College"])
        search.fill("2022")            # other columns are not searched: the box says so
        expect(names).to_have_text(["No school matches the search"])
        search.fill("")
        page.select_option("#em-schools_wrapper select", "-1")  # every school on one page
        expect(names).to_have_count(60)
        year = page.locator("#em-schools thead th", has_text="Destinations year")
        year.click()                   # a blank text cell sorts last too
        expect(year).to_have_attribute("aria-sort", "ascending")
        assert names.all_text_contents()[-1] == "Birk Hall"
        gap = page.locator("#em-schools thead th", has_text="Attainment 8 gap")
        gap.click()
        expect(names.nth(0)).to_have_text("Cedar High")
        assert names.all_text_contents()[:3] == ["Cedar High", "Alder School", "Damson College"]
        gap.click()
        expect(names.nth(0)).to_have_text("Rowan 55")
        assert names.all_text_contents()[-1] == "Birk Hall"    # blank last, descending too
        gap.click()
        expect(names.nth(0)).to_have_text("Cedar High")
        assert names.all_text_contents()[-1] == "Birk Hall"    # and ascending
        page.mouse.wheel(0, 1200)      # the header row stays in view (review 19)
        page.wait_for_function("window.scrollY > 600")
        top = page.evaluate("document.querySelector('#em-schools thead th')"
                            ".getBoundingClientRect().top")
        assert abs(top) < 1, top
        expect(page.locator("#em-how")).to_be_visible()         # how to search, with scripts
        # the inlined bundle is read as UTF-8: its formatted-number type knows the euro sign
        assert page.evaluate("""() => {
            const t = document.createElement("table"); t.id = "utf8";
            t.innerHTML = "<thead><tr><th>v</th></tr></thead><tbody><tr><td>\u20ac1,000</td>"
                + "</tr><tr><td>\u20ac20</td></tr></tbody>";
            document.body.appendChild(t);
            return window.$("#utf8").DataTable().column(0).type();
        }""") == "num-fmt"
        plain = browser.new_context(java_script_enabled=False).new_page()
        plain.goto(path.resolve().as_uri())    # without scripts: a plain table, said so
        expect(plain.locator("#em-schools tbody tr")).to_have_count(60)
        expect(plain.locator("#em-how")).to_be_hidden()
        assert "Scripts are off: every school is listed below" in plain.content()
        browser.close()
    assert not errors, errors
    assert all(u.startswith(("file:", "blob:")) for u in requests), requests


def test_destination_pupil_counts_are_whole_numbers(national):
    """Review finding: the table showed '147.0' disadvantaged pupils (Haverstock, 2017)."""
    from evaluation.plan import load_plan
    from evaluation.report.school import destinations
    from evaluation.schools import evaluate_school

    res = evaluate_school("100049", load_plan(), data=national)
    html = destinations(res)._repr_html_()
    row = re.search(r"<tr><td[^>]*>2017</td>(.*?)</tr>", html).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == "147" and cells[4] == "61"   # COHORT_DIS, COHORT_NONDIS in the file
    # 92% of 61 non-disadvantaged pupils leaves 5 without a destination: the year's rates,
    # intervals and gap are withheld (the counts stay)
    assert cells[1] == cells[5] == plan_marker()


def plan_marker():
    from evaluation.plan import load_plan

    return load_plan().raw["disclosure"]["marker"]


def test_no_shown_destination_rate_reveals_a_small_count(national):
    """A rate times its cohort must not give fewer than the threshold pupils with, or without,
    a destination (the rule of the gaps tables; the school reports showed such rates, e.g.
    92% of 61: 5 pupils without a destination). Shown rates keep one decimal."""
    from evaluation.plan import load_plan
    from evaluation.report.school import destinations
    from evaluation.schools import evaluate_school

    plan = load_plan()
    t = plan.threshold
    urns = national.destinations["urn"].drop_duplicates()
    shown = withheld = 0
    for urn in urns.iloc[::max(1, len(urns) // 12)]:
        html = destinations(evaluate_school(urn, plan, data=national))._repr_html_()
        for year, row in re.findall(r"<tr><td[^>]*>(\d{4})</td>(.*?)</tr>", html):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            for n_col, rate_col in ((0, 1), (4, 5)):
                if cells[rate_col] == plan_marker():
                    withheld += 1
                    continue
                if not cells[rate_col] or not cells[n_col]:   # not published
                    continue
                n, rate = float(cells[n_col].replace(",", "")), float(cells[rate_col])
                assert re.fullmatch(r"\d+\.\d", cells[rate_col]), cells[rate_col]
                k = round(rate / 100 * n)
                shown += 1
                assert not (0 < k < t or 0 < n - k < t), (urn, year, n, rate)
    assert shown > 0 and withheld > 0, (shown, withheld)


def test_a_withheld_destination_year_is_withheld_on_the_whole_page(national):
    """Review finding: school 100049's summary and findings quoted its 2022 destination rates
    (91% and 94% of 62: 4 pupils) and the place table its gap, while the destinations table
    withheld that year."""
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.schools import evaluate_school

    plan = load_plan()
    res = evaluate_school("100049", plan, data=national)
    html = "".join(s._repr_html_() for s in sections(res, "school"))
    assert "91% of disadvantaged" not in html and "94% of" not in html
    place = html[html.index('id="place"'):]
    row = re.search(r"<tr><td[^>]*>Sustained destinations gap[^<]*</td>(.*?)</tr>", place)
    assert row and re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[0] == plan_marker()


def _published_gaps(path, other, dis, decimals):
    """Gaps worked from the file's own text in decimal arithmetic (no binary floats)."""
    from decimal import Decimal, InvalidOperation

    out = {}
    for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
        try:
            out[r["URN"]] = float(round(Decimal(r[other]) - Decimal(r[dis]), decimals))
        except InvalidOperation:  # a code (SUPP, NE, ...): no gap
            pass
    return pd.Series(out)


def test_equal_published_gaps_rank_equal_as_pandas_min_rank(national):
    # review 17, A4: ranks rest on the gaps as published (Decimal on the file's text), ties
    # take 1 + the number of schools strictly better (pandas rank method="min")
    from evaluation.plan import load_plan
    from evaluation.report.school import index_record
    from evaluation.schools import evaluate_school

    ks4 = real_file(KS4, "england_filtered.csv")
    measures = {"Attainment 8 gap (other minus disadvantaged)":
                _published_gaps(ks4, "ATT8SCR_NFSM6CLA1A", "ATT8SCR_FSM6CLA1A", 1),
                "Progress 8 gap (other minus disadvantaged)":
                _published_gaps(ks4, "P8MEA_NFSM6CLA1A", "P8MEA_FSM6CLA1A", 2)}
    ranks = {m: g.rank(method="min").astype(int) for m, g in measures.items()}
    a8 = measures["Attainment 8 gap (other minus disadvantaged)"]
    # Haverstock and William Ellis: 10.8 both, 48.5-37.7 and 55.1-44.3 in binary floats differ
    tied = sorted(a8.index[a8 == 10.8])[:2] + sorted(a8.index)[::150]
    plan = load_plan()
    for urn in tied:
        res = evaluate_school(urn, plan, data=national)
        pl = res.place.set_index("measure")
        for m, r in ranks.items():
            if urn in r.index:
                assert pl.at[m, "all_rank"] == r[urn], (urn, m)
                assert pl.at[m, "all_median"] == pytest.approx(measures[m].median(), abs=1e-9)
        assert index_record(res)["att8_gap_rank"] == ranks[
            "Attainment 8 gap (other minus disadvantaged)"].get(urn)
    assert len({int(ranks["Attainment 8 gap (other minus disadvantaged)"][u])
                for u in tied[:2]}) == 1


def test_the_index_destinations_gap_is_the_pages_latest_year_cell(national):
    # review 17, A9: Thomas More Catholic School (101821) has its 2022 gap withheld; the
    # index showed its 2017 gap (11.0) with no year, beside other schools' 2022 gaps
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.report.school import index_record
    from evaluation.schools import evaluate_school

    plan = load_plan()
    for urn in ["101821", "100049", *national.schools.index[::300]]:
        res = evaluate_school(urn, plan, data=national)
        page = "".join(s._repr_html_() for s in sections(res, "school"))
        place = page[page.index('id="place"'):page.index('id="similar"')]
        row = re.search(r"<tr><td[^>]*>Sustained destinations gap, latest year \(pp\)</td>"
                        r"<td[^>]*>(.*?)</td>", place).group(1)
        rec = index_record(res)
        latest = national.destinations.loc[national.destinations["urn"] == urn, "year"].max()
        if row == plan.raw["disclosure"]["marker"] or rec["dest_gap"] == "":
            assert rec["dest_gap"] == row, urn
        else:
            assert float(rec["dest_gap"]) == pytest.approx(float(row), abs=0.05), urn
        assert rec["dest_year"] == (None if pd.isna(latest) else str(latest)), urn
    assert index_record(evaluate_school("101821", plan, data=national))["dest_gap"] == \
        plan.raw["disclosure"]["marker"]


def test_the_latest_destinations_gap_reads_the_same_in_the_table_the_place_and_the_index(
        national):
    """Reviews 18 and 19: one figure, one marker. Camden School for Girls (100054): SUPP for
    2022, cohorts of 31 and 93, nothing withheld: blank in all three (it was "c" in the place
    table and the index). 102852 and 139773: SUPP with a disadvantaged cohort under 10, and
    136391: a cohort of 0: "c" in the destinations table, and blank in the other two (which
    also told a reader the cohort was 1-5 where the index showed blank, 6-9 where "c").
    Haverstock (100049): withheld by the rate rule: "c" in all three."""
    from evaluation.plan import load_plan
    from evaluation.report.school import destinations_table, index_record, place
    from evaluation.schools import evaluate_school
    from evaluation.schools.result import destination_gap_shown

    plan = load_plan()
    mark = plan.raw["disclosure"]["marker"]
    expected = {"100054": "", "102852": mark, "139773": mark, "136391": mark, "100049": mark}
    seen = set()
    for urn in [*expected, *national.schools.index[::40]]:
        res = evaluate_school(urn, plan, data=national)
        if not len(res.destinations):
            continue
        table = destinations_table(res).frame.iloc[-1]["Gap (pp)"]
        shown = place(res).parts[0].frame.set_index("Measure").at[
            "Sustained destinations gap, latest year (pp)", "This school"]
        indexed = index_record(res)["dest_gap"]
        assert table == shown == indexed or (table not in ("", mark) and float(table) ==
                                             pytest.approx(float(indexed), abs=0.5)
                                             and shown not in ("", mark)), urn
        assert expected.get(urn, table) == table, urn
        # the ranks among all schools count a school's gap exactly where its page shows it
        latest = res.destinations[res.destinations["year"] == res.destinations["year"].max()]
        assert bool(destination_gap_shown(latest, plan.threshold).any()) == (
            table not in ("", mark)), urn
        seen.add("c" if table == mark else "blank" if table == "" else "number")
    assert seen == {"c", "blank", "number"}


def test_rank_1_is_called_the_smallest_gap_not_the_narrowest(national):
    # review 18: Scarborough UTC (142884), disadvantaged pupils 9.1 points ahead, ranks 1
    # "(1 = narrowest)", and Northolt (101943), a gap of 0.0, ranks 41
    import html as html_lib

    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.report.school import index_record
    from evaluation.schools import evaluate_school

    plan = load_plan()
    ahead, level = (evaluate_school(u, plan, data=national) for u in ("142884", "101943"))
    assert float(index_record(ahead)["att8_gap"]) < 0 == float(index_record(level)["att8_gap"])
    assert index_record(ahead)["att8_gap_rank"] < index_record(level)["att8_gap_rank"]
    page = html_lib.unescape("".join(s._repr_html_() for s in sections(ahead, "school")))
    assert "narrowest" not in page
    assert "(1 = the smallest gap; a negative gap, disadvantaged pupils ahead, ranks before a " \
        "gap of 0)" in page
    # review 19: the summary said "scored -9.1 Attainment 8 points below other pupils"
    assert "scored 9.1 Attainment 8 points above other pupils" in page
    assert "a gap of -9.1 points (disadvantaged pupils ahead)" in page
    page = html_lib.unescape("".join(s._repr_html_() for s in sections(level, "school")))
    assert "scored the same Attainment 8 average as other pupils, to 0.1 points" in page


def test_a_gap_that_rounds_to_zero_never_reads_minus_zero(national):
    # a gap of -0.04 (other pupils 40.0, disadvantaged 40.04) read "a gap of -0.0 points" on
    # its page; the tables said 0.0 (noticed in stop 35)
    import html as html_lib
    from dataclasses import replace

    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.report.school import index_record
    from evaluation.schools import evaluate_school

    urn = national.schools.index[0]
    schools = national.schools.copy()
    schools.loc[urn, ["att8_dis", "att8_other", "att8_gap"]] = [40.04, 40.0, -0.04]
    res = evaluate_school(urn, load_plan(), data=replace(national, schools=schools))
    page = html_lib.unescape("".join(s._repr_html_() for s in sections(res, "school")))
    assert "a gap of 0.0 points." in page
    assert not re.search(r"-0\.0(?![0-9])|-0(?![.0-9])", re.sub(r"<[^>]+>", " ", page))
    assert index_record(res)["att8_gap"] == "0.0"


def test_an_la_table_of_another_year_says_what_it_ranks_among_and_its_year():
    # review 17, A8: `schools --source dfe-ks4-2017-la936` said "every school in England",
    # "2022/23" and printed the LEA code 936 as if it were the local authority's name
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.report.school import index_record
    from evaluation.schools import evaluate_school, load_schools

    src = real_file("dfe-ks4-2017-la936", "2016-2017_936_ks4final.csv")
    raw = [r for r in csv.DictReader(io.StringIO(src.read_text(encoding="utf-8-sig")))
           if r["URN"].strip() and r["RECTYPE"] == "1"]
    data = load_schools(real_dir(), "dfe-ks4-2017-la936")
    assert len(data.schools) == len(raw)
    res = evaluate_school(raw[0]["URN"], load_plan(), data=data)
    page = "".join(s._repr_html_() for s in sections(res, "school"))
    assert "England" not in page.replace("Open Government Licence", "")
    assert "2022/23" not in page and "Attainment and progress, 2016/17" in page  # the file's name
    assert "LANAME" not in raw[0] and f"LA {raw[0]['LEA']}" == res.la
    assert "the file gives the local authority&#x27;s code, not its name" in page \
        or "the file gives the local authority's code, not its name" in page
    assert f"{len(raw)} schools, all in LA {raw[0]['LEA']}" in page
    assert index_record(res)["la"] == f"LA {raw[0]['LEA']}"


def test_a_school_without_similar_schools_is_not_compared_with_0(national):
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.schools import evaluate_school, similar_schools

    plan = load_plan()
    # review 17, C: "compared with ... its 0 most similar schools"
    alone = similar_schools(national.schools).unmatched[0]
    res = evaluate_school(alone, plan, data=national)
    assert res.similar.empty
    page = "".join(s._repr_html_() for s in sections(res, "school"))
    assert "0 most similar" not in page
    assert "compared with every school in the performance table" in page
    assert "and with no similar schools (the file lacks this school" in page


def test_the_two_indexes_link_each_other_when_both_are_built(tmp_path):
    # review of issue 17: the main index had no link to the school reports' index
    from evaluation.index_page import build_index, build_school_index

    main, schools = tmp_path / "index.html", tmp_path / "schools" / "index.html"
    assert 'href="schools/index.html"' not in build_index([], main).read_text()
    assert 'href="../index.html"' in build_school_index([], schools).read_text()
    assert 'href="schools/index.html"' in build_index([], main).read_text()
    other = tmp_path / "alone" / "schools" / "index.html"
    assert 'href="../index.html"' not in build_school_index([], other).read_text()


def test_a_schools_own_figures_read_as_published_in_every_table_sentence_and_the_index(
        national):
    # review 20: the attainment and place tables gave Attainment 8 to two places ("17.30"),
    # the sentences, the index and the similar-schools table to one ("17.3")
    import html as html_lib

    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.report.school import attainment, index_record, place
    from evaluation.schools import evaluate_school

    plan = load_plan()
    for urn in national.schools.index[:40:8]:
        res = evaluate_school(urn, plan, data=national)
        a = attainment(res).parts[0].frame.set_index("Measure")
        gap = index_record(res)["att8_gap"]
        if gap is None:
            continue
        assert a.at["Attainment 8", "Gap (other minus disadvantaged)"] == gap
        shown = place(res).parts[0].frame.set_index("Measure").at[
            "Attainment 8 gap (other minus disadvantaged)", "This school"]
        assert shown == gap
        page = html_lib.unescape("".join(s._repr_html_() for s in sections(res, "school")))
        assert f"a gap of {gap} points" in page
        p8 = a.at["Progress 8", "Gap (other minus disadvantaged)"]
        assert p8 == "" or len(p8.split(".")[-1]) == 2        # Progress 8: two places
