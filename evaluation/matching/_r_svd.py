"""R's ``svd`` of a small square matrix, bit for bit, and MatchIt's ``generalized_inverse``.

R's ``svd(x)`` is ``La.svd``: LAPACK ``dgesdd`` with ``JOBZ = 'S'`` on a copy of ``x`` (R's
``La_svd`` in ``src/modules/lapack/Lapack.c`` only asks for the optimal workspace first). R
4.2 here calls Debian's reference LAPACK and BLAS 3.11, so for a p x p matrix (p from 2 to
25) that is, in order:

* ``dlange('M')`` and, far outside ``[6.7e-139, 1.5e138]``, ``dlascl`` scaling;
* ``dgebrd``, which for up to 128 columns is the unblocked ``dgebd2``: Householder
  reflectors by ``dlarfg`` (``dnrm2``, ``dlapy2``, ``dscal``) applied by ``dlarf``
  (``dgemv``, ``dger``) from the left and the right;
* ``dbdsdc('U', 'I')``, which for at most 25 columns is ``dlaset`` and ``dlasdq``: the
  implicit zero-shift / shifted QR sweeps of ``dbdsqr`` (``dlartg``, ``dlas2``, ``dlasv2``,
  ``dlasr``, ``drot``) and three sorts of the singular values (``dbdsqr`` into decreasing
  order, ``dlasdq`` into increasing order, ``dbdsdc`` into decreasing order again; each
  moves vectors only for strict inequalities in its own way, which decides the order of
  the vectors of repeated singular values);
* ``dormbr('Q', 'L', 'N')`` on ``U`` and ``dormbr('P', 'R', 'T')`` on ``VT`` (for fewer
  than 32 reflectors the unblocked ``dorm2r`` and ``dorml2``, each reflector by ``dlarf``).

A 1 x 1 matrix takes ``dgesdd``'s QR path (``MINMN * 11 / 6`` rounds down to 1), whose
arithmetic comes to ``d = |x|``, ``u = sign(x)``, ``vt = 1``.

Each routine below is the reference Fortran of LAPACK 3.11.0 written out on Python floats
(IEEE doubles, as gfortran's x86-64 code without FMA): the same operations in the same order,
signed zeros included, so the results are R's to the last bit. The 3.11 behaviour is the one
written here: later LAPACK applies the reflectors of ``dgebd2``, ``dorm2r`` and ``dorml2``
with ``dlarf1f`` (the unit first element added last, by ``daxpy``: other roundings), and
3.10 had another ``dlartg`` (products by ``1 / d`` where 3.11 divides) and ``dnrm2``
scaling constants. ``d^-1`` is C's ``pow(d, -1)`` as R calls it (``math.pow``: the same
C library function).
"""

from __future__ import annotations

import math

import numpy as np

#: ``dlamch('E')``: relative machine precision (rounding), ``epsilon(0d0) * 0.5``.
_EPS = 2.0 ** -53
#: ``dlamch('P')``: ``eps * base``.
_PREC = 2.0 ** -52
#: ``dlamch('S')``: safe minimum, ``tiny(0d0)``.
_SAFMIN = 2.0 ** -1022
#: ``dlamch('O')``: overflow threshold, ``huge(0d0)``.
_HUGE = float(np.finfo(float).max)
#: ``la_constants``' ``dsafmax``, used by ``dlartg``.
_SAFMAX = 1.0 / _SAFMIN
#: ``dlartg``'s ``rtmin = sqrt(safmin)`` and ``rtmax = sqrt(safmax / 2)``.
_RTMIN = math.sqrt(_SAFMIN)
_RTMAX = math.sqrt(_SAFMAX / 2)
#: ``dnrm2``'s Blue's constants (LAPACK 3.10 and later): thresholds and scalings.
_TSML = 2.0 ** -511
_TBIG = 2.0 ** 486
_SSML = 2.0 ** 537
_SBIG = 2.0 ** -538
#: ``ilaenv(9, 'DBDSDC')``: the largest problem ``dbdsdc`` hands to ``dlasdq``.
SMLSIZ = 25


def _sign(a: float, b: float) -> float:
    """Fortran's ``SIGN(A, B)``: ``|A|`` with the sign bit of ``B`` (gfortran: copysign)."""
    return math.copysign(a, b)


# --- BLAS level 1 and LAPACK auxiliaries --------------------------------------------------

