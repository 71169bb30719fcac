"""Private numerics of the univariate random-effects model: weighted least squares, the
quantities of metafor's projection matrix P, and the tau^2 estimators.

Memory is O(k): P = W - W X (X'WX)^-1 X'W is never built. Every trace metafor takes of a k x k
product is rewritten through p x p matrices M(f) = X' diag(f) X, e.g.

    tr(P)    = sum(w) - tr(B M(w^2)),                       B = (X'WX)^-1
    tr(PDPE) = sum(w^2 d e) - 2 tr(B M(w^3 d e)) + tr(B M(w^2 d) B M(w^2 e))

for diagonal D = diag(d), E = diag(e), and y'Py = sum(w r^2), y'PPy = sum(w^2 r^2) with the WLS
residuals r = y - X b (Viechtbauer 2005, J Educ Behav Stat 30:261, eqs. 5-12; metafor rma.uni).
``X=None`` means intercept only, where every M(f) is the scalar sum(f).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

TAU2_METHODS = ("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
METHOD_ALIASES = {"FE": "EE"}
ITERATIVE = ("ML", "REML", "EB", "PM")
MAXITER = 500
TOL = 1e-12  # convergence of tau^2: relative to max(1, tau^2)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of a * b for 1-d arrays without a temporary and without BLAS: a multithreaded BLAS dot
    stalls for milliseconds on a busy machine (the threads wait for a core); einsum's loop does not."""
    return np.einsum("i,i->", a, b)


class ConvergenceError(RuntimeError):
    """An iterative tau^2 estimator did not converge (after step halving and the fallback)."""


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
    """tr(P) = sum(w) - tr(B X'W^2X)."""
    return float(w.sum() - np.sum(B * xtfx(X, w, w)))


def tr_pdpe(w, X, B, d=None, e=None) -> float:
    """tr(P D P E) for diagonal D = diag(d), E = diag(e) (None: the identity); see the module docstring."""
    w2 = w * w
    w2d = w2 if d is None else w2 * d
    w2e = w2 if e is None else w2 * e
    w2de = w2d if e is None else w2d * e
    if X is None:
        b = B[0, 0]
        return float(w2de.sum() - 2.0 * b * dot(w2de, w) + b * b * w2d.sum() * w2e.sum())
    m_d = B @ xtfx(X, w2d)
    m_e = B @ xtfx(X, w2e)
    return float(w2de.sum() - 2.0 * np.sum(B * xtfx(X, w2de, w)) + np.sum(m_d * m_e.T))


def q_stat(yi, vi, X, tau2: float) -> float:
    """Generalised Q: y'P(tau^2)y = sum w (y - Xb)^2 with w = 1/(vi + tau^2)."""
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
        return float(-0.5 * k * np.log(2 * np.pi) - 0.5 * slog - 0.5 * rss)
    p = B.shape[0]
    logdet_xwx = -np.linalg.slogdet(B)[1]
    logdet_xx = np.log(k) if X is None else np.linalg.slogdet(X.T @ X)[1]
    return float(-0.5 * (k - p) * np.log(2 * np.pi) + 0.5 * logdet_xx - 0.5 * slog - 0.5 * logdet_xwx - 0.5 * rss)


def restricted_ll(yi, vi, X, tau2: float, *, reml: bool = True) -> float:
    """Log-likelihood at tau^2 (ML, or REML with ``reml``), profiling out the coefficients."""
    w = 1.0 / (vi + tau2)
    _, B, r = wls(yi, X, w)
    return loglik(vi, X, tau2, B, float(dot(w * r, r)), reml=reml)


