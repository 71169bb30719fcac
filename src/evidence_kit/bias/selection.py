"""The step-function selection model of Vevea and Hedges (1995), as metafor's
``selmodel(type="stepfun")``: publication bias modelled as p-value intervals with different
relative likelihoods of selection, fitted by maximum likelihood.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import minimize

from evidence_kit._core.format import fmt, fmt_p, pval_eq
from evidence_kit._core.validate import check_choice
from evidence_kit.bias.small_study import _require
from evidence_kit.synthesis import MetaResult, fit
from evidence_kit.synthesis.multilevel import coefficient_table

__all__ = ["SelectionResult", "selection_model"]



@dataclass(frozen=True)
class SelectionResult:
    """A step-function selection model fitted by maximum likelihood (metafor ``selmodel``).

    ``coefficients``: the adjusted estimates (z tests); ``delta``: relative likelihood of
    selection per p-value interval (first fixed at 1), with ``delta_table`` giving se, z and p
    for H0: delta = 1, and the number of studies per interval; ``lrt``, ``lrt_df``,
    ``lrt_pvalue``: likelihood-ratio test of the selection model against the unadjusted model.
    """

    k: int
    steps: np.ndarray
    coefficients: pd.DataFrame
    tau2: float
    se_tau2: float
    delta: np.ndarray
    delta_table: pd.DataFrame
    ll: float
    lrt: float
    lrt_df: int
    lrt_pvalue: float
    alternative: str

    @property
    def estimate(self) -> float:
        return float(self.coefficients["estimate"].iloc[0])

    @property
    def se(self) -> float:
        return float(self.coefficients["se"].iloc[0])

    def _sections(self) -> list[tuple[str, list[str] | pd.DataFrame]]:
        """(title, lines or table) pairs shared by the text and HTML views (metafor's layout)."""
        fixed = np.isnan(self.se_tau2)
        head = (f"Equal-Effects Model (k = {self.k})" if fixed
                else f"Random-Effects Model (k = {self.k}; tau^2 estimator: ML)")
        out: list = [(head, [])]
        if not fixed:
            out.append(("", [f"tau^2 (estimated amount of total heterogeneity): {fmt(self.tau2)} "
                             f"(SE = {fmt(self.se_tau2)})",
                             f"tau (square root of estimated tau^2 value):      {fmt(np.sqrt(self.tau2))}"]))
        out.append(("Test for Selection Model Parameters:",
                    [f"LRT(df = {self.lrt_df}) = {fmt(self.lrt)}, p-val {pval_eq(self.lrt_pvalue)}"]))
        c = self.coefficients
        coef = pd.DataFrame({"estimate": c["estimate"].map(fmt), "se": c["se"].map(fmt),
                             "zval": c["statistic"].map(fmt), "pval": c["pvalue"].map(fmt_p),
                             "ci.lb": c["ci_lower"].map(fmt), "ci.ub": c["ci_upper"].map(fmt)})
        coef.index.name = None
        out.append(("Model Results:", coef))
        d = self.delta_table
        first = [True] + [False] * (len(d) - 1)  # delta_1 is fixed at 1: no se or test (metafor "---")
        delta = pd.DataFrame({
            "k": d["k"].astype(int).astype(str), "estimate": d["delta"].map(fmt),
            "se": ["---" if f else fmt(v) for f, v in zip(first, d["se"], strict=True)],
            "zval": ["---" if f else fmt(v) for f, v in zip(first, d["statistic"], strict=True)],
            "pval": ["---" if f else fmt_p(v) for f, v in zip(first, d["pvalue"], strict=True)]},
            index=d.index)
        delta.index.name = None
        out.append((f"Selection Model Results (step function, alternative = {self.alternative}):", delta))
        return out

    def __repr__(self) -> str:
        parts = []
        for title, body in self._sections():
            text = body.to_string() if isinstance(body, pd.DataFrame) else "\n".join(body)
            parts.append("\n".join(x for x in (title, text) if x))
        return "\n" + "\n\n".join(parts) + "\n"

    def _repr_html_(self) -> str:
        parts = ['<div class="evidence-kit-selmodel">']
        for i, (title, body) in enumerate(self._sections()):
            if title:
                tag = "strong" if i == 0 else "span"
                parts.append(f"<p><{tag}>{html.escape(title)}</{tag}></p>")
            if isinstance(body, pd.DataFrame):
                parts.append(body.to_html())
            elif body:
                parts.append('<pre style="margin: 0.5em 0">' + html.escape("\n".join(body)) + "</pre>")
        parts.append("</div>")
        return "\n".join(parts)


def _stepfun_negll(beta, tau2, delta, yi, vi, X, cuts, group):
    """Minus the log-likelihood of the Vevea-Hedges model (Vevea & Hedges 1995, eq. 5).

    cuts: (k, N + 1) thresholds on y_i, +inf .. -inf, interval j is cuts[:, j+1] <= y < cuts[:, j].
    """
    mu = X @ beta
    s = np.sqrt(vi + tau2)
    upper = stats.norm.sf((cuts - mu[:, None]) / s[:, None])  # P(y >= cut)
    probs = np.diff(upper, axis=1)  # P(interval j), j = 1..N
    A = probs @ delta  # normalizing constant A_i = sum_j delta_j P_ij
    ll = np.log(delta[group]) + stats.norm.logpdf(yi, mu, s) - np.log(A)
    return -float(np.sum(ll))


def _hessian(f, x, h):
    """Central-difference Hessian with one Richardson step (as numDeriv::hessian, r = 2)."""
    n = x.size

    def H_at(step):
        H = np.empty((n, n))
        f0 = f(x)
        for i in range(n):
            ei = np.zeros(n)
            ei[i] = step[i]
            H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / step[i] ** 2
            for j in range(i):
                ej = np.zeros(n)
                ej[j] = step[j]
                H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                     + f(x - ei - ej)) / (4 * step[i] * step[j])
        return H

    H1, H2 = H_at(h), H_at(h / 2)
    return (4 * H2 - H1) / 3


