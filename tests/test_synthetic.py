"""Tests of the calibrated synthetic data generator (evaluation.synthetic)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from pandas.testing import assert_frame_equal
from scipy.special import expit
from synthetic_data import generated

from evaluation import config
from evaluation.io.dataset import read_dataset, write_dataset
from evaluation.national import national_figures
from evaluation.plan import load_plan
from evaluation.schema import OUTCOMES, PRIOR, TABLES, validate
from evaluation.synthetic import SCENARIOS, _dictionary, _names, _outcomes, _population, generate

SEED = config.DEFAULT_SEED
HEADLINE = {"primary": "ks2_aps", "secondary": "gcse_capped_points"}


@pytest.fixture(scope="module")
def full():
    return generated()


@pytest.fixture(scope="module")
def em_only():
    return generate(include_population=False)


@pytest.fixture(scope="module")
def linked_all():
    return generate(include_population=False, scenario="full_linkage")


def analysable(pupils: pd.DataFrame) -> pd.Series:
    """The pipeline's rule: in a (school, cohort) stratum with an EM pupil, prior and
    headline outcome observed."""
    strata = pupils.loc[pupils["em"], ["school_id", "cohort"]].drop_duplicates()
    key = pd.MultiIndex.from_frame(pupils[["school_id", "cohort"]])
    in_stratum = key.isin(pd.MultiIndex.from_frame(strata))
    prior = np.where(pupils["phase"] == "primary", pupils[PRIOR["primary"]],
                     pupils[PRIOR["secondary"]])
    head = np.where(pupils["phase"] == "primary", pupils[HEADLINE["primary"]],
                    pupils[HEADLINE["secondary"]])
    return pd.Series(in_stratum & ~np.isnan(prior) & ~np.isnan(head), index=pupils.index)


# --- tables and schema -------------------------------------------------------------------------

def test_all_tables_pass_schema_validation(full):
    for table in TABLES:
        validate(getattr(full, table), table, f"synthetic {table}")
    assert list(full.pupils.columns) == [c.name for c in TABLES["pupils"]]


def test_meta_and_truth_columns(full):
    assert full.meta["synthetic"] is True and full.is_synthetic
    assert full.meta["scenario"] == "default" and full.meta["seed"] == SEED
    assert full.meta["generator"].startswith("evaluation.synthetic ")
    assert "ynthetic" in full.meta["description"]
    assert list(full.truth.columns) == ["phase", "outcome", "family", "coef", "effect",
                                        "coef_em_fsm", "effect_em_fsm", "bias_hidden", "rr_eu",
                                        "rr_ud", "bias_factor", "evalue_hidden"]
    assert len(full.truth) == sum(len(v) for v in OUTCOMES.values())


def test_names_are_fictional(full):
    towns = set(_names.towns())
    assert set(full.schools["la"]) <= towns
    stems = full.schools["school_name"].str.split(" ").str[0]
    assert set(stems) <= towns
    assert not set(full.schools["la"]) & set(stems)        # LA and school towns apart


def test_unknown_scenario_and_effect_are_rejected():
    with pytest.raises(ValueError, match=r"`scenario` should be one of \['default', "
                                         r"'full_linkage'\]; got 'everything'"):
        generate(scenario="everything")
    with pytest.raises(ValueError, match=r"`effects` has unknown keys \['gcse_points'\]"):
        generate(effects={"gcse_points": 1.0}, include_population=False)
    assert set(SCENARIOS) == {"default", "full_linkage"}


# --- national calibration ----------------------------------------------------------------------

@pytest.mark.parametrize("phase, measure", [("primary", "ks2_l4_em"),
                                            ("secondary", "gcse_5ac_em")])
def test_national_rates_within_one_point_of_published(full, phase, measure):
    p = full.pupils[full.pupils["phase"] == phase]
    achieved = p.groupby(["cohort", "fsm"])[measure].mean() * 100
    target = national_figures(measure)
    target = target[target["group"] != "all"]
    assert len(target) == 6
    for rec in target.itertuples():
        got = achieved.loc[(rec.year, rec.group == "fsm")]
        assert abs(got - rec.value) < 1.0, (rec.year, rec.group, got, rec.value)


@pytest.mark.parametrize("phase, share", [("primary", 0.17), ("secondary", 0.14)])
def test_fsm_share(full, phase, share):
    p = full.pupils[full.pupils["phase"] == phase]
    assert abs(p["fsm"].mean() - share) < 0.01


def _share_of_fsm_in_top(pupils, fraction):
    by_school = pupils.groupby("school_id")["fsm"].agg(["sum", "mean"]).sort_values(
        "mean", ascending=False)
    k = int(round(fraction * len(by_school)))
    return by_school["sum"].iloc[:k].sum() / by_school["sum"].sum()


def test_fsm_concentration(full):
    pri = full.pupils[full.pupils["phase"] == "primary"]
    sec = full.pupils[full.pupils["phase"] == "secondary"]
    assert 0.34 < _share_of_fsm_in_top(pri, 0.13) < 0.46        # ~40% in 13% of schools
    assert 0.45 < _share_of_fsm_in_top(sec, 1 / 3) < 0.65       # ~half in a third


@pytest.mark.parametrize("phase, measure", [("primary", "ks2_l4_em"),
                                            ("secondary", "gcse_5ac_em")])
def test_gap_smaller_in_high_fsm_schools(full, phase, measure):
    p = full.pupils[full.pupils["phase"] == phase]
    pct = p["school_id"].map(full.schools.set_index("school_id")["fsm_pct"])
    band = pd.cut(pct, [-1, 5, 18, 101], labels=["low", "mid", "high"])
    rate = p.groupby([band, "fsm"], observed=True)[measure].mean().unstack()
    gap = (rate[False] - rate[True]) * 100
    assert 6 < gap["low"] - gap["high"] < 14


def test_prior_attainment_explains_half_of_gcse_points(full):
    """The plan's power assumption (`power.r2_pupil` 0.5): capped points on a cubic in KS2
    points and the model covariates, fitted with statsmodels' formula API."""
    plan = load_plan()
    sec = full.pupils[full.pupils["phase"] == "secondary"].dropna(
        subset=["gcse_capped_points", "ks2_aps"])
    terms = " + ".join(f"C({c})" if c in ("sen", "ethnicity") else c
                       for c in plan.covariates("secondary"))
    fit = smf.ols(f"gcse_capped_points ~ {terms} + I(ks2_aps**2) + I(ks2_aps**3)", sec).fit()
    assert abs(fit.rsquared - plan.raw["power"]["r2_pupil"]) < 0.05, fit.rsquared


