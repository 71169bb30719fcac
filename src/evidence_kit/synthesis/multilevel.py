"""Multilevel (nested random-effects) meta-analysis, as metafor's ``rma.mv(random = ~ 1 | a/b)``.

The model for effect i in innermost group g_L(i), nested in ... in outermost group g_1(i) is

    y_i = x_i' beta + u_{1,g_1(i)} + ... + u_{L,g_L(i)} + e_i,   u_l ~ N(0, sigma2_l), e_i ~ N(0, v_i)

(Konstantopoulos 2011, eq. 4; Van den Noortgate et al. 2013). The marginal covariance
V = diag(v) + sum_l sigma2_l Z_l Z_l' is block diagonal by outermost group, and each block is a
diagonal plus nested rank-one terms, so V^-1 u and log|V| follow from one Sherman-Morrison step per
level, group sums computed with ``np.bincount``: time and memory are linear in k, and no k x k
matrix is ever formed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from evidence_kit._core.format import df_label
from evidence_kit._core.results import FirstCoefficient, linear_prediction
from evidence_kit._core.validate import check_choice, check_rows, get_column, row_labels
from evidence_kit.synthesis._blockmodel import BlockEngine, level_engine, maximize
from evidence_kit.synthesis._design import full_rank_design, has_intercept
from evidence_kit.synthesis._tau2 import MultipleMaximaWarning
from evidence_kit.synthesis.compare import fitstats
from evidence_kit.synthesis.profile import profile as profile_ll
from evidence_kit.synthesis.profile import profile_ci
from evidence_kit.synthesis.residuals import ranef, rstandard, rstudent
from evidence_kit.synthesis.vcalc import BlockCovariance, as_block_covariance

__all__ = ["MultilevelResult", "marginal_solve", "multilevel_meta_analysis"]


# --------------------------------------------------------------------------------------------
# design matrix and grouping


def nested_codes(data: pd.DataFrame | None, levels, k: int) -> np.ndarray:
    """Integer group codes (k x L), level l grouping by the labels of levels 1..l (as ``a/b`` in R).

    Inner labels are read within their outer group, so school 1 of district 11 and school 1 of
    district 12 are different schools, exactly as metafor's ``~ 1 | district/school``.
    """
    if isinstance(levels, str):
        levels = [levels]
    labels = []
    for lev in levels:
        name = lev if isinstance(lev, str) else f"level{len(labels) + 1}"
        raw = data[lev] if isinstance(lev, str) and data is not None and lev in data else lev
        if isinstance(lev, str) and (data is None or lev not in data):
            get_column(data, lev, "levels")
        values = pd.Series(np.asarray(raw, dtype=object).ravel())
        if values.shape[0] != k:
            raise ValueError(f"levels: {name!r} has {values.shape[0]} values but there are {k} rows")
        check_rows(values.isna().to_numpy(), name, "missing cluster labels", values.to_numpy(),
               row_labels(data, k))
        labels.append(values.astype(str).to_numpy())
    codes = np.empty((k, len(labels)), dtype=np.intp)
    prev = np.zeros(k, dtype=np.int64)
    for j in range(len(labels)):
        # sorted codes of (outer code, own label): the same as factorising the label tuples
        own, uniq = pd.factorize(labels[j], sort=True)
        key = prev * (len(uniq) + 1) + own
        prev = np.unique(key, return_inverse=True)[1].astype(np.int64).ravel()
        codes[:, j] = prev
    return codes


# --------------------------------------------------------------------------------------------
# the block-structured linear algebra


def solve_nested(vi: np.ndarray, codes: np.ndarray, sigma2: np.ndarray, U: np.ndarray,
                 *, group_quad: bool = False):
    """Return ``V^-1 U`` and ``log|V|`` for V = diag(vi) + sum_l sigma2_l Z_l Z_l' (nested Z_l).

    Levels are processed innermost first; at each level, for every group g,
    A_new^-1 = A^-1 - s A^-1 1_g 1_g' A^-1 / (1 + s 1_g' A^-1 1_g) (Sherman-Morrison), and
    A^-1 1_g is carried as a per-effect vector ``r`` (A^-1 1_g = r on the rows of g).
    With ``group_quad`` also returns, per level, c_g = 1_g' V^-1 1_g for every group g (for the
    score), updated through the outer levels by the same identity.
    """
    L = codes.shape[1]
    Wu = U / vi[:, None]
    r = 1.0 / vi
    logdet = float(np.sum(np.log(vi)))
    quad: list = [None] * L  # c_g per level
    link: list = [None] * L  # d_g = 1_g' A^-1 1_h, h the current outer group of g
    for j in range(L - 1, -1, -1):
        g = codes[:, j]
        ng = int(g.max()) + 1
        a = np.bincount(g, weights=r, minlength=ng)  # 1_g' A^-1 1_g
        denom = 1.0 + sigma2[j] * a
        logdet += float(np.sum(np.log(denom)))
        t = np.stack([np.bincount(g, weights=Wu[:, c], minlength=ng) for c in range(Wu.shape[1])],
                     axis=1)  # 1_g' A^-1 U
        Wu = Wu - sigma2[j] * r[:, None] * (t / denom[:, None])[g]
        if group_quad:
            parent = np.zeros(ng, dtype=np.intp)
            for i in range(j + 1, L):  # inner levels: one more Sherman-Morrison step
                parent = _parent(codes[:, i], g)
                quad[i] = quad[i] - sigma2[j] * link[i] ** 2 / denom[parent]
                link[i] = link[i] / denom[parent]
            quad[j] = a / denom
            link[j] = a / denom
        r = r / denom[g]
    return Wu, logdet, quad


def diag_inverse(vi: np.ndarray, codes: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """diag(V^-1) for V = diag(vi) + sum_l sigma2_l Z_l Z_l' (nested Z_l), in O(k).

    The same Sherman-Morrison steps as :func:`solve_nested`, innermost level first: with
    r = A^-1 1_g on the rows of group g, diag(A_new^-1)_i = diag(A^-1)_i - s r_i^2 / (1 + s 1_g'r).
    """
    d = 1.0 / vi
    r = 1.0 / vi
    for j in range(codes.shape[1] - 1, -1, -1):
        g = codes[:, j]
        denom = 1.0 + sigma2[j] * np.bincount(g, weights=r, minlength=int(g.max()) + 1)
        d = d - sigma2[j] * r * r / denom[g]
        r = r / denom[g]
    return d


def _parent(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """For each inner group code, the outer group code that contains it."""
    out = np.empty(int(inner.max()) + 1, dtype=np.intp)
    out[inner] = outer
    return out


def _cross(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A'B for tall A, B (k x p): einsum, as BLAS matmul of a transposed tall matrix is slow."""
    return np.einsum("ki,kj->ij", A, B)


def _objective(theta, yi, vi, X, codes, reml, logdet_xx):
    """Minus the (restricted) log-likelihood and its gradient in theta = log sigma2."""
    sigma2 = np.exp(theta)
    L = codes.shape[1]
    p = X.shape[1]
    Wu, logdet, quad = solve_nested(vi, codes, sigma2, np.column_stack([X, yi]), group_quad=True)
    VX, Vy = Wu[:, :p], Wu[:, p]
    XtWX = _cross(X, VX)
    chol = np.linalg.cholesky(XtWX)
    M = np.linalg.inv(XtWX)
    b = M @ np.einsum("ki,k->i", X, Vy)
    Pe = Vy - np.einsum("ki,i->k", VX, b)  # P y = V^-1 (y - X b)
    rss = float(np.dot(yi, Pe))  # y'Py
    k = yi.shape[0]
    if reml:  # metafor .ll.rma.mv, REML: includes + 1/2 log|X'X|
        ll = (-0.5 * (k - p) * np.log(2 * np.pi) + 0.5 * logdet_xx - 0.5 * logdet
              - float(np.sum(np.log(np.diag(chol)))) - 0.5 * rss)
    else:
        ll = -0.5 * k * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * rss
    # score: d ll / d sigma2_l = -1/2 tr(P Z_l Z_l') + 1/2 |Z_l' P y|^2 (Harville 1977);
    # tr(V^-1 Z Z') = sum_g c_g, and the REML term subtracts sum_g s_g' M s_g, s_g = X'V^-1 1_g
    grad = np.empty(L)
    for j in range(L):
        g = codes[:, j]
        ng = quad[j].shape[0]
        zpe = np.bincount(g, weights=Pe, minlength=ng)
        tr = float(np.sum(quad[j]))
        if reml:
            S = np.stack([np.bincount(g, weights=VX[:, c], minlength=ng) for c in range(p)], axis=1)
            tr -= float(np.einsum("gi,ij,gj->", S, M, S))
        grad[j] = -0.5 * tr + 0.5 * float(zpe @ zpe)
    return -ll, -grad * sigma2


def _loglik(theta, yi, vi, X, codes, reml, logdet_xx):
    return -_objective(theta, yi, vi, X, codes, reml, logdet_xx)[0]


def _maximize(yi, vi, X, codes, reml, start):
    """Maximize the (restricted) likelihood over log sigma2; returns theta and convergence flag."""
    logdet_xx = float(np.linalg.slogdet(_cross(X, X))[1])
    L = codes.shape[1]
    lo, hi = np.log(1e-12 * max(np.var(yi), 1e-8)), np.log(1e4 * max(np.var(yi), np.max(vi)))

    def fg(theta):
        return _objective(theta, yi, vi, X, codes, reml, logdet_xx)

    res = optimize.minimize(fg, start, jac=True, method="L-BFGS-B", bounds=[(lo, hi)] * L,
                            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 500})
    theta = np.clip(res.x, lo, hi)
    # Newton polish on the interior components (Hessian from differences of the analytic
    # score): the optimum, not a stopping point, so results compare with metafor run at
    # rel.tol = 1e-12.
    for _ in range(20):
        free = theta > lo + 1e-6
        if not free.any():
            break
        idx = np.flatnonzero(free)
        g = fg(theta)[1][free]
        h = 1e-5
        H = np.empty((idx.size, idx.size))
        for a, i in enumerate(idx):
            e = np.zeros(L)
            e[i] = h
            H[a] = (fg(theta + e)[1] - fg(theta - e)[1])[free] / (2 * h)
        H = 0.5 * (H + H.T)
        if np.any(np.linalg.eigvalsh(H) <= 0):
            break
        step = np.linalg.solve(H, g)
        new = theta.copy()
        new[free] = np.clip(theta[free] - step, lo, hi)
        if fg(new)[0] > fg(theta)[0] + 1e-12:
            break
        theta = new
        if np.max(np.abs(step)) < 1e-10:
            break
    g = fg(theta)[1]
    free = theta > lo + 1e-6
    # converged: zero score at interior components, outward-pointing score at the bound
    converged = bool(np.all(np.abs(g[free]) < 1e-6) and np.all(g[~free] >= -1e-6))
    return theta, converged


