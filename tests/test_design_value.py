"""The 2011 design beside full linkage: published design counts and what linkage buys."""

import pytest

from evaluation import config
from evaluation.design_value import DESIGNS, design_value
from evaluation.plan import load_plan
from evaluation.synthetic import _design


@pytest.fixture(scope="module")
def result():
    return design_value(load_plan(), seed=config.DEFAULT_SEED)


def test_2011_design_is_the_published_one(result):
    """DFE-RR133: 196 EM and 4,794 comparison pupils in 9 secondary and 2 primary schools."""
    t = result.table[result.table["scenario"] == "default"]
    head = t.groupby("phase").first()
    assert head["n_em"].sum() == _design.N_EM == 196
    assert head["n_comparison"].sum() == _design.N_COMPARISON == 4794
    assert head["n_schools"].to_dict() == {"primary": 2, "secondary": 9}


def test_full_linkage_has_every_trial_school(result):
    t = result.table[result.table["scenario"] == "full_linkage"].groupby("phase").first()
    # 23 + 60 secondary trial schools, 40 primary trial schools (the EM design)
    assert t["n_schools"].to_dict() == {"primary": 40, "secondary": 83}


def test_linkage_narrows_every_interval(result):
    t = result.table.set_index(["scenario", "phase", "outcome"])
    for (phase, outcome), row in t.loc["default"].iterrows():
        full = t.loc[("full_linkage", phase, outcome)]
        assert full["mdes"] < row["mdes"]
        assert full["halfwidth"] < row["halfwidth"] or not row["informative"]
    # about sqrt(83 / 9) = 3 times narrower for the secondary phase
    assert 2.0 < result.ratio("secondary") < 4.5


def test_table_and_summary(result):
    assert list(result.table["design"].unique()) == [label for _, label in DESIGNS]
    assert result.params["hidden_selection_or"] > 0
    assert len(result.summary()) == 4
    assert "Full linkage" in result._repr_html_()


def test_report_sections_build(result):
    from evaluation.report import index_record, sections

    built = sections(result, "design_value")
    titles = [s.title for s in built]
    assert titles[0] == result.title and "The two designs side by side" in titles
    findings = next(s for s in built if s.title == "Findings")
    text = " ".join(p for p in findings.parts if isinstance(p, str))
    head = result.table.set_index(["scenario", "outcome"]).loc[("full_linkage",
                                                               "gcse_capped_points")]
    assert f"{head['mdes']:.2f}" in text and "synthetic" in text
    rec = index_record(result)
    assert rec["kind"] == "design_value" and "MDES" in rec["headline"]


def test_findings_say_where_each_estimate_sits_against_its_own_truth(result, plan):
    """Review findings: a fixed sentence said both estimates sat below the true effect (the
    2011 one was above); outcome code names were shown; 'the same pupils' was false."""
    import re

    from evaluation.report import sections

    built = {s.anchor: s._repr_html_() for s in sections(result, "design_value")}
    t = result.table.set_index(["scenario", "outcome"])
    text = re.sub(r"<[^>]+>", " ", built["findings"])
    for scenario in ("default", "full_linkage"):
        row = t.loc[(scenario, "gcse_capped_points")]
        side = "above" if row["estimate"] > row["true_effect"] else "below"
        assert f"{abs(row['estimate'] - row['true_effect']):.1f} points {side}" in text
        assert f"{row['true_effect']:+.1f}" in text
    codes = {o["name"] for ph in plan.raw["outcomes"].values() for o in ph}
    page = " ".join(re.sub(r"<[^>]+>", " ", h) for h in built.values())
    assert not [c for c in codes if re.search(rf"\b{c}\b", page)]
    assert "same pupils" not in page and "glossary" in built


def test_each_2011_estimate_reads_as_the_overall_report_shows_it(result, plan):
    """Third review: the design-value table showed a primary estimate with its interval,
    "0.3 (-0.8 to 1.4)", that the overall report calls "not informative (2 clusters)"."""
    from evaluation.report import sections
    from evaluation.report.tables import effect_text
    from evaluation.results import evaluate
    from evaluation.synthetic import generate

    overall = evaluate(generate(seed=config.DEFAULT_SEED, include_population=False), plan,
                       seed=config.DEFAULT_SEED)
    designs = next(s for s in sections(result, "design_value") if s.anchor == "designs")
    shown = next(p.frame for p in designs.parts if hasattr(p, "frame"))
    default = shown[shown["Design"] == DESIGNS[0][1]]
    n = 0
    for phase, pe in overall.phases.items():
        if not pe.estimable:
            continue
        for r in pe.impact.table().to_dict("records"):
            row = default[(default["Phase"] == phase.capitalize())
                          & (default["Outcome"] == plan.label(r["outcome"]))]
            assert row["Estimate (95% CI)"].tolist() == [effect_text(r)], (phase, r["outcome"])
            n += 1
    assert n >= 4


