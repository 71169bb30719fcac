# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Dependent effect sizes and small-study effects in school-based evidence
#
# School studies rarely give one independent effect each: students sit in classrooms and schools,
# schools sit in districts, and one study often reports several outcomes. Reviewers also ask first
# whether small studies drive a pooled result. This methods notebook shows every method of that
# part of evidence-kit on real data shipped with the package (metadat datasets, read from the
# package, never the network):
#
# | Part | Methods | Data | How direct for schools |
# |---|---|---|---|
# | 1 | `ek.multilevel_meta_analysis` (three levels, multilevel I^2) | `dat.konstantopoulos2011` | Direct: school calendars, schools within districts |
# | 2 | `ek.robust` (CR1, CR2), `ek.wald_test` | `dat.konstantopoulos2011`, `dat.bangertdrowns2004`, `dat.tannersmith2016` | Direct; direct (but college studies included); indirect (school motivation and later delinquency, an association) |
# | 2b | `vcalc`, `che_model`, `che_sensitivity` (the CHE working model with CR2), `MultilevelResult.confint` (profile likelihood), `profile_plot` | `dat.konstantopoulos2011` | Direct: schools within districts |
# | 3 | `ek.permutation_test` | `dat.bangertdrowns2004` (K-12 studies) | Direct: school-based writing-to-learn |
# | 4 | `ek.egger_test`, `ek.rank_test`, `ek.trim_and_fill`, `ek.funnel_plot`, `ek.fail_safe_n`, `ek.pet_peese`, `ek.excess_significance_test`, `ek.selection_model` | `dat.bangertdrowns2004` | Direct for the K-12 studies; the published review also holds college studies |
#
# `dat.assink2016` (recidivism and mental health in delinquent juveniles), the other
# multilevel dataset of the package's reference fixtures, is not used here: it is about juvenile
# offenders' recidivism, not schools or school-based programmes. It is the textbook case for the
# CHE working model of Part 2b (several correlated effects per sample), and the package's tests
# check that model on it against metafor and clubSandwich; here the model is shown on the direct
# school data instead.
#
# Every number is printed by a cell; the prose interprets without quoting them. The
# interpretations describe these data and these methods, not the Roadmap's conclusions.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
from scipy import stats

import evidence_kit as ek
from evidence_kit import review as rv  # rv.reader_table: tables for reading (no NaN, no index clutter)
from evidence_kit.plots import profile_plot
from evidence_kit.synthesis import che_model, che_sensitivity, vcalc

pd.set_option("display.precision", 4)
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 20)

SEED = 2004  # the permutation test's seed, passed to the library (no global random state)
COLS = ["estimate", "se", "statistic", "df", "pvalue", "ci_lower", "ci_upper"]

# %%
# NBVAL_IGNORE_OUTPUT
# The versions this notebook ran with (ignored by nbval: they change with the environment).
import matplotlib
import scipy

print(f"evidence-kit {ek.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
      f"scipy {scipy.__version__}, matplotlib {matplotlib.__version__}")

# %% [markdown]
# ## Part 1. Three-level model: modified school calendars (dat.konstantopoulos2011)
# Each row is one school's standardized mean difference in achievement between a modified
# calendar (shorter, more frequent breaks) and the traditional one with a long summer break; schools are nested within districts. Schools
# of one district share its calendar policy and population, so their effects are not
# independent. The dataset's documentation names the source:

# %%
info = ek.dataset_info("dat.konstantopoulos2011")
print(info["title"])
print(info["source"])
kon = ek.load_dataset("dat.konstantopoulos2011")
print(f"k = {len(kon)} effects (schools) in {kon['district'].nunique()} districts; "
      f"schools per district: {kon.groupby('district').size().min()} to "
      f"{kon.groupby('district').size().max()}")

# %% [markdown]
# The three-level model (`rma.mv(yi, vi, random = ~ 1 | district/school)` in metafor) has one
# variance component per level: between districts, and between schools within a district. The
# school labels are read within their district, as `district/school` in R.

