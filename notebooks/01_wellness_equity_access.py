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
# # Principle 1: wellness, equity and access
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
P = "P1"
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
# #### Class attendance and grades (dat.crede2010, Q1.3)
# Several correlations come from the same study (different samples and criteria), so a
# three-level model (correlations within studies) and CR2 cluster-robust inference by study are
# used; the criterion (class grade or GPA) is the moderator.

# %%
studies = eb.studies.set_index("dataset")
print(textwrap.fill("Directness: " + studies.loc["dat.crede2010", "directness"], 100))

# %%
cre = eb.study_effect_sizes("dat.crede2010")
cre["esid"] = np.arange(1, len(cre) + 1)
print(f"{len(cre)} correlations from {cre['studyid'].nunique()} studies; "
      f"at most {cre.groupby('studyid').size().max()} from one study")

# %%
ml_cre = ek.multilevel_meta_analysis(cre, levels=["studyid", "esid"])
rob_cre = ek.robust(ml_cre, cluster="studyid", small_sample="CR2")
ml_cre

# %%
c = rob_cre.coefficients.loc["intercept"]
print(f"pooled r = {np.tanh(c['estimate']):.3f}; CR2 95% CI {np.tanh(c['ci_lower']):.3f} to "
      f"{np.tanh(c['ci_upper']):.3f} ({c['df']:.1f} df)")

# %%
ml_crit = ek.multilevel_meta_analysis(cre, levels=["studyid", "esid"], mods=["criterion"])
ek.robust(ml_crit, cluster="studyid", small_sample="CR2").coefficients

# %% [markdown]
# One-level random-effects fit (ignores the dependence), its small-study diagnostics
# (indicative only) and leave-one-out range.

# %%
res_cre = ek.meta_analysis(cre)
egger_cre = ek.egger_test(res_cre)
loo_cre = ek.leave_one_out(res_cre)
print(f"one-level: z = {res_cre.estimate:.3f} [{res_cre.ci_lower:.3f}, {res_cre.ci_upper:.3f}], "
      f"I^2 = {res_cre.i2:.1f}%")
print(f"Egger: z = {egger_cre.statistic:.3f}, p = {egger_cre.pvalue:.4f}")
print(f"estimate (z) when omitting one correlation: {loo_cre['estimate'].min():.3f} to "
      f"{loo_cre['estimate'].max():.3f}")

# %% [markdown]
# #### Asthma self-management and days off work or school (dat.gibson2002, Q1.3)
# Standardized mean differences in days off (negative: fewer days off with self-management).
# Trials that report only counts of people with any day off have no SMD; they are listed, not
# silently left out, and analysed as risk ratios below.

# %%
print(textwrap.fill("Directness: " + studies.loc["dat.gibson2002", "directness"], 100))

# %%
gib = eb.study_effect_sizes("dat.gibson2002")
gib["label"] = gib["author"] + " " + gib["year"].astype(str)
no_smd = gib.loc[gib["yi"].isna(), "label"].tolist()
print(f"{gib['yi'].notna().sum()} trials with an SMD; without one (counts only): {', '.join(no_smd)}")
res_gib = ek.meta_analysis(gib[gib["yi"].notna()], slab="label")
res_gib

# %%
ax = ek.forest_plot(res_gib, xlabel="SMD in days off work or school")

# %%
egger_gib = ek.egger_test(res_gib)
tf_gib = ek.trim_and_fill(res_gib)
loo_gib = ek.leave_one_out(res_gib)
print(f"Egger: z = {egger_gib.statistic:.3f}, p = {egger_gib.pvalue:.4f}")
print(f"trim and fill: {tf_gib.k0} imputed on the {tf_gib.side}; adjusted {tf_gib.estimate:.3f} "
      f"[{tf_gib.ci_lower:.3f}, {tf_gib.ci_upper:.3f}]")
print(f"SMD when omitting one trial: {loo_gib['estimate'].min():.3f} to {loo_gib['estimate'].max():.3f}")

