"""Pooling 2x2 tables directly: Mantel-Haenszel (OR, RR, RD) and Peto's one-step odds ratio.

As metafor's ``rma.mh()`` and ``rma.peto()``: the pooled estimate uses the raw counts; the
heterogeneity test uses the per-study log OR / log RR / RD with 1/2 added to every cell of a
table with a zero cell (``add=0.5, to="only0"``); tables with no events (or only events) in
both arms are left out of the heterogeneity test.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.format import fmt, pval_eq
from evidence_kit._core.validate import check_choice, check_rows, get_column, row_labels

MH_MEASURES = ("OR", "RR", "RD")


@dataclass(frozen=True, eq=False)
class BinaryPoolResult:
    """A Mantel-Haenszel or Peto pooled estimate.

    ``estimate`` and the CI are on the log scale for OR and RR (as metafor), on the risk
    difference scale for RD. ``cmh`` (Cochran-Mantel-Haenszel test, with continuity correction,
    as metafor prints it) is given for the MH odds ratio only. ``k`` counts tables used,
    ``omitted`` lists rows dropped for missing counts.
    """

    method: str
    measure: str
    k: int
    level: float
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_lower: float
    ci_upper: float
    q: float
    q_df: int
    q_pvalue: float
    i2: float
    h2: float
    cmh: float | None
    cmh_pvalue: float | None
    omitted: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row with the numbers (full precision)."""
        cols = ["estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "i2", "h2",
                "cmh", "cmh_pvalue"]
        return pd.DataFrame([[getattr(self, c) for c in cols]], columns=cols,
                            index=[f"{self.method} {self.measure}"])

    def _repr_html_(self) -> str:
        lines = repr(self).splitlines()
        return (f"<div><p><strong>{html.escape(lines[0])}</strong></p>"
                + "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:]) + "</div>")

    def __repr__(self) -> str:
        lines = [f"Equal-Effects Model (k = {self.k}), "
                 f"{'Mantel-Haenszel' if self.method == 'MH' else 'Peto'} method, measure {self.measure}",
                 f"I^2 = {self.i2:.2f}%, H^2 = {self.h2:.2f}; Q(df = {self.q_df}) = {fmt(self.q)}, "
                 f"p-val {pval_eq(self.q_pvalue)}",
                 f"estimate = {fmt(self.estimate)}, se = {fmt(self.se)}, zval = {fmt(self.statistic)}, "
                 f"p-val {pval_eq(self.pvalue)}, ci = [{fmt(self.ci_lower)}, {fmt(self.ci_upper)}]"]
        if self.measure in ("OR", "RR"):
            lines.append(f"exp: {fmt(np.exp(self.estimate))} [{fmt(np.exp(self.ci_lower))}, "
                         f"{fmt(np.exp(self.ci_upper))}]")
        if self.cmh is not None:
            lines.append(f"Cochran-Mantel-Haenszel test: CMH = {fmt(self.cmh)}, df = 1, p-val {pval_eq(self.cmh_pvalue)}")
        return "\n".join(lines)


def _tables(data, ai, bi, ci, di, n1i=None, n2i=None):
    """The four cells; bi = n1i - ai and di = n2i - ci when group sizes are given (as metafor)."""
    a = get_column(data, ai, "ai")
    n = a.shape[0]
    c = get_column(data, ci, "ci", n=n)
    labels = row_labels(data, n)
    if n1i is not None:
        n1 = get_column(data, n1i, "n1i", n=n)
        check_rows(n1 < a, "n1i", "group size n1i is smaller than the events ai", n1, labels)
        b = n1 - a
    else:
        b = get_column(data, bi, "bi", n=n)
    if n2i is not None:
        n2 = get_column(data, n2i, "n2i", n=n)
        check_rows(n2 < c, "n2i", "group size n2i is smaller than the events ci", n2, labels)
        d = n2 - c
    else:
        d = get_column(data, di, "di", n=n)
    for name, x in (("ai", a), ("bi", b), ("ci", c), ("di", d)):
        check_rows(~np.isnan(x) & ((x < 0) | ~np.isfinite(x)), name, "cell counts must be finite and non-negative",
                   x, labels)
    miss = np.isnan(a) | np.isnan(b) | np.isnan(c) | np.isnan(d)
    keep = ~miss
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    check_rows((a + b == 0) | (c + d == 0), "ai..di", "each arm needs at least one participant", a, labels[keep])
    if a.shape[0] == 0:
        raise ValueError("no complete 2x2 tables to pool: k = 0")
    return a, b, c, d, labels[miss]


def _study_effects(a, b, c, d, measure):
    """Per-study yi, vi as escalc(add=1/2, to="only0", drop00=TRUE) for the heterogeneity test."""
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (x + 0.5 * zero for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    if measure == "OR":
        yi, vi = np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    elif measure == "RR":
        yi, vi = np.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2
    else:
        p1, p2 = a / n1, c / n2
        yi, vi = p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return yi, vi


def _heterogeneity(yi, vi, beta, ok):
    yi, vi = yi[ok], vi[ok]
    k = yi.shape[0]
    if k <= 1:
        return 0.0, 0, 1.0, 0.0, 1.0
    if np.isnan(beta):  # no pooled estimate: Q about it is undefined (metafor: NA)
        return np.nan, k - 1, np.nan, np.nan, np.nan
    q = max(0.0, float(np.sum((yi - beta) ** 2 / vi)))  # Cochran's Q about the pooled estimate
    return q, k - 1, float(stats.chi2.sf(q, k - 1)), max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0, q / (k - 1)


def _result(method, measure, k, level, beta, se, het, cmh, cmh_p, omitted):
    z = beta / se if se > 0 else np.nan  # NaN when the estimate is undefined
    crit = stats.norm.ppf(1 - (1 - level / 100) / 2)
    q, q_df, q_p, i2, h2 = het
    return BinaryPoolResult(method=method, measure=measure, k=k, level=float(level), estimate=float(beta),
                            se=float(se), statistic=float(z), pvalue=float(2 * stats.norm.sf(abs(z))),
                            ci_lower=float(beta - crit * se), ci_upper=float(beta + crit * se), q=q, q_df=q_df,
                            q_pvalue=q_p, i2=i2, h2=h2, cmh=cmh, cmh_pvalue=cmh_p, omitted=omitted)


def _undefined(what: str, why: str) -> float:
    """A valid table set whose pooled estimate does not exist: NaN with a warning (metafor: NA)."""
    warnings.warn(f"the Mantel-Haenszel {what} is undefined ({why}): estimate, se and CI are NaN, "
                  "as metafor's NA", RuntimeWarning, stacklevel=3)
    return np.nan


def mantel_haenszel(data=None, ai="ai", bi="bi", ci="ci", di="di", *, n1i=None, n2i=None, measure: str = "OR",
                    level: float = 95, correct: bool = True) -> BinaryPoolResult:
    """Mantel-Haenszel pooled odds ratio, risk ratio or risk difference.

    Parameters
    ----------
    data : DataFrame, optional
    ai, bi, ci, di : str or array-like
        Events and non-events in the treatment (ai, bi) and control (ci, di) arms.
    n1i, n2i : str or array-like, optional
        Group sizes, instead of bi and di (bi = n1i - ai, di = n2i - ci).
    measure : {"OR", "RR", "RD"}
    level : float
        Confidence level in percent.
    correct : bool
        Continuity correction in the CMH test (metafor's default).

    Notes
    -----
    OR: exp(b) = sum(a_i d_i/N_i) / sum(b_i c_i/N_i) (Mantel & Haenszel 1959) with the variance
    of Robins, Breslow & Greenland 1986 (eq. 13); RR and RD: Greenland & Robins 1985 (eqs. 2-5).
    CMH = (|sum(a_i - n1_i m1_i/N_i)| - 0.5)^2 / sum(n1_i n2_i m1_i m2_i / (N_i^2 (N_i - 1))).
    """
    measure = check_choice("measure", measure, MH_MEASURES)
    a, b, c, d, omitted = _tables(data, ai, bi, ci, di, n1i, n2i)
    n1, n2 = a + b, c + d
    N = n1 + n2
    if measure == "OR":
        P, Q = (a + d) / N, (b + c) / N
        R, S = a * d / N, b * c / N
        sR, sS = R.sum(), S.sum()
        if sR == 0 or sS == 0:
            beta = se = _undefined("odds ratio", "in every table one arm has no events or no non-events")
        else:
            beta = np.log(sR / sS)
            se = np.sqrt(0.5 * (np.sum(P * R) / sR ** 2 + np.sum(P * S + Q * R) / (sR * sS)
                                + np.sum(Q * S) / sS ** 2))
        xt, yt = a + c, b + d
        num = (abs(np.sum(a - n1 / N * xt)) - (0.5 if correct else 0.0)) ** 2
        den = np.sum(n1 / N * n2 / N * xt * yt / (N - 1))
        # one outcome never occurs in any table: the CMH statistic is 0/0 (metafor: NA)
        cmh = float(num / den) if den > 0 else np.nan
        cmh_p = float(stats.chi2.sf(cmh, 1)) if den > 0 else np.nan
    elif measure == "RR":
        R, S = np.sum(a * n2 / N), np.sum(c * n1 / N)
        if a.sum() == 0 or c.sum() == 0:
            beta = se = _undefined("risk ratio", "one arm has no events in any table")
        else:
            beta = np.log(R / S)
            se = np.sqrt(np.sum(n1 / N * n2 / N * (a + c) - a / N * c) / (R * S))
        cmh = cmh_p = None
    else:
        wsum = np.sum(n1 * n2 / N)
        beta = np.sum(a * n2 / N - c * n1 / N) / wsum
        se = np.sqrt((beta * np.sum(c * (n1 / N) ** 2 - a * (n2 / N) ** 2 + n1 / N * n2 / N * (n2 - n1) / 2)
                      + np.sum(a * (n2 - c) / N + c * (n1 - a) / N) / 2) / wsum ** 2)
        cmh = cmh_p = None
    yi, vi = _study_effects(a, b, c, d, measure)
    both0 = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    het = _heterogeneity(yi, vi, beta, ~both0)
    return _result("MH", measure, a.shape[0], level, beta, se, het, cmh, cmh_p, omitted)


def peto(data=None, ai="ai", bi="bi", ci="ci", di="di", *, n1i=None, n2i=None, level: float = 95
         ) -> BinaryPoolResult:
    """Peto's one-step pooled log odds ratio (Yusuf et al. 1985).

    Arguments as :func:`mantel_haenszel` (``n1i``/``n2i`` may replace ``bi``/``di``).

    Notes
    -----
    O_i - E_i = a_i - n1_i m1_i / N_i, V_i = m1_i m2_i n1_i n2_i / (N_i^2 (N_i - 1));
    b = sum(O - E) / sum(V), se = 1/sqrt(sum V); Q = sum((O - E)^2 / V) - (sum(O - E))^2 / sum(V)
    over tables with V_i > 0 (Yusuf et al. 1985, Prog Cardiovasc Dis 27:335; metafor rma.peto).
    """
    a, b, c, d, omitted = _tables(data, ai, bi, ci, di, n1i, n2i)
    n1, n2 = a + b, c + d
    N = n1 + n2
    xt, yt = a + c, b + d
    E = xt * n1 / N
    V = xt * yt * (n1 / N) * (n2 / N) / (N - 1)
    sV = V.sum()
    if sV == 0:
        raise ValueError("one of the two outcomes never occurs in any table: Peto's method cannot be used")
    beta = np.sum(a - E) / sV
    se = np.sqrt(1 / sV)
    pos = V > 0
    q = max(0.0, float(np.sum((a[pos] - E[pos]) ** 2 / V[pos]) - np.sum(a - E) ** 2 / sV))
    k = a.shape[0]
    # df from the tables with a per-study log OR (escalc drops tables with no events, or only
    # events, in both arms), as metafor's k.yi
    k_yi = int(np.sum(~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))))
    if pos.sum() > 1:
        het = (q, k_yi - 1, float(stats.chi2.sf(q, k_yi - 1)),
               max(0.0, 100 * (q - (k_yi - 1)) / q) if q > 0 else 0.0, q / (k_yi - 1))
    else:
        het = (q, k_yi - 1, 1.0, 0.0, 1.0)
    return _result("Peto", "OR", k, level, beta, se, het, None, None, omitted)
