"""Cluster-robust (sandwich) inference for meta-analytic models.

``robust(result, cluster, small_sample="CR2")`` works on a ``MetaResult`` (univariate model,
metafor ``rma.uni``) or a ``MultilevelResult`` (``rma.mv``). "CR1" is metafor's ``robust()``
default; "CR2" is clubSandwich's bias-reduced linearization with Satterthwaite degrees of freedom
for single coefficients and the HTZ test (Hotelling's T^2 approximation) for several.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.format import df_label
from evidence_kit._core.results import FirstCoefficient
from evidence_kit._core.validate import check_choice
from evidence_kit.synthesis.multilevel import MultilevelResult, coefficient_table, marginal_solve

__all__ = ["RobustResult", "robust", "wald_test"]


@dataclass(frozen=True)
class _Model:
    """What the sandwich needs from a fitted model: data, design, variance structure, estimate."""

    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    beta: np.ndarray
    sigma2: np.ndarray
    codes: np.ndarray  # k x L nested group codes (outermost first)
    term_names: tuple
    level: float
    level_names: tuple
    top_labels: np.ndarray | None = None  # labels of the outermost level's groups, row by row
    V: object = None  # known sampling covariance (BlockCovariance) replacing diag(vi)


def _as_model(result) -> _Model:
    beta = result.coefficients["estimate"].to_numpy(dtype=float)
    if isinstance(result, MultilevelResult):
        return _Model(result.yi, result.vi, result.X, beta, np.asarray(result.sigma2),
                      result.codes, tuple(result.term_names), result.level, result.levels,
                      result.labels.iloc[:, 0].to_numpy(), getattr(result, "V", None))
    if hasattr(result, "tau2") and hasattr(result, "X"):
        # rma.uni: V = diag(v_i + tau^2), one "level" with a group per effect
        k = len(result.yi)
        return _Model(np.asarray(result.yi), np.asarray(result.vi), np.asarray(result.X), beta,
                      np.array([float(result.tau2)]), np.arange(k)[:, None],
                      tuple(result.term_names), float(result.level), ("effect",))
    raise TypeError("robust() takes a MetaResult or a MultilevelResult; got "
                    f"{type(result).__name__}")


def _cluster_codes(result, model: _Model, cluster) -> tuple[np.ndarray, np.ndarray]:
    k = model.yi.shape[0]
    if isinstance(cluster, str):
        labels = getattr(result, "labels", None)
        if labels is None or cluster not in labels:
            raise ValueError(f"cluster={cluster!r} is not a level of this model; pass the labels "
                             "as an array of length k")
        values = labels[cluster].to_numpy()
        if isinstance(result, MultilevelResult):
            # clusters named by a level are nested like the level itself (district/school)
            j = list(result.levels).index(cluster)
            return result.codes[:, j], values
    else:
        values = np.asarray(cluster, dtype=object).ravel()
    if values.shape[0] != k:
        raise ValueError(f"cluster has {values.shape[0]} labels but the model has k = {k} effects")
    if pd.isna(values).any():
        raise ValueError(f"cluster: missing labels at rows {np.flatnonzero(pd.isna(values))[:5]}")
    codes = pd.factorize(pd.Series(values.astype(str)), sort=True)[0]
    return codes, values


def _check_nested(model: _Model, cl: np.ndarray) -> None:
    """Each outermost random-effect group must sit inside one cluster (else V is not block
    diagonal by cluster), as clubSandwich's test_nested."""
    top = model.codes[:, 0]
    pairs = np.unique(np.column_stack([top, cl]), axis=0)
    spans = np.bincount(pairs[:, 0])
    if np.any(spans > 1):
        g = int(np.flatnonzero(spans > 1)[0])
        row = int(np.flatnonzero(top == g)[0])
        label = model.top_labels[row].item() if model.top_labels is not None else f"in row {row}"
        raise ValueError(f"level {model.level_names[0]!r} is not nested within the clusters: its "
                         f"group {label!r} spans {spans[g]} clusters; cluster at {model.level_names[0]!r} "
                         "or coarser")
    if model.V is not None and np.any(np.bincount(model.V.block_of, minlength=1) > 1):
        pairs = np.unique(np.column_stack([model.V.block_of, cl]), axis=0)
        if pairs.shape[0] != model.V.n_blocks:
            raise ValueError("correlated effects (a block of V) span several clusters; cluster at "
                             "the level of V's blocks or coarser")


