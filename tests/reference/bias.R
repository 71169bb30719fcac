# Reference fixtures for bias.py, _selection.py and permutation.py: metafor regtest, ranktest,
# trimfill, fsn, tes, selmodel and permutest on dat.hackshaw1998, dat.egger2001 and dat.bcg.
# Run from the repository root:  Rscript tests/reference/bias.R
suppressMessages(library(metafor))
source("tests/reference/_json.R")

ctrl <- list(threshold = 1e-10, tol = 1e-10, maxiter = 1000)

hack <- dat.hackshaw1998
egg <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
egg$ni <- egg$n1i + egg$n2i
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg$ni <- with(bcg, tpos + tneg + cpos + cneg)

# the data each case was computed on, so the Python tests need no effect-size code
data <- list(
  hackshaw1998 = list(call = "dat.hackshaw1998", yi = arr(hack$yi), vi = arr(hack$vi)),
  egger2001 = list(call = 'escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)',
                   yi = arr(c(egg$yi)), vi = arr(egg$vi), ni = arr(egg$ni)),
  bcg = list(call = 'escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)',
             yi = arr(c(bcg$yi)), vi = arr(bcg$vi), ni = arr(bcg$ni), ablat = arr(bcg$ablat))
)
dsets <- list(hackshaw1998 = hack, egger2001 = egg, bcg = bcg)

fitrma <- function(d, method, mods = NULL) {
  if (is.null(mods)) rma(yi, vi, data = dsets[[d]], method = method, control = ctrl)
  else rma(yi, vi, mods = mods, data = dsets[[d]], method = method, control = ctrl)
}

regtest_cases <- list()
add_reg <- function(id, d, method, predictor = "sei", model = "rma", mods = NULL, test = "z") {
  x <- if (is.null(mods)) rma(yi, vi, data = dsets[[d]], method = method, test = test, control = ctrl)
       else rma(yi, vi, mods = mods, data = dsets[[d]], method = method, test = test, control = ctrl)
  r <- if (predictor %in% c("sei", "vi")) regtest(x, model = model, predictor = predictor)
       else regtest(x, model = model, predictor = predictor, ni = dsets[[d]]$ni)
  regtest_cases[[id]] <<- list(
    call = sprintf('regtest(rma(yi, vi, %sdata = %s, method = "%s", test = "%s", control = ctrl), model = "%s", predictor = "%s")',
                   if (is.null(mods)) "" else "mods = ~ ablat, ", d, method, test, model, predictor),
    data = d, method = method, test = test, predictor = predictor, model = model,
    mods = !is.null(mods), zval = r$zval, pval = r$pval, dfs = if (is.null(r$dfs)) NA else r$dfs,
    est = if (is.null(r$est)) NA else unname(r$est),
    ci_lb = if (is.null(r$ci.lb)) NA else r$ci.lb, ci_ub = if (is.null(r$ci.ub)) NA else r$ci.ub)
}
for (d in c("hackshaw1998", "egger2001", "bcg")) {
  for (m in c("REML", "EE", "DL")) add_reg(paste0(d, "_", m, "_sei"), d, m)
  add_reg(paste0(d, "_REML_vi"), d, "REML", "vi")
  add_reg(paste0(d, "_lm_sei"), d, "EE", "sei", "lm")
  add_reg(paste0(d, "_lm_vi"), d, "EE", "vi", "lm")
  add_reg(paste0(d, "_REML_sei_knha"), d, "REML", "sei", test = "knha")
}
for (pr in c("ni", "ninv", "sqrtninv")) {
  add_reg(paste0("egger2001_REML_", pr), "egger2001", "REML", pr)
  add_reg(paste0("bcg_REML_", pr), "bcg", "REML", pr)
}
add_reg("bcg_REML_ablat_sei", "bcg", "REML", "sei", mods = ~ ablat)
add_reg("bcg_lm_ablat_sei", "bcg", "EE", "sei", "lm", mods = ~ ablat)

ranktest_cases <- list()
for (d in c("hackshaw1998", "egger2001", "bcg")) {
  r <- suppressWarnings(ranktest(fitrma(d, "REML")))
  ranktest_cases[[d]] <- list(call = sprintf("ranktest(rma(yi, vi, data = %s))", d), data = d,
                              tau = unname(r$tau), pval = r$pval)
}

r <- ranktest(fitrma("hackshaw1998", "REML"), exact = FALSE)
ranktest_cases[["hackshaw1998_normal"]] <- list(call = "ranktest(rma(yi, vi, data = hackshaw1998), exact = FALSE)",
                                               data = "hackshaw1998", tau = unname(r$tau), pval = r$pval)

