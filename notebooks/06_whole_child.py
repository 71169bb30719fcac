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
P = "P6"
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
# #### School motivation and later delinquency (dat.tannersmith2016, Q6.2)
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
# #### CBT for depression by delivery format (dat.lopez2019, Q6.3)
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
grades["Q6.2 school motivation, delinquency (dat.tannersmith2016)"] = rv.grade_study(
    res_ts, indirectness=rv.indirectness_from_note(studies.loc["dat.tannersmith2016", "directness"]),
    design="observational", measure="z")
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
# Trials of social-emotional learning, prevention and school mental-health programmes, rated as the
# What Works Clearinghouse rates group designs, with the ESSA evidence tier each programme's
# findings support (`evidence/wwc/`; how the ratings and tiers are computed, and when the WWC's own
# rating stands in for ours: the overview notebook).

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
# - Risk-of-bias assessments of the SEL and school mental-health trials behind the pooled
#   estimates would replace the rating-down for an unassessed domain.
# - Syntheses reporting I^2, prediction intervals and small-study tests for SEL effects on
#   academic achievement would let that outcome be rated on its own numbers; several rows carry
#   no CI at all and cannot be classified.
# - A current synthesis of school engagement and behaviour with a stated direction of effect
#   would replace the demonstration data of Tanner-Smith et al. (2016), and school-based trials of
#   CBT formats in students would replace the adult arm-level data.
