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
# # Principle 5: flexibility and innovation
#
# The evidence behind the fifth principle of the Ten-Year Roadmap for Healthy Schools. Every
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
P = "P5"
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
# Standardized mean differences of new delivery formats (physically active lessons, digital
# programmes) and schedule changes; open circles are estimates published without a CI, the class
# is in brackets. Signs are as published: for symptom outcomes a negative value is a benefit.

# %%
ax = rv.published_forest(pub, "SMD")

# %% [markdown]
# Correlations (associations, not effects of a programme):

# %%
ax = rv.published_forest(pub, "r")

# %% [markdown]
# ## Worked study-level syntheses
# ### Modified school calendars and achievement (dat.konstantopoulos2011, Q5.3)
# Schools are nested in districts, and schools of one district share its calendar policy and
# population, so their effects are not independent. A three-level model separates the
# between-district and the within-district (between-school) variance; CR2 cluster-robust
# inference by district checks the interval.

# %%
studies = eb.studies.set_index("dataset")
print(textwrap.fill("Directness: " + studies.loc["dat.konstantopoulos2011", "directness"], 100))

# %%
kon = eb.study_effect_sizes("dat.konstantopoulos2011")
print(f"{len(kon)} schools in {kon['district'].nunique()} districts, studies from "
      f"{kon['year'].min()} to {kon['year'].max()}")

# %%
ml_kon = ek.multilevel_meta_analysis(kon, levels=["district", "school"])
ml_kon

# %%
rob_kon = ek.robust(ml_kon, cluster="district", small_sample="CR2")
rob_kon.coefficients

# %% [markdown]
# The same data in a two-level random-effects model that treats schools as independent, for
# comparison: its tau^2 lumps both levels together and its CI is too narrow if districts matter.

# %%
res_kon = ek.meta_analysis(kon)
print(f"two-level: estimate {res_kon.estimate:.3f} [{res_kon.ci_lower:.3f}, {res_kon.ci_upper:.3f}], "
      f"tau^2 = {res_kon.tau2:.4f}, I^2 = {res_kon.i2:.1f}%")
print(f"three-level: estimate {ml_kon.estimate:.3f} [{ml_kon.ci_lower:.3f}, {ml_kon.ci_upper:.3f}]; "
      f"CR2: [{rob_kon.coefficients.loc['intercept', 'ci_lower']:.3f}, "
      f"{rob_kon.coefficients.loc['intercept', 'ci_upper']:.3f}]")

# %% [markdown]
# Does the effect change with the year of the study? Year as a moderator in the three-level
# model, with CR2 inference by district.

# %%
ml_year = ek.multilevel_meta_analysis(kon, levels=["district", "school"], mods=["year"])
ek.robust(ml_year, cluster="district", small_sample="CR2").coefficients

# %% [markdown]
# Leave-one-district-out sensitivity:

# %%
rows = []
for d in sorted(kon["district"].unique()):
    fit = ek.multilevel_meta_analysis(kon[kon["district"] != d], levels=["district", "school"])
    rows.append({"omitted district": d, "estimate": fit.estimate, "ci_lower": fit.ci_lower,
                 "ci_upper": fit.ci_upper})
loo_kon = pd.DataFrame(rows).set_index("omitted district")
print(f"estimate when omitting one district: {loo_kon['estimate'].min():.3f} to "
      f"{loo_kon['estimate'].max():.3f} (all: {ml_kon.estimate:.3f})")
loo_kon

# %% [markdown]
# Small-study diagnostics on the two-level fit (indicative: they assume independent schools).

# %%
egger_kon = ek.egger_test(res_kon)
print(f"Egger: z = {egger_kon.statistic:.3f}, p = {egger_kon.pvalue:.4f}")

# %% [markdown]
# ### Writing-to-learn and achievement (dat.bangertdrowns2004, Q5.2)
# An instructional innovation rather than a health practice, used here as the worked example of
# how an adaptation's moderators are analysed. Grade level 4 is college; the K-12 subset drops it.

# %%
print(textwrap.fill("Directness: " + studies.loc["dat.bangertdrowns2004", "directness"], 100))