def _dnrm2(x: list[float]) -> float:
    """Return the reference BLAS ``dnrm2`` of ``x`` (``dnrm2.f90``, 3.10 on: Blue's sums)."""
    if not x:
        return 0.0
    notbig = True
    asml = amed = abig = 0.0
    for v in x:
        ax = abs(v)
        if ax > _TBIG:
            abig = abig + (ax * _SBIG) * (ax * _SBIG)
            notbig = False
        elif ax < _TSML:
            if notbig:
                asml = asml + (ax * _SSML) * (ax * _SSML)
        else:
            amed = amed + ax * ax
    if abig > 0.0:
        if amed > 0.0 or amed > _HUGE or amed != amed:
            abig = abig + (amed * _SBIG) * _SBIG
        scl, sumsq = 1.0 / _SBIG, abig
    elif asml > 0.0:
        if amed > 0.0 or amed > _HUGE or amed != amed:
            amed = math.sqrt(amed)
            asml = math.sqrt(asml) / _SSML
            ymin, ymax = (amed, asml) if asml > amed else (asml, amed)
            scl = 1.0
            sumsq = (ymax * ymax) * (1.0 + (ymin / ymax) * (ymin / ymax))
        else:
            scl, sumsq = 1.0 / _SSML, asml
    else:
        scl, sumsq = 1.0, amed
    return scl * math.sqrt(sumsq)


def _dlapy2(x: float, y: float) -> float:
    """LAPACK ``dlapy2``: ``sqrt(x**2 + y**2)`` avoiding overflow."""
    xabs, yabs = abs(x), abs(y)
    w = max(xabs, yabs)
    z = min(xabs, yabs)
    if z == 0.0 or w > _HUGE:
        return w
    return w * math.sqrt(1.0 + (z / w) * (z / w))


def _dlartg(f: float, g: float) -> tuple[float, float, float]:
    """LAPACK ``dlartg`` (``dlartg.f90``, 3.10 and later): ``(c, s, r)`` of a plane rotation."""
    f1, g1 = abs(f), abs(g)
    if g == 0.0:
        return 1.0, 0.0, f
    if f == 0.0:
        return 0.0, _sign(1.0, g), g1
    if _RTMIN < f1 < _RTMAX and _RTMIN < g1 < _RTMAX:
        d = math.sqrt(f * f + g * g)
        c = f1 / d
        r = _sign(d, f)
        return c, g / r, r
    u = min(_SAFMAX, max(_SAFMIN, f1, g1))
    fs, gs = f / u, g / u
    d = math.sqrt(fs * fs + gs * gs)
    c = abs(fs) / d
    r = _sign(d, f)
    s = gs / r
    return c, s, r * u


def _dlas2(f: float, g: float, h: float) -> tuple[float, float]:
    """LAPACK ``dlas2``: singular values ``(ssmin, ssmax)`` of ``[[f, g], [0, h]]``."""
    fa, ga, ha = abs(f), abs(g), abs(h)
    fhmn, fhmx = min(fa, ha), max(fa, ha)
    if fhmn == 0.0:
        ssmin = 0.0
        if fhmx == 0.0:
            ssmax = ga
        else:
            q = min(fhmx, ga) / max(fhmx, ga)
            ssmax = max(fhmx, ga) * math.sqrt(1.0 + q * q)
    elif ga < fhmx:
        as_ = 1.0 + fhmn / fhmx
        at = (fhmx - fhmn) / fhmx
        au = (ga / fhmx) * (ga / fhmx)
        c = 2.0 / (math.sqrt(as_ * as_ + au) + math.sqrt(at * at + au))
        ssmin = fhmn * c
        ssmax = fhmx / c
    else:
        au = fhmx / ga
        if au == 0.0:
            ssmin = (fhmn * fhmx) / ga
            ssmax = ga
        else:
            as_ = 1.0 + fhmn / fhmx
            at = (fhmx - fhmn) / fhmx
            c = 1.0 / (math.sqrt(1.0 + (as_ * au) * (as_ * au))
                       + math.sqrt(1.0 + (at * au) * (at * au)))
            ssmin = (fhmn * c) * au
            ssmin = ssmin + ssmin
            ssmax = ga / (c + c)
    return ssmin, ssmax


