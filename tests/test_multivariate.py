"""Multivariate models (random = ~ outcome | study; UN, CS, HCS, DIAG, AR, HAR) against metafor
rma.mv (tests/reference/models.R, section 3)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_reference
from models_ref import CASES, block_v, cases_with, dataset
from tolerances import CLOSED_FORM_RTOL, ITERATIVE_ATOL, ITERATIVE_RTOL

from evidence_kit.synthesis.compare import anova
from evidence_kit.synthesis.multivariate import multivariate_meta_analysis

CLOSE = {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}

# case id -> (data, V case, outcome, study, mods, struct, method)
GRID = {}
for m in ("REML", "ML"):
    for s in ("UN", "CS", "DIAG", "HCS"):
        GRID[f"mv/berkey1998_{s}_{m}"] = ("berkey1998", "vcalc/berkey1998_rvars", "outcome",
                                          "trial", "~ outcome - 1", s, m)
    GRID[f"mv/berkey1998_UN_year_{m}"] = ("berkey1998", "vcalc/berkey1998_rvars", "outcome",
                                          "trial", "~ outcome + outcome:I(year - 1983) - 1", "UN", m)
    for s in ("AR", "HAR", "UN", "CS"):
        GRID[f"mv/ishak2007_{s}_{m}"] = ("ishak2007_long", "vcalc/ishak2007_time_phi0.97", "time",
                                         "study", "~ C(time) - 1", s, m)


def test_reference_grid_complete():
    assert cases_with("mv/") == set(GRID)


def _fit(case_id):
    name, vcase, outcome, study, mods, struct, method = GRID[case_id]
    return multivariate_meta_analysis(dataset(name), "yi", block_v(vcase), outcome=outcome,
                                      study=study, struct=struct, mods=mods, method=method)


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_matches_metafor(case_id):
    ref = CASES[case_id]
    res = _fit(case_id)
    assert res.converged
    assert res.k == ref["k"] and res.p == ref["p"]
    assert res.n_studies == ref["g_nlevels"][1]
    np.testing.assert_allclose(res.tau2, ref["tau2"], **CLOSE)
    if res.struct == "DIAG":  # metafor stores the fixed rho = 0; ours holds estimated ones only
        assert res.rho.size == 0 and ref["rho"] == [0]
    else:
        np.testing.assert_allclose(res.rho, ref["rho"], **CLOSE)
    np.testing.assert_allclose(res.G, ref["G"], **CLOSE)
    coef = res.coefficients
    for ours, theirs in (("estimate", "beta"), ("se", "se"), ("statistic", "zval"),
                         ("pvalue", "pval"), ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub")):
        np.testing.assert_allclose(coef[ours], ref[theirs], **CLOSE)
    np.testing.assert_allclose(res.vb, ref["vb"], **CLOSE)
    np.testing.assert_allclose(res.q, ref["QE"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(res.qm, ref["QM"], **CLOSE)
    np.testing.assert_allclose(res.ll, ref["fit"]["logLik"], rtol=1e-10)
    fs = res.fitstats()
    for key in ("logLik", "deviance", "AIC", "BIC", "AICc"):
        np.testing.assert_allclose(fs[key], ref["fit"]["fitstats"][key], rtol=1e-9)


def _terms_r(names):
    """metafor names factor(time)1 and I(year - 1983); ours C(time) -> time1 and I(year - 1983)."""
    return [n.replace("factor(time)", "time") for n in names]


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_names_and_prediction(case_id):
    ref = CASES[case_id]
    res = _fit(case_id)
    assert list(res.term_names) == _terms_r(ref["terms"])
    pr = ref["predict"]
    out = res.predict(np.asarray(pr["newmods"], dtype=float), tau2_levels=pr["tau2_levels"])
    np.testing.assert_allclose(out["pred"], pr["pred"], **CLOSE)
    np.testing.assert_allclose(out["se"], pr["se"], **CLOSE)
    np.testing.assert_allclose(out["ci_lower"], pr["ci_lb"], **CLOSE)
    if pr["pi_lb"] is not None:
        np.testing.assert_allclose(out["pi_lower"], pr["pi_lb"], **CLOSE)
        np.testing.assert_allclose(out["pi_upper"], pr["pi_ub"], **CLOSE)


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_ranef_and_fitted(case_id):
    ref = CASES[case_id]
    res = _fit(case_id)
    (r,) = ref["ranef"].values()
    ours = res.ranef()
    names = [" | ".join(part.strip() for part in n.split(" | ")) for n in r["names"]]
    ours = ours.loc[names]
    # BLUPs near zero carry the ~1e-7 relative agreement of G times the scale of the outcome
    # (ishak2007: tens of points on a rating scale), so the absolute tolerance follows the scale
    atol = 1e-6 * np.max(np.abs(r["pred"]))
    np.testing.assert_allclose(ours["pred"], r["pred"], rtol=ITERATIVE_RTOL, atol=atol)
    np.testing.assert_allclose(ours["se"], r["se"], rtol=ITERATIVE_RTOL, atol=atol)
    np.testing.assert_allclose(ours["pi_lower"], r["pi_lb"], rtol=ITERATIVE_RTOL, atol=atol)
    np.testing.assert_allclose(res.predict()["pred"], ref["fitted"]["pred"], **CLOSE)


# ----- tests/reference/models_extra.R: PL CIs of G and an LRT between structures ---------------
EXTRA = load_reference("models_extra")["cases"]


def test_extra_grid_complete():
    assert set(EXTRA) == {"mv_confint/berkey1998_UN_REML", "mv_confint/berkey1998_UN_ML",
                          "mv_lrt/berkey1998_UN_vs_CS_ML"}


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_profile_ci_of_g(method):
    ref = EXTRA[f"mv_confint/berkey1998_UN_{method}"]
    res = _fit(f"mv/berkey1998_UN_{method}")
    np.testing.assert_allclose(res.ll, ref["logLik"], rtol=1e-10)
    for comp, key in (("tau2.1", "tau2_1"), ("tau2.2", "tau2_2"), ("rho", "rho_1")):
        row = res.confint(comp).iloc[0]
        np.testing.assert_allclose(row["estimate"], ref[key]["estimate"], **CLOSE)
        np.testing.assert_allclose([row["ci_lower"], row["ci_upper"]],
                                   [ref[key]["ci_lb"], ref[key]["ci_ub"]], rtol=1e-6, atol=1e-9)


def test_lrt_between_structures():
    ref = EXTRA["mv_lrt/berkey1998_UN_vs_CS_ML"]
    a = anova(_fit("mv/berkey1998_UN_ML"), _fit("mv/berkey1998_CS_ML"))
    np.testing.assert_allclose(a.statistic, ref["LRT"], **CLOSE)
    np.testing.assert_allclose(a.pvalue, ref["pval"], **CLOSE)
    assert a.table["df"].tolist() == [ref["p_full"], ref["p_reduced"]]
    np.testing.assert_allclose(a.table.loc["Full", ["logLik", "AIC", "BIC", "AICc"]].to_numpy(float),
                               np.array(ref["fit_full"])[[0, 2, 3, 4]], rtol=1e-9)
