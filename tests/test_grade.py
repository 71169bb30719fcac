"""GRADE certainty per outcome and the Summary of Findings table.

Published worked examples: GRADE guidelines 6 (Guyatt et al. J Clin Epidemiol 2011;64:1283-1293),
the stroke example of Fig. 1 (absolute reduction 1.3%, 95% CI 0.6% to 2.0%, against decision
thresholds of 0.5% and 1%) and its rough guide for appreciable benefit or harm (RR < 0.75 or
> 1.25); GRADE guidelines 9 (Guyatt et al. 2011;64:1311-1316) for rating up large effects.
Rules and thresholds are documented in evidence_kit.certainty.grade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower

import evidence_kit as ek
from evidence_kit.certainty.grade import optimal_information_size


@dataclass
class StandIn:
    """Duck-typed meta-analysis result: the attributes grade_certainty reads."""

    estimate: float = 0.3
    ci_lower: float = 0.2
    ci_upper: float = 0.4
    k: int = 4
    i2: float = 10.0
    pi: tuple = (0.1, 0.5)
    slab: list = field(default_factory=lambda: ["s1", "s2", "s3", "s4"])
    weights: list = field(default_factory=lambda: [25.0, 25.0, 25.0, 25.0])

    def predict(self):
        return pd.DataFrame({"pred": [self.estimate], "pi_lower": [self.pi[0]], "pi_upper": [self.pi[1]]})


def rob_for(judgements: dict[str, str]):
    rows = [{"study": s, "D1": j, "D2": "Low", "D3": "Low", "D4": "Low", "D5": "Low"} for s, j in judgements.items()]
    return ek.rob_assessment(pd.DataFrame(rows))


LOW4 = rob_for({f"s{i}": "Low" for i in range(1, 5)})


def grade(result=None, **kw):
    kw.setdefault("indirectness", "not serious")
    kw.setdefault("rob", LOW4)
    return ek.grade_certainty(result or StandIn(), **kw)


def test_clean_rct_evidence_is_high():
    g = grade()
    assert g.level == "high" and g.start == "high"
    assert (g.domains["change"] == 0).all()
    assert g.reasons == []


# ------------------------------------------------------------------ imprecision: published example


def test_guyatt_2011_fig1_stroke_example():
    # absolute stroke reduction 1.3% (0.6% to 2.0%); threshold 0.5%: the CI excludes it -> precise;
    # threshold 1%: the CI includes it -> rate down (GRADE guidelines 6, Fig. 1)
    r = StandIn(estimate=1.3, ci_lower=0.6, ci_upper=2.0, i2=0.0, pi=(0.5, 2.1))
    assert grade(r, threshold=0.5).domains.loc["imprecision", "rating"] == "not serious"
    g = grade(r, threshold=1.0, overrides={"inconsistency": ("not serious", "I^2 = 0")})
    assert g.domains.loc["imprecision", "rating"] == "serious"
    assert "crosses the threshold(s) 1" in g.domains.loc["imprecision", "rationale"]
    assert g.level == "moderate"


def test_guyatt_2011_appreciable_benefit_and_harm():
    # RR 0.6 to 1.4 includes both RR < 0.75 and RR > 1.25 -> very serious
    r = StandIn(estimate=math.log(0.9), ci_lower=math.log(0.6), ci_upper=math.log(1.4), pi=(-0.5, 0.4))
    g = grade(r, threshold=(math.log(0.75), math.log(1.25)), log_scale=True, measure="RR")
    assert g.domains.loc["imprecision", "rating"] == "very serious"
    # RR 0.6 to 0.95 crosses only the benefit threshold -> serious
    r2 = StandIn(estimate=math.log(0.8), ci_lower=math.log(0.6), ci_upper=math.log(0.95), pi=(-0.6, -0.02))
    assert grade(r2, threshold=(math.log(0.75), math.log(1.25)), log_scale=True).domains.loc[
        "imprecision", "rating"] == "serious"


def test_optimal_information_size():
    # continuous, 0.2 SD, alpha 0.05, power 0.8: 2 x 392.4 participants
    ois = optimal_information_size(smd=0.2)
    per_arm = NormalIndPower().solve_power(effect_size=0.2, alpha=0.05, power=0.8, ratio=1.0)
    assert ois == pytest.approx(2 * per_arm, rel=1e-4)
    assert math.ceil(ois / 2) == 393
    # dichotomous: control risk 20%, RRR 25% -> p_I = 15%
    z = 1.959963984540054 + 0.8416212335729143
    expected = 2 * z**2 * (0.2 * 0.8 + 0.15 * 0.85) / 0.05**2
    assert optimal_information_size(control_risk=0.2, relative_risk_reduction=0.25) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="needs smd"):
        optimal_information_size()
    with pytest.raises(ValueError, match="not both"):
        optimal_information_size(smd=0.2, control_risk=0.2, relative_risk_reduction=0.2)


def test_ois_not_met_rates_down_even_when_ci_excludes_threshold():
    g = grade(n_total=300, ois=optimal_information_size(smd=0.2))
    assert g.domains.loc["imprecision", "rating"] == "serious"
    assert "300 participants vs OIS = 785 (not met)" in g.domains.loc["imprecision", "rationale"]
    wide = StandIn(ci_lower=-0.05, pi=(-0.1, 0.6))
    assert grade(wide, n_total=300, ois=785).domains.loc["imprecision", "rating"] == "very serious"
    assert "OIS = 785 not checked (n_total not given)" in grade(ois=785).domains.loc["imprecision", "rationale"]


# ------------------------------------------------------------------ risk of bias from weights


def test_risk_of_bias_share_of_weight():
    r = StandIn(weights=[30.0, 20.0, 25.0, 25.0])
    rob = rob_for({"s1": "High", "s2": "Low", "s3": "Low", "s4": "Low"})
    g = grade(r, rob=rob)
    assert g.domains.loc["risk_of_bias", "rating"] == "serious"
    assert "30.0% of the weight from 1 of 4 studies at high risk" in g.domains.loc["risk_of_bias", "rationale"]
    rob = rob_for({"s1": "High", "s2": "Low", "s3": "High", "s4": "Low"})
    assert grade(r, rob=rob).domains.loc["risk_of_bias", "rating"] == "very serious"  # 55%
    rob = rob_for({"s1": "Low", "s2": "High", "s3": "Some concerns", "s4": "Some concerns"})
    assert grade(r, rob=rob).domains.loc["risk_of_bias", "rating"] == "serious"  # 20% high, 70% concerns
    rob = rob_for({"s1": "Low", "s2": "High", "s3": "Low", "s4": "Low"})
    assert grade(r, rob=rob).domains.loc["risk_of_bias", "rating"] == "not serious"  # 20% high


def test_risk_of_bias_join_errors():
    with pytest.raises(ValueError, match="no risk-of-bias assessment for pooled studies: s4"):
        grade(rob=rob_for({"s1": "Low", "s2": "Low", "s3": "Low"}))
    with pytest.raises(ValueError, match="needs rob="):
        grade(rob=None)
    g = grade(rob=None, overrides={"risk_of_bias": ("serious", "assessed by hand: allocation not concealed")})
    assert g.domains.loc["risk_of_bias", "rating"] == "serious" and g.level == "moderate"


# ------------------------------------------------------------------ inconsistency, publication bias


@pytest.mark.parametrize(("i2", "pi", "rating"), [
    (80.0, (-0.2, 0.8), "very serious"),
    (60.0, (-0.2, 0.8), "serious"),
    (80.0, (0.05, 0.8), "not serious"),  # heterogeneous but all on one side of the threshold
    (40.0, (-0.2, 0.8), "not serious"),
])
def test_inconsistency_rule(i2, pi, rating):
    g = grade(StandIn(i2=i2, pi=pi))
    assert g.domains.loc["inconsistency", "rating"] == rating
    assert f"I^2 = {i2:.1f}%" in g.domains.loc["inconsistency", "rationale"]


def test_single_study_inconsistency_not_assessable():
    r = StandIn(k=1, slab=["s1"], weights=[100.0], i2=0.0)
    g = grade(r, rob=rob_for({"s1": "Low"}))
    assert g.domains.loc["inconsistency", "rationale"].startswith("single study")


def test_publication_bias_only_when_k_at_least_10():
    assert "k = 4 < 10" in grade().domains.loc["publication_bias", "rationale"]
    slab = [f"s{i}" for i in range(10)]
    big = StandIn(k=10, slab=slab, weights=[10.0] * 10)
    rob = rob_for({s: "Low" for s in slab})
    assert grade(big, rob=rob, small_study={"pvalue": 0.04}).domains.loc["publication_bias", "rating"] == "serious"

    class Egger:
        pvalue = 0.3

    assert grade(big, rob=rob, small_study=Egger()).domains.loc["publication_bias", "rating"] == "not serious"
    if not hasattr(ek, "egger_test"):
        with pytest.raises(ValueError, match="pass small_study="):
            grade(big, rob=rob)


# ------------------------------------------------------------------ rating up, starting level, overrides


def test_large_effect_rates_up_observational_evidence():
    r = StandIn(estimate=math.log(0.3), ci_lower=math.log(0.2), ci_upper=math.log(0.45), pi=(-1.8, -0.6))
    g = grade(r, design="observational", log_scale=True, measure="RR")
    assert g.start == "low" and g.domains.loc["large_effect", "change"] == 1 and g.level == "moderate"
    r5 = StandIn(estimate=math.log(0.15), ci_lower=math.log(0.1), ci_upper=math.log(0.25), pi=(-2.5, -1.2))
    g5 = grade(r5, design="observational", log_scale=True, dose_response=True)
    assert g5.domains.loc["large_effect", "rating"] == "upgrade two levels"
    assert g5.level == "high"  # low + 2 + 1, capped at high


def test_no_rating_up_when_rated_down():
    r = StandIn(estimate=math.log(0.3), ci_lower=math.log(0.2), ci_upper=math.log(0.45), pi=(-1.8, -0.6))
    g = grade(r, design="observational", log_scale=True, indirectness="serious")
    assert g.domains.loc["large_effect", "change"] == 0
    assert "Not applied" in g.domains.loc["large_effect", "rationale"]
    assert g.level == "very low"


def test_robins_i_assessed_observational_evidence_starts_high():
    rows = [{"study": f"s{i}", **{f"D{d}": "Low" for d in range(1, 8)}} for i in range(1, 5)]
    rob = ek.rob_assessment(pd.DataFrame(rows), tool="robins_i")
    g = grade(design="observational", rob=rob)
    assert g.start == "high" and g.level == "high"


def test_overrides_keep_reason_and_are_checked():
    g = grade(overrides={"indirectness": {"rating": "very serious", "reason": "adult workplaces, not schools"}})
    assert g.level == "low"
    row = g.domains.loc["indirectness"]
    assert row["overridden"] and row["override_reason"] == "adult workplaces, not schools"
    assert any("adult workplaces" in r for r in g.reasons)
    with pytest.raises(ValueError, match="needs a reason"):
        grade(overrides={"imprecision": ("serious", " ")})
    with pytest.raises(ValueError, match="unknown GRADE domains in overrides: precision"):
        grade(overrides={"precision": ("serious", "x")})
    with pytest.raises(ValueError, match="unknown imprecision rating"):
        grade(overrides={"imprecision": ("somewhat", "x")})
    with pytest.raises(ValueError, match="unknown indirectness rating"):
        grade(indirectness="fine")


def test_level_floors_at_very_low():
    g = grade(indirectness="very serious",
              overrides={"risk_of_bias": ("very serious", "x"), "imprecision": ("very serious", "y")})
    assert g.domains["change"].sum() == -6 and g.level == "very low"


def test_with_real_meta_analysis_bangertdrowns2004():
    dat = ek.load_dataset("dat.bangertdrowns2004")
    dat["study"] = dat["author"] + " (" + dat["id"].astype(str) + ")"
    res = ek.meta_analysis(dat, slab="study")
    # the first 12 studies judged at high risk of bias in D1, the rest low
    judgements = np.where(np.arange(res.k) < 12, "High", "Low")
    rob = ek.rob_assessment(pd.DataFrame({"study": res.slab, "D1": judgements, "D2": "Low", "D3": "Low",
                                          "D4": "Low", "D5": "Low"}))
    g = ek.grade_certainty(res, rob=rob, indirectness="not serious", n_total=dat["ni"].sum(),
                           ois=optimal_information_size(smd=0.2), small_study={"pvalue": 0.5}, measure="SMD")
    share = res.weights[:12].sum() / res.weights.sum()
    assert f"{share:.1%} of the weight from 12 of 48" in g.domains.loc["risk_of_bias", "rationale"]
    pi = res.predict().iloc[0]
    assert f"{pi['pi_lower']:.3g} to {pi['pi_upper']:.3g}" in g.domains.loc["inconsistency", "rationale"]
    assert g.domains.loc["inconsistency", "rating"] == ("serious" if res.i2 >= 50 and pi["pi_lower"] < 0 else
                                                         "not serious")
    assert g.k == 48 and g.estimate == res.estimate


# ------------------------------------------------------------------ Summary of Findings


def test_summary_of_findings_table_and_html():
    a = grade(n_total=1200, measure="SMD")
    b = grade(StandIn(estimate=math.log(0.5), ci_lower=math.log(0.3), ci_upper=math.log(0.9), pi=(-1.5, 0.2),
                      i2=65.0), log_scale=True, measure="RR", indirectness="serious")
    sof = ek.summary_of_findings({"Reading": a, "Absence < 90%": b})
    t = sof.table
    assert list(t.columns) == ["Outcome", "Studies", "Participants", "Effect (95% CI)", "Certainty", "Footnotes"]
    assert t.loc[0, "Certainty"].endswith("HIGH") and t.loc[0, "Footnotes"] == ""
    assert t.loc[1, "Effect (95% CI)"] == "RR 0.50 (0.30 to 0.90)"
    assert t.loc[1, "Certainty"].endswith("LOW")
    assert t.loc[1, "Footnotes"] == "a, b"
    assert sof.footnotes[0].startswith("Inconsistency: serious (-1). I^2 = 65.0%")
    assert sof.footnotes[1].startswith("Indirectness: serious (-1)")
    html = sof.to_html()
    assert "<ol" in html and "Absence &lt; 90%" in html and "I^2 = 65.0%" in html
    with pytest.raises(ValueError, match="at least one"):
        ek.summary_of_findings([])
    with pytest.raises(TypeError, match="not a GradeResult"):
        ek.summary_of_findings([a, "b"])


@pytest.mark.skipif(not hasattr(ek, "egger_test"), reason="ek.egger_test (bias module) not exported yet")
def test_publication_bias_computes_egger_when_k_at_least_10():
    # dat.bangertdrowns2004 (k = 48): metafor regtest p from tests/reference/umbrella.json
    ref = load_reference("umbrella")["cases"]["bangertdrowns_smd_reml"]
    dat = ek.load_dataset("dat.bangertdrowns2004")
    dat["study"] = dat["author"] + " (" + dat["id"].astype(str) + ")"
    res = ek.meta_analysis(dat, slab="study")
    rob = ek.rob_assessment(pd.DataFrame({"study": res.slab, **{f"D{i}": "Low" for i in range(1, 6)}}))
    g = ek.grade_certainty(res, rob=rob, indirectness="not serious")
    row = g.domains.loc["publication_bias"]
    assert f"small-study test p = {ref['egger_pval']:.3g}" in row["rationale"]
    assert row["rating"] == ("serious" if ref["egger_pval"] < 0.10 else "not serious")


def test_bcg_risk_ratio_with_real_meta_analysis():
    # dat.bcg, log RR (Colditz et al. 1994): pooled RR 0.49 (z-CI from metafor in tests/reference/umbrella.json)
    ref = load_reference("umbrella")["cases"]["bcg_rr_reml"]
    dat = ek.load_dataset("dat.bcg")
    dat["yi"] = np.log((dat["tpos"] / (dat["tpos"] + dat["tneg"])) / (dat["cpos"] / (dat["cpos"] + dat["cneg"])))
    dat["vi"] = 1 / dat["tpos"] - 1 / (dat["tpos"] + dat["tneg"]) + 1 / dat["cpos"] - 1 / (dat["cpos"] + dat["cneg"])
    dat["study"] = dat["author"] + " " + dat["year"].astype(str)
    res = ek.meta_analysis(dat, slab="study")
    rob = ek.rob_assessment(pd.DataFrame({"study": res.slab, **{f"D{i}": "Low" for i in range(1, 6)}}))
    g = ek.grade_certainty(res, rob=rob, indirectness="not serious", log_scale=True, measure="RR",
                           small_study={"pvalue": ref["egger_pval"]})
    assert g.estimate == pytest.approx(ref["yi"], rel=1e-6)
    # I^2 = 92% and the PI crosses RR = 1: very serious inconsistency; so no rating up for RR 0.49
    assert g.domains.loc["inconsistency", "rating"] == "very serious"
    assert g.domains.loc["large_effect", "change"] == 0 and "pooled ratio 0.489" in g.domains.loc["large_effect",
                                                                                                   "rationale"]
    assert g.level == "low"
    sof = ek.summary_of_findings({"Tuberculosis": g})
    assert sof.table.loc[0, "Effect (95% CI)"] == (
        f"RR {ref['estimate']:.2f} ({ref['ci_lower']:.2f} to {ref['ci_upper']:.2f})")
    assert "<table" in g._repr_html_() and "very serious" in g._repr_html_()


_DOWN = ["not serious", "serious", "very serious"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(_DOWN), min_size=4, max_size=4), st.sampled_from(["RCT", "observational"]),
       st.booleans())
def test_level_is_start_plus_changes_clamped(ratings, design, dose):
    # Balshem et al. 2011: start high (4) or low (2), move one level per step, stay within [1, 4]
    doms = ["risk_of_bias", "inconsistency", "imprecision", "publication_bias"]
    g = grade(design=design, dose_response=dose,
              overrides={d: (r, "property test") for d, r in zip(doms, ratings, strict=True)})
    down = -sum(_DOWN.index(r) for r in ratings)
    up = int(dose) if down == 0 else 0
    start = 4 if design == "RCT" else 2
    expected = {4: "high", 3: "moderate", 2: "low", 1: "very low"}[min(4, max(1, start + down + up))]
    assert g.level == expected
    assert g.domains.loc["dose_response", "change"] == up


def test_inconsistency_without_prediction_interval_uses_i2_alone():
    g = grade(StandIn(i2=60.0, pi=(float("nan"), float("nan"))))
    assert g.domains.loc["inconsistency", "rating"] == "serious"
    assert "I^2 alone decides" in g.domains.loc["inconsistency", "rationale"]
    assert grade(StandIn(i2=30.0, pi=(float("nan"), float("nan")))).domains.loc["inconsistency", "rating"] == \
        "not serious"


def test_meta_regression_is_refused():
    dat = ek.load_dataset("dat.bcg")
    dat["yi"] = np.log((dat["tpos"] / (dat["tpos"] + dat["tneg"])) / (dat["cpos"] / (dat["cpos"] + dat["cneg"])))
    dat["vi"] = 1 / dat["tpos"] - 1 / (dat["tpos"] + dat["tneg"]) + 1 / dat["cpos"] - 1 / (dat["cpos"] + dat["cneg"])
    res = ek.meta_analysis(dat, mods=["ablat"], slab="author")
    with pytest.raises(ValueError, match="moderators .*ablat"):
        ek.grade_certainty(res, indirectness="not serious", rob=None,
                           overrides={"risk_of_bias": ("not serious", "x")})


def test_publication_bias_rated_by_hand_when_no_test_can_run():
    slab = [f"s{i}" for i in range(12)]
    big = StandIn(k=12, slab=slab, weights=[100 / 12] * 12)
    rob = rob_for({s: "Low" for s in slab})
    g = grade(big, rob=rob, overrides={"publication_bias": ("serious", "funnel plot asymmetric; registry shows "
                                                                       "three unpublished trials")})
    row = g.domains.loc["publication_bias"]
    assert row["rating"] == "serious" and row["overridden"]
    assert g.level == "moderate"


# --- risk of bias from a review's counts of studies ----------------------------------------------

@pytest.mark.parametrize(("high", "some", "rating"), [
    (0, 0, "not serious"), (2, 9, "not serious"), (2, 10, "serious"),  # 12/24 = 50% middle or worse
    (6, 0, "serious"), (5, None, "not serious"), (6, None, "serious"), (12, 0, "very serious"),
    (11, 13, "serious"),
])
def test_rob_counts_thresholds(high, some, rating):
    est = _PublishedLike()
    g = ek.grade_certainty(est, indirectness="not serious",
                           rob_counts={"assessed": 24, "high": high, "some": some, "tool": "EPHPP", "source": "Table 3"})
    dom = g.domains.loc["risk_of_bias"]
    assert dom["rating"] == rating and not dom["overridden"]
    assert f"{high} of 24 studies" in dom["rationale"] and "(EPHPP; Table 3)" in dom["rationale"]
    assert ("middle category not reported" in dom["rationale"]) == (some is None)
    assert "share of studies" in dom["rule"]


def test_rob_counts_bad_input():
    est = _PublishedLike()
    with pytest.raises(ValueError, match="needs 'assessed'"):
        ek.grade_certainty(est, indirectness="not serious", rob_counts={"high": 3})
    with pytest.raises(ValueError, match="exceeds assessed"):
        ek.grade_certainty(est, indirectness="not serious", rob_counts={"assessed": 5, "high": 3, "some": 3})
    with pytest.raises(ValueError, match="whole number"):
        ek.grade_certainty(est, indirectness="not serious", rob_counts={"assessed": 5, "high": 1.5})
    with pytest.raises(ValueError, match="not both"):
        rob = ek.rob_assessment(pd.DataFrame({"study": ["a"], "D1": ["Low"], "D2": ["Low"], "D3": ["Low"],
                                              "D4": ["Low"], "D5": ["Low"]}), tool="rob2")
        ek.grade_certainty(est, indirectness="not serious", rob=rob, rob_counts={"assessed": 5, "high": 1})
    g = ek.grade_certainty(est, indirectness="not serious",
                           rob_counts={"assessed": 5, "high": 1, "scope": "review"})
    assert "all the studies of the review" in g.domains.loc["risk_of_bias", "rationale"]


class _PublishedLike:
    """A published pooled estimate: what grade_certainty reads (k, estimate, CI, I^2, PI)."""

    k, estimate, ci_lower, ci_upper, i2 = 5, 0.3, 0.1, 0.5, 20.0

    def predict(self):
        return pd.DataFrame({"pred": [0.3], "pi_lower": [0.0], "pi_upper": [0.6]})


def test_unassessed_domains_read_as_not_assessable_not_as_a_reviewer_override():
    g = ek.grade_certainty(_PublishedLike(), indirectness="not serious",
                           overrides={"risk_of_bias": ("serious", "not assessable: no assessments in evidence/."),
                                      "inconsistency": ("serious", "two trials differ in dose")})
    rob, inc = g.reasons[0], g.reasons[1]
    assert rob == "Risk of bias: serious (-1). Not assessable: no assessments in evidence/."
    assert inc.startswith("Inconsistency: serious (-1).") and "by reviewer: two trials differ in dose" in inc