def tau2_closed_form(method: str, yi, vi, X, p: int):
    """Non-iterative estimators. Returns (tau2, se_tau2, extra) as metafor's rma.uni."""
    k = yi.shape[0]
    if method in ("DL", "HS"):
        w = 1.0 / vi
        _, B, r = wls(yi, X, w)
        rss = dot(w * r, r)
        trP = tr_p(w, X, B)
        trPP = tr_pdpe(w, X, B)
        if method == "DL":
            tau2 = max(0.0, (rss - (k - p)) / trP)  # DerSimonian & Laird 1986, eq. 8 (general X)
            se = np.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / trP ** 2)
        else:
            sw = w.sum()
            tau2 = max(0.0, (rss - k) / sw)  # Hunter & Schmidt 2004; metafor's (RSS - k)/sum(wi)
            se = np.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / sw ** 2)
        return tau2, se
    if method == "HE":
        w = np.ones(k)
        _, B, r = wls(yi, X, w)
        rss = dot(r, r)
        trPV = float(np.sum(vi) - np.sum(B * xtfx(X, vi)))
        tau2 = max(0.0, (rss - trPV) / (k - p))  # Hedges 1983; Hedges & Olkin 1985 (OLS residuals)
        trPVPV = tr_pdpe(w, X, B, vi, vi)
        se = np.sqrt((2 * trPVPV + 4 * tau2 * trPV + 2 * tau2 ** 2 * (k - p)) / (k - p) ** 2)
        return tau2, se
    if method == "SJ":
        # Sidik & Jonkman 2005: tau0 = var(y) (k-1)/k, then tau0 * y'P(tau0)y / (k - p)
        tau0 = float(np.var(yi))  # metafor: var(yi - mean(yi)) * (k - 1)/k, whatever X is
        w = 1.0 / (vi + tau0)
        _, B, r = wls(yi, X, w)
        rss = dot(w * r, r)
        tau2 = tau0 * rss / (k - p)
        trPVPV = tr_pdpe(w, X, B, vi, vi)
        trPVP = tr_pdpe(w, X, B, vi)
        trPP = tr_pdpe(w, X, B)
        se = np.sqrt(tau0 ** 2 / (k - p) ** 2 * (2 * trPVPV + 4 * tau2 * trPVP + 2 * tau2 ** 2 * trPP))
        return tau2, se
    raise AssertionError(method)


def he_start(yi, vi, X, p: int) -> float:
    """Hedges (HE) estimate truncated at 0: metafor's starting value for ML/REML/EB."""
    k = yi.shape[0]
    if X is None:
        r = yi - yi.mean()
        trPV = vi.sum() * (1 - 1 / k)
    else:
        _, B, r = wls(yi, X, np.ones(k))
        trPV = float(vi.sum() - np.sum(B * xtfx(X, vi)))
    return max(0.0, (dot(r, r) - trPV) / (k - p))


class _InterceptEvaluator:
    """ML/REML pieces at tau^2 for the intercept-only model, in preallocated buffers (no allocation
    per iteration; about ten passes over the data)."""

    def __init__(self, yi, vi):
        self.yi, self.vi = yi, vi
        k = yi.shape[0]
        self.t, self.w, self.r, self.u = (np.empty(k) for _ in range(4))

    def __call__(self, tau2: float, reml: bool):
        yi, t, w, r, u = self.yi, self.t, self.w, self.r, self.u
        k = yi.shape[0]
        np.add(self.vi, tau2, out=t)
        np.reciprocal(t, out=w)
        np.log(t, out=t)
        slog = t.sum()
        sw = w.sum()
        np.subtract(yi, dot(w, yi) / sw, out=r)
        np.multiply(w, r, out=u)  # P y
        rss, yppy, su = dot(u, r), dot(u, u), dot(w, u)
        np.multiply(w, w, out=t)
        s2, s3 = t.sum(), dot(t, w)
        np.multiply(u, u, out=t)
        yppp = dot(t, w) - su * su / sw  # y'PPPy
        if reml:  # Viechtbauer 2005, eqs. 6 and 11
            ll = -0.5 * (k - 1) * np.log(2 * np.pi) + 0.5 * np.log(k) - 0.5 * slog - 0.5 * np.log(sw) - 0.5 * rss
            num = yppy - (sw - s2 / sw)
            fisher = s2 - 2 * s3 / sw + (s2 / sw) ** 2
        else:  # eqs. 4 and 10
            ll = -0.5 * k * np.log(2 * np.pi) - 0.5 * slog - 0.5 * rss
            num = yppy - sw
            fisher = s2
        return ll, num, fisher, 2 * yppp - fisher


def _general_evaluator(yi, vi, X):
    def evaluate(tau2: float, reml: bool):
        w = 1.0 / (vi + tau2)
        _, B, r = wls(yi, X, w)
        u = w * r  # P y
        rss = dot(u, r)
        ll = loglik(vi, X, tau2, B, rss, reml=reml)
        if reml:
            num, fisher = dot(u, u) - tr_p(w, X, B), tr_pdpe(w, X, B)
        else:
            num, fisher = dot(u, u) - w.sum(), dot(w, w)
        xu = xtf(X, w * u)
        yppp = dot(w * u, u) - xu @ B @ xu  # y'PPPy = u'Pu
        return ll, num, fisher, 2.0 * yppp - fisher

    return evaluate


