# metafor reference fixtures for meta_analysis(test="t"): t (and F) tests on k - p degrees of
# freedom without the Knapp-Hartung scaling, as rma(..., test = "t").
# Run from the repository root:  Rscript tests/reference/synthesis_t.R

source("tests/reference/_json.R")
suppressPackageStartupMessages(library(metafor))

ctrl <- list(threshold = 1e-10, tol = 1e-10, maxiter = 10000)
cases <- list()
run <- function(call) eval(parse(text = call), envir = globalenv())
arrn <- function(x) if (is.null(x)) NA else arr(x)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)

t_case <- function(call, method, mods) {
  res <- run(call)
  pr <- predict(res)
  list(call = call, dataset = "bcg", method = method, test = "t", mods = arr(mods), k = res$k,
       beta = arr(as.vector(res$beta)), se = arr(res$se), tval = arr(res$zval), pval = arr(res$pval),
       ci_lb = arr(res$ci.lb), ci_ub = arr(res$ci.ub), dfs = res$ddf[1], tau2 = res$tau2,
       QM = res$QM, QMp = res$QMp, QMdf = arr(res$QMdf),
       pred = arr(as.vector(pr$pred)), pi_lb = arrn(as.vector(pr$pi.lb)), pi_ub = arrn(as.vector(pr$pi.ub)))
}

for (m in c("EE", "DL", "REML")) {
  call <- sprintf('rma(yi, vi, data=bcg, method="%s", test="t", control=ctrl)', m)
  cases[[paste("t", "bcg", m, sep = "/")]] <- t_case(call, m, character(0))
}
for (m in c("DL", "REML")) {
  call <- sprintf('rma(yi, vi, mods=~ ablat, data=bcg, method="%s", test="t", control=ctrl)', m)
  cases[[paste("t", "bcg", "ablat", m, sep = "/")]] <- t_case(call, m, "ablat")
}
call <- 'rma(yi, vi, mods=~ ablat + factor(alloc), data=bcg, method="REML", test="t", control=ctrl)'
cases[["t/bcg/ablat+alloc/REML"]] <- t_case(call, "REML", c("ablat", "alloc"))

write_fixture(cases, "tests/reference/synthesis_t.json", "tests/reference/synthesis_t.R")
