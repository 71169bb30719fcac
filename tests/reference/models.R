# Reference fixtures for the models of issue 16: vcalc (sampling covariance matrices), the CHE
# working model (rma.mv with V= and random = ~ 1 | study/esid, CR2 robust inference with
# clubSandwich), multivariate models (random = ~ outcome | study with UN/CS/DIAG/AR/HAR),
# profile-likelihood CIs and profile() points, anova (Wald btt, LRT), fitstats, formulas, BLUPs,
# standardized residuals, and the deworming REML local-maximum case.
#
# Run from the repository root:  Rscript tests/reference/models.R
# (or from tests/reference:     Rscript models.R; both write tests/reference/models.json)
#
# Conventions (as multilevel.R / synthesis.R):
# - every case stores the R call(s) that produced it; inputs are named metadat datasets shipped
#   under src/evidence_kit/data/metadat/ (dat.assink2016, dat.konstantopoulos2011, dat.bcg,
#   dat.bangertdrowns2004, dat.kalaian1996, dat.hasselblad1998) or, for data not shipped
#   (dat.berkey1998, dat.ishak2007, the deworming trials), their rows under "data/<name>".
# - row indices ("rows") are 1-based positions in the data as given in the case's "data".
# - V matrices are written as blocks: list of {cluster, rows, V} with V the block (row-major).
# - rma.uni: control = list(threshold = 1e-10, maxiter = 10000) (tol = 1e-10 for uniroot in
#   confint); rma.mv: fitted with nlminb (rel.tol = 1e-12), bobyqa (rhoend = 1e-12) and optim BFGS
#   (reltol = 1e-12), keeping the highest log-likelihood (see fit_mv); the stored call says which.
# - warnings printed by metafor/clubSandwich during a case are stored in its "warnings".
# - numbers are written at full double precision (%.17g); nothing is rounded.

here <- if (file.exists("_json.R")) "." else "tests/reference"
suppressMessages({library(metafor); library(clubSandwich)})
source(file.path(here, "_json.R"))

ctrl_uni <- list(threshold = 1e-10, maxiter = 10000)
ctrl_mv <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)
ctrl_bq <- list(optimizer = "bobyqa", rhoend = 1e-12, maxfun = 100000)
ctrl_mv2 <- list(optimizer = "BFGS", reltol = 1e-12)
mv_controls <- c(ctrl_mv = "list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)",
                 ctrl_bq = "list(optimizer = 'bobyqa', rhoend = 1e-12, maxfun = 100000)",
                 ctrl_mv2 = "list(optimizer = 'BFGS', reltol = 1e-12)")
ctrl_ci <- list(tol = 1e-10)

cases <- list()
all_warnings <- list()

# Evaluate an expression, collecting warnings (muffled) instead of printing them.
capture <- function(expr) {
  w <- character(0)
  val <- withCallingHandlers(expr, warning = function(c) {
    w <<- c(w, conditionMessage(c)); invokeRestart("muffleWarning")
  })
  list(value = val, warnings = unique(w))
}
run <- function(call) eval(parse(text = call), envir = globalenv())
# rma.mv: the likelihood is flat near the optimum, so one optimizer stops ~1e-6 (relative) away
# from the optimum in the variance components. Each model is fitted with three tight optimizers
# (nlminb rel.tol 1e-12; bobyqa rhoend 1e-12; optim BFGS reltol 1e-12; some error out with
# "did not achieve convergence") and the fit with the highest log-likelihood is kept. The stored
# call names the control list of the kept fit; "optimizer_logLik" lists every attempt.
# Calls are written with "control = ctrl_mv"; alt_fits() gives the fits with the other controls.
show_call <- function(call) { for (n in names(mv_controls)) call <- sub(paste0("control = ", n, ")"), paste0("control = ", mv_controls[[n]], ")"), call, fixed = TRUE); call }
alt_fits <- function(call) lapply(setNames(names(mv_controls), names(mv_controls)), function(n) {
  cl <- sub("control = ctrl_mv)", paste0("control = ", n, ")"), call, fixed = TRUE)
  r <- try(capture(run(cl)), silent = TRUE)
  if (inherits(r, "try-error")) list(r = NULL, call = cl, error = conditionMessage(attr(r, "condition"))) else
    list(r = r$value, call = cl, warnings = r$warnings) })
fit_mv <- function(call) {
  stopifnot(grepl("control = ctrl_mv)", call, fixed = TRUE))
  fits <- alt_fits(call)
  ll <- vapply(fits, function(f) if (is.null(f$r)) -Inf else as.numeric(logLik(f$r)), numeric(1))
  best <- fits[[which.max(ll)]]
  list(r = best$r, call = show_call(best$call), warnings = best$warnings, base_call = call, fits = fits,
       optimizer_logLik = lapply(fits, function(f) if (is.null(f$r)) paste("error:", f$error) else as.numeric(logLik(f$r))))
}
# Apply fun (a refitting function: confint, profile, rstudent) to the kept fit; when ok() fails
# on its value (NA bounds or points where the tight refits did not converge), to the model as
# fitted with the other optimizers in turn. Returns the value, its warnings, the control of the
# fit used and the warnings of the attempts that were replaced.
with_refits <- function(f, fun, ok) {
  best <- names(f$fits)[vapply(f$fits, function(x) identical(x$r, f$r), logical(1))][1]
  order <- c(best, setdiff(names(f$fits), best))
  first <- NULL; replaced <- character(0)
  for (n in order) {
    if (is.null(f$fits[[n]]$r)) next
    v <- capture(fun(f$fits[[n]]$r))
    if (is.null(first)) first <- c(v, list(fit_control = mv_controls[[n]]))
    if (ok(v$value)) return(c(v, list(fit_control = mv_controls[[n]], replaced_warnings = arr(unique(replaced)))))
    replaced <- c(replaced, v$warnings)
  }
  c(first, list(replaced_warnings = arr(unique(replaced)), all_attempts_failed = TRUE))
}
uni_call <- function(call) sub("control = ctrl_uni", "control = list(threshold = 1e-10, maxiter = 10000)", call, fixed = TRUE)
fit_uni <- function(call) { r <- capture(run(call)); list(r = r$value, call = uni_call(call), warnings = r$warnings) }

