"""Stable special functions that scipy does not evaluate reliably for our arguments.

``hyp2f1(a, b, c, z)`` is the Gauss hypergeometric function for real 0 <= z <= 1 and c > a + b,
the case metafor needs for the unbiased correlation (UCOR, Olkin & Pratt 1958):
2F1(1/2, 1/2; (n - 2)/2; 1 - r^2), and its variance, 2F1(1, 1; n/2; 1 - r^2). scipy's
``hyp2f1`` returns NaN for some of these, e.g. a = b = 1/2, c = 162, z = 0.9975, because its
z -> 1 - z transformation meets an integer c - a - b. Here:

1. the Gauss series is summed directly (vectorized over rows), with a rigorous tail bound: when
   c >= a + b and ab <= c every term ratio is at most z, so the tail after term t_k is at most
   |t_k| z / (1 - z);
2. rows whose series has not converged after ``max_terms`` terms (small c and z close to 1) use
   the z -> 1 - z transformation (Abramowitz & Stegun 15.3.6), or, when m = c - a - b is an
   integer, its degenerate forms with digamma sums (A&S 15.3.10 and 15.3.11). With 1 - z < 1/2
   there, those series converge geometrically.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_EPS = 1e-17


def hyp2f1(a: float, b: float, c, z, *, max_terms: int = 600) -> np.ndarray:
    """Gauss hypergeometric 2F1(a, b; c; z) for scalar a, b > 0, array c > a + b, 0 <= z <= 1.

    Returns NaN where c <= a + b, z outside [0, 1] or an argument is NaN (metafor's ``.Fcalc``
    gives NA when c <= a + b).

    Notes
    -----
    Series: 2F1 = sum_k (a)_k (b)_k / ((c)_k k!) z^k (Abramowitz & Stegun 15.1.1); see the
    module docstring for the tail bound and the transformations used near z = 1.
    """
    c, z = np.broadcast_arrays(np.asarray(c, dtype=float), np.asarray(z, dtype=float))
    shape = c.shape
    c, z = c.ravel(), z.ravel()
    out = np.full(c.shape, np.nan)
    ok = np.isfinite(c) & np.isfinite(z) & (c > a + b) & (z >= 0) & (z <= 1)
    idx = np.flatnonzero(ok)
    if idx.size:
        total, done = _series(a, b, c[idx], z[idx], max_terms)
        out[idx[done]] = total[done]
        rest = idx[~done]
        if rest.size:
            out[rest] = _near_one(a, b, c[rest], z[rest])
    return out.reshape(shape)


def _series(a, b, c, z, max_terms):
    """Direct Gauss series; returns the sums and which rows met the tail bound."""
    total = np.ones_like(z)
    term = np.ones_like(z)
    done = z == 0
    with np.errstate(divide="ignore"):
        tail_factor = np.where(z < 1, z / (1.0 - z), np.inf)  # bound on tail / last term
    active = np.flatnonzero(~done)
    for k in range(max_terms):
        if active.size == 0:
            break
        t = term[active] * (a + k) * (b + k) / ((c[active] + k) * (k + 1.0)) * z[active]  # A&S 15.1.1
        term[active] = t
        s = total[active] + t
        total[active] = s
        with np.errstate(invalid="ignore"):  # 0 * inf at z = 1: not converged
            conv = np.abs(t) * tail_factor[active] <= _EPS * np.abs(s)
        done[active[conv]] = True
        active = active[~conv]
    return total, done


def _near_one(a, b, c, z):
    """2F1 by the z -> 1 - z transformation; w = 1 - z must be below about 1/2."""
    w = 1.0 - z
    m = c - a - b
    out = np.empty_like(z)
    is_int = np.abs(m - np.round(m)) < 1e-12
    at_one = w == 0
    # Gauss's theorem at z = 1 (A&S 15.1.20), finite because c > a + b.
    if at_one.any():
        cc = c[at_one]
        # G(c) G(c-a-b) / (G(c-a) G(c-b)) = (c-a)_a / (c-a-b)_a, Pochhammer ratios keep precision
        out[at_one] = special.poch(cc - a, a) / special.poch(cc - a - b, a)
    gen = ~is_int & ~at_one
    if gen.any():
        out[gen] = _nondegenerate(a, b, c[gen], w[gen], m[gen])
    deg = is_int & ~at_one
    if deg.any():
        out[deg] = _degenerate(a, b, c[deg], w[deg], np.round(m[deg]).astype(int))
    return out


def _plain_series(a, b, c, w, terms=200):
    """sum_k (a)_k (b)_k / ((c)_k k!) w^k for |w| <= ~1/2 (c may be negative, non-integer)."""
    total = np.ones_like(w)
    term = np.ones_like(w)
    for k in range(terms):
        term = term * (a + k) * (b + k) / ((c + k) * (k + 1.0)) * w
        total = total + term
        if np.all(np.abs(term) <= _EPS * np.abs(total)):
            break
    return total


def _nondegenerate(a, b, c, w, m):
    # A&S 15.3.6: F(a,b;c;z) = G(c)G(m)/(G(c-a)G(c-b)) F(a,b;1-m;w)
    #                          + w^m G(c)G(-m)/(G(a)G(b)) F(c-a,c-b;1+m;w),  m = c - a - b
    g = special.gamma
    first = g(c) * g(m) / (g(c - a) * g(c - b)) * _plain_series(a, b, 1.0 - m, w)
    second = w**m * g(c) * g(-m) / (g(a) * g(b)) * _plain_series(c - a, c - b, 1.0 + m, w)
    return first + second


def _degenerate(a, b, c, w, m):
    """A&S 15.3.10 (m = 0) and 15.3.11 (m = 1, 2, ...), c = a + b + m."""
    out = np.empty_like(w)
    psi = special.digamma
    for mm in np.unique(m):
        sel = m == mm
        ww, cc = w[sel], c[sel]
        # finite sum: G(m) G(a+b+m) / (G(a+m) G(b+m)) sum_{n<m} (a)_n (b)_n / (n! (1-m)_n) w^n
        finite = np.zeros_like(ww)
        if mm > 0:
            coef = np.exp(special.gammaln(mm) + special.gammaln(cc) - special.gammaln(a + mm) - special.gammaln(b + mm))
            term = np.ones_like(ww)
            acc = np.ones_like(ww)
            for n in range(1, mm):
                term = term * (a + n - 1) * (b + n - 1) / (n * (n - mm)) * ww  # (1-m)_n = prod (j - m)
                acc = acc + term
            finite = coef * acc
        # log series: -(z-1)^m G(a+b+m)/(G(a)G(b)) sum_n (a+m)_n (b+m)_n / (n! (n+m)!) w^n
        #             [ln w - psi(n+1) - psi(n+m+1) + psi(a+n+m) + psi(b+n+m)]
        lw = np.log(ww)
        term = np.ones_like(ww)  # 1/m! is folded into ``pre`` below, in logs
        acc = np.zeros_like(ww)
        for n in range(400):
            bracket = lw - psi(n + 1.0) - psi(n + mm + 1.0) + psi(a + n + mm) + psi(b + n + mm)
            piece = term * bracket
            acc = acc + piece
            if n > 2 and np.all(np.abs(piece) <= _EPS * np.abs(acc)):
                break
            term = term * (a + mm + n) * (b + mm + n) / ((n + 1.0) * (n + mm + 1.0)) * ww
        sign = -1.0 if mm % 2 else 1.0
        pre = sign * np.exp(
            mm * lw + special.gammaln(cc) - special.gammaln(a) - special.gammaln(b) - special.gammaln(mm + 1.0)
        )
        out[sel] = finite - pre * acc
    return out
