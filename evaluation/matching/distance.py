"""Distances for matching: model matrices, the logistic propensity score, Mahalanobis."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.exceptions import MatchingWarning
from evaluation.factors import is_categorical, levels
from evaluation.matching._r_arithmetic import (
    chol_pivot,
    det_solve,
    pooled_cov,
    pooled_sd,
    r_cov,
    r_scale,
    r_var,
)
from evaluation.matching._r_svd import generalized_inverse

#: Fitted probabilities this close to 0 or 1 are treated as perfect separation (as R's glm).
SEPARATION_EPS = 10 * np.finfo(float).eps


def model_matrix(data: pd.DataFrame, covariates: list[str], *,
                 full_dummies: bool = False) -> pd.DataFrame:
    """Numeric design matrix of ``covariates``, as R's ``model.matrix`` builds it.

    Numeric columns are kept, booleans become 0/1 columns named ``<col>TRUE`` (R's name), and
    string or categorical columns become one 0/1 column per level named ``<col><level>``.
    With ``full_dummies=False`` (treatment contrasts, used by the propensity model) the first
    level in R's order (alphabetical for strings, the category order for a pandas Categorical)
    is the reference level and gets no column; ``full_dummies=True`` keeps every level (as
    MatchIt's balance summary does).

    Parameters
    ----------
    data : pandas.DataFrame
        Data (not modified).
    covariates : list of str
        Column names.
    full_dummies : bool, default False
        Keep a column for every level of a categorical covariate.

    Returns
    -------
    pandas.DataFrame
        Float columns aligned to ``data.index``.

    Examples
    --------
    >>> d = pd.DataFrame({"x": [1.0, 2.0], "sen": ["none", "support"], "fsm": [True, False]})
    >>> list(model_matrix(d, ["x", "sen", "fsm"]).columns)
    ['x', 'sensupport', 'fsmTRUE']
    """
    names, Xt = design_rows(data, covariates, full_dummies=full_dummies)
    return pd.DataFrame(Xt.T, index=data.index, columns=names, copy=False)


def design_rows(data: pd.DataFrame, covariates: list[str], *, intercept: bool = False,
                full_dummies: bool = False) -> tuple[list[str], np.ndarray]:
    """Build the transposed design matrix of :func:`model_matrix` (p x n) and its names.

    Each categorical column is factorised once (its dummies compare integer codes), and the
    rows are written straight into one array, the layout the IRLS fit works on.

    Parameters
    ----------
    data : pandas.DataFrame
        Data (not modified).
    covariates : list of str
        Column names.
    intercept : bool, default False
        Start with an ``Intercept`` row of ones.
    full_dummies : bool, default False
        Keep a column for every level of a categorical covariate.

    Returns
    -------
    (list of str, numpy.ndarray)
        Column names and the p x n float array.

    Examples
    --------
    >>> d = pd.DataFrame({"x": [1.0, 2.0], "sen": ["none", "support"]})
    >>> design_rows(d, ["x", "sen"], intercept=True)[0]
    ['Intercept', 'x', 'sensupport']
    """
    names: list[str] = ["Intercept"] if intercept else []
    parts: list = [None] if intercept else []
    for c in covariates:
        s = data[c]
        if is_categorical(s):
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            lv = (levels(s) if isinstance(s.dtype, pd.CategoricalDtype)
                  else sorted(uniques, key=str))
            where = {u: i for i, u in enumerate(uniques)}
            for level in lv[0 if full_dummies else 1:]:
                names.append(f"{c}{level}")
                parts.append((codes, where.get(level, -2)))
        elif pd.api.types.is_bool_dtype(s):
            names.append(f"{c}TRUE")
            parts.append(s.to_numpy(float))
        else:
            names.append(c)
            parts.append(s.to_numpy(float))
    Xt = np.empty((len(names), len(data)))
    for i, part in enumerate(parts):
        if part is None:
            Xt[i] = 1.0
        elif isinstance(part, tuple):
            np.equal(part[0], part[1], out=Xt[i], casting="unsafe")
        else:
            Xt[i] = part
    return names, Xt


@dataclass(frozen=True)
class LogitFit:
    """A logistic regression fitted by IRLS (R's ``glm`` algorithm)."""

    params: np.ndarray
    fitted: np.ndarray
    iterations: int
    converged: bool
    n_separated: int


#: R's ``binomial()$linkinv`` for the logit (``family.c``): ``eta`` below -30 or above 30
#: stands for ``exp(eta)`` = ``DBL_EPSILON`` or ``1 / DBL_EPSILON``.
THRESH = 30.0
_EPS = np.finfo(float).eps


def logit_linkinv(eta: np.ndarray) -> np.ndarray:
    """Return R's logistic ``linkinv``: ``t / (1 + t)``, ``t = exp(eta)`` clamped as R's C code.

    R's ``logit_linkinv`` (``src/library/stats/src/family.c``) sets ``t`` to ``DBL_EPSILON``
    for ``eta < -30`` and to ``1 / DBL_EPSILON`` for ``eta > 30``, so every such unit gets
    the same fitted probability (``2.2e-16`` or ``1 - 2.2e-16``): they tie, as in R.

    Examples
    --------
    >>> p = logit_linkinv(np.array([-40.0, -31.0, 0.0, 35.0]))
    >>> bool(p[0] == p[1]), float(p[2]), bool(p[3] == 1 / (1 + _EPS))
    (True, 0.5, True)
    """
    eta = np.asarray(eta, float)
    t = np.exp(np.clip(eta, -THRESH, THRESH))
    t[eta < -THRESH] = _EPS
    t[eta > THRESH] = 1 / _EPS
    return t / (1 + t)


def logit_mu_eta(eta: np.ndarray) -> np.ndarray:
    """Return R's ``logit_mu_eta``: ``exp(eta) / (1 + exp(eta))^2``, ``DBL_EPSILON`` beyond 30."""
    eta = np.asarray(eta, float)
    e = np.exp(np.clip(eta, -THRESH, THRESH))
    out = e / ((1 + e) * (1 + e))
    out[np.abs(eta) > THRESH] = _EPS
    return out


def linear_predictor(Xt: np.ndarray, beta: np.ndarray, out: np.ndarray | None = None
                     ) -> np.ndarray:
    """Return ``X beta`` for the p x n ``Xt`` as R's ``x %*% beta`` computes it.

    R's ``matprod`` calls BLAS ``dgemv`` for a matrix times a vector; the reference
    ``dgemv`` (R with the reference BLAS) adds the columns' terms one column at a time,
    ``((b1 x1 + b2 x2) + b3 x3) + ...``, each product and sum rounded to double. Rows with the
    same covariates therefore get the same linear predictor (an optimised BLAS may round
    them differently from one row position to another). Every linear predictor of the
    propensity models (the IRLS passes, the final ``eta``, ``linear.*`` scores) comes from
    here.

    Examples
    --------
    >>> Xt = np.array([[1.0, 1.0, 1.0], [0.1, 0.1, 0.3], [0.7, 0.7, 0.2]])
    >>> eta = linear_predictor(Xt, np.array([0.3, -1.7, 2.9]))
    >>> bool(eta[0] == eta[1]), eta.shape
    (True, (3,))
    """
    p, n = Xt.shape
    out = np.empty(n) if out is None else out
    tmp = np.empty(min(n, BLOCK))
    for s in range(0, n, BLOCK):
        e = min(n, s + BLOCK)
        acc, t = out[s:e], tmp[:e - s]
        np.multiply(Xt[0, s:e], beta[0], out=acc)
        for k in range(1, p):
            np.multiply(Xt[k, s:e], beta[k], out=t)
            acc += t
    return out


#: Columns of the design per block in the IRLS passes: blocks stay in cache, and each BLAS
#: call is small enough to run on one thread (threaded BLAS on many-row products is slower,
#: not faster, on a busy machine).
BLOCK = 8_192


def _irls(Xt: np.ndarray, y: np.ndarray, beta: np.ndarray | None, max_iter: int, tol: float,
          wt: np.ndarray | None = None, r_start: bool = False
          ) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """IRLS on a p x n design; returns (beta, eta, iterations, converged).

    ``beta=None`` starts as R's ``glm`` (``mustart = (y + 0.5) / 2``); ``wt`` are prior
    weights. Each iteration is one blocked weighted cross-product (gram and right-hand side
    together) and one pass for the linear predictor (:func:`linear_predictor`); the
    working weights and responses are R's (``logit_mu_eta``, ``logit_linkinv``).
    """
    p, n = Xt.shape
    wt = np.ones(n) if wt is None else wt
    eta = np.empty(n)
    if beta is None:
        mu = (wt * y + 0.5) / (wt + 1) if r_start else (y + 0.5) / 2   # R: binomial()
        eta[:] = np.log(mu / (1 - mu))
    else:
        linear_predictor(Xt, beta, eta)
        mu = logit_linkinv(eta)
    aug = np.empty((p + 1, min(n, BLOCK)))
    dev_old = np.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        g = logit_mu_eta(eta)                 # R's glm.fit: z and w from mu.eta
        sw = np.sqrt(wt * g * g / (mu * (1 - mu)))
        zw = (eta + (y - mu) / g) * sw
        gram = np.zeros((p + 1, p + 1))
        for s in range(0, n, BLOCK):
            e = min(n, s + BLOCK)
            a = aug[:, :e - s]
            np.multiply(Xt[:, s:e], sw[s:e], out=a[:p])
            a[p] = zw[s:e]
            gram += a @ a.T                   # [X'WX | X'Wz] in one cross-product
        beta = np.linalg.solve(gram[:p, :p], gram[:p, p])
        linear_predictor(Xt, beta, eta)
        mu = logit_linkinv(eta)
        dev = -2 * np.dot(wt, np.log(np.where(y > 0, mu, 1 - mu)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return beta, eta, it, converged


#: Rows from which :func:`fit_logit` first fits on a subsample (warm start).
WARM_START_ROWS = 100_000
#: R's glm.control() defaults.
R_GLM_CONTROL = {"epsilon": 1e-8, "maxit": 25}


def _warm_start(Xt: np.ndarray, y: np.ndarray, max_iter: int, tol: float) -> np.ndarray | None:
    """Estimate from every row of the rarer outcome and a weighted systematic sample of the rest.

    A case-control subsample (weights ``1 / fraction``) estimates the same coefficients as
    the full data; it only gives IRLS a start close to the full-data estimate.
    """
    rare = y > 0 if y.mean() <= 0.5 else y == 0
    common = np.flatnonzero(~rare)
    step = max(1, len(common) // max(4 * int(rare.sum()), WARM_START_ROWS // 4))
    if step == 1:
        return None
    keep = np.sort(np.concatenate([np.flatnonzero(rare), common[::step]]))
    wt = np.where(rare[keep], 1.0, len(common) / len(common[::step]))
    beta, _, _, converged = _irls(np.ascontiguousarray(Xt[:, keep]), y[keep], None, max_iter,
                                  tol, wt)
    return beta if converged and np.all(np.isfinite(beta)) else None


def fit_logit(X: np.ndarray, y: np.ndarray, *, max_iter: int = 25, tol: float = 1e-10,
              weights: np.ndarray | None = None, warm_start: bool = True) -> LogitFit:
    """Fit ``P(y=1) = 1 / (1 + exp(-X b))`` by iteratively reweighted least squares.

    Starts as R's ``glm`` does (``mustart = (y + 0.5) / 2``) and stops when the relative
    change in deviance falls below ``tol`` (R: 1e-8) or after ``max_iter`` iterations (R: 25).
    ``X`` must include the intercept column. From ``WARM_START_ROWS`` rows the full-data
    iterations start from a fit on a case-control subsample instead (every row of the rarer
    outcome, a weighted systematic sample of the other): the same maximum-likelihood
    estimate in fewer passes over the data; if that start fails to converge, the fit starts
    afresh as R's does.

    Parameters
    ----------
    X : numpy.ndarray
        n x p design matrix with an intercept column.
    y : numpy.ndarray
        0/1 outcome.
    max_iter : int, default 25
        Maximum IRLS iterations.
    tol : float, default 1e-10
        Convergence tolerance on the relative change in deviance.
    weights : numpy.ndarray, optional
        Prior (sampling) weights, as R's ``glm(weights=)``; the fit then starts from R's
        ``mustart = (w y + 0.5) / (w + 1)`` and never warm-starts.
    warm_start : bool, default True
        False: always start from R's ``mustart`` (R's iterations, as ``glm``).

    Returns
    -------
    LogitFit

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> fit = fit_logit(X, np.array([0.0, 1.0, 0.0, 1.0]))
    >>> bool(fit.converged), fit.fitted.shape
    (True, (4,))
    """
    y = np.asarray(y, float)
    Xt = np.ascontiguousarray(np.asarray(X, float).T)   # p x n: fast row-wise products
    if weights is not None:
        wt = np.asarray(weights, float)
        beta, eta, it, converged = _irls(Xt, y, None, max_iter, tol, wt, r_start=True)
        fitted = logit_linkinv(eta)
        n_sep = int(np.sum((fitted < SEPARATION_EPS) | (fitted > 1 - SEPARATION_EPS)))
        return LogitFit(beta, fitted, it, converged, n_sep)
    start = (_warm_start(Xt, y, max_iter, tol) if warm_start and len(y) >= WARM_START_ROWS
             else None)
    beta, eta, it, converged = _irls(Xt, y, start, max_iter, tol)
    if start is not None and not converged:
        beta, eta, it, converged = _irls(Xt, y, None, max_iter, tol)
    fitted = logit_linkinv(eta)
    n_sep = int(np.sum((fitted < SEPARATION_EPS) | (fitted > 1 - SEPARATION_EPS)))
    return LogitFit(beta, fitted, it, converged, n_sep)


#: MatchIt's ``link`` values for ``distance="glm"``; ``linear.*`` match on the linear predictor.
LINKS = ("logit", "probit", "cloglog", "linear.logit", "linear.probit", "linear.cloglog")


def aliased_columns(Xt: np.ndarray, tol: float = 1e-11) -> np.ndarray:
    """Return which columns R's ``glm`` would find aliased (coefficient ``NA``), in order.

    R's ``glm.fit`` solves by LINPACK's ``dqrdc2`` with tolerance ``min(1e-7, epsilon /
    1000)`` = 1e-11: a column whose part not explained by the columns before it (those kept)
    is below ``tol`` times its own norm is moved to the end and not estimated. Here that
    part is found by Gram-Schmidt, orthogonalised twice. ``Xt`` is p x n (intercept first).

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 4.0, 3.0])
    >>> aliased_columns(np.vstack([np.ones(4), x, 2 * x + 1, np.full(4, 5.0)])).tolist()
    [False, False, True, True]
    """
    basis: list[np.ndarray] = []
    out = np.zeros(len(Xt), dtype=bool)
    for j, col in enumerate(Xt):
        norm = float(np.sqrt(col @ col))
        r = col.astype(float)
        for _ in range(2):
            for q in basis:
                r = r - (q @ r) * q
        rest = float(np.sqrt(r @ r))
        if norm == 0.0 or rest < tol * norm:
            out[j] = True
        else:
            basis.append(r / rest)
    return out


def propensity_score(data: pd.DataFrame, treatment: str, covariates: list[str],
                     link: str = "logit", weights: np.ndarray | None = None,
                     control: dict | None = None
                     ) -> tuple[pd.Series, LogitFit, pd.DataFrame]:
    """Propensity score: fitted probability of treatment from a logistic regression.

    As MatchIt's ``distance = "glm"``: matching uses the fitted probability itself (not the
    linear predictor). Perfect or quasi-perfect separation does not stop the fit (R's ``glm``
    carries on too); a :class:`~evaluation.exceptions.MatchingWarning` says how many rows got
    fitted probabilities of 0 or 1, and the result is used as it stands.

    With ``link`` other than ``"logit"`` (MatchIt's ``link``: ``"probit"``, ``"cloglog"``)
    the binomial GLM with that link is fitted by R's ``glm.fit`` iterations;
    ``"linear.<link>"`` returns the linear predictor instead of the probability, as MatchIt.
    The fitted probabilities are R's ``binomial()$linkinv`` of the linear predictor (the
    logit's clamped at ``eps / (1 + eps)`` and ``1 / (1 + eps)`` beyond +-30, as R's C
    code), and every linear predictor is :func:`linear_predictor`'s, in R's order, so rows
    with the same covariates get the same score and clamped rows tie, as in R.

    Parameters
    ----------
    data : pandas.DataFrame
        Data without missing covariate values.
    treatment : str
        Boolean / 0-1 treatment column.
    covariates : list of str
        Covariates (categorical ones expanded, see :func:`model_matrix`).
    link : str, default "logit"
        One of ``LINKS``.
    weights : numpy.ndarray, optional
        Sampling weights (MatchIt's ``s.weights``: a quasi-binomial GLM with these weights,
        the same estimates as a weighted binomial fit).
    control : dict, optional
        R's ``glm.control``: ``{"epsilon": 1e-8, "maxit": 25}``. Every link (logit
        included: no warm start) is then fitted by R's ``glm.fit`` iterations from R's
        start, stopping where R stops (relative change in deviance below ``epsilon``), so
        the scores are R's to rounding even where R stops short of full convergence (as
        under separation). Without it, below ``WARM_START_ROWS`` rows the same is done with
        R's defaults; from ``WARM_START_ROWS`` rows the logit fit starts from a subsample fit
        and converges further (``1e-10``): faster, and within about 1e-9 of R's scores
        unless the data are separated (then pass ``control`` to stop where R stops).

    Returns
    -------
    (pandas.Series, LogitFit, pandas.DataFrame)
        Score aligned to ``data.index``, the fit, and the design matrix (with ``Intercept``).

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1, 0, 1, 1, 0], "x": [1.0, 2.0, 3.0, 4.0, 2.5, 1.5]})
    >>> ps, fit, X = propensity_score(d, "t", ["x"])
    >>> bool(ps.between(0, 1).all()), list(X.columns)
    (True, ['Intercept', 'x'])

    Below ``WARM_START_ROWS`` rows, columns that R's ``glm`` finds aliased
    (:func:`aliased_columns`) are left out of the design, as R leaves their coefficients out.
    """
    names, Xt = design_rows(data, covariates, intercept=True)
    if len(Xt[0]) < WARM_START_ROWS:
        # R's glm drops the columns its pivoted QR finds aliased (a constant, a duplicate,
        # a sum of others: coefficient NA); the design here holds the rest (review of issue
        # 13: a singular matrix error, or wrong scores for probit and cloglog)
        kept = ~aliased_columns(Xt)
        if not kept.all():
            names, Xt = [n for n, k in zip(names, kept, strict=True) if k], Xt[kept]
    X = pd.DataFrame(Xt.T, index=data.index, columns=names, copy=False)
    y = data[treatment].to_numpy(float)
    base = link.removeprefix("linear.")
    if control is None and len(y) < WARM_START_ROWS:
        # R's glm: its start and its stopping rule. Under (quasi-)separation the estimates
        # keep growing with every iteration, so where R stops decides the scores (review of
        # issue 13: linear predictors 4 apart, another caliper, other matched sets)
        control = dict(R_GLM_CONTROL)
    if control is not None and base == "logit":
        fit = fit_logit(X.to_numpy(), y, max_iter=control["maxit"], tol=control["epsilon"],
                        weights=weights, warm_start=False)
    elif control is not None:
        fit = _fit_link(X.to_numpy(), y, base, max_iter=control["maxit"],
                        tol=control["epsilon"], weights=weights)
    elif base == "logit":
        fit = fit_logit(X.to_numpy(), y, weights=weights)
    else:
        fit = _fit_link(X.to_numpy(), y, base, weights=weights)
    treated = y == 1
    # complete separation: R's glm may stop (converged) before any probability reaches 0 or
    # 1, but the groups' scores do not overlap at all
    apart = treated.any() and (~treated).any() and (
        fit.fitted[treated].min() > fit.fitted[~treated].max()
        or fit.fitted[treated].max() < fit.fitted[~treated].min())
    if fit.n_separated or not fit.converged or apart:
        what = (f"fitted probabilities of 0 or 1 for {fit.n_separated} of {len(y)} rows"
                if fit.n_separated else f"no convergence after {fit.iterations} iterations"
                if not fit.converged else "the scores of the treated and the comparison "
                "units do not overlap at all")
        warnings.warn(
            f"perfect separation in the propensity model ({' + '.join(covariates)}): {what}; "
            "matching carries on with these scores (as MatchIt does), but the treated and "
            "comparison groups may not overlap on these covariates",
            MatchingWarning, stacklevel=3)
    score = fit.fitted
    if link.startswith("linear."):   # R's linear.predictors: the last pass's x %*% beta
        score = linear_predictor(Xt, fit.params)
    return pd.Series(score, index=data.index, name="distance"), fit, X


def _probit() -> tuple:
    from scipy.stats import norm

    thresh = -norm.ppf(_EPS)
    return (norm.ppf,
            lambda eta: norm.cdf(np.clip(eta, -thresh, thresh)),
            lambda eta: np.maximum(norm.pdf(eta), _EPS))


def _cloglog() -> tuple:
    return (lambda mu: np.log(-np.log(1 - mu)),
            lambda eta: np.clip(-np.expm1(-np.exp(eta)), _EPS, 1 - _EPS),
            lambda eta: np.maximum(np.exp(np.minimum(eta, 700))
                                   * np.exp(-np.exp(np.minimum(eta, 700))), _EPS))


#: R's ``binomial(link)``: (linkfun, linkinv, mu.eta), with R's clamps (``make.link``).
_LINK_FUNCTIONS = {"probit": _probit, "cloglog": _cloglog}


def _fit_link(X: np.ndarray, y: np.ndarray, link: str, max_iter: int = 25,
              tol: float = 1e-8, weights: np.ndarray | None = None) -> LogitFit:
    """Binomial GLM with a probit or complementary log-log link, as R's ``glm.fit``.

    The same iterations as R (start ``mustart = (y + 0.5) / 2``, weighted least squares by
    QR, stop when the relative change in deviance is below ``1e-8`` after at most 25
    iterations), so the fitted values agree with R's where R stops before full convergence
    (the complementary log-log link converges slowly). As R, a step giving an infinite
    deviance or probabilities outside (0, 1) is halved back towards the previous
    coefficients, and fails on the first iteration ("no valid set of coefficients has been
    found").
    """
    linkfun, linkinv, mu_eta = _LINK_FUNCTIONS[link]()
    wt = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    Xt = np.ascontiguousarray(X.T)

    def deviance(mu):   # R's binomial dev.resids: 2 wt (y log(y / mu) + (1-y) log(...))
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum(2 * wt * np.log(np.where(y > 0, 1 / mu, 1 / (1 - mu)))))

    def valid(mu, dev):
        return bool(np.isfinite(dev) and np.all(np.isfinite(mu)) and np.all((mu > 0) & (mu < 1)))

    mu = (wt * y + 0.5) / (wt + 1)
    eta = linkfun(mu)
    dev_old = deviance(mu)
    beta = np.zeros(X.shape[1])
    beta_old = None
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        g = mu_eta(eta)
        z = eta + (y - mu) / g
        w = np.sqrt(wt * g * g / (mu * (1 - mu)))
        q, r = np.linalg.qr(X * w[:, None])
        beta = np.linalg.solve(r, q.T @ (z * w))
        eta = linear_predictor(Xt, beta)
        mu = linkinv(eta)
        dev = deviance(mu)
        halvings = 0
        while not valid(mu, dev):
            if beta_old is None:
                raise ValueError(f"the propensity model with link {link!r} failed as R's glm "
                                 "fails: no valid set of coefficients has been found (fitted "
                                 "probabilities outside (0, 1)); use another link")
            if halvings >= max_iter:
                raise ValueError(f"the propensity model with link {link!r} failed as R's glm "
                                 "fails: inner loop; cannot correct step size")
            halvings += 1
            beta = (beta + beta_old) / 2
            eta = linear_predictor(Xt, beta)
            mu = linkinv(eta)
            dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old, beta_old = dev, beta
    n_sep = int(np.sum((mu < SEPARATION_EPS) | (mu > 1 - SEPARATION_EPS)))
    return LogitFit(beta, mu, it, converged, n_sep)


def mahalanobis_space(X: np.ndarray, treat: np.ndarray, discarded: np.ndarray,
                      s_weights: np.ndarray | None = None) -> np.ndarray:
    """Transform covariates so Euclidean distance equals MatchIt's Mahalanobis distance.

    As MatchIt's ``transform_covariates``: constant columns dropped, columns scaled, the
    pooled within-group covariance of the non-discarded units inverted, and the scaled
    covariates multiplied by the pivoted Cholesky factor of that inverse (``mahalanobize``).
    The first column of the result orders MatchIt's search for controls.

    The result is R's bit for bit (R 4.2 with the reference BLAS and LAPACK, MatchIt 4.7.2)
    whenever R inverts the covariance with ``solve`` (determinant above 1e-8; up to 64
    columns). It has to be: with tied covariates, distances that are equal in exact
    arithmetic differ in R's last bits, and MatchIt matches the control whose distance is
    smaller there. So each step repeats R's operations in R's order: ``colMeans``, ``sum``,
    ``mean`` and ``cov`` accumulate row by row in C's ``long double`` (numpy's pairwise sums
    round differently); the LU, the triangular solves and the pivoted Cholesky are the
    reference LAPACK algorithms written out on the p x p matrix (OpenBLAS orders its
    operations differently); the product with the factor is the reference ``dgemm`` loop,
    one covariate at a time. A singular or nearly singular covariance (determinant at most
    1e-8, as with every level of a factor) takes MatchIt's ``generalized_inverse``: R's
    ``svd`` (LAPACK 3.11's ``dgesdd``) and ``%*%`` written out the same way
    (:mod:`evaluation.matching._r_svd`), so that path is R's bit for bit too, for up to 25
    columns (beyond that numpy's SVD: the same to rounding, not bit for bit).

    Parameters
    ----------
    X : numpy.ndarray
        n x p covariate matrix.
    treat : numpy.ndarray
        Boolean treatment.
    discarded : numpy.ndarray
        Boolean, units left out of the covariance.
    s_weights : numpy.ndarray, optional
        Sampling weights: the pooled covariance is then weighted (R's ``cov.wt`` of the
        data centred on each group's weighted mean).

    Returns
    -------
    numpy.ndarray
        n x p' matrix.

    Examples
    --------
    >>> X = np.array([[1.0], [2.0], [4.0], [3.0]])
    >>> mahalanobis_space(X, np.array([True, True, False, False]), np.zeros(4, bool)).shape
    (4, 1)
    """
    Xt = _varying(X)
    if len(Xt) == 0:
        return _first_column(X)
    St = r_scale(Xt)
    inside = ~np.asarray(discarded, bool)
    treat = np.asarray(treat, bool)
    sw = None if s_weights is None else np.asarray(s_weights, float)
    if not inside.all():
        sw = None if sw is None else sw[inside]
        cov = pooled_cov(St[:, inside], treat[inside], sw)
    else:
        cov = pooled_cov(St, treat, sw)
    return _mahalanobize(St, cov)


def _varying(X: np.ndarray) -> np.ndarray:
    """Return the columns of ``X`` that vary (range at least ``sqrt(eps)``) as rows."""
    Xt = np.array(X, float, order="F").T                      # columns as contiguous rows
    keep = np.abs(Xt.max(axis=1) - Xt.min(axis=1)) >= np.sqrt(np.finfo(float).eps)
    return Xt if keep.all() else Xt[keep]


def _first_column(X: np.ndarray) -> np.ndarray:
    """MatchIt's fallback when no covariate varies: the first column, Euclidean."""
    return np.array(X, float)[:, :1].copy()


def _mahalanobize(St: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Return ``St`` (p x n) times the pivoted Cholesky factor of ``cov``'s inverse (n x p).

    MatchIt's inverse (``solve`` when ``det`` is above 1e-8, else ``generalized_inverse``)
    and ``mahalanobize``, in R's arithmetic (see :func:`mahalanobis_space`).
    """
    det, inv = det_solve(cov)
    if det <= 1e-8 or inv is None:  # MatchIt's generalized_inverse
        inv = generalized_inverse(cov)
    ch, piv = chol_pivot(inv)
    B = ch[:, np.argsort(piv)]
    Z = np.empty((St.shape[1], len(B)))
    for j in range(len(B)):            # tcrossprod(X, B): reference dgemm, column by column
        acc = B[j, 0] * St[0]
        for k in range(1, len(St)):
            acc += B[j, k] * St[k]
        Z[:, j] = acc
    return Z


#: MatchIt's ``matchit_distances()``: the methods of ``transform_covariates``.
TRANSFORMS = ("mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean")


def transform_covariates(X: np.ndarray, treat: np.ndarray, method: str,
                         s_weights: np.ndarray | None = None,
                         discarded: np.ndarray | None = None) -> np.ndarray:
    """Transform covariates so Euclidean distance is MatchIt's distance ``method``.

    MatchIt's ``transform_covariates`` (``distance`` = ``method`` for nearest, optimal and
    full matching, ``mahvars``, CEM's ``k2k.method``), in R's arithmetic: constant columns
    dropped (none varying: the first column, Euclidean); the covariances, ranks and
    standard deviations over the units not ``discarded``;
    ``"mahalanobis"`` :func:`mahalanobis_space`; ``"robust_mahalanobis"`` (Rosenbaum 2010,
    ch. 8) the ranks (ties averaged) of each column, their covariance (``cov``, or
    ``cov.wt`` with ``s_weights``) rescaled so every rank column has the variance of
    ``1:n``, then inverted and factored as for ``"mahalanobis"``; ``"scaled_euclidean"``
    each column divided by its pooled within-group standard deviation (MatchIt's
    ``pooled_sd``, a 0/1 column by its pooled binomial one); ``"euclidean"`` the columns
    themselves.

    Parameters
    ----------
    X : numpy.ndarray
        n x p covariate matrix (MatchIt's ``get_covs_matrix_for_dist``).
    treat : numpy.ndarray
        Boolean treatment.
    method : {"mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean"}
        The distance.
    s_weights : numpy.ndarray, optional
        Sampling weights (the covariances and standard deviations are then weighted).
    discarded : numpy.ndarray, optional
        Boolean, units left out of the covariances, ranks and standard deviations (their
        ranks are 0, as MatchIt's).

    Returns
    -------
    numpy.ndarray
        n x p' matrix.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [2.0, 1.0], [4.0, 1.0], [3.0, 0.0]])
    >>> t = np.array([True, True, False, False])
    >>> transform_covariates(X, t, "scaled_euclidean")[:, 0].round(6).tolist()
    [1.414214, 2.828427, 5.656854, 4.242641]
    >>> transform_covariates(X, t, "robust_mahalanobis").shape
    (4, 2)
    """
    treat = np.asarray(treat, bool)
    sw = None if s_weights is None else np.asarray(s_weights, float)
    inside = (np.ones(len(treat), bool) if discarded is None
              else ~np.asarray(discarded, bool))
    if method == "mahalanobis":
        return mahalanobis_space(X, treat, ~inside, sw)
    Xt = _varying(X)
    if len(Xt) == 0:
        return _first_column(X)
    if method == "euclidean":
        return Xt.T.copy()
    swi = None if sw is None else sw[inside]
    if method == "scaled_euclidean":
        sd = pooled_sd(Xt[:, inside], treat[inside], swi)
        return (Xt / sd[:, None]).T
    if method != "robust_mahalanobis":
        raise ValueError(f"`method` should be one of {list(TRANSFORMS)}; got {method!r}")
    from scipy.stats import rankdata  # here: scipy.stats costs 1 s to import (a plan check)

    Rt = np.zeros(Xt.shape)
    Rt[:, inside] = np.vstack([rankdata(x[inside]) for x in Xt])
    cov = r_cov(Rt[:, inside], swi)
    scale = math.sqrt(r_var(np.arange(1.0, inside.sum() + 1))) / np.sqrt(np.diag(cov))
    return _mahalanobize(Rt, cov * np.outer(scale, scale))
