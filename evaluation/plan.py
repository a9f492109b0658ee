"""The pre-specified analysis plan (`analysis.yml`): loading and lookup."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from evaluation import config


@dataclass(frozen=True)
class Plan:
    """The analysis plan as read from YAML, with its hash.

    Examples
    --------
    >>> plan = load_plan()
    >>> plan.threshold
    10
    """

    raw: dict
    path: str
    sha256: str

    @property
    def threshold(self) -> int:
        """Disclosure threshold: smallest number of pupils a shown figure may rest on."""
        return int(self.raw["disclosure"]["threshold"])

    def outcomes(self, phase: str) -> list[dict]:
        """Pre-specified outcomes of a phase (name, label, family, units, primary)."""
        if phase not in self.raw["outcomes"]:
            raise ValueError(f"`phase` should be one of {sorted(self.raw['outcomes'])}; "
                             f"got {phase!r}")
        return list(self.raw["outcomes"][phase])

    def prior(self, phase: str) -> str:
        """Prior-attainment column of a phase."""
        return self.raw["prior"][phase]

    def covariates(self, phase: str) -> list[str]:
        """Outcome-model covariates of a phase, prior attainment first."""
        return [self.prior(phase), *self.raw["covariates"]]

    def model_covariates(self, phase: str) -> list[str]:
        """Outcome-model terms of a phase: the covariates plus powers of prior attainment.

        Examples
        --------
        >>> load_plan().model_covariates("primary")[-2:]
        ['ks1_aps^2', 'ks1_aps^3']
        """
        degree = int(self.raw.get("prior_degree", 1))
        prior = self.prior(phase)
        return [*self.covariates(phase), *(f"{prior}^{k}" for k in range(2, degree + 1))]

    def matching_specs(self) -> list[dict]:
        """Return the matching specifications; the first is the main analysis."""
        return list(self.raw["matching"])

    def matching_spec(self, name: str) -> dict:
        """One matching specification by name."""
        for spec in self.raw["matching"]:
            if spec["name"] == name:
                return dict(spec)
        names = [s["name"] for s in self.raw["matching"]]
        raise ValueError(f"`name` should be one of {names}; got {name!r}")

    def main_spec(self) -> dict:
        """Return the main matching specification: the first of ``matching``.

        The others are sensitivity analyses.

        Examples
        --------
        >>> load_plan().main_spec()["method"]
        'exact'
        """
        return dict(self.raw["matching"][0])

    def headline(self, phase: str) -> dict:
        """Return the headline outcome of a phase: the one marked ``primary`` (else the first).

        Examples
        --------
        >>> load_plan().headline("secondary")["name"]
        'gcse_capped_points'
        """
        outcomes = self.outcomes(phase)
        return dict(next((o for o in outcomes if o.get("primary")), outcomes[0]))

    def label(self, name: str) -> str:
        """Return what readers see for an outcome or covariate (``labels``; else the name).

        Examples
        --------
        >>> load_plan().label("ks2_l4_em"), load_plan().label("eal")
        ('Level 4+ in English and maths at KS2', 'English as an additional language')
        """
        for phase_outcomes in self.raw["outcomes"].values():
            for o in phase_outcomes:
                if o["name"] == name:
                    return str(o.get("label", name))
        return str(self.raw.get("labels", {}).get(name, name))

    def section(self, name: str) -> dict:
        """Return a top-level section (``inference``, ``power``, ``disclosure``) as a dict."""
        return dict(self.raw[name])


def load_plan(path: str | Path | None = None) -> Plan:
    """Read an analysis plan.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Defaults to the project's ``analysis.yml``.

    Returns
    -------
    Plan

    Examples
    --------
    >>> load_plan().matching_specs()[0]["method"]
    'exact'
    """
    path = Path(path) if path is not None else config.ANALYSIS_PLAN
    data = path.read_bytes()
    return Plan(raw=yaml.safe_load(data), path=str(path), sha256=hashlib.sha256(data).hexdigest())
