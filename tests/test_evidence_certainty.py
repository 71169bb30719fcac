"""ek.load_evidence reads wwc/findings.csv, wwc/baseline.csv and appraisals/*.csv: a valid tree
has no problems, and each mutation of one cell gives exactly its problem (file, row, column).

Builds on the small valid tree of test_evidence.make_tree (one synthesis row smith2020sleep-1).
"""

from __future__ import annotations

import pytest
from test_evidence import BIB, RECORD, _where, _write_csv, make_tree

import evidence_kit as ek

FINDING = {
    "id": "jones2019vision-1", "intervention": "School eyeglasses", "principle": "P1", "question": "Q1.1",
    "citation_key": "jones2019vision", "outcome": "reading score", "outcome_domain": "academic_achievement",
    "design": "RCT", "assignment": "cluster", "unit": "schools",
    "clusters_t_assigned": "20", "clusters_t_analyzed": "20", "clusters_c_assigned": "20",
    "clusters_c_analyzed": "19", "t_assigned": "1000", "t_analyzed": "900", "c_assigned": "1000",
    "c_analyzed": "880", "joiners": "false", "compromised_randomization": "false", "effect_size": "0.1",
    "effect": "favorable", "significant": "true", "p_value": "0.01", "n": "1780", "sites": "39",
    "wwc_rating_published": "", "wwc_standards_version": "", "wwc_source": "",
    "source_url": "https://doi.org/10.1000/vision.1", "locator": "Figure 1; Table 3", "notes": "",
    "extracted_by": "helper-a 2026-11-28", "checked": "",
}
BASELINE = {
    "finding_id": "jones2019vision-1", "characteristic": "pretest reading", "kind": "continuous",
    "t_n": "900", "c_n": "880", "t_mean": "50.1", "t_sd": "10", "c_mean": "49.8", "c_sd": "10.2",
    "t_prop": "", "c_prop": "", "adjusted": "true", "locator": "Table 1", "notes": "",
    "extracted_by": "helper-a 2026-11-28", "checked": "",
}
APPRAISAL = {
    "synthesis_id": "smith2020sleep-1", "scope": "outcome", "rob_tool": "RoB 2", "studies_assessed": "10",
    "studies_high": "2", "studies_some": "3", "studies_low": "5", "review_grade": "low",
    "small_study_test": "Egger", "small_study_p": "0.2", "source_url": "https://doi.org/10.1000/sleep.1",
    "locator": "Table 4", "notes": "", "extracted_by": "helper-a 2026-11-28", "checked": "",
}
VISION_BIB = """@article{jones2019vision,
  author  = {Jones, B.},
  title   = {Eyeglasses and reading},
  journal = {Journal of Tests},
  year    = {2019},
  doi     = {10.1000/vision.1}
}
"""
VISION_RECORD = dict(RECORD, record_id="wwc-0001", title="Eyeglasses and reading", doi="10.1000/vision.1",
                     citation_key="jones2019vision")
F, B, A = "wwc/findings.csv", "wwc/baseline.csv", "appraisals/sleep.csv"


def tree(tmp_path, findings=None, baseline=None, appraisals=None, ledger=True):
    root = make_tree(tmp_path)
    (root / "references" / "sleep.bib").write_text(BIB + "\n" + VISION_BIB, encoding="utf-8")
    if ledger:
        _write_csv(root / "screening" / "wwc.csv", [VISION_RECORD])
    _write_csv(root / F, findings or [dict(FINDING)])
    _write_csv(root / B, baseline or [dict(BASELINE)])
    _write_csv(root / A, appraisals or [dict(APPRAISAL)])
    return root


def test_valid_tree_reads_every_table(tmp_path):
    base = ek.load_evidence(tree(tmp_path))
    assert base.ok
    f = base.wwc_findings.iloc[0]
    assert (f["file"], f["row"], f["clusters_c_analyzed"], f["significant"], f["joiners"]) == (F, 2, 19.0, True, False)
    b = base.wwc_baseline.iloc[0]
    assert (b["t_mean"], b["adjusted"]) == (50.1, True)
    a = base.appraisals.iloc[0]
    assert (a["studies_high"], a["small_study_p"], a["citation_key"]) == (2.0, 0.2, "smith2020sleep")
    assert "1 WWC findings (1 not yet checked), 1 review appraisals (1 not yet checked)" in base.summary()


def test_absent_tables_are_empty_frames(tmp_path):
    base = ek.load_evidence(make_tree(tmp_path))
    assert base.ok and base.wwc_findings.empty and base.wwc_baseline.empty and base.appraisals.empty
    assert "id" in base.wwc_findings and "synthesis_id" in base.appraisals
    assert "WWC findings" not in base.summary()


