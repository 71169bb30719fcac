"""Mantel-Haenszel, Peto and subgroup analysis against metafor (rma.mh, rma.peto, rma per group)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from test_synthesis_metafor import frame
from tolerances import CLOSED_FORM_RTOL, ITERATIVE_RTOL

import evidence_kit as ek

CASES = load_reference("synthesis")["cases"]
BCG = ek.load_dataset("dat.bcg")
CELLS = {"ai": "tpos", "bi": "tneg", "ci": "cpos", "di": "cneg"}


def first(x):
    return x[0] if isinstance(x, list) else x


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_mantel_haenszel_matches_metafor(measure):
    case = CASES[f"mh/bcg/{measure}"]
    res = ek.mantel_haenszel(BCG, **CELLS, measure=measure)
    for ours, theirs in [("estimate", "beta"), ("se", "se"), ("statistic", "zval"), ("pvalue", "pval"),
                         ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"), ("q", "QE"), ("q_pvalue", "QEp")]:
        assert getattr(res, ours) == pytest.approx(first(case[theirs]), rel=CLOSED_FORM_RTOL, abs=1e-300), theirs
    if measure == "OR":
        assert res.cmh == pytest.approx(case["MH"], rel=CLOSED_FORM_RTOL)
        assert res.cmh_pvalue == pytest.approx(case["MHp"], rel=CLOSED_FORM_RTOL)
    else:
        assert res.cmh is None


def test_peto_matches_metafor():
    case = CASES["peto/bcg"]
    res = ek.peto(BCG, **CELLS)
    for ours, theirs in [("estimate", "beta"), ("se", "se"), ("statistic", "zval"), ("pvalue", "pval"),
                         ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"), ("q", "QE"), ("q_pvalue", "QEp")]:
        assert getattr(res, ours) == pytest.approx(first(case[theirs]), rel=CLOSED_FORM_RTOL, abs=1e-300), theirs
    text = repr(res)
    assert text.startswith("Equal-Effects Model (k = 13), Peto method, measure OR")
    assert f"Q(df = 12) = {first(case['QE']):.4f}, p-val < .0001" in text
    assert "<strong>" in res._repr_html_()


def test_binary_bad_input_and_missing_rows():
    dat = BCG.copy()
    dat.loc[2, "tpos"] = -1
    with pytest.raises(ValueError, match=r"row 2 \(ai=-1.0\)"):
        ek.mantel_haenszel(dat, **CELLS)
    dat = BCG.copy().astype({"tpos": float})
    dat.loc[0, "tpos"] = np.nan
    res = ek.mantel_haenszel(dat, **CELLS)
    assert res.k == 12 and list(res.omitted) == [0]
    with pytest.raises(ValueError, match="unknown measure 'OX'"):
        ek.mantel_haenszel(BCG, **CELLS, measure="OX")


def nielweise():
    case = CASES["data/nielweise2007"]
    d = pd.DataFrame({k: v for k, v in case.items() if k != "call"})
    return d.assign(bi=d.n1i - d.ai, di=d.n2i - d.ci)


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_mantel_haenszel_zero_cells_match_metafor(measure):
    """dat.nielweise2007 has tables with a zero cell: 1/2 is added to those tables for the Q test only."""
    case = CASES[f"mh/nielweise2007/{measure}"]
    dat = nielweise()
    assert (dat[["ai", "ci"]] == 0).any(axis=None)
    res = ek.mantel_haenszel(dat, measure=measure)
    assert res.k == case["k"]
    for ours, theirs in [("estimate", "beta"), ("se", "se"), ("statistic", "zval"), ("pvalue", "pval"),
                         ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"), ("q", "QE"), ("q_pvalue", "QEp")]:
        assert getattr(res, ours) == pytest.approx(first(case[theirs]), rel=CLOSED_FORM_RTOL, abs=1e-300), theirs
    if measure == "OR":
        assert res.cmh == pytest.approx(case["MH"], rel=CLOSED_FORM_RTOL)


def test_group_sizes_instead_of_non_events():
    d = nielweise()
    by_cells = ek.mantel_haenszel(d, measure="RR")
    by_sizes = ek.mantel_haenszel(d[["ai", "ci", "n1i", "n2i"]], n1i="n1i", n2i="n2i", measure="RR")
    assert by_sizes.estimate == by_cells.estimate and by_sizes.q == by_cells.q
    assert ek.peto(d, n1i="n1i", n2i="n2i").estimate == ek.peto(d).estimate
    assert d.loc[1, "ai"] > 0
    with pytest.raises(ValueError, match=r"n1i is smaller than the events ai: row 1 \(n1i=0.0\)"):
        ek.mantel_haenszel(d.assign(n1i=d.n1i.where(d.index != 1, 0)), n1i="n1i", n2i="n2i")


def test_peto_zero_cells_match_metafor():
    case = CASES["peto/nielweise2007"]
    res = ek.peto(nielweise())
    for ours, theirs in [("estimate", "beta"), ("se", "se"), ("statistic", "zval"), ("pvalue", "pval"),
                         ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"), ("q", "QE"), ("q_pvalue", "QEp")]:
        assert getattr(res, ours) == pytest.approx(first(case[theirs]), rel=CLOSED_FORM_RTOL, abs=1e-300), theirs


@pytest.mark.parametrize("method", ["REML", "DL"])
def test_subgroup_analysis_matches_metafor(method):
    case = CASES[f"subgroup/bcg/alloc/{method}"]
    res = ek.subgroup_analysis(frame("bcg"), by="alloc", method=method)
    assert list(res.groups.index) == case["groups"]
    assert list(res.groups["k"]) == case["k"]
    rtol = ITERATIVE_RTOL if method == "REML" else CLOSED_FORM_RTOL
    np.testing.assert_allclose(res.groups["estimate"], case["estimate"], rtol=rtol)
    np.testing.assert_allclose(res.groups["se"], case["se"], rtol=rtol)
    np.testing.assert_allclose(res.groups["tau2"], case["tau2"], rtol=rtol)
    np.testing.assert_allclose(res.groups["q"], case["QE"], rtol=rtol)
    assert res.q_between == pytest.approx(case["Q_between"], rel=rtol)
    assert res.q_between_df == case["Q_between_df"]
    assert res.q_between_pvalue == pytest.approx(case["Q_between_p"], rel=rtol)
    assert f"Q_between(df = 2) = {case['Q_between']:.4f}, p-val = " in repr(res)
    common = CASES[f"mods/bcg/alloc/{method}/z"]  # rma(yi, vi, mods = ~ factor(alloc))
    assert res.moderator.qm == pytest.approx(common["QM"], rel=rtol)
    assert res.moderator.qm_pvalue == pytest.approx(common["QMp"], rel=rtol)
    assert res.moderator.term_names == ["intercept", "allocrandom", "allocsystematic"]
    assert "<table" in res._repr_html_() and "Test for subgroup differences" in res._repr_html_()
