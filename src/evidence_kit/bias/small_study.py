"""Small-study effects and publication bias, as metafor's ``regtest``, ``ranktest``, ``trimfill``
and ``fsn``; PET-PEESE; the test of excess significance. The step-function selection model is in
``selection.py``.

Every test takes a fitted ``MetaResult`` (``ek.meta_analysis``) and refits what it needs through
``evidence_kit.synthesis.fit`` with the same ``method`` and ``test``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import brentq

from evidence_kit._core.format import fmt, fmt_p, report_html, report_text
from evidence_kit._core.validate import check_choice, get_column
from evidence_kit.synthesis import MetaResult, MultilevelResult, fit, multilevel_meta_analysis

__all__ = [
    "EggerResult",
    "ExcessSignificanceResult",
    "RankTestResult",
    "TrimFillResult",
    "egger_test",
    "excess_significance_test",
    "fail_safe_n",
    "pet_peese",
    "rank_test",
    "trim_and_fill",
]

PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")
_PREDICTOR_NAMES = {"sei": "standard error", "vi": "sampling variance", "ni": "sample size",
                    "ninv": "inverse of the sample size", "sqrtni": "square root of the sample size",
                    "sqrtninv": "inverse of the square root of the sample size"}


def _require(result, name: str, k_min: int, *, multilevel: bool = False) -> None:
    if multilevel and isinstance(result, MultilevelResult):
        pass
    elif isinstance(result, MultilevelResult):
        raise TypeError(
            f"{name}() takes a MetaResult (ek.meta_analysis), not a MultilevelResult: the method "
            "treats every effect as an independent study, which effects nested in studies are not "
            "(metafor offers it for rma.uni models only). Fit one effect per study with "
            "ek.meta_analysis, or use ek.egger_test, which accepts a multilevel model")
    elif not isinstance(result, MetaResult):
        raise TypeError(f"{name}() takes a MetaResult (ek.meta_analysis); got {type(result).__name__}")
    if result.k < k_min:
        raise ValueError(f"{name}() needs at least {k_min} studies; the model has k = {result.k}")


def _no_precision_variation(vi: np.ndarray) -> bool:
    """True when every study has the same sampling variance (up to rounding)."""
    return bool(np.ptp(vi) <= 1e-12 * np.max(np.abs(vi)))


def _text_block(title: str, lines: list[str]) -> str:
    return "\n" + title + "\n\n" + "\n".join(lines) + "\n"


def _html_block(title: str, lines: list[str]) -> str:
    body = "\n".join(html.escape(line) for line in lines)
    return (f"<div><p><strong>{html.escape(title)}</strong></p>"
            f'<pre style="margin: 0.5em 0">{body}</pre></div>')


# --------------------------------------------------------------------------------------------
# regression test (Egger)


@dataclass(frozen=True)
class EggerResult:
    """Regression test for funnel-plot asymmetry (metafor ``regtest``).

    ``statistic`` and ``pvalue`` test the predictor's coefficient (z, or t on ``df`` degrees of
    freedom); ``limit_estimate`` (with ``ci_lower``, ``ci_upper``) is the intercept, the effect
    expected in a study of infinite precision, for an intercept-only model and a predictor that
    vanishes with precision (sei, vi, ninv, sqrtninv); NaN otherwise.
    """

    statistic: float
    pvalue: float
    df: float | None
    predictor: str
    model: str
    limit_estimate: float
    ci_lower: float
    ci_upper: float
    fit: object = field(repr=False)

    def _lines(self) -> list[str]:
        if self.model == "lm":
            kind = "weighted regression with multiplicative dispersion"
        elif isinstance(self.fit, MultilevelResult):
            kind = "multilevel meta-regression model (rma.mv with the predictor as moderator)"
        elif getattr(self.fit, "method", None) == "EE":
            kind = "equal-effects meta-regression model"
        else:
            kind = "mixed-effects meta-regression model"
        stat = (f"t = {fmt(self.statistic)}, df = {self.df:g}" if self.df is not None
                else f"z = {fmt(self.statistic)}")
        lines = [f"Model:     {kind}", f"Predictor: {_PREDICTOR_NAMES[self.predictor]}", "",
                 f"Test for Funnel Plot Asymmetry: {stat}, p = {fmt_p(self.pvalue)}"]
        if not math.isnan(self.limit_estimate):
            limit = {"sei": "sei -> 0", "vi": "vi -> 0"}.get(self.predictor, "ni -> inf")
            lines.append(f"{'Limit Estimate (as ' + limit + '):':<32}b = {fmt(self.limit_estimate)} "
                         f"(CI: {fmt(self.ci_lower)}, {fmt(self.ci_upper)})")
        return lines

    def __repr__(self) -> str:
        return _text_block("Regression Test for Funnel Plot Asymmetry", self._lines())

    def _repr_html_(self) -> str:
        return _html_block("Regression Test for Funnel Plot Asymmetry", self._lines())


def _wls_lm(yi, vi, X, level):
    """Weighted least squares with a multiplicative dispersion (R ``lm(yi ~ X - 1, weights=1/vi)``)."""
    w = 1.0 / vi
    k, p = X.shape
    XtW = X.T * w
    B = np.linalg.inv(XtW @ X)
    beta = B @ (XtW @ yi)
    r = yi - X @ beta
    df = k - p
    s2 = float(np.sum(w * r * r) / df)  # residual variance (dispersion)
    se = np.sqrt(np.diag(B) * s2)
    stat = beta / se
    pval = 2 * stats.t.sf(np.abs(stat), df)
    crit = stats.t.isf((1 - level / 100) / 2, df)
    return pd.DataFrame({"estimate": beta, "se": se, "statistic": stat, "pvalue": pval,
                         "ci_lower": beta - crit * se, "ci_upper": beta + crit * se}), df


def egger_test(result: MetaResult | MultilevelResult, predictor: str = "sei", *, model: str = "rma",
               ni=None) -> EggerResult:
    """Regression test for funnel-plot asymmetry (Egger et al. 1997), as metafor ``regtest``.

    Parameters
    ----------
    result : MetaResult or MultilevelResult
        The fitted model; its moderators are kept and the predictor is added. A multilevel model
        is refitted with the predictor as a moderator and the same random effects, levels, method
        and test (metafor's ``regtest`` does not take ``rma.mv`` models; this is the
        ``rma.mv(yi, vi, mods = ~ sqrt(vi), random = ~ 1 | a/b)`` its documentation suggests).
    predictor : {"sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"}
        Standard error (default), sampling variance, sample size, 1/n, sqrt(n) or 1/sqrt(n).
    model : {"rma", "lm"}
        "rma": a meta-regression with the model's tau^2 estimator and test (metafor's default);
        "lm": weighted least squares with a multiplicative dispersion (Egger's original test),
        t on k - p - 1 df.
    ni : array-like, optional
        Sample sizes, required for the n-based predictors.

    Returns
    -------
    EggerResult

    Notes
    -----
    y_i = x_i'b + b_1 sqrt(v_i) + u_i + e_i; H0: b_1 = 0 (Egger et al. 1997, BMJ 315:629;
    Sterne & Egger 2005, in Rothstein et al., Publication Bias in Meta-Analysis, ch. 6). The
    intercept of the intercept-only version is the limit estimate (Stanley & Doucouliagos 2014).
    """
    _require(result, "egger_test", 3, multilevel=True)
    predictor = check_choice("predictor", predictor, PREDICTORS, case_sensitive=True)
    model = check_choice("model", model, ["rma", "lm"], case_sensitive=True)
    multilevel = isinstance(result, MultilevelResult)
    if multilevel and model == "lm":
        raise ValueError("model='lm' (Egger's weighted regression) treats effects as independent; "
                         "for a multilevel model use model='rma' (the predictor as a moderator of "
                         "the multilevel model)")
    yi, vi, X = result.yi, result.vi, result.X
    p = X.shape[1]
    if predictor in ("sei", "vi"):
        z = np.sqrt(vi) if predictor == "sei" else vi
    else:
        if ni is None:
            raise ValueError(f"predictor {predictor!r} needs the sample sizes: pass ni=")
        n = np.asarray(ni, dtype=float).ravel()
        if n.shape[0] != result.k:
            raise ValueError(f"ni has {n.shape[0]} values but the model has k = {result.k}")
        z = {"ni": n, "ninv": 1 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1 / np.sqrt(n)}[predictor]
    Xp = np.column_stack([X, z])
    if predictor in ("sei", "vi") and _no_precision_variation(vi):
        raise ValueError("egger_test() needs variation in precision: every study has the same "
                         "sampling variance, so the predictor is constant or collinear with the "
                         "intercept and the test is undefined")
    if np.linalg.matrix_rank(Xp) <= p:
        raise ValueError(f"the predictor {predictor!r} is constant or collinear with the "
                         "moderators; the test is undefined")
    if result.k <= p + 1:
        raise ValueError(f"egger_test() needs more than {p + 1} studies; k = {result.k}")
    names = list(result.term_names) + [predictor]
    if multilevel:
        res = _multilevel_refit(result, Xp, names)
        coefs = res.coefficients
        df = result.k - p - 1 if result.test == "t" else None
    elif model == "rma":
        res = fit(yi, vi, Xp, method=result.method, test=result.test, level=result.level,
                  term_names=names)
        coefs, df = res.coefficients, res.df
    else:
        coefs, df = _wls_lm(yi, vi, Xp, result.level)
        coefs.index = pd.Index(names, name="term")
        res = coefs
    stat, pval = float(coefs["statistic"].iloc[p]), float(coefs["pvalue"].iloc[p])
    est = lo = hi = np.nan
    if predictor in ("sei", "vi", "ninv", "sqrtninv") and p == 1:
        est = float(coefs["estimate"].iloc[0])
        lo, hi = float(coefs["ci_lower"].iloc[0]), float(coefs["ci_upper"].iloc[0])
    return EggerResult(statistic=stat, pvalue=pval, df=None if df is None else float(df),
                       predictor=predictor, model=model, limit_estimate=est, ci_lower=lo,
                       ci_upper=hi, fit=res)


def _multilevel_refit(result: MultilevelResult, X: np.ndarray, names: list) -> MultilevelResult:
    """The multilevel model refitted with design matrix X (same levels, method, test, level)."""
    levels = list(result.labels.columns)
    data = result.labels.reset_index(drop=True).copy()
    data["__yi"], data["__vi"] = result.yi, result.vi
    mods = pd.DataFrame(X[:, 1:], columns=[str(n) for n in names[1:]])
    return multilevel_meta_analysis(data, "__yi", "__vi", levels=levels, mods=mods,
                                    method=result.method, test=result.test, level=result.level)


# --------------------------------------------------------------------------------------------
# rank correlation test (Begg and Mazumdar)


@dataclass(frozen=True)
class RankTestResult:
    """Kendall's tau between standardized effects and their variances, and its p-value."""

    tau: float
    pvalue: float
    exact: bool

    def _lines(self) -> list[str]:
        return [f"Kendall's tau = {fmt(self.tau)}, p = {fmt_p(self.pvalue)}"
                + ("" if self.exact else " (normal approximation)")]

    def __repr__(self) -> str:
        return _text_block("Rank Correlation Test for Funnel Plot Asymmetry", self._lines())

    def _repr_html_(self) -> str:
        return _html_block("Rank Correlation Test for Funnel Plot Asymmetry", self._lines())


