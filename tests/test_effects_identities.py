"""Identities for effect sizes and the special functions behind them (property tests included)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats
from tolerances import CLOSED_FORM_RTOL

import evidence_kit as ek
from evidence_kit import conversions as cv
from evidence_kit.effects._special import hyp2f1

BCG = dict(ai="tpos", bi="tneg", ci="cpos", di="cneg")


def test_zcor_back_transforms_to_cor():
    mol = ek.load_dataset("dat.molloy2014")
    z = ek.effect_sizes(mol, "ZCOR", ri="ri", ni="ni")
    r = ek.effect_sizes(mol, "COR", ri="ri", ni="ni")
    np.testing.assert_allclose(np.tanh(z["yi"]), r["yi"], rtol=1e-14)
    np.testing.assert_allclose(z["vi"], 1 / (mol["ni"] - 3), rtol=1e-14)


def test_zpcor_back_transforms_to_pcor():
    aloe = ek.load_dataset("dat.aloe2013")
    cols = dict(ti="tval", ni="n", mi="preds")
    z = ek.effect_sizes(aloe, "ZPCOR", **cols)
    r = ek.effect_sizes(aloe, "PCOR", **cols)
    np.testing.assert_allclose(np.tanh(z["yi"]), r["yi"], rtol=1e-13)
    # the partial r is the t statistic on its residual df: t = r sqrt(df / (1 - r^2))
    df = aloe["n"] - aloe["preds"] - 1
    np.testing.assert_allclose(r["yi"] * np.sqrt(df / (1 - r["yi"] ** 2)), aloe["tval"], rtol=1e-12)


def test_smd_equals_exact_j_times_d_from_t():
    """Hedges' g from summary data equals c(m) times d recovered from the t statistic."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(0.5, 2, 14), rng.normal(0, 2, 19)
    out = ek.effect_sizes(measure="SMD", m1i=[x.mean()], m2i=[y.mean()], sd1i=[x.std(ddof=1)],
                          sd2i=[y.std(ddof=1)], n1i=[14], n2i=[19])
    m = 31
    cm = special.gamma(m / 2) / (np.sqrt(m / 2) * special.gamma((m - 1) / 2))
    d = cv.d_from_t(stats.ttest_ind(x, y).statistic, 14, 19)
    assert out["yi"][0] == pytest.approx(cm * d, rel=1e-10)
    # the same g from the t statistic alone (metafor's ti argument)
    from_t = ek.effect_sizes(measure="SMD", ti=[stats.ttest_ind(x, y).statistic], n1i=[14], n2i=[19])
    assert from_t["yi"][0] == pytest.approx(out["yi"][0], rel=1e-10)
    assert from_t["vi"][0] == pytest.approx(out["vi"][0], rel=1e-10)
    # the exact correction is close to Hedges' approximation J = 1 - 3/(4m - 1)
    assert cm == pytest.approx(cv.hedges_correction(m), rel=1e-4)


def test_swapping_groups_negates_ratio_measures():
    bcg = ek.load_dataset("dat.bcg")
    swapped = dict(ai="cpos", bi="cneg", ci="tpos", di="tneg")
    for measure in ("OR", "RR", "RD", "PETO"):
        a = ek.effect_sizes(bcg, measure, **BCG)
        b = ek.effect_sizes(bcg, measure, **swapped)
        np.testing.assert_allclose(a["yi"], -b["yi"], rtol=1e-12)
        np.testing.assert_allclose(a["vi"], b["vi"], rtol=1e-12)
    # events <-> non-events negates the log odds ratio too
    a = ek.effect_sizes(bcg, "OR", **BCG)
    b = ek.effect_sizes(bcg, "OR", ai="tneg", bi="tpos", ci="cneg", di="cpos")
    np.testing.assert_allclose(a["yi"], -b["yi"], rtol=1e-12, atol=1e-13)  # log(x) - log(y) near 0