def _dlasv2(f: float, g: float, h: float) -> tuple[float, ...]:
    """LAPACK ``dlasv2``: SVD of ``[[f, g], [0, h]]``.

    Returns ``(ssmin, ssmax, snr, csr, snl, csl)`` as the Fortran's argument order.
    """
    ft, fa, ht, ha = f, abs(f), h, abs(h)
    pmax = 1
    swap = ha > fa
    if swap:
        pmax = 3
        ft, ht = ht, ft
        fa, ha = ha, fa
    gt, ga = g, abs(g)
    if ga == 0.0:
        ssmin, ssmax = ha, fa
        clt, crt, slt, srt = 1.0, 1.0, 0.0, 0.0
    else:
        gasmal = True
        if ga > fa:
            pmax = 2
            if fa / ga < _EPS:
                gasmal = False
                ssmax = ga
                ssmin = fa / (ga / ha) if ha > 1.0 else (fa / ga) * ha
                clt = 1.0
                slt = ht / gt
                srt = 1.0
                crt = ft / gt
        if gasmal:
            d = fa - ha
            ll = 1.0 if d == fa else d / fa
            m = gt / ft
            t = 2.0 - ll
            mm = m * m
            tt = t * t
            s = math.sqrt(tt + mm)
            r = abs(m) if ll == 0.0 else math.sqrt(ll * ll + mm)
            a = 0.5 * (s + r)
            ssmin = ha / a
            ssmax = fa * a
            if mm == 0.0:
                if ll == 0.0:
                    t = _sign(2.0, ft) * _sign(1.0, gt)
                else:
                    t = gt / _sign(d, ft) + m / t
            else:
                t = (m / (s + t) + m / (r + ll)) * (1.0 + a)
            ll = math.sqrt(t * t + 4.0)
            crt = 2.0 / ll
            srt = t / ll
            clt = (crt + srt * m) / a
            slt = ((ht / ft) * srt) / a
    if swap:
        csl, snl, csr, snr = srt, crt, slt, clt
    else:
        csl, snl, csr, snr = clt, slt, crt, srt
    if pmax == 1:
        tsign = _sign(1.0, csr) * _sign(1.0, csl) * _sign(1.0, f)
    elif pmax == 2:
        tsign = _sign(1.0, snr) * _sign(1.0, csl) * _sign(1.0, g)
    else:
        tsign = _sign(1.0, snr) * _sign(1.0, snl) * _sign(1.0, h)
    ssmax = _sign(ssmax, tsign)
    ssmin = _sign(ssmin, tsign * _sign(1.0, f) * _sign(1.0, h))
    return ssmin, ssmax, snr, csr, snl, csl


def _dlascl(cfrom: float, cto: float, values: list[float]) -> list[float]:
    """LAPACK ``dlascl('G')``: multiply by ``cto / cfrom`` in steps that cannot overflow."""
    smlnum = _SAFMIN
    bignum = 1.0 / smlnum
    cfromc, ctoc = cfrom, cto
    out = list(values)
    done = False
    while not done:
        cfrom1 = cfromc * smlnum
        if cfrom1 == cfromc:
            mul, done = ctoc / cfromc, True
        else:
            cto1 = ctoc / bignum
            if cto1 == ctoc:
                mul, done, cfromc = ctoc, True, 1.0
            elif abs(cfrom1) > abs(ctoc) and ctoc != 0.0:
                mul, done, cfromc = smlnum, False, cfrom1
            elif abs(cto1) > abs(cfromc):
                mul, done, ctoc = bignum, False, cto1
            else:
                mul, done = ctoc / cfromc, True
                if mul == 1.0:
                    return out
        out = [v * mul for v in out]
    return out


# --- Householder reflectors ---------------------------------------------------------------

def _dlarfg(alpha: float, x: list[float]) -> tuple[float, float]:
    """LAPACK ``dlarfg`` on ``(alpha, x)``: returns ``(beta, tau)``, scales ``x`` in place.

    ``n`` is ``len(x) + 1``.
    """
    if not x:
        return alpha, 0.0
    xnorm = _dnrm2(x)
    if xnorm == 0.0:
        return alpha, 0.0
    beta = -_sign(_dlapy2(alpha, xnorm), alpha)
    safmin = _SAFMIN / _EPS
    knt = 0
    if abs(beta) < safmin:
        rsafmn = 1.0 / safmin
        while True:
            knt += 1
            for i in range(len(x)):
                x[i] = rsafmn * x[i]
            beta = beta * rsafmn
            alpha = alpha * rsafmn
            if not (abs(beta) < safmin and knt < 20):
                break
        xnorm = _dnrm2(x)
        beta = -_sign(_dlapy2(alpha, xnorm), alpha)
    tau = (beta - alpha) / beta
    scal = 1.0 / (alpha - beta)
    for i in range(len(x)):
        x[i] = scal * x[i]
    for _ in range(knt):
        beta = beta * safmin
    return beta, tau


