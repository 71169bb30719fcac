"""Bayesian random-effects meta-analysis by numerical integration, as R's ``bayesmeta``.

The normal-normal hierarchical model y_i ~ N(theta_i, s_i^2), theta_i ~ N(mu, tau^2), with
independent priors p(mu) p(tau), is solved without MCMC (Roever 2020, J Stat Softw 93(6),
doi:10.18637/jss.v093.i06): given tau, mu is normal in closed form, so the posterior is a
one-dimensional integral over tau. Here that integral is Gauss-Legendre quadrature on panels placed
at the quantiles of a coarse first pass, which turns every posterior (mu, a new study's theta,
each study's shrunken theta_i) into a normal mixture with exact CDFs and densities. bayesmeta
instead bounds the divergence of its mixture (its ``delta``/``epsilon``); the two agree to the
digits its vignette prints (tests/test_bayes.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from evidence_kit._core.validate import check_choice, check_rows, get_column, row_labels
from evidence_kit.synthesis._design import numeric_column

__all__ = ["BayesMetaResult", "bayes_meta_analysis", "TAU_PRIORS", "MU_PRIORS", "DEFAULT_TAU_SCALE"]

TAU_PRIORS = ("half-normal", "half-cauchy", "uniform", "jeffreys")
_TAU_ALIASES = {"halfnormal": "half-normal", "half_normal": "half-normal", "halfcauchy": "half-cauchy",
                "half_cauchy": "half-cauchy"}
MU_PRIORS = ("uniform", "normal")

# Default half-normal scale when tau_scale is None, by effect measure. Log odds ratios: HN(0.5)
# puts 5% prior probability on tau > 1 (Spiegelhalter, Abrams & Myles 2004, as summarised in the
# sl4bayesmeta documentation of pri_par_adjust_static; Roever et al. 2021, Res Synth Methods
# 12:448, discuss such weakly informative priors). Standardised mean differences: the same scale,
# which on the log-OR scale (ln OR = d pi/sqrt(3), Borenstein et al. 2009, eq. 7.3; as
# ``conversions.d_to_log_or``) is HN(0.91), between the HN(0.5)
# and HN(1) of that rule, i.e. no less conservative. Other measures need an explicit tau_scale.
DEFAULT_TAU_SCALE = {"OR": 0.5, "PETO": 0.5, "SMD": 0.5, "SMDH": 0.5, "SMCC": 0.5, "SMCR": 0.5}

SUMMARY_COLUMNS = ["mode", "median", "mean", "sd", "ci_lower", "ci_upper", "shortest_lower", "shortest_upper"]

_LOG_2PI = math.log(2 * math.pi)
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)  # per panel: 1e-11 of a 48-point rule on the test cases
# Panel edges at these posterior probabilities of the first (coarse) pass.
_PANEL_PROBS = np.array([1e-9, 1e-6, 1e-4, 0.003, 0.03, 0.12, 0.3, 0.5, 0.7, 0.88, 0.97, 0.997, 1 - 1e-4,
                         1 - 1e-6, 1 - 1e-9])
_MAXITER = 200


def _conditional(tau, yi, vi, mu_mean, mu_sd):
    """log p(y | tau) with mu integrated over its prior, and mu | tau, y ~ N(m, V), for a 1-d tau.

    With w_i = 1/(s_i^2 + tau^2) and a N(mu_0, sigma_0^2) prior counted as one more observation
    (none under the uniform prior): V = 1/(sum w_i + 1/sigma_0^2), m = V (sum w_i y_i + mu_0/sigma_0^2).
    Integrating mu out of prod N(y_i; mu, 1/w_i) p(mu), by completing the square in mu:
    uniform:  log p(y|tau) = -(k-1)/2 log 2pi + 1/2 sum log w_i + 1/2 log V - Q/2,
    normal:   log p(y|tau) = -k/2 log 2pi + 1/2 sum log w_i + 1/2 log(V/sigma_0^2) - Q/2,
    with Q = sum w_i (y_i - m)^2 + (m - mu_0)^2/sigma_0^2. Returns (log p(y|tau), m, V, w).
    """
    d = vi[None, :] + (tau * tau)[:, None]
    w = 1.0 / d
    sw = w.sum(axis=1)
    swy = w @ yi
    if mu_sd is not None:
        p0 = 1.0 / (mu_sd * mu_sd)
        sw = sw + p0
        swy = swy + p0 * mu_mean
    V = 1.0 / sw  # the random-effects (precision-weighted) variance at this tau
    m = swy * V  # the random-effects estimate at this tau
    r = yi[None, :] - m[:, None]
    ll = -0.5 * np.log(d).sum(axis=1) + 0.5 * np.log(V) - 0.5 * np.einsum("ij,ij->i", w, r * r)
    k = yi.shape[0]
    if mu_sd is not None:
        ll += -0.5 * k * _LOG_2PI - math.log(mu_sd) - 0.5 * p0 * (m - mu_mean) ** 2
    else:
        ll += -0.5 * (k - 1) * _LOG_2PI
    return ll, m, V, w


# ----- priors ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _TauPrior:
    """A prior for tau: name, scale (None for improper uniform and Jeffreys) and log density."""

    name: str
    scale: float | None

    @property
    def proper(self) -> bool:
        return self.name in ("half-normal", "half-cauchy") or (self.name == "uniform" and self.scale is not None)

    @property
    def upper(self) -> float:
        return self.scale if self.name == "uniform" and self.scale is not None else math.inf

    @property
    def tail(self) -> float:
        """Polynomial decay of the density as tau -> inf (inf when lighter than any power)."""
        return {"half-normal": math.inf, "half-cauchy": 2.0, "jeffreys": 1.0}.get(
            self.name, math.inf if self.scale is not None else 0.0)

    def logpdf(self, tau: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        s = self.scale
        if self.name == "half-normal":
            return 0.5 * math.log(2 / math.pi) - math.log(s) - 0.5 * (tau / s) ** 2  # 2 N(tau; 0, s^2)
        if self.name == "half-cauchy":
            return math.log(2 / math.pi) - math.log(s) - np.log1p((tau / s) ** 2)  # 2 Cauchy(tau; 0, s)
        if self.name == "uniform":
            if s is None:
                return np.zeros_like(tau)  # improper p(tau) = 1
            return np.where(tau <= s, -math.log(s), -np.inf)
        # Jeffreys: sqrt of the Fisher information of tau in y_i ~ N(mu, s_i^2 + tau^2),
        # I(tau) = 2 sum tau^2 w_i^2 with w_i = 1/(s_i^2 + tau^2) (derivation in Notes); improper.
        with np.errstate(divide="ignore"):
            return np.log(tau) + 0.5 * np.log(np.einsum("ij,ij->i", w, w).reshape(tau.shape))

    def dlogpdf(self, tau: np.ndarray, w: np.ndarray) -> np.ndarray:
        """d log p(tau)/d tau (w as in ``logpdf``)."""
        s = self.scale
        if self.name == "half-normal":
            return -tau / (s * s)
        if self.name == "half-cauchy":
            return -2 * tau / (s * s + tau * tau)
        if self.name == "uniform":
            return np.zeros_like(tau)
        with np.errstate(divide="ignore"):  # Jeffreys: 1/tau - 2 tau sum w^3 / sum w^2
            return 1 / tau - 2 * tau * (w**3).sum(axis=1) / (w * w).sum(axis=1)

    def describe(self) -> str:
        if self.name == "half-normal":
            return f"half-normal(scale = {self.scale:g})"
        if self.name == "half-cauchy":
            return f"half-Cauchy(scale = {self.scale:g})"
        if self.name == "uniform":
            return "uniform(0, inf), improper" if self.scale is None else f"uniform(0, {self.scale:g})"
        return "Jeffreys (sqrt of the Fisher information of tau), improper"


# ----- the one-dimensional posterior of tau ---------------------------------------------------

class _TauPosterior:
    """p(tau | y) by Gauss-Legendre quadrature, and p(mu | tau, y) at the quadrature nodes.

    ``nodes``, ``mass`` (posterior probability carried by each node, summing to 1), ``cond_mean``
    and ``cond_var`` (of mu given tau) define every mixture; ``cdf``/``quantile`` integrate the
    density again on sub-panels, so they are exact to quadrature precision at any tau.
    """

    def __init__(self, yi, vi, prior: _TauPrior, mu_mean: float | None, mu_sd: float | None):
        self.yi, self.vi, self.prior = yi, vi, prior
        self.mu_mean, self.mu_sd = mu_mean, mu_sd
        self.k = yi.shape[0]
        self.upper = prior.upper
        self._place_panels()
        u = self._u_nodes()
        tau, jac = self.tau_of_u(u)
        lp, m, V = self.evaluate(tau)
        self.shift = float(np.max(lp))
        raw = np.repeat(self.half_widths, _GL_NODES.size) * np.tile(_GL_WEIGHTS, self.half_widths.size) * jac
        dens = np.exp(lp - self.shift) * raw
        total = float(dens.sum())
        self.log_norm = self.shift + math.log(total)  # log of the integral of p(tau) p(y | tau)
        self.nodes, self.mass = tau, dens / total
        self.cond_mean, self.cond_var = m, V
        self.cum = np.concatenate([[0.0], np.cumsum(self.mass.reshape(-1, _GL_NODES.size).sum(axis=1))])
        self.cum[-1] = 1.0

    # -- model --
    def evaluate(self, tau):
        """Unnormalised log posterior of tau (log prior + log p(y | tau)), and m(tau), V(tau)."""
        tau = np.asarray(tau, dtype=float)
        ll, m, V, w = _conditional(tau.reshape(-1), self.yi, self.vi, self.mu_mean, self.mu_sd)
        lp = ll + self.prior.logpdf(tau.reshape(-1), w)
        return lp.reshape(tau.shape), m.reshape(tau.shape), V.reshape(tau.shape)

    def score(self, tau):
        """d log p(tau | y)/d tau. With t2 = tau^2: d log p(y|tau)/d t2 = -sum w_i/2 + V sum w_i^2/2
        + sum w_i^2 (y_i - m)^2/2 (dV/dt2 = V^2 sum w_i^2; dQ/dt2 by the envelope theorem)."""
        tau = np.asarray(tau, dtype=float).reshape(-1)
        _, m, V, w = _conditional(tau, self.yi, self.vi, self.mu_mean, self.mu_sd)
        w2 = w * w
        r = self.yi[None, :] - m[:, None]
        dt2 = -0.5 * w.sum(axis=1) + 0.5 * V * w2.sum(axis=1) + 0.5 * np.einsum("ij,ij->i", w2, r * r)
        return 2 * tau * dt2 + self.prior.dlogpdf(tau, w)

    def loglik0(self) -> float:
        """log p(y | tau = 0), mu integrated over its prior."""
        return float(_conditional(np.zeros(1), self.yi, self.vi, self.mu_mean, self.mu_sd)[0][0])

    # -- coordinates: tau = T u/(1 - u) on [0, inf), tau = U u on a bounded support --
    def tau_of_u(self, u):
        if math.isinf(self.upper):
            T = self.T
            one = 1.0 - u
            return T * u / one, T / (one * one)
        return self.upper * u, np.full_like(u, self.upper)

    def u_of_tau(self, tau):
        if math.isinf(self.upper):
            return tau / (tau + self.T)
        return tau / self.upper

    def _place_panels(self):
        """First pass on a log grid: the posterior's quantiles become the panel edges."""
        scale = self.upper if not math.isinf(self.upper) else math.sqrt(float(np.median(self.vi)))
        lo = 1e-9 if not math.isinf(self.upper) else 1e-6
        hi = 1.0 if not math.isinf(self.upper) else 1e6
        grid = np.concatenate([[0.0], np.geomspace(lo * scale, hi * scale, 481)])
        lp, _, _ = self.evaluate(grid)
        dens = np.exp(lp - np.max(lp[np.isfinite(lp)]))
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
        if not cdf[-1] > 0:
            raise ValueError("the posterior of tau could not be located (the likelihood underflows everywhere)")
        cdf /= cdf[-1]
        edges_tau = np.interp(_PANEL_PROBS, cdf, grid)
        med = float(np.interp(0.5, cdf, grid))
        self.T = med if med > 0 else scale
        u = np.unique(np.clip(self.u_of_tau(edges_tau), 0.0, 1.0))
        u = u[(u > 1e-14) & (u < 1 - 1e-14)]
        self.edges = np.concatenate([[0.0], u, [1.0]])
        self.half_widths = 0.5 * np.diff(self.edges)

    def _u_nodes(self):
        mid = 0.5 * (self.edges[1:] + self.edges[:-1])
        return (mid[:, None] + self.half_widths[:, None] * _GL_NODES[None, :]).ravel()

    # -- distribution functions --
    def pdf(self, tau):
        tau = np.asarray(tau, dtype=float)
        out = np.zeros_like(tau)
        inside = (tau >= 0) & (tau <= self.upper)
        if inside.any():
            lp, _, _ = self.evaluate(tau[inside])
            out[inside] = np.exp(lp - self.log_norm)
        return out

    def _cdf_u(self, u):
        """P(tau <= tau(u)) and its derivative in u, for u in [0, 1]."""
        u = np.asarray(u, dtype=float)
        idx = np.clip(np.searchsorted(self.edges, u, side="right") - 1, 0, self.half_widths.size - 1)
        a = self.edges[idx]
        half = 0.5 * (u - a)
        pts = (a + half)[..., None] + half[..., None] * _GL_NODES
        tau, jac = self.tau_of_u(np.minimum(pts, 1 - 1e-300))
        lp, _, _ = self.evaluate(tau)
        part = np.sum(np.exp(lp - self.log_norm) * jac * _GL_WEIGHTS, axis=-1) * half
        t_u, j_u = self.tau_of_u(np.minimum(u, 1 - 1e-300))
        return np.clip(self.cum[idx] + part, 0.0, 1.0), self.pdf(t_u) * j_u

    def cdf(self, tau):
        tau = np.asarray(tau, dtype=float)
        u = np.clip(self.u_of_tau(np.maximum(tau, 0.0)), 0.0, 1.0)
        out = self._cdf_u(u)[0]
        return np.where(tau >= self.upper, 1.0, np.where(tau < 0, 0.0, out))

    def quantile(self, p, x0=None):
        """Quantiles by Newton in u within the panel holding p (from x0, a tau, when given)."""
        p = np.asarray(p, dtype=float)
        flat = p.reshape(-1)
        idx = np.clip(np.searchsorted(self.cum, flat, side="right") - 1, 0, self.half_widths.size - 1)
        lo, hi = self.edges[idx].copy(), self.edges[idx + 1].copy()

        def fun(u):
            F, f = self._cdf_u(u)
            return F - flat, f

        u0 = None if x0 is None else self.u_of_tau(np.asarray(x0, dtype=float).reshape(-1))
        u = _newton_bracketed(fun, lo, hi, xtol=1e-15, ftol=1e-15, x0=u0)
        tau = self.tau_of_u(np.minimum(u, 1 - 1e-16))[0]
        tau = np.where(flat <= 0, 0.0, np.where(flat >= 1, self.upper, tau))
        return tau.reshape(p.shape)

    def mode(self) -> float:
        """The highest local maximum: 0 when the score d log p(tau | y)/d tau starts <= 0, each
        +/- sign change of the score over the nodes (refined by Brent's method) and a finite upper
        bound where the score is still positive; ties within round-off go to the smallest."""
        pts = np.concatenate([[1e-12 * self.T], self.nodes])
        g = self.score(pts)
        cands = [0.0] if g[0] <= 0 else []
        for i in np.flatnonzero((g[:-1] > 0) & (g[1:] <= 0)):
            cands.append(optimize.brentq(lambda t: float(self.score(np.array([t]))[0]), pts[i], pts[i + 1],
                                         xtol=1e-14 * pts[i + 1], rtol=1e-15))
        if g[-1] > 0:
            cands.append(self.upper if not math.isinf(self.upper) else float(self.nodes[-1]))
        lp = self.evaluate(np.array(cands))[0]
        # the first candidate within 1e-12 of the best log density (the posterior can be flat to
        # round-off near 0, where the score's sign is noise)
        return float(cands[int(np.flatnonzero(lp >= lp.max() - 1e-12)[0])])

    def shortest(self, level: float) -> tuple[float, float]:
        """Shortest interval with probability ``level``: [0, q(level)] when the density at 0 is at
        least that at q(level); otherwise the lower-tail probability a where the ends lo = q(a),
        hi = q(a + level) have equal density: Newton on g(a) = f(lo) - f(hi), whose derivative is
        score(lo) - score(hi) since dq/da = 1/f(q) and f'/f is the score."""
        q_hi = float(self.quantile(np.array([level]))[0])
        if self.pdf(np.array([0.0]))[0] >= self.pdf(np.array([q_hi]))[0]:
            return 0.0, q_hi
        last = {}

        def fun(a):
            lo = self.quantile(a, last.get("lo"))
            hi = self.quantile(a + level, last.get("hi"))
            last["lo"], last["hi"] = lo, hi
            f_lo, f_hi = self.pdf(lo), self.pdf(hi)
            s_lo, s_hi = self.score(lo), self.score(hi)
            return f_lo - f_hi, s_lo - s_hi

        eps = 1e-12
        _newton_bracketed(fun, np.array([eps]), np.array([1 - level - eps]), xtol=1e-14,
                          x0=np.array([(1 - level) / 2]))
        return float(last["lo"][0]), float(last["hi"][0])


