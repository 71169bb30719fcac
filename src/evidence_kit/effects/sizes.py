"""Effect sizes and their sampling variances, as metafor's ``escalc()``.

``effect_sizes(data, measure, **columns)`` returns a copy of ``data`` with ``yi`` and ``vi``
appended. Measure codes, argument names and formulas are metafor's (Viechtbauer 2010, version
3.8), so an R user can cross-check line by line; ``tests/reference/effects.R`` does exactly that.

Families of measures and their columns:

- two-group means (MD, SMD, SMDH, ROM): m1i, m2i, sd1i, sd2i, n1i, n2i; for SMD, rows may give
  Cohen's d (di) or the t statistic (ti) instead of means and SDs;
- pre-post means (SMCC, SMCR): m1i, m2i, sd1i, sd2i (SMCC only), ni, ri;
- 2x2 tables (OR, RR, RD, PETO): ai, bi, ci, di, or ai, n1i, ci, n2i;
- correlations (COR, UCOR, ZCOR): ri, ni;
- (semi-)partial correlations from regression t statistics (PCOR, ZPCOR, SPCOR): ti, ni, mi (the
  number of predictors), and r2i (the model R^2) for SPCOR;
- single proportions (PR, PLN, PLO, PAS, PFT): xi with ni or mi (non-events).

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. Journal of
    Statistical Software, 36(3). doi:10.18637/jss.v036.i03 (``escalc`` help page and source).
Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009). Introduction to
    Meta-Analysis. Wiley. Chapters 4-6.
Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. Journal of Educational Statistics, 6, 107-128.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from evidence_kit._core.validate import check_choice, check_rows, get_column, row_labels
from evidence_kit.effects._special import hyp2f1

__all__ = ["MEASURES", "effect_sizes"]

# Columns each measure family reads; ``required`` must all be given (``n1i``/``n2i`` may stand
# in for ``bi``/``di``, ``ni`` for ``mi``).
_FAMILIES = {
    "means": ("MD", "SMD", "SMDH", "ROM"),
    "prepost": ("SMCC", "SMCR"),
    "table": ("OR", "RR", "RD", "PETO"),
    "cor": ("COR", "UCOR", "ZCOR"),
    "pcor": ("PCOR", "ZPCOR", "SPCOR"),
    "prop": ("PR", "PLN", "PLO", "PAS", "PFT"),
}
MEASURES: tuple[str, ...] = tuple(m for ms in _FAMILIES.values() for m in ms)
_FAMILY_OF = {m: fam for fam, ms in _FAMILIES.items() for m in ms}
_COLUMNS = {
    "means": ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i", "di", "ti"),
    "prepost": ("m1i", "m2i", "sd1i", "sd2i", "ni", "ri"),
    "table": ("ai", "bi", "ci", "di", "n1i", "n2i"),
    "cor": ("ri", "ni"),
    "pcor": ("ti", "ni", "mi", "r2i"),
    "prop": ("xi", "mi", "ni"),
}
# vtype codes metafor accepts for each measure (first is the default).
_VTYPES = {
    "MD": ("LS", "UB", "HO"),
    "SMD": ("LS", "UB", "LS2", "AV"),
    "SMDH": ("LS", "LS2"),
    "ROM": ("LS", "HO", "AV", "AVHO"),
    "SMCC": ("LS", "LS2"),
    "SMCR": ("LS", "LS2"),
    "RD": ("LS", "UB", "AV"),
    "COR": ("LS", "AV"),
    "UCOR": ("LS", "UB", "AV"),
    "PCOR": ("LS", "AV"),
    "SPCOR": ("LS", "AV"),
    "PR": ("LS", "UB", "AV"),
    "PLN": ("LS", "AV"),
    "PLO": ("LS", "AV"),
}
_TO = ("only0", "all", "if0all", "none")


def effect_sizes(
    data: pd.DataFrame | None = None,
    measure: str = "SMD",
    *,
    vtype="LS",
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    **columns,
) -> pd.DataFrame:
    """Compute effect sizes ``yi`` and sampling variances ``vi``, as metafor's ``escalc()``.

    Parameters
    ----------
    data : DataFrame, optional
        The extraction table. Column arguments name its columns; without it they are arrays.
    measure : str
        One of MD, SMD, SMDH, ROM, SMCC, SMCR, OR, RR, RD, PETO, COR, UCOR, ZCOR, PCOR, ZPCOR,
        SPCOR, PR, PLN, PLO, PAS, PFT (metafor's codes; case-insensitive).
    vtype : str or sequence of str
        Variance estimator, as metafor: "LS" (large-sample, the default), "UB" (unbiased), and
        per measure "LS2", "HO", "AV", "AVHO" (see ``_VTYPES``). A sequence gives one per row.
    add, to : continuity correction for 2x2 tables and proportions: ``add`` (default 0.5, and 0
        for PAS and PFT, as metafor) is added to every cell of the rows with a zero cell
        (``to="only0"``), of all rows (``"all"``), of all rows if any has a zero (``"if0all"``),
        or never (``"none"``).
    drop00 : bool
        Give NaN for 2x2 tables with no events (or only events) in both groups.
    **columns
        metafor's argument names: m1i, m2i, sd1i, sd2i, n1i, n2i, ai, bi, ci, di, ri, ni, xi, mi,
        ti, r2i;
        each a column name of ``data``, an array, or a scalar applied to every row.

    Returns
    -------
    DataFrame
        A copy of ``data`` (same index, every row kept) or a new frame, with ``yi`` and ``vi``;
        ``attrs["measure"]`` records the measure, so models fitted to it know their scale.
        A row with a missing input gets NaN in both; so does a row metafor gives NA (an infinite
        or NaN estimate, a negative variance, UCOR with ni <= 4, a variance with ni <= 3 for
        correlations).

    Raises
    ------
    ValueError
        Unknown measure, vtype or ``to`` (the message lists the valid ones); a missing column
        argument; impossible input (an infinite value in any column, negative SD or count, n < 1,
        events > n, |r| > 1), naming the row and the column.

    Notes
    -----
    Formulas are those of metafor 3.8 ``escalc`` (cited at each line), e.g. Hedges' g uses the
    exact correction c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m - 1)/2)), m = n1 + n2 - 2
    (Hedges 1981), and its LS variance 1/n1 + 1/n2 + g^2 / (2 (n1 + n2)) (Borenstein et al.
    2009, eq. 4.20). Deliberate differences: where only a mean or count is missing metafor
    may still report ``vi``; here the whole row is NaN. SMDH's LS variance follows metafor 4.6
    and later (no c(m)^2 factor; metafor 3.8 multiplied it by c(m)^2, see NEWS.md 4.6-0).
    Infinite inputs (an infinite SD, count or sample size) are impossible input and raise.

    Examples
    --------
    >>> import evidence_kit as ek
    >>> dat = ek.effect_sizes(ek.load_dataset("dat.bcg"), "RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    >>> round(float(dat["yi"].iloc[0]), 4)
    -0.8893
    """
    measure = check_choice("measure", measure, MEASURES)
    to = check_choice("to", to, _TO, case_sensitive=True)
    family = _FAMILY_OF[measure]
    allowed = _COLUMNS[family]
    unknown = sorted(set(columns) - set(allowed))
    if unknown:
        raise TypeError(
            f"measure {measure} takes columns {', '.join(allowed)}; got unexpected {', '.join(unknown)}"
        )
    if data is not None and not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    n = _nrows(data, columns)
    labels = row_labels(data, n)
    cols = {name: _column(data, value, name, n) for name, value in columns.items()}
    for name, arr in cols.items():  # an infinite SD, count, n or r is impossible input, as a negative one
        check_rows(np.isinf(arr), name, f"infinite value in column {name}", arr, labels)
    vt = _vtypes(vtype, measure, n)
    if add is None:
        add = 0.0 if measure in ("PAS", "PFT") else 0.5

    if family == "means":
        yi, vi, needed = _means(measure, cols, vt, labels)
    elif family == "prepost":
        yi, vi, needed = _prepost(measure, cols, vt, labels)
    elif family == "table":
        yi, vi, needed = _table(measure, cols, vt, labels, add, to, drop00)
    elif family == "cor":
        yi, vi, needed = _cor(measure, cols, vt, labels)
    elif family == "pcor":
        yi, vi, needed = _pcor(measure, cols, vt, labels)
    else:
        yi, vi, needed = _prop(measure, cols, vt, labels, add, to)

    # metafor: +-Inf and NaN in yi or vi give NA in both; a negative vi gives NA.
    missing = np.zeros(n, dtype=bool)
    for arr in needed:
        missing |= np.isnan(arr)
    # Correlations: metafor sets vi[ni <= 3] <- NA before that step, so yi is kept there.
    no_vi = cols["ni"] <= 3 if family == "cor" else np.zeros(n, dtype=bool)
    bad = missing | ~np.isfinite(yi) | (~np.isfinite(vi) & ~no_vi)
    yi = np.where(bad, np.nan, yi)
    vi = np.where(bad | no_vi | (vi < 0), np.nan, vi)

    out = data.copy() if data is not None else pd.DataFrame(index=pd.RangeIndex(n))
    out["yi"] = yi
    out["vi"] = vi
    out.attrs["measure"] = measure  # read by meta_analysis() and the plots, as escalc's attribute
    return out


# --------------------------------------------------------------------------- input


def _nrows(data, columns) -> int:
    if data is not None:
        return len(data)
    for value in columns.values():
        if not isinstance(value, str) and np.ndim(value) > 0:
            return len(np.ravel(np.asarray(value, dtype=object)))
    return 1


def _column(data, value, name, n) -> np.ndarray:
    """A column as float; numeric arrays take a fast path (no object conversion)."""
    if isinstance(value, str):
        ser = _lookup(data, value, name)
        if pd.api.types.is_numeric_dtype(ser.dtype) and not pd.api.types.is_bool_dtype(ser.dtype):
            return ser.to_numpy(dtype=float, na_value=np.nan)
        return get_column(data, value, name, n=n)
    if np.ndim(value) == 0 and not isinstance(value, pd.Series):
        return np.full(n, np.nan if value is None else float(value))
    if isinstance(value, pd.Series) and value.dtype.kind in "iuf":
        value = value.to_numpy(dtype=float, na_value=np.nan)  # by position, as metafor
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.ndim == 1:
        if value.shape[0] != n:
            raise ValueError(f"{name} has {value.shape[0]} values but the other columns have {n}")
        return value.astype(float, copy=False)
    return get_column(data, value, name, n=n)


def _lookup(data, value, name):
    if data is None:
        raise ValueError(f"{name}={value!r} names a column but no data frame was given")
    if value not in data.columns:
        raise KeyError(f"{name}: column {value!r} not found in data (columns: {', '.join(map(str, data.columns))})")
    return data[value]


def _vtypes(vtype, measure, n) -> np.ndarray:
    options = _VTYPES.get(measure, ("LS",))
    if isinstance(vtype, str):
        return np.full(n, check_choice(f"vtype for measure {measure}", vtype, options, case_sensitive=True))
    vt = np.asarray(list(vtype), dtype=object)
    if vt.shape[0] != n:
        raise ValueError(f"vtype has {vt.shape[0]} values but the data have {n} rows")
    for v in set(vt.tolist()):
        check_choice(f"vtype for measure {measure}", v, options, case_sensitive=True)
    return vt.astype(str)


def _need(cols, measure, *names):
    missing = [nm for nm in names if nm not in cols]
    if missing:
        raise ValueError(f"measure {measure} needs {', '.join(names)}; missing: {', '.join(missing)}")
    return [cols[nm] for nm in names]


def _wmean(x, w):
    """metafor's .wmean(x, w, na.rm=TRUE): weighted mean over rows where both are present."""
    ok = ~(np.isnan(x) | np.isnan(w))
    return np.sum(x[ok] * w[ok]) / np.sum(w[ok])


def _select(vt, variants):
    """Pick, row by row, the variance of the requested vtype (computing only those used)."""
    out = np.full(vt.shape[0], np.nan)
    for code in np.unique(vt):
        sel = vt == code
        out[sel] = variants[code]()[sel]
    return out


def _cmi(mi):
    # metafor .cmicalc: c(m) = exp(lgamma(m/2) - log(sqrt(m/2)) - lgamma((m-1)/2)), NA for m <= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.exp(special.gammaln(mi / 2) - np.log(np.sqrt(mi / 2)) - special.gammaln((mi - 1) / 2))
    return np.where(mi <= 1, np.nan, c)


def _check_nonneg(arr, name, what, labels):
    check_rows(arr < 0, name, f"negative {what} in column {name}", arr, labels)


def _check_n(arr, name, labels):
    check_rows(arr < 1, name, f"sample size below 1 in column {name}", arr, labels)


# --------------------------------------------------------------------------- families


def _means(measure, cols, vt, labels):
    if measure == "SMD" and ("di" in cols or "ti" in cols):
        m1i, m2i, sd1i, sd2i, n1i, n2i = _d_or_t(cols, labels)
    else:
        if "di" in cols or "ti" in cols:
            raise ValueError(f"di and ti are for measure SMD only, not {measure}")
        m1i, m2i, sd1i, sd2i, n1i, n2i = _need(cols, measure, "m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i")
    _check_nonneg(sd1i, "sd1i", "standard deviation", labels)
    _check_nonneg(sd2i, "sd2i", "standard deviation", labels)
    _check_n(n1i, "n1i", labels)
    _check_n(n2i, "n2i", labels)
    ni = n1i + n2i
    mi = ni - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sdpi = np.sqrt(((n1i - 1) * sd1i**2 + (n2i - 1) * sd2i**2) / mi)  # pooled SD
        di = (m1i - m2i) / sdpi
        if measure == "MD":
            yi = m1i - m2i
            ls = sd1i**2 / n1i + sd2i**2 / n2i  # escalc MD, vtype LS/UB
            vi = _select(vt, {"LS": lambda: ls, "UB": lambda: ls, "HO": lambda: sdpi**2 * (1 / n1i + 1 / n2i)})
        elif measure == "SMD":
            cmi = _cmi(mi)
            yi = cmi * di  # Hedges' g, exact correction (Hedges 1981)
            vi = _select(vt, {
                "LS": lambda: 1 / n1i + 1 / n2i + yi**2 / (2 * ni),  # Borenstein eq. 4.20 with g
                "UB": lambda: 1 / n1i + 1 / n2i + (1 - (mi - 2) / (mi * cmi**2)) * yi**2,  # Hedges 1983
                "LS2": lambda: cmi**2 * (1 / n1i + 1 / n2i + di**2 / (2 * ni)),  # Borenstein eq. 4.24
                "AV": lambda: 1 / n1i + 1 / n2i + _wmean(yi, ni) ** 2 / (2 * ni),  # Hedges & Olkin 1985
            })
        elif measure == "SMDH":
            cmi = _cmi(mi)
            s2 = sd1i**2 + sd2i**2
            yi = cmi * (m1i - m2i) / np.sqrt(s2 / 2)  # Bonett 2009: SD averaged, not pooled
            vi = _select(vt, {
                # Bonett 2009, eq. 12, with the corrected g; metafor 4.6-0 dropped the factor c(m)^2
                # that 3.8 put in front ("calculation of the sampling variances for measures SMDH,
                # SMD1H, and SMCRH was slightly adjusted for consistency", metafor NEWS.md, 4.6-0)
                "LS": lambda: (
                    yi**2 * (sd1i**4 / (n1i - 1) + sd2i**4 / (n2i - 1)) / (2 * s2**2)
                    + (sd1i**2 / (n1i - 1) + sd2i**2 / (n2i - 1)) / (s2 / 2)
                ),
                "LS2": lambda: yi**2 * sd1i**2 / (2 * n1i * s2**2) + yi**2 * sd2i**2 / (2 * n2i * s2**2)
                + 2 * sd1i**2 / (n1i * s2) + 2 * sd2i**2 / (n2i * s2),
            })
        else:  # ROM
            yi = np.log(m1i / m2i)  # log ratio of means (Hedges, Gurevitch & Curtis 1999)
            cv1, cv2 = sd1i / m1i, sd2i / m2i

            def avho():
                ok = ~(np.isnan(n1i) | np.isnan(n2i) | np.isnan(cv1) | np.isnan(cv2))
                mn = (np.sum(n1i[ok] * cv1[ok]) + np.sum(n2i[ok] * cv2[ok])) / np.sum(ni[ok])
                return mn**2 * (1 / n1i + 1 / n2i)

            vi = _select(vt, {
                "LS": lambda: sd1i**2 / (n1i * m1i**2) + sd2i**2 / (n2i * m2i**2),  # HGC 1999, eq. 9
                "HO": lambda: sdpi**2 / (n1i * m1i**2) + sdpi**2 / (n2i * m2i**2),
                "AV": lambda: _wmean(cv1, n1i) ** 2 / n1i + _wmean(cv2, n2i) ** 2 / n2i,
                "AVHO": avho,
            })
    return yi, vi, (m1i, m2i, sd1i, sd2i, n1i, n2i)


def _d_or_t(cols, labels):
    """metafor's SMD from di or ti: di <- replmiss(di, ti sqrt(1/n1i + 1/n2i)); where d is known
    the row becomes m1i = d, m2i = 0, sd1i = sd2i = 1, so g = c(m) d with the usual variance."""
    n1i, n2i = _need(cols, "SMD", "n1i", "n2i")
    nan = np.full(n1i.shape, np.nan)
    d = cols.get("di", nan)
    if "ti" in cols:
        d = np.where(np.isnan(d), cols["ti"] * np.sqrt(1 / n1i + 1 / n2i), d)  # d from t (Borenstein eq. 4.16)
    known = ~np.isnan(d)
    m1i = np.where(known, d, cols.get("m1i", nan))
    m2i = np.where(known, 0.0, cols.get("m2i", nan))
    sd1i = np.where(known, 1.0, cols.get("sd1i", nan))
    sd2i = np.where(known, 1.0, cols.get("sd2i", nan))
    return m1i, m2i, sd1i, sd2i, n1i, n2i


def _prepost(measure, cols, vt, labels):
    if measure == "SMCC":
        m1i, m2i, sd1i, sd2i, ni, ri = _need(cols, measure, "m1i", "m2i", "sd1i", "sd2i", "ni", "ri")
        _check_nonneg(sd2i, "sd2i", "standard deviation", labels)
        needed = (m1i, m2i, sd1i, sd2i, ni, ri)
    else:
        m1i, m2i, sd1i, ni, ri = _need(cols, measure, "m1i", "m2i", "sd1i", "ni", "ri")
        needed = (m1i, m2i, sd1i, ni, ri)
    _check_nonneg(sd1i, "sd1i", "standard deviation", labels)
    check_rows(np.abs(ri) > 1, "ri", "correlation outside [-1, 1] in column ri", ri, labels)
    _check_n(ni, "ni", labels)
    mi = ni - 1
    cmi = _cmi(mi)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "SMCC":
            sddi = np.sqrt(sd1i**2 + sd2i**2 - 2 * ri * sd1i * sd2i)  # SD of the change scores
            di = (m1i - m2i) / sddi
            yi = cmi * di  # Gibbons et al. 1993; Becker 1988
            vi = _select(vt, {
                "LS": lambda: 1 / ni + yi**2 / (2 * ni),
                "LS2": lambda: cmi**2 * (1 / ni + di**2 / (2 * ni)),
            })
        else:
            di = (m1i - m2i) / sd1i  # standardized by the pre-test SD (Becker 1988)
            yi = cmi * di
            vi = _select(vt, {
                "LS": lambda: 2 * (1 - ri) / ni + yi**2 / (2 * ni),  # Becker 1988, eq. 13
                "LS2": lambda: cmi**2 * (2 * (1 - ri) / ni + di**2 / (2 * ni)),
            })
    return yi, vi, needed


def _fill(other, total, events):
    """The complement cell: given, else total - events; a missing value is filled the same way."""
    if other is None:
        return total - events
    if total is None:
        return other
    return np.where(np.isnan(other), total - events, other)


def _continuity(cells, add, to, zero):
    """Add ``add`` to every cell of the rows selected by ``to`` (metafor's add/to)."""
    if to == "none" or add == 0:
        return cells
    if to == "all":
        rows = np.ones_like(zero)
    elif to == "only0":
        rows = zero
    else:  # if0all
        rows = np.full_like(zero, zero.any())
    return [np.where(rows, c + add, c) for c in cells]


def _table(measure, cols, vt, labels, add, to, drop00):
    ai, ci = _need(cols, measure, "ai", "ci")
    bi, di = cols.get("bi"), cols.get("di")
    n1i, n2i = cols.get("n1i"), cols.get("n2i")
    for name in ("ai", "bi", "ci", "di"):
        if name in cols:
            _check_nonneg(cols[name], name, "count", labels)
    for cell, other, n_name, n_val, nm in (("ai", bi, "n1i", n1i, "bi"), ("ci", di, "n2i", n2i, "di")):
        if other is None and n_val is None:
            raise ValueError(f"measure {measure} needs {nm} or {n_name}")
        if n_val is not None:
            _check_n(n_val, n_name, labels)
            check_rows(cols[cell] > n_val, cell, f"more events in column {cell} than {n_name}", cols[cell], labels)
            if other is not None:
                total = cols[cell] + other
                mismatch = (n_val != total) & ~np.isnan(total) & ~np.isnan(n_val)
                check_rows(mismatch, n_name, f"{n_name} is not {cell} + {nm}", n_val, labels)
    bi = _fill(bi, n1i, ai)  # metafor: bi <- replmiss(bi, n1i - ai)
    di = _fill(di, n2i, ci)
    needed = (ai, bi, ci, di)
    check_rows(ai + bi < 1, "n1i", "group size ai + bi below 1", ai + bi, labels)
    check_rows(ci + di < 1, "n2i", "group size ci + di below 1", ci + di, labels)
    if drop00:
        both = ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))
        ai, bi, ci, di = (np.where(both, np.nan, x) for x in (ai, bi, ci, di))
    zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    ai, bi, ci, di = _continuity([ai, bi, ci, di], add, to, zero)
    n1, n2 = ai + bi, ci + di
    p1, p2 = ai / n1, ci / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / ai + 1 / bi + 1 / ci + 1 / di  # Woolf 1955
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / ai - 1 / n1 + 1 / ci - 1 / n2  # Katz et al. 1978
        elif measure == "RD":
            yi = p1 - p2
            vi = _select(vt, {
                "LS": lambda: p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2,
                "UB": lambda: p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1),
                "AV": lambda: (lambda a, b: a * (1 - a) / n1 + b * (1 - b) / n2)(_wmean(p1, n1), _wmean(p2, n2)),
            })
        else:  # PETO
            ni = n1 + n2
            xt, yt = ai + ci, bi + di
            ei = xt * n1 / ni  # expected events in group 1
            hv = xt * yt * (n1 / ni) * (n2 / ni) / (ni - 1)  # hypergeometric variance (Yusuf et al. 1985)
            yi = (ai - ei) / hv
            vi = 1 / hv
    return yi, vi, needed


