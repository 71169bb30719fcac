"""Plots for Bayesian meta-analysis results (``bayes_meta_analysis``), as bayesmeta's ``plot()``
and ``forestplot()``.

Both take ``ax=None`` (a new figure is made when None), draw, and return the Axes; they never call
``plt.show()``.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.patches import Polygon
from scipy import stats

from evidence_kit._core.validate import check_choice
from evidence_kit.synthesis.bayes import BayesMetaResult

__all__ = ["bayes_posterior_plot", "bayes_forest_plot"]

_LABELS = {"mu": "effect mu", "tau": "heterogeneity tau", "theta_new": "effect in a new study (theta)"}


def _axes(ax, height=4.0, width=6.0):
    if ax is None:
        _, ax = plt.subplots(figsize=(width, height))
    return ax


def bayes_posterior_plot(result: BayesMetaResult, parameter: str = "mu", *, ax=None, prior: bool = True,
                         interval: str = "shortest", threshold: bool = True, color: str = "C0", n: int = 401):
    """Marginal posterior density of mu, tau, a new study's theta or a study's theta_i.

    Parameters
    ----------
    result : BayesMetaResult
    parameter : str
        "mu" (default), "tau", "theta_new" or a study label.
    ax : matplotlib Axes, optional
    prior : bool
        Draw the prior density (dashed) for mu and tau when it is not flat.
    interval : {"shortest", "central"}
        Which credible interval to shade (at the result's level); the median is a vertical line.
    threshold : bool
        For mu and theta: dotted lines at 0 and at +-threshold when the result has one.
    n : int
        Number of points on the curve.

    Returns
    -------
    matplotlib Axes
    """
    interval = check_choice("interval", interval, ("shortest", "central"))
    ax = _axes(ax)
    if parameter == "tau":
        if result.tau_prior == "fixed":
            raise ValueError("tau has a point-mass prior: there is no density to plot")
        lo, hi = 0.0, float(result.quantile(0.995, "tau")[0]) * 1.05
    else:
        q = result.quantile([0.0005, 0.9995], parameter)
        pad = 0.05 * (q[1] - q[0])
        lo, hi = float(q[0] - pad), float(q[1] + pad)
    x = np.linspace(lo, hi, n)
    dens = result.density(x, parameter)
    ax.plot(x, dens, color=color, lw=1.5, label="posterior")
    a, b = result.interval(parameter, kind=interval)
    inside = (x >= a) & (x <= b)
    ax.fill_between(x[inside], 0, dens[inside], color=color, alpha=0.25, lw=0,
                    label=f"{result.level:g}% {interval} interval")
    med = float(result.quantile(0.5, parameter)[0])
    ax.vlines(med, 0, float(result.density([med], parameter)[0]), color=color, lw=1, label="median")
    if prior and parameter in ("mu", "tau"):
        flat = (parameter == "mu" and result.mu_prior == "uniform") or (
            parameter == "tau" and result.tau_prior in ("uniform", "jeffreys") and result.tau_scale is None)
        if not flat:
            ax.plot(x, result.prior_density(x, parameter), color="grey", ls="--", lw=1, label="prior")
    if threshold and parameter != "tau":
        cuts = [0.0] + ([result.threshold, -result.threshold] if result.threshold else [])
        for c in cuts:
            if lo < c < hi:
                ax.axvline(c, color="black" if c == 0 else "grey", ls=":", lw=0.8)
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_LABELS.get(parameter, f"theta ({parameter})"))
    ax.set_ylabel("posterior density")
    ax.legend(frameon=False, fontsize="small")
    return ax


def _diamond(ax, y, est, lo, hi, color, height=0.3):
    ax.add_patch(Polygon([[lo, y], [est, y + height], [hi, y], [est, y - height]], closed=True,
                         facecolor=color, edgecolor=color, zorder=3))


def bayes_forest_plot(result: BayesMetaResult, *, ax=None, interval: str = "shortest", show_data: bool = True,
                      color: str = "C0", data_color: str = "grey"):
    """Forest plot of the data beside each study's shrinkage estimate, with mu and a new study.

    Each study row shows the estimate y_i with its normal interval at the result's level (grey,
    ``show_data``) and, just below, the posterior median of theta_i with its credible interval.
    The bottom rows are mu (diamond: credible interval, median) and the posterior predictive
    interval for a new study's theta (bar), as bayesmeta's ``forestplot()``.

    Returns
    -------
    matplotlib Axes
    """
    interval = check_choice("interval", interval, ("shortest", "central"))
    k = result.k
    ax = _axes(ax, height=max(3.0, 0.4 * (k + 3)), width=7.0)
    lo_col, hi_col = ("shortest_lower", "shortest_upper") if interval == "shortest" else ("ci_lower", "ci_upper")
    sh = result.shrinkage
    ys = np.arange(k, 0, -1) + 2.0  # studies from the top; rows 1 and 0 for mu and theta_new
    if show_data:
        z = stats.norm.ppf(0.5 + result.level / 200)
        se = np.sqrt(result.vi)
        ax.hlines(ys + 0.15, result.yi - z * se, result.yi + z * se, color=data_color, lw=1)
        ax.plot(result.yi, ys + 0.15, "s", color=data_color, ms=4, label="data (y_i)")
    ax.hlines(ys - 0.15, sh[lo_col], sh[hi_col], color=color, lw=1.5)
    ax.plot(sh["median"], ys - 0.15, "o", color=color, ms=4, label="shrinkage estimate (theta_i)")
    s = result.summary
    _diamond(ax, 1.0, s.loc["mu", "median"], s.loc["mu", lo_col], s.loc["mu", hi_col], color)
    ax.hlines(0.0, s.loc["theta_new", lo_col], s.loc["theta_new", hi_col], color=color, lw=3)
    ax.axvline(s.loc["mu", "median"], color=color, ls=":", lw=0.8)
    ax.set_yticks(np.concatenate([ys, [1.0, 0.0]]))
    ax.set_yticklabels([str(v) for v in result.slab] + ["mu", "prediction"])
    ax.set_ylim(-0.8, k + 2.8)
    ax.set_xlabel(result.measure or "effect")
    ax.legend(frameon=False, fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    return ax