add <- function(name, case, warnings = character(0)) {
  case$warnings <- arr(as.character(unique(warnings)))
  if (length(warnings)) all_warnings[[name]] <<- unique(warnings)
  cases[[name]] <<- case
}
mat <- function(m) { m <- as.matrix(m); lapply(seq_len(nrow(m)), function(i) arr(unname(m[i, ]))) }
df_cols <- function(d) { out <- lapply(d, function(v) arr(if (is.factor(v)) as.character(v) else v)); out }

# V as a list of blocks by cluster (order of first appearance); checks V is block-diagonal
v_blocks <- function(V, cluster) {
  V <- as.matrix(V)
  cl <- unique(cluster)
  mask <- outer(cluster, cluster, "==")
  stopifnot(all(V[!mask] == 0))
  lapply(cl, function(c) { rows <- which(cluster == c)
    list(cluster = as.character(c), rows = arr(rows), V = mat(V[rows, rows, drop = FALSE])) })
}

fit_stats <- function(r) {
  fs <- r$fit.stats
  list(method_column = r$method,
       ML = list(logLik = fs["ll", "ML"], deviance = fs["dev", "ML"], AIC = fs["AIC", "ML"], BIC = fs["BIC", "ML"], AICc = fs["AICc", "ML"]),
       REML = list(logLik = fs["ll", "REML"], deviance = fs["dev", "REML"], AIC = fs["AIC", "REML"], BIC = fs["BIC", "REML"], AICc = fs["AICc", "REML"]),
       fitstats = { f <- fitstats(r); list(logLik = f[1, 1], deviance = f[2, 1], AIC = f[3, 1], BIC = f[4, 1], AICc = f[5, 1]) },
       logLik = as.numeric(logLik(r)), logLik_df = attr(logLik(r), "df"),
       deviance = as.numeric(deviance(r)), AIC = AIC(r), BIC = BIC(r))
}

coef_out <- function(r) list(terms = arr(rownames(r$beta)), beta = arr(as.vector(r$beta)), se = arr(r$se),
  zval = arr(r$zval), pval = arr(r$pval), ci_lb = arr(r$ci.lb), ci_ub = arr(r$ci.ub), vb = mat(r$vb))

mv_out <- function(f, extra = list()) {
  r <- f$r
  out <- list(call = f$call, optimizer_logLik = f$optimizer_logLik, k = r$k, p = r$p, method = r$method, test = r$test,
              sigma2 = if (r$withS) arr(r$sigma2) else NULL,
              s_nlevels = if (r$withS) arr(r$s.nlevels) else NULL,
              s_names = if (r$withS) arr(r$s.names) else NULL)
  if (r$withG) {
    out$struct <- arr(r$struct[1]); out$tau2 <- arr(r$tau2); out$rho <- arr(r$rho)
    out$g_levels <- arr(r$g.levels.f[[1]]); out$g_nlevels <- arr(r$g.nlevels)
    out$G <- mat(r$G)
  }
  out <- c(out, coef_out(r),
           list(QE = r$QE, QEdf = r$k - r$p, QEp = r$QEp, QM = r$QM, QMdf = arr(r$QMdf), QMp = r$QMp,
                fit = fit_stats(r)))
  c(out, extra)
}

ranef_out <- function(re) lapply(re, function(d) list(names = arr(rownames(d)), pred = arr(d[[1]]),
  se = arr(d$se), pi_lb = arr(d$pi.lb), pi_ub = arr(d$pi.ub)))
pred_out <- function(p) list(pred = arr(as.vector(p$pred)), se = arr(as.vector(p$se)),
  ci_lb = arr(as.vector(p$ci.lb)), ci_ub = arr(as.vector(p$ci.ub)),
  pi_lb = if (is.null(p$pi.lb)) NULL else arr(as.vector(p$pi.lb)),
  pi_ub = if (is.null(p$pi.ub)) NULL else arr(as.vector(p$pi.ub)),
  tau2_level = if (is.null(p$tau2.level)) NULL else arr(as.character(p$tau2.level)))

# CR1 (robust), robust(clubSandwich = TRUE), and clubSandwich CR2 directly
cr2_out <- function(r, cluster, cluster_name, wald_coefs = NULL) {
  w <- character(0)
  res <- capture({
    cr1 <- robust(r, cluster = cluster)
    rcs <- robust(r, cluster = cluster, clubSandwich = TRUE)
    vc <- vcovCR(r, cluster = cluster, type = "CR2")
    ct <- coef_test(r, vcov = vc, test = "Satterthwaite")
    ci <- conf_int(r, vcov = vc, test = "Satterthwaite", level = 0.95)
    out <- list(cluster = cluster_name, n_clusters = length(unique(cluster)),
      cr1 = list(se = arr(cr1$se), tval = arr(cr1$zval), df = arr(cr1$dfs), pval = arr(cr1$pval),
                 ci_lb = arr(cr1$ci.lb), ci_ub = arr(cr1$ci.ub), vb = mat(cr1$vb),
                 QM = cr1$QM, QMdf = arr(cr1$QMdf), QMp = cr1$QMp),
      robust_clubSandwich = list(se = arr(rcs$se), tval = arr(rcs$zval), df = arr(rcs$dfs), pval = arr(rcs$pval),
                 ci_lb = arr(rcs$ci.lb), ci_ub = arr(rcs$ci.ub), vb = mat(rcs$vb),
                 QM = rcs$QM, QMdf = arr(rcs$QMdf), QMp = rcs$QMp),
      cr2 = list(vb = mat(as.matrix(vc)), se = arr(ct$SE), tstat = arr(ct$tstat), df = arr(ct$df_Satt),
                 pval = arr(ct$p_Satt), ci_lb = arr(ci$CI_L), ci_ub = arr(ci$CI_U)))
    if (!is.null(wald_coefs)) {
      wt <- Wald_test(r, constraints = constrain_zero(wald_coefs), vcov = vc, test = "HTZ")
      out$cr2_wald <- list(terms = arr(rownames(r$beta)[wald_coefs]), test = "HTZ", Fstat = wt$Fstat,
                           df_num = wt$df_num, df_denom = wt$df_denom, pval = wt$p_val)
    }
    out
  })
  res$value$cr2_warnings <- arr(res$warnings)
  res$value
}

