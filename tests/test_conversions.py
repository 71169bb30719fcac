"""Conversions: published worked examples (page cited), identities and property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from tolerances import CLOSED_FORM_RTOL, published_atol

from evidence_kit import conversions as cv

# --------------------------------------------------------------- Borenstein et al. (2009)


def test_borenstein_ch4_d_and_g():
    """Borenstein et al. (2009), ch. 4, pp. 26-27: means 103 vs 100, SD 5.5 and 4.5, n 50 each:
    S_within 5.0249, d 0.5970, V_d 0.0418, J 0.9923, g 0.5924, V_g 0.0411."""
    s_within = np.sqrt((49 * 5.5**2 + 49 * 4.5**2) / 98)
    assert s_within == pytest.approx(5.0249, abs=published_atol(4))
    d = (103 - 100) / s_within
    assert d == pytest.approx(0.5970, abs=published_atol(4))
    assert cv.variance_d(d, 50, 50) == pytest.approx(0.0418, abs=published_atol(4))
    assert cv.hedges_correction(98) == pytest.approx(0.9923, abs=published_atol(4))
    g = cv.d_to_g(d, 50, 50)
    assert g == pytest.approx(0.5924, abs=published_atol(4))
    assert cv.variance_g(g, 50, 50) == pytest.approx(0.0411, abs=published_atol(4))


def test_borenstein_ch7_log_or_to_d():
    """Borenstein et al. (2009), ch. 7, p. 47: log OR 0.9069 -> d 0.5000."""
    assert cv.log_or_to_d(0.9069) == pytest.approx(0.5000, abs=published_atol(4))
    assert cv.d_to_log_or(0.5) == pytest.approx(0.9069, abs=published_atol(4))


def test_borenstein_ch7_r_and_d():
    """Borenstein et al. (2009), ch. 7, pp. 48-49: r 0.50 -> d 1.1547; d 1.1547 (n1 = n2) -> r 0.50."""
    assert cv.r_to_d(0.5) == pytest.approx(1.1547, abs=published_atol(4))
    assert cv.d_to_r(1.1547, 50, 50) == pytest.approx(0.5000, abs=published_atol(4))
    assert cv.d_to_r(1.1547) == pytest.approx(0.5000, abs=published_atol(4))


def test_cox_factor_differs_from_logistic():
    assert cv.d_to_log_or(1.0, method="cox") == pytest.approx(1.65, rel=CLOSED_FORM_RTOL)
    assert cv.log_or_to_d(1.65, method="cox") == pytest.approx(1.0, rel=CLOSED_FORM_RTOL)
    assert cv.d_to_log_or(1.0) == pytest.approx(np.pi / np.sqrt(3), rel=CLOSED_FORM_RTOL)
    with pytest.raises(ValueError, match="logistic, cox"):
        cv.d_to_log_or(1.0, method="probit")


# --------------------------------------------------------------- t, F, p, CI


def test_d_from_t_f_p_agree():
    n1, n2, t = 23, 31, 2.4
    d = cv.d_from_t(t, n1, n2)
    assert d == pytest.approx(t * np.sqrt(1 / n1 + 1 / n2), rel=CLOSED_FORM_RTOL)
    assert cv.d_from_f(t**2, n1, n2) == pytest.approx(d, rel=CLOSED_FORM_RTOL)
    assert cv.d_from_f(t**2, n1, n2, sign=-1) == pytest.approx(-d, rel=CLOSED_FORM_RTOL)
    p = 2 * stats.t.sf(t, n1 + n2 - 2)
    assert cv.d_from_p(p, n1, n2) == pytest.approx(d, rel=1e-10)
    assert cv.d_from_p(1.0, n1, n2) == 0.0


def test_d_from_t_matches_means_and_sds():
    """A pooled-variance t test on raw data gives back Cohen's d of the same data."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.4, 1, 17), rng.normal(0, 1, 25)
    t = stats.ttest_ind(x, y).statistic
    sp = np.sqrt(((16) * x.var(ddof=1) + 24 * y.var(ddof=1)) / 40)
    assert cv.d_from_t(t, 17, 25) == pytest.approx((x.mean() - y.mean()) / sp, rel=1e-10)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5])
def test_d_from_p_rejects_p_outside_unit_interval(p):
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\]"):
        cv.d_from_p(p, 10, 10)


def test_d_from_p_names_the_row():
    with pytest.raises(ValueError, match=r"row 2 \(p=1.2\)"):
        cv.d_from_p([0.5, 0.01, 1.2], 10, 10)