def _dlarf(left: bool, v: list[float], tau: float, C: list[list[float]],
           r0: int, c0: int, m: int, n: int) -> None:
    """LAPACK 3.11 ``dlarf``: apply ``I - tau v v'`` to ``C[r0:r0+m, c0:c0+n]`` in place.

    From the left (``v`` of length ``m``) or the right (length ``n``); ``v[0]`` is the 1 the
    caller stored. Trailing zeros of ``v`` and zero columns (left) or rows (right) of ``C``
    are skipped as ``dlarf`` skips them (``iladlc`` / ``iladlr``), then ``dgemv`` and
    ``dger``.
    """
    lastv = lastc = 0
    if tau != 0.0:
        lastv = m if left else n
        while lastv > 0 and v[lastv - 1] == 0.0:
            lastv -= 1
        if left:                                                     # iladlc(lastv, n, C)
            if n == 0:
                lastc = 0
            elif C[r0][c0 + n - 1] != 0.0 or C[r0 + lastv - 1][c0 + n - 1] != 0.0:
                lastc = n
            else:
                lastc = 0
                for j in range(n, 0, -1):
                    if any(C[r0 + i][c0 + j - 1] != 0.0 for i in range(lastv)):
                        lastc = j
                        break
        else:                                                        # iladlr(m, lastv, C)
            if m == 0:
                lastc = 0
            elif C[r0 + m - 1][c0] != 0.0 or C[r0 + m - 1][c0 + lastv - 1] != 0.0:
                lastc = m
            else:
                lastc = 0
                for j in range(lastv):
                    i = m
                    while i >= 1 and C[r0 + max(i, 1) - 1][c0 + j] == 0.0:
                        i -= 1
                    lastc = max(lastc, i)
    if lastv == 0 or lastc == 0:
        return
    alpha = -tau
    if left:
        work = [0.0] * lastc
        for j in range(lastc):                                       # dgemv('T')
            temp = 0.0
            for i in range(lastv):
                temp = temp + C[r0 + i][c0 + j] * v[i]
            work[j] = work[j] + 1.0 * temp
        for j in range(lastc):                                       # dger
            if work[j] != 0.0:
                temp = alpha * work[j]
                for i in range(lastv):
                    C[r0 + i][c0 + j] = C[r0 + i][c0 + j] + v[i] * temp
    else:
        work = [0.0] * lastc
        for j in range(lastv):                                       # dgemv('N')
            temp = 1.0 * v[j]
            for i in range(lastc):
                work[i] = work[i] + temp * C[r0 + i][c0 + j]
        for j in range(lastv):                                       # dger
            if v[j] != 0.0:
                temp = alpha * v[j]
                for i in range(lastc):
                    C[r0 + i][c0 + j] = C[r0 + i][c0 + j] + work[i] * temp


def _dgebd2(A: list[list[float]]) -> tuple[list[float], ...]:
    """LAPACK 3.11 ``dgebd2`` on a square ``A`` (in place): ``(d, e, tauq, taup)``.

    ``A`` ends holding the reflectors, as LAPACK leaves it for ``dormbr``.
    """
    n = len(A)
    m = n
    d, e, tauq, taup = [0.0] * n, [0.0] * max(n - 1, 0), [0.0] * n, [0.0] * n
    for i in range(n):
        x = [A[r][i] for r in range(i + 1, m)]
        beta, tauq[i] = _dlarfg(A[i][i], x)
        for r, val in zip(range(i + 1, m), x, strict=True):
            A[r][i] = val
        A[i][i] = beta
        d[i] = A[i][i]
        A[i][i] = 1.0
        if i < n - 1:
            v = [A[r][i] for r in range(i, m)]
            _dlarf(True, v, tauq[i], A, i, i + 1, m - i, n - i - 1)
        A[i][i] = d[i]
        if i < n - 1:
            x = [A[i][c] for c in range(i + 2, n)]
            beta, taup[i] = _dlarfg(A[i][i + 1], x)
            for c, val in zip(range(i + 2, n), x, strict=True):
                A[i][c] = val
            A[i][i + 1] = beta
            e[i] = A[i][i + 1]
            A[i][i + 1] = 1.0
            v = [A[i][c] for c in range(i + 1, n)]
            _dlarf(False, v, taup[i], A, i + 1, i + 1, m - i - 1, n - i - 1)
            A[i][i + 1] = e[i]
        else:
            taup[i] = 0.0
    return d, e, tauq, taup


def _dormbr_q(A: list[list[float]], tauq: list[float], U: list[list[float]]) -> None:
    """``dormbr('Q', 'L', 'N')`` for square ``A``: ``U <- Q U`` (``dorm2r``, last first)."""
    n = len(A)
    for i in range(n - 1, -1, -1):
        aii = A[i][i]
        A[i][i] = 1.0
        v = [A[r][i] for r in range(i, n)]
        _dlarf(True, v, tauq[i], U, i, 0, n - i, n)
        A[i][i] = aii


def _dormbr_p(A: list[list[float]], taup: list[float], VT: list[list[float]]) -> None:
    """``dormbr('P', 'R', 'T')`` for square ``A``: ``VT <- VT P'``.

    ``nq = k``, so ``dormlq('R', 'N')`` on ``A(1, 2)`` and ``VT(1, 2)`` with ``k - 1``
    reflectors; ``dorml2`` applies them last first.
    """
    n = len(A)
    k = n - 1
    for i in range(k - 1, -1, -1):
        aii = A[i][i + 1]
        A[i][i + 1] = 1.0
        v = [A[i][c] for c in range(i + 1, n)]
        _dlarf(False, v, taup[i], VT, 0, i + 1, n, k - i)
        A[i][i + 1] = aii


