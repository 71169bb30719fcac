"""WWC worked examples: the WWC's own computations reproduced, and what could not be checked.

No page of a WWC handbook that prints a worked example could be read with the search tools
(2026-11-28; the stored copies of the v2.0-v5.0 handbooks, the attrition white paper and the
cluster-design standards expose only their first page). The examples below are therefore the
WWC's own computed values for published study reviews, from the WWC study-review data (one row
per finding) as redistributed with a WWC-commissioned paper in the public GitHub repository
betsyjwolf/evidence-maps:

* ``paper_data.csv`` at commit 7e6fb711d84b2c2cf5059e47ae92be1ebc148366: group sizes
  (f_t_ss, f_c_ss), clusters (f_t_cluster_ss, f_c_cluster_ss), means and SDs (f_t_mean,
  f_c_mean, f_t_sd, f_c_sd), the WWC-computed effect size f_effect_size_wwc, the WWC p-value
  f_p_value_wwc and the ICC the WWC used, f_icc;
* ``wp_meta_v2.csv`` at commit b3805becf907b37cdb6ff05ef84da5c959209a7c: the same findings with
  the WWC's improvement index (f_improvement_index), finding rating (f_finding_rating), ESSA
  label (f_essa_rating), statistical significance (f_is_stat_sig) and s_multisite.

Each example names its finding by ``f_findingid`` (the locator in those files). Numbers are
copied as stored (float32, hence e.g. .30000001); tolerances allow for that storage only.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import evidence_kit as ek
from evidence_kit.certainty.wwc import (
    _CAUTIOUS,
    _OPTIMISTIC,
    RATINGS,
    UnsupportedDesignError,
    attrition_boundary_sources,
)

MWOR, MWR, DNM = RATINGS

# ------------------------------------------------------------------ Hedges' g with omega

# f_findingid: (f_t_mean, f_c_mean, f_t_sd, f_c_sd, f_t_ss, f_c_ss, f_effect_size_wwc), paper_data.csv
WWC_G = {
    3064: (.30000001, .38, .20999999, .23999999, 112, 112, -.35356817),  # Jemmott et al. 2010
    3063: (.33000001, .47, .22, .25, 95, 98, -.59160674),  # Jemmott et al. 2010
    3067: (.75999999, .77999997, .18000001, .17, 33, 41, -.11340526),  # Jemmott et al. 2010
    3065: (.13, .16, .12, .14, 112, 112, -.22931129),  # Jemmott et al. 2010
    3670: (215.41, 214.89, 16.120001, 15.23, 2336, 2192, .033125106),  # Garet et al. 2010
    3671: (218.73, 218.25999, 15.74, 15.06, 2336, 2192, .030485593),  # Garet et al. 2010
    3669: (217.09, 216.57001, 15.07, 14.27, 2336, 2192, .035396777),  # Garet et al. 2010
    2422: (299.60999, 296.76999, 44.299999, 41.610001, 644, 415, .065593377),  # Montague et al.
    2434: (1.4299999, .33000001, 1.72, 1.0599999, 30, 30, .75996578),  # McNeil et al. 2011
    2435: (1.47, .87, 1.41, 1.22, 30, 30, .4491775),  # McNeil et al. 2011
    2437: (2.3299999, 1.3, 1.73, 1.53, 30, 30, .62252492),  # McNeil et al. 2011
    4321: (-.36000001, -.34999999, .88999999, .94999999, 1444, 911, -.01094136),  # Glazerman et al. 2013
    1065: (52.200001, 49.16, 21.059999, 21.059999, 15, 15, .14044814),  # Jewell 1994 (N = 30)
    616: (53.299999, 46.200001, 9, 7.4000001, 34, 35, .85331118),  # Foster et al. 1994
    1173: (149, 134.7, 29.5, 27.799999, 29, 28, .49180853),  # Stockard 2010
    1716: (41.900002, 33.200001, 15.8, 18.799999, 20, 18, .49286178),  # Scientific Learning 2005
}


@pytest.mark.parametrize("finding", sorted(WWC_G))
def test_hedges_g_reproduces_the_wwc_effect_size(finding):
    m1, m2, s1, s2, n1, n2, wwc = WWC_G[finding]
    # abs 2e-6: the stored float32 means (e.g. 218.25999 for 218.26) move g by < 1e-6
    assert float(ek.wwc_hedges_g(m1, m2, s1, s2, n1, n2)) == pytest.approx(wwc, abs=2e-6)


@pytest.mark.parametrize("finding", [f for f in sorted(WWC_G) if sum(WWC_G[f][4:6]) <= 100])
def test_the_wwc_effect_size_includes_omega(finding):
    """In small samples the WWC value equals omega times the uncorrected g, not the uncorrected g."""
    m1, m2, s1, s2, n1, n2, wwc = WWC_G[finding]
    s = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    d = (m1 - m2) / s
    omega = 1 - 3 / (4 * (n1 + n2) - 9)
    assert wwc == pytest.approx(omega * d, abs=2e-6)
    assert abs(wwc - d) > 100 * 2e-6


def test_wwc_reverses_the_sign_when_lower_is_better():
    # finding 3037 (Hurley et al. 2009, "math estimation": lower scores are better): the WWC
    # stores +.86460465 while the intervention mean is the lower one
    g = float(ek.wwc_hedges_g(6.7199998, 10.19, 3.79, 4.0799999, 21, 21))
    assert g == pytest.approx(-.86460465, abs=2e-6)


# ------------------------------------------------------------------ clustering correction of the test

# f_findingid: (f_effect_size_wwc, f_t_ss, f_c_ss, f_cluster_ss, f_icc, f_p_value_study, f_p_value_wwc),
# paper_data.csv; Zoblotsky et al. 2016 (The LASER Model, middle schools), student-level analyses of a
# school-randomized trial
WWC_CLUSTER = {
    6033: (-.23137599, 148, 143, 9, .2, .0060000001, .47523054),  # Stanford science, Houston
    6034: (-.1097342, 522, 887, 14, .2, .024, .6685065),  # North Carolina end-of-grade science
    6032: (-.28550106, 131, 112, 9, .2, .0049999999, .38511789),  # HISD STAAR science
}


@pytest.mark.parametrize("finding", sorted(WWC_CLUSTER))
def test_cluster_t_reproduces_the_wwc_corrected_p_value(finding):
    g, n1, n2, m, icc, p_study, p_wwc = WWC_CLUSTER[finding]
    big_n = n1 + n2
    t = g * math.sqrt(n1 * n2 / big_n)  # the t that ignores clustering, from the WWC effect size
    res = ek.wwc_cluster_t(t, big_n, m, icc=icc)
    assert float(res.pvalue) == pytest.approx(p_wwc, rel=1e-5)
    assert float(res.df) < big_n - 2 and abs(float(res.t)) < abs(t)
    # significant as the study analysed it, not once corrected for clustering (the WWC's point)
    assert p_study < 0.05 < float(res.pvalue)


def test_cluster_t_default_icc_is_the_one_the_wwc_used_here():
    g, n1, n2, m, icc, _, p_wwc = WWC_CLUSTER[6033]
    t = g * math.sqrt(n1 * n2 / (n1 + n2))
    assert float(ek.wwc_cluster_t(t, n1 + n2, m).pvalue) == pytest.approx(p_wwc, rel=1e-5)  # achievement: 0.20


# ------------------------------------------------------------------ improvement index

# f_findingid: (f_effect_size_wwc, f_improvement_index), wp_meta_v2.csv
WWC_IMPROVEMENT = {
    5975: (.11990052, 5), 5974: (.01998342, 1), 5952: (.33520183, 13), 5951: (.15021847, 6),
    5963: (.68793392, 25), 5946: (.090616807, 4), 5207: (-.02372488, -1), 5199: (.084315024, 3),
    5216: (-.050373934, -2), 5789: (.090611294, 4), 5788: (.091361657, 4), 5190: (.010365792, 0),
    6029: (-.03875177, -2), 6033: (-.23137599, -9),
}


def test_improvement_index_reproduces_the_wwc_values():
    es = np.array([v[0] for v in WWC_IMPROVEMENT.values()])
    published = np.array([v[1] for v in WWC_IMPROVEMENT.values()])
    got = ek.improvement_index(es)
    np.testing.assert_array_equal(np.rint(got), published)
    # none sits within 0.01 of a rounding edge (the closest: finding 6029, -1.546), so float32
    # storage of the effect sizes cannot flip a rounded value
    assert np.all(np.abs(got - np.floor(got) - 0.5) > 0.01)


# ------------------------------------------------------------------ ESSA labels the WWC gives findings

# wp_meta_v2.csv: f_findingid -> (design, f_finding_rating, f_is_stat_sig, f_ss, s_multisite, f_essa_rating)
WWC_ESSA = {
    5975: ("RCT", MWOR, True, 907, True, 1),  # Borman et al. 2016 (BARR)
    5952: ("RCT", MWOR, True, 483, False, 1),  # Corsello & Sharma 2015 (BARR)
    5951: ("RCT", MWOR, True, 495, False, 1),  # Corsello & Sharma 2015 (BARR)
    5963: ("RCT", MWR, True, 54, False, 2),  # Weber 2003 (Reasoning Mind)
    5946: ("RCT", MWR, True, 448, True, 2),  # Connor et al. 2011 (ISI)
}


def _essa_row(finding):
    design, rating, sig, n, multisite, _ = WWC_ESSA[finding]
    return pd.DataFrame([dict(study=str(finding), design=design, rating=rating, effect="favorable",
                              significant=sig, n=n, sites=2 if multisite else 1)])


@pytest.mark.parametrize("finding", sorted(WWC_ESSA))
def test_essa_labels_of_the_wwc_without_the_sample_rule(finding):
    """The WWC's finding-level ESSA labels do not apply the large multi-site sample rule."""
    assert ek.essa_tier(_essa_row(finding), min_sample=0, min_sites=1).tier == WWC_ESSA[finding][5]


