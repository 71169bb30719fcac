"""Bayesian random-effects meta-analysis (``bayes_meta_analysis``), the model of R's bayesmeta.

Two oracles:
1. published: the bayesmeta package vignette's eight-schools example (Rubin 1981 data), printed
   output transcribed with locators into tests/data/published/bayesmeta_rubin1981_vignette.json;
2. identities: fixed tau gives the random-effects model; p(mu | tau) is the RE estimate at that
   tau; densities integrate to 1; a brute-force 2-D grid over (mu, tau) agrees to 1e-6; study
   order does not matter; scaling y, s and the priors by c scales the posterior by c.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from tolerances import published_atol

import evidence_kit as ek
from evidence_kit.plots.bayes import bayes_forest_plot, bayes_posterior_plot
from evidence_kit.synthesis.bayes import BayesMetaResult, bayes_meta_analysis

FIXTURE = json.loads((Path(__file__).parent / "data" / "published" / "bayesmeta_rubin1981_vignette.json")
                     .read_text(encoding="utf-8"))
SCHOOLS = FIXTURE["data"]
CRINS = FIXTURE["crins2014_log_or"]

# Tolerances (why each is what it is):
# - tau: bayesmeta integrates p(tau | y) with integrate() at rel.tol 2^16 eps (its documented
#   default), so its printed 7 significant digits are exact: compare to half a unit in the last
#   printed place.
# - mu, theta_new, theta_i: bayesmeta approximates p(mu | y) by a normal mixture over a tau grid
#   chosen to bound a divergence (its defaults delta = 0.01, epsilon = 1e-4), not exactly. On these
#   data our values agree with an independent dblquad integration to 1e-12 while bayesmeta's
#   printed ones differ by up to 0.005 posterior SDs (shrinkage modes; 0.0005 SDs for mu's
#   median). Compared at 0.01 posterior SDs.
BAYESMETA_MIXTURE_SD = 0.01
GRID_TOL = 1e-6  # brute-force 2-D Simpson integration against the quadrature (the brief's target)

STATS = [("mode", "mode"), ("median", "median"), ("mean", "mean"), ("sd", "sd"), ("lower", "shortest_lower"),
         ("upper", "shortest_upper")]


def _printed_atol(value: float) -> float:
    """Half a unit in the 7th significant digit, as R prints (0 printed as 0.000000 -> 5e-7)."""
    if value == 0:
        return published_atol(6)
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - 6)


def schools(**kw) -> BayesMetaResult:
    return bayes_meta_analysis(yi=SCHOOLS["effect"], sei=SCHOOLS["stderr"], slab=SCHOOLS["school"], **kw)


EX1 = dict(tau_prior="half-cauchy", tau_scale=25, mu_prior_mean=0, mu_prior_sd=50)
EX2 = dict(tau_prior="uniform")  # bayesmeta's defaults: improper uniform priors for tau and mu


# ----- 1. published: the bayesmeta vignette ---------------------------------------------------

@pytest.mark.parametrize("example, kwargs", [("example_1", EX1), ("example_2", EX2)])
def test_vignette_marginal_posterior_summary(example, kwargs):
    """'A simple example': print(schools.example.1) and print(schools.example.[12]$summary)."""
    res = schools(**kwargs)
    pub = FIXTURE[example]["summary"]
    for ours_row, pub_col in (("tau", "tau"), ("mu", "mu"), ("theta_new", "theta")):
        row = res.summary.loc[ours_row]
        for pub_stat, col in STATS:
            expected = pub[pub_col][pub_stat]
            if ours_row == "tau":
                assert row[col] == pytest.approx(expected, abs=_printed_atol(expected)), (ours_row, pub_stat)
            else:
                assert abs(row[col] - expected) <= BAYESMETA_MIXTURE_SD * row["sd"], (ours_row, pub_stat)


def test_vignette_posterior_functions():
    """'More detailed analysis': pposterior, qposterior and post.interval of schools.example.1."""
    ex = FIXTURE["example_1"]
    res = schools(**EX1)
    sd_mu = res.summary.loc["mu", "sd"]
    tau_q = res.quantile(0.95, "tau")[0]
    assert tau_q == pytest.approx(ex["qposterior_tau_0.95"], abs=_printed_atol(ex["qposterior_tau_0.95"]))
    lo, hi = res.interval("tau", kind="central")
    assert lo == pytest.approx(ex["post_interval_tau_central"][0], abs=_printed_atol(0.2199559))
    assert hi == pytest.approx(ex["post_interval_tau_central"][1], abs=_printed_atol(18.0531718))
    assert res.interval("tau") == pytest.approx(tuple(ex["post_interval_tau_shortest"]), abs=published_atol(5))
    assert abs(res.quantile(0.95, "mu")[0] - ex["qposterior_mu_0.95"]) <= BAYESMETA_MIXTURE_SD * sd_mu
    lo, hi = res.interval("mu")
    assert abs(lo - ex["post_interval_mu_shortest"][0]) <= BAYESMETA_MIXTURE_SD * sd_mu
    assert abs(hi - ex["post_interval_mu_shortest"][1]) <= BAYESMETA_MIXTURE_SD * sd_mu
    # P(mu > 0): a probability, so the mixture error bounds it in absolute terms
    assert res.probabilities.loc["> 0", "mu"] == pytest.approx(ex["prob_mu_gt_0"], abs=1e-4)
    assert 1 - res.cdf(0.0, "mu")[0] == pytest.approx(res.probabilities.loc["> 0", "mu"], abs=1e-14)


def test_vignette_shrinkage_estimates():
    """'More detailed analysis': schools.example.1$theta[, c("A", "G", "H")]."""
    res = schools(**EX1)
    for label, pub in FIXTURE["example_1"]["shrinkage"].items():
        row = res.shrinkage.loc[label]
        assert row["yi"] == pub["y"] and row["se"] == pytest.approx(pub["sigma"], rel=1e-15)
        for pub_stat, col in STATS:
            assert abs(row[col] - pub[pub_stat]) <= BAYESMETA_MIXTURE_SD * row["sd"], (label, pub_stat)
        assert res.interval(label) == pytest.approx((row["shortest_lower"], row["shortest_upper"]), abs=1e-9)


def test_vignette_ml_joint_is_the_equal_effects_estimate():
    """'ML joint' (tau = 0, mu = 7.870546) is the equal-effects estimate: checks the transcribed data."""
    ml = FIXTURE["example_1"]["ml_map"]["ML joint"]
    ee = ek.meta_analysis(yi=SCHOOLS["effect"], vi=np.square(SCHOOLS["stderr"]), method="EE")
    assert ee.estimate == pytest.approx(ml["mu"], abs=_printed_atol(ml["mu"]))
    assert schools(**EX1).summary.loc["tau", "mode"] == ml["tau"] == 0
    # 'MAP marginal' is the mode of the marginal posteriors (bayesmeta prints the same mode twice)
    assert FIXTURE["example_1"]["ml_map"]["MAP marginal"]["mu"] == FIXTURE["example_1"]["summary"]["mu"]["mode"]


# ----- 2. identities -----------------------------------------------------------------------

def crins(**kw) -> BayesMetaResult:
    return bayes_meta_analysis(yi=CRINS["yi"], vi=CRINS["vi"], slab=CRINS["publication"], **kw)


@pytest.mark.parametrize("method", ["REML", "DL", "EE"])
def test_point_mass_prior_is_the_random_effects_model(method):
    re = ek.meta_analysis(yi=CRINS["yi"], vi=CRINS["vi"], method=method)
    res = crins(tau_prior=math.sqrt(re.tau2))
    mu = res.summary.loc["mu"]
    for col in ("mean", "median", "mode"):
        assert mu[col] == pytest.approx(re.estimate, rel=1e-12, abs=1e-14)
    assert mu["sd"] == pytest.approx(re.se, rel=1e-12)
    assert (mu["ci_lower"], mu["ci_upper"]) == pytest.approx((re.ci_lower, re.ci_upper), rel=1e-10)
    assert (mu["shortest_lower"], mu["shortest_upper"]) == pytest.approx((re.ci_lower, re.ci_upper), rel=1e-10)
    pred = re.predict()  # z-based prediction interval: normal with variance se^2 + tau^2
    new = res.summary.loc["theta_new"]
    assert (new["ci_lower"], new["ci_upper"]) == pytest.approx(
        (pred["pi_lower"].iloc[0], pred["pi_upper"].iloc[0]), rel=1e-10)
    tau = res.summary.loc["tau"]
    assert tau["sd"] == 0 and tau["median"] == pytest.approx(math.sqrt(re.tau2), abs=0)


def test_conditional_mu_is_the_random_effects_estimate_at_that_tau():
    re = ek.meta_analysis(yi=CRINS["yi"], vi=CRINS["vi"], method="REML")
    res = crins(measure="OR")
    cond = res.conditional_mu(math.sqrt(re.tau2))
    assert cond["mean"].iloc[0] == pytest.approx(re.estimate, rel=1e-12)
    assert cond["sd"].iloc[0] == pytest.approx(re.se, rel=1e-12)
    # and directly by weighted least squares at several tau
    y, v = np.array(CRINS["yi"]), np.array(CRINS["vi"])
    tau = np.array([0.0, 0.1, 0.5, 2.0])
    w = 1 / (v[None, :] + tau[:, None] ** 2)
    cond = res.conditional_mu(tau)
    np.testing.assert_allclose(cond["mean"], (w @ y) / w.sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(cond["sd"], 1 / np.sqrt(w.sum(axis=1)), rtol=1e-13)
    # a normal mu prior is one more observation with variance sd^2
    res_n = crins(measure="OR", mu_prior_mean=-1, mu_prior_sd=2)
    cond = res_n.conditional_mu(tau)
    prec = w.sum(axis=1) + 1 / 4
    np.testing.assert_allclose(cond["mean"], (w @ y - 1 / 4) / prec, rtol=1e-13)


def test_fixed_tau_zero_is_the_equal_effects_model():
    ee = ek.meta_analysis(yi=CRINS["yi"], vi=CRINS["vi"], method="EE")
    res = crins(tau_prior=0.0)
    assert res.summary.loc["mu", "mean"] == pytest.approx(ee.estimate, rel=1e-12)
    assert res.summary.loc["mu", "sd"] == pytest.approx(ee.se, rel=1e-12)
    # shrinkage is complete at tau = 0: every theta_i equals mu
    np.testing.assert_allclose(res.shrinkage["mean"], ee.estimate, rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(measure="OR"), dict(tau_prior="half-cauchy", tau_scale=0.5, mu_prior_sd=3),
                                    dict(tau_prior="uniform"), dict(tau_prior="jeffreys")])
def test_densities_integrate_to_one_and_quantiles_invert_the_cdf(kwargs):
    res = crins(**kwargs)
    total, _ = integrate.quad(lambda t: res.density([t], "tau")[0], 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)
    assert total == pytest.approx(1, abs=1e-8)
    for par in ("mu", "theta_new", "Spada (2006)"):
        total, _ = integrate.quad(lambda x, p=par: res.density([x], p)[0], -np.inf, np.inf, epsabs=0, epsrel=1e-10,
                                  limit=200)
        assert total == pytest.approx(1, abs=1e-8), par
        p = np.array([0.001, 0.1, 0.5, 0.9, 0.999])
        np.testing.assert_allclose(res.cdf(res.quantile(p, par), par), p, rtol=0, atol=1e-12)
    p = np.array([0.01, 0.3, 0.5, 0.8, 0.99])
    np.testing.assert_allclose(res.cdf(res.quantile(p, "tau"), "tau"), p, rtol=0, atol=1e-12)
    # the tau CDF is the integral of the density
    t = res.quantile(0.7, "tau")[0]
    part, _ = integrate.quad(lambda x: res.density([x], "tau")[0], 0, t, epsabs=0, epsrel=1e-12)
    assert part == pytest.approx(0.7, abs=1e-9)
    assert res.tau_weights.sum() == pytest.approx(1, abs=1e-14)


def _simpson(n):
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w / 3


def _grid(y, v, log_tau_prior, mu_sd, tau_max, mu_lo, mu_hi, n=2001):
    """Brute force: the joint posterior on an n x n grid over (tau, mu), Simpson's rule in both."""
    tau = np.linspace(0, tau_max, n)
    mu = np.linspace(mu_lo, mu_hi, n)
    wt, wm = _simpson(n) * (tau[1] - tau[0]), _simpson(n) * (mu[1] - mu[0])
    logp = np.empty((n, n))
    for s in range(0, n, 200):
        t = tau[s:s + 200, None, None]
        var = v[None, None, :] + t * t
        logp[s:s + 200] = -0.5 * np.sum(np.log(2 * np.pi * var) + (y - mu[None, :, None]) ** 2 / var, axis=2)
    logp += log_tau_prior(tau)[:, None]
    if mu_sd is not None:
        logp += stats.norm.logpdf(mu, 0, mu_sd)[None, :]
    c = logp.max()
    e = np.exp(logp - c)
    Z = wt @ e @ wm
    ft, fm = (e @ wm) / Z, (wt @ e) / Z  # marginal densities of tau and mu on the grid
    pt, pm = ft * wt, fm * wm
    return dict(tau=tau, mu=mu, ft=ft, fm=fm, pt=pt, pm=pm, log_evidence=c + math.log(Z),
                mean_mu=pm @ mu, sd_mu=math.sqrt(pm @ (mu - pm @ mu) ** 2),
                mean_tau=pt @ tau, sd_tau=math.sqrt(pt @ (tau - pt @ tau) ** 2))


