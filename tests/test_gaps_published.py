"""Gap analyses on published files: aggregate rows are references, never data.

Real-file figures were counted by hand with ``csv.reader`` (schools with both rates) or read
off the LA / national rows; the random-effects summary is checked against statsmodels'
independent DerSimonian-Laird implementation (``combine_effects``).
"""

from pathlib import Path

import numpy as np
import pytest
from published_data import real_dir, real_file
from statsmodels.stats.meta_analysis import combine_effects

from evaluation.exceptions import NotEstimableError
from evaluation.gaps.published import gap_vs_share, published_report, unit_gaps
from evaluation.io.dfe import (
    PublishedSource,
    read_ees,
    read_performance_tables,
    read_statistical_release,
)

FIX = Path(__file__).parent / "fixtures" / "dfe"


@pytest.fixture(scope="module")
def ks2():
    return published_report("dfe-ks2-2019-la850", real_dir())


@pytest.fixture(scope="module")
def ks4():
    return published_report("dfe-ks4-2017-la936", real_dir())


@pytest.fixture(scope="module")
def sfr():
    return published_report("dfe-sfr05-2014", real_dir())


def _dl(gaps):
    e = gaps.estimable
    return combine_effects(e["gap"].to_numpy(), e["_var"].to_numpy(), method_re="dl")


def test_ks2_summary_fitted_on_mainstream_schools_only(ks2):
    g = ks2.gaps
    assert set(g.table["level"]) == {"school"} and len(g.table) == 315
    assert len(g.estimable) == 182 and g.excluded == 16  # special schools: counted, left out
    assert set(g.reference["level"]) == {"LA", "national"}
    assert g.reference["gap_shrunk"].isna().all() if "gap_shrunk" in g.reference else True
    dl = _dl(g)
    assert g.mean == pytest.approx(dl.mean_effect_re, abs=1e-9)
    assert g.tau ** 2 == pytest.approx(dl.tau2, abs=1e-9)
    assert g.mean_upper - g.mean == pytest.approx(1.959964 * dl.sd_eff_w_re, abs=1e-6)
    # Before the fix the LA and two national rows (~650,000 pupils) were in the fit and
    # squeezed the spread of true gaps to 1.7 points; on schools alone it is about 12.
    assert g.tau > 10


def test_ks2_reference_rows_and_counts_are_integers(ks2):
    g = ks2.gaps
    ref = g.reference.set_index("name")
    assert ref.loc["Hampshire", ["rate_group", "rate_other", "gap"]].tolist() == [49, 73, 24]
    assert ref.loc["National (all schools)", "gap"] == 20
    assert ref.loc["Hampshire", "n_group"] == 3263  # TFSM6CLA1A of the LA row
    for frame in (g.table, g.reference):
        assert str(frame["n_group"].dtype) == "Int64" and str(frame["n_other"].dtype) == "Int64"
    assert ks2.other_rows.set_index("what").loc[
        "special schools (not in the school analysis)", "n"] == 16


def test_ks2_shrinkage_towards_the_school_mean(ks2):
    e = ks2.gaps.estimable
    assert (e["gap_lower"] <= e["gap"]).all() and (e["gap"] <= e["gap_upper"]).all()
    before, after = (e["gap"] - ks2.gaps.mean).abs(), (e["gap_shrunk"] - ks2.gaps.mean).abs()
    assert (after <= before + 1e-9).all()


def test_ks4_prefix_columns_give_a_gap_report(ks4):
    g = ks4.gaps
    assert len(g.table) == 94 and len(g.estimable) == 52 and g.excluded == 33
    ref = g.reference.set_index("name")
    assert ref.loc["LA 936", "gap"] == pytest.approx(77.9 - 48.6)
    assert ref.loc["National (maintained schools)", "gap"] == pytest.approx(71.2 - 44.3)
    assert ref.loc["National (maintained schools)", "n_group"] == 143544
    dl = _dl(g)
    assert g.mean == pytest.approx(dl.mean_effect_re, abs=1e-9)
    assert "9-4" in g.measure_label or "BASICS" in g.measure_label or "4" in g.measure_label


@pytest.fixture(scope="module")
def destinations():
    return published_report("dfe-ks4-destinations-2017-2022-national", real_dir())


def test_destinations_gap_per_school(destinations):
    r = destinations
    assert len(r.gaps.estimable) == 2767 and r.gaps.excluded == 787
    nat = r.gaps.reference.query("level == 'national'").iloc[0]
    assert (nat["rate_group"], nat["rate_other"], nat["n_group"]) == (89, 96, 146424)
    assert (r.gaps.reference["level"] == "LA").sum() == 149


