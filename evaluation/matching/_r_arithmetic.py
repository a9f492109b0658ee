"""R's arithmetic, bit for bit: MatchIt's covariate transforms, CEM's bins and k2k distances.

R sums in C's ``long double`` row by row (``colMeans``, ``sum``, ``mean``, ``cov``) where
numpy adds pairwise in double, and R 4.2 here calls the reference BLAS and LAPACK where numpy
calls OpenBLAS: the same numbers to rounding, not to the last bit. Distances tied in exact
arithmetic are then broken by those last bits, so ``distance.mahalanobis_space`` repeats R's
operations in R's order: the sums below, and the reference LAPACK LU, solves and pivoted
Cholesky written out on the small p x p matrix. CEM's bins (``_cem``) are cut where R's
``seq``, ``signif``, ``quantile`` (type 7) and ``var`` put them, so they are repeated too,
as are ``pooled_sd`` (CEM's ``k2k_method="scaled_euclidean"``) and ``stats::dist`` (its
``stats::dist`` methods: sums column by column in double, C's ``pow``).
"""

from __future__ import annotations

import math

import numpy as np

#: C's ``long double``, R's ``LDOUBLE`` accumulator: numpy's ``longdouble`` is the same C type
#: (80-bit x87 extended precision on x86-64 Linux), so sums round as R's do on the platform.
_LD = np.longdouble

#: Rows per block of the sequential sums (bounds their scratch memory, keeps it in cache).
_SUM_BLOCK = 16_384


def _seq_sums(n: int, k: int, terms) -> np.ndarray:
    """Sum each row of ``terms`` over ``n`` columns strictly in order, as a C loop does.

    ``terms(s, e)`` returns the block of columns ``s:e`` (``k`` rows, a fresh array in the
    precision of the sum). C's ``sum = 0; for (i = 0; i < n; i++) sum += t[i];`` is a
    cumulative sum per block whose first column takes the running total: the same additions
    in the same order (``numpy.sum`` adds pairwise and rounds differently).
    """
    total = None
    for s in range(0, n, _SUM_BLOCK):
        t = terms(s, min(n, s + _SUM_BLOCK))
        if total is not None:
            t[:, 0] += total
        np.cumsum(t, axis=1, out=t)
        total = t[:, -1].copy()
    return np.zeros(k, _LD) if total is None else total


def _r_colsums(Xt: np.ndarray) -> np.ndarray:
    """Return R's ``colSums`` of the columns ``Xt`` (rows here), in long double."""
    return _seq_sums(Xt.shape[1], len(Xt), lambda s, e: Xt[:, s:e].astype(_LD))


def _r_means(Xt: np.ndarray) -> np.ndarray:
    """Return R's ``mean`` of each row of ``Xt`` (also ``cov``'s means).

    The long-double mean, corrected by the long-double mean of the deviations from it,
    rounded to double.
    """
    n = _LD(Xt.shape[1])
    m = (_r_colsums(Xt) / n)[:, None]

    def deviations(s, e):
        d = Xt[:, s:e].astype(_LD)
        d -= m
        return d

    return (m[:, 0] + _seq_sums(Xt.shape[1], len(Xt), deviations) / n).astype(float)