def test_expected_progress_and_lac(full):
    pri = full.pupils[full.pupils["phase"] == "primary"]
    assert 0.78 < pri["ks2_ep_eng"].mean() < 0.88
    assert 0.78 < pri["ks2_ep_mat"].mean() < 0.88
    sec = full.pupils[full.pupils["phase"] == "secondary"]
    assert 0.60 < sec["ks4_ep_eng"].mean() < 0.80
    for p, measure in ((pri, "ks2_l4_em"), (sec, "gcse_5ac_em")):
        assert 0.003 < p["lac"].mean() < 0.008
        by_lac = p.groupby("lac")[measure].mean()
        assert by_lac[False] - by_lac[True] > 0.25


# --- scales and consistency --------------------------------------------------------------------

def test_real_scales(full):
    p = full.pupils
    pri, sec = p[p["phase"] == "primary"], p[p["phase"] == "secondary"]
    ks1 = pri["ks1_aps"].dropna()
    assert ks1.between(3, 27).all()
    sums = ks1 * 3                                  # three sub-level scores 3, 9, 13, ... 27
    assert np.allclose(sums, sums.round(), atol=0.02)
    for col in ("ks2_aps",):
        assert pri[col].dropna().between(15, 36).all() and sec[col].dropna().between(15, 36).all()
    capped = sec["gcse_capped_points"].dropna()
    assert capped.between(0, 464).all() and capped.max() == 464
    assert (capped % 2 == 0).all()                  # sums of 8 grades worth 0 or 16..58
    assert 280 < capped.mean() < 360 and 70 < capped.std() < 110
    for phase, outs in OUTCOMES.items():
        q = p[p["phase"] == phase]
        for o in outs:
            if o not in HEADLINE.values():
                assert set(q[o].dropna().unique()) == {0.0, 1.0}


