"""Pupil (Annex 5) and staff (Annex 6) perception surveys: item means and change by wave."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats  # special.stdtrit is stats.t.ppf without its checks

from evaluation.effects import holm
from evaluation.memo import by_content
from evaluation.schema import INSTRUMENTS, WAVES

#: Item code -> (instrument, wording), the handbook's statements (each scored 1 = disagree
#: completely to 10 = agree completely). Schools may add up to 3 items of their own.
ITEMS: dict[str, tuple[str, str]] = {
    "p01": ("pupil", "I enjoy school and learning"),
    "p02": ("pupil", "I am working really hard"),
    "p03": ("pupil", "I am doing well at school"),
    "p04": ("pupil", "I can do as well as my friends by the time I leave"),
    "p05": ("pupil", "I am confident of good national test results"),
    "p06": ("pupil", "Good results matter for my future"),
    "p07": ("pupil", "I want to go to university"),
    "p08": ("pupil", "I know what job I want"),
    "p09": ("pupil", "I will be able to get the job I want"),
    "p10": ("pupil", "I will be successful in the future"),
    "s01": ("staff", "They enjoy school"),
    "s02": ("staff", "They work hard"),
    "s03": ("staff", "They believe they do well"),
    "s04": ("staff", "They are secure in their abilities relative to the year group"),
    "s05": ("staff", "They are confident of good test results"),
    "s06": ("staff", "They value test results"),
    "s07": ("staff", "They have good social, emotional and behavioural skills"),
    "s08": ("staff", "They know their progress and ask for help"),
    "s09": ("staff", "They are optimistic about the future"),
    "s10": ("staff", "They want to go to university"),
    "s11": ("staff", "They are confident of getting the job they want"),
    "s12": ("staff", "Their parents/carers are actively involved"),
}
#: Statistic -> the count columns it rests on, for ``SurveyResult.table``
#: (``evaluation.disclosure.suppress(result.table, COUNTS, ...)``).
COUNTS = {
    **{f"{stat}_{wave}": f"n_{wave}" for wave in WAVES
       for stat in ("mean", "ci_low", "ci_high")},
    # "test" too: the paired test is chosen when enough respondents answered both waves,
    # which bounds the paired count
    **{stat: ["n_baseline", "n_follow_up", "n_paired"]
       for stat in ("change", "ci_low_change", "ci_high_change", "test", "p", "p_holm",
                    "standardised_change")},
}
EXTRA_ITEM = "(item added by the school)"
#: Paired analysis when at least this share of the smaller wave's respondents answered both.
MIN_PAIRED_SHARE = 0.5


def items(instrument: str) -> pd.DataFrame:
    """Return the items of one instrument with their wording.

    Parameters
    ----------
    instrument : {"pupil", "staff"}
        Which survey.

    Returns
    -------
    pandas.DataFrame
        Columns ``item, wording`` in questionnaire order.

    Examples
    --------
    >>> len(items("pupil")), len(items("staff"))
    (10, 12)
    """
    _check_instrument(instrument)
    return pd.DataFrame([(c, w) for c, (i, w) in ITEMS.items() if i == instrument],
                        columns=["item", "wording"])


def _check_instrument(instrument: str) -> None:
    if instrument not in INSTRUMENTS:
        raise ValueError(f"`instrument` should be one of {list(INSTRUMENTS)}; got {instrument!r}")


@dataclass(frozen=True)
class SurveyResult:
    """Baseline and follow-up item means, their change and its test, per group.

    Attributes
    ----------
    instrument : str
        ``"pupil"`` or ``"staff"``.
    by : str or None
        Grouping column (``school_id``, ``cluster``) or None for all respondents together.
    alpha : float
        1 - confidence level of every interval.
    table : pandas.DataFrame
        One row per group and item: ``item, wording, n_baseline, n_follow_up, n_paired,
        mean_baseline, ci_low_baseline, ci_high_baseline, mean_follow_up, ci_low_follow_up,
        ci_high_follow_up, change, ci_low_change, ci_high_change, test`` (``"paired"``: the
        change is the mean within-respondent difference over the ``n_paired`` respondents who
        answered the item at both waves; ``"unpaired"``: Welch's difference of the wave means;
        ``"not tested"``: fewer than 2 answers in a wave), ``p``, ``p_holm`` (Holm across the
        items of a group), ``standardised_change`` (change divided by the root mean square of
        the two waves' standard deviations).
    nonresponse : pandas.DataFrame
        One row per group, wave and item: ``n_respondents`` (who answered any item of the
        instrument in that wave), ``n_answered``, ``n_missing``.
    excluded : dict
        Rows left out and why (e.g. school in no cluster).
    """

    instrument: str
    by: str | None
    alpha: float
    table: pd.DataFrame
    nonresponse: pd.DataFrame
    excluded: Mapping[str, int] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Return the compact table: item, counts, means, change with CI, test and p-values."""
        cols = [*([self.by] if self.by else []), "item", "wording", "n_baseline",
                "n_follow_up", "n_paired", "mean_baseline", "mean_follow_up", "change",
                "ci_low_change", "ci_high_change", "test", "p", "p_holm",
                "standardised_change"]
        return self.table[cols].copy()

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda v: f"{v:z.2f}")