def test_se_from_ci_linear_and_ratio():
    """Cochrane Handbook 6.3.1: SE = (upper - lower) / 3.92 for a 95% CI."""
    assert cv.se_from_ci(0.1, 0.5) == pytest.approx(0.4 / (2 * 1.959963984540054), rel=CLOSED_FORM_RTOL)
    assert cv.se_from_ci(0.1, 0.5) == pytest.approx(0.4 / 3.92, abs=published_atol(4))
    z90 = stats.norm.ppf(0.95)
    assert cv.se_from_ci(1.0, 2.0, level=90) == pytest.approx(1 / (2 * z90), rel=CLOSED_FORM_RTOL)
    assert cv.se_from_ci(0.5, 2.0, log=True) == pytest.approx(np.log(4) / (2 * 1.959963984540054), rel=CLOSED_FORM_RTOL)
    with pytest.raises(ValueError, match="positive"):
        cv.se_from_ci(0.0, 2.0, log=True)
    with pytest.raises(ValueError, match="upper limit below"):
        cv.se_from_ci(2.0, 1.0)


def test_cochrane_ci_divisors():
    """Cochrane Handbook 6.5.2.2 (v6; 7.7.3.2 in v5.1): a 95% CI is 3.92 SEs wide for large
    samples (3.29 for 90%, 5.15 for 99%); for n = 25 from a t distribution, 2 x 2.0639 = 4.128."""
    assert 1.0 / cv.se_from_ci(0.0, 1.0) == pytest.approx(3.92, abs=published_atol(2))
    assert 1.0 / cv.se_from_ci(0.0, 1.0, level=90) == pytest.approx(3.29, abs=published_atol(2))
    assert 1.0 / cv.se_from_ci(0.0, 1.0, level=99) == pytest.approx(5.15, abs=published_atol(2))
    assert 1.0 / cv.se_from_ci(0.0, 1.0, df=24) == pytest.approx(4.128, abs=published_atol(3))
    with pytest.raises(ValueError, match="degrees of freedom must be positive"):
        cv.se_from_ci(0.0, 1.0, df=0)


def test_cochrane_t_from_p_example():
    """Cochrane Handbook 6.5.2.3 (v6; 7.7.3.3 in v5.1): P = 0.008 with groups of 25 and 22
    corresponds to t = 2.78 on 45 df; d_from_p gives back d = t sqrt(1/25 + 1/22)."""
    t = cv.d_from_p(0.008, 25, 22) / np.sqrt(1 / 25 + 1 / 22)
    assert t == pytest.approx(2.78, abs=published_atol(2))


def test_arrays_in_arrays_out_nan_propagates():
    out = cv.d_from_t([1.0, np.nan], [10, 10], [12, 12])
    assert out.shape == (2,)
    assert np.isnan(out[1]) and np.isfinite(out[0])
    assert np.ndim(cv.d_from_t(1.0, 10, 12)) == 0


# --------------------------------------------------------------- median -> mean, SD


# Wan et al. (2014), BMC Medical Research Methodology 14:135, Table 1: xi(n) for n <= 50.
WAN_TABLE_1 = {2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970,
               10: 3.078, 11: 3.173, 12: 3.259, 15: 3.472, 20: 3.735, 25: 3.931, 30: 4.086,
               31: 4.113, 35: 4.213, 40: 4.322, 45: 4.415, 49: 4.482, 50: 4.498}


def test_expected_range_matches_wan_table_1():
    n = np.array([k for k in WAN_TABLE_1 if k != 12])
    want = [WAN_TABLE_1[k] for k in n]
    np.testing.assert_allclose(cv.expected_normal_range(n), want, atol=published_atol(3), rtol=0)
    # n = 12: Table 1 prints 3.259; the integral is 3.25846 (control-chart d2 tables print 3.258),
    # so the printed value is off by 0.0006 in its last digit. Checked to one unit, not half.
    assert cv.expected_normal_range(12) == pytest.approx(3.259, abs=1e-3)
    assert cv.expected_normal_range(12) == pytest.approx(3.25846, abs=5e-6)
    # beyond n = 50 Blom's approximation (Wan et al. formula (7))
    assert cv.expected_normal_range(100) == pytest.approx(2 * stats.norm.ppf(99.625 / 100.25), rel=1e-15)
    assert np.isnan(cv.expected_normal_range(1))


