"""Calibrated synthetic Extra Mile data with known true effects (`generate`).

Design, in short (data/README.md has the whole story and the calibration table):

* A national-like population of about 1,500 primary and 1,200 secondary schools, cohorts
  2008-2010, on the real scales (KS1 APS, KS2 fine points, GCSE capped QCA points). National
  threshold rates by FSM status match the published figures exactly (one shift per year and FSM
  group on the population's comparison schools); FSM concentration and smaller FSM gaps in
  high-FSM schools are built in.
* The EM programme schools (23 + 60 secondary, 40 trial + 10 partner primary) come from their own
  random stream, so ``include_population=False`` reproduces them exactly.  Target groups are
  chosen on FSM, LAC, low prior attainment, IDACI and an unobserved support ``w`` (odds ratio
  `WorldParams.hidden_selection_or` per SD lower ``w``); the bias this causes and its strength
  on the E-value's scales are in ``truth`` (`_hidden`).
* Every parameter of the world (school variance, FSM concentration, gap spread, hidden
  selection) is in one place: `WorldParams` (`evaluation.synthetic.params`).
* Threshold and expected-progress outcomes derive from English and maths scores that EM does not
  move by default; the default effect (+20 capped GCSE points) comes as grade steps in the other
  subjects, so it is recoverable by a Gaussian GLM with the plan's covariates and every other
  default effect is exactly zero (see `_outcomes` for the mechanics).
* The default scenario's linked strata are constructed so that the analysable sample is exactly
  196 EM and 4,794 comparison pupils.
* ``python -m evaluation data`` writes a world with its ``meta.json`` (seed, scenario, effects,
  parameters) and the SHA-256 of every file written, of that meta and of this generator's code:
  while they are unchanged, the world can be generated again
  (`evaluation.io.dataset.generator_world`; the design-value report does).
"""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.io.dataset import Dataset
from evaluation.schema import OUTCOMES, TABLES
from evaluation.synthetic import _build, _hidden, _outcomes, _surveys, _tracking
from evaluation.synthetic.params import DEFAULT_PARAMS, WorldParams

#: Scenarios: which trial schools' pupil-level EM data link (the EM flag is known).
SCENARIOS = {
    "default": "2011 data availability: 9 secondary and 2 primary schools link "
               "(196 analysable EM pupils, 4,794 comparison pupils).",
    "full_linkage": "Every trial school's pupil-level EM data link.",
}
#: Default true effects: +20 capped GCSE points (about 0.2-0.25 SD), nothing else.
DEFAULT_EFFECTS = {"gcse_capped_points": 20.0}

__all__ = ["DEFAULT_EFFECTS", "DEFAULT_PARAMS", "SCENARIOS", "WorldParams", "generate"]


def _linked(schools: pd.DataFrame, scenario: str) -> np.ndarray:
    if scenario == "full_linkage":
        return (schools["role"] == "trial").to_numpy()
    return schools["_linked_2011"].to_numpy(dtype=bool)


def _check_effects(effects: dict | None) -> dict:
    known = [o for ph in OUTCOMES.values() for o in ph]
    allowed = known + [f"em_fsm:{o}" for o in known]
    effects = dict(effects or {})
    bad = [k for k in effects if k not in allowed]
    if bad:
        raise ValueError(f"`effects` has unknown keys {bad}; allowed keys are outcome names "
                         f"{known}, optionally prefixed 'em_fsm:'")
    for k, v in effects.items():
        if not np.isfinite(float(v)):
            raise ValueError(f"`effects[{k!r}]` should be a finite number; got {v!r}")
    return {**DEFAULT_EFFECTS, **{k: float(v) for k, v in effects.items()}}


def _truth(pupils: pd.DataFrame, effects: dict) -> pd.DataFrame:
    rows = []
    for phase, outcomes in OUTCOMES.items():
        em = pupils[(pupils["phase"] == phase) & pupils["em"]]
        fsm = em["fsm"].to_numpy()
        for o in outcomes:
            te = em[f"_te_{o}"].to_numpy()
            rows.append({
                "phase": phase, "outcome": o, "family": _outcomes.FAMILY[o],
                "coef": effects.get(o, 0.0),
                "effect": float(te.mean()) if len(te) else np.nan,
                "coef_em_fsm": effects.get(f"em_fsm:{o}", 0.0),
                "effect_em_fsm": float(te[fsm].mean() - te[~fsm].mean())
                if fsm.any() and (~fsm).any() else np.nan,
            })
    return pd.DataFrame(rows)