# --- the bidiagonal SVD ---------------------------------------------------------------------

def _dlasr_left(forward: bool, c: list[float], s: list[float], A: list[list[float]],
                r0: int, m: int, ncols: int) -> None:
    """``dlasr('L', 'V', direct)`` on rows ``r0 .. r0+m-1`` of ``A`` (``ncols`` columns)."""
    order = range(m - 1) if forward else range(m - 2, -1, -1)
    for j in order:
        ct, st = c[j], s[j]
        if ct != 1.0 or st != 0.0:
            a, b = A[r0 + j], A[r0 + j + 1]
            for i in range(ncols):
                temp = b[i]
                b[i] = ct * temp - st * a[i]
                a[i] = st * temp + ct * a[i]


def _dlasr_right(forward: bool, c: list[float], s: list[float], A: list[list[float]],
                 c0: int, nrows: int, n: int) -> None:
    """``dlasr('R', 'V', direct)`` on columns ``c0 .. c0+n-1`` of ``A`` (``nrows`` rows)."""
    order = range(n - 1) if forward else range(n - 2, -1, -1)
    for j in order:
        ct, st = c[j], s[j]
        if ct != 1.0 or st != 0.0:
            for i in range(nrows):
                row = A[i]
                temp = row[c0 + j + 1]
                row[c0 + j + 1] = ct * temp - st * row[c0 + j]
                row[c0 + j] = st * temp + ct * row[c0 + j]


def _swap_rows(A: list[list[float]], i: int, j: int) -> None:
    A[i], A[j] = A[j], A[i]


def _swap_cols(A: list[list[float]], i: int, j: int) -> None:
    for row in A:
        row[i], row[j] = row[j], row[i]


#: ``dbdsqr``'s parameters.
_MAXITR = 6
_MEIGTH = -0.125
_HNDRTH = 0.01