trimfill_cases <- list()
for (d in c("hackshaw1998", "egger2001", "bcg")) for (m in c("REML", "EE", "DL")) for (e in c("L0", "R0")) {
  x <- fitrma(d, m)
  r <- trimfill(x, estimator = e, control = ctrl)
  trimfill_cases[[paste(d, m, e, sep = "_")]] <- list(
    call = sprintf('trimfill(rma(yi, vi, data = %s, method = "%s", control = ctrl), estimator = "%s", control = ctrl)', d, m, e),
    data = d, method = m, estimator = e, side = r$side, k0 = r$k0, se_k0 = r$se.k0,
    p_k0 = if (is.null(r$p.k0)) NA else r$p.k0, k = r$k, beta = unname(c(r$beta)), se = r$se,
    ci_lb = r$ci.lb, ci_ub = r$ci.ub, tau2 = r$tau2, QE = r$QE, yi = arr(c(r$yi)), vi = arr(r$vi),
    fill = arr(if (is.null(r$fill)) rep(FALSE, r$k) else r$fill))
}
for (s in c("left", "right")) {
  x <- fitrma("bcg", "REML")
  r <- trimfill(x, side = s, control = ctrl)
  trimfill_cases[[paste0("bcg_REML_L0_", s)]] <- list(
    call = sprintf('trimfill(rma(yi, vi, data = bcg, control = ctrl), side = "%s", control = ctrl)', s),
    data = "bcg", method = "REML", estimator = "L0", side = r$side, k0 = r$k0, se_k0 = r$se.k0,
    p_k0 = NA, k = r$k, beta = unname(c(r$beta)), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
    tau2 = r$tau2, QE = r$QE, yi = arr(c(r$yi)), vi = arr(r$vi),
    fill = arr(if (is.null(r$fill)) rep(FALSE, r$k) else r$fill))
}

x <- rma(yi, vi, data = hack, test = "knha", control = ctrl)
r <- trimfill(x, test = "knha", control = ctrl)
trimfill_cases[["hackshaw1998_REML_L0_knha"]] <- list(
  call = 'trimfill(rma(yi, vi, data = hackshaw1998, test = "knha", control = ctrl), test = "knha", control = ctrl)',
  data = "hackshaw1998", method = "REML", estimator = "L0", side = r$side, k0 = r$k0, se_k0 = r$se.k0,
  p_k0 = NA, k = r$k, beta = unname(c(r$beta)), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
  tau2 = r$tau2, QE = r$QE, yi = arr(c(r$yi)), vi = arr(r$vi), fill = arr(r$fill))

fsn_cases <- list()
for (d in c("hackshaw1998", "egger2001", "bcg")) {
  dd <- dsets[[d]]
  for (t in c("Rosenthal", "Orwin", "Rosenberg")) {
    r <- fsn(yi, vi, data = dd, type = t)
    fsn_cases[[paste(d, t, sep = "_")]] <- list(call = sprintf('fsn(yi, vi, data = %s, type = "%s")', d, t),
      data = d, type = t, fsnum = r$fsnum, pval = r$pval, meanes = r$meanes, target = r$target)
  }
  r <- fsn(yi, vi, data = dd, type = "Orwin", weighted = TRUE, target = 0.05)
  fsn_cases[[paste0(d, "_Orwin_weighted_target")]] <- list(
    call = sprintf('fsn(yi, vi, data = %s, type = "Orwin", weighted = TRUE, target = 0.05)', d),
    data = d, type = "Orwin", fsnum = r$fsnum, pval = r$pval, meanes = r$meanes, target = r$target)
  r <- fsn(yi, vi, data = dd, type = "Rosenthal", alpha = 0.01)
  fsn_cases[[paste0(d, "_Rosenthal_alpha01")]] <- list(
    call = sprintf('fsn(yi, vi, data = %s, type = "Rosenthal", alpha = 0.01)', d),
    data = d, type = "Rosenthal", fsnum = r$fsnum, pval = r$pval, meanes = r$meanes, target = r$target)
}

tes_cases <- list()
for (d in c("hackshaw1998", "egger2001", "bcg")) for (m in c("EE", "REML")) {
  x <- fitrma(d, m)
  r <- tes(x, rel.tol = 1e-12, subdivisions = 1000L, progbar = FALSE)
  tes_cases[[paste(d, m, sep = "_")]] <- list(
    call = sprintf('tes(rma(yi, vi, data = %s, method = "%s", control = ctrl), rel.tol = 1e-12)', d, m),
    data = d, method = m, O = r$O, E = r$E, OEratio = r$OEratio, test = r$test, X2 = r$X2, pval = r$pval,
    theta = unname(r$theta), power = arr(r$power), theta_lim = if (is.null(r$theta.lim)) NA else r$theta.lim)
}

