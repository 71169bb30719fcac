"""Step-function selection model (Vevea-Hedges) against metafor selmodel(type = "stepfun")
fixtures (tests/reference/bias.R), identities and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from tolerances import ITERATIVE_RTOL, KNOWN_DIVERGENCES

import evidence_kit as ek
from evidence_kit.bias.selection import selection_model

REF = load_reference("bias")["cases"]
DATA = REF["data"]


def model(name, method="REML", mods=None):
    dat = pd.DataFrame({k: DATA[name][k] for k in ("yi", "vi", "ablat") if k in DATA[name]})
    return ek.meta_analysis(dat, method=method, mods=mods)


def test_reference_grid_complete():
    expected = {f"{d}_{m}" for d in ("hackshaw1998", "egger2001", "bcg") for m in ("REML", "EE")}
    assert set(REF["selmodel"]) == expected | {"hackshaw1998_REML_3steps", "bcg_REML_ablat"}


@pytest.mark.parametrize("case_id", sorted(REF["selmodel"]))
def test_selection_model_matches_selmodel(case_id):
    ref = REF["selmodel"][case_id]
    mods = ["ablat"] if case_id.endswith("_ablat") else None
    out = selection_model(model(ref["data"], ref["method"], mods), ref["steps"],
                          alternative=ref["alternative"])
    coefs = out.coefficients
    # the maximized log-likelihood and the LRT are sharp: compare tightly
    np.testing.assert_allclose(out.ll, ref["ll"], rtol=1e-9)
    np.testing.assert_allclose(out.lrt, ref["LRT"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(out.lrt_pvalue, ref["LRTp"], rtol=1e-6)
    assert out.lrt_df == ref["LRTdf"]
    np.testing.assert_array_equal(out.delta_table["k"], ref["k_interval"])
    # estimates: iterative tolerance
    np.testing.assert_allclose(coefs["estimate"], np.atleast_1d(ref["beta"]), rtol=ITERATIVE_RTOL)
    np.testing.assert_allclose(out.tau2, ref["tau2"], rtol=ITERATIVE_RTOL, atol=1e-12)
    np.testing.assert_allclose(out.delta, ref["delta"], rtol=ITERATIVE_RTOL)
    # standard errors come from numerical Hessians on both sides (KNOWN_DIVERGENCES)
    assert "selmodel_se" in KNOWN_DIVERGENCES
    se_tol = {"rtol": 2e-5}
    np.testing.assert_allclose(coefs["se"], np.atleast_1d(ref["se"]), **se_tol)
    np.testing.assert_allclose(coefs["ci_lower"], np.atleast_1d(ref["ci_lb"]), **se_tol)
    np.testing.assert_allclose(coefs["pvalue"], np.atleast_1d(ref["pval"]), rtol=1e-4)
    np.testing.assert_allclose(out.delta_table["se"].iloc[1:], ref["se_delta"][1:], **se_tol)
    if ref["se_tau2"] is not None:
        np.testing.assert_allclose(out.se_tau2, ref["se_tau2"], **se_tol)


def test_no_selection_reproduces_the_ml_model():
    """Identity: with the weight fixed by the data at delta = 1 (one interval: steps = (1,)),
    the model is the ML random-effects model."""
    res = model("hackshaw1998", "ML")
    out = selection_model(res, steps=(1.0,))
    np.testing.assert_allclose(out.estimate, res.estimate, rtol=1e-6)
    np.testing.assert_allclose(out.tau2, res.tau2, rtol=1e-5)
    np.testing.assert_allclose(out.ll, res.ll, rtol=1e-9)
    assert out.lrt_df == 0 and out.lrt < 1e-8


def test_less_mirrors_greater():
    """Identity: alternative "less" on y is alternative "greater" on -y, with -b."""
    dat = pd.DataFrame({k: DATA["bcg"][k] for k in ("yi", "vi")})
    a = selection_model(ek.meta_analysis(dat), alternative="less")
    b = selection_model(ek.meta_analysis(dat.assign(yi=-dat.yi)), alternative="greater")
    np.testing.assert_allclose(a.estimate, -b.estimate, rtol=1e-6)
    np.testing.assert_allclose(a.delta, b.delta, rtol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match=r"no p-values in interval\(s\) 0 < p <= 0.025"):
        selection_model(model("bcg"))  # bcg effects are negative: no small one-sided p
    with pytest.raises(ValueError, match="at least 3 studies"):
        selection_model(ek.meta_analysis(yi=[0.1, 0.5], vi=[0.01, 0.02]))
    with pytest.raises(ValueError, match="steps must lie in"):
        selection_model(model("hackshaw1998"), steps=(0.0, 0.5))
    with pytest.raises(ValueError, match="unknown alternative"):
        selection_model(model("hackshaw1998"), alternative="two.sided")