def test_ees_real_file_without_breakdown_is_not_estimable_and_says_why():
    t = read_ees(real_file("dfe-ees-ks2-la-2016-2022",
                           "ks2_regional_and_local_authority_2016_to_2022_provisional.csv"))
    with pytest.raises(NotEstimableError, match="no FSM / disadvantage breakdown"):
        unit_gaps(t)


def test_ees_fixture_la_gaps_and_reference_rows():
    g = unit_gaps(read_ees(FIX / "ees_ks2_disadvantage.csv"))
    gaps = g.estimable.set_index("name")["gap"].to_dict()
    assert gaps == pytest.approx({"Aton": 30.0, "Deeton": 40.0, "Eeton": 60.0})
    assert len(g.table) == 5  # Beeton (c) and Ceeton (x) counted, not dropped
    ref = g.reference.set_index("name")["gap"].to_dict()
    assert ref == pytest.approx({"England": 25.0, "North East": 25.0})


def test_sfr_england_and_la_gaps(sfr):
    eng = sfr.gaps.reference.set_index("name").loc["England"]
    assert round(eng["gap"], 1) == 26.7
    assert len(sfr.gaps.table) == 152 and len(sfr.gaps.estimable) == 150
    na = sfr.gaps.table.set_index("name").loc["City of London", "status"]
    assert na.startswith("FSM: not applicable (denominator zero)")
    from evaluation.plan import load_plan
    from evaluation.report.published import findings
    from evaluation.results import PublishedResult

    text = findings(PublishedResult(sfr, load_plan())).parts[0].text
    assert sfr.slope.verdict == "agree" and "these data agree with" in text


def test_hand_computed_fixture_gaps():
    g = unit_gaps(read_performance_tables(FIX / "2021-2022_999_ks2final.csv"))
    assert g.table["gap"].tolist()[:2] == [20.0, 20.0]
    assert np.isnan(g.table["gap"][2]) and g.table["gap"][4] == 0.0
    assert g.status_counts()["schools"].sum() == 5
    # LA row 45% vs 66%, national 51% vs 71%: references
    assert g.reference["gap"].tolist() == [21.0, 20.0]


def _wilson(x, n, z=1.959964):
    p = x / n
    centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_newcombe_interval_hand_case():
    r = read_statistical_release(FIX / "ees_ks4_2023.csv")
    g = unit_gaps(r).table.set_index("name").loc["Aton"]
    (l1, u1), (l2, u2) = _wilson(48, 120), _wilson(266, 380)
    d = 0.70 - 0.40
    assert g["gap"] == pytest.approx(30.0)
    assert g["gap_lower"] == pytest.approx(100 * (d - np.sqrt((0.70 - l2) ** 2
                                                              + (u1 - 0.40) ** 2)), abs=1e-6)
    assert g["gap_upper"] == pytest.approx(100 * (d + np.sqrt((u2 - 0.70) ** 2
                                                              + (0.40 - l1) ** 2)), abs=1e-6)


def test_slope_counts_and_errors():
    r = read_statistical_release(FIX / "sfr_la_2015.csv")
    assert gap_vs_share(unit_gaps(r)).n == 3
    with pytest.raises(NotEstimableError, match="no rows for measure 'NOPE'"):
        unit_gaps(r, "NOPE")
    t = read_performance_tables(FIX / "2021-2022_999_ks2final.csv")
    with pytest.raises(NotEstimableError, match=r"tried \[\('NOPE_FSM6CLA1A'"):
        unit_gaps(t, "NOPE")
    with pytest.raises(ValueError, match=r"`source` should be one of"):
        published_report("nope", real_dir())


def test_analysis_module_does_not_import_plotting():
    import evaluation.gaps.published as mod

    text = Path(mod.__file__).read_text()
    assert "evaluation.plots" not in text and "matplotlib" not in text


def test_report_charts_draw_reference_lines(ks2):
    from evaluation.plots.published import gap_distribution_chart, gap_share_chart

    d = gap_distribution_chart(ks2.gaps)
    labels = [t.get_text() for t in d.figure.axes[0].get_legend().get_texts()]
    assert any("Hampshire: 24 pp" in x for x in labels)
    assert "133 schools without both rates" in d.caption
    s = gap_share_chart(ks2.gaps, ks2.slope)
    assert "%" in s.figure.axes[0].get_xlabel() and s.alt