def test_mean_sd_from_median_formulas():
    """Wan et al. (2014) SD and Luo et al. (2018) mean, written out by hand for n = 40 and 80."""
    n, m, q1, q3, a, b = 40, 10.0, 8.0, 13.0, 2.0, 25.0
    xi = 4.322  # Wan et al. (2014) Table 1, n = 40
    eta = 2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    r = cv.mean_sd_from_median(m, n, minimum=a, maximum=b)
    w = 4 / (4 + n**0.75)  # Luo et al. (2018): the weight of the mid-range falls as n grows
    assert r.mean == pytest.approx(w * (a + b) / 2 + (1 - w) * m, rel=CLOSED_FORM_RTOL)
    assert r.sd == pytest.approx((b - a) / xi, rel=2e-4)
    xi = cv.expected_normal_range(n)  # the exact value behind the printed 4.322
    assert r.sd == pytest.approx((b - a) / xi, rel=CLOSED_FORM_RTOL)
    blom = 2 * stats.norm.ppf((80 - 0.375) / (80 + 0.25))  # n > 50: Blom's approximation
    assert cv.mean_sd_from_median(m, 80, minimum=a, maximum=b).sd == pytest.approx((b - a) / blom, rel=CLOSED_FORM_RTOL)
    r = cv.mean_sd_from_median(m, n, q1=q1, q3=q3)
    assert r.mean == pytest.approx((0.7 + 0.39 / n) * (q1 + q3) / 2 + (0.3 - 0.39 / n) * m, rel=CLOSED_FORM_RTOL)
    assert r.sd == pytest.approx((q3 - q1) / eta, rel=CLOSED_FORM_RTOL)
    r = cv.mean_sd_from_median(m, n, q1=q1, q3=q3, minimum=a, maximum=b)
    w1, w2 = 2.2 / (2.2 + n**0.75), 0.7 - 0.72 / n**0.55
    assert r.mean == pytest.approx(w1 * (a + b) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * m, rel=CLOSED_FORM_RTOL)
    assert r.sd == pytest.approx((b - a) / (2 * xi) + (q3 - q1) / (2 * eta), rel=CLOSED_FORM_RTOL)


def test_mean_sd_from_median_recovers_normal_parameters():
    """For the population quantiles of N(50, 10^2) the IQR estimator recovers SD ~ 10 as n grows."""
    mu, sigma, n = 50.0, 10.0, 10_000
    q1, q3 = stats.norm.ppf([0.25, 0.75], mu, sigma)
    r = cv.mean_sd_from_median(mu, n, q1=q1, q3=q3)
    assert r.mean == pytest.approx(mu, rel=1e-12)
    assert r.sd == pytest.approx(sigma, rel=1e-3)


def test_luo_weights_favour_the_median_in_large_samples():
    """Luo et al. (2018): as n grows the estimate moves from the mid-range to the median."""
    small = cv.mean_sd_from_median(10.0, 5, minimum=0.0, maximum=40.0).mean
    large = cv.mean_sd_from_median(10.0, 10_000, minimum=0.0, maximum=40.0).mean
    assert abs(large - 10.0) < 0.01 * abs(20.0 - 10.0) < abs(small - 10.0)


def test_mean_sd_from_median_needs_a_spread():
    with pytest.raises(ValueError, match="give q1 and q3"):
        cv.mean_sd_from_median(10, 30)


# --------------------------------------------------------------- combining groups


def test_combine_groups_equals_pooled_raw_data():
    """Cochrane Handbook Table 6.5.a reproduces the mean and SD of the concatenated samples."""
    rng = np.random.default_rng(7)
    x, y = rng.normal(3, 2, 13), rng.normal(5, 1, 29)
    n, m, sd = cv.combine_groups(13, x.mean(), x.std(ddof=1), 29, y.mean(), y.std(ddof=1))
    both = np.concatenate([x, y])
    assert n == 42
    assert m == pytest.approx(both.mean(), rel=1e-12)
    assert sd == pytest.approx(both.std(ddof=1), rel=1e-12)


def test_combine_groups_rejects_negative_sd():
    with pytest.raises(ValueError, match="sd2"):
        cv.combine_groups(10, 1, 1, 10, 1, -1)


# --------------------------------------------------------------- WWC and clustering


def test_wwc_hedges_g_and_cox_index():
    n1, n2 = 20, 25
    s = np.sqrt((19 * 2.0**2 + 24 * 3.0**2) / 43)
    omega = 1 - 3 / (4 * 45 - 9)
    assert cv.wwc_hedges_g(12.0, 10.0, 2.0, 3.0, n1, n2) == pytest.approx(omega * 2 / s, rel=CLOSED_FORM_RTOL)
    lor = np.log(0.6 / 0.4) - np.log(0.45 / 0.55)
    assert cv.cox_index(0.6, 0.45, n1, n2) == pytest.approx(omega * lor / 1.65, rel=CLOSED_FORM_RTOL)
    with pytest.raises(ValueError, match="p1"):
        cv.cox_index(1.0, 0.5, 10, 10)


def test_default_iccs_are_explicit_and_overridable():
    assert cv.DEFAULT_ICC == {"achievement": 0.20, "other": 0.10}
    a = cv.wwc_cluster_t(2.5, 200, 10)
    b = cv.wwc_cluster_t(2.5, 200, 10, icc=0.20)
    c = cv.wwc_cluster_t(2.5, 200, 10, outcome="other")
    d = cv.wwc_cluster_t(2.5, 200, 10, icc=0.10)
    assert a == b and c == d and a.t < c.t
    with pytest.raises(ValueError, match="achievement, other"):
        cv.wwc_cluster_t(2.5, 200, 10, outcome="health")
    with pytest.raises(ValueError, match=r"icc must lie in \[0, 1\]"):
        cv.cluster_adjust_g(0.3, 50, 50, icc=1.5, cluster_size=10)


