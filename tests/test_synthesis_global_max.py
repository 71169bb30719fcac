"""The global maximum of the ML/REML likelihood of tau^2 on tau^2 >= 0 (issue 13), everywhere the
one kernel is used: meta_analysis (with and without moderators), meta_analysis_batch,
permutation_test, leave_one_out, cumulative and influence.

The oracle is a brute-force profile of the likelihood written here independently of the package
(explicit matrices, a dense grid of 4,000 points plus bounded refinement with scipy around every
local maximum of the grid), not metafor: metafor's rule (reset tau^2 to 0 only when the boundary
beats the point Fisher scoring reached) is wrong when an interior peak beats both, and it keeps
the interior point when the boundary is higher but Fisher scoring never looked there.

The simulated data sets below were found by drawing small meta-analyses with two small outlying
studies (tests/test_synthesis_global_max.py keeps only their rounded values); each test checks
its premise (two local maxima, and where Fisher scoring from metafor's start stops) before it
checks the answer.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize

import evidence_kit as ek
from evidence_kit.synthesis import _tau2
from evidence_kit.synthesis._tau2 import MultipleMaximaWarning
from evidence_kit.synthesis.permutation import _fit_many

LOG2PI = np.log(2 * np.pi)


def brute_ll(y, v, X, t, reml):
    """metafor's log-likelihood (REML with + 1/2 log|X'X|) at tau^2 = t (a scalar or an array of
    values), from explicit p x p matrices per value of t."""
    t = np.atleast_1d(np.asarray(t, float))
    k, p = X.shape
    W = 1.0 / (v[None, :] + t[:, None])  # (n, k)
    xtwx = np.einsum("ki,nk,kj->nij", X, W, X)
    b = np.linalg.solve(xtwx, np.einsum("ki,nk->ni", X, W * y[None, :])[..., None])[..., 0]
    r = y[None, :] - b @ X.T
    out = -0.5 * np.sum(np.log(v[None, :] + t[:, None]), axis=1) - 0.5 * np.sum(W * r * r, axis=1)
    if reml:
        out += -0.5 * (k - p) * LOG2PI + 0.5 * np.linalg.slogdet(X.T @ X)[1] - 0.5 * np.linalg.slogdet(xtwx)[1]
    else:
        out += -0.5 * k * LOG2PI
    return out if out.size > 1 else float(out[0])


def brute_maxima(y, v, X=None, reml=True, n=4000):
    """Every local maximum of the profile on tau^2 >= 0 (dense grid + bounded refinement), as
    (tau2, ll) in increasing tau2; the boundary counts when ll(0) >= ll(first grid point)."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    X = np.ones((y.size, 1)) if X is None else np.asarray(X, float)
    hi = 10 * (np.ptp(y) ** 2 + v.max())
    grid = np.concatenate([[0.0], np.geomspace(1e-7 * v.min(), hi, n)])
    lls = brute_ll(y, v, X, grid, reml)
    peaks = []
    if lls[0] >= lls[1]:
        peaks.append((0.0, float(lls[0])))
    for i in range(1, n):
        if lls[i] >= lls[i - 1] and lls[i] > lls[i + 1]:
            r = optimize.minimize_scalar(lambda t: -brute_ll(y, v, X, t, reml), bounds=(grid[i - 1], grid[i + 1]),
                                         method="bounded", options={"xatol": 1e-14 * max(1.0, grid[i])})
            peaks.append((float(r.x), float(-r.fun)))
    return peaks


def brute_global(y, v, X=None, reml=True):
    return max(brute_maxima(y, v, X, reml), key=lambda p: p[1])


def he_fisher_scoring(y, v, X, reml):
    """Where metafor's path stops: Fisher scoring from the HE start (the kernel's first stage)."""
    X = None if X is None else np.asarray(X, float)
    P = _tau2.Problem(np.asarray(y, float), np.asarray(v, float), X, _tau2.Groups(len(y)))
    start = _tau2._closed_form("HE", P, se=False)[0]
    return float(_tau2._fisher_scoring(P, reml, start)[0][0])


def assert_global(res, y, v, X=None, reml=True):
    t_star, ll_star = brute_global(y, v, X, reml)
    assert res.converged
    assert res.tau2 == pytest.approx(t_star, rel=1e-6, abs=1e-9)
    assert res.ll == pytest.approx(ll_star, rel=1e-9, abs=1e-9)
    assert res.ll >= ll_star - 1e-9