# %%
ml_kon = ek.multilevel_meta_analysis(kon, levels=["district", "school"], method="REML")
ml_kon

# %% [markdown]
# `sigma2` per level and the multilevel I^2 (Cheung 2014): the share of the total variance
# (sampling variance included) that lies at each level, in percent; the remainder is sampling
# error.

# %%
vc = ml_kon.variance_components()
print(vc.to_string())
print(f"total I^2 = {ml_kon.i2:.2f}%, of which district {ml_kon.i2_levels['district']:.2f}% "
      f"and school {ml_kon.i2_levels['school']:.2f}%; sampling error {100 - ml_kon.i2:.2f}%")

# %% [markdown]
# Most of the heterogeneity lies between districts rather than between schools of the same
# district: schools under one district's calendar resemble each other.
#
# For comparison, the (inappropriate) univariate random-effects model that treats the schools as
# independent studies. Its single tau^2 lumps the two levels together, and its weights give every
# school the same standing whether or not its district already contributed other schools.

# %%
uni_kon = ek.meta_analysis(kon, method="REML")
compare = pd.DataFrame(
    {
        "estimate": [uni_kon.estimate, ml_kon.estimate],
        "se": [uni_kon.se, ml_kon.se],
        "ci_lower": [uni_kon.ci_lower, ml_kon.ci_lower],
        "ci_upper": [uni_kon.ci_upper, ml_kon.ci_upper],
        "pvalue": [uni_kon.pvalue, ml_kon.pvalue],
        "tau^2 or sum of sigma2": [uni_kon.tau2, ml_kon.sigma2.sum()],
        "logLik": [uni_kon.ll, ml_kon.ll],
    },
    index=["univariate (schools independent)", "three-level (district / school)"],
)
compare

# %% [markdown]
# Is the district level needed? A likelihood-ratio test of the three-level model against the
# two-level model with one random effect per school (the univariate model above, refitted as
# `rma.mv(..., random = ~ 1 | study)`; same likelihood). The p-value is from chi-square on one
# df, as metafor's `anova()`; since the district variance is tested at its boundary, this is
# conservative (halving it is the usual boundary correction).

# %%
two_kon = ek.multilevel_meta_analysis(kon, levels=["study"], method="REML")
lrt = 2 * (ml_kon.ll - two_kon.ll)
p_lrt = stats.chi2.sf(lrt, 1)
print(f"two-level logLik = {two_kon.ll:.4f} (univariate rma: {uni_kon.ll:.4f}); "
      f"three-level logLik = {ml_kon.ll:.4f}")
print(f"LRT = {lrt:.4f} on 1 df, p = {p_lrt:.3g} (boundary-corrected p = {p_lrt / 2:.3g})")

# %% [markdown]
# Ignoring the districts gives a smaller pooled estimate with a standard error that is too small:
# the univariate model treats schools of one district as independent replications, so its
# interval is narrower than the data support. The likelihood-ratio test keeps the district level.

# %% [markdown]
# REML is the default; ML is also available (use it to compare models that differ in their
# moderators by likelihood ratio). ML gives a smaller between-district variance (districts are
# few, and REML's allowance for the estimated mean matters most there); the school-level
# variance hardly moves, and neither does the pooled estimate.

# %%
ml_kon_ml = ek.multilevel_meta_analysis(kon, levels=["district", "school"], method="ML")
pd.DataFrame(
    {
        fit.method: {"sigma2 district": fit.sigma2[0], "sigma2 school": fit.sigma2[1],
                     "I^2 district": fit.i2_levels["district"], "I^2 school": fit.i2_levels["school"],
                     "estimate": fit.estimate, "se": fit.se}
        for fit in (ml_kon, ml_kon_ml)
    }
)

# %% [markdown]
# Moderators enter the three-level model as in a meta-regression. Does the effect change with the
# year of the study (centred at its mean)? The model-based test, then CR2 by district.