FINDING_MUTATIONS = [
    ({"design": "RDD"}, "design", "unknown design 'RDD'; expected one of RCT, QED"),
    ({"assignment": "school"}, "assignment", "unknown assignment 'school'; expected one of individual, cluster"),
    ({"effect": "positive"}, "effect", "unknown effect 'positive'; expected one of favorable, unfavorable, null"),
    ({"significant": "yes"}, "significant", "write true or false; got 'yes'"),
    ({"significant": ""}, "significant", "required value is empty"),
    ({"joiners": "unknown"}, "joiners", "write true or false"),
    ({"joiners": ""}, None, None),
    ({"t_analyzed": "1001"}, "t_analyzed", "t_analyzed 1001 is more than t_assigned 1000"),
    ({"clusters_c_analyzed": "21"}, "clusters_c_analyzed", "clusters_c_analyzed 21 is more than clusters_c_assigned 20"),
    ({"t_assigned": "0", "t_analyzed": "0"}, "t_assigned", "t_assigned must be an integer >= 1; got 0"),
    ({"sites": "2.5"}, "sites", "sites must be an integer >= 1; got 2.5"),
    ({"n": "", "sites": ""}, None, None),  # not reported: ESSA then names it
    ({"p_value": "1.5"}, "p_value", "a p-value lies in [0, 1]"),
    ({"p_value": "<0.05"}, "p_value", "not a number: '<0.05'"),
    ({"effect": "null"}, "effect", "effect is null but significant is true"),
    ({"significant": "false"}, "effect", "effect is favorable but significant is false"),
    ({"wwc_rating_published": "Meets WWC Standards Without Reservations"}, "wwc_source",
     "required when wwc_rating_published is given"),
    ({"question": "Q1.1;Q3.1"}, "question", "question Q3.1 belongs to P3, not to P1"),
    ({"source_url": "https://doi.org/10.1000/vision.2"}, "source_url", "differs from the DOI of jones2019vision"),
    ({"checked": "helper-a 2026-11-29"}, "checked", "independent read"),
    ({"outcome_domain": "reading"}, "outcome_domain", "unknown outcome_domain 'reading'"),
]


@pytest.mark.parametrize(("change", "column", "message"), FINDING_MUTATIONS)
def test_finding_mutation(tmp_path, change, column, message):
    base = ek.load_evidence(tree(tmp_path, findings=[dict(FINDING, **change)]), strict=False)
    if column is None:
        assert base.problems == ()
        return
    assert _where(base.problems) == [(F, 2, column)], base.problems
    assert message in base.problems[0].message


def test_finding_id_names_its_study(tmp_path):
    base = ek.load_evidence(tree(tmp_path, findings=[dict(FINDING, id="vision-1")],
                                 baseline=[dict(BASELINE, finding_id="vision-1")]), strict=False)
    assert _where(base.problems) == [(F, 2, "id")]
    assert "should be <citation_key>-<n>, i.e. start with 'jones2019vision-'" in base.problems[0].message


def test_cluster_counts_on_an_individual_design(tmp_path):
    base = ek.load_evidence(tree(tmp_path, findings=[dict(FINDING, assignment="individual")]), strict=False)
    assert _where(base.problems) == [(F, 2, c) for c in ("clusters_t_assigned", "clusters_t_analyzed",
                                                         "clusters_c_assigned", "clusters_c_analyzed")]


def test_a_finding_cites_a_record_the_ledger_included(tmp_path):
    root = tree(tmp_path)
    _write_csv(root / "screening" / "wwc.csv", [dict(VISION_RECORD, citation_key="", full_text="exclude",
                                                     exclusion_reason="no attrition counts",
                                                     exclusion_code="no k or CI for the estimate")])
    base = ek.load_evidence(root, strict=False)
    assert _where(base.problems) == [(F, 2, "citation_key")]
    assert "not a record included at full text in screening/wwc.csv" in base.problems[0].message


BASELINE_MUTATIONS = [
    ({"finding_id": "jones2019vision-9"}, "finding_id", "finding_id 'jones2019vision-9' is not an id in wwc/findings*.csv"),
    ({"kind": "ordinal"}, "kind", "unknown kind 'ordinal'; expected one of continuous, binary"),
    ({"t_sd": ""}, "t_sd", "required for a continuous characteristic"),
    ({"c_sd": "0"}, "c_sd", "a standard deviation must be > 0"),
    ({"t_prop": "0.4"}, "t_prop", "a continuous characteristic has means and SDs, not proportions"),
    ({"adjusted": "maybe"}, "adjusted", "write true or false"),
    ({"t_n": "0"}, "t_n", "t_n must be an integer >= 1"),
    ({"locator": ""}, "locator", "required value is empty"),
]


