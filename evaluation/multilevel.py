"""Multilevel alternative (random school intercept / GEE) and the specification table."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from statsmodels.genmod import cov_struct, families
from statsmodels.genmod.generalized_estimating_equations import GEE, GEEResultsWrapper
from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMResultsWrapper

from evaluation import effects
from evaluation.exceptions import ModelWarning, NotEstimableError
from evaluation.inference import MIN_CLUSTERS, t_critical, t_pvalue
from evaluation.models import FAMILIES, average_effect, build_design


@dataclass(frozen=True)
class MultilevelResult:
    """A multilevel fit of one outcome: the effect on EM pupils and its uncertainty.

    Attributes
    ----------
    outcome, family, model : str
        ``model`` says what was fitted.
    fit : statsmodels results
        MixedLMResults (Gaussian; with weights, of the model multiplied through by sqrt(w))
        or GEEResults (binomial).
    estimate, se, ci_low, ci_high, p : float
        Points (Gaussian) or average marginal effect over EM pupils (binomial, 0-1 scale);
        CI and p from t(G - 1). The Gaussian SE is lme4's (``vcov``,
        :func:`fixed_effects_vcov`), not ``fit.cov_params()``.
    effect_size : float
        Hedges' g (same denominator as the GLM) or Cox index (GEE log odds ratio / 1.65).
    n_em, n_comparison, n_schools : int
        Analysed sample.
    exclusions : dict
        Rows left out, by reason.
    converged : bool
        The model converged (:attr:`MixedFit.converged`; GEE: statsmodels' flag).
    notice : str
        What a report should say about the fit (non-convergence, a singular fit); else empty.
    informative, not_informative : bool, str
        Whether the CI is informative, and why not.
    singular : bool
        Gaussian: the school variance is at or near zero (:attr:`MixedFit.singular`).
    """

    outcome: str
    family: str
    model: str
    fit: MixedLMResultsWrapper | GEEResultsWrapper = field(repr=False)
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    effect_size: float
    es_type: str
    n_em: int
    n_comparison: int
    n_schools: int
    exclusions: dict
    converged: bool = True
    notice: str = ""
    informative: bool = True
    not_informative: str = ""
    singular: bool = False

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`specification_table`."""
        return [{"outcome": self.outcome, "model": self.model, "estimate": self.estimate,
                 "ci_low": self.ci_low, "ci_high": self.ci_high, "p": self.p,
                 "effect_size": self.effect_size, "es_type": self.es_type, "n_em": self.n_em,
                 "n_comparison": self.n_comparison, "n_schools": self.n_schools,
                 "inference": self._inference(), "converged": self.converged,
                 "singular": self.singular, "notice": self.notice, "informative": self.informative,
                 "not_informative": self.not_informative, "note": self.notice,
                 "method": "mixedlm" if self.family == "gaussian" else "gee",
                 "df_resid": float(self.fit.df_resid)}]

    def _inference(self) -> str:
        kind = "model-based" if self.family == "gaussian" else "robust x G/(G-1)"
        return f"{kind}, t({self.n_schools - 1})"

    def summary(self) -> pd.DataFrame:
        """Return the effect as a one-row DataFrame.

        Examples
        --------
        >>> fit_multilevel(df, "y", "gaussian", ["x"], treatment="t",
        ...                group="g").summary()  # doctest: +SKIP
        """
        return pd.DataFrame(self.spec_rows())

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


#: Optimisers tried in turn (as lme4 users try ``allFit``): the first that converges wins.
OPTIMIZERS = ("bfgs", "lbfgs", "powell", "nm", "cg")
#: Largest absolute score (gradient of the log-likelihood) at which an optimiser's fit is
#: accepted as converged; the accepted fit is then polished (:func:`_polish`) to the optimum.
GRADIENT_TOL = 0.05
#: lme4's ``isSingular`` tolerance: theta (school SD / residual SD) below it is a singular fit.
SINGULAR_TOL = 1e-4
#: Smallest theta handed to statsmodels, which treats a school variance below 1e-10 residual
#: variances as absent; a polished theta below it (a singular fit) is represented by it.
THETA_FLOOR = 2e-5
#: What a report says of a singular fit.
SINGULAR_NOTICE = ("the multilevel model's fit is singular: its school variance is estimated "
                   "at or near zero (as lme4's isSingular), so it is in effect a model without "
                   "a school intercept")


def _gls(y, X, codes, z=None):
    """Return the generalised least squares fit of a random intercept model at a given theta.

    The model's covariance is sigma^2 V with V = I + theta^2 Z Z', Z the schools' columns
    holding ``z`` (ones; with prior weights w, sqrt(w), ``y`` and ``X`` being multiplied by
    it too, as lme4 weights). Computed from group sums: V^-1 = I - w_g z z' within school g.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome, length n.
    X : numpy.ndarray
        Fixed-effects design, n x p, full rank.
    codes : numpy.ndarray
        Group codes 0, ..., G - 1, length n.
    z : numpy.ndarray, optional
        Random-intercept column (default ones).

    Returns
    -------
    callable
        ``theta -> (a, beta, rss, logdet_v, chol)``: a = X' V^-1 X, the GLS fixed effects,
        the (penalised) residual sum of squares r' V^-1 r (lme4's ``pwrss``), log |V| and
        the Cholesky factor of ``a`` (lme4's RX').

    Examples
    --------
    >>> at = _gls(np.array([1., 2, 3, 5]), np.ones((4, 1)), np.array([0, 0, 1, 1]))
    >>> a, beta, rss, logdet, chol = at(0.0)
    >>> float(a[0, 0]), float(beta[0]), float(rss)
    (4.0, 2.75, 8.75)
    """
    n, p = X.shape
    z = np.ones(n) if z is None else np.asarray(z, float)
    n_groups = int(codes.max()) + 1
    size = np.bincount(codes, z * z, minlength=n_groups)
    sum_x = np.zeros((n_groups, p))
    np.add.at(sum_x, codes, z[:, None] * X)
    sum_y = np.bincount(codes, z * y, minlength=n_groups)
    xtx, xty = X.T @ X, X.T @ y

    def at(theta: float):
        t2 = theta * theta
        w = t2 / (1 + size * t2)          # V^-1 = I - w z z' within a school (sigma^2 = 1)
        a = xtx - sum_x.T @ (w[:, None] * sum_x)
        chol = np.linalg.cholesky(a)
        beta = np.linalg.solve(a, xty - sum_x.T @ (w * sum_y))
        e = y - X @ beta                  # residuals: no cancellation in the weighted RSS
        e_sum = np.bincount(codes, z * e, minlength=n_groups)
        rss = e @ e - w @ (e_sum * e_sum)
        return a, beta, float(rss), float(np.log1p(size * t2).sum()), chol

    return at


def _profiled_deviance(y, X, codes, reml: bool, z=None):
    """Return lme4's profiled deviance of a random intercept model as a function of theta.

    Theta is the school SD over the residual SD (lme4's relative covariance factor); the fixed
    effects and the residual variance are profiled out, as ``lme4::lmer``'s ``devfun``. The
    deviance is -2 times the (restricted) log-likelihood, computed from group sums
    (:func:`_gls`); with prior weights (``z`` = sqrt(w), ``y`` and ``X`` multiplied by it)
    it leaves out lme4's constant -log |W|.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome, length n.
    X : numpy.ndarray
        Fixed-effects design, n x p, full rank.
    codes : numpy.ndarray
        Group codes 0, ..., G - 1, length n.
    reml : bool
        REML or maximum likelihood.
    z : numpy.ndarray, optional
        Random-intercept column (default ones), as :func:`_gls`.

    Returns
    -------
    callable
        ``theta -> deviance``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(10), 5)
    >>> dev = _profiled_deviance(rng.normal(size=50) + g / 5, np.ones((50, 1)), g, True)
    >>> bool(dev(0.5) < dev(0.0))
    True
    """
    n, p = X.shape
    nu = n - p if reml else n
    at = _gls(y, X, codes, z)

    def deviance(theta: float) -> float:
        _, _, rss, logdet, chol = at(theta)
        out = logdet + nu * (1 + np.log(2 * np.pi * rss / nu))
        return float(out + 2 * np.log(np.diag(chol)).sum() if reml else out)

    return deviance


def fixed_effects_vcov(y, X, codes, theta: float, reml: bool, z=None) -> np.ndarray:
    """Return lme4's covariance matrix of the fixed effects at theta (``vcov.merMod``).

    lme4 gives sigma^2 (X' V^-1 X)^-1 = sigma^2 RX^-1 RX^-T (``sigma(m)^2 * m@pp$unsc()``) at
    the estimated theta, sigma^2 being the (penalised) residual sum of squares over n - p
    (REML) or n (ML): the fixed effects' information given the variance parameters. It is
    not the inverse of the observed information of all parameters (statsmodels'
    ``cov_params()``), which also reflects the variance parameters' uncertainty.

    Parameters
    ----------
    y, X, codes, z
        As :func:`_gls` (with prior weights: ``y`` and ``X`` multiplied by ``z`` = sqrt(w)).
    theta : float
        School SD over residual SD at the optimum (0 for a singular fit).
    reml : bool
        REML (sigma^2 on n - p degrees of freedom) or ML (on n).

    Returns
    -------
    numpy.ndarray
        p x p, symmetric.

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0., 1, 0, 1]])
    >>> v = fixed_effects_vcov(np.array([1., 2, 3, 5]), X, np.array([0, 0, 1, 1]), 0.0, True)
    >>> np.round(v, 4).tolist()   # theta 0: OLS, as lm's vcov
    [[1.625, -1.625], [-1.625, 3.25]]
    """
    n, p = X.shape
    _, _, rss, _, chol = _gls(y, X, codes, z)(theta)
    sigma2 = rss / (n - p if reml else n)
    rx_inv = np.linalg.solve(chol, np.eye(p))          # RX^-T (chol is lower: RX')
    unsc = rx_inv.T @ rx_inv                           # (X' V^-1 X)^-1, lme4's unsc()
    return sigma2 * (unsc + unsc.T) / 2


def _polish(deviance, theta0: float) -> float:
    """Minimise a profiled deviance in theta from an optimiser's theta, to lme4's optimum.

    Bounded Brent's method in a bracket about ``theta0``, widened (up to zero below) while the
    minimum is at its edge; never returns a theta with a larger deviance than ``theta0``.

    Examples
    --------
    >>> round(_polish(lambda t: (t - 0.3) ** 2, 0.29), 8)
    0.3
    >>> _polish(lambda t: (t + 1) ** 2, 0.01)
    0.0
    """
    lo, hi = theta0 / 2, 2 * theta0 + 1e-4
    theta = theta0
    for _ in range(20):
        res = minimize_scalar(deviance, bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-12, "maxiter": 200})
        theta, edge = float(res.x), 1e-6 * (hi - lo)
        if hi - theta < edge:
            lo, hi = hi / 2, 4 * hi
        elif lo > 0 and theta - lo < edge:
            lo = 0.0
        else:
            break
    if deviance(0.0) <= deviance(theta):
        theta = 0.0
    return theta if deviance(theta) <= deviance(theta0) else theta0