def test_essa_sample_rule_is_where_we_differ_from_the_wwc_labels():
    # with the guidance's 350 students / 2 sites (the default) the small or single-site findings
    # fall to Tier 3; the large multi-site ones keep the WWC's label
    got = {f: ek.essa_tier(_essa_row(f)).tier for f in WWC_ESSA}
    assert got == {5975: 1, 5952: 3, 5951: 3, 5963: 3, 5946: 2}


# ------------------------------------------------------------------ the attrition boundary's two transcriptions

# Transcription (b): GitHub HaiwenChu/RWWC-v.4-Group-Designs, file "R/Group Designs", commit
# db77d7cbce86e26fd90088ffbbf44289be3ffd57, citing "WWC Standards Handbook v4.0, Table II.1 (p.12)",
# overall 0..57, read 2026-11-28 (copied as printed there).
RWWC_CAUTIOUS = [5.7, 5.8, 5.9, 5.9, 6, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6, 5.9, 5.9, 5.8, 5.7, 5.5,
                 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3, 4.1, 4, 3.8, 3.6, 3.5, 3.3, 3.2, 3.1, 2.9, 2.8,
                 2.6, 2.5, 2.3, 2.1, 2, 1.8, 1.6, 1.5, 1.3, 1.2, 1, .9, .7, .6, .4, .3, .2, 0]