# Simulated two-peak data sets (rounded values of draws with two small outlying studies).
BOUNDARY = {  # REML: global maximum at tau^2 = 0, an interior local maximum where Fisher scoring stops
    "yi": [0.914, 1.614, -0.26, -0.06, -0.003, -0.054, -0.057],
    "vi": [0.4366, 0.2139, 0.0387, 0.0266, 0.0434, 0.0231, 0.0188],
}
TWO_INTERIOR = {  # REML: two interior maxima; Fisher scoring from metafor's start reaches the lower one
    "yi": [1.828, 0.585, 0.054, 0.179, 0.155, -0.023],
    "vi": [0.2347, 0.1469, 0.0178, 0.0092, 0.0196, 0.011],
}
REGRESSION = {  # REML meta-regression on x: global maximum at the boundary, Fisher scoring stops inside
    "yi": [-1.624, -1.598, 0.274, 0.127, 0.292, 0.309, 0.463],
    "vi": [0.3119, 0.7969, 0.0134, 0.0189, 0.0316, 0.0347, 0.0419],
    "x": [2.9, 5.2, 4.5, 1.7, 9.8, 3.4, 6.9],
}
ML_BOUNDARY = {  # ML: global maximum at the boundary, Fisher scoring stops at the interior peak
    "yi": [-1.231, 1.49, -0.013, -0.149, 0.072, -0.091, -0.014, 0.007],
    "vi": [0.3468, 0.1227, 0.0351, 0.0327, 0.0404, 0.0266, 0.0062, 0.0292],
}


def deworming() -> pd.DataFrame:
    """Welch et al. 2016, albendazole vs placebo, weight: the 11 comparisons with main == 1 as SMD
    from the per-arm columns (see src/evidence_kit/data/reviews/dat.welch2016.md)."""
    d = ek.load_dataset("dat.welch2016")
    d = d[d["main"] == 1]
    es = ek.effect_sizes(d, measure="SMD", m1i="m1i", sd1i="sd1i", n1i="n1i", m2i="m2i", sd2i="sd2i", n2i="n2i")
    return es.set_index("study")


def maxima_in(message: str) -> list[tuple[float, float]]:
    return [(float(t), float(ll)) for t, ll in re.findall(r"tau\^2 = ([-\d.e+]+) \(logLik ([-\d.]+)\)", message)]


# ---------------------------------------------------------------------------------------------
# meta_analysis


def test_boundary_beats_the_interior_peak_fisher_scoring_finds():
    y, v = BOUNDARY["yi"], BOUNDARY["vi"]
    peaks = brute_maxima(y, v)
    assert len(peaks) == 2 and peaks[0][0] == 0.0 and peaks[0][1] > peaks[1][1]  # the premise
    assert he_fisher_scoring(y, v, None, True) == pytest.approx(peaks[1][0], rel=1e-6)
    with pytest.warns(MultipleMaximaWarning, match="2 local maxima") as rec:
        res = ek.meta_analysis(None, y, v, method="REML")
    assert res.tau2 == 0.0
    assert_global(res, y, v)
    found = maxima_in(str(rec[0].message))
    assert [t for t, _ in found] == pytest.approx([0.0, peaks[1][0]], rel=1e-5)
    assert [ll for _, ll in found] == pytest.approx([p[1] for p in peaks], abs=1e-4)
    assert "returned the global maximum, tau^2 = 0" in str(rec[0].message)
    ee = ek.meta_analysis(None, y, v, method="EE")
    assert res.estimate == pytest.approx(ee.estimate, rel=1e-12)


def test_two_interior_peaks_where_fisher_scoring_reaches_the_lower():
    y, v = TWO_INTERIOR["yi"], TWO_INTERIOR["vi"]
    peaks = brute_maxima(y, v)
    assert len(peaks) == 2 and all(t > 0 for t, _ in peaks)
    low, high = sorted(peaks, key=lambda p: p[1])
    assert he_fisher_scoring(y, v, None, True) == pytest.approx(low[0], rel=1e-6)  # metafor's path
    assert brute_ll(np.array(y), np.array(v), np.ones((6, 1)), 0.0, True) < high[1]  # 0 is not better
    with pytest.warns(MultipleMaximaWarning, match="Fisher scoring from metafor's start stops at"):
        res = ek.meta_analysis(None, y, v, method="REML")
    assert_global(res, y, v)
    assert res.tau2 == pytest.approx(high[0], rel=1e-6)


def test_ml_boundary_beats_the_interior_peak():
    y, v = ML_BOUNDARY["yi"], ML_BOUNDARY["vi"]
    peaks = brute_maxima(y, v, reml=False)
    assert len(peaks) == 2 and peaks[0] == (0.0, max(p[1] for p in peaks))
    assert he_fisher_scoring(y, v, None, False) == pytest.approx(peaks[1][0], rel=1e-6)
    with pytest.warns(MultipleMaximaWarning, match="the log-likelihood has 2 local maxima"):
        res = ek.meta_analysis(None, y, v, method="ML")
    assert_global(res, y, v, reml=False)
    assert res.tau2 == 0.0


