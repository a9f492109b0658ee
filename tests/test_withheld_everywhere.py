"""A count withheld in one place is withheld everywhere (review finding, issue 16): the
Ormwick cluster's summary withheld the comparison count while its findings said "compared
with 45 pupils". Every section now asks one rule (``tables.count_withheld``)."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pandas as pd
import pytest
from report_set import cluster as cluster_evaluation

from evaluation import config, output_log
from evaluation.report import sections
from evaluation.report.tables import count_withheld, marker
from evaluation.results import evaluate


def _visible(page: str) -> str:
    page = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def ormwick(plan):
    from synthetic_data import generated

    # the synthetic world of seed 4, where the review found it
    return evaluate(generated(seed=4), plan, cluster="Ormwick cluster", seed=4)


def test_the_case_of_the_finding_is_still_here(ormwick, plan):
    pe = ormwick.phases["primary"]
    # one group below the threshold, the other above: the case that leaked
    assert min(pe.sample.n_em, pe.sample.n_comparison) < plan.threshold
    assert max(pe.sample.n_em, pe.sample.n_comparison) >= plan.threshold
    assert count_withheld(ormwick, "primary", "em")
    assert count_withheld(ormwick, "primary", "comparison")


def test_a_withheld_count_is_in_no_sentence_and_no_table(ormwick, plan):
    pe = ormwick.phases["primary"]
    built = {s.anchor: s._repr_html_() for s in sections(ormwick)}
    summary = _visible(built["summary"])
    assert "a withheld number of comparison pupils" in summary
    for n in (pe.sample.n_em, pe.sample.n_comparison):
        pats = [rf"(?<![\d,.]){n:,} (EM |comparison )?pupils", rf"compared with {n:,} pupils",
                rf"(?<![\d,.]){n:,} EM pupils"]
        for anchor, page in built.items():
            text = _visible(page)
            for p in pats:
                assert not re.search(p, text), (anchor, p)
    # the matching table's cells of the withheld groups read the marker
    m = built["matching"]
    prim = m[m.find("Primary phase"):]
    table = prim[:prim.find("</table>")]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    assert f"{pe.sample.n_comparison:,}" not in cells and marker(plan) in cells
    # and the impact table's pupil columns
    imp = built["impact"]
    imp = imp[imp.find("Primary phase"):]
    table = imp[:imp.find("</table>")]
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>",
                                                                         table, flags=re.S)]
    for col in ("EM pupils", "Comparison pupils"):
        if col in heads:
            k = heads.index(col) - (len(heads) - max(len(r) for r in rows if r))
            assert {r[k] for r in rows if r} <= {marker(plan)}, (col, rows)


def test_the_overall_reports_cluster_rows_withhold_both_counts_when_either_is(
        default_evaluation, plan):
    """Review finding: two clusters' own reports withheld both counts, while the overall
    report's cluster rows printed their comparison counts (30 and 44), narrowing the EM
    counts to 4-8 and 5-9 with the cohort totals."""
    from evaluation.report.heterogeneity import heterogeneity

    m = marker(plan)
    tables = [p.frame for p in heterogeneity(default_evaluation).parts
              if getattr(p, "frame", None) is not None and "EM pupils" in p.frame]
    assert tables
    rows = 0
    for frame in tables:
        for em, comp in zip(frame["EM pupils"], frame["Comparison pupils"], strict=True):
            rows += 1
            assert (em == m) == (comp == m), (em, comp)
    assert rows > 0


def test_a_withheld_phase_prints_no_degrees_of_freedom_or_model_detail(default_data, plan):
    """Review finding (issue 14): two clusters withheld both pupil counts while their
    inference note printed "t(20)" and "t(37)" (pupils minus model terms), which with the
    overall report's totals gave the EM counts back exactly; a departure note printed a
    coefficient of a model on the withheld sample."""
    from evaluation.report.appendix import departures
    from evaluation.report.impact import impact
    from evaluation.report.tables import group_withheld

    checked = 0
    for cluster in default_data.clusters():
        res = cluster_evaluation(config.DEFAULT_SEED, cluster)
        phases = [p for p, pe in res.phases.items() if pe.estimable and group_withheld(res, p)]
        if not phases:
            continue
        text = _visible(impact(res)._repr_html_())
        assert not re.search(r"\bt\(\d", text), cluster
        assert not [d for d in departures(res) if "coefficient" in d], cluster
        # nor does the output checker's log (review: results.json held "dof": 20)
        log, _ = output_log.build(res, sections(res))
        models = {r["properties"]["phase"]: r for r in log["results"].values()
                  if r["type"] == "regression"}
        for phase in phases:
            rec = models[phase]
            assert rec["properties"]["dof"] is None, (cluster, rec)
            assert not re.search(r"dof=\d", rec["summary"]), rec["summary"]
            assert rec["status"] in ("pass", "fail")
        checked += 1
    assert checked > 0


def test_no_sentence_quotes_the_balance_of_a_withheld_row(default_data, plan):
    """Review 2 of issue 14: Secondary phase 2's balance table withheld its FSM row (4 of 22
    EM pupils are not FSM) while the summary said "FSM eligibility differs by 1.07 standard
    deviations" and the padlock table "largest standardised difference 1.07"."""
    from evaluation.balance import small_group_rows
    from evaluation.report.matching import balance_rows

    checked = 0
    for cluster in default_data.clusters():
        res = cluster_evaluation(config.DEFAULT_SEED, cluster)
        for phase, pe in res.phases.items():
            if not pe.estimable:
                continue
            rows = balance_rows(pe.balance, plan)
            small = small_group_rows(pe.balance.table, pe.sample.data, pe.match.matched_data(),
                                     plan.threshold)
            shown = {f"{abs(v):.2f}" for v in rows.loc[~small, "smd_after"]}
            hidden = {f"{abs(v):.2f}" for v in rows.loc[small, "smd_after"]} - shown
            text = _visible("".join(s._repr_html_() for s in sections(res)))
            quoted = set(re.findall(r"differs by (\d+\.\d\d) standard deviations", text))
            quoted |= set(re.findall(r"largest standardised difference (\d+\.\d\d)", text))
            assert not quoted & hidden, (cluster, phase, quoted & hidden)
            checked += bool(small.any())
    assert checked > 0


