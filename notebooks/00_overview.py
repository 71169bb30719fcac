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
# # Overview: what the evidence says for each of the Roadmap's six principles
#
# The bottom line of each principle of the Ten-Year Roadmap for Healthy Schools in one sentence,
# then the evidence and gap map (questions by outcome domain), and how the evidence base was
# assembled. Every number is computed from the committed files in `../evidence`; the principle
# pages `01` to `06` give each statement with its size, certainty and sources, and
# `07_methods_metafor` shows that the statistics agree with metafor.

# %%
# %matplotlib inline
import textwrap
import warnings

import numpy as np
import pandas as pd

import evidence_kit as ek
from evidence_kit import review as rv

pd.set_option("display.precision", 3)
pd.set_option("display.width", 100)
eb = ek.load_evidence("../evidence")
print(textwrap.fill(eb.summary(), 100))

# %%
# NBVAL_IGNORE_OUTPUT
# The versions this page ran with (ignored by nbval: they change with the environment).
import matplotlib
import scipy

print(f"evidence-kit {ek.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
      f"scipy {scipy.__version__}, matplotlib {matplotlib.__version__}")

# %% [markdown]
# ## The bottom line of each principle
# For each principle, in one sentence: how many question and outcome cells have a pooled estimate,
# how many of those estimates point to better outcomes with a confidence interval that excludes no
# effect, and how sure the evidence is (GRADE), with the statement of its best-supported cell (the
# most studies among the rated ones). Each principle page words every cell with its size and sources.

# %%
lines = rv.bottom_lines(eb)
emap = rv.evidence_gap_map(eb)
LEVEL_ORDER = {"high": 0, "moderate": 1, "low": 2, "very low": 3, "not rated": 4}
rows = []
for pid, short in zip(eb.principles["id"], eb.principles["short"]):
    mine = lines[lines["principle"] == pid]
    cells = emap[emap["principle"] == pid]
    rated = mine[mine["certainty"] != "not rated"]
    levels = rated["certainty"].value_counts()
    best = rated.assign(_k=rated["studies"].fillna(-1)).sort_values(["_k", "id"], ascending=[False, True])
    lead = best.iloc[0] if len(best) else (mine.iloc[0] if len(mine) else None)
    sentence = (f"{pid} {short}: {len(mine)} of {len(cells)} question-outcome cells have a pooled estimate; "
                f"{int((rated['direction'] == 'better').sum())} of the {len(rated)} rated point to better outcomes "
                f"with an interval that excludes no effect; certainty "
                + (", ".join(f"{n} {lv}" for lv, n in sorted(levels.items(), key=lambda t: LEVEL_ORDER[t[0]]))
                   or "not rated") + ". "
                + (f"Best supported: {lead['statement']}" if lead is not None else "No estimate yet."))
    rows.append({"principle": pid, "bottom line": sentence})
bottom = pd.DataFrame(rows)
rv.reader_table(bottom, {"bottom line": "bottom line"}, wrap=["bottom line"])

# %%
print(textwrap.fill(rv.reading_note(eb), 100))

# %% [markdown]
# ## The evidence and gap map
# Questions by outcome domain: the number of reviews with a pooled estimate in each cell and the
# certainty of the cell's bottom line; an empty cell is a gap (what is not known is stated on the
# principle page). The rendered review draws the same table as a bubble map.

# %%
cell = np.where(emap["n_syntheses"] > 0, emap["n_syntheses"].astype(str) + " (" + emap["certainty"] + ")", "gap")
wide = emap.assign(cell=cell).pivot(index="question", columns="outcome_domain", values="cell")
wide = wide.reindex(index=list(dict.fromkeys(emap["question"])),
                    columns=[d for d in ("academic_achievement", "attendance", "engagement_behaviour",
                                         "wellbeing_mental_health", "staff_health_retention")
                             if d in set(emap["outcome_domain"])])
wide.columns = ["achievement", "attendance", "engagement", "wellbeing", "staff"][:len(wide.columns)]
rv.reader_table(wide.fillna(""), index=True)

# %%
print(f"{int((emap['n_rows'] > 0).sum())} of {len(emap)} question x outcome cells have a pooled estimate; "
      f"{int((emap['n_rows'] == 0).sum())} are gaps.")
print(emap.loc[emap["n_rows"] > 0, "certainty"].value_counts().rename("cells").to_string())

# %%
fig, ax = matplotlib.pyplot.subplots(figsize=(8, 8))
doms = ["academic_achievement", "attendance", "engagement_behaviour", "wellbeing_mental_health",
        "staff_health_retention"]
qs = list(dict.fromkeys(emap["question"]))
colours = {"high": "#1a9850", "moderate": "#91cf60", "low": "#fee08b", "very low": "#fc8d59", "not rated": "#bbbbbb"}
for r in emap.itertuples():
    x, y = doms.index(r.outcome_domain), qs.index(r.question)
    if r.n_syntheses:
        ax.scatter(x, y, s=120 * r.n_syntheses, color=colours.get(r.certainty, "#bbbbbb"), edgecolor="black", lw=0.6)
        ax.text(x, y, str(r.n_syntheses), ha="center", va="center", fontsize=9)
    else:
        ax.scatter(x, y, s=60, facecolor="white", edgecolor="grey", lw=0.8, ls="--")
