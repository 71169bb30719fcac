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
# # Principle 6: the whole child
#
# The evidence behind the sixth principle of the Ten-Year Roadmap for Healthy Schools. Every
# number below is computed from the committed evidence base (`../evidence`) by evidence-kit; the
# prose describes, the cells count. Re-running the notebook after a source is added updates every
# table and figure.

# %%
# %matplotlib inline
import textwrap

import numpy as np
import pandas as pd
from IPython.display import display

import evidence_kit as ek
from evidence_kit import review as rv

pd.set_option("display.precision", 3)
pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 60)
P = "P6"
eb = ek.load_evidence("../evidence")

# %%
# NBVAL_IGNORE_OUTPUT
# The versions this notebook ran with (ignored by nbval: they change with the environment).
import matplotlib
import scipy

print(f"evidence-kit {ek.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
      f"scipy {scipy.__version__}, matplotlib {matplotlib.__version__}")

# %%
print(textwrap.fill(rv.principle_text(eb, P), 100))

# %% [markdown]
# ## Questions
# The principle's evidence questions in PICO form (population, intervention or exposure,
# comparator, outcome domains), as `evidence/principles.yaml` states them.

# %%
questions = rv.questions_table(eb, P)
rv.print_questions(questions)

# %%
with pd.option_context("display.max_colwidth", None):
    display(questions)

# %% [markdown]
# ## Sources
# Every published synthesis with a pooled estimate for this principle, and the study-level
# datasets mapped to it in `evidence/studies.yaml`, with their references (APA 7).

# %%
sources = rv.sources_table(eb, P)
sources[["citation_key", "role", "questions", "rows"]]

# %%
rv.print_references(sources)

# %% [markdown]
# ## Published syntheses on a common metric
# Intervention effects (d, g, SMD; odds ratios via Chinn's conversion) are shown as standardized
# mean differences. Associations reported as correlations stay correlations on their own axis:
# converting them to a d would pretend to a dichotomy the sources do not have. Each row's umbrella
# credibility class (I convincing to IV weak, NS not significant; Fusar-Poli & Radua 2018) is
# computed from its CI; a criterion that the extraction cannot assess counts as not met, so each
# class is a lower bound, and the criteria that could not be assessed are listed. Rows with no
# CI get no class.

# %%
pub = rv.published_syntheses(eb, P)
pub[rv.PUBLISHED_DISPLAY]

# %%
print(pub.groupby(["scale", "credibility"]).size().rename("rows").to_string())

# %% [markdown]
# Which umbrella criteria the extraction could not assess, counted over the classified rows (each
# such criterion counts as not met, so the class is a lower bound):

# %%
rv.print_not_assessable(pub)

# %%
pub[rv.CREDIBILITY_DISPLAY]

# %% [markdown]
# Standardized mean differences of whole-child programmes (SEL, skills, school-based mental
# health and physical activity programmes); open circles are estimates published without a CI,
# the class is in brackets. Signs are as published: for problem outcomes (bullying, aggression,
# symptoms) a negative value is a benefit, so read each row with its `outcome` above.

# %%
ax = rv.published_forest(pub, "SMD")

# %% [markdown]
# Correlations (associations, not effects of a programme):

# %%
ax = rv.published_forest(pub, "r")

# %% [markdown]
# ## Worked study-level syntheses
# ### School motivation and later delinquency (dat.tannersmith2016, Q6.2)
# Many correlations come from the same longitudinal study, so they are not independent. A
# three-level model (correlations within studies) separates between-study from within-study
# heterogeneity, and cluster-robust CR2 inference with Satterthwaite degrees of freedom
# (clubSandwich) protects the confidence interval against a misspecified dependence structure.

# %%
studies = eb.studies.set_index("dataset")
print(textwrap.fill("Directness: " + studies.loc["dat.tannersmith2016", "directness"], 100))

# %%
ts = eb.study_effect_sizes("dat.tannersmith2016")
ts["esid"] = np.arange(1, len(ts) + 1)
print(f"{len(ts)} correlations (Fisher z) from {ts['studyid'].nunique()} studies; "
      f"{int((ts['yi'] > 0).sum())} positive, as coded in the source")