def rank_test(result: MetaResult, *, exact: bool = True) -> RankTestResult:
    """Begg and Mazumdar's rank correlation test, as metafor ``ranktest``.

    Parameters
    ----------
    result : MetaResult
    exact : bool
        Exact p-value from the distribution of Kendall's statistic when there are no ties (as R's
        ``cor.test(exact = TRUE)``); with ties, or ``exact=False``, the normal approximation with
        the tie-corrected variance.

    Notes
    -----
    y*_i = (y_i - b_EE) / sqrt(v_i - 1/sum w), w = 1/v_i; tau is Kendall's tau-b between y*_i and
    v_i (Begg & Mazumdar 1994, Biometrics 50:1088, eq. 2).
    """
    _require(result, "rank_test", 3)
    if result.p > 1:
        raise ValueError("rank_test() applies to models without moderators")
    yi, vi = result.yi, result.vi
    w = 1.0 / vi
    theta = np.sum(w * yi) / np.sum(w)
    ystar = (yi - theta) / np.sqrt(vi - 1.0 / np.sum(w))  # Begg & Mazumdar 1994, eq. 2
    ties = len(np.unique(ystar)) < len(ystar) or len(np.unique(vi)) < len(vi)
    use_exact = exact and not ties
    res = stats.kendalltau(ystar, vi, method="exact" if use_exact else "asymptotic")
    return RankTestResult(tau=float(res.statistic), pvalue=float(res.pvalue), exact=use_exact)


