"""WWC study ratings, attrition boundary, baseline equivalence, improvement index and ESSA tiers.

Sources: What Works Clearinghouse Procedures and Standards Handbook v5.0 (2022); the attrition
boundary of the v4.1 Standards Handbook Section II.A, Table II.1, carried into v5.0; ESSA section
8101(21)(A) and the Department's Non-Regulatory Guidance (2016), as summarized on the WWC ESSA
page (https://ies.ed.gov/ncee/wwc/essa).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import evidence_kit as ek
from evidence_kit.certainty.wwc import (
    RATINGS,
    attrition_boundary_table,
    attrition_level,
    baseline_equivalence,
    max_differential_attrition,
)

MWOR, MWR, DNM = RATINGS


# ------------------------------------------------------------------ attrition boundary


def test_boundary_table_cells():
    # WWC 4.1 Table II.1 as transcribed by baselinr (the handbook table itself not read; see the
    # provenance comment in wwc.py; a second transcription, compared cell by cell in
    # tests/test_wwc_handbook.py, agrees on every cautious cell below but gives the optimistic
    # cells at 20, 30, 40 and 57 as 10.2, 8.4, 6.3 and 2.3): (overall, cautious, optimistic)
    t = attrition_boundary_table().set_index("overall_attrition")
    for overall, cautious, optimistic in [(0, 5.7, 10.0), (10, 6.3, 10.9), (20, 5.4, 10.0), (30, 4.1, 8.2),
                                          (40, 2.6, 6.0), (57, 0.0, 2.1), (58, np.nan, 1.9), (65, np.nan, 0.3)]:
        np.testing.assert_equal(t.loc[overall, "cautious"], cautious)
        assert t.loc[overall, "optimistic"] == optimistic


# Every cell of the transcription source: R package baselinr, R/attrition_boundary.R,
# .wwc_attrition_table() (github.com/zl1212-ship-it/baselinr, commit c4018eb), read 2026-11-28.
# It cites WWC Standards Handbook 4.1 Table II.1; the handbook table was not available to check.
# A second transcription (RWWC-v.4-Group-Designs) agrees on the cautious column and differs on
# optimistic cells 13-57: see tests/test_wwc_handbook.py.
_BASELINR_CAUTIOUS = [
    5.7, 5.8, 5.9, 5.9, 6.0, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6.0,
    5.9, 5.9, 5.8, 5.7, 5.5, 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3,
    4.1, 4.0, 3.8, 3.6, 3.5, 3.3, 3.2, 3.1, 2.9, 2.8, 2.6, 2.5, 2.3, 2.1, 2.0,
    1.8, 1.6, 1.5, 1.3, 1.2, 1.0, 0.9, 0.7, 0.6, 0.4, 0.3, 0.2, 0.0,
] + [np.nan] * 8
_BASELINR_OPTIMISTIC = [
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9,
    10.9, 10.8, 10.8, 10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5, 9.4,
    9.2, 9.0, 8.8, 8.6, 8.4, 8.2, 8.0, 7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3,
    6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9, 3.7, 3.5, 3.2, 3.0, 2.8,
    2.6, 2.3, 2.1, 1.9, 1.6, 1.4, 1.1, 0.9, 0.7, 0.5, 0.3,
]


def test_boundary_matches_its_transcription_source():
    t = attrition_boundary_table()
    assert len(_BASELINR_CAUTIOUS) == len(_BASELINR_OPTIMISTIC) == len(t) == 66
    np.testing.assert_array_equal(t["cautious"].to_numpy(), _BASELINR_CAUTIOUS)
    np.testing.assert_array_equal(t["optimistic"].to_numpy(), _BASELINR_OPTIMISTIC)


def test_boundary_shape():
    t = attrition_boundary_table()
    assert list(t["overall_attrition"]) == list(range(66))
    # the optimistic boundary is always the more lenient one
    both = t.dropna()
    assert (both["optimistic"] > both["cautious"]).all()
    # both rise to a peak near 10% overall attrition, then fall to zero
    assert t["cautious"].idxmax() in range(7, 11) and t["optimistic"].idxmax() in range(8, 15)
    assert t["cautious"].iloc[10:58].is_monotonic_decreasing
    assert t["optimistic"].iloc[12:].is_monotonic_decreasing


def test_attrition_level_edges():
    # at the boundary value attrition is still low (<=); just above it is high
    assert attrition_level(10, 6.3) == "low"
    assert attrition_level(10, 6.31) == "high"
    assert attrition_level(10, 6.31, "optimistic") == "low"
    # beyond the last cautious row (57%) no differential keeps attrition low
    assert attrition_level(57, 0.0) == "low"
    assert attrition_level(58, 0.0) == "high"
    assert attrition_level(58, 0.0, "optimistic") == "low"
    assert attrition_level(66, 0.0, "optimistic") == "high"
    # fractional overall rates are read at the next whole percent (conservative)
    assert max_differential_attrition(29.2) == 4.1
    np.testing.assert_array_equal(attrition_level([5, 30], [6.1, 4.2]), ["low", "high"])
    with pytest.raises(ValueError, match="unknown attrition boundary"):
        attrition_level(10, 2, "liberal")
    with pytest.raises(ValueError, match="percentage"):
        max_differential_attrition(120)


# ------------------------------------------------------------------ baseline equivalence and ratings


def test_baseline_bands():
    np.testing.assert_array_equal(baseline_equivalence([0.0, -0.05, 0.0501, 0.25, -0.2501]),
                                  ["satisfied", "satisfied", "adjustment required", "adjustment required",
                                   "not satisfied"])
    with pytest.raises(ValueError, match="missing"):
        baseline_equivalence([0.1, np.nan])


def test_rct_low_attrition_meets_without_reservations():
    r = ek.wwc_rating("RCT", overall_attrition=12, differential_attrition=3)
    assert r.rating == MWOR and r.attrition == "low" and r.baseline is None
    assert any("Table II.1" in x for x in r.reasons)


def test_rct_high_attrition_needs_baseline_equivalence():
    with pytest.raises(ValueError, match="needs baseline_es"):
        ek.wwc_rating("RCT", overall_attrition=35, differential_attrition=5)
    r = ek.wwc_rating("RCT", overall_attrition=35, differential_attrition=5, baseline_es=[0.03, 0.12],
                      baseline_adjusted=[False, True])
    assert r.attrition == "high" and r.rating == MWR
    r = ek.wwc_rating("RCT", overall_attrition=35, differential_attrition=5, baseline_es=[0.03, 0.12],
                      baseline_adjusted=[True, False])
    assert r.rating == DNM
    r = ek.wwc_rating("RCT", overall_attrition=35, differential_attrition=5, baseline_es=0.3, baseline_adjusted=True)
    assert r.rating == DNM  # > 0.25 cannot be rescued by adjustment


def test_optimistic_boundary_can_change_the_rating():
    cautious = ek.wwc_rating("RCT", overall_attrition=35, differential_attrition=5, baseline_es=0.4)
    optimistic = ek.wwc_rating("RCT", overall_attrition=35, differential_attrition=5, boundary="optimistic")
    assert cautious.rating == DNM and optimistic.rating == MWOR


def test_qed_and_compromised_randomization():
    assert ek.wwc_rating("QED", baseline_es=[0.02, -0.04]).rating == MWR
    assert ek.wwc_rating("qed", baseline_es=[0.02, 0.2], baseline_adjusted=True).rating == MWR
    r = ek.wwc_rating("RCT", overall_attrition=5, differential_attrition=1, compromised_randomization=True,
                      baseline_es=[0.01])
    assert r.rating == MWR
    with pytest.raises(ValueError, match="QED needs baseline_es"):
        ek.wwc_rating("QED")


def test_missing_facts_are_named():
    with pytest.raises(ValueError, match="overall_attrition"):
        ek.wwc_rating("RCT", differential_attrition=2)
    with pytest.raises(ValueError, match="pretest"):
        ek.wwc_rating("QED", baseline_es=[0.02, 0.1], baseline_names=["gender", "pretest"])
    with pytest.raises(ValueError, match="unknown design"):
        ek.wwc_rating("RDD", baseline_es=0.0)


# ------------------------------------------------------------------ improvement index


def test_improvement_index_values():
    # 100 * Phi(g) - 50: g = 0 -> 0; g = 1 -> 34.13 (the 84th percentile); WWC's substantively
    # important 0.25 SD -> +9.87, displayed as +10
    np.testing.assert_allclose(ek.improvement_index([0.0, 1.0, 0.25]),
                               [0.0, 100 * stats.norm.cdf(1.0) - 50, 9.870632568292372], rtol=1e-12)
    assert round(ek.improvement_index(0.25)) == 10
    s = ek.improvement_index(pd.Series([0.1, -0.1], index=["a", "b"]))
    assert list(s.index) == ["a", "b"] and s["a"] == pytest.approx(-s["b"])


def test_improvement_index_wwc_handbook_v2_worked_example():
    """WWC Procedures and Standards Handbook, Version 2.0 (December 2008), Appendix F
    "Computation of the Improvement Index" (web archive copy read 2026-11-28:
    https://webarchive.library.unt.edu/eot2008/20090326152425/http:/ies.ed.gov/ncee/wwc/references/
    iDocViewer/Doc.aspx?docId=19&tocId=12): an effect size of 0.25 corresponds to a U3 of 60%
    and an improvement index of 10 percentile points (both as printed, whole percents)."""
    u3 = 100 * stats.norm.cdf(0.25)
    assert round(u3) == 60
    ii = ek.improvement_index(0.25)
    assert round(ii) == 10
    assert ii == pytest.approx(u3 - 50, rel=1e-12)  # improvement index = U3 - 50 (Appendix F)


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=-6, max_value=6, allow_nan=False))
def test_improvement_index_is_odd_and_bounded(g):
    ii = ek.improvement_index(g)
    assert -50 <= ii <= 50
    assert ii == pytest.approx(-ek.improvement_index(-g), abs=1e-12)


# ------------------------------------------------------------------ ESSA tiers


def _studies(**overrides):
    row = dict(study="A", design="RCT", rating=MWOR, effect="favorable", significant=True, n=400, sites=3)
    row.update(overrides)
    return pd.DataFrame([row])


def test_tier1_needs_every_fact():
    assert ek.essa_tier(_studies()).tier == 1
    # 350 students and 2 sites are inclusive minimums
    assert ek.essa_tier(_studies(n=350, sites=2)).tier == 1
    # one site, or too few students: not tier 1 or 2, but promising (tier 3)
    assert ek.essa_tier(_studies(sites=1)).tier == 3
    assert ek.essa_tier(_studies(n=349)).tier == 3
    # not significant: no tier from the study
    with pytest.raises(ValueError, match="rationale"):
        ek.essa_tier(_studies(significant=False))
    assert ek.essa_tier(_studies(significant=False), rationale=True).tier == 4
    assert ek.essa_tier(_studies(significant=False), rationale=False).tier is None


def test_tier2_for_with_reservations_or_qed():
    assert ek.essa_tier(_studies(rating=MWR)).tier == 2
    assert ek.essa_tier(_studies(design="QED", rating=MWR)).tier == 2
    # a study that does not meet standards supports nothing
    assert ek.essa_tier(_studies(rating=DNM), rationale=False).tier is None


def test_tier3_correlational_with_controls():
    assert ek.essa_tier(_studies(design="correlational", rating="controls for selection bias", n=80,
                                 sites=1)).tier == 3
    assert ek.essa_tier(_studies(design="correlational", rating="no controls"), rationale=True).tier == 4


def test_unfavorable_significant_evidence_overrides():
    df = pd.concat([_studies(), _studies(study="B", effect="unfavorable", rating=MWR)], ignore_index=True)
    t = ek.essa_tier(df, rationale=False)
    assert t.tier is None
    assert any("overridden" in r and "B" in r for r in t.reasons)
    # a non-significant unfavorable finding does not override
    df = pd.concat([_studies(), _studies(study="B", effect="unfavorable", significant=False)], ignore_index=True)
    assert ek.essa_tier(df).tier == 1


def test_missing_columns_and_values_are_named():
    with pytest.raises(ValueError, match="sites"):
        ek.essa_tier(_studies().drop(columns="sites"))
    with pytest.raises(ValueError, match="'n' is missing for studies \\['A'\\]"):
        ek.essa_tier(_studies(n=np.nan))
    with pytest.raises(ValueError, match="unknown rating"):
        ek.essa_tier(_studies(rating="Meets"))
    with pytest.raises(ValueError, match="True/False"):
        ek.essa_tier(_studies(significant="yes"))


def test_essa_from_wwc_rating_pipeline():
    r = ek.wwc_rating("RCT", overall_attrition=8, differential_attrition=2)
    df = _studies(rating=r.rating)
    t = ek.essa_tier(df)
    assert t.tier == 1 and t.label == "Tier 1 (strong evidence)"


def test_population_overlap_when_given():
    # the guidance's table of tiers: Tiers 1-2 need a sample overlapping the population/setting proposed
    assert ek.essa_tier(_studies(overlaps_population=True)).tier == 1
    assert ek.essa_tier(_studies(overlaps_population=False)).tier == 3
    assert any("overlap not checked" in r for r in ek.essa_tier(_studies()).reasons)
    with pytest.raises(ValueError, match="overlaps_population"):
        ek.essa_tier(_studies(overlaps_population="yes"))


def test_only_causal_studies_override():
    # "no overriding negative effects from causal studies": a significant unfavorable correlational
    # finding does not remove a tier, one from a study meeting WWC standards does
    corr_neg = _studies(study="C", design="correlational", rating="controls for selection bias", effect="unfavorable")
    assert ek.essa_tier(pd.concat([_studies(n=100), corr_neg], ignore_index=True)).tier == 3
    causal_neg = _studies(study="Q", design="QED", rating=MWR, effect="unfavorable", n=60, sites=1)
    t = ek.essa_tier(pd.concat([_studies(n=100), causal_neg], ignore_index=True), rationale=True)
    assert t.tier == 4 and any("overridden" in r for r in t.reasons)


def test_attrition_rates_from_sample_sizes():
    from evidence_kit.certainty import attrition_rates

    # 100 randomized per group; 90 and 80 analyzed: 10% and 20% attrition, overall 15%, differential 10
    r = attrition_rates(100, 90, 100, 80).iloc[0]
    assert r["attrition_1"] == pytest.approx(10.0) and r["attrition_2"] == pytest.approx(20.0)
    assert r["overall_attrition"] == pytest.approx(15.0) and r["differential_attrition"] == pytest.approx(10.0)
    assert attrition_level(r["overall_attrition"], r["differential_attrition"]) == "high"
    # unequal groups: overall is pooled over both groups, not the mean of the two rates
    r = attrition_rates(300, 270, 100, 95).iloc[0]
    assert r["overall_attrition"] == pytest.approx(100 * 35 / 400)
    with pytest.raises(ValueError, match="group 2"):
        attrition_rates(100, 90, 100, 120)
