"""FSM / disadvantage gap analyses: pupil-level data and published DfE files."""

from evaluation.gaps.pupils import (
    GapShare,
    GapTrends,
    cluster_groups,
    fsm_attainment,
    gap_trends,
    gap_vs_fsm_share,
)

__all__ = ["GapShare", "GapTrends", "cluster_groups", "fsm_attainment", "gap_trends",
           "gap_vs_fsm_share"]
