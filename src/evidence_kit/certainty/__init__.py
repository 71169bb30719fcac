"""Certainty of evidence: risk of bias, GRADE, umbrella-review credibility, WWC and ESSA ratings."""

from __future__ import annotations

from evidence_kit.certainty.amstar2 import CRITICAL_ITEMS, Amstar2Result, amstar2, amstar2_table
from evidence_kit.certainty.essa import EssaTier, essa_tier
from evidence_kit.certainty.grade import GradeResult, grade_certainty, optimal_information_size
from evidence_kit.certainty.rob import (
    RobAssessment,
    overall_judgement,
    rob_assessment,
    rob_summary_table,
)
from evidence_kit.certainty.sof import SummaryOfFindings, summary_of_findings
from evidence_kit.certainty.umbrella import umbrella_credibility
from evidence_kit.certainty.wwc import (
    WwcRating,
    attrition_boundary_table,
    attrition_level,
    attrition_rates,
    baseline_equivalence,
    improvement_index,
    max_differential_attrition,
    wwc_rating,
)

__all__ = [
    "Amstar2Result",
    "CRITICAL_ITEMS",
    "amstar2",
    "amstar2_table",
    "EssaTier",
    "GradeResult",
    "RobAssessment",
    "SummaryOfFindings",
    "WwcRating",
    "attrition_boundary_table",
    "attrition_level",
    "attrition_rates",
    "baseline_equivalence",
    "essa_tier",
    "grade_certainty",
    "improvement_index",
    "max_differential_attrition",
    "optimal_information_size",
    "overall_judgement",
    "rob_assessment",
    "rob_summary_table",
    "summary_of_findings",
    "umbrella_credibility",
    "wwc_rating",
]
