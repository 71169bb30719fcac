"""The one tau^2 kernel of the univariate random-effects model, vectorised over groups.

``estimate(method, yi, vi, X, groups)`` estimates tau^2 for G independent data sets at once:
one study set (``fit``/``meta_analysis``), contiguous groups (``meta_analysis_batch``) or B equal
blocks (``permutation_test``). Every estimator (EE, DL, HE, HS, SJ, ML, REML, EB, PM), with or
without moderators, runs the same code and the same stopping rule.

Memory is O(k): P = W - W X (X'WX)^-1 X'W is never built. Every trace metafor takes of a k x k
product is rewritten through p x p matrices M(f) = X' diag(f) X, e.g.

    tr(P)    = sum(w) - tr(B M(w^2)),                       B = (X'WX)^-1
    tr(PDPE) = sum(w^2 d e) - 2 tr(B M(w^3 d e)) + tr(B M(w^2 d) B M(w^2 e))

for diagonal D = diag(d), E = diag(e), and y'Py = sum(w r^2), y'PPy = sum(w^2 r^2) with the WLS
residuals r = y - X b (Viechtbauer 2005, J Educ Behav Stat 30:261, eqs. 5-12; metafor rma.uni).
``X=None`` means intercept only, where every M(f) is the scalar sum(f).

Units. Each group is standardised before it is fitted: y' = (y - c)/s, v' = v/s^2 with s^2 the
geometric mean of its v_i and c the mean of its y_i (only when X has an intercept). Every
estimator is equivariant (tau^2 -> s^2 tau^2), so fitting y', v' and scaling back gives the same
answer in any unit, and one stopping rule in these units suits every data set:
|change in tau'^2| <= TOL * max(1, tau'^2).

The global maximum (ML, REML). The (restricted) likelihood of tau^2 can have more than one local
maximum, and Fisher scoring from metafor's start (the HE estimate) reaches whichever is nearer.
After Fisher scoring the kernel (1) evaluates the boundary tau^2 = 0, (2) scans the score on
0 plus a geometric grid from vmin'/100 to an upper bound U beyond which the score is provably
negative, and (3) refines every bracket [t_j, t_j+1] where the score turns from positive to
non-positive that does not hold the Fisher-scoring solution; the highest local maximum is
returned and all of them are reported. The bound: with R2 = (max y' - min y')^2/4 (max y'^2
without an intercept), y'Py <= R2 sum(w) and y'PPy <= max(w) y'Py, tr(P) >= sum(w) - p max(w),
so the ML score y'PPy - sum(w) < 0 for tau^2 > R2, and the REML score y'PPy - tr(P) < 0 for
tau^2 > max(c R2, 2 p vmax/(k - p)) with c = 2k/(k - p). Below vmin/100 the likelihood is linear
in tau^2 to within 1%, so a maximum there is found by the bracket [0, t_1]. The grid has 6
points per decade (at most 240 points); for one large intercept-only study set (k > 20,000)
the scan runs on the studies binned by v_i (bins 0.1% wide), and each bracket is checked
exactly before it is refined.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

TAU2_METHODS = ("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
METHOD_ALIASES = {"FE": "EE"}
ITERATIVE = ("ML", "REML", "EB", "PM")
MAXITER = 500
ROOT_MAXITER = 200  # refinement of a bracketed maximum (Newton inside the bracket, else bisection)
TOL = 1e-12  # convergence of tau'^2 (standardised units): relative to max(1, tau'^2)
GRID_PER_DECADE = 6
GRID_MAX = 240
BIN_ABOVE = 20_000
SCAN_CHUNK = 8_192  # rows per block of the (rows x grid) products of the scan  # one intercept-only group larger than this is scanned on binned v_i
MAX_V_RATIO = 1e100  # max(vi)/min(vi) beyond which weights overflow double precision
MAX_Y_SPREAD = 1e75  # (max yi - min yi)/sqrt(typical vi) beyond which tau^2 overflows
LOG2PI = float(np.log(2 * np.pi))


class ConvergenceError(RuntimeError):
    """An iterative tau^2 estimator did not converge (after step halving and the fallback)."""


class MultipleMaximaWarning(UserWarning):
    """The (restricted) likelihood of tau^2 has more than one local maximum on tau^2 >= 0."""


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of a * b for 1-d arrays without a temporary and without BLAS: a multithreaded BLAS dot
    stalls for milliseconds on a busy machine (the threads wait for a core); einsum's loop does not."""
    return np.einsum("i,i->", a, b)


# ------------------------------------------------------------------------------------------------
# scalar helpers (one data set) used by model.py, heterogeneity.py and the tests


def xtfx(X: np.ndarray | None, f: np.ndarray, g: np.ndarray | None = None) -> np.ndarray:
    """M(f g) = X' diag(f g) X (p x p); for intercept only the 1 x 1 matrix [[sum(f g)]]."""
    if X is None:
        return np.array([[f.sum() if g is None else dot(f, g)]])
    fg = f if g is None else f * g
    return X.T @ (X * fg[:, None])


def xtf(X: np.ndarray | None, f: np.ndarray) -> np.ndarray:
    """X' f (length p)."""
    if X is None:
        return np.array([f.sum()])
    return X.T @ f


def xb(X: np.ndarray | None, beta: np.ndarray, k: int):
    """Fitted values X b (length k; a scalar that broadcasts for intercept only)."""
    if X is None:
        return beta[0]
    return X @ beta


def wls(yi: np.ndarray, X: np.ndarray | None, w: np.ndarray):
    """Weighted least squares: b = (X'WX)^-1 X'Wy. Returns (beta, B, resid)."""
    if X is None:  # the O(k) fast path: two dot products
        sw = w.sum()
        mu = dot(w, yi) / sw
        return np.array([mu]), np.array([[1.0 / sw]]), yi - mu
    B = np.linalg.inv(xtfx(X, w))
    beta = B @ xtf(X, w * yi)
    return beta, B, yi - xb(X, beta, yi.shape[0])


def tr_p(w, X, B) -> float:
    """tr(P) = sum(w) - tr(B X'W^2X), computed from u = w / max(w) (P is homogeneous in w: P(cw) =
    c P(w)) so that w^2 neither overflows nor underflows in extreme units."""
    m = float(w.max())
    u = w / m
    return m * float(u.sum() - np.sum((B * m) * xtfx(X, u, u)))