# %%
kon["year_c"] = kon["year"] - kon["year"].mean()
ml_year = ek.multilevel_meta_analysis(kon, levels=["district", "school"], mods=["year_c"])
print(f"QM = {ml_year.qm:.4f}, p = {ml_year.qm_pvalue:.4f}; residual Q({ml_year.q_df}) = "
      f"{ml_year.q:.4f}; sigma2 = {ml_year.sigma2.round(6).tolist()} (district, school)")
rv.reader_table(pd.concat({"model-based (z)": ml_year.coefficients.assign(df=np.nan),
                           "robust CR2": ek.robust(ml_year, cluster="district", small_sample="CR2").coefficients}
                          )[COLS], index=True, digits=4)

# %% [markdown]
# No trend with study year by either test; the robust test, with very few degrees of freedom for
# the slope, is the more cautious.

# %% [markdown]
# ## Part 2. Cluster-robust inference
# ### CR1 and CR2 on the three-level model, clustered by district
# The model-based standard error is right only if the three-level structure is right.
# Cluster-robust (sandwich) inference needs only that districts are independent. "CR1" is
# metafor's `robust()` default (factor J/(J - p), t on J - p df); "CR2" is clubSandwich's
# bias-reduced linearization with Satterthwaite degrees of freedom, recommended when clusters
# are few (Tipton 2015; Pustejovsky & Tipton 2018).

# %%
rob_kon = {s: ek.robust(ml_kon, cluster="district", small_sample=s) for s in ("CR1", "CR2")}
table = pd.concat(
    {"model-based (z)": ml_kon.coefficients.assign(df=np.nan)}
    | {f"robust {s}": r.coefficients for s, r in rob_kon.items()}
)
print(f"{rob_kon['CR2'].n_clusters} clusters (districts), k = {rob_kon['CR2'].k}")
rv.reader_table(table[COLS], index=True, digits=4)

# %% [markdown]
# With this few districts the robust tests use t distributions with few degrees of freedom, so
# the robust intervals are wider than the model-based one, and include zero, even though the
# standard errors are close: the evidence that modified calendars raise achievement is weaker than the model-based
# test suggests.
#
# ### A multi-coefficient moderator test: grade level in writing-to-learn (dat.bangertdrowns2004)
# Bangert-Drowns, Hurley and Wilkinson (2004) meta-analysed school-based writing-to-learn
# interventions (positive: higher achievement with the intervention). Grade level is coded
# 1 elementary, 2 middle, 3 high school, 4 college: the review includes college studies, so
# only grades 1 to 3 are direct evidence for schools. Each study gives one effect, so clustering
# by study makes the sandwich estimator heteroskedasticity-robust rather than
# dependence-robust (as metafor's own `robust()` example on these data). Grade as a categorical
# moderator has three coefficients, tested jointly with `ek.wald_test`.

# %%
print(ek.dataset_info("dat.bangertdrowns2004")["title"])
bd = ek.load_dataset("dat.bangertdrowns2004")
bd["label"] = bd["author"] + " " + bd["year"].astype(str)
bd["grade_level"] = bd["grade"].map({1: "1 elementary", 2: "2 middle", 3: "3 high school",
                                     4: "4 college"})
print(bd["grade_level"].value_counts().sort_index().to_string())

# %%
reg_grade = ek.meta_analysis(bd, mods=["grade_level"], method="REML", slab="label")
grade_terms = [t for t in reg_grade.term_names if t != "intercept"]
print(f"reference level: 1 elementary; terms tested jointly: {grade_terms}")
rob_grade = {s: ek.robust(reg_grade, cluster=bd["id"], small_sample=s) for s in ("CR1", "CR2")}
pd.concat({f"robust {s}": r.coefficients for s, r in rob_grade.items()})

# %%
wald_grade = pd.DataFrame({f"robust {s}": ek.wald_test(r, grade_terms) for s, r in rob_grade.items()}).T
qm_row = pd.DataFrame({"Q": reg_grade.qm, "df_num": reg_grade.qm_df, "pvalue": reg_grade.qm_pvalue},
                      index=["model-based (QM, chi2)"])
