"""Effect sizes and everything around them: metafor's escalc measures (``sizes``), conversions
between metrics and from reported statistics (``conversions``), the special functions they need,
and checks of extracted numbers (``extraction``)."""

from evidence_kit.effects import conversions, sizes
from evidence_kit.effects.conversions import (
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
from evidence_kit.effects.extraction import check_extraction
from evidence_kit.effects.sizes import MEASURES, effect_sizes

__all__ = [
    "conversions", "sizes", "MEASURES", "effect_sizes", "check_extraction", "DEFAULT_ICC", "cluster_adjust_g",
    "combine_groups", "cox_index", "d_from_f", "d_from_p", "d_from_t", "d_to_g", "d_to_log_or", "d_to_r",
    "expected_normal_range", "hedges_correction", "log_or_to_d", "mean_sd_from_median", "r_to_d", "se_from_ci",
    "variance_d", "variance_g", "wwc_cluster_t", "wwc_hedges_g",
]