ax.set_xticks(range(len(doms)), ["achievement", "attendance", "engagement", "wellbeing", "staff"], fontsize=10)
ax.set_yticks(range(len(qs)), qs, fontsize=10)
ax.invert_yaxis()
ax.set_xlim(-0.6, len(doms) - 0.4)
for lv, c in colours.items():
    ax.scatter([], [], s=80, color=c, edgecolor="black", lw=0.6, label=lv)
ax.scatter([], [], s=60, facecolor="white", edgecolor="grey", ls="--", label="gap")
ax.legend(title="certainty", fontsize=9, title_fontsize=10, loc="upper left", bbox_to_anchor=(1.01, 1))
_ = ax.set_title("Reviews per question and outcome (bubble size), coloured by certainty", fontsize=11, loc="left")

# %% [markdown]
# ## Programmes: WWC study ratings and ESSA tiers
# Schools choosing a programme under ESSA are asked for its evidence tier. For trials of programmes
# that bear on a principle, `evidence/wwc/` records the facts a What Works Clearinghouse rating needs
# as the trial reports print them, and the WWC's own published rating where the WWC has reviewed the
# study. The tables lead with the WWC's rating; ours is recomputed (`ek.wwc_rating`, cautious
# attrition boundary) where the design and the report allow it. `ek.essa_tier` then gives each
# programme's tier, using the WWC's own rating where ours could not be computed (a WWC rating counts
# towards Tiers 1-2 only if made under standards 2.1 or later). Details are on each principle page.

# %%
print(textwrap.fill(rv.WWC_CLUSTER_NOTE, 100))
ratings = rv.wwc_ratings(eb)
wwc = rv.wwc_table(ratings)
print(f"{len(wwc)} findings: {int((wwc['wwc_rating'] != 'not reviewed by the WWC').sum())} rated by the WWC, "
      f"{int((~wwc['ours'].str.startswith('not recomputed')).sum())} recomputed here")

# %%
tiers = rv.essa_tiers(ratings)
principles = eb.wwc_findings.groupby("intervention")["principle"].agg(
    lambda s: ";".join(sorted(set(";".join(s).split(";")))))
tiers.insert(0, "principles", principles.reindex(tiers.index))
rv.reader_table(tiers, {"intervention": "programme", "principles": "principles", "label": "ESSA tier",
                        "findings": "findings used"}, index=True, wrap=["intervention"])

# %% [markdown]
# ## Coverage of the questions
# Each question with its published estimates, reviews, mapped study-level datasets and stated gaps.

# %%
cov = eb.coverage()
rv.reader_table(cov, {"question": "question", "principle": "principle", "synthesis_rows": "estimates",
                      "sources": "reviews", "datasets": "datasets", "stated_gaps": "stated gaps"}, index=True)

# %%
empty = cov.index[(cov["sources"] == 0)].tolist()
print(f"{len(empty)} of {len(cov)} questions have no published synthesis" + (f": {', '.join(empty)}" if empty else "."))

# %% [markdown]
# ## How the evidence base was assembled (PRISMA 2020)
# Every record looked at while searching is a row of the screening ledger
# (`evidence/screening/*.csv`); the flow counts below are computed from it (Page et al. 2021,
# BMJ 372:n71, Figure 1). The methods appendix of the rendered review says what was searched,
# when and how.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    prisma = eb.prisma_counts()
for w in caught:
    print(textwrap.fill(f"ledger note: {w.message}", 100, subsequent_indent="    "))

# %%
flow = pd.DataFrame({"PRISMA 2020 box": [
    "records identified", "duplicates removed", "records screened", "records excluded at screening",
    "reports sought for retrieval", "reports not retrieved", "reports assessed for eligibility",
    "reports excluded at full text", "syntheses included"],
    "records": [prisma.total_identified, prisma.duplicates_removed, prisma.screened, prisma.excluded_screening,
                prisma.sought, prisma.not_retrieved, prisma.assessed, sum(prisma.excluded_full_text.values()),
                prisma.included]})
rv.reader_table(flow)

# %% [markdown]
# Reports excluded at full text, by reason:

# %%
excl = pd.Series(prisma.excluded_full_text, name="records").sort_index().rename_axis("reason").reset_index()
rv.reader_table(excl, wrap=["reason"])

# %% [markdown]
# Every included record names a citation key, and every published estimate's review is in the
# references:

# %%
ledger = eb.screening
included_keys = set(ledger.loc[ledger["full_text"] == "include", "citation_key"])
syn_keys = set(eb.syntheses["citation_key"])
outside = sorted(syn_keys - included_keys)
print(f"included records: {prisma.included} naming {len(included_keys)} distinct reviews; the published estimates "
      f"cite {len(syn_keys)} reviews, {len(outside)} of them not found through the screening ledger"
      + (f" ({', '.join(outside)})" if outside else "") + ".")