def generate(
    seed: int = config.DEFAULT_SEED,
    scenario: str = "default",
    effects: dict[str, float] | None = None,
    include_population: bool = True,
    params: WorldParams | None = None,
) -> Dataset:
    """Generate a synthetic Extra Mile dataset calibrated to published figures.

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives identical tables.
    scenario : {"default", "full_linkage"}
        ``"default"``: the 2011 data availability (pupil-level EM data link for 9 secondary and
        2 primary schools: exactly 196 analysable EM and 4,794 comparison pupils);
        ``"full_linkage"``: every trial school links.
    effects : dict, optional
        True EM effects by outcome name (points for point scores, log-odds for binary
        outcomes); keys ``"em_fsm:<outcome>"`` add an effect for FSM EM pupils. Merged over
        the default ``{"gcse_capped_points": 20.0}`` (all other effects zero).
    include_population : bool
        ``False`` generates only the EM programme schools (trial and partner): the same EM
        pupils as the full data for the same seed, in a fraction of the time.
    params : WorldParams, optional
        The world's parameters (default `DEFAULT_PARAMS`; ``meta["params"]`` records them).

    Returns
    -------
    Dataset
        Validated pupils, schools, surveys and tracking tables; ``truth`` holds the true
        effects on the EM pupils (``coef``, ``effect``, ``coef_em_fsm``, ``effect_em_fsm``)
        and the known strength of selection on the unobserved support (``bias_hidden``,
        ``rr_eu``, ``rr_ud``, ``bias_factor``, ``evalue_hidden``: see
        `evaluation.synthetic._hidden`); ``meta["synthetic"]`` is True.

    Raises
    ------
    ValueError
        For an unknown scenario or effect name.

    Examples
    --------
    >>> ds = generate(seed=1, include_population=False)
    >>> int(ds.pupils["em"].sum() > 0), ds.meta["synthetic"]
    (1, True)
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"`scenario` should be one of {sorted(SCENARIOS)}; got {scenario!r}")
    effects = _check_effects(effects)
    params = DEFAULT_PARAMS if params is None else params
    if not isinstance(params, WorldParams):
        raise ValueError(f"`params` should be a WorldParams; got {type(params).__name__}")
    schools, pupils = _build.build(int(seed), effects, bool(include_population), params)
    linked = _linked(schools, scenario)
    schools = schools.assign(em_linked=linked)
    pupils = pupils.assign(em=pupils["_treated"].to_numpy()
                           & pupils["school_id"].isin(set(schools["school_id"][linked])))
    fsm_pct = pupils.groupby("school_id")["fsm"].mean().mul(100).round(1)
    schools = schools.assign(fsm_pct=schools["school_id"].map(fsm_pct).fillna(0.0))
    surveys = _surveys.surveys(_build.stream(seed, "surveys"), schools, pupils)
    tracking = _tracking.tracking(_build.stream(seed, "tracking"), schools)
    truth = _truth(pupils, effects).merge(_hidden.hidden_selection(pupils),
                                          on=["phase", "outcome"], how="left")
    tables = {"pupils": pupils, "schools": schools, "surveys": surveys, "tracking": tracking}
    tables = {t: _typed(df, t) for t, df in tables.items()}
    meta = {
        "synthetic": True,
        "scenario": scenario,
        "seed": int(seed),
        "generator": f"evaluation.synthetic {_version()}",
        "description": "Synthetic data calibrated to published national figures and the Extra "
                       f"Mile design; no real pupil, school or place. {SCENARIOS[scenario]}",
        "effects": effects,
        "include_population": bool(include_population),
        "survey_true_change": dict(_surveys.TRUE_CHANGE),
        "params": params.as_dict(),
    }
    return Dataset(**tables, truth=truth, meta=meta)


def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Select the schema's columns in order, with its dtypes (tests run the full validation)."""
    return pd.DataFrame({c.name: df[c.name].to_numpy() for c in TABLES[table]}).astype(
        {c.name: c.dtype for c in TABLES[table]})


def _version() -> str:
    try:
        return metadata.version("evaluation")
    except metadata.PackageNotFoundError:
        return "0+unknown"
