# Reference fixtures for egger_test() on a multilevel model: metafor's regtest() does not take
# rma.mv models, so the test is the multilevel model refitted with the standard error (or the
# variance) as a moderator, as metafor's documentation of regtest() suggests for rma.mv:
#   rma.mv(yi, vi, mods = ~ sqrt(vi), random = ~ 1 | a/b)
# The coefficient of sqrt(vi) is the test; the intercept the limit estimate. Also weights() of
# the multilevel fits (forest plots draw them) and predict() of the intercept-only fits.
# Run from the repository root:  Rscript tests/reference/bias_multilevel.R
suppressMessages(library(metafor))
source("tests/reference/_json.R")

ctrl <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)
ctrl2 <- list(optimizer = "BFGS", reltol = 1e-12)
# nlminb at rel.tol = 1e-12 reports false convergence on some flat likelihoods; then optim's BFGS
# at reltol = 1e-12 is used, and the call string says so (as tests/reference/multilevel.R).
fit_mv <- function(call) {
  r <- try(eval(parse(text = call)), silent = TRUE)
  if (!inherits(r, "try-error")) return(list(r = r, call = call))
  call <- sub("control = ctrl", "control = ctrl2", call, fixed = TRUE)
  list(r = eval(parse(text = call)), call = call)
}
kon <- dat.konstantopoulos2011
asn <- dat.assink2016

egger_case <- function(call, base_call, predictor) {
  f <- fit_mv(call); r <- f$r; call <- f$call
  g <- fit_mv(base_call); b <- g$r; base_call <- g$call
  j <- r$p  # the predictor is the last coefficient
  pr <- predict(b)
  list(call = call, base_call = base_call, predictor = predictor, k = r$k, method = r$method, test = r$test,
       terms = arr(rownames(r$beta)), beta = arr(r$beta), se = arr(r$se), zval = arr(r$zval),
       pval = arr(r$pval), ci_lb = arr(r$ci.lb), ci_ub = arr(r$ci.ub),
       statistic = r$zval[j], pvalue = r$pval[j], df = if (r$test == "t") r$k - r$p else NA,
       sigma2 = arr(r$sigma2),
       base_weights = arr(unname(weights(b))), base_slab = arr(as.character(seq_len(b$k))),
       base_predict = list(pred = pr$pred, se = pr$se, ci_lb = pr$ci.lb, ci_ub = pr$ci.ub,
                           pi_lb = pr$pi.lb, pi_ub = pr$pi.ub))
}

cases <- list()
add <- function(id, data_name, random, method, test, predictor, mods = "") {
  pred_term <- if (predictor == "sei") "sqrt(vi)" else "vi"
  rhs <- if (mods == "") pred_term else paste(mods, "+", pred_term)
  base_mods <- if (mods == "") "" else sprintf("mods = ~ %s, ", mods)
  call <- sprintf('rma.mv(yi, vi, mods = ~ %s, random = ~ 1 | %s, data = %s, method = "%s", test = "%s", control = ctrl)',
                  rhs, random, data_name, method, test)
  base <- sprintf('rma.mv(yi, vi, %srandom = ~ 1 | %s, data = %s, method = "%s", test = "%s", control = ctrl)',
                  base_mods, random, data_name, method, test)
  case <- egger_case(call, base, predictor)
  full <- function(x) {
    x <- sub("control = ctrl2", "control = list(optimizer = 'BFGS', reltol = 1e-12)", x, fixed = TRUE)
    x <- sub("control = ctrl", "control = list(rel.tol = 1e-12)", x, fixed = TRUE)
    x <- sub("data = kon", "data = dat.konstantopoulos2011", x, fixed = TRUE)
    sub("data = asn", "data = dat.assink2016", x, fixed = TRUE)
  }
  case$call <- full(case$call)
  case$base_call <- full(case$base_call)
  cases[[id]] <<- case
}

for (m in c("REML", "ML")) add(paste0("konstantopoulos_sei_", m), "kon", "district/school", m, "z", "sei")
add("konstantopoulos_sei_REML_t", "kon", "district/school", "REML", "t", "sei")
add("konstantopoulos_vi_REML", "kon", "district/school", "REML", "z", "vi")
add("konstantopoulos_year_sei_REML", "kon", "district/school", "REML", "z", "sei", mods = "year")
add("assink_sei_REML", "asn", "study/esid", "REML", "z", "sei")

write_fixture(cases, "tests/reference/bias_multilevel.json", "tests/reference/bias_multilevel.R")
