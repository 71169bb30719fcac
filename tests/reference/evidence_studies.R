# Reference values for the study-level datasets mapped in evidence/studies.yaml: metafor's escalc()
# with the measure and column arguments written in each entry's `escalc`, so a wrong argument in
# the mapping shows as a mismatch; plus a REML random-effects fit of each mapped dataset (the
# worked synthesis a notebook starts from). Run from the repository root:
#   Rscript tests/reference/evidence_studies.R
# Writes tests/reference/evidence_studies.json (numbers at %.17g, versions recorded).

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
})
source("tests/reference/_json.R")

cases <- list()

# escalc exactly as studies.yaml says: measure and argument = column
escalc_case <- function(dataset, measure, columns) {
  data <- get(dataset)
  args <- c(list(measure = measure), lapply(columns, function(col) data[[col]]))
  res <- do.call(escalc, args)
  call <- sprintf("escalc(measure=\"%s\", %s, data=%s)", measure,
                  paste(sprintf("%s=%s", names(columns), unlist(columns)), collapse = ", "), dataset)
  list(id = paste0("escalc_", dataset), dataset = dataset, measure = measure, call = call,
       yi = arr(as.numeric(res$yi)), vi = arr(as.numeric(res$vi)))
}

cases[[length(cases) + 1]] <- escalc_case("dat.crede2010", "ZCOR", list(ri = "ri", ni = "ni"))
cases[[length(cases) + 1]] <- escalc_case("dat.gibson2002", "SMD",
  list(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i"))
cases[[length(cases) + 1]] <- escalc_case("dat.aloe2013", "PCOR", list(ti = "tval", ni = "n", mi = "preds"))
cases[[length(cases) + 1]] <- escalc_case("dat.lopez2019", "GEN", list(yi = "diff", sei = "se"))
# dat.wilson2011 ships in src/evidence_kit/data/reviews/ (clubSandwich's dropoutPrevention), not in metadat
dat.wilson2011 <- read.csv("src/evidence_kit/data/reviews/dat.wilson2011.csv")
cases[[length(cases) + 1]] <- escalc_case("dat.wilson2011", "GEN", list(yi = "LOR1", vi = "varLOR"))

# REML random-effects model of each mapped dataset on its yi, vi (as shipped or from escalc above)
ctrl <- list(threshold = 1e-10, tol = 1e-10)
rma_case <- function(dataset, yi, vi) {
  fit <- rma(yi, vi, method = "REML", control = ctrl)
  list(id = paste0("rma_", dataset), dataset = dataset,
       call = sprintf("rma(yi, vi, method=\"REML\", control=list(threshold=1e-10, tol=1e-10)) on %s", dataset),
       k = fit$k, estimate = as.numeric(fit$beta), se = fit$se, ci_lower = fit$ci.lb, ci_upper = fit$ci.ub,
       tau2 = fit$tau2, i2 = fit$I2, q = fit$QE)
}
for (name in c("dat.konstantopoulos2011", "dat.raudenbush1985", "dat.bangertdrowns2004", "dat.tannersmith2016")) {
  d <- get(name)
  cases[[length(cases) + 1]] <- rma_case(name, d$yi, d$vi)
}
# not dat.lopez2019: its rows are treatment arms (placebo, wait list, CBT ...), so one pooled
# mean change across them answers no question
for (case in cases[c(1:3, 5)]) {
  cases[[length(cases) + 1]] <- rma_case(case$dataset, as.numeric(case$yi), as.numeric(case$vi))
}

write_fixture(cases, "tests/reference/evidence_studies.json", "tests/reference/evidence_studies.R")
