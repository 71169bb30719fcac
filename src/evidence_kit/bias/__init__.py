"""Small-study effects and publication bias: Egger's regression and the rank test, trim-and-fill,
fail-safe N, PET-PEESE, the test of excess significance (``small_study``) and step-function
selection models (``selection``)."""

from evidence_kit.bias.selection import SelectionResult, selection_model
from evidence_kit.bias.small_study import (
    EggerResult,
    ExcessSignificanceResult,
    RankTestResult,
    TrimFillResult,
    egger_test,
    excess_significance_test,
    fail_safe_n,
    pet_peese,
    rank_test,
    trim_and_fill,
)

__all__ = [
    "EggerResult", "ExcessSignificanceResult", "RankTestResult", "SelectionResult", "TrimFillResult",
    "egger_test", "excess_significance_test", "fail_safe_n", "pet_peese", "rank_test", "selection_model",
    "trim_and_fill",
]
