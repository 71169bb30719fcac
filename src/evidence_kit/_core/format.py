"""Display of results: rounding happens here and only here (metafor-style text and HTML)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from scipy import stats


def fmt(x, digits: int = 4) -> str:
    """A number at ``digits`` decimals; NaN/None as 'NA' (as metafor prints)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NA"
    return f"{x:.{digits}f}"


def fmt_p(p, digits: int = 4) -> str:
    """p-values as metafor's coefficient table: '<.0001' below 10^-digits, else '0.0123'."""
    if p is None or np.isnan(p):
        return "NA"
    if p < 10 ** -digits:
        return "<." + "0" * (digits - 1) + "1"
    return f"{p:.{digits}f}"


def pval_eq(p, digits: int = 4) -> str:
    """p-values in a test line as metafor: 'p-val < .0001' or 'p-val = 0.0123'."""
    s = fmt_p(p, digits)
    return f"< {s[1:]}" if s.startswith("<") else f"= {s}"


def df_label(stat: str, df) -> str:
    """metafor's test label from a df tuple: ``QM(df = 2)`` or ``F(df1 = 3, df2 = 15.55)``."""
    df = tuple(np.ravel(df))
    if len(df) == 1:
        return f"{stat}(df = {df[0]:g})"
    return f"{stat}(df1 = {df[0]:g}, df2 = {round(float(df[1]), 2):g})"


def _header(res) -> str:
    if res.method == "EE":
        kind = "Equal-Effects Model" if res.p == 1 else "Equal-Effects Model with Moderators"
        return f"{kind} (k = {res.k})"
    kind = "Random-Effects Model" if res.p == 1 else "Mixed-Effects Model"
    return f"{kind} (k = {res.k}; tau^2 estimator: {res.method})"


def _aligned(pairs):
    """'label:' padded to a common width, then the value (metafor aligns its heterogeneity block)."""
    width = max(len(label) for label, _ in pairs) + 2
    return [f"{label + ':':<{width}}{value}" for label, value in pairs]


def _lines(res, digits: int = 4):
    """The report as (section, lines) pairs, shared by the text and HTML views."""
    out = [("header", [_header(res)])]
    het = []
    if res.method != "EE":
        het.append((f"tau^2 (estimated amount of {'residual' if res.p > 1 else 'total'} heterogeneity)",
                    f"{fmt(res.tau2, digits)} (SE = {fmt(res.se_tau2, digits)})"))
        het.append(("tau (square root of estimated tau^2 value)", fmt(res.tau, digits)))
    if res.p > 1:
        het.append(("I^2 (residual heterogeneity / unaccounted variability)", f"{res.i2:.2f}%"))
        het.append(("H^2 (unaccounted variability / sampling variability)", f"{res.h2:.2f}"))
    else:
        het.append(("I^2 (total heterogeneity / total variability)", f"{res.i2:.2f}%"))
        het.append(("H^2 (total variability / sampling variability)", f"{res.h2:.2f}"))
    if res.r2 is not None:
        het.append(("R^2 (amount of heterogeneity accounted for)", f"{res.r2:.2f}%"))
    out.append(("heterogeneity", _aligned(het)))
    qname = "Test for Residual Heterogeneity" if res.p > 1 else "Test for Heterogeneity"
    qlab = "QE" if res.p > 1 else "Q"
    tests = [f"{qname}:", f"{qlab}(df = {res.q_df}) = {fmt(res.q, digits)}, p-val {pval_eq(res.q_pvalue, digits)}"]
    if res.qm is not None:
        m = res.qm_df[0]
        coefs = "coefficient 2" if m == 1 else f"coefficients 2:{res.p}"
        stat = (f"F(df1 = {m}, df2 = {res.qm_df[1]})" if res.test in ("t", "knha") else f"QM(df = {m})")
        tests += ["", f"Test of Moderators ({coefs}):",
                  f"{stat} = {fmt(res.qm, digits)}, p-val {pval_eq(res.qm_pvalue, digits)}"]
    out.append(("tests", tests))
    out.append(("coefficients", ["Model Results:"]))
    return out