# ----- normal mixtures: mu, a new study's theta, each study's theta_i --------------------------

class _Mixture:
    """d distributions sum_j w_j N(M[r, j], S[r, j]^2), vectorised over rows r."""

    def __init__(self, w, M, S):
        self.w, self.M, self.S = w, M, S

    def _z(self, x):
        x = np.asarray(x, dtype=float)
        xx = x[..., None] if x.ndim == 2 else x[:, None]
        M = self.M[:, None, :] if x.ndim == 2 else self.M
        S = self.S[:, None, :] if x.ndim == 2 else self.S
        return (xx - M) / S, S

    def cdf(self, x):
        z, _ = self._z(x)
        return np.sum(self.w * special.ndtr(z), axis=-1)

    def sf(self, x):
        z, _ = self._z(x)
        return np.sum(self.w * special.ndtr(-z), axis=-1)

    def pdf(self, x):
        z, S = self._z(x)
        return np.sum(self.w * np.exp(-0.5 * z * z) / S, axis=-1) / math.sqrt(2 * math.pi)

    def cdf_pdf(self, x):
        z, S = self._z(x)
        return (np.sum(self.w * special.ndtr(z), axis=-1),
                np.sum(self.w * np.exp(-0.5 * z * z) / S, axis=-1) / math.sqrt(2 * math.pi))

    def _derivs(self, x):
        """Density and its first two derivatives at x."""
        z, S = self._z(x)
        phi = self.w * np.exp(-0.5 * z * z) / (S * math.sqrt(2 * math.pi))
        zs = z / S
        return phi.sum(axis=-1), -np.sum(phi * zs, axis=-1), np.sum(phi * (zs * zs - 1 / (S * S)), axis=-1)

    def _scale(self):
        """The sd of the heaviest component: the scale for tolerances (the largest can be huge)."""
        return self.S[:, int(np.argmax(self.w))]

    def mean(self):
        return self.M @ self.w

    def sd(self):
        dev = self.M - self.mean()[:, None]  # centred: no cancellation when the sd is small
        return np.sqrt((self.S**2 + dev * dev) @ self.w)

    def quantile(self, p, x0=None):
        """Quantiles: p of shape (d,) (one per row) or (d, q). The bracket is exact: every
        component's own p-quantile lies between the smallest and the largest, so the mixture's does.
        Newton starts at x0, by default the quantile of the normal with the mixture's mean and sd."""
        p = np.asarray(p, dtype=float)
        z = special.ndtri(np.clip(p, 1e-300, 1 - 1e-16))[..., None]
        M = self.M if p.ndim == 1 else self.M[:, None, :]
        S = self.S if p.ndim == 1 else self.S[:, None, :]
        lo = np.min(M + z * S, axis=-1)
        hi = np.max(M + z * S, axis=-1)
        xtol = 1e-13 * self._scale()
        xtol = xtol if p.ndim == 1 else xtol[:, None]

        if x0 is None:
            mean, sd = self.mean(), self.sd()
            x0 = (mean + sd * z[..., 0]) if p.ndim == 1 else (mean[:, None] + sd[:, None] * z[..., 0])

        def fun(x):
            F, f = self.cdf_pdf(x)
            return F - p, f

        x = _newton_bracketed(fun, lo, hi, xtol=xtol, x0=x0)
        return np.where(p <= 0, -np.inf, np.where(p >= 1, np.inf, x))

    def mode(self, x0=None):
        """Modes by Newton on the density's derivative from x0 (e.g. the median); every mode of a
        normal mixture lies between its smallest and largest component mean."""
        lo, hi = np.min(self.M, axis=1), np.max(self.M, axis=1)
        lo, hi = lo - 1e-12 * (1 + np.abs(lo)), hi + 1e-12 * (1 + np.abs(hi))

        def fun(x):
            _, d1, d2 = self._derivs(x)
            return -d1, -d2

        return _newton_bracketed(fun, lo, hi, xtol=1e-13 * self._scale(), x0=x0)

    def shortest(self, level):
        """Shortest intervals: the lower-tail probability a where h(a) = f(q(a + level)) - f(q(a))
        vanishes (equal density at both ends), by Newton on a with dh/da = f'(u)/f(u) - f'(l)/f(l)
        (dq/da = 1/f(q)), from the central interval."""
        d = self.M.shape[0]
        last = {}

        def fun(a):  # -h is increasing in a; the quantiles are warm-started from the previous step
            lo = self.quantile(a, last.get("lo"))
            hi = self.quantile(a + level, last.get("hi"))
            last["lo"], last["hi"] = lo, hi
            f, d1, _ = self._derivs(np.stack([lo, hi], axis=1))
            return f[:, 0] - f[:, 1], d1[:, 0] / f[:, 0] - d1[:, 1] / f[:, 1]

        eps = 1e-12
        _newton_bracketed(fun, np.full(d, eps), np.full(d, 1 - level - eps), xtol=1e-13,
                          x0=np.full(d, (1 - level) / 2))
        return last["lo"], last["hi"]


