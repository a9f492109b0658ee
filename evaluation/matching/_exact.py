"""Exact matching (MatchIt ``method = "exact"``): the Manchester design's same-school strata."""

from __future__ import annotations

import numpy as np

from evaluation.exceptions import NotEstimableError
from evaluation.matching._checks import (
    MethodOutput,
    Prepared,
    both_groups,
    r_subclass_ids,
    subclass_weights,
    warn_strata_without,
)


def subclass_output(prep: Prepared, codes: np.ndarray, first_group: bool, what: str
                    ) -> MethodOutput:
    """Weights, subclasses and exclusions from stratum codes (exact and CEM)."""
    treat = prep.treat
    keep = both_groups(codes, treat)
    if not keep.any():
        raise NotEstimableError(
            f"no {what} stratum holds both treated and control units: no matches were found "
            f"({int(treat.sum())} treated, {int((~treat).sum())} control units in "
            f"{len(np.unique(codes))} strata)")
    label_prep = prep if prep.strata_labels is not None else None
    if label_prep is not None:
        warn_strata_without("treated", prep, treat & ~keep, "without any control unit")
    sub = r_subclass_ids(codes, treat, first_group)
    w = subclass_weights(sub, treat, prep.args.get("estimand", "ATT"))
    excl = {"treated: no control in its stratum": int((treat & ~keep).sum()),
            "control: stratum without treated units": int((~treat & ~keep).sum())}
    return MethodOutput(w, sub, None, excl)


def match(prep: Prepared) -> MethodOutput:
    """Exact matching on every combination of the exact variables.

    Each stratum holding both groups is a subclass; for the ATT treated units get weight 1,
    controls ``n_treated / n_control`` of their stratum, rescaled so control weights sum to
    the number of matched controls (MatchIt's weights; ATC and ATE as MatchIt's
    ``get_weights_from_subclass``). Subclasses are numbered as MatchIt numbers
    them (order of first appearance among the group of the first row).
    """
    return subclass_output(prep, prep.strata, bool(prep.treat[0]), "exact")
