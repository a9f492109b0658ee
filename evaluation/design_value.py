"""What the evaluation could have had: the 2011 design beside full linkage of all trial schools.

`design_value` runs the plan's impact analysis (the same sample rules, main matching
specification and outcome models as every report) on two versions of the same synthetic world:
the ``default`` scenario (the 2011 data availability: 11 linked schools) and ``full_linkage``
(every trial school's EM pupils linked), and sets side by side, per phase and outcome, the pupils
and schools analysed, the minimum detectable effect size (MDES), the expected and achieved width
of the 95% interval, the estimate and the true effect.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from evaluation.main_analysis import main_analysis
from evaluation.plan import Plan
from evaluation.sample import analysis_sample
from evaluation.synthetic import generate

#: The two designs compared, in order: (scenario, label for a reader).
DESIGNS = (("default", "2011 design: 9 secondary and 2 primary schools linked"),
           ("full_linkage", "Full linkage: every trial school linked"))
COLUMNS = ["design", "scenario", "phase", "outcome", "n_em", "n_comparison", "n_schools",
           "mdes", "indicative", "expected_halfwidth", "estimate", "ci_low", "ci_high",
           "halfwidth", "true_effect", "informative", "df_resid", "counts_withheld"]


@dataclass(frozen=True)
class DesignValueResult:
    """The two designs side by side (one row per design, phase and outcome).

    Attributes
    ----------
    table : pandas.DataFrame
        `COLUMNS`: pupils and schools analysed, ``mdes`` (SD units) and ``indicative``,
        ``expected_halfwidth`` (the 95% half-width the MDES implies, SD units: MDES x 1.96 /
        (1.96 + 0.84)), the estimate with its interval and achieved ``halfwidth`` (outcome
        units: points or risk difference), the ``true_effect`` and ``informative``; the
        model's residual degrees of freedom ``df_resid``, for the output checker's log only;
        and ``counts_withheld``: the 2011 design's pupils are the overall report's (the same
        synthetic data), withheld wherever it withholds them
        (:func:`evaluation.linked.linked_counts`).
    seed : int
        Seed of the synthetic world (of the data set's ``meta.json``).
    params : dict
        The world's parameters (`WorldParams`).
    plan : Plan
        The plan analysed with (its disclosure rules apply to the report).
    title : str
        The report's title.
    """

    table: pd.DataFrame = field(repr=False)
    seed: int
    params: dict = field(repr=False, default_factory=dict)
    plan: Plan | None = field(repr=False, default=None)
    title: str = "What full data linkage would have bought"

    def summary(self) -> pd.DataFrame:
        """Per design and phase: schools, the smallest MDES and the median half-width.

        No pupil count: those are shown only by the report's table, where they are withheld
        as the overall report withholds them.
        """
        g = self.table.groupby(["design", "phase"], sort=False)
        return pd.DataFrame({"schools": g["n_schools"].max(),
                             "smallest MDES (SD)": g["mdes"].min(),
                             "median CI half-width (SD, expected)":
                                 g["expected_halfwidth"].median()}).reset_index()

    def ratio(self, phase: str = "secondary") -> float:
        """How many times narrower full linkage's expected intervals are (median over outcomes)."""
        t = self.table[self.table["phase"] == phase].set_index(["scenario", "outcome"])
        w = t["expected_halfwidth"].unstack("scenario")
        return float((w["default"] / w["full_linkage"]).median())

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(DESIGNS[0][1])} against {html.escape(DESIGNS[1][1])} "
                f"(synthetic data, seed {self.seed})</p>"
                + self.summary().to_html(index=False, border=0, float_format="{:z.3f}".format))


