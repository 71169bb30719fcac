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
# # Getting started: class attendance and grades
#
# This notebook shows the basic flow of evidence-kit on real data: load a dataset, compute effect
# sizes, fit a random-effects model, and look at the result as a table and as a forest plot.
#
# The data are from Credé, Roch and Kieszczynka (2010), a meta-analysis of the relationship between
# class attendance and grades in college students, as shipped in the R package metadat
# (`dat.crede2010`). College students are not school students, so for the Roadmap this is indirect
# evidence on how attendance relates to learning; it is here because it is real, public and small.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd

import evidence_kit as ek
from evidence_kit import review as rv  # rv.reader_table: tables for reading (missing values as a dash)

pd.set_option("display.precision", 4)
pd.set_option("display.width", 120)

# %%
# NBVAL_IGNORE_OUTPUT
# The versions this notebook ran with (ignored by nbval: they change with the environment).
import matplotlib
import scipy

print(f"evidence-kit {ek.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
      f"scipy {scipy.__version__}, matplotlib {matplotlib.__version__}")

# %% [markdown]
# ## The data
# Each row is one correlation `ri` between attendance and a grade (a class grade or the grade
# point average), from a sample of `ni` students. The dataset's documentation names its source.

# %%
info = ek.dataset_info("dat.crede2010")
print(info["title"])
print(info["source"])

# %%
dat = ek.load_dataset("dat.crede2010")
rv.reader_table(dat.head(8), digits=3)

# %% [markdown]
# ## Effect sizes
# `ek.effect_sizes` appends `yi` and `vi` with metafor's `escalc()` names and codes. Here `ZCOR`
# is Fisher's r-to-z transformation, `yi = atanh(ri)` with `vi = 1 / (ni - 3)`.

# %%
es = ek.effect_sizes(dat, measure="ZCOR", ri="ri", ni="ni")
rv.reader_table(es[["studyid", "criterion", "class", "ni", "ri", "yi", "vi"]].head(8), digits=4)

# %% [markdown]
# ## A random-effects model
# `ek.meta_analysis` fits the same model as metafor's `rma()`; REML is the default estimator of the
# between-study variance tau^2.

# %%
res = ek.meta_analysis(es, yi="yi", vi="vi", method="REML")
res

# %% [markdown]
# The pooled estimate is on the z scale. Back-transformed to a correlation, with its confidence
# and prediction intervals:

# %%
pred = res.predict()
back = np.tanh(pred[["pred", "ci_lower", "ci_upper", "pi_lower", "pi_upper"]]).rename(
    columns=lambda c: c.replace("pred", "r")
)
back.round(3)

# %% [markdown]
# ## Does the association differ between class grades and GPA?
# A meta-regression with the criterion as a categorical moderator (dummy-coded against the first
# sorted level, `gpa`).

# %%
reg = ek.meta_analysis(es, mods=["criterion"])
reg.coefficients.round(4)

# %%
print(f"QM = {reg.qm:.3f} (p = {reg.qm_pvalue:.4f}); R^2 = {reg.r2:.1f}%")

# %% [markdown]
# ## Forest plot
# The eleven samples that report grades in science classes, with the pooled estimate and its
# prediction interval.

# %%
science = es[es["class"] == "science"].copy()
science["label"] = "Study " + science["studyid"].astype(str)
res_sci = ek.meta_analysis(science, slab="label")
print(f"k = {res_sci.k}, z = {res_sci.estimate:.3f} [{res_sci.ci_lower:.3f}, {res_sci.ci_upper:.3f}], "
      f"I^2 = {res_sci.i2:.1f}%")

# %%
ax = ek.forest_plot(res_sci, xlabel="Fisher's z (attendance and science grades)")
