"""Gap analyses on published files: hand-computed figures on real files and fixtures."""

from pathlib import Path

import numpy as np
import pytest

from evaluation.exceptions import NotEstimableError
from evaluation.gaps.published import findings, gap_vs_share, published_report, unit_gaps
from evaluation.io.dfe import read_performance_tables, read_statistical_release

FIX = Path(__file__).parent / "fixtures" / "dfe"


@pytest.fixture(scope="module")
def ks2():
    return published_report("dfe-ks2-2019-la850")


@pytest.fixture(scope="module")
def sfr():
    return published_report("dfe-sfr05-2014")


def test_ks2_schools_counted_not_dropped(ks2):
    g = ks2.gaps
    assert len(g.table) == 315 and len(g.estimable) == 182
    assert int(g.status_counts()["schools"].sum()) == 315
    ref = g.reference.set_index("name")
    assert ref.loc["Hampshire", ["rate_group", "rate_other", "gap"]].tolist() == [49, 73, 24]
    assert ref.loc["National (all schools)", "gap"] == 20
    assert ks2.other_rows.set_index("what").loc[
        "special schools (not in the school analysis)", "n"] == 16
    assert ks2.n_schools == 182


def test_ks2_intervals_contain_gap_and_shrinkage_moves_towards_mean(ks2):
    e = ks2.gaps.estimable
    assert (e["gap_lower"] <= e["gap"]).all() and (e["gap"] <= e["gap_upper"]).all()
    dist_before = (e["gap"] - ks2.gaps.mean).abs()
    dist_after = (e["gap_shrunk"] - ks2.gaps.mean).abs()
    assert (dist_after <= dist_before + 1e-9).all()


def test_sfr_england_and_la_gaps(sfr):
    eng = sfr.gaps.reference.set_index("name").loc["England"]
    assert round(eng["rate_group"], 1) == 38.1 and round(eng["rate_other"], 1) == 64.8
    assert round(eng["gap"], 1) == 26.7
    assert round(eng["share"], 2) == round(100 * 84747 / (84747 + 484374), 2)
    assert len(sfr.gaps.table) == 152 and len(sfr.gaps.estimable) == 150
    na = sfr.gaps.table.set_index("name").loc["City of London", "status"]
    assert na.startswith("FSM: not applicable (denominator zero)")


def test_claim_verdicts_on_real_data(ks2, sfr):
    assert sfr.slope.verdict == "agree" and sfr.slope.upper < 0
    assert ks2.slope.n == 182 and ks2.slope.verdict in {"agree", "inconclusive"}
    assert "agree" in findings(sfr) and "26.7" not in findings(sfr)[:10]


def test_hand_computed_fixture_gaps():
    g = unit_gaps(read_performance_tables(FIX / "2021-2022_999_ks2final.csv"))
    assert g.table["gap"].tolist()[:2] == [20.0, 20.0]
    assert np.isnan(g.table["gap"][2]) and g.table["gap"][4] == 0.0
    assert g.status_counts()["schools"].sum() == 5


def _wilson(x, n, z=1.959964):
    p = x / n
    centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_newcombe_interval_hand_case():
    # Aton: 48/120 disadvantaged vs 266/380 other -> gap 30 pp; Newcombe's method 10 from the
    # two Wilson intervals, written out here independently of statsmodels.
    r = read_statistical_release(FIX / "ees_ks4_2023.csv")
    g = unit_gaps(r).table.set_index("name").loc["Aton"]
    (l1, u1), (l2, u2) = _wilson(48, 120), _wilson(266, 380)
    d = 0.70 - 0.40
    low = d - np.sqrt((0.70 - l2) ** 2 + (u1 - 0.40) ** 2)
    upp = d + np.sqrt((u2 - 0.70) ** 2 + (0.40 - l1) ** 2)
    assert g["gap"] == pytest.approx(30.0)
    assert g["gap_lower"] == pytest.approx(100 * low, abs=1e-6)
    assert g["gap_upper"] == pytest.approx(100 * upp, abs=1e-6)


def test_slope_on_exact_line():
    r = read_statistical_release(FIX / "sfr_la_2015.csv")
    s = gap_vs_share(unit_gaps(r))
    assert s.n == 3  # Aton, Beeton, Eeton; Ceeton (x) and Deeton (.) counted, not fitted


def test_errors():
    r = read_statistical_release(FIX / "sfr_la_2015.csv")
    with pytest.raises(NotEstimableError, match="no rows for measure 'NOPE'"):
        unit_gaps(r, "NOPE")
    with pytest.raises(ValueError, match=r"`source` should be one of \['dfe-ks2"):
        published_report("nope")


def test_report_charts(sfr):
    chart = sfr.share_chart()
    ax = chart.figure.axes[0]
    assert ax.get_title() and "%" in ax.get_xlabel() and "percentage points" in ax.get_ylabel()
    assert chart.caption.count("\n") == 0 and chart.alt
    d = sfr.distribution_chart()
    assert "2 local authorities without both rates" in d.caption


def test_deterministic(sfr):
    again = published_report("dfe-sfr05-2014")
    assert again.gaps.table.equals(sfr.gaps.table) and again.headline == sfr.headline
