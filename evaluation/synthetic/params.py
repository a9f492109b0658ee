"""The synthetic world's scenario parameters, all in one place (`WorldParams`).

Every number that sets how hard the synthetic world is (how much schools differ, how FSM pupils
concentrate, how FSM gaps vary, how strongly schools select EM pupils on what the models never
see) lives in `WorldParams`; ``generate(params=...)`` takes a variant, ``meta["params"]``
records the values used, and every report built on synthetic data lists them in its appendix.
Targets and sources: ``data/README.md`` ("Calibration of clustering"), checked by
``tests/test_synthetic_calibration.py`` through `evaluation.synthetic.calibration`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


def _by_phase(primary: float, secondary: float):
    return field(default_factory=lambda: {"primary": primary, "secondary": secondary})


@dataclass(frozen=True)
class WorldParams:
    """Parameters of the synthetic world (attainment in pupil standard deviations).

    ======================== ================= ==================================================
    parameter                primary/secondary what it sets (target it is tuned to)
    ======================== ================= ==================================================
    school_sd                0.46 / 0.42       SD of the school attainment effect: ICC of prior
                                               attainment and outcomes (published ICCs 0.15-0.20)
    school_deprivation       -1.2 / -3.0       school effect per unit of school FSM share (FSM
                                               schools lower: spread of school results, panel)
    value_added_sd           0.30 / 0.52       SD of school value added on progress: ICC of
                                               outcomes given intake (0.14-0.15 published)
    fsm_share_beta_a         0.65 / 6.0        Beta shape of school FSM shares (smaller: more
                                               concentrated; panel FSM share distribution)
    fsm_gap_school_sd        0.25 / 0.40       SD of the school-specific FSM effect (spread of
                                               school FSM gaps, national panel)
    fsm_gap_slope            1.5 / 3.0         change of the FSM effect per unit of school FSM
                                               share (gap slope against FSM share, panel)
    hidden_selection_or      1.3               odds ratio of selection into the EM target group
                                               per SD *lower* unobserved support ``w``
    hidden_outcome_sd        0.25              effect of 1 SD of ``w`` on progress (in units of
                                               the school-value-added scale: 2 GCSE points per
                                               subject, 0.6 KS2 points)
    ======================== ================= ==================================================

    Examples
    --------
    >>> p = WorldParams()
    >>> p.hidden_selection_or, p.school_sd["secondary"]
    (1.3, 0.42)
    >>> WorldParams(hidden_selection_or=2.0).hidden_selection_or
    2.0
    """

    school_sd: dict = _by_phase(0.46, 0.42)
    school_deprivation: dict = _by_phase(-1.2, -3.0)
    value_added_sd: dict = _by_phase(0.30, 0.52)
    fsm_share_beta_a: dict = _by_phase(0.65, 6.0)
    fsm_gap_school_sd: dict = _by_phase(0.25, 0.40)
    fsm_gap_slope: dict = _by_phase(1.5, 3.0)
    hidden_selection_or: float = 1.3
    hidden_outcome_sd: float = 0.25

    def __post_init__(self):
        for name in ("hidden_selection_or",):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"WorldParams.{name} should be a positive number; got {v!r}")
        if not np.isfinite(self.hidden_outcome_sd):
            raise ValueError("WorldParams.hidden_outcome_sd should be a finite number; got "
                             f"{self.hidden_outcome_sd!r}")

    def as_dict(self) -> dict:
        """Plain values (for ``meta.json`` and report appendices)."""
        return asdict(self)

    def table(self):
        """One row per parameter and phase: ``parameter, phase, value`` (a DataFrame)."""
        import pandas as pd

        rows = []
        for k, v in self.as_dict().items():
            if isinstance(v, dict):
                rows += [{"parameter": k, "phase": ph, "value": x} for ph, x in v.items()]
            else:
                rows.append({"parameter": k, "phase": "both", "value": v})
        return pd.DataFrame(rows)


#: The default world.
DEFAULT_PARAMS = WorldParams()

#: Each parameter in words, for readers (report appendices), in the table's order.
PARAMETER_WORDS = {
    "school_sd": "How much schools differ in attainment (SD of the school effect)",
    "school_deprivation": "How much lower results are in schools with more FSM pupils",
    "value_added_sd": "How much schools differ in the progress they add (SD)",
    "fsm_share_beta_a": "How evenly FSM pupils spread across schools (higher: more even)",
    "fsm_gap_school_sd": "How much the FSM gap differs between schools (SD)",
    "fsm_gap_slope": "How much smaller the FSM gap is in schools with more FSM pupils",
    "hidden_selection_or": "How strongly schools chose EM pupils on support the data do not "
                           "record (odds ratio per SD)",
    "hidden_outcome_sd": "How much that unrecorded support adds to progress (SD)",
}
