"""Identities: EE = weighted least squares, DL = its closed form, REML/ML at a maximum, PM and
Q-profile roots solve their equations, and invariances (order, location-scale)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from test_synthesis_metafor import frame

import evidence_kit as ek
from evidence_kit.synthesis import _tau2

BCG = frame("bcg")


@pytest.mark.parametrize("mods", [None, ["ablat"], ["ablat", "alloc"]])
def test_equal_effects_equals_weighted_least_squares(mods):
    res = ek.meta_analysis(BCG, method="EE", mods=mods)
    X = res.X
    wls = sm.WLS(res.yi, X, weights=1 / res.vi).fit(cov_type="fixed scale")  # V_b = (X'WX)^-1, no sigma^2
    np.testing.assert_allclose(res.coefficients["estimate"], wls.params, rtol=1e-10)
    np.testing.assert_allclose(res.coefficients["se"], wls.bse, rtol=1e-10)
    assert res.q == pytest.approx(wls.ssr, rel=1e-10)  # QE is the weighted residual sum of squares


def test_dersimonian_laird_closed_form():
    y, v = BCG["yi"].to_numpy(), BCG["vi"].to_numpy()
    w = 1 / v
    mu = np.sum(w * y) / w.sum()
    q = np.sum(w * (y - mu) ** 2)
    c = w.sum() - np.sum(w ** 2) / w.sum()
    tau2 = max(0.0, (q - (len(y) - 1)) / c)  # DerSimonian & Laird 1986, eq. 8
    ws = 1 / (v + tau2)
    res = ek.meta_analysis(BCG, method="DL")
    assert res.tau2 == pytest.approx(tau2, rel=1e-12)
    assert res.estimate == pytest.approx(np.sum(ws * y) / ws.sum(), rel=1e-12)
    assert res.se == pytest.approx(np.sqrt(1 / ws.sum()), rel=1e-12)
    assert res.i2 == pytest.approx(100 * tau2 / (tau2 + (len(y) - 1) / c), rel=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML"])
@pytest.mark.parametrize("mods", [None, ["ablat"]])
def test_likelihood_is_maximal_at_the_estimate(method, mods):
    res = ek.meta_analysis(BCG, method=method, mods=mods)
    X = None if res.p == 1 else res.X
    reml = method == "REML"
    ll = _tau2.restricted_ll(res.yi, res.vi, X, res.tau2, reml=reml)
    assert ll == pytest.approx(res.ll, rel=1e-12)
    for delta in (1e-3, 1e-5):
        for t in (res.tau2 * (1 + delta), max(0.0, res.tau2 * (1 - delta))):
            assert _tau2.restricted_ll(res.yi, res.vi, X, t, reml=reml) <= ll
    # the score vanishes at an interior maximum
    num, den = _tau2._score_info(method, res.yi, res.vi, X, res.tau2)
    assert abs(num / den) < 1e-10 * max(1.0, res.tau2)


def test_paule_mandel_solves_generalised_q_and_eb_equals_pm():
    res = ek.meta_analysis(BCG, method="PM")
    assert _tau2.q_stat(res.yi, res.vi, None, res.tau2) == pytest.approx(res.k - 1, rel=1e-12)
    eb = ek.meta_analysis(BCG, method="EB")
    assert eb.tau2 == pytest.approx(res.tau2, rel=1e-12)


def test_knapp_hartung_scales_the_covariance():
    z = ek.meta_analysis(BCG, method="REML")
    k = ek.meta_analysis(BCG, method="REML", test="knha")
    s2w = _tau2.q_stat(z.yi, z.vi, None, z.tau2) / (z.k - 1)
    assert k.se == pytest.approx(z.se * np.sqrt(s2w), rel=1e-12)
    assert k.df == z.k - 1


def test_tau2_zero_when_studies_agree():
    y = np.array([0.2, 0.21, 0.19, 0.2])
    v = np.array([0.04, 0.05, 0.03, 0.06])
    for method in ("DL", "HE", "HS", "ML", "REML", "EB", "PM"):
        res = ek.meta_analysis(None, y, v, method=method)
        assert res.tau2 == 0.0, method
        ee = ek.meta_analysis(None, y, v, method="EE")
        assert res.estimate == pytest.approx(ee.estimate, rel=1e-12), method


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(3, 25), shift=st.floats(-5, 5), scale=st.floats(0.1, 10),
       method=st.sampled_from(["DL", "HE", "HS", "SJ", "ML", "REML", "PM"]))
def test_location_scale_and_order_invariance(seed, k, shift, scale, method):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.5, k)
    y = rng.normal(0.3, np.sqrt(v + rng.choice([0.0, 0.1, 1.0])))
    base = ek.meta_analysis(None, y, v, method=method)
    moved = ek.meta_analysis(None, shift + scale * y, scale ** 2 * v, method=method)
    assert moved.estimate == pytest.approx(shift + scale * base.estimate, rel=1e-7, abs=1e-9 * (1 + abs(shift)))
    assert moved.tau2 == pytest.approx(scale ** 2 * base.tau2, rel=1e-6, abs=1e-12 * scale ** 2)
    assert moved.i2 == pytest.approx(base.i2, rel=1e-6, abs=1e-8)
    perm = rng.permutation(k)
    shuffled = ek.meta_analysis(None, y[perm], v[perm], method=method)
    assert shuffled.tau2 == pytest.approx(base.tau2, rel=1e-8, abs=1e-14)
    assert shuffled.estimate == pytest.approx(base.estimate, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("mods", [None, ["ablat"]])
def test_q_profile_bounds_solve_their_equations(mods):
    from scipy import stats

    res = ek.meta_analysis(BCG, mods=mods)
    ci = res.heterogeneity_ci()
    X = None if res.p == 1 else res.X
    df = res.k - res.p
    lo, hi = ci.loc["tau2", "ci_lower"], ci.loc["tau2", "ci_upper"]
    assert _tau2.q_stat(res.yi, res.vi, X, lo) == pytest.approx(stats.chi2.isf(0.025, df), rel=1e-10)
    assert _tau2.q_stat(res.yi, res.vi, X, hi) == pytest.approx(stats.chi2.ppf(0.025, df), rel=1e-10)
    assert ci.loc["i2", "ci_lower"] == pytest.approx(100 * lo / (res.vt + lo), rel=1e-12)
    assert ci.loc["h2", "ci_upper"] == pytest.approx(1 + hi / res.vt, rel=1e-12)
    # a homogeneous set: Q(0) is below both targets, so the interval is [0, 0]
    flat = ek.meta_analysis(None, [0.2, 0.2001, 0.1999], [0.1, 0.1, 0.1])
    assert flat.heterogeneity_ci().loc["tau2", ["ci_lower", "ci_upper"]].tolist() == [0.0, 0.0]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), k=st.integers(2, 40), spread=st.floats(0, 6),
       tau2=st.sampled_from([0.0, 1e-4, 0.1, 10.0, 1e3]), method=st.sampled_from(["ML", "REML"]),
       with_mod=st.booleans())
def test_ml_reml_satisfy_the_optimality_conditions(seed, k, spread, tau2, method, with_mod):
    """Whatever the spread of the v_i (up to 6 orders of magnitude): an interior optimum has a zero
    score, a boundary optimum (tau^2 = 0) a non-positive one, and the fit reports convergence."""
    rng = np.random.default_rng(seed)
    vi = 10.0 ** rng.uniform(-3, -3 + spread, k)
    x = rng.normal(size=k)
    yi = 0.5 + 0.3 * x * with_mod + rng.normal(0, np.sqrt(vi + tau2))
    mods = x[:, None] if with_mod and k > 2 else None
    res = ek.meta_analysis(None, yi, vi, method=method, mods=mods)
    assert res.converged and res.tau2 >= 0
    X = None if res.p == 1 else res.X
    num, den = _tau2._score_info(method, res.yi, res.vi, X, res.tau2)
    if res.tau2 > 0:
        assert abs(num / den) <= 1e-8 * max(1.0, res.tau2)
    else:
        assert num <= 1e-10 * den