def test_deterministic(sfr):
    again = published_report("dfe-sfr05-2014", real_dir())
    assert again.gaps.table.equals(sfr.gaps.table) and again.headline == sfr.headline


def test_report_from_a_source_object():
    src = PublishedSource("fixture", "Fixture LA 999", "performance_tables",
                          (FIX / "2021-2022_999_ks2final.csv",), "hand-made", "tests")
    r = published_report(src)
    assert r.n_schools == 3 and r.code_counts["file"].unique().tolist() == [
        "2021-2022_999_ks2final.csv"]


# ----------------------------------------------------------------------------- KS4 2022/23
# Hand figures: csv.DictReader over england_filtered.csv (3,056 rows), the gap is
# ATT8SCR_NFSM6CLA1A - ATT8SCR_FSM6CLA1A where both are numbers (2,928 schools), its mean and
# median by `statistics`, the slope by numpy.polyfit of the gap on the census's PNUMFSMEVER
# joined on URN (every one of the 2,928 found), the national share off the census's NAT row.
@pytest.fixture(scope="module")
def ks4_2023():
    return published_report("dfe-ks4-2023-national", real_dir())


def test_ks4_2023_attainment8_gap_schools_weighted_equally(ks4_2023):
    from scipy.stats import t as t_dist

    from evaluation.gaps.published import EQUAL_WEIGHTS

    g = ks4_2023.gaps
    assert len(g.table) == 3056 and len(g.estimable) == 2928
    assert g.unit == "points" and g.method == EQUAL_WEIGHTS and np.isnan(g.tau)
    assert g.mean == pytest.approx(11.896618852459016, abs=1e-9)
    assert g.estimable["gap"].median() == pytest.approx(11.9, abs=1e-9)
    half = t_dist.ppf(0.975, 2927) * 5.176259719414069 / np.sqrt(2928)
    assert (g.mean_lower, g.mean_upper) == pytest.approx((g.mean - half, g.mean + half),
                                                         abs=1e-6)
    by_urn = g.table.set_index("unit")
    assert by_urn.loc["100053", "gap"] == pytest.approx(59.2 - 34.8)  # Acland Burghley
    assert by_urn.loc["100054", "gap"] == pytest.approx(72 - 54.7)  # Camden School for Girls
    assert by_urn.loc["100053", "share"] == pytest.approx(39.6)  # census PNUMFSMEVER
    assert g.estimable["gap_lower"].isna().all() and g.estimable["gap_shrunk"].isna().all()
    statuses = g.status_counts().set_index("status")["schools"].to_dict()
    assert statuses["disadvantaged: not applicable; other: not applicable"] == 126
    assert statuses["disadvantaged: not applicable; other: published"] == 2
    assert "tau" not in " ".join(g.summary()["statistic"])


def test_ks4_2023_slope_on_the_census_share_and_its_national_row(ks4_2023):
    s = ks4_2023.slope
    assert s.n == 2928 and s.slope == pytest.approx(-1.034753453848996, abs=1e-9)
    assert s.verdict == "agree"
    ref = ks4_2023.gaps.reference
    assert ref["name"].tolist() == [   # the metadata's label, never the column code
        "England, State-funded secondary (census: percentage of pupils eligible for FSM at any "
        "time during the past 6 years)"]
    assert ref["share"].tolist() == [27.1] and ref["gap"].isna().all()  # 866,486 / 3,193,601
    other = ks4_2023.other_rows.set_index("file")
    assert other.loc["england_census.csv", "n"] == 0  # every school with a gap is in the census
    assert ks4_2023.gaps.share_label.startswith("Percentage of pupils eligible for FSM")
    assert ks4_2023.headline.startswith("Disadvantaged pupils 11.9 points behind others")
    from evaluation.plots.published import gap_share_chart

    legend = gap_share_chart(ks4_2023.gaps, s).figure.axes[0].get_legend().get_texts()
    assert "England, State-funded secondary: 27.1%" in [t.get_text() for t in legend]


def test_ks4_2023_report_reads_in_points_without_nan(ks4_2023):
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.results import PublishedResult

    built = sections(PublishedResult(ks4_2023, load_plan()), "published")
    text = " ".join(s._repr_html_() for s in built)
    assert "11.9 points behind other pupils" in text and "nan" not in text.lower().split()
    assert "Gap (points)" in text and "no cohort counts" in text
    assert "This source holds one year (2022/23)" in text


