"""Plans other than the repository's, written by tests into a temporary folder.

The repository's plan matches exactly on school and year, so every EM pupil is matched and no
matching warns; reviews of issue 14 found what only another main specification shows.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from evaluation.plan import Plan, load_plan

#: The fifth review's main specification: 2:1 nearest neighbour with replacement, a caliper.
NN2 = {"name": "nn2_caliper",
       "label": "2:1 nearest neighbour on the propensity score within school and cohort, with "
                "replacement, caliper 0.1 SD",
       "method": "nearest", "distance": "glm",
       "covariates": ["prior", "fsm", "female", "sen", "eal"],
       "exact": ["school_id", "cohort"], "ratio": 2, "replace": True, "caliper": 0.1}


def caliper_plan(folder: Path, threshold: int = 5, **spec) -> Plan:
    """The repository's plan with ``NN2`` (updated by ``spec``) as its main specification.

    ``caliper_plan(folder, 5, ratio=1, replace=False)``: 1:1 pairs without replacement (the
    seventh review's plan).
    """
    raw = yaml.safe_load(Path(load_plan().path).read_text())
    raw["matching"] = [{**NN2, **spec}, *raw["matching"]]
    raw["disclosure"]["threshold"] = threshold
    path = Path(folder) / "analysis.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_plan(path)