def test_a_balance_row_where_a_whole_group_shares_the_value_is_withheld():
    """Fifth review: "FSM eligibility SMD before 1.39" beside 13 EM and 74 comparison pupils
    could only be 13 of 13 EM pupils FSM (and 28 of 74): every EM pupil's FSM status. A row
    whose group has the characteristic, or lacks it, for fewer than the threshold pupils,
    none included, is withheld."""
    import pandas as pd

    from evaluation.balance import balance_table, small_group_rows

    d = pd.DataFrame({"em": [True] * 13 + [False] * 74,
                      "fsm": [1] * 13 + [1] * 28 + [0] * 46, "sen": [0] * 87,
                      "female": ([1, 0] * 44)[:87], "ks2_aps": range(87)})
    tab = balance_table(d, "em", ["fsm", "sen", "female", "ks2_aps"]).assign(stage="before")
    flags = dict(zip(tab["variable"], small_group_rows(tab, d, d, 10), strict=True))
    assert flags == {"fsm": True, "sen": True, "female": True, "ks2_aps": False}
    big = pd.concat([d] * 2, ignore_index=True).assign(
        fsm=[1, 0] * 87, sen=[1, 0, 0] * 58)
    tab = balance_table(big, "em", ["fsm", "sen"]).assign(stage="before")
    assert not small_group_rows(tab, big, big, 10).any()


def test_the_weighted_comparison_share_is_hidden_beside_a_small_stratum():
    """Sixth review: the plain and weighted comparison shares of three outcomes, with 13 EM and
    74 comparison pupils in two schools, left two splits (6 EM and 30 comparison pupils in
    one school, 7 and 44 in the other), and the gap tables' year groups picked one."""
    import pandas as pd

    from evaluation.report.flow import _small_strata

    two = pd.DataFrame({"school_id": ["a"] * 36 + ["b"] * 51, "cohort": 2010,
                        "em": [True] * 6 + [False] * 30 + [True] * 7 + [False] * 44})
    assert _small_strata(two, 10)
    big = pd.DataFrame({"school_id": ["a"] * 60 + ["b"] * 60, "cohort": 2010,
                        "em": ([True] * 20 + [False] * 40) * 2})
    assert not _small_strata(big, 10)
    one = two[two["school_id"] == "a"]        # one stratum: weighted = plain, nothing new
    assert not _small_strata(one, 10)