rv.reader_table(pd.concat([wald_grade, qm_row]), index=True, digits=4)

# %% [markdown]
# None of the three tests finds that the effect differs by grade level at conventional levels.
# The CR2 test (Hotelling's T^2 approximation, with its own denominator degrees of freedom) is
# the most cautious, because one middle-school coefficient rests on few studies; CR1 with J - p
# degrees of freedom is more liberal.
#
# ### Several effects per study: school motivation and later delinquency (dat.tannersmith2016)
# The real dependence case: many correlations (Fisher's z) per study, between school
# motivation or attitudes and later delinquent or criminal behaviour. This is indirect evidence
# for school health (an association measured in longitudinal samples, not the effect of a school
# practice), and the documentation says it is for demonstration only. A three-level model
# (effects within studies) with sample composition as a three-category moderator, and robust
# inference by study.

# %%
print(ek.dataset_info("dat.tannersmith2016")["title"])
ts = ek.load_dataset("dat.tannersmith2016")
ts["esid"] = ts.groupby("studyid").cumcount() + 1  # effect within study
print(f"k = {len(ts)} effects in {ts['studyid'].nunique()} studies; effects per study: "
      f"{ts.groupby('studyid').size().min()} to {ts.groupby('studyid').size().max()}")
print(ts.groupby("sexmix")["studyid"].agg(effects="size", studies="nunique").to_string())

# %%
ml_ts = ek.multilevel_meta_analysis(ts, levels=["studyid", "esid"], mods=["sexmix"], method="REML")
sex_terms = [t for t in ml_ts.term_names if t != "intercept"]
print(ml_ts.variance_components().to_string())
rob_ts = {s: ek.robust(ml_ts, cluster="studyid", small_sample=s) for s in ("CR1", "CR2")}
rv.reader_table(pd.concat({"model-based (z)": ml_ts.coefficients.assign(df=np.nan)}
                          | {f"robust {s}": r.coefficients for s, r in rob_ts.items()})[COLS], index=True, digits=4)

# %%
wald_ts = pd.DataFrame({f"robust {s}": ek.wald_test(r, sex_terms) for s, r in rob_ts.items()}).T
# MultilevelResult.qm_df is a one-element tuple (MetaResult's is a number): np.ravel reads both
qm_row = pd.DataFrame({"Q": ml_ts.qm, "df_num": np.ravel(ml_ts.qm_df)[0], "pvalue": ml_ts.qm_pvalue},
                      index=["model-based (QM, chi2)"])
rv.reader_table(pd.concat([wald_ts, qm_row]), index=True, digits=4)

# %% [markdown]
# The association does not differ between male, female and mixed samples by any test. Here the
# clusters are studies with many effects, so the robust standard errors exceed the model-based
# ones, and CR2's Satterthwaite degrees of freedom for the intercept fall far below CR1's
# J - p: with few studies in a category, a robust test has little information, and CR2 says so.

# %% [markdown]
# ## Part 2b. Correlated and hierarchical effects (CHE) with robust inference
# Pustejovsky and Tipton (2022, Prevention Science 23:425-438) recommend one recipe for
# dependent effects when their correlations are unknown: assume a correlation rho between the
# sampling errors of effects in one cluster (`vcalc`), fit the multilevel model with that
# sampling covariance matrix V as a working model for the weights, and base inference on CR2
# cluster-robust standard errors with Satterthwaite degrees of freedom, which stay valid when rho
# or the random-effects structure is wrong. A sensitivity analysis over rho shows how much the
# weights, and so the estimate, depend on the guess.
#
# The direct school data are `dat.konstantopoulos2011`: schools (one effect each) within
# districts, so the district is the cluster. Each school is its own sample, so the sampling errors
# of two schools are in fact independent (rho = 0 is the true value here); rho > 0 is the
# working assumption a reviewer makes when a study reports several outcomes or time points of one
# sample. The recipe is shown with the common default rho = 0.6 and then over a grid.

