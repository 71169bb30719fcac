"""Profile-likelihood plots of variance components (metafor's ``profile()`` plots).

``profile_plot(res, ax=...)`` draws the (restricted) log-likelihood of one variance component
with the others re-estimated, the estimate (dashed vertical line) and the cut-off of the
profile-likelihood confidence interval (dotted horizontal line). It takes ``ax=`` and returns it.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from scipy import stats

from evidence_kit.synthesis.profile import profile

__all__ = ["profile_plot"]


def profile_plot(result, component=0, ax=None, *, xlim=None, steps: int = 20, level=None,
                 show_ci: bool = True, color="black"):
    """Plot the profile log-likelihood of a variance component.

    Parameters
    ----------
    result : MetaResult (ML or REML), MultilevelResult or MultivariateResult
    component : int or str
        Which component (see :func:`evidence_kit.synthesis.profile.profile`): ``0`` / "tau2"
        for the univariate model, a level index or name for a multilevel model.
    ax : matplotlib Axes, optional
        Drawn on (a new figure when None).
    xlim : (float, float), optional
        Range of the component (default: 0 to about four times the estimate, as metafor).
    steps : int
        Number of points at which the likelihood is evaluated.
    level : float, optional
        Confidence level (percent) of the cut-off line; default the model's.
    show_ci : bool
        Draw the cut-off ll_max - chi^2_{1, level} / 2; where the curve crosses it are the bounds
        of the profile-likelihood CI (``result.confint``).

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    tab = profile(result, component, xlim=xlim, steps=steps)
    name = tab.columns[0]
    x, ll = tab[name].to_numpy(), tab["ll"].to_numpy()
    ax.plot(x, ll, "-o", color=color, markersize=3, linewidth=1)
    est = _estimate(result, component, name)
    ax.axvline(est, linestyle="--", color="grey", linewidth=1)
    ll_max = max(float(result.ll), float(np.nanmax(ll)))
    ax.axhline(ll_max, linestyle="--", color="grey", linewidth=0.8)
    if show_ci:
        level = result.level if level is None else level
        ax.axhline(ll_max - stats.chi2.ppf(level / 100, 1) / 2, linestyle=":", color="grey",
                   linewidth=1)
    label = {"tau2": "tau^2"}.get(name, name.replace("sigma2.", "sigma^2 "))
    ax.set_xlabel(label)
    ax.set_ylabel("Restricted log-likelihood" if result.method == "REML" else "Log-likelihood")
    ax.set_title(f"Profile plot for {label}")
    return ax


def _estimate(result, component, name) -> float:
    if name == "tau2" and hasattr(result, "tau2") and np.ndim(result.tau2) == 0:
        return float(result.tau2)
    if name.startswith("sigma2."):
        return float(result.sigma2[int(name.split(".")[1]) - 1])
    if name.startswith("tau2"):
        i = int(name.split(".")[1]) - 1 if "." in name else 0
        return float(np.atleast_1d(result.tau2)[i])
    i = int(name.split(".")[1]) - 1 if "." in name else 0
    return float(np.atleast_1d(result.rho)[i])
