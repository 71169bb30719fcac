# Reference fixtures for certainty/umbrella.py: what a published meta-analysis reports
# (pooled effect and 95% CI on the reported scale, tau^2, I^2, k) from metafor fits of metadat
# datasets, with metafor's SE and p value that umbrella_credibility must rebuild from the CI,
# the 95% prediction interval with t on k - 2 df (Higgins, Thompson & Spiegelhalter 2009), and
# Egger's regression test (regtest) for the small-study criterion.
# Run from the repository root:  Rscript tests/reference/umbrella.R
suppressMessages({library(metafor); library(metadat)})
source("tests/reference/_json.R")

ctrl <- list(threshold = 1e-10, tol = 1e-10)

umbrella_case <- function(id, measure, call, back) {
  r <- eval(parse(text = call))
  eg <- regtest(r)
  crit <- qt(0.975, r$k - 2)
  half <- crit * sqrt(r$tau2 + r$se^2)   # Higgins et al. 2009; Riley et al. 2011
  list(id = id, call = call, measure = measure, k = r$k,
       estimate = back(as.numeric(r$beta)), ci_lower = back(r$ci.lb), ci_upper = back(r$ci.ub),
       yi = as.numeric(r$beta), se = r$se, zval = r$zval, pval = r$pval,
       tau2 = r$tau2, i2 = r$I2,
       pi_lower = as.numeric(r$beta) - half, pi_upper = as.numeric(r$beta) + half,
       egger_call = "regtest(r)", egger_pval = eg$pval)
}

dat_bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
dat_mol <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
dat_bd <- dat.bangertdrowns2004
dat_or <- escalc(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)

cases <- list(
  umbrella_case("bcg_rr_reml", "RR",
    "rma(yi, vi, data = dat_bcg, method = 'REML', control = ctrl)", exp),
  umbrella_case("bcg_or_dl", "OR",
    "rma(yi, vi, data = dat_or, method = 'DL')", exp),
  umbrella_case("molloy_r_reml", "r",
    "rma(yi, vi, data = dat_mol, method = 'REML', control = ctrl)", tanh),
  umbrella_case("bangertdrowns_smd_reml", "SMD",
    "rma(yi, vi, data = dat_bd, method = 'REML', control = ctrl)", identity)
)
names(cases) <- vapply(cases, function(x) x$id, character(1))
write_fixture(cases, "tests/reference/umbrella.json", "tests/reference/umbrella.R")