def _blocks(model: _Model, cl: np.ndarray):
    """Per-cluster row indices and dense V_j = diag(v) + sum_l sigma2_l [same group at l]."""
    order = np.argsort(cl, kind="stable")
    bounds = np.flatnonzero(np.diff(cl[order])) + 1
    for rows in np.split(order, bounds):
        c = model.codes[rows]
        V = np.diag(model.vi[rows]) if model.V is None else model.V.submatrix(rows)
        for j, s2 in enumerate(model.sigma2):
            V = V + s2 * (c[:, j][:, None] == c[:, j][None, :])
        yield rows, V


@dataclass(frozen=True)
class RobustResult(FirstCoefficient):
    """Cluster-robust inference. ``coefficients`` has a ``df`` column; ``qm`` tests all
    moderators (F with ``qm_df``), None for an intercept-only model."""

    k: int
    n_clusters: int
    small_sample: str
    coefficients: pd.DataFrame
    vb: np.ndarray
    qm: float | None
    qm_df: tuple | None
    qm_pvalue: float | None
    model: object = field(repr=False)
    _parts: dict = field(repr=False, default_factory=dict)

    def __repr__(self) -> str:
        text = (f"Cluster-robust inference ({self.small_sample}; {self.n_clusters} clusters, "
                f"k = {self.k})\n\n" + self.coefficients.to_string(float_format=lambda v: f"{v:.4f}"))
        if self.qm is not None:
            text += f"\n\nTest of moderators: {df_label('F', self.qm_df)} = {self.qm:.4f}, p = {self.qm_pvalue:.4g}"
        return text

    def _repr_html_(self) -> str:
        return (f"<p><b>Cluster-robust inference</b> ({self.small_sample}; {self.n_clusters} "
                f"clusters, k = {self.k})</p>"
                + self.coefficients.to_html(float_format=lambda v: f"{v:.4f}"))


