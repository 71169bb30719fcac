"""CHE working model (rma.mv with V from vcalc, random = ~ 1 | study/esid) against metafor and
clubSandwich CR2 (tests/reference/models.R, section 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from models_ref import CASES, cases_with, dataset
from tolerances import CLOSED_FORM_RTOL, ITERATIVE_ATOL, ITERATIVE_RTOL, KNOWN_DIVERGENCES

import evidence_kit as ek
from evidence_kit.synthesis.che import che_model, che_sensitivity
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis
from evidence_kit.synthesis.vcalc import vcalc

CLOSE = {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}
FLAT = {"rtol": 1e-5, "atol": 1e-8}  # KNOWN_DIVERGENCES: flat likelihoods


def _close(case_id):
    return FLAT if case_id in KNOWN_DIVERGENCES else CLOSE

# case id -> (dataset, V cluster, obs, levels, mods, method, Wald terms)
GRID = {}
for m in ("REML", "ML"):
    GRID[f"che/assink2016_rho0.6_{m}"] = ("assink2016", "study", "esid", None, m, None)
    GRID[f"che/assink2016_deltype_rho0.6_{m}"] = ("assink2016", "study", "esid", "~ deltype", m,
                                                 ["deltypegeneral", "deltypeovert"])
    GRID[f"che/konstantopoulos2011_rho0.6_{m}"] = ("konstantopoulos2011", "district", "school",
                                                   None, m, None)
    GRID[f"che/konstantopoulos2011_year_rho0.6_{m}"] = ("konstantopoulos2011", "district",
                                                        "school", "~ year", m, ["year"])
SENSITIVITY = "che/assink2016_rho_sensitivity_REML"


def test_reference_grid_complete():
    assert cases_with("che/") == set(GRID) | {SENSITIVITY}


def _fit(case_id):
    name, cluster, obs, mods, method, _ = GRID[case_id]
    dat = dataset(name)
    # metafor's vcalc(obs = study) for konstantopoulos2011: "study" is the school id
    V = vcalc(dat, "vi", cluster, obs="study" if name == "konstantopoulos2011" else obs, rho=0.6)
    return dat, multilevel_meta_analysis(dat, levels=[cluster, obs], mods=mods, method=method, V=V)


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_model_matches_metafor(case_id):
    ref = CASES[case_id]
    _, res = _fit(case_id)
    CLOSE = _close(case_id)
    assert res.converged
    assert list(res.term_names)[1:] == ref["terms"][1:]
    np.testing.assert_allclose(res.sigma2, ref["sigma2"], **CLOSE)
    coef = res.coefficients
    for ours, theirs in (("estimate", "beta"), ("se", "se"), ("statistic", "zval"),
                         ("pvalue", "pval"), ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub")):
        np.testing.assert_allclose(coef[ours], ref[theirs], **CLOSE)
    np.testing.assert_allclose(res.vb, ref["vb"], **CLOSE)
    np.testing.assert_allclose(res.ll, ref["fit"]["logLik"], rtol=1e-10)
    np.testing.assert_allclose(res.q, ref["QE"], rtol=CLOSED_FORM_RTOL)
    if ref["QM"] is not None and res.qm is not None:
        np.testing.assert_allclose(res.qm, ref["QM"], **CLOSE)
    fs = res.fitstats()
    for key in ("logLik", "deviance", "AIC", "BIC", "AICc"):
        np.testing.assert_allclose(fs[key], ref["fit"]["fitstats"][key], rtol=1e-9)


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_robust_matches_clubsandwich(case_id):
    ref = CASES[case_id]["robust"]
    _, res = _fit(case_id)
    CLOSE = _close(case_id)
    cr2 = ek.robust(res, res.levels[0], small_sample="CR2")
    assert cr2.n_clusters == ref["n_clusters"]
    coef = cr2.coefficients
    np.testing.assert_allclose(cr2.vb, ref["cr2"]["vb"], **CLOSE)
    np.testing.assert_allclose(coef["se"], ref["cr2"]["se"], **CLOSE)
    np.testing.assert_allclose(coef["statistic"], ref["cr2"]["tstat"], **CLOSE)
    np.testing.assert_allclose(coef["df"], ref["cr2"]["df"], **CLOSE)
    np.testing.assert_allclose(coef["pvalue"], ref["cr2"]["pval"], **CLOSE)
    np.testing.assert_allclose(coef["ci_lower"], ref["cr2"]["ci_lb"], **CLOSE)
    np.testing.assert_allclose(coef["ci_upper"], ref["cr2"]["ci_ub"], **CLOSE)
    cr1 = ek.robust(res, res.levels[0], small_sample="CR1")
    np.testing.assert_allclose(cr1.coefficients["se"], ref["cr1"]["se"], **CLOSE)
    np.testing.assert_allclose(cr1.coefficients["pvalue"], ref["cr1"]["pval"], **CLOSE)
    terms = GRID[case_id][5]
    if terms:
        w = ek.wald_test(cr2, terms)
        np.testing.assert_allclose(w["F"], ref["cr2_wald"]["Fstat"], **CLOSE)
        np.testing.assert_allclose(w["df_denom"], ref["cr2_wald"]["df_denom"], **CLOSE)
        np.testing.assert_allclose(w["pvalue"], ref["cr2_wald"]["pval"], **CLOSE)


def test_che_model_is_the_recipe():
    """che_model = vcalc + multilevel_meta_analysis(V=) + robust(CR2) on the study clusters."""
    ref = CASES["che/assink2016_deltype_rho0.6_REML"]
    res = che_model(dataset("assink2016"), cluster="study", es_id="esid", rho=0.6,
                    mods="~ deltype")
    np.testing.assert_allclose(res.coefficients["se"], ref["robust"]["cr2"]["se"], **CLOSE)
    np.testing.assert_allclose(res.model.sigma2, ref["sigma2"], **CLOSE)
    assert res.rho == 0.6 and "rho = 0.6" in repr(res)


def test_sensitivity_matches_clubsandwich():
    ref = CASES[SENSITIVITY]
    tab = che_sensitivity(dataset("assink2016"), cluster="study", es_id="esid", rhos=ref["rho"])
    np.testing.assert_allclose(tab["estimate"], ref["beta"], **CLOSE)
    np.testing.assert_allclose(tab["sigma2_study"], ref["sigma2_study"], **CLOSE)
    np.testing.assert_allclose(tab["sigma2_esid"], ref["sigma2_esid"], **CLOSE)
    np.testing.assert_allclose(tab["se"], ref["cr2_se"], **CLOSE)
    np.testing.assert_allclose(tab["df"], ref["cr2_df"], **CLOSE)
    np.testing.assert_allclose(tab["pvalue"], ref["cr2_pval"], **CLOSE)
    np.testing.assert_allclose(tab["ci_lower"], ref["cr2_ci_lb"], **CLOSE)
    np.testing.assert_allclose(tab["ci_upper"], ref["cr2_ci_ub"], **CLOSE)


def test_rho_zero_and_diagonal_v_equal_the_plain_multilevel_model():
    dat = dataset("assink2016")
    plain = multilevel_meta_analysis(dat, levels=["study", "esid"])
    che0 = multilevel_meta_analysis(dat, levels=["study", "esid"],
                                    V=vcalc(dat, "vi", "study", obs="esid", rho=0.0))
    # two optimisers (the nested Sherman-Morrison path and the block engine) on one surface
    np.testing.assert_allclose(che0.sigma2, plain.sigma2, rtol=1e-7)
    np.testing.assert_allclose(che0.coefficients["se"], plain.coefficients["se"], rtol=1e-8)
    np.testing.assert_allclose(che0.ll, plain.ll, rtol=1e-12)


def test_three_levels_with_v_inside_studies():
    """district / study / esid with V by study: the engine handles district by Sherman-Morrison
    and equals the dense computation."""
    rng = np.random.default_rng(5)
    n_d, n_s, n_e = 6, 4, 3
    k = n_d * n_s * n_e
    district = np.repeat(np.arange(n_d), n_s * n_e)
    study = np.repeat(np.arange(n_d * n_s), n_e)
    vi = rng.uniform(0.02, 0.1, k)
    yi = rng.normal(0.2, 0.3, k)
    dat = pd.DataFrame({"district": district, "study": study, "esid": np.arange(k) % n_e,
                        "yi": yi, "vi": vi})
    V = vcalc(dat, "vi", "study", obs="esid", rho=0.5)
    res = multilevel_meta_analysis(dat, levels=["district", "study", "esid"], V=V)
    s = res.sigma2
    M = V.toarray() + s[0] * (district[:, None] == district) + s[1] * (study[:, None] == study) \
        + s[2] * np.eye(k)
    W = np.linalg.inv(M)
    X = np.ones((k, 1))
    vb = np.linalg.inv(X.T @ W @ X)
    b = vb @ X.T @ W @ yi
    np.testing.assert_allclose(res.estimate, b[0], rtol=1e-10)
    np.testing.assert_allclose(res.se, np.sqrt(vb[0, 0]), rtol=1e-10)
    dw = np.diag(W)  # metafor weights.rma.mv: 100 diag(M^-1) / sum
    np.testing.assert_allclose(res.weights, 100 * dw / dw.sum(), rtol=1e-10)
    e = yi - b[0]
    ll = (-0.5 * (k - 1) * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(M)[1]
          - 0.5 * np.linalg.slogdet(X.T @ W @ X)[1] + 0.5 * np.log(k) - 0.5 * e @ W @ e)
    np.testing.assert_allclose(res.ll, ll, rtol=1e-10)