MULTISTART_MAX_K = 2000


def _global_maximum(yi, vi, X, codes, reml, start, level_names):
    """The highest of the local maxima reached from several starts: the even split ``start``, every
    variance near 0, and each variance near 0 with the others at ``start`` (the likelihood of the
    variance components can have several local maxima, often one on the boundary, and one start
    finds only the nearest; see tests/test_multilevel_global_max.py). Above MULTISTART_MAX_K
    effects (where each start costs seconds) the other starts are only evaluated, and optimised
    from when one is already higher than the first answer. Warns, naming them, when the starts
    end at different local maxima."""
    L = codes.shape[1]
    logdet_xx = float(np.linalg.slogdet(_cross(X, X))[1])
    near0 = np.log(1e-6 * max(np.var(yi), 1e-8))
    starts = [np.full(L, near0)]
    if L > 1:
        for j in range(L):
            s = start.copy()
            s[j] = near0
            starts.append(s)
    theta, conv = _maximize(yi, vi, X, codes, reml, start)
    found = [(_loglik(theta, yi, vi, X, codes, reml, logdet_xx), theta, conv)]
    for s in starts:
        if yi.shape[0] > MULTISTART_MAX_K and _loglik(s, yi, vi, X, codes, reml, logdet_xx) <= found[0][0]:
            continue
        theta, conv = _maximize(yi, vi, X, codes, reml, s)
        found.append((_loglik(theta, yi, vi, X, codes, reml, logdet_xx), theta, conv))
    best = max(found, key=lambda f: f[0])
    if found[0][0] >= best[0] - 1e-9 * (1 + abs(best[0])):
        best = found[0]  # the first start's answer unless another start is truly higher
    same = [f for f in found if abs(f[0] - best[0]) <= 1e-9 * (1 + abs(best[0]))
            and np.allclose(np.exp(f[1]), np.exp(best[1]), rtol=1e-4, atol=1e-8 * (np.var(yi) + np.mean(vi)))]
    best = (best[0], best[1], any(f[2] for f in same))
    # distinct maxima: sigma^2 apart by more than 1e-4 of the total variance and a lower logLik
    scale = float(np.var(yi) + np.mean(vi))
    distinct = []
    for ll, theta, _ in sorted(found, key=lambda f: -f[0]):
        if all(np.max(np.abs(np.exp(theta) - np.exp(t))) > 1e-4 * scale for _, t, _ in distinct):
            distinct.append((ll, theta, None))
    if len(distinct) > 1 and distinct[1][0] < best[0] - 1e-6:
        listed = "; ".join(f"sigma^2 = ({', '.join(f'{x:.4g}' for x in np.exp(t))}) logLik {ll:.4f}"
                           for ll, t, _ in distinct)
        warnings.warn(f"the {'restricted ' if reml else ''}log-likelihood of the variance components "
                      f"({', '.join(level_names)}) has {len(distinct)} local maxima: {listed}; returned the "
                      "highest", MultipleMaximaWarning, stacklevel=3)
    return best[1], best[2]


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    vb: np.ndarray
    resid_weighted: np.ndarray  # V^-1 (y - X beta)


