# What metafor does where the (restricted) likelihood of tau^2 has two local maxima: the data sets
# of tests/test_synthesis_global_max.py and the deworming case (Welch et al. 2016, weight, the 11
# comparisons with main == 1, SMD from the per-arm columns). evidence_kit returns the global
# maximum instead; tests/tolerances.py KNOWN_DIVERGENCES lists where metafor's answer differs.
# Run from the repository root:  Rscript tests/reference/synthesis_two_peaks.R

source("tests/reference/_json.R")
suppressPackageStartupMessages(library(metafor))

ctrl <- list(threshold = 1e-10, tol = 1e-10, maxiter = 10000)
cases <- list()
run <- function(call) eval(parse(text = call), envir = globalenv())

boundary <- data.frame(yi = c(0.914, 1.614, -0.26, -0.06, -0.003, -0.054, -0.057),
                       vi = c(0.4366, 0.2139, 0.0387, 0.0266, 0.0434, 0.0231, 0.0188))
two_interior <- data.frame(yi = c(1.828, 0.585, 0.054, 0.179, 0.155, -0.023),
                           vi = c(0.2347, 0.1469, 0.0178, 0.0092, 0.0196, 0.011))
regression <- data.frame(yi = c(-1.624, -1.598, 0.274, 0.127, 0.292, 0.309, 0.463),
                         vi = c(0.3119, 0.7969, 0.0134, 0.0189, 0.0316, 0.0347, 0.0419),
                         x = c(2.9, 5.2, 4.5, 1.7, 9.8, 3.4, 6.9))
ml_boundary <- data.frame(yi = c(-1.231, 1.49, -0.013, -0.149, 0.072, -0.091, -0.014, 0.007),
                          vi = c(0.3468, 0.1227, 0.0351, 0.0327, 0.0404, 0.0266, 0.0062, 0.0292))
welch <- read.csv("src/evidence_kit/data/reviews/dat.welch2016.csv")
welch <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                data = welch[welch$main == 1, ])

peak_case <- function(call) {
  msgs <- character(0)
  res <- withCallingHandlers(run(call), warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(call = call, tau2 = res$tau2, beta = arr(as.vector(res$beta)), ll = as.numeric(logLik(res)),
       warnings = arr(msgs))
}

cases[["boundary/REML"]] <- peak_case('rma(yi, vi, data=boundary, method="REML", control=ctrl)')
cases[["two_interior/REML"]] <- peak_case('rma(yi, vi, data=two_interior, method="REML", control=ctrl)')
cases[["regression/REML"]] <- peak_case('rma(yi, vi, mods=~ x, data=regression, method="REML", control=ctrl)')
cases[["ml_boundary/ML"]] <- peak_case('rma(yi, vi, data=ml_boundary, method="ML", control=ctrl)')
cases[["welch2016/REML"]] <- peak_case('rma(yi, vi, data=welch, method="REML", control=ctrl)')
cases[["welch2016/REML/default"]] <- peak_case('rma(yi, vi, data=welch, method="REML")')

write_fixture(cases, "tests/reference/synthesis_two_peaks.json", "tests/reference/synthesis_two_peaks.R")
