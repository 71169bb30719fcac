"""Pooling and heterogeneity: equal- and random-effects models, meta-regression, subgroups,
Mantel-Haenszel and Peto, sensitivity analyses, batch fitting, multilevel models (with a known
sampling covariance from ``vcalc``), multivariate models, the CHE working model, model comparison,
profile likelihoods, cluster-robust inference and permutation tests.

``fit`` is the array-level engine (numpy in, ``MetaResult`` out) that other modules build on;
``_tau2`` holds the one tau^2 kernel every univariate fit calls.
"""

from evidence_kit.synthesis._design import design_matrix
from evidence_kit.synthesis._tau2 import ConvergenceError
from evidence_kit.synthesis.batch import meta_analysis_batch
from evidence_kit.synthesis.bayes import BayesMetaResult, bayes_meta_analysis
from evidence_kit.synthesis.binary import BinaryPoolResult, mantel_haenszel, peto
from evidence_kit.synthesis.che import CheResult, che_model, che_sensitivity
from evidence_kit.synthesis.compare import AnovaResult, anova, fit_statistics
from evidence_kit.synthesis.model import MetaResult, fit, meta_analysis
from evidence_kit.synthesis.multilevel import MultilevelResult, multilevel_meta_analysis
from evidence_kit.synthesis.multivariate import MultivariateResult, multivariate_meta_analysis
from evidence_kit.synthesis.permutation import PermutationResult, permutation_test
from evidence_kit.synthesis.robust import RobustResult, robust, wald_test
from evidence_kit.synthesis.sensitivity import cumulative, influence, leave_one_out
from evidence_kit.synthesis.subgroup import SubgroupResult, subgroup_analysis
from evidence_kit.synthesis.vcalc import BlockCovariance, vcalc

__all__ = [
    "AnovaResult", "BayesMetaResult", "BinaryPoolResult", "BlockCovariance", "CheResult", "ConvergenceError",
    "MetaResult", "MultilevelResult", "MultivariateResult", "PermutationResult", "RobustResult", "SubgroupResult",
    "anova", "bayes_meta_analysis", "che_model", "che_sensitivity", "cumulative", "design_matrix", "fit",
    "fit_statistics", "influence", "leave_one_out", "mantel_haenszel", "meta_analysis", "meta_analysis_batch",
    "multilevel_meta_analysis", "multivariate_meta_analysis", "permutation_test", "peto", "robust",
    "subgroup_analysis", "vcalc", "wald_test",
]