def _gls(yi, vi, X, codes, sigma2) -> _Fit:
    Wu, _, _ = solve_nested(vi, codes, sigma2, np.column_stack([X, yi]))
    p = X.shape[1]
    XtWX = _cross(X, Wu[:, :p])
    vb = np.linalg.inv(XtWX)
    vb = 0.5 * (vb + vb.T)
    beta = vb @ np.einsum("ki,k->i", X, Wu[:, p])
    resid_w = Wu[:, p] - np.einsum("ki,i->k", Wu[:, :p], beta)  # V^-1 (y - X b)
    return _Fit(beta=beta, vb=vb, resid_weighted=resid_w)


# --------------------------------------------------------------------------------------------
# result


@dataclass(frozen=True)
class MultilevelResult(FirstCoefficient):
    """A fitted multilevel model. Fields echo what was chosen and hold what was estimated.

    ``sigma2`` has one variance per level, outermost first (as metafor's ``sigma2``);
    ``n_groups`` the number of groups per level; ``i2_levels`` the share of total variance at
    each level in percent (Cheung 2014); ``i2`` their sum.
    """

    k: int
    method: str
    test: str
    level: float
    levels: tuple[str, ...]
    coefficients: pd.DataFrame
    sigma2: np.ndarray
    n_groups: tuple[int, ...]
    i2_levels: pd.Series
    i2: float
    q: float
    q_df: int
    q_pvalue: float
    qm: float | None
    qm_df: tuple[int, ...] | None
    qm_pvalue: float | None
    ll: float
    converged: bool
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    term_names: tuple[str, ...] = field(repr=False)
    vb: np.ndarray = field(repr=False)
    codes: np.ndarray = field(repr=False)
    labels: pd.DataFrame = field(repr=False)
    #: row labels (as ``MetaResult.slab``), weights in percent as metafor's ``weights()`` of an
    #: rma.mv model (100 diag(V^-1) / sum(diag(V^-1))), and the effect measure when known
    slab: np.ndarray = field(default=None, repr=False)
    weights: np.ndarray = field(default=None, repr=False)
    measure: str | None = None
    V: BlockCovariance | None = field(repr=False, default=None)
    design: tuple = field(repr=False, default=())
    fixed_sigma2: tuple = field(repr=False, default=())  # levels whose sigma2 was fixed

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def aic(self) -> float:
        return -2 * self.ll + 2 * (self.p + len(self.levels) - len(self.fixed_sigma2))

    def predict(self, newmods=None) -> pd.DataFrame:
        """Predicted effect with confidence and prediction intervals (metafor ``predict.rma.mv``).

        ``newmods``: None for the pooled estimate (intercept-only model) or the fitted value of
        every effect; otherwise rows of moderator values without the intercept.

        Notes
        -----
        pred = x'b, se = sqrt(x' V_b x); the prediction interval adds the variance components of
        all levels: pred +- crit sqrt(se^2 + sum_l sigma2_l) (metafor ``predict.rma.mv`` for
        nested random intercepts; Riley, Higgins & Deeks 2011).
        """
        if newmods is None:
            Xn = self.X[:1] if self.p == 1 else self.X
        else:
            Xn = np.atleast_2d(np.asarray(newmods, dtype=float))
            if self.p == 2 and Xn.shape[0] == 1 and Xn.shape[1] != 1:
                Xn = Xn.T
            if Xn.shape[1] == self.p - 1:
                Xn = np.column_stack([np.ones(Xn.shape[0]), Xn])
            if Xn.shape[1] != self.p:
                raise ValueError(f"newmods has {Xn.shape[1]} columns; the model has "
                                 f"{self.p - 1} moderators")
        pred, se, crit = linear_prediction(Xn, self.coefficients["estimate"].to_numpy(), self.vb, self.level,
                                           self.k - self.p if self.test == "t" else None)
        spi = np.sqrt(se**2 + np.sum(self.sigma2))
        return pd.DataFrame({"pred": pred, "se": se, "ci_lower": pred - crit * se,
                             "ci_upper": pred + crit * se, "pi_lower": pred - crit * spi,
                             "pi_upper": pred + crit * spi})

    def summary(self) -> pd.DataFrame:
        """The coefficient table (full precision)."""
        return self.coefficients.copy()

    def variance_components(self) -> pd.DataFrame:
        """One row per level: sigma2, sqrt(sigma2), number of groups, I^2 share (percent)."""
        return pd.DataFrame({"sigma2": self.sigma2, "sigma": np.sqrt(self.sigma2),
                             "n_groups": self.n_groups, "i2": self.i2_levels.to_numpy()},
                            index=pd.Index(self.levels, name="level"))

    def __repr__(self) -> str:
        head = (f"Multivariate meta-analysis model (k = {self.k}; method: {self.method})\n"
                f"Levels (outermost first): {' / '.join(self.levels)}\n\n")
        vc = self.variance_components().to_string(float_format=lambda v: f"{v:.4f}")
        het = f"\n\nTest for heterogeneity: Q({self.q_df}) = {self.q:.4f}, p = {self.q_pvalue:.4g}"
        mods = ""
        if self.qm is not None:
            label = df_label("F" if len(self.qm_df) == 2 else "QM", self.qm_df)
            mods = f"\nTest of moderators: {label} = {self.qm:.4f}, p = {self.qm_pvalue:.4g}"
        coef = self.coefficients.to_string(float_format=lambda v: f"{v:.4f}")
        return head + vc + het + mods + "\n\n" + coef

    def _repr_html_(self) -> str:
        return (f"<p><b>Multilevel meta-analysis</b> (k = {self.k}; method: {self.method}; "
                f"levels: {' / '.join(self.levels)})</p>"
                + self.variance_components().to_html(float_format=lambda v: f"{v:.4f}")
                + f"<p>Q({self.q_df}) = {self.q:.4f}, p = {self.q_pvalue:.4g}</p>"
                + self.coefficients.to_html(float_format=lambda v: f"{v:.4f}"))

    # ----- profiles, fit statistics, BLUPs, residuals (profile.py, compare.py, residuals.py) --
    def confint(self, level_name=None, *, level: float | None = None) -> pd.DataFrame:
        """Profile-likelihood CIs of the variance components (metafor ``confint(res, sigma2 =
        j)``): rows sigma2.j and sigma.j for every level (or the one named / indexed)."""
        which = (range(len(self.levels)) if level_name is None
                 else [list(self.levels).index(level_name) if isinstance(level_name, str)
                       else int(level_name)])
        return pd.concat([profile_ci(self, j, level=level) for j in which
                          if j not in self.fixed_sigma2])

    def profile(self, level_name=0, *, values=None, xlim=None, steps: int = 20) -> pd.DataFrame:
        """Profile (restricted) log-likelihood of one sigma2 with the others re-estimated
        (metafor ``profile(res, sigma2 = j)``)."""
        return profile_ll(self, level_name, values=values, xlim=xlim, steps=steps)

    def fitstats(self) -> pd.Series:
        """logLik, deviance, AIC, BIC, AICc (metafor ``fitstats``)."""
        return fitstats(self)

    def ranef(self, *, level: float | None = None) -> dict:
        """Predicted random effects per level (metafor ``ranef.rma.mv``): level -> DataFrame."""
        return ranef(self, level=level)

    def rstandard(self, cluster=None):
        """Standardized residuals; with ``cluster`` also X^2 per cluster (metafor
        ``rstandard.rma.mv``)."""
        return rstandard(self, cluster=cluster)

    def rstudent(self) -> pd.DataFrame:
        """Leave-one-out studentized residuals, refitting the variance components (metafor
        ``rstudent.rma.mv``)."""
        return rstudent(self)


