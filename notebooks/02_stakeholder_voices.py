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
# # Principle 2: stakeholder voices
#
# The evidence behind the second principle of the Ten-Year Roadmap for Healthy Schools. Every
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
P = "P2"
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
# Standardized mean differences of school-family partnership and parent engagement programmes
# (Q2.2); open circles are estimates published without a CI, the class is in brackets.

# %%
ax = rv.published_forest(pub, "SMD")

# %% [markdown]
# Correlations (associations, not effects of a programme):

# %%
ax = rv.published_forest(pub, "r")

# %% [markdown]
# ## Worked study-level syntheses
# `evidence/studies.yaml` maps no shipped study-level dataset to this principle, so every
# estimate here is a published pooled estimate:

# %%
mapped = eb.studies[eb.studies["principles"].map(lambda ps: P in ps)]
print(f"study-level datasets mapped to {P}: {len(mapped)}")

# %% [markdown]
# ## Certainty of the evidence
# GRADE, outcome by outcome. For each question and outcome domain the published estimate with a CI
# and the most studies is rated (estimates without a CI cannot be rated for imprecision). Risk of
# bias is rated from what each source review reports about its own studies (`evidence/appraisals/`:
# the share of studies at high risk, unweighted because reviews report counts), and publication
# bias, for 10 or more studies, from the small-study test the review reports. Where a review reports
# neither, or no I^2, that domain cannot be assessed: it is rated down one level and the footnote
# says what is missing. Indirectness is judged not serious because each row was extracted for a
# question whose PICO it matches. Designs other than randomized trials (including mixed or unstated
# designs) start at the observational level.

# %%
grades = rv.grade_published(pub, appraisals=eb.appraisals)
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
# Trials of programmes that work through families (messages to parents about absences and grades,
# family skills training), rated as the What Works Clearinghouse rates group designs, with the ESSA
# evidence tier each programme's findings support (`evidence/wwc/`; how the ratings and tiers are
# computed, and when the WWC's own rating stands in for ours: the overview notebook).

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
# - Most pooled estimates here were published without a confidence interval, so they cannot be
#   classified or rated; the CIs (or standard errors) from the sources' tables or supplements
#   would let them be.
# - Student voice and participation (Q2.3) has no pooled estimate; a synthesis of programmes that
#   involve students in school decisions, with engagement or wellbeing outcomes, would fill it.
# - Parental engagement as an exposure (Q2.1) rests on correlations whose sign depends on the
#   form of involvement (see the `outcome` column); syntheses that separate the forms, with
#   I^2 and prediction intervals, would make the direction interpretable.
