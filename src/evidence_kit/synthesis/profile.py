"""Profile likelihoods of variance components and profile-likelihood confidence intervals, as
metafor's ``profile()`` and ``confint(res, type = "PL")`` (``confint(res, sigma2 = j)`` for rma.mv).

For the univariate model the profile of tau^2 is the (restricted) log-likelihood with the
coefficients at their GLS values; for multilevel and multivariate models every other variance
component is re-estimated at each fixed value of the one profiled. Duck-typed on the result so
this module sits below the result classes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from evidence_kit.synthesis import _tau2
from evidence_kit.synthesis._blockmodel import engine_of, maximize

__all__ = ["profile", "profile_ci"]


def _univariate(result) -> bool:
    return hasattr(result, "tau2") and not hasattr(result, "codes") and not hasattr(result, "struct")


def _reml(result) -> bool:
    return result.method == "REML"


def _names(result) -> list[str]:
    if _univariate(result):
        return ["tau2"]
    if hasattr(result, "struct"):
        return list(_mv_names(result))
    return [f"sigma2.{j + 1}" for j in range(len(result.sigma2))]


def _mv_names(result):
    nt = len(result.tau2)
    names = [f"tau2.{a + 1}" for a in range(nt)] if nt > 1 else ["tau2"]
    nr = len(result.rho)
    return names + ([f"rho.{c + 1}" for c in range(nr)] if nr > 1 else ["rho"] * nr)


def _component(result, component) -> int:
    names = _names(result)
    if isinstance(component, str):
        if component in names:
            return names.index(component)
        if not _univariate(result) and hasattr(result, "levels") and component in result.levels:
            return list(result.levels).index(component)
        raise ValueError(f"unknown component {component!r}; expected one of {', '.join(names)}")
    j = int(component)
    if not 0 <= j < len(names):
        raise ValueError(f"component must be 0..{len(names) - 1}; got {component}")
    return j


class _Profiler:
    """ll(value) of one component with the others re-estimated (warm-started along the way)."""

    def __init__(self, result, j: int):
        self.result = result
        self.j = j
        self.uni = _univariate(result)
        y = np.asarray(result.yi, dtype=float)
        self.y = y
        X = np.asarray(result.X, dtype=float)
        if self.uni:
            self.X = None if X.shape[1] == 1 and np.all(X == 1.0) else X
            self.estimate = float(result.tau2)
            return
        self.X = X
        self.engine, self.par, self.phi_hat = engine_of(result)
        self.kind = self.par.kind[j]
        v = np.asarray(result.vi)
        self.lo = np.log(1e-12 * max(np.var(y), 1e-8))
        self.hi = np.log(1e4 * max(np.var(y), np.max(v)))
        self.fixed = {i: self.phi_hat[i] for i in getattr(result, "fixed_sigma2", ())}
        self.start = np.where(np.isfinite(self.phi_hat), self.phi_hat, self.lo)
        value = self.phi_hat[j]
        self.estimate = float(np.exp(value) if self.kind == "log" else np.tanh(value))

    def __call__(self, value: float):
        """(ll, beta) with the component held at ``value`` (a variance, or a correlation)."""
        if self.uni:
            w = 1.0 / (self.result.vi + value)
            beta, B, r = _tau2.wls(self.y, self.X, w)
            ll = _tau2.restricted_ll(self.y, self.result.vi, self.X, value, reml=_reml(self.result))
            return ll, beta
        if self.kind == "log":
            phi_j = np.log(value) if value > 0 else -np.inf
        else:
            phi_j = np.arctanh(np.clip(value, -1 + 1e-15, 1 - 1e-15))
        fixed = dict(self.fixed)
        fixed[self.j] = phi_j
        phi, ll, _ = maximize(self.engine, self.par, self.y, self.X, _reml(self.result),
                              self.start, self.lo, self.hi, fixed=fixed)
        self.start = np.where(np.isfinite(phi), phi, self.lo)
        coef, _ = self.par.to_linear(phi)
        beta = self.engine.gls(coef[:self.par.n_inner], coef[self.par.n_inner:], self.y, self.X)[0]
        return ll, beta


def profile(result, component=0, *, values=None, xlim=None, steps: int = 20) -> pd.DataFrame:
    """The profile (restricted) log-likelihood of one variance component (metafor ``profile``).

    Parameters
    ----------
    result : MetaResult (ML or REML), MultilevelResult or MultivariateResult
    component : int or str
        Which component: 0 / "tau2" for the univariate model; the level index or name (or
        "sigma2.1", ...) for a multilevel model; "tau2.1", "rho", ... for a multivariate one.
    values : array-like, optional
        Values at which to evaluate; default ``steps`` points over ``xlim`` (default from 0 to
        about four times the estimate, as metafor's default range).

    Returns
    -------
    DataFrame with the component value, ``ll`` and one column per coefficient.
    """
    _check_method(result)
    j = _component(result, component)
    prof = _Profiler(result, j)
    if values is None:
        if xlim is None:
            est = prof.estimate
            xlim = ((-1.0, 1.0) if not prof.uni and prof.kind == "atanh"
                    else (0.0, max(4 * est, 0.1 * np.var(prof.y), 1e-4)))
        values = np.linspace(xlim[0], xlim[1], steps)
    values = np.asarray(values, dtype=float)
    name = _names(result)[j]
    rows = []
    order = np.argsort(np.abs(values - prof.estimate))  # warm starts move outward from the optimum
    out_ll = np.empty(values.size)
    out_b = np.empty((values.size, result.p))
    for i in order:
        ll, beta = prof(values[i])
        out_ll[i], out_b[i] = ll, beta
    for i in range(values.size):
        rows.append([values[i], out_ll[i], *out_b[i]])
    return pd.DataFrame(rows, columns=[name, "ll", *result.term_names])


def _check_method(result):
    if result.method not in ("ML", "REML"):
        raise ValueError(f"profile likelihoods need an ML or REML fit; this model used {result.method}")


def profile_ci(result, component=0, *, level: float | None = None) -> pd.DataFrame:
    """Profile-likelihood confidence interval of a variance component (metafor ``confint(res,
    type = "PL")`` for rma.uni; ``confint(res, sigma2 = j)`` for rma.mv).

    Returns
    -------
    DataFrame with rows for the component (and its square root, for a variance) and columns
    estimate, ci_lower, ci_upper.

    Notes
    -----
    The bounds solve 2 (ll_max - ll_profile(x)) = chi^2_{1, level} on each side of the estimate
    (Hardy & Thompson 1996, Stat Med 15:619). A bound at the parameter's limit (0 for a variance,
    -1 or 1 for a correlation) is reported when the profile stays above the cut-off there.
    """
    _check_method(result)
    level = result.level if level is None else level
    j = _component(result, component)
    prof = _Profiler(result, j)
    est = prof.estimate
    ll_max, _ = prof(est)
    if not prof.uni:
        ll_max = max(ll_max, float(result.ll))
    target = ll_max - stats.chi2.ppf(level / 100, 1) / 2

    def f(x):
        return prof(x)[0] - target

    is_rho = not prof.uni and prof.kind == "atanh"
    low_lim = -1.0 if is_rho else 0.0
    xtol = 1e-12
    if f(low_lim) >= 0 or est <= low_lim:
        lb = low_lim
    else:
        lb = optimize.brentq(f, low_lim, est, xtol=xtol, rtol=1e-12, maxiter=200)
    if is_rho:
        ub = 1.0 if f(1.0) >= 0 else optimize.brentq(f, est, 1.0, xtol=xtol, rtol=1e-12)
    else:
        hi = max(est, 1e-4 * max(np.var(prof.y), 1e-8))
        ub = np.nan
        for _ in range(60):
            hi = hi * 2 + 1e-8
            if f(hi) < 0:
                ub = optimize.brentq(f, est, hi, xtol=xtol, rtol=1e-12, maxiter=200)
                break
    name = _names(result)[j]
    rows = {name: [est, lb, ub]}
    if not is_rho:
        root = name.replace("tau2", "tau").replace("sigma2", "sigma")
        rows[root] = list(np.sqrt(np.maximum([est, lb, ub], 0.0)))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "ci_lower", "ci_upper"])