# ----- root finding (vectorised) --------------------------------------------------------------

def _newton_bracketed(fun, lo, hi, *, xtol, ftol=0.0, x0=None, maxiter=_MAXITER):
    """Solve g(x) = 0 for increasing g on [lo, hi], elementwise: Newton steps from x0 (default the
    midpoint), bisection of the bracket when a step leaves it (or points the wrong way, where g is
    not locally increasing); stops when the step is below xtol or |g| <= ftol. ``fun`` returns
    (g, g')."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    x = 0.5 * (lo + hi) if x0 is None else np.clip(np.broadcast_to(x0, lo.shape), lo, hi)
    for _ in range(maxiter):
        g, dg = fun(x)
        neg = g < 0
        lo = np.where(neg, x, lo)
        hi = np.where(neg, hi, x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = g / dg
        small = np.abs(step) <= xtol
        xn = x - step
        ok = small | ((xn > lo) & (xn < hi))
        xn = np.where(ok, xn, 0.5 * (lo + hi))
        done = small | (np.abs(g) <= ftol) | (hi - lo <= xtol)
        x = np.where(g == 0, x, xn)
        if np.all(done):
            break
    return x


# ----- the result ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False, repr=False)
class BayesMetaResult:
    """A Bayesian random-effects meta-analysis (R's ``bayesmeta`` object).

    What the user chose is echoed (priors, ``level``, ``threshold``); everything else is the
    posterior. Numbers are stored at full precision; only the display rounds.

    Fields
    ------
    k : int                     studies used
    level : float               credibility level in percent
    tau_prior, tau_scale        "half-normal", "half-cauchy", "uniform", "jeffreys" or "fixed"
                                (point mass at tau_scale); the prior's scale (half-normal sd,
                                half-Cauchy scale, uniform upper bound; None if improper)
    mu_prior, mu_prior_mean, mu_prior_sd    "uniform" (improper) or "normal"
    threshold : float | None    the effect size whose exceedance probabilities are reported
    summary : DataFrame         rows tau, mu, theta_new (a new study's true effect: the posterior
                                predictive); columns mode, median, mean, sd, ci_lower, ci_upper
                                (equal-tailed credible interval), shortest_lower, shortest_upper
    shrinkage : DataFrame       one row per study: yi, se and the same columns for theta_i
    probabilities : DataFrame   rows "> 0", and with a threshold t "> t" and "< -t"; columns mu,
                                theta_new: posterior probabilities of those events
    bayes_factor_tau0 : float   BF01 of tau = 0 against the tau prior (NaN for improper tau priors)
    bayes_factor_mu0 : float    BF01 of mu = 0 against the normal mu prior (NaN for uniform)
    log_marginal_likelihood     log p(y) (NaN unless both priors are proper)
    yi, vi, slab, omitted       the data used and the labels of rows dropped for missing values
    measure : str | None        effect measure if known
    tau_nodes, tau_weights      quadrature nodes of p(tau | y) and the probability each carries
    mu_cond_mean, mu_cond_var   mean and variance of p(mu | tau, y) at those nodes
    """

    k: int
    level: float
    tau_prior: str
    tau_scale: float | None
    mu_prior: str
    mu_prior_mean: float | None
    mu_prior_sd: float | None
    threshold: float | None
    summary: pd.DataFrame
    shrinkage: pd.DataFrame
    probabilities: pd.DataFrame
    bayes_factor_tau0: float
    bayes_factor_mu0: float
    log_marginal_likelihood: float
    yi: np.ndarray
    vi: np.ndarray
    slab: np.ndarray
    omitted: np.ndarray
    measure: str | None
    tau_nodes: np.ndarray
    tau_weights: np.ndarray
    mu_cond_mean: np.ndarray
    mu_cond_var: np.ndarray
    _post: _TauPosterior | None = field(default=None, repr=False)
    _prior: _TauPrior | None = field(default=None, repr=False)

    # -- conditional and marginal distributions --
    def conditional_mu(self, tau) -> pd.DataFrame:
        """Mean and sd of p(mu | tau, y) at each tau: the random-effects estimate and its standard
        error at that fixed tau (with the normal prior as one more observation)."""
        tau = np.atleast_1d(np.asarray(tau, dtype=float)).ravel()
        _, m, V, _ = _conditional(tau, self.yi, self.vi, self.mu_prior_mean, self.mu_prior_sd)
        return pd.DataFrame({"tau": tau, "mean": m, "sd": np.sqrt(V)})

    def _mixture(self, parameter) -> _Mixture:
        w, t = self.tau_weights, self.tau_nodes
        m, V = self.mu_cond_mean, self.mu_cond_var
        if parameter == "mu":
            return _Mixture(w, m[None, :], np.sqrt(V)[None, :])
        if parameter == "theta_new":
            return _Mixture(w, m[None, :], np.sqrt(V + t * t)[None, :])
        i = self._study_index(parameter)
        return _theta_mixture(self.yi[i:i + 1], self.vi[i:i + 1], t, w, m, V)

    def _study_index(self, label) -> int:
        hits = np.flatnonzero(self.slab == label)
        if hits.size == 0:
            raise KeyError(f"unknown parameter {label!r}; expected 'mu', 'tau', 'theta_new' or a study label "
                           f"({', '.join(map(str, self.slab[:8]))}{' ...' if self.k > 8 else ''})")
        return int(hits[0])

    def density(self, x, parameter: str = "mu") -> np.ndarray:
        """Posterior density of ``parameter`` ("mu", "tau", "theta_new" or a study label) at x."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if parameter == "tau":
            if self._post is None:
                raise ValueError("tau has a point-mass prior: it has no density")
            return self._post.pdf(x)
        return self._mixture(parameter).pdf(x[None, :])[0]

    def cdf(self, x, parameter: str = "mu") -> np.ndarray:
        """Posterior distribution function P(parameter <= x)."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if parameter == "tau":
            if self._post is None:
                return (x >= self.tau_nodes[0]).astype(float)
            return self._post.cdf(x)
        return self._mixture(parameter).cdf(x[None, :])[0]

    def quantile(self, p, parameter: str = "mu") -> np.ndarray:
        """Posterior quantiles (p in [0, 1])."""
        p = np.atleast_1d(np.asarray(p, dtype=float))
        if np.any((p < 0) | (p > 1)):
            raise ValueError("probabilities must lie in [0, 1]")
        if parameter == "tau":
            if self._post is None:
                return np.full_like(p, self.tau_nodes[0])
            return self._post.quantile(p)
        return self._mixture(parameter).quantile(p[None, :])[0]

    def interval(self, parameter: str = "mu", *, level: float | None = None, kind: str = "shortest") -> tuple:
        """Credible interval: ``kind`` "shortest" (default, as bayesmeta) or "central"."""
        kind = check_choice("kind", kind, ("shortest", "central"))
        lev = (self.level if level is None else level) / 100
        if kind == "central":
            lo, hi = self.quantile([(1 - lev) / 2, (1 + lev) / 2], parameter)
            return float(lo), float(hi)
        if parameter == "tau":
            if self._post is None:
                return float(self.tau_nodes[0]), float(self.tau_nodes[0])
            return self._post.shortest(lev)
        lo, hi = self._mixture(parameter).shortest(lev)
        return float(lo[0]), float(hi[0])

    def prior_density(self, x, parameter: str = "tau") -> np.ndarray:
        """Prior density of tau or mu at x (a constant 1 for improper uniform priors)."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if parameter == "mu":
            if self.mu_prior_sd is None:
                return np.ones_like(x)
            z = (x - self.mu_prior_mean) / self.mu_prior_sd
            return np.exp(-0.5 * z * z) / (self.mu_prior_sd * math.sqrt(2 * math.pi))
        if parameter != "tau":
            raise ValueError("prior_density: parameter must be 'tau' or 'mu'")
        if self._prior is None:
            raise ValueError("tau has a point-mass prior: it has no density")
        d = self.vi[None, :] + (np.maximum(x, 0) ** 2)[:, None]
        with np.errstate(divide="ignore"):
            out = np.exp(self._prior.logpdf(np.maximum(x, 0), 1.0 / d))
        return np.where(x < 0, 0.0, out)

    # -- display --
    def __repr__(self) -> str:
        return _report_text(self)

    def _repr_html_(self) -> str:
        return _report_html(self)


