"""Permutation tests for meta-analytic models, as metafor's ``permutest``.

Meta-regression: the rows of the design matrix are permuted against (y_i, v_i); intercept-only
models: the signs of the y_i are flipped (Follmann & Proschan 1999; Higgins & Thompson 2004).
Every permuted model is refitted with the original tau^2 estimator. All permutations of a chunk
are fitted at once: Fisher scoring runs on a (B, k, p) array, so there is no Python loop over
permutations.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm import TqdmWarning

from evidence_kit._core.validate import check_choice
from evidence_kit.synthesis._tau2 import METHOD_ALIASES, TAU2_METHODS
from evidence_kit.synthesis.model import MetaResult, fit

with warnings.catch_warnings():  # without ipywidgets tqdm.auto warns on import and falls back to text bars
    warnings.simplefilter("ignore", TqdmWarning)
    from tqdm.auto import tqdm

__all__ = ["PermutationResult", "permutation_test"]

VECTORIZED = ("EE", "DL", "ML", "REML")
CHUNK = 2_000  # permutations fitted together (memory: CHUNK * k * p floats)
COMPTOL = math.sqrt(np.finfo(float).eps)  # metafor's comptol: ties count as "as extreme"


@dataclass(frozen=True)
class PermutationResult:
    """Permutation p-values. ``coefficients`` is the model's table with ``pvalue`` replaced by the
    permutation p-value (``pvalue_model`` keeps the original); ``qm_pvalue`` is the permutation
    p-value of the omnibus test of the moderators (None without moderators)."""

    n_permutations: int
    exact: bool
    coefficients: pd.DataFrame
    qm: float | None
    qm_pvalue: float | None
    statistic_permuted: np.ndarray = field(repr=False)
    qm_permuted: np.ndarray | None = field(repr=False)

    @property
    def pvalue(self) -> float:
        return float(self.coefficients["pvalue"].iloc[0])

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "random"
        text = (f"Permutation test ({self.n_permutations} {kind} permutations)\n\n"
                + self.coefficients.to_string(float_format=lambda v: f"{v:.4f}"))
        if self.qm is not None:
            text += f"\n\nOmnibus test of moderators: QM = {self.qm:.4f}, permutation p = {self.qm_pvalue:.4f}"
        return text

    def _repr_html_(self) -> str:
        kind = "exact" if self.exact else "random"
        parts = [f"<p><b>Permutation test</b> ({self.n_permutations} {kind} permutations)</p>",
                 self.coefficients.to_html(float_format=lambda v: f"{v:.4f}")]
        if self.qm is not None:
            parts.append(f"<p>Omnibus test of moderators: QM = {self.qm:.4f}, "
                         f"permutation p = {self.qm_pvalue:.4f}</p>")
        return "\n".join(parts)


def _fit_many(Y: np.ndarray, X: np.ndarray, vi: np.ndarray, method: str, test: str):
    """Fit B models at once. Y: (B, k), X: (B, k, p) or (k, p). Returns z (B, p) and QM (B,).

    tau^2 as ``synthesis``: DL (DerSimonian & Laird 1986), ML/REML by Fisher scoring with step
    halving at the boundary (Viechtbauer 2005, eqs. 9-12), EE = 0.
    """
    B, k = Y.shape
    Xb = np.broadcast_to(X, (B,) + X.shape[-2:]) if X.ndim == 2 else X
    p = Xb.shape[2]

    def gls(tau2, sel=slice(None)):
        X_, Y_ = Xb[sel], Y[sel]
        w = 1.0 / (vi[None, :] + tau2[:, None])  # (B, k)
        XW = X_ * w[:, :, None]
        M = np.linalg.inv(np.swapaxes(XW, 1, 2) @ X_)  # (X'WX)^-1
        beta = (M @ np.einsum("bki,bk->bi", XW, Y_)[..., None])[..., 0]
        r = Y_ - (X_ @ beta[..., None])[..., 0]
        return w, M, beta, r

    def cross(X_, f):
        """X' diag(f) X for each b."""
        return np.swapaxes(X_ * f[:, :, None], 1, 2) @ X_

    if method == "EE":
        tau2 = np.zeros(B)
    else:
        # DL from the equal-effects fit (also the start for ML/REML)
        w0 = np.broadcast_to(1.0 / vi, (B, k))
        _, M0, _, r0 = gls(np.zeros(B))
        q = np.sum(w0 * r0 * r0, axis=1)
        trp = np.sum(w0, axis=1) - np.einsum("bij,bji->b", M0, cross(Xb, w0 * w0))
        tau2 = np.maximum(0.0, (q - (k - p)) / trp)  # DerSimonian & Laird 1986
        if method in ("ML", "REML"):
            active = np.arange(B)
            for _ in range(500):
                t = tau2[active]
                w, M, _, r = gls(t, active)
                wr = w * r
                ypp = np.sum(wr * wr, axis=1)  # y'PPy = |W r|^2
                if method == "REML":
                    # tr P and tr PP via p x p products: P = W - W X M X' W
                    X_ = Xb[active]
                    MA2 = M @ cross(X_, w * w)
                    trP = np.sum(w, axis=1) - np.trace(MA2, axis1=1, axis2=2)
                    trPP = (np.sum(w * w, axis=1) - 2 * np.einsum("bij,bji->b", M, cross(X_, w**3))
                            + np.einsum("bij,bji->b", MA2, MA2))
                    score, info = 0.5 * (ypp - trP), 0.5 * trPP
                else:
                    score = 0.5 * (ypp - np.sum(w, axis=1))
                    info = 0.5 * np.sum(w * w, axis=1)
                step = score / info
                new = t + step
                while np.any(new < 0):  # step halving at the boundary, as metafor
                    neg = new < 0
                    step = np.where(neg, step / 2, step)
                    new = t + step
                    new = np.where(neg & (np.abs(step) < 1e-14), 0.0, new)
                tau2[active] = new
                active = active[np.abs(new - t) >= 1e-10]
                if active.size == 0:
                    break
    w, M, beta, r = gls(tau2)
    vb = M
    if test == "knha":
        s2w = np.sum(w * r * r, axis=1) / (k - p)  # Knapp & Hartung 2003
        vb = M * s2w[:, None, None]
    se = np.sqrt(np.diagonal(vb, axis1=1, axis2=2))
    z = beta / se
    qm = np.full(B, np.nan)
    if p > 1:
        bm = beta[:, 1:]
        qm = np.einsum("bi,bi->b", bm, np.linalg.solve(vb[:, 1:, 1:], bm[..., None])[..., 0])
        if test == "knha":
            qm = qm / (p - 1)
    return z, qm


