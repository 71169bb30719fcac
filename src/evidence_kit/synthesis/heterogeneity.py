"""Q-profile confidence intervals for tau^2, I^2 and H^2 (metafor's ``confint.rma.uni``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit.synthesis._tau2 import q_root


def q_profile_ci(result, *, level: float = 95) -> pd.DataFrame:
    """Q-profile CI (Viechtbauer 2007, Stat Med 26:37-52, eq. 9).

    Returns a DataFrame indexed tau2, i2, h2 with columns estimate, ci_lower, ci_upper.

    Notes
    -----
    Q(tau^2) = sum_i w_i (y_i - x_i'b)^2 with w_i = 1/(v_i + tau^2) decreases in tau^2; the
    lower bound solves Q = chi^2_{k-p, 1-alpha/2}, the upper Q = chi^2_{k-p, alpha/2}, each
    truncated at 0 when Q(0) is already below its target. I^2 and H^2 bounds are
    100 tau^2/(vt + tau^2) and 1 + tau^2/vt with metafor's vt = (k - p)/tr(P).
    """
    if result.method == "EE":
        raise ValueError("an equal-effects model has no tau^2 to give a confidence interval for")
    k, p = result.k, result.p
    if k - p < 1:
        raise ValueError(f"Q-profile intervals need k > p (k = {k}, p = {p})")
    alpha = 1 - level / 100
    X = None if p == 1 else result.X
    crit_hi = stats.chi2.isf(alpha / 2, k - p)  # target for the lower bound
    crit_lo = stats.chi2.ppf(alpha / 2, k - p)  # target for the upper bound
    lower = q_root(result.yi, result.vi, X, crit_hi)
    upper = q_root(result.yi, result.vi, X, crit_lo)
    vt = result.vt
    bounds = np.array([lower, upper])
    return pd.DataFrame(
        {
            "estimate": [result.tau2, result.i2, result.h2],
            "ci_lower": [bounds[0], 100 * bounds[0] / (vt + bounds[0]), bounds[0] / vt + 1],
            "ci_upper": [bounds[1], 100 * bounds[1] / (vt + bounds[1]), bounds[1] / vt + 1],
        },
        index=pd.Index(["tau2", "i2", "h2"]),
    )