def test_the_overall_log_has_a_record_for_every_model_an_estimate_rests_on(
        default_evaluation, plan):
    """Review finding (issue 14): the checker's log listed the main impact models only, not
    the models behind the sensitivity table (each other matching specification, the multilevel
    model), the activities and each cluster's estimates. Each shown estimate row must have its
    regression record, with the method that fitted it and its degrees of freedom withheld."""
    res = default_evaluation
    log, _ = output_log.build(res, sections(res, "overall"))
    models = {uid: r for uid, r in log["results"].items() if r["type"] == "regression"}
    main = plan.main_spec()["name"]
    want = set()
    for phase, pe in res.phases.items():
        if pe.sensitivity is not None:
            fitted = pe.sensitivity[(pe.sensitivity["specification"] != main)
                                    & pe.sensitivity["estimate"].notna()]
            want |= {f"model-{phase}-sensitivity-{s}-{o}"
                     for s, o in zip(fitted["specification"], fitted["outcome"], strict=True)}
            assert (fitted["specification"] == "multilevel").any(), phase
        if pe.by_activity is not None:
            want |= {f"model-{phase}-activity{i}-{o}"
                     for i, (o, e) in enumerate(zip(pe.by_activity["outcome"],
                                                    pe.by_activity["estimate"], strict=True), 1)
                     if pd.notna(e)}
    assert want and want <= set(models), sorted(want - set(models))[:5]
    methods = {models[u]["properties"]["method"] for u in want}
    assert {"glm", "mixedlm", "gee"} <= methods, methods
    for uid in want:
        rec = models[uid]
        assert rec["properties"]["dof"] is None and rec["status"] in ("pass", "fail"), uid
        assert rec["summary"].startswith("MinimumDoFCheck: "), uid
    assert any(u.startswith("model-cluster") for u in models)


def test_the_design_value_log_has_a_record_for_every_model(plan):
    from evaluation.design_value import design_value

    res = design_value(plan, 3)
    log, _ = output_log.build(res, sections(res, "design_value"))
    models = [r for r in log["results"].values() if r["type"] == "regression"]
    assert len(models) == int(res.table["estimate"].notna().sum()) > 0
    assert all(r["properties"]["dof"] is None for r in models)


def test_the_overall_report_withholds_every_balance_row_a_cluster_withholds(
        default_data, default_evaluation, plan):
    """Review finding (issue 14): a balance row withheld in a cluster's report (few pupils
    having the characteristic) was shown in the overall report, whose shares are the
    clusters' pooled: with the other clusters' rows and the counts, the withheld cluster's
    share came back by subtraction. It was protected only because the overall happened to
    withhold it too."""
    from evaluation.balance import balance_row_keys
    from evaluation.report.matching import matched_comparison

    res = default_evaluation
    added = 0
    for phase, pe in res.phases.items():
        overall = dict(zip(balance_row_keys(pe.balance.table), pe.balance_withheld,
                           strict=True))
        for name in res.clusters:
            own = cluster_evaluation(config.DEFAULT_SEED, name).phases.get(phase)
            if own is None or own.balance_withheld is None:
                continue
            for key, withheld in zip(balance_row_keys(own.balance.table),
                                     own.balance_withheld, strict=True):
                if withheld:
                    assert overall.get(key, True), (phase, name, key)
                    added += 1
    assert added > 0
    html = _visible(matched_comparison(res)._repr_html_())
    assert "here or in the report of a cluster" in html


