"""Many intercept-only meta-analyses at once (one per group), vectorized across groups.

tau^2 comes from the one kernel (``_tau2.estimate``) with the groups as contiguous segments, so
every group gets exactly what :func:`meta_analysis` gives it (the global ML/REML maximum, the
same stopping rule); per-group sums are ``np.add.reduceat`` over the segments, so G groups of k
studies cost a few passes over the G*k rows whatever G is.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.validate import check_choice, check_rows, row_labels
from evidence_kit.synthesis import _tau2
from evidence_kit.synthesis._design import numeric_column
from evidence_kit.synthesis._tau2 import METHOD_ALIASES, TAU2_METHODS
from evidence_kit.synthesis.model import TESTS


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
    test : {"z", "t", "knha"}
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
    tau2 = np.zeros(G)
    se_tau2 = np.full(G, np.nan)
    converged = np.ones(G, dtype=bool)
    if method != "EE" and multi.any():
        rows = grp.expand(multi)
        sub = _tau2.Groups(int(rows.sum()), counts=grp.counts[multi])
        fitted = _tau2.estimate(method, y[rows], v[rows], None, sub, names=list(index[multi]))
        tau2[multi], se_tau2[multi], converged[multi] = fitted.tau2, fitted.se, fitted.converged
        if fitted.maxima:
            names = np.flatnonzero(multi)
            shown = [_tau2.maxima_message(method, m, f"group {index[names[g]]!r}: ")
                     for g, m in list(fitted.maxima.items())[:3]]
            more = len(fitted.maxima) - len(shown)
            warnings.warn(f"{len(fitted.maxima)} group(s) have more than one local maximum; each row is the "
                          "global maximum. " + "; ".join(shown) + (f"; and {more} more" if more else ""),
                          _tau2.MultipleMaximaWarning, stacklevel=2)
    tau2 = np.where(multi, tau2, 0.0)
    se_tau2 = np.where(multi, se_tau2, np.nan)

    w = 1.0 / (v + grp.expand(tau2))
    sw, mu, r = _wls(grp, y, w)
    se = np.sqrt(1.0 / sw)
    if test in ("knha", "t"):
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