def robust(result, cluster, small_sample: str = "CR2") -> RobustResult:
    """Cluster-robust standard errors, tests and confidence intervals.

    Parameters
    ----------
    result : MetaResult or MultilevelResult
    cluster : str or array-like
        Cluster labels, one per fitted effect, or the name of a level of a multilevel model.
        Random-effect groups must be nested within clusters.
    small_sample : {"CR2", "CR1", "CR0"}
        "CR2": clubSandwich's bias-reduced linearization with Satterthwaite df per coefficient
        and the HTZ Wald test for the moderators (``clubSandwich::vcovCR``, ``coef_test``,
        ``Wald_test``). "CR1": metafor's ``robust()`` (factor J/(J - p), t and F on J - p df).
        "CR0": no correction, t on J - p df.

    Returns
    -------
    RobustResult

    Notes
    -----
    With working weights W = V^-1 and M = (X'WX)^-1, V_R = M [sum_j X_j'W_j A_j e_j e_j' A_j'
    W_j X_j] M (Hedges, Tipton & Johnson 2010, eq. 6). CR1 takes A_j = I and multiplies by
    J/(J - p). CR2 takes A_j = U_j' (U_j (V_j - X_j M X_j') U_j')^{-1/2} U_j, U_j'U_j = V_j
    (Bell & McCaffrey 2002; Tipton 2015, eq. 8; Pustejovsky & Tipton 2018, eq. 7); its
    Satterthwaite df = 2 E[.]^2 / Var[.] of the variance estimator under the working model
    (Tipton 2015, eq. 11), and the HTZ test is Pustejovsky & Tipton 2018, section 3.
    """
    small_sample = check_choice("small_sample", small_sample, ["CR2", "CR1", "CR0"])
    model = _as_model(result)
    cl, _ = _cluster_codes(result, model, cluster)
    _check_nested(model, cl)
    k, p = model.X.shape
    J = int(cl.max()) + 1
    if J <= p:
        raise ValueError(f"number of clusters ({J}) must be larger than the number of "
                         f"coefficients ({p})")
    e = model.yi - model.X @ model.beta
    WX = marginal_solve(model.vi, model.codes, model.sigma2, model.X, model.V)
    M = np.linalg.inv(model.X.T @ WX)
    M = 0.5 * (M + M.T)
    parts: dict = {}
    if small_sample in ("CR0", "CR1"):
        # u_j = X_j' W_j e_j, summed within clusters (W block diagonal by cluster)
        u = np.stack([np.bincount(cl, weights=WX[:, c] * e, minlength=J) for c in range(p)],
                     axis=1)
        vb = M @ (u.T @ u) @ M
        if small_sample == "CR1":
            vb = vb * J / (J - p)  # metafor robust(adjust=TRUE): n/(n - p)
        se = np.sqrt(np.diag(vb))
        df = np.full(p, float(J - p))
    else:
        vb, df, parts = _cr2(model, cl, J, M, e)
        se = np.sqrt(np.diag(vb))
    coefs = coefficient_table(model.beta, se, model.term_names, "t", df, model.level)
    coefs.insert(3, "df", df)
    qm = qm_df = qm_p = None
    if p > 1:
        C = np.eye(p)[1:]
        res = _wald(model.beta, vb, C, J, p, small_sample, parts)
        qm, qm_df, qm_p = res["F"], (res["df_num"], res["df_denom"]), res["pvalue"]
    return RobustResult(k=k, n_clusters=J, small_sample=small_sample, coefficients=coefs, vb=vb,
                        qm=qm, qm_df=qm_df, qm_pvalue=qm_p, model=result,
                        _parts=dict(parts, beta=model.beta, J=J, p=p,
                                    term_names=model.term_names))


def _cr2(model: _Model, cl, J, M, e):
    """clubSandwich CR2 with inverse-variance working weights (target = V, W = V^-1)."""
    p = model.X.shape[1]
    L_M = np.linalg.cholesky(M)  # t(chol(M_U)) in clubSandwich: L L' = M
    meat = np.zeros((p, p))
    G_rows = []  # per cluster: M E_j L_j (p x n_j), for the Satterthwaite/HTZ P array
    H = np.empty((p, p, J))
    for j, (rows, V) in enumerate(_blocks(model, cl)):
        Xj = model.X[rows]
        Lj = np.linalg.cholesky(V)  # V_j = L L', U = L' in the notes
        # With U'U = V_j and W_j = V_j^-1: G = U (I - H_jj) V_j U' = (L'L)^2 - (L'X) M (L'X)',
        # A = U' G^-1/2 U (Bell & McCaffrey 2002) and E = X'W A = Q' G^-1/2 L' with
        # Q = L^-1 X, since W U' = U^-1: no inverse of V_j is formed.
        LtL = Lj.T @ Lj
        LtX = Lj.T @ Xj
        G = LtL @ LtL - LtX @ M @ LtX.T
        vals, vecs = np.linalg.eigh(0.5 * (G + G.T))
        vals = np.where(vals > 1e-12 * vals.max(), vals, np.inf)
        Q = np.linalg.solve(Lj, Xj)  # L^-1 X (p columns)
        T = ((Q.T @ vecs) / np.sqrt(vals)) @ vecs.T  # Q' G^-1/2 (p x n_j)
        r = T @ (Lj.T @ e[rows])
        meat += np.outer(r, r)
        MT = M @ T
        G_rows.append(MT @ LtL)  # M E U'
        H[:, :, j] = MT @ LtX @ L_M
    vb = M @ meat @ M
    vb = 0.5 * (vb + vb.T)
    # Satterthwaite: P_i = -H_i'H_i + diag(g_i), H_i (p x J) = H[i]; g_ij = |G_j[i, :]|^2
    g = np.stack([np.sum(Gj * Gj, axis=1) for Gj in G_rows], axis=1)  # p x J
    df = np.empty(p)
    for i in range(p):
        P = -H[i].T @ H[i]
        P[np.diag_indices(J)] += g[i]
        df[i] = 2 * np.trace(P) ** 2 / (2 * np.sum(P * P))  # Tipton 2015, eq. 11
    return vb, df, {"H": H, "G": G_rows}