# %%
V_kon = vcalc(kon, "vi", "district", obs="school", rho=0.6)
print(V_kon)  # one dense block per district, nothing between districts
che_kon = che_model(kon, cluster="district", es_id="school", rho=0.6)
che_kon

# %% [markdown]
# `che_model` is the three steps above in one call: `vcalc`, then
# `multilevel_meta_analysis(..., V=V)` (metafor's `rma.mv(yi, V, random = ~ 1 | district/school)`),
# then `robust(..., "CR2")` by district. The fitted working model is kept on the result:

# %%
print(che_kon.model.variance_components().to_string())
rv.reader_table(pd.concat({"working model (z)": che_kon.model.coefficients.assign(df=np.nan),
                           "CHE + CR2": che_kon.coefficients})[COLS], index=True, digits=4)

# %% [markdown]
# The sensitivity over the assumed correlation: estimate, CR2 standard error, Satterthwaite df,
# p-value, confidence interval and the two variance components, for rho from 0 to 0.8.

# %%
sens_kon = che_sensitivity(kon, cluster="district", es_id="school", rhos=(0.0, 0.2, 0.4, 0.6, 0.8))
sens_kon

# %% [markdown]
# As the assumed rho rises, part of the similarity of schools within a district is attributed
# to correlated sampling errors, so the between-district variance falls; the school-level
# variance rises, because errors that move together leave more of the spread within a district
# to true differences between schools. The estimate, its CR2 standard error and the p-value barely
# move across the grid, and every robust interval just includes zero, as the CR2 interval of
# Part 2 did: the conclusion does not depend on the assumed correlation, which is what the CHE
# recipe asks a reviewer to show before reporting one rho.
#
# ### Profile-likelihood intervals for the variance components
# How well are the two variances determined? The profile-likelihood interval of each sigma^2
# (metafor's `confint(res, sigma2 = j)`) re-estimates the other component at every value; its
# bounds are where the (restricted) log-likelihood falls chi^2(1, 0.95)/2 below its maximum.

# %%
ml_kon.confint()

# %% [markdown]
# From few districts the between-district variance is poorly determined: relative to its
# estimate, its interval is much wider than the school-level variance's, which rests on every
# school. The profile plot shows the flat top of the likelihood in the district variance
# (dashed: the estimate and the maximum; dotted: the cut-off whose crossings are the bounds).

# %%
ax = profile_plot(ml_kon, "district", xlim=(0.0, 0.3), steps=16);

# %% [markdown]
# ## Part 3. Permutation test of a meta-regression moderator
# Do K-12 writing-to-learn interventions with prompts for metacognitive reflection (`meta`) work
# better? The permutation test (Higgins & Thompson 2004; metafor `permutest`) reshuffles the
# moderator against the effects, refits each arrangement with the same tau^2 estimator, and
# counts how often the statistic is at least as extreme as the observed one. It does not lean on
# the normal approximation of the z-test, which matters with few studies. The seed is passed to
# the library; the progress bar is switched off so the output is the same on every run.

# %%
k12 = bd[bd["grade"] < 4].copy()
print(f"K-12 studies: {len(k12)}; missing 'meta': {k12['meta'].isna().sum()}")
reg_meta = ek.meta_analysis(k12, mods=["meta"], method="REML", slab="label")
perm = ek.permutation_test(reg_meta, n_permutations=1000, seed=SEED, progress=False)
print(f"{perm.n_permutations} permutations (exact: {perm.exact}), seed {SEED}")
print(f"omnibus test: QM = {perm.qm:.4f}, model-based p = {reg_meta.qm_pvalue:.4f}, "
      f"permutation p = {perm.qm_pvalue:.4f}")
perm.coefficients

# %% [markdown]
# The permutation p-value for the moderator (column `pvalue`, beside the model-based
# `pvalue_model`) agrees in direction with the z-test and keeps the moderator near the
# conventional threshold: metacognitive prompts are associated with larger effects, but the
# evidence is thin. Permuting the rows of the design tests the moderator and the omnibus
# hypothesis; permuting rows leaves the intercept column in place, so the intercept's
# permutation distribution is not a null distribution for the intercept and that row is not read.