def test_thresholds_consistent_with_scores(full):
    p = full.pupils
    pri, sec = p[p["phase"] == "primary"], p[p["phase"] == "secondary"]
    # L4+ in English and maths (fine points >= 24 each; science >= 15): APS at least 21
    assert pri.loc[pri["ks2_l4_em"] == 1, "ks2_aps"].min() >= 21.0
    assert (sec.loc[sec["gcse_5ac_em"] == 1, "gcse_5ac"] == 1).all()
    assert sec.loc[sec["gcse_5ac"] == 1, "gcse_capped_points"].min() >= 200   # five Cs
    assert sec.loc[sec["gcse_5ac"] == 0, "gcse_capped_points"].max() <= 4 * 58 + 4 * 34


def test_missingness_is_partial_and_outcomes_missing_together(full):
    for phase, outs in OUTCOMES.items():
        q = full.pupils[full.pupils["phase"] == phase]
        na = q[list(outs)].isna()
        assert (na.all(axis=1) == na.any(axis=1)).all()
        assert 0.01 < na.all(axis=1).mean() < 0.06
        assert 0.01 < q[PRIOR[phase]].isna().mean() < 0.06
        other = [o for ph, v in OUTCOMES.items() if ph != phase for o in v if o != "ks2_aps"]
        assert q[other].isna().all().all()


# --- EM design ---------------------------------------------------------------------------------

def test_em_schools_las_clusters_and_activities(full):
    s = full.schools
    em = s[s["em_phase"].notna()]
    counts = em.groupby(["em_phase", "role"]).size().to_dict()
    assert counts == {("primary", "partner"): 10, ("primary", "trial"): 40,
                      ("secondary_1", "trial"): 23, ("secondary_2", "trial"): 60}
    assert em.groupby("em_phase")["la"].nunique().to_dict() == {
        "primary": 10, "secondary_1": 11, "secondary_2": 30}
    pri = em[em["em_phase"] == "primary"]
    assert (pri.groupby("cluster")["role"].value_counts().unstack()[["trial", "partner"]]
            .eq([4, 1]).all().all())
    assert pri.groupby("cluster")["la"].nunique().eq(1).all()
    assert pri["cluster"].str.fullmatch(r"[A-Z][a-z]+ cluster").all()
    assert set(em.loc[em["phase"] == "secondary", "cluster"]) == {"Secondary phase 1",
                                                                  "Secondary phase 2"}
    assert set(pri.loc[pri["role"] == "trial", "em_activity"]) <= set(_names.PRIMARY_ACTIVITIES)
    assert pri.loc[pri["role"] == "partner", "em_activity"].isna().all()
    assert set(em.loc[em["phase"] == "secondary", "em_activity"]) <= set(
        _names.SECONDARY_ACTIVITIES)
    rest = s[s["em_phase"].isna()]
    assert (rest["role"] == "comparison").all() and rest["cluster"].isna().all()
    assert em["fsm_pct"].median() > 25 > rest["fsm_pct"].median()


def test_default_scenario_reproduces_the_core_sample(full):
    s, p = full.schools, full.pupils
    linked = s[s["em_linked"]]
    assert linked["phase"].value_counts().to_dict() == {"secondary": 9, "primary": 2}
    assert set(p.loc[p["em"], "school_id"]) == set(linked["school_id"])
    ok = analysable(p)
    assert int((ok & p["em"]).sum()) == 196
    assert int((ok & ~p["em"]).sum()) == 4794
    assert (p["em"] & ~ok).sum() > 0            # some EM pupils lack prior or outcome
    pri_em = p[p["em"] & (p["phase"] == "primary")]
    assert len(pri_em) > 0 and set(pri_em["cohort"]) == {2010}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_core_sample_counts_hold_for_other_seeds(seed):
    p = generate(seed=seed, include_population=False).pupils
    ok = analysable(p)
    assert (int((ok & p["em"]).sum()), int((ok & ~p["em"]).sum())) == (196, 4794)


