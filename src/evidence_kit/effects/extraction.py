"""Quality checks for a whole extraction table: numbers that cannot all be true together.

``check_extraction(data, ...)`` runs each check whose columns are named and returns one row per
flag: the row label, the column at fault, the check's name and a reason in words. Nothing is
changed or dropped; the reviewer decides. Checks (names in the ``check`` column):

``p_inconsistent``
    A reported p-value that no value of the reported test statistic (t, F, r, chi-square or z,
    with its df), within the rounding of the reported digits, can produce (Nuijten et al. 2016,
    statcheck). ``p_decision_error`` when, in addition, the conclusion at ``alpha`` flips.
``grim``
    A mean of integer-valued data (Likert items, counts) that no integer total can produce for
    the sample size (Brown & Heathers 2017, the GRIM test).
``ci_se_mismatch``, ``estimate_outside_ci``, ``ci_asymmetric``
    A confidence interval whose width does not match the reported SE (Cochrane Handbook 6.3.1),
    that does not contain its estimate, or is not symmetric about it (on the log scale for ratios).
``smd_implausible``, ``sd_may_be_se``
    A standardized mean difference beyond ``smd_limit``; when the SDs multiplied by sqrt(n)
    give a plausible one, the likely cause is an SE reported as an SD (Cochrane Handbook 6.5.2.3).
``impossible_value``
    A value outside its range (p outside [0, 1], |r| > 1, df <= 0, negative SE or SD, n < 1).

References
----------
Nuijten, M. B., Hartgerink, C. H. J., van Assen, M. A. L. M., Epskamp, S., & Wicherts, J. M.
    (2016). The prevalence of statistical reporting errors in psychology (1985-2013). Behavior
    Research Methods, 48, 1205-1226. doi:10.3758/s13428-015-0664-2
Brown, N. J. L., & Heathers, J. A. J. (2017). The GRIM test: a simple technique detects numerous
    anomalies in the reporting of results in psychology. Social Psychological and Personality
    Science, 8(4), 363-369. doi:10.1177/1948550616673876
Higgins, J. P. T. et al. (eds.) (2023). Cochrane Handbook for Systematic Reviews of
    Interventions, version 6.4, sections 6.3.1 and 6.5.2.3.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.validate import get_column, row_labels

__all__ = ["FLAG_COLUMNS", "check_extraction"]

FLAG_COLUMNS = ["row", "column", "check", "reason"]
_TESTS = {"t": "t", "f": "F", "r": "r", "chi2": "chi2", "chisq": "chi2", "x2": "chi2", "z": "z"}


def check_extraction(
    data: pd.DataFrame,
    *,
    test: str | None = None,
    statistic: str | None = None,
    df1: str | None = None,
    df2: str | None = None,
    p: str | None = None,
    alpha: float = 0.05,
    grim: Sequence[tuple[str, str]] = (),
    grim_items: int | str = 1,
    estimate: str | None = None,
    se: str | None = None,
    ci_lower: str | None = None,
    ci_upper: str | None = None,
    ci_level: float = 95,
    ci_log: bool = False,
    m1i: str | None = None,
    m2i: str | None = None,
    sd1i: str | None = None,
    sd2i: str | None = None,
    n1i: str | None = None,
    n2i: str | None = None,
    smd_limit: float = 2.0,
) -> pd.DataFrame:
    """Flag inconsistent numbers in an extraction table.

    Parameters
    ----------
    data : DataFrame
        The extraction table, one row per reported result.
    test, statistic, df1, df2, p : column names
        The test type ("t", "F", "r", "chi2" or "z"; a column, or one of those strings for every
        row), the reported statistic, its degrees of freedom (``df1`` for t, r (n - 2) and chi2;
        ``df1, df2`` for F) and the reported two-sided p. ``p`` may hold strings with a relation,
        such as "< .001" or "= 0.04"; a bare number means "=".
    alpha : float
        Significance level for ``p_decision_error``.
    grim : sequence of (mean column, n column)
        Means of integer-valued data to GRIM-test, e.g. ``[("m1i", "n1i"), ("m2i", "n2i")]``.
    grim_items : int or column name
        Number of integer items averaged in each mean (1 for a single item or count).
    estimate, se, ci_lower, ci_upper : column names
        An estimate with its SE and confidence interval; ``ci_level`` in percent; ``ci_log=True``
        when they are ratios (OR, RR) whose SE is that of the log ratio.
    m1i, m2i, sd1i, sd2i, n1i, n2i : column names
        Group means, SDs and sizes for the SMD plausibility check; ``smd_limit`` is the |g| above
        which a result is flagged (a screening threshold, not a rule: large effects exist).

    Returns
    -------
    DataFrame with columns ``row`` (the index label of ``data``), ``column``, ``check`` and
    ``reason``; empty when nothing is flagged.

    Notes
    -----
    Rounding: a reported number with d decimals stands for any value within 0.5 10^-d of it. The
    number of decimals is read from strings as written ("0.040" has three); for float columns it
    is that of the shortest representation (a CSV "2.30" read as 2.3 counts as one decimal, which
    only widens the allowance). p from t: 2 P(T_df > |t|); from F: P(F_df1,df2 > F); from r:
    t = r sqrt(df / (1 - r^2)); chi-square: P(X2_df > x); z: 2 P(Z > |z|). GRIM: the mean is
    consistent when some integer total T gives round(T / (n k), d) = mean, k the items.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("check_extraction expects a DataFrame")
    labels = row_labels(data, len(data))
    flags: list[pd.DataFrame] = []
    if statistic is not None or p is not None:
        if statistic is None or p is None or test is None:
            raise ValueError("the p-value check needs test, statistic and p (and df1/df2 for t, F, r, chi2)")
        flags.append(_check_p(data, labels, test, statistic, df1, df2, p, alpha))
    for pair in grim:
        mean_col, n_col = pair
        flags.append(_check_grim(data, labels, mean_col, n_col, grim_items))
    if ci_lower is not None or ci_upper is not None:
        if ci_lower is None or ci_upper is None:
            raise ValueError("the CI check needs both ci_lower and ci_upper")
        flags.append(_check_ci(data, labels, estimate, se, ci_lower, ci_upper, ci_level, ci_log))
    smd_cols = (m1i, m2i, sd1i, sd2i, n1i, n2i)
    if any(c is not None for c in smd_cols):
        if any(c is None for c in smd_cols):
            raise ValueError("the SMD check needs m1i, m2i, sd1i, sd2i, n1i and n2i")
        flags.append(_check_smd(data, labels, *smd_cols, smd_limit))
    flags = [f for f in flags if len(f)]
    if not flags:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FLAG_COLUMNS})
    out = pd.concat(flags, ignore_index=True)
    order = {lab: i for i, lab in enumerate(labels)}
    out["_pos"] = out["row"].map(order)
    return out.sort_values(["_pos", "check"], kind="stable").drop(columns="_pos").reset_index(drop=True)


