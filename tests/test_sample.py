"""The analysis sample: who is treated, who compares, every exclusion counted by reason."""

import pandas as pd

from evaluation.plan import load_plan
from evaluation.sample import analysis_sample

PLAN = load_plan()


def _pupils():
    rows = []
    # school a, 2010: 3 EM (one missing prior), 5 comparators (one missing outcome, one SEN NaN)
    for i in range(8):
        rows.append(dict(school_id="a", cohort=2010, em=i < 3,
                         ks2_aps=None if i == 0 else 27.0,
                         gcse_capped_points=None if i == 4 else 300.0,
                         sen=None if i == 5 else "none"))
    # school a, 2009: no EM pupil -> out of scope
    rows += [dict(school_id="a", cohort=2009, em=False, ks2_aps=27.0, gcse_capped_points=290.0,
                  sen="none") for _ in range(4)]
    # school b, 2010: the only EM pupil lacks an outcome -> its 2 comparators are orphaned
    rows += [dict(school_id="b", cohort=2010, em=i == 0, ks2_aps=26.0,
                  gcse_capped_points=None if i == 0 else 310.0, sen="none") for i in range(3)]
    df = pd.DataFrame(rows)
    return df.assign(phase="secondary", fsm=True, female=False, eal=False, ethnicity="white",
                     ks1_aps=15.0, ks2_l4_em=None)


def test_counts_by_reason_add_up():
    s = analysis_sample(_pupils(), "secondary", PLAN)
    ex = s.exclusions.set_index("reason")
    assert s.n_em == 2 and s.n_comparison == 3 and s.n_schools == 1
    assert ex.loc["outside school-cohorts with EM pupils (not comparators)"].tolist() == [0, 4]
    assert ex.loc["prior attainment missing"].tolist() == [1, 0]
    assert ex.filter(like="covariate missing", axis=0).iloc[0].tolist() == [0, 1]
    assert ex.loc["headline outcome missing (gcse_capped_points)"].tolist() == [1, 1]
    assert ex.loc["school-cohort has no analysable EM pupil"].tolist() == [0, 2]
    total = len(_pupils())
    assert s.n_em + s.n_comparison + int(ex.to_numpy().sum()) == total  # nobody dropped silently


def test_input_not_modified_and_other_phase_ignored():
    df = _pupils()
    before = df.copy()
    s = analysis_sample(df, "primary", PLAN)
    pd.testing.assert_frame_equal(df, before)
    assert s.n_em == 0 and int(s.exclusions[["em", "comparison"]].to_numpy().sum()) == 0