# What the object names in the stored calls stand for
add("_names", list(
  note = "object names used in the stored calls, and the dataset or case each stands for",
  asn = "dat.assink2016", kon = "dat.konstantopoulos2011", kal = "dat.kalaian1996",
  kal2 = "dat.kalaian1996 plus trial/grp1/grp2 (inputs in vcalc/kalaian1996_shared_control)",
  arms = "inputs of vcalc/hasselblad1998_shared_control_OR", bd = "dat.bangertdrowns2004",
  bcg = "data/bcg", berkey = "data/berkey1998", ishak_long = "data/ishak2007_long", dw = "data/welch2016_main",
  V_asn = "vcalc/assink2016_obs_rho0.6", V_kon = "vcalc/konstantopoulos2011_obs_rho0.6",
  V_kal = "vcalc/kalaian1996_type_rho0.66", V_berk = "vcalc/berkey1998_rvars", V_ishak = "vcalc/ishak2007_time_phi0.97",
  Vr = "vcalc(vi, cluster = study, obs = esid, data = dat.assink2016, rho = rho) in che/assink2016_rho_sensitivity_REML",
  res = "the case's fitted model", rows = "1-based row positions"))

# =============================================================================================
# data not shipped with evidence-kit (rows recorded here)
# =============================================================================================
berkey <- dat.berkey1998
add("data/berkey1998", c(list(call = "dat.berkey1998 (metadat 1.2-0)"), df_cols(berkey)))

ishak <- dat.ishak2007
ishak_long <- reshape(ishak, direction = "long", idvar = "study", v.names = c("yi", "vi"),
                      varying = list(c(2, 4, 6, 8), c(3, 5, 7, 9)))
ishak_long <- ishak_long[order(ishak_long$study, ishak_long$time), ]
ishak_long <- ishak_long[!is.na(ishak_long$yi), ]
rownames(ishak_long) <- NULL
add("data/ishak2007_long", c(list(call = paste0(
  'dat <- reshape(dat.ishak2007, direction="long", idvar="study", v.names=c("yi","vi"), varying=list(c(2,4,6,8), c(3,5,7,9))); ',
  'dat <- dat[order(dat$study, dat$time),]; dat <- dat[!is.na(dat$yi),]  (as in help(vcalc))')),
  df_cols(ishak_long[, c("study", "time", "yi", "vi", "mdur", "mbase")])))

welch <- read.csv(file.path(here, "..", "..", "src/evidence_kit/data/reviews/dat.welch2016.csv"), stringsAsFactors = FALSE)
welch <- welch[welch$main == 1, ]
rownames(welch) <- NULL
welch <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = welch)
add("data/welch2016_main", list(
  call = 'dat <- read.csv("src/evidence_kit/data/reviews/dat.welch2016.csv"); dat <- dat[dat$main == 1,]; escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat)',
  source = "src/evidence_kit/data/reviews/dat.welch2016.csv (the shipped dataset)",
  study = arr(welch$study), n1i = arr(welch$n1i), m1i = arr(welch$m1i), sd1i = arr(welch$sd1i),
  n2i = arr(welch$n2i), m2i = arr(welch$m2i), sd2i = arr(welch$sd2i),
  yi = arr(as.vector(welch$yi)), vi = arr(as.vector(welch$vi))))

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add("data/bcg", list(call = 'escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)',
  yi = arr(as.vector(bcg$yi)), vi = arr(as.vector(bcg$vi)), ablat = arr(bcg$ablat), year = arr(bcg$year),
  alloc = arr(bcg$alloc)))

# =============================================================================================
# 1. vcalc
# =============================================================================================
asn <- dat.assink2016
kon <- dat.konstantopoulos2011
kal <- dat.kalaian1996

vcalc_case <- function(name, call, data_name, cluster, cluster_name, extra = list()) {
  v <- capture(run(call))
  V <- as.matrix(v$value)
  add(name, c(list(call = call, data = data_name, k = nrow(V), cluster = cluster_name,
                   blocks = v_blocks(V, cluster)), extra), v$warnings)
  invisible(V)
}

V_asn <- vcalc_case("vcalc/assink2016_obs_rho0.6",
  "vcalc(vi, cluster = study, obs = esid, data = asn, rho = 0.6)", "dat.assink2016", asn$study, "study")
vcalc_case("vcalc/assink2016_type_obs_rho0.7_0.5",
  "vcalc(vi, cluster = study, type = deltype, obs = esid, data = asn, rho = c(0.7, 0.5))",
  "dat.assink2016", asn$study, "study")
V_kon <- vcalc_case("vcalc/konstantopoulos2011_obs_rho0.6",
  "vcalc(vi, cluster = district, obs = study, data = kon, rho = 0.6)",
  "dat.konstantopoulos2011", kon$district, "district")
V_kal <- vcalc_case("vcalc/kalaian1996_type_rho0.66",
  "vcalc(vi, cluster = study, type = outcome, data = kal, rho = 0.66)",
  "dat.kalaian1996", kal$study, "study")