RWWC_OPTIMISTIC = [10, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9, 10.9, 10.9, 10.8, 10.8,
                   10.7, 10.6, 10.5, 10.3, 10.2, 10, 9.9, 9.7, 9.5, 9.4, 9.2, 9, 8.8, 8.6, 8.4, 8.2, 8, 7.8, 7.6,
                   7.4, 7.2, 7, 6.7, 6.5, 6.3, 6, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9, 3.7, 3.5, 3.2, 3,
                   2.8, 2.6, 2.3]


def test_both_transcriptions_agree_on_the_cautious_boundary():
    assert len(RWWC_CAUTIOUS) == len(_CAUTIOUS) == 58
    np.testing.assert_array_equal(_CAUTIOUS, RWWC_CAUTIOUS)


def test_optimistic_transcriptions_differ_from_13_percent_on():
    t = attrition_boundary_sources()
    np.testing.assert_array_equal(t["optimistic_alt"].to_numpy()[:58], RWWC_OPTIMISTIC)
    assert not t["disputed"].iloc[:13].any()  # 0..12 agree
    assert t.loc[t["disputed"], "overall_attrition"].tolist() == [13] + list(range(15, 58))
    # (b) is (a) shifted by one row from 14 on, i.e. one more 10.9 at 13
    np.testing.assert_array_equal(RWWC_OPTIMISTIC[14:], _OPTIMISTIC[13:57])
    assert (t["optimistic_alt"] >= t["optimistic"]).where(t["disputed"], True).all()