def _wald(beta, vb, C, J, p, small_sample, parts) -> dict:
    """F test of C beta = 0: HTZ under CR2 (clubSandwich ``Wald_test``), else F(q, J - p)."""
    q = C.shape[0]
    Cb = C @ beta
    Q = float(Cb @ np.linalg.solve(C @ vb @ C.T, Cb))
    if small_sample != "CR2":
        F = Q / q
        return {"Q": Q, "F": F, "df_num": q, "df_denom": float(J - p),
                "pvalue": float(stats.f.sf(F, q, J - p)), "delta": 1.0}
    H = np.einsum("sp,puj->suj", C, parts["H"])  # q x p x J
    G = [C @ Gj for Gj in parts["G"]]
    gram = np.stack([Gj @ Gj.T for Gj in G], axis=2)  # q x q x J: G_j[s].G_j[t]
    omega = -np.einsum("suj,tuj->st", H, H) + gram.sum(axis=2)
    vals, vecs = np.linalg.eigh(omega)
    Om = (vecs / np.sqrt(vals)) @ vecs.T  # Omega^{-1/2}
    H = np.einsum("st,tuj->suj", Om, H)
    gram = np.einsum("st,tuj,vu->svj", Om, gram, Om)
    # B[s,t,a,b] = -h_sa . h_tb + delta_ab gram[s,t,a]
    B = -np.einsum("sua,tub->stab", H, H)
    idx = np.arange(J)
    B[:, :, idx, idx] += gram
    var = (np.einsum("stab,tsab->st", B, B)
           + np.einsum("ssab,ttab->st", B, B))  # clubSandwich total_variance_mat
    nu = q * (q + 1) / np.sum(var)
    delta = max((nu - q + 1) / nu, 0.0)  # Hotelling's T^2 approximation (Zhang 2012)
    df2 = nu - q + 1
    F = delta * Q / q
    pval = float(stats.f.sf(F, q, df2)) if df2 > 0 else np.nan
    return {"Q": Q, "F": F, "df_num": q, "df_denom": float(df2), "pvalue": pval, "delta": delta}


def wald_test(robust_result: RobustResult, terms) -> pd.Series:
    """Test that several coefficients are all zero with the robust covariance.

    Parameters
    ----------
    robust_result : RobustResult
    terms : list of str or array (q x p)
        Term names to test jointly, or a constraint matrix C for C beta = 0.

    Returns
    -------
    Series with Q (Wald chi-square), F, df_num, df_denom, pvalue, delta (the HTZ scale; 1 for
    CR0/CR1). CR2 uses the HTZ test (clubSandwich ``Wald_test(test="HTZ")``); CR0/CR1 use
    F = Q/q on (q, J - p) df as metafor.
    """
    parts = robust_result._parts
    names = list(parts["term_names"])
    p = parts["p"]
    if isinstance(terms, str):
        terms = [terms]
    if isinstance(terms, (list, tuple)) and all(isinstance(t, str) for t in terms):
        unknown = [t for t in terms if t not in names]
        if unknown:
            raise ValueError(f"unknown terms {unknown}; expected among {', '.join(names)}")
        C = np.eye(p)[[names.index(t) for t in terms]]
    else:
        C = np.atleast_2d(np.asarray(terms, dtype=float))
        if C.shape[1] != p:
            raise ValueError(f"constraint matrix must have {p} columns; got {C.shape[1]}")
    res = _wald(parts["beta"], robust_result.vb, C, parts["J"], p, robust_result.small_sample,
                parts)
    return pd.Series(res)[["Q", "F", "df_num", "df_denom", "pvalue", "delta"]]