def q_stat(yi, vi, X, tau2: float) -> float:
    """Generalised Q: y'P(tau^2)y = sum w (y - Xb)^2 with w = 1/(vi + tau2)."""
    w = 1.0 / (vi + tau2)
    _, _, r = wls(yi, X, w)
    return float(dot(w * r, r))


def loglik(vi, X, tau2: float, B, rss: float, *, reml: bool) -> float:
    """Log-likelihood from the WLS pieces, as metafor's ll.ML / ll.REML (REMLf=TRUE adds 1/2 log|X'X|).

    ML: -k/2 log(2 pi) - 1/2 sum log(v + tau^2) - 1/2 RSS; REML: -(k-p)/2 log(2 pi) + 1/2 log|X'X|
    - 1/2 sum log(v + tau^2) - 1/2 log|X'WX| - 1/2 RSS (Viechtbauer 2005, eqs. 4 and 6).
    """
    k = vi.shape[0]
    slog = np.log(vi + tau2).sum()
    if not reml:
        return float(-0.5 * k * LOG2PI - 0.5 * slog - 0.5 * rss)
    p = B.shape[0]
    logdet_xwx = -np.linalg.slogdet(B)[1]
    logdet_xx = np.log(k) if X is None else np.linalg.slogdet(X.T @ X)[1]
    return float(-0.5 * (k - p) * LOG2PI + 0.5 * logdet_xx - 0.5 * slog - 0.5 * logdet_xwx - 0.5 * rss)


def condition(X: np.ndarray | None) -> np.ndarray | None:
    """X A for a diagonal-plus-centring A: with an intercept column the other columns are centred
    and scaled to unit root mean square, otherwise only scaled. P = W - W X (X'WX)^-1 X'W, every
    tau^2 estimator and the REML likelihood with + 1/2 log|X'X| are unchanged by X -> X A, but a
    design such as ablat * year (columns near 1e5) is computed to ~1e-9 without it."""
    if X is None:
        return None
    X = np.array(X, dtype=float)
    const = np.all(X == X[:1], axis=0)
    if np.any(const & (X[0] != 0)):
        X[:, ~const] -= X[:, ~const].mean(axis=0)
    X /= np.maximum(np.sqrt((X * X).mean(axis=0)), np.finfo(float).tiny)
    return X


def restricted_ll(yi, vi, X, tau2: float, *, reml: bool = True) -> float:
    """Log-likelihood at tau^2 (ML, or REML with ``reml``), profiling out the coefficients (computed
    with the conditioned X, which leaves it unchanged)."""
    X = condition(X)
    w = 1.0 / (vi + tau2)
    _, B, r = wls(yi, X, w)
    return loglik(vi, X, tau2, B, float(dot(w * r, r)), reml=reml)


def _score_info(method: str, yi, vi, X, tau2: float):
    """Twice the score and twice the Fisher information of tau^2 (one data set):

    REML: 2 dl/dtau2 = y'PPy - tr(P), 2 I = tr(PP); ML: 2 dl/dtau2 = y'PPy - sum(w), 2 I = sum(w^2)
    (Viechtbauer 2005, eqs. 10-11; Harville 1977).
    """
    prob = Problem(np.asarray(yi, float), np.asarray(vi, float), X, Groups(len(yi)))
    ev = prob.evaluate(np.array([float(tau2)]), reml=method == "REML", ll=False)
    return float(ev.num[0]), float(ev.fisher[0])


def q_root(yi, vi, X, target: float, *, lower: float = 0.0) -> float:
    """Solve y'P(tau^2)y = target for tau^2 >= lower (Q is decreasing in tau^2); 0 if Q(lower) <= target.

    Solved in standardised units (v / s^2, s^2 the geometric mean of v) so that the tolerance is
    relative to the data's scale.
    """
    vi = np.asarray(vi, float)
    s2 = float(np.exp(np.mean(np.log(vi))))
    y, v, lo = np.asarray(yi, float) / np.sqrt(s2), vi / s2, lower / s2

    def f(t):
        return q_stat(y, v, X, t) - target

    if f(lo) <= 0:
        return lower
    hi = max(100.0, 10.0 * float(np.var(y)), lo * 10)
    for _ in range(400):
        if f(hi) < 0:
            break
        hi *= 4.0
    else:
        raise ConvergenceError("Q-profile: Q(tau^2) stays above its target for every tau^2 tried")
    root = optimize.brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=1000)
    return root * s2


# ------------------------------------------------------------------------------------------------
# groups and the vectorised evaluator


