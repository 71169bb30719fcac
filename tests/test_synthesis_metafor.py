"""meta_analysis against metafor 3.8 fixtures (tests/reference/synthesis.R -> synthesis.json).

Every tau^2 estimator x test on five metadat datasets, meta-regression (continuous, categorical,
missing moderators), predictions, Q-profile intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from tolerances import (
    CLOSED_FORM_ATOL,
    CLOSED_FORM_RTOL,
    ITERATIVE_ATOL,
    ITERATIVE_RTOL,
    KNOWN_DIVERGENCES,
)

import evidence_kit as ek
from evidence_kit.synthesis import fit

REF = load_reference("synthesis")
CASES = REF["cases"]
DATASETS = ("bcg", "raudenbush1985", "bangertdrowns2004", "crede2010", "normand1999")
METHODS = ("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
TESTS = ("z", "knha")
MODS = {
    "bcg": [["ablat"], ["ablat", "alloc"], ["alloc"]],
    "raudenbush1985": [["weeks"]],
    "bangertdrowns2004": [["length", "meta"]],
    "crede2010": [["class", "year"]],
}


def frame(dataset: str) -> pd.DataFrame:
    """The fixture's data (yi, vi computed in R by escalc) as a DataFrame."""
    case = CASES[f"data/{dataset}"]
    cols = {k: v for k, v in case.items() if k != "call"}
    return pd.DataFrame({k: [np.nan if x is None else x for x in v] for k, v in cols.items()})


def tol(method: str) -> dict:
    if method in ("ML", "REML", "EB", "PM"):
        return {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}
    return {"rtol": CLOSED_FORM_RTOL, "atol": CLOSED_FORM_ATOL}


def close(actual, expected, method, what):
    expected = np.asarray(expected, dtype=object).ravel()
    expected = np.asarray([np.nan if e is None else e for e in expected], dtype=float)
    np.testing.assert_allclose(np.asarray(actual, dtype=float).ravel(), expected, err_msg=what,
                               equal_nan=True, **tol(method))


def close_vector(actual, expected, method, what):
    """Vectors of fitted values/bounds: absolute error relative to the vector's scale.

    Bounds near zero (pred - crit * sqrt(se^2 + tau^2)) lose digits by cancellation, and an
    uncentred moderator such as year (about 2000) conditions X'WX at ~1e7; the error is then
    small against max|x| but not against the value itself.
    """
    expected = np.asarray([np.nan if e is None else e for e in np.ravel(expected)], dtype=float)
    scale = np.nanmax(np.abs(expected))
    np.testing.assert_allclose(np.asarray(actual, dtype=float).ravel(), expected, err_msg=what, equal_nan=True,
                               rtol=tol(method)["rtol"], atol=tol(method)["rtol"] * scale)


def fit_ids():
    ids = [f"fit/{d}/{m}/{t}" for d in DATASETS for m in METHODS for t in TESTS]
    ids += [f"mods/{d}/{'+'.join(mods)}/{m}/{t}" for d, ml in MODS.items() for mods in ml
            for m in METHODS for t in TESTS]
    ids += ["level90/bcg/REML/knha", "level90/raudenbush1985/PM/z"]
    return ids


def test_reference_grid_is_complete():
    expected = set(fit_ids())
    expected |= {f"confint/{d}/{m}" for d in DATASETS for m in ("DL", "REML", "PM", "ML")}
    expected |= {"confint/bcg/ablat/REML", "confint/raudenbush1985/weeks/REML"}
    expected |= {f"predict/bcg/ablat+alloc/REML/{t}" for t in TESTS}
    expected |= {f"predict/raudenbush1985/weeks/DL/{t}" for t in TESTS}
    expected |= {f"{kind}/{d}/{m}" for kind in ("leave1out", "cumul")
                 for d, m in [("bcg", "REML"), ("raudenbush1985", "DL"), ("normand1999", "PM"), ("bcg", "EE")]}
    expected |= {"influence/bcg/REML", "influence/raudenbush1985/DL", "influence/bcg/ablat/REML",
                 "influence/bcg/EE", "influence/raudenbush1985/REML/knha", "influence/bcg/ablat+alloc/DL"}
    expected |= {"leave1out/bcg/REML/knha", "cumul/bcg/DL/year"}
    expected |= {"mh/bcg/OR", "mh/bcg/RR", "mh/bcg/RD", "peto/bcg", "subgroup/bcg/alloc/REML", "subgroup/bcg/alloc/DL"}
    expected |= {f"mh/nielweise2007/{m}" for m in ("OR", "RR", "RD")} | {"peto/nielweise2007"}
    missing = expected - set(CASES)
    assert not missing, f"fixture cases missing: {sorted(missing)}"
    assert REF["versions"]["metafor"].startswith("3.8")


