"""Fit statistics and model comparisons, as metafor's ``fitstats``, ``anova(res, btt=)`` and
``anova(full, reduced)``.

Works on the univariate model (``MetaResult``), multilevel models (``MultilevelResult``, with or
without V) and multivariate models (``MultivariateResult``), duck-typed so that this module sits
below them: a univariate result has ``tau2``, the others a block engine (``_blockmodel.engine_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit.synthesis import _tau2
from evidence_kit.synthesis._blockmodel import engine_of, loglik_at

__all__ = ["AnovaResult", "anova", "fit_statistics"]

FIT_ROWS = ["logLik", "deviance", "AIC", "BIC", "AICc"]


def _is_univariate(result) -> bool:
    return hasattr(result, "tau2") and not hasattr(result, "struct") and not hasattr(result, "codes")


def _X_or_none(result):
    X = np.asarray(result.X)
    return None if X.shape[1] == 1 and np.all(X == 1.0) else X


def n_parameters(result) -> int:
    """Coefficients plus estimated variance parameters (metafor's ``parms``)."""
    if _is_univariate(result):
        return result.p + (0 if result.method == "EE" else 1)
    if hasattr(result, "struct"):
        return result.p + len(result.phi)
    return result.p + len(result.sigma2) - len(getattr(result, "fixed_sigma2", ()) or ())


def fit_statistics(result) -> pd.DataFrame:
    """logLik, deviance, AIC, BIC and AICc under ML and REML at the fitted variance components.

    Returns
    -------
    DataFrame with rows logLik, deviance, AIC, BIC, AICc and columns ML, REML (metafor's
    ``res$fit.stats``); ``result.fitstats()`` returns the column of the fitting method.

    Notes
    -----
    With ll the log-likelihood, parms = p + the number of estimated variance parameters and
    n = k (ML) or k - p (REML): AIC = -2 ll + 2 parms, BIC = -2 ll + parms log(n),
    AICc = -2 ll + 2 parms max(n, parms + 2) / (max(n, parms + 2) - parms - 1) (metafor
    rma.uni / rma.mv). Deviance: REML -2 ll; ML -2 (ll - ll_sat) with the saturated model
    ll_sat = sum log phi(0; v_i) for rma.uni and -k/2 log(2 pi) - 1/2 log|V| for rma.mv.
    """
    k, p = result.k, result.p
    yi = np.asarray(result.yi, dtype=float)
    if _is_univariate(result):
        X = _X_or_none(result)
        ll_ml = _tau2.restricted_ll(yi, result.vi, X, result.tau2, reml=False)
        ll_reml = _tau2.restricted_ll(yi, result.vi, X, result.tau2, reml=True)
        ll_sat = float(np.sum(-0.5 * np.log(2 * np.pi * np.asarray(result.vi))))
    else:
        engine, par, phi = engine_of(result)
        X = np.asarray(result.X, dtype=float)
        ll_ml = loglik_at(engine, par, phi, yi, X, False)
        ll_reml = loglik_at(engine, par, phi, yi, X, True)
        ll_sat = -0.5 * k * np.log(2 * np.pi) - 0.5 * _logdet_v(result)
    parms = n_parameters(result)
    out = {}
    for col, ll, n, dev in (("ML", ll_ml, k, -2 * (ll_ml - ll_sat)),
                            ("REML", ll_reml, k - p, -2 * ll_reml)):
        m = max(n, parms + 2)
        out[col] = [ll, dev, -2 * ll + 2 * parms, -2 * ll + parms * np.log(n),
                    -2 * ll + 2 * parms * m / (m - parms - 1)]
    return pd.DataFrame(out, index=pd.Index(FIT_ROWS, name="statistic"))


def _logdet_v(result) -> float:
    """log|V| of the known sampling covariance (diag(vi) when no V)."""
    V = getattr(result, "V", None)
    if V is None:
        return float(np.sum(np.log(result.vi)))
    return float(sum(np.linalg.slogdet(b)[1] for b in V.blocks()))


def fitstats(result) -> pd.Series:
    """The fit statistics of the fitting method's likelihood (metafor ``fitstats(res)``):
    REML for REML fits, ML otherwise."""
    col = "REML" if result.method == "REML" else "ML"
    return fit_statistics(result)[col].rename(col)


# --------------------------------------------------------------------------------------------
# anova


@dataclass(frozen=True)
class AnovaResult:
    """A Wald test of a set of coefficients (``test="Wald"``) or a likelihood-ratio test of two
    nested models (``test="LRT"``). ``table`` holds the details (linear combinations, or the two
    models' fit statistics)."""

    test: str
    statistic: float
    df: tuple
    pvalue: float
    terms: tuple = ()
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        if self.test == "LRT":
            head = f"Likelihood-ratio test: LRT = {self.statistic:.4f}, df = {self.df[0]}, p = {self.pvalue:.4g}"
        else:
            name = "F" if len(self.df) == 2 else "QM"
            dfs = ", ".join(str(d) for d in self.df)
            head = (f"Test of moderators ({', '.join(self.terms)}): {name}(df = {dfs}) = "
                    f"{self.statistic:.4f}, p = {self.pvalue:.4g}")
        return head + ("\n\n" + self.table.to_string(float_format=lambda v: f"{v:.4f}")
                       if len(self.table) else "")

    def _repr_html_(self) -> str:
        return f"<pre>{self.__repr__()}</pre>"


def _select(result, btt) -> np.ndarray:
    names = list(result.term_names)
    if isinstance(btt, str):  # a pattern, as metafor's btt = "alloc" (grep on the names)
        idx = [i for i, n in enumerate(names) if btt in n]
        if not idx:
            raise ValueError(f"btt={btt!r} matches no coefficient; names: {', '.join(names)}")
        return np.array(idx)
    btt = list(np.atleast_1d(btt))
    if all(isinstance(b, str) for b in btt):
        unknown = [b for b in btt if b not in names]
        if unknown:
            raise ValueError(f"btt: unknown terms {unknown}; expected among {', '.join(names)}")
        return np.array([names.index(b) for b in btt])
    idx = np.asarray(btt, dtype=int)
    if np.any((idx < 0) | (idx >= len(names))):
        raise ValueError(f"btt: positions must be 0..{len(names) - 1} (Python counts from 0)")
    return idx


def _df_t(result):
    """Denominator df for F tests: k - p under knha/t tests, None for z tests."""
    if getattr(result, "test", "z") in ("knha", "t"):
        return result.k - result.p
    return None


def anova(result, reduced=None, *, btt=None, X=None) -> AnovaResult:
    """Wald test of coefficients, or likelihood-ratio test of two nested models (metafor ``anova``).

    Parameters
    ----------
    result : MetaResult, MultilevelResult or MultivariateResult
    reduced : same type, optional
        A nested model: ``anova(full, reduced)`` is the likelihood-ratio test. Both must be ML
        fits, or REML fits with the same fixed effects (as metafor).
    btt : str, list of str or list of int, optional
        Coefficients to test jointly: term names, a pattern contained in the names (as metafor's
        ``btt = "alloc"``) or positions counted from 0.
    X : array (q x p), optional
        Linear combinations L b to test (one per row), as metafor's ``anova(res, X = L)``: each
        is reported and all are tested jointly.

    Returns
    -------
    AnovaResult

    Notes
    -----
    Wald: QM = (L b)' (L V_b L')^-1 (L b) on q = rank(L) df (chi-square), or F = QM / q on
    (q, k - p) df under Knapp-Hartung / t tests. LRT = 2 (ll_full - ll_reduced) on
    parms_full - parms_reduced df (chi-square).
    """
    if reduced is not None:
        return _lrt(result, reduced)
    beta = result.coefficients["estimate"].to_numpy()
    vb = np.asarray(result.vb)
    p = beta.size
    if X is not None:
        L = np.atleast_2d(np.asarray(X, dtype=float))
        if L.shape[1] != p:
            raise ValueError(f"X must have {p} columns (one per coefficient); got {L.shape[1]}")
        terms = tuple(f"row {i + 1}" for i in range(L.shape[0]))
    else:
        if btt is None:
            btt = np.arange(1, p) if result.term_names[0] == "intercept" else np.arange(p)
        idx = _select(result, btt)
        L = np.eye(p)[idx]
        terms = tuple(result.term_names[i] for i in idx)
    Lb = L @ beta
    LVL = L @ vb @ L.T
    q = int(np.linalg.matrix_rank(L))
    QM = float(Lb @ np.linalg.pinv(LVL) @ Lb)
    ddf = _df_t(result)
    se = np.sqrt(np.diag(LVL))
    stat = Lb / se
    if ddf is None:
        pval = float(stats.chi2.sf(QM, q))
        dfs = (q,)
        comb_p = 2 * stats.norm.sf(np.abs(stat))
    else:
        QM = QM / q
        pval = float(stats.f.sf(QM, q, ddf))
        dfs = (q, ddf)
        comb_p = 2 * stats.t.sf(np.abs(stat), ddf)
    table = pd.DataFrame({"estimate": Lb, "se": se, "statistic": stat, "pvalue": comb_p},
                         index=pd.Index(list(terms), name="test")) if X is not None else pd.DataFrame()
    return AnovaResult("Wald", QM, dfs, pval, terms, table)


def _lrt(full, reduced) -> AnovaResult:
    if type(full) is not type(reduced):
        raise TypeError("anova(full, reduced): both models must be of the same kind")
    if full.method != reduced.method or full.method not in ("ML", "REML"):
        raise ValueError("anova(full, reduced): both models must be fitted by ML, or both by REML")
    if full.k != reduced.k or not np.allclose(full.yi, reduced.yi):
        raise ValueError("anova(full, reduced): the models are fitted to different data")
    pf, pr = n_parameters(full), n_parameters(reduced)
    if pf < pr:
        full, reduced, pf, pr = reduced, full, pr, pf
    if pf == pr:
        raise ValueError("anova(full, reduced): the models have the same number of parameters")
    if full.method == "REML" and (full.X.shape != reduced.X.shape
                                  or not np.allclose(full.X, reduced.X)):
        raise ValueError("anova(full, reduced): REML likelihoods compare only models with the "
                         "same fixed effects; refit both with method='ML'")
    ff, fr = fitstats(full), fitstats(reduced)
    lrt = max(0.0, 2 * (ff["logLik"] - fr["logLik"]))
    df = pf - pr
    pval = float(stats.chi2.sf(lrt, df))
    table = pd.DataFrame({"df": [pf, pr], "AIC": [ff["AIC"], fr["AIC"]], "BIC": [ff["BIC"], fr["BIC"]],
                          "AICc": [ff["AICc"], fr["AICc"]], "logLik": [ff["logLik"], fr["logLik"]],
                          "LRT": [np.nan, lrt], "pvalue": [np.nan, pval],
                          "QE": [full.q, reduced.q]}, index=pd.Index(["Full", "Reduced"], name="model"))
    if _is_univariate(full):
        table["tau2"] = [full.tau2, reduced.tau2]
    return AnovaResult("LRT", float(lrt), (df,), pval, (), table)
