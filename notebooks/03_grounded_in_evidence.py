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
# # Principle 3: grounded in evidence
#
# What the evidence says about this principle of the Ten-Year Roadmap for Healthy Schools, what is
# not known, and the details behind each statement. Every number on this page is computed from the
# committed evidence base (`../evidence`) by evidence-kit; the words around the numbers follow fixed
# rules (the GRADE informative statements of Santesso et al. 2020), so re-running the page after a
# source is added updates every statement.

# %%
# %matplotlib inline
import textwrap

import numpy as np
import pandas as pd
from IPython.display import display

import evidence_kit as ek
from evidence_kit import review as rv

pd.set_option("display.precision", 3)
pd.set_option("display.width", 100)
P = "P3"
eb = ek.load_evidence("../evidence")

# %%
# NBVAL_IGNORE_OUTPUT
# The versions this page ran with (ignored by nbval: they change with the environment).
import matplotlib
import scipy

print(f"evidence-kit {ek.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
      f"scipy {scipy.__version__}, matplotlib {matplotlib.__version__}")

# %%
print(textwrap.fill(rv.principle_text(eb, P), 100))

# %% [markdown]
# ## What the evidence says
# One statement per question and outcome domain. Each is worded by its certainty (GRADE: high
# "improves", moderate "probably improves", low "may improve", very low "the evidence is very
# uncertain"), oriented so that "better" means better for students (or staff), with the size in a
# unit a school leader can use (percentile points for standardized differences, risks and odds in
# words, correlations in words), the number of studies and participants, the main reasons for the
# certainty, the quality of the review (AMSTAR 2) and a link to the source. The estimate shown is
# the one not flagged, with a confidence interval and the most studies; the other estimates of the
# cell are counted and named.

# %%
lines = rv.bottom_lines(eb, P)
rv.show_bottom_lines(lines)

# %%
print(textwrap.fill(rv.reading_note(eb, P), 100))

# %% [markdown]
# The same statements at a glance:

# %%
rv.reader_table(lines, {"question": "question", "outcome_domain": "outcome", "certainty": "certainty",
                        "direction": "direction", "studies": "studies", "participants": "participants",
                        "source": "source"}, links={"source": "link"})

# %% [markdown]
# ## What is not known
# The questions and outcomes this principle asks about for which no pooled estimate was found,
# with the reason recorded in `evidence/gaps.yaml` (what was searched is in the methods appendix).

# %%
rv.show_gap_lines(rv.gap_lines(eb, P))

# %% [markdown]
# ## The details
# ### The questions
# The principle's evidence questions (PICO for interventions, PECO for exposures), as
# `evidence/principles.yaml` states them.

# %%
questions = rv.questions_table(eb, P)
rv.reader_table(questions, {"question": "question", "type": "type", "intervention_or_exposure": "intervention or exposure",
                            "comparator": "comparator", "outcomes": "outcomes"}, index=True)

# %% [markdown]
# ### Published estimates, oriented so that right is better
# One plot per outcome domain and scale: standardized mean differences (d, g, SMD; odds ratios
# through Chinn's conversion) and correlations (r; Fisher's z back-transformed) on their own axes.
# Every estimate is turned so that right is better for students or staff (a "‡" marks one
# whose sign was reversed because the review reports lower as better). Open circles are estimates
# published without a confidence interval; hollow grey squares are flagged estimates (their printed
# numbers contradict each other), which are left out of the statements and of GRADE, with the
# reason under the plot.

# %%
pub = rv.published_syntheses(eb, P)
for domain, scale in rv.forest_panels(pub):
    ax = rv.published_forest(pub, scale, domain=domain)
    matplotlib.pyplot.show()

# %% [markdown]
# Every published estimate of this principle, as printed (ratio metrics on their natural scale):

# %%
rv.reader_table(pub, {"source": "source", "question": "question", "outcome": "outcome", "metric": "metric",
                      "estimate": "estimate", "ci_lower": "95% CI lower", "ci_upper": "95% CI upper",
                      "k": "k", "n": "participants", "favourable": "better is", "text_read": "read from"},
                links={"source": "link"}, wrap=["outcome"])

# %%
flagged = pub.loc[pub["flag"] != ""]
if len(flagged):
    display(rv.reader_table(flagged, {"id": "estimate", "flag": "why it is left out"}, wrap=["flag"],
                            caption=f"{len(flagged)} flagged estimate(s), left out of the statements and of GRADE"))
else:
    print("No estimate of this principle is flagged.")

# %% [markdown]
# ### Reproductions
# Where the study rows behind a published pooled estimate are available (the authors' public data
# or the review's own study table), evidence-kit re-pools them with the review's method and sets the
# result beside the printed estimate; "agrees" means the estimate and both printed limits are
# within half a unit of the last printed decimal.

# %%
rep = rv.reproductions(eb, P)
if not len(rep):
    print(f"No published estimate of {P} could be re-pooled: no study rows behind them were reachable.")