@dataclass(frozen=True)
class MixedFit:
    """A random-intercept linear mixed model fitted by :func:`fit_mixed`.

    Attributes
    ----------
    fit : statsmodels MixedLMResults
    reml : bool
        REML (True) or maximum likelihood.
    converged : bool
        An optimiser reported convergence, the log-likelihood is finite and the largest
        absolute gradient is below ``GRADIENT_TOL``. A converged fit is then polished to the
        optimum of lme4's profiled (RE)ML criterion (:func:`_polish`), as ``lmer`` reaches it.
    optimizer : str
        The optimiser whose fit is kept.
    attempts : tuple
        (optimiser, converged, log-likelihood, largest absolute gradient) of every try, as
        the optimiser left it (before polishing).
    notice : str
        Empty when converged and not singular; otherwise what a report should say.
    singular : bool
        lme4's ``isSingular``: theta (school SD / residual SD) below ``SINGULAR_TOL``, a
        school variance at or near zero.
    theta : float
        Theta at the optimum (a singular fit's may be below ``THETA_FLOOR``, the smallest
        statsmodels' ``fit`` is evaluated at).
    cov_fe : numpy.ndarray
        Covariance matrix of the fixed effects as lme4's ``vcov``: sigma^2 (X' V^-1 X)^-1 at
        ``theta`` (:func:`fixed_effects_vcov`), not statsmodels' ``cov_params()``.
    log_det_weights : float
        Sum of the log prior weights (0 unweighted): lme4's log-likelihood adds half of it
        to that of the weight-transformed model statsmodels fits.
    """

    fit: MixedLMResultsWrapper = field(repr=False)
    reml: bool
    converged: bool
    optimizer: str
    attempts: tuple
    notice: str
    singular: bool = False
    theta: float = float("nan")
    cov_fe: np.ndarray | None = field(default=None, repr=False)
    log_det_weights: float = 0.0

    @property
    def fe_params(self) -> np.ndarray:
        """Fixed effects."""
        return np.asarray(self.fit.fe_params)

    @property
    def se_fe(self) -> np.ndarray:
        """Standard errors of the fixed effects, as lme4's ``sqrt(diag(vcov(m)))``."""
        return np.sqrt(np.diag(self.cov_fe))

    @property
    def var_group(self) -> float:
        """Variance of the random intercept."""
        return float(np.asarray(self.fit.cov_re)[0, 0])

    @property
    def var_residual(self) -> float:
        """Residual variance."""
        return float(self.fit.scale)

    @property
    def llf(self) -> float:
        """(Restricted) log-likelihood, as lme4's ``logLik``."""
        return float(self.fit.llf) + self.log_det_weights / 2