# --------------------------------------------------------------------------- helpers


def _flags(labels, mask, column, check, reason) -> pd.DataFrame:
    """One flag per row where ``mask`` holds; ``reason`` is a string or ``f(i) -> str`` (called
    for flagged rows only, so the text costs nothing for the rows that pass)."""
    idx = np.flatnonzero(mask)
    text = reason if callable(reason) else (lambda i: reason)
    return pd.DataFrame({
        "row": pd.Series([labels[i].item() if isinstance(labels[i], np.generic) else labels[i] for i in idx],
                         dtype=object),
        "column": pd.Series([column] * idx.size, dtype=object),
        "check": pd.Series([check] * idx.size, dtype=object),
        "reason": pd.Series([text(i) for i in idx], dtype=object),
    }, columns=FLAG_COLUMNS)


def _decimals(raw) -> np.ndarray:
    """Decimals as reported: counted in strings as written ("0.040" has 3); for numbers, the
    fewest decimals that represent the value exactly (2.30 read from a CSV as 2.3 has 1)."""
    ser = pd.Series(raw, dtype=object)
    is_text = ser.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    out = np.zeros(len(ser))
    if is_text.any():
        digits = ser[is_text].astype(str).str.extract(r"\.(\d+)", expand=False).str.len()
        out[is_text] = digits.fillna(0).to_numpy(dtype=float)
    if (~is_text).any():
        x = pd.to_numeric(ser[~is_text], errors="coerce").to_numpy(dtype=float)
        dec = np.full(x.shape, np.nan)
        for d in range(16):  # loop over decimal places, not rows
            hit = np.isnan(dec) & (np.round(x, d) == x)
            dec[hit] = d
        out[~is_text] = np.nan_to_num(dec, nan=0.0)
    return out


