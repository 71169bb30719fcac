"""The schema of ``evidence/``: columns, closed lists and what each column must hold.

One place for the contract that ``evidence/README.md`` documents in prose; the checks in
``_tables.py`` and ``_yaml.py`` read it from here.
"""

from __future__ import annotations

import re

#: Outcome domains of the evidence questions (closed list, as in principles.yaml).
OUTCOME_DOMAINS = (
    "academic_achievement",
    "attendance",
    "engagement_behaviour",
    "wellbeing_mental_health",
    "staff_health_retention",
)

#: Metrics a synthesis row may report, as printed in the source.
METRICS = ("g", "d", "SMD", "SMC", "MD", "r", "z", "beta", "b", "OR", "RR", "HR", "IRR", "ROM", "RD")

#: Ratio metrics: stored on the natural scale, so every bound must be positive.
RATIO_METRICS = ("OR", "RR", "HR", "IRR", "ROM")

#: Correlations: every bound lies in [-1, 1].
CORRELATION_METRICS = ("r",)

#: syntheses/*.csv: every column, in the README's order; True marks a required value.
SYNTHESES_COLUMNS = {
    "id": True,
    "principle": True,
    "question": True,
    "citation_key": True,
    "topic": False,
    "population": True,
    "exposure": True,
    "comparator": False,
    "outcome": True,
    "outcome_domain": True,
    "metric": True,
    "estimate": True,
    "ci_lower": False,
    "ci_upper": False,
    "ci_level": False,
    "k": False,
    "k_unit": False,
    "k_total": False,
    "n": False,
    "i2": False,
    "tau2": False,
    "pi_lower": False,
    "pi_upper": False,
    "model": False,
    "design": False,
    "p_value": False,
    "favourable": True,
    "text_read": True,
    "access_notes": False,
    "flag": False,
    "source_url": True,
    "locator": True,
    "notes": False,
    "extracted_by": True,
    "checked": False,
    "check_notes": False,
}

#: What ``k`` counts (``k_unit``); ``k_total`` is always the review's number of studies.
K_UNITS = ("studies", "effect sizes", "samples")
#: Which side of the estimate is better for learning or health (``favourable``).
FAVOURABLE = ("higher", "lower")
#: What was read (``text_read``): the synthesis itself, or only its abstract.
TEXT_READ = ("full text", "abstract")

#: Numeric columns of syntheses/*.csv (kept as float; empty means not reported -> NaN).
SYNTHESES_NUMERIC = (
    "estimate", "ci_lower", "ci_upper", "ci_level", "k", "k_total", "n", "i2", "tau2", "pi_lower", "pi_upper",
)

#: screening/*.csv: every column; True marks a value required in every row.
SCREENING_COLUMNS = {
    "record_id": True,
    "identified_via": True,
    "source": True,
    "query": False,
    "search_date": False,
    "title": True,
    "doi": False,
    "url": False,
    "duplicate_of": False,
    "screening": False,
    "full_text": False,
    "exclusion_reason": False,
    "exclusion_code": False,
    "citation_key": False,
    "screened_by": False,
    "notes": False,
}

IDENTIFIED_VIA = ("database", "register", "other")
SCREENING_DECISIONS = ("include", "exclude")
FULL_TEXT_DECISIONS = ("include", "exclude", "not_retrieved")

#: Coded reasons for a full-text exclusion (the PRISMA 2020 box lists these; the free-text
#: ``exclusion_reason`` keeps the detail).
EXCLUSION_CODES = (
    "no k or CI for the estimate",
    "no pooled estimate in what was read",
    "outcome out of scope",
    "metric outside the schema",
    "citation incomplete",
    "same study recorded elsewhere",
    "secondary summary only",
    "not an impact design",
    "not extracted in this pass",
)

URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PRINCIPLE_RE = re.compile(r"^P\d+$")
QUESTION_RE = re.compile(r"^Q(\d+)\.\d+$")


def split_ids(text: str) -> list[str]:
    """``"P3; P6"`` -> ``["P3", "P6"]`` (semicolon-separated lists in one cell)."""
    return [part.strip() for part in str(text).split(";") if part.strip()]


#: wwc/findings.csv: study-level facts behind a WWC rating and an ESSA tier (one row per finding).
WWC_FINDINGS_COLUMNS = {
    "id": True,
    "intervention": True,
    "principle": True,
    "question": True,
    "citation_key": True,
    "outcome": True,
    "outcome_domain": True,
    "design": True,
    "assignment": True,
    "unit": True,
    "clusters_t_assigned": False,
    "clusters_t_analyzed": False,
    "clusters_c_assigned": False,
    "clusters_c_analyzed": False,
    "t_assigned": False,
    "t_analyzed": False,
    "c_assigned": False,
    "c_analyzed": False,
    "joiners": False,
    "compromised_randomization": False,
    "effect_size": False,
    "effect": True,
    "significant": True,
    "p_value": False,
    "n": False,
    "sites": False,
    "wwc_rating_published": False,
    "wwc_standards_version": False,
    "wwc_source": False,
    "source_url": True,
    "locator": True,
    "notes": False,
    "extracted_by": True,
    "checked": False,
}
WWC_COUNTS = ("clusters_t_assigned", "clusters_t_analyzed", "clusters_c_assigned", "clusters_c_analyzed",
              "t_assigned", "t_analyzed", "c_assigned", "c_analyzed", "n", "sites")