# ----------------------------------------------------------------------------- destinations
# Hand figures: csv.DictReader over each year's file: the NAT row, and RECTYPE 1 rows with both
# OVERALL_DESTPER_* as percentages and both COHORT_* positive whole numbers.
def test_destinations_trend_over_five_years(destinations):
    r = destinations
    t = r.trend.set_index("year")
    assert t.index.tolist() == ["2017", "2018", "2019", "2021", "2022"]
    assert t["units"].tolist() == [2733, 2728, 2861, 2682, 2767]
    assert t["national_n_group"].tolist() == [151400, 148780, 142045, 144025, 146424]
    assert t["national_n_other"].tolist() == [402510, 392340, 386094, 399004, 415969]
    assert t["national_group"].tolist() == [88, 88, 88, 88, 89]
    assert t["national_other"].tolist() == [96] * 5
    assert t["national_gap"].tolist() == [8, 8, 8, 8, 7]
    assert t.loc["2022", "mean"] == pytest.approx(r.gaps.mean, abs=1e-12)  # the same fit
    assert t["mean"].round(1).tolist() == [5.8, 5.7, 4.9, 5.2, 5.0]
    assert (t["mean_lower"] < t["mean"]).all() and (t["mean"] < t["mean_upper"]).all()
    from evaluation.io.dfe import read_published

    src = r.source
    older = unit_gaps(read_published(src, src.paths.index(
        next(p for p in src.paths if p.name.startswith("2017")))), "OVERALL_DESTPER")
    assert t.loc["2017", "mean"] == pytest.approx(_dl(older).mean_effect_re, abs=1e-9)


def test_destinations_report_shows_the_trend(destinations):
    from evaluation.plan import load_plan
    from evaluation.report import sections
    from evaluation.results import PublishedResult

    r = destinations
    built = {s.anchor: s for s in sections(PublishedResult(r, load_plan()), "published")}
    html_text = built["trend"]._repr_html_()
    assert "151,400" in html_text and "2021" in html_text
    findings = built["findings"]._repr_html_()
    assert ("From 2017 to 2022 the mean gap across schools went from 5.8 to 5.0 percentage "
            "points, and the national row&#x27;s gap from 8 to 7.") in findings


# ----------------------------------------------------------------------------- EES national
# Hand figures: csv.DictReader over the national characteristics file, rows with
# characteristic_group 'Disadvantage status', gender 'Total'.
def test_ees_national_characteristics_gap_by_year():
    from evaluation.io.dfe import ees_release, published_sources, read_published

    src = published_sources(real_dir()).get("dfe-ees-ks2-national-characteristics-2016-2022")
    if src is None:
        pytest.skip("dfe-ees-ks2-national-characteristics-2016-2022 not in the real folder")
    r = ees_release(read_published(src, 0), ["rwm_met_expected_standard"])
    d = r.table.query("sex == 'all' and characteristic == 'disadvantaged'").set_index(
        ["time_period", "group"])
    assert d.loc[("2015/16", "disadvantaged"), ["count", "denominator"]].tolist() == [73314,
                                                                                     186503]
    assert d.loc[("2015/16", "other"), ["count", "denominator"]].tolist() == [239339, 399077]
    assert d.loc[("2021/22", "disadvantaged"), ["count", "denominator"]].tolist() == [83312,
                                                                                     195381]
    gap = d.xs("other", level="group")["rate"] - d.xs("disadvantaged", level="group")["rate"]
    assert gap["2015/16"] == pytest.approx(100 * (239339 / 399077 - 73314 / 186503))
    assert round(gap["2018/19"], 1) == 19.5 and round(gap["2021/22"], 1) == 22.8
    # no assessments in 2019/20 and 2020/21: 'x' (not available), kept and counted
    assert d.loc[("2019/20", "disadvantaged"), "count_code"] == "x"
    assert d.loc[("2020/21", "other"), "denominator_code"] == "x"
    fsm = r.table.query("sex == 'all' and characteristic == 'fsm' and time_period == '2018/19'")
    assert fsm.set_index("group")["denominator"].to_dict() == {"FSM": 108893, "other": 535687}
    index = read_published(src, 1)
    assert index.data.set_index("time_period")["disadvantage_gap_index"].round(3)[
        "2010/11"] == 3.433
    assert index.code_counts.set_index("column")["n"].to_dict() == {
        "total_disadvantaged_pupils": 2, "total_other_pupils": 2, "disadvantage_gap_index": 2}


def test_headline_counts_have_thousands_separators(destinations):
    """Review finding: the index read 'across 2767 schools' beside a column showing 2,767."""
    assert "across 2,767 schools" in destinations.headline