# %% [markdown]
# ## Part 4. Small-study effects and publication bias (dat.bangertdrowns2004)
# The random-effects model of all studies in the published review (K-12 and college), the
# model the tests below start from; a K-12-only summary follows at the end.

# %%
res_bd = ek.meta_analysis(bd, method="REML", slab="label")
res_bd

# %% [markdown]
# ### Egger's regression test
# A meta-regression on the standard error (metafor's `regtest` default); its intercept is the
# limit estimate: the effect expected for a study with a standard error of zero.

# %%
egger = ek.egger_test(res_bd)
print(f"Egger (predictor {egger.predictor}, model {egger.model}): z = {egger.statistic:.4f}, "
      f"p = {egger.pvalue:.4f}")
print(f"limit estimate {egger.limit_estimate:.4f} [{egger.ci_lower:.4f}, {egger.ci_upper:.4f}]")

# %% [markdown]
# Smaller studies report larger effects than precise ones, and the limit estimate for a study of
# infinite size is close to zero: the pooled effect may be inflated by small studies.

# %% [markdown]
# The other predictors (sampling variance, sample size, its inverse and square roots), each in
# metafor's default mixed-effects form ("rma") and in Egger's original weighted regression with
# a multiplicative dispersion ("lm", t on k - 2 df). The limit estimate exists only for the
# predictors that go to zero as a study grows.

# %%
egger_rows = {}
for model in ("rma", "lm"):
    for predictor in ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"):
        e = ek.egger_test(res_bd, predictor, model=model, ni=bd["ni"])
        egger_rows[(model, predictor)] = {"statistic": e.statistic, "df": e.df, "pvalue": e.pvalue,
                                          "limit_estimate": e.limit_estimate}
rv.reader_table(pd.DataFrame(egger_rows).T.rename_axis(["model", "predictor"]), index=True, digits=4)

# %% [markdown]
# Every predictor and both forms point the same way, though not all reach conventional
# significance; the tests on sample size carry the opposite sign because larger samples mean
# smaller standard errors.

# %% [markdown]
# ### Begg and Mazumdar's rank correlation test

# %%
rank = ek.rank_test(res_bd)
print(f"Kendall's tau = {rank.tau:.4f}, p = {rank.pvalue:.4f} "
      f"({'exact' if rank.exact else 'normal approximation: there are ties'})")

# %% [markdown]
# The rank test, which has less power than Egger's, points the same way: larger effects go with
# larger variances.

# %% [markdown]
# ### Trim and fill, and the funnel plot with the filled studies
# Duval and Tweedie's L0 estimator, with the side chosen as metafor does.

# %%
tf = ek.trim_and_fill(res_bd)
print(f"estimated missing studies: k0 = {tf.k0} on the {tf.side} side (estimator {tf.estimator})")
print(f"adjusted estimate {tf.estimate:.4f} [{tf.ci_lower:.4f}, {tf.ci_upper:.4f}] "
      f"vs observed {res_bd.estimate:.4f} [{res_bd.ci_lower:.4f}, {res_bd.ci_upper:.4f}]")
tf_r0 = ek.trim_and_fill(res_bd, estimator="R0")
print(f"with the R0 estimator: k0 = {tf_r0.k0} on the {tf_r0.side} side")
filled = pd.DataFrame({"yi": tf.yi, "vi": tf.vi}, index=tf.slab)[np.asarray(tf.filled)]
filled

# %%
ax = ek.funnel_plot(tf, xlabel="standardized mean difference (open circles: filled studies)")

# %% [markdown]
# Trim and fill imputes studies on the side of small or negative effects; the adjusted estimate is
# smaller but its interval still excludes zero. The R0 estimator, which counts only the run of
# the most extreme effects on one side, imputes none: the two estimators disagree, a sign
# that the funnel's asymmetry is not clear-cut. Trim and fill assumes that asymmetry comes from
# suppressed studies, which heterogeneity alone can also produce, so it is a sensitivity
# analysis, not a corrected answer.