# --------------------------------------------------------------------------------------------
# trim and fill (Duval and Tweedie)


@dataclass(frozen=True, eq=False, repr=False)
class TrimFillResult(MetaResult):
    """The model refitted with the imputed studies. ``filled`` marks the imputed rows (after the
    observed ones); ``k0`` their number (``se_k0`` its standard error); ``side`` where they were
    imputed; ``estimator`` "L0" or "R0"."""

    k0: int = 0
    se_k0: float = float("nan")
    side: str = "left"
    estimator: str = "L0"
    filled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    p_k0: float = float("nan")

    def _k0_lines(self) -> list[str]:
        head = f"Estimated number of missing studies on the {self.side} side: {self.k0} (SE = {fmt(self.se_k0)})"
        lines = [head]
        if self.estimator == "R0":
            lines.append(f"{'Test of H0: no missing studies on the ' + self.side + ' side:':<{len(head.split(':')[0]) + 2}}"
                         f"p-val = {fmt(self.p_k0)}")
        return lines

    def __repr__(self) -> str:
        return "\n" + "\n".join(self._k0_lines()) + "\n\n" + report_text(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<p>{html.escape(line)}</p>" for line in self._k0_lines())
        return head + report_html(self)


def trim_and_fill(result: MetaResult, *, estimator: str = "L0", side: str | None = None,
                  maxiter: int = 100) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill method, as metafor ``trimfill``.

    Parameters
    ----------
    result : MetaResult
        An intercept-only model (equal- or random-effects).
    estimator : {"L0", "R0"}
        Estimator of the number of missing studies.
    side : {"left", "right"}, optional
        Side on which studies are missing; by default chosen as metafor does, from the sign of
        the slope of the Egger-type regression on sqrt(v_i) (negative: right, else left).
    maxiter : int
        Maximum number of trim iterations.

    Returns
    -------
    TrimFillResult
        A ``MetaResult`` for the observed plus the filled studies (labels "Filled 1", ...).

    Notes
    -----
    Centre the effects at the estimate of the trimmed data, rank |y_i - b| and give each rank the
    sign of y_i - b; L0 = (4 S_r - k(k + 1)) / (2k - 1) with S_r the sum of the positive ranks,
    R0 = gamma* - 1 with gamma* the length of the rightmost run of positive ranks; iterate
    trimming the k0 most extreme studies until k0 is stable, then mirror them about the trimmed
    estimate, y_fill = 2b - y (Duval & Tweedie 2000, Biometrics 56:455, eqs. 5-6 and section 3;
    Duval 2005, in Rothstein et al., ch. 8).
    """
    _require(result, "trim_and_fill", 3)
    if result.p > 1:
        raise ValueError("trim_and_fill() applies to models without moderators")
    estimator = check_choice("estimator", estimator, ["L0", "R0"])
    method = result.method
    yi, vi = result.yi.copy(), result.vi.copy()
    identical = bool(np.ptp(yi) == 0)  # a funnel of identical effects is symmetric by construction
    if side is not None:
        side = check_choice("side", side, ["left", "right"], case_sensitive=True)
    elif identical:
        side = "left"  # the slope on sqrt(v_i) is exactly 0: metafor's rule gives "left"
    elif _no_precision_variation(vi):
        raise ValueError(
            "trim_and_fill() cannot choose the side of the funnel: it regresses the effects on their "
            "standard errors, and every study has the same sampling variance (no variation in "
            "precision). Pass side='left' or side='right'")
    else:
        slope = fit(yi, vi, np.column_stack([np.ones_like(yi), np.sqrt(vi)]), method=method)
        side = "right" if slope.coefficients["estimate"].iloc[1] < 0 else "left"
    if side == "right":
        yi = -yi
    order = np.argsort(yi, kind="stable")
    yi, vi = yi[order], vi[order]
    k = yi.shape[0]
    k0, k0_prev, it = 0, -1, 0
    se_k0 = np.nan
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise RuntimeError(f"trim_and_fill: k0 did not settle within {maxiter} iterations")
        beta = fit(yi[: k - k0], vi[: k - k0], method=method).estimate
        yc = np.zeros(k) if identical else yi - beta  # identical: exact zeros, not rounding noise
        ranks = stats.rankdata(np.abs(yc), method="ordinal")  # ties: first come first
        signed = np.sign(yc) * ranks
        if estimator == "R0":
            k0 = (k - np.max(-signed[signed < 0])) - 1 if np.any(signed < 0) else k - 1
            se_k0 = math.sqrt(2 * max(0, k0) + 2)
        else:
            Sr = np.sum(signed[signed > 0])
            k0 = (4 * Sr - k * (k + 1)) / (2 * k - 1)  # Duval & Tweedie 2000, eq. 5
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0**3 + 27 * k0**2 + 17 * k0
                      - 18 * k * k0**2 - 18 * k * k0 + 6 * k**2 * k0) / 24
            # a negative L0 can make this "variance" negative: metafor's sqrt() gives NaN there
            # (and k0 = 0 below), so the standard error is NaN, not an error
            se_k0 = 4 * math.sqrt(var_sr) / (2 * k - 1) if var_sr >= 0 else math.nan
        k0 = int(max(0, _round_half_even(k0)))
        se_k0 = se_k0 if math.isnan(se_k0) else max(0.0, se_k0)  # R: max(0, NaN) is NaN
    # R0: P(k0 or more) under H0, 1 - sum_{m=-1}^{k0-1} 0.5^(m+2) = 0.5^(k0+1) (Duval 2005)
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else np.nan
    base = {f.name: getattr(result, f.name) for f in fields(MetaResult)}
    if k0 == 0:
        return TrimFillResult(**base, k0=0, se_k0=float(se_k0), side=side, estimator=estimator,
                              filled=np.zeros(result.k, dtype=bool), p_k0=p_k0)
    mirrored = 2 * beta - yi[k - k0:]  # Duval & Tweedie 2000: y_fill = 2 b - y
    if side == "right":
        mirrored = -mirrored
    y_all = np.concatenate([result.yi, mirrored])
    v_all = np.concatenate([result.vi, vi[k - k0:]])
    slab = np.concatenate([np.asarray(result.slab, dtype=object),
                           np.array([f"Filled {i + 1}" for i in range(k0)], dtype=object)])
    res = fit(y_all, v_all, method=method, test=result.test, level=result.level, slab=slab,
              measure=result.measure)
    base = {f.name: getattr(res, f.name) for f in fields(MetaResult)}
    filled = np.concatenate([np.zeros(result.k, dtype=bool), np.ones(k0, dtype=bool)])
    return TrimFillResult(**base, k0=k0, se_k0=float(se_k0), side=side, estimator=estimator,
                          filled=filled, p_k0=p_k0)


def _round_half_even(x: float) -> float:
    """R's round(): IEC 60559 round half to even, as Python's round()."""
    return float(round(x))


# --------------------------------------------------------------------------------------------
# fail-safe N


def fail_safe_n(data=None, yi="yi", vi="vi", *, method: str = "rosenthal", alpha: float = 0.05,
                target: float | None = None, weighted: bool = False) -> float:
    """Fail-safe N, as metafor ``fsn``: how many null studies would overturn the result.

    Parameters
    ----------
    data : DataFrame or MetaResult, optional
        Table holding ``yi`` and ``vi``, or a fitted model (its yi and vi are used).
    yi, vi : str or array-like
    method : {"rosenthal", "orwin", "rosenberg"}
    alpha : float
        Significance level (one-sided for Rosenthal, two-sided for Rosenberg).
    target : float, optional
        Orwin: the effect size to reduce the mean to (default: half the mean).
    weighted : bool
        Orwin: inverse-variance weighted mean instead of the plain mean.

    Returns
    -------
    float
        The fail-safe number (a whole number; ``inf`` for Orwin with target 0).

    Notes
    -----
    Rosenthal (1979, Psychol Bull 86:638): N = k (Z_bar / z_{1-alpha})^2 - k with
    Z_bar = |sum z_i| / sqrt(k), z_i = y_i / sqrt(v_i) (Stouffer). Orwin (1983, J Educ Stat
    8:157): N = k (m - target) / target. Rosenberg (2005, Evolution 59:464, eq. 3):
    N = k [(sum w_i y_i / z_{1-alpha/2})^2 - sum w_i] / sum w_i. Non-integer values are rounded
    up, as metafor.
    """
    method = check_choice("method", method, ["rosenthal", "orwin", "rosenberg"])
    if isinstance(data, MetaResult):
        y, v = data.yi, data.vi
    else:
        y = get_column(data, yi, "yi")
        v = get_column(data, vi, "vi", n=y.shape[0]) if (method != "orwin" or weighted) \
            else np.zeros_like(y)
    keep = ~(np.isnan(y) | np.isnan(v))
    y, v = y[keep], v[keep]
    k = y.shape[0]
    if k == 0:
        raise ValueError("fail_safe_n() needs at least one study with yi and vi")
    if method == "rosenthal":
        z_avg = abs(np.sum(y / np.sqrt(v)) / math.sqrt(k))  # Stouffer's combined z
        n = max(0.0, k * (z_avg / stats.norm.isf(alpha)) ** 2 - k)
    elif method == "orwin":
        mean = float(np.sum(y / v) / np.sum(1 / v)) if weighted else float(np.mean(y))
        target = mean / 2 if target is None else float(target)
        if target == 0:
            return math.inf
        if np.sign(target) != np.sign(mean):
            target = -target
        n = max(0.0, k * (mean - target) / target)
    else:
        w = 1 / v
        w_p = (np.sum(w * y) / stats.norm.isf(alpha / 2)) ** 2 - np.sum(w)
        n = max(0.0, k * w_p / np.sum(w))
    if abs(n - round(n)) >= math.sqrt(np.finfo(float).eps):
        return float(math.ceil(n))
    return float(round(n))


# --------------------------------------------------------------------------------------------
# PET-PEESE


def pet_peese(result: MetaResult, *, alpha: float = 0.10) -> pd.DataFrame:
    """PET and PEESE estimates of the effect corrected for small-study effects.

    Parameters
    ----------
    result : MetaResult
        An intercept-only model (its yi and vi are used).
    alpha : float
        Level of the PET test of H0: intercept = 0 that decides between the two (two-sided; 0.10
        as Stanley & Doucouliagos 2014, i.e. one-sided 0.05).

    Returns
    -------
    DataFrame
        Rows "PET", "PEESE"; columns estimate, se, statistic, pvalue, ci_lower, ci_upper (the
        intercept), slope, slope_pvalue, selected (True on the row to report: PEESE when PET
        rejects a zero effect, else PET).

    Notes
    -----
    PET: y_i = b_0 + b_1 se_i; PEESE: y_i = b_0 + b_1 v_i; both weighted least squares with
    weights 1/v_i and a multiplicative dispersion (Stanley & Doucouliagos 2014, Res Synth Methods
    5:60, eqs. 3 and 5). Their intercepts equal metafor's ``regtest(model = "lm")`` limit
    estimates with predictor "sei" and "vi".
    """
    _require(result, "pet_peese", 3)
    if result.p > 1:
        raise ValueError("pet_peese() applies to models without moderators")
    if _no_precision_variation(result.vi):
        raise ValueError("pet_peese() needs variation in precision: it regresses the effects on "
                         "their standard errors (PET) and variances (PEESE), and every study has "
                         "the same sampling variance, so the effect at zero standard error cannot "
                         "be estimated")
    rows = {}
    for name, z in (("PET", np.sqrt(result.vi)), ("PEESE", result.vi)):
        coefs, _ = _wls_lm(result.yi, result.vi, np.column_stack([np.ones(result.k), z]),
                           result.level)
        row = coefs.iloc[0].to_dict()
        row["slope"] = float(coefs["estimate"].iloc[1])
        row["slope_pvalue"] = float(coefs["pvalue"].iloc[1])
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    use_peese = out.loc["PET", "pvalue"] < alpha
    out["selected"] = [not use_peese, bool(use_peese)]
    return out


# --------------------------------------------------------------------------------------------
# test of excess significance (Ioannidis and Trikalinos)


@dataclass(frozen=True)
class ExcessSignificanceResult:
    """Observed (``observed``) versus expected (``expected``) number of significant studies."""

    observed: int
    expected: float
    ratio: float
    test: str
    statistic: float
    pvalue: float
    theta: float
    theta_lim: float
    power: np.ndarray = field(repr=False)
    significant: np.ndarray = field(repr=False)


def _study_power(theta, sei, tau2, crit, H0, alternative):
    """P(study i is significant | true effect theta, heterogeneity tau^2).

    With u ~ N(theta, tau^2) and z_i | u ~ N((u - H0)/se_i, 1), z_i ~ N((theta - H0)/se_i,
    1 + tau^2/se_i^2): the integral metafor evaluates numerically, in closed form.
    """
    mu = (theta - H0) / sei
    sd = np.sqrt(1.0 + tau2 / sei**2)
    upper = stats.norm.sf((crit - mu) / sd)
    lower = stats.norm.cdf((-crit - mu) / sd)
    if alternative == "two.sided":
        return upper + lower
    if alternative == "greater":
        return upper
    return stats.norm.cdf((crit - mu) / sd)  # "less": crit is the lower-tail quantile


def _poisson_binomial(pw: np.ndarray) -> np.ndarray:
    """P(X = j), j = 0..k, for a sum of independent Bernoulli(pw_i) (dynamic programming)."""
    dist = np.zeros(pw.shape[0] + 1)
    dist[0] = 1.0
    for i, q in enumerate(pw):  # O(k^2), k studies: fine for any realistic k
        dist[1: i + 2] = dist[1: i + 2] * (1 - q) + dist[: i + 1] * q
        dist[0] *= 1 - q
    return dist


def _tes_pvalue(n_sig, pw, test, tes_alternative):
    k = pw.shape[0]
    E = float(np.sum(pw))
    if test == "exact":
        prj = _poisson_binomial(pw)
        if tes_alternative == "greater":
            return np.nan, float(min(1.0, prj[n_sig:].sum()))
        if tes_alternative == "less":
            return np.nan, float(min(1.0, prj[: n_sig + 1].sum()))
        return np.nan, float(min(1.0, prj[prj <= prj[n_sig] + np.sqrt(np.finfo(float).eps)].sum()))
    p0 = E / k
    if test == "binom":
        if tes_alternative == "greater":
            return np.nan, float(stats.binom.sf(n_sig - 1, k, p0))
        if tes_alternative == "less":
            return np.nan, float(stats.binom.cdf(n_sig, k, p0))
        return np.nan, float(stats.binomtest(n_sig, k, p0).pvalue)
    x2 = (n_sig - E) ** 2 / (E * (1 - p0))  # one-sample prop.test without continuity correction
    z = np.sign(n_sig / k - p0) * math.sqrt(x2)
    if tes_alternative == "greater":
        return x2, float(stats.norm.sf(z))
    if tes_alternative == "less":
        return x2, float(stats.norm.cdf(z))
    return x2, float(stats.chi2.sf(x2, 1))


def excess_significance_test(result: MetaResult, *, alpha: float = 0.05,
                             alternative: str = "two.sided", tes_alternative: str = "greater",
                             tes_alpha: float = 0.10, test: str | None = None,
                             H0: float = 0.0) -> ExcessSignificanceResult:
    """Test of excess significance (Ioannidis & Trikalinos 2007), as metafor ``tes``.

    Parameters
    ----------
    result : MetaResult
        The model supplies the studies, the true effect (its estimate, or fitted values under
        moderators) and tau^2.
    alpha, alternative : float, {"two.sided", "greater", "less"}
        How each study's significance is judged.
    tes_alternative, tes_alpha : {"greater", "two.sided", "less"}, float
        Alternative of the excess-significance test, and the level at which ``theta_lim`` (the
        true effect at which the test's p-value equals ``tes_alpha``) is found.
    test : {"exact", "binom", "chi2"}, optional
        Default as metafor: exact (Poisson-binomial) when the sum of binomial coefficients over
        the tail is at most 10^6, else chi2.

    Notes
    -----
    power_i = P(|z_i| >= z_{1-alpha/2}) with z_i ~ N((theta - H0)/se_i, 1 + tau^2/se_i^2);
    E = sum power_i, n_sig = number of significant studies; the exact p-value is P(X >= n_sig) for X
    Poisson-binomial with these probabilities (Ioannidis & Trikalinos 2007, Clin Trials 4:245;
    metafor ``tes``). metafor integrates the power numerically over theta +- 5 tau; the closed
    form here is exact.
    """
    _require(result, "excess_significance_test", 2)
    alternative = check_choice("alternative", alternative, ["two.sided", "greater", "less"],
                               case_sensitive=True)
    tes_alternative = check_choice("tes_alternative", tes_alternative,
                                   ["two.sided", "greater", "less"], case_sensitive=True)
    yi, vi = result.yi, result.vi
    k = yi.shape[0]
    sei = np.sqrt(vi)
    crit = {"two.sided": stats.norm.isf(alpha / 2), "greater": stats.norm.isf(alpha),
            "less": stats.norm.ppf(alpha)}[alternative]
    z = (yi - H0) / sei
    sig = {"two.sided": np.abs(z) >= crit, "greater": z >= crit, "less": z <= crit}[alternative]
    n_sig = int(sig.sum())
    if test is None:
        js = {"two.sided": range(k + 1), "greater": range(n_sig, k + 1),
              "less": range(n_sig + 1)}[tes_alternative]
        test = "exact" if sum(math.comb(k, j) for j in js) <= 10**6 else "chi2"
    test = check_choice("test", test, ["exact", "binom", "chi2"], case_sensitive=True)
    beta = result.coefficients["estimate"].to_numpy()
    theta = result.X @ beta
    tau2 = float(result.tau2)
    pw = _study_power(theta, sei, tau2, crit, H0, alternative)
    x2, pval = _tes_pvalue(n_sig, pw, test, tes_alternative)
    theta_lim = np.nan
    if result.p == 1 and tes_alternative in ("greater", "less"):
        theta_lim = _tes_limit(n_sig, sei, tau2, crit, H0, alternative, test, tes_alternative,
                               tes_alpha, float(beta[0]))
    return ExcessSignificanceResult(
        observed=n_sig, expected=float(pw.sum()), ratio=n_sig / float(pw.sum()), test=test,
        statistic=float(x2), pvalue=pval, theta=float(theta[0]) if result.p == 1 else np.nan,
        theta_lim=theta_lim, power=pw, significant=sig)


def _tes_limit(n_sig, sei, tau2, crit, H0, alternative, test, tes_alternative, tes_alpha, theta1):
    """The true effect at which the excess-significance p-value equals tes_alpha (metafor)."""
    def diff(t):
        pw = _study_power(np.full(sei.shape, t), sei, tau2, crit, H0, alternative)
        return _tes_pvalue(n_sig, pw, test, tes_alternative)[1] - tes_alpha

    d0 = diff(H0)
    if (tes_alternative == "greater" and d0 >= 0) or (tes_alternative == "less" and d0 <= 0):
        return np.nan
    lo, hi = sorted((H0, theta1))
    step = max(abs(theta1 - H0), 1e-3)
    for _ in range(60):  # widen the bracket as uniroot's extendInt
        if np.sign(diff(lo)) != np.sign(diff(hi)):
            return float(brentq(diff, lo, hi, xtol=1e-12, rtol=1e-12))
        if theta1 >= H0:
            hi += step
        else:
            lo -= step
        step *= 2
    return np.nan