def coefficient_table(beta, se, term_names, test, df, level) -> pd.DataFrame:
    """estimate, se, statistic, pvalue, ci_lower, ci_upper (t with ``df`` or z)."""
    stat = beta / se
    alpha = 1 - level / 100
    if test == "t":
        pval = 2 * stats.t.sf(np.abs(stat), df)
        crit = stats.t.isf(alpha / 2, df)
    else:
        pval = 2 * stats.norm.sf(np.abs(stat))
        crit = stats.norm.isf(alpha / 2)
    return pd.DataFrame({"estimate": beta, "se": se, "statistic": stat, "pvalue": pval,
                         "ci_lower": beta - crit * se, "ci_upper": beta + crit * se},
                        index=pd.Index(list(term_names), name="term"))


def multilevel_meta_analysis(
    data: pd.DataFrame | None = None,
    yi="yi",
    vi="vi",
    levels=None,
    mods=None,
    method: str = "REML",
    *,
    V=None,
    sigma2=None,
    test: str = "z",
    level: float = 95,
    slab=None,
    measure: str | None = None,
) -> MultilevelResult:
    """Fit a meta-analysis with nested random effects (metafor ``rma.mv(yi, vi, random = ~ 1 | a/b)``).

    Parameters
    ----------
    data : DataFrame, optional
        Holds the columns named by the other arguments.
    yi, vi : str or array-like
        Effect sizes and their sampling variances.
    levels : sequence of str or array-like
        Required. Grouping variables, outermost first (e.g. ``["district", "school"]``, or
        ``["study", "esid"]`` for effects within studies). Inner labels are read within their
        outer group, as ``district/school`` in R.
    mods : list of str or formula string, optional
        Moderator columns; categorical columns are dummy-coded against their first sorted level.
        Or a formula (``"~ year"``, ``"~ deltype * year"``, ``"~ outcome - 1"`` without
        intercept), as in :func:`meta_analysis`.
    method : {"REML", "ML"}
    V : BlockCovariance, array or sparse matrix, optional
        Known sampling covariance matrix of the effects (for example from :func:`vcalc`), as
        metafor's ``rma.mv(yi, V, ...)``; replaces ``vi`` (whose values are then diag(V)). Kept
        block-sparse: correlated effects must not span different groups of a level that holds
        whole blocks (V blocks by study under ``district/study/esid`` is fine).
    sigma2 : sequence of float or None, optional
        Fix variance components at given values (None or NaN: estimated), one per level, as
        metafor's ``sigma2 = c(0, NA)`` (e.g. the reduced model of a likelihood-ratio test).
    test : {"z", "t"}
        "t" uses t and F distributions with k - p degrees of freedom (metafor ``test="t"``).
    level : float
        Confidence level in percent.
    slab : str or array-like, optional
        Row labels (default: the index of ``data``).
    measure : str, optional
        Effect measure (e.g. "SMD"); by default the one ``effect_sizes`` recorded on ``data``.

    Returns
    -------
    MultilevelResult

    Notes
    -----
    V = diag(v_i) + sum_l sigma2_l Z_l Z_l'; beta = (X'V^-1X)^-1 X'V^-1 y, Var(beta) =
    (X'V^-1X)^-1. The (restricted) log-likelihood is metafor's:
    ML: -k/2 log(2 pi) - 1/2 log|V| - 1/2 r'V^-1 r; REML: -(k-p)/2 log(2 pi) + 1/2 log|X'X|
    - 1/2 log|V| - 1/2 log|X'V^-1X| - 1/2 r'V^-1 r (Harville 1977). It is maximized over
    log sigma2 to full convergence. Q is the test for residual heterogeneity,
    Q = r'W r with W = diag(1/v_i) and r the equal-effects residuals (Cochran 1954).
    Multilevel I^2 (Cheung 2014, eq. 14; metafor FAQ "I^2 for multilevel models"):
    I^2_l = 100 sigma2_l / (sum sigma2 + (k - p) / tr(P)), P = W - W X (X'WX)^-1 X'W.
    """
    if levels is None or (not isinstance(levels, str) and len(levels) == 0):
        raise TypeError(
            "multilevel_meta_analysis() needs levels=: the grouping columns, outermost first, e.g. "
            "levels=['study', 'esid'] for effects within studies or levels=['district', 'school'] "
            "(metafor's random = ~ 1 | study/esid)")
    method = check_choice("method", method, ["REML", "ML"])
    test = check_choice("test", test, ["z", "t"])
    y = get_column(data, yi, "yi")
    k = y.shape[0]
    Vcov = None if V is None else as_block_covariance(V, k)
    v = get_column(data, vi, "vi", n=k) if Vcov is None else Vcov.diagonal_values()
    labels = row_labels(data, k)
    slab = labels if slab is None else get_column(data, slab, "slab", n=k, dtype=object)
    if measure is None and isinstance(data, pd.DataFrame):
        measure = data.attrs.get("measure")
    check_rows(~np.isfinite(y), "yi", "effect sizes must be finite (drop missing rows first)", y, labels)
    check_rows(~np.isfinite(v), "vi", "sampling variances must be finite (drop missing rows first)", v,
           labels)
    check_rows(~(v > 0), "vi", "sampling variances must be positive", v, labels)
    level_names = tuple(lev if isinstance(lev, str) else f"level{i + 1}"
                        for i, lev in enumerate([levels] if isinstance(levels, str) else levels))
    if not level_names:
        raise ValueError("levels: give at least one grouping variable")
    codes = nested_codes(data, levels, k)
    X, terms, coding = full_rank_design(data, mods, k, labels)
    p = X.shape[1]
    n_groups = tuple(int(codes[:, j].max()) + 1 for j in range(codes.shape[1]))
    for j, name in enumerate(level_names):
        below = n_groups[j + 1] if j + 1 < len(n_groups) else k
        if n_groups[j] < 2:
            raise ValueError(f"level {name!r} has a single group; its variance is not estimable")
        if n_groups[j] == below and j + 1 < len(level_names):
            inner = level_names[j + 1]
            raise ValueError(
                f"level {name!r}: every group holds a single {inner!r} group, so the two "
                "variances cannot be told apart; drop one of the levels")

    # start: split the excess variance evenly over levels (on the log scale)
    start = np.full(len(level_names), np.log(max(np.var(y) - np.mean(v), 0.01 * np.var(y), 1e-6)
                                              / len(level_names)))
    fixed = {}
    if sigma2 is not None:
        vals = list(sigma2)
        if len(vals) != len(level_names):
            raise ValueError(f"sigma2 has {len(vals)} values for {len(level_names)} levels")
        for j, val in enumerate(vals):
            if val is not None and not np.isnan(val):
                if val < 0:
                    raise ValueError(f"sigma2: a variance cannot be negative (got {val})")
                fixed[j] = np.log(val) if val > 0 else -np.inf
        if len(fixed) == len(vals):
            raise ValueError("sigma2: leave at least one component to estimate (None)")
        if Vcov is None:
            Vcov_fit = BlockCovariance.diagonal(v)
    if Vcov is None and not fixed:
        theta, converged = _global_maximum(y, v, X, codes, method == "REML", start, level_names)
        sigma2 = np.exp(theta)
        fit = _gls(y, v, X, codes, sigma2)
        ll = _loglik(theta, y, v, X, codes, method == "REML",
                     float(np.linalg.slogdet(_cross(X, X))[1]))
    else:
        sigma2, fit, ll, converged = _fit_with_v(y, Vcov if Vcov is not None else Vcov_fit, X,
                                                 codes, method == "REML", start, fixed)
    se = np.sqrt(np.diag(fit.vb))
    df = k - p
    coefs = coefficient_table(fit.beta, se, terms, test, df, level)

    # Q test for residual heterogeneity (equal-effects fit with W = diag(1/v), or V^-1)
    w = 1.0 / v
    P_mid = np.linalg.inv(_cross(X * w[:, None], X))
    if Vcov is None:
        b_fe = P_mid @ np.einsum("ki,k->i", X * w[:, None], y)
        e_fe = y - np.einsum("ki,i->k", X, b_fe)
        q = float(np.sum(w * e_fe**2))
    else:  # metafor rma.mv: QE = e'V^-1 e with the GLS residuals under W = V^-1
        b_fe, _, rw = BlockEngine(Vcov, [], [], None).gls([], [], y, X)
        q = float((y - X @ b_fe) @ rw)
    q_p = float(stats.chi2.sf(q, df))

    # omnibus test of the moderators (all but the intercept)
    qm = qm_p = qm_df = None
    btt = np.arange(1, p) if has_intercept(terms) else np.arange(p)  # metafor's default btt
    if btt.size:
        m = btt.size
        b = fit.beta[btt]
        qm = float(b @ np.linalg.solve(fit.vb[np.ix_(btt, btt)], b))
        if test == "t":
            qm = qm / m
            qm_df = (m, df)
            qm_p = float(stats.f.sf(qm, m, df))
        else:
            qm_df = (m,)
            qm_p = float(stats.chi2.sf(qm, m))

    # multilevel I^2: typical sampling variance (k - p) / tr(P)
    tr_p = float(np.sum(w) - np.trace(P_mid @ _cross(X * (w**2)[:, None], X)))
    typical = df / tr_p
    shares = 100 * sigma2 / (np.sum(sigma2) + typical)
    label_frame = pd.DataFrame({name: (data[lev].to_numpy() if isinstance(lev, str) else
                                       np.asarray(lev))
                                for name, lev in zip(level_names, [levels] if isinstance(
                                    levels, str) else levels, strict=True)})
    # metafor weights.rma.mv(type = "diagonal"): diag of the inverse marginal covariance
    dw = (diag_inverse(v, codes, sigma2) if Vcov is None
          else _diag_inverse_v(Vcov, codes, sigma2))
    return MultilevelResult(
        k=k, method=method, test=test, level=level, levels=level_names, coefficients=coefs,
        sigma2=sigma2, n_groups=n_groups, i2_levels=pd.Series(shares, index=list(level_names)),
        i2=float(np.sum(shares)), q=q, q_df=df, q_pvalue=q_p, qm=qm, qm_df=qm_df,
        qm_pvalue=qm_p, ll=float(ll), converged=converged, yi=y, vi=v, X=X,
        term_names=tuple(terms), vb=fit.vb, codes=codes, labels=label_frame,
        slab=np.asarray(slab, dtype=object), weights=100 * dw / dw.sum(), measure=measure,
        V=Vcov, design=tuple(coding), fixed_sigma2=tuple(sorted(fixed)))