# step-function selection models; nlminb and optim's BFGS stop early on these flat likelihoods,
# Nelder-Mead at reltol 1e-15 reaches the optimum (checked against BFGS and nlminb runs)
selctrl <- list(optimizer = "Nelder-Mead", reltol = 1e-15, maxit = 100000)
selmodel_cases <- list()
add_sel <- function(id, d, m, steps, alternative) {
  x <- rma(yi, vi, data = dsets[[d]], method = m, control = ctrl)
  s <- selmodel(x, type = "stepfun", steps = steps, alternative = alternative, control = selctrl)
  selmodel_cases[[id]] <<- list(
    call = sprintf('selmodel(rma(yi, vi, data = %s, method = "%s", control = ctrl), type = "stepfun", steps = c(%s), alternative = "%s", control = list(optimizer = "Nelder-Mead", reltol = 1e-15, maxit = 100000))',
                   d, m, paste(steps, collapse = ", "), alternative),
    data = d, method = m, steps = arr(steps), alternative = alternative,
    beta = unname(c(s$beta)), se = s$se, zval = s$zval, pval = s$pval, ci_lb = s$ci.lb, ci_ub = s$ci.ub,
    tau2 = s$tau2, se_tau2 = s$se.tau2, delta = arr(s$delta), se_delta = arr(s$se.delta),
    pval_delta = arr(s$pval.delta), ll = s$ll, LRT = s$LRT, LRTdf = s$LRTdf, LRTp = s$LRTp,
    k_interval = arr(s$ptable$k))
}
for (m in c("REML", "EE")) {
  add_sel(paste0("hackshaw1998_", m), "hackshaw1998", m, c(0.025, 1), "greater")
  add_sel(paste0("egger2001_", m), "egger2001", m, c(0.025, 1), "less")
  add_sel(paste0("bcg_", m), "bcg", m, c(0.025, 1), "less")
}
add_sel("hackshaw1998_REML_3steps", "hackshaw1998", "REML", c(0.025, 0.5, 1), "greater")
x <- rma(yi, vi, mods = ~ ablat, data = bcg, control = ctrl)
s <- selmodel(x, type = "stepfun", steps = c(0.025, 1), alternative = "less", control = selctrl)
selmodel_cases[["bcg_REML_ablat"]] <- list(
  call = 'selmodel(rma(yi, vi, mods = ~ ablat, data = bcg, control = ctrl), type = "stepfun", steps = c(0.025, 1), alternative = "less", control = list(optimizer = "Nelder-Mead", reltol = 1e-15, maxit = 100000))',
  data = "bcg", method = "REML", steps = arr(c(0.025, 1)), alternative = "less",
  beta = arr(unname(c(s$beta))), se = arr(s$se), zval = arr(s$zval), pval = arr(s$pval),
  ci_lb = arr(s$ci.lb), ci_ub = arr(s$ci.ub), tau2 = s$tau2, se_tau2 = s$se.tau2,
  delta = arr(s$delta), se_delta = arr(s$se.delta), pval_delta = arr(s$pval.delta), ll = s$ll,
  LRT = s$LRT, LRTdf = s$LRTdf, LRTp = s$LRTp, k_interval = arr(s$ptable$k))

# exact permutation tests (every sign flip / every row order), so the p-values are reproducible
permutest_cases <- list()
bcg7 <- bcg[1:7, ]
dsets$bcg7 <- bcg7
for (m in c("REML", "DL", "EE")) {
  x <- rma(yi, vi, data = bcg, method = m, control = ctrl)
  r <- permutest(x, exact = TRUE, progbar = FALSE)
  permutest_cases[[paste0("bcg_", m)]] <- list(
    call = sprintf('permutest(rma(yi, vi, data = bcg, method = "%s", control = ctrl), exact = TRUE)', m),
    data = "bcg", rows = 13, method = m, mods = FALSE, pval = arr(r$pval), QMp = r$QMp,
    n_perm = sum(!is.na(r$zval.perm)))
  x <- rma(yi, vi, mods = ~ ablat, data = bcg7, method = m, control = ctrl)
  r <- permutest(x, exact = TRUE, progbar = FALSE)
  permutest_cases[[paste0("bcg7_ablat_", m)]] <- list(
    call = sprintf('permutest(rma(yi, vi, mods = ~ ablat, data = bcg[1:7, ], method = "%s", control = ctrl), exact = TRUE)', m),
    data = "bcg", rows = 7, method = m, mods = TRUE, pval = arr(r$pval), QMp = r$QMp,
    n_perm = sum(!is.na(r$zval.perm[, 1])))
}

x <- rma(yi, vi, mods = ~ ablat, data = bcg7, test = "knha", control = ctrl)
r <- permutest(x, exact = TRUE, progbar = FALSE)
permutest_cases[["bcg7_ablat_REML_knha"]] <- list(
  call = 'permutest(rma(yi, vi, mods = ~ ablat, data = bcg[1:7, ], test = "knha", control = ctrl), exact = TRUE)',
  data = "bcg", rows = 7, method = "REML", test = "knha", mods = TRUE, pval = arr(r$pval), QMp = r$QMp,
  n_perm = sum(!is.na(r$zval.perm[, 1])))

cases <- list(data = data, regtest = regtest_cases, ranktest = ranktest_cases,
              trimfill = trimfill_cases, fsn = fsn_cases, tes = tes_cases,
              permutest = permutest_cases, selmodel = selmodel_cases)
write_fixture(cases, "tests/reference/bias.json", "tests/reference/bias.R")
