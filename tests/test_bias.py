"""Publication-bias tools against metafor fixtures (tests/reference/bias.R): regtest, ranktest,
trimfill, fsn and tes on dat.hackshaw1998, dat.egger2001 and dat.bcg; identities; bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from tolerances import CLOSED_FORM_RTOL, ITERATIVE_ATOL, ITERATIVE_RTOL, KNOWN_DIVERGENCES

import evidence_kit as ek
from evidence_kit.bias import (
    egger_test,
    excess_significance_test,
    fail_safe_n,
    pet_peese,
    rank_test,
    trim_and_fill,
)

REF = load_reference("bias")["cases"]
DATA = REF["data"]
CLOSE = {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}
DATASETS = ("hackshaw1998", "egger2001", "bcg")


def frame(name: str) -> pd.DataFrame:
    d = DATA[name]
    return pd.DataFrame({key: d[key] for key in ("yi", "vi", "ni", "ablat") if key in d})


def model(name: str, method: str = "REML", test: str = "z", mods=None):
    return ek.meta_analysis(frame(name), method=method, test=test, mods=mods)


def test_reference_grid_complete():
    expected_reg = {f"{d}_{m}_sei" for d in DATASETS for m in ("REML", "EE", "DL")}
    expected_reg |= {f"{d}_{s}" for d in DATASETS
                     for s in ("REML_vi", "lm_sei", "lm_vi", "REML_sei_knha")}
    expected_reg |= {f"{d}_REML_{p}" for d in ("egger2001", "bcg") for p in ("ni", "ninv", "sqrtninv")}
    expected_reg |= {"bcg_REML_ablat_sei", "bcg_lm_ablat_sei"}
    assert set(REF["regtest"]) == expected_reg
    assert set(REF["ranktest"]) == set(DATASETS) | {"hackshaw1998_normal"}
    expected_tf = {f"{d}_{m}_{e}" for d in DATASETS for m in ("REML", "EE", "DL") for e in ("L0", "R0")}
    expected_tf |= {"bcg_REML_L0_left", "bcg_REML_L0_right", "hackshaw1998_REML_L0_knha"}
    assert set(REF["trimfill"]) == expected_tf
    expected_fsn = {f"{d}_{t}" for d in DATASETS for t in ("Rosenthal", "Orwin", "Rosenberg",
                                                           "Orwin_weighted_target",
                                                           "Rosenthal_alpha01")}
    assert set(REF["fsn"]) == expected_fsn
    assert set(REF["tes"]) == {f"{d}_{m}" for d in DATASETS for m in ("EE", "REML")}


# ---- Egger's regression test ------------------------------------------------------------------

@pytest.mark.parametrize("case_id", sorted(REF["regtest"]))
def test_egger_matches_regtest(case_id):
    ref = REF["regtest"][case_id]
    dat = frame(ref["data"])
    res = model(ref["data"], ref["method"], ref["test"], ["ablat"] if ref["mods"] else None)
    ni = dat["ni"].to_numpy() if "ni" in dat else None
    out = egger_test(res, ref["predictor"], model=ref["model"], ni=ni)
    tol = CLOSE if ref["method"] == "REML" else {"rtol": CLOSED_FORM_RTOL, "atol": 1e-12}
    np.testing.assert_allclose(out.statistic, ref["zval"], **tol)
    np.testing.assert_allclose(out.pvalue, ref["pval"], **tol)
    if ref["dfs"] is not None:
        assert out.df == ref["dfs"]
    if ref["est"] is None:
        assert math.isnan(out.limit_estimate)
    else:
        np.testing.assert_allclose(out.limit_estimate, ref["est"], **tol)
        np.testing.assert_allclose([out.ci_lower, out.ci_upper], [ref["ci_lb"], ref["ci_ub"]], **tol)


def test_pet_peese_equal_regtest_lm_limit_estimates():
    """Identity: PET and PEESE intercepts are regtest(model = "lm") limit estimates."""
    for d in DATASETS:
        out = pet_peese(model(d, "EE"))
        for row, pred in (("PET", "sei"), ("PEESE", "vi")):
            ref = REF["regtest"][f"{d}_lm_{pred}"]
            np.testing.assert_allclose(out.loc[row, "estimate"], ref["est"], rtol=CLOSED_FORM_RTOL)
            np.testing.assert_allclose(out.loc[row, "ci_lower"], ref["ci_lb"], rtol=CLOSED_FORM_RTOL)
        assert out["selected"].sum() == 1
        assert out.loc["PEESE", "selected"] == (out.loc["PET", "pvalue"] < 0.10)


def test_egger_lm_is_weighted_regression_of_standard_normal_deviate():
    """Identity (Egger et al. 1997): regressing y/se on 1/se by OLS gives the same test of
    asymmetry (the OLS intercept is the WLS slope on se)."""
    dat = frame("hackshaw1998")
    sei = np.sqrt(dat.vi.to_numpy())
    snd, prec = dat.yi.to_numpy() / sei, 1 / sei
    X = np.column_stack([np.ones_like(prec), prec])
    beta, *_ = np.linalg.lstsq(X, snd, rcond=None)
    r = snd - X @ beta
    cov = np.linalg.inv(X.T @ X) * (r @ r) / (len(snd) - 2)
    out = egger_test(model("hackshaw1998", "EE"), model="lm")
    np.testing.assert_allclose(out.statistic, beta[0] / np.sqrt(cov[0, 0]), rtol=1e-10)
    np.testing.assert_allclose(out.limit_estimate, beta[1], rtol=1e-10)


# ---- rank correlation -------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", sorted(REF["ranktest"]))
def test_rank_test_matches_ranktest(case_id):
    ref = REF["ranktest"][case_id]
    out = rank_test(model(ref["data"]), exact=not case_id.endswith("_normal"))
    np.testing.assert_allclose(out.tau, ref["tau"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(out.pvalue, ref["pval"], rtol=1e-7)


# ---- trim and fill ----------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", sorted(REF["trimfill"]))
def test_trim_and_fill_matches_trimfill(case_id):
    ref = REF["trimfill"][case_id]
    side = ref["side"] if case_id.endswith(("_left", "_right")) else None
    test = "knha" if case_id.endswith("_knha") else "z"
    out = trim_and_fill(model(ref["data"], ref["method"], test), estimator=ref["estimator"],
                        side=side)
    assert isinstance(out, ek.MetaResult)
    assert (out.k0, out.side, out.k) == (ref["k0"], ref["side"], ref["k"])
    np.testing.assert_allclose(out.se_k0, ref["se_k0"], rtol=1e-10)
    if ref["p_k0"] is not None:
        np.testing.assert_allclose(out.p_k0, ref["p_k0"], rtol=1e-12)
    np.testing.assert_array_equal(out.filled, ref["fill"])
    tol = CLOSE if ref["method"] == "REML" else {"rtol": CLOSED_FORM_RTOL, "atol": 1e-12}
    np.testing.assert_allclose(out.yi, ref["yi"], **tol)
    np.testing.assert_allclose(out.vi, ref["vi"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(out.estimate, ref["beta"], **tol)
    np.testing.assert_allclose(out.se, ref["se"], **tol)
    np.testing.assert_allclose([out.ci_lower, out.ci_upper], [ref["ci_lb"], ref["ci_ub"]], **tol)
    np.testing.assert_allclose(out.tau2, ref["tau2"], **tol)
    np.testing.assert_allclose(out.q, ref["QE"], **tol)


def test_trim_and_fill_labels_and_mirror():
    res = model("egger2001", "EE")
    out = trim_and_fill(res)
    assert list(out.slab[-out.k0:]) == [f"Filled {i + 1}" for i in range(out.k0)]
    assert out.filled.sum() == out.k0 and not out.filled[: res.k].any()
    # the filled effects mirror observed ones about the trimmed estimate: each filled y equals
    # 2 b - y for an observed y, with the same variance
    centre = np.unique(np.round((out.yi[res.k:][:, None] + res.yi[None, :]), 12))
    assert centre.size >= 1


# ---- fail-safe N ------------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", sorted(REF["fsn"]))
def test_fail_safe_n_matches_fsn(case_id):
    ref = REF["fsn"][case_id]
    dat = frame(ref["data"])
    kw = {}
    if case_id.endswith("_weighted_target"):
        kw = {"weighted": True, "target": 0.05}
    if case_id.endswith("_alpha01"):
        kw = {"alpha": 0.01}
    n = fail_safe_n(dat, "yi", "vi", method=ref["type"], **kw)
    assert n == ref["fsnum"]


def test_fail_safe_n_from_result_and_orwin_target_zero():
    res = model("bcg")
    assert fail_safe_n(res) == REF["fsn"]["bcg_Rosenthal"]["fsnum"]
    assert math.isinf(fail_safe_n(frame("bcg"), method="orwin", target=0.0))


# ---- test of excess significance --------------------------------------------------------------

@pytest.mark.parametrize("case_id", sorted(REF["tes"]))
def test_excess_significance_matches_tes(case_id):
    ref = REF["tes"][case_id]
    out = excess_significance_test(model(ref["data"], ref["method"]))
    assert out.observed == ref["O"] and out.test == ref["test"]
    # KNOWN_DIVERGENCES["tes_REML"]: metafor integrates the power over theta +- 5 tau only
    # (normal mass beyond: 5.7e-7); the closed form here is exact. EE cases: rounding only.
    tol = {"rtol": 1e-5, "atol": 1e-6} if ref["method"] == "REML" else {"rtol": 1e-9}
    assert ref["method"] == "EE" or "tes_REML" in KNOWN_DIVERGENCES
    np.testing.assert_allclose(out.power, ref["power"], **tol)
    np.testing.assert_allclose(out.expected, ref["E"], **tol)
    np.testing.assert_allclose(out.pvalue, ref["pval"], **tol)
    if ref["X2"] is not None:
        np.testing.assert_allclose(out.statistic, ref["X2"], **tol)
    # metafor finds theta_lim with uniroot's default tolerance, eps^0.25 = 1.2e-4 absolute
    np.testing.assert_allclose(out.theta_lim, ref["theta_lim"], rtol=0, atol=1.3e-4)


def test_tes_power_divergence_is_only_metafor_truncation():
    """Integrating our power integrand over theta +- 5 tau, as metafor does, reproduces its power
    to 1e-9: the REML difference is the truncated tails, nothing else."""
    from scipy import integrate, stats

    ref = REF["tes"]["bcg_REML"]
    res = model("bcg")
    tau, theta, crit = np.sqrt(res.tau2), res.estimate, stats.norm.isf(0.025)
    sei = np.sqrt(res.vi)
    trunc = [integrate.quad(lambda x, s=s: (stats.norm.sf(crit - x / s) + stats.norm.cdf(-crit - x / s))
                            * stats.norm.pdf(x, theta, tau), theta - 5 * tau, theta + 5 * tau,
                            epsabs=1e-14, epsrel=1e-12)[0] for s in sei]
    np.testing.assert_allclose(trunc, ref["power"], rtol=1e-8)


def test_poisson_binomial_exact_matches_enumeration():
    from itertools import product

    from evidence_kit.bias.small_study import _poisson_binomial

    pw = np.array([0.1, 0.5, 0.8, 0.3, 0.65])
    brute = np.zeros(6)
    for bits in product([0, 1], repeat=5):
        b = np.array(bits)
        brute[b.sum()] += np.prod(np.where(b == 1, pw, 1 - pw))
    np.testing.assert_allclose(_poisson_binomial(pw), brute, rtol=1e-12)


# ---- bad input --------------------------------------------------------------------------------

def test_too_few_studies_and_moderators():
    small = ek.meta_analysis(yi=[0.1, 0.3], vi=[0.01, 0.02])
    for fn in (egger_test, rank_test, trim_and_fill, pet_peese):
        with pytest.raises(ValueError, match="at least 3 studies; the model has k = 2"):
            fn(small)
    three = ek.meta_analysis(yi=[0.1, 0.3, 0.2], vi=[0.01, 0.02, 0.03], mods=np.array([1.0, 2, 4]))
    with pytest.raises(ValueError, match="more than 3 studies"):
        egger_test(three)
    meta_reg = model("bcg", mods=["ablat"])
    for fn in (rank_test, trim_and_fill, pet_peese):
        with pytest.raises(ValueError, match="without moderators"):
            fn(meta_reg)
    with pytest.raises(ValueError, match="needs the sample sizes"):
        egger_test(model("bcg"), "ninv")
    with pytest.raises(ValueError, match="constant or collinear"):
        egger_test(ek.meta_analysis(yi=[0.1, 0.3, 0.2, 0.5], vi=[0.02] * 4))
    with pytest.raises(ValueError, match="unknown predictor 'se'"):
        egger_test(model("bcg"), "se")
    with pytest.raises(ValueError, match="unknown method 'fisher'"):
        fail_safe_n(frame("bcg"), method="fisher")
    with pytest.raises(TypeError, match="takes a MetaResult"):
        egger_test(frame("bcg"))


def test_funnel_plot_draws_filled_studies_as_open_circles():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = trim_and_fill(model("egger2001", "EE"))
    ax = ek.funnel_plot(out)
    filled = [c for c in ax.collections if c.get_label() == "filled studies"]
    assert len(filled) == 1 and filled[0].get_offsets().shape[0] == out.k0
    np.testing.assert_allclose(filled[0].get_facecolors()[0], [1, 1, 1, 1])
    plt.close(ax.figure)


def test_trim_and_fill_is_mirror_symmetric():
    """Identity: filling on the right of y is filling on the left of -y, mirrored."""
    dat = frame("bcg")
    right = trim_and_fill(ek.meta_analysis(dat), side="right")
    left = trim_and_fill(ek.meta_analysis(dat.assign(yi=-dat.yi)), side="left")
    assert right.k0 == left.k0 == 1
    np.testing.assert_allclose(right.estimate, -left.estimate, rtol=1e-8)
    np.testing.assert_allclose(right.yi, -left.yi, rtol=1e-8)