@pytest.mark.parametrize(("change", "column", "message"), BASELINE_MUTATIONS)
def test_baseline_mutation(tmp_path, change, column, message):
    base = ek.load_evidence(tree(tmp_path, baseline=[dict(BASELINE, **change)]), strict=False)
    assert _where(base.problems) == [(B, 2, column)], base.problems
    assert message in base.problems[0].message


def test_binary_baseline(tmp_path):
    ok = dict(BASELINE, characteristic="free lunch", kind="binary", t_mean="", t_sd="", c_mean="", c_sd="",
              t_prop="0.61", c_prop="0.58")
    assert ek.load_evidence(tree(tmp_path, baseline=[ok])).ok
    bad = dict(ok, t_prop="61", c_mean="3")
    base = ek.load_evidence(tree(tmp_path / "b", baseline=[bad]), strict=False)
    assert _where(base.problems) == [(B, 2, "c_mean"), (B, 2, "t_prop")]
    assert "a proportion lies in [0, 1] (a percent divided by 100); got 61" in base.problems[1].message


def test_repeated_characteristic(tmp_path):
    base = ek.load_evidence(tree(tmp_path, baseline=[dict(BASELINE), dict(BASELINE)]), strict=False)
    assert _where(base.problems) == [(B, 2, "characteristic"), (B, 3, "characteristic")]


APPRAISAL_MUTATIONS = [
    ({"synthesis_id": "smith2020sleep-9"}, "synthesis_id", "'smith2020sleep-9' is not an id in syntheses/*.csv"),
    ({"scope": "study"}, "scope", "unknown scope 'study'; expected one of outcome, review"),
    ({"review_grade": "medium"}, "review_grade", "unknown GRADE level 'medium'; expected one of high, moderate, low, very low"),
    ({"studies_low": "4"}, "studies_assessed", "studies_high + studies_some + studies_low = 2 + 3 + 4 differs from studies_assessed 10"),
    ({"studies_assessed": "", "studies_some": "", "studies_low": ""}, "studies_assessed",
     "required when any study count is given"),
    ({"studies_some": "", "studies_low": "", "studies_high": "11"}, "studies_high", "studies_high 11 is more than studies_assessed 10"),
    ({"studies_high": "1.5", "studies_some": "", "studies_low": ""}, "studies_high", "must be an integer >= 0"),
    ({"small_study_p": "2"}, "small_study_p", "a p-value lies in [0, 1]"),
    ({"small_study_test": ""}, "small_study_test", "required when small_study_p is given"),
    ({"source_url": "https://doi.org/10.1000/other"}, "source_url", "differs from the DOI of smith2020sleep"),
    ({"extracted_by": "helper-a"}, "extracted_by", "has no YYYY-MM-DD date"),
    ({"studies_some": "", "studies_low": "", "review_grade": "", "small_study_test": "", "small_study_p": ""},
     None, None),
]


@pytest.mark.parametrize(("change", "column", "message"), APPRAISAL_MUTATIONS)
def test_appraisal_mutation(tmp_path, change, column, message):
    base = ek.load_evidence(tree(tmp_path, appraisals=[dict(APPRAISAL, **change)]), strict=False)
    if column is None:
        assert base.problems == ()
        return
    assert _where(base.problems) == [(A, 2, column)], base.problems
    assert message in base.problems[0].message


def test_appraisal_lives_beside_its_synthesis_file(tmp_path):
    root = tree(tmp_path)
    (root / A).rename(root / "appraisals" / "other.csv")
    base = ek.load_evidence(root, strict=False)
    assert _where(base.problems) == [("appraisals/other.csv", 2, "synthesis_id")]
    assert "belongs in appraisals/sleep.csv" in base.problems[0].message


def test_one_appraisal_per_synthesis_row(tmp_path):
    base = ek.load_evidence(tree(tmp_path, appraisals=[dict(APPRAISAL), dict(APPRAISAL)]), strict=False)
    assert _where(base.problems) == [(A, 2, "synthesis_id"), (A, 3, "synthesis_id")]


def test_findings_may_be_split_over_files_and_ledgers(tmp_path):
    root = tree(tmp_path)
    other = dict(FINDING, id="smith2020sleep-7", citation_key="smith2020sleep", source_url="https://doi.org/10.1000/sleep.1")
    _write_csv(root / "wwc" / "findings_more.csv", [other])
    base = ek.load_evidence(root, strict=False)
    # smith2020sleep is included by screening/sleep.csv, not by a wwc* ledger
    assert _where(base.problems) == [("wwc/findings_more.csv", 2, "citation_key")]
    assert "screening/wwc.csv" in base.problems[0].message
    _write_csv(root / "screening" / "wwc_more.csv", [dict(RECORD, record_id="wwcm-0001")])
    base = ek.load_evidence(root, strict=False)
    assert base.ok and len(base.wwc_findings) == 2