def _theta_mixture(yi, vi, t, w, m, V) -> _Mixture:
    """p(theta_i | y) for studies i (rows): given tau, with B_i = s_i^2/(s_i^2 + tau^2),
    theta_i | tau, y ~ N(B_i m + (1 - B_i) y_i, (1 - B_i) s_i^2 + B_i^2 V): the conditional
    N(B_i mu + (1 - B_i) y_i, (1 - B_i) s_i^2) given mu, averaged over mu | tau ~ N(m, V)."""
    t2 = (t * t)[None, :]
    B = vi[:, None] / (vi[:, None] + t2)
    M = B * m[None, :] + (1 - B) * yi[:, None]
    S = np.sqrt((1 - B) * vi[:, None] + B * B * V[None, :])
    return _Mixture(w, M, S)


# ----- the entry point -------------------------------------------------------------------------

def bayes_meta_analysis(data=None, yi="yi", vi="vi", *, sei=None, slab=None, tau_prior="half-normal",
                        tau_scale: float | None = None, mu_prior: str | None = None, mu_prior_mean: float = 0.0,
                        mu_prior_sd: float | None = None, level: float = 95, threshold: float | None = None,
                        measure: str | None = None) -> BayesMetaResult:
    """Bayesian random-effects meta-analysis by numerical integration (R's ``bayesmeta``).

    Parameters
    ----------
    data : DataFrame, optional
        Table with the columns named below (e.g. the output of ``ek.effect_sizes``).
    yi, vi : str or array-like
        Effect sizes and sampling variances (column names or arrays).
    sei : str or array-like, optional
        Standard errors instead of ``vi`` (bayesmeta's ``sigma``).
    slab : str or array-like, optional
        Study labels (default: the index of ``data``).
    tau_prior : {"half-normal", "half-cauchy", "uniform", "jeffreys"} or float
        Prior for the heterogeneity SD tau. A number fixes tau at that value (a point mass; then
        the posterior of mu is the random-effects model's at that tau).
    tau_scale : float, optional
        Scale of the tau prior: the half-normal's sd, the half-Cauchy's scale, the uniform's upper
        bound (None: improper uniform on [0, inf)). Not used by "jeffreys". For the half-normal
        and half-Cauchy, None takes ``DEFAULT_TAU_SCALE[measure]`` (0.5 for log odds ratios and
        standardised mean differences); other measures must give it, on the outcome's scale.
    mu_prior : {"uniform", "normal"}, optional
        Improper uniform (default) or normal with ``mu_prior_mean`` and ``mu_prior_sd``; giving
        ``mu_prior_sd`` alone selects the normal prior.
    level : float
        Credibility level in percent for all intervals.
    threshold : float, optional
        An effect size of interest (e.g. 0.25, the What Works Clearinghouse's "substantively
        important" effect size): P(mu > t) and P(mu < -t) are reported, and the same for a new
        study's theta. P(> 0) is always reported.
    measure : str, optional
        Effect measure (e.g. "SMD", "OR"): sets the default tau_scale and is echoed.

    Returns
    -------
    BayesMetaResult

    Notes
    -----
    Model: y_i | theta_i ~ N(theta_i, s_i^2), theta_i | mu, tau ~ N(mu, tau^2), p(mu, tau) =
    p(mu) p(tau), hence y_i | mu, tau ~ N(mu, s_i^2 + tau^2) (bayesmeta documentation; Roever
    2020). Given tau the posterior of mu is normal, N(m(tau), V(tau)) with the random-effects
    weights w_i = 1/(s_i^2 + tau^2) (formulas in ``_TauPosterior.evaluate``), so

        p(tau | y) ∝ p(tau) p(y | tau),   p(mu | y) = ∫ N(mu; m(tau), V(tau)) p(tau | y) dtau,

    and the same mixture over tau gives a new study's theta, N(m, V + tau^2), and each study's
    shrinkage estimate theta_i (``_theta_mixture``). The tau integral uses 12-point Gauss-Legendre
    rules on panels cut at the posterior quantiles of a coarse first pass, after mapping
    [0, inf) to [0, 1) by tau = T u/(1 - u) (T the coarse posterior median).

    Jeffreys prior: for y_i ~ N(mu, s_i^2 + tau^2) the Fisher information of tau is
    I(tau) = sum (d sigma_i^2/d tau)^2 / (2 sigma_i^4) = 2 tau^2 sum w_i^2, so
    p(tau) ∝ tau sqrt(sum w_i^2) (the information matrix of (mu, tau) is diagonal).

    Bayes factors (Savage-Dickey): BF01(tau = 0) = p(y | tau = 0)/p(y) = p(tau = 0 | y)/p(tau = 0),
    defined for proper tau priors (an improper uniform mu prior cancels); BF01(mu = 0) =
    p(mu = 0 | y)/p(mu = 0) for a normal mu prior.

    The posterior is proper when the tau prior is, or when p(tau) ~ tau^-a with a + k - 1 > 1
    (uniform mu; k for a normal mu prior): the improper uniform needs k >= 3, Jeffreys k >= 2.
    Means (variances) of tau, of a new theta, and of mu under the uniform mu prior exist when that
    exponent exceeds 2 (3); otherwise they are reported as inf (tau) or NaN (mu, theta).

    Examples
    --------
    >>> import evidence_kit as ek
    >>> y = [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16]
    >>> s = [14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]
    >>> res = ek.bayes_meta_analysis(yi=y, sei=s, tau_prior="half-cauchy", tau_scale=25, mu_prior_sd=50)
    >>> float(round(res.summary.loc["mu", "median"], 3))
    7.963
    """
    y = numeric_column(data, yi, "yi")
    n = y.shape[0]
    if sei is not None:
        se = numeric_column(data, sei, "sei", n=n)
        check_rows((se <= 0) & ~np.isnan(se), "sei", "standard errors sei must be positive", se)
        v = se * se
    else:
        v = numeric_column(data, vi, "vi", n=n)
    labels = row_labels(data, n) if slab is None else get_column(data, slab, "slab", n=n, dtype=object)
    labels = np.asarray(labels, dtype=object)
    check_rows(~np.isfinite(y) & ~np.isnan(y), "yi", "yi must be finite", y, labels)
    check_rows((~np.isfinite(v) & ~np.isnan(v)) | (v <= 0), "vi", "sampling variances vi must be positive and finite",
               v, labels)
    miss = np.isnan(y) | np.isnan(v)
    omitted = labels[miss]
    y, v, labels = y[~miss], v[~miss], labels[~miss]
    k = y.shape[0]
    if k == 0:
        raise ValueError("no studies to pool: k = 0 after omitting rows with missing yi or vi")
    if not (isinstance(level, (int, float)) and 1 <= level < 100):
        raise ValueError(f"level must be a percentage between 1 and 100 (e.g. 95); got {level!r}")

    # priors
    if mu_prior is None:
        mu_prior = "uniform" if mu_prior_sd is None else "normal"
    mu_prior = check_choice("mu_prior", mu_prior, MU_PRIORS)
    if mu_prior == "normal":
        if mu_prior_sd is None or not (mu_prior_sd > 0 and math.isfinite(mu_prior_sd)):
            raise ValueError(f"the normal mu prior needs a positive, finite mu_prior_sd; got {mu_prior_sd!r}")
        mu_mean, mu_sd = float(mu_prior_mean), float(mu_prior_sd)
    else:
        if mu_prior_sd is not None:
            raise ValueError("mu_prior='uniform' takes no mu_prior_sd (give mu_prior='normal')")
        mu_mean, mu_sd = None, None

    fixed_tau = None
    if isinstance(tau_prior, (int, float, np.floating, np.integer)) and not isinstance(tau_prior, bool):
        fixed_tau = float(tau_prior)
        if not (fixed_tau >= 0 and math.isfinite(fixed_tau)):
            raise ValueError(f"a fixed tau must be finite and >= 0; got {tau_prior!r}")
        prior = None
        prior_name, prior_scale = "fixed", fixed_tau
    else:
        prior_name = check_choice("tau_prior", tau_prior, TAU_PRIORS, aliases=_TAU_ALIASES)
        prior_scale = _tau_scale(prior_name, tau_scale, measure)
        prior = _TauPrior(prior_name, prior_scale)
        _check_proper(prior, k, mu_sd is not None)

    if fixed_tau is not None:
        post = None
        nodes, weights = np.array([fixed_tau]), np.array([1.0])
        ll_fixed, m, V, _ = _conditional(nodes, y, v, mu_mean, mu_sd)
        exponent = math.inf
    else:
        post = _TauPosterior(y, v, prior, mu_mean, mu_sd)
        nodes, weights, m, V = post.nodes, post.mass, post.cond_mean, post.cond_var
        exponent = prior.tail + (k if mu_sd is not None else k - 1)  # p(tau | y) ~ tau^-exponent

    # mu, theta_new and the theta_i as one stack of normal mixtures over the tau nodes
    lev = level / 100
    th = _theta_mixture(y, v, nodes, weights, m, V)
    S_mu, S_new = np.sqrt(V), np.sqrt(V + nodes * nodes)
    mix = _Mixture(weights, np.vstack([m, m, th.M]), np.vstack([S_mu, S_new, th.S]))
    d = k + 2
    probs = np.array([0.5, (1 - lev) / 2, (1 + lev) / 2])
    med, lo_c, hi_c = mix.quantile(np.tile(probs, (d, 1))).T
    sh_lo, sh_hi = mix.shortest(lev)
    means, sds = mix.mean(), mix.sd()
    if exponent <= 3:  # variances that do not exist under heavy-tailed (improper) priors
        sds[1] = math.inf
        if mu_sd is None:
            sds[:] = math.inf
    if exponent <= 2:  # nor do means
        means[1] = math.nan
        if mu_sd is None:
            means[:] = math.nan
    rows = np.column_stack([mix.mode(med), med, means, sds, lo_c, hi_c, sh_lo, sh_hi])

    if post is None:
        tau_row = [fixed_tau] * 3 + [0.0] + [fixed_tau] * 4
    else:
        t_med, t_lo, t_hi = post.quantile(probs)
        t_mean = float(weights @ nodes) if exponent > 2 else math.inf
        t_sd = math.sqrt(float(weights @ (nodes - t_mean) ** 2)) if exponent > 3 else math.inf
        tau_row = [post.mode(), float(t_med), t_mean, t_sd, float(t_lo), float(t_hi), *post.shortest(lev)]
    summary = pd.DataFrame([tau_row, rows[0], rows[1]], columns=SUMMARY_COLUMNS,
                           index=pd.Index(["tau", "mu", "theta_new"], name="parameter"))
    shrink = pd.DataFrame(rows[2:], columns=SUMMARY_COLUMNS, index=pd.Index(labels, name="study"))
    shrink.insert(0, "se", np.sqrt(v))
    shrink.insert(0, "yi", y)

    # exceedance probabilities, P(> c) from the upper tails for accuracy
    two = _Mixture(weights, mix.M[:2], mix.S[:2])
    events = {"> 0": two.sf(np.zeros(2))}
    if threshold is not None:
        t = abs(float(threshold))
        events[f"> {t:g}"] = two.sf(np.full(2, t))
        events[f"< {-t:g}"] = two.cdf(np.full(2, -t))
    probabilities = pd.DataFrame.from_dict(events, orient="index", columns=["mu", "theta_new"])
    probabilities.index.name = "event"

    # Bayes factors (Savage-Dickey) and the marginal likelihood
    bf_tau0 = bf_mu0 = logml = math.nan
    if post is not None and prior.proper:
        bf_tau0 = math.exp(post.loglik0() - post.log_norm)  # p(y | tau = 0)/p(y)
        if mu_sd is not None:
            logml = post.log_norm
    elif post is None and mu_sd is not None:
        logml = float(ll_fixed[0])
    if mu_sd is not None:
        prior0 = math.exp(-0.5 * (mu_mean / mu_sd) ** 2) / (mu_sd * math.sqrt(2 * math.pi))
        bf_mu0 = float(two.pdf(np.zeros(2))[0]) / prior0  # p(mu = 0 | y)/p(mu = 0)

    return BayesMetaResult(
        k=k, level=float(level), tau_prior=prior_name, tau_scale=prior_scale, mu_prior=mu_prior,
        mu_prior_mean=mu_mean, mu_prior_sd=mu_sd, threshold=None if threshold is None else abs(float(threshold)),
        summary=summary, shrinkage=shrink, probabilities=probabilities, bayes_factor_tau0=bf_tau0,
        bayes_factor_mu0=bf_mu0, log_marginal_likelihood=logml, yi=y, vi=v, slab=labels, omitted=omitted,
        measure=measure, tau_nodes=nodes, tau_weights=weights, mu_cond_mean=m, mu_cond_var=V, _post=post,
        _prior=prior)


