"""BLUPs, random effects and standardized residuals, as metafor's ``blup``, ``ranef``,
``rstandard`` and ``rstudent``, for the univariate model and multilevel models (with or without V).

Duck-typed on the result (``tau2`` for the univariate model; ``codes`` and ``sigma2`` for a
multilevel model) so this module sits below the result classes that call it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit.synthesis import _tau2
from evidence_kit.synthesis._blockmodel import engine_of, level_engine, maximize
from evidence_kit.synthesis.vcalc import BlockCovariance

__all__ = ["blup", "ranef", "rstandard", "rstudent"]


def _is_multilevel(result) -> bool:
    return hasattr(result, "codes") and hasattr(result, "sigma2")


def _crit(result, level=None) -> float:
    level = result.level if level is None else level
    alpha = 1 - level / 100
    if getattr(result, "test", "z") in ("knha", "t"):
        return float(stats.t.isf(alpha / 2, result.k - result.p))
    return float(stats.norm.isf(alpha / 2))


def _beta(result):
    return result.coefficients["estimate"].to_numpy(dtype=float)


def _index(result):
    slab = getattr(result, "slab", None)
    return pd.Index(slab if slab is not None else np.arange(result.k), name="study")


def _xvx(X, vb):
    return np.einsum("ij,jk,ik->i", X, vb, X)


def blup(result, *, level=None) -> pd.DataFrame:
    """Best linear unbiased predictions of the true effects (metafor ``blup.rma.uni``).

    Notes
    -----
    lambda_i = tau^2 / (tau^2 + v_i); pred_i = lambda_i y_i + (1 - lambda_i) x_i'b;
    Var = lambda_i v_i + (1 - lambda_i)^2 x_i'V_b x_i (Raudenbush & Bryk 1985; metafor).
    """
    if _is_multilevel(result):
        raise TypeError("blup() is for the univariate model; use ranef() for multilevel models")
    X, y, v = np.asarray(result.X), result.yi, result.vi
    lam = result.tau2 / (result.tau2 + v)
    pred = lam * y + (1 - lam) * (X @ _beta(result))
    se = np.sqrt(lam * v + (1 - lam) ** 2 * _xvx(X, result.vb))
    crit = _crit(result, level)
    return pd.DataFrame({"pred": pred, "se": se, "pi_lower": pred - crit * se,
                         "pi_upper": pred + crit * se}, index=_index(result))


def ranef(result, *, level=None):
    """Predicted random effects (metafor ``ranef``).

    Univariate model: a DataFrame per study, pred = lambda_i (y_i - x_i'b) with
    Var = lambda_i v_i + lambda_i^2 x_i'V_b x_i (0 for an equal-effects model).
    Multilevel model: a dict level -> DataFrame per group, u = sigma2_l Z_l'V^-1 (y - X b) with
    Var = sigma2_l - sigma2_l^2 diag(Z_l' P Z_l) (Henderson's BLUP; metafor ``ranef.rma.mv``).
    """
    crit = _crit(result, level)
    if hasattr(result, "struct"):
        return _ranef_multivariate(result, crit)
    if not _is_multilevel(result):
        X, y, v = np.asarray(result.X), result.yi, result.vi
        if result.method == "EE":
            pred = se = np.zeros(result.k)
        else:
            lam = result.tau2 / (result.tau2 + v)
            pred = lam * (y - X @ _beta(result))
            se = np.sqrt(lam * v + lam**2 * _xvx(X, result.vb))
        return pd.DataFrame({"pred": pred, "se": se, "pi_lower": pred - crit * se,
                             "pi_upper": pred + crit * se}, index=_index(result))
    engine, par, phi = engine_of(result)
    X, y = np.asarray(result.X, dtype=float), result.yi
    coef, _ = par.to_linear(phi)
    th, sg = coef[:par.n_inner], coef[par.n_inner:]
    p = X.shape[1]
    Wu, _, (inv, steps, quad) = engine.solve(th, sg, np.column_stack([X, y - X @ _beta(result)]),
                                             score=True)
    VX, Pe = Wu[:, :p], Wu[:, p]  # V^-1 X and V^-1 (y - X b)
    M = np.linalg.inv(X.T @ VX)
    _, perm = _perm(result)
    out = {}
    for j, name in enumerate(result.levels):
        g = result.codes[:, j]
        ng = int(g.max()) + 1
        s2 = float(result.sigma2[j])
        u = s2 * np.bincount(g, weights=Pe, minlength=ng)
        c = perm.index(j)
        if c >= par.n_inner:  # an outer level: 1_g'V^-1 1_g from the Sherman-Morrison pass
            zvz = quad[c - par.n_inner]
        else:
            zvz = _inner_quad(engine, inv, steps, g, ng)
        S = np.stack([np.bincount(g, weights=VX[:, a], minlength=ng) for a in range(p)], axis=1)
        zpz = zvz - np.einsum("gi,ij,gj->g", S, M, S)
        se = np.sqrt(np.maximum(s2 - s2 * s2 * zpz, 0.0))
        u[np.abs(u) < 100 * np.finfo(float).eps] = 0.0
        labels = _group_labels(result, j)
        out[name] = pd.DataFrame({"pred": u, "se": se, "pi_lower": u - crit * se,
                                  "pi_upper": u + crit * se}, index=pd.Index(labels, name=name))
    return out


def _perm(result):
    V = result.V if getattr(result, "V", None) is not None else BlockCovariance.diagonal(result.vi)
    _, _, perm = level_engine(V, result.codes)
    return V, list(int(i) for i in perm)


def _inner_quad(engine, inv, steps, g, ng):
    """1_g'V^-1 1_g for groups inside blocks: block inverses minus the Sherman-Morrison terms."""
    rowsum = np.empty(engine.k)
    for c, Si in zip(engine.classes, inv, strict=True):
        cg = g[c.idx]
        same = cg[:, :, None] == cg[:, None, :]
        rowsum[c.idx] = np.sum(Si * same, axis=2)
    out = np.bincount(g, weights=rowsum, minlength=ng)
    first = np.zeros(ng, dtype=np.intp)
    first[g[::-1]] = np.arange(g.size)[::-1]
    for r_before, coef in steps:
        out = out - coef[first] * np.bincount(g, weights=r_before, minlength=ng) ** 2
    return out


def _group_labels(result, j):
    """Group labels of level j as metafor names them: 'outer/inner' for nested levels."""
    lab = result.labels.iloc[:, : j + 1].astype(str).agg("/".join, axis=1).to_numpy()
    g = result.codes[:, j]
    out = np.empty(int(g.max()) + 1, dtype=object)
    out[g] = lab
    return out


def _marginal_var(result) -> np.ndarray:
    """diag of the marginal covariance: v_i + tau^2, or V_ii + sum of sigma2."""
    if _is_multilevel(result):
        return np.asarray(result.vi) + float(np.sum(result.sigma2))
    return np.asarray(result.vi) + result.tau2


def _unscaled_vb(result):
    return np.asarray(result.vb) / getattr(result, "s2w", 1.0)


def rstandard(result, *, cluster=None):
    """Standardized (internally studentized) residuals (metafor ``rstandard``, type marginal).

    Notes
    -----
    e = y - X b; Var(e) = (I - H) M (I - H)' = M - X (X'M^-1 X)^-1 X' for the marginal covariance
    M, so se_i = sqrt(M_ii - x_i'(X'M^-1X)^-1 x_i) and z_i = e_i / se_i. With ``cluster``
    (multilevel models) also X^2_c = e_c' Var(e_c)^-1 e_c per cluster (metafor
    ``rstandard.rma.mv(cluster =)``); returns (per-effect DataFrame, per-cluster DataFrame).
    """
    X = np.asarray(result.X, dtype=float)
    e = result.yi - X @ _beta(result)
    e[np.abs(e) < 100 * np.finfo(float).eps] = 0.0
    B = _unscaled_vb(result)
    se = np.sqrt(_marginal_var(result) - _xvx(X, B))
    frame = pd.DataFrame({"resid": e, "se": se, "z": e / se}, index=_index(result))
    if cluster is None:
        return frame
    if not _is_multilevel(result):
        raise ValueError("rstandard(cluster=) is for multilevel models")
    values = (result.labels[cluster].to_numpy() if isinstance(cluster, str)
              else np.asarray(cluster, dtype=object))
    codes, uniq = pd.factorize(pd.Series(values), sort=True)
    X2 = np.full(uniq.size, np.nan)
    k_c = np.bincount(codes)
    for c in range(uniq.size):
        rows = np.flatnonzero(codes == c)
        Mc = (np.diag(result.vi[rows]) if getattr(result, "V", None) is None
              else result.V.submatrix(rows))
        for j, s2 in enumerate(result.sigma2):
            cj = result.codes[rows, j]
            Mc = Mc + s2 * (cj[:, None] == cj[None, :])
        ve = Mc - X[rows] @ B @ X[rows].T
        if np.min(np.linalg.eigvalsh(ve)) <= np.finfo(float).eps:
            continue
        X2[c] = float(e[rows] @ np.linalg.solve(ve, e[rows]))
    return frame, pd.DataFrame({"X2": X2, "k": k_c}, index=pd.Index(uniq, name="cluster"))


def rstudent(result) -> pd.DataFrame:
    """Externally studentized residuals (metafor ``rstudent``): each effect left out in turn.

    Notes
    -----
    With b_(i), V_b(i) and the variance components refitted without effect i,
    resid_i = y_i - x_i'b_(i) and se_i = sqrt(M_ii(i) + x_i'V_b(i) x_i), with M_ii(i) = v_i +
    tau^2_(i) (scaled by s2w_(i) under Knapp-Hartung) or V_ii + sum sigma2_(i); z_i = resid_i/se_i
    (Viechtbauer & Cheung 2010, Res Synth Methods 1:112, eq. 8).
    """
    k = result.k
    X = np.asarray(result.X, dtype=float)
    y = np.asarray(result.yi, dtype=float)
    resid = np.full(k, np.nan)
    se = np.full(k, np.nan)
    for i in range(k):
        keep = np.ones(k, dtype=bool)
        keep[i] = False
        Xk = X[keep]
        if np.linalg.matrix_rank(Xk) < X.shape[1]:
            continue
        out = _refit_univariate(result, keep) if not _is_multilevel(result) else \
            _refit_multilevel(result, keep)
        if out is None:
            continue
        b, vb, var_i = out
        resid[i] = y[i] - X[i] @ b
        if abs(resid[i]) < 100 * np.finfo(float).eps:
            resid[i] = 0.0
        se[i] = np.sqrt(var_i + X[i] @ vb @ X[i])
    return pd.DataFrame({"resid": resid, "se": se, "z": resid / se}, index=_index(result))


def _refit_univariate(result, keep):
    y, v = result.yi[keep], result.vi[keep]
    X = np.asarray(result.X)[keep]
    p = X.shape[1]
    Xn = None if p == 1 and np.all(X == 1.0) else X
    tau2 = _tau2.estimate_tau2(result.method, y, v, Xn, p)[0]
    w = 1.0 / (v + tau2)
    beta, B, r = _tau2.wls(y, Xn, w)
    s2w = 1.0
    if result.test == "knha":
        rss = float(np.sum(w * r * r))
        s2w = rss / (y.size - p) if y.size > p else 0.0
    i = np.flatnonzero(~keep)[0]
    return beta, s2w * B, s2w * (result.vi[i] + tau2)


def _refit_multilevel(result, keep):
    codes = result.codes[keep]
    codes = np.column_stack([pd.factorize(codes[:, j])[0] for j in range(codes.shape[1])])
    V = (BlockCovariance.diagonal(result.vi[keep]) if getattr(result, "V", None) is None
         else result.V.subset(keep))
    engine, par, _ = level_engine(V, codes)
    y, X = result.yi[keep], np.asarray(result.X)[keep]
    v = V.diagonal_values()
    lo = np.log(1e-12 * max(np.var(y), 1e-8))
    hi = np.log(1e4 * max(np.var(y), np.max(v)))
    fixed = {j: (np.log(result.sigma2[j]) if result.sigma2[j] > 0 else -np.inf)
             for j in getattr(result, "fixed_sigma2", ())}
    with np.errstate(divide="ignore"):
        start = np.log(np.maximum(result.sigma2, np.exp(lo)))
    phi, _, _ = maximize(engine, par, y, X, result.method == "REML", start, lo, hi, fixed=fixed)
    coef, _ = par.to_linear(phi)
    beta, vb, _ = engine.gls(coef[:par.n_inner], coef[par.n_inner:], y, X)
    i = np.flatnonzero(~keep)[0]
    return beta, vb, result.vi[i] + float(np.sum(np.exp(phi)))


def _ranef_multivariate(result, crit) -> pd.DataFrame:
    """u = G_k V^-1 e per effect, Var = diag(G_k - G_k P G_k), one row per (outcome, study) pair
    ordered by study then outcome, as metafor's ``ranef.rma.mv`` for ``~ outcome | study``."""
    engine, par, phi = engine_of(result)
    coef, _ = par.to_linear(phi)
    X, y = np.asarray(result.X, dtype=float), result.yi
    p = X.shape[1]
    Wu, _, (inv, _, _) = engine.solve(coef, [], np.column_stack([X, y - X @ _beta(result)]),
                                      score=True)
    VX, Pe = Wu[:, :p], Wu[:, p]
    M = np.linalg.inv(X.T @ VX)
    pred = np.empty(result.k)
    var = np.empty(result.k)
    for c, Si in zip(engine.classes, inv, strict=True):
        Gk = sum(t * D for t, D in zip(coef, c.D, strict=True))  # random-effects covariance
        pred[c.idx] = np.einsum("bij,bj->bi", Gk, Pe[c.idx])
        GSG = np.einsum("bij,bjk,bki->bi", Gk, Si, Gk)
        GVX = Gk @ VX[c.idx]
        var[c.idx] = (np.einsum("bii->bi", Gk) - GSG
                      + np.einsum("bia,ac,bic->bi", GVX, M, GVX))
    pred[np.abs(pred) < 100 * np.finfo(float).eps] = 0.0
    se = np.sqrt(np.maximum(var, 0.0))
    o, s = result.outcome_codes, result.study_codes
    first = pd.DataFrame({"s": s, "o": o}).drop_duplicates().sort_values(["s", "o"]).index
    names = [f"{result.outcomes[o[i]]} | {result.study_labels[s[i]]}" for i in first]
    return pd.DataFrame({"pred": pred[first], "se": se[first], "pi_lower": pred[first] - crit * se[first],
                         "pi_upper": pred[first] + crit * se[first]},
                        index=pd.Index(names, name="outcome | study"))
