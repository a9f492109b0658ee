"""Outcome models: agreement with R glm + sandwich, effects, gaps, exclusions, failures."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from evaluation.exceptions import DataError, ModelWarning, NotEstimableError
from evaluation.models import ImpactResult, estimate_impacts, fit_outcome
from evaluation.multilevel import fit_multilevel, multilevel_impacts, specification_table
from evaluation.plan import Plan, load_plan

FIXTURES = Path(__file__).parent / "fixtures" / "glm"
COVARIATES = ["ks2_aps", "fsm", "female", "sen", "eal", "ethnicity"]
R_NAMES = {"(Intercept)": "const", "em": "em", "em:fsm": "em:fsm", "ks2_aps": "ks2_aps",
           "fsm": "fsm", "female": "female", "sensupport": "sen=support",
           "senstatement": "sen=statement", "eal": "eal", "ethnicityasian": "ethnicity=asian",
           "ethnicityblack": "ethnicity=black"}
OUTCOMES = [{"name": "y", "label": "Points", "family": "gaussian", "units": "points",
             "primary": True},
            {"name": "yb", "label": "Threshold", "family": "binomial",
             "units": "percentage points"}]


def _fixture_input():
    d = pd.read_csv(FIXTURES / "input.csv")
    return d.astype({c: bool for c in ["em", "fsm", "female", "eal"]})


def _dgp(seed=0, n_schools=8, n_em=15, n_comp=120, tau=3.0):
    rng = np.random.default_rng(seed)
    parts = []
    for s in range(n_schools):
        m = n_em + n_comp + s * 5          # unequal strata so weights vary
        em = np.arange(m) < n_em
        fsm = rng.random(m) < np.where(em, 0.6, 0.2)
        prior = rng.normal(27 - 2 * fsm, 4)
        parts.append(pd.DataFrame({
            "school_id": f"s{s}", "cohort": 2010, "em": em, "fsm": fsm,
            "female": rng.random(m) < 0.5,
            "sen": rng.choice(["none", "support", "statement"], m, p=[.8, .15, .05]),
            "eal": rng.random(m) < 0.1, "ethnicity": rng.choice(["white", "asian"], m),
            "ks2_aps": prior,
            "y": 100 + rng.normal(0, 3) + 4 * (prior - 27) - 5 * fsm + tau * em
            + rng.normal(0, 12, m),
            "yb": (rng.random(m) < expit(0.25 * (prior - 27) + 0.4 * em)).astype(float)}))
    df = pd.concat(parts, ignore_index=True)
    n_e = df.groupby("school_id")["em"].transform("sum")
    n_c = (~df["em"]).groupby(df["school_id"]).transform("sum")
    df["weights"] = np.where(df["em"], 1.0, n_e / n_c * (~df["em"]).sum() / df["em"].sum())
    return df


# ----------------------------------------------------------------- agreement with R

EXPECTED = pd.read_csv(FIXTURES / "expected.csv")


@pytest.mark.parametrize("model", sorted(EXPECTED["model"].unique()))
def test_agrees_with_r_glm_and_sandwich_vcovcl(model):
    family, kind = model.split("_")
    exp = EXPECTED[EXPECTED["model"] == model]
    terms = exp["term"].map(R_NAMES).tolist()
    data = _fixture_input()
    # CR2 follows clubSandwich's square root of the adjustment (Cholesky of the working
    # variance), so it agrees with weights too
    kinds = {"naive": "se_model", "CR1": "se_cr1", "CR0": "se_cr0", "CR2": "se_cr2"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for inference, column in kinds.items():
            res = fit_outcome(data, "y" if family == "gaussian" else "yb", family, COVARIATES,
                              weights=None if kind == "unweighted" else "weights",
                              inference=inference, interaction="fsm" if kind == "gap" else None)
            est = res.glm.params[terms].to_numpy()
            se = np.sqrt(np.diag(res.vcov.loc[terms, terms]))
            np.testing.assert_allclose(est, exp["estimate"], atol=1e-6, rtol=0)
            np.testing.assert_allclose(se, exp[column], atol=1e-4, rtol=0)


ROBUST = pd.read_csv(FIXTURES / "robust.csv")
KINDS = ["HC0", "HC1", "HC2", "HC3", "CR0", "CR1", "CR2", "CR3"]


@pytest.mark.parametrize("model", sorted(ROBUST["model"].unique()))
def test_hc0_hc3_cr0_cr3_and_satterthwaite_df_agree_with_sandwich_and_clubsandwich(model):
    # robust.csv: sandwich::vcovHC / vcovCL and clubSandwich::vcovCR / coef_test /
    # linear_contrast (make_robust.R). Gaussian fits agree to rounding; binomial ones to the
    # difference between R's and statsmodels' IRLS convergence (about 1e-5 relative).
    family, kind = model.split("_")
    rows = ROBUST[ROBUST["model"] == model]
    exp = rows[rows["term"] != "em+em:fsm"]
    terms = exp["term"].map(R_NAMES).tolist()
    rtol = 1e-9 if family == "gaussian" else 3e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for inference in KINDS:
            res = fit_outcome(_fixture_input(), "y" if family == "gaussian" else "yb", family,
                              COVARIATES, weights=None if kind == "unweighted" else "weights",
                              inference=inference, interaction="fsm" if kind == "gap" else None)
            np.testing.assert_allclose(res.bse[terms], exp[f"se_{inference.lower()}"],
                                       rtol=rtol, atol=0)
            if inference == "CR2":   # Bell-McCaffrey df, per coefficient and for em + em:fsm
                table = res.coef_table()
                np.testing.assert_allclose(table.loc[terms, "df"], exp["df_cr2"], rtol=rtol)
                if kind == "gap":
                    lc = rows[rows["term"] == "em+em:fsm"].iloc[0]
                    fsm = res.contrasts.set_index("term").loc["effect for FSM pupils"]
                    if family == "gaussian":   # the term is the contrast itself
                        assert fsm["estimate"] == pytest.approx(lc["estimate"], rel=1e-9)
                        assert fsm["se"] == pytest.approx(lc["se_cr2"], rel=1e-9)
                    assert fsm["df"] == pytest.approx(lc["df_cr2"], rel=rtol)
                    assert fsm["inference"] == f"CR2, t({lc['df_cr2']:.1f}) (Bell-McCaffrey)"


# ----------------------------------------------------------------- effects

def test_gaussian_effect_gap_contrasts_and_hedges_g():
    df = _dgp(1)
    res = fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR1")
    assert res.estimate == pytest.approx(res.glm.params["em"])
    treat = df["em"]
    sd = np.sqrt(((treat.sum() - 1) * df.loc[treat, "y"].var()
                  + ((~treat).sum() - 1) * df.loc[~treat, "y"].var()) / (len(df) - 2))
    omega = 1 - 3 / (4 * len(df) - 9)
    assert res.effect_size == pytest.approx(omega * res.estimate / sd)
    assert res.es_ci_low == pytest.approx(omega * res.ci_low / sd)
    assert res.es_type == "Hedges' g" and np.isnan(res.odds_ratio)
    gap = fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR1", interaction="fsm")
    b = gap.glm.params
    c = gap.contrasts.set_index("term")["estimate"]
    assert c["effect for FSM pupils"] == pytest.approx(b["em"] + b["em:fsm"])
    assert c["effect for other pupils"] == pytest.approx(b["em"])
    assert c["change in the FSM gap"] == pytest.approx(b["em:fsm"])
    v = gap.vcov
    se_fsm = np.sqrt(v.loc["em", "em"] + v.loc["em:fsm", "em:fsm"] + 2 * v.loc["em", "em:fsm"])
    assert gap.contrasts.set_index("term").loc["effect for FSM pupils", "se"] == \
        pytest.approx(se_fsm)
    # each term carries the pupils it rests on (for the change: the smaller group)
    n = gap.contrasts.set_index("term")[["n_em", "n_comparison"]]
    by = df.groupby(["fsm", "em"]).size()
    assert n.loc["effect for FSM pupils"].tolist() == [by[(True, True)], by[(True, False)]]
    assert n.loc["effect for other pupils"].tolist() == [by[(False, True)], by[(False, False)]]
    assert n.loc["change in the FSM gap"].tolist() == [min(by[(True, True)], by[(False, True)]),
                                                      min(by[(True, False)], by[(False, False)])]
    assert res.contrasts[["n_em", "n_comparison"]].iloc[0].tolist() == [
        df["em"].sum(), (~df["em"]).sum()]


def test_binomial_average_marginal_effect_odds_ratio_and_cox():
    df = _dgp(2)
    res = fit_outcome(df, "yb", "binomial", COVARIATES, inference="CR1")
    X = res.glm.model.exog.copy()
    em = res.glm.model.exog_names.index("em")
    rows = X[:, em] == 1
    x0 = X[rows].copy()
    x0[:, em] = 0
    b = res.glm.params.to_numpy()
    ame = np.mean(expit(X[rows] @ b) - expit(x0 @ b))       # EM weights are all 1
    assert res.estimate == pytest.approx(ame, rel=1e-10)
    assert res.odds_ratio == pytest.approx(np.exp(b[em]))
    n = len(df)
    assert res.effect_size == pytest.approx((1 - 3 / (4 * n - 9)) * b[em] / 1.65)
    assert res.es_type == "Cox index"
    assert res.or_ci_low < res.odds_ratio < res.or_ci_high


def test_counts_and_exclusions_are_reported_and_caller_frame_untouched():
    df = _dgp(3)
    df.loc[[0, 1, 200], "y"] = np.nan
    df.loc[5, "ks2_aps"] = np.nan
    df.loc[df.index[-1], "weights"] = 0.0
    before = df.copy()
    res = fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR1")
    pd.testing.assert_frame_equal(df, before)
    assert res.exclusions == {"missing y": 3, "missing ks2_aps": 1, "zero or missing weights": 1}
    assert res.n_em + res.n_comparison == len(df) - 5
    assert res.n_em == int(df["em"].sum()) - 3  # rows 0, 1, 5 are EM pupils of school 0
    assert res.n_schools == 8
    dup = fit_outcome(df.set_axis([0] * len(df)), "y", "gaussian", COVARIATES,
                      inference="CR1")   # a duplicated index changes nothing
    assert dup.estimate == res.estimate and dup.exclusions == res.exclusions


def test_constant_and_aliased_columns_are_dropped_as_r_reports_na():
    df = _dgp(12).assign(sen="none")
    df["fsm2"] = df["fsm"]
    res = fit_outcome(df, "y", "gaussian", [*COVARIATES, "fsm2"], inference="CR1")
    # constant columns first (sen levels, absent ethnic groups), then the aliased copy
    assert res.dropped[:2] == ("sen=support", "sen=statement") and res.dropped[-1] == "fsm2"
    assert "ethnicity=asian" in res.vcov.index and "fsm" in res.vcov.index
    df.loc[df["em"], "fsm"] = True   # every EM pupil FSM: em:fsm equals em
    with pytest.raises(NotEstimableError, match="`em:fsm` is collinear with the covariates"):
        fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR1", interaction="fsm")


def test_model_matrix_is_patsys_with_the_schemas_reference_levels():
    """build_design's dummies and centred powers, against patsy's treatment coding."""
    import patsy

    from evaluation.models import LEVELS, build_design
    df = _dgp(5).astype({"sen": "str", "ethnicity": "str"})   # text columns as pandas reads them
    df.loc[[3, 40], "ks2_aps"] = np.nan
    df["notes"] = "free text the model never reads"
    d = build_design(df, "y", [*COVARIATES, "ks2_aps^2"], interaction="fsm")
    rows = df.dropna(subset=["ks2_aps"]).reset_index(drop=True)
    sen, eth = (", ".join(repr(v) for v in LEVELS[c]) for c in ("sen", "ethnicity"))
    want = patsy.dmatrix(
        f"em + em:fsm + ks2_aps + fsm + female + C(sen, levels=[{sen}]) + eal"
        f" + C(ethnicity, levels=[{eth}]) + I((ks2_aps - ks2_aps.mean()) ** 2)",
        rows.astype({c: float for c in ("em", "fsm", "female", "eal")}),
        return_type="dataframe")
    want = want.loc[:, (want != 0).any()]   # the ethnic groups absent from these pupils
    names = {"Intercept": "const", want.columns[-1]: "ks2_aps^2"}   # patsy's names -> ours
    names |= {c: f"{c[2:c.index(',')]}={c.split('[T.')[1][:-1]}" for c in want if "[T." in c}
    want = want.rename(columns=names)
    assert d.exclusions == {"missing ks2_aps": 2}
    assert list(d.X.columns)[:3] == ["const", "em", "em:fsm"]
    assert sorted(d.X.columns) == sorted(want.columns)
    np.testing.assert_allclose(d.X.to_numpy(), want[d.X.columns].to_numpy(), rtol=1e-12)
    assert "sen=support" in d.X.columns and "notes" not in d.frame.columns
    bad = df.assign(sen=df["sen"].where(df.index != 7, "unknown level"))
    with pytest.raises(DataError, match=r"column 'sen' has values \['unknown level'\]; "
                                        r"allowed: \['none', 'support', 'statement'\]"):
        build_design(bad, "y", COVARIATES)


def test_errors_name_the_argument():
    df = _dgp(4)
    with pytest.raises(DataError, match=r"`data` lacks column\(s\) \['idaci'\]"):
        fit_outcome(df, "y", "gaussian", ["idaci"])
    with pytest.raises(ValueError, match=r"`family` should be one of \['binomial', "
                                         r"'gaussian'\]; got 'poisson'"):
        fit_outcome(df, "y", "poisson", COVARIATES)
    with pytest.raises(ValueError, match=r"`inference` should be one of .*; got 'HC4'"):
        fit_outcome(df, "y", "gaussian", COVARIATES, inference="HC4")
    with pytest.raises(DataError, match=r"binomial outcome 'y' should be 0/1"):
        fit_outcome(df, "y", "binomial", COVARIATES)


def test_perfect_separation_is_not_estimable_and_reported_in_the_table():
    df = _dgp(5)
    df["yb"] = np.where(df["em"], 1.0, df["yb"])
    with pytest.raises(NotEstimableError, match="every EM pupil analysed has the value 1 "
                                                r"\(perfect separation\)"):
        fit_outcome(df, "yb", "binomial", COVARIATES)
    impact = estimate_impacts(df, OUTCOMES, COVARIATES, random_state=1)
    t = impact.table().set_index("outcome")
    assert "perfect separation" in t.loc["yb", "note"]
    assert np.isnan(t.loc["yb", "p"]) and np.isnan(t.loc["yb", "p_holm"])
    assert t.loc["y", "p_holm"] == pytest.approx(t.loc["y", "p"])  # only one test counted


def test_one_school_falls_back_to_hc1_with_a_warning():
    df = _dgp(6, n_schools=1, n_em=30)
    with pytest.warns(ModelWarning, match="one school only"):
        res = fit_outcome(df, "y", "gaussian", ["ks2_aps"])
    assert res.inference.startswith("HC1")


def test_auto_inference_uses_the_wild_bootstrap_below_the_threshold():
    df = _dgp(7)
    assert fit_outcome(df, "y", "gaussian", COVARIATES, n_boot=99).inference.startswith(
        "wild cluster bootstrap (restricted, Webb weights, 99 reps)")
    assert fit_outcome(df, "y", "gaussian", COVARIATES, wild_below=5).inference == "CR1, t(7)"
    assert "one-step logit" in fit_outcome(df, "yb", "binomial", COVARIATES,
                                           n_boot=99).inference


def test_same_seed_same_numbers():
    df = _dgp(8)
    a = estimate_impacts(df, OUTCOMES, COVARIATES, random_state=3).table()
    b = estimate_impacts(df, OUTCOMES, COVARIATES, random_state=3).table()
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------- ImpactResult

def _plan(indicative_mdes):
    raw = load_plan().raw
    raw = {**raw, "power": {**raw["power"], "indicative_mdes": indicative_mdes}}
    return Plan(raw=raw, path="test", sha256="0")


def test_impact_table_carries_everything_and_indicative_rule_follows_plan():
    df = _dgp(9)
    impact = estimate_impacts(df, OUTCOMES, COVARIATES, plan=_plan(0.2),
                              exclusions={"prior attainment missing": 4})
    assert isinstance(impact, ImpactResult)
    t = impact.table()
    for col in ["n_em", "n_comparison", "n_schools", "estimate", "ci_low", "ci_high", "p",
                "p_holm", "effect_size", "es_ci_low", "es_ci_high", "es_type", "odds_ratio",
                "months", "mdes", "indicative", "primary", "units"]:
        assert col in t
    assert t["n_em"].tolist() == [120, 120] and t["n_schools"].tolist() == [8, 8]
    assert impact.exclusions == {"prior attainment missing": 4}
    assert (impact.n_em, impact.n_comparison, impact.n_schools) == (120, len(df) - 120, 8)
    # about 1,100 pupils in 8 schools: MDES well above 0.2, below 1
    assert (t["mdes"] > 0.2).all() and (t["mdes"] < 1).all()
    assert t["indicative"].all()
    relaxed = estimate_impacts(df, OUTCOMES, COVARIATES, plan=_plan(1.0)).table()
    assert not relaxed["indicative"].any()
    assert (t["p_holm"] >= t["p"]).all()
    gap = impact.gap_table()
    assert gap["term"].tolist()[:3] == ["effect for FSM pupils", "effect for other pupils",
                                        "change in the FSM gap"]
    assert gap[["ci_low", "ci_high", "p"]].notna().all().all()
    assert "<table" in impact._repr_html_()
    assert impact.summary()["Effect (95% CI)"].str.contains(" to ").all()


def test_multilevel_and_specification_table():
    df = _dgp(10, tau=6.0)
    ml = fit_multilevel(df, "y", "gaussian", COVARIATES, treatment="em", group="school_id",
                        weights="weights")
    glm = fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR1")
    assert ml.estimate == pytest.approx(glm.estimate, abs=1.0)     # same data, similar models
    assert ml.ci_low < ml.estimate < ml.ci_high
    gee = fit_multilevel(df, "yb", "binomial", COVARIATES, treatment="em",
                         group="school_id", weights="weights")
    assert gee.es_type == "Cox index" and -0.5 < gee.estimate < 0.5
    impact = estimate_impacts(df, OUTCOMES, COVARIATES, random_state=1)
    table = specification_table({"manchester": impact, "unweighted": estimate_impacts(
        df.assign(weights=1.0), OUTCOMES, COVARIATES, random_state=1),
        "multilevel": multilevel_impacts(df, OUTCOMES, COVARIATES, treatment="em",
                                         group="school_id", weights="weights")})
    assert table["specification"].tolist() == ["manchester", "unweighted", "multilevel"] * 2
    assert table["outcome"].tolist() == ["y"] * 3 + ["yb"] * 3


def test_few_schools_warn_and_risk_difference_cis_stay_in_range():
    df = _dgp(15, n_schools=3, n_em=8, n_comp=30)
    with pytest.warns(ModelWarning, match="only 3 schools, too few for reliable"):
        res = fit_outcome(df, "yb", "binomial", COVARIATES, n_boot=99)
    assert -1.0 <= res.ci_low <= res.estimate <= res.ci_high <= 1.0



def test_singular_information_is_not_estimable_rather_than_a_traceback(monkeypatch):
    import evaluation.models as models

    def singular(*args):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(models, "cluster_vcov", singular)
    with pytest.raises(NotEstimableError, match=r"'yb': the information matrix is singular "
                                                r"\(Singular matrix\)"):
        fit_outcome(_dgp(16), "yb", "binomial", COVARIATES, inference="CR1")
    impact = estimate_impacts(_dgp(16), OUTCOMES, COVARIATES, inference="CR1")
    assert impact.table()["note"].str.contains("information matrix is singular").all()


def test_unestimable_outcome_row_keeps_its_exact_counts_and_exclusions():
    df = _dgp(5)
    df["yb"] = np.where(df["em"], 1.0, df["yb"])  # every EM pupil succeeds: separation
    df.loc[df.index[:3], "yb"] = np.nan  # three EM pupils without the outcome
    impact = estimate_impacts(df, OUTCOMES, COVARIATES, inference="CR1")
    row = impact.table().set_index("outcome").loc["yb"]
    assert "separation" in row["note"] and np.isnan(row["estimate"])
    assert (row["n_em"], row["n_comparison"], row["n_schools"]) == (
        int(df["em"].sum()) - 3, int((~df["em"]).sum()), 8)
    assert impact.exclusions["yb: missing yb"] == 3


# ----------------------------------------------------------------- one method per model

@pytest.mark.parametrize("inference", ["wild", "CR1", "CR2", "HC1", "naive"])
@pytest.mark.parametrize("family", ["gaussian", "binomial"])
def test_every_reported_p_agrees_with_its_interval(inference, family):
    # "significant at 5%" and "interval excludes 0" agree for every term and coefficient,
    # and every term is tested by the model's own method
    outcome = "y" if family == "gaussian" else "yb"
    for seed in range(3):
        df = _dgp(20 + seed, n_schools=9, tau=2.0)
        for interaction in (None, "fsm"):
            res = fit_outcome(df, outcome, family, COVARIATES, inference=inference, n_boot=199,
                              interaction=interaction, random_state=seed)
            tables = [res.contrasts.rename(columns={"estimate": "coef"}), res.coef_table()]
            for t in tables:
                excludes = (t["ci_low"] > 0) | (t["ci_high"] < 0)
                assert ((t["p"] < 0.05) == excludes).all(), t
                assert (t["ci_low"] <= t["coef"]).all() and (t["coef"] <= t["ci_high"]).all()
            assert res.contrasts["inference"].str.split(",").str[0].nunique() == 1
            assert res.p == res.contrasts["p"].iloc[-1]
            if family == "binomial":   # p, odds-ratio and Cox-index intervals: one test
                assert (res.p < 0.05) == ((res.or_ci_low > 1) | (res.or_ci_high < 1)) or \
                    interaction
                assert -1 <= res.ci_low <= res.ci_high <= 1


def test_wild_bootstrap_subgroup_terms_are_bootstrapped_not_cr1():
    df = _dgp(30, n_schools=9)
    gap = fit_outcome(df, "y", "gaussian", COVARIATES, inference="wild", n_boot=199,
                      interaction="fsm")
    assert gap.contrasts["inference"].str.startswith("wild cluster bootstrap").all()
    # for a linear model each term's interval is estimate +/- its own bootstrap critical value
    half = (gap.contrasts["ci_high"] - gap.contrasts["ci_low"]) / 2
    np.testing.assert_allclose(half, gap.contrasts["critical"] * gap.contrasts["se"])
    assert gap.contrasts["critical"].nunique() == 3


def test_auto_records_the_switch_and_why():
    df = _dgp(31, n_schools=8)
    wild = fit_outcome(df, "y", "gaussian", COVARIATES, n_boot=99)
    assert (wild.method, wild.inference_requested) == ("wild", "auto")
    assert wild.inference_note == ("inference='auto': 8 clusters, fewer than 30, so the wild "
                                   "cluster bootstrap")
    cr1 = fit_outcome(df, "y", "gaussian", COVARIATES, wild_below=5)
    assert cr1.method == "CR1" and "at least 5" in cr1.inference_note
    asked = fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR2")
    assert asked.inference_note == "" and asked.inference.startswith("CR2, t(")
    t = estimate_impacts(df, OUTCOMES, COVARIATES, random_state=1).table()
    assert t["method"].tolist() == ["wild", "wild"]
    assert t["inference_note"].str.contains("fewer than 30").all()


def test_not_informative_rows_say_why_and_give_no_months():
    few = _dgp(32, n_schools=4, n_em=10, n_comp=40)
    with pytest.warns(ModelWarning, match="only 4 schools"):
        res = fit_outcome(few, "y", "gaussian", COVARIATES, n_boot=99)
    assert not res.informative and np.isnan(res.months)
    assert res.not_informative == ("4 clusters: fewer than the 6 the wild cluster bootstrap "
                                   "needs")
    assert not res.contrasts["informative"].any()
    # an interval wider than the outcome can range: points on a 0-2 scale
    df = _dgp(33, n_schools=9)
    res = fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR1", outcome_range=(0, 2))
    assert res.ci_high - res.ci_low > 2 and not res.informative
    assert res.not_informative.startswith("interval ") and "(0 to 2)" in res.not_informative
    assert np.isnan(res.months)
    ok = fit_outcome(df, "y", "gaussian", COVARIATES, inference="CR1",
                     outcome_range=(0, 1000))
    assert ok.informative and ok.not_informative == "" and np.isfinite(ok.months)
    # risk differences: the 0-1 range is implied
    wide = fit_outcome(_dgp(34, n_schools=9, n_em=3, n_comp=20), "yb", "binomial",
                       COVARIATES, inference="CR1")
    assert wide.outcome_range == (0.0, 1.0)
    assert wide.informative == (wide.ci_high - wide.ci_low <= 1)


def test_impact_and_gap_tables_carry_the_flags_and_plan_ranges():
    df = _dgp(35, n_schools=9)
    outcomes = [dict(OUTCOMES[0], range=[0, 2]), OUTCOMES[1]]
    impact = estimate_impacts(df, outcomes, COVARIATES, random_state=1, inference="CR1")
    t = impact.table().set_index("outcome")
    assert not t.loc["y", "informative"] and "(0 to 2)" in t.loc["y", "not_informative"]
    assert np.isnan(t.loc["y", "months"])
    assert t.loc["yb", "informative"] and t.loc["yb", "not_informative"] == ""
    gap = impact.gap_table()
    assert {"informative", "not_informative", "df"} <= set(gap.columns)
    assert not gap.loc[gap["outcome"] == "y", "informative"].any()


def test_a_formula_reads_a_quoted_column_name_and_counts_its_exclusions():
    """Review of issue 17: a column named with a space, read through patsy's Q(), was left
    out of the analysed rows (only bare names were kept), so the fit failed."""
    from evaluation.models import fit_model

    df = _dgp(37, n_schools=9).rename(columns={"ks2_aps": "prior score"})
    df.loc[[0, 1], "prior score"] = np.nan
    quoted = fit_model('y ~ em + Q("prior score") + fsm', df, treatment="em",
                       cluster="school_id", inference="CR1")
    plain = fit_model("y ~ em + prior + fsm", df.rename(columns={"prior score": "prior"}),
                      treatment="em", cluster="school_id", inference="CR1")
    assert quoted.estimate == pytest.approx(plain.estimate, rel=1e-12)
    assert quoted.exclusions == {"missing prior score": 2}
    assert plain.exclusions == {"missing prior": 2}


def test_formula_interface_matches_the_covariate_list_and_counts_exclusions():
    from evaluation.models import fit_model

    df = _dgp(36, n_schools=9)
    df.loc[[0, 1], "ks2_aps"] = np.nan
    covs = ["ks2_aps", "fsm", "female", "eal"]
    a = fit_outcome(df, "y", "gaussian", covs, inference="wild", n_boot=199, random_state=4)
    b = fit_outcome(df, formula="y ~ em + ks2_aps + fsm + female + eal", inference="wild",
                    n_boot=199, random_state=4)
    c = fit_model("y ~ em + ks2_aps + fsm + female + eal", df, treatment="em",
                  cluster="school_id", weights="weights", inference="wild", n_boot=199,
                  random_state=4)
    for r in (b, c):
        for k in ("estimate", "ci_low", "ci_high", "p"):
            assert getattr(r, k) == pytest.approx(getattr(a, k), rel=1e-10)
        assert r.exclusions == {"missing ks2_aps": 2}
    gap = fit_model("y ~ em * fsm + ks2_aps", df, treatment="em", cluster="school_id",
                    weights="weights", inference="CR1")
    ref = fit_outcome(df, "y", "gaussian", ["ks2_aps"], interaction="fsm", inference="CR1")
    pd.testing.assert_series_equal(gap.contrasts["estimate"], ref.contrasts["estimate"])
    assert gap.coef_table().index.tolist()[:2] == ["Intercept", "em"]
    assert gap.conf_int(0.1).shape == (5, 2)
    with pytest.raises(ValueError, match="does not contain the treatment 'em'"):
        fit_model("y ~ ks2_aps", df, treatment="em")
    hc = fit_model("y ~ em + ks2_aps", df, treatment="em")   # no clusters: HC1
    assert hc.method == "HC1" and "without a cluster column" in hc.inference_note


def _average_effect_in_pandas(fam, beta, X, rows, treatment, interaction, frame, weights):
    """The frame-by-frame computation average_effect replaced (issue 17), kept as reference."""
    x1 = X.loc[rows].copy()
    x0 = x1.copy()
    x1[treatment], x0[treatment] = 1.0, 0.0
    name = f"{treatment}:{interaction}"
    if interaction and name in X:
        x1[name], x0[name] = frame.loc[rows, interaction].astype(float), 0.0
    w = weights[np.asarray(rows)]
    w = w / w.sum()
    e1, e0 = x1.to_numpy() @ beta, x0.to_numpy() @ beta
    value = float(w @ (fam.mean(e1) - fam.mean(e0)))
    grad = (w * fam.dmean(e1)) @ x1.to_numpy() - (w * fam.dmean(e0)) @ x0.to_numpy()
    return value, grad


@pytest.mark.parametrize("family", ["binomial", "gaussian"])
@pytest.mark.parametrize("interaction", [None, "fsm"])
def test_average_effect_in_numpy_is_the_frame_computation_to_the_last_bit(family, interaction):
    from evaluation.models import FAMILIES, average_effect

    rng = np.random.default_rng(11)
    n, k = 2500, 18
    X = pd.DataFrame(rng.normal(size=(n, k)),
                     columns=["const", "em", "em:fsm", *[f"c{i}" for i in range(k - 3)]],
                     index=pd.RangeIndex(100, 100 + n))
    X["const"] = 1.0
    frame = pd.DataFrame({"fsm": rng.integers(0, 2, n).astype(bool)}, index=X.index)
    rows = rng.integers(0, 2, n).astype(bool)
    beta, weights = rng.normal(size=k) / 5, rng.uniform(0.5, 2.0, n)
    args = (FAMILIES[family], beta, X, rows, "em", interaction, frame, weights)
    value, grad = average_effect(*args)
    ref_value, ref_grad = _average_effect_in_pandas(*args)
    assert value == ref_value
    assert np.array_equal(grad, ref_grad)


def test_average_effect_names_a_missing_or_repeated_treatment_column():
    from evaluation.models import FAMILIES, average_effect

    X = pd.DataFrame({"const": 1.0, "x": [0.0, 1.0]})
    for bad in (X, pd.concat([X.assign(em=1.0), X.assign(em=0.0)["em"]], axis=1)):
        with pytest.raises(ValueError, match="expected columns named once each"):
            average_effect(FAMILIES["gaussian"], np.ones(bad.shape[1]), bad,
                           np.array([True, True]), "em", None, bad, np.ones(2))
    X = X.assign(em=1.0, **{"em:fsm": 0.0})
    longer = pd.DataFrame({"fsm": [True, False, True]})
    with pytest.raises(ValueError, match="`frame`: expected the rows of `X`"):
        average_effect(FAMILIES["gaussian"], np.ones(4), X, np.array([True, True]), "em",
                       "fsm", longer, np.ones(2))