def test_the_third_note_sides_with_the_table_used():
    # research note in the GitHub code index (file id 61634853091; figures from a search summary of
    # the v4.1 PDF): 13% -> cautious 6.1, optimistic 10.8; 65% -> no cautious limit, optimistic 0.3
    t = attrition_boundary_sources().set_index("overall_attrition")
    assert (t.loc[13, "cautious"], t.loc[13, "optimistic"]) == (6.1, 10.8)
    assert math.isnan(t.loc[65, "cautious"]) and t.loc[65, "optimistic"] == 0.3


def test_rating_says_when_it_rests_on_a_disputed_cell():
    # overall 30%: optimistic limit 8.2 in (a), 8.4 in (b); a differential of 8.3 is high in (a), low in (b)
    r = ek.wwc_rating("RCT", overall_attrition=30, differential_attrition=8.3, boundary="optimistic", baseline_es=0.0)
    assert r.attrition == "high" and r.rating == MWR
    assert any("disputed boundary cell" in x and "8.2%" in x and "8.4%" in x for x in r.reasons)
    for kwargs in (dict(differential_attrition=8.1, boundary="optimistic"),  # low in both
                   dict(differential_attrition=8.5, boundary="optimistic"),  # high in both
                   dict(differential_attrition=8.3, boundary="cautious")):  # cautious cells agree
        r = ek.wwc_rating("RCT", overall_attrition=30, baseline_es=0.0, **kwargs)
        assert not any("disputed" in x for x in r.reasons)


# ------------------------------------------------------------------ cluster-level assignment (not supported)


def test_cluster_assignment_raises_a_clear_error():
    with pytest.raises(UnsupportedDesignError, match="cluster-level assignment is not supported") as err:
        ek.wwc_rating("RCT", overall_attrition=10, differential_attrition=2, assignment="cluster",
                      cluster_overall_attrition=0.0, cluster_differential_attrition=0.0, joiners=False)
    assert isinstance(err.value, ValueError)  # callers that catch ValueError ("not rated") keep working
    assert "Section II.B" in str(err.value) and "joiners=False" in str(err.value)
    with pytest.raises(UnsupportedDesignError):
        ek.wwc_rating("QED", baseline_es=0.0, assignment="Cluster")


def test_cluster_facts_are_refused_for_individual_assignment():
    with pytest.raises(ValueError, match="cluster_overall_attrition apply to assignment='cluster' only"):
        ek.wwc_rating("RCT", overall_attrition=10, differential_attrition=2, cluster_overall_attrition=5.0)
    with pytest.raises(ValueError, match="joiners"):
        ek.wwc_rating("RCT", overall_attrition=10, differential_attrition=2, joiners=True)
    with pytest.raises(ValueError, match="unknown assignment"):
        ek.wwc_rating("RCT", overall_attrition=10, differential_attrition=2, assignment="school")


def test_individual_assignment_is_the_default_and_unchanged():
    a = ek.wwc_rating("RCT", overall_attrition=12, differential_attrition=3)
    b = ek.wwc_rating("RCT", overall_attrition=12, differential_attrition=3, assignment="individual")
    assert a.rating == b.rating == MWOR and a.reasons == b.reasons