def _tau_scale(name, tau_scale, measure):
    if name == "jeffreys":
        if tau_scale is not None:
            raise ValueError("the Jeffreys prior has no scale: leave tau_scale=None")
        return None
    if tau_scale is not None:
        if not (tau_scale > 0 and math.isfinite(tau_scale)):
            raise ValueError(f"tau_scale must be positive and finite; got {tau_scale!r}")
        return float(tau_scale)
    if name == "uniform":
        return None  # improper uniform
    key = (measure or "").upper()
    if key in DEFAULT_TAU_SCALE:
        return DEFAULT_TAU_SCALE[key]
    raise ValueError(f"tau_scale is needed for a {name} prior on this outcome's scale (defaults exist for "
                     f"measure = {', '.join(DEFAULT_TAU_SCALE)}; e.g. 0.5 for log odds ratios or SMDs)")


def _check_proper(prior: _TauPrior, k: int, normal_mu: bool) -> None:
    if prior.proper:
        return
    exponent = prior.tail + (k if normal_mu else k - 1)
    if exponent <= 1:
        need = {"uniform": 3, "jeffreys": 2}[prior.name] - (1 if normal_mu else 0)
        raise ValueError(f"the {prior.name} tau prior gives an improper posterior with k = {k} studies "
                         f"(needs k >= {need}); use a proper prior such as half-normal")


