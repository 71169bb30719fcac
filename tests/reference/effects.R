# Reference values for evidence_kit.effect_sizes: metafor's escalc() on real datasets and on small
# synthetic grids (inputs recorded in the JSON). Run from the repository root:
#   Rscript tests/reference/effects.R
# Writes tests/reference/effects.json (numbers at %.17g, R/metafor/metadat versions recorded).

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
})
source("tests/reference/_json.R")

cases <- list()

# One case: escalc(measure, <columns taken from `data`>, <options>). `columns` maps metafor's
# argument names to column names of `data`; `dataset` names the metadat dataset, or NA for a
# synthetic frame whose columns are then recorded under "inputs".
add_case <- function(id, measure, data, columns, dataset = NA, options = list()) {
  args <- c(list(measure = measure), lapply(columns, function(col) data[[col]]), options)
  res <- suppressWarnings(do.call(escalc, args))
  col_txt <- paste(sprintf("%s=%s", names(columns), unlist(columns)), collapse = ", ")
  opt_txt <- if (length(options)) {
    paste0(", ", paste(sprintf("%s=%s", names(options),
      vapply(options, function(v) paste(deparse(as.vector(v)), collapse = ""), "")),
      collapse = ", "))
  } else ""
  data_name <- if (is.na(dataset)) "inputs" else dataset
  case <- list(
    id = id,
    measure = measure,
    dataset = dataset,
    columns = columns,
    options = options,
    call = sprintf('escalc(measure="%s", %s, data=%s%s)', measure, col_txt, data_name, opt_txt),
    yi = arr(as.numeric(res$yi)),
    vi = arr(as.numeric(res$vi))
  )
  if (is.na(dataset)) case$inputs <- lapply(data[unlist(columns)], function(x) arr(as.numeric(x)))
  cases[[id]] <<- case
}

