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


def test_destinations_gap_per_school():
    r = published_report("dfe-ks4-destinations-2017-2022-national", real_dir())
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
