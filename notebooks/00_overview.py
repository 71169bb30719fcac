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
# # Overview: the evidence base behind the Roadmap's six principles
#
# What stands behind each principle of the Ten-Year Roadmap for Healthy Schools, outcome domain
# by outcome domain, and how the evidence base was assembled (PRISMA 2020). Every number is
# computed from the committed files in `../evidence`; the principle notebooks `01` to `06` give
# the detail, and `07_methods_metafor` shows that the statistics agree with metafor.

# %%
# %matplotlib inline
import textwrap
import warnings

import numpy as np
import pandas as pd

import evidence_kit as ek
from evidence_kit import review as rv

pd.set_option("display.precision", 3)
pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 80)
eb = ek.load_evidence("../evidence")
print(textwrap.fill(eb.summary(), 100))

# %%
# NBVAL_IGNORE_OUTPUT
# The versions this notebook ran with (ignored by nbval: they change with the environment).
import matplotlib
import scipy

print(f"evidence-kit {ek.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
      f"scipy {scipy.__version__}, matplotlib {matplotlib.__version__}")

# %% [markdown]
# The evidence base is checked on loading; problems would be listed here (file, row, column).

# %%
print(f"problems: {len(eb.problems)}; warnings: {len(eb.warnings)}")
eb.problems_frame()

# %% [markdown]
# ## The six principles

# %%
for pid in eb.principles["id"]:
    print(textwrap.fill(rv.principle_text(eb, pid), 100, subsequent_indent="    "))

# %% [markdown]
# ## The evidence map
# Principles by outcome domain: the number of distinct published syntheses (sources) with a
# pooled estimate in each cell.

# %%
eb.evidence_map()

# %% [markdown]
# The same map counting the mapped study-level metadat datasets as sources too:

# %%
eb.evidence_map(include_studies=True)

# %% [markdown]
# For each cell, the pooled effect that the principle notebook rates with GRADE (per question and
# outcome domain the published estimate with a CI and the most studies; across questions the one
# with the most studies), on its common metric (SMD or r), with its certainty. Cells with sources
# but no rated effect hold only estimates without a CI or without a common metric. The footnotes
# of each principle's Summary of Findings say why a certainty is what it is; a domain on which the
# source review reports nothing the evidence base could record (`evidence/appraisals/`) is rated
# down as not assessable.

# %%
emap = rv.evidence_map_table(eb)
cells = emap[emap["sources"] > 0].copy()
cells["effect"] = np.where(
    cells["rated"] != "",
    cells["scale"] + " " + cells["estimate"].map("{:.2f}".format) + " (" + cells["ci_lower"].map("{:.2f}".format)
    + " to " + cells["ci_upper"].map("{:.2f}".format) + ")",
    "")
cells[["principle", "outcome_domain", "sources", "effect", "certainty", "rated"]].reset_index(drop=True)

# %% [markdown]
# Every outcome GRADE rates, across principles (one per principle, question and outcome domain),
# with the synthesis row it rates:

# %%
certainty = rv.certainty_table(eb)
print(certainty["certainty"].value_counts().rename("outcomes").to_string())
certainty

# %% [markdown]
# The map as one table (sources; effect; certainty), principles as rows:

# %%
cells["cell"] = cells["sources"].astype(str) + " src" + np.where(
    cells["rated"] != "", "; " + cells["effect"] + "; " + cells["certainty"], "")
cells.pivot(index="principle", columns="outcome_domain", values="cell").reindex(
    index=list(eb.principles["id"]), columns=list(eb.evidence_map().columns)).fillna("-")

# %%
fig, ax = matplotlib.pyplot.subplots(figsize=(9, 4.5))
counts = eb.evidence_map()
im = ax.imshow(counts.to_numpy(), cmap="Blues", aspect="auto")
ax.set_xticks(range(counts.shape[1]), [c.replace("_", " ") for c in counts.columns], fontsize=8,
              rotation=25, ha="right")
ax.set_yticks(range(counts.shape[0]), counts.index)
for (i, j), v in np.ndenumerate(counts.to_numpy()):
    ax.text(j, i, str(v), ha="center", va="center", color="black" if v < counts.to_numpy().max() / 2 else "white")
