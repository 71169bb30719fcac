"""Multilevel meta-analysis against metafor rma.mv fixtures (tests/reference/multilevel.R),
identities, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from tolerances import CLOSED_FORM_RTOL, ITERATIVE_ATOL, ITERATIVE_RTOL, KNOWN_DIVERGENCES

import evidence_kit as ek
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis, solve_nested

REF = load_reference("multilevel")["cases"]["multilevel"]

# case id -> (dataset, levels, mods, method, test)
GRID = {
    "konstantopoulos_REML": ("konstantopoulos2011", ["district", "school"], None, "REML", "z"),
    "konstantopoulos_ML": ("konstantopoulos2011", ["district", "school"], None, "ML", "z"),
    "konstantopoulos_year_REML": ("konstantopoulos2011", ["district", "school"], ["year"], "REML", "z"),
    "konstantopoulos_year_ML": ("konstantopoulos2011", ["district", "school"], ["year"], "ML", "z"),
    "assink_REML": ("assink2016", ["study", "esid"], None, "REML", "z"),
    "assink_ML": ("assink2016", ["study", "esid"], None, "ML", "z"),
    "assink_deltype_REML": ("assink2016", ["study", "esid"], ["deltype"], "REML", "z"),
    "assink_deltype_ML": ("assink2016", ["study", "esid"], ["deltype"], "ML", "z"),
    "assink_deltype_year_t": ("assink2016", ["study", "esid"], ["deltype", "year"], "REML", "t"),
    # three random levels: publication status / study / effect
    "assink_pubstatus_REML": ("assink2016", ["pubstatus", "study", "esid"], None, "REML", "z"),
    "assink_pubstatus_ML": ("assink2016", ["pubstatus", "study", "esid"], None, "ML", "z"),
    # correlations (Fisher z) within studies, Crede et al. 2010
    "crede_criterion_REML": ("crede2010", ["studyid", "esid"], ["criterion"], "REML", "z"),
    "crede_criterion_ML": ("crede2010", ["studyid", "esid"], ["criterion"], "ML", "z"),
}


def test_reference_grid_complete():
    assert set(REF) == set(GRID)


def load(name):
    dat = ek.load_dataset(name)
    if name == "crede2010":  # escalc(measure = "ZCOR"): z = atanh(r), v = 1/(n - 3)
        dat = dat.assign(yi=np.arctanh(dat.ri), vi=1 / (dat.ni - 3), esid=np.arange(len(dat)))
    return dat


def _fit(case_id):
    name, levels, mods, method, test = GRID[case_id]
    return multilevel_meta_analysis(load(name), levels=levels, mods=mods, method=method,
                                    test=test)


@pytest.mark.parametrize("case_id", sorted(GRID))
def test_matches_metafor(case_id):
    ref = REF[case_id]
    res = _fit(case_id)
    close = i2_close = {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}
    if f"multilevel_{case_id}" in KNOWN_DIVERGENCES:
        # flat likelihood: see KNOWN_DIVERGENCES; our log-likelihood is checked to be >= metafor's
        close, i2_close = {"rtol": 1e-4, "atol": 1e-8}, {"rtol": 1e-4, "atol": 1e-5}
    assert res.k == ref["k"]
    assert list(res.n_groups) == ref["n_groups"]
    np.testing.assert_allclose(res.sigma2, ref["sigma2"], **close)
    coef = res.coefficients
    np.testing.assert_allclose(coef["estimate"], ref["beta"], **close)
    np.testing.assert_allclose(coef["se"], ref["se"], **close)
    np.testing.assert_allclose(coef["statistic"], ref["zval"], **close)
    np.testing.assert_allclose(coef["pvalue"], ref["pval"], **close)
    np.testing.assert_allclose(coef["ci_lower"], ref["ci_lb"], **close)
    np.testing.assert_allclose(coef["ci_upper"], ref["ci_ub"], **close)
    np.testing.assert_allclose(res.ll, ref["logLik"], rtol=1e-9)
    np.testing.assert_allclose(res.i2_levels, ref["i2"], **i2_close)  # percent
    # Q does not depend on the variance components: closed form
    np.testing.assert_allclose(res.q, ref["QE"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(res.q_pvalue, ref["QEp"], rtol=CLOSED_FORM_RTOL, atol=1e-300)
    if res.p > 1:
        np.testing.assert_allclose(res.qm, ref["QM"], **close)
        np.testing.assert_allclose(res.qm_pvalue, ref["QMp"], **close)
        assert list(res.qm_df) == ref["QMdf"][: len(res.qm_df)]
    assert res.converged
    pr, rp = res.predict(), ref["predict"]
    # x'b cancels when an uncentred moderator (year ~ 1990) meets a large intercept: allow the
    # relative tolerance of the terms, rtol * max_i sum_j |x_ij b_j|, as absolute error
    scale = float(np.max(np.abs(res.X) @ np.abs(res.coefficients["estimate"].to_numpy())))
    tol = {"rtol": close["rtol"], "atol": max(close["atol"], close["rtol"] * scale)}
    for ours, theirs in (("pred", "pred"), ("se", "se"), ("ci_lower", "ci_lb"),
                         ("ci_upper", "ci_ub"), ("pi_lower", "pi_lb"), ("pi_upper", "pi_ub")):
        np.testing.assert_allclose(pr[ours], rp[theirs], **tol)


def test_likelihood_at_least_metafor():
    """Our optimum is an optimum: the log-likelihood is not below metafor's."""
    for case_id in GRID:
        assert _fit(case_id).ll >= REF[case_id]["logLik"] - 1e-9


