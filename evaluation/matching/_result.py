"""`MatchResult`: the frozen outcome of :func:`evaluation.matching.match`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from evaluation.matching._args import checked_signature, flag

ADDED_COLUMNS = ("weights", "subclass", "distance")


@dataclass(frozen=True)
class MatchResult:
    """A matched sample, in the manner of R MatchIt's ``matchit`` object.

    Attributes
    ----------
    method : str
        Matching method (``"nearest"``, ``"exact"``, ``"cem"``, ``"subclass"``).
    spec : dict
        The arguments of :func:`~evaluation.matching.match` as resolved (defaults filled in,
        e.g. ``m_order`` and the caliper on the distance scale).
    data : pandas.DataFrame
        The input data (kept by reference, never modified).
    treatment : str
        Treatment column.
    covariates : list of str
        Covariates matched on (balance is checked on these by default).
    weights : pandas.Series
        Matching weights aligned to the input index: 0 for unmatched or discarded units;
        treated 1 (ATT).
    subclass : pandas.Series
        Subclass / pair id (nullable integer; missing for unmatched units and for nearest
        matching with replacement, as in MatchIt).
    distance : pandas.Series or None
        The distance (propensity score or user column); None for Mahalanobis and exact
        methods.
    discarded : pandas.Series
        Boolean: outside common support (``discard``).
    counts : pandas.DataFrame
        Sample sizes in MatchIt's layout: rows All, Matched, Unmatched, Discarded; columns
        Control, Treated.
    exclusions : dict
        Units not in the matched sample, by reason (every unit is counted once).
    match_matrix : numpy.ndarray or None
        Nearest neighbour and CEM with ``k2k``: n_focal x ratio positions (row numbers of
        ``data``) of the units matched to each focal unit (the treated; the controls for the
        ATC; in data order), -1 where none.
    s_weights : pandas.Series or None
        Sampling weights (MatchIt's ``s.weights``): used by the propensity model, the
        Mahalanobis covariance, the balance summary and the effective sample sizes, and
        multiplied into the weights of ``matched_data()`` and ``get_matches()``; ``weights``
        themselves exclude them, as MatchIt's.
    """

    method: str
    spec: dict
    data: pd.DataFrame = field(repr=False)
    treatment: str
    covariates: list
    weights: pd.Series = field(repr=False)
    subclass: pd.Series = field(repr=False)
    distance: pd.Series | None = field(repr=False)
    discarded: pd.Series = field(repr=False)
    counts: pd.DataFrame = field(repr=False)
    exclusions: dict = field(default_factory=dict)
    match_matrix: np.ndarray | None = field(default=None, repr=False)
    _design: pd.DataFrame | None = field(default=None, repr=False)
    s_weights: pd.Series | None = field(default=None, repr=False)

    @cached_property
    def propensity_model(self):
        """The statsmodels logistic GLM of the propensity score (None without ``glm``).

        Fitted on first access from the same design (so ``match`` itself stays fast); its
        fitted values equal the ``distance`` used for matching.
        """
        if self._design is None:
            return None
        from statsmodels.genmod import families
        from statsmodels.genmod.generalized_linear_model import GLM

        links = {"logit": families.links.Logit, "probit": families.links.Probit,
                 "cloglog": families.links.CLogLog}
        link = links[self.spec.get("link", "logit").removeprefix("linear.")]()
        y = self.data.loc[self._design.index, self.treatment].to_numpy(float)
        sw = None if self.s_weights is None else self.s_weights.to_numpy()
        return GLM(y, self._design, family=families.Binomial(link=link),
                   var_weights=sw).fit()

    @property
    def x_variables(self) -> list:
        """The variables of MatchIt's ``X`` (so of its ``summary``), in its order.

        ``matchit`` binds the covariates, then the variables of ``exact``, ``mahvars``,
        the caliper (named covariates with a finite width) and ``antiexact`` that are not
        already there (its "Create X output, removing duplicate variables"). ``exact``,
        ``mahvars`` and ``antiexact`` count with nearest, optimal and full matching, the
        caliper with nearest and full matching: MatchIt ignores them (sets them to NULL)
        with the other methods.

        Examples
        --------
        >>> result.x_variables  # doctest: +SKIP
        ['ks2_aps', 'fsm', 'school_id']
        """
        out = list(self.covariates)
        if self.method not in ("nearest", "optimal", "full"):
            return out
        caliper = self.spec.get("caliper")
        cal = ([k for k, v in caliper.items() if k != "distance" and np.isfinite(v)]
               if isinstance(caliper, dict) and self.method != "optimal" else [])
        for names in (self.spec.get("exact"), self.spec.get("mahvars"), cal,
                      self.spec.get("antiexact")):
            out += [v for v in (names or []) if v not in out]
        return out

    def _with_s(self, w: np.ndarray) -> np.ndarray:
        return w if self.s_weights is None else w * self.s_weights.to_numpy()

    def sample_sizes(self) -> pd.DataFrame:
        """Sample sizes as MatchIt's ``summary()`` reports them (its ``nn`` table).

        Rows ``All (ESS)``, ``All``, ``Matched (ESS)``, ``Matched``, ``Unmatched``,
        ``Discarded``; columns Control, Treated. The effective sample sizes are Kish's
        ``(sum w)^2 / sum w^2`` of each group's sampling weights (All) and matching weights
        times sampling weights (Matched). As MatchIt's ``nn``, a unit is Matched when its
        matching weight times its sampling weight is positive and Unmatched (if not
        discarded) when that product is 0: a matched unit of sampling weight 0 counts as
        unmatched here, though ``counts`` (the matching alone) has it matched.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> result.sample_sizes().loc["Matched (ESS)"]  # doctest: +SKIP
        """
        t = self.data[self.treatment].to_numpy().astype(bool)
        w = self._with_s(self.weights.to_numpy())
        s = self._with_s(np.ones(len(t)))

        def ess(x):
            return float(x.sum() ** 2 / (x ** 2).sum()) if (x > 0).any() else 0.0
        c = self.counts.astype(float)
        disc = self.discarded.to_numpy()
        rows = {"All (ESS)": np.array([ess(s[~t]), ess(s[t])]),
                "All": c.loc["All"].to_numpy(),
                "Matched (ESS)": np.array([ess(w[~t]), ess(w[t])]),
                "Matched": np.array([((w > 0) & g).sum() for g in (~t, t)], float),
                "Unmatched": np.array([((w == 0) & ~disc & g).sum() for g in (~t, t)],
                                      float),
                "Discarded": c.loc["Discarded"].to_numpy()}
        return pd.DataFrame(rows, index=["Control", "Treated"]).T

    def get_matches(self, id: str = "id") -> pd.DataFrame:  # noqa: A002 (MatchIt's name)
        """One row per member of each matched set, as MatchIt's ``get_matches``.

        Each focal unit with a match and its matches form a set numbered ``subclass``
        (1, 2, ... in the focal units' data order); a unit matched to several focal units
        (matching with replacement) appears once per set. ``weights`` are 1 for the focal
        unit and ``1 / k`` for each of its ``k`` matches (not normalised, as MatchIt; times
        the sampling weights when there are some). Rows are ordered by set, treated units
        first, then as MatchIt's ``merge``: a unit reused from an earlier set before those
        first met in this one; ``id`` holds the row label of ``data``.

        Parameters
        ----------
        id : str, default "id"
            Name of the column holding the row labels; must not be a column of ``data``.

        Returns
        -------
        pandas.DataFrame
            The columns of ``data`` plus ``id``, ``subclass``, ``weights`` (and
            ``distance`` when there is one).

        Raises
        ------
        ValueError
            Without a match matrix (exact, CEM without ``k2k``, subclass: use
            ``matched_data()``) or if ``data`` already has a column of those names.

        Examples
        --------
        >>> result.get_matches().head()  # doctest: +SKIP
        """
        if self.match_matrix is None:
            raise ValueError(f"get_matches() needs pairs (a match matrix), which "
                             f"method={self.method!r} does not make; use matched_data()")
        new = [id, "subclass", "weights"] + (["distance"] if self.distance is not None
                                              else [])
        clash = [c for c in new if c in self.data.columns]
        if clash:
            raise ValueError(f"`data` already has column(s) {clash}; get_matches() adds "
                             f"{new}: rename them first (or pass another `id`)")
        t = self.data[self.treatment].to_numpy().astype(bool)
        focal = t if self.spec.get("focal", "treated") == "treated" else ~t
        mm = self.match_matrix
        has = mm[:, 0] >= 0
        rows_f = np.flatnonzero(focal)[has]
        sets = mm[has]
        k = (sets >= 0).sum(axis=1)
        r, c = np.nonzero(sets >= 0)
        pos = np.concatenate([sets[r, c], rows_f])
        sub = np.concatenate([r, np.arange(len(rows_f))]) + 1
        wts = np.concatenate([1.0 / k[r], np.ones(len(rows_f))])
        # R: merge(sort = FALSE) lists each unit where it first appears in the sets (a
        # control reused from an earlier set comes first), then a stable order by set,
        # treated first
        uniq, first = np.unique(pos, return_index=True)
        seen = first[np.searchsorted(uniq, pos)]
        order = np.lexsort((seen, ~t[pos], sub))
        pos, sub, wts = pos[order], sub[order], wts[order]
        out = self.data.iloc[pos].reset_index(drop=True)
        out.insert(0, id, self.data.index[pos])
        out["subclass"] = sub
        out["weights"] = self._with_s(np.ones(len(t)))[pos] * wts
        if self.distance is not None:
            out["distance"] = self.distance.to_numpy()[pos]
        return out

    def matched_data(self) -> pd.DataFrame:
        """Return a new DataFrame of the matched units with weights, subclass and distance.

        Mirrors MatchIt's ``match_data``: unmatched and discarded units are left out, and a
        column of the data that already has one of those names is an error, not overwritten.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ValueError
            If ``data`` already has a ``weights``, ``subclass`` or ``distance`` column.

        Examples
        --------
        >>> result.matched_data()  # doctest: +SKIP
        """
        clash = [c for c in ADDED_COLUMNS if c in self.data.columns]
        if clash:
            raise ValueError(
                f"`data` already has column(s) {clash}; matched_data() adds "
                f"{list(ADDED_COLUMNS)} and will not overwrite them: rename them first")
        keep = self.weights.to_numpy() > 0
        out = self.data.loc[keep].copy()
        out["weights"] = self._with_s(self.weights.to_numpy())[keep]
        out["subclass"] = self.subclass.to_numpy()[keep]
        out["subclass"] = out["subclass"].astype("Int64")
        out["distance"] = (self.distance.to_numpy()[keep] if self.distance is not None
                           else np.nan)
        return out

    def subclass_summary(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per-subclass balance and sample sizes (MatchIt's ``summary(m, subclass = TRUE)``).

        Returns
        -------
        (pandas.DataFrame, pandas.DataFrame)
            :func:`evaluation.balance.subclass_balance` and
            :func:`evaluation.balance.subclass_sizes` of this result.

        Examples
        --------
        >>> by_subclass, sizes = result.subclass_summary()  # doctest: +SKIP
        """
        from evaluation.balance import subclass_balance, subclass_sizes

        return subclass_balance(self), subclass_sizes(self)

    @checked_signature
    def summary(self, un: bool = True, subclass: bool = False) -> pd.DataFrame:
        """Balance before and after matching, in the layout of MatchIt's ``summary.matchit``.

        Parameters
        ----------
        un : bool, default True
            Include the balance of all data before matching (MatchIt's ``un``); False keeps
            the matched data only.
        subclass : bool, default False
            Add the balance within each subclass and the subclass sample sizes (MatchIt's
            ``subclass = TRUE``) as ``attrs["subclass"]`` and ``attrs["subclass_sizes"]``
            (:func:`evaluation.balance.subclass_balance`, :func:`~evaluation.balance.
            subclass_sizes`); the result needs subclasses.

        Returns
        -------
        pandas.DataFrame
            One row per covariate column (``distance`` first when there is one), columns
            ``(All data | Matched data) x (Means Treated, Means Control, Std. Mean Diff.,
            Var. Ratio, eCDF Mean, eCDF Max)`` (``Matched data`` with ``Std. Pair Dist.``);
            ``attrs["sample_sizes"]`` holds MatchIt's sample sizes (with effective sample
            sizes, unmatched and discarded units).

        Examples
        --------
        >>> result.summary(un=False)  # doctest: +SKIP
        """
        from evaluation.balance import balance, subclass_balance, subclass_sizes

        un, subclass = flag("un", un), flag("subclass", subclass)
        out = balance(self).summary()
        if not un:
            sizes = out.attrs["sample_sizes"]
            out = out[["Matched data"]]
            out.attrs["sample_sizes"] = sizes
        if subclass:
            out.attrs["subclass"] = subclass_balance(self)
            out.attrs["subclass_sizes"] = subclass_sizes(self)
        return out

    def __repr__(self) -> str:
        n = self.counts
        return (f"MatchResult(method={self.method!r}, matched treated="
                f"{int(n.loc['Matched', 'Treated'])}/{int(n.loc['All', 'Treated'])}, "
                f"matched control={int(n.loc['Matched', 'Control'])}/"
                f"{int(n.loc['All', 'Control'])})")

    def _repr_html_(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec.items()
                         if v is not None and k not in ("focal", "other"))
        excl = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in self.exclusions.items())
        return (f"<p><b>Matching</b>: {html.escape(args)}</p>"
                + self.counts.to_html(caption="Sample sizes")
                + (f"<p>Not in the matched sample:</p><ul>{excl}</ul>" if excl else ""))