ax.set_title("published syntheses per principle and outcome domain")
cbar = fig.colorbar(im, ax=ax)

# %% [markdown]
# ## Interventions: WWC study ratings and ESSA tiers
# Schools choosing a programme under ESSA are asked for its evidence tier. `evidence/wwc/` records,
# for trials of programmes that bear on a principle, the facts a What Works Clearinghouse rating
# needs (numbers randomized and analysed per arm and per cluster, baseline statistics of the
# analytic sample) as the trial reports print them, and the WWC's own published rating where the
# WWC has reviewed the study, with the version of the WWC standards it was made under.
# `ek.wwc_rating` rates each finding under the cautious attrition boundary; a finding whose report
# lacks a fact the rating needs is not rated and the reason names the fact, and cluster designs are
# not rated because the WWC's decision steps for them could not be read. `ek.essa_tier` then gives
# each programme's tier from the rated findings, using the WWC's own rating where ours could not
# be computed; a WWC rating counts towards Tiers 1-2 only if made under standards 2.1 or later, and
# a significant unfavourable finding overrides the favourable ones on its outcome. Details and
# reasons are in each principle's notebook.

# %%
ratings = rv.wwc_ratings(eb)
print(ratings["rating"].value_counts().rename("findings").to_string())

# %%
tiers = rv.essa_tiers(ratings)
principles = eb.wwc_findings.groupby("intervention")["principle"].agg(
    lambda s: ";".join(sorted(set(";".join(s).split(";")))))
tiers.insert(0, "principles", principles.reindex(tiers.index))
tiers[["principles", "label", "findings", "rating_source"]]

# %% [markdown]
# ## Coverage of the questions
# Each question with its synthesis rows, sources, mapped datasets and stated gaps. Questions
# without a source are the first gaps to fill.

# %%
cov = eb.coverage()
cov[["principle", "synthesis_rows", "sources", "datasets", "stated_gaps"]]

# %%
empty = cov.index[(cov["sources"] == 0)].tolist()
print(f"{len(empty)} of {len(cov)} questions have no published synthesis: {', '.join(empty)}")

# %% [markdown]
# ## How the evidence base was assembled (PRISMA 2020)
# Every record looked at while searching is a row of the screening ledger
# (`evidence/screening/*.csv`); the flow counts below are computed from it (Page et al. 2021,
# BMJ 372:n71, Figure 1).

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    prisma = eb.prisma_counts()
print(f"ledger warnings: {len(caught)}")
for w in caught:
    print(textwrap.fill(str(w.message), 100, subsequent_indent="    "))

# %%
flow = pd.DataFrame({"count": {
    "records identified": prisma.total_identified,
    "duplicates removed": prisma.duplicates_removed,
    "records screened": prisma.screened,
    "records excluded at screening": prisma.excluded_screening,
    "reports sought for retrieval": prisma.sought,
    "reports not retrieved": prisma.not_retrieved,
    "reports assessed for eligibility": prisma.assessed,
    "reports excluded at full text": sum(prisma.excluded_full_text.values()),
    "syntheses included": prisma.included,
}}).rename_axis("PRISMA 2020 box")
flow

# %%
pd.Series(prisma.identified_via, name="records identified").rename_axis("identified via").to_frame()

# %% [markdown]
# Full-text exclusions by reason:

# %%
pd.Series(prisma.excluded_full_text, name="records").sort_index().rename_axis("reason").to_frame()

# %%
ax = ek.prisma_diagram(prisma)

# %% [markdown]
# Included records and the synthesis rows they contribute: every included record names a
# citation key, and every synthesis row's citation is in the references.

# %%
ledger = eb.screening
included_keys = set(ledger.loc[ledger["full_text"] == "include", "citation_key"])
syn_keys = set(eb.syntheses["citation_key"])
print(f"included records: {prisma.included} naming {len(included_keys)} distinct citation keys; "
      f"synthesis rows cite {len(syn_keys)} keys, {len(syn_keys - included_keys)} of them not "
      f"found through the screening ledger")
sorted(syn_keys - included_keys)
