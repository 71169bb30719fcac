"""Pooling and heterogeneity: equal- and random-effects models, meta-regression, subgroups,
Mantel-Haenszel and Peto, sensitivity analyses and batch fitting.

``fit`` is the array-level engine (numpy in, ``MetaResult`` out) that other modules build on.
"""

from evidence_kit.synthesis._design import design_matrix
from evidence_kit.synthesis._tau2 import ConvergenceError
from evidence_kit.synthesis.batch import meta_analysis_batch
from evidence_kit.synthesis.binary import BinaryPoolResult, mantel_haenszel, peto
from evidence_kit.synthesis.model import MetaResult, fit, meta_analysis
from evidence_kit.synthesis.sensitivity import cumulative, influence, leave_one_out
from evidence_kit.synthesis.subgroup import SubgroupResult, subgroup_analysis

__all__ = [
    "BinaryPoolResult", "ConvergenceError", "MetaResult", "SubgroupResult", "cumulative", "design_matrix", "fit",
    "influence", "leave_one_out", "mantel_haenszel", "meta_analysis", "meta_analysis_batch", "peto",
    "subgroup_analysis",
]
