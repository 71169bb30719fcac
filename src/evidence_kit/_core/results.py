"""Private helpers shared by result classes."""

from __future__ import annotations


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