@pytest.mark.parametrize("case_id", fit_ids())
def test_fit_matches_metafor(case_id):
    if case_id in KNOWN_DIVERGENCES:
        pytest.skip(KNOWN_DIVERGENCES[case_id])
    case = CASES[case_id]
    method, test = case["method"], case["test"]
    mods = case["mods"] or None
    level = 90 if case_id.startswith("level90/") else 95
    res = ek.meta_analysis(frame(case["dataset"]), method=method, test=test, mods=mods, level=level)
    assert res.k == case["k"]
    assert len(res.omitted) == len(case["omitted"])
    np.testing.assert_array_equal(np.asarray(res.omitted) + 1, case["omitted"])
    c = res.coefficients
    close(c["estimate"], case["beta"], method, "beta")
    close(c["se"], case["se"], method, "se")
    close(c["statistic"], case["zval"], method, "zval")
    close(c["pvalue"], case["pval"], method, "pval")
    close(c["ci_lower"], case["ci_lb"], method, "ci.lb")
    close(c["ci_upper"], case["ci_ub"], method, "ci.ub")
    close(res.vb, np.asarray(case["vb"], dtype=float), method, "vb")
    close(res.tau2, case["tau2"], method, "tau2")
    close(res.se_tau2, case["se_tau2"], method, "se.tau2")
    close(res.i2, case["I2"], method, "I2")
    close(res.h2, case["H2"], method, "H2")
    close(res.q, case["QE"], method, "QE")
    close(res.q_pvalue, case["QEp"], method, "QEp")
    close(res.ll, case["ll"], method, "logLik")
    close(res.weights, case["weights"], method, "weights")
    if mods:
        close(res.qm, case["QM"], method, "QM")
        close(res.qm_pvalue, case["QMp"], method, "QMp")
        close(res.r2, case["R2"], method, "R2")
    else:
        assert res.qm is None and res.r2 is None
    pred = res.predict()
    close_vector(pred["pred"], case["pred"], method, "pred")
    close_vector(pred["se"], case["pred_se"], method, "pred se")
    close_vector(pred["ci_lower"], case["pred_ci_lb"], method, "pred ci.lb")
    close_vector(pred["ci_upper"], case["pred_ci_ub"], method, "pred ci.ub")
    if method != "EE":  # metafor gives no prediction interval for an EE model
        close_vector(pred["pi_lower"], case["pi_lb"], method, "pi.lb")
        close_vector(pred["pi_upper"], case["pi_ub"], method, "pi.ub")


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("predict/")])
def test_predict_newmods_matches_metafor(case_id):
    case = CASES[case_id]
    res = ek.meta_analysis(frame(case["dataset"]), method=case["method"], test=case["test"], mods=case["mods"])
    pred = res.predict(np.asarray(case["newmods"], dtype=float).reshape(len(case["pred"]), -1))
    for ours, theirs in [("pred", "pred"), ("se", "se"), ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"),
                         ("pi_lower", "pi_lb"), ("pi_upper", "pi_ub")]:
        close(pred[ours], case[theirs], case["method"], theirs)


def test_predict_newmods_dataframe_levels():
    """Categorical newmods given by level give the same rows as the dummy-coded matrix."""
    case = CASES["predict/bcg/ablat+alloc/REML/z"]
    res = ek.meta_analysis(frame("bcg"), method="REML", mods=["ablat", "alloc"])
    new = pd.DataFrame({"ablat": [10, 30, 50], "alloc": ["alternate", "random", "systematic"]})
    close(res.predict(new)["pred"], case["pred"], "REML", "pred")
    with pytest.raises(ValueError, match="levels not seen"):
        res.predict(pd.DataFrame({"ablat": [10], "alloc": ["cluster"]}))


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("confint/")])
def test_q_profile_matches_metafor(case_id):
    case = dict(CASES[case_id])
    res = ek.meta_analysis(frame(case["dataset"]), method=case["method"], mods=case["mods"] or None)
    ci = res.heterogeneity_ci()
    if case_id in KNOWN_DIVERGENCES:
        # metafor stops its search at tau2.max and reports the cap (printed as ">cap"); we give
        # the exact root, which must lie beyond the cap and solve Q(tau^2) = chi^2_{k-1, 0.025}.
        from scipy import stats

        from evidence_kit.synthesis._tau2 import q_stat

        cap = max(100.0, 10 * res.tau2)  # metafor's default tau2.max for confint()
        assert case["tau2"][2] == pytest.approx(cap, rel=1e-12)
        upper = ci.loc["tau2", "ci_upper"]
        assert upper > cap
        target = stats.chi2.ppf(0.025, res.k - res.p)
        assert q_stat(res.yi, res.vi, None if res.p == 1 else res.X, upper) == pytest.approx(target, rel=1e-10)
        ci.loc[:, "ci_upper"] = np.nan
        for key in ("tau2", "I2", "H2"):
            case[key] = [case[key][0], case[key][1], np.nan]
    # Q-profile bounds come from root finding in both (uniroot tol 1e-10 in the fixture)
    t = {"rtol": ITERATIVE_RTOL, "atol": ITERATIVE_ATOL}
    np.testing.assert_allclose(ci.loc["tau2"].to_numpy(), case["tau2"], equal_nan=True, **t)
    np.testing.assert_allclose(ci.loc["i2"].to_numpy(), case["I2"], equal_nan=True, **t)
    np.testing.assert_allclose(ci.loc["h2"].to_numpy(), case["H2"], equal_nan=True, **t)


def test_fit_on_arrays_equals_meta_analysis():
    dat = frame("bcg")
    res = ek.meta_analysis(dat, mods=["ablat"])
    X = np.column_stack([np.ones(len(dat)), dat["ablat"]])
    low = fit(dat["yi"].to_numpy(), dat["vi"].to_numpy(), X, term_names=["intercept", "ablat"])
    np.testing.assert_allclose(low.coefficients.to_numpy(), res.coefficients.to_numpy(), rtol=1e-14)
    assert low.term_names == ["intercept", "ablat"]