class Groups:
    """How the N rows split into G data sets: one (``fit``), B equal blocks of ``size`` rows
    (``permutation_test``), or contiguous segments of ``counts`` rows (``meta_analysis_batch``;
    every segment non-empty). ``sum`` adds per group, ``expand`` repeats a per-group value per row."""

    def __init__(self, n: int, *, size: int | None = None, counts=None):
        self.n = n
        if size is not None:
            self.kind, self.size, self.G = "equal", size, n // size
            self.counts = np.full(self.G, size)
        elif counts is not None and np.all(np.asarray(counts) == counts[0]):
            self.kind, self.size, self.G = "equal", int(counts[0]), len(counts)
            self.counts = np.full(self.G, self.size)
        elif counts is not None:
            self.kind = "segments"
            self.counts = np.asarray(counts, dtype=np.intp)
            self.G = self.counts.shape[0]
            self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        else:
            self.kind, self.G, self.counts = "one", 1, np.array([n])

    def rows(self, sel: np.ndarray) -> np.ndarray:
        """Row indices of the groups ``sel`` (an index array), in order."""
        if self.kind == "one":
            return np.arange(self.n)
        if self.kind == "equal":
            return (sel[:, None] * self.size + np.arange(self.size)[None, :]).ravel()
        return np.flatnonzero(np.repeat(np.isin(np.arange(self.G), sel), self.counts))

    def subset(self, sel: np.ndarray) -> Groups:
        if self.kind == "one":
            return self
        counts = self.counts[sel]
        return Groups(int(counts.sum()), counts=counts)

    def sum(self, x: np.ndarray) -> np.ndarray:
        """Per-group sums of x (N,) or (N, ...) -> (G,) or (G, ...)."""
        if self.kind == "one":
            return (np.array([x.sum()]) if x.ndim == 1 else x.sum(axis=0)[None])
        if self.kind == "equal":
            return x.reshape((self.G, self.size) + x.shape[1:]).sum(axis=1)
        return np.add.reduceat(x, self.starts, axis=0)

    def dot(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.kind == "one":
            return np.array([dot(a, b)])
        if self.kind == "equal":
            return np.einsum("gi,gi->g", a.reshape(self.G, self.size), b.reshape(self.G, self.size))
        return np.add.reduceat(a * b, self.starts)

    def expand(self, g: np.ndarray):
        """Per-group values (G,) or (G, p) -> per row (a scalar or (p,) that broadcasts for one group)."""
        if self.kind == "one":
            return g[0]
        return np.repeat(g, self.counts, axis=0)

    def cross(self, X: np.ndarray, f: np.ndarray) -> np.ndarray:
        """M(f) = X' diag(f) X per group: (G, p, p)."""
        if self.kind == "one":
            return (X.T @ (X * f[:, None]))[None]
        if self.kind == "equal":
            Xr = X.reshape(self.G, self.size, -1)
            return np.swapaxes(Xr * f.reshape(self.G, self.size, 1), 1, 2) @ Xr
        return np.add.reduceat(X[:, :, None] * (X * f[:, None])[:, None, :], self.starts, axis=0)

    def xtf(self, X: np.ndarray, f: np.ndarray) -> np.ndarray:
        """X' f per group: (G, p)."""
        if self.kind == "one":
            return (X.T @ f)[None]
        return self.sum(X * f[:, None])

    def fitted(self, X: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """X b per row with b per group (G, p)."""
        if self.kind == "one":
            return X @ beta[0]
        if self.kind == "equal":
            return np.einsum("gsi,gi->gs", X.reshape(self.G, self.size, -1), beta).ravel()
        return np.einsum("ni,ni->n", X, self.expand(beta))


def _tr(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """tr(A B) per group for (G, p, p) stacks."""
    return np.einsum("gij,gji->g", A, B)


@dataclass
class Evaluation:
    """The profile quantities at tau^2 per group (twice the score ``num``, twice the Fisher
    information ``fisher``, twice the observed information ``observed``, Q = y'Py)."""

    ll: np.ndarray | None = None
    num: np.ndarray | None = None
    fisher: np.ndarray | None = None
    observed: np.ndarray | None = None
    q: np.ndarray | None = None
    yppy: np.ndarray | None = None


@dataclass
class Problem:
    """Rows y, v (and X, None for intercept only) split into ``groups``."""

    y: np.ndarray
    v: np.ndarray
    X: np.ndarray | None
    groups: Groups
    k: np.ndarray = field(init=False)
    p: int = field(init=False)

    def __post_init__(self):
        self.k = self.groups.counts.astype(float)
        self.p = 1 if self.X is None else self.X.shape[1]
        if self.X is not None:
            self._logdet_xx = np.linalg.slogdet(self.groups.cross(self.X, np.ones(self.groups.n)))[1]
        else:
            self._logdet_xx = np.log(self.k)

    def subset(self, sel: np.ndarray) -> Problem:
        """The problem restricted to the groups ``sel`` (an index array)."""
        rows = self.groups.rows(sel)
        return Problem(self.y[rows], self.v[rows], None if self.X is None else self.X[rows],
                       self.groups.subset(sel))

    def wls(self, w: np.ndarray):
        """Per-group WLS: returns (B, r) with B = (X'WX)^-1 (G, p, p) and residuals r (N,)."""
        g = self.groups
        if self.X is None:
            sw = g.sum(w)
            mu = g.dot(w, self.y) / sw
            return (1.0 / sw)[:, None, None], self.y - g.expand(mu)
        B = np.linalg.inv(g.cross(self.X, w))
        beta = np.einsum("gij,gj->gi", B, g.xtf(self.X, w * self.y))
        return B, self.y - g.fitted(self.X, beta)

    def _evaluate_one(self, t: float, reml: bool, ll: bool, deriv: bool, observed: bool) -> Evaluation:
        """``evaluate`` for one intercept-only data set, in preallocated buffers (a fresh array per
        step costs page faults that dominate for a million studies)."""
        y = self.y
        if not hasattr(self, "_buf"):
            self._buf = np.empty((4, y.shape[0]))
        vt, w, r, u = self._buf
        np.add(self.v, t, out=vt)
        np.reciprocal(vt, out=w)
        sw = w.sum()
        np.subtract(y, dot(w, y) / sw, out=r)
        np.multiply(w, r, out=u)  # P y
        q, yppy = dot(u, r), dot(u, u)
        out = Evaluation(q=np.array([q]), yppy=np.array([yppy]))
        if deriv:
            s2 = dot(w, w)
            if observed:
                su = dot(w, u)
                np.multiply(u, u, out=r)
                yppp = dot(r, w) - su * su / sw  # y'PPPy
            if reml:  # Viechtbauer 2005, eq. 11
                np.multiply(w, w, out=r)
                num, fisher = yppy - (sw - s2 / sw), s2 - 2 * dot(r, w) / sw + (s2 / sw) ** 2
            else:  # eq. 10
                num, fisher = yppy - sw, s2
            out.num, out.fisher = np.array([num]), np.array([fisher])
            if observed:
                out.observed = np.array([2 * yppp - fisher])
        if ll:
            np.log(vt, out=vt)
            slog = vt.sum()
            k = y.shape[0]
            if reml:
                val = -0.5 * (k - 1) * LOG2PI + 0.5 * np.log(k) - 0.5 * slog - 0.5 * np.log(sw) - 0.5 * q
            else:
                val = -0.5 * k * LOG2PI - 0.5 * slog - 0.5 * q
            out.ll = np.array([val])
        return out

    def tr_pdpe(self, w, B, d=None, e=None) -> np.ndarray:
        """tr(P D P E) per group (see the module docstring); None means the identity."""
        g = self.groups
        if self.X is None and d is None and e is None and g.kind == "one":  # one temporary
            b = B[0, 0, 0]
            w2 = w * w
            s2 = w2.sum()
            return np.array([s2 - 2.0 * b * dot(w2, w) + b * b * s2 * s2])
        w2 = w * w
        w2d = w2 if d is None else w2 * d
        w2e = w2 if e is None else w2 * e
        w2de = w2d if e is None else w2d * e
        if self.X is None:
            b = B[:, 0, 0]
            return g.sum(w2de) - 2.0 * b * g.dot(w2de, w) + b * b * g.sum(w2d) * g.sum(w2e)
        X = self.X
        m_d = B @ g.cross(X, w2d)
        m_e = m_d if e is d else B @ g.cross(X, w2e)
        return g.sum(w2de) - 2.0 * _tr(B, g.cross(X, w2de * w)) + _tr(m_d, m_e)

    def evaluate(self, t: np.ndarray, *, reml: bool, ll: bool = True, deriv: bool = True,
                 observed: bool = False) -> Evaluation:
        """Profile quantities at tau^2 = t (one value per group)."""
        g, v, X = self.groups, self.v, self.X
        if X is None and g.kind == "one":
            return self._evaluate_one(float(t[0]), reml, ll, deriv, observed)
        vt = v + g.expand(t)
        w = 1.0 / vt
        B, r = self.wls(w)
        u = w * r  # P y
        out = Evaluation(q=g.dot(u, r), yppy=g.dot(u, u))
        if X is None:
            sw = 1.0 / B[:, 0, 0]
            if deriv:
                w2 = w * w
                s2 = g.sum(w2)
                if reml:  # Viechtbauer 2005, eq. 11
                    out.num = out.yppy - (sw - s2 / sw)
                    out.fisher = s2 - 2 * g.dot(w2, w) / sw + (s2 / sw) ** 2
                else:  # eq. 10
                    out.num, out.fisher = out.yppy - sw, s2
                if observed:
                    su = g.dot(w, u)
                    out.observed = 2 * (g.dot(u * u, w) - su * su / sw) - out.fisher  # 2 y'PPPy - fisher
            if ll:
                slog = g.sum(np.log(vt))
                if reml:
                    out.ll = (-0.5 * (self.k - 1) * LOG2PI + 0.5 * self._logdet_xx - 0.5 * slog
                              - 0.5 * np.log(sw) - 0.5 * out.q)
                else:
                    out.ll = -0.5 * self.k * LOG2PI - 0.5 * slog - 0.5 * out.q
            return out
        if deriv:
            if reml:
                trp = g.sum(w) - _tr(B, g.cross(X, w * w))
                out.num, out.fisher = out.yppy - trp, self.tr_pdpe(w, B)
            else:
                out.num, out.fisher = out.yppy - g.sum(w), g.dot(w, w)
            if observed:
                xu = g.xtf(X, w * u)
                yppp = g.dot(w * u, u) - np.einsum("gi,gij,gj->g", xu, B, xu)  # y'PPPy = u'Pu
                out.observed = 2.0 * yppp - out.fisher
        if ll:
            slog = g.sum(np.log(vt))
            if reml:
                logdet_xwx = -np.linalg.slogdet(B)[1]
                out.ll = (-0.5 * (self.k - self.p) * LOG2PI + 0.5 * self._logdet_xx - 0.5 * slog
                          - 0.5 * logdet_xwx - 0.5 * out.q)
            else:
                out.ll = -0.5 * self.k * LOG2PI - 0.5 * slog - 0.5 * out.q
        return out


# ------------------------------------------------------------------------------------------------
# the estimators (standardised units)


def _closed_form(method: str, P: Problem, *, se: bool = True):
    """DL, HE, HS, SJ per group as metafor's rma.uni. Returns (tau2, se, q0, trp0): se None if not
    ``se``; for DL and HS also Cochran's Q and tr(P) at w = 1/v (None otherwise)."""
    g, y, v, k, p = P.groups, P.y, P.v, P.k, P.p
    if method in ("DL", "HS"):
        w = 1.0 / v
        B, r = P.wls(w)
        rss = np.array([np.einsum("i,i,i->", w, r, r)]) if g.kind == "one" else g.dot(w * r, r)
        trP = g.sum(w) - (B[:, 0, 0] * g.dot(w, w) if P.X is None else _tr(B, g.cross(P.X, w * w)))
        trPP = P.tr_pdpe(w, B)
        if method == "DL":
            tau2 = np.maximum(0.0, (rss - (k - p)) / trP)  # DerSimonian & Laird 1986, eq. 8 (general X)
            se = np.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / trP ** 2)
        else:
            sw = g.sum(w)
            tau2 = np.maximum(0.0, (rss - k) / sw)  # Hunter & Schmidt 2004; metafor's (RSS - k)/sum(wi)
            se = np.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / sw ** 2)
        return tau2, se, rss, trP
    if method == "HE":
        w = np.ones_like(v)
        B, r = P.wls(w)
        trPV = g.sum(v) - (B[:, 0, 0] * g.sum(v) if P.X is None else _tr(B, g.cross(P.X, v)))
        tau2 = np.maximum(0.0, (g.dot(r, r) - trPV) / (k - p))  # Hedges 1983 (OLS residuals)
        if not se:
            return tau2, None, None, None
        trPVPV = P.tr_pdpe(w, B, v, v)
        se = np.sqrt((2 * trPVPV + 4 * tau2 * trPV + 2 * tau2 ** 2 * (k - p)) / (k - p) ** 2)
        return tau2, se, None, None
    if method == "SJ":
        # Sidik & Jonkman 2005: tau0 = var(y) (k-1)/k whatever X is, then tau0 y'P(tau0)y / (k - p)
        mean = g.sum(y) / k
        tau0 = g.sum((y - g.expand(mean)) ** 2) / k
        w = 1.0 / (v + g.expand(tau0))
        B, r = P.wls(w)
        tau2 = tau0 * g.dot(w * r, r) / (k - p)
        se = np.sqrt(tau0 ** 2 / (k - p) ** 2 * (2 * P.tr_pdpe(w, B, v, v) + 4 * tau2 * P.tr_pdpe(w, B, v)
                                                 + 2 * tau2 ** 2 * P.tr_pdpe(w, B)))
        return tau2, se, None, None
    raise AssertionError(method)


def _q_newton(P: Problem):
    """PM (Paule & Mandel 1982) and EB (Morris 1983): the root of Q(tau^2) = k - p. Q is convex and
    decreasing (dQ/dt = -y'PPy, d2Q/dt2 = 2 y'PPPy), so Newton's method from tau^2 = 0 rises
    monotonically to the root. Returns (tau2, converged)."""
    target = P.k - P.p
    t = np.zeros(P.groups.G)
    conv = np.zeros(P.groups.G, dtype=bool)
    for _ in range(MAXITER):
        ev = P.evaluate(t, reml=False, ll=False, deriv=False)
        f = ev.q - target
        step = np.where((f > 0) & (ev.yppy > 0), f / np.where(ev.yppy > 0, ev.yppy, 1.0), 0.0)
        step = np.where(conv, 0.0, step)
        new = t + step
        conv |= np.abs(step) <= TOL * np.maximum(1.0, new)
        t = new
        if conv.all():
            break
    return t, conv & np.isfinite(t)


def _fisher_scoring(P: Problem, reml: bool, start: np.ndarray):
    """Fisher scoring (metafor's path, so the same local maximum is reached first), switching to
    Newton-Raphson once steps are small, with step halving per group whenever the likelihood would
    decrease, damping when steps oscillate (a step reversing over half the previous one), and
    tau^2 kept >= 0. Groups still iterating are compacted into a smaller problem. Returns
    (tau2, converged, iterations, evaluation at tau2)."""
    G = P.groups.G
    t = np.maximum(0.0, start)
    ev = P.evaluate(t, reml=reml, observed=True)
    full = Evaluation(ll=ev.ll.copy(), num=ev.num.copy(), fisher=ev.fisher.copy())
    tau2, iters = t.copy(), np.zeros(G, dtype=int)
    failed = ~np.isfinite(ev.ll)  # a failed evaluation is not iterated (and not converged)
    conv = failed.copy()
    act = np.flatnonzero(~conv)
    Pa = P if act.size == G else P.subset(act)
    t, ev = t[act], _take(ev, act)
    newton = np.zeros(act.size, dtype=bool)
    damp = np.ones(act.size)
    last = np.zeros(act.size)
    done = np.zeros(act.size, dtype=bool)
    for it in range(1, MAXITER + 1):
        if act.size == 0:
            break
        use_obs = newton & (ev.observed > 0)
        step = np.where(use_obs, ev.num / np.where(use_obs, ev.observed, 1.0), damp * ev.num / ev.fisher)
        flip = (step * last < 0) & (np.abs(step) > 0.5 * np.abs(last)) & ~use_obs
        damp = np.where(flip, 0.5 * damp, damp)
        step = np.where(flip, 0.5 * step, step)
        step = np.where(done | ~np.isfinite(step), 0.0, step)
        for _ in range(60):
            new = np.maximum(0.0, t + step)
            cand = Pa.evaluate(new, reml=reml, observed=True)
            worse = ~(cand.ll >= ev.ll - 1e-12 * (1.0 + np.abs(ev.ll))) & ~done
            if not worse.any():
                break
            step = np.where(worse, 0.5 * step, step)  # the step overshot: halve it
        change = np.abs(new - t)
        last = step
        t, ev = new, cand
        iters[act[~done]] = it
        newton |= change <= 1e-2 * np.maximum(1.0, t)
        done |= change <= TOL * np.maximum(1.0, t)
        if done.all() or (done.sum() > act.size // 2 and act.size > 8):
            fin = act[done]
            tau2[fin], conv[fin] = t[done], True
            full.ll[fin], full.num[fin], full.fisher[fin] = ev.ll[done], ev.num[done], ev.fisher[done]
            keep = ~done
            act = act[keep]
            if act.size == 0:
                break
            Pa = Pa.subset(np.flatnonzero(keep))
            t, ev, newton, damp, last = t[keep], _take(ev, keep), newton[keep], damp[keep], last[keep]
            done = np.zeros(act.size, dtype=bool)
    if act.size:  # not converged within MAXITER
        tau2[act] = t
        full.ll[act], full.num[act], full.fisher[act] = ev.ll, ev.num, ev.fisher
    return tau2, conv & ~failed, iters, full


def _take(ev: Evaluation, sel) -> Evaluation:
    return Evaluation(**{k: (None if a is None else a[sel]) for k, a in vars(ev).items()})


def _upper_bound(P: Problem, reml: bool) -> np.ndarray:
    """tau^2 beyond which the score is provably negative (module docstring)."""
    g, y, k, p = P.groups, P.y, P.k, P.p
    if _has_intercept(P):
        spread = _group_max(g, y) - _group_min(g, y)
        r2 = spread ** 2 / 4
    else:  # y'Py <= sum(w y^2) <= sum(w) max(y^2)
        r2 = _group_max(g, y * y)
    if not reml:
        return 1.01 * r2
    vmax = _group_max(P.groups, P.v)
    return 1.01 * np.maximum(2 * k / (k - p) * r2, 2 * p * vmax / (k - p))


def _group_extreme(g: Groups, x, ufunc):
    """Per-group maximum (``np.maximum``) or minimum (``np.minimum``) of ``x``."""
    if g.kind == "one":
        return np.array([ufunc.reduce(x)])
    if g.kind == "equal":
        return ufunc.reduce(x.reshape(g.G, g.size), axis=1)
    return ufunc.reduceat(x, g.starts)


def _group_max(g: Groups, x):
    return _group_extreme(g, x, np.maximum)


def _group_min(g: Groups, x):
    return _group_extreme(g, x, np.minimum)


def _has_intercept(P: Problem) -> bool:
    return P.X is None or bool(np.any(np.all(P.X == P.X[:1], axis=0) & (P.X[0] != 0)))


def _grid(P: Problem, reml: bool):
    """0 plus the geometric grid per group: (G, n) tau^2 values."""
    lo = 0.01 * _group_min(P.groups, P.v)
    hi = np.maximum(_upper_bound(P, reml), lo * 1.0001)
    decades = np.log10(hi / lo)
    n = int(np.clip(np.ceil(GRID_PER_DECADE * np.max(decades)) + 1, 2, GRID_MAX))
    frac = np.linspace(0.0, 1.0, n)
    grid = lo[:, None] * (hi / lo)[:, None] ** frac[None, :]
    return np.column_stack([np.zeros(P.groups.G), grid])


def _scan(P: Problem, reml: bool, grid: np.ndarray) -> np.ndarray:
    """Twice the score at every grid point of every group at once, (G, n): the weighted sums
    sum_i w_i^a f_i (a = 1, 2) of the row features f = (1, y, y^2) (with moderators: x x', x y, y^2,
    X centred and scaled, which leaves P unchanged) are (rows x grid) products, so the scan costs
    a few matrix products instead of n evaluations."""
    g, y, v = P.groups, P.y, P.v
    X = P.X
    if X is None:
        F = np.column_stack([np.ones_like(y), y, y * y])
    else:
        X = X.copy()
        if _has_intercept(P):
            free = ~np.all(X == X[:1], axis=0)
            X[:, free] -= X[:, free].mean(axis=0)
        X /= np.maximum(np.sqrt((X * X).mean(axis=0)), np.finfo(float).tiny)
        p = X.shape[1]
        F = np.column_stack([np.ones_like(y), (X[:, :, None] * X[:, None, :]).reshape(-1, p * p),
                             X * y[:, None], y * y])
    n = grid.shape[1]
    if g.kind == "one":  # in chunks of rows, so memory stays a few MB whatever k is
        S1 = np.zeros((1, n, F.shape[1]))
        S2 = np.zeros_like(S1)
        for a in range(0, y.shape[0], SCAN_CHUNK):
            W = 1.0 / (v[a:a + SCAN_CHUNK, None] + grid[0][None, :])  # (rows, n)
            S1[0] += W.T @ F[a:a + SCAN_CHUNK]
            W *= W
            S2[0] += W.T @ F[a:a + SCAN_CHUNK]
    elif g.kind == "equal":
        W = 1.0 / (v.reshape(g.G, g.size)[:, :, None] + grid[:, None, :])  # (G, s, n)
        Fr = F.reshape(g.G, g.size, -1)
        S1 = np.swapaxes(W, 1, 2) @ Fr
        W *= W
        S2 = np.swapaxes(W, 1, 2) @ Fr
    else:
        W = 1.0 / (v[:, None] + np.repeat(grid, g.counts, axis=0))  # (N, n)
        S1 = np.add.reduceat(W[:, :, None] * F[:, None, :], g.starts, axis=0)
        W *= W
        S2 = np.add.reduceat(W[:, :, None] * F[:, None, :], g.starts, axis=0)
    sw = S1[..., 0]
    if X is None:
        mu = S1[..., 1] / sw
        yppy = S2[..., 2] - 2 * mu * S2[..., 1] + mu * mu * S2[..., 0]
        trp = sw - S2[..., 0] / sw
    else:
        pp = p * p
        M1 = S1[..., 1:1 + pp].reshape(S1.shape[:2] + (p, p))
        M2 = S2[..., 1:1 + pp].reshape(M1.shape)
        B = np.linalg.inv(M1)
        beta = np.einsum("gnij,gnj->gni", B, S1[..., 1 + pp:1 + pp + p])
        yppy = (S2[..., -1] - 2 * np.einsum("gni,gni->gn", beta, S2[..., 1 + pp:1 + pp + p])
                + np.einsum("gni,gnij,gnj->gn", beta, M2, beta))
        trp = sw - np.einsum("gnij,gnji->gn", B, M2)
    return yppy - (trp if reml else sw)


def _scan_binned(P: Problem, reml: bool, grid: np.ndarray) -> np.ndarray:
    """Twice the score on the grid for one large intercept-only group, with the studies binned by
    log v (bins 0.1% wide: each bin acts as n studies of one variance with their mean and
    within-bin sum of squares)."""
    y, v = P.y, P.v
    ids = np.floor(np.log(v) / 1e-3).astype(np.int64)
    ids -= ids.min()
    n = np.bincount(ids).astype(float)
    keep = n > 0
    n = n[keep]
    sy = np.bincount(ids, weights=y)[keep]
    syy = np.bincount(ids, weights=y * y)[keep]
    vb = np.bincount(ids, weights=v)[keep] / n
    ybar = sy / n
    ss = np.maximum(syy - n * ybar * ybar, 0.0)
    t = grid[0][:, None]  # (n_grid, 1)
    w = 1.0 / (vb[None, :] + t)
    nw = n * w
    sw = nw.sum(axis=1)
    mu = (nw * ybar).sum(axis=1) / sw
    r = ybar[None, :] - mu[:, None]
    w2 = w * w
    yppy = (n * w2 * r * r).sum(axis=1) + (ss * w2).sum(axis=1)
    nw2 = (n * w2).sum(axis=1)
    num = yppy - (sw - nw2 / sw if reml else sw)
    return num[None, :]


def _score_root(P: Problem, reml: bool, lo: np.ndarray, hi: np.ndarray, active: np.ndarray):
    """The local maximum in each bracket [lo, hi] (score > 0 at lo, <= 0 at hi), per group:
    Newton steps on the score kept inside the bracket, bisection (geometric when the bracket spans
    a factor over 4) otherwise. Returns (tau2, converged)."""
    lo, hi = lo.copy(), hi.copy()
    x = np.where(lo > 0, np.sqrt(lo * np.maximum(hi, lo)), 0.5 * hi)
    conv = ~active
    for _ in range(ROOT_MAXITER):
        ev = P.evaluate(x, reml=reml, ll=False, observed=True)
        up = ev.num > 0
        lo = np.where(up & ~conv, x, lo)
        hi = np.where(~up & ~conv, x, hi)
        newton = x + ev.num / np.where(ev.observed > 0, ev.observed, np.nan)
        mid = np.where((lo > 0) & (hi > 4 * lo), np.sqrt(lo * hi), 0.5 * (lo + hi))
        new = np.where(np.isfinite(newton) & (newton > lo) & (newton < hi), newton, mid)
        new = np.where(conv, x, new)
        done = (np.abs(new - x) <= TOL * np.maximum(1.0, x)) | (hi - lo <= TOL * np.maximum(1.0, x))
        x = new
        conv |= done
        if conv.all():
            break
    return x, conv


@dataclass
class Tau2Fit:
    """What the kernel estimated, per group, in the caller's units.

    ``maxima`` maps a group index to its local maxima when there was more than one:
    (list of (tau2, ll) in increasing tau^2, the tau^2 returned, the tau^2 Fisher scoring reached).
    """

    tau2: np.ndarray
    se: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    maxima: dict = field(default_factory=dict)
    q0: np.ndarray | None = None  # Cochran's Q (w = 1/v) when the estimator computed it (DL, HS)
    trp0: np.ndarray | None = None  # tr(P) at w = 1/v, likewise


def _standardise(P: Problem):
    """Per group: c = mean(y) (with an intercept), s^2 = geometric mean of v. Returns the
    standardised problem and (c, s2) per group; checks the range double precision can hold."""
    g = P.groups
    logv = np.log(P.v)
    s2 = np.exp(g.sum(logv) / P.k)
    c = g.sum(P.y) / P.k if _has_intercept(P) else np.zeros(g.G)
    s = np.sqrt(s2)
    ys = (P.y - g.expand(c)) / g.expand(s)
    vs = P.v / g.expand(s2)
    return Problem(ys, vs, P.X, g), c, s2


def _check_range(P: Problem, c, s2, names=None) -> None:
    """Raise a ValueError naming the group when double precision cannot fit it: sampling variances
    spanning more than MAX_V_RATIO, or effect sizes spread over more than MAX_Y_SPREAD typical
    standard errors (tau^2, about the squared spread, would overflow)."""
    g = P.groups
    vmin, vmax = _group_min(g, P.v), _group_max(g, P.v)
    spread = _group_max(g, P.y) - _group_min(g, P.y)
    bad_v = ~(vmax / vmin <= MAX_V_RATIO)
    bad_y = ~(spread <= MAX_Y_SPREAD)
    if not (bad_v.any() or bad_y.any()):
        return
    gi = int(np.flatnonzero(bad_v | bad_y)[0])
    where = "" if g.G == 1 else f"group {names[gi] if names is not None else gi!r}: "
    sd = float(np.sqrt(s2[gi]))
    if bad_v[gi]:
        lo, hi = vmin[gi] * s2[gi], vmax[gi] * s2[gi]
        raise ValueError(f"cannot fit: {where}the sampling variances span a factor {hi / lo:.3g} (vi from {lo:.3g} "
                         f"to {hi:.3g}): the weights 1/vi and their powers overflow double precision; "
                         "rescale or drop the extreme studies")
    raise ValueError(f"cannot fit: {where}the effect sizes spread over {spread[gi] * sd:.3g}, {spread[gi]:.3g} "
                     f"times sqrt(vi) (about {sd:.3g}): tau^2/vi (about the square of that) would overflow "
                     "double precision; check the units of yi and vi")


def estimate(method: str, yi: np.ndarray, vi: np.ndarray, X: np.ndarray | None = None,
             groups: Groups | None = None, names=None) -> Tau2Fit:
    """Estimate tau^2 by ``method`` for every group (every group must have k > p studies).

    Returns a :class:`Tau2Fit` in the units of yi and vi. ML and REML return the global maximum
    of the (restricted) likelihood on tau^2 >= 0 (module docstring). Raises ValueError when a
    group cannot be represented in double precision (``names`` label the groups in the message).
    """
    groups = Groups(yi.shape[0]) if groups is None else groups
    G = groups.G
    if method == "EE":
        return Tau2Fit(np.zeros(G), np.full(G, np.nan), np.ones(G, dtype=bool), np.zeros(G, dtype=int))
    if method in ("DL", "HS") and 1e-60 < vi.sum() / vi.shape[0] < 1e60:
        # closed forms are homogeneous in the units: in moderate units fit them as given (no
        # tolerance depends on the scale); w^2 cannot underflow, and an overflow shows as inf
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            tau2, se, q0, trp0 = _closed_form(method, Problem(yi, vi, X, groups))
        if np.isfinite(tau2).all() and np.isfinite(se).all() and np.isfinite(trp0).all():
            return Tau2Fit(tau2, se, np.ones(G, dtype=bool), np.zeros(G, dtype=int), q0=q0, trp0=trp0)
    P, c, s2 = _standardise(Problem(yi, vi, condition(X), groups))
    _check_range(P, c, s2, names)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method in ("DL", "HE", "HS", "SJ"):
            tau2, se, q0, trp0 = _closed_form(method, P)
            return Tau2Fit(tau2 * s2, se * s2, np.isfinite(tau2), np.zeros(G, dtype=int), q0=q0,
                           trp0=None if trp0 is None else trp0 / s2)
        if method in ("PM", "EB"):
            tau2, conv = _q_newton(P)
            sw = groups.sum(1.0 / (P.v + groups.expand(tau2)))
            se = np.sqrt(2.0 * P.k ** 2 / (P.k - P.p) / sw ** 2)
            return Tau2Fit(tau2 * s2, se * s2, conv, np.zeros(G, dtype=int))
        reml = method == "REML"
        return _ml_reml(P, reml, s2)


def _ml_reml(P: Problem, reml: bool, s2: np.ndarray) -> Tau2Fit:
    G = P.groups.G
    start = _closed_form("HE", P, se=False)[0]  # metafor's start: the HE estimate truncated at 0
    t_fs, conv_fs, iters, ev_fs = _fisher_scoring(P, reml, start)
    ev0 = P.evaluate(np.zeros(G), reml=reml)
    # the scan: score on 0 plus the grid
    grid = _grid(P, reml)
    binned = P.groups.kind == "one" and P.X is None and P.y.shape[0] > BIN_ABOVE
    if binned:
        scores = _scan_binned(P, reml, grid)
        scores[:, 0] = ev0.num
    else:
        scores = _scan(P, reml, grid)
        scores[:, 0] = ev0.num
    ups = (scores[:, :-1] > 0) & (scores[:, 1:] <= 0)  # a bracket [t_j, t_j+1] holding a maximum
    cand_t = [np.where(conv_fs, t_fs, np.nan), np.where(ev0.num <= 0, 0.0, np.nan)]
    cand_ll = [np.where(conv_fs, ev_fs.ll, np.nan), np.where(ev0.num <= 0, ev0.ll, np.nan)]
    cand_conv = [conv_fs, np.ones(G, dtype=bool)]
    n_grid = grid.shape[1]
    rows = np.arange(G)
    order = np.cumsum(ups, axis=1)
    for rnd in range(int(order[:, -1].max(initial=0))):  # round r: the r-th bracket of each group
        at = ups & (order == rnd + 1)
        has = at.any(axis=1)
        jj = np.argmax(at, axis=1)
        if binned:  # widen by a cell each side: the binned signs are approximate
            lo = grid[rows, np.maximum(jj - 1, 0)]
            hi = grid[rows, np.minimum(jj + 2, n_grid - 1)]
        else:
            lo, hi = grid[rows, jj], grid[rows, jj + 1]
        holds_fs = conv_fs & (t_fs >= lo) & (t_fs <= hi)
        todo = np.flatnonzero(has & ~holds_fs)
        if todo.size == 0:
            continue
        Ps = P.subset(todo) if todo.size < G else P
        lo, hi = lo[todo], hi[todo]
        if binned:  # check the bracket exactly
            ok = (Ps.evaluate(lo, reml=reml, ll=False).num > 0) & (Ps.evaluate(hi, reml=reml, ll=False).num <= 0)
            if not ok.all():
                continue
        root, conv = _score_root(Ps, reml, lo, hi, np.ones(todo.size, dtype=bool))
        ll = Ps.evaluate(root, reml=reml, deriv=False).ll
        for arr, val, fill in ((cand_t, root, np.nan), (cand_ll, ll, np.nan), (cand_conv, conv, False)):
            col = np.full(G, fill, dtype=type(fill))
            col[todo] = val
            arr.append(col)
    T = np.column_stack(cand_t)
    LL = np.column_stack(cand_ll)
    CV = np.column_stack(cand_conv)
    LLm = np.where(np.isfinite(LL), LL, -np.inf)
    best = np.argmax(LLm, axis=1)
    top = LLm[rows, best]
    # ties (the same peak found twice, or equal heights): keep Fisher scoring's answer, as metafor
    keep_fs = conv_fs & (LLm[:, 0] >= top - 1e-10 * np.maximum(1.0, np.abs(top)))
    best = np.where(keep_fs, 0, best)
    found = np.isfinite(top)
    tau2 = np.where(found, T[rows, best], np.nan)
    converged = found & CV[rows, best]
    fisher = np.where(best == 0, ev_fs.fisher, np.nan)
    other = np.flatnonzero(found & (best != 0))
    if other.size:
        fisher[other] = (P.subset(other) if other.size < G else P).evaluate(tau2[other], reml=reml, ll=False).fisher
    se = np.sqrt(2.0 / fisher)
    # distinct local maxima per group, for the report
    maxima = {}
    logs = np.log(s2) * (0.5 * (P.k - P.p) if reml else 0.5 * P.k)  # ll in the caller's units
    for gi in np.flatnonzero(found & (np.isfinite(LL).sum(axis=1) > 1)):
        pts = sorted((T[gi, c], LL[gi, c]) for c in range(T.shape[1]) if np.isfinite(LL[gi, c]))
        distinct = []
        for tt, ll in pts:
            if distinct and abs(tt - distinct[-1][0]) <= 1e-6 * max(1.0, tt):
                continue
            distinct.append((tt, ll))
        if len(distinct) > 1:
            maxima[int(gi)] = ([(tt * s2[gi], ll - logs[gi]) for tt, ll in distinct], tau2[gi] * s2[gi],
                               t_fs[gi] * s2[gi] if conv_fs[gi] else np.nan)
    return Tau2Fit(tau2 * s2, se * s2, converged, iters, maxima)


def maxima_message(method: str, maxima: tuple, where: str = "") -> str:
    """The warning text for a likelihood with more than one local maximum."""
    points, chosen, fs = maxima
    what = "restricted log-likelihood" if method == "REML" else "log-likelihood"
    listed = " and ".join(f"tau^2 = {t:.6g} (logLik {ll:.4f})" for t, ll in points)
    text = (f"{where}the {what} has {len(points)} local maxima on tau^2 >= 0: {listed}; "
            f"returned the global maximum, tau^2 = {chosen:.6g}")
    if np.isfinite(fs) and abs(fs - chosen) > 1e-6 * max(abs(chosen), abs(fs)):
        text += f" (Fisher scoring from metafor's start stops at tau^2 = {fs:.6g})"
    return text


def estimate_one(method: str, yi, vi, X, p: int, *, warn: bool = True) -> Tau2Fit:
    """``estimate`` for one data set (arrays of length 1 in the result).

    Raises ConvergenceError when an iterative estimator does not converge, and warns
    (MultipleMaximaWarning) when the ML/REML likelihood has more than one local maximum.
    """
    k = yi.shape[0]
    if method == "EE" or k == 1:
        return Tau2Fit(np.zeros(1), np.full(1, np.nan), np.ones(1, dtype=bool), np.zeros(1, dtype=int))
    if k <= p:
        raise ValueError(f"method {method!r} needs more studies (k = {k}) than coefficients (p = {p})")
    out = estimate(method, yi, vi, X)
    if method in ITERATIVE and not out.converged[0]:
        raise ConvergenceError(f"{method} estimator did not converge (tau^2 = {out.tau2[0]:.6g})")
    if warn and out.maxima:
        warnings.warn(maxima_message(method, out.maxima[0]), MultipleMaximaWarning, stacklevel=4)
    return out


def estimate_tau2(method: str, yi, vi, X, p: int, *, warn: bool = True):
    """Estimate tau^2 for one data set. Returns (tau2, se_tau2, converged, iterations)."""
    out = estimate_one(method, yi, vi, X, p, warn=warn)
    return float(out.tau2[0]), float(out.se[0]), bool(out.converged[0]), int(out.iterations[0])