# Several treatment arms sharing one control group, SMD (constructed from dat.kalaian1996):
# Evans & Pike (A)/(B)/(C) 1973 have n2i = 129 in every row and Curran (A)-(D) 1988 have n2i = 17
# in every row; here they are ASSUMED to share one control group (an assumption made for this
# fixture, not a claim about the studies). grp1 = the arm's label, grp2 = "control", w1/w2 = n1i/n2i,
# and verbal/math within an arm correlated rho = 0.66 (type = outcome).
kal2 <- kal
kal2$trial <- ifelse(grepl("^Evans & Pike", kal2$study), "Evans & Pike 1973",
               ifelse(grepl("^Curran", kal2$study), "Curran 1988", as.character(kal2$study)))
kal2$grp1 <- as.character(kal2$study)
kal2$grp2 <- "control"
vcalc_case("vcalc/kalaian1996_shared_control",
  "vcalc(vi, cluster = trial, type = outcome, grp1 = grp1, grp2 = grp2, w1 = n1i, w2 = n2i, data = kal2, rho = 0.66)",
  "dat.kalaian1996 with columns trial/grp1/grp2 added (recorded here)", kal2$trial, "trial",
  list(inputs = list(trial = arr(kal2$trial), grp1 = arr(kal2$grp1), grp2 = arr(kal2$grp2),
                     outcome = arr(as.character(kal2$outcome)), vi = arr(kal2$vi), n1i = arr(kal2$n1i), n2i = arr(kal2$n2i)),
       note = "Evans & Pike (A-C) and Curran (A-D) assumed to share one control group each (equal n2i); a constructed case"))
vcalc_case("vcalc/kalaian1996_shared_control_equal_w",
  "vcalc(vi, cluster = trial, grp1 = grp1, grp2 = grp2, data = kal2[kal2$outcome == 'verbal',])",
  "dat.kalaian1996 verbal rows with trial/grp1/grp2 as in vcalc/kalaian1996_shared_control", kal2$trial[kal2$outcome == "verbal"], "trial",
  list(rows_of_kal2 = arr(which(kal2$outcome == "verbal"))))

# Multiple treatment arms sharing a control group, log odds ratios (dat.hasselblad1998):
# every study with a no_contact arm; each other arm contrasted with no_contact. grp2 = no_contact.
has <- dat.hasselblad1998
ctl <- has[has$trt == "no_contact", c("study", "xi", "ni")]
names(ctl) <- c("study", "ci", "n2i")
arms <- merge(has[has$trt != "no_contact", c("study", "trt", "xi", "ni")], ctl, by = "study")
arms <- arms[order(arms$study, arms$trt), ]
names(arms)[names(arms) == "xi"] <- "ai"; names(arms)[names(arms) == "ni"] <- "n1i"
rownames(arms) <- NULL
arms <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = arms)
arms$grp2 <- "no_contact"
vcalc_case("vcalc/hasselblad1998_shared_control_OR",
  "vcalc(vi, cluster = study, grp1 = trt, grp2 = grp2, w1 = n1i, w2 = n2i, data = arms)",
  "dat.hasselblad1998 arms vs no_contact (recorded in inputs)", arms$study, "study",
  list(inputs = list(construction = paste0("arms <- merge(non-no_contact arms of dat.hasselblad1998 (study, trt, ai=xi, n1i=ni), ",
                       "the study's no_contact arm (ci=xi, n2i=ni)), ordered by study, trt; ",
                       "escalc(measure='OR', ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=arms)"),
                     study = arr(arms$study), trt = arr(arms$trt), ai = arr(arms$ai), n1i = arr(arms$n1i),
                     ci = arr(arms$ci), n2i = arr(arms$n2i), yi = arr(as.vector(arms$yi)), vi = arr(as.vector(arms$vi)))))

# Several outcomes per sample: dat.berkey1998 ships its own 2x2 covariance blocks (v1i, v2i)
V_berk <- vcalc_case("vcalc/berkey1998_rvars",
  "vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = berkey)",
  "data/berkey1998", berkey$author, "author")
vcalc_case("vcalc/berkey1998_type_rho0.4",
  "vcalc(vi = vi, cluster = trial, type = outcome, data = berkey, rho = 0.4)",
  "data/berkey1998", berkey$trial, "trial")
# Repeated measurements: AR(1) sampling correlation phi = 0.97 (help(vcalc))
V_ishak <- vcalc_case("vcalc/ishak2007_time_phi0.97",
  "vcalc(vi, cluster = study, time1 = time, phi = 0.97, data = ishak_long)",
  "data/ishak2007_long", ishak_long$study, "study")