def fit_mixed(y, X, groups, reml: bool = True, weights=None) -> MixedFit:
    """Fit a random-intercept linear mixed model, trying optimisers until one converges.

    With ``weights``, as ``lmer(..., weights = w)``: prior weights, pupil i's residual
    variance being sigma^2 / w_i (the school variance is not weighted). statsmodels' MixedLM
    takes no weights, so it fits the equivalent model multiplied through by sqrt(w): outcome
    and design times sqrt(w), the school intercept's column sqrt(w) (``exog_re``).

    Parameters
    ----------
    y : array-like
        Outcome.
    X : array-like or pandas.DataFrame
        Fixed-effects design (with an intercept column).
    groups : array-like
        Group labels (schools).
    reml : bool, default True
        REML (lme4's default) or maximum likelihood.
    weights : array-like, optional
        Prior weights, finite and positive (default: none).

    Returns
    -------
    MixedFit
        With ``converged`` False, a ``notice`` and a :class:`ModelWarning` when no optimiser
        converged (the fit with the highest log-likelihood is kept, unpolished); with
        ``singular`` True, a ``notice`` and a :class:`ModelWarning` on a singular fit.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(20), 10)
    >>> x = rng.normal(size=200)
    >>> y = 1 + 0.5 * x + rng.normal(0, 0.5, 20)[g] + rng.normal(size=200)
    >>> m = fit_mixed(y, np.column_stack([np.ones(200), x]), g)
    >>> m.converged, m.optimizer, m.singular
    (True, 'bfgs', False)
    """
    y = np.asarray(y, float)
    if weights is None:
        model, ld_w = MixedLM(y, X, groups=groups), 0.0
    else:
        w = np.asarray(weights, float)
        if w.shape != y.shape or not (np.isfinite(w).all() and (w > 0).all()):
            raise ValueError("`weights` should be finite, positive and one per row of `y`")
        s = np.sqrt(w)
        xs = X.mul(s, axis=0) if isinstance(X, pd.DataFrame) else np.asarray(X, float) * s[:, None]
        model, ld_w = MixedLM(y * s, xs, groups=groups, exog_re=s[:, None]), float(np.log(w).sum())
    attempts, fits = [], []
    for name in OPTIMIZERS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = model.fit(reml=reml, method=name)
            except (np.linalg.LinAlgError, ValueError):
                attempts.append((name, False, float("nan"), float("nan")))
                continue
            grad = float(np.max(np.abs(model.score(fit.params_object, profile_fe=False))))
        ok = bool(fit.converged) and np.isfinite(fit.llf) and grad < GRADIENT_TOL
        attempts.append((name, ok, float(fit.llf), grad))
        fits.append((ok, fit, name))
        if ok:
            fit, theta = _polished(model, fit, reml)
            return _mixed_fit(model, fit, reml, True, name, attempts, "", theta, ld_w)
    finite = [f for f in fits if np.isfinite(f[1].llf)]
    if not finite:
        raise NotEstimableError("the mixed model could not be fitted by any optimiser "
                                f"({', '.join(OPTIMIZERS)})")
    _, fit, name = max(finite, key=lambda f: f[1].llf)
    notice = (f"the multilevel model did not converge with any optimiser ({', '.join(OPTIMIZERS)}"
              f"); the fit with the highest log-likelihood ({name}) is shown and should not "
              "be relied on")
    warnings.warn(notice, ModelWarning, stacklevel=2)
    return _mixed_fit(model, fit, reml, False, name, attempts, notice, _theta(fit), ld_w)


