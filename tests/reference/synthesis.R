# metafor reference fixtures for the synthesis engine (evidence_kit.synthesis).
# Run from the repository root:  Rscript tests/reference/synthesis.R
# Every case stores the R call that produced it ("call"); effect sizes are computed here with
# escalc() and stored under "data/<name>" so the Python tests do not depend on effect_sizes().
# Iterative fits use control = list(threshold = 1e-10, tol = 1e-10) and Q-profile intervals
# confint(..., control = list(tol = 1e-10)), so the fixtures hold the exact optima.

source("tests/reference/_json.R")
suppressPackageStartupMessages(library(metafor))

ctrl <- list(threshold = 1e-10, tol = 1e-10, maxiter = 10000)
cases <- list()
run <- function(call) eval(parse(text = call), envir = globalenv())
# arr() that keeps NULL (e.g. no prediction interval in an EE model) as NA
arrn <- function(x) if (is.null(x)) NA else arr(x)

# ---- data -------------------------------------------------------------------------------------
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
rau <- dat.raudenbush1985
bd  <- dat.bangertdrowns2004
cr  <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.crede2010)
nor <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
              data = dat.normand1999)

cases[["data/bcg"]] <- list(call = 'escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)',
  yi = arr(as.vector(bcg$yi)), vi = arr(as.vector(bcg$vi)), ablat = arr(bcg$ablat), year = arr(bcg$year),
  alloc = arr(bcg$alloc), ai = arr(bcg$tpos), bi = arr(bcg$tneg), ci = arr(bcg$cpos), di = arr(bcg$cneg))
cases[["data/raudenbush1985"]] <- list(call = "dat.raudenbush1985",
  yi = arr(rau$yi), vi = arr(rau$vi), weeks = arr(rau$weeks), setting = arr(rau$setting), tester = arr(rau$tester))
cases[["data/bangertdrowns2004"]] <- list(call = "dat.bangertdrowns2004",
  yi = arr(bd$yi), vi = arr(bd$vi), length = arr(bd$length), meta = arr(bd$meta), grade = arr(bd$grade))
cases[["data/crede2010"]] <- list(call = 'escalc(measure="ZCOR", ri=ri, ni=ni, data=dat.crede2010)',
  yi = arr(as.vector(cr$yi)), vi = arr(as.vector(cr$vi)), class = arr(cr$class), year = arr(cr$year))
cases[["data/normand1999"]] <- list(call = 'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)',
  yi = arr(as.vector(nor$yi)), vi = arr(as.vector(nor$vi)))

datasets <- c(bcg = "bcg", raudenbush1985 = "rau", bangertdrowns2004 = "bd", crede2010 = "cr", normand1999 = "nor")

# ---- one fitted model -------------------------------------------------------------------------
fit_case <- function(call, dataset, method, test, mods = NULL) {
  res <- run(call)
  pr <- predict(res)
  list(call = call, dataset = dataset, method = method, test = test, mods = if (is.null(mods)) arr(character(0)) else arr(mods),
       k = res$k, omitted = arr(which(!res$not.na)),
       beta = arr(as.vector(res$beta)), se = arr(res$se), zval = arr(res$zval), pval = arr(res$pval),
       ci_lb = arr(res$ci.lb), ci_ub = arr(res$ci.ub), vb = unname(res$vb),
       tau2 = res$tau2, se_tau2 = res$se.tau2, I2 = res$I2, H2 = res$H2,
       QE = res$QE, QEp = res$QEp, QM = res$QM, QMp = res$QMp,
       R2 = if (is.null(res$R2)) NA else res$R2, ll = as.numeric(logLik(res)),
       weights = arr(as.vector(weights(res))),
       pred = arr(as.vector(pr$pred)), pred_se = arr(as.vector(pr$se)),
       pred_ci_lb = arr(as.vector(pr$ci.lb)), pred_ci_ub = arr(as.vector(pr$ci.ub)),
       pi_lb = arrn(as.vector(pr$pi.lb)), pi_ub = arrn(as.vector(pr$pi.ub)))
}