# =============================================================================================
# 2. CHE working model (Pustejovsky & Tipton 2022) + CR2
# =============================================================================================
che_case <- function(name, call, cluster, cluster_name, vname, wald_coefs = NULL) {
  f <- fit_mv(call)
  out <- mv_out(f, list(V = vname))
  out$robust <- cr2_out(f$r, cluster, cluster_name, wald_coefs)
  add(name, out, c(f$warnings, out$robust$cr2_warnings))
  f$r
}
for (m in c("REML", "ML")) {
  che_case(paste0("che/assink2016_rho0.6_", m),
    sprintf('rma.mv(yi, V_asn, random = ~ 1 | study/esid, data = asn, method = "%s", control = ctrl_mv)', m),
    asn$study, "study", "vcalc/assink2016_obs_rho0.6")
  che_case(paste0("che/assink2016_deltype_rho0.6_", m),
    sprintf('rma.mv(yi, V_asn, mods = ~ deltype, random = ~ 1 | study/esid, data = asn, method = "%s", control = ctrl_mv)', m),
    asn$study, "study", "vcalc/assink2016_obs_rho0.6", 2:3)
  che_case(paste0("che/konstantopoulos2011_rho0.6_", m),
    sprintf('rma.mv(yi, V_kon, random = ~ 1 | district/school, data = kon, method = "%s", control = ctrl_mv)', m),
    kon$district, "district", "vcalc/konstantopoulos2011_obs_rho0.6")
  che_case(paste0("che/konstantopoulos2011_year_rho0.6_", m),
    sprintf('rma.mv(yi, V_kon, mods = ~ year, random = ~ 1 | district/school, data = kon, method = "%s", control = ctrl_mv)', m),
    kon$district, "district", "vcalc/konstantopoulos2011_obs_rho0.6", 2)
}
# sensitivity over the assumed rho (REML, intercept only)
sens <- list(rho = numeric(0))
for (rho in c(0, 0.2, 0.4, 0.6, 0.8)) {
  Vr <- vcalc(asn$vi, cluster = asn$study, obs = asn$esid, rho = rho)
  assign("Vr", Vr, envir = globalenv())
  f <- fit_mv('rma.mv(yi, Vr, random = ~ 1 | study/esid, data = asn, method = "REML", control = ctrl_mv)')
  rb <- cr2_out(f$r, asn$study, "study")
  sens$rho <- c(sens$rho, rho); sens$fit_call <- c(sens$fit_call, f$call)
  sens$beta <- c(sens$beta, f$r$beta[1]); sens$se <- c(sens$se, f$r$se)
  sens$sigma2_study <- c(sens$sigma2_study, f$r$sigma2[1]); sens$sigma2_esid <- c(sens$sigma2_esid, f$r$sigma2[2])
  sens$logLik <- c(sens$logLik, as.numeric(logLik(f$r)))
  sens$cr2_se <- c(sens$cr2_se, rb$cr2$se[1]); sens$cr2_df <- c(sens$cr2_df, rb$cr2$df[1])
  sens$cr2_pval <- c(sens$cr2_pval, rb$cr2$pval[1])
  sens$cr2_ci_lb <- c(sens$cr2_ci_lb, rb$cr2$ci_lb[1]); sens$cr2_ci_ub <- c(sens$cr2_ci_ub, rb$cr2$ci_ub[1])
  sens$warnings <- c(sens$warnings, f$warnings, rb$cr2_warnings)
}
sw <- sens$warnings; sens$warnings <- NULL
add("che/assink2016_rho_sensitivity_REML", c(list(
  call = 'for rho in rho: V <- vcalc(vi, cluster = study, obs = esid, data = dat.assink2016, rho = rho); rma.mv(yi, V, random = ~ 1 | study/esid, data = dat.assink2016, method = "REML") with the control in fit_call (V is Vr there); CR2 by study (clubSandwich coef_test Satterthwaite, conf_int)'),
  lapply(sens, arr)), sw)

# =============================================================================================
# 3. Multivariate models
# =============================================================================================
mv_case <- function(name, call, vname, newmods = NULL, tau2.levels = NULL, pred_note = NULL) {
  f <- fit_mv(call)
  r <- f$r
  extra <- list(V = vname)
  w <- f$warnings
  re <- capture(ranef(r)); w <- c(w, re$warnings)
  extra$ranef <- ranef_out(re$value)
  if (!is.null(newmods)) {
    pr <- capture(if (is.null(tau2.levels)) predict(r, newmods = newmods) else predict(r, newmods = newmods, tau2.levels = tau2.levels))
    w <- c(w, pr$warnings)
    extra$predict <- c(list(newmods = mat(newmods), tau2_levels = if (is.null(tau2.levels)) NULL else arr(tau2.levels),
                            note = pred_note), pred_out(pr$value))
  }
  fv <- capture(predict(r)); extra$fitted <- pred_out(fv$value)
  add(name, mv_out(f, extra), w)
  r
}
for (m in c("REML", "ML")) {
  for (s in c("UN", "CS", "DIAG", "HCS")) {
    mv_case(sprintf("mv/berkey1998_%s_%s", s, m),
      sprintf('rma.mv(yi, V_berk, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "%s", data = berkey, method = "%s", control = ctrl_mv)', s, m),
      "vcalc/berkey1998_rvars", diag(2), c("AL", "PD"), "rows: outcome AL, outcome PD")
  }
  nm <- rbind(c(1, 0, 0, 0), c(0, 1, 0, 0), c(1, 0, 5, 0), c(0, 1, 0, 5), c(1, 0, -4, 0), c(0, 1, 0, -4))
  mv_case(sprintf("mv/berkey1998_UN_year_%s", m),
    sprintf('rma.mv(yi, V_berk, mods = ~ outcome + outcome:I(year - 1983) - 1, random = ~ outcome | trial, struct = "UN", data = berkey, method = "%s", control = ctrl_mv)', m),
    "vcalc/berkey1998_rvars", nm, c("AL", "PD", "AL", "PD", "AL", "PD"),
    "rows: AL and PD at year 1983, 1988, 1979")
  # (dat.kalaian1996 with random = ~ outcome | study is left out: with V from vcalc(rho = 0.66)
  #  the UN/HCS/CS fits put the between-outcome correlation on the boundary rho = -1 and DIAG
  #  puts the verbal tau^2 on 0, so the optimum is not an interior point to compare against.)
  for (s in c("AR", "HAR", "UN", "CS")) {
    mv_case(sprintf("mv/ishak2007_%s_%s", s, m),
      sprintf('rma.mv(yi, V_ishak, mods = ~ factor(time) - 1, random = ~ time | study, struct = "%s", data = ishak_long, method = "%s", control = ctrl_mv)', s, m),
      "vcalc/ishak2007_time_phi0.97", diag(4), if (s == "AR" || s == "CS") NULL else c("1", "2", "3", "4"),
      "rows: time 1..4")
  }
}

