# Reference fixtures for multilevel.py and robust.py: metafor rma.mv (nested random effects),
# robust() CR1 and clubSandwich CR2 (coef_test Satterthwaite, conf_int, Wald_test HTZ).
# Run from the repository root:  Rscript tests/reference/multilevel.R
suppressMessages({library(metafor); library(clubSandwich)})
source("tests/reference/_json.R")

ctrl <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)
ctrl2 <- list(optimizer = "BFGS", reltol = 1e-12)
# nlminb at rel.tol = 1e-12 reports false convergence on some of these flat likelihoods; then
# optim's BFGS at reltol = 1e-12 is used, and the call string says so.
fit_mv <- function(call) {
  r <- try(eval(parse(text = call)), silent = TRUE)
  if (!inherits(r, "try-error")) return(list(r = r, call = call))
  call <- sub("control = ctrl", "control = ctrl2", call, fixed = TRUE)
  list(r = eval(parse(text = call)), call = call)
}

# multilevel I^2 as in the metafor FAQ / Cheung 2014: typical sampling variance (k-p)/tr(P)
ml_i2 <- function(r) {
  W <- diag(1 / r$vi)
  X <- model.matrix(r)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  100 * r$sigma2 / (sum(r$sigma2) + (r$k - r$p) / sum(diag(P)))
}

ml_case <- function(call, r) {
  list(call = call, k = r$k, method = r$method, test = r$test,
       sigma2 = arr(r$sigma2), n_groups = arr(r$s.nlevels),
       terms = arr(rownames(r$beta)),
       beta = arr(r$beta), se = arr(r$se), zval = arr(r$zval), pval = arr(r$pval),
       ci_lb = arr(r$ci.lb), ci_ub = arr(r$ci.ub),
       QE = r$QE, QEp = r$QEp, QM = r$QM, QMdf = arr(r$QMdf), QMp = r$QMp,
       logLik = as.numeric(logLik(r)), i2 = arr(ml_i2(r)),
       predict = { pr <- predict(r); lapply(list(pred = pr$pred, se = pr$se, ci_lb = pr$ci.lb,
                   ci_ub = pr$ci.ub, pi_lb = pr$pi.lb, pi_ub = pr$pi.ub), function(v) arr(unname(v))) })
}

robust_case <- function(call, r, cluster, wald_coefs) {
  cr1 <- robust(r, cluster = cluster)
  vc <- vcovCR(r, cluster = cluster, type = "CR2")
  ct <- coef_test(r, vcov = vc, test = "Satterthwaite")
  ci <- conf_int(r, vcov = vc, test = "Satterthwaite", level = 0.95)
  out <- list(call = call, n_clusters = length(unique(cluster)),
              terms = arr(rownames(r$beta)),
              cr1_se = arr(cr1$se), cr1_tval = arr(cr1$zval), cr1_df = cr1$dfs,
              cr1_pval = arr(cr1$pval), cr1_ci_lb = arr(cr1$ci.lb), cr1_ci_ub = arr(cr1$ci.ub),
              cr1_vb = unname(cr1$vb),
              cr2_vb = unname(as.matrix(vc)), cr2_se = arr(ct$SE), cr2_tstat = arr(ct$tstat),
              cr2_df = arr(ct$df_Satt), cr2_pval = arr(ct$p_Satt),
              cr2_ci_lb = arr(ci$CI_L), cr2_ci_ub = arr(ci$CI_U))
  if (r$p > 1) {
    out$cr1_QM <- cr1$QM; out$cr1_QMdf <- arr(cr1$QMdf); out$cr1_QMp <- cr1$QMp
    w <- Wald_test(r, constraints = constrain_zero(2:r$p), vcov = vc, test = "HTZ")
    out$cr2_wald_F <- w$Fstat; out$cr2_wald_df_num <- w$df_num
    out$cr2_wald_df_denom <- w$df_denom; out$cr2_wald_p <- w$p_val
  }
  if (!is.null(wald_coefs)) {
    w <- Wald_test(r, constraints = constrain_zero(wald_coefs), vcov = vc, test = "HTZ")
    out$wald_terms <- arr(rownames(r$beta)[wald_coefs])
    out$wald_F <- w$Fstat; out$wald_df_num <- w$df_num; out$wald_df_denom <- w$df_denom
    out$wald_p <- w$p_val
  }
  out
}