def design_value(plan: Plan, seed: int, effects: dict | None = None,
                 data_dir: str | Path | None = None) -> DesignValueResult:
    """Compare the 2011 design with full linkage on the synthetic data of one seed.

    Parameters
    ----------
    plan : Plan
        The analysis plan (outcomes, covariates, main matching specification, power).
    seed : int
        Seed of the matching and inference (as every report's), and of the synthetic world
        unless ``data_dir`` names it.
    effects : dict, optional
        True effects for the generator (default: its defaults; ignored with ``data_dir``).
    data_dir : str or pathlib.Path, optional
        The data set the build's other reports analyse, as the generator wrote it
        (:func:`evaluation.io.dataset.generator_world`): the 2011 design is its programme
        schools' data analysed exactly as the overall report analyses them (the same
        matching and impacts, computed once in a build), full linkage is its world (the
        seed, effects and parameters in its ``meta.json``) generated again, ``seed`` seeds
        the analysis as it seeds every report's, and the 2011 design's counts are withheld
        where the overall report withholds them, by that report's own linked counts.
        Default: the world of ``seed`` with ``effects``, its own linked counts.

    Returns
    -------
    DesignValueResult

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> r = design_value(load_plan(), seed=1)                          # doctest: +SKIP
    >>> r.ratio() > 1.5                                                # doctest: +SKIP
    True
    """
    from evaluation.io import read_dataset
    from evaluation.io.dataset import generator_world
    from evaluation.linked import OVERALL, linked_counts
    from evaluation.results import scope_schools
    from evaluation.synthetic.params import WorldParams

    world_seed, params = seed, None
    if data_dir is not None:
        world = generator_world(data_dir)
        if world is None or world.get("scenario") != DESIGNS[0][0]:
            raise ValueError(f"{data_dir}: not a data set of the 2011 design as the generator "
                             "wrote it (python -m evaluation data), unchanged; the design-value "
                             "report compares that world with full linkage, so it needs one")
        world_seed, effects = int(world["seed"]), world.get("effects")
        params = WorldParams(**world["params"]) if world.get("params") else None
    rows = []
    for scenario, label in DESIGNS:
        linked, data_key = None, None
        if scenario == DESIGNS[0][0] and data_dir is not None:
            # the data set is this world, unchanged (generator_world): the 2011 design is the
            # overall report's own analysis of its programme schools, whose matching and
            # impacts a build computes once for both reports (main_analysis)
            read = read_dataset(data_dir)
            ds = replace(read.for_schools(scope_schools(read.schools, None)["school_id"]),
                         truth=read.truth)
            data_key = ds.digest()
        else:
            read = ds = generate(seed=world_seed, scenario=scenario, effects=effects,
                                 include_population=False, params=params)
        truth = ds.truth.set_index(["phase", "outcome"])["effect"]
        # the 2011 design is the evaluation's own analysis of these data: its counts are the
        # overall report's (fifth review of issue 14: 163 and 288 shown here, withheld there)
        if scenario == DESIGNS[0][0]:
            linked = linked_counts(read, plan, seed)
        for phase in ("secondary", "primary"):
            sample = analysis_sample(ds.pupils, phase, plan)
            if sample.n_em == 0:
                continue
            # the reports show the matching's and models' warnings; here designs are compared
            _, _, impact, _ = main_analysis(sample, plan, phase, seed, data_key)
            t = impact.table().set_index("outcome")
            prec = impact.precision                      # indexed by outcome
            for o in t.index:
                r = t.loc[o]
                mdes = float(prec.loc[o, "mdes"]) if o in prec.index else float("nan")
                rows.append({
                    "design": label, "scenario": scenario, "phase": phase, "outcome": o,
                    "n_em": int(r["n_em"]), "n_comparison": int(r["n_comparison"]),
                    "n_schools": int(r["n_schools"]), "mdes": mdes,
                    "indicative": bool(prec.loc[o, "indicative"]) if o in prec.index else True,
                    "expected_halfwidth": mdes * 1.96 / (1.96 + 0.8416),
                    "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                    "halfwidth": (r["ci_high"] - r["ci_low"]) / 2,
                    "true_effect": float(truth.get((phase, o), float("nan"))),
                    "informative": bool(r.get("informative", True)),
                    # the output checker's log only: never shown
                    "df_resid": (float(impact.outcomes[o].glm.df_resid)
                                 if o in impact.outcomes else float("nan")),
                    "counts_withheld": linked is not None and any(
                        linked.hidden((who, OVERALL, phase)) for who in ("em", "comparison")),
                })
    return DesignValueResult(pd.DataFrame(rows, columns=COLUMNS), world_seed,
                             ds.meta.get("params", {}), plan)
