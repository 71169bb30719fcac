"""Subgroup analysis: a pooled estimate per group and the test of differences between groups."""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.format import fmt, pval_eq
from evidence_kit._core.validate import get_column, row_labels
from evidence_kit.synthesis._design import design_matrix
from evidence_kit.synthesis.model import MetaResult, fit, meta_analysis


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Per-group models and the between-group test.

    groups : DataFrame indexed by group: k, estimate, se, statistic, pvalue, ci_lower, ci_upper,
             tau2, i2, q, q_pvalue (one random-effects model per group, tau^2 estimated separately)
    results : dict group -> MetaResult
    overall : MetaResult of all studies together
    q_between, q_between_df, q_between_pvalue : test of subgroup differences (separate tau^2)
    moderator : MetaResult of the meta-regression on the group (one common tau^2); its ``qm`` and
        ``qm_pvalue`` are the alternative test metafor users read from ``rma(yi, vi, mods = ~ group)``
    """

    by: str
    method: str
    groups: pd.DataFrame
    results: dict
    overall: MetaResult
    q_between: float
    q_between_df: int
    q_between_pvalue: float
    moderator: MetaResult | None = None

    def __repr__(self) -> str:
        tab = self.groups[["k", "estimate", "se", "ci_lower", "ci_upper", "tau2", "i2"]].to_string(
            float_format=lambda x: f"{x:.4f}")
        return (f"Subgroup analysis by {self.by} ({self.method}; tau^2 estimated within each group)\n\n{tab}\n\n"
                f"Test for subgroup differences: Q_between(df = {self.q_between_df}) = {fmt(self.q_between)}, "
                f"p-val {pval_eq(self.q_between_pvalue)}\n")

    def _repr_html_(self) -> str:
        tab = self.groups[["k", "estimate", "se", "ci_lower", "ci_upper", "tau2", "i2"]].to_html(
            float_format=lambda x: f"{x:.4f}")
        return (f"<div><p><strong>Subgroup analysis by {html.escape(str(self.by))}</strong> ({self.method}; "
                f"tau^2 estimated within each group)</p>{tab}<p>Test for subgroup differences: "
                f"Q_between(df = {self.q_between_df}) = {fmt(self.q_between)}, p-val "
                f"{html.escape(pval_eq(self.q_between_pvalue))}</p></div>")


def subgroup_analysis(data=None, yi="yi", vi="vi", *, by, method: str = "REML", test: str = "z",
                      level: float = 95, slab=None, measure: str | None = None) -> SubgroupResult:
    """Pool each subgroup separately and test whether the subgroup estimates differ.

    Parameters
    ----------
    by : str or array-like
        The grouping column (groups in sorted order; rows with a missing group are omitted).
    method, test, level, slab, measure : as :func:`meta_analysis`.

    Notes
    -----
    Each group gets its own model (its own tau^2). The test of differences is the equal-effects
    Q between the group estimates b_g with weights 1/se_g^2:
    Q_between = sum w_g (b_g - b_bar)^2 on G - 1 df (Borenstein et al. 2009, Introduction to
    Meta-Analysis, ch. 19, "separate estimates of tau^2"; Cochrane Handbook 10.11.3.1), equal to
    metafor's ``rma(b_g, sei=se_g, mods=~factor(group), method="EE")`` QM. The alternative with one
    common tau^2, the meta-regression on the group (Borenstein et al. 2009, ch. 19 and 20), is
    returned as ``moderator``.
    """
    y = get_column(data, yi, "yi")
    n = y.shape[0]
    v = get_column(data, vi, "vi", n=n)
    g = get_column(data, by, "by", n=n, dtype=object)
    labels = row_labels(data, n) if slab is None else get_column(data, slab, "slab", n=n, dtype=object)
    if measure is None and isinstance(data, pd.DataFrame):
        measure = data.attrs.get("measure")  # set by effect_sizes()
    present = pd.notna(g)
    levels = sorted(set(g[present]), key=str)
    if len(levels) < 2:
        raise ValueError(f"subgroup_analysis needs at least two groups in {by!r}; found {len(levels)}")
    results = {}
    for lev in levels:
        m = g == lev
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[lev] = meta_analysis(None, y[m], v[m], method=method, test=test, level=level,
                                         slab=labels[m], measure=measure)
        for w in caught:  # name the subgroup (a one-study subgroup falls back to the z test)
            warnings.warn(f"subgroup {lev!r}: {w.message}", w.category, stacklevel=2)
    overall = meta_analysis(None, y[present], v[present], method=method, test=test, level=level,
                            slab=labels[present], measure=measure)
    name = by if isinstance(by, str) else "group"
    X, names, coding = design_matrix(pd.DataFrame({name: g[present]}), [name], int(present.sum()))
    moderator = fit(y[present], v[present], X, method=method, test=test, level=level, term_names=names,
                    slab=labels[present], measure=measure, design=coding)
    rows = [[r.k, r.estimate, r.se, r.statistic, r.pvalue, r.ci_lower, r.ci_upper, r.tau2, r.i2, r.q, r.q_pvalue]
            for r in results.values()]
    groups = pd.DataFrame(rows, columns=["k", "estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper",
                                         "tau2", "i2", "q", "q_pvalue"],
                          index=pd.Index(levels, name=by if isinstance(by, str) else "group"))
    w = 1.0 / groups["se"].to_numpy() ** 2
    b = groups["estimate"].to_numpy()
    qb = float(np.sum(w * (b - np.sum(w * b) / w.sum()) ** 2))
    df = len(levels) - 1
    return SubgroupResult(by=name, method=overall.method, groups=groups,
                          results=results, overall=overall, q_between=qb, q_between_df=df,
                          q_between_pvalue=float(stats.chi2.sf(qb, df)), moderator=moderator)