@pytest.fixture(scope="module")
def world3(tmp_path_factory):
    """A data set as ``python -m evaluation data --seed 3`` writes it (EM schools only)."""
    from evaluation.io import write_dataset
    from evaluation.synthetic import generate

    return write_dataset(generate(seed=3, include_population=False),
                         tmp_path_factory.mktemp("seed3"), generated=True)


def test_the_world_is_known_only_while_the_generators_files_are_unchanged(world3, tmp_path):
    import shutil

    import pandas as pd

    from evaluation.io import read_dataset, write_dataset
    from evaluation.io.dataset import generator_world

    assert generator_world(world3)["seed"] == 3
    edited = shutil.copytree(world3, tmp_path / "edited")
    pupils = pd.read_parquet(edited / "pupils.parquet")
    pupils.iloc[1:].to_parquet(edited / "pupils.parquet", index=False)   # one pupil less
    assert generator_world(edited) is None
    # read and written again (by a user's script): synthetic, but no longer the generator's
    assert generator_world(write_dataset(read_dataset(world3), tmp_path / "again")) is None
    shutil.copy(world3 / "schools.parquet", tmp_path / "again" / "schools.parquet")
    assert generator_world(tmp_path / "again") is None


def test_the_design_value_report_is_built_only_for_the_generators_world(world3, tmp_path):
    """Eighth review of issue 14: built from another data set (seed 5 data with the build's
    seed 7, or seed-7 data with schools removed), the report regenerated seed 7's world and
    called it the same data the evaluation reports analyse."""
    import shutil

    import pandas as pd

    from evaluation.catalog import report_specs

    assert "design-value" in [s.slug for s in report_specs(world3, "/nonexistent", seed=7)]
    edited = shutil.copytree(world3, tmp_path / "edited")
    schools = pd.read_parquet(edited / "schools.parquet")
    schools.to_parquet(edited / "schools.parquet", index=False, compression="gzip")
    assert "design-value" not in [s.slug for s in report_specs(edited, "/nonexistent")]
    with pytest.raises(ValueError, match="not a data set of the 2011 design as the generator"):
        design_value(load_plan(), seed=7, data_dir=edited)


def test_the_2011_design_is_the_data_sets_own_world(world3):
    """Seed 3's world analysed with the build's seed 7: the 2011 design's pupils are the
    data set's analysable pupils, and the report names seed 3."""
    from evaluation.io import read_dataset
    from evaluation.sample import analysis_sample

    res = design_value(load_plan(), seed=7, data_dir=world3)
    assert res.seed == 3
    ds, plan = read_dataset(world3), load_plan()
    t = res.table[res.table["scenario"] == "default"].groupby("phase").first()
    for phase, row in t.iterrows():
        assert row["n_em"] == analysis_sample(ds.pupils, phase, plan).n_em


def test_an_edited_meta_or_another_generator_is_not_the_worlds(world3, tmp_path, monkeypatch):
    """Ninth review of issue 14: meta.json's seed edited from 7 to 5 beside seed 7's unchanged
    files, the design-value report generated seed 5's world (4,704 comparison pupils) beside
    an overall report of the same data's 4,720; data written by an older generator would be
    compared with the new generator's world in the same way."""
    import json
    import shutil

    from evaluation.catalog import report_specs
    from evaluation.io import dataset
    from evaluation.io.dataset import generator_world

    edited = shutil.copytree(world3, tmp_path / "meta")
    meta = json.loads((edited / "meta.json").read_text())
    meta["seed"] = 5
    (edited / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    assert generator_world(edited) is None
    assert "design-value" not in [s.slug for s in report_specs(edited, "/nonexistent")]
    with pytest.raises(ValueError, match="not a data set of the 2011 design as the generator"):
        design_value(load_plan(), seed=7, data_dir=edited)
    assert generator_world(world3)["seed"] == 3
    monkeypatch.setattr(dataset, "_generator_code", lambda: "another version")
    assert generator_world(world3) is None