@pytest.mark.parametrize("case", ["half-normal, uniform mu", "half-Cauchy, normal mu"])
def test_brute_force_grid_integration_agrees(case):
    y, v = np.array(CRINS["yi"]), np.array(CRINS["vi"])
    if case.startswith("half-normal"):
        res = crins(tau_prior="half-normal", tau_scale=0.5, threshold=1)
        g = _grid(y, v, lambda t: stats.halfnorm.logpdf(t, scale=0.5), None, 4, -7, 5)
    else:
        res = crins(tau_prior="half-cauchy", tau_scale=0.5, mu_prior_sd=2, threshold=1)
        g = _grid(y, v, lambda t: stats.halfcauchy.logpdf(t, scale=0.5), 2, 50, -13, 11)
    s = res.summary
    assert s.loc["mu", "mean"] == pytest.approx(g["mean_mu"], abs=GRID_TOL)
    assert s.loc["mu", "sd"] == pytest.approx(g["sd_mu"], abs=GRID_TOL)
    assert s.loc["tau", "mean"] == pytest.approx(g["mean_tau"], abs=GRID_TOL)
    assert s.loc["tau", "sd"] == pytest.approx(g["sd_tau"], abs=GRID_TOL)
    assert res.probabilities.loc["< -1", "mu"] == pytest.approx(res.cdf(-1.0, "mu")[0], abs=1e-15)
    assert res.cdf(-1.0, "mu")[0] == pytest.approx(_cdf_on_grid(g["mu"], g["fm"], -1.0), abs=GRID_TOL)
    assert res.cdf(0.5, "tau")[0] == pytest.approx(_cdf_on_grid(g["tau"], g["ft"], 0.5), abs=GRID_TOL)
    # evidence: log p(y) where both priors are proper; else the Bayes factor for tau = 0 (the flat
    # mu prior's constant cancels): p(y | tau = 0) on the same mu grid over p(y)
    z0 = _evidence_tau0(y, v, g["mu"], None if case.startswith("half-normal") else 2)
    assert res.bayes_factor_tau0 == pytest.approx(math.exp(z0 - g["log_evidence"]), rel=GRID_TOL)
    if not case.startswith("half-normal"):
        assert res.log_marginal_likelihood == pytest.approx(g["log_evidence"], abs=GRID_TOL)