methods <- c("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
tests <- c("z", "knha")

# intercept-only: every method x test on every dataset
for (ds in names(datasets)) for (m in methods) for (t in tests) {
  call <- sprintf('rma(yi, vi, data=%s, method="%s", test="%s", control=ctrl)', datasets[[ds]], m, t)
  cases[[paste("fit", ds, m, t, sep = "/")]] <- fit_case(call, ds, m, t)
}

# meta-regression: continuous and categorical moderators
mods_models <- list(
  list(ds = "bcg", mods = c("ablat"), f = "~ ablat"),
  list(ds = "bcg", mods = c("ablat", "alloc"), f = "~ ablat + factor(alloc)"),
  list(ds = "bcg", mods = c("alloc"), f = "~ factor(alloc)"),
  list(ds = "raudenbush1985", mods = c("weeks"), f = "~ weeks"),
  list(ds = "bangertdrowns2004", mods = c("length", "meta"), f = "~ length + meta"),
  list(ds = "crede2010", mods = c("class", "year"), f = "~ factor(class) + year")
)
for (mm in mods_models) for (m in methods) for (t in tests) {
  call <- sprintf('rma(yi, vi, mods=%s, data=%s, method="%s", test="%s", control=ctrl)',
                  mm$f, datasets[[mm$ds]], m, t)
  cases[[paste("mods", mm$ds, paste(mm$mods, collapse = "+"), m, t, sep = "/")]] <- fit_case(call, mm$ds, m, t, mm$mods)
}

# predictions at new moderator values
pred_case <- function(fitcall, newcall, dataset, method, test, mods, newmods) {
  assign("res", run(fitcall), envir = globalenv())
  pr <- run(sprintf("predict(res, newmods=%s)", newcall))
  list(call = paste0("res <- ", fitcall, "; predict(res, newmods=", newcall, ")"), dataset = dataset,
       method = method, test = test, mods = arr(mods), newmods = newmods,
       pred = arr(as.vector(pr$pred)), se = arr(as.vector(pr$se)), ci_lb = arr(as.vector(pr$ci.lb)),
       ci_ub = arr(as.vector(pr$ci.ub)), pi_lb = arrn(as.vector(pr$pi.lb)), pi_ub = arrn(as.vector(pr$pi.ub)))
}
for (t in tests) {
  cases[[paste0("predict/bcg/ablat+alloc/REML/", t)]] <- pred_case(
    sprintf('rma(yi, vi, mods=~ ablat + factor(alloc), data=bcg, method="REML", test="%s", control=ctrl)', t),
    "cbind(c(10, 30, 50), c(0, 1, 0), c(0, 0, 1))", "bcg", "REML", t, c("ablat", "alloc"),
    list(c(10, 0, 0), c(30, 1, 0), c(50, 0, 1)))
  cases[[paste0("predict/raudenbush1985/weeks/DL/", t)]] <- pred_case(
    sprintf('rma(yi, vi, mods=~ weeks, data=rau, method="DL", test="%s", control=ctrl)', t),
    "c(0, 1, 5, 20)", "raudenbush1985", "DL", t, c("weeks"), list(0, 1, 5, 20))
}

# Q-profile confidence intervals
for (ds in names(datasets)) for (m in c("DL", "REML", "PM", "ML")) {
  call <- sprintf('confint(rma(yi, vi, data=%s, method="%s", control=ctrl), control=list(tol=1e-10))', datasets[[ds]], m)
  ci <- run(call)$random
  cases[[paste("confint", ds, m, sep = "/")]] <- list(call = call, dataset = ds, method = m, mods = arr(character(0)),
    tau2 = arr(ci["tau^2", ]), I2 = arr(ci["I^2(%)", ]), H2 = arr(ci["H^2", ]))
}
for (mm in mods_models[c(1, 4)]) {
  call <- sprintf('confint(rma(yi, vi, mods=%s, data=%s, method="REML", control=ctrl), control=list(tol=1e-10))',
                  mm$f, datasets[[mm$ds]])
  ci <- run(call)$random
  cases[[paste("confint", mm$ds, paste(mm$mods, collapse = "+"), "REML", sep = "/")]] <- list(call = call,
    dataset = mm$ds, method = "REML", mods = arr(mm$mods), tau2 = arr(ci["tau^2", ]), I2 = arr(ci["I^2(%)", ]),
    H2 = arr(ci["H^2", ]))
}

# leave-one-out, cumulative, influence
for (spec in list(c("bcg", "REML"), c("raudenbush1985", "DL"), c("normand1999", "PM"), c("bcg", "EE"))) {
  ds <- spec[1]; m <- spec[2]
  fitcall <- sprintf('rma(yi, vi, data=%s, method="%s", control=ctrl)', datasets[[ds]], m)
  l1 <- run(sprintf("leave1out(%s)", fitcall))
  cases[[paste("leave1out", ds, m, sep = "/")]] <- list(call = sprintf("leave1out(%s)", fitcall), dataset = ds, method = m,
    estimate = arr(l1$estimate), se = arr(l1$se), zval = arr(l1$zval), pval = arr(l1$pval), ci_lb = arr(l1$ci.lb),
    ci_ub = arr(l1$ci.ub), QE = arr(l1$Q), QEp = arr(l1$Qp), tau2 = arrn(l1$tau2), I2 = arr(l1$I2), H2 = arr(l1$H2))
  cu <- run(sprintf("cumul(%s)", fitcall))
  cases[[paste("cumul", ds, m, sep = "/")]] <- list(call = sprintf("cumul(%s)", fitcall), dataset = ds, method = m,
    estimate = arr(cu$estimate), se = arr(cu$se), zval = arr(cu$zval), pval = arr(cu$pvals), ci_lb = arr(cu$ci.lb),
    ci_ub = arr(cu$ci.ub), QE = arr(cu$Q), QEp = arr(cu$Qp), tau2 = arrn(cu$tau2), I2 = arr(cu$I2), H2 = arr(cu$H2))
}
# Knapp-Hartung leave-one-out, cumulative in year order, and a 90% level
fitcall <- 'rma(yi, vi, data=bcg, method="REML", test="knha", control=ctrl)'
l1 <- run(sprintf("leave1out(%s)", fitcall))
cases[["leave1out/bcg/REML/knha"]] <- list(call = sprintf("leave1out(%s)", fitcall), dataset = "bcg", method = "REML",
  estimate = arr(l1$estimate), se = arr(l1$se), zval = arr(l1$tval), pval = arr(l1$pval), ci_lb = arr(l1$ci.lb),
  ci_ub = arr(l1$ci.ub), QE = arr(l1$Q), QEp = arr(l1$Qp), tau2 = arrn(l1$tau2), I2 = arr(l1$I2), H2 = arr(l1$H2))
call <- 'cumul(rma(yi, vi, data=bcg, method="DL", control=ctrl), order=bcg$year)'
cu <- run(call)
cases[["cumul/bcg/DL/year"]] <- list(call = call, dataset = "bcg", method = "DL", added = arr(cu$slab),
  estimate = arr(cu$estimate), se = arr(cu$se), zval = arr(cu$zval), pval = arr(cu$pvals), ci_lb = arr(cu$ci.lb),
  ci_ub = arr(cu$ci.ub), QE = arr(cu$Q), QEp = arr(cu$Qp), tau2 = arrn(cu$tau2), I2 = arr(cu$I2), H2 = arr(cu$H2))
for (spec in list(c("bcg", "REML", "knha"), c("raudenbush1985", "PM", "z"))) {
  call <- sprintf('rma(yi, vi, data=%s, method="%s", test="%s", level=90, control=ctrl)', datasets[[spec[1]]], spec[2], spec[3])
  cases[[paste("level90", spec[1], spec[2], spec[3], sep = "/")]] <- fit_case(call, spec[1], spec[2], spec[3])
}

infl_case <- function(fitcall, ds, m, mods) {
  inf <- run(sprintf("influence(%s)", fitcall))
  list(call = sprintf("influence(%s)", fitcall), dataset = ds, method = m, mods = arr(mods),
       rstudent = arr(inf$inf$rstudent), dffits = arr(inf$inf$dffits), cook_d = arr(inf$inf$cook.d),
       cov_r = arr(inf$inf$cov.r), tau2_del = arr(inf$inf$tau2.del), QE_del = arr(inf$inf$QE.del),
       hat = arr(inf$inf$hat), weight = arr(inf$inf$weight), dfbs = unname(as.matrix(inf$dfbs)))
}
cases[["influence/bcg/REML"]] <- infl_case('rma(yi, vi, data=bcg, method="REML", control=ctrl)', "bcg", "REML", character(0))
cases[["influence/raudenbush1985/DL"]] <- infl_case('rma(yi, vi, data=rau, method="DL", control=ctrl)', "raudenbush1985", "DL", character(0))
cases[["influence/bcg/ablat/REML"]] <- infl_case('rma(yi, vi, mods=~ ablat, data=bcg, method="REML", control=ctrl)', "bcg", "REML", "ablat")
cases[["influence/bcg/EE"]] <- infl_case('rma(yi, vi, data=bcg, method="EE", control=ctrl)', "bcg", "EE", character(0))
cases[["influence/bcg/ablat+alloc/DL"]] <- infl_case('rma(yi, vi, mods=~ ablat + factor(alloc), data=bcg, method="DL", control=ctrl)', "bcg", "DL", c("ablat", "alloc"))
cases[["influence/raudenbush1985/REML/knha"]] <- infl_case('rma(yi, vi, data=rau, method="REML", test="knha", control=ctrl)', "raudenbush1985", "REML", character(0))

# Mantel-Haenszel and Peto
for (ms in c("OR", "RR", "RD")) {
  call <- sprintf('rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, measure="%s")', ms)
  res <- run(call)
  cases[[paste0("mh/bcg/", ms)]] <- list(call = call, measure = ms, beta = res$beta[1], se = res$se, zval = res$zval,
    pval = res$pval, ci_lb = res$ci.lb, ci_ub = res$ci.ub, QE = res$QE, QEp = res$QEp,
    MH = res$MH, MHp = res$MHp)
}
# tables with zero cells (continuity correction in the per-study yi/vi of the Q test)
niel <- dat.nielweise2007
cases[["data/nielweise2007"]] <- list(call = "dat.nielweise2007", ai = arr(niel$ai), n1i = arr(niel$n1i),
  ci = arr(niel$ci), n2i = arr(niel$n2i))
for (ms in c("OR", "RR", "RD")) {
  call <- sprintf('rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.nielweise2007, measure="%s")', ms)
  res <- run(call)
  cases[[paste0("mh/nielweise2007/", ms)]] <- list(call = call, measure = ms, beta = res$beta[1], se = res$se,
    zval = res$zval, pval = res$pval, ci_lb = res$ci.lb, ci_ub = res$ci.ub, QE = res$QE, QEp = res$QEp,
    MH = res$MH, MHp = res$MHp, k = res$k)
}
call <- 'rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.nielweise2007)'
res <- run(call)
cases[["peto/nielweise2007"]] <- list(call = call, beta = res$beta[1], se = res$se, zval = res$zval, pval = res$pval,
  ci_lb = res$ci.lb, ci_ub = res$ci.ub, QE = res$QE, QEp = res$QEp)

call <- 'rma.peto(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)'
res <- run(call)
cases[["peto/bcg"]] <- list(call = call, beta = res$beta[1], se = res$se, zval = res$zval, pval = res$pval,
  ci_lb = res$ci.lb, ci_ub = res$ci.ub, QE = res$QE, QEp = res$QEp)

# subgroup analysis: separate models per group, then the equal-effects test of the group estimates
for (m in c("REML", "DL")) {
  groups <- sort(unique(as.character(bcg$alloc)))
  fits <- lapply(groups, function(g) rma(yi, vi, data = bcg, subset = alloc == g, method = m, control = ctrl))
  est <- sapply(fits, function(f) f$beta[1]); sei <- sapply(fits, function(f) f$se)
  between <- rma(est, sei = sei, mods = ~ factor(groups), method = "EE")
  cases[[paste0("subgroup/bcg/alloc/", m)]] <- list(
    call = sprintf('per group g: rma(yi, vi, data=bcg, subset=alloc==g, method="%s", control=ctrl); then rma(est, sei=se, mods=~factor(group), method="EE")', m),
    method = m, groups = arr(groups), k = arr(sapply(fits, function(f) f$k)), estimate = arr(est), se = arr(sei),
    tau2 = arr(sapply(fits, function(f) f$tau2)), QE = arr(sapply(fits, function(f) f$QE)),
    Q_between = between$QM, Q_between_df = between$QMdf[1], Q_between_p = between$QMp)
}

print(warnings())
# groups where metafor's default Fisher scoring fails ("did not converge"); simulated by
# benchmarks/bench_meta_analysis.py batch_data() and stored at full precision in
# tests/reference/synthesis_hard_groups.csv. With damped steps (stepadj = 0.5) metafor converges.
hard <- read.csv("tests/reference/synthesis_hard_groups.csv")
for (g in sort(unique(hard$group))) {
  s <- hard[hard$group == g, ]
  default <- try(suppressWarnings(rma(s$yi, s$vi, method = "REML")), silent = TRUE)
  call <- sprintf('rma(yi, vi, data=hard[hard$group == %d, ], method="REML", control=list(stepadj=0.5, maxiter=10000, threshold=1e-10, tol=1e-10))', g)
  res <- run(call)
  cases[[paste0("hard/REML/", g)]] <- list(call = call, group = g, default_fails = inherits(default, "try-error"),
    beta = res$beta[1], se = res$se, tau2 = res$tau2, se_tau2 = res$se.tau2, QE = res$QE, ll = as.numeric(logLik(res)))
}

write_fixture(cases, "tests/reference/synthesis.json", "tests/reference/synthesis.R")