def test_cluster_corrections_reduce_to_naive_when_icc_zero():
    """Hedges (2007): with rho = 0 the corrected t is the naive t on N - 2 df and d_T = g with
    the usual variance N/(n1 n2) + d^2 / (2 (N - 2))."""
    r = cv.wwc_cluster_t(2.5, 200, 10, icc=0.0)
    assert r.t == pytest.approx(2.5, rel=CLOSED_FORM_RTOL)
    assert r.df == pytest.approx(198, rel=CLOSED_FORM_RTOL)
    assert r.pvalue == pytest.approx(2 * stats.t.sf(2.5, 198), rel=1e-10)
    g = cv.cluster_adjust_g(0.3, 100, 100, icc=0.0, cluster_size=20)
    assert g.g == pytest.approx(0.3, rel=CLOSED_FORM_RTOL)
    assert g.vi == pytest.approx(200 / 10_000 + 0.09 / (2 * 198), rel=CLOSED_FORM_RTOL)


def test_wwc_cluster_t_rho_one_uses_cluster_means():
    """Hedges (2007): with rho = 1 the df fall to M - 2 (the cluster-level analysis)."""
    r = cv.wwc_cluster_t(2.5, 200, 10, icc=1.0)
    assert r.df == pytest.approx(8, rel=CLOSED_FORM_RTOL)


def test_wwc_cluster_t_hand_computed():
    n_total, m, rho, t = 200.0, 10.0, 0.2, 2.5
    n = n_total / m
    base = (n_total - 2) - 2 * (n - 1) * rho
    t_a = t * np.sqrt(base / ((n_total - 2) * (1 + (n - 1) * rho)))
    h = base**2 / ((n_total - 2) * (1 - rho) ** 2 + n * (n_total - 2 * n) * rho**2 + 2 * (n_total - 2 * n) * rho * (1 - rho))
    r = cv.wwc_cluster_t(t, n_total, m)
    assert r.t == pytest.approx(t_a, rel=CLOSED_FORM_RTOL)
    assert r.df == pytest.approx(h, rel=CLOSED_FORM_RTOL)


# --------------------------------------------------------------- round trips (hypothesis)

finite_d = st.floats(min_value=-5, max_value=5, allow_nan=False)
sizes = st.integers(min_value=2, max_value=500)


@settings(max_examples=60, deadline=None)
@given(d=finite_d, n1=sizes, n2=sizes)
def test_d_r_round_trip_equal_groups(d, n1, n2):
    r = cv.d_to_r(d)
    assert abs(r) < 1
    assert cv.r_to_d(r) == pytest.approx(d, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(d=finite_d, method=st.sampled_from(["logistic", "cox"]))
def test_d_log_or_round_trip(d, method):
    assert cv.log_or_to_d(cv.d_to_log_or(d, method), method) == pytest.approx(d, rel=1e-12, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(d=finite_d, n1=sizes, n2=sizes)
def test_d_t_p_round_trip(d, n1, n2):
    t = d / np.sqrt(1 / n1 + 1 / n2)
    assert cv.d_from_t(t, n1, n2) == pytest.approx(d, rel=1e-12, abs=1e-15)
    p = 2 * stats.t.sf(abs(t), n1 + n2 - 2)
    if p > 1e-12:  # below that the quantile loses digits
        assert cv.d_from_p(p, n1, n2, sign=np.sign(d) or 1) == pytest.approx(d, rel=1e-6, abs=1e-9)


def test_cluster_variance_second_term_uses_the_wwc_df():
    """Hedges (2007a): the d^2 term of V(d_T) is d_T^2 ((N - 2) - 2 (n - 1) rho) / (2 (N - 2) h),
    with h the WWC/Hedges (2007b) degrees of freedom returned by wwc_cluster_t."""
    n1, n2, n, rho, g = 120.0, 100.0, 20.0, 0.15, 0.4
    big_n = n1 + n2
    adj = cv.cluster_adjust_g(g, n1, n2, icc=rho, cluster_size=n)
    h = cv.wwc_cluster_t(1.0, big_n, big_n / n, icc=rho).df
    first = big_n / (n1 * n2) * (1 + (n - 1) * rho)
    second = adj.g**2 * ((big_n - 2) - 2 * (n - 1) * rho) / (2 * (big_n - 2) * h)
    assert adj.vi == pytest.approx(first + second, rel=1e-12)
    assert adj.g == pytest.approx(g * np.sqrt(1 - 2 * (n - 1) * rho / (big_n - 2)), rel=1e-12)