def test_target_groups_are_mostly_fsm_and_low_attaining(linked_all):
    p = linked_all.pupils
    em = p[p["em"]]
    assert em["fsm"].mean() > 0.7
    assert em["lac"].mean() > p["lac"].mean()
    strata = em[["school_id", "cohort"]].drop_duplicates()
    same = p.merge(strata, on=["school_id", "cohort"])
    for phase in ("primary", "secondary"):
        q = same[same["phase"] == phase]
        prior = q.groupby("em")[PRIOR[phase]].mean()
        assert prior[True] < prior[False]
    assert set(em.loc[em["phase"] == "secondary", "cohort"]) == {2009, 2010}


def test_full_linkage_links_every_trial_school(em_only, linked_all):
    s = linked_all.schools
    assert (s["em_linked"] == (s["role"] == "trial")).all()
    assert linked_all.pupils["em"].sum() > 5 * em_only.pupils["em"].sum()
    # the same pupils and outcomes: only the EM flag differs
    cols = [c for c in em_only.pupils.columns if c != "em"]
    assert_frame_equal(em_only.pupils[cols], linked_all.pupils[cols])
    assert (em_only.pupils["em"] <= linked_all.pupils["em"]).all()


def test_em_only_matches_full_data(full, em_only):
    ids = set(em_only.schools["school_id"])
    assert em_only.schools["em_phase"].notna().all()
    sub = full.pupils[full.pupils["school_id"].isin(ids)].reset_index(drop=True)
    assert_frame_equal(sub, em_only.pupils)
    assert_frame_equal(full.truth, em_only.truth)
    assert_frame_equal(full.surveys, em_only.surveys)
    assert_frame_equal(full.tracking, em_only.tracking)


# --- true effects ------------------------------------------------------------------------------

def test_default_truth(full):
    t = full.truth.set_index("outcome")
    assert t.loc["gcse_capped_points", "coef"] == 20.0
    assert 17.0 < t.loc["gcse_capped_points", "effect"] <= 20.5
    others = t.drop(index="gcse_capped_points")
    assert (others["coef"] == 0).all() and (others["effect"] == 0).all()
    assert t.loc["gcse_capped_points", "family"] == "gaussian"
    assert t.loc["gcse_5ac_em", "family"] == "binomial"


def test_gaussian_truth_is_the_difference_in_potential_outcomes():
    a = generate(seed=11, include_population=False, effects={"ks2_aps": 1.5})
    b = generate(seed=11, include_population=False, effects={"ks2_aps": 0.0})
    em = a.pupils["em"] & (a.pupils["phase"] == "primary") & a.pupils["ks2_aps"].notna()
    diff = (a.pupils.loc[em, "ks2_aps"] - b.pupils.loc[em, "ks2_aps"]).mean()
    truth = a.truth.set_index("outcome")
    # a little under 1.5: science points stop at the B/N floor and the level 5 ceiling
    assert abs(diff - truth.loc["ks2_aps", "effect"]) < 0.01
    assert 1.2 < truth.loc["ks2_aps", "effect"] <= 1.5
    # science carries the effect: no threshold outcome moves
    for o in ("ks2_l4_em", "ks2_ep_eng", "ks2_ep_mat"):
        assert truth.loc[o, "effect"] == 0.0
        assert_frame_equal(a.pupils[[o]], b.pupils[[o]])


def test_binary_truth_is_exact_from_generating_probabilities():
    coef = 0.5
    ds = generate(seed=4, include_population=False, effects={"ks4_ep_eng": coef})
    t = ds.truth.set_index("outcome")
    effect = t.loc["ks4_ep_eng", "effect"]
    assert t.loc["ks4_ep_eng", "coef"] == coef
    # a log-odds shift of 0.5 moves a probability by between 0 and 0.5/4
    assert 0.03 < effect < coef / 4
    # hand check: for a probability p, expit(logit(p) + c) - p
    p = np.linspace(0.05, 0.95, 7)
    shifted = expit(np.log(p / (1 - p)) + coef)
    assert np.all(shifted - p <= coef / 4)
    assert t.loc["gcse_capped_points", "effect"] > 17      # knock-on via the English grade


