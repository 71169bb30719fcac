"""The univariate meta-analysis model: ``meta_analysis``, the array-level ``fit`` and ``MetaResult``.

Equal-effects and random-effects models and meta-regression as metafor's ``rma.uni()``
(Viechtbauer 2010, J Stat Softw 36(3), section 3), in O(k) memory.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.format import report_html, report_text, summary_frame
from evidence_kit._core.validate import check_choice, get_column, row_labels
from evidence_kit.synthesis import _tau2
from evidence_kit.synthesis._design import (  # design_matrix is also imported from here by multilevel.py
    check_rows,
    design_matrix,
    newmods_matrix,
    numeric_column,
)
from evidence_kit.synthesis._tau2 import METHOD_ALIASES, TAU2_METHODS, tr_p, wls
from evidence_kit.synthesis.compare import fitstats
from evidence_kit.synthesis.heterogeneity import q_profile_ci
from evidence_kit.synthesis.profile import profile as profile_ll
from evidence_kit.synthesis.profile import profile_ci
from evidence_kit.synthesis.residuals import blup, ranef, rstandard, rstudent

TESTS = ("z", "knha")
COEF_COLUMNS = ["estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper"]


@dataclass(frozen=True, eq=False, repr=False)
class MetaResult:
    """A fitted equal- or random-effects model (metafor's ``rma.uni`` object).

    What the user chose is echoed (``method``, ``test``, ``level``); everything else was
    estimated. Numbers are stored at full precision; only the display rounds.

    Fields (the contract other modules build on; subclasses such as
    ``TrimFillResult(MetaResult)`` add fields, which must have defaults or be keyword-only):

    k : int                  number of studies fitted
    method, test : str       tau^2 estimator ("EE", "DL", ... "PM"; "FE" is stored as "EE"), "z" or "knha"
    level : float            confidence level in percent
    coefficients : DataFrame index = term names (first "intercept"); columns estimate, se,
                             statistic, pvalue, ci_lower, ci_upper
    estimate, se, statistic, pvalue, ci_lower, ci_upper : float   the first coefficient
    tau2, se_tau2 : float    tau^2 (0.0 for EE) and its standard error (NaN for EE)
    i2, h2 : float           I^2 in percent and H^2, as metafor (from Q for EE models)
    q, q_df, q_pvalue        Q (QE under mods) on k - p df and its p-value
    qm, qm_pvalue            omnibus test of the moderators (chi-square; F under knha), None without mods
    qm_df : tuple            (m,) or (m, k - p) under knha; None without mods
    r2 : float | None        pseudo-R^2 in percent, metafor's default definition; None without mods
    df : float | None        degrees of freedom of t tests (k - p under knha), None for z
    yi, vi : ndarray         the rows actually fitted (missing rows removed)
    X : ndarray              k x p design matrix of the fitted rows (first column the intercept)
    term_names : list[str]   names of the columns of X
    slab : ndarray           labels of the fitted rows
    weights : ndarray        weights in percent, as metafor's weights(): 100 w_i / sum(w)
    vb : ndarray             p x p covariance of the coefficients (scaled by s2w under knha)
    ll : float               log-likelihood (REML for REML, ML otherwise, as metafor's logLik)
    omitted : ndarray        labels of rows omitted because yi, vi or a moderator was missing
    converged : bool         True once an iterative estimator converged (always True otherwise)
    iterations : int         Fisher-scoring iterations (0 for closed-form estimators)
    vt : float               "typical" within-study variance (k - p)/tr(P) used by I^2 and H^2
    s2w : float              Knapp-Hartung scale factor (1.0 under test="z")
    design : tuple           how mods were coded: (column, levels or None) per moderator
    measure : str | None     effect measure if known (e.g. "RR"); used by plots to back-transform
    """

    k: int
    method: str
    test: str
    level: float
    coefficients: pd.DataFrame
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_lower: float
    ci_upper: float
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    qm: float | None
    qm_pvalue: float | None
    qm_df: tuple | None
    r2: float | None
    df: float | None
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    term_names: list
    slab: np.ndarray
    weights: np.ndarray
    vb: np.ndarray
    ll: float
    omitted: np.ndarray
    converged: bool
    iterations: int
    vt: float
    s2w: float
    design: tuple = ()
    measure: str | None = None
    extra: dict = field(default_factory=dict)

    # ----- derived quantities -------------------------------------------------------------
    @property
    def p(self) -> int:
        """Number of coefficients."""
        return self.X.shape[1]

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    def _crit(self, level: float | None = None) -> float:
        level = self.level if level is None else level
        alpha = 1 - level / 100
        if self.df is not None:
            return float(stats.t.ppf(1 - alpha / 2, self.df)) if self.df > 0 else np.nan
        return float(stats.norm.ppf(1 - alpha / 2))

    def predict(self, newmods=None, *, level: float | None = None, transf=None) -> pd.DataFrame:
        """Predicted (pooled) effect with confidence and prediction intervals.

        Parameters
        ----------
        newmods : None, array-like or DataFrame
            None: the pooled estimate (intercept-only model) or the fitted value of every study
            (meta-regression), as metafor's ``predict()``. Otherwise moderator values, one row per
            prediction, without the intercept column (a DataFrame may name the ``mods`` columns,
            categorical ones given as their levels).
        level : float, optional
            Confidence level in percent (default: the model's).
        transf : callable, optional
            Applied to pred and the interval bounds (e.g. ``np.exp`` for a log risk ratio), as
            metafor's ``transf``; ``se`` stays on the model scale.

        Returns
        -------
        DataFrame with pred, se, ci_lower, ci_upper, pi_lower, pi_upper.

        Notes
        -----
        pred = x'b, se = sqrt(x' V_b x); CI pred +- crit se; prediction interval
        pred +- crit sqrt(se^2 + tau^2) with crit from N(0,1), or t(k - p) under knha (Riley,
        Higgins & Deeks 2011, BMJ 342:d549; metafor ``predict.rma``).
        """
        if newmods is None:
            Xn = self.X[:1] if self.p == 1 else self.X
            index = None if self.p == 1 else self.slab
        else:
            Xn = newmods_matrix(self, newmods)
            index = newmods.index if isinstance(newmods, pd.DataFrame) else None
        pred = Xn @ self.coefficients["estimate"].to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, self.vb, Xn))  # sqrt(diag(X V_b X'))
        crit = self._crit(level)
        spi = np.sqrt(se * se + self.tau2)
        out = pd.DataFrame({"pred": pred, "se": se, "ci_lower": pred - crit * se, "ci_upper": pred + crit * se,
                            "pi_lower": pred - crit * spi, "pi_upper": pred + crit * spi})
        if index is not None:
            out.index = index
        if transf is not None:
            cols = ["pred", "ci_lower", "ci_upper", "pi_lower", "pi_upper"]
            out[cols] = transf(out[cols].to_numpy())
        return out

    def heterogeneity_ci(self, *, level: float | None = None) -> pd.DataFrame:
        """Q-profile confidence intervals for tau^2, I^2 and H^2 (metafor ``confint(res)``).

        Notes
        -----
        The bounds solve Q(tau^2) = chi^2_{k-p; 1-alpha/2} (lower) and chi^2_{k-p; alpha/2}
        (upper), with Q(tau^2) = sum w_i (y_i - x_i'b)^2, w_i = 1/(v_i + tau^2) (Viechtbauer 2007,
        Stat Med 26:37, eq. 9); a bound is 0 when Q(0) is already below its target. I^2 and H^2
        bounds follow from I^2 = 100 tau^2/(vt + tau^2), H^2 = 1 + tau^2/vt.
        """
        return q_profile_ci(self, level=self.level if level is None else level)

    def summary(self) -> pd.DataFrame:
        """Studies and the pooled row: yi, se, ci_lower, ci_upper, weight (percent), and for a
        random-effects model pi_lower, pi_upper on the pooled row ("RE model" / "EE model").

        For a meta-regression the study rows also carry the fitted values and the last rows are
        the coefficients ("coefficient: <term>", no weight). Study CIs use N(0, 1) at ``level``.
        """
        return summary_frame(self)

    def __repr__(self) -> str:
        return report_text(self)

    def _repr_html_(self) -> str:
        return report_html(self)

    # ----- profiles, fit statistics, BLUPs, residuals (profile.py, compare.py, residuals.py) --
    def confint(self, method: str = "QP", *, level: float | None = None) -> pd.DataFrame:
        """Confidence intervals for tau^2, tau, I^2 and H^2 (metafor ``confint``).

        ``method="QP"``: Q-profile (as :meth:`heterogeneity_ci`); ``method="PL"``: profile
        likelihood (ML or REML fits; metafor ``confint(res, type = "PL")``), see
        :func:`evidence_kit.synthesis.profile.profile_ci`.
        """
        method = check_choice("method", method, ["QP", "PL"])
        level = self.level if level is None else level
        if method == "QP":
            qp = q_profile_ci(self, level=level)
            tau = pd.DataFrame(np.sqrt(qp.loc[["tau2"]].to_numpy()), index=["tau"],
                               columns=qp.columns)
            return pd.concat([qp.loc[["tau2"]], tau, qp.loc[["i2", "h2"]]])
        pl = profile_ci(self, 0, level=level)
        t = pl.loc["tau2"].to_numpy()
        vt = self.vt
        extra = pd.DataFrame([100 * t / (vt + t), t / vt + 1], index=["i2", "h2"],
                             columns=pl.columns)
        return pd.concat([pl, extra])

    def profile(self, *, values=None, xlim=None, steps: int = 20) -> pd.DataFrame:
        """Profile (restricted) log-likelihood of tau^2 (metafor ``profile``): see
        :func:`evidence_kit.synthesis.profile.profile`."""
        return profile_ll(self, 0, values=values, xlim=xlim, steps=steps)

    def fitstats(self) -> pd.Series:
        """logLik, deviance, AIC, BIC, AICc of the fitting likelihood (metafor ``fitstats``);
        both ML and REML columns: :func:`evidence_kit.synthesis.compare.fit_statistics`."""
        return fitstats(self)

    def blup(self, *, level: float | None = None) -> pd.DataFrame:
        """BLUPs of the true effects (metafor ``blup``)."""
        return blup(self, level=level)

    def ranef(self, *, level: float | None = None) -> pd.DataFrame:
        """Predicted random effects u_i (metafor ``ranef``)."""
        return ranef(self, level=level)

    def rstandard(self) -> pd.DataFrame:
        """Standardized residuals resid, se, z (metafor ``rstandard``)."""
        return rstandard(self)

    def rstudent(self) -> pd.DataFrame:
        """Externally studentized (leave-one-out) residuals (metafor ``rstudent``)."""
        return rstudent(self)


def _check_arrays(yi, vi, X, labels):
    """Finite checks as the issue asks: a ValueError naming the row and column."""
    if np.isfinite(yi).all() and np.isfinite(vi).all() and (vi > 0).all() and (X is None or np.isfinite(X).all()):
        return  # the common case, in three passes
    check_rows(~np.isfinite(yi) & ~np.isnan(yi), "yi", "yi must be finite", yi, labels)
    check_rows(~np.isfinite(vi) & ~np.isnan(vi), "vi", "vi must be finite", vi, labels)
    check_rows(vi <= 0, "vi", "sampling variances vi must be positive", vi, labels)
    if X is not None:
        bad = ~np.isfinite(X) & ~np.isnan(X)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(f"moderator values must be finite: row {labels[r]!r} (column {c}={X[r, c]!r})")


def fit(yi, vi, X=None, *, method: str = "REML", test: str = "z", level: float = 95,
        term_names=None, slab=None, measure: str | None = None, design: tuple = ()) -> MetaResult:
    """Fit the model on numpy arrays (the engine behind :func:`meta_analysis`).

    Parameters
    ----------
    yi, vi : array-like, length k
        Effect sizes and sampling variances. Rows where yi, vi (or a row of X) is missing are
        omitted and recorded in ``MetaResult.omitted``.
    X : array-like (k, p), optional
        Design matrix including the intercept column; None means intercept only.
    method : {"EE", "FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"}
    test : {"z", "knha"}
    level : float
        Confidence level in percent.
    term_names, slab : optional
        Names of the columns of X (default "intercept", "x1", ...) and row labels.

    Notes
    -----
    b = (X'WX)^-1 X'Wy, V_b = (X'WX)^-1 with w_i = 1/(v_i + tau^2); under knha V_b is scaled by
    s2w = y'Py/(k - p) and tests use t(k - p) (Knapp & Hartung 2003, Stat Med 22:2693).
    QE = y'P_0 y with w_i = 1/v_i on k - p df; I^2 = 100 tau^2/(vt + tau^2), H^2 = 1 + tau^2/vt,
    vt = (k - p)/tr(P_0) (Higgins & Thompson 2002, eqs. 9-10, generalised as in metafor).
    QM = b_m' V_b[m,m]^-1 b_m over the moderators (chi^2 on m df; F on m, k - p under knha).
    R^2 = max(0, 100 (tau^2_0 - tau^2)/tau^2_0) with tau^2_0 from the intercept-only model
    (Raudenbush 2009). Estimators of tau^2: see ``_tau2``.
    """
    method = check_choice("method", method, TAU2_METHODS, aliases=METHOD_ALIASES)
    test = check_choice("test", test, TESTS)
    if not (isinstance(level, (int, float)) and 1 <= level < 100):
        raise ValueError(f"level must be a percentage between 1 and 100 (e.g. 95); got {level!r}")
    yi = np.asarray(yi, dtype=float).ravel()
    vi = np.asarray(vi, dtype=float).ravel()
    n = yi.shape[0]
    if vi.shape[0] != n:
        raise ValueError(f"yi has {n} values but vi has {vi.shape[0]}")
    labels = np.arange(n) if slab is None else np.asarray(slab, dtype=object).ravel()
    if labels.shape[0] != n:
        raise ValueError(f"slab has {labels.shape[0]} labels but yi has {n} values")
    if X is not None:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        if X.shape[0] != n:
            raise ValueError(f"X has {X.shape[0]} rows but yi has {n} values")
        if np.all(X == 1.0, axis=0).sum() == X.shape[1] == 1:
            X = None  # intercept only: the fast path
    p = 1 if X is None else X.shape[1]
    if term_names is None:
        term_names = ["intercept"] + [f"x{j}" for j in range(1, p)]
    term_names = list(term_names)
    if len(term_names) != p:
        raise ValueError(f"term_names has {len(term_names)} names but X has {p} columns")
    _check_arrays(yi, vi, X, labels)

    miss = np.isnan(yi) | np.isnan(vi)
    if X is not None:
        miss |= np.isnan(X).any(axis=1)
    any_missing = miss.any()
    omitted = labels[miss] if any_missing else labels[:0]
    if any_missing:
        keep = ~miss
        yi, vi, labels = yi[keep], vi[keep], labels[keep]
        X = None if X is None else X[keep]
    k = yi.shape[0]
    if k == 0:
        raise ValueError("no studies to pool: k = 0 after omitting rows with missing yi or vi")
    if k == 1 and test != "z":  # metafor rma.uni: 'Setting argument test="z" since k=1.'
        warnings.warn(f'test="{test}" needs at least 2 studies; with k = 1 the z test is used '
                      '(as metafor: Setting argument test="z" since k=1)', UserWarning, stacklevel=2)
        test = "z"
    if X is not None and np.linalg.matrix_rank(X) < p:
        raise ValueError("the design matrix is rank deficient (a moderator is constant or collinear)")
    if k < p:
        raise ValueError(f"k = {k} studies cannot estimate p = {p} coefficients")

    tau2, se_tau2, converged, iterations = _tau2.estimate_tau2(method, yi, vi, X, p)
    return _finish(yi, vi, X, p, k, tau2, se_tau2, method, test, level, term_names, labels, omitted,
                   converged, iterations, measure, design)


def refit(result: MetaResult, keep: np.ndarray, *, skip_r2: bool = True) -> MetaResult:
    """The same model (method, test, level, design) on a subset of the fitted rows (no checks)."""
    keep = np.asarray(keep)
    yi, vi = result.yi[keep], result.vi[keep]
    X = None if result.p == 1 else result.X[keep]
    k, p = yi.shape[0], result.p
    tau2, se_tau2, converged, iterations = _tau2.estimate_tau2(result.method, yi, vi, X, p)
    test = "z" if k == 1 else result.test  # as fit(); metafor's cumul() silences that warning
    return _finish(yi, vi, X, p, k, tau2, se_tau2, result.method, test, result.level,
                   result.term_names, result.slab[keep], result.omitted[:0], converged, iterations,
                   result.measure, result.design, skip_r2=skip_r2)


def _finish(yi, vi, X, p, k, tau2, se_tau2, method, test, level, term_names, labels, omitted,
            converged, iterations, measure, design, *, skip_r2=False) -> MetaResult:
    w = 1.0 / (vi + tau2)
    beta, B, r = wls(yi, X, w)
    rss = float(_tau2.dot(w * r, r))
    s2w = 1.0
    df = None
    if test == "knha":
        s2w = rss / (k - p) if k > p and rss > np.finfo(float).eps else 0.0  # Knapp & Hartung 2003
        df = float(k - p)
    vb = s2w * B
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):  # knha with k = p: s2w = 0 as metafor
        stat = beta / se
    if df is None:
        pval = 2 * stats.norm.sf(np.abs(stat))
        crit = stats.norm.ppf(1 - (1 - level / 100) / 2)
    elif df > 0:
        pval = 2 * stats.t.sf(np.abs(stat), df)
        crit = stats.t.ppf(1 - (1 - level / 100) / 2, df)
    else:
        pval = np.full(p, np.nan)
        crit = np.nan
    coefs = pd.DataFrame({"estimate": beta, "se": se, "statistic": stat, "pvalue": pval,
                          "ci_lower": beta - crit * se, "ci_upper": beta + crit * se}, index=pd.Index(term_names, name="term"))

    # heterogeneity from the equal-effects weights (Cochran's Q / QE)
    if k > p:
        w0 = w if tau2 == 0 else 1.0 / vi
        _, B0, r0 = (beta, B, r) if tau2 == 0 else wls(yi, X, w0)
        q = max(0.0, float(_tau2.dot(w0 * r0, r0)))
        q_pvalue = float(stats.chi2.sf(q, k - p))
        vt = (k - p) / tr_p(w0, X, B0)
        if method == "EE":
            i2 = max(0.0, 100 * (q - (k - p)) / q) if q > 0 else 0.0
            h2 = q / (k - p)
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    else:
        q, q_pvalue, i2, h2, vt = 0.0, 1.0, 0.0, 1.0, 0.0

    qm = qm_p = qm_df = r2 = None
    if p > 1:
        m = p - 1
        bm = beta[1:]
        qm = float(bm @ np.linalg.solve(vb[1:, 1:], bm))
        if df is not None:
            qm /= m
            qm_df = (m, k - p)
            qm_p = float(stats.f.sf(qm, m, k - p)) if k > p else np.nan
        else:
            qm_df = (m,)
            qm_p = float(stats.chi2.sf(qm, m))
        if not skip_r2:
            r2 = _pseudo_r2(yi, vi, X, k, p, tau2, method, w)

    ll = _tau2.loglik(vi, X, tau2, B, rss, reml=method == "REML")
    # intercept only: a read-only k x 1 view of a single 1.0, so X costs no memory
    Xfull = np.broadcast_to(np.ones((1, 1)), (k, 1)) if X is None else X
    weights = w * (100 / w.sum())
    return MetaResult(
        k=k, method=method, test=test, level=float(level), coefficients=coefs,
        estimate=float(beta[0]), se=float(se[0]), statistic=float(stat[0]), pvalue=float(pval[0]),
        ci_lower=float(coefs["ci_lower"].iloc[0]), ci_upper=float(coefs["ci_upper"].iloc[0]),
        tau2=float(tau2), se_tau2=float(se_tau2), i2=float(i2), h2=float(h2), q=q, q_df=k - p,
        q_pvalue=q_pvalue, qm=qm, qm_pvalue=qm_p, qm_df=qm_df, r2=r2, df=df,
        yi=yi, vi=vi, X=Xfull, term_names=term_names, slab=labels, weights=weights, vb=vb, ll=ll,
        omitted=omitted, converged=converged, iterations=iterations, vt=float(vt), s2w=float(s2w),
        design=tuple(design), measure=measure,
    )


def _pseudo_r2(yi, vi, X, k, p, tau2, method, w):
    """metafor's default pseudo-R^2 (percent)."""
    if method == "EE":
        # adjusted R^2 of the weighted regression, as metafor's lm(yi ~ X, weights = wi)
        if np.var(yi) == 0:
            return 0.0
        _, _, r = wls(yi, X, w)
        ybar = np.sum(w * yi) / w.sum()
        r2 = 1 - np.sum(w * r * r) / np.sum(w * (yi - ybar) ** 2)
        return max(0.0, 100 * (1 - (1 - r2) * (k - 1) / (k - p)))
    tau2_0 = _tau2.estimate_tau2(method, yi, vi, None, 1)[0]  # the intercept-only model
    if tau2_0 == 0:
        return 0.0
    return max(0.0, 100 * (tau2_0 - tau2) / tau2_0)  # Raudenbush 2009, eq. 16.48


def meta_analysis(data=None, yi="yi", vi="vi", *, method: str = "REML", test: str = "z", mods=None,
                  level: float = 95, slab=None, measure: str | None = None) -> MetaResult:
    """Fit an equal-effects or random-effects meta-analysis, or a meta-regression.

    Parameters
    ----------
    data : DataFrame, optional
        Table with the columns named below.
    yi, vi : str or array-like
        Column names of ``data`` (default "yi", "vi") or arrays of effect sizes and sampling
        variances.
    method : str
        tau^2 estimator: "EE" (alias "FE"; equal effects), "DL", "HE", "HS", "SJ", "ML", "REML"
        (default), "EB", "PM" -- metafor's codes.
    test : {"z", "knha"}
        Normal tests, or Knapp-Hartung t (and F) tests on k - p df.
    mods : list of str or formula string, optional
        Moderator columns (meta-regression); categorical columns are dummy-coded against their
        first sorted level. Or a formula as metafor's ``mods = ~ ...``: ``"~ ablat + C(alloc)"``,
        interactions ``"~ ablat * alloc"`` (formulaic; coefficients named as metafor prints
        them, e.g. ``allocrandom``, ``ablat:allocrandom``).
    level : float
        Confidence level in percent.
    slab : str or array-like, optional
        Study labels (default: the index of ``data``).
    measure : str, optional
        Effect measure (e.g. "RR", "SMD"); plots use it to back-transform ratio measures. By
        default the measure ``effect_sizes`` recorded on ``data`` (``data.attrs["measure"]``).

    Returns
    -------
    MetaResult

    Notes
    -----
    The model is y_i = x_i'b + u_i + e_i, u_i ~ N(0, tau^2), e_i ~ N(0, v_i) (Viechtbauer 2010,
    J Stat Softw 36(3), eqs. 1-6); see :func:`fit` for the formulas. Rows with a missing yi, vi
    or moderator are omitted (metafor's na.action = "na.omit") and listed in ``omitted``.

    Examples
    --------
    >>> import evidence_kit as ek
    >>> dat = ek.load_dataset("dat.raudenbush1985")
    >>> res = ek.meta_analysis(dat, method="REML")
    >>> round(res.estimate, 4), round(res.tau2, 4)
    (0.0837, 0.0188)
    """
    y = numeric_column(data, yi, "yi")
    n = y.shape[0]
    v = numeric_column(data, vi, "vi", n=n)
    labels = row_labels(data, n) if slab is None else get_column(data, slab, "slab", n=n, dtype=object)
    X, names, coding = design_matrix(data, mods, n)
    if X is not None and names[0] != "intercept":
        raise ValueError("mods: meta_analysis() needs an intercept; fit a model without one "
                         "with multilevel_meta_analysis() or multivariate_meta_analysis()")
    if measure is None and isinstance(data, pd.DataFrame):
        measure = data.attrs.get("measure")  # set by effect_sizes()
    return fit(y, v, X, method=method, test=test, level=level, term_names=names, slab=labels,
               measure=measure, design=coding)