# =============================================================================================
# 4. Profile-likelihood CIs and profile() points
# =============================================================================================
bd <- dat.bangertdrowns2004
prof_uni_case <- function(name, call, xlim, steps) {
  f <- fit_uni(call); r <- f$r
  w <- f$warnings
  qp <- capture(confint(r, control = ctrl_ci)); pl <- capture(confint(r, type = "PL", control = ctrl_ci))
  pf <- capture(profile(r, xlim = xlim, steps = steps, plot = FALSE, progbar = FALSE))
  w <- c(w, qp$warnings, pl$warnings, pf$warnings)
  ci_tab <- function(ci) list(rows = arr(rownames(ci$random)), estimate = arr(ci$random[, 1]),
                              ci_lb = arr(ci$random[, 2]), ci_ub = arr(ci$random[, 3]))
  add(name, list(call = f$call, method = r$method, tau2 = r$tau2, beta = arr(as.vector(r$beta)),
    logLik = as.numeric(logLik(r)),
    confint_QP = c(list(call = "confint(res, control = list(tol = 1e-10))"), ci_tab(qp$value)),
    confint_PL = c(list(call = 'confint(res, type = "PL", control = list(tol = 1e-10))'), ci_tab(pl$value)),
    profile = list(call = sprintf("profile(res, xlim = c(%s, %s), steps = %d)", format(xlim[1], digits = 17), format(xlim[2], digits = 17), steps),
                   tau2 = arr(pf$value$tau2), ll = arr(pf$value$ll), beta = mat(pf$value$beta))), w)
}
for (m in c("REML", "ML")) {
  prof_uni_case(paste0("profile/bcg_", m),
    sprintf('rma(yi, vi, data = bcg, method = "%s", control = ctrl_uni)', m), c(0, 1.5), 31)
  prof_uni_case(paste0("profile/bangertdrowns2004_", m),
    sprintf('rma(yi, vi, data = bd, method = "%s", control = ctrl_uni)', m), c(0, 0.2), 21)
}
prof_mv_case <- function(name, call, xlims, steps) {
  f <- fit_mv(call); r <- f$r
  w <- f$warnings
  out <- list(call = f$call, optimizer_logLik = f$optimizer_logLik, method = r$method, sigma2 = arr(r$sigma2),
              s_names = arr(r$s.names), logLik = as.numeric(logLik(r)), confint = list(), profile = list())
  for (j in seq_along(r$sigma2)) {
    ci <- with_refits(f, function(x) confint(x, sigma2 = j, control = ctrl_ci), function(v) !anyNA(v$random[1, 2:3]))
    w <- c(w, ci$warnings)
    out$confint[[j]] <- list(call = sprintf("confint(res, sigma2 = %d, control = list(tol = 1e-10))", j),
      fit_control = ci$fit_control, replaced_warnings = ci$replaced_warnings,
      estimate = ci$value$random[1, 1], ci_lb = ci$value$random[1, 2], ci_ub = ci$value$random[1, 3])
    pf <- with_refits(f, function(x) profile(x, sigma2 = j, xlim = xlims[[j]], steps = steps, plot = FALSE, progbar = FALSE),
                      function(v) !anyNA(v$ll))
    w <- c(w, pf$warnings)
    out$profile[[j]] <- list(call = sprintf("profile(res, sigma2 = %d, xlim = c(%s, %s), steps = %d)", j,
      format(xlims[[j]][1], digits = 17), format(xlims[[j]][2], digits = 17), steps),
      fit_control = pf$fit_control, replaced_warnings = pf$replaced_warnings,
      sigma2 = arr(pf$value$sigma2), ll = arr(pf$value$ll), beta = mat(pf$value$beta))
  }
  add(name, out, w)
}
for (m in c("REML", "ML"))
  prof_mv_case(paste0("profile/konstantopoulos2011_", m),
    sprintf('rma.mv(yi, vi, random = ~ 1 | district/school, data = kon, method = "%s", control = ctrl_mv)', m),
    list(c(0, 0.3), c(0, 0.15)), 16)
prof_mv_case("profile/assink2016_che_rho0.6_REML",
  'rma.mv(yi, V_asn, random = ~ 1 | study/esid, data = asn, method = "REML", control = ctrl_mv)',
  list(c(0, 0.5), c(0, 0.3)), 16)

# =============================================================================================
# 5. Model comparisons, formulas, fitstats, BLUPs, residuals
# =============================================================================================
uni_out <- function(f) { r <- f$r
  c(list(call = f$call, k = r$k, p = r$p, method = r$method, test = r$test, tau2 = r$tau2, se_tau2 = r$se.tau2),
    coef_out(r), list(QE = r$QE, QEp = r$QEp, QM = r$QM, QMdf = arr(r$QMdf), QMp = r$QMp, R2 = r$R2,
    I2 = r$I2, H2 = r$H2, X = mat(model.matrix(r)), fit = fit_stats(r))) }
anova_out <- function(a) list(QM = a$QM, QMdf = arr(a$QMdf), QMp = a$QMp, btt = arr(a$btt), m = a$m, test = a$test,
                              type = a$type)

for (test in c("z", "knha")) {
  f <- fit_uni(sprintf('rma(yi, vi, mods = ~ ablat + factor(alloc), data = bcg, method = "REML", test = "%s", control = ctrl_uni)', test))
  a1 <- capture(anova(f$r, btt = 3:4)); a2 <- capture(anova(f$r, btt = 2)); a3 <- capture(anova(f$r, btt = "alloc"))
  a4 <- capture(anova(f$r, X = rbind(c(0, 0, 1, -1), c(1, 40, 0, 0))))
  L <- a4$value
  add(paste0("anova/bcg_ablat_alloc_btt_", test), c(uni_out(f), list(
    anova_btt_3_4 = c(list(call = "anova(res, btt = 3:4)"), anova_out(a1$value)),
    anova_btt_2 = c(list(call = "anova(res, btt = 2)"), anova_out(a2$value)),
    anova_btt_alloc = c(list(call = 'anova(res, btt = "alloc")'), anova_out(a3$value)),
    anova_X = list(call = "anova(res, X = rbind(c(0, 0, 1, -1), c(1, 40, 0, 0)))", X = mat(L$X),
                   Xb = arr(as.vector(L$Xb)), se = arr(L$se), zval = arr(L$zval), pval = arr(L$pval),
                   QM = L$QM, QMdf = arr(L$QMdf), QMp = L$QMp, test = L$test))),
    c(f$warnings, a1$warnings, a2$warnings, a3$warnings, a4$warnings))
}