# %% [markdown]
# ### Fail-safe N
# How many unpublished null studies it would take to overturn the result (Rosenthal: to make the
# combined one-sided test non-significant; Orwin: to halve the unweighted mean effect;
# Rosenberg: to make the weighted fixed-effect test non-significant).

# %%
fsn = pd.Series({m: ek.fail_safe_n(res_bd, method=m) for m in ("rosenthal", "orwin", "rosenberg")},
                name="fail-safe N")
print(f"k = {res_bd.k} observed studies")
fsn.to_frame()

# %% [markdown]
# Rosenthal's and Rosenberg's numbers are large relative to the number of studies, Orwin's is
# much smaller. All assume that the missing studies average exactly zero and ignore
# heterogeneity, so fail-safe N is reported for completeness and not relied on.

# %% [markdown]
# ### PET-PEESE
# Weighted regressions of the effects on the standard error (PET) and on the variance (PEESE);
# the intercept estimates the effect of a perfectly precise study. PEESE is the one to report
# when PET rejects a zero effect (Stanley & Doucouliagos 2014).

# %%
pp = ek.pet_peese(res_bd)
pp

# %% [markdown]
# PET does not reject a zero effect, so PET is the selected estimate, and it is close to zero:
# once small-study effects are modelled, these data leave no clear effect.

# %% [markdown]
# ### Test of excess significance
# Ioannidis and Trikalinos (2007): are more studies significant than their power, at the pooled
# effect and tau^2, leads one to expect?

# %%
tes = ek.excess_significance_test(res_bd)
print(f"significant studies: observed {tes.observed}, expected {tes.expected:.4f} "
      f"(ratio {tes.ratio:.4f})")
print(f"test {tes.test}: statistic = {tes.statistic:.4f}, p = {tes.pvalue:.4f}; "
      f"theta_lim = {tes.theta_lim:.4f}")

# %% [markdown]
# The number of significant studies is close to what their power predicts: no sign of excess
# significance: the asymmetry above does not show up as a surplus of significant results.

# %% [markdown]
# ### Step-function selection model (Vevea and Hedges)
# The three-parameter model: one cut-point at one-sided p = .025, a selection weight for the
# non-significant interval relative to the significant one, tau^2 by maximum likelihood, and a
# likelihood-ratio test against the model without selection.

# %%
sel = ek.selection_model(res_bd, steps=(0.025, 1.0))
print(f"adjusted estimate {sel.estimate:.4f} (SE {sel.se:.4f}), tau^2 = {sel.tau2:.4f} "
      f"(unadjusted: {res_bd.estimate:.4f}, tau^2 = {res_bd.tau2:.4f})")
print(f"LRT for selection = {sel.lrt:.4f} on {sel.lrt_df} df, p = {sel.lrt_pvalue:.4f}")
print(sel.coefficients.to_string())
rv.reader_table(sel.delta_table, index=True, digits=4)

# %% [markdown]
# Non-significant studies are estimated to be less likely to appear than significant ones, and
# the adjusted estimate is smaller than the unadjusted one, but the likelihood-ratio test does not
# distinguish the selection model from no selection: the data are too few to estimate selection
# precisely.

# %% [markdown]
# A sensitivity analysis with a second cut-point at one-sided p = .5, which separates
# non-significant results in the expected direction from results in the opposite direction.

# %%
sel3 = ek.selection_model(res_bd, steps=(0.025, 0.5, 1.0))
print(f"adjusted estimate {sel3.estimate:.4f} (SE {sel3.se:.4f}); LRT = {sel3.lrt:.4f} on "
      f"{sel3.lrt_df} df, p = {sel3.lrt_pvalue:.4f}")
rv.reader_table(sel3.delta_table, index=True, digits=4)

# %% [markdown]
# Results in the opposite direction get the smallest weight and the adjusted estimate falls
# further, but the joint test of the selection weights still does not reject no selection.

