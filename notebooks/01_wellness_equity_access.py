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
# The evidence behind the first principle of the Ten-Year Roadmap for Healthy Schools. Every
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
P = "P1"
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
# Standardized mean differences (school health services, school meals; the odds ratio of the
# meals row converted with Chinn's formula); open circles are estimates published without a CI,
# the class is in brackets.

# %%
ax = rv.published_forest(pub, "SMD")

# %% [markdown]
# Correlations (associations, not effects of a programme):

# %%
ax = rv.published_forest(pub, "r")

# %% [markdown]
# ## Worked study-level syntheses
# ### Class attendance and grades (dat.crede2010, Q1.3)
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
# ### Asthma self-management and days off work or school (dat.gibson2002, Q1.3)
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
# attendance and grades correlations are rated from the one-level fit (GRADE rates one pooled
# estimate); the CR2 interval above is the one to read for precision. The asthma studies are the
# trials of a Cochrane review (Gibson et al. 2002) and start as randomized trials.

# %%
grades = rv.grade_published(pub, appraisals=eb.appraisals)
grades["Q1.3 class attendance, grades (dat.crede2010)"] = rv.grade_study(
    res_cre, indirectness=rv.indirectness_from_note(studies.loc["dat.crede2010", "directness"]),
    design="observational", measure="z")
grades["Q1.3 asthma self-management, days off (dat.gibson2002)"] = rv.grade_study(
    res_gib, indirectness=rv.indirectness_from_note(studies.loc["dat.gibson2002", "directness"]),
    design="RCT", measure="SMD")
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
# Trials of programmes that bring health care and meals into school (eyeglasses, vision programmes,
# free breakfast), rated as the What Works Clearinghouse rates group designs, with the ESSA evidence
# tier each programme's findings support (`evidence/wwc/`; how the ratings and tiers are computed,
# and when the WWC's own rating stands in for ours: the overview notebook).

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
# - Comprehensive whole-school health approaches (Q1.4) have no pooled estimate; a synthesis of
#   Health Promoting Schools or WSCC trials with wellbeing or achievement outcomes would fill it.
# - Chronic conditions and attendance (Q1.3) rest on indirect data (adults with asthma; college
#   attendance); a synthesis of school absence in children with and without chronic conditions
#   would replace them.
# - Risk-of-bias assessments of the school health service and meal studies would replace the
#   rating-down for an unassessed domain.