def _cor(measure, cols, vt, labels):
    ri, ni = _need(cols, measure, "ri", "ni")
    check_rows(np.abs(ri) > 1, "ri", "correlation outside [-1, 1] in column ri", ri, labels)
    _check_n(ni, "ni", labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "ZCOR":
            yi = np.arctanh(ri)  # Fisher's z = 1/2 log((1 + r)/(1 - r))
            vi = 1 / (ni - 3)
        else:
            if measure == "COR":
                yi = ri.copy()
            else:  # Olkin & Pratt 1958: r 2F1(1/2, 1/2; (n - 2)/2; 1 - r^2), NA for n <= 4
                yi = ri * hyp2f1(0.5, 0.5, (ni - 2) / 2, 1 - ri**2)
            vi = _select(vt, {
                "LS": lambda: (1 - yi**2) ** 2 / (ni - 1),
                "AV": lambda: (1 - _wmean(yi, ni) ** 2) ** 2 / (ni - 1),
                # Hedges 1989, unbiased estimate of the variance of UCOR
                "UB": lambda: yi**2 - (1 - (ni - 3) / (ni - 2) * (1 - ri**2) * hyp2f1(1.0, 1.0, ni / 2, 1 - ri**2)),
            })
    return yi, vi, (ri, ni)


def _pcor(measure, cols, vt, labels):
    ti, ni, mi = _need(cols, measure, "ti", "ni", "mi")
    needed = [ti, ni, mi]
    _check_n(ni, "ni", labels)
    check_rows(mi < 0, "mi", "negative number of predictors in column mi", mi, labels)
    dfi = ni - mi - 1  # residual df of the regression
    check_rows(dfi <= 0, "mi", "no residual degrees of freedom (ni - mi - 1 <= 0) for column mi", mi, labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "SPCOR":
            r2i = _need(cols, measure, "r2i")[0]
            check_rows((r2i < 0) | (r2i > 1), "r2i", "R^2 outside [0, 1] in column r2i", r2i, labels)
            needed.append(r2i)
            yi = ti * np.sqrt(1 - r2i) / np.sqrt(dfi)  # semi-partial r (Aloe & Becker 2012)

            def spcor_var(r):
                return (r2i**2 - 2 * r2i + (r2i - r**2) + 1 - (r2i - r**2) ** 2) / ni  # escalc SPCOR

            vi = _select(vt, {"LS": lambda: spcor_var(yi), "AV": lambda: spcor_var(_wmean(yi, ni))})
        else:
            pcor = ti / np.sqrt(ti**2 + dfi)  # partial r from the t of a coefficient
            if measure == "PCOR":
                yi = pcor
                vi = _select(vt, {
                    "LS": lambda: (1 - yi**2) ** 2 / dfi,
                    "AV": lambda: (1 - _wmean(yi, ni) ** 2) ** 2 / dfi,
                })
            else:  # ZPCOR: Fisher's z of the partial r; metafor 3.8 uses 1/(ni - mi - 1)
                yi = np.arctanh(pcor)
                vi = 1 / dfi
    return yi, vi, tuple(needed)


def _prop(measure, cols, vt, labels, add, to):
    xi = _need(cols, measure, "xi")[0]
    mi, ni = cols.get("mi"), cols.get("ni")
    if mi is None and ni is None:
        raise ValueError(f"measure {measure} needs ni or mi")
    _check_nonneg(xi, "xi", "count", labels)
    if ni is not None:
        _check_n(ni, "ni", labels)
        check_rows(xi > ni, "xi", "more events in column xi than ni", xi, labels)
        if mi is not None:
            total = xi + mi
            check_rows((ni != total) & ~np.isnan(total) & ~np.isnan(ni), "ni", "ni is not xi + mi", ni, labels)
    if mi is not None:
        _check_nonneg(mi, "mi", "count", labels)
    mi = _fill(mi, ni, xi)  # metafor: mi <- replmiss(mi, ni - xi)
    check_rows(xi + mi < 1, "ni", "sample size xi + mi below 1", xi + mi, labels)
    needed = (xi, mi)
    xi, mi = _continuity([xi, mi], add, to, (xi == 0) | (mi == 0))
    ni = xi + mi
    pr = xi / ni
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            yi = pr
            vi = _select(vt, {
                "LS": lambda: pr * (1 - pr) / ni,
                "UB": lambda: pr * (1 - pr) / (ni - 1),
                "AV": lambda: (lambda p: p * (1 - p) / ni)(_wmean(pr, ni)),
            })
        elif measure == "PLN":
            yi = np.log(pr)
            vi = _select(vt, {"LS": lambda: 1 / xi - 1 / ni, "AV": lambda: 1 / (_wmean(pr, ni) * ni) - 1 / ni})
        elif measure == "PLO":
            yi = np.log(pr / (1 - pr))
            vi = _select(vt, {
                "LS": lambda: 1 / xi + 1 / mi,
                "AV": lambda: (lambda p: 1 / (p * ni) + 1 / ((1 - p) * ni))(_wmean(pr, ni)),
            })
        elif measure == "PAS":
            yi = np.arcsin(np.sqrt(pr))  # arcsine square root transformation
            vi = 1 / (4 * ni)
        else:  # PFT: Freeman & Tukey 1950 double arcsine
            yi = 0.5 * (np.arcsin(np.sqrt(xi / (ni + 1))) + np.arcsin(np.sqrt((xi + 1) / (ni + 1))))
            vi = 1 / (4 * ni + 2)
    return yi, vi, needed