@pytest.mark.parametrize("phase", ["primary", "secondary"])
def test_generating_probabilities_match_simulated_rates(phase):
    """The exact probabilities (used for the binary truth) agree with the simulated outcomes."""
    rng = np.random.default_rng(0)
    schools = _population.school_frame(rng, phase, 400)
    schools["school_id"] = [str(100000 + i) for i in range(len(schools))]
    pupils = _population.pupils_frame(rng, schools, _population.cohort_sizes(rng, phase, 400))
    lat = _outcomes.latents(rng, pupils)
    effects = {"ks2_l4_em": 0.4, "ks2_ep_mat": -0.3, "gcse_5ac": 0.4, "ks4_ep_mat": -0.3}
    shift = _outcomes.shifts(effects, pupils["fsm"].to_numpy(), np.ones(len(pupils), bool))
    for sh in (None, shift):
        sim = _outcomes.outcomes(lat, 0.0, sh)
        prob = _outcomes.probabilities(lat, 0.0, sh)
        for o, p in prob.items():
            tol = 4 * np.sqrt(p.mean() * (1 - p.mean()) / len(p))
            assert abs(sim[o].mean() - p.mean()) < tol, (o, sim[o].mean(), p.mean())


def test_fsm_interaction_truth(linked_all):
    ds = generate(include_population=False, scenario="full_linkage",
                  effects={"em_fsm:gcse_capped_points": 12.0})
    t = ds.truth.set_index("outcome")
    base = linked_all.truth.set_index("outcome")
    assert t.loc["gcse_capped_points", "coef_em_fsm"] == 12.0
    gain = t.loc["gcse_capped_points", "effect_em_fsm"] - base.loc[
        "gcse_capped_points", "effect_em_fsm"]
    assert 8.0 < gain < 13.0


def test_default_effect_recoverable_by_gaussian_glm(linked_all):
    """Exact-match ATT weights and a Gaussian GLM with the plan's covariates recover it.

    Up to the known bias of selection on the unobserved support (``truth.bias_hidden``): the
    estimate lands on ``effect + bias_hidden``, closer than on ``effect`` (3-8 points away).
    """
    p = linked_all.pupils
    p = p[(p["phase"] == "secondary") & analysable(p)].copy()
    stratum = p.groupby(["school_id", "cohort"])["em"]
    n_t, n_all = stratum.transform("sum"), stratum.transform("size")
    p["w"] = np.where(p["em"], 1.0, n_t / (n_all - n_t))
    x = pd.get_dummies(p[["em", "ks2_aps", "fsm", "female", "sen", "eal", "ethnicity"]],
                       columns=["sen", "ethnicity"], drop_first=True, dtype=float)
    # schools differ (ICC about 0.16): standard errors clustered by school
    fit = sm.GLM(p["gcse_capped_points"], sm.add_constant(x.astype(float)),
                 var_weights=p["w"]).fit(cov_type="cluster", cov_kwds={
                     "groups": pd.factorize(p["school_id"])[0]})
    row = linked_all.truth.set_index("outcome").loc["gcse_capped_points"]
    truth, bias = row["effect"], row["bias_hidden"]
    est, se = fit.params["em"], fit.bse["em"]
    assert abs(est - (truth + bias)) < 2.5 * se, (est, se, truth, bias)
    assert abs(est - (truth + bias)) < abs(est - truth)    # the known bias explains the miss
    assert est > 3 * se                                    # and clearly non-zero


# --- surveys and tracking ----------------------------------------------------------------------