# %%
bd = eb.study_effect_sizes("dat.bangertdrowns2004")
bd["label"] = bd["author"] + " " + bd["year"].astype(str)
k12 = bd[bd["grade"] < 4].copy()
res_bd = ek.meta_analysis(bd, slab="label")
res_k12 = ek.meta_analysis(k12, slab="label")
print(f"all {res_bd.k} studies: g = {res_bd.estimate:.3f} [{res_bd.ci_lower:.3f}, {res_bd.ci_upper:.3f}], "
      f"I^2 = {res_bd.i2:.1f}%")
print(f"K-12 only ({res_k12.k} studies): g = {res_k12.estimate:.3f} [{res_k12.ci_lower:.3f}, "
      f"{res_k12.ci_upper:.3f}], I^2 = {res_k12.i2:.1f}%")

# %%
res_k12

# %% [markdown]
# Subgroups by grade level (1 elementary, 2 middle, 3 high school, 4 college), and the
# metacognitive-prompts moderator as a meta-regression on the K-12 studies that report it.

# %%
sub_bd = ek.subgroup_analysis(bd.assign(grade=bd["grade"].astype(str)), by="grade", slab="label")
sub_bd

# %%
meta = k12.dropna(subset=["meta"])
reg_meta = ek.meta_analysis(meta, mods=["meta"])
print(reg_meta.coefficients.to_string())
print(f"k = {reg_meta.k}; QM = {reg_meta.qm:.3f}, p = {reg_meta.qm_pvalue:.4f}")

# %%
ax = ek.forest_plot(res_k12, xlabel="standardized mean difference (writing-to-learn vs conventional)")

# %%
egger_bd = ek.egger_test(res_k12)
tf_bd = ek.trim_and_fill(res_k12)
print(f"Egger: z = {egger_bd.statistic:.3f}, p = {egger_bd.pvalue:.4f}")
print(f"trim and fill: {tf_bd.k0} studies imputed on the {tf_bd.side}; adjusted estimate "
      f"{tf_bd.estimate:.3f} [{tf_bd.ci_lower:.3f}, {tf_bd.ci_upper:.3f}]")

# %%
loo_bd = ek.leave_one_out(res_k12)
print(f"K-12 estimate when omitting one study: {loo_bd['estimate'].min():.3f} to {loo_bd['estimate'].max():.3f}")

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
# school calendar data are rated from the two-level random-effects fit (GRADE rates one pooled
# estimate with its prediction interval); the three-level CR2 interval above is wider, which the
# imprecision footnote should be read against. Neither dataset's notes state a randomized design, so
# both start at the observational level (low).

# %%
grades = rv.grade_published(pub, appraisals=eb.appraisals)
grades["Q5.3 modified calendar, achievement (dat.konstantopoulos2011)"] = rv.grade_study(
    res_kon, indirectness=rv.indirectness_from_note(studies.loc["dat.konstantopoulos2011", "directness"]),
    design="observational", measure="SMD")
grades["Q5.2 writing-to-learn, achievement, K-12 (dat.bangertdrowns2004)"] = rv.grade_study(
    res_k12, indirectness=rv.indirectness_from_note(studies.loc["dat.bangertdrowns2004", "directness"]),
    design="observational", measure="SMD")
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
# Trials of new ways of delivering lessons (physically active academic lessons), rated as the What
# Works Clearinghouse rates group designs, with the ESSA evidence tier each programme's findings
# support (`evidence/wwc/`; how the ratings and tiers are computed, and when the WWC's own rating
# stands in for ours: the overview notebook).

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
# - Implementation quality and adaptation (Q5.1) has no pooled estimate at all; a synthesis that
#   relates fidelity or local adaptation to outcomes would address the heart of the principle.
# - The calendar data leave the design open (how schools came to a calendar); the design
#   information in Cooper et al. (2003) would decide whether the observational starting level
#   is right.
# - Risk-of-bias assessments of the trials of physically active lessons and digital programmes
#   would replace the rating-down for an unassessed domain.