lrt_out <- function(a) list(fit_full = arr(unlist(a$fit.stats.f)), fit_reduced = arr(unlist(a$fit.stats.r)),
  fit_names = arr(names(a$fit.stats.f)), p_full = a$parms.f, p_reduced = a$parms.r, LRT = a$LRT, pval = a$pval,
  QE_full = a$QE.f, QE_reduced = a$QE.r, tau2_full = a$tau2.f, tau2_reduced = a$tau2.r, R2 = a$R2, method = a$method)
f_full <- fit_uni('rma(yi, vi, mods = ~ ablat + factor(alloc), data = bcg, method = "ML", control = ctrl_uni)')
f_red <- fit_uni('rma(yi, vi, mods = ~ ablat, data = bcg, method = "ML", control = ctrl_uni)')
f_int <- fit_uni('rma(yi, vi, data = bcg, method = "ML", control = ctrl_uni)')
a <- capture(anova(f_full$r, f_red$r)); b <- capture(anova(f_red$r, f_int$r)); cc <- capture(anova(f_full$r, f_int$r))
add("anova/bcg_lrt_ML", list(full = uni_out(f_full), reduced = uni_out(f_red), intercept_only = uni_out(f_int),
  lrt_full_vs_reduced = c(list(call = "anova(full, reduced)"), lrt_out(a$value)),
  lrt_reduced_vs_intercept = c(list(call = "anova(reduced, intercept_only)"), lrt_out(b$value)),
  lrt_full_vs_intercept = c(list(call = "anova(full, intercept_only)"), lrt_out(cc$value))),
  c(f_full$warnings, f_red$warnings, f_int$warnings, a$warnings, b$warnings, cc$warnings))

# LRT of a variance component in the three-level model (REML; same fixed effects)
g_full <- fit_mv('rma.mv(yi, vi, random = ~ 1 | district/school, data = kon, method = "REML", control = ctrl_mv)')
g_red <- fit_mv('rma.mv(yi, vi, random = ~ 1 | district/school, sigma2 = c(0, NA), data = kon, method = "REML", control = ctrl_mv)')
a <- capture(anova(g_full$r, g_red$r))
add("anova/konstantopoulos2011_lrt_sigma2_district_REML", list(full = mv_out(g_full), reduced = mv_out(g_red),
  lrt = c(list(call = "anova(full, reduced)"), lrt_out(a$value))), c(g_full$warnings, g_red$warnings, a$warnings))
# Wald test of a set of coefficients in rma.mv
g <- fit_mv('rma.mv(yi, V_asn, mods = ~ deltype + year, random = ~ 1 | study/esid, data = asn, method = "REML", control = ctrl_mv)')
a <- capture(anova(g$r, btt = 2:3))
add("anova/assink2016_che_deltype_year_btt", c(mv_out(g, list(V = "vcalc/assink2016_obs_rho0.6")),
  list(anova_btt_2_3 = c(list(call = "anova(res, btt = 2:3)"), anova_out(a$value)))), c(g$warnings, a$warnings))

# formulas: coefficient names and model matrices
for (m in c("REML", "ML")) {
  f <- fit_uni(sprintf('rma(yi, vi, mods = ~ ablat * year, data = bcg, method = "%s", control = ctrl_uni)', m))
  add(paste0("formula/bcg_ablat_x_year_", m), uni_out(f), f$warnings)
  f <- fit_uni(sprintf('rma(yi, vi, mods = ~ ablat + factor(alloc), data = bcg, method = "%s", control = ctrl_uni)', m))
  add(paste0("formula/bcg_ablat_factor_alloc_", m), uni_out(f), f$warnings)
  f <- fit_uni(sprintf('rma(yi, vi, mods = ~ factor(alloc) - 1, data = bcg, method = "%s", control = ctrl_uni)', m))
  add(paste0("formula/bcg_factor_alloc_noint_", m), uni_out(f), f$warnings)
  f <- fit_uni(sprintf('rma(yi, vi, mods = ~ I(ablat - 33) + I((ablat - 33)^2), data = bcg, method = "%s", control = ctrl_uni)', m))
  add(paste0("formula/bcg_ablat_centred_quadratic_", m), uni_out(f), f$warnings)
}