def test_surveys(full):
    sv = full.surveys
    s = full.schools.set_index("school_id")
    schools = s.loc[sv["school_id"].unique()]
    assert set(schools["em_phase"]) == {"primary", "secondary_2"}
    assert (schools["role"] == "trial").all()
    assert set(sv.loc[sv["instrument"] == "pupil", "item"]) == {f"p{i:02d}" for i in
                                                                 range(1, 11)}
    assert set(sv.loc[sv["instrument"] == "staff", "item"]) == {f"s{i:02d}" for i in
                                                                range(1, 13)}
    waves = sv.groupby("respondent_id")["wave"].nunique()
    assert (waves == 2).sum() > 100 and (waves == 1).sum() > 20
    assert 0.01 < sv["score"].isna().mean() < 0.06
    assert sv["score"].dropna().isin(np.arange(1.0, 11.0)).all()
    assert not set(sv["respondent_id"]) & set(full.pupils["pupil_id"])
    wide = sv.pivot_table(index=["respondent_id", "item"], columns="wave", values="score")
    change = (wide["follow_up"] - wide["baseline"]).groupby(level="item").mean()
    improving = list(full.meta["survey_true_change"])
    assert (change[improving] > 0.2).all()
    assert change.drop(index=improving).abs().max() < 0.25


def test_tracking(full):
    tr = full.tracking
    s = full.schools.set_index("school_id").loc[tr["school_id"].unique()]
    assert (s["em_phase"] == "primary").all() and (s["role"] == "trial").all()
    assert len(s) == 40
    assert tr["class_id"].str.fullmatch(r"\d{6}-Y5[AB]").all()
    size = tr.groupby("class_id")["pupil_id"].nunique()
    assert size.between(28, 32).all()
    assert tr.groupby("pupil_id")["fsm"].nunique().eq(1).all()
    m = tr.groupby(["class_id", "subject", "term", "fsm"])["aps"].mean().unstack("fsm")
    cls = tr.groupby(["class_id", "subject", "term"])["aps"].mean()
    gap = (m[True] - cls).unstack("term")
    assert (gap["autumn"].groupby(level="subject").mean() < -1.5).all()
    closing = gap["summer"] > gap["autumn"]
    assert 0.55 < closing.mean() < 0.95                    # most, not all, classes close


# --- determinism, I/O, data dictionary ---------------------------------------------------------

def test_same_seed_same_data_different_seed_different_data(em_only):
    again = generate(include_population=False)
    for table in (*TABLES, "truth"):
        assert_frame_equal(getattr(em_only, table), getattr(again, table))
    other = generate(seed=SEED + 1, include_population=False)
    assert not em_only.pupils["ks2_aps"].equals(other.pupils["ks2_aps"])
    assert not em_only.schools["school_name"].equals(other.schools["school_name"])


def test_write_and_read_back(em_only, tmp_path):
    write_dataset(em_only, tmp_path)
    back = read_dataset(tmp_path)
    assert back.is_synthetic and back.meta["seed"] == SEED
    assert_frame_equal(back.pupils, em_only.pupils)
    assert back.truth["effect"].round(9).equals(em_only.truth["effect"].round(9))


def test_readme_lists_every_schema_column():
    text = (config.DATA_DIR / "README.md").read_text()
    assert _dictionary.render() in text
    for table, cols in TABLES.items():
        for c in cols:
            assert re.search(rf"\| `{c.name}` \| {c.dtype} \|", text), (table, c.name)
    assert "make reports DATA=data/raw/" in text


def test_hidden_selection_strength_is_known_and_monotone():
    """Selection on the unobserved support: none gives no bias and an E-value of 1; a stronger
    odds ratio gives a larger bias, risk ratio with treatment and E-value equivalent."""
    from evaluation.synthetic import WorldParams

    def secondary(**kw):
        ds = generate(seed=SEED, include_population=False, scenario="full_linkage",
                      params=WorldParams(**kw))
        assert ds.meta["params"]["hidden_selection_or"] == kw.get("hidden_selection_or", 1.3)
        return ds.truth.set_index(["phase", "outcome"]).loc[("secondary",
                                                             "gcse_capped_points")]

    none = secondary(hidden_selection_or=1.0, hidden_outcome_sd=0.0)
    # no hidden effect on outcomes: no bias; the strengths differ from 1 by chance only
    assert none["bias_hidden"] == 0.0 and none["evalue_hidden"] < 1.2
    weak, strong = secondary(), secondary(hidden_selection_or=3.0)
    assert strong["bias_hidden"] < weak["bias_hidden"] < 0          # EM pupils have less w
    assert strong["rr_eu"] > weak["rr_eu"] > 1.0
    assert strong["evalue_hidden"] > weak["evalue_hidden"] > none["evalue_hidden"]
    b = strong["bias_factor"]
    assert strong["evalue_hidden"] == pytest.approx(b + np.sqrt(b * (b - 1)))