def _numbers(data, col, name):
    """A reported-number column as floats, and the raw values (for their decimals and relations).

    String cells may carry a relation ("< .001"); it is stripped here and read by ``_relation``.
    """
    raw = data[col] if isinstance(col, str) else pd.Series(col, index=data.index)
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        text = raw.astype("string").str.strip().str.lstrip("<>=≤≥ ")
        values = get_column(data, text.replace("", pd.NA).to_numpy(dtype=object, na_value=np.nan), name, n=len(data))
    else:
        values = get_column(data, raw, name, n=len(data))
    return values, raw.to_numpy(dtype=object)


def _half_unit(decimals):
    return 0.5 * 10.0 ** (-decimals)


# --------------------------------------------------------------------------- p-values


def _p_from(kind, stat, df1, df2):
    """Two-sided p for t, r and z; upper tail for F and chi-square."""
    p = np.full(stat.shape, np.nan)
    a = np.abs(stat)
    with np.errstate(divide="ignore", invalid="ignore"):
        sel = kind == "t"
        p[sel] = 2 * stats.t.sf(a[sel], df1[sel])
        sel = kind == "z"
        p[sel] = 2 * stats.norm.sf(a[sel])
        sel = kind == "F"
        p[sel] = stats.f.sf(stat[sel], df1[sel], df2[sel])
        sel = kind == "chi2"
        p[sel] = stats.chi2.sf(stat[sel], df1[sel])
        sel = kind == "r"
        r = np.minimum(a[sel], 1.0)
        p[sel] = 2 * stats.t.sf(r * np.sqrt(df1[sel] / (1 - r**2)), df1[sel])  # t = r sqrt(df/(1-r^2))
    return p


def _check_p(data, labels, test, statistic, df1, df2, p, alpha):
    n = len(data)
    if test in data.columns:
        kinds = data[test].astype(str).str.strip().str.lower().map(_TESTS).to_numpy(dtype=object)
    else:
        kinds = np.full(n, _TESTS.get(str(test).strip().lower()), dtype=object)
    stat, stat_raw = _numbers(data, statistic, "statistic")
    pval, p_raw = _numbers(data, p, "p")
    d1 = get_column(data, df1, "df1", n=n) if df1 is not None else np.full(n, np.nan)
    d2 = get_column(data, df2, "df2", n=n) if df2 is not None else np.full(n, np.nan)
    rel = np.array([_relation(v) for v in p_raw], dtype=object)
    out = []

    bad_p = (pval < 0) | (pval > 1)
    out.append(_flags(labels, bad_p, p, "impossible_value", "reported p outside [0, 1]"))
    bad_kind = pd.isna(kinds) & ~np.isnan(stat)
    raw_tests = data[test].astype(str).to_numpy() if test in data.columns else np.full(n, str(test))
    out.append(_flags(labels, bad_kind, test, "impossible_value",
                      lambda i: f"unknown test type {raw_tests[i]!r}; expected t, F, r, chi2 or z"))
    needs_df1 = np.isin(kinds, ["t", "F", "r", "chi2"])
    bad_df = (needs_df1 & (d1 <= 0)) | ((kinds == "F") & (d2 <= 0))
    out.append(_flags(labels, bad_df, df1, "impossible_value", "degrees of freedom must be positive"))
    bad_r = (kinds == "r") & (np.abs(stat) > 1)
    out.append(_flags(labels, bad_r, statistic, "impossible_value", "a correlation must lie in [-1, 1]"))

    h_stat = _half_unit(_decimals(stat_raw))
    h_p = _half_unit(_decimals(p_raw))
    a = np.abs(stat)
    lo = np.maximum(a - h_stat, 0.0)
    hi = a + h_stat
    if np.any(kinds == "r"):
        hi = np.where(kinds == "r", np.minimum(hi, 1.0), hi)
    p_max = _p_from(kinds, lo, d1, d2)  # p falls as |statistic| grows
    p_min = _p_from(kinds, hi, d1, d2)
    p_mid = _p_from(kinds, a, d1, d2)
    usable = ~(bad_p | bad_kind | bad_df | bad_r) & ~np.isnan(p_mid) & ~np.isnan(pval)
    eq = rel == "="
    inconsistent = usable & (
        (eq & ((p_min > pval + h_p) | (p_max < pval - h_p)))
        | ((rel == "<") & (p_min >= pval))
        | ((rel == ">") & (p_max <= pval))
    )
    reported_sig = np.where(rel == "<", pval <= alpha, np.where(rel == ">", False, pval < alpha))
    decision = inconsistent & (reported_sig != (p_mid < alpha))
    def reason(i):
        return (
            f"{_kind_text(kinds[i], stat[i], d1[i], d2[i])} gives p = {p_mid[i]:.4g} "
            f"(p in [{p_min[i]:.4g}, {p_max[i]:.4g}] within rounding); reported p {rel[i]} {pval[i]:g}"
        )

    out.append(_flags(labels, inconsistent & ~decision, p, "p_inconsistent", reason))
    out.append(_flags(labels, decision, p, "p_decision_error",
                      lambda i: f"{reason(i)}; the conclusion at alpha = {alpha:g} differs"))
    return pd.concat(out, ignore_index=True)


