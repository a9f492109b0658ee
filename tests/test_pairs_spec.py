"""The pairs of Rosenbaum's bounds are the plan's first 1:1 nearest-neighbour matching as
MatchIt reads it: ``reuse_max``, when given, decides reuse and ``replace`` is ignored."""

from __future__ import annotations

import warnings
from pathlib import Path

import yaml

from evaluation.plan import load_plan
from evaluation.results import _pairs
from evaluation.sample import analysis_sample


def _plan(folder: Path, **extra):
    raw = yaml.safe_load(Path(load_plan().path).read_text())
    spec = next(s for s in raw["matching"] if s["name"] == "nearest_ps")
    spec.update(extra)
    path = folder / "analysis.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_plan(path)


def test_pairs_come_from_a_matching_that_uses_each_comparison_pupil_once(tmp_path,
                                                                         default_data):
    """Ninth review of issue 14: with ``replace: false, reuse_max: 2`` (which reuses
    comparison pupils) the first 1:1 spec was taken for pairs anyway: its matched data have
    no pair ids, so the Gamma had no pairs at all (0 of 299 rows) although the plan's
    Mahalanobis 1:1 matching has them; with ``replace: true, reuse_max: 1`` (pairs) it was
    passed over."""
    ds = default_data
    schools = ds.schools.loc[ds.schools["cluster"] == "Secondary phase 1", "school_id"]
    pupils = ds.for_schools(schools).pupils
    for extra, spec in (({"reuse_max": 2}, "mahalanobis_prior"),
                        ({"replace": True, "reuse_max": 1}, "nearest_ps")):
        folder = tmp_path / spec
        folder.mkdir()
        plan = _plan(folder, **extra)
        sample = analysis_sample(pupils, "secondary", plan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pairs = _pairs(sample, plan, "secondary", 7)
        per_pair = pairs.dropna(subset=["subclass"]).groupby("subclass")["em"].agg(["sum",
                                                                                    "size"])
        assert len(per_pair) > 100, extra
        assert (per_pair["sum"] == 1).all() and (per_pair["size"] == 2).all(), extra
