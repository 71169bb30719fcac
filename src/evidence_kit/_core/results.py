"""Private helpers shared by result classes."""

from __future__ import annotations

import numpy as np
from scipy import stats


class FirstCoefficient:
    """Scalar shortcuts to the first row of ``self.coefficients`` (DESIGN.md: the intercept or
    pooled estimate): ``estimate``, ``se``, ``statistic``, ``pvalue``, ``ci_lower``, ``ci_upper``.

    A mixin for frozen dataclasses whose ``coefficients`` is a DataFrame with those columns.
    """

    def _first(self, column: str) -> float:
        return float(self.coefficients[column].iloc[0])

    @property
    def estimate(self) -> float:
        return self._first("estimate")

    @property
    def se(self) -> float:
        return self._first("se")

    @property
    def statistic(self) -> float:
        return self._first("statistic")

    @property
    def pvalue(self) -> float:
        return self._first("pvalue")

    @property
    def ci_lower(self) -> float:
        return self._first("ci_lower")

    @property
    def ci_upper(self) -> float:
        return self._first("ci_upper")


def linear_prediction(Xn: np.ndarray, beta: np.ndarray, vb: np.ndarray, level: float, df: float | None):
    """Predicted values x'b, their standard errors sqrt(x'V_b x) and the critical value of a
    ``level``% interval (t with ``df`` degrees of freedom, or z when ``df`` is None), for the
    rows of ``Xn``. The shared part of the models' ``predict``."""
    pred = Xn @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, vb, Xn))
    alpha = 1 - level / 100
    crit = stats.t.isf(alpha / 2, df) if df is not None else stats.norm.isf(alpha / 2)
    return pred, se, crit