cases <- list()
kon <- dat.konstantopoulos2011
asn <- dat.assink2016
bd <- dat.bangertdrowns2004
cre <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.crede2010)
cre$esid <- seq_len(nrow(cre))
add <- function(id, call) {
  f <- fit_mv(call)
  cases[[id]] <<- ml_case(sub("data = asn", "data = dat.assink2016", sub("data = cre", "data = escalc(measure = 'ZCOR', ri = ri, ni = ni, data = dat.crede2010)", sub("data = kon", "data = dat.konstantopoulos2011", sub("control = ctrl", "control = list(rel.tol = 1e-12)",
                              sub("control = ctrl2", "control = list(optimizer = 'BFGS', reltol = 1e-12)", f$call, fixed = TRUE), fixed = TRUE), fixed = TRUE), fixed = TRUE), fixed = TRUE), f$r)
}

for (m in c("REML", "ML")) {
  add(paste0("konstantopoulos_", m), sprintf('rma.mv(yi, vi, random = ~ 1 | district/school, data = kon, method = "%s", control = ctrl)', m))

  add(paste0("konstantopoulos_year_", m), sprintf('rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = kon, method = "%s", control = ctrl)', m))

  add(paste0("assink_", m), sprintf('rma.mv(yi, vi, random = ~ 1 | study/esid, data = asn, method = "%s", control = ctrl)', m))

  add(paste0("assink_deltype_", m), sprintf('rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = asn, method = "%s", control = ctrl)', m))
}
for (m in c("REML", "ML"))
  add(paste0("assink_pubstatus_", m), sprintf('rma.mv(yi, vi, random = ~ 1 | pubstatus/study/esid, data = asn, method = "%s", control = ctrl)', m))
for (m in c("REML", "ML"))
  add(paste0("crede_criterion_", m), sprintf('rma.mv(yi, vi, mods = ~ criterion, random = ~ 1 | studyid/esid, data = cre, method = "%s", control = ctrl)', m))
add("assink_deltype_year_t", 'rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = asn, test = "t", control = ctrl)')

robust_cases <- list()
r <- rma.mv(yi, vi, random = ~ 1 | district/school, data = kon, control = ctrl)
robust_cases[["konstantopoulos_district"]] <- robust_case(
  "robust(rma.mv(yi, vi, random = ~ 1 | district/school, data = dat.konstantopoulos2011), cluster = district); clubSandwich CR2", r, kon$district, NULL)
r <- fit_mv("rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = kon, control = ctrl)")$r
robust_cases[["konstantopoulos_year_district"]] <- robust_case(
  "robust(rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat.konstantopoulos2011), cluster = district); clubSandwich CR2", r, kon$district, NULL)
r <- fit_mv("rma.mv(yi, vi, random = ~ 1 | study/esid, data = asn, control = ctrl)")$r
robust_cases[["assink_study"]] <- robust_case(
  "robust(rma.mv(yi, vi, random = ~ 1 | study/esid, data = dat.assink2016), cluster = study); clubSandwich CR2", r, asn$study, NULL)
r <- fit_mv("rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = asn, control = ctrl)")$r
robust_cases[["assink_deltype_year_study"]] <- robust_case(
  "robust(rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat.assink2016), cluster = study); clubSandwich CR2; Wald_test on the deltype dummies", r, asn$study, 2:3)
r <- fit_mv("rma.mv(yi, vi, mods = ~ criterion, random = ~ 1 | studyid/esid, data = cre, control = ctrl)")$r
robust_cases[["crede_criterion_studyid"]] <- robust_case(
  "robust(rma.mv(yi, vi, mods = ~ criterion, random = ~ 1 | studyid/esid, data = escalc(measure = \"ZCOR\", ri = ri, ni = ni, data = dat.crede2010)), cluster = studyid); clubSandwich CR2", r, cre$studyid, NULL)
r <- rma(yi, vi, mods = ~ imag + grade, data = bd, control = list(threshold = 1e-10, tol = 1e-10, maxiter = 1000))
robust_cases[["bangertdrowns_imag_grade_id"]] <- robust_case(
  "robust(rma(yi, vi, mods = ~ imag + grade, data = dat.bangertdrowns2004), cluster = id); clubSandwich CR2", r, bd$id, 2)
r <- rma(yi, vi, data = bd, control = list(threshold = 1e-10, tol = 1e-10, maxiter = 1000))
robust_cases[["bangertdrowns_grade"]] <- robust_case(
  "robust(rma(yi, vi, data = dat.bangertdrowns2004), cluster = grade); clubSandwich CR2", r, bd$grade, NULL)

write_fixture(list(multilevel = cases, robust = robust_cases), "tests/reference/multilevel.json", "tests/reference/multilevel.R")
