"""Sensitivity analyses: leave-one-out, influence diagnostics and cumulative meta-analysis.

The same model (method, test, level) is refitted on subsets, as metafor's ``leave1out()``,
``influence()`` and ``cumul()``. Each refit is O(k) in memory; k refits cost O(k^2) time, which
is what these diagnostics are for (tens to hundreds of studies).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evidence_kit.synthesis.model import MetaResult, refit

_COLUMNS = ["estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2"]


def _row(res: MetaResult) -> list:
    return [res.estimate, res.se, res.statistic, res.pvalue, res.ci_lower, res.ci_upper, res.q,
            res.q_pvalue, res.tau2, res.i2, res.h2]


def _check(result):
    if not isinstance(result, MetaResult):
        raise TypeError(f"expected a MetaResult from meta_analysis(); got {type(result).__name__}")


def leave_one_out(result: MetaResult) -> pd.DataFrame:
    """Refit the model k times, each time without one study (metafor ``leave1out``).

    Returns
    -------
    DataFrame indexed by the omitted study's label: estimate, se, statistic, pvalue, ci_lower,
    ci_upper, q, q_pvalue, tau2, i2, h2.

    Notes
    -----
    Each row is the model of :func:`meta_analysis` on the other k - 1 studies with the same
    tau^2 estimator and test (Viechtbauer & Cheung 2010, Res Synth Methods 1:112, section 3.1).
    """
    _check(result)
    if result.p > 1:
        raise ValueError("leave_one_out() is for models without moderators (as metafor); use influence()")
    if result.k < 2:
        raise ValueError("leave_one_out() needs at least 2 studies")
    rows = []
    for i in range(result.k):
        keep = np.ones(result.k, dtype=bool)
        keep[i] = False
        rows.append(_row(refit(result, keep)))
    return pd.DataFrame(rows, columns=_COLUMNS, index=pd.Index(result.slab, name="omitted"))


def cumulative(result: MetaResult, order=None) -> pd.DataFrame:
    """Cumulative meta-analysis: the model on the first 1, 2, ..., k studies (metafor ``cumul``).

    Parameters
    ----------
    order : array-like, optional
        Sort keys, one per fitted study (e.g. publication year); studies are added in ascending
        order (stable, so ties keep the data order). Default: the data order.

    Returns
    -------
    DataFrame indexed by the label of the study added at each step, columns as
    :func:`leave_one_out`.

    Notes
    -----
    Lau et al. 1992, N Engl J Med 327:248. The first row is the single-study model (tau^2 = 0).
    """
    _check(result)
    if result.p > 1:
        raise ValueError("cumulative() is for models without moderators (as metafor)")
    idx = np.arange(result.k)
    if order is not None:
        order = np.asarray(order)
        if order.shape[0] != result.k:
            raise ValueError(f"order has {order.shape[0]} values but the model has k = {result.k} studies")
        idx = np.argsort(order, kind="stable")
    rows = []
    for j in range(1, result.k + 1):
        rows.append(_row(refit(result, idx[:j])))
    return pd.DataFrame(rows, columns=_COLUMNS, index=pd.Index(result.slab[idx], name="added"))


def influence(result: MetaResult) -> pd.DataFrame:
    """Case-deletion diagnostics (metafor ``influence.rma.uni``).

    Returns
    -------
    DataFrame indexed by study: rstudent, dffits, cook_d, cov_r, tau2_del, q_del, hat, weight,
    then dfbetas (first coefficient) and dfbetas_<term> for each further coefficient.

    Notes
    -----
    Viechtbauer & Cheung 2010, Res Synth Methods 1:112, eqs. 9-14, with the model refitted
    without study i (estimate b_(i), tau^2_(i), s2w_(i), V_(i)):

    - hat_i = w_i x_i'(X'WX)^-1 x_i; weight_i = 100 w_i / sum(w)
    - rstudent_i = (y_i - x_i'b_(i)) / sqrt(s2w_(i) (v_i + tau^2_(i)) + x_i'V_(i)x_i)
    - dffits_i = (x_i'b - x_i'b_(i)) / sqrt(s2w_(i) hat_i (tau^2_(i) + v_i))
    - cook_d_i = (b - b_(i))' V_b^-1 (b - b_(i)); cov_r_i = det V_(i) / det V_b
    - dfbetas_ij = (b_j - b_(i)j) / sqrt(s2w_(i) [(X'W_(i)X)^-1]_jj), W_(i) = diag 1/(v + tau^2_(i))
      over all k studies.
    """
    _check(result)
    k, p = result.k, result.p
    if k < 2:
        raise ValueError("influence() needs at least 2 studies")
    X, yi, vi = result.X, result.yi, result.vi
    beta = result.coefficients["estimate"].to_numpy()
    w = 1.0 / (vi + result.tau2)
    B = np.linalg.inv(X.T @ (X * w[:, None]))
    hat = w * np.einsum("ij,jk,ik->i", X, B, X)
    hat[hat > 1 - 10 * np.finfo(float).eps] = 1.0
    vb_inv = np.linalg.inv(result.vb)
    det_full = np.linalg.det(result.vb)
    pred_full = X @ beta
    out = np.full((k, 8), np.nan)
    dfbs = np.full((k, p), np.nan)
    out[:, 6], out[:, 7] = hat, result.weights  # from the full model, whatever the refits do
    for i in range(k):
        keep = np.ones(k, dtype=bool)
        keep[i] = False
        try:
            res = refit(result, keep)
        except (ValueError, np.linalg.LinAlgError):  # e.g. a moderator becomes constant
            continue  # only the refit-based statistics stay NaN (metafor: hat = 1 and the weight)
        b_del = res.coefficients["estimate"].to_numpy()
        xi = X[i]
        delpred = xi @ b_del
        vdelpred = xi @ res.vb @ xi
        resid = yi[i] - delpred
        if abs(resid) < 100 * np.finfo(float).eps:
            resid = 0.0
        rstudent = resid / np.sqrt(vi[i] * res.s2w + vdelpred + res.tau2 * res.s2w)
        dffits = (pred_full[i] - delpred) / np.sqrt(res.s2w * hat[i] * (res.tau2 + vi[i]))
        w_del = 1.0 / (vi + res.tau2)
        vb_del = np.linalg.inv(X.T @ (X * w_del[:, None]))
        dfb = beta - b_del
        dfbs[i] = dfb / np.sqrt(res.s2w * np.diag(vb_del))
        cook = dfb @ vb_inv @ dfb
        cov_r = np.linalg.det(res.vb) / det_full
        out[i] = [rstudent, dffits, cook, cov_r, res.tau2, res.q, hat[i], result.weights[i]]
    frame = pd.DataFrame(out, columns=["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight"],
                         index=pd.Index(result.slab, name="study"))
    frame["dfbetas"] = dfbs[:, 0]
    for j, term in enumerate(result.term_names[1:], start=1):
        frame[f"dfbetas_{term}"] = dfbs[:, j]
    return frame


__all__ = ["cumulative", "influence", "leave_one_out"]