WWC_FINDINGS_NUMERIC = (*WWC_COUNTS, "effect_size", "p_value", "wwc_standards_version")
WWC_DESIGNS = ("RCT", "QED")
WWC_ASSIGNMENTS = ("individual", "cluster")
WWC_EFFECTS = ("favorable", "unfavorable", "null")
BOOLEANS = {"true": True, "false": False}

#: wwc/baseline.csv: raw baseline statistics of a finding's analytic sample (the code computes
#: Hedges' g or the Cox index from them).
WWC_BASELINE_COLUMNS = {
    "finding_id": True,
    "characteristic": True,
    "kind": True,
    "t_n": True,
    "c_n": True,
    "t_mean": False,
    "t_sd": False,
    "c_mean": False,
    "c_sd": False,
    "t_prop": False,
    "c_prop": False,
    "adjusted": True,
    "locator": True,
    "notes": False,
    "extracted_by": True,
    "checked": False,
}
WWC_BASELINE_NUMERIC = ("t_n", "c_n", "t_mean", "t_sd", "c_mean", "c_sd", "t_prop", "c_prop")
BASELINE_KINDS = ("continuous", "binary")

#: appraisals/*.csv: what a source review reports about the risk of bias of its studies, its own
#: GRADE rating and its small-study test, per synthesis row.
APPRAISALS_COLUMNS = {
    "synthesis_id": True,
    "scope": True,
    "rob_tool": False,
    "studies_assessed": False,
    "studies_high": False,
    "studies_some": False,
    "studies_low": False,
    "review_grade": False,
    "small_study_test": False,
    "small_study_p": False,
    "source_url": True,
    "locator": True,
    "notes": False,
    "extracted_by": True,
    "checked": False,
}
APPRAISAL_COUNTS = ("studies_assessed", "studies_high", "studies_some", "studies_low")
APPRAISALS_NUMERIC = (*APPRAISAL_COUNTS, "small_study_p")
APPRAISAL_SCOPES = ("outcome", "review")
GRADE_LEVELS = ("high", "moderate", "low", "very low")


#: amstar2/*.csv: AMSTAR 2 item answers per appraised review (Shea et al. 2017, BMJ 358:j4008);
#: the overall confidence is computed (``ek.amstar2``), never typed.
AMSTAR2_ITEMS = tuple(f"item{i}" for i in range(1, 17))
AMSTAR2_COLUMNS = {
    "citation_key": True,
    **{item: True for item in AMSTAR2_ITEMS},
    "item_notes": True,
    "source_url": True,
    "locator": True,
    "text_read": True,
    "access_notes": False,
    "extracted_by": True,
    "checked": False,
    "check_notes": False,
}
#: AMSTAR 2's answer options (Shea et al. 2017, Appendix 1): "partial yes" only where the
#: checklist offers it, "no meta-analysis" only for the three meta-analysis items.
AMSTAR2_ANSWERS = ("yes", "partial yes", "no", "no meta-analysis")
AMSTAR2_PARTIAL_YES = ("item2", "item4", "item7", "item8", "item9")
AMSTAR2_NO_MA = ("item11", "item12", "item15")

#: reproductions/*.csv: per-study rows behind a published pooled estimate (the code re-pools them).
REPRODUCTION_COLUMNS = ("study", "yi", "ci_lower", "ci_upper", "sei", "m1i", "sd1i", "n1i", "m2i", "sd2i",
                        "n2i", "ai", "ci", "weight", "subgroup", "notes")
REPRODUCTION_NUMERIC = ("yi", "ci_lower", "ci_upper", "sei", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "ai",
                        "ci", "weight")
#: The columns each measure needs (one of the alternatives, e.g. a CI or an SE for GEN).
REPRODUCTION_INPUTS = {
    "GEN": (("yi", "ci_lower", "ci_upper"), ("yi", "sei")),
    "MD": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "SMD": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "ROM": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "OR": (("ai", "n1i", "ci", "n2i"),),
    "RR": (("ai", "n1i", "ci", "n2i"),),
    "RD": (("ai", "n1i", "ci", "n2i"),),
}
#: reproductions*.yaml entry keys; ``file`` (a CSV in reproductions/) or ``dataset`` (a shipped dataset,
#: the authors' public data, with ``escalc`` arguments and an optional pandas ``subset`` query).
REPRODUCTION_KEYS = {"synthesis_id": True, "file": False, "dataset": False, "escalc": False, "subset": False,
                     "measure": True, "method": True, "locator": True, "source_url": True, "scale": False,
                     "notes": False, "extracted_by": True, "checked": False, "check_notes": False}