def _caliper_plan(tmp_path):
    """The default plan with its caliper specification (nearest_ps) as the main match."""
    import yaml

    from evaluation.plan import load_plan

    raw = yaml.safe_load(Path(load_plan().path).read_text())
    specs = raw["matching"]
    raw["matching"] = [s for s in specs if s["name"] == "nearest_ps"] + \
        [s for s in specs if s["name"] != "nearest_ps"]
    assert raw["matching"][0].get("caliper")
    path = tmp_path / "analysis.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_plan(path)


def _table(html: str, first: str, index: int = 0, need: str = "") -> list[list[str]]:
    """The rows (cells as text) of the ``index``-th table whose header starts with ``first``
    (and has a column ``need``)."""
    found = []
    for t in re.findall(r"<table.*?</table>", html, flags=re.S):
        rows = [[_visible(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r,
                                                         flags=re.S)]
                for r in re.findall(r"<tr[^>]*>(.*?)</tr>", t, flags=re.S)]
        if rows and rows[0] and rows[0][0].startswith(first) and (not need or need in rows[0]):
            found.append(rows)
    return found[index] if len(found) > index else []


def test_a_caliper_s_unmatched_pupils_are_counted_and_cannot_be_worked_out(
        default_data, tmp_path):
    """Review finding (issue 14): with a caliper as the main match, the matching table hid
    the 8 unmatched EM pupils of Secondary phase 1 but showed all 161, and the impact table
    showed the 153 analysed, so 161 - 153 gave them back; and no exclusions table counted
    them ("Matched and analysed: 161 EM pupils" while the model used 153). Each report must
    count the unmatched pupils among those left out, say how many were analysed, and never
    show both the phase's EM pupils and the matched ones beside a hidden unmatched count."""
    from evaluation.report.appendix import data_quality
    from evaluation.report.impact import impact
    from evaluation.report.matching import matched_comparison

    plan = _caliper_plan(tmp_path)
    m = marker(plan)
    overall = evaluate(default_data, plan, seed=7)
    checked = unmatched = 0
    for res in [overall, *(evaluate(default_data, plan, cluster=c, seed=7)
                           for c in overall.clusters if c.startswith("Secondary"))]:
        for phase, pe in res.phases.items():
            if not pe.estimable:
                continue
            counts = pe.match.counts
            # every pupil of the sample is matched, unmatched or discarded, and the last two
            # are rows of the exclusions table
            assert counts.loc["All", "Treated"] == pe.sample.n_em
            rows = {r[0]: r for r in _table(data_quality(res)._repr_html_(),
                                            f"Reason ({phase})")}
            assert any(k.startswith("not matched") for k in rows), rows.keys()
            unmatched += int(counts.loc["Unmatched", "Treated"])
            # the attack: all EM pupils shown and the matched shown (matching table or the
            # impact table's headline count) while the unmatched are hidden
            k = list(res.phases).index(phase)       # the phases' tables, in their order
            match_rows = {r[0]: r for r in _table(
                matched_comparison(res)._repr_html_(), "Sample", k)}
            col = match_rows["Sample"].index("Treated")
            shown_all = match_rows["All"][col] != m
            head = plan.label(plan.headline(phase)["name"])
            imp = {r[0]: r for r in _table(impact(res)._repr_html_(), "Outcome", k,
                                           "EM pupils")}
            em_col = imp["Outcome"].index("EM pupils")
            shown_matched = match_rows["Matched"][col] != m or imp[head][em_col] != m
            if match_rows["Unmatched"][col] == m:
                assert not (shown_all and shown_matched), (res.title, phase)
            checked += 1
    assert checked >= 3 and unmatched > 0
    # second review: the activity table's EM pupils are the matched ones; the school table's,
    # before matching, summed over the activity's schools, gave the unmatched back (18 - 17)
    t, lc, leaks = plan.threshold, overall.linked, 0
    schools = default_data.schools
    for key, n in lc.values.items():
        if key[0] != "em_activity_unmatched" or not 0 < n < t:
            continue
        leaks += 1
        _, phase, activity = key
        ids = schools.loc[(schools["em_activity"] == activity) & (schools["phase"] == phase),
                          "school_id"]
        assert lc.hidden(("em_activity_matched", phase, activity)) or any(
            lc.hidden(("em_school", s)) for s in ids), key
    assert leaks > 0
