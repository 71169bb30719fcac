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


class ConvergenceError(RuntimeError):
    """An iterative tau^2 estimator did not converge (after step halving and the fallback)."""


def xtfx(X: np.ndarray | None, f: np.ndarray) -> np.ndarray:
    """M(f) = X' diag(f) X (p x p); for intercept only the 1 x 1 matrix [[sum(f)]]."""
    if X is None:
        return np.array([[f.sum()]])
    return X.T @ (X * f[:, None])


def xtf(X: np.ndarray | None, f: np.ndarray) -> np.ndarray:
    """X' f (length p)."""
    if X is None:
        return np.array([f.sum()])
    return X.T @ f


def xb(X: np.ndarray | None, beta: np.ndarray, k: int) -> np.ndarray:
    """Fitted values X b (length k)."""
    if X is None:
        return np.full(k, beta[0])
    return X @ beta


def wls(yi: np.ndarray, X: np.ndarray | None, w: np.ndarray):
    """Weighted least squares: b = (X'WX)^-1 X'Wy. Returns (beta, B, resid)."""
    B = np.linalg.inv(xtfx(X, w))
    beta = B @ xtf(X, w * yi)
    return beta, B, yi - xb(X, beta, yi.shape[0])


def tr_p(w, X, B) -> float:
    """tr(P) = sum(w) - tr(B X'W^2X)."""
    return float(w.sum() - np.sum(B * xtfx(X, w * w)))


def tr_pdpe(w, X, B, d, e) -> float:
    """tr(P D P E) for diagonal D, E (see the module docstring)."""
    m_d = B @ xtfx(X, w * w * d)
    m_e = B @ xtfx(X, w * w * e)
    return float(np.sum(w * w * d * e) - 2.0 * np.sum(B * xtfx(X, w ** 3 * d * e)) + np.sum(m_d * m_e.T))


def q_stat(yi, vi, X, tau2: float) -> float:
    """Generalised Q: y'P(tau^2)y = sum w (y - Xb)^2 with w = 1/(vi + tau^2)."""
    w = 1.0 / (vi + tau2)
    _, _, r = wls(yi, X, w)
    return float(np.sum(w * r * r))


def restricted_ll(yi, vi, X, tau2: float, *, reml: bool = True) -> float:
    """Log-likelihood as metafor's ll.ML / ll.REML (REMLf=TRUE adds +1/2 log|X'X|)."""
    k = yi.shape[0]
    w = 1.0 / (vi + tau2)
    _, B, r = wls(yi, X, w)
    rss = np.sum(w * r * r)
    if not reml:
        return float(-0.5 * k * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + tau2)) - 0.5 * rss)
    p = B.shape[0]
    logdet_xwx = -np.linalg.slogdet(B)[1]
    logdet_xx = np.linalg.slogdet(xtfx(X, np.ones(k)))[1]
    return float(-0.5 * (k - p) * np.log(2 * np.pi) + 0.5 * logdet_xx
                 - 0.5 * np.sum(np.log(vi + tau2)) - 0.5 * logdet_xwx - 0.5 * rss)


def _centered(yi):
    return yi - yi.mean()


def tau2_closed_form(method: str, yi, vi, X, p: int):
    """Non-iterative estimators. Returns (tau2, se_tau2, extra) as metafor's rma.uni."""
    k = yi.shape[0]
    ones = np.ones(k)
    if method in ("DL", "HS"):
        w = 1.0 / vi
        _, B, r = wls(yi, X, w)
        rss = np.sum(w * r * r)
        trP = tr_p(w, X, B)
        trPP = tr_pdpe(w, X, B, ones, ones)
        if method == "DL":
            tau2 = max(0.0, (rss - (k - p)) / trP)  # DerSimonian & Laird 1986, eq. 8 (general X)
            se = np.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / trP ** 2)
        else:
            sw = w.sum()
            tau2 = max(0.0, (rss - k) / sw)  # Hunter & Schmidt 2004; metafor's (RSS - k)/sum(wi)
            se = np.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / sw ** 2)
        return tau2, se
    if method == "HE":
        w = ones
        _, B, r = wls(yi, X, w)
        rss = np.sum(r * r)
        trPV = float(np.sum(vi) - np.sum(B * xtfx(X, vi)))
        tau2 = max(0.0, (rss - trPV) / (k - p))  # Hedges 1983; Hedges & Olkin 1985 (OLS residuals)
        trPVPV = tr_pdpe(w, X, B, vi, vi)
        se = np.sqrt((2 * trPVPV + 4 * tau2 * trPV + 2 * tau2 ** 2 * (k - p)) / (k - p) ** 2)
        return tau2, se
    if method == "SJ":
        # Sidik & Jonkman 2005: tau0 = var(y) (k-1)/k, then tau0 * y'P(tau0)y / (k - p)
        tau0 = float(np.var(_centered(yi))) if X is None else _sj_start(yi, X)
        w = 1.0 / (vi + tau0)
        _, B, r = wls(yi, X, w)
        rss = np.sum(w * r * r)
        tau2 = tau0 * rss / (k - p)
        trPVPV = tr_pdpe(w, X, B, vi, vi)
        trPVP = tr_pdpe(w, X, B, vi, ones)
        trPP = tr_pdpe(w, X, B, ones, ones)
        se = np.sqrt(tau0 ** 2 / (k - p) ** 2 * (2 * trPVPV + 4 * tau2 * trPVP + 2 * tau2 ** 2 * trPP))
        return tau2, se
    raise AssertionError(method)