# %%
ml_ts = ek.multilevel_meta_analysis(ts, levels=["studyid", "esid"])
ml_ts

# %%
rob_ts = ek.robust(ml_ts, cluster="studyid", small_sample="CR2")
rob_ts.coefficients

# %%
est = rob_ts.coefficients.loc["intercept"]
print(f"pooled z = {est['estimate']:.3f}, r = {np.tanh(est['estimate']):.3f}; CR2 95% CI (r) "
      f"{np.tanh(est['ci_lower']):.3f} to {np.tanh(est['ci_upper']):.3f} on {est['df']:.1f} df")

# %% [markdown]
# Does the association depend on the age at which motivation was measured? A meta-regression on
# `aget1` in the same three-level model, with CR2 inference.

# %%
ml_age = ek.multilevel_meta_analysis(ts, levels=["studyid", "esid"], mods=["aget1"])
rob_age = ek.robust(ml_age, cluster="studyid", small_sample="CR2")
rob_age.coefficients

# %% [markdown]
# For comparison, a random-effects model that ignores the dependence (one level), and its
# small-study diagnostics (which also assume independent estimates, so they are indicative only).

# %%
res_ts = ek.meta_analysis(ts)
egger_ts = ek.egger_test(res_ts)
print(f"naive random effects: z = {res_ts.estimate:.3f} [{res_ts.ci_lower:.3f}, {res_ts.ci_upper:.3f}], "
      f"I^2 = {res_ts.i2:.1f}%")
print(f"Egger: z = {egger_ts.statistic:.3f}, p = {egger_ts.pvalue:.4f}")

# %% [markdown]
# Leave-one-study-out sensitivity of the three-level model: each study's correlations are
# omitted together.

# %%
rows = []
for sid in sorted(ts["studyid"].unique()):
    fit = ek.multilevel_meta_analysis(ts[ts["studyid"] != sid], levels=["studyid", "esid"])
    rows.append({"omitted study": sid, "estimate": fit.estimate, "ci_lower": fit.ci_lower, "ci_upper": fit.ci_upper})
loo_ts = pd.DataFrame(rows).set_index("omitted study")
print(f"pooled z when omitting one study: {loo_ts['estimate'].min():.3f} to {loo_ts['estimate'].max():.3f} "
      f"(all studies: {ml_ts.estimate:.3f})")
loo_ts

# %% [markdown]
# ### CBT for depression by delivery format (dat.lopez2019, Q6.3)
# Arm-level data: each row is the standardized mean change in depressive symptoms within one arm
# of a trial. Arms of the same trial share a study, so a three-level model (arms within
# studies) with the arm's treatment as moderator compares delivery formats within trials, and
# CR2 inference clusters by study.

# %%
print(textwrap.fill("Directness: " + studies.loc["dat.lopez2019", "directness"], 100))

# %%
lop = eb.study_effect_sizes("dat.lopez2019")
lop["arm"] = lop.groupby("study").cumcount() + 1
print(lop.groupby("treatment").agg(arms=("yi", "size"), mean_change=("yi", "mean")).to_string())

# %%
ml_lop = ek.multilevel_meta_analysis(lop, levels=["study", "arm"], mods=["treatment"])
rob_lop = ek.robust(ml_lop, cluster="study", small_sample="CR2")
rob_lop.coefficients

# %% [markdown]
# The intercept is the mean change in face-to-face CBT arms (the first level in sorted order);
# each other row is the difference from it. Negative changes are falls in symptoms.

# %%
print(f"CR2 test that all formats and controls change symptoms alike: F = {rob_lop.qm:.2f} "
      f"on {rob_lop.qm_df[0]:.0f} and {rob_lop.qm_df[1]:.1f} df, p = {rob_lop.qm_pvalue:.2g}")