# %% [markdown]
# ### K-12 studies only
# The same diagnostics on the school studies alone (grades 1 to 3), the direct evidence for the
# Roadmap.

# %%
res_k12 = ek.meta_analysis(k12, method="REML", slab="label")
eg12, rk12, tf12 = ek.egger_test(res_k12), ek.rank_test(res_k12), ek.trim_and_fill(res_k12)
pp12 = ek.pet_peese(res_k12)
tes12, sel12 = ek.excess_significance_test(res_k12), ek.selection_model(res_k12)
summary = pd.DataFrame(
    {
        "all studies": [res_bd.k, res_bd.estimate, egger.pvalue, rank.pvalue, tf.k0, tf.estimate,
                        pp.loc[pp["selected"], "estimate"].iloc[0], tes.pvalue, sel.estimate,
                        sel.lrt_pvalue],
        "K-12 only": [res_k12.k, res_k12.estimate, eg12.pvalue, rk12.pvalue, tf12.k0, tf12.estimate,
                      pp12.loc[pp12["selected"], "estimate"].iloc[0], tes12.pvalue, sel12.estimate,
                      sel12.lrt_pvalue],
    },
    index=["k", "random-effects estimate", "Egger p", "rank test p", "trim-and-fill k0",
           "trim-and-fill estimate", "PET-PEESE selected estimate", "excess significance p",
           "selection-model estimate", "selection LRT p"],
)
summary

# %% [markdown]
# In the school studies alone, neither regression nor rank test detects asymmetry and trim and
# fill imputes no study: the small-study signal of the full review appears only when the
# college studies are included. The corrected estimates (PET, selection model) are still smaller than the
# random-effects estimate, with wide uncertainty, so the size of the writing-to-learn effect in
# schools remains uncertain even where bias tests are quiet.
#
# A contour-enhanced funnel plot of the K-12 studies (Peters et al. 2008). The contours are centred
# on zero, not on the estimate: the white wedge around zero is where a study is not significant
# at the least strict of the confidence levels passed (`levels`), the grey bands lie between the
# levels, and outside them a study is significant at the strictest one. A gap in the white wedge
# would point to selection by significance.

# %%
ax = ek.funnel_plot(res_k12, contour=True, levels=(90, 95, 99),
                    xlabel="standardized mean difference (K-12 studies)")

# %% [markdown]
# Non-significant K-12 studies are plentiful, on both sides of zero: the funnel shows no gap where
# selection by significance would have left one.

# %% [markdown]
# ## When a method is undefined or the input is wrong
# The methods refuse rather than guess: too few studies for a test, a selection-model interval
# without any p-value, or robust clusters that cut across a random-effects level. Each message is
# printed here (caught, so the notebook runs on).

# %%
bad_inputs = {
    "Egger test on two studies": lambda: ek.egger_test(ek.meta_analysis(k12.head(2))),
    "selection model, empty interval": lambda: ek.selection_model(res_bd, steps=(0.025, 0.026, 1)),
    "robust by year, districts span years": lambda: ek.robust(ml_kon, cluster=kon["year"]),
}
for what, call in bad_inputs.items():
    try:
        call()
        print(f"{what}: no error")
    except ValueError as err:
        print(f"{what}: ValueError: {err}")

# %% [markdown]
# ## What this notebook shows
# - Nested school data need the three-level model: the variance splits between districts and
#   schools, and the univariate model understates the uncertainty.
# - Cluster-robust CR2 inference with Satterthwaite degrees of freedom is the cautious check when
#   clusters are few; `ek.wald_test` tests several coefficients of a moderator at once.
# - The CHE working model (`vcalc` + the multilevel model with V + CR2) is the recommended recipe
#   for dependent effects with unknown correlations; the sensitivity over rho shows whether the
#   assumed correlation matters. Profile-likelihood intervals show how well each variance
#   component is determined.
# - The seeded permutation test gives a moderator p-value that does not rest on the normal
#   approximation.
# - Small-study diagnostics disagree in strength and answer different questions; read them
#   together, as sensitivity analyses.