def _theta(fit) -> float:
    """Theta (school SD / residual SD) of a statsmodels fit."""
    return float(np.sqrt(max(float(np.asarray(fit.cov_re_unscaled)[0, 0]), 0.0)))


def _polished(model: MixedLM, fit, reml: bool):
    """Return (statsmodels fit, theta) at the optimum of lme4's profiled (RE)ML criterion.

    The deviance is minimised in theta from the optimiser's (:func:`_polish`); statsmodels'
    results are then built at that theta (``gtol=inf``: BFGS takes no step), at least
    ``THETA_FLOOR``. The optimiser's fit is kept if this fails.
    """
    theta0 = _theta(fit)
    try:
        y, X, codes, z = _arrays(model)
        deviance = _profiled_deviance(y, X, codes, reml, z)
        theta = _polish(deviance, theta0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            polished = model.fit(reml=reml, start_params=np.array([max(theta, THETA_FLOOR)]),
                                 method="bfgs", gtol=np.inf)
    except (np.linalg.LinAlgError, ValueError):
        return fit, theta0
    if not (np.isfinite(polished.llf) and polished.llf >= fit.llf - 1e-9):
        return fit, theta0
    return polished, theta


def _arrays(model: MixedLM):
    """(y, X, group codes, random-intercept column) of a MixedLM, as :func:`_gls` takes them."""
    return (np.asarray(model.endog, float), np.asarray(model.exog, float),
            pd.factorize(model.groups)[0], np.asarray(model.exog_re, float)[:, 0])


def _mixed_fit(model, fit, reml, converged, name, attempts, notice, theta,
               ld_w) -> MixedFit:
    """Build a :class:`MixedFit` with lme4's ``vcov``, and the singular-fit notice if due."""
    singular = bool(theta < SINGULAR_TOL)
    if singular:
        warnings.warn(SINGULAR_NOTICE, ModelWarning, stacklevel=3)
        notice = "; ".join(n for n in (notice, SINGULAR_NOTICE) if n)
    y, X, codes, z = _arrays(model)
    try:
        cov = fixed_effects_vcov(y, X, codes, theta, reml, z)
    except np.linalg.LinAlgError:
        cov = np.full((X.shape[1], X.shape[1]), np.nan)
    return MixedFit(fit, reml, converged, name, tuple(attempts), notice, singular, theta,
                    cov, ld_w)


def _mixed(d, treatment, reml=True, weighted=False):
    x = d.X
    m = fit_mixed(d.y, x, d.groups, reml=reml, weights=d.weights if weighted else None)
    column = list(x.columns).index(treatment)
    beta = m.fe_params
    label = (f"random school intercept ({'REML' if reml else 'ML'}, "
             f"{'prior weights' if weighted else 'unweighted'})")
    return m.fit, float(beta[column]), float(m.se_fe[column]), float(beta[column]), label, \
        m.converged, m.notice, m.singular


def _gee(d, treatment, reml=True, weighted=False):
    fit = GEE(d.y, d.X, groups=d.groups, family=families.Binomial(),
                 cov_struct=cov_struct.Exchangeable(), weights=d.weights).fit(
        cov_type="robust")
    treat = d.frame[treatment].astype(bool).to_numpy()
    value, grad = average_effect(FAMILIES["binomial"], np.asarray(fit.params), d.X, treat,
                                  treatment, None, d.frame, d.weights)
    g = int(d.groups.max()) + 1
    cov = np.asarray(fit.cov_params()) * g / (g - 1)  # statsmodels' bias_reduced fails with weights
    column = list(d.X.columns).index(treatment)
    converged = bool(getattr(fit, "converged", True))
    notice = "" if converged else "the GEE fit did not converge"
    return fit, value, float(np.sqrt(grad @ cov @ grad)), float(fit.params.iloc[column]), \
        f"GEE, exchangeable within school ({'weighted' if weighted else 'unweighted'})", \
        converged, notice, False


#: Multilevel model by family.
MODELS = {"gaussian": _mixed, "binomial": _gee}


def fit_multilevel(data: pd.DataFrame, outcome: str, family: str, covariates: list[str], *,
                   treatment: str, group: str, weights: str | None = None,
                   alpha: float = 0.05, reml: bool = True) -> MultilevelResult:
    """Fit the multilevel alternative: random school intercept (Gaussian) or GEE (binomial).

    Gaussian: linear mixed model with a random intercept per school, REML, as
    ``lme4::lmer``; ``weights`` enter as lme4's prior weights (residual variance sigma^2 / w,
    :func:`fit_mixed`). Its SE is lme4's (``vcov``: sigma^2 (X' V^-1 X)^-1 at the estimated
    variances, :func:`fixed_effects_vcov`). Binomial: GEE with an exchangeable working
    correlation within school, ``weights`` as GEE weights, robust (sandwich) covariance times
    G/(G - 1). CIs and p use t(G - 1).

    Parameters
    ----------
    data : pandas.DataFrame
        Matched data (not modified).
    outcome, family, covariates : str
        As :func:`evaluation.models.fit_outcome`.
    treatment : str
        Treatment column (0/1 or boolean); required, there is no default.
    group : str
        School (random intercept / GEE cluster) column; required.
    weights : str or None, default None
        Weight column (matching weights), used by both models; None: unweighted.
    alpha : float
        1 - confidence level.
    reml : bool, default True
        Gaussian: REML (lme4's default) or maximum likelihood.

    Returns
    -------
    MultilevelResult
        ``converged`` False and a ``notice`` (and a ModelWarning) when no optimiser of
        :data:`OPTIMIZERS` converged; ``singular`` True and a ``notice`` (and a
        ModelWarning) on a singular fit (a school variance at or near zero, as lme4's).

    Raises
    ------
    NotEstimableError
        Fewer than two schools, or no EM / comparison pupils.

    Examples
    --------
    >>> res = fit_multilevel(matched, "ks2_aps", "gaussian", ["ks1_aps"], treatment="em",
    ...                      group="school_id", weights="weights")  # doctest: +SKIP
    >>> res.estimate  # doctest: +SKIP
    """
    if family not in MODELS:
        raise ValueError(f"`family` should be one of {sorted(MODELS)}; got {family!r}")
    d = build_design(data, outcome, covariates, treatment, weights, group)
    n_schools = int(d.groups.max()) + 1
    if n_schools < 2:
        raise NotEstimableError(f"a multilevel model of {outcome!r} needs at least two schools;"
                                f" got {n_schools}")
    fit, value, se, coef, label, converged, notice, singular = MODELS[family](
        d, treatment, reml, weights is not None)
    treat = d.frame[treatment].astype(bool).to_numpy()
    n_em, n_comp = int(treat.sum()), int((~treat).sum())
    df = n_schools - 1
    crit = t_critical(alpha, df)
    if family == "gaussian":
        sd = effects.pooled_sd(float(np.std(d.y[treat], ddof=1)),
                               float(np.std(d.y[~treat], ddof=1)), n_em, n_comp)
        es, es_type = effects.small_sample_factor(n_em, n_comp) * coef / sd, "Hedges' g"
    else:
        es, es_type = effects.cox_from_log_odds(coef, n_em, n_comp), "Cox index"
    if not (np.isfinite(se) and se > 0):
        # review of issue 14: 3:1 matching with replacement gave se = 0 and a bare
        # ZeroDivisionError that failed the whole overall report
        raise NotEstimableError(f"{outcome!r}: the multilevel model's standard error of the "
                                f"EM effect is {se:g}, so no interval can be given (the "
                                "matched pupils leave no variation between schools to "
                                "estimate it from)")
    low, high = value - crit * se, value + crit * se
    ok, why = effects.informativeness(low, high, effects.outcome_range(outcome, family),
                                      n_schools, MIN_CLUSTERS, "a multilevel model",
                                      proportion=family == "binomial")
    return MultilevelResult(outcome, family, label, fit, value, se, low, high,
                            t_pvalue(value / se, df), float(es), es_type, n_em, n_comp,
                            n_schools, dict(d.exclusions), converged, notice, ok, why,
                            singular)


@dataclass(frozen=True)
class MultilevelImpacts:
    """Multilevel fits of several outcomes (outcome -> MultilevelResult, or reason)."""

    results: dict
    not_estimable: dict

    def spec_rows(self) -> list[dict]:
        """Rows for :func:`specification_table`: one per outcome (the reason if unfitted)."""
        rows = [row for res in self.results.values() for row in res.spec_rows()]
        return rows + [{"outcome": name, "informative": False,
                        "not_informative": "not estimable", "note": why}
                       for name, why in self.not_estimable.items()]


def multilevel_impacts(data: pd.DataFrame, outcomes: list[dict], covariates: list[str], *,
                       treatment: str, group: str, weights: str | None = None,
                       **kwargs) -> MultilevelImpacts:
    """Fit :func:`fit_multilevel` to every outcome of a plan phase.

    ``treatment``, ``group`` and ``weights`` as :func:`fit_multilevel` (the plan supplies
    them); ``kwargs`` (``alpha``, ``reml``) are passed on.

    Examples
    --------
    >>> ml = multilevel_impacts(matched, plan.outcomes("primary"), plan.covariates("primary"),
    ...                         treatment="em", group="school_id",
    ...                         weights="weights")  # doctest: +SKIP
    """
    results, failed = {}, {}
    for spec in outcomes:
        try:
            results[spec["name"]] = fit_multilevel(data, spec["name"], spec["family"],
                                                   covariates, treatment=treatment,
                                                   group=group, weights=weights, **kwargs)
        except NotEstimableError as err:
            failed[spec["name"]] = str(err)
    return MultilevelImpacts(results, failed)


def specification_table(results: dict) -> pd.DataFrame:
    """Tidy table of the same outcomes under several specifications.

    Parameters
    ----------
    results : dict
        Specification name (a matching spec of the plan, or e.g. ``"multilevel"``) ->
        ``ImpactResult``, ``OutcomeResult``, ``MultilevelResult`` or ``MultilevelImpacts``
        (anything with ``spec_rows()``).

    Returns
    -------
    pandas.DataFrame
        ``specification, outcome, model, estimate, ci_low, ci_high, p, effect_size, es_type,
        n_em, n_comparison, n_schools, inference, informative, not_informative, note``, and
        for the output checker's log (never shown: residual degrees of freedom give pupil
        counts back) ``method`` and ``df_resid``; ordered by outcome then specification.

    Examples
    --------
    >>> specification_table({"manchester": impact, "multilevel": ml})  # doctest: +SKIP
    """
    rows = [{"specification": name, **row} for name, res in results.items()
            for row in res.spec_rows()]
    cols = ["specification", "outcome", "model", "estimate", "ci_low", "ci_high", "p",
            "effect_size", "es_type", "n_em", "n_comparison", "n_schools", "inference",
            "informative", "not_informative", "note", "method", "df_resid"]
    out = pd.DataFrame(rows, columns=cols)
    order = {name: i for i, name in enumerate(results)}
    outcome_order = {o: i for i, o in enumerate(dict.fromkeys(out["outcome"]))}
    return out.sort_values(["outcome", "specification"],
                           key=lambda s: s.map(outcome_order if s.name == "outcome" else order),
                           kind="stable").reset_index(drop=True)

