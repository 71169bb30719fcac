"""Helpers the review notebooks share: one principle's questions, sources, published syntheses on a
common metric with their umbrella credibility, GRADE certainty, and gaps.

Each notebook in ``notebooks/`` calls these so it stays short and every number it shows comes
from tested code reading ``evidence/``.

Notes
-----
Common metric. Intervention effects reported as d, g or SMD are read as standardized mean
differences as printed (g and d differ only by Hedges' small-sample factor, negligible at the
sizes pooled); odds ratios become d = ln(OR) sqrt(3) / pi (Chinn S. Stat Med 2000;19:3127-3131;
Borenstein et al. 2009, eq. 7.1). Correlations stay correlations (Fisher's z back-transformed
with r = tanh z): turning an association between two continuous measures into a d would imply a
dichotomy that the sources do not have, so r is kept on its own axis. Other metrics (beta, b, MD,
RR, HR, ...) are not converted and say so.

Certainty. GRADE (``ek.grade_certainty``) needs judgements that a published pooled estimate does
not carry by itself. ``evidence/appraisals/`` records what each source review reports about its
studies (counts by risk of bias, its small-study test, its own GRADE level): risk of bias is rated
from the share of studies at high risk (:func:`rob_counts`) and publication bias from the
reported small-study test. A domain that still cannot be assessed (no counts, no test, no I^2) is
rated down one level ("serious", the ``unassessed`` argument) with a reason naming what is missing,
as the umbrella criteria count a criterion that cannot be assessed as not met (Fusar-Poli & Radua
2018).

Layout: ``principle`` (questions, sources, published syntheses on a common metric, gaps),
``grading`` (GRADE from the published estimates and the reviews' own appraisals), ``wwc`` (WWC
study ratings and ESSA tiers); everything is re-exported here, so notebooks use ``rv.<name>``.
"""

from __future__ import annotations

from evidence_kit.review._common import R_METRICS, SCALES, SMD_METRICS
from evidence_kit.review.grading import (
    RATIO_METRICS,
    PublishedEstimate,
    appraisals_table,
    certainty_table,
    evidence_map_table,
    grade_published,
    grade_row,
    grade_study,
    representatives,
    review_grades,
    rob_counts,
    what_would_change,
)
from evidence_kit.review.principle import (
    CREDIBILITY_DISPLAY,
    FONT_MIN,
    PUBLISHED_DISPLAY,
    common_metric,
    compare_published,
    credibility,
    forest_panels,
    gaps_table,
    indirectness_from_note,
    principle_text,
    print_not_assessable,
    print_questions,
    print_references,
    print_stated_gaps,
    published_forest,
    published_syntheses,
    questions_table,
    sources_table,
    stated_gaps,
)
from evidence_kit.review.reader import EMPTY, ReaderTable, fmt_int, fmt_num, link, reader_table
from evidence_kit.review.reproduce import refit, reproduction_forest, reproductions, study_rows
from evidence_kit.review.statements import (
    NOT_APPRAISABLE,
    amstar2_confidence,
    anchor_of,
    bottom_lines,
    bottom_lines_html,
    certainty_summary,
    evidence_gap_map,
    gap_lines,
    reading_note,
    show_bottom_lines,
    show_gap_lines,
)
from evidence_kit.review.wwc import (
    WWC_CLUSTER_NOTE,
    WWC_DISPLAY,
    WWC_VERSION,
    essa_tiers,
    print_reasons,
    wwc_baseline,
    wwc_ratings,
    wwc_table,
)

__all__ = [
    # one principle
    "principle_text", "questions_table", "sources_table", "common_metric", "credibility",
    "published_syntheses", "published_forest", "indirectness_from_note", "gaps_table", "stated_gaps",
    "compare_published", "SMD_METRICS", "R_METRICS", "SCALES", "PUBLISHED_DISPLAY", "CREDIBILITY_DISPLAY",
    "print_questions", "print_references", "print_not_assessable", "print_stated_gaps", "forest_panels", "FONT_MIN",
    # what the evidence says, for reading
    "bottom_lines", "gap_lines", "evidence_gap_map", "amstar2_confidence", "reading_note", "anchor_of",
    "bottom_lines_html", "show_bottom_lines", "show_gap_lines", "NOT_APPRAISABLE", "certainty_summary",
    "reproductions", "reproduction_forest", "study_rows", "refit", "wwc_table", "WWC_CLUSTER_NOTE",
    "reader_table", "ReaderTable", "fmt_int", "fmt_num", "link", "EMPTY",
    # certainty
    "PublishedEstimate", "grade_study", "grade_row", "representatives", "RATIO_METRICS", "rob_counts", "grade_published", "review_grades", "appraisals_table",
    "certainty_table", "evidence_map_table", "what_would_change",
    # WWC and ESSA
    "wwc_baseline", "wwc_ratings", "essa_tiers", "print_reasons", "WWC_DISPLAY", "WWC_VERSION",
]
