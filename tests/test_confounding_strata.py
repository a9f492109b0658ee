"""Rosenbaum sensitivity for strata and matched sets against Rosenbaum's own R packages:
senstrat 1.0.3 (strata with several treated and controls: his homocysteine study, and a
school-like design made in R) and sensitivitymv 1.4.3 (397 matched sets of 1 treated and 2
controls). Fixtures: tests/fixtures/confounding/make_strata_fixtures.R (VERSIONS_strata)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.confounding_strata import gamma_critical_strata, mscores, senstrat, strata_gamma

HERE = Path(__file__).parent / "fixtures" / "confounding"


def _case(name):
    if name == "homocyst":
        d = pd.read_csv(HERE / "strata_homocyst_data.csv")
        return d["score"], d["z"], d["st"]
    d = pd.read_csv(HERE / "strata_school_data.csv")
    return (d["b"] if name == "school_binary" else d["score"]), d["z"], d["st"]


@pytest.mark.parametrize("name", ["homocyst", "school"])
def test_mscores_match_senstrat(name):
    d = pd.read_csv(HERE / f"strata_{name}_data.csv")
    np.testing.assert_allclose(mscores(d["y"], d["z"], d["st"]), d["score"], atol=1e-10)


@pytest.mark.parametrize("row", pd.read_csv(HERE / "strata_senstrat.csv").to_dict("records"),
                         ids=lambda r: f"{r['case']}-{r['gamma']}")
def test_bounds_match_senstrat(row):
    sc, z, st = _case(row["case"].replace("_less", "").replace("school_points", "school"))
    b = senstrat(sc, z, st, row["gamma"], row["alternative"])
    # the linear Taylor bound (senstrat's answer) and the separable approximation
    assert b.p_value == pytest.approx(row["p_linear"], rel=1e-6, abs=1e-12)
    assert b.p_separable == pytest.approx(row["p_separable"], rel=1e-6, abs=1e-12)
    assert b.statistic == pytest.approx(row["statistic"], rel=1e-9)
    assert b.variance == pytest.approx(row["variance_linear"], rel=1e-8)
    assert b.expected == pytest.approx(row["expected_linear"], rel=1e-8, abs=1e-6)
    if row["alternative"] == "greater":
        assert b.deviate == pytest.approx(row["deviate_linear"], rel=1e-6)


@pytest.mark.parametrize("row", pd.read_csv(HERE / "strata_critical.csv").to_dict("records"),
                         ids=lambda r: r["case"])
def test_critical_gamma_matches_senstrat(row):
    sc, z, st = _case(row["case"].replace("school_points", "school"))
    g = gamma_critical_strata(sc, z, st, row["alpha"], row["alternative"])
    assert g == pytest.approx(row["gamma_critical"], abs=1e-4)


@pytest.mark.parametrize("row", pd.read_csv(HERE / "strata_senmv.csv").to_dict("records"),
                         ids=lambda r: f"gamma-{r['gamma']}")
def test_one_to_k_sets_match_senmv(row):
    m = pd.read_csv(HERE / "strata_mercury_data.csv").to_numpy()
    y = m.ravel()                                    # treated, control, control per set
    z = np.tile([1, 0, 0], len(m))
    st = np.repeat(np.arange(len(m)), 3)
    b = senstrat(y, z, st, row["gamma"])
    # senmv centres each set's scores (trim=Inf), which shifts the statistic and its
    # expectation by the same constant: the deviate and P-value are what must agree
    assert b.deviate_separable == pytest.approx(row["deviate"], rel=1e-9)
    if row["pval"] > 0:
        assert b.p_separable == pytest.approx(row["pval"], rel=1e-6)
    # many small strata: the linear bound barely moves the separable answer (senstrat's note)
    assert abs(b.deviate - b.deviate_separable) < 1e-3


def test_strata_gamma_reads_matched_data_and_direction():
    d = pd.read_csv(HERE / "strata_school_data.csv").rename(columns={"st": "subclass",
                                                                     "z": "em"})
    g, k, most = strata_gamma(d, "y")
    assert g == pytest.approx(1.5946512175084, abs=1e-4)     # senstrat via uniroot
    assert k == 14 and most == d.groupby("subclass")["em"].sum().max()
    # a lower score for EM pupils: tested in that direction, the same size of bias
    flipped = d.assign(y=-d["y"])
    assert strata_gamma(flipped, "y", direction=-1)[0] == pytest.approx(g, abs=1e-4)
    # the binary outcome is tested as it is (Mantel-Haenszel)
    assert strata_gamma(d, "b")[0] == 1.0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="`gamma` should be at least 1"):
        senstrat([1.0, 0.0], [1, 0], [1, 1], 0.5)
    with pytest.raises(ValueError, match="no stratum holds both"):
        senstrat([1.0, 0.0], [1, 1], [1, 2])
    with pytest.raises(ValueError, match="`y` has 1 missing"):
        mscores([1.0, np.nan], [1, 0], [1, 1])


def test_the_report_sentence_and_the_fragile_rule_use_the_strata_gamma():
    from evaluation.confounding import OutcomeConfounding
    from evaluation.report.hidden import confounding_sentence

    def conf(g):
        return OutcomeConfounding("y", "", 1.8, 1.6, 2.0, 3.0, 2.6, float("nan"), 0, g, 16, 5)

    strong, weak = conf(2.12), conf(1.2)
    assert not strong.fragile and weak.fragile      # below 1.5 is fragile
    text = confounding_sentence("Score", strong)
    assert ("Compared within each school and cohort (16 groups with both EM and comparison "
            "pupils)") in text and "differ 2.12-fold between two pupils of the same group" in text
    assert "not statistically significant even with no hidden difference" in \
        confounding_sentence("Score", conf(1.0))


def test_degenerate_strata_are_refused_or_not_assessed():
    """Review findings: a constant outcome raised ZeroDivisionError (a report would fail);
    z = 1.7 was read as 1; a misspelt covariate was silently ignored."""
    from evaluation.confounding_strata import senstrat, strata_gamma

    with pytest.raises(ValueError, match="do not vary"):
        senstrat([1, 1, 1, 1], [1, 0, 1, 0], [1, 1, 2, 2])
    with pytest.raises(ValueError, match="0 .control. or 1"):
        senstrat([1, 2, 3, 4], [1.7, 0, 1, 0], [1, 1, 2, 2])
    flat = pd.DataFrame({"subclass": [1, 1, 2, 2], "em": [1, 0, 1, 0], "y": [3.0] * 4})
    g, k, most = strata_gamma(flat, "y")
    assert math.isnan(g) and (k, most) == (2, 1)
    with pytest.raises(ValueError, match="ks2_apz"):
        strata_gamma(flat.assign(ks2_aps=1.0), "y", covariates=["ks2_apz"])