# ---------------------------------------------------------------- 2x2 tables: dat.bcg
bcg <- dat.bcg
tab <- list(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg")
for (m in c("OR", "RR", "RD", "PETO")) add_case(paste0("bcg_", m), m, bcg, tab, "dat.bcg")
add_case("bcg_RD_UB", "RD", bcg, tab, "dat.bcg", list(vtype = "UB"))
add_case("bcg_RD_AV", "RD", bcg, tab, "dat.bcg", list(vtype = "AV"))
bcg$n1 <- bcg$tpos + bcg$tneg
bcg$n2 <- bcg$cpos + bcg$cneg
for (m in c("OR", "RR")) {
  add_case(paste0("bcg_", m, "_n1i_n2i"), m, bcg, list(ai = "tpos", n1i = "n1", ci = "cpos", n2i = "n2"), "dat.bcg")
}

# dat.bcg with zero cells written in (rows 1-3 changed; recorded as inputs): exercises add/to/drop00.
z <- dat.bcg[, c("tpos", "tneg", "cpos", "cneg")]
z$tpos[1] <- 0                 # one zero cell
z$cpos[2] <- 0                 # one zero cell in the other group
z$tpos[3] <- 0; z$cpos[3] <- 0 # no events in either group (a 0/0 study)
for (m in c("OR", "RR", "RD", "PETO")) {
  for (to in c("only0", "all", "if0all", "none")) {
    add_case(sprintf("zero_%s_%s", m, to), m, z, tab, NA, list(to = to))
  }
  add_case(sprintf("zero_%s_add1", m), m, z, tab, NA, list(add = 1))
  add_case(sprintf("zero_%s_drop00", m), m, z, tab, NA, list(drop00 = TRUE))
}

# ---------------------------------------------------------------- means: dat.normand1999
nor <- dat.normand1999
mc <- list(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")
for (vt in c("LS", "HO")) add_case(paste0("normand_MD_", vt), "MD", nor, mc, "dat.normand1999", list(vtype = vt))
for (vt in c("LS", "UB", "LS2", "AV")) add_case(paste0("normand_SMD_", vt), "SMD", nor, mc, "dat.normand1999", list(vtype = vt))
for (vt in c("LS", "LS2")) add_case(paste0("normand_SMDH_", vt), "SMDH", nor, mc, "dat.normand1999", list(vtype = vt))
for (vt in c("LS", "HO", "AV", "AVHO")) add_case(paste0("normand_ROM_", vt), "ROM", nor, mc, "dat.normand1999", list(vtype = vt))

# SMD from Cohen's d or a t statistic where the means are not reported (rows 2-3 d, 4-5 t, 6 both)
nd <- nor
nd$d <- c(NA, 0.35, -0.8, NA, NA, 0.5, NA, NA, NA)
nd$t <- c(NA, NA, NA, 2.1, -1.4, 9.9, NA, NA, NA)
nd$m1i[2:6] <- NA
add_case("normand_SMD_di_ti", "SMD", nd, c(mc, list(di = "d", ti = "t")), NA)
add_case("normand_SMD_ti_UB", "SMD", nd[4:5, ], list(ti = "t", n1i = "n1i", n2i = "n2i"), NA, list(vtype = "UB"))

# one vtype per row (metafor accepts a vector)
add_case("normand_SMD_mixed", "SMD", nor, mc, "dat.normand1999",
         list(vtype = arr(rep(c("LS", "UB", "LS2", "AV"), length.out = nrow(nor)))))
add_case("normand_ROM_mixed", "ROM", nor, mc, "dat.normand1999",
         list(vtype = arr(rep(c("AVHO", "LS", "HO", "AV"), length.out = nrow(nor)))))

# ---------------------------------------------------------------- correlations: dat.molloy2014
mol <- dat.molloy2014
add_case("molloy_COR", "COR", mol, list(ri = "ri", ni = "ni"), "dat.molloy2014")
add_case("molloy_COR_AV", "COR", mol, list(ri = "ri", ni = "ni"), "dat.molloy2014", list(vtype = "AV"))
for (vt in c("LS", "UB", "AV")) add_case(paste0("molloy_UCOR_", vt), "UCOR", mol, list(ri = "ri", ni = "ni"), "dat.molloy2014", list(vtype = vt))
add_case("molloy_ZCOR", "ZCOR", mol, list(ri = "ri", ni = "ni"), "dat.molloy2014")

# UCOR where scipy's hyp2f1 fails (a = b = 1/2, c = 162, z = 1 - r^2 = 0.9975) and a grid of small
# n (slowly converging series) and r near 0 or 1.
hard <- expand.grid(ri = c(sqrt(1 - 0.9975), -sqrt(1 - 0.9975), 0, 0.001, 0.01, 0.2, 0.6, 0.95, 0.999, 1),
                    ni = c(3, 4, 5, 6, 7, 8, 10, 11, 25, 326, 5000))
for (vt in c("LS", "UB")) add_case(paste0("grid_UCOR_", vt), "UCOR", hard, list(ri = "ri", ni = "ni"), NA, list(vtype = vt))
add_case("grid_COR", "COR", hard, list(ri = "ri", ni = "ni"), NA)
add_case("grid_ZCOR", "ZCOR", hard[abs(hard$ri) < 1, ], list(ri = "ri", ni = "ni"), NA)

# ---------------------------------------------------------------- partial correlations: dat.aloe2013
alo <- dat.aloe2013
pc <- list(ti = "tval", ni = "n", mi = "preds")
for (vt in c("LS", "AV")) add_case(paste0("aloe_PCOR_", vt), "PCOR", alo, pc, "dat.aloe2013", list(vtype = vt))
add_case("aloe_ZPCOR", "ZPCOR", alo, pc, "dat.aloe2013")
for (vt in c("LS", "AV")) add_case(paste0("aloe_SPCOR_", vt), "SPCOR", alo, c(pc, list(r2i = "R2")), "dat.aloe2013", list(vtype = vt))

# ---------------------------------------------------------------- proportions: dat.pritz1997
pri <- dat.pritz1997
pri$mi <- pri$ni - pri$xi
for (m in c("PR", "PLN", "PLO", "PAS", "PFT")) add_case(paste0("pritz_", m), m, pri, list(xi = "xi", ni = "ni"), "dat.pritz1997")
add_case("pritz_PR_UB", "PR", pri, list(xi = "xi", ni = "ni"), "dat.pritz1997", list(vtype = "UB"))
for (m in c("PR", "PLN", "PLO")) add_case(paste0("pritz_", m, "_AV"), m, pri, list(xi = "xi", ni = "ni"), "dat.pritz1997", list(vtype = "AV"))
add_case("pritz_PLO_xi_mi", "PLO", pri, list(xi = "xi", mi = "mi"), "dat.pritz1997")
for (to in c("all", "if0all", "none")) {
  for (m in c("PR", "PLO", "PFT")) add_case(sprintf("pritz_%s_%s", m, to), m, pri, list(xi = "xi", ni = "ni"), "dat.pritz1997", list(to = to))
}
add_case("pritz_PAS_add05", "PAS", pri, list(xi = "xi", ni = "ni"), "dat.pritz1997", list(add = 0.5))

# ---------------------------------------------------------------- pre-post: synthetic grid
set.seed(20260101)
pp <- data.frame(
  m1i = c(10.2, 55.1, 3.4, 0.8, 101.0, 20.0, 7.7, 12.5),
  m2i = c(9.1, 50.3, 3.9, 0.2, 100.0, 20.0, 5.1, 14.0),
  sd1i = c(2.1, 10.4, 1.1, 0.5, 15.0, 4.0, 3.3, 2.0),
  sd2i = c(2.5, 9.8, 1.3, 0.4, 14.0, 4.0, 2.9, 6.0),
  ni = c(12, 40, 8, 3, 250, 30, 15, 60),
  ri = c(0.5, 0.8, 0.3, -0.2, 0.95, 0.0, 0.99, 0.6)
)
for (m in c("SMCC", "SMCR")) {
  cols <- if (m == "SMCC") list(m1i = "m1i", m2i = "m2i", sd1i = "sd1i", sd2i = "sd2i", ni = "ni", ri = "ri")
          else list(m1i = "m1i", m2i = "m2i", sd1i = "sd1i", ni = "ni", ri = "ri")
  for (vt in c("LS", "LS2")) add_case(sprintf("grid_%s_%s", m, vt), m, pp, cols, NA, list(vtype = vt))
}

# ---------------------------------------------------------------- small samples and missing input
sm <- data.frame(m1i = c(1, 2, NA, 4), sd1i = c(1, 1, 1, 1), n1i = c(2, 1, 5, 3),
                 m2i = c(0, 1, 0, NA), sd2i = c(1, 2, 1, 1), n2i = c(1, 1, 5, 3))
add_case("small_SMD", "SMD", sm[1:2, ], mc, NA)
tb <- data.frame(tpos = c(4, NA, 3), tneg = c(10, 5, 0), cpos = c(2, 1, 3), cneg = c(8, 9, 0))
add_case("missing_OR", "OR", tb, tab, NA)
# bi missing where n1i is given: metafor fills bi = n1i - ai
fill <- data.frame(tpos = c(4, 6, 3), tneg = c(119, NA, 228), n1 = c(123, 306, 231),
                   cpos = c(11, 29, 11), cneg = c(128, 274, NA), n2 = c(139, 303, 220))
add_case("fill_OR", "OR", fill, list(ai = "tpos", bi = "tneg", n1i = "n1", ci = "cpos", di = "cneg", n2i = "n2"), NA)

write_fixture(cases, "tests/reference/effects.json", "tests/reference/effects.R")
