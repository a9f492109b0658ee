"""How secure a finding is (the EEF padlock rating) and what the programme cost per pupil.

The rating follows the EEF's 2019 security classification as described in
``reference/standards.md`` section 3 (the EEF's own tables could not be read there, so its
numbers are marked unverified): the initial rating is the lowest of three criteria (design,
minimum detectable effect size, attrition), then one padlock comes off for each threat to
validity found, down to 0.

The cost follows the EEF Teaching and Learning Toolkit's cost scale (EEF, "About the
Toolkits: cost", https://educationendowmentfoundation.org.uk/evidence-summaries/about-the-toolkits/cost/):
very low (£) under £80 per pupil per year; low (££) up to £200; moderate (£££) up to £720;
high (££££) up to £1,200; very high (£££££) over £1,200.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

#: Padlocks allowed by each design (EEF 2019: 3 = adjusts for all relevant observable
#: confounders by matching or regression; randomised = 5).
DESIGN_PADLOCKS = {
    "randomised": 5,
    "unobservables": 4,       # a design handling selection on unobservables (RDD, DiD)
    "matched": 3,             # matching / regression on the relevant observed confounders
    "some_confounders": 2,
    "no_adjustment": 1,
    "no_comparator": 0,
}
#: (upper bound, padlocks): MDES and attrition columns of the EEF 2019 table.
MDES_PADLOCKS = ((0.20, 5), (0.29, 4), (0.39, 3), (0.49, 2), (0.59, 1))
ATTRITION_PADLOCKS = ((0.10, 5), (0.20, 4), (0.30, 3), (0.40, 2), (0.50, 1))
#: WWC baseline-equivalence limit: an |SMD| above it fails the standard.
WWC_LIMIT = 0.25
#: EEF cost scale: (upper bound in GBP per pupil per year, symbol, words).
COST_SCALE = ((80, "£", "very low"), (200, "££", "low"), (720, "£££", "moderate"),
              (1200, "££££", "high"), (math.inf, "£££££", "very high"))


def attrition_band(value: float) -> str:
    """Return the EEF attrition band a share falls in, as shown to readers.

    The exact share is not shown: it rests on counts of excluded pupils, some of them
    suppressed, and on a small sample it would give them away (1 of 19 pupils is "5%").

    Examples
    --------
    >>> attrition_band(0.051), attrition_band(0.15), attrition_band(0.62)
    ('10% or less', 'over 10% to 20%', 'over 50%')
    """
    if value is None or not math.isfinite(value):
        return "cannot be worked out"
    lower = 0.0
    for upper, _ in ATTRITION_PADLOCKS:
        if round(value, 2) <= upper + 1e-9:
            return (f"{upper:.0%} or less" if lower == 0 else
                    f"over {lower:.0%} to {upper:.0%}")
        lower = upper
    return f"over {lower:.0%}"


def attrition_padlocks(value: float) -> int:
    """Return the EEF padlocks of an attrition share (one band per padlock count).

    Examples
    --------
    >>> attrition_padlocks(0.051), attrition_padlocks(0.15), attrition_padlocks(0.62)
    (5, 4, 0)
    """
    return _band(value, ATTRITION_PADLOCKS)


def _band(value: float, bands) -> int:
    if value is None or not math.isfinite(value):
        return 0
    return next((p for upper, p in bands if round(value, 2) <= upper + 1e-9), 0)


@dataclass(frozen=True)
class SecurityRating:
    """The EEF-style padlock rating of one phase's headline finding, with its inputs.

    Attributes
    ----------
    padlocks : int
        0-5: ``min(design, mdes, attrition)`` minus one per threat, at least 0.
    design, mdes_padlocks, attrition_padlocks : int
        Padlocks each criterion allows.
    design_words : str
        The design as the rating reads it.
    mdes : float
        Minimum detectable effect size of the headline outcome (standard deviations).
    attrition : float
        Share of the phase's pupils (both groups, in school-cohorts with EM pupils) left out
        for missing prior attainment, covariates or outcome.
    max_smd : float
        Largest absolute standardised difference between the groups after matching.
    threats : tuple of str
        The threats to validity found, in words (one padlock each).
    """

    padlocks: int
    design: int
    design_words: str
    mdes: float
    mdes_padlocks: int
    attrition: float
    attrition_padlocks: int
    max_smd: float
    threats: tuple

    @property
    def balance_fails(self) -> bool:
        """Whether a characteristic fails the WWC baseline-equivalence standard."""
        return math.isfinite(self.max_smd) and self.max_smd > WWC_LIMIT

    def summary(self) -> pd.DataFrame:
        """Criterion, value and padlocks, one row each, then the threats and the rating."""
        rows = [("Design", self.design_words, self.design),
                ("Minimum detectable effect size", f"{self.mdes:z.2f}", self.mdes_padlocks),
                ("Attrition", f"{self.attrition:.0%}", self.attrition_padlocks)]
        rows += [("Threat", t, -1) for t in self.threats]
        rows.append(("Rating", "", self.padlocks))
        return pd.DataFrame(rows, columns=["criterion", "value", "padlocks"])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def security_rating(design: str, mdes: float, attrition: float, max_smd: float,
                    threats=(), shown_smd: float | None = None) -> SecurityRating:
    """Rate a finding on the EEF padlock scale by the documented rule.

    The initial rating is the lowest of the design's padlocks, the MDES band and the
    attrition band (EEF 2019 table; MDES and attrition at 2 dp). Then one padlock comes off
    for each threat: baseline imbalance (some |SMD| after matching above the WWC limit
    0.25) is added to ``threats`` here; others (e.g. a result fragile to unmeasured
    confounding, missing data for whole schools) are passed in.

    Parameters
    ----------
    design : str
        A key of ``DESIGN_PADLOCKS``.
    mdes : float
        Minimum detectable effect size (SD); NaN gives 0 padlocks for the criterion.
    attrition : float
        Share of the sample lost (0-1).
    max_smd : float
        Largest |SMD| after matching.
    threats : sequence of str
        Other threats found, in words.
    shown_smd : float, optional
        Largest |SMD| of the characteristics a report may show (others rest on small groups):
        the threat's words quote it, or say that the largest is withheld.

    Returns
    -------
    SecurityRating

    Examples
    --------
    >>> r = security_rating("matched", mdes=0.18, attrition=0.06, max_smd=0.83)
    >>> r.padlocks, r.design, r.mdes_padlocks, r.attrition_padlocks, len(r.threats)
    (2, 3, 5, 5, 1)
    >>> security_rating("randomised", 0.25, 0.15, 0.02).padlocks
    4
    """
    if design not in DESIGN_PADLOCKS:
        raise ValueError(f"`design` should be one of {sorted(DESIGN_PADLOCKS)}; got {design!r}")
    words = {"randomised": "randomised", "unobservables": "handles unobserved selection",
             "matched": "matched comparison, adjusted for observed characteristics",
             "some_confounders": "adjusts for some characteristics only",
             "no_adjustment": "no adjustment", "no_comparator": "no comparison group"}[design]
    found = list(threats)
    if math.isfinite(max_smd) and max_smd > WWC_LIMIT:
        quoted = max_smd if shown_smd is None else shown_smd
        found.insert(0, f"the groups differ at baseline (largest standardised difference "
                        f"{max_smd:z.2f}, above the What Works Clearinghouse limit of "
                        f"{WWC_LIMIT})" if math.isfinite(quoted) and quoted >= max_smd else
                     "the groups differ at baseline (a characteristic withheld to protect "
                     "small groups of pupils is above the What Works Clearinghouse limit of "
                     f"{WWC_LIMIT})")
    d = DESIGN_PADLOCKS[design]
    m, a = _band(mdes, MDES_PADLOCKS), attrition_padlocks(attrition)
    return SecurityRating(max(0, min(d, m, a) - len(found)), d, words, float(mdes), m,
                          float(attrition), a, float(max_smd), tuple(found))


@dataclass(frozen=True)
class CostEstimate:
    """Programme funding per EM pupil on the EEF cost scale.

    Attributes
    ----------
    total : float
        Funding of the schools (and LAs) whose EM pupils are counted, in GBP.
    pupils : int
        EM pupils of those schools in ``pupils`` (the analysed pupils, as the reports pass them).
    per_pupil : float
        ``total / pupils / years`` (NaN without pupils).
    schools : int
        Trial schools whose EM pupils are counted.
    schools_unlinked : int
        Trial schools in scope whose EM pupils are not identified (left out of both sides).
    rating, symbol : str
        EEF cost scale words and pound signs ("" without a figure).
    """

    total: float
    pupils: int
    per_pupil: float
    schools: int
    schools_unlinked: int
    rating: str
    symbol: str


def cost_rating(per_pupil: float) -> tuple[str, str]:
    """EEF cost scale for a cost per pupil per year: (words, pound signs).

    Examples
    --------
    >>> cost_rating(79), cost_rating(200), cost_rating(1500)
    (('very low', '£'), ('low', '££'), ('very high', '£££££'))
    """
    if per_pupil is None or not math.isfinite(per_pupil):
        return "", ""
    return next((w, s) for upper, s, w in COST_SCALE if per_pupil <= upper)


def programme_cost(schools: pd.DataFrame, pupils: pd.DataFrame, phase: str,
                   funding: dict) -> CostEstimate:
    """Cost per EM pupil of one phase from the plan's funding (``analysis.yml: funding``).

    Each trial school carries its own grant plus an equal share of its LA's partner-school
    and LA grants (partner schools and the LA grant are counted once per LA). Only trial
    schools whose EM pupils are identified count, on both sides of the division.

    Examples
    --------
    >>> s = pd.DataFrame({"school_id": [1, 2, 3], "la": ["A", "A", "A"], "phase": "primary",
    ...                   "role": ["trial", "trial", "partner"], "em_linked": [True, True, False]})
    >>> p = pd.DataFrame({"school_id": [1] * 10 + [2] * 10, "phase": "primary", "em": True})
    >>> f = {"years": 1, "per_school": {"primary": {"trial": 5000, "partner": 3000}},
    ...      "per_la": {"primary": 7000}}
    >>> c = programme_cost(s, p, "primary", f)
    >>> c.total, c.per_pupil, c.rating
    (20000.0, 1000.0, 'high')
    """
    s = schools[schools["phase"] == phase]
    grants = funding.get("per_school", {}).get(phase, {})
    per_la = float(funding.get("per_la", {}).get(phase, 0))
    years = float(funding.get("years", 1))
    trial = s[s["role"] == "trial"]
    linked = trial[trial["em_linked"].astype(bool)]
    total = 0.0
    for la, group in trial.groupby("la"):
        shared = per_la + float(grants.get("partner", 0)) * int(
            ((s["la"] == la) & (s["role"] == "partner")).sum())
        share = shared / len(group)
        n_linked = int(group["em_linked"].astype(bool).sum())
        total += n_linked * (float(grants.get("trial", 0)) + share)
    em = pupils[(pupils["phase"] == phase) & pupils["em"].astype(bool)
                & pupils["school_id"].isin(linked["school_id"])]
    n = int(len(em))
    per = total / n / years if n else float("nan")
    words, symbol = cost_rating(per)
    return CostEstimate(total, n, per, len(linked), len(trial) - len(linked), words, symbol)