def test_solve_nested_equals_dense_inverse():
    """Identity: the Sherman-Morrison recursion equals a dense solve, three nested levels."""
    rng = np.random.default_rng(7)
    k = 40
    codes = np.column_stack([rng.integers(0, 3, k), rng.integers(0, 4, k), np.arange(k)])
    codes[:, 1] = codes[:, 0] * 4 + codes[:, 1]
    codes = np.column_stack([pd.factorize(codes[:, j], sort=True)[0] for j in range(3)])
    vi = rng.uniform(0.02, 0.3, k)
    s2 = np.array([0.2, 0.07, 0.03])
    V = np.diag(vi) + sum(s2[j] * (codes[:, j][:, None] == codes[:, j][None, :]) for j in range(3))
    U = rng.normal(size=(k, 3))
    Wu, logdet, _ = solve_nested(vi, codes, s2, U)
    np.testing.assert_allclose(Wu, np.linalg.solve(V, U), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(V)[1], rtol=1e-12)


def test_one_level_equals_univariate_ml():
    """Identity: one level with a group per effect is the univariate random-effects model."""
    dat = ek.load_dataset("dat.bcg")
    dat = ek.effect_sizes(dat, measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg") \
        if hasattr(ek, "effect_sizes") else _bcg_rr(dat)
    dat["row"] = np.arange(len(dat))
    ml = multilevel_meta_analysis(dat, levels=["row"], method="REML")
    uni = ek.meta_analysis(dat, method="REML")
    np.testing.assert_allclose(ml.sigma2[0], uni.tau2, rtol=1e-6)
    np.testing.assert_allclose(ml.estimate, uni.estimate, rtol=1e-6)
    np.testing.assert_allclose(ml.se, uni.se, rtol=1e-6)


def _bcg_rr(dat):
    dat = dat.copy()
    dat["yi"] = np.log(dat.tpos / (dat.tpos + dat.tneg)) - np.log(dat.cpos / (dat.cpos + dat.cneg))
    dat["vi"] = 1 / dat.tpos - 1 / (dat.tpos + dat.tneg) + 1 / dat.cpos - 1 / (dat.cpos + dat.cneg)
    return dat


def test_inner_labels_are_read_within_outer_groups():
    """School 1 of district 11 is not school 1 of district 12 (as district/school in R)."""
    dat = ek.load_dataset("dat.konstantopoulos2011")
    res = multilevel_meta_analysis(dat, levels=["district", "school"])
    assert res.n_groups == (11, 56)
    assert dat["school"].nunique() < 56


def test_variance_components_table():
    res = _fit("konstantopoulos_REML")
    vc = res.variance_components()
    assert list(vc.index) == ["district", "school"]
    np.testing.assert_allclose(vc["i2"].sum(), res.i2)
    assert "district" in repr(res) and "<p>" in res._repr_html_()


def test_bad_input():
    dat = ek.load_dataset("dat.konstantopoulos2011")
    with pytest.raises(ValueError, match="'district' has a single group"):
        multilevel_meta_analysis(dat.assign(district=1), levels=["district", "school"])
    with pytest.raises(ValueError, match="level 'district'.*single 'school'"):
        multilevel_meta_analysis(dat.assign(school=1), levels=["district", "school"])
    bad = dat.copy()
    bad.loc[3, "vi"] = -1.0
    with pytest.raises(ValueError, match=r"must be positive: row \S*3\S* \(vi=-1.0\)"):
        multilevel_meta_analysis(bad, levels=["district", "school"])
    bad = dat.astype({"district": object})
    bad.loc[5, "district"] = None
    with pytest.raises(ValueError, match=r"missing cluster labels: row \S*5\S* \(district=None\)"):
        multilevel_meta_analysis(bad, levels=["district", "school"])
    with pytest.raises(ValueError, match="unknown method 'DL'"):
        multilevel_meta_analysis(dat, levels=["district", "school"], method="DL")
    with pytest.raises(KeyError, match="nope"):
        multilevel_meta_analysis(dat, levels=["district", "nope"])


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=3), st.integers(min_value=2, max_value=30),
       st.integers(min_value=0, max_value=2**31 - 1))
def test_solve_nested_property(n_levels, k, seed):
    """Property: for random nested structures, sizes and variances, the recursion equals the
    dense solve and log-determinant."""
    rng = np.random.default_rng(seed)
    raw = np.column_stack([rng.integers(0, 3, k) for _ in range(n_levels)])
    codes = np.column_stack([pd.factorize(pd.MultiIndex.from_arrays(raw[:, : j + 1].T),
                                          sort=True)[0] for j in range(n_levels)])
    vi = rng.uniform(0.01, 1.0, k)
    s2 = rng.uniform(0.0, 2.0, n_levels)
    V = np.diag(vi) + sum(s2[j] * (codes[:, j][:, None] == codes[:, j][None, :])
                          for j in range(n_levels))
    U = rng.normal(size=(k, 2))
    Wu, logdet, _ = solve_nested(vi, codes, s2, U)
    np.testing.assert_allclose(Wu, np.linalg.solve(V, U), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(V)[1], rtol=1e-10, atol=1e-10)


def test_predict_newmods():
    res = _fit("assink_deltype_year_t")
    rows = res.predict()
    # newmods without the intercept reproduce the fitted values of the same rows
    again = res.predict(res.X[:5, 1:])
    np.testing.assert_allclose(again["pred"], rows["pred"].iloc[:5], rtol=1e-12)
    with pytest.raises(ValueError, match="the model has 3 moderators"):
        res.predict([[1.0, 2.0]])