def _fit_loop(Y: np.ndarray, X: np.ndarray, vi: np.ndarray, method: str, test: str):
    """The same as ``_fit_many`` by one ``synthesis.fit`` per permutation: for the tau^2
    estimators without a vectorized path (HE, HS, SJ, EB, PM)."""
    B = Y.shape[0]
    Xb = np.broadcast_to(X, (B,) + X.shape[-2:]) if X.ndim == 2 else X
    z = np.empty((B, Xb.shape[2]))
    qm = np.full(B, np.nan)
    for b in range(B):  # slow path: one refit per permutation
        r = fit(Y[b], vi, Xb[b], method=method, test=test)
        z[b] = r.coefficients["statistic"].to_numpy()
        if r.qm is not None:
            qm[b] = r.qm
    return z, qm


def permutation_test(result: MetaResult, n_permutations: int = 1000, *, seed=None, rng=None,
                     exact: bool | None = None, progress: bool | None = None) -> PermutationResult:
    """Permutation p-values for the coefficients and the omnibus test, as metafor ``permutest``.

    Parameters
    ----------
    result : MetaResult
        A fitted model. EE, DL, ML and REML refit all permutations at once; the other tau^2
        estimators refit one permutation at a time (correct, but slower).
    n_permutations : int
        Number of random permutations (the observed arrangement counts as the first).
    seed, rng : int or numpy Generator, optional
        Randomness; the global numpy state is never touched.
    exact : bool, optional
        Enumerate every permutation (2^k sign flips, or k! row orders). By default exact when
        that number is at most ``n_permutations``, as metafor.
    progress : bool, optional
        Show a tqdm progress bar; by default when more than 50,000 refits are needed.

    Returns
    -------
    PermutationResult

    Notes
    -----
    p_j = #{b : |z_j^(b)| >= |z_j| - tol} / B and p_QM = #{b : QM^(b) >= QM - tol} / B with
    tol = sqrt(machine eps) (metafor ``permutest``, two-sided "abs" definition; Higgins &
    Thompson 2004, Stat Med 23:1663, section 5).
    """
    if not isinstance(result, MetaResult):
        raise TypeError("permutation_test() takes a MetaResult")
    method = check_choice("method", result.method, TAU2_METHODS, aliases=METHOD_ALIASES)
    refit = _fit_many if method in VECTORIZED else _fit_loop
    if result.k < 2:
        raise ValueError("permutation_test() needs at least 2 studies")
    n_permutations = int(n_permutations)
    if n_permutations < 2:
        raise ValueError("n_permutations must be at least 2")
    if rng is None:
        rng = np.random.default_rng(seed)
    elif seed is not None:
        raise ValueError("give seed= or rng=, not both")
    yi, vi, X = result.yi, result.vi, result.X
    k, p = X.shape
    int_only = p == 1
    n_exact = 2**k if int_only else math.factorial(k)
    if exact is None:
        exact = n_exact <= n_permutations
    if exact and n_exact > 5_000_000:
        raise ValueError(f"exact test needs {n_exact} refits; use random permutations")
    total = n_exact if exact else n_permutations

    def batches():
        if exact and int_only:
            for start in range(0, total, CHUNK):
                idx = np.arange(start, min(start + CHUNK, total))
                bits = (idx[:, None] >> np.arange(k)[None, :]) & 1
                yield 1 - 2 * bits, None  # all sign vectors (first: no flip)
        elif exact:
            perms = itertools.permutations(range(k))
            while chunk := list(itertools.islice(perms, CHUNK)):
                yield None, np.array(chunk)
        else:
            done = 0
            while done < total:
                b = min(CHUNK, total - done)
                if int_only:
                    signs = rng.choice(np.array([-1, 1]), size=(b, k))
                    if done == 0:
                        signs[0] = 1  # the observed data count as one permutation
                    yield signs, None
                else:
                    orders = rng.permuted(np.tile(np.arange(k), (b, 1)), axis=1)
                    if done == 0:
                        orders[0] = np.arange(k)
                    yield None, orders
                done += b

    show = progress if progress is not None else total > (50_000 if method in VECTORIZED else 500)
    bar = None
    if show:
        bar = tqdm(total=total, desc="permutations", unit="fit")
    zs, qms = [], []
    for signs, orders in batches():
        if signs is not None:
            z, qm = refit(signs * yi[None, :], X, vi, method, result.test)
        else:
            Y = np.broadcast_to(yi, (orders.shape[0], k))
            z, qm = refit(np.ascontiguousarray(Y), X[orders], vi, method, result.test)
        zs.append(z)
        qms.append(qm)
        if bar is not None:
            bar.update(z.shape[0])
    if bar is not None:
        bar.close()
    zperm = np.concatenate(zs)
    qmperm = np.concatenate(qms)
    coefs = result.coefficients.copy()
    zobs = coefs["statistic"].to_numpy()
    pvals = np.mean(np.abs(zperm) >= np.abs(zobs)[None, :] - COMPTOL, axis=0)
    coefs.insert(4, "pvalue_model", coefs["pvalue"])
    coefs["pvalue"] = np.minimum(pvals, 1.0)
    qm_p = None
    if not int_only:
        qm_p = float(np.mean(qmperm >= result.qm - COMPTOL))
    return PermutationResult(n_permutations=int(zperm.shape[0]), exact=bool(exact),
                             coefficients=coefs, qm=result.qm, qm_pvalue=qm_p,
                             statistic_permuted=zperm,
                             qm_permuted=None if int_only else qmperm)
