"""Conversions between effect-size metrics and from reported statistics.

Small, vectorized functions a reviewer needs when a study does not report means and SDs:
d from t, F or p; a standard error from a confidence interval; d <-> r <-> log odds ratio;
mean and SD from a median with IQR and/or range; two subgroups combined into one; the
What Works Clearinghouse (WWC) effect sizes and clustering corrections (Hedges 2007).

Every function accepts scalars or array-likes and broadcasts with numpy; scalars in give
a scalar (numpy float) out. Impossible input (p outside (0, 1], n < 1, negative SD, an ICC
outside [0, 1]) raises ``ValueError`` naming the position and the argument; a missing value
(NaN) propagates to NaN.

References
----------
Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    Introduction to Meta-Analysis. Wiley. Chapters 4 and 7.
Higgins, J. P. T. et al. (eds.) (2023). Cochrane Handbook for Systematic Reviews of
    Interventions, version 6.4, chapter 6 (sections 6.3.1, 6.5.2).
Hedges, L. V. (2007a). Effect sizes in cluster-randomized designs. Journal of Educational and
    Behavioral Statistics, 32(4), 341-370.
Hedges, L. V. (2007b). Correcting a significance test for clustering. Journal of Educational and
    Behavioral Statistics, 32(2), 151-179. doi:10.3102/1076998606298040
Wan, X., Wang, W., Liu, J., & Tong, T. (2014). Estimating the sample mean and standard
    deviation from the sample size, median, range and/or interquartile range. BMC Medical
    Research Methodology, 14, 135. doi:10.1186/1471-2288-14-135
Luo, D., Wan, X., Liu, J., & Tong, T. (2018). Optimally estimating the sample mean from the
    sample size, median, mid-range, and/or mid-quartile range. Statistical Methods in Medical
    Research, 27(6), 1785-1805. doi:10.1177/0962280216669183
What Works Clearinghouse (2022). Procedures and Standards Handbook, Version 5.0. Institute
    of Education Sciences. Appendix E (effect sizes, clustering corrections).
Chinn, S. (2000). A simple method for converting an odds ratio to effect size for use in
    meta-analysis. Statistics in Medicine, 19, 3127-3131.
Cox, D. R. (1970). Analysis of Binary Data. Methuen. (the 1.65 factor; Sanchez-Meca et al. 2003)
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import integrate, stats

from evidence_kit._core.validate import check_rows

__all__ = [
    "DEFAULT_ICC",
    "combine_groups",
    "cluster_adjust_g",
    "cox_index",
    "d_from_f",
    "d_from_p",
    "d_from_t",
    "d_to_g",
    "d_to_log_or",
    "d_to_r",
    "expected_normal_range",
    "hedges_correction",
    "log_or_to_d",
    "mean_sd_from_median",
    "r_to_d",
    "se_from_ci",
    "variance_d",
    "variance_g",
    "wwc_cluster_t",
    "wwc_hedges_g",
]

#: Default intraclass correlations the WWC imputes when a cluster-assigned study reports none
#: (WWC Procedures and Standards Handbook v5.0, section on clustering; Hedges & Hedberg 2007):
#: 0.20 for achievement outcomes, 0.10 for all other outcomes (behavioural, attitudinal, health).
DEFAULT_ICC: dict[str, float] = {"achievement": 0.20, "other": 0.10}

LOGISTIC_FACTOR = np.pi / np.sqrt(3.0)  # SD of the standard logistic distribution (Chinn 2000)
COX_FACTOR = 1.65  # Cox (1970) / Sanchez-Meca et al. (2003); used by the WWC Cox index


# --------------------------------------------------------------------------- helpers


def _arr(x, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric") from None


def _out(x):
    """Scalars in -> numpy float out; arrays stay arrays."""
    x = np.asarray(x, dtype=float)
    return x[()] if x.ndim == 0 else x


def _check_n(n: np.ndarray, name: str) -> None:
    check_rows(n < 1, name, f"{name} must be at least 1", n)


def _resolve_icc(icc, outcome: str) -> np.ndarray:
    if icc is None:
        if outcome not in DEFAULT_ICC:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(DEFAULT_ICC)}")
        icc = DEFAULT_ICC[outcome]
    icc = _arr(icc, "icc")
    check_rows((icc < 0) | (icc > 1), "icc", "icc must lie in [0, 1]", icc)
    return icc


# --------------------------------------------------------------------------- d and g


def hedges_correction(df):
    """Small-sample correction factor J for Hedges' g, the approximation.

    Notes
    -----
    J = 1 - 3 / (4 df - 1), with df = n1 + n2 - 2 (Borenstein et al. 2009, eq. 4.22).
    ``effect_sizes(measure="SMD")`` uses the exact gamma-function form instead, as metafor.
    """
    df = _arr(df, "df")
    return _out(1.0 - 3.0 / (4.0 * df - 1.0))  # Borenstein et al. (2009), eq. 4.22


def variance_d(d, n1, n2):
    """Large-sample variance of Cohen's d for two independent groups.

    Notes
    -----
    V_d = (n1 + n2) / (n1 n2) + d^2 / (2 (n1 + n2)) (Borenstein et al. 2009, eq. 4.20).
    """
    d, n1, n2 = _arr(d, "d"), _arr(n1, "n1"), _arr(n2, "n2")
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    return _out((n1 + n2) / (n1 * n2) + d**2 / (2.0 * (n1 + n2)))  # Borenstein eq. 4.20


def d_to_g(d, n1, n2):
    """Hedges' g from Cohen's d: g = J d with J = 1 - 3/(4 df - 1) (Borenstein eq. 4.23)."""
    d, n1, n2 = _arr(d, "d"), _arr(n1, "n1"), _arr(n2, "n2")
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    return _out(hedges_correction(n1 + n2 - 2.0) * d)


def variance_g(g, n1, n2):
    """Variance of Hedges' g: V_g = J^2 V_d (Borenstein et al. 2009, eq. 4.24).

    ``g`` is converted back to d (d = g / J) before V_d is evaluated, so that
    ``variance_g(d_to_g(d, n1, n2), n1, n2) == hedges_correction(df)**2 * variance_d(d, n1, n2)``.
    """
    g, n1, n2 = _arr(g, "g"), _arr(n1, "n1"), _arr(n2, "n2")
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    j = hedges_correction(n1 + n2 - 2.0)
    return _out(j**2 * variance_d(g / j, n1, n2))  # Borenstein eq. 4.24


def d_from_t(t, n1, n2):
    """Cohen's d from the t statistic of an independent-groups t-test.

    Notes
    -----
    d = t sqrt(1/n1 + 1/n2) (Borenstein et al. 2009, eq. 4.16 rearranged; Cochrane Handbook
    6.5.2.3). The sign of ``t`` is kept, so orient it as treatment minus control.
    """
    t, n1, n2 = _arr(t, "t"), _arr(n1, "n1"), _arr(n2, "n2")
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    return _out(t * np.sqrt(1.0 / n1 + 1.0 / n2))


def d_from_f(f, n1, n2, *, sign=1.0):
    """Cohen's d from a one-way ANOVA F(1, n1 + n2 - 2) comparing two groups.

    Notes
    -----
    With two groups F = t^2, so d = sign * sqrt(F (n1 + n2) / (n1 n2)) (Borenstein et al. 2009,
    ch. 7; Lipsey & Wilson 2001, Table B10). F carries no direction: pass ``sign=-1`` where the
    treatment group did worse.
    """
    f, n1, n2 = _arr(f, "f"), _arr(n1, "n1"), _arr(n2, "n2")
    check_rows(f < 0, "f", "F must be non-negative", f)
    sign = np.sign(_arr(sign, "sign"))
    return _out(sign * d_from_t(np.sqrt(f), n1, n2))


def d_from_p(p, n1, n2, *, sign=1.0):
    """Cohen's d from a two-sided p-value of an independent-groups t-test.

    Notes
    -----
    t = F^-1_t(1 - p/2; n1 + n2 - 2) then d = t sqrt(1/n1 + 1/n2) (Borenstein et al. 2009,
    ch. 7; Cochrane Handbook 6.5.2.3). A p reported as "p < 0.05" gives only a bound on d.
    p must lie in (0, 1]; p = 1 gives d = 0.
    """
    p, n1, n2 = _arr(p, "p"), _arr(n1, "n1"), _arr(n2, "n2")
    check_rows((p <= 0) | (p > 1), "p", "p must lie in (0, 1]", p)
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    t = stats.t.isf(p / 2.0, n1 + n2 - 2.0)
    sign = np.sign(_arr(sign, "sign"))
    return _out(sign * d_from_t(t, n1, n2))


def se_from_ci(lower, upper, level=95, log=False, *, df=None):
    """Standard error from a symmetric confidence interval.

    Parameters
    ----------
    lower, upper : float or array-like
        The interval as reported. With ``log=True`` they are on the ratio scale (an odds ratio,
        risk ratio or hazard ratio) and the returned SE is that of the log ratio.
    level : float
        Confidence level in percent (95 for a 95% CI).
    df : float or array-like, optional
        Degrees of freedom when the interval came from a t distribution (small samples: n - 1
        for a group mean, n1 + n2 - 2 for a difference); ``None`` uses the normal quantile.

    Notes
    -----
    SE = (upper - lower) / (2 z_{1 - alpha/2}); for ratios SE = (ln upper - ln lower) /
    (2 z_{1 - alpha/2}) (Cochrane Handbook 6.3.1 and 6.3.2; 2 z = 3.92 for 95%, 3.29 for 90%,
    5.15 for 99%). For small samples the Handbook divides by 2 t_{df, 1 - alpha/2} instead
    (6.5.2.2: 2 x 2.0639 = 4.128 for n = 25), which ``df`` selects.
    """
    lower, upper = _arr(lower, "lower"), _arr(upper, "upper")
    level = _arr(level, "level")
    check_rows((level <= 0) | (level >= 100), "level", "level must lie in (0, 100) percent", level)
    check_rows(upper < lower, "upper", "upper limit below the lower limit", upper)
    if log:
        check_rows(lower <= 0, "lower", "ratio-scale limits must be positive", lower)
        lower, upper = np.log(lower), np.log(upper)
    if df is None:
        z = stats.norm.isf((1.0 - level / 100.0) / 2.0)
    else:
        df = _arr(df, "df")
        check_rows(df <= 0, "df", "degrees of freedom must be positive", df)
        z = stats.t.isf((1.0 - level / 100.0) / 2.0, df)
    return _out((upper - lower) / (2.0 * z))  # Cochrane Handbook 6.3.1


# --------------------------------------------------------------------------- d, r, log OR


def d_to_r(d, n1=None, n2=None):
    """Point-biserial correlation from Cohen's d.

    Notes
    -----
    r = d / sqrt(d^2 + a), a = (n1 + n2)^2 / (n1 n2); a = 4 when the groups are equal or the
    sizes are not given (Borenstein et al. 2009, eqs. 7.5-7.6).
    """
    d = _arr(d, "d")
    if n1 is None or n2 is None:
        a = 4.0
    else:
        n1, n2 = _arr(n1, "n1"), _arr(n2, "n2")
        _check_n(n1, "n1")
        _check_n(n2, "n2")
        a = (n1 + n2) ** 2 / (n1 * n2)
    return _out(d / np.sqrt(d**2 + a))  # Borenstein eqs. 7.5-7.6


def r_to_d(r):
    """Cohen's d from a correlation: d = 2 r / sqrt(1 - r^2) (Borenstein et al. 2009, eq. 7.8).

    |r| must be below 1 (|r| = 1 gives an infinite d).
    """
    r = _arr(r, "r")
    check_rows(np.abs(r) > 1, "r", "|r| must not exceed 1", r)
    with np.errstate(divide="ignore"):
        return _out(2.0 * r / np.sqrt(1.0 - r**2))  # Borenstein eq. 7.8


def d_to_log_or(d, method="logistic"):
    """Log odds ratio from Cohen's d.

    Notes
    -----
    ``method="logistic"``: ln OR = d pi / sqrt(3) (Hasselblad & Hedges 1995; Borenstein et al.
    2009, eq. 7.3). ``method="cox"``: ln OR = 1.65 d (Cox 1970; Sanchez-Meca et al. 2003), the
    factor in the WWC Cox index.
    """
    return _out(_arr(d, "d") * _or_factor(method))


def log_or_to_d(log_or, method="logistic"):
    """Cohen's d from a log odds ratio: d = ln OR sqrt(3) / pi (Borenstein et al. 2009, eq. 7.1),
    or ln OR / 1.65 with ``method="cox"``."""
    return _out(_arr(log_or, "log_or") / _or_factor(method))


def _or_factor(method: str) -> float:
    factors = {"logistic": LOGISTIC_FACTOR, "cox": COX_FACTOR}
    if method not in factors:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(factors)}")
    return factors[method]


# --------------------------------------------------------------------------- summaries


class MeanSD(NamedTuple):
    mean: float | np.ndarray
    sd: float | np.ndarray


def mean_sd_from_median(median, n, *, q1=None, q3=None, minimum=None, maximum=None) -> MeanSD:
    """Estimate a sample mean and SD from the median with the IQR and/or the range.

    Give ``q1`` and ``q3`` (the interquartile range), ``minimum`` and ``maximum`` (the range),
    or both; the scenario is chosen from what is given (per row where arrays contain NaN).

    Notes
    -----
    Mean (Luo et al. 2018): with w = 4 / (4 + n^0.75),
    S1 (range) mean = w (a + b)/2 + (1 - w) m;
    S2 (IQR) mean = (0.7 + 0.39/n)(q1 + q3)/2 + (0.3 - 0.39/n) m;
    S3 (both) w1 = 2.2/(2.2 + n^0.75), w2 = 0.7 - 0.72/n^0.55,
    mean = w1 (a + b)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) m.

    SD (Wan et al. 2014, scenarios C1, C3 and C2), with xi(n) the expected range of n standard
    normal values (exact for n <= 50, as Wan et al. Table 1; Blom's 2 Phi^-1((n - 0.375)/(n + 0.25))
    above) and eta = 2 Phi^-1((0.75 n - 0.125)/(n + 0.25)):
    S1 SD = (b - a)/xi; S2 SD = (q3 - q1)/eta; S3 SD = (b - a)/(2 xi) + (q3 - q1)/(2 eta).
    These assume roughly normal data; they are what the Cochrane Handbook (6.5.2.5) suggests.
    """
    m, n = _arr(median, "median"), _arr(n, "n")
    _check_n(n, "n")
    nan = np.full(np.broadcast(m, n).shape, np.nan)
    q1 = nan if q1 is None else _arr(q1, "q1")
    q3 = nan if q3 is None else _arr(q3, "q3")
    a = nan if minimum is None else _arr(minimum, "minimum")
    b = nan if maximum is None else _arr(maximum, "maximum")
    if q1 is nan and a is nan:
        raise ValueError("give q1 and q3, or minimum and maximum (or both)")
    check_rows(q3 < q1, "q3", "q3 below q1", q3)
    check_rows(b < a, "maximum", "maximum below minimum", b)
    has_iqr = ~np.isnan(q1) & ~np.isnan(q3)
    has_range = ~np.isnan(a) & ~np.isnan(b)

    xi = expected_normal_range(n)  # Wan et al. (2014), range (C1, C2)
    eta = 2.0 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))  # Wan et al. (2014), IQR (C3)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 4.0 / (4.0 + n**0.75)
        mean_s1 = w * (a + b) / 2.0 + (1.0 - w) * m  # Luo et al. (2018), range scenario
        mean_s2 = (0.7 + 0.39 / n) * (q1 + q3) / 2.0 + (0.3 - 0.39 / n) * m  # Luo et al. (2018), IQR scenario
        w1 = 2.2 / (2.2 + n**0.75)
        w2 = 0.7 - 0.72 / n**0.55
        mean_s3 = w1 * (a + b) / 2.0 + w2 * (q1 + q3) / 2.0 + (1.0 - w1 - w2) * m  # Luo et al. (2018), both
        sd_s1 = (b - a) / xi  # Wan C1
        sd_s2 = (q3 - q1) / eta  # Wan C3
        sd_s3 = (b - a) / (2.0 * xi) + (q3 - q1) / (2.0 * eta)  # Wan C2
    both = has_iqr & has_range
    mean = np.where(both, mean_s3, np.where(has_iqr, mean_s2, mean_s1))
    sd = np.where(both, sd_s3, np.where(has_iqr, sd_s2, sd_s1))
    return MeanSD(_out(mean), _out(sd))


def expected_normal_range(n):
    """Expected range xi(n) of n independent standard normal values.

    Notes
    -----
    For integer n <= 50, xi(n) = integral of 1 - Phi(x)^n - (1 - Phi(x))^n over the real line,
    by quadrature (Wan et al. 2014, Table 1: 1.128 for n = 2, 3.078 for n = 10, 4.498 for
    n = 50); otherwise Blom's approximation 2 Phi^-1((n - 0.375)/(n + 0.25)) (Wan et al. 2014,
    formula (7)), 0.26% below the exact value at n = 51 and 0.44% below at n = 1000. The range
    of fewer than two values carries no information: NaN.
    """
    n = _arr(n, "n")
    with np.errstate(invalid="ignore"):
        xi = 2.0 * stats.norm.ppf((n - 0.375) / (n + 0.25))  # Blom's approximation
    exact = (n >= 2) & (n <= 50) & (n == np.round(n))
    if np.any(exact):
        xi = np.where(exact, np.vectorize(_exact_range, otypes=[float])(np.where(exact, n, 2.0)), xi)
    return _out(np.where(n < 2, np.nan, xi))


@lru_cache(maxsize=64)
def _exact_range(n: float) -> float:
    f = lambda x: 1.0 - stats.norm.cdf(x) ** n - stats.norm.sf(x) ** n  # noqa: E731  E[max - min]
    return integrate.quad(f, -12.0, 12.0, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


class Group(NamedTuple):
    n: float | np.ndarray
    mean: float | np.ndarray
    sd: float | np.ndarray


def combine_groups(n1, m1, sd1, n2, m2, sd2) -> Group:
    """Combine two subgroups (e.g. two intervention arms) into one group.

    Notes
    -----
    Cochrane Handbook, Table 6.5.a:
    N = n1 + n2; M = (n1 m1 + n2 m2) / N;
    SD = sqrt(((n1 - 1) sd1^2 + (n2 - 1) sd2^2 + n1 n2 / N (m1 - m2)^2) / (N - 1)).
    Apply repeatedly to combine more than two groups.
    """
    n1, m1, sd1 = _arr(n1, "n1"), _arr(m1, "m1"), _arr(sd1, "sd1")
    n2, m2, sd2 = _arr(n2, "n2"), _arr(m2, "m2"), _arr(sd2, "sd2")
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    check_rows(sd1 < 0, "sd1", "SD must be non-negative", sd1)
    check_rows(sd2 < 0, "sd2", "SD must be non-negative", sd2)
    n = n1 + n2
    mean = (n1 * m1 + n2 * m2) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = ((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2 + n1 * n2 / n * (m1 - m2) ** 2) / (n - 1)  # Table 6.5.a
    return Group(_out(n), _out(mean), _out(np.sqrt(var)))


# --------------------------------------------------------------------------- WWC


def _wwc_omega(n_total):
    # omega = 1 - 3/(4N - 9), N = n1 + n2 (WWC Handbook v5.0, Appendix E). The handbook page was not
    # read; the factor reproduces the WWC's own computed effect sizes (tests/test_wwc_handbook.py).
    return 1.0 - 3.0 / (4.0 * n_total - 9.0)


def wwc_hedges_g(m1, m2, sd1, sd2, n1, n2):
    """Hedges' g as the WWC computes it (intervention minus comparison).

    Notes
    -----
    g = omega (m1 - m2) / S, S = sqrt(((n1 - 1) sd1^2 + (n2 - 1) sd2^2) / (n1 + n2 - 2)),
    omega = 1 - 3 / (4 N - 9), N = n1 + n2 (WWC Procedures and Standards Handbook v5.0,
    Appendix E; that page was not read). Checked instead against the WWC's own computations: for
    16 findings of the WWC study-review data (GitHub betsyjwolf/evidence-maps, paper_data.csv,
    commit 7e6fb71; N = 30 to 4,528) this function reproduces ``f_effect_size_wwc`` from the
    recorded means, SDs and group sizes to the data's float32 precision, and without omega it
    does not (tests/test_wwc_handbook.py). The WWC reverses the sign where a lower score is
    better; this function does not. ``improvement_index(g)`` lives in ``evidence_kit.certainty``.
    """
    m1, m2 = _arr(m1, "m1"), _arr(m2, "m2")
    sd1, sd2 = _arr(sd1, "sd1"), _arr(sd2, "sd2")
    n1, n2 = _arr(n1, "n1"), _arr(n2, "n2")
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    check_rows(sd1 < 0, "sd1", "SD must be non-negative", sd1)
    check_rows(sd2 < 0, "sd2", "SD must be non-negative", sd2)
    s = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))  # pooled within-group SD
    return _out(_wwc_omega(n1 + n2) * (m1 - m2) / s)


def cox_index(p1, p2, n1, n2, *, small_sample=True):
    """WWC Cox index: a standardized effect for a dichotomous outcome or baseline characteristic.

    ``p1``, ``p2`` are the proportions with the (favourable) outcome in the intervention and
    comparison groups.

    Parameters
    ----------
    small_sample : bool, default True
        Multiply by the small-sample factor omega = 1 - 3/(4N - 9), N = n1 + n2, as for Hedges'
        g. This is what the WWC computes (see Notes). ``False`` gives the index without it.

    Notes
    -----
    d_Cox = omega (ln(p1/(1 - p1)) - ln(p2/(1 - p2))) / 1.65 (Cox index: Sanchez-Meca et al.
    2003; WWC Procedures and Standards Handbook, effect sizes for dichotomous outcomes).
    Omega checked against the WWC's own computed effect size of a dichotomous outcome (2026-11-28):
    WWC study-review data, GitHub betsyjwolf/evidence-maps, paper_data.csv at commit 7e6fb71,
    finding 28178 (Snipes et al. 2015, REL 2015-096; 29% vs 12% passing, n = 165 and 184):
    f_effect_size_wwc .66343832 equals the index with omega to 3e-8 and differs from the index
    without omega by 1.4e-3 (tests/test_wwc_cox_data.py). It is the only WWC-computed Cox index
    of an outcome in that file. The file has no baseline rows: that the WWC computes baseline
    differences the same way is not checked against data (the handbook text could not be read).
    Sources and URLs are in ``evidence_kit.certainty.wwc``'s module docstring.
    """
    p1, p2 = _arr(p1, "p1"), _arr(p2, "p2")
    n1, n2 = _arr(n1, "n1"), _arr(n2, "n2")
    check_rows((p1 <= 0) | (p1 >= 1), "p1", "proportion must lie in (0, 1)", p1)
    check_rows((p2 <= 0) | (p2 >= 1), "p2", "proportion must lie in (0, 1)", p2)
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    log_or = np.log(p1 / (1.0 - p1)) - np.log(p2 / (1.0 - p2))
    factor = _wwc_omega(n1 + n2) if small_sample else 1.0
    return _out(factor * log_or / COX_FACTOR)  # Cox index, log OR / 1.65 (times omega unless small_sample=False)


class ClusterG(NamedTuple):
    g: float | np.ndarray
    vi: float | np.ndarray


def cluster_adjust_g(g, n1, n2, icc=None, cluster_size=None, *, outcome="achievement") -> ClusterG:
    """Adjust a student-level g for assignment of whole clusters (schools, classrooms).

    Parameters
    ----------
    g : float or array-like
        Effect size standardized by the total (pooled student-level) SD, clustering ignored.
    n1, n2 : students in the intervention and comparison groups.
    icc : intraclass correlation; ``None`` takes ``DEFAULT_ICC[outcome]`` (0.20 achievement,
        0.10 other outcomes, as the WWC imputes).
    cluster_size : average number of students per cluster (n in Hedges 2007).
    outcome : "achievement" or "other", used only when ``icc`` is None.

    Returns
    -------
    ClusterG(g, vi): the design-adjusted effect size d_T and its variance.

    Notes
    -----
    Hedges (2007a), equal cluster sizes n, N = n1 + n2. ``g`` is taken as given: apply any
    small-sample correction before (the WWC uses omega with the df h of ``wwc_cluster_t``).
    Not checked against a WWC-computed number: the WWC study-review data read report effect
    sizes standardized by the student-level SD without this adjustment, and no handbook worked
    example of it was reachable. The formulas are checked against their limits and identities
    in tests/test_conversions.py only.
    d_T = g sqrt(1 - 2 (n - 1) rho / (N - 2));
    V(d_T) = (N / (n1 n2)) (1 + (n - 1) rho)
             + d_T^2 [(N - 2)(1 - rho)^2 + n (N - 2n) rho^2 + 2 (N - 2n) rho (1 - rho)]
               / (2 (N - 2) [(N - 2) - 2 (n - 1) rho]).
    """
    if cluster_size is None:
        raise ValueError("cluster_size (average students per cluster) is required")
    g, n1, n2 = _arr(g, "g"), _arr(n1, "n1"), _arr(n2, "n2")
    n = _arr(cluster_size, "cluster_size")
    rho = _resolve_icc(icc, outcome)
    _check_n(n1, "n1")
    _check_n(n2, "n2")
    check_rows(n < 1, "cluster_size", "cluster_size must be at least 1", n)
    big_n = n1 + n2
    d_t = g * np.sqrt(1.0 - 2.0 * (n - 1.0) * rho / (big_n - 2.0))  # Hedges (2007): d_T
    num = (big_n - 2.0) * (1.0 - rho) ** 2 + n * (big_n - 2.0 * n) * rho**2 + 2.0 * (big_n - 2.0 * n) * rho * (1.0 - rho)
    den = 2.0 * (big_n - 2.0) * ((big_n - 2.0) - 2.0 * (n - 1.0) * rho)
    vi = big_n / (n1 * n2) * (1.0 + (n - 1.0) * rho) + d_t**2 * num / den  # Hedges (2007): V(d_T)
    return ClusterG(_out(d_t), _out(vi))


class ClusterT(NamedTuple):
    t: float | np.ndarray
    df: float | np.ndarray
    pvalue: float | np.ndarray


def wwc_cluster_t(t, n_total, n_clusters, icc=None, *, outcome="achievement") -> ClusterT:
    """WWC clustering correction of a t statistic from a mismatched (student-level) analysis.

    Parameters
    ----------
    t : the t statistic that ignored clustering.
    n_total : total students N; ``n_clusters`` total clusters M (both arms); average cluster
        size n = N / M.
    icc : intraclass correlation; ``None`` takes ``DEFAULT_ICC[outcome]``.

    Returns
    -------
    ClusterT(t, df, pvalue): corrected t, its degrees of freedom h and the two-sided p-value.

    Notes
    -----
    WWC Procedures and Standards Handbook v5.0, Appendix E (the earlier locator "h is eq. E.21,
    p. 171" was not re-read), from Hedges (2007b), equal cluster sizes n = N / M:
    t_a = t sqrt(((N - 2) - 2 (n - 1) rho) / ((N - 2)(1 + (n - 1) rho)));
    h = ((N - 2) - 2 (n - 1) rho)^2 / ((N - 2)(1 - rho)^2 + n (N - 2n) rho^2 + 2 (N - 2n) rho (1 - rho)).

    Checked against the WWC's own computations: with the uncorrected t recovered from the WWC
    effect size as t = g sqrt(n1 n2 / N), this function reproduces the clustering-corrected
    p-value ``f_p_value_wwc`` of three findings with ICC 0.20 in the WWC study-review data
    (GitHub betsyjwolf/evidence-maps, paper_data.csv, commit 7e6fb71; findings 6032, 6033, 6034)
    to 1e-5 relative (tests/test_wwc_handbook.py). A fourth finding stored with ICC 0.20 (2422,
    reviewed under WWC standards version 2.1) is not reproduced (0.696 here, 0.676 stored); the
    reason was not found.
    """
    t, big_n, m = _arr(t, "t"), _arr(n_total, "n_total"), _arr(n_clusters, "n_clusters")
    rho = _resolve_icc(icc, outcome)
    check_rows(big_n < 3, "n_total", "n_total must be at least 3", big_n)
    check_rows(m < 2, "n_clusters", "n_clusters must be at least 2", m)
    n = big_n / m
    base = (big_n - 2.0) - 2.0 * (n - 1.0) * rho
    t_a = t * np.sqrt(base / ((big_n - 2.0) * (1.0 + (n - 1.0) * rho)))  # WWC Handbook v5.0, Appendix E: corrected t
    h = base**2 / (
        (big_n - 2.0) * (1.0 - rho) ** 2 + n * (big_n - 2.0 * n) * rho**2 + 2.0 * (big_n - 2.0 * n) * rho * (1.0 - rho)
    )  # WWC Handbook v5.0, eq. E.21: df h
    p = 2.0 * stats.t.sf(np.abs(t_a), h)
    return ClusterT(_out(t_a), _out(h), _out(p))