# ----- display ------------------------------------------------------------------------------

def _fmt(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    if isinstance(x, float) and math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return f"{x:.{digits}f}"


def _prior_lines(res):
    tau = ("fixed at tau = " + _fmt(res.tau_scale) if res.tau_prior == "fixed" else res._prior.describe())
    mu = ("uniform(-inf, inf), improper" if res.mu_prior == "uniform"
          else f"normal(mean = {res.mu_prior_mean:g}, sd = {res.mu_prior_sd:g})")
    return [f"tau prior: {tau}", f"mu prior:  {mu}"]


def _summary_table(res, digits=4):
    s = res.summary
    tab = pd.DataFrame({
        "mode": [_fmt(v, digits) for v in s["mode"]], "median": [_fmt(v, digits) for v in s["median"]],
        "mean": [_fmt(v, digits) for v in s["mean"]], "sd": [_fmt(v, digits) for v in s["sd"]],
        "cri.lb": [_fmt(v, digits) for v in s["ci_lower"]], "cri.ub": [_fmt(v, digits) for v in s["ci_upper"]],
        "short.lb": [_fmt(v, digits) for v in s["shortest_lower"]],
        "short.ub": [_fmt(v, digits) for v in s["shortest_upper"]]}, index=s.index)
    tab.index.name = None
    return tab


def _prob_lines(res, digits=4):
    out = []
    for col, name in (("mu", "mu"), ("theta_new", "theta_new")):
        out.append("   ".join(f"Pr({name} {ev}) = {_fmt(float(p), digits)}" for ev, p in res.probabilities[col].items()))
    return out


def _footer(res):
    lev = f"{res.level:g}%"
    lines = [f"(cri: {lev} equal-tailed credible interval; short: {lev} shortest credible interval;",
             " theta_new: the true effect in a new study, the posterior predictive distribution)"]
    return lines


def _bf_lines(res, digits=4):
    out = []
    if not math.isnan(res.bayes_factor_tau0):
        out.append(f"Bayes factor for tau = 0 against the tau prior: BF01 = {_fmt(res.bayes_factor_tau0, digits)}")
    if not math.isnan(res.bayes_factor_mu0):
        out.append(f"Bayes factor for mu = 0 against the mu prior:   BF01 = {_fmt(res.bayes_factor_mu0, digits)}")
    if not math.isnan(res.log_marginal_likelihood):
        out.append(f"log marginal likelihood: {_fmt(res.log_marginal_likelihood, digits)}")
    return out


def _header(res):
    return f"Bayesian Random-Effects Model (k = {res.k}; normal-normal hierarchical model, numerical integration)"


def _report_text(res, digits=4):
    parts = [_header(res), "\n".join(_prior_lines(res)),
             "Marginal posterior summary:\n" + _summary_table(res, digits).to_string() + "\n" + "\n".join(_footer(res)),
             "Posterior probabilities:\n" + "\n".join(_prob_lines(res, digits))]
    bf = _bf_lines(res, digits)
    if bf:
        parts.append("\n".join(bf))
    if res.omitted.size:
        parts.append(f"({res.omitted.size} studies omitted for missing values: "
                     f"{', '.join(map(str, res.omitted[:10]))}{' ...' if res.omitted.size > 10 else ''})")
    parts.append("(shrinkage estimates of each study's effect: .shrinkage)")
    return "\n\n".join(parts) + "\n"


def _report_html(res, digits=4):
    esc = _html_escape
    parts = ['<div class="evidence-kit-bayes">', f"<p><strong>{esc(_header(res))}</strong></p>",
             '<pre style="margin: 0.5em 0">' + esc("\n".join(_prior_lines(res))) + "</pre>",
             "<p>Marginal posterior summary:</p>", _summary_table(res, digits).to_html(),
             f"<p><small>{esc(' '.join(line.strip() for line in _footer(res)))}</small></p>",
             '<pre style="margin: 0.5em 0">' + esc("\n".join(_prob_lines(res, digits))) + "</pre>"]
    bf = _bf_lines(res, digits)
    if bf:
        parts.append('<pre style="margin: 0.5em 0">' + esc("\n".join(bf)) + "</pre>")
    sh = res.shrinkage.copy()
    sh.index.name = None  # one header row
    parts.append(f"<details><summary>Shrinkage estimates ({res.k} studies)</summary>"
                 + sh.to_html(float_format=lambda v: _fmt(float(v), digits)) + "</details>")
    if res.omitted.size:
        parts.append(f"<p>{res.omitted.size} studies omitted for missing values.</p>")
    parts.append("</div>")
    return "\n".join(parts)


def _html_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