def _dbdsqr(d: list[float], e: list[float], VT: list[list[float]],
            U: list[list[float]]) -> None:
    """LAPACK 3.11 ``dbdsqr('U', n, n, n, 0)`` in place; ``d``, ``e`` 0-based here.

    Fortran's 1-based indices are kept (``D(I)`` is ``d[I - 1]``) so the sweeps read as
    the source does. Ends with the singular values positive and in decreasing order.
    """
    n = len(d)
    D = [0.0] + d
    E = [0.0] + e + [0.0]

    def done() -> None:                                              # label 160
        for i in range(1, n + 1):
            if D[i] < 0.0:
                D[i] = -D[i]
                VT[i - 1] = [-1.0 * v for v in VT[i - 1]]            # dscal by -1
        for i in range(1, n):
            isub, smin = 1, D[1]
            for j in range(2, n + 2 - i):
                if D[j] <= smin:
                    isub, smin = j, D[j]
            if isub != n + 1 - i:
                D[isub] = D[n + 1 - i]
                D[n + 1 - i] = smin
                _swap_rows(VT, isub - 1, n - i)
                _swap_cols(U, isub - 1, n - i)
        d[:] = D[1:]
        e[:] = E[1:n]

    if n == 1:
        done()
        return
    eps = _EPS
    unfl = _SAFMIN
    tolmul = max(10.0, min(100.0, math.pow(eps, _MEIGTH)))
    tol = tolmul * eps
    smax = 0.0
    for i in range(1, n + 1):
        smax = max(smax, abs(D[i]))
    for i in range(1, n):
        smax = max(smax, abs(E[i]))
    sminl = 0.0
    # tol >= 0: relative accuracy
    sminoa = abs(D[1])
    if sminoa != 0.0:
        mu = sminoa
        for i in range(2, n + 1):
            mu = abs(D[i]) * (mu / (mu + abs(E[i - 1])))
            sminoa = min(sminoa, mu)
            if sminoa == 0.0:
                break
    sminoa = sminoa / math.sqrt(float(n))
    thresh = max(tol * sminoa, _MAXITR * (n * (n * unfl)))
    maxitdivn = _MAXITR * n
    iterdivn = 0
    it = -1
    oldll = -1
    oldm = -1
    idir = 0
    m = n
    while True:                                                      # label 60
        if m <= 1:
            done()
            return
        if it >= n:
            it = it - n
            iterdivn = iterdivn + 1
            if iterdivn >= maxitdivn:
                raise np.linalg.LinAlgError(
                    "dbdsqr did not converge (R: error code from Lapack routine 'dgesdd')")
        smax = abs(D[m])
        split = False
        for lll in range(1, m):
            ll = m - lll
            abss = abs(D[ll])
            abse = abs(E[ll])
            if abse <= thresh:
                split = True
                break
            smax = max(smax, abss, abse)
        if split:                                                    # label 80
            E[ll] = 0.0
            if ll == m - 1:
                m = m - 1
                continue
        else:
            ll = 0
        ll = ll + 1                                                  # label 90
        if ll == m - 1:
            sigmn, sigmx, sinr, cosr, sinl, cosl = _dlasv2(D[m - 1], E[m - 1], D[m])
            D[m - 1] = sigmx
            E[m - 1] = 0.0
            D[m] = sigmn
            a, b = VT[m - 2], VT[m - 1]                              # drot on rows
            for i in range(n):
                dtemp = cosr * a[i] + sinr * b[i]
                b[i] = cosr * b[i] - sinr * a[i]
                a[i] = dtemp
            for row in U:                                            # drot on columns
                dtemp = cosl * row[m - 2] + sinl * row[m - 1]
                row[m - 1] = cosl * row[m - 1] - sinl * row[m - 2]
                row[m - 2] = dtemp
            m = m - 2
            continue
        if ll > oldm or m < oldll:
            idir = 1 if abs(D[ll]) >= abs(D[m]) else 2
        if idir == 1:
            if abs(E[m - 1]) <= abs(tol) * abs(D[m]):
                E[m - 1] = 0.0
                continue
            mu = abs(D[ll])
            sminl = mu
            converged = False
            for lll in range(ll, m):
                if abs(E[lll]) <= tol * mu:
                    E[lll] = 0.0
                    converged = True
                    break
                mu = abs(D[lll + 1]) * (mu / (mu + abs(E[lll])))
                sminl = min(sminl, mu)
            if converged:
                continue
        else:
            if abs(E[ll]) <= abs(tol) * abs(D[ll]):
                E[ll] = 0.0
                continue
            mu = abs(D[m])
            sminl = mu
            converged = False
            for lll in range(m - 1, ll - 1, -1):
                if abs(E[lll]) <= tol * mu:
                    E[lll] = 0.0
                    converged = True
                    break
                mu = abs(D[lll]) * (mu / (mu + abs(E[lll])))
                sminl = min(sminl, mu)
            if converged:
                continue
        oldll = ll
        oldm = m
        if n * tol * (sminl / smax) <= max(eps, _HNDRTH * tol):
            shift = 0.0
        else:
            if idir == 1:
                sll = abs(D[ll])
                shift, _ = _dlas2(D[m - 1], E[m - 1], D[m])
            else:
                sll = abs(D[m])
                shift, _ = _dlas2(D[ll], E[ll], D[ll + 1])
            if sll > 0.0 and (shift / sll) * (shift / sll) < eps:
                shift = 0.0
        it = it + m - ll
        k = m - ll
        w1, w2, w3, w4 = [0.0] * k, [0.0] * k, [0.0] * k, [0.0] * k
        if shift == 0.0:
            if idir == 1:
                cs = 1.0
                oldcs = 1.0
                oldsn = 0.0
                for i in range(ll, m):
                    cs, sn, r = _dlartg(D[i] * cs, E[i])
                    if i > ll:
                        E[i - 1] = oldsn * r
                    oldcs, oldsn, D[i] = _dlartg(oldcs * r, D[i + 1] * sn)
                    w1[i - ll], w2[i - ll] = cs, sn
                    w3[i - ll], w4[i - ll] = oldcs, oldsn
                h = D[m] * cs
                D[m] = h * oldcs
                E[m - 1] = h * oldsn
                _dlasr_left(True, w1, w2, VT, ll - 1, k + 1, n)
                _dlasr_right(True, w3, w4, U, ll - 1, n, k + 1)
                if abs(E[m - 1]) <= thresh:
                    E[m - 1] = 0.0
            else:
                cs = 1.0
                oldcs = 1.0
                oldsn = 0.0
                for i in range(m, ll, -1):
                    cs, sn, r = _dlartg(D[i] * cs, E[i - 1])
                    if i < m:
                        E[i] = oldsn * r
                    oldcs, oldsn, D[i] = _dlartg(oldcs * r, D[i - 1] * sn)
                    w1[i - ll - 1], w2[i - ll - 1] = cs, -sn
                    w3[i - ll - 1], w4[i - ll - 1] = oldcs, -oldsn
                h = D[ll] * cs
                D[ll] = h * oldcs
                E[ll] = h * oldsn
                _dlasr_left(False, w3, w4, VT, ll - 1, k + 1, n)
                _dlasr_right(False, w1, w2, U, ll - 1, n, k + 1)
                if abs(E[ll]) <= thresh:
                    E[ll] = 0.0
        else:
            if idir == 1:
                f = (abs(D[ll]) - shift) * (_sign(1.0, D[ll]) + shift / D[ll])
                g = E[ll]
                for i in range(ll, m):
                    cosr, sinr, r = _dlartg(f, g)
                    if i > ll:
                        E[i - 1] = r
                    f = cosr * D[i] + sinr * E[i]
                    E[i] = cosr * E[i] - sinr * D[i]
                    g = sinr * D[i + 1]
                    D[i + 1] = cosr * D[i + 1]
                    cosl, sinl, r = _dlartg(f, g)
                    D[i] = r
                    f = cosl * E[i] + sinl * D[i + 1]
                    D[i + 1] = cosl * D[i + 1] - sinl * E[i]
                    if i < m - 1:
                        g = sinl * E[i + 1]
                        E[i + 1] = cosl * E[i + 1]
                    w1[i - ll], w2[i - ll] = cosr, sinr
                    w3[i - ll], w4[i - ll] = cosl, sinl
                E[m - 1] = f
                _dlasr_left(True, w1, w2, VT, ll - 1, k + 1, n)
                _dlasr_right(True, w3, w4, U, ll - 1, n, k + 1)
                if abs(E[m - 1]) <= thresh:
                    E[m - 1] = 0.0
            else:
                f = (abs(D[m]) - shift) * (_sign(1.0, D[m]) + shift / D[m])
                g = E[m - 1]
                for i in range(m, ll, -1):
                    cosr, sinr, r = _dlartg(f, g)
                    if i < m:
                        E[i] = r
                    f = cosr * D[i] + sinr * E[i - 1]
                    E[i - 1] = cosr * E[i - 1] - sinr * D[i]
                    g = sinr * D[i - 1]
                    D[i - 1] = cosr * D[i - 1]
                    cosl, sinl, r = _dlartg(f, g)
                    D[i] = r
                    f = cosl * E[i - 1] + sinl * D[i - 1]
                    D[i - 1] = cosl * D[i - 1] - sinl * E[i - 1]
                    if i > ll + 1:
                        g = sinl * E[i - 2]
                        E[i - 2] = cosl * E[i - 2]
                    w1[i - ll - 1], w2[i - ll - 1] = cosr, -sinr
                    w3[i - ll - 1], w4[i - ll - 1] = cosl, -sinl
                E[ll] = f
                if abs(E[ll]) <= thresh:
                    E[ll] = 0.0
                _dlasr_left(False, w3, w4, VT, ll - 1, k + 1, n)
                _dlasr_right(False, w1, w2, U, ll - 1, n, k + 1)