# fitstats, BLUPs, residuals for rma.uni
for (m in c("REML", "ML")) {
  for (mods in c("", "ablat")) {
    call <- if (mods == "") sprintf('rma(yi, vi, data = bcg, method = "%s", control = ctrl_uni)', m) else
      sprintf('rma(yi, vi, mods = ~ %s, data = bcg, method = "%s", control = ctrl_uni)', mods, m)
    f <- fit_uni(call); r <- f$r
    bl <- capture(blup(r)); re <- capture(ranef(r)); rs <- capture(rstandard(r)); rt <- capture(rstudent(r))
    fi <- capture(fitted(r)); rd <- capture(residuals(r))
    add(sprintf("resid/bcg_%s%s", if (mods == "") "" else paste0(mods, "_"), m), c(uni_out(f), list(
      fitted = arr(as.vector(fi$value)), residuals = arr(as.vector(rd$value)),
      blup = list(pred = arr(bl$value$pred), se = arr(bl$value$se), pi_lb = arr(bl$value$pi.lb), pi_ub = arr(bl$value$pi.ub)),
      ranef = list(pred = arr(re$value$pred), se = arr(re$value$se), pi_lb = arr(re$value$pi.lb), pi_ub = arr(re$value$pi.ub)),
      rstandard = list(resid = arr(rs$value$resid), se = arr(rs$value$se), z = arr(rs$value$z)),
      rstudent = list(resid = arr(rt$value$resid), se = arr(rt$value$se), z = arr(rt$value$z)))),
      c(f$warnings, bl$warnings, re$warnings, rs$warnings, rt$warnings))
  }
}
# rstandard / rstudent / ranef for rma.mv (three-level konstantopoulos2011 REML; CHE assink2016)
for (spec in list(list(name = "resid/konstantopoulos2011_REML", cl = "district", data = "kon",
                       call = 'rma.mv(yi, vi, random = ~ 1 | district/school, data = kon, method = "REML", control = ctrl_mv)'),
                  list(name = "resid/assink2016_che_rho0.6_REML", cl = "study", data = "asn",
                       call = 'rma.mv(yi, V_asn, random = ~ 1 | study/esid, data = asn, method = "REML", control = ctrl_mv)'))) {
  f <- fit_mv(spec$call); r <- f$r
  cl <- get(spec$data)[[spec$cl]]
  rs <- capture(rstandard(r)); rsc <- capture(rstandard(r, cluster = cl))
  rt <- with_refits(f, rstudent, function(v) !anyNA(v$z))
  re <- capture(ranef(r)); fi <- capture(fitted(r)); rd <- capture(residuals(r))
  add(spec$name, c(mv_out(f), list(
    fitted = arr(as.vector(fi$value)), residuals = arr(as.vector(rd$value)),
    ranef = ranef_out(re$value),
    rstandard = list(resid = arr(rs$value$resid), se = arr(rs$value$se), z = arr(rs$value$z)),
    rstandard_cluster = list(call = sprintf("rstandard(res, cluster = %s)", spec$cl),
      resid = arr(rsc$value$obs$resid), se = arr(rsc$value$obs$se), z = arr(rsc$value$obs$z),
      cluster = arr(as.character(rsc$value$cluster$slab)), X2 = arr(rsc$value$cluster$X2), k = arr(rsc$value$cluster$k)),
    rstudent = list(call = "rstudent(res)", fit_control = rt$fit_control, replaced_warnings = rt$replaced_warnings,
                    resid = arr(rt$value$resid), se = arr(rt$value$se), z = arr(rt$value$z)))),
    c(f$warnings, rs$warnings, rsc$warnings, rt$warnings, re$warnings))
}

# =============================================================================================
# 6. Deworming (Welch et al. 2016): REML local maximum
# =============================================================================================
dw <- welch
for (m in c("REML", "ML")) {
  for (tight in c(FALSE, TRUE)) {
    call <- if (tight) sprintf('rma(yi, vi, data = dw, method = "%s", control = ctrl_uni)', m) else
      sprintf('rma(yi, vi, data = dw, method = "%s")', m)
    f <- fit_uni(call); r <- f$r
    add(sprintf("deworm/welch2016_%s_%s", m, if (tight) "tight" else "default"), c(uni_out(f),
      list(data = "data/welch2016_main")), f$warnings)
  }
}
# REML from small start values (Fisher scoring then heads for the boundary, without a warning)
for (init in c(0.001, 0.0001)) {
  f <- fit_uni(sprintf('rma(yi, vi, data = dw, method = "REML", control = list(tau2.init = %s, threshold = 1e-10, maxiter = 10000))', format(init, scientific = FALSE)))
  add(sprintf("deworm/welch2016_REML_init%s", format(init, scientific = FALSE)), c(uni_out(f), list(data = "data/welch2016_main")), f$warnings)
}
# the interior local maximum and the trough of the REML log-likelihood, located with optimize()
ll_reml <- function(t) as.numeric(logLik(rma(yi, vi, data = dw, method = "REML", tau2 = t)))
omax <- optimize(ll_reml, c(0.005, 0.05), maximum = TRUE, tol = 1e-12)
omin <- optimize(ll_reml, c(0.0005, 0.01), maximum = FALSE, tol = 1e-12)
at_max <- rma(yi, vi, data = dw, method = "REML", tau2 = omax$maximum)
add("deworm/welch2016_REML_stationary_points", list(
  call = 'optimize(function(t) logLik(rma(yi, vi, data = dw, method = "REML", tau2 = t)), c(0.005, 0.05), maximum = TRUE, tol = 1e-12); same on c(0.0005, 0.01) for the minimum',
  data = "data/welch2016_main",
  interior_max_tau2 = omax$maximum, interior_max_logLik = omax$objective,
  interior_max_beta = at_max$beta[1], interior_max_se = at_max$se,
  trough_tau2 = omin$minimum, trough_logLik = omin$objective,
  boundary_logLik = ll_reml(0)))
grid <- seq(0, 0.1, by = 0.0005)
prof <- list(tau2 = grid)
for (m in c("REML", "ML")) {
  ll <- beta <- se <- numeric(length(grid))
  for (i in seq_along(grid)) {
    r <- rma(yi, vi, data = dw, method = m, tau2 = grid[i])
    ll[i] <- as.numeric(logLik(r)); beta[i] <- r$beta[1]; se[i] <- r$se
  }
  prof[[paste0("ll_", m)]] <- ll; prof[[paste0("beta_", m)]] <- beta; prof[[paste0("se_", m)]] <- se
}
add("deworm/welch2016_profile", c(list(call = 'for t in seq(0, 0.1, by = 0.0005): logLik(rma(yi, vi, data = dw, method = m, tau2 = t)) for m in REML, ML',
  data = "data/welch2016_main"), lapply(prof, arr)))

write_fixture(cases, file.path(here, "models.json"), "tests/reference/models.R")
if (length(all_warnings)) {
  message("warnings recorded:")
  for (n in names(all_warnings)) message("  ", n, ": ", paste(all_warnings[[n]], collapse = " | "))
}