def _cdf_on_grid(x, f, at):
    """P(X <= at) by Simpson's rule on the grid up to ``at``, which must be a node an even number of
    intervals from the start (the grids above are chosen so)."""
    j = int(round((at - x[0]) / (x[1] - x[0])))
    assert abs(x[j] - at) < 1e-9 and j % 2 == 0
    return float(_simpson(j + 1) @ f[: j + 1] * (x[1] - x[0]))


def _evidence_tau0(y, v, mu, mu_sd):
    ll = -0.5 * np.sum(np.log(2 * np.pi * v) + (y[None, :] - mu[:, None]) ** 2 / v, axis=1)
    if mu_sd is not None:
        ll += stats.norm.logpdf(mu, 0, mu_sd)
    w = _simpson(mu.size) * (mu[1] - mu[0])
    c = ll.max()
    return c + math.log(np.sum(np.exp(ll - c) * w))


def test_bayes_factor_for_mu_zero_is_savage_dickey():
    res = crins(tau_prior="half-normal", tau_scale=0.5, mu_prior_sd=2)
    y, v = np.array(CRINS["yi"]), np.array(CRINS["vi"])

    def lik_mu0(t):  # p(tau) p(y | mu = 0, tau)
        return stats.halfnorm.pdf(t, scale=0.5) * np.prod(stats.norm.pdf(y, 0, np.sqrt(v + t * t)))

    p_mu0, _ = integrate.quad(lik_mu0, 0, np.inf, epsabs=0, epsrel=1e-12)
    assert res.bayes_factor_mu0 == pytest.approx(p_mu0 / math.exp(res.log_marginal_likelihood), rel=1e-8)


