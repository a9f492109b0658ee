"""The pre-specified analysis plan (`analysis.yml`): loading and lookup."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from evaluation import config
from evaluation.exceptions import PlanError
from evaluation.yaml_file import read_yaml


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

    def digest(self) -> str:
        """Return a SHA-256 of the plan's content (a plan built in code has no file).

        Examples
        --------
        >>> load_plan().digest() == load_plan().digest()
        True
        """
        text = json.dumps(self.raw, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def date(self) -> str | None:
        """The date this version of the plan was fixed (``plan_date``, ISO 8601), if given.

        Examples
        --------
        >>> load_plan().date
        '2026-11-25'
        """
        day = _iso_date(self.raw.get("plan_date"))
        return None if day is None else day.isoformat()

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

    def covariate_label(self, name: str) -> str:
        """Return what readers see for a column used as a covariate (``labels`` first).

        Prior attainment of one phase can be the outcome of another (``ks2_aps``): as a
        covariate it is "prior attainment".

        Examples
        --------
        >>> load_plan().covariate_label("ks2_aps")
        'prior attainment (KS2 average points)'
        """
        return str(self.raw.get("labels", {}).get(name) or self.label(name))

    def section(self, name: str) -> dict:
        """Return a top-level section (``inference``, ``power``, ``disclosure``) as a dict."""
        return dict(self.raw[name])


_FAMILIES = ("gaussian", "binomial")
_COVARIATES = ("fsm", "female", "sen", "eal", "ethnicity", "lac", "idaci")
_MULTIPLICITY = ("holm",)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class _Checker:
    """Collects every problem of a plan, each naming its key, what was found and what is allowed."""

    def __init__(self, path: str):
        self.path, self.problems = path, []

    def add(self, key: str, found, expected: str) -> None:
        self.problems.append(f"{key}: found {found!r}; expected {expected}")

    def keys(self, key: str, value, required: tuple, optional: tuple = ()) -> bool:
        if not isinstance(value, dict):
            self.add(key, value, f"a mapping with keys {list(required + optional)}")
            return False
        for k in required:
            if k not in value:
                self.problems.append(f"{key}: key {k!r} is missing; expected keys "
                                     f"{list(required + optional)}")
        for k in value:
            if k not in required + optional:
                self.add(f"{key}.{k}", k, f"only keys {list(required + optional)}")
        return True

    def number(self, key: str, value, low, high, integer=False, open_low=False,
               open_high=False) -> None:
        ok = (_is_int(value) if integer else _is_num(value)) and (
            (value > low if open_low else value >= low) and
            (high is None or (value < high if open_high else value <= high)))
        if not ok:
            lo = f"above {low}" if open_low else f"at least {low}"
            hi = "" if high is None else (f" and below {high}" if open_high else
                                          f" and at most {high}")
            self.add(key, value, f"{'a whole number' if integer else 'a number'} {lo}{hi}")

    def one_of(self, key: str, value, allowed) -> None:
        if value not in allowed:
            self.add(key, value, f"one of {list(allowed)}")


def _check_outcomes(c: _Checker, raw) -> None:
    from evaluation.schema import OUTCOMES, PHASES, TABLES

    if not c.keys("outcomes", raw, (), PHASES):
        return
    binary = {col.name for col in TABLES["pupils"] if col.allowed == (0.0, 1.0)}
    for phase, outs in raw.items():
        if phase not in PHASES:
            continue
        if not isinstance(outs, list) or not outs:
            c.add(f"outcomes.{phase}", outs, "a non-empty list of outcomes")
            continue
        names = []
        for i, o in enumerate(outs):
            key = f"outcomes.{phase}[{i}]"
            if not c.keys(key, o, ("name", "label", "family"), ("units", "primary", "range")):
                continue
            c.one_of(f"{key}.name", o.get("name"), OUTCOMES[phase])
            names.append(o.get("name"))
            family = o.get("family")
            c.one_of(f"{key}.family", family, _FAMILIES)
            if o.get("name") in OUTCOMES[phase] and family in _FAMILIES:
                want = "binomial" if o["name"] in binary else "gaussian"
                if family != want:
                    c.add(f"{key}.family", family, f"{want!r} for {o['name']} (a "
                          f"{'0/1' if want == 'binomial' else 'point score'} outcome)")
            if not isinstance(o.get("label", ""), str):
                c.add(f"{key}.label", o.get("label"), "text")
            rng = o.get("range")
            if rng is not None and not (isinstance(rng, list) and len(rng) == 2 and all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
                    and rng[0] < rng[1]):
                c.add(f"{key}.range", rng, "[low, high]: the outcome's possible values")
            if "primary" in o and not isinstance(o["primary"], bool):
                c.add(f"{key}.primary", o["primary"], "true or false")
        dups = sorted({n for n in names if names.count(n) > 1 and isinstance(n, str)})
        if dups:
            c.add(f"outcomes.{phase}", dups, "each outcome listed once")
        if sum(bool(o.get("primary")) for o in outs if isinstance(o, dict)) > 1:
            c.add(f"outcomes.{phase}", "several primary outcomes", "at most one `primary: true`")


def _check_matching(c: _Checker, raw) -> None:
    import inspect

    from evaluation.matching import METHODS, match

    if not isinstance(raw, list) or not raw:
        c.add("matching", raw, "a non-empty list of matching specifications")
        return
    args = tuple(p for p in inspect.signature(match).parameters if p not in ("data",
                                                                             "treatment"))
    allowed_vars = (*_COVARIATES, "prior", "school_id", "cohort")
    names = []
    for i, spec in enumerate(raw):
        key = f"matching[{i}]"
        if not c.keys(key, spec, ("name", "method"), ("label", *(a for a in args
                                                                   if a != "method"))):
            continue
        names.append(spec.get("name"))
        if not isinstance(spec.get("name"), str) or not spec.get("name"):
            c.add(f"{key}.name", spec.get("name"), "a non-empty name")
        c.one_of(f"{key}.method", spec.get("method"), list(METHODS))
        for k in ("covariates", "exact", "antiexact", "mahvars"):
            v = spec.get(k)
            if v is not None and (not isinstance(v, list) or
                                  any(x not in allowed_vars for x in v)):
                c.add(f"{key}.{k}", v, f"a list of names among {list(allowed_vars)}")
        _check_match_values(c, key, spec)
    dups = sorted({n for n in names if names.count(n) > 1 and isinstance(n, str)})
    if dups:
        c.add("matching", dups, "each specification name once")


def _check_match_values(c: _Checker, key: str, spec: dict) -> None:
    """Check a matching specification's argument values (the matching's own lists).

    A mistake is the plan's, named by its key, not a sensitivity row "not estimable" at
    render.
    """
    from evaluation.matching._checks import DISCARDS, ESTIMANDS, M_ORDERS
    from evaluation.matching.distance import LINKS

    choices = {"replace": (True, False), "k2k": (True, False), "m_order": M_ORDERS,
               "discard": DISCARDS, "link": LINKS}
    for k, allowed in choices.items():
        if k in spec:
            c.one_of(f"{key}.{k}", spec[k], allowed)
    if "estimand" in spec:       # any case, as MatchIt reads it
        est = spec["estimand"]
        c.one_of(f"{key}.estimand", est.upper() if isinstance(est, str) else est, ESTIMANDS)
    for k in ("reuse_max", "min_controls"):
        if k in spec:
            c.number(f"{key}.{k}", spec[k], 1, None, integer=True)
    for k in ("ratio", "max_controls"):      # a variable ratio's average may be fractional
        if k in spec:
            c.number(f"{key}.{k}", spec[k], 1, None)
    if "tol" in spec:
        c.number(f"{key}.tol", spec["tol"], 0, None, open_low=True)
    if "subclass" in spec:
        s = spec["subclass"]
        if isinstance(s, list):
            if not s or not all(_is_num(q) and 0 < q < 1 for q in s):
                c.add(f"{key}.subclass", s, "a whole number of subclasses of at least 2, or a "
                      "list of quantiles between 0 and 1")
        else:
            c.number(f"{key}.subclass", s, 2, None, integer=True)
    if "caliper" in spec:
        cal = spec["caliper"]
        values = cal.values() if isinstance(cal, dict) else [cal]
        if not all(_is_num(v) and v != 0 for v in values) or (
                isinstance(cal, dict) and not all(isinstance(n, str) for n in cal)):
            c.add(f"{key}.caliper", cal, "a nonzero number (a negative one is a least "
                  "distance), or a mapping of variable names to such numbers")
    if "std_caliper" in spec:
        sc = spec["std_caliper"]
        values = sc.values() if isinstance(sc, dict) else sc if isinstance(sc, list) else [sc]
        if not all(isinstance(v, bool) for v in values):
            c.add(f"{key}.std_caliper", sc, "true or false (or one per caliper)")
    for k in ("distance", "k2k_method"):
        if k in spec and not (isinstance(spec[k], str) and spec[k].strip()):
            c.add(f"{key}.{k}", spec[k], "a name such as 'glm' or 'mahalanobis'")
    if "cutpoints" in spec and not isinstance(spec["cutpoints"], int | str | dict):
        c.add(f"{key}.cutpoints", spec["cutpoints"], "a number, a rule name such as 'sturges', "
              "or a mapping of variable names to either")


def _iso_date(value):
    """Return a ``datetime.date`` from a YAML date or an ISO text ``YYYY-MM-DD``, else None."""
    import datetime

    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _check(raw, path: str) -> None:
    from evaluation.schema import PHASES, PRIOR

    c = _Checker(path)
    top = ("outcomes", "prior", "covariates", "matching", "inference", "power", "disclosure")
    if not c.keys("(top level)", raw, top, ("plan_version", "plan_date", "prior_degree", "labels",
                                            "funding", "glossary", "glossary_published")):
        raise PlanError(f"{path}: the plan is not a YAML mapping; expected keys {list(top)}")
    if "outcomes" in raw:
        _check_outcomes(c, raw["outcomes"])
    if "prior" in raw and c.keys("prior", raw["prior"], (), PHASES):
        for phase, col in raw["prior"].items():
            if phase in PHASES:
                c.one_of(f"prior.{phase}", col, [PRIOR[phase]])
    if "covariates" in raw:
        cov = raw["covariates"]
        if not isinstance(cov, list) or any(x not in _COVARIATES for x in cov) or \
                len(set(map(str, cov))) != len(cov):
            c.add("covariates", cov, f"a list of distinct names among {list(_COVARIATES)}")
    if "labels" in raw and (not isinstance(raw["labels"], dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw["labels"].items())):
        c.add("labels", raw["labels"], "a mapping of column names to the words readers see")
    if "plan_date" in raw and _iso_date(raw["plan_date"]) is None:
        c.add("plan_date", raw["plan_date"], "a date in ISO 8601 form, YYYY-MM-DD, such as "
              "2026-11-25 (the date this version of the plan was fixed)")
    if "prior_degree" in raw:
        c.number("prior_degree", raw["prior_degree"], 1, 5, integer=True)
    if "funding" in raw:
        _check_funding(c, raw["funding"])
    for key in ("glossary", "glossary_published"):
        if key not in raw:
            continue
        g = raw[key]
        if not isinstance(g, dict):
            c.add(key, g, "a mapping of terms to their explanations")
        else:
            for k, v in g.items():
                if not (isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()):
                    c.add(f"{key}[{k!r}]", v, "a term with a non-empty text explaining it")
    if "matching" in raw:
        _check_matching(c, raw["matching"])
    if "inference" in raw and c.keys("inference", raw["inference"], (
            "cluster", "alpha"), ("wild_bootstrap_below", "bootstrap_reps", "multiplicity")):
        inf = raw["inference"]
        c.one_of("inference.cluster", inf.get("cluster"), ["school_id"])
        c.number("inference.alpha", inf.get("alpha"), 0, 1, open_low=True, open_high=True)
        for k, low in (("wild_bootstrap_below", 0), ("bootstrap_reps", 1)):
            if k in inf:
                c.number(f"inference.{k}", inf[k], low, None, integer=True)
        if "multiplicity" in inf:
            c.one_of("inference.multiplicity", inf["multiplicity"], _MULTIPLICITY)
    if "power" in raw and c.keys("power", raw["power"], (), (
            "icc_default", "r2_pupil", "power", "indicative_mdes")):
        pw = raw["power"]
        for k in ("icc_default", "r2_pupil"):
            if k in pw:
                c.number(f"power.{k}", pw[k], 0, 1, open_high=True)
        if "power" in pw:
            c.number("power.power", pw["power"], 0, 1, open_low=True, open_high=True)
        if "indicative_mdes" in pw:
            c.number("power.indicative_mdes", pw["indicative_mdes"], 0, None, open_low=True)
    if "disclosure" in raw and c.keys("disclosure", raw["disclosure"], ("threshold",),
                                      DISCLOSURE_KEYS):
        d = raw["disclosure"]
        c.number("disclosure.threshold", d.get("threshold"), 1, None, integer=True)
        if "marker" in d and (not isinstance(d["marker"], str) or not d["marker"].strip()
                              or re.search(r"\d", d["marker"])):
            # a digit would read as a count ("5" for a suppressed cell)
            c.add("disclosure.marker", d["marker"], "a non-empty text without digits, such "
                  "as 'c'")
        if "round_counts_to" in d and d["round_counts_to"] != 1:
            # review of issue 14: the key was checked but nothing rounded
            c.add("disclosure.round_counts_to", d["round_counts_to"], "1 (counts are "
                  "suppressed below the threshold, not rounded: rounding is not implemented)")
        _check_acro_rules(c, d)
    if c.problems:
        n = len(c.problems)
        raise PlanError(f"{path}: the analysis plan is invalid ({n} problem"
                        f"{'s' if n > 1 else ''}):\n  " + "\n  ".join(c.problems))


def _check_funding(c: _Checker, f) -> None:
    """Check the programme's grants: per school by phase and role, per LA, years (GBP)."""
    from evaluation.schema import PHASES

    if not c.keys("funding", f, (), ("currency", "years", "per_school", "per_la")):
        return
    if "currency" in f:
        c.one_of("funding.currency", f["currency"], ["GBP"])
    if "years" in f:
        c.number("funding.years", f["years"], 0, None, open_low=True)
    if "per_school" in f and c.keys("funding.per_school", f["per_school"], (), PHASES):
        for phase, grants in f["per_school"].items():
            if phase in PHASES and c.keys(f"funding.per_school.{phase}", grants, (),
                                          ("trial", "partner")):
                for role, amount in grants.items():
                    if role in ("trial", "partner"):
                        c.number(f"funding.per_school.{phase}.{role}", amount, 0, None)
    if "per_la" in f and c.keys("funding.per_la", f["per_la"], (), PHASES):
        for phase, amount in f["per_la"].items():
            if phase in PHASES:
                c.number(f"funding.per_la.{phase}", amount, 0, None)