def _mean_ci(x: np.ndarray, alpha: float) -> tuple[float, float, float]:
    n = len(x)
    if n == 0:
        return np.nan, np.nan, np.nan
    m = float(np.mean(x))
    if n < 2:
        return m, np.nan, np.nan
    half = special.stdtrit(n - 1, 1 - alpha / 2) * np.std(x, ddof=1) / np.sqrt(n)
    return m, m - half, m + half


def _paired(b: np.ndarray, f: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    d = f - b
    change, low, high = _mean_ci(d, alpha)
    p = stats.ttest_rel(f, b).pvalue if np.std(d) > 0 else (1.0 if change == 0 else 0.0)
    return change, low, high, float(p)


def _unpaired(b: np.ndarray, f: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    change = float(np.mean(f) - np.mean(b))
    vb, vf = np.var(b, ddof=1) / len(b), np.var(f, ddof=1) / len(f)
    se = np.sqrt(vb + vf)
    if se == 0:
        return change, change, change, 1.0 if change == 0 else 0.0
    df = (vb + vf) ** 2 / (vb**2 / (len(b) - 1) + vf**2 / (len(f) - 1))
    half = special.stdtrit(df, 1 - alpha / 2) * se
    p = stats.ttest_ind(f, b, equal_var=False).pvalue
    return change, change - half, change + half, float(p)


def _item_row(rid: np.ndarray, baseline: np.ndarray, score: np.ndarray, alpha: float) -> dict:
    """Compute the statistics of one item in one group.

    Each answer's respondent (codes in the order of the respondent ids), whether it is of
    the baseline wave, and its score (non-missing).
    """
    b, f = score[baseline], score[~baseline]
    both, in_b, in_f = np.intersect1d(rid[baseline], rid[~baseline], assume_unique=True,
                                      return_indices=True)
    row = {"n_baseline": len(b), "n_follow_up": len(f), "n_paired": len(both)}
    for wave, x in (("baseline", b), ("follow_up", f)):
        m, lo, hi = _mean_ci(x, alpha)
        row.update({f"mean_{wave}": m, f"ci_low_{wave}": lo, f"ci_high_{wave}": hi})
    smaller = min(len(b), len(f))
    paired = len(both) >= 2 and len(both) >= MIN_PAIRED_SHARE * smaller
    if paired:       # pairs in the order of the respondent ids
        change, lo, hi, p = _paired(b[in_b], f[in_f], alpha)
    elif len(b) >= 2 and len(f) >= 2:
        change, lo, hi, p = _unpaired(b, f, alpha)
    else:
        change, lo, hi, p = row["mean_follow_up"] - row["mean_baseline"], np.nan, np.nan, np.nan
    sd = np.sqrt((np.var(b, ddof=1) + np.var(f, ddof=1)) / 2) if smaller >= 2 else np.nan
    row.update(change=change, ci_low_change=lo, ci_high_change=hi,
               test="paired" if paired else "unpaired" if np.isfinite(p) else "not tested", p=p,
               standardised_change=change / sd if sd and sd > 0 else np.nan)
    return row


@by_content(shared=True)
def survey_change(
    surveys: pd.DataFrame,
    instrument: str,
    by: str | None = None,
    schools: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> SurveyResult:
    """Item means at baseline and follow-up, their change, and its test, per group.

    Parameters
    ----------
    surveys : pandas.DataFrame
        The surveys table (long; ``score`` NaN is item non-response). Not modified.
    instrument : {"pupil", "staff"}
        Which survey.
    by : {None, "school_id", "cluster", ...}
        Group rows by a surveys column or a schools column (then pass ``schools``).
        Respondents of schools with a blank value are excluded and counted.
    schools : pandas.DataFrame, optional
        The schools table, when ``by`` is a school column.
    alpha : float
        1 - confidence level.

    Returns
    -------
    SurveyResult
        The change is tested paired (within respondent, on those who answered the item at both
        waves) when at least 2 respondents and at least half of the smaller wave answered both
        (``MIN_PAIRED_SHARE``); otherwise unpaired (Welch) on every answer. ``test`` says which.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"respondent_id": ["a", "b", "c"] * 2, "school_id": "x",
    ...                   "instrument": "pupil", "wave": ["baseline"] * 3 + ["follow_up"] * 3,
    ...                   "item": "p01", "score": [4.0, 5.0, 6.0, 6.0, 6.0, 9.0]})
    >>> r = survey_change(s, "pupil")
    >>> r.table[["item", "n_paired", "change", "test"]].values.tolist()
    [['p01', 3, 2.0, 'paired']]
    """
    _check_instrument(instrument)
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` should be between 0 and 1; got {alpha!r}")
    data = surveys[surveys["instrument"] == instrument]
    if data.empty:
        raise ValueError(f"`surveys` has no rows for instrument {instrument!r}")
    bad_waves = sorted(set(data["wave"]) - set(WAVES))
    if bad_waves:
        raise ValueError(f"`surveys.wave` should be one of {list(WAVES)}; got {bad_waves}")
    excluded: dict[str, int] = {}
    keys: list[str] = []
    if by is not None:
        if by not in data.columns:
            if schools is None or by not in schools.columns:
                raise ValueError(f"`by` should be a surveys column or a schools column (with "
                                 f"`schools`); got {by!r}")
            data = data.merge(schools[["school_id", by]], on="school_id", how="left")
        blank = data[by].isna()
        excluded[f"rows of schools with no {by}"] = int(blank.sum())
        data = data[~blank]
        keys = [by]
    answered = data[data["score"].notna()]
    rid = pd.factorize(answered["respondent_id"], sort=True)[0]
    baseline = (answered["wave"] == "baseline").to_numpy()
    score = answered["score"].to_numpy(float)
    rows = []
    for key, at in answered.groupby([*keys, "item"], sort=True).indices.items():
        row = dict(zip([*keys, "item"], key if isinstance(key, tuple) else (key,), strict=True))
        rows.append({**row, **_item_row(rid[at], baseline[at], score[at], alpha)})
    table = pd.DataFrame(rows)
    if table.empty:
        raise ValueError(f"`surveys` has no answered item for instrument {instrument!r}")
    wording = {c: w for c, (i, w) in ITEMS.items() if i == instrument}
    table.insert(len(keys) + 1, "wording", table["item"].map(wording).fillna(EXTRA_ITEM))
    p_holm = (table.groupby(keys)["p"].transform(lambda p: holm(p.to_numpy(float))) if keys
              else holm(table["p"].to_numpy(float)))
    table.insert(table.columns.get_loc("p") + 1, "p_holm", p_holm)
    return SurveyResult(instrument, by, alpha, table, _nonresponse(data, keys), excluded)


def _nonresponse(data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    resp = data.groupby([*keys, "wave"])["respondent_id"].nunique().rename("n_respondents")
    ans = (data[data["score"].notna()].groupby([*keys, "wave", "item"])["respondent_id"]
           .nunique().rename("n_answered"))
    grid = data[[*keys, "wave", "item"]].drop_duplicates()
    out = grid.merge(resp.reset_index(), on=[*keys, "wave"]).merge(
        ans.reset_index(), on=[*keys, "wave", "item"], how="left")
    out["n_answered"] = out["n_answered"].fillna(0).astype("int64")
    out["n_missing"] = out["n_respondents"] - out["n_answered"]
    order = {w: i for i, w in enumerate(WAVES)}
    out = out.assign(_w=out["wave"].map(order)).sort_values([*keys, "_w", "item"])
    return out.drop(columns="_w").reset_index(drop=True)
