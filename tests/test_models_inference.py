"""Profile likelihoods and PL CIs, anova (Wald btt / L, LRT), fit statistics, formulas, BLUPs and
residuals against metafor (tests/reference/models.R, sections 4 and 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from models_ref import CASES, block_v, cases_with, dataset
from tolerances import CLOSED_FORM_RTOL, ITERATIVE_ATOL, ITERATIVE_RTOL, KNOWN_DIVERGENCES

import evidence_kit as ek
from evidence_kit.synthesis.compare import anova, fit_statistics
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis

CLOSE = {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}
# metafor's confint() solves for the bounds with uniroot(tol = 1e-10) on top of refits at
# rel.tol 1e-12: the bounds agree to ~1e-8 relative
CI = {"rtol": 1e-6, "atol": 1e-9}
FIT_KEYS = ("logLik", "deviance", "AIC", "BIC", "AICc")


def bcg() -> pd.DataFrame:
    return dataset("bcg")


def uni(mods=None, method="REML", test="z"):
    return ek.meta_analysis(bcg(), method=method, mods=mods, test=test)


def kon(method="REML", **kw):
    return multilevel_meta_analysis(dataset("konstantopoulos2011"), levels=["district", "school"],
                                    method=method, **kw)


def asn_che(mods=None):
    return multilevel_meta_analysis(dataset("assink2016"), levels=["study", "esid"], mods=mods,
                                     V=block_v("vcalc/assink2016_obs_rho0.6"))


# ----- profile likelihoods ---------------------------------------------------------------------
PROFILE = {f"profile/{d}_{m}" for d in ("bcg", "bangertdrowns2004", "konstantopoulos2011")
           for m in ("REML", "ML")} | {"profile/assink2016_che_rho0.6_REML"}


def _profile_model(case_id):
    method = "ML" if case_id.endswith("_ML") else "REML"
    if "bcg" in case_id:
        return uni(method=method)
    if "bangertdrowns" in case_id:
        return ek.meta_analysis(dataset("bangertdrowns2004"), method=method)
    if "konstantopoulos" in case_id:
        return kon(method)
    return asn_che()


@pytest.mark.parametrize("case_id", sorted(PROFILE))
def test_profile_and_pl_ci(case_id):
    ref = CASES[case_id]
    res = _profile_model(case_id)
    if "profile" in ref and isinstance(ref["profile"], dict):  # univariate: tau^2
        pf = ref["profile"]
        ours = res.profile(values=pf["tau2"])
        np.testing.assert_allclose(ours["ll"], pf["ll"], rtol=1e-10)
        np.testing.assert_allclose(ours[list(res.term_names)], pf["beta"], rtol=1e-9, atol=1e-12)
        pl = res.confint("PL")
        r = ref["confint_PL"]
        np.testing.assert_allclose(pl["estimate"], r["estimate"], **CLOSE)
        np.testing.assert_allclose(pl["ci_lower"], r["ci_lb"], **CI)
        np.testing.assert_allclose(pl["ci_upper"], r["ci_ub"], **CI)
        qp = res.confint("QP")
        r = ref["confint_QP"]
        np.testing.assert_allclose(qp["ci_lower"], r["ci_lb"], **CI)
        np.testing.assert_allclose(qp["ci_upper"], r["ci_ub"], **CI)
        return
    for j, (ci, pf) in enumerate(zip(ref["confint"], ref["profile"], strict=True)):
        ours = res.profile(j, values=pf["sigma2"])
        np.testing.assert_allclose(ours["ll"], pf["ll"], rtol=1e-8)
        np.testing.assert_allclose(ours[list(res.term_names)], pf["beta"], **CLOSE)
        tab = res.confint(j)
        np.testing.assert_allclose(tab.iloc[0]["estimate"], ci["estimate"], **CLOSE)
        np.testing.assert_allclose(tab.iloc[0]["ci_lower"], ci["ci_lb"], **CI)
        np.testing.assert_allclose(tab.iloc[0]["ci_upper"], ci["ci_ub"], **CI)


def test_pl_ci_solves_the_likelihood_ratio():
    res = kon()
    tab = res.confint(0)
    cut = res.ll - 3.841458820694124 / 2
    for bound in tab.iloc[0][["ci_lower", "ci_upper"]]:
        assert res.profile(0, values=[bound])["ll"].iloc[0] == pytest.approx(cut, abs=1e-8)


# ----- anova -----------------------------------------------------------------------------------
ANOVA = {"anova/bcg_ablat_alloc_btt_z", "anova/bcg_ablat_alloc_btt_knha", "anova/bcg_lrt_ML",
         "anova/konstantopoulos2011_lrt_sigma2_district_REML",
         "anova/assink2016_che_deltype_year_btt"}


@pytest.mark.parametrize("test", ["z", "knha"])
def test_anova_wald(test):
    ref = CASES[f"anova/bcg_ablat_alloc_btt_{test}"]
    res = uni(mods="~ ablat + C(alloc)", test=test)
    np.testing.assert_allclose(res.coefficients["estimate"], ref["beta"], **CLOSE)
    for key, btt in (("anova_btt_3_4", [2, 3]), ("anova_btt_2", ["ablat"]),
                     ("anova_btt_alloc", "alloc")):
        a = anova(res, btt=btt)
        np.testing.assert_allclose(a.statistic, ref[key]["QM"], **CLOSE)
        np.testing.assert_allclose(a.pvalue, ref[key]["QMp"], **CLOSE)
        assert a.df[0] == ref[key]["QMdf"][0]
        if test == "knha":
            assert a.df[1] == ref[key]["QMdf"][1]
    L = np.array([[0, 0, 1, -1], [1, 40, 0, 0]], dtype=float)
    a = anova(res, X=L)
    r = ref["anova_X"]
    np.testing.assert_allclose(a.table["estimate"], r["Xb"], **CLOSE)
    np.testing.assert_allclose(a.table["se"], r["se"], **CLOSE)
    np.testing.assert_allclose(a.table["pvalue"], r["pval"], **CLOSE)
    np.testing.assert_allclose(a.statistic, r["QM"], **CLOSE)


def _check_lrt(a, ref):
    np.testing.assert_allclose(a.statistic, ref["LRT"], **CLOSE)
    np.testing.assert_allclose(a.pvalue, ref["pval"], **CLOSE)
    assert a.table["df"].tolist() == [ref["p_full"], ref["p_reduced"]]
    full = a.table.loc["Full"]
    np.testing.assert_allclose([full["logLik"], full["AIC"], full["BIC"], full["AICc"]],
                               np.array(ref["fit_full"])[[0, 2, 3, 4]], rtol=1e-9)
    red = a.table.loc["Reduced"]
    np.testing.assert_allclose([red["logLik"], red["AIC"], red["BIC"], red["AICc"]],
                               np.array(ref["fit_reduced"])[[0, 2, 3, 4]], rtol=1e-9)


def test_anova_lrt_univariate():
    ref = CASES["anova/bcg_lrt_ML"]
    full, red, null = uni("~ ablat + C(alloc)", "ML"), uni("~ ablat", "ML"), uni(None, "ML")
    _check_lrt(anova(full, red), ref["lrt_full_vs_reduced"])
    _check_lrt(anova(red, null), ref["lrt_reduced_vs_intercept"])
    _check_lrt(anova(null, full), ref["lrt_full_vs_intercept"])  # order does not matter
    with pytest.raises(ValueError, match="REML"):
        anova(uni("~ ablat"), uni())


def test_anova_lrt_variance_component():
    ref = CASES["anova/konstantopoulos2011_lrt_sigma2_district_REML"]
    full, red = kon(), kon(sigma2=[0, None])
    np.testing.assert_allclose(red.sigma2, ref["reduced"]["sigma2"], **CLOSE)
    _check_lrt(anova(full, red), ref["lrt"])


def test_anova_wald_che():
    ref = CASES["anova/assink2016_che_deltype_year_btt"]
    res = asn_che("~ deltype + year")
    np.testing.assert_allclose(res.sigma2, ref["sigma2"], **CLOSE)
    a = anova(res, btt=[1, 2])
    np.testing.assert_allclose(a.statistic, ref["anova_btt_2_3"]["QM"], **CLOSE)
    np.testing.assert_allclose(a.pvalue, ref["anova_btt_2_3"]["QMp"], **CLOSE)
    for key in FIT_KEYS:
        np.testing.assert_allclose(res.fitstats()[key], ref["fit"]["fitstats"][key], rtol=1e-9)


# ----- formulas --------------------------------------------------------------------------------
FORMULA = {
    "formula/bcg_ablat_x_year_{m}": ("~ ablat * year", None),
    "formula/bcg_ablat_factor_alloc_{m}": ("~ ablat + C(alloc)", None),
    "formula/bcg_factor_alloc_noint_{m}": ("~ C(alloc) - 1", "multilevel"),
    "formula/bcg_ablat_centred_quadratic_{m}": ("~ I(ablat - 33) + I((ablat - 33) ** 2)", None),
}
FORMULA_CASES = {k.format(m=m): v for k, v in FORMULA.items() for m in ("REML", "ML")}


def _r_names(names):
    """metafor prints intrcpt, factor(alloc)random and I((ablat - 33)^2); ours intercept,
    allocrandom and I((ablat - 33) ** 2)."""
    out = []
    for n in names:
        n = n.replace("intrcpt", "intercept").replace("factor(alloc)", "alloc").replace("^", " ** ")
        out.append(n)
    return out


@pytest.mark.parametrize("case_id", sorted(FORMULA_CASES))
def test_formula_matches_metafor(case_id):
    ref = CASES[case_id]
    formula, kind = FORMULA_CASES[case_id]
    method = ref["method"]
    if kind == "multilevel":
        # no intercept: meta_analysis() needs one; an rma.uni without intercept equals the
        # fixed design in a model whose single level holds one effect per group
        with pytest.raises(ValueError, match="intercept"):
            ek.meta_analysis(bcg(), mods=formula, method=method)
        from evidence_kit.synthesis._design import design_matrix
        X, names, _ = design_matrix(bcg(), formula, 13)
        assert names == _r_names(ref["terms"])
        np.testing.assert_array_equal(X, ref["X"])
        return
    res = uni(formula, method)
    assert list(res.term_names) == _r_names(ref["terms"])
    np.testing.assert_allclose(res.X, ref["X"], rtol=1e-15)
    close, fit_tol = CLOSE, 1e-9
    if case_id in KNOWN_DIVERGENCES:  # flat likelihood: ours must be at least as high
        close, fit_tol = {"rtol": 1e-4, "atol": 1e-8}, 1e-7
        assert res.ll >= ref["fit"][method]["logLik"] - 1e-12
    np.testing.assert_allclose(res.tau2, ref["tau2"], **close)
    for ours, theirs in (("estimate", "beta"), ("se", "se"), ("pvalue", "pval"),
                         ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub")):
        np.testing.assert_allclose(res.coefficients[ours], ref[theirs], **close)
    np.testing.assert_allclose(res.qm, ref["QM"], **close)
    fs = fit_statistics(res)
    for col in ("ML", "REML"):
        # the other method's likelihood is not stationary at this tau^2, so it carries the
        # ~1e-8 relative difference in tau^2 to first order
        tol = fit_tol if col == method else max(1e-7, 100 * fit_tol)
        for key in FIT_KEYS:
            np.testing.assert_allclose(fs.loc[key, col], ref["fit"][col][key], rtol=tol)


def test_list_of_columns_still_works():
    a = uni(["ablat", "alloc"])
    b = uni("~ ablat + alloc")
    np.testing.assert_allclose(a.coefficients.to_numpy(), b.coefficients.to_numpy(), rtol=1e-12)
    assert list(a.term_names) == list(b.term_names)
    new = pd.DataFrame({"ablat": [20, 50], "alloc": ["random", "systematic"]})
    np.testing.assert_allclose(a.predict(new)["pred"], b.predict(new)["pred"], rtol=1e-12)


# ----- BLUPs and residuals ---------------------------------------------------------------------
RESID_UNI = {f"resid/bcg_{mods}{m}": (None if not mods else ["ablat"], m)
             for mods in ("", "ablat_") for m in ("REML", "ML")}
RESID_MV = {"resid/konstantopoulos2011_REML": "kon", "resid/assink2016_che_rho0.6_REML": "che"}


def _frame_close(ours, ref, cols, **tol):
    for o, r in cols:
        np.testing.assert_allclose(ours[o], ref[r], **tol)


@pytest.mark.parametrize("case_id", sorted(RESID_UNI))
def test_residuals_univariate(case_id):
    mods, method = RESID_UNI[case_id]
    ref = CASES[case_id]
    res = uni(mods, method)
    np.testing.assert_allclose(res.tau2, ref["tau2"], **CLOSE)
    pred = [("pred", "pred"), ("se", "se"), ("pi_lower", "pi_lb"), ("pi_upper", "pi_ub")]
    _frame_close(res.blup(), ref["blup"], pred, **CLOSE)
    _frame_close(res.ranef(), ref["ranef"], pred, **CLOSE)
    z = [("resid", "resid"), ("se", "se"), ("z", "z")]
    _frame_close(res.rstandard(), ref["rstandard"], z, **CLOSE)
    _frame_close(res.rstudent(), ref["rstudent"], z, **CLOSE)
    fs = res.fitstats()
    for key in FIT_KEYS:
        np.testing.assert_allclose(fs[key], ref["fit"]["fitstats"][key], rtol=1e-9)


@pytest.mark.parametrize("case_id", sorted(RESID_MV))
def test_residuals_multilevel(case_id):
    ref = CASES[case_id]
    res = kon() if RESID_MV[case_id] == "kon" else asn_che()
    np.testing.assert_allclose(res.sigma2, ref["sigma2"], **CLOSE)
    z = [("resid", "resid"), ("se", "se"), ("z", "z")]
    _frame_close(res.rstandard(), ref["rstandard"], z, **CLOSE)
    obs, cl = res.rstandard(cluster=res.levels[0])
    rc = ref["rstandard_cluster"]
    _frame_close(obs, rc, z, **CLOSE)
    cl = cl.loc[[type(cl.index[0])(c) for c in rc["cluster"]]]
    np.testing.assert_allclose(cl["X2"], rc["X2"], **CLOSE)
    assert cl["k"].tolist() == rc["k"]
    # k refits of a flat likelihood: residuals near 0 agree to ~1e-8 absolute
    _frame_close(res.rstudent(), ref["rstudent"], z, rtol=ITERATIVE_RTOL, atol=1e-8)
    re = res.ranef()
    for name, level in zip(ref["ranef"], res.levels, strict=True):
        r = ref["ranef"][name]
        ours = re[level].loc[r["names"]]
        _frame_close(ours, r, [("pred", "pred"), ("se", "se"), ("pi_lower", "pi_lb"),
                               ("pi_upper", "pi_ub")], **CLOSE)
    fs = res.fitstats()
    for key in FIT_KEYS:
        np.testing.assert_allclose(fs[key], ref["fit"]["fitstats"][key], rtol=1e-9)


def test_reference_grid_complete():
    used = (PROFILE | ANOVA | set(FORMULA_CASES) | set(RESID_UNI) | set(RESID_MV))
    assert cases_with("profile/") | cases_with("anova/") | cases_with("formula/") \
        | cases_with("resid/") == used
    assert np.isclose(CLOSED_FORM_RTOL, 1e-8)
