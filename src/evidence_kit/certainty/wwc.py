"""What Works Clearinghouse (WWC) study ratings and the improvement index (ESSA tiers: ``essa.py``).

Sources (cited per rule below):

* WWC = What Works Clearinghouse Procedures and Standards Handbook, Version 5.0 (U.S.
  Department of Education, IES/NCEE, August 2022, revised December 2022): group design
  standards (attrition, baseline equivalence), effect sizes (Appendix E), improvement index.
* WWC 4.1 = What Works Clearinghouse Standards Handbook, Version 4.1 (ERIC ED602036), Section II.A "Individual-level assignment" (pp. 4-17: attrition standard, Table
  II.1 the attrition boundary; baseline equivalence) and Section II.B "Cluster-level assignment"
  (pp. 18-29). The page ranges are from the handbook's table of contents, read 2026-11-28 on
  https://www.zlibrary.cc/dl/eric-ed602036-what-works-clearinghousetm-standards-handbook-version-41
  (only the contents page of that copy was reachable; the body text was not).
* ESSA = Elementary and Secondary Education Act as amended by the Every Student Succeeds Act,
  section 8101(21)(A) (20 U.S.C. 7801(21)(A)), read 2026-11-28 on the LII definitions page
  https://www.law.cornell.edu/definitions/uscode.php?def_id=20-USC-775935811-1992257180
  (the four kinds of evidence); U.S. Department of Education, Non-Regulatory Guidance: Using
  Evidence to Strengthen Education Investments (September 2016), whose text was NOT reachable.

What was checked against WWC-computed numbers (tests/test_wwc_handbook.py). No page of a WWC
handbook that prints a worked example could be read, so the worked examples are the WWC's own
computations for published study reviews: the WWC study-review data (one row per finding:
sample sizes, means, SDs, and the WWC-computed effect size ``f_effect_size_wwc``, p-value
``f_p_value_wwc``, ICC ``f_icc``, improvement index and ESSA label) as redistributed with a
WWC-commissioned paper, GitHub betsyjwolf/evidence-maps (paper_data.csv at commit 7e6fb71,
wp_meta_v2.csv at commit b3805be). Reproduced there: Hedges' g with the small-sample factor
omega (``ek.wwc_hedges_g``; 16 findings, N = 30 to 4,528), the clustering correction of the
significance test (``ek.wwc_cluster_t`` with t = g sqrt(n1 n2 / N); 3 findings with ICC 0.20),
the improvement index (14 findings) and the WWC's finding-level ESSA labels (5 findings, see
``essa_tier``), and the Cox index with omega (``cox_index``; 1 finding, see below).
``cluster_adjust_g`` is NOT checked against any WWC number (no finding with the inputs it needs
was found in the rows read).

The Cox-index small-sample question (settled 2026-11-28 by the WWC's own computed numbers, not
by the handbook text). Dichotomous outcomes and baseline characteristics are measured with the
Cox index, d_Cox = [ln(p1/(1 - p1)) - ln(p2/(1 - p2))] / 1.65, and the question was whether the
WWC multiplies it by the small-sample correction omega = 1 - 3/(4N - 9) that it applies to
Hedges' g. The whole of paper_data.csv (commit 7e6fb71) was read: one finding has a dichotomous
outcome whose effect size the WWC computed itself from the two proportions, finding 28178
(Snipes et al. 2015, Elevate Math summer program, REL 2015-096; RCT, standards version 4;
"passed 3 or more topic areas", 29% vs 12%, n = 165 and 184; f_effect_size_wwc .66343832,
against the study's own .53). The index with omega gives .66343835, without omega .66487643:
the WWC applies omega (tests/test_wwc_cox_data.py). The other proportion outcomes in the file
carry the study's two-decimal effect size and cannot decide it. The file has no baseline rows,
so that baseline differences are computed the same way is not checked against data.

No page of the v4.1 or v5.0 handbooks that gives the Cox index could be read with the search
tools (queries on the handbook wording, the formula, "Cox index" with "1.65" and omega, in the
pages, docs and code corpora; the stored copies of the handbooks expose only their first page).
Public secondary sources disagree:

* with omega (agrees with the WWC's computed value above): K. Uekawa's WWC R code
  (https://www.estat.us/category/wwc-standards/, post "R code for deriving Hedge's g (or Cox
  Index)"), citing pp. 15-16 of the v4.1 Procedures Handbook draft; the R code of GitHub
  HaiwenChu/RWWC-v.4-Group-Designs (file "R/Group Designs", commit db77d7c, function ``Cox``),
  written for the v4.0 handbooks;
* without omega: the R package baselinr 0.6 NEWS
  (https://cran.r-project.org/web/packages/baselinr/news/news.html) says its cox_index()
  follows Procedures Handbook v4.1 section VI.1.2 and carries no small-sample correction; and
  the roxygen header of a public R function ``crep_cies_pb`` (GitHub code index) says omega is
  absent from the WWC handbook but taught in the WWC's online baseline-equivalence training.

``evidence_kit.effects.conversions.cox_index`` applies omega by default, as the WWC does
(``small_sample=False`` gives the index without it); tests/test_wwc_cox_index.py pins that and
tests/test_wwc_cox_data.py checks it against finding 28178. The two readings differ by the
factor omega (0.9967 at N = 230), which matters only for a baseline difference within that
factor of the 0.05 or 0.25 band edge.

Cluster-level assignment (WWC 4.1 Section II.B, pp. 18-29; the 2016 "WWC Cluster Design
Standards", steps 1-7) is NOT implemented: only the opening paragraphs of those documents could
be read (https://scribd.com/document/372428233/Cluster-Standards, http://ies.ed.gov/ncee/wwc/document/259),
not the decision steps, so ``wwc_rating(..., assignment="cluster")`` raises
:class:`UnsupportedDesignError` rather than guess them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.validate import check_choice

# ---------------------------------------------------------------------------------------------
# Attrition boundary. WWC 4.1 Table II.1 ("Highest differential attrition for a sample to
# maintain low attrition, by overall attrition, under optimistic and cautious assumptions"), used
# unchanged in WWC 5.0: for overall attrition 0..65 percent, the highest differential attrition
# (percentage points) that still counts as low attrition. Under the cautious assumption an
# overall rate of 58% or more is high attrition at any differential (blank cells in the table).
#
# Provenance (re-checked 2026-11-28): the handbook table itself has still NOT been read (no
# stored copy of the v4.0/v4.1/v5.0 handbooks, the attrition white paper or the WWC training
# slides exposes more than its first page to the search tools). Two independent public
# transcriptions were read cell by cell:
#   (a) R package baselinr, R/attrition_boundary.R, .wwc_attrition_table() (GitHub
#       zl1212-ship-it/baselinr, commit c4018eb), citing WWC 4.1 Table II.1: overall 0..65;
#   (b) GitHub HaiwenChu/RWWC-v.4-Group-Designs, file "R/Group Designs" (commit db77d7c) and
#       file "WWC" (commit 14a438b), citing "WWC Standards Handbook v4.0, Table II.1 (p.12)":
#       overall 0..57.
# They agree on all 58 cautious cells and on the optimistic cells for overall 0..12. For overall
# 13..57 the optimistic columns differ: (b) has one more 10.9 (at 13) and from there on each of
# its cells equals (a)'s cell one row earlier, so (b) is 0.1-0.3 points more lenient. A third,
# weaker source (a research note in the GitHub code index, file id 61634853091, whose figures
# come from a search-engine summary of the v4.1 PDF) gives 6.1 / 10.8 at 13% and 0.3 optimistic
# at 65%, as (a) does. The table below is (a); ``_OPTIMISTIC_ALT`` keeps (b) so that
# ``wwc_rating`` can say when a rating depends on a disputed optimistic cell. Locators for
# whoever can open the PDFs: WWC 4.1 Section II.A spans pp. 4-17 (its table of contents);
# https://www.estat.us/wwc-standards/ places Table II.1 on p. 10 of
# WWC-Standards-Handbook-v4-1-508.pdf; (b) places it on p. 12 of the v4.0 Standards Handbook.
# ---------------------------------------------------------------------------------------------
_OVERALL = np.arange(0, 66)
_CAUTIOUS = np.array([
    5.7, 5.8, 5.9, 5.9, 6.0, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6.0, 5.9, 5.9, 5.8,
    5.7, 5.5, 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3, 4.1, 4.0, 3.8, 3.6, 3.5, 3.3,
    3.2, 3.1, 2.9, 2.8, 2.6, 2.5, 2.3, 2.1, 2.0, 1.8, 1.6, 1.5, 1.3, 1.2, 1.0, 0.9, 0.7, 0.6,
    0.4, 0.3, 0.2, 0.0,
])  # overall 0..57
_OPTIMISTIC = np.array([
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9, 10.9, 10.8, 10.8,
    10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5, 9.4, 9.2, 9.0, 8.8, 8.6, 8.4, 8.2, 8.0,
    7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3, 6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9,
    3.7, 3.5, 3.2, 3.0, 2.8, 2.6, 2.3, 2.1, 1.9, 1.6, 1.4, 1.1, 0.9, 0.7, 0.5, 0.3,
])  # overall 0..65
# Transcription (b) of the optimistic column (HaiwenChu/RWWC-v.4-Group-Designs, "R/Group Designs",
# commit db77d7c), overall 0..57; it differs from _OPTIMISTIC for overall 13..57 (see above).
_OPTIMISTIC_ALT = np.array([
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9, 10.9, 10.9, 10.8,
    10.8, 10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5, 9.4, 9.2, 9.0, 8.8, 8.6, 8.4, 8.2,
    8.0, 7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3, 6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2,
    3.9, 3.7, 3.5, 3.2, 3.0, 2.8, 2.6, 2.3,
])  # overall 0..57
BOUNDARIES = ("cautious", "optimistic")
RATINGS = ("Meets WWC Standards Without Reservations", "Meets WWC Standards With Reservations",
           "Does Not Meet WWC Standards")
DESIGNS = ("RCT", "QED")
ASSIGNMENTS = ("individual", "cluster")


class UnsupportedDesignError(ValueError):
    """A design whose WWC rating rules could not be read from the handbook, so no rating is made."""


def attrition_boundary_table() -> pd.DataFrame:
    """The WWC attrition boundary (WWC 4.1 Table II.1, as used in WWC 5.0), NaN where no
    differential attrition keeps attrition low."""
    df = pd.DataFrame({"overall_attrition": _OVERALL.astype(float)})
    df["cautious"] = np.concatenate([_CAUTIOUS, np.full(_OVERALL.size - _CAUTIOUS.size, np.nan)])
    df["optimistic"] = _OPTIMISTIC
    return df


def attrition_boundary_sources() -> pd.DataFrame:
    """The two public transcriptions of the attrition boundary side by side (see the provenance
    note above ``_CAUTIOUS``): ``cautious`` / ``optimistic`` as used here (transcription (a),
    baselinr) and ``optimistic_alt`` (transcription (b), RWWC-v.4-Group-Designs, overall 0..57,
    NaN beyond), with ``disputed`` True where the two optimistic cells differ. Both cautious
    columns agree cell for cell, so only one is shown."""
    df = attrition_boundary_table()
    alt = np.full(_OVERALL.size, np.nan)
    alt[:_OPTIMISTIC_ALT.size] = _OPTIMISTIC_ALT
    df["optimistic_alt"] = alt
    df["disputed"] = np.isfinite(alt) & (alt != df["optimistic"].to_numpy())
    return df


def _disputed_optimistic(overall_attrition: float, differential_attrition: float) -> tuple[float, float] | None:
    """The two transcriptions' optimistic limits at this overall rate when the attrition level
    would differ between them (the differential lies between the two cells), else None."""
    idx = int(np.ceil(np.round(float(overall_attrition), 10)))
    if idx >= _OPTIMISTIC_ALT.size:
        return None
    a, b = float(_OPTIMISTIC[idx]), float(_OPTIMISTIC_ALT[idx])
    lo, hi = min(a, b), max(a, b)
    diff = abs(float(differential_attrition))
    return (a, b) if a != b and lo < diff <= hi else None


def attrition_rates(n1_assigned, n1_analyzed, n2_assigned, n2_analyzed) -> pd.DataFrame:
    """Overall and differential attrition (percent) from the randomized and analyzed sample sizes.

    Notes
    -----
    Attrition in a group = 1 - analyzed / randomized; overall = 1 - (analyzed_1 + analyzed_2) /
    (randomized_1 + randomized_2); differential = |attrition_1 - attrition_2| (WWC 5.0 attrition
    standard; WWC 4.1 Section II.A). Returned in percent, full precision (the boundary lookup
    rounds the overall rate up to the next whole percent).
    """
    a1, k1, a2, k2 = (np.atleast_1d(np.asarray(x, dtype=float)) for x in
                      (n1_assigned, n1_analyzed, n2_assigned, n2_analyzed))
    for name, assigned, kept in (("group 1", a1, k1), ("group 2", a2, k2)):
        bad = ~(assigned > 0) | (kept < 0) | (kept > assigned)
        if np.any(bad):
            raise ValueError(f"{name}: need 0 <= analyzed <= randomized and randomized > 0; rows {np.flatnonzero(bad).tolist()}")
    att1 = 100 * (1 - k1 / a1)
    att2 = 100 * (1 - k2 / a2)
    overall = 100 * (1 - (k1 + k2) / (a1 + a2))
    return pd.DataFrame({"attrition_1": att1, "attrition_2": att2, "overall_attrition": overall,
                         "differential_attrition": np.abs(att1 - att2)})


def max_differential_attrition(overall_attrition, boundary: str = "cautious") -> np.ndarray:
    """Largest differential attrition (percentage points) that keeps attrition low.

    ``overall_attrition`` in percent. The table lists whole percents; a fractional rate is
    looked up at the next whole percent above it (rounding up is the conservative reading of a
    table the handbook gives at whole percents). NaN where attrition cannot be low.
    """
    boundary = check_choice("attrition boundary", boundary, BOUNDARIES).lower()
    table = _CAUTIOUS if boundary == "cautious" else _OPTIMISTIC
    overall = np.asarray(overall_attrition, dtype=float)
    bad = (overall < 0) | (overall > 100)
    if np.any(bad):
        raise ValueError(f"overall attrition must be a percentage in [0, 100]; got {overall[bad].tolist()}")
    idx = np.ceil(np.round(overall, 10)).astype(int, copy=False) if overall.size else overall.astype(int)
    out = np.full(overall.shape, np.nan)
    ok = idx < table.size
    out[ok] = table[idx[ok]]
    return out


def attrition_level(overall_attrition, differential_attrition, boundary: str = "cautious"):
    """``"low"`` or ``"high"`` attrition against the WWC boundary (WWC 5.0 Section on attrition;
    boundary WWC 4.1 Table II.1). Rates in percent; differential is the absolute difference."""
    limit = max_differential_attrition(overall_attrition, boundary)
    diff = np.abs(np.asarray(differential_attrition, dtype=float))
    low = np.isfinite(limit) & (diff <= limit)
    out = np.where(low, "low", "high")
    return out.item() if out.ndim == 0 else out


def improvement_index(g):
    """WWC improvement index: the expected change in percentile rank of an average comparison-group
    student had they received the intervention.

    Parameters
    ----------
    g : float, array or Series
        Effect size (Hedges' g or Cox index).

    Returns
    -------
    Same shape as ``g`` (a Series keeps its index).

    Notes
    -----
    improvement index = 100 * Phi(g) - 50 (WWC 5.0, reporting of findings, "improvement
    index"; the same formula in the WWC 4.1 Procedures Handbook). Full precision; WWC reports
    it rounded to whole numbers, which is a display choice. Rounded to whole numbers it
    reproduces the improvement index the WWC published for 14 findings of its study-review data
    (tests/test_wwc_handbook.py); the handbook page with the formula was not read.
    """
    if isinstance(g, pd.Series):
        return pd.Series(100.0 * stats.norm.cdf(g.to_numpy(dtype=float)) - 50.0, index=g.index,
                         name="improvement_index")
    arr = np.asarray(g, dtype=float)
    out = 100.0 * stats.norm.cdf(arr) - 50.0  # WWC 5.0: 100 * Phi(g) - 50
    return out.item() if out.ndim == 0 else out


def baseline_equivalence(effect_sizes) -> np.ndarray:
    """Classify baseline differences (WWC 5.0, baseline equivalence; same bands in WWC 4.1 II.A):

    |g| <= 0.05: ``"satisfied"``; 0.05 < |g| <= 0.25: ``"adjustment required"`` (satisfied only
    if the analysis adjusts for it); |g| > 0.25: ``"not satisfied"``. NaN raises.
    """
    es = np.abs(np.asarray(effect_sizes, dtype=float))
    if np.any(np.isnan(es)):
        raise ValueError("baseline effect sizes contain missing values; each needs a number")
    return np.where(es <= 0.05, "satisfied", np.where(es <= 0.25, "adjustment required", "not satisfied"))


@dataclass(frozen=True)
class WwcRating:
    """A WWC study rating with the reasons for it (each citing the handbook)."""

    rating: str
    design: str
    attrition: str | None
    baseline: pd.DataFrame | None
    reasons: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"WwcRating({self.rating!r})\n" + "\n".join(f"- {r}" for r in self.reasons)


def wwc_rating(
    design: str,
    *,
    overall_attrition: float | None = None,
    differential_attrition: float | None = None,
    boundary: str = "cautious",
    baseline_es: Sequence[float] | float | None = None,
    baseline_adjusted: Sequence[bool] | bool | None = None,
    baseline_names: Sequence[str] | None = None,
    compromised_randomization: bool = False,
    assignment: str = "individual",
    cluster_overall_attrition: float | None = None,
    cluster_differential_attrition: float | None = None,
    joiners: bool | None = None,
) -> WwcRating:
    """Rate a group-design study against the WWC standards.

    Parameters
    ----------
    design : {"RCT", "QED"}
        Randomized controlled trial or quasi-experimental design.
    overall_attrition, differential_attrition : float
        Percent (RCT only; required for an RCT). Differential = |attrition_T - attrition_C|.
    boundary : {"cautious", "optimistic"}
        Which attrition boundary the review protocol uses.
    baseline_es : float or list of float
        Baseline differences (Hedges' g or Cox index) of the characteristics the protocol
        requires, in the analytic sample. Required for a QED and for an RCT with high attrition
        or compromised randomization.
    baseline_adjusted : bool or list of bool
        Whether the impact analysis adjusts for each characteristic (needed where
        0.05 < |g| <= 0.25).
    compromised_randomization : bool
        The reviewer found the randomization compromised; the study is then rated as a QED.
    assignment : {"individual", "cluster"}
        Unit of assignment. ``"cluster"`` (schools, classrooms, ... assigned) is NOT supported:
        it raises :class:`UnsupportedDesignError` (a ``ValueError``), because the WWC decision
        steps for cluster designs (WWC 4.1 Section II.B, pp. 18-29) could not be read, and a
        rule is not guessed. The keywords below are accepted so that callers can pass a cluster
        finding's facts now; they are reported back in the error.
    cluster_overall_attrition, cluster_differential_attrition : float
        Cluster designs only: attrition of clusters (percent); the individual-level
        ``overall_attrition`` / ``differential_attrition`` then mean attrition of individuals
        within the retained clusters.
    joiners : bool or None
        Cluster designs only: the analytic sample includes individuals who entered the clusters
        after random assignment (None = not reported).

    Returns
    -------
    WwcRating

    Notes
    -----
    WWC 5.0 group design standards (same logic as WWC 4.1 Section II.A): an RCT
    with low attrition (boundary WWC 4.1 Table II.1) and intact randomization can Meet WWC
    Standards Without Reservations. An RCT with high attrition or compromised randomization, and
    any QED, can at best Meet WWC Standards With Reservations, and only if it demonstrates
    baseline equivalence in the analytic sample: every |g| <= 0.25, and those with
    0.05 < |g| <= 0.25 adjusted for in the analysis; otherwise it Does Not Meet WWC Standards.

    The attrition boundary cells are transcriptions, not read from the handbook (see the
    provenance note above ``_CAUTIOUS``); under the optimistic boundary, when the differential
    attrition falls between the two public transcriptions' cells for the overall rate, the
    reasons say that the attrition level rests on a disputed cell.
    """
    design = check_choice("design", design, DESIGNS)
    assignment = check_choice("assignment", assignment, ASSIGNMENTS).lower()
    cluster_facts = {"cluster_overall_attrition": cluster_overall_attrition,
                     "cluster_differential_attrition": cluster_differential_attrition, "joiners": joiners}
    if assignment == "individual":
        given = [k for k, v in cluster_facts.items() if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)} apply to assignment='cluster' only; this finding is "
                             "rated as individual-level assignment")
    else:
        facts = ", ".join(f"{k}={v!r}" for k, v in cluster_facts.items())
        raise UnsupportedDesignError(
            f"cluster-level assignment is not supported ({design}; {facts}): the WWC decision steps for "
            "cluster designs (Standards Handbook v4.1 Section II.B, pp. 18-29; v5.0 likewise) could not be "
            "read, so no rating is guessed; use the WWC's own published rating of the study where there is one")
    reasons: list[str] = []
    attrition = None
    needs_baseline = True
    if design == "RCT":
        if overall_attrition is None or differential_attrition is None:
            missing = [n for n, v in (("overall_attrition", overall_attrition),
                                      ("differential_attrition", differential_attrition)) if v is None]
            raise ValueError(f"an RCT rating needs {' and '.join(missing)} (percent)")
        attrition = str(attrition_level(overall_attrition, differential_attrition, boundary))
        limit = float(max_differential_attrition(overall_attrition, boundary))
        reasons.append(
            f"attrition {attrition}: overall {overall_attrition:g}%, differential {differential_attrition:g}% "
            f"vs the {boundary} boundary (max differential "
            f"{'none' if np.isnan(limit) else f'{limit:g}%'} at this overall rate; WWC 4.1 Table II.1, used in WWC 5.0)"
        )
        disputed = _disputed_optimistic(overall_attrition, differential_attrition) if boundary.lower() == "optimistic" else None
        if disputed is not None:
            reasons.append(
                f"attrition level rests on a disputed boundary cell: the two public transcriptions of WWC Table II.1 "
                f"give {disputed[0]:g}% (used here) and {disputed[1]:g}% as the optimistic limit at this overall "
                "rate, and the handbook table itself was not read")
        if compromised_randomization:
            reasons.append("randomization compromised: reviewed as a QED (WWC 5.0 group design standards)")
        elif attrition == "low":
            reasons.append("RCT with low attrition: eligible to meet standards without reservations, "
                           "no baseline equivalence needed (WWC 5.0 group design standards; WWC 4.1 Section II.A)")
            needs_baseline = False
    else:
        reasons.append("QED: can at best meet standards with reservations, must show baseline equivalence (WWC 5.0)")
    baseline = None
    if not needs_baseline:
        return WwcRating(RATINGS[0], design, attrition, baseline, reasons)
    if baseline_es is None:
        why = "a QED" if design == "QED" else "an RCT with high attrition or compromised randomization"
        raise ValueError(f"{why} needs baseline_es (baseline differences of the protocol's characteristics)")
    es = np.atleast_1d(np.asarray(baseline_es, dtype=float))
    names = list(baseline_names) if baseline_names is not None else [f"characteristic {i + 1}" for i in range(es.size)]
    if len(names) != es.size:
        raise ValueError(f"baseline_names has {len(names)} names for {es.size} baseline effect sizes")
    category = baseline_equivalence(es)
    if baseline_adjusted is None:
        adjusted = np.full(es.size, None, dtype=object)
    else:
        adjusted = np.atleast_1d(np.asarray(baseline_adjusted, dtype=object))
        if adjusted.size == 1 and es.size > 1:
            adjusted = np.repeat(adjusted, es.size)
        if adjusted.size != es.size:
            raise ValueError(f"baseline_adjusted has {adjusted.size} values for {es.size} baseline effect sizes")
    need_adj = category == "adjustment required"
    unknown = [names[i] for i in np.flatnonzero(need_adj) if adjusted[i] is None]
    if unknown:
        raise ValueError("baseline differences between 0.05 and 0.25 need baseline_adjusted (whether the "
                         f"analysis adjusts for them): {', '.join(unknown)}")
    baseline = pd.DataFrame({"characteristic": names, "effect_size": es, "category": category,
                             "adjusted": adjusted})
    fails = (category == "not satisfied") | (need_adj & (adjusted != True))  # noqa: E712 (object array)
    if fails.any():
        detail = "; ".join(
            f"{names[i]}: |g| = {abs(es[i]):.3f} " + ("> 0.25" if category[i] == "not satisfied" else "in (0.05, 0.25] not adjusted")
            for i in np.flatnonzero(fails)
        )
        reasons.append(f"baseline equivalence not shown ({detail}; WWC 5.0 baseline equivalence bands)")
        return WwcRating(RATINGS[2], design, attrition, baseline, reasons)
    reasons.append(f"baseline equivalence shown: max |g| = {np.max(np.abs(es)):.3f} <= 0.25, differences above "
                   "0.05 adjusted for (WWC 5.0 baseline equivalence bands)")
    return WwcRating(RATINGS[1], design, attrition, baseline, reasons)
