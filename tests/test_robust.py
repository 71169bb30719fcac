"""Cluster-robust inference against metafor robust() (CR1) and clubSandwich 0.5.8 (CR2,
Satterthwaite df, HTZ Wald tests); fixtures from tests/reference/multilevel.R."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_reference
from tolerances import ITERATIVE_ATOL, ITERATIVE_RTOL

import evidence_kit as ek
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis
from evidence_kit.synthesis.robust import robust, wald_test

REF = load_reference("multilevel")["cases"]["robust"]
CLOSE = {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}


def _konst(mods=None):
    dat = ek.load_dataset("dat.konstantopoulos2011")
    return multilevel_meta_analysis(dat, levels=["district", "school"], mods=mods), dat.district


def _assink(mods=None):
    dat = ek.load_dataset("dat.assink2016")
    return multilevel_meta_analysis(dat, levels=["study", "esid"], mods=mods), dat.study


def _bangert(mods=None, cluster="id"):
    dat = ek.load_dataset("dat.bangertdrowns2004")
    return ek.meta_analysis(dat, mods=mods, method="REML"), dat[cluster]


def _crede():
    dat = ek.load_dataset("dat.crede2010")
    dat = dat.assign(yi=np.arctanh(dat.ri), vi=1 / (dat.ni - 3), esid=np.arange(len(dat)))
    return (multilevel_meta_analysis(dat, levels=["studyid", "esid"], mods=["criterion"]),
            dat.studyid)


# case id -> model and cluster labels
GRID = {
    "konstantopoulos_district": lambda: _konst(),
    "konstantopoulos_year_district": lambda: _konst(["year"]),
    "assink_study": lambda: _assink(),
    "assink_deltype_year_study": lambda: _assink(["deltype", "year"]),
    "bangertdrowns_imag_grade_id": lambda: _bangert(["imag", "grade"]),
    "bangertdrowns_grade": lambda: _bangert(None, "grade"),
    "crede_criterion_studyid": _crede,
}


def test_reference_grid_complete():
    assert set(REF) == set(GRID)


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_cr1_matches_metafor_robust(case_id):
    ref = REF[case_id]
    model, cluster = GRID[case_id]()
    res = robust(model, cluster, small_sample="CR1")
    assert res.n_clusters == ref["n_clusters"]
    c = res.coefficients
    np.testing.assert_allclose(res.vb, np.atleast_2d(ref["cr1_vb"]), **CLOSE)
    np.testing.assert_allclose(c["se"], ref["cr1_se"], **CLOSE)
    np.testing.assert_allclose(c["statistic"], ref["cr1_tval"], **CLOSE)
    np.testing.assert_allclose(c["df"], ref["cr1_df"])
    np.testing.assert_allclose(c["pvalue"], ref["cr1_pval"], **CLOSE)
    np.testing.assert_allclose(c["ci_lower"], ref["cr1_ci_lb"], **CLOSE)
    np.testing.assert_allclose(c["ci_upper"], ref["cr1_ci_ub"], **CLOSE)
    if "cr1_QM" in ref:
        np.testing.assert_allclose(res.qm, ref["cr1_QM"], **CLOSE)
        np.testing.assert_allclose(res.qm_df, ref["cr1_QMdf"])
        np.testing.assert_allclose(res.qm_pvalue, ref["cr1_QMp"], **CLOSE)


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_cr2_matches_clubsandwich(case_id):
    ref = REF[case_id]
    model, cluster = GRID[case_id]()
    res = robust(model, cluster)  # CR2 is the default
    c = res.coefficients
    np.testing.assert_allclose(res.vb, np.atleast_2d(ref["cr2_vb"]), **CLOSE)
    np.testing.assert_allclose(c["se"], ref["cr2_se"], **CLOSE)
    np.testing.assert_allclose(c["statistic"], ref["cr2_tstat"], **CLOSE)
    np.testing.assert_allclose(c["df"], ref["cr2_df"], **CLOSE)
    np.testing.assert_allclose(c["pvalue"], ref["cr2_pval"], **CLOSE)
    np.testing.assert_allclose(c["ci_lower"], ref["cr2_ci_lb"], **CLOSE)
    np.testing.assert_allclose(c["ci_upper"], ref["cr2_ci_ub"], **CLOSE)
    if "cr2_wald_F" in ref:  # HTZ test of all moderators
        np.testing.assert_allclose(res.qm, ref["cr2_wald_F"], **CLOSE)
        np.testing.assert_allclose(res.qm_df, [ref["cr2_wald_df_num"], ref["cr2_wald_df_denom"]],
                                   **CLOSE)
        np.testing.assert_allclose(res.qm_pvalue, ref["cr2_wald_p"], **CLOSE)
    if "wald_F" in ref:  # HTZ test of a subset of coefficients
        w = wald_test(res, ref["wald_terms"])
        np.testing.assert_allclose(w["F"], ref["wald_F"], **CLOSE)
        np.testing.assert_allclose(w["df_denom"], ref["wald_df_denom"], **CLOSE)
        np.testing.assert_allclose(w["pvalue"], ref["wald_p"], **CLOSE)


def test_single_coefficient_htz_equals_satterthwaite_t():
    """Identity: HTZ for one coefficient is the squared Satterthwaite t test."""
    model, cluster = _assink(["deltype"])
    res = robust(model, cluster)
    for term in res.coefficients.index:
        w = wald_test(res, [term])
        row = res.coefficients.loc[term]
        np.testing.assert_allclose(w["F"], row["statistic"] ** 2, rtol=1e-10)
        np.testing.assert_allclose(w["df_denom"], row["df"], rtol=1e-10)
        np.testing.assert_allclose(w["pvalue"], row["pvalue"], rtol=1e-8)


def test_cluster_by_level_name_equals_labels():
    model, cluster = _konst()
    a = robust(model, "district")
    b = robust(model, cluster.to_numpy())
    np.testing.assert_allclose(a.vb, b.vb, rtol=1e-12)


def test_cr0_is_cr1_without_the_factor():
    model, cluster = _assink(["deltype"])
    r0, r1 = robust(model, cluster, "CR0"), robust(model, cluster, "CR1")
    J, p = r0.n_clusters, model.p
    np.testing.assert_allclose(r1.vb, r0.vb * J / (J - p), rtol=1e-12)


def test_not_nested_and_too_few_clusters():
    model, _ = _konst()
    # schools are nested in districts, so clustering by school splits a district
    with pytest.raises(ValueError, match="level 'district' is not nested within the clusters"):
        robust(model, "school")
    # the message names the district by its label in the data (108, first in label order), not a code
    with pytest.raises(ValueError, match="its group 108 spans 5 clusters"):
        robust(model, "school")
    with pytest.raises(ValueError, match=r"number of clusters \(1\)"):
        robust(model, np.ones(model.k))
    with pytest.raises(ValueError, match="78 labels"):
        robust(model, np.arange(78))
    with pytest.raises(ValueError, match="unknown small_sample 'CR3'"):
        robust(model, "district", "CR3")
    assert "CR2" in repr(robust(model, "district"))