# %%
counts = gib.dropna(subset=["ai", "bi", "ci", "di"])
rr = ek.effect_sizes(counts, measure="RR", ai="ai", bi="bi", ci="ci", di="di")
res_rr = ek.meta_analysis(rr, slab="label")
print(f"risk ratio of any day off, {res_rr.k} trials: {np.exp(res_rr.estimate):.3f} "
      f"[{np.exp(res_rr.ci_lower):.3f}, {np.exp(res_rr.ci_upper):.3f}], I^2 = {res_rr.i2:.1f}%")

# %% [markdown]
# #### Seven trials: a Bayesian analysis beside REML
# With seven trials the between-trial variance is poorly estimated (REML puts it at zero), so the
# REML interval assumes more than the data can show. The Bayesian random-effects model below
# (`ek.bayes_meta_analysis`: the posterior of the mean and of tau computed by numerical
# integration, as R's bayesmeta) gives tau a half-normal prior with scale 0.5 on the log risk-ratio
# scale, a weakly informative choice of the kind Röver et al. (2021) discuss for few studies, and
# the mean a flat prior. It answers the question a reader asks directly: how likely is it that
# self-management cuts the risk of any day off by at least a fifth (RR below 0.8)?

# %%
bayes_rr = ek.bayes_meta_analysis(rr, slab="label", tau_prior="half-normal", tau_scale=0.5,
                                  threshold=-np.log(0.8))
mu, tau = bayes_rr.summary.loc["mu"], bayes_rr.summary.loc["tau"]
side_by_side = pd.DataFrame({
    "model": ["REML (frequentist)", "Bayesian, half-normal(0.5) prior on tau"],
    "risk ratio": [np.exp(res_rr.estimate), np.exp(mu["median"])],
    "95% interval": [f"{np.exp(res_rr.ci_lower):.2f} to {np.exp(res_rr.ci_upper):.2f}",
                     f"{np.exp(mu['ci_lower']):.2f} to {np.exp(mu['ci_upper']):.2f}"],
    "tau": [np.sqrt(res_rr.tau2), tau["median"]],
})
rv.reader_table(side_by_side, caption="Risk of any day off, self-management education vs usual care (7 trials)",
                digits=2)

# %%
prob = bayes_rr.probabilities["mu"]  # rows: > 0, > t, < -t with t = -log(0.8)
p_any, p_fifth = 1 - prob.iloc[0], prob.iloc[2]
print(textwrap.fill(f"Posterior probability that self-management lowers the risk of any day off at all: "
                    f"{p_any:.0%}; that it lowers it by at least a fifth (RR < 0.8): {p_fifth:.0%}.", 100))
ax = ek.bayes_posterior_plot(bayes_rr, "mu")
ax.set_xlabel("log risk ratio of any day off (left: fewer people with days off)")
_ = ax.set_title("Posterior of the mean log risk ratio (7 trials)")

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
grades["Q1.3 class attendance, grades (dat.crede2010)"] = rv.grade_study(
    res_cre, indirectness=rv.indirectness_from_note(studies.loc["dat.crede2010", "directness"]),
    design="observational", measure="z")
grades["Q1.3 asthma self-management, days off (dat.gibson2002)"] = rv.grade_study(
    res_gib, indirectness=rv.indirectness_from_note(studies.loc["dat.gibson2002", "directness"]),
    design="RCT", measure="SMD")
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
# Trials of programmes that bring health care and meals into school (eyeglasses, vision programmes,
# free breakfast), rated as the What Works Clearinghouse rates group designs, with the ESSA evidence
# tier each programme's findings support (`evidence/wwc/`; how the ratings and tiers are computed,
# and when the WWC's own rating stands in for ours: the overview notebook).

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
# - Comprehensive whole-school health approaches (Q1.4) have no pooled estimate; a synthesis of
#   Health Promoting Schools or WSCC trials with wellbeing or achievement outcomes would fill it.
# - Chronic conditions and attendance (Q1.3) rest on indirect data (adults with asthma; college
#   attendance); a synthesis of school absence in children with and without chronic conditions
#   would replace them.
# - Risk-of-bias assessments of the school health service and meal studies would replace the
#   rating-down for an unassessed domain.
