"""leave_one_out, cumulative and influence against metafor's leave1out(), cumul(), influence()."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_reference
from test_synthesis_metafor import frame, tol

import evidence_kit as ek

CASES = load_reference("synthesis")["cases"]


def check(actual, expected, method, what):
    expected = np.asarray([np.nan if e is None else e for e in np.ravel(expected)], dtype=float)
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, err_msg=what, equal_nan=True, **tol(method))


def model(case):
    mods = case.get("mods") or None
    test = "knha" if case["call"].count('test="knha"') else "z"
    return ek.meta_analysis(frame(case["dataset"]), method=case["method"], test=test, mods=mods)


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith(("leave1out/", "cumul/"))])
def test_leave_one_out_and_cumulative_match_metafor(case_id):
    case = CASES[case_id]
    res = model(case)
    if case_id.startswith("leave1out/"):
        out = ek.leave_one_out(res)
    elif case_id.endswith("/year"):
        out = ek.cumulative(res, order=frame("bcg")["year"])
        assert list(out.index + 1) == case["added"]  # metafor's slab is the 1-based row number
    else:
        out = ek.cumulative(res)
    assert len(out) == res.k
    m = case["method"]
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("statistic", "zval"), ("pvalue", "pval"),
                         ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"), ("q", "QE"), ("q_pvalue", "QEp"),
                         ("i2", "I2"), ("h2", "H2")]:
        check(out[ours], case[theirs], m, theirs)
    if m == "EE":
        assert (out["tau2"] == 0).all()  # metafor has no tau2 column for an EE model
    else:
        check(out["tau2"], case["tau2"], m, "tau2")


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("influence/")])
def test_influence_matches_metafor(case_id):
    case = CASES[case_id]
    res = model(case)
    inf = ek.influence(res)
    m = case["method"]
    for ours, theirs in [("rstudent", "rstudent"), ("dffits", "dffits"), ("cook_d", "cook_d"), ("cov_r", "cov_r"),
                         ("q_del", "QE_del"), ("hat", "hat"), ("weight", "weight")]:
        check(inf[ours], case[theirs], m, theirs)
    check(inf["tau2_del"], case["tau2_del"], m, "tau2_del")
    dfbs = np.asarray(case["dfbs"], dtype=float).reshape(res.k, res.p)
    check(inf["dfbetas"], dfbs[:, 0], m, "dfbetas")
    for j, term in enumerate(res.term_names[1:], start=1):
        check(inf[f"dfbetas_{term}"], dfbs[:, j], m, f"dfbetas {term}")


def test_cumulative_order_and_identities():
    dat = ek.load_dataset("dat.bcg")
    dat["yi"] = np.asarray(CASES["data/bcg"]["yi"])
    dat["vi"] = np.asarray(CASES["data/bcg"]["vi"])
    res = ek.meta_analysis(dat, method="DL")
    cum = ek.cumulative(res, order=dat["year"])
    assert list(cum.index) == list(dat.sort_values("year", kind="stable").index)
    # the last step is the full model; the first is the earliest study alone
    assert cum["estimate"].iloc[-1] == pytest.approx(res.estimate, rel=1e-12)
    first = dat.sort_values("year", kind="stable").iloc[0]
    assert cum["estimate"].iloc[0] == pytest.approx(first["yi"], rel=1e-12)
    assert cum["tau2"].iloc[0] == 0.0
    with pytest.raises(ValueError, match="order has"):
        ek.cumulative(res, order=[1, 2])


def test_leave_one_out_rejects_moderators():
    res = ek.meta_analysis(frame("bcg"), mods=["ablat"])
    with pytest.raises(ValueError, match="without moderators"):
        ek.leave_one_out(res)
    with pytest.raises(TypeError):
        ek.leave_one_out("not a result")
