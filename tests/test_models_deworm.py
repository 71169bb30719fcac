"""The deworming review (Welch et al. 2016, main outcome: weight; 11 trials): a REML likelihood
with an interior local maximum below the boundary maximum at tau^2 = 0 (tests/reference/models.R,
section 6), and the completeness of the whole models.json grid."""

from __future__ import annotations

import numpy as np
import pytest
from models_ref import CASES, cases_with, dataset

import evidence_kit as ek

DEWORM = {f"deworm/welch2016_{m}_{c}" for m in ("REML", "ML") for c in ("default", "tight")} | {
    "deworm/welch2016_REML_init0.001", "deworm/welch2016_REML_init0.0001",
    "deworm/welch2016_REML_stationary_points", "deworm/welch2016_profile"}


def test_reference_grid_complete():
    assert cases_with("deworm/") == DEWORM


def test_whole_models_fixture_is_used():
    """Every case of models.json belongs to a family that a test file checks case by case."""
    families = {"data/": "tests/models_ref.py", "vcalc/": "test_vcalc.py", "che/": "test_che.py",
                "mv/": "test_multivariate.py", "profile/": "test_models_inference.py",
                "anova/": "test_models_inference.py", "formula/": "test_models_inference.py",
                "resid/": "test_models_inference.py", "deworm/": "test_models_deworm.py"}
    unknown = [c for c in CASES if not any(c.startswith(f) for f in families) and c != "_names"]
    assert not unknown
    # "_names" documents the object names of the stored R calls: the cases it points to exist
    named = [v for k, v in CASES["_names"].items() if isinstance(v, str) and "/" in v
             and v.split()[0] in CASES]
    assert {"vcalc/assink2016_obs_rho0.6", "data/berkey1998"} <= set(named)
    assert cases_with("data/") == {"data/berkey1998", "data/ishak2007_long",
                                   "data/welch2016_main", "data/bcg"}


@pytest.fixture(scope="module")
def dw():
    return dataset("welch2016_main")


def test_data_as_recorded(dw):
    d = CASES["data/welch2016_main"]
    es = ek.effect_sizes(dw, measure="SMD", m1i="m1i", sd1i="sd1i", n1i="n1i", m2i="m2i",
                         sd2i="sd2i", n2i="n2i")
    np.testing.assert_allclose(es["yi"], d["yi"], rtol=1e-12)
    np.testing.assert_allclose(es["vi"], d["vi"], rtol=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_profile_shows_both_maxima(dw, method):
    ref = CASES["deworm/welch2016_profile"]
    res = ek.meta_analysis(dw, method=method)
    prof = res.profile(values=ref["tau2"])
    np.testing.assert_allclose(prof["ll"], ref[f"ll_{method}"], rtol=1e-10)
    np.testing.assert_allclose(prof["intercept"], ref[f"beta_{method}"], rtol=1e-10, atol=1e-14)


def test_stationary_points(dw):
    ref = CASES["deworm/welch2016_REML_stationary_points"]
    res = ek.meta_analysis(dw, method="REML")
    ll = res.profile(values=[0.0, ref["trough_tau2"], ref["interior_max_tau2"]])["ll"].to_numpy()
    np.testing.assert_allclose(ll, [ref["boundary_logLik"], ref["trough_logLik"],
                                    ref["interior_max_logLik"]], rtol=1e-10)
    assert ll[0] > ll[2] > ll[1]  # the boundary beats the interior local maximum


@pytest.mark.parametrize("case_id", sorted(c for c in DEWORM if c.endswith(("tight", "default"))
                                           or "init" in c))
def test_fit_reaches_the_global_maximum(dw, case_id):
    """metafor's fits end at (or next to) tau^2 = 0, the global maximum; the log-likelihood of
    ours must be at least as high."""
    ref = CASES[case_id]
    method = "ML" if "_ML_" in case_id else "REML"
    res = ek.meta_analysis(dw, method=method)
    if method == "REML" and res.ll < ref["fit"]["logLik"] - 1e-8:
        pytest.xfail("the tau^2 kernel (synthesis/_tau2.py) stops at the interior local maximum "
                     "tau^2 = 0.01517 (logLik 1.63394) below the boundary maximum at 0 (1.78632); "
                     "metafor warns and sets tau^2 = 0. Reported to the lead (kernel rewrite).")
    assert res.ll >= ref["fit"]["logLik"] - 1e-8
