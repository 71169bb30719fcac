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
P = "P5"
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
# #### Modified school calendars and achievement (dat.konstantopoulos2011, Q5.3)
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
# #### Writing-to-learn and achievement (dat.bangertdrowns2004, Q5.2)
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
grades["Q5.3 modified calendar, achievement (dat.konstantopoulos2011)"] = rv.grade_study(
    res_kon, indirectness=rv.indirectness_from_note(studies.loc["dat.konstantopoulos2011", "directness"]),
    design="observational", measure="SMD")
grades["Q5.2 writing-to-learn, achievement, K-12 (dat.bangertdrowns2004)"] = rv.grade_study(
    res_k12, indirectness=rv.indirectness_from_note(studies.loc["dat.bangertdrowns2004", "directness"]),
    design="observational", measure="SMD")
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
# Trials of new ways of delivering lessons (physically active academic lessons), rated as the What
# Works Clearinghouse rates group designs, with the ESSA evidence tier each programme's findings
# support (`evidence/wwc/`; how the ratings and tiers are computed, and when the WWC's own rating
# stands in for ours: the overview notebook).

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
# - Implementation quality and adaptation (Q5.1) has no pooled estimate at all; a synthesis that
#   relates fidelity or local adaptation to outcomes would address the heart of the principle.
# - The calendar data leave the design open (how schools came to a calendar); the design
#   information in Cooper et al. (2003) would decide whether the observational starting level
#   is right.
# - Risk-of-bias assessments of the trials of physically active lessons and digital programmes
#   would replace the rating-down for an unassessed domain.