def test_the_runs_generated_data_are_generates_and_each_callers_own(monkeypatch):
    """tests/synthetic_data.generated: the data generate() gives (every table, the truth and
    the meta), generated once in the run for one set of arguments however they are written,
    and a copy of its own for every caller."""
    import functools

    import evaluation.synthetic

    calls = []

    @functools.wraps(generate)
    def counted(**kwargs):
        calls.append(kwargs)
        return generate(**kwargs)

    monkeypatch.setattr(evaluation.synthetic, "generate", counted)
    first = generated(seed=3, include_population=False)
    again = generated(include_population=False, seed=3, scenario="default")
    assert len(calls) <= 1                  # none if another test of the run made it first
    fresh = generate(seed=3, include_population=False)
    for name in ("pupils", "schools", "surveys", "tracking", "truth"):
        assert_frame_equal(getattr(again, name), getattr(fresh, name))
    assert again.meta == fresh.meta
    again.pupils.loc[again.pupils.index[0], "ks2_aps"] = -1.0
    assert generated(seed=3, include_population=False).digest() == first.digest()
    assert again.digest() != first.digest() and len(calls) <= 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_calibration_scoring_open_pupils_only_gives_the_full_bisections_shift(seed):
    """``calibrate_count`` scores only the pupils its bracket leaves open; the shift must be
    the one a bisection scoring every pupil at every step gives (the generator's data, and
    every figure the tests expect of them, rest on it), with ties, floors and targets that
    no shift reaches."""
    from evaluation.synthetic._outcomes import calibrate_count

    rng = np.random.default_rng(seed)
    mu = np.round(rng.normal(0, 6, 5000), 1)         # many ties
    eps = rng.normal(0, 2, 5000)

    def passes(d, rows):
        return np.floor(np.clip((mu[rows] + d) + 1.7 * eps[rows], -30, 30) * 10) / 10 >= 2.5

    def full_bisection(target, lo=-20.0, hi=20.0):
        for _ in range(60):
            mid = (lo + hi) / 2
            if (37.0 + passes(mid, np.arange(5000)).sum()) / 5100 >= target:
                hi = mid
            else:
                lo = mid
        return hi

    for target in (0.0, 0.05, 0.37, 0.5, 0.81, 0.999, 1.0):
        assert calibrate_count(passes, 5000, 37.0, 5100, target) == full_bisection(target)


#: Every column of every table of seed 7's default data (with the national population), the
#: truth columns included, and the meta (see test_the_default_data_are_the_same_bits).
DEFAULT_DATA_BITS = "f0edf7fe2099cca30dbdea8ba1fffa7b6e7178ec7452c22066c5e7d840c95b92"


def test_the_default_data_are_the_same_bits():
    """The generator's speed-ups (review 21) kept its data bit for bit; so must any change
    that is not meant to change them. Every figure the tests expect of the default data rests
    on these bits. A change that is meant to (or a new numpy or pandas that draws or hashes
    differently: constraints.txt pins them) writes the new value here, saying why."""
    import dataclasses
    import hashlib

    from synthetic_data import generated

    ds = generated(seed=7, scenario="default")
    h = hashlib.sha256()
    for f in dataclasses.fields(ds):
        v = getattr(ds, f.name)
        if isinstance(v, pd.DataFrame):
            h.update(pd.util.hash_pandas_object(v, index=True).to_numpy().tobytes())
            h.update(repr(list(v.columns)).encode())
            h.update(repr(v.dtypes.tolist()).encode())
        else:
            h.update(repr(v).encode())
    assert h.hexdigest() == DEFAULT_DATA_BITS