def selection_model(result: MetaResult, steps=(0.025, 1.0), *,
                    alternative: str = "greater") -> SelectionResult:
    """Step-function selection model (Vevea & Hedges 1995), as metafor ``selmodel(type="stepfun")``.

    Parameters
    ----------
    result : MetaResult
        The unadjusted model; an EE model keeps tau^2 = 0, otherwise tau^2 is estimated (by ML,
        as metafor) along with the coefficients and the selection weights.
    steps : sequence of float
        Upper bounds of the one-sided p-value intervals; 1 is added if missing. The default
        (0.025, 1) is the three-parameter model (Vevea & Woods 2005; McShane et al. 2016).
    alternative : {"greater", "less"}
        Direction of the one-sided p-values p_i = 1 - Phi(y_i / sqrt(v_i)) ("greater").

    Returns
    -------
    SelectionResult

    Notes
    -----
    L = prod_i w(p_i) phi((y_i - x_i'b)/s_i) / (s_i A_i), s_i^2 = v_i + tau^2, w = delta_j on
    interval j (delta_1 = 1), A_i = sum_j delta_j P(p_i in interval j) (Vevea & Hedges 1995,
    Psychometrika 60:419, eqs. 3-5; Hedges 1992). Standard errors from the inverse Hessian of
    -log L on the original scale (as metafor); LRT = 2 (ll - ll_0) on (N - 1) df against the
    unadjusted model's maximized ML log-likelihood (metafor refits it with method "ML").
    """
    _require(result, "selection_model", 3)
    alternative = check_choice("alternative", alternative, ["greater", "less"], case_sensitive=True)
    steps = np.unique(np.asarray(steps, dtype=float))
    if np.any((steps <= 0) | (steps > 1)):
        raise ValueError("steps must lie in (0, 1]")
    if steps[-1] != 1:
        steps = np.append(steps, 1.0)
    yi, vi, X = result.yi, result.vi, result.X
    sign = 1.0 if alternative == "greater" else -1.0
    ys, Xs = sign * yi, sign * X  # "less" is "greater" for -y = (-X) b
    k, p = X.shape
    N = steps.size
    pvals = stats.norm.sf(ys / np.sqrt(vi))
    group = np.searchsorted(steps, pvals, side="left")  # first j with p <= steps[j]
    counts = np.bincount(group, minlength=N)
    if N > 1 and np.any(counts == 0):
        empty = [f"{lo:g} < p <= {hi:g}" for lo, hi, c in
                 zip(np.r_[0, steps[:-1]], steps, counts, strict=True) if c == 0]
        raise ValueError("the selection model is undefined: no p-values in interval(s) "
                         f"{', '.join(empty)}; choose other steps")
    fixed_tau2 = result.method == "EE"
    n_par = p + (0 if fixed_tau2 else 1) + (N - 1)
    if k < n_par:
        raise ValueError(f"too few studies (k = {k}) for {n_par} parameters")
    q = np.r_[stats.norm.isf(steps[:-1]), -np.inf]  # z thresholds for p = steps
    cuts = np.column_stack([np.full(k, np.inf), np.sqrt(vi)[:, None] * q[None, :]])

    def unpack(theta):
        beta = theta[:p]
        tau2 = 0.0 if fixed_tau2 else float(np.exp(theta[p]))
        delta = np.r_[1.0, np.exp(theta[n_par - (N - 1):])]
        return beta, tau2, delta

    def f(theta):
        beta, tau2, delta = unpack(theta)
        return _stepfun_negll(beta, tau2, delta, ys, vi, Xs, cuts, group)

    tau2_start = max(float(result.tau2), 0.01 * float(np.var(yi))) if not fixed_tau2 else 0.0
    start = np.r_[result.coefficients["estimate"].to_numpy(),
                  [] if fixed_tau2 else [np.log(max(tau2_start, 1e-8))], np.zeros(N - 1)]
    res = minimize(f, start, method="BFGS", options={"gtol": 1e-10, "maxiter": 10_000})
    theta = res.x
    for _ in range(3):  # Newton polish: the exact optimum, not optim's stopping point
        H = _hessian(f, theta, np.full(theta.size, 1e-3))
        g = np.array([(f(theta + e) - f(theta - e)) / 2e-6 for e in np.eye(theta.size) * 1e-6])
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if f(theta - step) <= f(theta):
            theta = theta - step
    beta, tau2, delta = unpack(theta)
    if np.any(delta[1:] > 100) or np.any(delta[1:] < 1e-6):
        warnings.warn("a selection weight is at the edge of its range (0, 100]: the estimates "
                      "are unreliable", RuntimeWarning, stacklevel=2)
    ll = -f(theta)

    # standard errors: inverse Hessian of -log L in (beta, tau2, delta_2..N), original scale
    def f_orig(par):
        b = par[:p]
        t2 = 0.0 if fixed_tau2 else par[p]
        d = np.r_[1.0, par[n_par - (N - 1):]]
        return _stepfun_negll(b, t2, d, ys, vi, Xs, cuts, group)

    par = np.r_[beta, [] if fixed_tau2 else [tau2], delta[1:]]
    H = _hessian(f_orig, par, np.maximum(np.abs(par), 1e-2) * 1e-3)  # O(h^4) after Richardson
    cov = np.linalg.inv(H)
    se = np.sqrt(np.diag(cov)[:p])  # -y = (-X) b: b keeps its sign under "less"
    coefs = coefficient_table(beta, se, result.term_names, "z", None, result.level)
    se_tau2 = np.nan if fixed_tau2 else float(np.sqrt(cov[p, p]))
    se_delta = np.r_[np.nan, np.sqrt(np.diag(cov)[n_par - (N - 1):])]
    z_delta = (delta - 1) / se_delta
    labels = [f"{lo:g} < p <= {hi:g}" for lo, hi in zip(np.r_[0, steps[:-1]], steps, strict=True)]
    table = pd.DataFrame({"k": counts, "delta": delta, "se": se_delta, "statistic": z_delta,
                          "pvalue": 2 * stats.norm.sf(np.abs(z_delta))},
                         index=pd.Index(labels, name="interval"))
    # the unadjusted model by ML (metafor refits a non-EE model with method = "ML")
    if fixed_tau2:
        w = 1.0 / vi
        r = yi - X @ result.coefficients["estimate"].to_numpy()
        ll0 = float(-0.5 * np.sum(np.log(2 * np.pi / w)) - 0.5 * np.sum(w * r * r))
    else:
        ll0 = float(fit(yi, vi, X, method="ML").ll)
    lrt = max(0.0, 2 * (ll - ll0))
    return SelectionResult(k=k, steps=steps, coefficients=coefs, tau2=tau2, se_tau2=se_tau2,
                           delta=delta, delta_table=table, ll=ll, lrt=lrt, lrt_df=N - 1,
                           lrt_pvalue=float(stats.chi2.sf(lrt, N - 1)), alternative=alternative)
