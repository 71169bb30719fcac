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
# # Principle 4: support for educators
#
# The evidence behind the fourth principle of the Ten-Year Roadmap for Healthy Schools. Every
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
P = "P4"
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
# Standardized mean differences (teacher-directed programmes and classroom-management training);
# open circles are estimates published without a CI, the class is in brackets.

# %%
ax = rv.published_forest(pub, "SMD")

# %% [markdown]
# The staff wellbeing outcomes mix directions: some rows are symptoms (stress, burnout, where a
# negative effect is a benefit) and some are positive states. The `outcome` column above names
# each; the forest plot shows them as published, so read its sign with that column.

# %% [markdown]
# ## Worked study-level syntheses
# ### Teacher expectancy and pupil IQ (dat.raudenbush1985, Q4.3)

# %%
studies = eb.studies.set_index("dataset")
print(textwrap.fill("Directness: " + studies.loc["dat.raudenbush1985", "directness"], 100))

# %%
rau = eb.study_effect_sizes("dat.raudenbush1985")
rau["label"] = rau["author"] + " " + rau["year"].astype(str)
res_rau = ek.meta_analysis(rau, slab="label")
res_rau

# %%
res_rau.heterogeneity_ci()

# %% [markdown]
# Weeks of teacher-pupil contact before the expectancy was induced is the moderator Raudenbush
# (1984) proposed: teachers who already knew their pupils should be less moved by the
# information.

# %%
reg_rau = ek.meta_analysis(rau, mods=["weeks"])
print(reg_rau.coefficients.to_string())
print(f"QM = {reg_rau.qm:.3f} (p = {reg_rau.qm_pvalue:.4f}); tau^2 = {reg_rau.tau2:.4f}; R^2 = {reg_rau.r2:.1f}%")

# %%
ax = ek.forest_plot(res_rau, xlabel="standardized mean difference in IQ")

# %% [markdown]
# Small-study diagnostics: Egger's regression test, the rank correlation test and trim and fill.

# %%
egger = ek.egger_test(res_rau)
rank = ek.rank_test(res_rau)
tf = ek.trim_and_fill(res_rau)
print(f"Egger: z = {egger.statistic:.3f}, p = {egger.pvalue:.4f}; limit estimate {egger.limit_estimate:.3f}")
print(f"rank test: Kendall tau = {rank.tau:.3f}, p = {rank.pvalue:.4f}")
print(f"trim and fill: {tf.k0} studies imputed on the {tf.side}; "
      f"adjusted estimate {tf.estimate:.3f} [{tf.ci_lower:.3f}, {tf.ci_upper:.3f}]")

# %%
ax = ek.funnel_plot(res_rau)

# %% [markdown]
# Leave-one-out sensitivity: how far the pooled estimate moves when each experiment is omitted.

# %%
loo_rau = ek.leave_one_out(res_rau)
loo_rau.index = rau["label"]
loo_rau[["estimate", "ci_lower", "ci_upper", "tau2", "i2"]]

# %%
print(f"pooled estimate range when omitting one study: {loo_rau['estimate'].min():.3f} to "
      f"{loo_rau['estimate'].max():.3f} (all data: {res_rau.estimate:.3f})")

# %% [markdown]
# ### Supervision quality and work outcomes of human-service workers (dat.aloe2013, Q4.2)

# %%
print(textwrap.fill("Directness: " + studies.loc["dat.aloe2013", "directness"], 100))

# %%
aloe = eb.study_effect_sizes("dat.aloe2013")
res_aloe = ek.meta_analysis(aloe, slab="study")
res_aloe

# %%
loo_aloe = ek.leave_one_out(res_aloe)
loo_aloe.index = aloe["study"]
loo_aloe[["estimate", "ci_lower", "ci_upper", "tau2", "i2"]]

# %%
print(f"k = {res_aloe.k}: below the 10 studies a small-study test needs for useful power "
      f"(Sterne et al. 2011), so none is run.")

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
# randomized trials (including mixed or unstated designs) start at the observational level.

# %%
grades = rv.grade_published(pub, appraisals=eb.appraisals)
grades["Q4.3 teacher expectancy, pupil IQ (dat.raudenbush1985)"] = rv.grade_study(
    res_rau, indirectness=rv.indirectness_from_note(studies.loc["dat.raudenbush1985", "directness"]),
    design="RCT", measure="SMD")
grades["Q4.2 supervision quality, work outcomes (dat.aloe2013)"] = rv.grade_study(
    res_aloe, indirectness=rv.indirectness_from_note(studies.loc["dat.aloe2013", "directness"]),
    design="observational", measure="partial r")
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
# Trials of programmes for teachers' wellbeing and classroom management, rated as the What Works
# Clearinghouse rates group designs, with the ESSA evidence tier each programme's findings support
# (`evidence/wwc/`; how the ratings and tiers are computed, and when the WWC's own rating stands in
# for ours: the overview notebook).

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
# - Risk-of-bias assessments (RoB 2 or ROBINS-I) of the trials behind the teacher-wellbeing
#   syntheses would remove the rating-down for an unassessed domain, and could raise certainty.
# - A synthesis of teacher burnout and stress as an exposure for student achievement and
#   wellbeing (Q4.2) would replace the indirect human-service-worker data.
# - Syntheses that report the same direction for staff symptoms and staff wellbeing, with I^2,
#   prediction intervals and a small-study test, would let the outcomes be pooled and rated on
#   their own numbers.