def test_proportion_transforms_agree():
    pri = ek.load_dataset("dat.pritz1997")
    pri = pri[(pri["xi"] > 0) & (pri["xi"] < pri["ni"])]  # no continuity correction involved
    p = ek.effect_sizes(pri, "PR", xi="xi", ni="ni")["yi"]
    np.testing.assert_allclose(ek.effect_sizes(pri, "PLO", xi="xi", ni="ni")["yi"], special.logit(p), rtol=1e-12)
    np.testing.assert_allclose(ek.effect_sizes(pri, "PLN", xi="xi", ni="ni")["yi"], np.log(p), rtol=1e-12)
    np.testing.assert_allclose(ek.effect_sizes(pri, "PAS", xi="xi", ni="ni")["yi"], np.arcsin(np.sqrt(p)), rtol=1e-12)


def test_n1i_n2i_form_equals_four_cells():
    bcg = ek.load_dataset("dat.bcg")
    bcg = bcg.assign(n1=bcg["tpos"] + bcg["tneg"], n2=bcg["cpos"] + bcg["cneg"])
    for measure in ("OR", "RR", "RD", "PETO"):
        a = ek.effect_sizes(bcg, measure, **BCG)
        b = ek.effect_sizes(bcg, measure, ai="tpos", n1i="n1", ci="cpos", n2i="n2")
        pd.testing.assert_frame_equal(a, b.drop(columns=[]), check_exact=False, rtol=1e-14)


def test_smcr_equals_smcc_when_change_sd_equals_pre_sd():
    """With sd2 = sd1 and r = 1/2 the SD of the change scores equals sd1, so SMCC = SMCR."""
    kw = dict(m1i=[12.0, 5.0], m2i=[10.0, 5.5], sd1i=[3.0, 1.0], ni=[25, 40], ri=[0.5, 0.5])
    a = ek.effect_sizes(measure="SMCC", sd2i=[3.0, 1.0], **kw)
    b = ek.effect_sizes(measure="SMCR", **kw)
    np.testing.assert_allclose(a["yi"], b["yi"], rtol=1e-14)


def test_vtype_per_row_equals_separate_runs():
    nor = ek.load_dataset("dat.normand1999")
    cols = dict(m1i="m1i", m2i="m2i", sd1i="sd1i", sd2i="sd2i", n1i="n1i", n2i="n2i")
    ls = ek.effect_sizes(nor, "SMD", vtype="LS", **cols)["vi"].to_numpy()
    ub = ek.effect_sizes(nor, "SMD", vtype="UB", **cols)["vi"].to_numpy()
    mixed = np.where(np.arange(len(nor)) % 2 == 0, "LS", "UB")
    got = ek.effect_sizes(nor, "SMD", vtype=list(mixed), **cols)["vi"].to_numpy()
    np.testing.assert_array_equal(got, np.where(mixed == "LS", ls, ub))


def test_ucor_hard_case_scipy_nan():
    """scipy's hyp2f1 gives NaN at a = b = 1/2, c = 162, z = 0.9975; ours matches quadrature."""
    assert np.isnan(special.hyp2f1(0.5, 0.5, 162.0, 0.9975))
    val = float(hyp2f1(0.5, 0.5, 162.0, 0.9975))
    assert val == pytest.approx(_quad(0.5, 0.5, 162.0, 0.9975), rel=1e-10)
    out = ek.effect_sizes(measure="UCOR", ri=[np.sqrt(1 - 0.9975)], ni=[326])
    assert out["yi"][0] == pytest.approx(np.sqrt(1 - 0.9975) * val, rel=CLOSED_FORM_RTOL)


def _quad(a, b, c, z):
    f = lambda t: t ** (b - 1) * (1 - t) ** (c - b - 1) * (1 - z * t) ** (-a)  # noqa: E731
    val = integrate.quad(f, 0, 1, epsabs=0, epsrel=1e-13, limit=1000, points=[0.5])[0]
    return val * np.exp(special.gammaln(c) - special.gammaln(b) - special.gammaln(c - b))


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # the oracle's; checked to 1e-9
@settings(max_examples=40, deadline=None)
@given(
    ab=st.sampled_from([(0.5, 0.5), (1.0, 1.0)]),
    n=st.integers(min_value=5, max_value=400),
    r=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)
