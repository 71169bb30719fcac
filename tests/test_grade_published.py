"""GRADE domain suggestions and the optimal information size against published worked examples
and published rules (source and place cited in each test).

Complements tests/test_grade.py, which already checks GRADE guidelines 6 Fig. 1 (stroke
reduction 1.3%, 95% CI 0.6% to 2.0%, thresholds 0.5% and 1%), the RR 0.75 / 1.25 rough guide,
the GRADE 9 thresholds well inside each band (RR 0.3, 0.15) and the OIS against statsmodels.
Here: the OIS example of GRADE guidelines 6 as restated in the KCE process book, the GRADE 9
band edges (RR exactly 2, 0.5, 5, 0.2), the GRADE 6 abstract rule (CI excluding RR 1 and OIS
met: precise) and the KCE rule for continuous outcomes without a known MID (SMD 0.5).

Sources read (2026-11-28, with the project's search tools):
* GRADE guidelines 9 (Guyatt GH, et al. J Clin Epidemiol 2011;64:1311-1316,
  doi:10.1016/j.jclinepi.2011.06.004): abstract (PubMed 21802902) and the key-points box as
  reproduced verbatim by MAGICapp, https://magic.freshdesk.com/support/solutions/articles/201000064196
  ("How to rate up the quality of evidence").
* GRADE guidelines 6 (Guyatt GH, et al. J Clin Epidemiol 2011;64:1283-1293): abstract,
  https://www.jclinepi.com/article/S0895-4356(11)00206-X/fulltext.
* KCE process book (Belgian Health Care Knowledge Centre), section 5.5.4 "Dealing with
  fragility: Optimal Information Size (OIS)", https://processbook.kce.be/book/export/html/115,
  and section 5.5.1.2 "Continuous outcomes", https://processbook.kce.be/book/export/html/110.

Not found (recorded as gaps in the report, not tested): a numeric OIS for a continuous outcome
in GRADE 6 or the GRADE handbook, and a numeric inconsistency example from GRADE guidelines 7
(its examples are forest plots; the stored copies hold only the opening text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import pytest

import evidence_kit as ek
from evidence_kit.certainty.grade import DOWNGRADE, optimal_information_size


@dataclass
class Analysis:
    """Duck-typed meta-analysis result (the attributes grade_certainty reads)."""

    estimate: float
    ci_lower: float
    ci_upper: float
    pi: tuple
    k: int = 4
    i2: float = 0.0
    slab: list = field(default_factory=lambda: ["s1", "s2", "s3", "s4"])
    weights: list = field(default_factory=lambda: [25.0] * 4)

    def predict(self):
        return pd.DataFrame({"pred": [self.estimate], "pi_lower": [self.pi[0]], "pi_upper": [self.pi[1]]})


LOW_RISK = ek.rob_assessment(pd.DataFrame(
    [{"study": f"s{i}", **{f"D{d}": "Low" for d in range(1, 6)}} for i in range(1, 5)]))


def grade(result, **kw):
    kw.setdefault("indirectness", "not serious")
    kw.setdefault("rob", LOW_RISK)
    return ek.grade_certainty(result, **kw)


def ratio_analysis(rr: float, lower: float, upper: float) -> Analysis:
    """A pooled RR with a CI and a PI on the same side of RR = 1 (so nothing else is rated down)."""
    return Analysis(math.log(rr), math.log(lower), math.log(upper), pi=(math.log(lower) - 0.01, math.log(upper) + 0.01))


# ------------------------------------------------------------------ GRADE guidelines 9: large effect


@pytest.mark.parametrize(("rr", "lower", "upper", "rating"), [
    (2.0, 1.6, 2.5, "upgrade one level"),    # "at least a two-fold increase": RR = 2 rates up one level
    (0.5, 0.4, 0.62, "upgrade one level"),   # "at least a two-fold reduction": RR = 0.5 rates up one level
    (5.0, 4.0, 6.2, "upgrade one level"),    # key points: large is "RR = 2-5"; very large "RR > 5"
    (0.2, 0.15, 0.27, "upgrade one level"),  # key points: large is "RR = 0.5-0.2"; very large "RR < 0.2"
    (5.5, 4.4, 6.9, "upgrade two levels"),
    (0.18, 0.13, 0.25, "upgrade two levels"),
    (1.9, 1.5, 2.4, "none"),
    (0.55, 0.45, 0.67, "none"),
])
def test_grade9_large_effect_band_edges(rr, lower, upper, rating):
    """GRADE guidelines 9 (J Clin Epidemiol 2011;64:1311-1316). Abstract: rate up one level
    for "at least a two-fold reduction or increase in risk", two levels for at least five-fold.
    Key points (the article's box, reproduced by MAGICapp): large = "RR = 2-5 or RR = 0.5-0.2",
    very large = "RR > 5 or RR < 0.2". Both ends of the large band are inside it; at exactly 5
    the abstract ("at least five-fold") and the key points ("2-5") differ, and grade_certainty
    follows the key points. Observational evidence starts low, so one level up gives moderate."""
    g = grade(ratio_analysis(rr, lower, upper), design="observational", log_scale=True, measure="RR")
    assert g.domains.loc["large_effect", "rating"] == rating
    assert (g.domains.loc[list(DOWNGRADE), "change"] == 0).all()
    expected = {"none": "low", "upgrade one level": "moderate", "upgrade two levels": "high"}[rating]
    assert g.level == expected


# ------------------------------------------------------------------ GRADE guidelines 6: optimal information size


def test_ois_for_control_risk_20_percent_and_rrr_25_percent_is_about_2000():
    """KCE process book 5.5.4, restating GRADE guidelines 6 (its OIS figure, alpha 0.05, beta
    0.2): "if the best estimate of control event rate was 0.2 and one specifies an RRR of 25%,
    the OIS is approximately 2 000 patients". The two-arm sample size formula gives 1805 total
    (903 per arm); "approximately 2 000" is read off a figure, so the check is to the nearest
    thousand, and that the value is not above 2000 (the figure value is rounded, not a bound
    we exceed)."""
    ois = optimal_information_size(control_risk=0.2, relative_risk_reduction=0.25, alpha=0.05, power=0.80)
    assert round(ois, -3) == 2000
    assert 1500 <= ois <= 2000
    assert math.ceil(ois) == 1806


def test_ois_figure_shape_rrr_20_25_30_and_falling_control_risk():
    """KCE process book 5.5.4: the GRADE figure gives the OIS (alpha 0.05, beta 0.2) for RRR
    20%, 25% and 30% across control event rates: a larger RRR needs fewer patients, a lower
    control event rate needs more."""
    for pc in (0.05, 0.1, 0.2, 0.4):
        sizes = [optimal_information_size(control_risk=pc, relative_risk_reduction=r) for r in (0.20, 0.25, 0.30)]
        assert sizes[0] > sizes[1] > sizes[2]
    by_risk = [optimal_information_size(control_risk=pc, relative_risk_reduction=0.25) for pc in (0.4, 0.2, 0.1, 0.05)]
    assert by_risk == sorted(by_risk)


@pytest.mark.parametrize(("n_total", "rating"), [(2500, "not serious"), (1200, "serious")])
def test_grade6_ci_excluding_rr1_is_precise_only_when_ois_is_met(n_total, rating):
    """GRADE guidelines 6, abstract: "If the 95% CI excludes a relative risk (RR) of 1.0, and the
    total number of events or patients exceeds the OIS criterion, precision is adequate." With
    the OIS of the example above (control risk 0.2, RRR 25%: 1806 patients), a CI RR 0.60 to
    0.82 that excludes 1 is precise with 2500 patients and rated down with 1200."""
    ois = optimal_information_size(control_risk=0.2, relative_risk_reduction=0.25)
    g = grade(ratio_analysis(0.70, 0.60, 0.82), log_scale=True, measure="RR", n_total=n_total, ois=ois)
    assert g.domains.loc["imprecision", "rating"] == rating
    assert f"{n_total:g} participants vs OIS = 1806" in g.domains.loc["imprecision", "rationale"]


# ------------------------------------------------------------------ continuous outcomes without a known MID


@pytest.mark.parametrize(("smd", "lower", "upper", "rating"), [
    (0.45, 0.30, 0.60, "serious"),      # upper limit crosses SMD 0.5
    (-0.45, -0.62, -0.28, "serious"),   # "in either direction": lower limit crosses -0.5
    (0.20, 0.05, 0.35, "not serious"),  # CI crosses neither 0.5 nor -0.5
])
def test_kce_continuous_outcome_threshold_smd_half(smd, lower, upper, rating):
    """KCE process book 5.5.1.2: "if the MID is not known or the use of different outcome
    measures required calculation of an effect size, we suggest downgrading if the upper or
    lower CI crosses an effect size of 0.5 in either direction." Passed as the two thresholds
    (-0.5, 0.5) on the SMD scale."""
    g = grade(Analysis(smd, lower, upper, pi=(lower - 0.01, upper + 0.01)), threshold=(-0.5, 0.5), measure="SMD")
    assert g.domains.loc["imprecision", "rating"] == rating
    assert g.domains.loc["large_effect", "rating"] == "none"  # not a ratio on the log scale