rv.reader_table(rep, {"source": "source", "outcome": "outcome", "data": "study rows", "method": "method", "k": "k",
                      "published": "published", "published_lower": "lower", "published_upper": "upper",
                      "reproduced": "re-pooled", "reproduced_lower": "lower", "reproduced_upper": "upper",
                      "estimate_agrees": "estimate agrees", "agrees": "all agree"}, digits=3,
                caption=f"{len(rep)} reproduced estimate(s) for {P}")

# %%
for r in rep.itertuples():
    print(textwrap.fill(f"{r.synthesis_id}: {r.notes}", 100, subsequent_indent="    "))
    ax = rv.reproduction_forest(eb, r.synthesis_id)
    ax.set_title(f"{r.source}: {r.outcome} (study rows re-pooled)", fontsize=10, loc="left")
    matplotlib.pyplot.show()

# %% [markdown]
# ### Worked study-level syntheses
# `evidence/studies.yaml` maps no shipped study-level dataset to this principle, so every
# estimate here is a published pooled estimate:

# %%
mapped = eb.studies[eb.studies["principles"].map(lambda ps: P in ps)]
print(f"study-level datasets mapped to {P}: {len(mapped)}")

# %% [markdown]
# ### Certainty of the evidence (GRADE)
# For each question and outcome domain the estimate of the statement above is rated; the worked
# syntheses are rated from their fits. Risk of bias comes from what each review reports about its
# own studies (`evidence/appraisals/`: the share of studies at high risk), publication bias (10 or
# more studies) from the small-study test the review reports. A domain the review gives nothing to
# judge is rated down one level as not assessable: the table keeps those domains apart from the
# ones rated down on the evidence, so a reader sees what is known and what is missing.
# Indirectness of the published rows is judged not serious (each was extracted for a question
# whose PICO it matches); for the datasets it follows their directness note in `studies.yaml`.
# Designs other than randomized trials (including mixed or unstated designs) start low.

# %%
grades = rv.grade_published(pub, appraisals=eb.appraisals)
summary = rv.certainty_summary(eb, grades)
rv.reader_table(summary, {"outcome": "outcome", "effect": "effect (95% CI)", "direction": "direction",
                          "studies": "studies", "participants": "participants", "certainty": "certainty"},
                wrap=["outcome"])

# %%
rv.reader_table(summary, {"outcome": "outcome", "starts": "GRADE starts", "rated_down": "rated down on the evidence",
                          "not_assessable": "rated down: not assessable", "review_grade": "the review's own GRADE",
                          "amstar2": "review quality (AMSTAR 2)", "source": "source"},
                links={"source": "link"}, wrap=["outcome", "not_assessable"])

# %% [markdown]
# How much of the low certainty is what is not yet assessed: the certainty each outcome could at
# most reach if the missing assessments found no serious concern.

# %%
rv.reader_table(rv.what_would_change(grades), {"outcome": "outcome", "level": "certainty",
                                               "unassessed": "not assessable", "rated_down": "rated down",
                                               "level_if_assessed": "at most, if assessed"},
                index=True, wrap=["outcome"])

# %% [markdown]
# ### WWC study ratings and ESSA tiers
# Trials of school physical activity programmes with learning or behaviour outcomes (after-school
# fitness, recess, exercise, active lessons), rated as the What Works Clearinghouse rates group
# designs, with the ESSA evidence tier each programme's findings support (`evidence/wwc/`; how the
# ratings and tiers are computed, and when the WWC's own rating stands in for ours: the overview
# notebook).

# %%
print(textwrap.fill(rv.WWC_CLUSTER_NOTE, 100))
ratings = rv.wwc_ratings(eb, P)
wwc = rv.wwc_table(ratings)
rv.reader_table(wwc, {"intervention": "programme", "outcome": "outcome", "wwc_rating": "WWC's rating",
                      "ours": "our recomputation", "agrees": "agree", "improvement_index": "improvement index",
                      "n": "students"}, digits=1, wrap=["intervention", "outcome"])

# %%
tiers = rv.essa_tiers(ratings)
rv.reader_table(tiers, {"intervention": "programme", "label": "ESSA tier", "findings": "findings used",
                        "reasons": "why"}, index=True, wrap=["reasons"])

# %% [markdown]
# ### Sources
# Every review with a published estimate for this principle, and the study-level datasets mapped to
# it, with their references (APA 7).

# %%
sources = rv.sources_table(eb, P)
rv.reader_table(sources, {"reference": "reference", "role": "role", "questions": "questions"},
                links={"reference": "link"}, wrap=["reference"])

# %% [markdown]
# ### What would change the conclusion
#
# - Risk-of-bias assessments of the trials and cohorts behind the pooled estimates would replace
#   the rating-down for an unassessed domain.
# - The sleep and mental-health associations (Q3.2, Q3.3) are correlational; a synthesis of
#   trials that change sleep timing or treat depression and measure achievement or attendance
#   would move these questions from association to effect.
# - Attendance is a stated outcome of Q3.2 and Q3.3 with no pooled estimate yet; a synthesis of
#   either exposure with attendance would fill the gaps listed above.
# - Study-level data (a metadat dataset or the extracted studies of one of these reviews) would
#   allow the worked diagnostics of the other principle notebooks: small-study tests, moderators
#   and leave-one-out sensitivity.