def test_hyp2f1_matches_quadrature(ab, n, r):
    a, b = ab
    c = (n - 2) / 2 if a == 0.5 else n / 2
    z = 1 - r**2
    assert float(hyp2f1(a, b, c, z)) == pytest.approx(_quad(a, b, c, z), rel=1e-9)


def test_hyp2f1_agrees_with_scipy_where_scipy_is_finite():
    c = np.repeat([2.5, 3.0, 7.5, 20.0, 99.0], 6)
    z = np.tile([0.0, 0.2, 0.5, 0.8, 0.95, 0.999], 5)
    ours, theirs = hyp2f1(0.5, 0.5, c, z), special.hyp2f1(0.5, 0.5, c, z)
    ok = np.isfinite(theirs)
    assert ok.sum() >= 25
    np.testing.assert_allclose(ours[ok], theirs[ok], rtol=1e-12)
    assert np.isnan(hyp2f1(0.5, 0.5, [1.0, np.nan], [0.5, 0.5])).all()  # c <= a + b, NaN c


@settings(max_examples=40, deadline=None)
@given(d=st.floats(min_value=-4, max_value=4, allow_nan=False), method=st.sampled_from(["logistic", "cox"]))
def test_d_r_log_or_chain_round_trip(d, method):
    back = cv.r_to_d(cv.d_to_r(cv.log_or_to_d(cv.d_to_log_or(d, method), method)))
    assert back == pytest.approx(d, rel=1e-9, abs=1e-12)


sizes = st.integers(min_value=2, max_value=300)
means = st.floats(min_value=-50, max_value=50, allow_nan=False)
sds = st.floats(min_value=0.1, max_value=20, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(n=st.tuples(sizes, sizes, sizes), m=st.tuples(means, means, means), s=st.tuples(sds, sds, sds))
def test_combine_groups_is_associative(n, m, s):
    """Cochrane Table 6.5.a applied in either order gives the same three-group summary."""
    ab = cv.combine_groups(n[0], m[0], s[0], n[1], m[1], s[1])
    left = cv.combine_groups(*ab, n[2], m[2], s[2])
    bc = cv.combine_groups(n[1], m[1], s[1], n[2], m[2], s[2])
    right = cv.combine_groups(n[0], m[0], s[0], *bc)
    assert left.n == right.n
    assert left.mean == pytest.approx(right.mean, rel=1e-10, abs=1e-10)
    assert left.sd == pytest.approx(right.sd, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n1=st.integers(2, 60), n2=st.integers(2, 60))
def test_combining_then_splitting_recovers_the_parts(seed, n1, n2):
    """Split a sample into two parts; combining their summaries gives the whole sample, and
    the second part's mean and SD follow back from the whole and the first part."""
    x = np.random.default_rng(seed).normal(10, 3, n1 + n2)
    a, b = x[:n1], x[n1:]
    whole = cv.combine_groups(n1, a.mean(), a.std(ddof=1), n2, b.mean(), b.std(ddof=1))
    assert whole.mean == pytest.approx(x.mean(), rel=1e-12)
    assert whole.sd == pytest.approx(x.std(ddof=1), rel=1e-10)
    m2 = (whole.n * whole.mean - n1 * a.mean()) / n2
    ss2 = (whole.n - 1) * whole.sd**2 - (n1 - 1) * a.var(ddof=1) - n1 * n2 / whole.n * (a.mean() - m2) ** 2
    assert m2 == pytest.approx(b.mean(), rel=1e-9)
    assert np.sqrt(ss2 / (n2 - 1)) == pytest.approx(b.std(ddof=1), rel=1e-6)
