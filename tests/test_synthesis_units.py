"""Numbers that do not depend on the unit (issue 17): fitting yi * s, vi * s^2 gives the unscaled
fit times s (tau^2 times s^2) for every estimator, with and without moderators, from s = 1e-12
to 1e12 (and beyond, as far as double precision holds), and a shift of yi moves only the
intercept. Where double precision cannot hold the data, the fit says so with a ValueError that
names the problem, never a silent wrong number or a bare ZeroDivisionError."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_synthesis_metafor import frame

import evidence_kit as ek
from evidence_kit.synthesis._tau2 import MultipleMaximaWarning

BCG = frame("bcg")
METHODS = ["EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"]


def fit(y, v, method, mods=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MultipleMaximaWarning)
        return ek.meta_analysis(None, y, v, method=method, mods=mods, **kw)


def assert_scaled(base, res, s, shift=0.0, rtol=1e-9):
    """res is base refitted on shift + s * y, s^2 * v."""
    b0, b1 = base.coefficients["estimate"].to_numpy(), res.coefficients["estimate"].to_numpy()
    expected = b0 * s
    expected[0] += shift
    np.testing.assert_allclose(b1, expected, rtol=rtol, atol=rtol * abs(s) * np.abs(b0).max() + abs(shift) * 1e-12)
    np.testing.assert_allclose(res.coefficients["se"], base.coefficients["se"] * abs(s), rtol=rtol)
    assert res.tau2 == pytest.approx(base.tau2 * s * s, rel=rtol, abs=1e-14 * s * s)
    if np.isfinite(base.se_tau2):
        assert res.se_tau2 == pytest.approx(base.se_tau2 * s * s, rel=1e-7)
    assert res.i2 == pytest.approx(base.i2, rel=rtol, abs=1e-9)
    assert res.q == pytest.approx(base.q, rel=rtol)
    if shift == 0:
        assert res.pvalue == pytest.approx(base.pvalue, rel=1e-7, abs=1e-300)
    np.testing.assert_allclose(res.coefficients["pvalue"].iloc[1:], base.coefficients["pvalue"].iloc[1:], rtol=1e-6)
    # log-likelihoods move by -(k - p) log|s| (REML) or -k log|s| (ML): the densities rescale
    n = res.k - (res.p if res.method == "REML" else 0)
    assert res.ll == pytest.approx(base.ll - n * np.log(abs(s)), rel=1e-9, abs=1e-7)
    assert res.converged == base.converged


@pytest.mark.parametrize("mods", [None, ["ablat"]], ids=["intercept", "ablat"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("s", [1e-12, 1e-6, 1e-3, 1e3, 1e6, 1e12])
def test_bcg_in_any_unit(method, s, mods):
    """Before: REML differed in the fifth digit at s = 1e-6; PM and EB gave tau^2 off by 2e9 at
    s = 1e-12 (I^2 99.99999% against 92.3%) with converged=True."""
    X = None if mods is None else BCG[mods].to_numpy()
    base = fit(BCG.yi.to_numpy(), BCG.vi.to_numpy(), method, X)
    res = fit(BCG.yi.to_numpy() * s, BCG.vi.to_numpy() * s * s, method, X)
    assert_scaled(base, res, s)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("s", [1e-150, 1e-100, 1e100, 1e150])
def test_extreme_units_still_fit(method, s):
    base = fit(BCG.yi.to_numpy(), BCG.vi.to_numpy(), method)
    res = fit(BCG.yi.to_numpy() * s, BCG.vi.to_numpy() * s * s, method)
    assert_scaled(base, res, s, rtol=1e-8)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10**6), k=st.integers(3, 30), log_s=st.floats(-12, 12),
       shift=st.floats(-1e3, 1e3), method=st.sampled_from(METHODS), with_mod=st.booleans(),
       tau2=st.sampled_from([0.0, 0.01, 0.3, 3.0]))
def test_scale_and_location_invariance(seed, k, log_s, shift, method, with_mod, tau2):
    rng = np.random.default_rng(seed)
    v = 10.0 ** rng.uniform(-3, 0, k)
    x = rng.normal(size=k)
    y = 0.2 + 0.3 * x * with_mod + rng.normal(0, np.sqrt(v + tau2))
    mods = x[:, None] if with_mod and k > 3 else None
    base = fit(y, v, method, mods)
    s = 10.0 ** log_s
    shift = shift * s  # a shift in the new unit
    res = fit(shift + s * y, s * s * v, method, mods)
    assert_scaled(base, res, s, shift=shift, rtol=1e-7)


@pytest.mark.parametrize("method", METHODS)
def test_where_double_precision_cannot_hold_the_data_say_so(method):
    y, v = BCG.yi.to_numpy(), BCG.vi.to_numpy()
    if method == "EE":  # no tau^2: a study with vi = 1e-300 simply takes all the weight
        res = ek.meta_analysis(None, y, np.r_[1e-300, v[1:]], method="EE")
        assert res.estimate == y[0] and res.se == pytest.approx(1e-150) and np.isfinite(res.q)
        with pytest.raises(ValueError, match=r"cannot fit: the model overflowed double precision .* Q = inf"):
            ek.meta_analysis(None, np.r_[1e200, -1e200, y[2:]], v, method=method)  # before: I^2 = 0, Q = inf
        return
    # before: a bare ZeroDivisionError
    with pytest.raises(ValueError, match=r"cannot fit: the sampling variances span a factor 5.33e\+299"):
        ek.meta_analysis(None, y, np.r_[1e-300, v[1:]], method=method)
    with pytest.raises(ValueError, match=r"cannot fit: the effect sizes spread over .* times sqrt\(vi\)"):
        ek.meta_analysis(None, y, np.full(13, 1e-300), method=method)
    # before: a NaN estimate and an infinite tau^2 with converged=True
    with pytest.raises(ValueError, match=r"cannot fit: the effect sizes spread over 2e\+200"):
        ek.meta_analysis(None, np.r_[1e200, -1e200, y[2:]], v, method=method)


def test_batch_is_unit_free_and_names_the_group():
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(30), 8)
    v = rng.uniform(0.01, 0.3, g.size)
    y = rng.normal(0, np.sqrt(v + rng.choice([0.0, 0.05, 0.5], 30)[g]))
    for method in ("REML", "PM", "DL"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MultipleMaximaWarning)
            base = ek.meta_analysis_batch(pd.DataFrame({"g": g, "yi": y, "vi": v}), by="g", method=method)
            for s in (1e-12, 1e12):
                out = ek.meta_analysis_batch(pd.DataFrame({"g": g, "yi": y * s, "vi": v * s * s}), by="g",
                                             method=method)
                np.testing.assert_allclose(out["tau2"], base["tau2"] * s * s, rtol=1e-8, atol=1e-14 * s * s)
                np.testing.assert_allclose(out["estimate"], base["estimate"] * s, rtol=1e-8, atol=1e-12 * s)
                np.testing.assert_allclose(out["i2"], base["i2"], rtol=1e-8, atol=1e-9)
    bad = pd.DataFrame({"g": g + 100, "yi": y, "vi": np.where(np.arange(g.size) == 17, 1e-300, v)})
    with pytest.raises(ValueError, match="group 102: the sampling variances span"):
        ek.meta_analysis_batch(bad, by="g", method="REML")