def _sj_start(yi, X):
    # metafor: var(yi - mean(yi)) * (k - 1) / k, the same for any X
    return float(np.var(yi))


def he_start(yi, vi, X, p: int) -> float:
    """Hedges (HE) estimate truncated at 0: metafor's starting value for ML/REML/EB."""
    return tau2_closed_form("HE", yi, vi, X, p)[0]


def _score_info(method: str, yi, vi, X, tau2: float, *, newton: bool = False):
    """Twice the score and twice the (Fisher, or with ``newton`` observed) information of tau^2.

    REML: 2 dl/dtau2 = y'PPy - tr(P), Fisher 2 I = tr(PP), observed 2 J = 2 y'PPPy - tr(PP);
    ML:   2 dl/dtau2 = y'PPy - sum(w), Fisher 2 I = sum(w^2), observed 2 J = 2 y'PPPy - sum(w^2)
    (Viechtbauer 2005, eqs. 10-11; Harville 1977). Py = w r with the WLS residuals r.
    """
    w = 1.0 / (vi + tau2)
    _, B, r = wls(yi, X, w)
    u = w * r  # P y
    if method == "ML":
        num = np.sum(u * u) - w.sum()
        fisher = np.sum(w * w)
    else:
        num = np.sum(u * u) - tr_p(w, X, B)
        one = np.ones_like(w)
        fisher = tr_pdpe(w, X, B, one, one)
    if not newton:
        return num, fisher
    xu = xtf(X, w * u)
    yppp = np.sum(w * u * u) - xu @ B @ xu  # y'PPPy = u'Pu
    observed = 2.0 * yppp - fisher
    return num, observed if observed > 0 else fisher


def fisher_scoring(method: str, yi, vi, X, p: int, tau2_init: float):
    """ML or REML by Newton-Raphson (Fisher scoring where the observed information is not
    positive) with step halving on the likelihood and tau^2 >= 0.

    Falls back to Brent's method on the score when scoring does not settle. Returns
    (tau2, iterations). Raises ConvergenceError if neither converges.
    """
    reml = method == "REML"
    tau2 = max(0.0, tau2_init)
    ll = restricted_ll(yi, vi, X, tau2, reml=reml)
    newton = False
    for it in range(1, MAXITER + 1):
        # Fisher scoring (metafor's path, so the same mode of a multimodal likelihood is reached)
        # until the steps are small, then Newton for quadratic convergence
        num, den = _score_info(method, yi, vi, X, tau2, newton=newton)
        step = num / den
        new = max(0.0, tau2 + step)
        ll_new = restricted_ll(yi, vi, X, new, reml=reml)
        halvings = 0
        while ll_new < ll - 1e-13 * abs(ll) and halvings < 60:  # damp an overshooting step
            step *= 0.5
            new = max(0.0, tau2 + step)
            ll_new = restricted_ll(yi, vi, X, new, reml=reml)
            halvings += 1
        change = abs(new - tau2)
        tau2, ll = new, ll_new
        newton = newton or change <= 1e-3 * max(1.0, tau2)
        if change <= TOL * max(1.0, tau2):
            return tau2, it
    return _score_root(method, yi, vi, X), MAXITER


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
        tau2, it = fisher_scoring(method, yi, vi, X, p, he_start(yi, vi, X, p))
        w = 1.0 / (vi + tau2)
        if method == "ML":
            se = np.sqrt(2.0 / np.sum(w * w))
        else:
            _, B, _ = wls(yi, X, w)
            one = np.ones(k)
            se = np.sqrt(2.0 / tr_pdpe(w, X, B, one, one))
        return tau2, se, True, it
    # PM (Paule & Mandel 1982) and EB (Morris 1983) solve the same equation Q(tau^2) = k - p
    tau2 = q_root(yi, vi, X, k - p)
    w = 1.0 / (vi + tau2)
    se = np.sqrt(2.0 * k ** 2 / (k - p) / np.sum(w) ** 2)
    return tau2, se, True, 0