def _r_wmeans(Xt: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Return MatchIt's ``wm``, ``sum(x * w) / sum(w)``, of each row of ``Xt``."""
    n = Xt.shape[1]
    num = _seq_sums(n, len(Xt), lambda s, e: (Xt[:, s:e] * w[s:e]).astype(_LD)).astype(float)
    return num / float(_seq_sums(n, 1, lambda s, e: w[None, s:e].astype(_LD))[0])


def r_scale(Xt: np.ndarray) -> np.ndarray:
    """Return R's ``scale`` of the columns ``Xt`` (rows here).

    Minus ``colMeans`` (long-double sum over n), over ``sqrt(sum(v^2) / (n - 1))`` (squares
    in double, summed in long double).
    """
    p, n = Xt.shape
    Xc = Xt - (_r_colsums(Xt) / _LD(n)).astype(float)[:, None]
    ss = _seq_sums(n, p, lambda s, e: (Xc[:, s:e] * Xc[:, s:e]).astype(_LD)).astype(float)
    Xc /= np.sqrt(ss / max(1, n - 1))[:, None]
    return Xc


def _r_cov(Xt: np.ndarray) -> np.ndarray:
    """Return R's ``cov`` of the columns ``Xt`` (rows here), as its C code computes it.

    Each cross-product of the long-double deviations from :func:`_r_means`, summed in long
    double, over n - 1.
    """
    p, n = Xt.shape
    m = _r_means(Xt).astype(_LD)[:, None]
    iu, ju = np.triu_indices(p)

    def products(s, e):
        d = Xt[:, s:e].astype(_LD)
        d -= m
        out = np.empty((len(iu), e - s), _LD)
        for q, (i, j) in enumerate(zip(iu, ju, strict=True)):
            np.multiply(d[i], d[j], out=out[q])
        return out

    out = np.empty((p, p))
    out[iu, ju] = out[ju, iu] = (_seq_sums(n, len(iu), products) / _LD(n - 1)).astype(float)
    return out


def _r_cov_wt(Xt: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Return R's ``cov.wt(X, w)$cov`` of the columns ``Xt`` (rows here).

    ``wt = w / sum(w)``, centre ``colSums(wt * X)``, then the reference BLAS ``crossprod``
    (``dsyrk``: each entry a sum in double, in row order) of ``sqrt(wt) * (X - centre)``,
    over ``1 - sum(wt^2)``.
    """
    p, n = Xt.shape
    wt = w / float(_seq_sums(n, 1, lambda s, e: w[None, s:e].astype(_LD))[0])
    centre = _seq_sums(n, p, lambda s, e: (wt[s:e] * Xt[:, s:e]).astype(_LD)).astype(float)
    Y = np.sqrt(wt) * (Xt - centre[:, None])
    iu, ju = np.triu_indices(p)
    out = np.empty((p, p))
    out[iu, ju] = out[ju, iu] = _seq_sums(n, len(iu), lambda s, e: Y[iu, s:e] * Y[ju, s:e])
    return out / (1 - float(_seq_sums(n, 1, lambda s, e: (wt[None, s:e] ** 2).astype(_LD))[0]))


def pooled_cov(Xt: np.ndarray, t: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Return MatchIt's ``pooled_cov`` of the columns ``Xt`` (rows here), ``t`` boolean.

    Each centred on its group's ``mean`` (with weights, ``wm``), then ``cov(X) * (n - 1) /
    (n - groups)`` (with weights, ``cov.wt(X, w)$cov``).
    """
    means = np.zeros((len(Xt), 2))
    groups = 0
    for g in (False, True):
        rows = t == g
        if rows.any():
            groups += 1
            Xg = np.compress(rows, Xt, axis=1)
            means[:, int(g)] = _r_means(Xg) if w is None else _r_wmeans(Xg, w[rows])
    centred = Xt - means[:, t.astype(np.intp)]
    if w is not None:
        return _r_cov_wt(centred, w)
    n = Xt.shape[1]
    return _r_cov(centred) * (n - 1) / (n - groups)


def _lu(A: list[list[float]], ipiv: list[int], r0: int, c0: int, m: int, n: int) -> int:
    """Factorise ``A[r0:r0+m][c0:c0+n]`` in place as the reference LAPACK ``dgetrf2`` does.

    The recursive LU with partial pivoting; ``ipiv`` gets absolute row indices. Returns
    LAPACK's ``info`` (positive: an exactly zero pivot).
    """
    info = 0
    if m == 1:
        ipiv[r0] = r0
        info = int(A[r0][c0] == 0.0)
    elif n == 1:
        i = max(range(m), key=lambda k: (abs(A[r0 + k][c0]), -k))   # idamax: first largest
        ipiv[r0] = r0 + i
        if A[r0 + i][c0] == 0.0:
            return 1
        A[r0][c0], A[r0 + i][c0] = A[r0 + i][c0], A[r0][c0]
        if abs(A[r0][c0]) >= np.finfo(float).tiny:
            rec = 1.0 / A[r0][c0]                                     # dscal by 1 / pivot
            for k in range(1, m):
                A[r0 + k][c0] = rec * A[r0 + k][c0]
        else:
            for k in range(1, m):
                A[r0 + k][c0] = A[r0 + k][c0] / A[r0][c0]
    else:
        n1 = min(m, n) // 2
        info = _lu(A, ipiv, r0, c0, m, n1)
        _swap_rows(A, ipiv, range(r0, r0 + n1), range(c0 + n1, c0 + n))   # dlaswp
        for j in range(c0 + n1, c0 + n):
            for k in range(n1):                                       # dtrsm: L11^-1 A12
                b = A[r0 + k][j]
                if b != 0.0:
                    for i in range(k + 1, n1):
                        A[r0 + i][j] = A[r0 + i][j] - b * A[r0 + i][c0 + k]
            for k in range(n1):                                       # dgemm: A22 - A21 A12
                b = -A[r0 + k][j]
                for i in range(n1, m):
                    A[r0 + i][j] = A[r0 + i][j] + b * A[r0 + i][c0 + k]
        inner = _lu(A, ipiv, r0 + n1, c0 + n1, m - n1, n - n1)
        if info == 0 and inner > 0:
            info = inner + n1
        _swap_rows(A, ipiv, range(r0 + n1, r0 + min(m, n)), range(c0, c0 + n1))
    return info


def _swap_rows(A: list[list[float]], ipiv: list[int], rows: range, cols: range) -> None:
    """Exchange, row by row in order, the entries in ``cols`` with the pivot row's (dlaswp)."""
    for k in rows:
        if ipiv[k] != k:
            a, b = A[k], A[ipiv[k]]
            for c in cols:
                a[c], b[c] = b[c], a[c]


def det_solve(cov: np.ndarray) -> tuple[float, np.ndarray | None]:
    """Return R's ``det(cov)`` and ``solve(cov)`` (``None`` where ``solve`` fails).

    Both factorise by the reference LAPACK ``dgetrf`` R calls (for up to 64 columns the
    recursive ``dgetrf2``, :func:`_lu`); ``det`` is ``sign * exp(sum(log(abs(diag(U)))))``
    (R's ``La_det``) and ``solve`` is ``dgesv`` on the identity: the row interchanges, then
    the reference ``dtrsm`` unit-lower and upper triangular solves (dividing by the pivots).
    """
    p = len(cov)
    A = [[float(v) for v in row] for row in cov]
    ipiv = list(range(p))
    if _lu(A, ipiv, 0, 0, p, p) > 0:
        return 0.0, None
    modulus, sign = 0.0, 1.0
    for i in range(p):
        modulus += math.log(abs(A[i][i]))
        if (A[i][i] < 0) != (ipiv[i] != i):
            sign = -sign
    det = sign * math.exp(modulus)
    B = [[float(i == j) for j in range(p)] for i in range(p)]
    for k in range(p):
        B[k], B[ipiv[k]] = B[ipiv[k]], B[k]
    for j in range(p):
        for k in range(p):                                            # unit lower
            b = B[k][j]
            if b != 0.0:
                for i in range(k + 1, p):
                    B[i][j] = B[i][j] - b * A[i][k]
        for k in range(p - 1, -1, -1):                                # upper
            if B[k][j] != 0.0:
                B[k][j] = B[k][j] / A[k][k]
                b = B[k][j]
                for i in range(k):
                    B[i][j] = B[i][j] - b * A[i][k]
    inv = np.array(B)
    # solve() also fails when the reciprocal condition number is below machine epsilon
    if np.abs(cov).sum(0).max() * np.abs(inv).sum(0).max() * np.finfo(float).eps > 1:
        return det, None
    return det, inv


def chol_pivot(S: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Return R's ``chol(S, pivot = TRUE)``: the factor and the 0-based pivot.

    The reference LAPACK ``dpstf2`` (``dpstrf`` for up to 64 columns) on the upper triangle
    with ``tol = -1``; the lower triangle is zero, and a semi-definite matrix stops where
    LAPACK stops (its remaining rows as LAPACK leaves them, as R returns them).
    """
    n = len(S)
    A = [[float(S[i, j]) if j >= i else 0.0 for j in range(n)] for i in range(n)]
    piv = list(range(n))
    pvt = max(range(n), key=lambda i: (A[i][i], -i))                 # first largest
    if not A[pvt][pvt] > 0:
        return np.array(A), piv
    dstop = n * np.finfo(float).eps * A[pvt][pvt]
    work = [0.0] * n                                                  # dot products
    ajj = A[pvt][pvt]
    for j in range(n):
        if j > 0:
            for i in range(j, n):
                work[i] = work[i] + A[j - 1][i] * A[j - 1][i]
            left = [A[i][i] - work[i] for i in range(j, n)]
            pvt = j + left.index(max(left))
            ajj = left[pvt - j]
            if not ajj > dstop:
                A[j][j] = ajj
                return np.array(A), piv
        if j != pvt:
            A[pvt][pvt] = A[j][j]
            for r in range(j):
                A[r][j], A[r][pvt] = A[r][pvt], A[r][j]
            for c in range(pvt + 1, n):
                A[j][c], A[pvt][c] = A[pvt][c], A[j][c]
            for k in range(j + 1, pvt):
                A[j][k], A[k][pvt] = A[k][pvt], A[j][k]
            work[j], work[pvt] = work[pvt], work[j]
            piv[j], piv[pvt] = piv[pvt], piv[j]
        ajj = math.sqrt(ajj)
        A[j][j] = ajj
        for c in range(j + 1, n):                                     # dgemv, transposed
            temp = 0.0
            for r in range(j):
                temp = temp + A[r][c] * A[r][j]
            A[j][c] = A[j][c] - temp
        rec = 1.0 / ajj                                               # dscal by 1 / ajj
        for c in range(j + 1, n):
            A[j][c] = rec * A[j][c]
    return np.array(A), piv


def r_cov(Xt: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Return R's ``cov`` (``cov.wt(X, w)$cov`` with weights) of the columns ``Xt`` (rows)."""
    return _r_cov(Xt) if w is None else _r_cov_wt(Xt, w)


def _r_sum(x: np.ndarray) -> float:
    """Return R's ``sum`` of a vector: in long double, in order, rounded to double."""
    return float(_seq_sums(len(x), 1, lambda s, e: x[None, s:e].astype(_LD))[0])


def pooled_sd(Xt: np.ndarray, t: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Return MatchIt's ``pooled_sd`` of the columns ``Xt`` (rows here), ``t`` boolean.

    A 0/1 column: the square root of the sum over the groups of ``s * (1 - s / n_g) / n``
    (``s`` the group's (weighted) sum, ``n_g`` its size or weight, ``n`` all); any other: of
    the sum of squared deviations from each group's mean (``wm``) over ``n - groups``, or with
    weights ``w / sum(w)`` the weighted sum over ``1 - sum(w^2)``.
    """
    groups = [t == g for g in (False, True) if (t == g).any()]
    n = Xt.shape[1]
    out = np.empty(len(Xt))
    for k, x in enumerate(Xt):
        if np.all((x == 0) | (x == 1)):
            if w is None:
                v = [_r_sum(x[g]) * (1 - _r_sum(x[g]) / g.sum()) / n for g in groups]
            else:
                v = [_r_sum(x[g] * w[g]) * (1 - _r_sum(x[g] * w[g]) / _r_sum(w[g]))
                     / _r_sum(w) for g in groups]
            out[k] = _r_sum(np.array(v))
            continue
        xc = x.copy()
        for g in groups:
            xc[g] = x[g] - (_r_sum(x[g]) / g.sum() if w is None
                            else _r_sum(x[g] * w[g]) / _r_sum(w[g]))
        if w is None:
            out[k] = _r_sum(xc * xc) / (n - len(groups))
        else:
            w1 = w / _r_sum(w)
            out[k] = _r_sum(w1 * (xc * xc)) / (1 - _r_sum(w1 * w1))
    return np.sqrt(out)


# --- CEM's bins: R's seq, signif, quantile (type 7) and var ---------------------------

def seq_length(lo: float, hi: float, length: int) -> np.ndarray:
    """R's ``seq(lo, hi, length.out = length)`` (double path)."""
    if length <= 2:
        return np.array([lo, hi][:length], float)
    if lo == hi:
        return np.full(length, lo, float)
    n1 = length - 1
    return np.concatenate([[lo], lo + np.arange(1, length - 1) * ((hi - lo) / n1), [hi]])


def seq_by(lo: float, hi: float, by: float) -> np.ndarray:
    """R's ``seq(lo, hi, by = by)`` (double path, ``by > 0``, ``hi >= lo``)."""
    delta = hi - lo
    if delta == 0 and hi == 0:
        return np.array([hi])
    if abs(delta) / max(abs(hi), abs(lo)) < 100 * np.finfo(float).eps:
        return np.array([lo])
    n = int(delta / by + 1e-10)
    return np.minimum(lo + np.arange(n + 1) * by, hi)


def signif(x: np.ndarray, digits: int) -> np.ndarray:
    """R's ``signif`` (nmath ``fprec``) for finite doubles of moderate magnitude."""
    out = np.array(x, float)
    for i, v in enumerate(out):
        if v == 0 or not np.isfinite(v):
            continue
        sgn, a = (-1.0, -v) if v < 0 else (1.0, v)
        e10 = int(digits - 1 - math.floor(math.log10(a)))
        if e10 > 0:
            p = float(10 ** e10)
            out[i] = sgn * (np.rint(a * p) / p)
        else:
            p = float(10 ** -e10)
            out[i] = sgn * (np.rint(a / p) * p)
    return out


def quantile7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``, its arithmetic."""
    xs = np.sort(np.asarray(x, float))
    probs = np.clip(np.asarray(probs, float), 0, 1)
    index = 1 + max(len(xs) - 1, 0) * probs
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    qs = xs[lo - 1].copy()
    i = (index > lo) & (xs[hi - 1] != qs)
    h = (index - lo)[i]
    qs[i] = (1 - h) * qs[i] + h * xs[hi[i] - 1]
    return qs


def r_var(x: np.ndarray) -> float:
    """R's ``var`` of a vector (as its ``cov``)."""
    return float(_r_cov(np.asarray(x, float)[None, :])[0, 0])


# --- CEM's k2k: R's stats::dist ----------------------------------------------------------

#: ``stats::dist`` methods ``do_k2k`` computes within each stratum (``"euclidean"`` goes
#: through ``transform_covariates`` instead).
DIST_METHODS = ("maximum", "manhattan", "canberra", "binary", "minkowski")


def r_dist(A: np.ndarray, B: np.ndarray, method: str, p: float = 2.0) -> np.ndarray:
    """Return R's ``stats::dist`` between each row of ``A`` and each row of ``B``.

    The C code of R 4.2 (``distance.c``) for finite data, column by column in double:
    ``maximum`` the largest absolute difference; ``manhattan`` their sum; ``canberra`` the
    sum of ``|a - b| / (|a| + |b|)`` over the columns where either is above ``DBL_MIN``
    (0/0 skipped), divided by ``count / ncol`` when columns were skipped (NaN when all
    were); ``binary`` the share of the columns with a nonzero value where exactly one is
    nonzero (0 when none is); ``minkowski`` ``(sum |a - b|^p)^(1/p)`` with C's ``pow``
    (R's ``R_pow`` on Linux).

    Examples
    --------
    >>> A, B = np.array([[0.0, 1.0, 2.0]]), np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    >>> [r_dist(A, B, m).ravel().tolist() for m in ("maximum", "manhattan", "binary")]
    [[2.0, 2.0], [3.0, 3.0], [0.6666666666666666, 1.0]]
    >>> r_dist(A, B, "canberra").ravel().tolist()
    [2.0, 3.0]
    """
    a, b = A[:, None, :], B[None, :, :]
    nc = A.shape[1]
    diff = np.abs(a - b)
    if method == "maximum":
        return diff.max(axis=2)
    acc = np.zeros(diff.shape[:2])
    if method == "binary":
        on = np.zeros(acc.shape, np.int64)
        for j in range(nc):
            aj, bj = a[..., j] != 0, b[..., j] != 0
            on += aj | bj
            acc += aj != bj
        return np.divide(acc, on, out=np.zeros(acc.shape), where=on > 0)
    if method == "canberra":
        count = np.zeros(acc.shape, np.int64)
        for j in range(nc):
            total = np.abs(a[..., j]) + np.abs(b[..., j])
            use = (total > np.finfo(float).tiny) | (diff[..., j] > np.finfo(float).tiny)
            with np.errstate(invalid="ignore", divide="ignore"):
                dev = diff[..., j] / total
            use &= ~np.isnan(dev)
            acc = acc + np.where(use, dev, 0.0)
            count += use
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count == 0, np.nan,
                            np.where(count != nc, acc / (count / nc), acc))
    if method == "manhattan":
        for j in range(nc):
            acc = acc + diff[..., j]
        return acc
    if method != "minkowski":
        raise ValueError(f"`method` should be one of {list(DIST_METHODS)}; got {method!r}")
    for j in range(nc):
        acc = acc + _c_pow(diff[..., j], p)
    return _c_pow(acc, 1.0 / p)


def _c_pow(x: np.ndarray, y: float) -> np.ndarray:
    """C's ``pow`` element by element (numpy's ``power`` may take a SIMD path instead)."""
    return np.array([math.pow(v, y) for v in x.ravel().tolist()]).reshape(x.shape)