def _dbdsdc(d: list[float], e: list[float]) -> tuple[list[list[float]], list[list[float]]]:
    """LAPACK 3.11 ``dbdsdc('U', 'I')`` for ``2 <= n <= 25``: returns ``(U, VT)``.

    ``dlaset`` to the identity, ``dlasdq('U', sqre = 0)`` (which is ``dbdsqr`` then a sort
    into increasing order), then ``dbdsdc``'s own sort into decreasing order.
    """
    n = len(d)
    U = [[float(i == j) for j in range(n)] for i in range(n)]
    VT = [[float(i == j) for j in range(n)] for i in range(n)]
    _dbdsqr(d, e, VT, U)
    for i in range(n):                                               # dlasdq's sort
        isub, smin = i, d[i]
        for j in range(i + 1, n):
            if d[j] < smin:
                isub, smin = j, d[j]
        if isub != i:
            d[isub] = d[i]
            d[i] = smin
            _swap_rows(VT, isub, i)
            _swap_cols(U, isub, i)
    for i in range(n - 1):                                           # dbdsdc's sort
        kk, p = i, d[i]
        for j in range(i + 1, n):
            if d[j] > p:
                kk, p = j, d[j]
        if kk != i:
            d[kk] = d[i]
            d[i] = p
            _swap_cols(U, i, kk)
            _swap_rows(VT, i, kk)
    return U, VT


