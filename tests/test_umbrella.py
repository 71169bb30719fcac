"""Umbrella-review credibility (Fusar-Poli & Radua 2018, Evid Based Ment Health 21:95-100, rule 6).

Oracles: metafor fixtures (tests/reference/umbrella.R) for the SE, p value and prediction
interval rebuilt from what a meta-analysis publishes; the class definitions, case by case; and
identities (a published PI is used as given; conversions agree with evidence_kit.effects.conversions).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from tolerances import CLOSED_FORM_RTOL

import evidence_kit as ek

REF = load_reference("umbrella")
EXPECTED_CASES = {"bcg_rr_reml", "bcg_or_dl", "molloy_r_reml", "bangertdrowns_smd_reml"}


def test_fixture_grid_complete():
    assert set(REF["cases"]) == EXPECTED_CASES
    assert REF["versions"]["metafor"] == "3.8.1"
    for case in REF["cases"].values():
        assert case["call"].startswith("rma(")


@pytest.mark.parametrize("case_id", sorted(EXPECTED_CASES))
def test_rebuilds_metafor_se_p_and_prediction_interval(case_id):
    c = REF["cases"][case_id]
    out = ek.umbrella_credibility(
        estimate=[c["estimate"]], ci_lower=[c["ci_lower"]], ci_upper=[c["ci_upper"]], k=[c["k"]],
        measure=c["measure"], tau2=[c["tau2"]], i2=[c["i2"]], small_study_pvalue=[c["egger_pval"]],
    ).iloc[0]
    np.testing.assert_allclose(out["yi"], c["yi"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(out["se"], c["se"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(out["z"], c["zval"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(out["pvalue"], c["pval"], rtol=1e-7)
    np.testing.assert_allclose([out["pi_lower"], out["pi_upper"]], [c["pi_lower"], c["pi_upper"]],
                               rtol=CLOSED_FORM_RTOL)
    assert out["pi_source"] == "tau2 (t, k-2 df)"
    assert out["i2_lt_50"] is (c["i2"] < 50)
    assert out["no_small_study_effects"] is (c["egger_pval"] > 0.05)


def test_bcg_is_weak_and_says_what_was_not_reported():
    c = REF["cases"]["bcg_rr_reml"]
    out = ek.umbrella_credibility(estimate=[c["estimate"]], ci_lower=[c["ci_lower"]], ci_upper=[c["ci_upper"]],
                                  k=[c["k"]], measure="RR", tau2=[c["tau2"]], i2=[c["i2"]]).iloc[0]
    # p = 7.05e-5 < 1e-3 but cases were not given: class III cannot be confirmed -> IV, with the reason
    assert out["credibility"] == "IV"
    assert "cases_gt_1000" in out["not_assessable"]
    assert "largest_study_significant" in out["not_assessable"]
    assert "i2_lt_50" in out["criteria_not_met"]  # I^2 = 92%
    assert "pi_excludes_null" in out["criteria_not_met"]  # PI -2.01 to 0.58 on the log scale
    # once a number of cases above 1000 is supplied, p < 1e-3 makes it class III
    out3 = ek.umbrella_credibility(estimate=[c["estimate"]], ci_lower=[c["ci_lower"]], ci_upper=[c["ci_upper"]],
                                   k=[c["k"]], measure="RR", n_cases=[1500]).iloc[0]
    assert out3["credibility"] == "III"


def _row(**kw):
    base = dict(estimate=[0.5], ci_lower=[0.4], ci_upper=[0.6], k=[20], measure="SMD", n_cases=[5000], i2=[20.0],
                pi_lower=[0.1], pi_upper=[0.9], small_study_pvalue=[0.5], excess_significance_pvalue=[0.5],
                largest_study_significant=[True])
    base.update(kw)
    return ek.umbrella_credibility(**base).iloc[0]


def test_class_definitions_one_criterion_at_a_time():
    # SMD 0.5 (0.4 to 0.6): z = 9.8, p ~ 1e-22
    assert _row()["credibility"] == "I"
    assert _row()["not_assessable"] == () and _row()["criteria_not_met"] == ()
    # any class-I-only criterion failing drops to II when the largest study is significant
    assert _row(i2=[50.0])["credibility"] == "II"  # I^2 < 50 is strict
    assert _row(pi_lower=[-0.1])["credibility"] == "II"
    assert _row(small_study_pvalue=[0.05])["credibility"] == "II"
    assert _row(excess_significance_pvalue=[0.04])["credibility"] == "II"
    # p > 0.05 passes by default (metaumbrella); a review protocol may ask for p > 0.10
    assert _row(excess_significance_pvalue=[0.07])["credibility"] == "I"
    assert _row(excess_significance_pvalue=[0.07], bias_alpha=0.10)["credibility"] == "II"
    # ... and to III when the largest study is not significant either
    assert _row(i2=[70.0], largest_study_significant=[False])["credibility"] == "III"
    # cases <= 1000 leaves only class IV
    assert _row(n_cases=[1000])["credibility"] == "IV"
    # 1e-6 <= p < 1e-3: SE chosen so that z = 4 (p = 6.3e-5)
    se = 0.5 / 4
    r = _row(ci_lower=[0.5 - 1.959963984540054 * se], ci_upper=[0.5 + 1.959963984540054 * se])
    assert r["pvalue"] == pytest.approx(2 * 3.167124183311998e-05, rel=1e-9)
    assert r["credibility"] == "III"
    # not significant
    assert _row(estimate=[0.05], ci_lower=[-0.05], ci_upper=[0.15])["credibility"] == "NS"


def test_unreported_criteria_are_named_not_assumed():
    out = ek.umbrella_credibility(estimate=[0.5], ci_lower=[0.4], ci_upper=[0.6], k=[20], measure="SMD").iloc[0]
    assert out["credibility"] == "IV"
    assert set(out["not_assessable"]) == {"cases_gt_1000", "i2_lt_50", "pi_excludes_null", "no_small_study_effects",
                                          "no_excess_significance", "largest_study_significant"}
    assert out["pi_source"] is None


def test_published_pi_is_used_and_ratio_scales_are_logged():
    out = ek.umbrella_credibility(estimate=[2.0], ci_lower=[1.5], ci_upper=[2.6], k=[8], measure="OR",
                                  pi_lower=[0.9], pi_upper=[4.0], tau2=[0.3]).iloc[0]
    assert out["pi_source"] == "published"
    assert out["pi_lower"] == pytest.approx(math.log(0.9))
    assert out["pi_excludes_null"] is False
    assert out["se"] == pytest.approx(ek.se_from_ci(1.5, 2.6, log=True), rel=1e-12)


def test_conversion_to_smd_uses_the_conversions_module():
    df = pd.DataFrame({"estimate": [2.0, 0.3, 0.4, 1.5], "ci_lower": [1.5, 0.2, 0.3, 1.2],
                       "ci_upper": [2.6, 0.4, 0.5, 1.9], "k": [8, 9, 10, 11], "measure": ["OR", "r", "SMD", "RR"]})
    out = ek.umbrella_credibility(df, measure="measure", to="SMD")
    assert out["smd"][0] == pytest.approx(ek.log_or_to_d(math.log(2.0)), rel=1e-12)
    assert out["smd_ci_upper"][1] == pytest.approx(ek.r_to_d(0.4), rel=1e-12)
    assert out["smd"][2] == 0.4
    assert math.isnan(out["smd"][3]) and out["notes"][3] == "no SMD conversion for RR"
    # Fisher-z SE for r: (atanh(0.4) - atanh(0.2)) / (2 z)
    assert out["se"][1] == pytest.approx((math.atanh(0.4) - math.atanh(0.2)) / (2 * 1.959963984540054), rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(estimate=[0.7], ci_lower=[0.4], ci_upper=[0.6]), "outside its CI"),
        (dict(estimate=[1.0], ci_lower=[-0.5], ci_upper=[2.0], measure="OR"), "positive"),
        (dict(estimate=[0.5], ci_lower=[np.nan], ci_upper=[0.6]), "ci_lower is missing"),
        (dict(estimate=[0.5], ci_lower=[0.4], ci_upper=[0.6], measure="XYZ"), "unknown measure"),
        (dict(estimate=[0.5], ci_lower=[0.4], ci_upper=[0.6], tau2=[-1.0]), "tau2"),
        (dict(estimate=[0.5], ci_lower=[0.4], ci_upper=[0.6], largest_study_significant=["yes"]), "True/False"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    base = dict(k=[5], measure="SMD")
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ek.umbrella_credibility(**base)