def _score_info(method: str, yi, vi, X, tau2: float):
    """Twice the score and twice the Fisher information of tau^2:

    REML: 2 dl/dtau2 = y'PPy - tr(P), 2 I = tr(PP), observed 2 J = 2 y'PPPy - tr(PP);
    ML:   2 dl/dtau2 = y'PPy - sum(w), 2 I = sum(w^2), observed 2 J = 2 y'PPPy - sum(w^2)
    (Viechtbauer 2005, eqs. 10-11; Harville 1977). Py = w r with the WLS residuals r.
    """
    ev = _InterceptEvaluator(yi, vi) if X is None else _general_evaluator(yi, vi, X)
    _, num, fisher, _ = ev(tau2, method == "REML")
    return num, fisher


def fisher_scoring(method: str, yi, vi, X, p: int, tau2_init: float):
    """ML or REML: Fisher scoring (metafor's path, so the same mode of a multimodal likelihood is
    reached), switching to Newton-Raphson once steps are small, with step halving whenever the
    likelihood would decrease and tau^2 kept >= 0.

    Falls back to Brent's method on the score when this does not settle. Returns
    (tau2, iterations, fisher) with ``fisher`` twice the Fisher information at the estimate.
    Raises ConvergenceError if neither converges.
    """
    reml = method == "REML"
    ev = _InterceptEvaluator(yi, vi) if X is None else _general_evaluator(yi, vi, X)
    tau2 = max(0.0, tau2_init)
    ll, num, fisher, observed = ev(tau2, reml)
    newton = False
    for it in range(1, MAXITER + 1):
        step = num / (observed if newton and observed > 0 else fisher)
        for _ in range(60):
            new = max(0.0, tau2 + step)
            state = ev(new, reml)
            if state[0] >= ll - 1e-13 * abs(ll):
                break
            step *= 0.5  # the step overshot: halve it
        change = abs(new - tau2)
        tau2 = new
        ll, num, fisher, observed = state
        newton = newton or change <= 1e-3 * max(1.0, tau2)
        if change <= TOL * max(1.0, tau2):
            return tau2, it, fisher
    tau2 = _score_root(method, yi, vi, X)
    return tau2, MAXITER, ev(tau2, reml)[2]


def _score_root(method, yi, vi, X):
    def score(t):
        return _score_info(method, yi, vi, X, t)[0]

    if score(0.0) <= 0:
        return 0.0
    hi = max(1.0, float(np.var(yi)))
    for _ in range(200):
        if score(hi) < 0:
            break
        hi *= 2.0
    else:
        raise ConvergenceError(f"{method}: the score does not change sign on [0, {hi:g}]")
    try:
        return optimize.brentq(score, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=1000)
    except (RuntimeError, ValueError) as exc:  # pragma: no cover - brentq on a sign change converges
        raise ConvergenceError(f"{method} estimator did not converge: {exc}") from None


def q_root(yi, vi, X, target: float, *, lower: float = 0.0) -> float:
    """Solve y'P(tau^2)y = target for tau^2 >= lower (Q is decreasing in tau^2); 0 if Q(lower) <= target."""
    def f(t):
        return q_stat(yi, vi, X, t) - target

    if f(lower) <= 0:
        return lower
    hi = max(100.0, 10.0 * float(np.var(yi)), lower * 10)
    for _ in range(200):
        if f(hi) < 0:
            break
        hi *= 4.0
    else:
        raise ConvergenceError("Q-profile: Q(tau^2) stays above its target for every tau^2 tried")
    return optimize.brentq(f, lower, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=1000)


def estimate_tau2(method: str, yi, vi, X, p: int):
    """Estimate tau^2 by ``method``. Returns (tau2, se_tau2, converged, iterations)."""
    k = yi.shape[0]
    if method == "EE" or k == 1:
        return 0.0, np.nan, True, 0
    if k <= p:
        raise ValueError(f"method {method!r} needs more studies (k = {k}) than coefficients (p = {p})")
    if method in ("DL", "HE", "HS", "SJ"):
        tau2, se = tau2_closed_form(method, yi, vi, X, p)
        return tau2, se, True, 0
    if method in ("ML", "REML"):
        tau2, it, fisher = fisher_scoring(method, yi, vi, X, p, he_start(yi, vi, X, p))
        return tau2, np.sqrt(2.0 / fisher), True, it  # SE from the Fisher information at the estimate
    # PM (Paule & Mandel 1982) and EB (Morris 1983) solve the same equation Q(tau^2) = k - p
    tau2 = q_root(yi, vi, X, k - p)
    w = 1.0 / (vi + tau2)
    se = np.sqrt(2.0 * k ** 2 / (k - p) / np.sum(w) ** 2)
    return tau2, se, True, 0