def r_svd(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return R's ``svd(A)``: ``(d, u, vt)`` with ``vt = t(svd(A)$v)``, bit for bit.

    LAPACK 3.11's ``dgesdd('S')`` as R 4.2 calls it (see the module docstring), for a
    square matrix of up to 25 columns (``dbdsdc`` hands larger problems to its divide and
    conquer ``dlasd0``, which is not written out here).

    Parameters
    ----------
    A : numpy.ndarray
        Square p x p matrix of finite doubles, ``1 <= p <= 25``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Singular values in decreasing order, the left singular vectors (columns) and the
        transposed right singular vectors (rows): ``A = u @ diag(d) @ vt``.

    Raises
    ------
    ValueError
        If ``A`` is not square, is empty or has more than 25 columns, or is not finite.
    numpy.linalg.LinAlgError
        If the QR iterations do not converge (R stops with an error there too).

    Examples
    --------
    R's ``sprintf("%.17g", svd(matrix(c(2, 1, 1, 2), 2))$d)``, to the last digit:

    >>> d, u, vt = r_svd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> d.tolist()
    [2.9999999999999996, 1.0000000000000002]
    >>> bool(np.allclose(u * d @ vt, [[2.0, 1.0], [1.0, 2.0]]))
    True
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not 1 <= A.shape[0] <= SMLSIZ:
        raise ValueError(f"r_svd needs a square matrix of 1 to {SMLSIZ} columns, "
                         f"got shape {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError("infinite or missing values in 'x'")       # R's svd() message
    n = A.shape[0]
    a = [[float(v) for v in row] for row in A]
    anrm = 0.0                                                       # dlange('M')
    for j in range(n):
        for i in range(n):
            temp = abs(a[i][j])
            if anrm < temp or temp != temp:
                anrm = temp
    smlnum = math.sqrt(_SAFMIN) / _PREC
    bignum = 1.0 / smlnum
    iscl = 0
    if 0.0 < anrm < smlnum:
        iscl, target = 1, smlnum
    elif anrm > bignum:
        iscl, target = 1, bignum
    if iscl:
        flat = _dlascl(anrm, target, [a[i][j] for j in range(n) for i in range(n)])
        a = [[flat[j * n + i] for j in range(n)] for i in range(n)]
    if n == 1:
        # QR path: dgeqr2 (tau = 0), dorg2r (Q = 1), dgebd2 (d = r), dbdsdc (u = sign(d)),
        # dormbr (no reflectors), dgemm(Q, u) = 0 + (1 * u) * 1.
        dd = [abs(a[0][0])]
        uu = [[0.0 + (1.0 * _sign(1.0, a[0][0])) * 1.0]]
        vv = [[1.0]]
    else:
        dd, ee, tauq, taup = _dgebd2(a)
        uu, vv = _dbdsdc(dd, ee)
        _dormbr_q(a, tauq, uu)
        _dormbr_p(a, taup, vv)
    if iscl:
        dd = _dlascl(target, anrm, dd)
    return np.array(dd), np.array(uu), np.array(vv)


def generalized_inverse(sigma: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """Return MatchIt's ``generalized_inverse(sigma, tol)`` (``utils.R``), bit for bit.

    ``svd(sigma)`` (:func:`r_svd`); the singular values above ``max(tol * d[1], 0)``;
    ``d[pos]^-1`` (R's ``R_pow``: C's ``pow(d, -1)``), times ``t(u[, pos])`` with the
    vector recycled down the rows; then ``v[, pos] %*% that`` by the reference ``dgemm``
    (R's ``matprod``; ``dgemv`` for 1 x 1, the same operations). Bit for bit up to 25
    columns; a larger matrix takes numpy's SVD (the same to rounding, not bit for bit),
    as R's ``dgesdd`` then runs the divide and conquer ``dlasd0`` not written out here.

    Parameters
    ----------
    sigma : numpy.ndarray
        Square p x p matrix of finite doubles.
    tol : float, default 1e-8
        Relative tolerance for the singular values kept.

    Returns
    -------
    numpy.ndarray
        The p x p Moore-Penrose inverse as R computes it.

    Examples
    --------
    R's ``MatchIt:::generalized_inverse(matrix(1, 2, 2))`` column by column, to the last
    digit (not quite symmetric, as R's):

    >>> g = generalized_inverse(np.ones((2, 2)))
    >>> g.ravel(order="F").tolist()
    [0.24999999999999992, 0.2499999999999999, 0.25, 0.24999999999999994]
    """
    sigma = np.asarray(sigma, dtype=float)
    if sigma.ndim == 2 and sigma.shape[0] == sigma.shape[1] > SMLSIZ:
        # dbdsdc's divide and conquer (dlasd0) is not written out: numpy's SVD, the same
        # to rounding, not bit for bit
        u, dvals, vt = np.linalg.svd(sigma)
        pos = dvals > max(tol * dvals[0], 0)
        return vt[pos].T @ (u[:, pos] / dvals[pos]).T
    d, u, vt = r_svd(sigma)
    p = len(d)
    cut = max(tol * float(d[0]), 0.0)
    pos = [i for i in range(p) if d[i] > cut]
    dinv = [math.pow(float(d[i]), -1.0) for i in pos]
    B = [[dinv[q] * float(u[j, i]) for j in range(p)] for q, i in enumerate(pos)]
    V = [[float(vt[i, r]) for i in pos] for r in range(p)]          # v[, pos]
    C = [[0.0] * p for _ in range(p)]
    for j in range(p):                                               # dgemm('N', 'N')
        for q in range(len(pos)):
            temp = 1.0 * B[q][j]
            for r in range(p):
                C[r][j] = C[r][j] + temp * V[r][q]
    return np.array(C)
