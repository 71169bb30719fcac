"""Many intercept-only meta-analyses at once (one per group), vectorized across groups.

Every per-group sum is a ``np.bincount`` over group codes, so G groups of k studies cost a few
passes over the G*k rows whatever G is. Iterative estimators run all groups together:
ML/REML by Fisher scoring with a per-group damping factor that halves whenever a group's step
changes sign (oscillation) or leaves tau^2 >= 0, then Newton steps once a group is close;
PM/EB by Newton's method on Q(tau^2) = k - 1, which is monotone from tau^2 = 0 because Q is
convex and decreasing. A group that still has not converged is refitted on its own with the
scalar engine (step halving and the bracketing fallback); ``converged`` reports the outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.validate import check_choice, check_rows, row_labels
from evidence_kit.synthesis import _tau2
from evidence_kit.synthesis._design import numeric_column
from evidence_kit.synthesis._tau2 import METHOD_ALIASES, TAU2_METHODS
from evidence_kit.synthesis.model import TESTS

MAXITER = 200
TOL = 1e-12


class _Groups:
    """Rows sorted by group (every group non-empty): per-group sums with np.add.reduceat over the
    contiguous segments (several times faster than a weighted bincount) and np.repeat to expand."""

    def __init__(self, codes: np.ndarray, n_groups: int):
        self.codes = codes
        self.G = n_groups
        self.counts = np.bincount(codes, minlength=n_groups)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def sum(self, x):
        return np.add.reduceat(x, self.starts)

    def expand(self, g):
        return np.repeat(g, self.counts)


def _wls(grp, yi, w):
    sw = grp.sum(w)
    mu = grp.sum(w * yi) / sw
    r = yi - grp.expand(mu)
    return sw, mu, r


def _closed_form(method, grp, yi, vi, k):
    """DL, HE, HS, SJ per group (intercept only; see _tau2.tau2_closed_form)."""
    if method in ("DL", "HS"):
        w = 1.0 / vi
        sw, _, r = _wls(grp, yi, w)
        rss = grp.sum(w * r * r)
        sw2 = grp.sum(w * w)
        trP = sw - sw2 / sw
        trPP = sw2 - 2 * grp.sum(w ** 3) / sw + (sw2 / sw) ** 2
        if method == "DL":
            tau2 = np.maximum(0.0, (rss - (k - 1)) / trP)  # DerSimonian & Laird 1986
            se = np.sqrt((2 * (k - 1) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / trP ** 2)
        else:
            tau2 = np.maximum(0.0, (rss - k) / sw)  # Hunter & Schmidt
            se = np.sqrt((2 * (k - 1) + 4 * tau2 * trP + 2 * tau2 ** 2 * trPP) / sw ** 2)
        return tau2, se
    if method == "HE":
        _, _, r = _wls(grp, yi, np.ones_like(yi))
        sv = grp.sum(vi)
        trPV = sv - sv / k
        tau2 = np.maximum(0.0, (grp.sum(r * r) - trPV) / (k - 1))  # Hedges 1983
        trPVPV = grp.sum(vi * vi) - 2 * grp.sum(vi * vi) / k + (sv / k) ** 2
        se = np.sqrt((2 * trPVPV + 4 * tau2 * trPV + 2 * tau2 ** 2 * (k - 1)) / (k - 1) ** 2)
        return tau2, se
    # SJ: Sidik & Jonkman 2005
    mean = grp.sum(yi) / k
    tau0 = grp.sum((yi - grp.expand(mean)) ** 2) / k
    w = 1.0 / (vi + grp.expand(tau0))
    sw, _, r = _wls(grp, yi, w)
    tau2 = tau0 * grp.sum(w * r * r) / (k - 1)
    sw2, sw3 = grp.sum(w * w), grp.sum(w ** 3)
    trPVPV = grp.sum((w * vi) ** 2) - 2 * grp.sum(w ** 3 * vi * vi) / sw + (grp.sum(w * w * vi) / sw) ** 2
    trPVP = grp.sum(w * w * vi) - 2 * grp.sum(w ** 3 * vi) / sw + grp.sum(w * w * vi) * sw2 / sw ** 2
    trPP = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
    se = np.sqrt(tau0 ** 2 / (k - 1) ** 2 * (2 * trPVPV + 4 * tau2 * trPVP + 2 * tau2 ** 2 * trPP))
    return tau2, se


def _iterate(method, grp, yi, vi, k, active):
    """All groups together; returns (tau2, converged)."""
    G = grp.G
    tau2 = np.zeros(G)
    if method in ("ML", "REML"):
        tau2 = np.maximum(0.0, _closed_form("HE", grp, yi, vi, k)[0])  # metafor's start
    converged = ~active
    damp = np.ones(G)
    last = np.zeros(G)
    newton = np.zeros(G, dtype=bool)
    cols = np.empty((6, yi.shape[0]))  # per-row terms, summed per group in one reduceat call
    for _ in range(MAXITER):
        w = 1.0 / (vi + grp.expand(tau2))
        sw, _, r = _wls(grp, yi, w)
        u = w * r  # P y within each group
        np.multiply(w, w, out=cols[0])
        np.multiply(u, r, out=cols[1])
        np.multiply(u, u, out=cols[2])
        np.multiply(w, u, out=cols[3])
        np.multiply(cols[0], w, out=cols[4])
        np.multiply(cols[2], w, out=cols[5])
        sw2, ypy, yppy, su, sw3, swuu = np.add.reduceat(cols, grp.starts, axis=1)
        if method in ("PM", "EB"):
            # Newton on f(t) = Q(t) - (k - 1), f' = -y'PPy (Paule & Mandel 1982)
            step = np.where(yppy > 0, (ypy - (k - 1)) / np.where(yppy > 0, yppy, 1.0), 0.0)
        else:
            if method == "ML":
                num, fisher = yppy - sw, sw2
            else:
                trP = sw - sw2 / sw
                num = yppy - trP
                fisher = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
            observed = 2 * (swuu - su * su / sw) - fisher  # 2 y'PPPy - Fisher
            use_newton = newton & (observed > 0)
            step = np.where(use_newton, num / np.where(use_newton, observed, 1.0), damp * num / fisher)
            # oscillation (a step reversing at least half of the previous one): damp later steps
            flip = (step * last < 0) & (np.abs(step) > 0.5 * np.abs(last)) & ~use_newton
            damp = np.where(flip, damp * 0.5, damp)
        step = np.where(converged, 0.0, step)
        new = np.maximum(0.0, tau2 + step)
        change = np.abs(new - tau2)
        last = step
        tau2 = new
        newton |= change <= 1e-2 * np.maximum(1.0, tau2)
        converged |= change <= TOL * np.maximum(1.0, tau2)
        if converged.all():
            break
    return tau2, converged


def meta_analysis_batch(data: pd.DataFrame, by, yi="yi", vi="vi", *, method: str = "REML", test: str = "z",
                        level: float = 95) -> pd.DataFrame:
    """One intercept-only meta-analysis per group, vectorized across groups.

    Parameters
    ----------
    data : DataFrame
    by : str or list of str
        Grouping columns; groups appear in sorted key order.
    yi, vi : str or array-like
    method : str
        tau^2 estimator as :func:`meta_analysis`.
    test : {"z", "knha"}
    level : float

    Returns
    -------
    DataFrame, one row per group: the group keys, k, estimate, se, pvalue, ci_lower, ci_upper,
    tau2, se_tau2, i2, q, q_pvalue, converged. Rows with missing yi or vi are left out of their
    group (as meta_analysis does); a group with no complete row raises.

    Notes
    -----
    Per group the numbers equal :func:`meta_analysis` on that group's rows (tested); the formulas
    are those of ``fit`` for X = 1: b = sum(w y)/sum(w), w = 1/(v + tau^2).
    """
    method = check_choice("method", method, TAU2_METHODS, aliases=METHOD_ALIASES)
    test = check_choice("test", test, TESTS)
    by = [by] if isinstance(by, str) else list(by)
    y = numeric_column(data, yi, "yi")
    n = y.shape[0]
    v = numeric_column(data, vi, "vi", n=n)
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        labels = row_labels(data, n)
        check_rows(~np.isfinite(y) & ~np.isnan(y), "yi", "yi must be finite", y, labels)
        check_rows(~np.isfinite(v) & ~np.isnan(v), "vi", "vi must be finite", v, labels)
        check_rows(v <= 0, "vi", "sampling variances vi must be positive", v, labels)
    for col in by:
        if col not in data.columns:
            raise KeyError(f"by: column {col!r} not found in data")
    keys = data[by]
    if keys.isna().any(axis=None):
        bad = keys.isna().any(axis=1).to_numpy()
        check_rows(bad, ", ".join(by), "group keys must not be missing", np.asarray(keys.astype(str).agg("/".join, axis=1)),
                   row_labels(data, n))
    if len(by) == 1:  # factorize is several times faster than a groupby
        codes, uniques = pd.factorize(keys[by[0]], sort=True)
        index = pd.Index(uniques, name=by[0])
    else:
        codes = keys.groupby(by, sort=True, observed=True).ngroup().to_numpy()
        index = keys.drop_duplicates().set_index(by).sort_index().index
    G = len(index)
    ok = ~(np.isnan(y) | np.isnan(v))
    c_ok = codes[ok]
    order = slice(None) if np.all(c_ok[1:] >= c_ok[:-1]) else np.argsort(c_ok, kind="stable")
    counts = np.bincount(codes[ok], minlength=G)
    if (counts == 0).any():
        raise ValueError(f"group {index[np.flatnonzero(counts == 0)[0]]!r} has no row with both yi and vi")
    grp = _Groups(codes[ok][order], G)
    y, v = y[ok][order], v[ok][order]
    k = counts.astype(float)

    multi = k > 1
    se_tau2 = np.full(G, np.nan)
    converged = np.ones(G, dtype=bool)
    if method == "EE":
        tau2 = np.zeros(G)
    elif method in ("DL", "HE", "HS", "SJ"):
        with np.errstate(divide="ignore", invalid="ignore"):
            tau2, se_tau2 = _closed_form(method, grp, y, v, k)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            tau2, converged = _iterate(method, grp, y, v, k, multi)
        for g in np.flatnonzero(~converged):  # the scalar engine: step halving, then bracketing
            m = grp.codes == g
            try:
                tau2[g], _, _, _ = _tau2.estimate_tau2(method, y[m], v[m], None, 1)
                converged[g] = True
            except _tau2.ConvergenceError:
                tau2[g] = np.nan
        w = 1.0 / (v + grp.expand(tau2))
        sw, sw2 = grp.sum(w), grp.sum(w * w)
        with np.errstate(divide="ignore", invalid="ignore"):
            if method == "ML":
                se_tau2 = np.sqrt(2 / sw2)
            elif method == "REML":
                se_tau2 = np.sqrt(2 / (sw2 - 2 * grp.sum(w ** 3) / sw + (sw2 / sw) ** 2))
            else:
                se_tau2 = np.sqrt(2 * k ** 2 / (k - 1) / sw ** 2)
    tau2 = np.where(multi, tau2, 0.0)
    se_tau2 = np.where(multi, se_tau2, np.nan)

    w = 1.0 / (v + grp.expand(tau2))
    sw, mu, r = _wls(grp, y, w)
    se = np.sqrt(1.0 / sw)
    if test == "knha":
        with np.errstate(divide="ignore", invalid="ignore"):
            s2w = np.where(multi, grp.sum(w * r * r) / (k - 1), np.nan)  # Knapp & Hartung 2003
        s2w = np.where(s2w <= np.finfo(float).eps, 0.0, s2w)
        se = se * np.sqrt(s2w)
        df = np.where(multi, k - 1, np.nan)
        crit = stats.t.ppf(1 - (1 - level / 100) / 2, df)
        pval = 2 * stats.t.sf(np.abs(mu / se), df)
    else:
        crit = stats.norm.ppf(1 - (1 - level / 100) / 2)
        pval = 2 * stats.norm.sf(np.abs(mu / se))
    w0 = 1.0 / v
    sw0, _, r0 = _wls(grp, y, w0)
    q = np.where(multi, grp.sum(w0 * r0 * r0), 0.0)
    sw0_2 = grp.sum(w0 * w0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vt = (k - 1) / (sw0 - sw0_2 / sw0)
        if method == "EE":
            i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - (k - 1)) / q), 0.0)
        else:
            i2 = 100 * tau2 / (vt + tau2)
    i2 = np.where(multi, i2, 0.0)
    q_p = np.where(multi, stats.chi2.sf(q, np.maximum(k - 1, 1)), 1.0)
    out = pd.DataFrame({"k": k.astype(int), "estimate": mu, "se": se, "pvalue": pval, "ci_lower": mu - crit * se,
                        "ci_upper": mu + crit * se, "tau2": tau2, "se_tau2": se_tau2, "i2": i2, "q": q,
                        "q_pvalue": q_p, "converged": converged}, index=index)
    return out.reset_index()
