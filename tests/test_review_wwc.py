"""review.wwc_ratings / essa_tiers: WWC ratings and ESSA tiers computed from evidence/wwc/ facts.

The facts go through the real loader (the tree of test_evidence_certainty), so the types are those
a notebook gets. Expected ratings follow from the rules of ek.wwc_rating, which test_wwc*.py tests
against the handbook; here the point is that the right facts reach it and nothing is guessed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_evidence_certainty import BASELINE, FINDING, tree

import evidence_kit as ek
from evidence_kit import review as rv
from evidence_kit.review.wwc import _rating_key

IND = dict(FINDING, assignment="individual", unit="students", clusters_t_assigned="", clusters_t_analyzed="",
           clusters_c_assigned="", clusters_c_analyzed="", joiners="")


def _base(tmp_path, findings, baseline=None):
    return ek.load_evidence(tree(tmp_path, findings=findings, baseline=baseline or [dict(BASELINE)]))


def test_low_attrition_rct_meets_without_reservations_and_agrees_with_the_wwc(tmp_path):
    f = dict(IND, t_assigned="100", t_analyzed="95", c_assigned="100", c_analyzed="93", n="188", sites="4",
             wwc_rating_published="Meets WWC Group Design Standards Without Reservations",
             wwc_source="https://ies.ed.gov/ncee/wwc/Study/1 (study page)")
    (r,) = rv.wwc_ratings(_base(tmp_path, [f]), "P1").to_dict("records")
    assert r["overall_attrition"] == pytest.approx(6.0) and r["differential_attrition"] == pytest.approx(2.0)
    assert r["attrition"] == "low" and r["rating"] == "Meets WWC Standards Without Reservations"
    assert r["agrees"] is True


def test_high_attrition_rct_needs_baseline_equivalence(tmp_path):
    f = dict(IND, t_assigned="100", t_analyzed="60", c_assigned="100", c_analyzed="80")
    near = dict(BASELINE, t_n="60", c_n="80", t_mean="50.2", c_mean="50.0", t_sd="10", c_sd="10")
    base = _base(tmp_path, [f], [near])
    (r,) = rv.wwc_ratings(base).to_dict("records")
    assert (r["overall_attrition"], r["differential_attrition"]) == (pytest.approx(30.0), pytest.approx(20.0))
    g = ek.wwc_hedges_g(50.2, 50.0, 10, 10, 60, 80)
    assert r["max_baseline_es"] == pytest.approx(abs(g)) and abs(g) <= 0.05
    assert r["attrition"] == "high" and r["rating"] == "Meets WWC Standards With Reservations"
    assert pd.isna(r["agrees"])
    far = dict(near, t_mean="53.5")  # g about 0.33 > 0.25
    (r,) = rv.wwc_ratings(_base(tmp_path / "far", [f], [far])).to_dict("records")
    assert r["rating"] == "Does Not Meet WWC Standards" and "> 0.25" in r["reasons"]


def test_binary_baseline_uses_the_cox_index(tmp_path):
    f = dict(IND, design="QED", t_assigned="", t_analyzed="", c_assigned="", c_analyzed="")
    lunch = dict(BASELINE, characteristic="free lunch", kind="binary", t_mean="", t_sd="", c_mean="", c_sd="",
                 t_prop="0.60", c_prop="0.50", adjusted="true")
    b = rv.wwc_baseline(_base(tmp_path, [f], [lunch]))
    assert b["effect_size"].iloc[0] == pytest.approx(float(ek.cox_index(0.6, 0.5, 900, 880)))
    assert b["category"].iloc[0] == "adjustment required"
    (r,) = rv.wwc_ratings(_base(tmp_path / "q", [f], [lunch])).to_dict("records")
    assert r["rating"] == "Meets WWC Standards With Reservations" and math.isnan(r["overall_attrition"])


def test_missing_facts_are_named_not_guessed(tmp_path):
    f = dict(IND, t_assigned="", t_analyzed="", c_assigned="", c_analyzed="")
    (r,) = rv.wwc_ratings(_base(tmp_path, [f])).to_dict("records")
    assert r["rating"] == "not rated"
    assert "overall_attrition" in r["reasons"] and "differential_attrition" in r["reasons"]
    tiers = rv.essa_tiers(rv.wwc_ratings(_base(tmp_path / "t", [f])))
    assert tiers.loc["School eyeglasses", "label"] == "No ESSA tier"
    assert "1 finding(s) with no rating (facts missing, no WWC rating), left out" in tiers.loc["School eyeglasses", "reasons"]


def test_essa_tier_of_an_intervention(tmp_path):
    big = dict(IND, t_assigned="300", t_analyzed="290", c_assigned="300", c_analyzed="288", n="578", sites="12")
    small = dict(big, id="jones2019vision-2", n="200", sites="1")
    null = dict(big, id="jones2019vision-3", effect="null", significant="false", p_value="0.4")
    ratings = rv.wwc_ratings(_base(tmp_path, [big]))
    assert rv.essa_tiers(ratings).loc["School eyeglasses", "tier"] == 1
    ratings = rv.wwc_ratings(_base(tmp_path / "s", [small], [dict(BASELINE, finding_id=small["id"])]))
    t = rv.essa_tiers(ratings).loc["School eyeglasses"]
    assert t["tier"] == 3 and t["findings"] == "1 / 1"
    ratings = rv.wwc_ratings(_base(tmp_path / "n", [null], [dict(BASELINE, finding_id=null["id"])]))
    t = rv.essa_tiers(ratings).loc["School eyeglasses"]
    assert pd.isna(t["tier"]) and "Tier 4 (a rationale) is not assessed" in t["reasons"]


def test_principle_filter(tmp_path):
    base = _base(tmp_path, [dict(IND, t_assigned="100", t_analyzed="95", c_assigned="100", c_analyzed="93")])
    assert len(rv.wwc_ratings(base, "P1")) == 1 and len(rv.wwc_ratings(base, "P3")) == 0
    assert rv.essa_tiers(rv.wwc_ratings(base, "P3")).empty


def test_rating_key_reads_every_wwc_wording():
    assert _rating_key("Meets WWC Group Design Standards Without Reservations") == "without"
    assert _rating_key("Meets WWC Standards With Reservations") == "with"
    assert _rating_key("Does Not Meet WWC Group Design Standards") == "does not meet"
    assert _rating_key("") == ""


def test_real_evidence_ratings_run(tmp_path):
    from test_review import ROOT

    eb = ek.load_evidence(ROOT / "evidence")
    ratings = rv.wwc_ratings(eb)
    assert len(ratings) == len(eb.wwc_findings)
    assert set(ratings["rating"]) <= {"not rated", "Meets WWC Standards Without Reservations",
                                      "Meets WWC Standards With Reservations", "Does Not Meet WWC Standards"}
    assert np.all(ratings["reasons"].str.len() > 0)


def test_unreported_sample_supports_tier_3_only(tmp_path):
    f = dict(IND, t_assigned="300", t_analyzed="290", c_assigned="300", c_analyzed="288", n="", sites="")
    t = rv.essa_tiers(rv.wwc_ratings(_base(tmp_path, [f]))).loc["School eyeglasses"]
    assert t["tier"] == 3
    assert "students or sites not reported for jones2019vision-1" in t["reasons"]


def test_improvement_index_of_the_reported_effect(tmp_path):
    f = dict(IND, t_assigned="100", t_analyzed="95", c_assigned="100", c_analyzed="93", effect_size="0.25")
    (r,) = rv.wwc_ratings(_base(tmp_path, [f])).to_dict("records")
    assert r["improvement_index"] == pytest.approx(float(ek.improvement_index(0.25)))
    f = dict(f, effect_size="")
    (r,) = rv.wwc_ratings(_base(tmp_path / "e", [f])).to_dict("records")
    assert math.isnan(r["improvement_index"])


def test_display_columns_and_reasons(tmp_path, capsys):
    f = dict(IND, t_assigned="100", t_analyzed="95", c_assigned="100", c_analyzed="93")
    ratings = rv.wwc_ratings(_base(tmp_path, [f]))
    assert set(rv.WWC_DISPLAY) <= set(ratings.columns)
    rv.print_reasons(ratings, width=60)
    out = capsys.readouterr().out
    assert out.startswith("jones2019vision-1: attrition low") and max(map(len, out.splitlines())) <= 60


def test_essa_uses_the_wwc_rating_where_ours_cannot_be_computed(tmp_path):
    # a cluster design (rules not implemented) the WWC rated: its published rating carries the tier
    f = dict(FINDING, n="2670", sites="36", wwc_rating_published="Meets WWC standards without reservations",
             wwc_source="https://ies.ed.gov/ncee/wwc/Study/1 (study page)")
    ratings = rv.wwc_ratings(_base(tmp_path, [f]))
    assert ratings["rating"].iloc[0] == "not rated"
    t = rv.essa_tiers(ratings).loc["School eyeglasses"]
    assert t["tier"] == 1 and t["rating_source"] == "WWC" and t["findings"] == "1 / 1"
    assert "the WWC's published rating used where ours could not be computed: jones2019vision-1" in t["reasons"]
    # the WWC's "Does Not Meet" keeps it out
    f = dict(f, wwc_rating_published="Does Not Meet WWC Group Design Standards")
    t = rv.essa_tiers(rv.wwc_ratings(_base(tmp_path / "d", [f]))).loc["School eyeglasses"]
    assert pd.isna(t["tier"])


def test_computed_rating_takes_precedence_over_the_published_one(tmp_path):
    ok = dict(IND, t_assigned="300", t_analyzed="290", c_assigned="300", c_analyzed="288", n="578", sites="12",
              wwc_rating_published="Does Not Meet WWC Group Design Standards",
              wwc_source="https://ies.ed.gov/ncee/wwc/Study/1 (study page)")
    ratings = rv.wwc_ratings(_base(tmp_path, [ok]))
    assert ratings["agrees"].iloc[0] is False or ratings["agrees"].iloc[0] == False  # noqa: E712
    t = rv.essa_tiers(ratings).loc["School eyeglasses"]
    assert t["tier"] == 1 and t["rating_source"] == "computed"


def test_n_and_sites_are_summed_from_the_arms_when_not_printed(tmp_path):
    f = dict(FINDING, n="", sites="", unit="schools")
    (r,) = rv.wwc_ratings(_base(tmp_path, [f])).to_dict("records")
    assert (r["n"], r["sites"]) == (1780.0, 39.0)
    assert r["derived"] == "n = t_analyzed + c_analyzed; sites = schools analysed in both arms"
    f = dict(f, unit="classrooms")
    (r,) = rv.wwc_ratings(_base(tmp_path / "c", [f])).to_dict("records")
    assert r["n"] == 1780.0 and math.isnan(r["sites"]) and r["derived"] == "n = t_analyzed + c_analyzed"
    f = dict(f, n="1500")
    (r,) = rv.wwc_ratings(_base(tmp_path / "n", [f])).to_dict("records")
    assert r["n"] == 1500.0 and r["derived"] == ""


def test_care_for_teachers_tier_matches_the_wwcs_own_reading():
    """The WWC's review of Brown et al. 2023 (CARE for Teachers; ies.ed.gov/ncee/WWC/Study/91063,
    recorded in evidence/wwc/findings.csv with its locator) rates the study Meets Without
    Reservations and says at least one finding "shows strong evidence of effectiveness", the
    WWC's wording for ESSA Tier 1. From the recorded facts (the WWC rating, a significant
    favourable engagement finding, 2,670 students, 36 schools) essa_tiers gives Tier 1 too."""
    from test_review import ROOT

    eb = ek.load_evidence(ROOT / "evidence")
    ratings = rv.wwc_ratings(eb, "P4")
    care = rv.essa_tiers(ratings).loc["Cultivating Awareness and Resilience in Education (CARE for Teachers)"]
    assert care["tier"] == 1 and care["rating_source"] == "WWC"
    assert "brown2023direct" in care["reasons"]


def test_an_old_wwc_rating_supports_tier_3_only(tmp_path):
    f = dict(FINDING, n="2660", sites="20", wwc_rating_published="Meets WWC standards without reservations",
             wwc_standards_version="1", wwc_source="https://ies.ed.gov/ncee/wwc/Study/65132 (study page)")
    t = rv.essa_tiers(rv.wwc_ratings(_base(tmp_path, [f]))).loc["School eyeglasses"]
    assert t["tier"] == 3 and "before version 2.1" in t["reasons"]
    f = dict(f, wwc_standards_version="4.1")
    assert rv.essa_tiers(rv.wwc_ratings(_base(tmp_path / "v", [f]))).loc["School eyeglasses", "tier"] == 1