def coef_table(res, digits: int = 4) -> pd.DataFrame:
    """The coefficient table as strings, columns named as metafor prints them."""
    c = res.coefficients
    stat = "tval" if res.test in ("t", "knha") else "zval"
    tab = pd.DataFrame({
        "estimate": [fmt(v, digits) for v in c["estimate"]],
        "se": [fmt(v, digits) for v in c["se"]],
        stat: [fmt(v, digits) for v in c["statistic"]],
        **({"df": [f"{res.df:g}"] * len(c)} if res.df is not None else {}),
        "pval": [fmt_p(v, digits) for v in c["pvalue"]],
        "ci.lb": [fmt(v, digits) for v in c["ci_lower"]],
        "ci.ub": [fmt(v, digits) for v in c["ci_upper"]],
    }, index=c.index)
    tab.index.name = None
    return tab


def report_text(res, digits: int = 4) -> str:
    """metafor-style printout of a MetaResult."""
    parts = []
    for _section, lines in _lines(res, digits):
        parts.append("\n".join(lines))
    parts.append(coef_table(res, digits).to_string())
    if res.omitted.size:
        parts.append(f"({res.omitted.size} studies omitted for missing values: "
                     f"{', '.join(map(str, res.omitted[:10]))}{' ...' if res.omitted.size > 10 else ''})")
    return "\n\n".join(parts) + "\n"


def report_html(res, digits: int = 4) -> str:
    """The same report for JupyterLab."""
    parts = ['<div class="evidence-kit-meta">']
    for section, lines in _lines(res, digits):
        if section == "header":
            parts.append(f"<p><strong>{html.escape(lines[0])}</strong></p>")
        elif section == "coefficients":
            parts.append(f"<p>{html.escape(lines[0])}</p>")
        else:
            # monospace keeps metafor's alignment of the labels
            parts.append('<pre style="margin: 0.5em 0">' + html.escape("\n".join(lines)) + "</pre>")
    parts.append(coef_table(res, digits).to_html())
    if res.omitted.size:
        parts.append(f"<p>{res.omitted.size} studies omitted for missing values.</p>")
    parts.append("</div>")
    return "\n".join(parts)


def summary_frame(res) -> pd.DataFrame:
    """Study rows (yi, se, CI, weight) and the pooled row(s), full precision."""
    z = stats.norm.ppf(1 - (1 - res.level / 100) / 2)
    sei = np.sqrt(res.vi)
    studies = pd.DataFrame({"yi": res.yi, "se": sei, "ci_lower": res.yi - z * sei, "ci_upper": res.yi + z * sei,
                            "weight": res.weights}, index=pd.Index(res.slab, name="study"))
    if res.p > 1:
        studies["fitted"] = res.X @ res.coefficients["estimate"].to_numpy()
    pred = res.predict() if res.p == 1 else None
    c = res.coefficients
    if res.p > 1:  # meta-regression: the coefficients, which are not pooled studies (no weight)
        names = [f"coefficient: {t}" for t in c.index]
        weight = [np.nan] * res.p
    else:
        names = ["EE model" if res.method == "EE" else "RE model"]
        weight = [100.0]
    pooled = pd.DataFrame({"yi": c["estimate"].to_numpy(), "se": c["se"].to_numpy(),
                           "ci_lower": c["ci_lower"].to_numpy(), "ci_upper": c["ci_upper"].to_numpy(),
                           "weight": weight}, index=pd.Index(names, name="study"))
    if pred is not None and res.method != "EE":
        pooled["pi_lower"] = pred["pi_lower"].to_numpy()
        pooled["pi_upper"] = pred["pi_upper"].to_numpy()
    return pd.concat([studies, pooled])