def test_meta_regression_global_maximum():
    y, v, x = REGRESSION["yi"], REGRESSION["vi"], REGRESSION["x"]
    X = np.column_stack([np.ones(len(x)), x])
    peaks = brute_maxima(y, v, X)
    assert len(peaks) == 2 and peaks[0] == (0.0, max(p[1] for p in peaks))
    assert he_fisher_scoring(y, v, X, True) == pytest.approx(peaks[1][0], rel=1e-6)
    with pytest.warns(MultipleMaximaWarning):
        res = ek.meta_analysis(pd.DataFrame(REGRESSION), method="REML", mods=["x"])
    assert_global(res, y, v, X)
    assert res.r2 is not None  # the intercept-only fit behind R^2 runs quietly


@pytest.mark.parametrize("mods", [None, ["ablat"], ["ablat", "alloc"]])
@pytest.mark.parametrize("method", ["ML", "REML"])
def test_bcg_is_the_global_maximum(method, mods):
    dat = ek.effect_sizes(ek.load_dataset("dat.bcg"), measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MultipleMaximaWarning)  # ML with ablat + alloc has two maxima
        res = ek.meta_analysis(dat, method=method, mods=mods)
    assert_global(res, dat["yi"].to_numpy(), dat["vi"].to_numpy(), res.X, method == "REML")


def test_deworming_reml_is_the_boundary():
    """Welch et al. 2016: REML's global maximum is tau^2 = 0 (logLik 1.786) while Fisher scoring from
    metafor's start stops at the interior peak tau^2 = 0.0152 (logLik 1.634); metafor 3.8.1 also
    returns tau^2 = 0 here, with a warning (it resets to 0 when the boundary is higher)."""
    es = deworming()
    y, v = es["yi"].to_numpy(), es["vi"].to_numpy()
    assert len(es) == 11
    peaks = brute_maxima(y, v)
    assert [round(t, 4) for t, _ in peaks] == [0.0, 0.0152]
    assert [round(ll, 3) for _, ll in peaks] == [1.786, 1.634]
    with pytest.warns(MultipleMaximaWarning) as rec:
        res = ek.meta_analysis(es, method="REML")
    assert res.tau2 == 0.0 and round(res.estimate, 4) == 0.0241 and round(res.ll, 3) == 1.786
    assert_global(res, y, v)
    text = str(rec[0].message)
    assert "tau^2 = 0 (logLik 1.7863)" in text and "tau^2 = 0.0151734 (logLik 1.6339)" in text
    # what builds on the fit inherits the right answer and does not crash
    tf = ek.trim_and_fill(res)
    assert tf.k0 >= 0 and np.isfinite(tf.estimate)
    ek.egger_test(res)


# ---------------------------------------------------------------------------------------------
# the other paths: batch, permutation, leave-one-out, cumulative, influence


def test_batch_gives_every_group_its_global_maximum():
    rows = []
    for name, case in {"boundary": BOUNDARY, "two": TWO_INTERIOR}.items():
        rows += [{"g": name, "yi": y, "vi": v} for y, v in zip(case["yi"], case["vi"], strict=True)]
    es = deworming()
    rows += [{"g": "deworming", "yi": y, "vi": v} for y, v in zip(es["yi"], es["vi"], strict=True)]
    dat = pd.DataFrame(rows)
    with pytest.warns(MultipleMaximaWarning, match="3 group\\(s\\) have more than one local maximum"):
        out = ek.meta_analysis_batch(dat, by="g", method="REML").set_index("g")
    for g in ("boundary", "two", "deworming"):
        sub = dat[dat.g == g]
        t_star, _ = brute_global(sub.yi.to_numpy(), sub.vi.to_numpy())
        assert out.loc[g, "tau2"] == pytest.approx(t_star, rel=1e-6, abs=1e-9), g
        assert out.loc[g, "converged"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MultipleMaximaWarning)
            single = ek.meta_analysis(sub, method="REML")
        assert out.loc[g, "estimate"] == pytest.approx(single.estimate, rel=1e-10)
        assert out.loc[g, "se_tau2"] == pytest.approx(single.se_tau2, rel=1e-8)


@pytest.mark.parametrize("case", [BOUNDARY, TWO_INTERIOR])
def test_permutation_refits_are_global_maxima(case):
    y, v = np.array(case["yi"]), np.array(case["vi"])
    rng = np.random.default_rng(7)
    signs = rng.choice([-1.0, 1.0], size=(40, len(y)))
    signs[0] = 1
    z, _ = _fit_many(signs * y, np.ones((len(y), 1)), v, "REML", "z")
    for b in range(40):
        yb = signs[b] * y
        t_star, _ = brute_global(yb, v)
        w = 1 / (v + t_star)
        assert z[b, 0] == pytest.approx(np.sum(w * yb) / np.sqrt(np.sum(w)), rel=1e-6), b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MultipleMaximaWarning)
        res = ek.meta_analysis(None, y, v, method="REML")
    out = ek.permutation_test(res, 200, seed=1)
    assert out.statistic_permuted[0, 0] == pytest.approx(res.statistic, rel=1e-10)