def _relation(value) -> str:
    if isinstance(value, str):
        v = value.strip()
        if v.startswith(("<", "≤")):
            return "<"
        if v.startswith((">", "≥")):
            return ">"
    return "="


def _kind_text(kind, stat, d1, d2) -> str:
    if kind == "F":
        return f"F({d1:g}, {d2:g}) = {stat:g}"
    if kind == "z":
        return f"z = {stat:g}"
    name = {"chi2": "chi2"}.get(kind, kind)
    return f"{name}({d1:g}) = {stat:g}"


# --------------------------------------------------------------------------- GRIM


def _check_grim(data, labels, mean_col, n_col, items):
    n = len(data)
    mean, raw = _numbers(data, mean_col, mean_col)
    size = get_column(data, n_col, n_col, n=n)
    k = get_column(data, items, "grim_items", n=n) if isinstance(items, str) else np.full(n, float(items))
    out = [_flags(labels, size < 1, n_col, "impossible_value", "sample size below 1")]
    dec = _decimals(raw)
    total_n = size * k
    ok = ~np.isnan(mean) & (size >= 1) & (k >= 1)
    # Brown & Heathers (2017): test only when n k < 10^d (otherwise every mean is attainable)
    testable = ok & (total_n < 10.0**dec)
    h = _half_unit(dec) * (1 + 1e-9)
    with np.errstate(invalid="ignore"):
        t_floor = np.floor(mean * total_n)
        consistent = (np.abs(t_floor / total_n - mean) <= h) | (np.abs((t_floor + 1) / total_n - mean) <= h)
    bad = testable & ~consistent
    def reason(i):
        items_text = f" x {k[i]:g} items" if k[i] != 1 else ""
        near = [t / total_n[i] for t in (t_floor[i], t_floor[i] + 1)]
        places = int(dec[i]) + 2
        return (f"mean {raw[i]} of integer data with n = {size[i]:g}{items_text}: no integer total gives it "
                f"(nearest {near[0]:.{places}f} or {near[1]:.{places}f})")

    out.append(_flags(labels, bad, mean_col, "grim", reason))
    return pd.concat(out, ignore_index=True)


# --------------------------------------------------------------------------- CI and SE


