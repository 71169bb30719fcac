"""evidence-kit: reproducible evidence reviews for the Ten-Year Roadmap for Healthy Schools.

``import evidence_kit as ek``. The public names below are the contract in DESIGN.md; each area
keeps its imports in its own block, and ``__all__`` lists every public name once.
"""

from __future__ import annotations

__version__ = "0.1.0"

from evidence_kit import conversions, effects, review
from evidence_kit.bias import (
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
from evidence_kit.certainty import (
    EssaTier,
    GradeResult,
    RobAssessment,
    SummaryOfFindings,
    WwcRating,
    essa_tier,
    grade_certainty,
    improvement_index,
    optimal_information_size,
    rob_assessment,
    rob_summary_plot,
    rob_traffic_light,
    summary_of_findings,
    umbrella_credibility,
    wwc_rating,
)
from evidence_kit.citations import (
    Citation,
    CitationParseError,
    PrismaCounts,
    bibliography,
    citations_frame,
    find_duplicates,
    format_reference,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
    prisma_counts,
    prisma_diagram,
    read_citations,
    write_citations,
)
from evidence_kit.conversions import (
    DEFAULT_ICC,
    cluster_adjust_g,
    combine_groups,
    cox_index,
    d_from_f,
    d_from_p,
    d_from_t,
    d_to_g,
    d_to_log_or,
    d_to_r,
    expected_normal_range,
    hedges_correction,
    log_or_to_d,
    mean_sd_from_median,
    r_to_d,
    se_from_ci,
    variance_d,
    variance_g,
    wwc_cluster_t,
    wwc_hedges_g,
)
from evidence_kit.datasets import dataset_info, list_datasets, load_dataset
from evidence_kit.effects import MEASURES, effect_sizes
from evidence_kit.evidence import EvidenceBase, EvidenceError, Problem, load_evidence
from evidence_kit.multilevel import MultilevelResult, multilevel_meta_analysis
from evidence_kit.permutation import PermutationResult, permutation_test
from evidence_kit.plots import forest_plot, funnel_plot
from evidence_kit.quality import check_extraction
from evidence_kit.robust import RobustResult, robust, wald_test
from evidence_kit.selection import SelectionResult, selection_model
from evidence_kit.synthesis import (
    BinaryPoolResult,
    ConvergenceError,
    MetaResult,
    SubgroupResult,
    cumulative,
    influence,
    leave_one_out,
    mantel_haenszel,
    meta_analysis,
    meta_analysis_batch,
    peto,
    subgroup_analysis,
)

__all__ = [
    "__version__",
    # datasets
    "dataset_info",
    "list_datasets",
    "load_dataset",
    # effect sizes and conversions
    "conversions",
    "effects",
    "MEASURES",
    "effect_sizes",
    "check_extraction",
    "DEFAULT_ICC",
    "cluster_adjust_g",
    "combine_groups",
    "cox_index",
    "d_from_f",
    "d_from_p",
    "d_from_t",
    "d_to_g",
    "d_to_log_or",
    "d_to_r",
    "expected_normal_range",
    "hedges_correction",
    "log_or_to_d",
    "mean_sd_from_median",
    "r_to_d",
    "se_from_ci",
    "variance_d",
    "variance_g",
    "wwc_cluster_t",
    "wwc_hedges_g",
    # synthesis
    "BinaryPoolResult",
    "ConvergenceError",
    "MetaResult",
    "SubgroupResult",
    "cumulative",
    "forest_plot",
    "funnel_plot",
    "influence",
    "leave_one_out",
    "mantel_haenszel",
    "meta_analysis",
    "meta_analysis_batch",
    "peto",
    "subgroup_analysis",
    # bias, multilevel, robust
    "EggerResult",
    "ExcessSignificanceResult",
    "MultilevelResult",
    "PermutationResult",
    "RankTestResult",
    "RobustResult",
    "SelectionResult",
    "TrimFillResult",
    "egger_test",
    "excess_significance_test",
    "fail_safe_n",
    "multilevel_meta_analysis",
    "permutation_test",
    "pet_peese",
    "rank_test",
    "robust",
    "selection_model",
    "trim_and_fill",
    "wald_test",
    # citations
    "Citation",
    "CitationParseError",
    "PrismaCounts",
    "bibliography",
    "citations_frame",
    "find_duplicates",
    "format_reference",
    "normalize_doi",
    "normalize_pmcid",
    "normalize_pmid",
    "prisma_counts",
    "prisma_diagram",
    "read_citations",
    "write_citations",
    # certainty
    "EssaTier",
    "GradeResult",
    "RobAssessment",
    "SummaryOfFindings",
    "WwcRating",
    "essa_tier",
    "grade_certainty",
    "improvement_index",
    "optimal_information_size",
    "rob_assessment",
    "rob_summary_plot",
    "rob_traffic_light",
    "summary_of_findings",
    "umbrella_credibility",
    "wwc_rating",
    # evidence base
    "EvidenceBase",
    "EvidenceError",
    "Problem",
    "load_evidence",
    # review helpers
    "review",
]
