# Reference fixtures beyond models.R for code-models: profile-likelihood CIs of the variances and
# correlation of a multivariate model, and a likelihood-ratio test between two G structures.
# Run from the repository root:  Rscript tests/reference/models_extra.R
suppressMessages(library(metafor))
source("tests/reference/_json.R")

dat <- dat.berkey1998
V <- vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = dat)
ctrl <- list(optimizer = "bobyqa", rhoend = 1e-12, maxfun = 100000)
cases <- list()
for (m in c("REML", "ML")) {
  call <- sprintf('rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat.berkey1998, method = "%s", control = list(optimizer = "bobyqa", rhoend = 1e-12, maxfun = 100000)); V <- vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = dat.berkey1998)', m)
  r <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat,
              method = m, control = ctrl)
  ci <- function(x) list(estimate = x[1, 1], ci_lb = x[1, 2], ci_ub = x[1, 3])
  cases[[paste0("mv_confint/berkey1998_UN_", m)]] <- list(
    call = call, logLik = as.numeric(logLik(r)), tau2 = arr(r$tau2), rho = arr(r$rho),
    tau2_1 = ci(confint(r, tau2 = 1, control = list(tol = 1e-10))$random),
    tau2_2 = ci(confint(r, tau2 = 2, control = list(tol = 1e-10))$random),
    rho_1 = ci(confint(r, rho = 1, control = list(tol = 1e-10))$random))
}
un <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat,
             method = "ML", control = ctrl)
cs <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "CS", data = dat,
             method = "ML", control = ctrl)
a <- anova(un, cs)
cases[["mv_lrt/berkey1998_UN_vs_CS_ML"]] <- list(
  call = "anova(rma.mv(..., struct = 'UN', method = 'ML'), rma.mv(..., struct = 'CS', method = 'ML')) with the models of mv_confint",
  LRT = a$LRT, pval = a$pval, p_full = a$parms.f, p_reduced = a$parms.r,
  fit_full = arr(unlist(a$fit.stats.f)), fit_reduced = arr(unlist(a$fit.stats.r)))
write_fixture(cases, "tests/reference/models_extra.json", "tests/reference/models_extra.R")