def _fit_with_v(y, Vcov, X, codes, reml, start, fixed=None):
    """Maximise over log sigma2 with the block engine (known V, or components held fixed);
    returns sigma2, fit, ll, ok."""
    engine, par, _ = level_engine(Vcov, codes)
    lo, hi = _bounds(y, Vcov.diagonal_values())
    phi, ll, converged = maximize(engine, par, y, X, reml, start, lo, hi, fixed=fixed)
    coef, _ = par.to_linear(phi)
    beta, vb, rw = engine.gls(coef[:par.n_inner], coef[par.n_inner:], y, X)
    return np.exp(phi), _Fit(beta=beta, vb=vb, resid_weighted=rw), ll, converged


def _diag_inverse_v(Vcov, codes, sigma2) -> np.ndarray:
    """diag of the inverse marginal covariance with a known V (block engine)."""
    engine, par, _ = level_engine(Vcov, codes)
    with np.errstate(divide="ignore"):
        coef, _ = par.to_linear(np.log(np.asarray(sigma2, dtype=float)))
    return engine.diag_inverse(coef[:par.n_inner], coef[par.n_inner:])


def marginal_solve(vi, codes, sigma2, U, V: BlockCovariance | None = None) -> np.ndarray:
    """V_marginal^-1 U for diag(vi) (or the known V) plus the nested random intercepts."""
    if V is None:
        return solve_nested(vi, codes, sigma2, U)[0]
    engine, par, _ = level_engine(V, codes)
    coef, _ = par.to_linear(np.log(np.asarray(sigma2, dtype=float)))
    return engine.solve(coef[:par.n_inner], coef[par.n_inner:], U)[0]


def _bounds(yi, vi):
    """Search range of log sigma2, as in ``_maximize``."""
    return np.log(1e-12 * max(np.var(yi), 1e-8)), np.log(1e4 * max(np.var(yi), np.max(vi)))
