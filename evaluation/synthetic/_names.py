"""Fictional place, school and cluster names, and the programme's activity labels."""

from __future__ import annotations

import numpy as np

_PREFIXES = (
    "Ash", "Bram", "Cald", "Dun", "Elder", "Fern", "Gorse", "Hazel", "Ivel", "Kest", "Lark",
    "Marl", "Nettle", "Orm", "Pell", "Quarn", "Rook", "Sedge", "Tarn", "Umber", "Vell", "Wren",
    "Yarrow", "Brack", "Cress", "Dray", "Ebble", "Fallow", "Glen", "Heron",
)
_SUFFIXES = (
    "down", "ford", "ley", "mere", "wick", "by", "stead", "thorpe", "combe", "holt", "bridge",
    "well", "hurst", "moor", "dale",
)
_PRIMARY_KINDS = (
    "Primary School", "Park Primary School", "Road Primary School", "Green Primary School",
    "Junior School", "Lane Primary School", "Vale Primary School", "Hill Primary School",
)
_SECONDARY_KINDS = (
    "High School", "Academy", "Community School", "School", "College", "Park School",
    "Technology College", "Grange School",
)

#: The seven primary handbook activities (each trial school chose one).
PRIMARY_ACTIVITIES = (
    "Coherent curriculum: speaking and listening",
    "Engaging pupils in their learning",
    "Articulating and managing emotions",
    "Broadening horizons",
    "Support at transition points",
    "Staff with empathy for the pupils",
    "Partnerships with parents and community",
)
#: The four secondary development areas.
SECONDARY_ACTIVITIES = (
    "Attention, engagement and mutual respect",
    "Raising aspirations",
    "Skills for the future",
    "Holding them to it (no-one fails)",
)

#: Streams of the names permutation (independent of the seed's data streams).
_NAME_STREAM = 7


def towns() -> list[str]:
    """All fictional town names, in a fixed order."""
    return [p + s for p in _PREFIXES for s in _SUFFIXES]


def place_names(seed: int) -> tuple[list[str], list[str]]:
    """Split the towns into LA names and school-town names for one seed."""
    rng = np.random.default_rng([seed, _NAME_STREAM])
    all_towns = towns()
    order = [all_towns[i] for i in rng.permutation(len(all_towns))]
    return order[:160], order[160:]


def school_names(stems: list[str], phase: str, start: int, count: int) -> list[str]:
    """Names for ``count`` schools of a phase, taken from position ``start`` of a fixed grid."""
    kinds = _PRIMARY_KINDS if phase == "primary" else _SECONDARY_KINDS
    grid = [f"{t} {k}" for k in kinds for t in stems]
    if start + count > len(grid):
        raise ValueError(f"`count` too large: {start + count} names requested, {len(grid)} exist")
    return grid[start:start + count]