def _check_ci(data, labels, estimate, se, ci_lower, ci_upper, level, log):
    n = len(data)
    lower, lraw = _numbers(data, ci_lower, ci_lower)
    upper, uraw = _numbers(data, ci_upper, ci_upper)
    h_ci = np.maximum(_half_unit(_decimals(lraw)), _half_unit(_decimals(uraw)))
    out = [_flags(labels, upper < lower, ci_upper, "impossible_value", "upper limit below the lower limit")]
    if log:
        bad = (lower <= 0) | (upper <= 0)
        out.append(_flags(labels, bad, ci_lower, "impossible_value", "ratio-scale limits must be positive"))
        with np.errstate(invalid="ignore", divide="ignore"):
            l_lo, l_hi = np.log(np.maximum(lower - h_ci, 0)), np.log(lower + h_ci)
            u_lo, u_hi = np.log(np.maximum(upper - h_ci, 0)), np.log(upper + h_ci)
    else:
        bad = np.zeros(n, dtype=bool)
        l_lo, l_hi, u_lo, u_hi = lower - h_ci, lower + h_ci, upper - h_ci, upper + h_ci
    z = stats.norm.isf((1 - level / 100) / 2)
    valid = ~bad & ~(upper < lower) & ~np.isnan(lower) & ~np.isnan(upper)
    scale = "log " if log else ""
    if se is not None:
        sev, sraw = _numbers(data, se, se)
        h_se = _half_unit(_decimals(sraw))
        out.append(_flags(labels, sev < 0, se, "impossible_value", "negative standard error"))
        implied_lo = np.maximum(u_lo - l_hi, 0) / (2 * z)  # Cochrane Handbook 6.3.1: SE = width / 3.92
        implied_hi = (u_hi - l_lo) / (2 * z)
        mismatch = valid & (sev >= 0) & ((sev + h_se < implied_lo) | (sev - h_se > implied_hi))
        with np.errstate(invalid="ignore", divide="ignore"):
            mid = (np.log(upper) - np.log(lower) if log else upper - lower) / (2 * z)
            ratio = sev / mid
        out.append(_flags(labels, mismatch, se, "ci_se_mismatch", lambda i: (
            f"{level:g}% CI [{lower[i]:g}, {upper[i]:g}] implies a {scale}SE of {mid[i]:.4g}; "
            f"reported SE {sev[i]:g} ({ratio[i]:.3g} times)"
        )))
    if estimate is not None:
        est, eraw = _numbers(data, estimate, estimate)
        h_est = _half_unit(_decimals(eraw))
        outside = valid & ((est + h_est < lower - h_ci) | (est - h_est > upper + h_ci))
        out.append(_flags(labels, outside, estimate, "estimate_outside_ci",
                          lambda i: f"estimate {est[i]:g} outside its CI [{lower[i]:g}, {upper[i]:g}]"))
        if log:
            with np.errstate(invalid="ignore", divide="ignore"):
                e_lo, e_hi = np.log(np.maximum(est - h_est, 0)), np.log(est + h_est)
        else:
            e_lo, e_hi = est - h_est, est + h_est
        # symmetric: (e - L) = (U - e), i.e. 2e = L + U, allowing for rounding of all three
        gap_min = 2 * e_lo - (u_hi + l_hi)
        gap_max = 2 * e_hi - (u_lo + l_lo)
        width = np.maximum(u_hi - l_lo, 1e-300)
        tolerance = 0.05 * width  # 5% of the width: reporting software rounds, tables are retyped
        asym = valid & ~outside & ((gap_min > tolerance) | (gap_max < -tolerance))
        hint = "log scale" if log else "reported scale (a ratio CI given with ci_log=False?)"
        out.append(_flags(labels, asym, estimate, "ci_asymmetric",
                          lambda i: f"CI [{lower[i]:g}, {upper[i]:g}] is not symmetric about {est[i]:g} on the {hint}"))
    return pd.concat(out, ignore_index=True)


# --------------------------------------------------------------------------- SMD


def _check_smd(data, labels, m1i, m2i, sd1i, sd2i, n1i, n2i, limit):
    n = len(data)
    m1, m2 = get_column(data, m1i, m1i, n=n), get_column(data, m2i, m2i, n=n)
    s1, s2 = get_column(data, sd1i, sd1i, n=n), get_column(data, sd2i, sd2i, n=n)
    k1, k2 = get_column(data, n1i, n1i, n=n), get_column(data, n2i, n2i, n=n)
    out = [
        _flags(labels, s1 < 0, sd1i, "impossible_value", "negative standard deviation"),
        _flags(labels, s2 < 0, sd2i, "impossible_value", "negative standard deviation"),
        _flags(labels, k1 < 1, n1i, "impossible_value", "sample size below 1"),
        _flags(labels, k2 < 1, n2i, "impossible_value", "sample size below 1"),
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        df = k1 + k2 - 2
        d = (m1 - m2) / np.sqrt(((k1 - 1) * s1**2 + (k2 - 1) * s2**2) / df)
        # if the "SDs" are SEs, the SDs are SE sqrt(n) (Cochrane Handbook 6.5.2.3)
        d_se = (m1 - m2) / np.sqrt(((k1 - 1) * s1**2 * k1 + (k2 - 1) * s2**2 * k2) / df)
    big = np.abs(d) > limit
    maybe_se = big & (np.abs(d_se) <= limit)
    out.append(_flags(labels, maybe_se, f"{sd1i}, {sd2i}", "sd_may_be_se",
                      lambda i: f"d = {d[i]:.3g} from these SDs; if they are SEs (SD = SE sqrt(n)) d = {d_se[i]:.3g}"))
    out.append(_flags(labels, big & ~maybe_se, m1i, "smd_implausible",
                      lambda i: f"|d| = {abs(d[i]):.3g} exceeds {limit:g}; check means, SDs and units"))
    return pd.concat(out, ignore_index=True)