def test_leave_one_out_cumulative_influence_use_the_global_maximum():
    es = deworming()
    y, v = es["yi"].to_numpy(), es["vi"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MultipleMaximaWarning)
        res = ek.meta_analysis(es, method="REML")
    with pytest.warns(MultipleMaximaWarning, match="leave_one_out: in \\d+ refit"):
        loo = ek.leave_one_out(res)
    with pytest.warns(MultipleMaximaWarning, match="cumulative: in \\d+ refit"):
        cum = ek.cumulative(res)
    with pytest.warns(MultipleMaximaWarning, match="influence: in \\d+ refit"):
        inf = ek.influence(res)
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        t_star, _ = brute_global(y[keep], v[keep])
        assert loo["tau2"].iloc[i] == pytest.approx(t_star, rel=1e-6, abs=1e-9), i
        assert inf["tau2_del"].iloc[i] == pytest.approx(t_star, rel=1e-6, abs=1e-9), i
    for j in range(2, len(y) + 1):
        t_star, _ = brute_global(y[:j], v[:j])
        assert cum["tau2"].iloc[j - 1] == pytest.approx(t_star, rel=1e-6, abs=1e-9), j


# ---------------------------------------------------------------------------------------------
# never worse than brute force


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), k=st.integers(3, 9), method=st.sampled_from(["ML", "REML"]),
       with_mod=st.booleans())
def test_never_below_the_brute_force_maximum(seed, k, method, with_mod):
    """Random small sets with two outlying small studies (where two peaks are common)."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.005, 0.05, k)
    y = rng.normal(0, np.sqrt(v))
    v[:2] = rng.uniform(0.02, 0.6, 2)
    y[:2] = rng.uniform(0.3, 2.0, 2) * rng.choice([-1, 1], 2)
    x = rng.uniform(0, 10, k)
    X = np.column_stack([np.ones(k), x]) if with_mod and k > 3 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MultipleMaximaWarning)
        res = ek.meta_analysis(None, y, v, method=method, mods=None if X is None else x[:, None])
    t_star, ll_star = brute_global(y, v, X, method == "REML")
    assert res.converged
    assert res.ll >= ll_star - 1e-9 * max(1.0, abs(ll_star))
    assert res.tau2 == pytest.approx(t_star, rel=1e-5, abs=1e-8)


# ---------------------------------------------------------------------------------------------
# what metafor does on the same data (tests/reference/synthesis_two_peaks.R)


def test_metafor_on_the_two_peak_sets():
    """Where the boundary is the global maximum metafor resets tau^2 to 0 with a warning and agrees
    with us; with two interior peaks it keeps the lower one without a word (KNOWN_DIVERGENCES)."""
    from conftest import load_reference
    from tolerances import ITERATIVE_ATOL, ITERATIVE_RTOL, KNOWN_DIVERGENCES

    ref = load_reference("synthesis_two_peaks")["cases"]
    sets = {"boundary/REML": (BOUNDARY, "REML", None), "regression/REML": (REGRESSION, "REML", ["x"]),
            "ml_boundary/ML": (ML_BOUNDARY, "ML", None), "two_interior/REML": (TWO_INTERIOR, "REML", None)}
    es = deworming().reset_index()
    for case_id, case in ref.items():
        if case_id.startswith("welch2016"):
            data, method, mods = es, "REML", None
        else:
            data, method, mods = sets[case_id]
            data = pd.DataFrame(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MultipleMaximaWarning)
            res = ek.meta_analysis(data, method=method, mods=mods)
        X = None if mods is None else res.X
        t_star, ll_star = brute_global(data["yi"].to_numpy(), data["vi"].to_numpy(), X, method == "REML")
        assert res.tau2 == pytest.approx(t_star, rel=1e-6, abs=1e-9)
        if f"two_peaks:{case_id}" in KNOWN_DIVERGENCES:
            assert case["warnings"] == []  # metafor says nothing
            assert res.tau2 != pytest.approx(case["tau2"], rel=1e-3)
            assert res.ll > case["ll"] + 1e-3  # ours is higher: metafor stopped at the lower peak
        else:
            assert case["tau2"] == 0.0 and "local maximum" in case["warnings"][0]
            assert res.tau2 == 0.0
            np.testing.assert_allclose(res.coefficients["estimate"], case["beta"], rtol=ITERATIVE_RTOL,
                                       atol=ITERATIVE_ATOL)
            assert res.ll == pytest.approx(case["ll"], rel=ITERATIVE_RTOL)
