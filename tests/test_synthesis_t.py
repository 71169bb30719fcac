"""meta_analysis(test="t"): t (and F) tests on k - p degrees of freedom without the Knapp-Hartung
scaling, against metafor rma(test = "t") (tests/reference/synthesis_t.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from tolerances import ITERATIVE_ATOL, ITERATIVE_RTOL

import evidence_kit as ek

REF = load_reference("synthesis_t")["cases"]
BCG = ek.effect_sizes(ek.load_dataset("dat.bcg"), measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")


def test_reference_grid_complete():
    assert set(REF) == {"t/bcg/EE", "t/bcg/DL", "t/bcg/REML", "t/bcg/ablat/DL", "t/bcg/ablat/REML",
                        "t/bcg/ablat+alloc/REML"}


@pytest.mark.parametrize("case_id", sorted(REF))
def test_t_matches_metafor(case_id):
    case = REF[case_id]
    res = ek.meta_analysis(BCG, method=case["method"], test="t", mods=case["mods"] or None)
    assert res.test == "t" and res.df == case["dfs"] == res.k - res.p
    c = res.coefficients
    for ours, theirs in [("estimate", "beta"), ("se", "se"), ("statistic", "tval"), ("pvalue", "pval"),
                         ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub")]:
        np.testing.assert_allclose(c[ours], case[theirs], rtol=ITERATIVE_RTOL, atol=ITERATIVE_ATOL, err_msg=ours)
    assert res.tau2 == pytest.approx(case["tau2"], rel=ITERATIVE_RTOL, abs=ITERATIVE_ATOL)
    assert res.s2w == 1.0  # no Knapp-Hartung scaling
    if res.p > 1:
        assert res.qm == pytest.approx(case["QM"], rel=ITERATIVE_RTOL)
        assert res.qm_pvalue == pytest.approx(case["QMp"], rel=ITERATIVE_RTOL)
        assert res.qm_df == tuple(case["QMdf"])
    else:
        pred = res.predict()
        assert pred["pred"].iloc[0] == pytest.approx(case["pred"][0], rel=ITERATIVE_RTOL)
        if case["pi_lb"] is not None and case["method"] != "EE":
            assert pred["pi_lower"].iloc[0] == pytest.approx(case["pi_lb"][0], rel=ITERATIVE_RTOL)
            assert pred["pi_upper"].iloc[0] == pytest.approx(case["pi_ub"][0], rel=ITERATIVE_RTOL)


def test_t_differs_from_z_and_knha_only_where_it_should():
    z = ek.meta_analysis(BCG, method="REML", mods=["ablat"])
    t = ek.meta_analysis(BCG, method="REML", mods=["ablat"], test="t")
    kh = ek.meta_analysis(BCG, method="REML", mods=["ablat"], test="knha")
    np.testing.assert_allclose(t.coefficients["se"], z.coefficients["se"], rtol=1e-12)  # same V_b
    np.testing.assert_allclose(t.coefficients["statistic"], z.coefficients["statistic"], rtol=1e-12)
    assert (t.coefficients["pvalue"] > z.coefficients["pvalue"]).all()  # heavier tails
    assert t.qm == pytest.approx(z.qm, rel=1e-12)  # F = QM / m with m = 1
    assert kh.se != t.se and kh.df == t.df


def test_t_in_batch_and_permutation():
    rng = np.random.default_rng(1)
    dat = pd.DataFrame({"g": np.repeat([0, 1, 2], 6), "yi": rng.normal(0, 0.3, 18), "vi": rng.uniform(0.01, 0.1, 18)})
    out = ek.meta_analysis_batch(dat, by="g", method="REML", test="t").set_index("g")
    for g in range(3):
        res = ek.meta_analysis(dat[dat.g == g], method="REML", test="t")
        assert out.loc[g, "pvalue"] == pytest.approx(res.pvalue, rel=1e-8)
        assert out.loc[g, "ci_lower"] == pytest.approx(res.ci_lower, rel=1e-8)
    res = ek.meta_analysis(BCG.iloc[:7], mods=["ablat"], test="t")
    perm = ek.permutation_test(res, 10_000)
    assert perm.exact and 0 < perm.qm_pvalue <= 1
    assert perm.statistic_permuted[0, 1] == pytest.approx(res.coefficients["statistic"].iloc[1], rel=1e-8)


def test_t_test_prints_t_and_f_as_metafor():
    """metafor's test="t" labels the coefficients tval and the moderator test F(df1, df2)."""
    es = ek.effect_sizes(ek.load_dataset("dat.bcg"), measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    text = repr(ek.meta_analysis(es, mods=["ablat"], test="t"))
    assert "tval" in text and "zval" not in text
    assert "F(df1 = 1, df2 = 11)" in text and "QM(df" not in text