# %% [markdown]
# ## Certainty of the evidence
# GRADE, outcome by outcome. For each question and outcome domain the published estimate with a CI
# and the most studies is rated; the worked syntheses are rated from their fits. Risk of bias is
# rated from what each source review reports about its own studies (`evidence/appraisals/`: the
# share of studies at high risk, unweighted because reviews report counts), and publication bias,
# for 10 or more studies, from the small-study test the review reports. Where a review reports
# neither, or no I^2, that domain cannot be assessed: it is rated down one level and the footnote
# says what is missing. The worked syntheses have no study-level risk-of-bias assessments in the
# evidence base, so their risk of bias is rated down the same way. Indirectness of the published
# rows is judged not serious because each was extracted for a question whose PICO it matches; for
# the datasets it follows the opening of their directness note in `studies.yaml`. Designs other than
# randomized trials (including mixed or unstated designs) start at the observational level. The
# school motivation data are rated from the one-level random-effects fit (GRADE rates one pooled
# estimate with its prediction interval); its CI is narrower than the CR2 interval above, which the
# imprecision footnote should be read against. The arm-level CBT data give no contrast with a
# control within one model that GRADE could rate, so they are not rated.

# %%
grades = rv.grade_published(pub, appraisals=eb.appraisals)
grades["Q6.2 school motivation, delinquency (dat.tannersmith2016)"] = rv.grade_study(
    res_ts, indirectness=rv.indirectness_from_note(studies.loc["dat.tannersmith2016", "directness"]),
    design="observational", measure="z")
sof = ek.summary_of_findings(grades)
sof

# %%
print(pd.Series({name: g.level for name, g in grades.items()}, name="certainty").to_string())

# %% [markdown]
# What the source reviews report about the studies they pooled (`evidence/appraisals/`; scope
# `review` means counts over the whole review, not one estimate):

# %%
appraisals = rv.appraisals_table(eb, P)
appraisals[["synthesis_id", "scope", "reported", "share_high", "locator"]]

# %% [markdown]
# Our GRADE level beside the review's own, where the review reports one:

# %%
rv.review_grades(grades, eb.appraisals)

# %% [markdown]
# ## WWC study ratings and ESSA tiers
# Trials of social-emotional learning, prevention and school mental-health programmes, rated as the
# What Works Clearinghouse rates group designs, with the ESSA evidence tier each programme's
# findings support (`evidence/wwc/`; how the ratings and tiers are computed, and when the WWC's own
# rating stands in for ours: the overview notebook).

# %%
ratings = rv.wwc_ratings(eb, P)
ratings[rv.WWC_DISPLAY]

# %%
rv.print_reasons(ratings)

# %%
tiers = rv.essa_tiers(ratings)
tiers[["tier", "label", "findings", "rating_source"]]

# %%
rv.print_reasons(tiers.reset_index(), key="intervention")

# %% [markdown]
# ## Gaps, and what would change the conclusion
# Question and outcome pairs with no published pooled estimate in the evidence base (the datasets
# column counts mapped study-level datasets, which are indirect), and any gap stated in
# `evidence/gaps.yaml`.

# %%
gaps = rv.gaps_table(eb, P)
gaps[gaps["gap"] | gaps["stated_gap"]]

# %%
print(f"{int(gaps['gap'].sum())} of {len(gaps)} question x outcome pairs have no published synthesis.")

# %% [markdown]
# The gaps stated in `evidence/gaps.yaml` for this principle, with what was searched and why
# nothing could be pooled:

# %%
stated = rv.stated_gaps(eb, P)
rv.print_stated_gaps(stated, P)

# %% [markdown]
# How much of the low certainty comes from what is not yet assessed: for each rated outcome, the
# domains rated down only because they could not be assessed, the domains rated down on the
# evidence itself, and the highest certainty the outcome could reach if the missing assessments
# found no serious concern.

# %%
rv.what_would_change(grades)

# %% [markdown]
# What would change the conclusion:
#
# - Risk-of-bias assessments of the SEL and school mental-health trials behind the pooled
#   estimates would replace the rating-down for an unassessed domain.
# - Syntheses reporting I^2, prediction intervals and small-study tests for SEL effects on
#   academic achievement would let that outcome be rated on its own numbers; several rows carry
#   no CI at all and cannot be classified.
# - A current synthesis of school engagement and behaviour with a stated direction of effect
#   would replace the demonstration data of Tanner-Smith et al. (2016), and school-based trials of
#   CBT formats in students would replace the adult arm-level data.
