"""Outcome GLMs on matched data: effects with cluster-robust or wild-bootstrap inference."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import patsy
from scipy.special import expit
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM, GLMResultsWrapper
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from evaluation import effects
from evaluation.config import DEFAULT_SEED
from evaluation.exceptions import DataError, ModelWarning, NotEstimableError
from evaluation.inference import (
    METHODS,
    ClusterDesign,
    Method,
    bootstrap_pvalue,
    cluster_vcov,
    cr2_projections,
    critical_value,
    glm_wild_bootstrap,
    reparameterise,
    satterthwaite_df,
    t_critical,
    t_pvalue,
    webb_weights,
)
from evaluation.inference_fitness import few_cluster_method
from evaluation.numbers import signed
from evaluation.schema import ETHNICITIES, SEN_LEVELS

#: Default of ``inference.wild_bootstrap_below`` when no plan is given.
WILD_BELOW = 30

#: Fewer schools than this: cluster-robust and wild-bootstrap inference is unreliable, so warn
#: (and flag the estimates not informative): :data:`evaluation.inference.MIN_CLUSTERS`.
FEW_SCHOOLS = METHODS["wild"].min_clusters

#: Reference level first: the levels of the schema's categorical covariates.
LEVELS = {"sen": SEN_LEVELS, "ethnicity": ETHNICITIES}

#: A covariate term ``"<column>^<k>"`` (k = 2..9): the column's k-th power, centred at its mean
#: in the analysed rows (e.g. ``"ks2_aps^2"`` for a quadratic in prior attainment).
_POWER = re.compile(r"^(?P<base>.+)\^(?P<k>[2-9])$")


@dataclass(frozen=True)
class Design:
    """Rows analysed and their model matrix.

    Attributes
    ----------
    frame : pandas.DataFrame
        The analysed rows (a copy; the caller's frame is untouched): with the columns the
        model reads, or every column for a formula's design.
    X : pandas.DataFrame
        Model matrix: ``const``, the treatment, the interaction if any, then covariates
        (dummies for categorical ones, reference = first level).
    y, weights : numpy.ndarray
        Outcome and prior weights.
    groups : numpy.ndarray
        Cluster codes 0..G-1.
    exclusions : dict
        Rows left out, by reason.
    dropped : tuple of str
        Model-matrix columns dropped as constant or aliased (as R's ``glm`` reports NA).
    """

    frame: pd.DataFrame
    X: pd.DataFrame
    y: np.ndarray
    weights: np.ndarray
    groups: np.ndarray
    exclusions: dict
    dropped: tuple


def _base(column: str) -> str:
    """Column a covariate term reads: ``"ks2_aps^2"`` (a centred power) reads ``ks2_aps``."""
    match = _POWER.match(column)
    return match["base"] if match else column


def _require(data: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in dict.fromkeys(map(_base, columns)) if c not in data.columns]
    if missing:
        raise DataError(f"`data` lacks column(s) {missing}; it has {list(data.columns)}")


def _rows(data: pd.DataFrame, outcome: str, covariates: list[str], treatment: str,
          weights: str | None, cluster: str, every_column: bool = False
          ) -> tuple[pd.DataFrame, dict]:
    exclusions: dict[str, int] = {}
    keep = np.ones(len(data), dtype=bool)
    columns = [outcome, treatment, *covariates] + ([cluster] if cluster else [])
    for col in dict.fromkeys(map(_base, columns)):
        miss = keep & data[col].isna().to_numpy()
        if miss.any():
            exclusions[f"missing {col}"] = int(miss.sum())
        keep &= ~miss
    if weights is not None:
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy()
        bad = keep & ~(w > 0)
        if bad.any():
            exclusions[f"zero or missing {weights}"] = int(bad.sum())
        keep &= ~bad
        columns.append(weights)
    # only the columns the model reads are taken: taking every column of a pupil table (its
    # text columns through Arrow) cost more than the rest of the design; a formula's
    # (``every_column``) may read others in ways patsy alone knows
    read = slice(None) if every_column else list(dict.fromkeys(map(_base, columns)))
    return data.loc[keep, read].reset_index(drop=True), exclusions


def _expand(frame: pd.DataFrame, col: str) -> tuple[list[str], np.ndarray]:
    """Model-matrix columns of one covariate: names and values (rows x columns)."""
    power = _POWER.match(col)
    if power:
        base = frame[power["base"]].to_numpy(float)
        return [col], ((base - base.mean()) ** int(power["k"]))[:, None]
    s = frame[col]
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return [col], s.to_numpy(float)[:, None]
    codes, values = pd.factorize(s)          # the analysed rows have no missing value
    values = list(pd.Series(values).astype(str))   # as astype(str) writes them (1 and "1" alike)
    levels = LEVELS.get(col) or tuple(sorted(set(values)))
    where = pd.Index(levels).get_indexer(values)
    if (where < 0).any():
        unknown = sorted({v for v, i in zip(values, where, strict=True) if i < 0})
        raise DataError(f"column {col!r} has values {unknown}; allowed: {list(levels)}")
    codes = where[codes]
    dummies = np.zeros((len(codes), len(levels)))
    dummies[np.arange(len(codes)), codes] = 1.0
    return [f"{col}={v}" for v in levels[1:]], dummies[:, 1:]


def _treatment(frame: pd.DataFrame, treatment: str, outcome: str) -> pd.Series:
    """Return the analysed rows' treatment as booleans; refuse one group alone."""
    treat = frame[treatment].astype(bool)
    if treat.all() or not treat.any():
        raise NotEstimableError(f"the analysed rows for {outcome!r} have "
                                f"{'no comparison' if treat.all() else 'no treated'} rows")
    return treat


def _drop_aliased(X: pd.DataFrame, protect: list[str]) -> tuple[pd.DataFrame, tuple]:
    names = list(X.columns)
    values = X.to_numpy(float)
    constant = (values == values[:1]).all(axis=0) if len(values) else np.ones(len(names), bool)
    dropped = [c for c, k in zip(names, constant, strict=True)
               if k and c not in ("const", "Intercept")]
    for c in protect:
        if c in dropped:
            raise NotEstimableError(f"`{c}` does not vary in the analysed rows, so its effect "
                                    "cannot be estimated")
    keep = [i for i, c in enumerate(names) if c not in dropped]
    while True:  # drop the first column aliased with earlier ones, as R's glm reports NA
        kept = values[:, keep]
        diag = np.abs(np.diag(np.linalg.qr(kept / np.linalg.norm(kept, axis=0), "r")))
        aliased = np.flatnonzero(diag < 1e-7)
        if not len(aliased):
            break
        c = names[keep[aliased[0]]]
        if c in protect:
            raise NotEstimableError(f"`{c}` is collinear with the covariates in the analysed "
                                    "rows, so its effect cannot be estimated")
        dropped.append(c)
        keep.remove(keep[aliased[0]])
    if len(keep) < len(names):
        X = X.iloc[:, keep]
    return X, tuple(dropped)


def build_design(data: pd.DataFrame, outcome: str, covariates: list[str], treatment: str = "em",
                 weights: str | None = "weights", cluster: str = "school_id",
                 interaction: str | None = None) -> Design:
    """Select the analysable rows (counting every exclusion) and build the model matrix.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2, 3, None], "em": [True, False, True, False],
    ...                    "x": [0.1, 0.5, 0.2, 0.3], "school_id": ["a", "a", "b", "b"]})
    >>> d = build_design(df, "y", ["x"], weights=None)
    >>> list(d.X.columns), d.exclusions
    (['const', 'em', 'x'], {'missing y': 1})
    """
    extra = [interaction] if interaction and interaction not in covariates else []
    covariates = [c for c in covariates if c != treatment] + extra
    _require(data, [outcome, treatment, *covariates, cluster] + ([weights] if weights else []))
    frame, exclusions = _rows(data, outcome, covariates, treatment, weights, cluster)
    if frame.empty:
        raise NotEstimableError(f"no row has {outcome!r} and every covariate observed "
                                f"(exclusions: {exclusions})")
    treat = _treatment(frame, treatment, outcome).to_numpy(float)
    names, parts = ["const", treatment], [np.ones((len(frame), 1)), treat[:, None]]
    protect = [treatment]
    if interaction:
        names.append(f"{treatment}:{interaction}")
        parts.append((treat * frame[interaction].to_numpy(float))[:, None])
        protect.append(names[-1])
    for c in covariates:
        more, values = _expand(frame, c)
        names += more
        parts.append(values)
    X, dropped = _drop_aliased(pd.DataFrame(np.hstack(parts), columns=names), protect)
    w = frame[weights].to_numpy(float) if weights else np.ones(len(frame))
    groups = pd.factorize(frame[cluster], sort=True)[0]
    return Design(frame, X, frame[outcome].to_numpy(float), w, groups, exclusions, dropped)


# --------------------------------------------------------------------------- formulas

def _formula_columns(formula: str, data: pd.DataFrame) -> tuple[str, list[str]]:
    """Outcome and the other data columns a patsy formula reads, in order of appearance."""
    if "~" not in formula:
        raise ValueError(f"`formula` should read 'outcome ~ terms'; got {formula!r}")
    desc = patsy.ModelDesc.from_formula(formula)
    names = []
    for term in [*desc.lhs_termlist, *desc.rhs_termlist]:
        for factor in term.factors:
            tree = ast.parse(factor.code, mode="eval")
            names += [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
            names += [a.value for n in ast.walk(tree)    # patsy's Q("a column name")
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                      and n.func.id == "Q" for a in n.args
                      if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    names = [n for n in dict.fromkeys(names) if n in data.columns]
    lhs = [f.code for t in desc.lhs_termlist for f in t.factors]
    if len(lhs) != 1 or lhs[0] not in data.columns:
        raise ValueError(f"`formula` {formula!r} should have one data column on the left; "
                         f"got {lhs}")
    return lhs[0], [n for n in names if n != lhs[0]]


def design_from_formula(data: pd.DataFrame, formula: str, treatment: str,
                        weights: str | None = None, cluster: str | None = None,
                        eval_env: int = 0) -> tuple[Design, str | None]:
    """Build a :class:`Design` from a patsy formula, counting every excluded row.

    Boolean columns enter as 0/1 numbers (so ``em`` stays ``em``, not ``em[T.True]``);
    strings become treatment-coded dummies as patsy names them (``sen[T.support]``); the
    treatment must appear as a 0/1 column named ``treatment``. A term ``treatment:z`` with a
    binary ``z`` is the gap interaction.

    Returns
    -------
    Design, str or None
        The design and the interacted column (None without an interaction).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2, 3, None, 5], "em": [True, False, True, False, True],
    ...                    "x": [0.1, 0.5, 0.2, 0.3, 0.9], "s": ["a", "a", "b", "b", "b"]})
    >>> d, inter = design_from_formula(df, "y ~ em + np.log(x)", "em", cluster="s")
    >>> list(d.X.columns), d.exclusions, inter
    (['Intercept', 'em', 'np.log(x)'], {'missing y': 1}, None)
    """
    outcome, used = _formula_columns(formula, data)
    if treatment not in used:
        raise ValueError(f"`formula` {formula!r} does not contain the treatment {treatment!r}")
    cluster_cols = [cluster] if cluster else []
    _require(data, [outcome, *used, *cluster_cols] + ([weights] if weights else []))
    others = [c for c in used if c != treatment]
    frame, exclusions = _rows(data, outcome, others, treatment, weights, cluster,
                              every_column=True)
    if frame.empty:
        raise NotEstimableError(f"no row has every variable of {formula!r} observed "
                                f"(exclusions: {exclusions})")
    frame = frame.astype({c: float for c in used if pd.api.types.is_bool_dtype(frame[c])})
    env = patsy.EvalEnvironment.capture(eval_env + 1)
    y, X = patsy.dmatrices(formula, frame, return_type="dataframe", NA_action="raise",
                           eval_env=env)
    X = X.rename(columns=lambda c: _order_interaction(c, treatment))
    if treatment not in X.columns or not set(np.unique(X[treatment])) <= {0.0, 1.0}:
        raise ValueError(f"the treatment {treatment!r} should enter `formula` as a 0/1 column "
                         f"named {treatment!r}; the model matrix has {list(X.columns)}")
    inter = [c for c in X.columns if c.startswith(f"{treatment}:")]
    if len(inter) > 1:
        raise ValueError(f"`formula` {formula!r} interacts {treatment!r} with more than one "
                         f"column ({inter}); one binary column at most")
    interaction = inter[0].split(":", 1)[1] if inter else None
    if interaction and (interaction not in frame
                        or not set(np.unique(frame[interaction].astype(float))) <= {0.0, 1.0}):
        raise ValueError(f"{treatment!r} should interact with a binary 0/1 data column; got "
                         f"{inter[0]!r}")
    _treatment(frame, treatment, outcome)
    X, dropped = _drop_aliased(X, [treatment, *inter])
    w = frame[weights].to_numpy(float) if weights else np.ones(len(frame))
    groups = (pd.factorize(frame[cluster], sort=True)[0] if cluster
              else np.arange(len(frame)))
    return Design(frame, X, y.iloc[:, 0].to_numpy(float), w, groups, exclusions,
                  dropped), interaction


def _order_interaction(column: str, treatment: str) -> str:
    parts = column.split(":")
    if len(parts) == 2 and parts[1] == treatment:
        return f"{treatment}:{parts[0]}"
    return column


# --------------------------------------------------------------------------- families

@dataclass(frozen=True)
class _Family:
    make: Callable[[], families.Family]           # statsmodels family factory
    mean: Callable[[np.ndarray], np.ndarray]      # inverse link
    dmean: Callable[[np.ndarray], np.ndarray]     # d mean / d eta
    variance: Callable[[np.ndarray], np.ndarray]  # variance function of the mean


FAMILIES = {
    "gaussian": _Family(families.Gaussian, lambda e: e, np.ones_like, np.ones_like),
    "binomial": _Family(families.Binomial, expit, lambda e: expit(e) * (1 - expit(e)),
                        lambda m: m * (1 - m)),
}

#: Inference methods by name (see :data:`evaluation.inference.METHODS`); "auto" picks "wild"
#: below ``wild_below`` clusters, else "CR1".
INFERENCE = METHODS


# --------------------------------------------------------------------------- inference

@dataclass(frozen=True)
class Engine:
    """Tests and intervals for functions of one fitted model's coefficients, by one method.

    Every reported quantity (effect terms and coefficients) is tested by the same method the
    model reports: the same variance, the same reference distribution, and for the wild
    bootstrap the same bootstrap draws; the interval is ``estimate +/- critical x se`` with
    the critical value of that same distribution, so ``p < alpha`` exactly when the interval
    excludes zero.
    """

    method: Method
    family: str
    design: Design
    beta: np.ndarray
    vcov: np.ndarray
    clusters: ClusterDesign
    alpha: float
    n_boot: int
    draws: np.ndarray | None = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def projections(self) -> np.ndarray:
        """CR2 adjustment rows (for the Satterthwaite degrees of freedom)."""
        return cr2_projections(self.clusters)

    def df(self, grad: np.ndarray) -> float | None:
        """Degrees of freedom of the reference t distribution (None: normal or bootstrap)."""
        n, k = self.design.X.shape
        return {"normal": lambda: None, "bootstrap": lambda: None,
                "residual": lambda: float(n - k),
                "clusters": lambda: float(self.clusters.n_clusters - 1),
                "satterthwaite": lambda: satterthwaite_df(self.clusters, grad,
                                                          self.projections)
                }[self.method.reference]()

    def label(self, df: float | None) -> str:
        """How an estimate with ``df`` degrees of freedom was tested."""
        return self.method.label(df, self.n_boot, self.family)

    def t_star(self, grad: np.ndarray, null: float, statistic: float) -> np.ndarray:
        """Bootstrap statistics of ``grad' beta = null`` (restricted fit, shared draws)."""
        key = (tuple(np.round(grad, 12)), round(null, 12))
        if key not in self._cache:
            d, fam = self.design, FAMILIES[self.family]
            X = d.X.to_numpy()
            if self.family == "gaussian":   # the working response is y itself
                mu = eta = np.zeros(len(d.y))
                var = np.ones(len(d.y))
            else:
                xt, j = reparameterise(X, grad)
                offset = null * xt[:, j]
                with warnings.catch_warnings(), np.errstate(over="ignore"):
                    warnings.simplefilter("ignore")
                    fit = GLM(d.y, np.delete(xt, j, axis=1), family=fam.make(),
                              var_weights=d.weights, offset=offset).fit()
                mu = np.asarray(fit.fittedvalues)
                eta = np.delete(xt, j, axis=1) @ np.asarray(fit.params) + offset
                var = fam.variance(mu)
            res = glm_wild_bootstrap(X, d.y, d.weights, d.groups, grad, null, mu, var, eta,
                                     statistic, self.n_boot, self.alpha, draws=self.draws)
            self._cache[key] = res.t_star
        return self._cache[key]

    def test(self, value: float, grad, alpha: float | None = None) -> dict:
        """Test ``value = 0`` for a (linearised) function with gradient ``grad``.

        For a nonlinear function the bootstrap imposes the linearised null
        ``grad' beta = grad' beta_hat - value`` and compares the delta-method t.
        """
        alpha = self.alpha if alpha is None else alpha
        grad = np.asarray(grad, dtype=float)
        se = float(np.sqrt(grad @ self.vcov @ grad))
        stat = value / se if se > 0 else np.nan
        df = self.df(grad)
        if self.method.reference == "bootstrap":
            t_star = self.t_star(grad, float(grad @ self.beta - value), stat)
            p, crit = bootstrap_pvalue(stat, t_star), critical_value(t_star, alpha)
            if not (np.isfinite(p) and np.isfinite(crit) and np.isfinite(t_star).all()):
                raise _BootstrapFailed
            df = float(self.clusters.n_clusters - 1)  # of the CR1 statistic, for reference
        else:
            p, crit = t_pvalue(stat, df), t_critical(alpha, df)
        return {"estimate": float(value), "se": se, "statistic": stat, "df": df,
                "p": float(p), "critical": crit, "ci_low": value - crit * se,
                "ci_high": value + crit * se,
                "inference": self.label(None if self.method.reference == "bootstrap"
                                        else df)}


class _BootstrapFailed(Exception):
    pass


def _engine(d: Design, glm, family: str, method: Method, alpha: float, n_boot: int,
            rng) -> Engine:
    fam = FAMILIES[family]
    mu = np.asarray(glm.fittedvalues)
    X = d.X.to_numpy()
    groups = d.groups if method.clustered else np.arange(len(d.y))
    cd = ClusterDesign(X, d.y - mu, d.weights, fam.variance(mu), groups)
    vcov = np.asarray(glm.cov_params()) if method.vcov is None else cluster_vcov(cd,
                                                                                 method.vcov)
    draws = (webb_weights(cd.n_clusters, n_boot, rng) if method.reference == "bootstrap"
             else None)
    return Engine(method, family, d, np.asarray(glm.params), vcov, cd, alpha, n_boot, draws)


# --------------------------------------------------------------------------- effects

def average_effect(fam: _Family, beta, X: pd.DataFrame, rows, treatment, interaction, frame,
                   weights):
    """Weighted mean over ``rows`` of mean(x, treated) - mean(x, untreated), with gradient.

    Parameters
    ----------
    fam : _Family
        Entry of :data:`FAMILIES` (its inverse link and derivative).
    beta : array-like
        Coefficients, in the order of ``X``'s columns.
    X : pandas.DataFrame
        Model matrix.
    rows : array-like of bool
        Rows averaged over (e.g. the treated pupils).
    treatment, interaction : str
        Treatment column and interacted column (None: none).
    frame : pandas.DataFrame
        The analysed rows (for the interacted column's values).
    weights : numpy.ndarray
        Prior weights of all rows.

    Returns
    -------
    float, numpy.ndarray
        The average effect and its gradient with respect to ``beta``.

    Examples
    --------
    >>> X = pd.DataFrame({"const": 1.0, "em": [1.0, 1, 0, 0]})
    >>> value, grad = average_effect(FAMILIES["gaussian"], np.array([2.0, 3.0]), X,
    ...                              np.array([True, True, False, False]), "em", None, X,
    ...                              np.ones(4))
    >>> value, grad.tolist()
    (3.0, [0.0, 1.0])
    """
    cols = list(X.columns)
    if len(set(cols)) < len(cols) or treatment not in cols:
        raise ValueError(f"`X`: expected columns named once each, among them the treatment "
                         f"{treatment!r}; got {cols}")
    if isinstance(rows, pd.Series) and not rows.index.equals(X.index):
        raise ValueError("`rows`: a Series must have the index of `X`")
    rows = np.asarray(rows)
    # in numpy, not pandas (a third of the time of an impact table's intervals went to
    # copying frames); column-major like a frame's values, so the products are the same
    x1 = np.array(X.to_numpy(dtype=float)[rows], order="F")
    x0 = x1.copy(order="F")
    j = cols.index(treatment)
    x1[:, j], x0[:, j] = 1.0, 0.0
    name = f"{treatment}:{interaction}"
    if interaction and name in cols:
        if len(frame) != len(X) or not frame.index[rows].equals(X.index[rows]):
            raise ValueError("`frame`: expected the rows of `X` (the same index), as the "
                             "design gives them")
        j = cols.index(name)
        x1[:, j] = frame[interaction].to_numpy(dtype=float)[rows]
        x0[:, j] = 0.0
    w = weights[rows]
    w = w / w.sum()
    e1, e0 = x1 @ beta, x0 @ beta
    value = float(w @ (fam.mean(e1) - fam.mean(e0)))
    grad = (w * fam.dmean(e1)) @ x1 - (w * fam.dmean(e0)) @ x0
    return value, grad


def _index_effect(fam: _Family, eng: Engine, rows, contrast, treatment, interaction):
    """Test an effect that is a monotone function of one index ``theta = c' beta`` (0 at 0).

    The average effect over ``rows`` with every other coefficient held at its estimate
    increases with ``theta``; ``theta`` is tested and its interval mapped to the effect's
    scale, so the effect's interval excludes 0 exactly when the test rejects (for the
    identity link the map is the identity).
    """
    d, beta = eng.design, eng.beta
    value, grad = average_effect(fam, beta, d.X, rows, treatment, interaction, d.frame,
                                 d.weights)
    theta = float(contrast @ beta)
    res = eng.test(theta, contrast)
    def at(t):
        b = beta + contrast * (t - theta) / float(contrast @ contrast)
        return average_effect(fam, b, d.X, rows, treatment, interaction, d.frame,
                              d.weights)[0]
    se = float(np.sqrt(grad @ eng.vcov @ grad))
    lo, hi = (res["ci_low"], res["ci_high"]) if fam is FAMILIES["gaussian"] else (
        at(res["ci_low"]), at(res["ci_high"]))
    return {**res, "estimate": value, "se": se, "ci_low": lo, "ci_high": hi, "index": theta,
            "index_ci": (res["ci_low"], res["ci_high"])}


def _terms(fam, eng: Engine, treatment, interaction) -> tuple[pd.DataFrame, dict]:
    """Estimate the reported terms: effect on treated rows, or per group and the gap change."""
    d = eng.design
    cols = list(d.X.columns)
    treat = d.frame[treatment].astype(bool).to_numpy()
    unit = np.zeros(len(cols))
    unit[cols.index(treatment)] = 1.0
    if interaction:
        z = d.frame[interaction].astype(bool).to_numpy()
        both = unit.copy()
        both[cols.index(f"{treatment}:{interaction}")] = 1.0
        label = interaction.upper()
        groups = {f"effect for {label} pupils": (z, both), "effect for other pupils": (~z, unit)}
    else:
        groups = {"effect on EM pupils": (np.ones(len(treat), dtype=bool), unit)}
    counts = {k: (int((treat & g).sum()), int((~treat & g).sum()))
              for k, (g, _) in groups.items()}
    rows = {k: _index_effect(fam, eng, treat & g, c, treatment, interaction)
            for k, (g, c) in groups.items() if (treat & g).any()}
    if interaction and len(rows) == 2:
        (k1, (g1, _)), (k2, (g2, _)) = groups.items()
        v1, d1 = average_effect(fam, eng.beta, d.X, treat & g1, treatment, interaction,
                                d.frame, d.weights)
        v2, d2 = average_effect(fam, eng.beta, d.X, treat & g2, treatment, interaction,
                                d.frame, d.weights)
        change = f"change in the {interaction.upper()} gap"
        rows[change] = eng.test(v1 - v2, d1 - d2)
        counts[change] = tuple(map(min, zip(*counts.values(), strict=True)))
    table = pd.DataFrame([{"term": k, **{c: r[c] for c in _TERM_COLUMNS}, "n_em": counts[k][0],
                           "n_comparison": counts[k][1]} for k, r in rows.items()])
    return table, rows


_TERM_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "p", "df", "critical", "inference"]
# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class OutcomeResult:
    """One outcome model: the statsmodels fit, the effect, its uncertainty and the sample.

    Attributes
    ----------
    outcome, family : str
        Outcome column and GLM family (``gaussian`` or ``binomial``).
    glm : statsmodels GLMResults
        The fitted weighted GLM (its own standard errors are model-based; the robust ones are
        in :meth:`coef_table`).
    estimate, se, ci_low, ci_high, p : float
        The adjusted effect on treated pupils: points (Gaussian) or the average marginal
        effect, i.e. risk difference on the 0-1 scale, over treated pupils (binomial). ``p``
        and the interval come from one test (``p < alpha`` exactly when the interval excludes
        0). For a binomial effect the test is of the treatment coefficient and the interval is
        the coefficient's interval carried to the risk-difference scale (other coefficients at
        their estimates), so ``se`` (delta method) is descriptive only.
    odds_ratio, or_ci_low, or_ci_high : float
        Binomial only (NaN otherwise): exp of the treatment coefficient and of its interval.
    effect_size, es_ci_low, es_ci_high : float
        Hedges' g (Gaussian; denominator: pooled unweighted within-group SD of the outcome in
        the analysed sample) or Cox index (binomial; adjusted log odds ratio / 1.65), both with
        the WWC factor ``1 - 3/(4N - 9)``.
    es_type : str
        ``"Hedges' g"`` or ``"Cox index"``.
    months : float
        EEF months of additional progress for ``effect_size``; NaN when not informative.
    inference : str
        How standard errors, CIs and p were obtained.
    n_em, n_comparison, n_schools : int
        Analysed sample (``n_schools``: clusters).
    exclusions : dict
        Rows left out of this model, by reason.
    contrasts : pandas.DataFrame
        ``term, estimate, se, ci_low, ci_high, p, df, critical, inference, n_em,
        n_comparison, informative, not_informative``: the effect on treated pupils, or with an
        interaction the effect for FSM pupils, for other pupils and the change in the FSM gap;
        the counts are the treated and comparison pupils a term rests on (for the change, the
        smaller of the two groups).
    dropped : tuple
        Model-matrix columns dropped as constant or aliased.
    vcov : pandas.DataFrame
        Variance matrix of the coefficients used for inference.
    n_comparison_effective : float
        Kish effective number of comparison pupils under the matching weights.
    icc : float
        ANOVA estimate of the outcome's intraclass correlation within schools (analysed rows).
    method : str
        Key of :data:`evaluation.inference.METHODS` actually used (``"wild"``, ``"CR1"``...).
    inference_requested : str
        The ``inference`` argument (``"auto"`` or a method).
    inference_note : str
        Why the method differs from the one requested ("" when it does not): the ``auto``
        rule's choice, the one-cluster fallback or a failed bootstrap.
    df : float
        Degrees of freedom of the headline test (NaN: normal or bootstrap reference).
    informative : bool
        False when the headline interval is wider than the outcome's possible range or rests
        on fewer clusters than the method needs; then ``months`` is NaN.
    not_informative : str
        Why not ("" when informative).
    alpha : float
        1 - confidence level of the intervals.
    outcome_range : tuple or None
        ``(low, high)`` possible values of the outcome used by the width rule (None: unknown).
    """

    outcome: str
    family: str
    glm: GLMResultsWrapper = field(repr=False)
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float
    effect_size: float
    es_ci_low: float
    es_ci_high: float
    es_type: str
    months: float
    sd_pooled: float
    inference: str
    n_em: int
    n_comparison: int
    n_schools: int
    exclusions: dict
    contrasts: pd.DataFrame = field(repr=False)
    dropped: tuple
    vcov: pd.DataFrame = field(repr=False)
    n_comparison_effective: float = float("nan")
    icc: float = float("nan")
    method: str = ""
    inference_requested: str = ""
    inference_note: str = ""
    df: float = float("nan")
    informative: bool = True
    not_informative: str = ""
    alpha: float = 0.05
    outcome_range: tuple | None = None
    engine: Engine | None = field(default=None, repr=False, compare=False)

    _SUMMARY = ["outcome", "family", "estimate", "se", "ci_low", "ci_high", "p", "odds_ratio",
                "or_ci_low", "or_ci_high", "effect_size", "es_ci_low", "es_ci_high", "es_type",
                "months", "inference", "n_em", "n_comparison", "n_schools", "informative",
                "not_informative", "method", "inference_requested", "inference_note", "df"]

    def summary(self) -> pd.DataFrame:
        """One-row tidy summary of the effect (with ``informative`` and the method used).

        Examples
        --------
        >>> res.summary().columns[:3].tolist()  # doctest: +SKIP
        ['outcome', 'family', 'estimate']
        """
        return pd.DataFrame([{k: getattr(self, k) for k in self._SUMMARY}])

    def coef_table(self, alpha: float | None = None) -> pd.DataFrame:
        """Tidy coefficient table with the model's robust SEs, tests and intervals.

        Each coefficient is tested by the model's method (for the wild bootstrap, one
        restricted bootstrap per coefficient, all with the model's draws), so ``p < alpha``
        exactly when its interval excludes 0.

        Parameters
        ----------
        alpha : float, optional
            1 - confidence level (default: the model's).

        Returns
        -------
        pandas.DataFrame
            Index: model-matrix columns; ``coef, se, statistic, df, p, ci_low, ci_high,
            inference``.

        Examples
        --------
        >>> res.coef_table().loc["em", ["coef", "se", "p"]]  # doctest: +SKIP
        """
        eng = self.engine
        rows = {}
        for j, name in enumerate(self.vcov.index):
            unit = np.zeros(len(self.vcov))
            unit[j] = 1.0
            r = eng.test(float(eng.beta[j]), unit, alpha)
            rows[name] = {"coef": r["estimate"], "se": r["se"], "statistic": r["statistic"],
                          "df": r["df"], "p": r["p"], "ci_low": r["ci_low"],
                          "ci_high": r["ci_high"], "inference": r["inference"]}
        return pd.DataFrame.from_dict(rows, orient="index")

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals of the coefficients, as ``statsmodels`` results give them.

        Examples
        --------
        >>> res.conf_int(0.1).loc["em"]  # doctest: +SKIP
        """
        t = self.coef_table(alpha)
        return pd.DataFrame({0: t["ci_low"], 1: t["ci_high"]})

    @property
    def params(self) -> pd.Series:
        """Coefficients (as ``GLMResults.params``)."""
        return self.glm.params

    @property
    def bse(self) -> pd.Series:
        """Standard errors of the coefficients by the model's method."""
        return pd.Series(np.sqrt(np.diag(self.vcov)), index=self.vcov.index)

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`evaluation.multilevel.specification_table`."""
        return [{"outcome": self.outcome, "model": f"weighted GLM ({self.family})",
                 "estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high,
                 "p": self.p, "effect_size": self.effect_size, "es_type": self.es_type,
                 "n_em": self.n_em, "n_comparison": self.n_comparison,
                 "n_schools": self.n_schools, "inference": self.inference,
                 "informative": self.informative, "not_informative": self.not_informative,
                 "method": "glm", "df_resid": float(self.glm.df_resid)}]

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _fit_glm(d: Design, family: str):
    fam = FAMILIES[family]
    # exp() overflowing in the logit inverse is a symptom of separation, reported below
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="ignore"):
        warnings.simplefilter("always")
        glm = GLM(d.y, d.X, family=fam.make(), var_weights=d.weights).fit()
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    for w in caught:  # propagate: convergence and separation warnings are findings
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return glm, separated


def _check_separation(d: Design, outcome: str, treatment: str) -> None:
    treat = d.frame[treatment].astype(bool).to_numpy()
    for name, rows in (("treated", treat), ("comparison", ~treat)):
        values = np.unique(d.y[rows])
        if len(values) < 2:
            label = "EM" if name == "treated" and treatment == "em" else name
            raise NotEstimableError(
                f"{outcome!r}: every {label} pupil analysed has the value {values[0]:g} "
                "(perfect separation), so the odds ratio is infinite; not estimable")


def _choose(inference: str, n_clusters: int, wild_below: int, clustered: bool
            ) -> tuple[str, str]:
    """Pick the method to use; say why it differs from the one asked for ("" if not)."""
    if inference == "auto":
        if not clustered:
            return "HC1", "inference='auto' without a cluster column: HC1"
        if n_clusters < wild_below:  # the first method the simulation study found fit
            method, why = few_cluster_method()
            return method, (f"inference='auto': {n_clusters} clusters, fewer than "
                            f"{wild_below}, so " + (why or "the wild cluster bootstrap"))
        return "CR1", (f"inference='auto': {n_clusters} clusters (at least {wild_below}), "
                       "so CR1 with t(G - 1)")
    return inference, ""


def fit_model(formula: str, data: pd.DataFrame, *, treatment: str, family: str = "gaussian",
              cluster: str | None = None, weights: str | None = None, inference: str = "auto",
              alpha: float = 0.05, n_boot: int = 999, random_state=DEFAULT_SEED,
              wild_below: int = WILD_BELOW, outcome_range: tuple | None = None
              ) -> OutcomeResult:
    """Fit a weighted GLM from a formula and estimate the effect of a binary treatment.

    Parameters
    ----------
    formula : str
        patsy formula, e.g. ``"ks2_aps ~ em + ks1_aps + I(ks1_aps**2) + fsm + C(sen)"``; a
        term ``em:fsm`` (or ``em*fsm``) asks the gap question for the binary column ``fsm``.
    data : pandas.DataFrame
        Not modified. Rows missing any variable the formula reads are excluded and counted.
    treatment : str
        Binary treatment column (must appear in the formula).
    family : {"gaussian", "binomial"}
        Gaussian/identity or binomial/logit.
    cluster : str, optional
        Cluster column (None: no clustering; ``auto`` then means HC1).
    weights : str, optional
        Prior (analytic) weight column, e.g. matching weights.
    inference : {"auto", "wild", "CR0", "CR1", "CR2", "CR3", "HC0", "HC1", "HC2", "HC3", "naive"}
        ``auto``: the restricted wild cluster bootstrap (Webb weights) below ``wild_below``
        clusters, else CR1 with t(G - 1). CR2 uses Bell-McCaffrey degrees of freedom per
        tested quantity; HC methods ignore clusters and use t(N - K).
    alpha : float
        1 - confidence level.
    n_boot : int
        Bootstrap replications.
    random_state : int or numpy.random.Generator
        Seed of the bootstrap.
    wild_below : int
        Threshold of the ``auto`` rule.
    outcome_range : tuple, optional
        ``(low, high)`` possible values of the outcome (default for binomial: (0, 1)): an
        interval wider than ``high - low`` is flagged not informative.

    Returns
    -------
    OutcomeResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"s": np.repeat(np.arange(12), 20), "em": np.tile([1, 0], 120),
    ...                    "x": rng.normal(size=240)})
    >>> df["y"] = 2 * df["em"] + df["x"] + rng.normal(size=240)
    >>> res = fit_model("y ~ em + x", df, treatment="em", cluster="s", n_boot=199)
    >>> res.method
    'wild'
    >>> print(res.inference_note)
    inference='auto': 12 clusters, fewer than 30, so the wild cluster bootstrap
    >>> bool(res.ci_low < res.estimate < res.ci_high), res.coef_table().shape
    (True, (3, 8))
    """
    d, interaction = design_from_formula(data, formula, treatment, weights, cluster,
                                         eval_env=1)
    outcome = _formula_columns(formula, data)[0]
    return _fit(d, outcome, family, treatment, interaction, inference, alpha, n_boot,
                random_state, wild_below, outcome_range, clustered=cluster is not None)


def _fit(d: Design, outcome: str, family: str, treatment: str, interaction: str | None,
         inference: str, alpha: float, n_boot: int, random_state, wild_below: int,
         outcome_range, clustered: bool = True) -> OutcomeResult:
    if family not in FAMILIES:
        raise ValueError(f"`family` should be one of {sorted(FAMILIES)}; got {family!r}")
    allowed = ["auto", *INFERENCE]
    if inference not in allowed:
        raise ValueError(f"`inference` should be one of {allowed}; got {inference!r}")
    if family == "binomial":
        bad = sorted(set(np.unique(d.y)) - {0.0, 1.0})
        if bad:
            raise DataError(f"binomial outcome {outcome!r} should be 0/1; got {bad[:5]}")
        _check_separation(d, outcome, treatment)
        outcome_range = outcome_range or (0.0, 1.0)
    n_obs, n_par = d.X.shape
    if n_obs <= n_par:  # no residual degrees of freedom: CR1's (N-1)/(N-K) is undefined
        raise NotEstimableError(f"{outcome!r}: {n_obs} pupils for {n_par} model parameters; "
                                "the model needs more pupils than parameters")
    glm, separated = _fit_glm(d, family)
    column = list(d.X.columns).index(f"{treatment}:{interaction}" if interaction else treatment)
    coef = float(glm.params.iloc[column])
    if separated and abs(coef) > 10:
        raise NotEstimableError(f"{outcome!r}: perfect separation on {treatment!r} "
                                f"(coefficient {coef:z.1f}); the effect is not estimable")
    n_clusters = int(d.groups.max()) + 1 if clustered else 1
    name, note = _choose(inference, n_clusters, wild_below, clustered)
    method = INFERENCE[name]
    if method.clustered and n_clusters < 2:
        warnings.warn(f"{outcome!r}: one school only, so standard errors cannot be clustered; "
                      "using HC1", ModelWarning, stacklevel=3)
        note = (f"{note}; " if note else "") + (
            f"one cluster only: {name} impossible, HC1 used (clustering ignored)")
        method = INFERENCE["HC1"]
    fam = FAMILIES[family]
    rng = np.random.default_rng(random_state)
    try:  # exp() overflow in the logit inverse gives fitted 0/1: the exact limit
        with np.errstate(over="ignore"):
            eng = _engine(d, glm, family, method, alpha, n_boot, rng)
            if not eng.vcov[column, column] > 0:  # a sandwich is PSD: <= 0 or NaN: failure
                raise NotEstimableError(
                    f"{outcome!r}: the variance of the effect came out "
                    f"{eng.vcov[column, column]:.3g}; the model is too close to singular "
                    "(usually quasi-complete separation) for standard errors")
            try:
                table, rows = _terms(fam, eng, treatment, interaction)
            except _BootstrapFailed:
                warnings.warn("the wild cluster bootstrap failed numerically; using CR1 with "
                              "t(G-1)", ModelWarning, stacklevel=3)
                note = (f"{note}; " if note else "") + "the wild bootstrap failed: CR1 used"
                method = INFERENCE["CR1"]
                eng = _engine(d, glm, family, method, alpha, n_boot, rng)
                table, rows = _terms(fam, eng, treatment, interaction)
            unit = np.zeros(len(eng.beta))
            unit[column] = 1.0
            coef_test = (rows[table["term"].iloc[-1]] if family == "gaussian"
                         and not interaction else eng.test(coef, unit))
    except np.linalg.LinAlgError as err:
        raise NotEstimableError(
            f"{outcome!r}: the information matrix is singular ({err}); usually quasi-complete "
            "separation (a covariate group in which every pupil has the same outcome), so the "
            "standard errors are not estimable") from err
    if 2 <= n_clusters < method.min_clusters:
        warnings.warn(f"{outcome!r}: only {n_clusters} schools, too few for reliable "
                      "cluster-robust inference; read the interval as descriptive",
                      ModelWarning, stacklevel=3)
    needed = INFERENCE[name].min_clusters   # the method asked for, before any fallback
    flags = [effects.informativeness(r["ci_low"], r["ci_high"], outcome_range, n_clusters,
                                     needed, "the wild cluster bootstrap" if name == "wild"
                                     else name, proportion=family == "binomial")
             for r in rows.values()]
    table["informative"] = [f[0] for f in flags]
    table["not_informative"] = [f[1] for f in flags]
    if family == "binomial":  # risk differences cannot leave [-1, 1], their difference [-2, 2]
        bound = np.where(table["term"].str.startswith("change"), 2.0, 1.0)
        table["ci_low"] = np.maximum(table["ci_low"], -bound)
        table["ci_high"] = np.minimum(table["ci_high"], bound)
    head = table.iloc[-1]
    treat = d.frame[treatment].astype(bool).to_numpy()
    n_em, n_comp = int(treat.sum()), int((~treat).sum())
    coef_ci = (coef_test["ci_low"], coef_test["ci_high"])
    omega = effects.small_sample_factor(n_em, n_comp)
    sd = effects.pooled_sd(float(np.std(d.y[treat], ddof=1)), float(np.std(d.y[~treat], ddof=1)),
                           n_em, n_comp)
    if family == "gaussian":
        es = [omega * v / sd for v in (coef, *coef_ci)]
        odds, es_type = (np.nan, np.nan, np.nan), "Hedges' g"
    else:
        es = [effects.cox_from_log_odds(v, n_em, n_comp) for v in (coef, *coef_ci)]
        odds, es_type = tuple(np.exp([coef, *coef_ci])), "Cox index"
    informative = bool(head["informative"])
    return OutcomeResult(
        outcome=outcome, family=family, glm=glm, estimate=float(head["estimate"]),
        se=float(head["se"]), ci_low=float(head["ci_low"]), ci_high=float(head["ci_high"]),
        p=float(head["p"]), odds_ratio=float(odds[0]), or_ci_low=float(odds[1]),
        or_ci_high=float(odds[2]), effect_size=float(es[0]), es_ci_low=float(es[1]),
        es_ci_high=float(es[2]), es_type=es_type,
        months=effects.months_progress(es[0]) if informative else float("nan"),
        sd_pooled=sd, inference=str(head["inference"]), n_em=n_em, n_comparison=n_comp,
        n_schools=n_clusters, exclusions=dict(d.exclusions), contrasts=table,
        dropped=d.dropped, vcov=pd.DataFrame(eng.vcov, index=d.X.columns, columns=d.X.columns),
        n_comparison_effective=effects.kish_n(d.weights[~treat]),
        icc=effects.icc_anova(d.y, d.groups) if clustered else float("nan"),
        method=method.name, inference_requested=inference, inference_note=note,
        df=float("nan") if head["df"] is None or method.reference == "bootstrap"
        else float(head["df"]),
        informative=informative, not_informative=str(head["not_informative"]), alpha=alpha,
        outcome_range=tuple(outcome_range) if outcome_range else None, engine=eng)


def fit_outcome(data: pd.DataFrame, outcome: str | None = None, family: str = "gaussian",
                covariates: list[str] | None = None, treatment: str = "em",
                weights: str | None = "weights", cluster: str = "school_id",
                inference: str = "auto", alpha: float = 0.05, n_boot: int = 999,
                random_state=DEFAULT_SEED, interaction: str | None = None,
                wild_below: int = WILD_BELOW, formula: str | None = None,
                outcome_range: tuple | None = None) -> OutcomeResult:
    """Fit one weighted outcome GLM and estimate the effect of EM with small-sample inference.

    The project's entry point: its column defaults are the pupil table's (``em``,
    ``weights`` from matching, ``school_id``); :func:`fit_model` is the general function
    with no defaults for them.

    Parameters
    ----------
    data : pandas.DataFrame
        Matched data (e.g. ``MatchResult.matched_data()``); not modified.
    outcome : str
        Outcome column (not needed with ``formula``).
    family : {"gaussian", "binomial"}
        Gaussian/identity or binomial/logit.
    covariates : list of str
        Adjustment covariates (prior attainment first, as ``Plan.covariates``); categorical
        ones become dummies with the first schema level as reference; ``"<column>^k"`` adds
        the column's centred k-th power (``"ks2_aps^2"``).
    treatment, weights, cluster : str
        Treatment indicator, matching-weight column (None: unweighted), cluster column.
    inference : str
        As :func:`fit_model` (``auto``, ``wild``, ``CR0``-``CR3``, ``HC0``-``HC3``,
        ``naive``). With one school, HC1 is used, a ModelWarning raised and the result's
        ``inference_note`` says so.
    alpha : float
        1 - confidence level.
    n_boot : int
        Bootstrap replications.
    random_state : int or numpy.random.Generator
        Seed of the bootstrap.
    interaction : str, optional
        Binary covariate interacted with the treatment (``"fsm"``: the gap question).
    wild_below : int
        Threshold of the ``auto`` rule (the plan's ``inference.wild_bootstrap_below``).
    formula : str, optional
        A patsy formula instead of ``outcome`` and ``covariates`` (see :func:`fit_model`).
    outcome_range : tuple, optional
        ``(low, high)`` possible values of the outcome (default: the schema's for known
        outcomes, (0, 1) for binomial ones).

    Returns
    -------
    OutcomeResult

    Raises
    ------
    NotEstimableError
        No EM or comparison pupils, a treatment that does not vary, or perfect separation.
    ValueError
        Unknown ``family`` or ``inference``.

    Examples
    --------
    >>> res = fit_outcome(matched, "ks2_aps", "gaussian", ["ks1_aps", "fsm"])  # doctest: +SKIP
    >>> res.estimate, res.ci_low, res.ci_high  # doctest: +SKIP
    >>> res = fit_outcome(matched, formula="ks2_aps ~ em + ks1_aps + fsm")  # doctest: +SKIP
    """
    if formula is not None:
        if outcome is not None or covariates is not None:
            raise ValueError("give either `formula` or `outcome` and `covariates`, not both")
        d, interaction = design_from_formula(data, formula, treatment, weights, cluster,
                                             eval_env=1)
        outcome = _formula_columns(formula, data)[0]
    else:
        if outcome is None or covariates is None:
            raise ValueError("`outcome` and `covariates` are needed when `formula` is not "
                             "given")
        d = build_design(data, outcome, covariates, treatment, weights, cluster, interaction)
    rng = outcome_range or effects.outcome_range(outcome, family)
    return _fit(d, outcome, family, treatment, interaction, inference, alpha, n_boot,
                random_state, wild_below, rng)


# --------------------------------------------------------------------------- all outcomes

_TABLE = ["outcome", "label", "family", "units", "primary", "n_em", "n_comparison", "n_schools",
          "estimate", "ci_low", "ci_high", "p", "p_holm", "effect_size", "es_ci_low",
          "es_ci_high", "es_type", "odds_ratio", "or_ci_low", "or_ci_high", "months", "icc",
          "icc_source", "mdes", "indicative", "inference", "note", "informative",
          "not_informative", "method", "inference_note", "df"]
_GAP_TABLE = ["outcome", "family", "term", "estimate", "se", "ci_low", "ci_high", "p",
              "inference", "n_em", "n_comparison", "informative", "not_informative", "df"]


@dataclass(frozen=True)
class ImpactResult:
    """Impact of EM on every pre-specified outcome of a phase, with gaps, precision and counts.

    Attributes
    ----------
    outcomes : dict of str to OutcomeResult
        Main-effect fits of the estimable outcomes.
    gaps : dict of str to OutcomeResult
        ``em x fsm`` interaction fits.
    not_estimable : dict of str to str
        Outcome -> reason.
    specs : tuple of dict
        The plan's outcome entries (name, label, family, units, primary).
    precision : pandas.DataFrame
        Per outcome: ``icc``, ``icc_source`` (data or plan default), ``mdes``, ``indicative``.
    exclusions : dict
        Pupils excluded by reason: those passed in (sample construction) plus those dropped by
        each model, keyed ``"<outcome>: <reason>"``.
    n_em, n_comparison, n_schools : int
        Pupils and schools of the data given (each outcome's own counts are in ``table()``).
    alpha : float
        1 - confidence level.
    unfitted : dict of str to dict
        Analysable ``n_em``, ``n_comparison`` and ``n_schools`` of each outcome that could not
        be estimated, so that its row still says how many pupils it rests on.
    """

    outcomes: dict
    gaps: dict
    not_estimable: dict
    specs: tuple
    precision: pd.DataFrame = field(repr=False)
    exclusions: dict
    n_em: int
    n_comparison: int
    n_schools: int
    alpha: float = 0.05
    unfitted: dict = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per pre-specified outcome (NaN and a note when not estimable).

        Besides the effect, its interval, p and Holm's p: ``informative`` (False when the
        interval is wider than the outcome's possible range, rests on fewer clusters than the
        inference method needs, or the outcome is not estimable; ``months`` is then NaN),
        ``not_informative`` (why), ``method`` (inference method used), ``inference_note``
        (why it differs from the one asked for, e.g. the ``auto`` rule) and ``df``.

        Examples
        --------
        >>> impact.table()[["outcome", "estimate", "p_holm", "indicative"]]  # doctest: +SKIP
        """
        rows = []
        for spec in self.specs:
            name = spec["name"]
            row = {"outcome": name, "label": spec.get("label", name), "family": spec["family"],
                   "units": spec.get("units", ""), "primary": bool(spec.get("primary", False)),
                   "note": self.not_estimable.get(name, "")}
            if name in self.outcomes:
                row.update(self.outcomes[name].summary().iloc[0].drop(["outcome", "family"]))
            row.update(self.unfitted.get(name, {}))
            row.update(self.precision.loc[name].to_dict() if name in self.precision.index
                       else {})
            rows.append(row)
        out = pd.DataFrame(rows).reindex(columns=_TABLE)
        out["p_holm"] = effects.holm(out["p"].astype(float))
        out["indicative"] = out["indicative"].astype("boolean").fillna(True).astype(bool)
        fitted = out["outcome"].isin(list(self.outcomes))
        out["informative"] = out["informative"].where(fitted, False).astype(bool)
        out["not_informative"] = out["not_informative"].where(fitted, "not estimable")
        for col in ("method", "inference_note"):
            out[col] = out[col].astype(object).fillna("")
        return out

    def gap_table(self) -> pd.DataFrame:
        """Answer the gap question per outcome: effect for FSM pupils, others, change in gap.

        The change is (effect for FSM pupils) - (effect for other pupils): positive means EM
        narrowed the FSM gap. Points or risk differences (0-1) as in :meth:`table`;
        ``n_em``/``n_comparison`` are the pupils each term rests on (for the change, the
        smaller group), for disclosure control. Every term is tested by its model's method
        (the same as the headline's); ``informative``/``not_informative`` as in
        :meth:`table`.

        Examples
        --------
        >>> impact.gap_table()["term"].unique().tolist()  # doctest: +SKIP
        ['effect for FSM pupils', 'effect for other pupils', 'change in the FSM gap']
        """
        frames = [res.contrasts.assign(outcome=name, family=res.family)
                  for name, res in self.gaps.items()]
        if not frames:
            return pd.DataFrame(columns=_GAP_TABLE)
        return pd.concat(frames, ignore_index=True)[_GAP_TABLE]

    def summary(self) -> pd.DataFrame:
        """Readable table: label, n, effect (95% CI), p (Holm), effect size, months, MDES.

        Examples
        --------
        >>> impact.summary().columns[0]  # doctest: +SKIP
        'Outcome'
        """
        t = self.table()
        scale = np.where(t["family"] == "gaussian", 1.0, 100.0)
        est = [f"{signed(e, 2)} ({lo:z.2f} to {hi:z.2f})" if np.isfinite(e) else "not estimable"
               for e, lo, hi in zip(t["estimate"] * scale, t["ci_low"] * scale,
                                    t["ci_high"] * scale, strict=True)]
        return pd.DataFrame({
            "Outcome": t["label"], "EM pupils": t["n_em"], "Comparison pupils": t["n_comparison"],
            "Schools": t["n_schools"], "Effect (95% CI)": est, "Units": t["units"],
            "p": t["p"].round(3), "p (Holm)": t["p_holm"].round(3),
            "Effect size": t["effect_size"].round(2), "Effect size type": t["es_type"],
            "Months' progress": t["months"], "MDES": t["mdes"].round(2),
            "Indicative only": t["indicative"]})

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`evaluation.multilevel.specification_table`: one per outcome.

        An outcome that could not be estimated keeps its row, with its counts and the reason
        in ``note``.
        """
        rows = []
        for spec in self.specs:
            name = spec["name"]
            if name in self.outcomes:
                rows += self.outcomes[name].spec_rows()
            else:
                rows.append({"outcome": name, **self.unfitted.get(name, {}),
                             "informative": False, "not_informative": "not estimable",
                             "note": self.not_estimable.get(name, "not estimable")})
        return rows

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _precision(res: OutcomeResult, power: dict, alpha: float) -> dict:
    icc, source = res.icc, "data"
    if not np.isfinite(icc):
        icc, source = float(power.get("icc_default", 0.15)), "plan default"
    value = effects.mdes(res.n_em, res.n_comparison_effective, res.n_schools, icc,
                         r2_pupil=float(power.get("r2_pupil", 0.0)), alpha=alpha,
                         power=float(power.get("power", 0.8)))
    return {"icc": icc, "icc_source": source, "mdes": value,
            "indicative": effects.is_indicative(value, float(power.get("indicative_mdes",
                                                                          0.2)))}


def model_arguments(plan=None, treatment: str = "em", weights: str | None = "weights",
                    inference: str = "auto") -> dict:
    """Return the :func:`fit_outcome` arguments a plan's ``inference`` section sets.

    Every fit of the project (each outcome, each subgroup) takes its cluster column,
    confidence level, bootstrap replications and wild-bootstrap rule from here.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> model_arguments(load_plan())["cluster"]
    'school_id'
    """
    inf = plan.section("inference") if plan is not None else {}
    return {"treatment": treatment, "weights": weights,
            "cluster": inf.get("cluster", "school_id"), "inference": inference,
            "alpha": float(inf.get("alpha", 0.05)),
            "n_boot": int(inf.get("bootstrap_reps", 999)),
            "wild_below": int(inf.get("wild_bootstrap_below", WILD_BELOW))}


def estimate_impacts(data: pd.DataFrame, outcomes: list[dict], covariates: list[str],
                     plan=None, exclusions: dict | None = None, random_state=DEFAULT_SEED,
                     treatment: str = "em", weights: str | None = "weights",
                     inference: str = "auto", gap: str | None = "fsm") -> ImpactResult:
    """Fit every pre-specified outcome: effects, gaps, MDES, Holm, exclusions.

    Parameters
    ----------
    data : pandas.DataFrame
        Matched data with a ``weights`` column (not modified).
    outcomes : list of dict
        ``Plan.outcomes(phase)``: name, label, family, units, primary, and optionally
        ``range: [low, high]`` (possible values; default: the schema's, 0-1 for binomial).
    covariates : list of str
        ``Plan.covariates(phase)``.
    plan : Plan, optional
        Supplies ``inference`` (cluster, wild_bootstrap_below, bootstrap_reps, alpha) and
        ``power`` (icc_default, r2_pupil, power, indicative_mdes); defaults otherwise.
    exclusions : dict, optional
        Exclusions made before matching, by reason (carried into the result).
    random_state : int
        Seed; each outcome's bootstrap gets its own stream from it.
    treatment, weights : str
        Treatment and matching-weight columns.
    inference : str
        As :func:`fit_outcome`.
    gap : str or None
        Binary covariate of the gap question (None: no gap table).

    Returns
    -------
    ImpactResult

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> plan = load_plan()
    >>> res = estimate_impacts(matched, plan.outcomes("primary"),
    ...                        plan.covariates("primary"), plan=plan)  # doctest: +SKIP
    """
    power = plan.section("power") if plan is not None else {}
    args = model_arguments(plan, treatment, weights, inference)
    alpha = args["alpha"]
    seeds = np.random.SeedSequence(random_state).spawn(2 * len(outcomes))
    fits, gaps, failed, precision, unfitted = {}, {}, {}, {}, {}
    excl = dict(exclusions or {})
    for i, spec in enumerate(outcomes):
        name = spec["name"]
        rng = spec.get("range") or effects.outcome_range(name, spec["family"])
        try:
            res = fit_outcome(data, name, spec["family"], covariates, outcome_range=rng,
                              random_state=np.random.default_rng(seeds[2 * i]), **args)
        except NotEstimableError as err:
            failed[name] = str(err)
            frame, dropped = _rows(data, name, [c for c in covariates if c != treatment],
                                   treatment, weights, args["cluster"])
            excl.update({f"{name}: {k}": v for k, v in dropped.items()})
            treat = frame[treatment].astype(bool)
            unfitted[name] = {"n_em": int(treat.sum()), "n_comparison": int((~treat).sum()),
                              "n_schools": int(frame[args["cluster"]].nunique())}
            continue
        fits[name] = res
        excl.update({f"{name}: {k}": v for k, v in res.exclusions.items()})
        precision[name] = _precision(res, power, alpha)
        if gap:
            try:
                gaps[name] = fit_outcome(data, name, spec["family"], covariates,
                                         random_state=np.random.default_rng(seeds[2 * i + 1]),
                                         interaction=gap, outcome_range=rng, **args)
            except NotEstimableError as err:
                failed.setdefault(f"{name} (gap)", str(err))
    treat = data[treatment].astype(bool)
    return ImpactResult(fits, gaps, failed, tuple(dict(s) for s in outcomes),
                        pd.DataFrame.from_dict(precision, orient="index"), excl,
                        int(treat.sum()), int((~treat).sum()),
                        int(data[args["cluster"]].nunique()), alpha, unfitted)