#: Optional keys of the plan's ``disclosure`` section (``threshold`` is required). Beside the
#: marker and rounding, ACRO's rules with ACRO's names (``evaluation.sdc_rules``; ``threshold``
#: is ACRO's ``safe_threshold``).
DISCLOSURE_KEYS = ("marker", "round_counts_to", "safe_dof_threshold", "safe_nk_n", "safe_nk_k",
                   "safe_pratio_p", "zeros_are_disclosive", "check_missing_values")


def _check_acro_rules(c: _Checker, d: dict) -> None:
    """ACRO's rule parameters: whole numbers, shares strictly between 0 and 1, true/false."""
    if "safe_dof_threshold" in d:
        c.number("disclosure.safe_dof_threshold", d["safe_dof_threshold"], 1, None,
                 integer=True)
    if "safe_nk_n" in d:
        c.number("disclosure.safe_nk_n", d["safe_nk_n"], 1, None, integer=True)
    for k in ("safe_nk_k", "safe_pratio_p"):
        if k in d:
            c.number(f"disclosure.{k}", d[k], 0, 1, open_low=True, open_high=True)
    for k in ("zeros_are_disclosive", "check_missing_values"):
        if k in d and not isinstance(d[k], bool):
            c.add(f"disclosure.{k}", d[k], "true or false")


def load_plan(path: str | Path | None = None) -> Plan:
    """Read an analysis plan.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Defaults to the project's ``analysis.yml``.

    Returns
    -------
    Plan

    Raises
    ------
    PlanError
        The file is missing or is not YAML (naming the file and line), or a key holds a value
        the analysis cannot use (naming the key, what was found and the allowed values). Every
        problem is listed at once.

    Examples
    --------
    >>> load_plan().matching_specs()[0]["method"]
    'exact'
    """
    path = Path(path) if path is not None else config.ANALYSIS_PLAN
    if not path.is_file():
        raise PlanError(f"{path}: analysis plan not found; expected a YAML file such as the "
                        "project's analysis.yml")
    data = path.read_bytes()
    raw = read_yaml(data, str(path), PlanError)
    _check(raw, str(path))
    return Plan(raw=raw, path=str(path), sha256=hashlib.sha256(data).hexdigest())