def test_study_order_does_not_matter():
    res = crins(measure="OR", threshold=0.25)
    perm = [3, 0, 5, 1, 4, 2]
    res_p = bayes_meta_analysis(yi=np.array(CRINS["yi"])[perm], vi=np.array(CRINS["vi"])[perm],
                                slab=np.array(CRINS["publication"])[perm], measure="OR", threshold=0.25)
    pd.testing.assert_frame_equal(res.summary, res_p.summary, rtol=1e-10)
    pd.testing.assert_frame_equal(res.shrinkage, res_p.shrinkage.loc[res.shrinkage.index], rtol=1e-10)
    pd.testing.assert_frame_equal(res.probabilities, res_p.probabilities, rtol=1e-10)


@pytest.mark.parametrize("c", [0.01, 3.7, 250.0])
def test_scaling_y_s_and_priors_scales_the_posterior(c):
    base = dict(tau_prior="half-cauchy", mu_prior_sd=2, mu_prior_mean=-0.5, threshold=0.25)
    res = bayes_meta_analysis(yi=CRINS["yi"], vi=CRINS["vi"], tau_scale=0.5, **base)
    scaled = dict(base, mu_prior_sd=2 * c, mu_prior_mean=-0.5 * c, threshold=0.25 * c)
    res_c = bayes_meta_analysis(yi=np.array(CRINS["yi"]) * c, vi=np.array(CRINS["vi"]) * c * c, tau_scale=0.5 * c,
                                **scaled)
    np.testing.assert_allclose(res_c.summary.to_numpy(), c * res.summary.to_numpy(), rtol=1e-9, atol=1e-12 * c)
    np.testing.assert_allclose(res_c.shrinkage.to_numpy(), c * res.shrinkage.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(res_c.probabilities.to_numpy(), res.probabilities.to_numpy(), rtol=1e-9)
    assert res_c.bayes_factor_tau0 == pytest.approx(res.bayes_factor_tau0, rel=1e-9)
    assert res_c.bayes_factor_mu0 == pytest.approx(res.bayes_factor_mu0, rel=1e-9)
    # densities of y scale by c^-k: log p(y) shifts by -k log c
    assert res_c.log_marginal_likelihood == pytest.approx(res.log_marginal_likelihood - 6 * math.log(c), abs=1e-9)


def test_shifting_y_shifts_mu_under_the_uniform_prior():
    res = crins(measure="OR")
    res_s = bayes_meta_analysis(yi=np.array(CRINS["yi"]) + 10, vi=CRINS["vi"], measure="OR")
    for row in ("mu", "theta_new"):
        for col in ("mode", "median", "mean", "ci_lower", "ci_upper", "shortest_lower", "shortest_upper"):
            assert res_s.summary.loc[row, col] == pytest.approx(res.summary.loc[row, col] + 10, abs=1e-9)
    pd.testing.assert_series_equal(res_s.summary.loc["tau"], res.summary.loc["tau"], rtol=1e-10)


def test_normal_mu_prior_tends_to_the_uniform_prior():
    flat = crins(measure="OR").summary
    wide = crins(measure="OR", mu_prior_sd=1e5).summary
    np.testing.assert_allclose(wide.to_numpy(), flat.to_numpy(), rtol=1e-6, atol=1e-7)


def test_jeffreys_prior_is_the_root_fisher_information_of_tau():
    """p(tau) ∝ sqrt(I(tau)); I(tau) = -E[d^2 log L/d tau^2] computed here by finite differences of
    the expected log-likelihood of y_i ~ N(mu, s_i^2 + tau^2), independently of the closed form."""
    v = np.array(CRINS["vi"])
    res = crins(tau_prior="jeffreys")

    def info(t0, h=1e-4):
        def expected_ll(t):  # E over y ~ N(mu, v + t0^2) of log N(y; mu, v + t^2)
            return np.sum(-0.5 * np.log(v + t * t) - (v + t0 * t0) / (2 * (v + t * t)))
        return -(expected_ll(t0 + h) - 2 * expected_ll(t0) + expected_ll(t0 - h)) / (h * h)

    taus = np.array([0.05, 0.3, 1.0, 4.0])
    ratio = res.prior_density(taus, "tau") / np.sqrt([info(t) for t in taus])
    np.testing.assert_allclose(ratio / ratio[0], 1, rtol=1e-6)


def test_improper_priors_need_enough_studies_and_heavy_tails_lack_moments():
    with pytest.raises(ValueError, match="improper posterior"):
        bayes_meta_analysis(yi=CRINS["yi"][:2], vi=CRINS["vi"][:2], tau_prior="uniform")
    with pytest.raises(ValueError, match="improper posterior"):
        bayes_meta_analysis(yi=CRINS["yi"][:1], vi=CRINS["vi"][:1], tau_prior="jeffreys")
    res = bayes_meta_analysis(yi=CRINS["yi"][:3], vi=CRINS["vi"][:3], tau_prior="uniform")
    assert math.isinf(res.summary.loc["tau", "mean"]) and math.isinf(res.summary.loc["tau", "sd"])
    assert math.isnan(res.summary.loc["mu", "mean"]) and math.isinf(res.summary.loc["mu", "sd"])
    assert np.isfinite(res.summary.loc["mu", ["median", "ci_lower", "ci_upper"]].astype(float)).all()
    assert math.isnan(res.bayes_factor_tau0) and math.isnan(res.log_marginal_likelihood)
    # a normal mu prior bounds the variance of mu given tau, so mu keeps its moments
    res = bayes_meta_analysis(yi=CRINS["yi"][:2], vi=CRINS["vi"][:2], tau_prior="uniform", mu_prior_sd=5)
    assert np.isfinite(res.summary.loc["mu", "sd"]) and math.isinf(res.summary.loc["tau", "mean"])


def test_proper_uniform_prior_is_bounded():
    res = crins(tau_prior="uniform", tau_scale=1.0)
    assert res.quantile(1.0, "tau")[0] == 1.0 and res.summary.loc["tau", "ci_upper"] < 1
    assert res.density([1.5], "tau")[0] == 0 and np.isfinite(res.bayes_factor_tau0)
    total, _ = integrate.quad(lambda t: res.density([t], "tau")[0], 0, 1, epsabs=0, epsrel=1e-10)
    assert total == pytest.approx(1, abs=1e-9)


def test_default_tau_scale_by_measure_and_errors():
    assert crins(measure="OR").tau_scale == 0.5
    assert crins(measure="smd").tau_scale == 0.5
    with pytest.raises(ValueError, match="tau_scale is needed"):
        crins()
    with pytest.raises(ValueError, match="tau_scale is needed"):
        crins(measure="RR")
    with pytest.raises(ValueError, match="unknown tau_prior 'gamma'; expected one of half-normal, half-cauchy"):
        crins(tau_prior="gamma")
    with pytest.raises(ValueError, match="no scale"):
        crins(tau_prior="jeffreys", tau_scale=1)
    with pytest.raises(ValueError, match="mu_prior_sd"):
        crins(measure="OR", mu_prior="normal")
    with pytest.raises(ValueError, match="positive"):
        bayes_meta_analysis(yi=[0.1, 0.2], vi=[0.1, 0.0], tau_prior=0.1)
    assert crins(tau_prior="HalfNormal", tau_scale=1).tau_prior == "half-normal"


def test_data_frame_input_sei_and_missing_rows():
    df = pd.DataFrame({"y": CRINS["yi"] + [np.nan], "se": list(np.sqrt(CRINS["vi"])) + [0.3]},
                      index=CRINS["publication"] + ["missing"])
    res = bayes_meta_analysis(df, yi="y", sei="se", measure="OR")
    assert res.k == 6 and list(res.omitted) == ["missing"]
    pd.testing.assert_frame_equal(res.summary, crins(measure="OR").summary, rtol=1e-12)
    assert list(res.shrinkage.index) == CRINS["publication"]


def test_threshold_probabilities():
    res = crins(measure="OR", threshold=-0.25)  # the sign is ignored: |t|
    p = res.probabilities
    assert list(p.index) == ["> 0", "> 0.25", "< -0.25"]
    assert p.loc["< -0.25", "mu"] == pytest.approx(res.cdf(-0.25, "mu")[0], abs=1e-15)
    assert p.loc["> 0.25", "theta_new"] == pytest.approx(1 - res.cdf(0.25, "theta_new")[0], abs=1e-14)
    assert (p.loc["> 0.25"] <= p.loc["> 0"]).all()


def test_text_and_html_reports():
    res = schools(**EX1, threshold=5)
    text = repr(res)
    assert text.startswith("Bayesian Random-Effects Model (k = 8;")
    assert "tau prior: half-Cauchy(scale = 25)" in text and "mu prior:  normal(mean = 0, sd = 50)" in text
    assert "4.7585" in text and "15.1659" in text  # tau median and shortest upper bound
    assert "Pr(mu > 5) =" in text and "BF01" in text
    html = res._repr_html_()
    assert "<table" in html and "Shrinkage estimates (8 studies)" in html and "half-Cauchy" in html
    fixed = repr(crins(tau_prior=0.2))
    assert "fixed at tau = 0.2000" in fixed and "improper" in fixed


def test_plots_take_and_return_ax():
    res = schools(**EX1, threshold=5)
    fig, axs = plt.subplots(1, 3)
    assert bayes_posterior_plot(res, "mu", ax=axs[0]) is axs[0]
    assert bayes_posterior_plot(res, "tau", ax=axs[1], interval="central") is axs[1]
    ax = bayes_forest_plot(res, ax=axs[2])
    assert ax is axs[2] and len(ax.get_yticklabels()) == 8 + 2
    assert len(axs[1].lines) >= 2  # posterior and prior curves
    with pytest.raises(ValueError, match="point-mass"):
        bayes_posterior_plot(crins(tau_prior=0.1), "tau")
    plt.close(fig)


@pytest.mark.parametrize("tau_prior", ["half-normal", "jeffreys"])
def test_modes_are_maxima_of_the_marginal_densities(tau_prior):
    rng = np.random.default_rng(7)
    vi = rng.uniform(0.01, 0.05, 30)
    yi = 0.3 + rng.normal(0, np.sqrt(vi + 0.09))  # true tau 0.3: an interior mode
    res = bayes_meta_analysis(yi=yi, vi=vi, tau_prior=tau_prior, tau_scale=None if tau_prior == "jeffreys" else 1)
    for par in ("tau", "mu", "theta_new", 4):
        row = res.summary.loc[par] if par != 4 else res.shrinkage.iloc[4]
        label = par if par != 4 else res.slab[4]
        m, h = row["mode"], 1e-3 * row["sd"]
        assert m > 0 or par != "tau"
        f = res.density([m - h, m, m + h], label)
        assert f[1] >= f[0] and f[1] >= f[2], par
        assert res.density([m - 1e-6 * row["sd"]], label)[0] == pytest.approx(f[1], rel=1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_random_data_intervals_and_modes(seed):
    """Shortest intervals hold exactly the level and are no longer than the equal-tailed ones;
    modes are local maxima; no solver warnings, across priors, k and heterogeneity."""
    rng = np.random.default_rng(seed)
    k = int(rng.choice([2, 3, 5, 12, 40]))
    vi = rng.uniform(0.005, 0.5, k)
    yi = rng.normal(rng.normal(0, 1), np.sqrt(vi + rng.choice([0, 0.05, 0.5]) ** 2))
    prior = [dict(tau_prior="half-normal", tau_scale=0.5), dict(tau_prior="half-cauchy", tau_scale=0.3),
             dict(tau_prior="jeffreys"), dict(tau_prior="uniform", tau_scale=2),
             dict(tau_prior="half-normal", tau_scale=0.5, mu_prior_sd=1)][seed % 5]
    with np.errstate(all="raise", under="ignore"):  # tail densities may underflow to 0
        res = bayes_meta_analysis(yi=yi, vi=vi, threshold=0.25, **prior)
    for par in ("tau", "mu", "theta_new"):
        s = res.summary.loc[par]
        mass = res.cdf(s["shortest_upper"], par)[0] - res.cdf(s["shortest_lower"], par)[0]
        assert mass == pytest.approx(0.95, abs=1e-9), par
        assert s["shortest_upper"] - s["shortest_lower"] <= (s["ci_upper"] - s["ci_lower"]) * (1 + 1e-9), par
        h = 1e-3 * (s["ci_upper"] - s["ci_lower"])
        f = res.density([max(s["mode"] - h, 0), s["mode"], s["mode"] + h], par)
        assert f[1] >= max(f[0], f[2]) * (1 - 1e-12), par
    sh = res.shrinkage
    assert (sh["shortest_upper"] - sh["shortest_lower"] <= (sh["ci_upper"] - sh["ci_lower"]) * (1 + 1e-9)).all()
    assert ((sh["median"] - sh["ci_lower"] > 0) & (sh["ci_upper"] - sh["median"] > 0)).all()
