"""ek.load_evidence: the real evidence/ validates, and each check catches exactly its mistake.

The mutation tests start from a small valid tree (the real principles.yaml, studies.yaml and
metadat.bib plus one synthesis row and its screening record) and change one cell at a time: each
change must produce exactly the expected problem (file, row, column), and nothing else.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

import evidence_kit as ek
from evidence_kit.evidence import METRICS, OUTCOME_DOMAINS, RATIO_METRICS

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "evidence"

ROW = {
    "id": "smith2020sleep-1", "principle": "P3;P6", "question": "Q3.2;Q6.2",
    "citation_key": "smith2020sleep", "topic": "sleep", "population": "students aged 6-18",
    "exposure": "longer sleep", "comparator": "shorter sleep", "outcome": "school grades",
    "outcome_domain": "academic_achievement", "metric": "g", "estimate": "0.25", "ci_lower": "0.1",
    "ci_upper": "0.4", "ci_level": "95", "k": "10", "k_unit": "studies", "k_total": "12", "n": "1000",
    "i2": "50", "tau2": "0.02", "pi_lower": "-0.1", "pi_upper": "0.6", "model": "random",
    "design": "observational", "p_value": "<0.001", "favourable": "higher", "text_read": "full text",
    "access_notes": "", "flag": "", "source_url": "https://doi.org/10.1000/SLEEP.1", "locator": "Table 2",
    "notes": "", "extracted_by": "helper-a 2026-11-28", "checked": "helper-b 2026-11-28",
    "check_notes": "estimate and CI and k at Table 2: agree",
}
RECORD = {
    "record_id": "sleep-0001", "identified_via": "database", "source": "search:pages",
    "query": "sleep academic meta-analysis", "search_date": "2026-11-28", "title": "Sleep and grades",
    "doi": "10.1000/sleep.1", "url": "", "duplicate_of": "", "screening": "include",
    "full_text": "include", "exclusion_reason": "", "exclusion_code": "", "citation_key": "smith2020sleep",
    "screened_by": "helper-a", "notes": "",
}
BIB = """@article{smith2020sleep,
  author  = {Smith, A.},
  title   = {Sleep and grades},
  journal = {Journal of Tests},
  year    = {2020},
  doi     = {10.1000/sleep.1}
}
"""


def _write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _studies_records() -> list:
    """The records studies.yaml cites that live outside metadat.bib (e.g. a literature file also
    cites the original meta-analysis), taken from the real references."""
    base = ek.load_evidence(EVIDENCE, strict=False)
    own = {k for k, r in base.references.items() if r.source.file == "references/metadat.bib"}
    keys = {k for _, st in base.studies.iterrows() for k in [st["citation_key"], *st["also_cite"]]} - own
    return [base.references[k] for k in sorted(keys)]


STUDIES_RECORDS = _studies_records()


def make_tree(tmp_path: Path, rows=None, records=None) -> Path:
    """A valid evidence tree: real principles/studies/metadat.bib, one row, one record."""
    root = tmp_path / "evidence"
    (root / "references").mkdir(parents=True)
    shutil.copy(EVIDENCE / "principles.yaml", root)
    shutil.copy(EVIDENCE / "studies.yaml", root)
    shutil.copy(EVIDENCE / "references" / "metadat.bib", root / "references")
    if STUDIES_RECORDS:  # CSL-JSON: read_citations reads it like BibTeX
        ek.write_citations(STUDIES_RECORDS, root / "references" / "studies_extra.json")
    (root / "references" / "sleep.bib").write_text(BIB, encoding="utf-8")
    _write_csv(root / "syntheses" / "sleep.csv", rows or [dict(ROW)])
    _write_csv(root / "screening" / "sleep.csv", records or [dict(RECORD)])
    return root


def _where(problems) -> list[tuple]:
    return [(p.file, p.row, p.column) for p in problems]


# --- the real evidence base -------------------------------------------------------------------

def test_real_evidence_validates():
    """Fails while literature rows are being written with mistakes: the message lists them all."""
    base = ek.load_evidence(EVIDENCE, strict=False)
    assert not base.problems, "\n".join(map(str, base.problems))


def test_real_evidence_every_question_has_sources_or_a_stated_gap():
    """Issue 7's done-criterion: every question has its sources or an explicit, reasoned gap,
    and no stated gap has since been filled without review."""
    base = ek.load_evidence(EVIDENCE, strict=False)
    cov = base.coverage()
    assert not cov.index[(cov["sources"] == 0) & (cov["stated_gaps"] == 0)].tolist()
    assert [str(w) for w in base.warnings if w.file in ("principles.yaml", "gaps.yaml")] == []
    assert base.gaps["searched"].str.len().gt(50).all() and base.gaps["reason"].str.len().gt(50).all()


def test_real_evidence_structure():
    base = ek.load_evidence(EVIDENCE, strict=False)
    assert list(base.principles["id"]) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    # stable ids: other files refer to them
    assert list(base.questions["id"]) == [
        "Q1.1", "Q1.2", "Q1.3", "Q1.4", "Q2.1", "Q2.2", "Q2.3", "Q3.1", "Q3.2", "Q3.3",
        "Q4.1", "Q4.2", "Q4.3", "Q5.1", "Q5.2", "Q5.3", "Q6.1", "Q6.2", "Q6.3"]
    assert base.questions.groupby("principle").size().between(2, 4).all()
    assert set(base.questions.explode("outcomes")["outcomes"]) == set(OUTCOME_DOMAINS)
    for col in ("estimate", "ci_lower", "ci_upper", "k", "n", "i2", "tau2"):
        assert base.syntheses[col].dtype == float
    assert {"file", "row"} <= set(base.syntheses.columns)


def test_every_shipped_dataset_is_accounted_for_in_studies_yaml():
    import yaml

    doc = yaml.safe_load((EVIDENCE / "studies.yaml").read_text(encoding="utf-8"))
    named = [d["dataset"] for d in doc["datasets"]] + [d["dataset"] for d in doc["not_mapped"]]
    assert sorted(named) == ek.list_datasets()
    mapped = {d["dataset"] for d in doc["datasets"]}
    # the candidates the issue names are all mapped
    assert {"dat.crede2010", "dat.konstantopoulos2011", "dat.raudenbush1985", "dat.bangertdrowns2004",
            "dat.tannersmith2016", "dat.lopez2019", "dat.aloe2013"} <= mapped


def test_metadat_bib_copies_the_dataset_documentation():
    """Each mapped dataset's citation (title and DOI) stands in its .md Source or References."""
    base = ek.load_evidence(EVIDENCE, strict=False)
    for _, st in base.studies.iterrows():
        info = ek.dataset_info(st["dataset"])
        docs = info.get("source", "") + " " + info.get("references", "")
        for key in [st["citation_key"], *st["also_cite"]]:
            ref = base.references[key]
            if key == st["citation_key"]:
                assert ref.source.file == "references/metadat.bib"
            assert ref.title in docs, (st["dataset"], key)
            assert ref.doi in docs, (st["dataset"], key)
            assert f"({ref.year})" in docs, (st["dataset"], key)
            for person in ref["author"]:
                assert f"{person['family']}, {person['given']}" in docs, (st["dataset"], key, person)
            journal = ref.get("container-title")
            assert journal and journal in docs, (st["dataset"], key)


def test_prisma_counts_of_the_ledger(tmp_path):
    dup = dict(RECORD, record_id="sleep-0002", duplicate_of="sleep-0001", screening="", full_text="",
               citation_key="")
    out = dict(RECORD, record_id="sleep-0003", screening="exclude", full_text="", citation_key="")
    base = ek.load_evidence(make_tree(tmp_path, records=[dict(RECORD), dup, out]))
    counts = base.prisma_counts()
    assert (counts.duplicates_removed, counts.screened, counts.excluded_screening, counts.included) == (1, 2, 1, 1)


def test_study_effect_sizes_as_documented():
    base = ek.load_evidence(EVIDENCE, strict=False)
    kon = base.study_effect_sizes("dat.konstantopoulos2011")  # shipped yi, vi
    assert len(kon) == 56 and kon["district"].nunique() == 11
    lopez = base.study_effect_sizes("lopez2019")  # GEN: yi = diff, vi = se^2
    raw = ek.load_dataset("dat.lopez2019")
    assert (lopez["yi"] == raw["diff"]).all()
    assert lopez["vi"].to_numpy() == pytest.approx(raw["se"].to_numpy() ** 2, rel=1e-15)
    assert base.load_study("dat.crede2010").shape == (97, 8)
    with pytest.raises(ValueError, match="studies.yaml maps"):
        base.load_study("dat.bcg")


# --- a valid tree and the summaries ------------------------------------------------------------

def test_valid_tree_has_no_problems(tmp_path):
    base = ek.load_evidence(make_tree(tmp_path))
    assert base.ok and base.problems == ()
    row = base.syntheses.iloc[0]
    assert row["file"] == "syntheses/sleep.csv" and row["row"] == 2
    assert row["estimate"] == 0.25 and row["k"] == 10.0
    ref = base.references["smith2020sleep"]
    assert (ref.source.file, ref.source.line, ref.doi, ref.year) == ("references/sleep.bib", 1, "10.1000/sleep.1", 2020)
    assert "1 synthesis rows from 1 sources (0 not yet independently checked)" in base.summary()


def test_evidence_map_counts_sources_per_principle_and_domain(tmp_path):
    rows = [dict(ROW),
            dict(ROW, id="smith2020sleep-2", outcome="GPA"),  # same source, same cell
            dict(ROW, id="smith2020sleep-3", principle="P3", question="Q3.2", outcome_domain="attendance")]
    base = ek.load_evidence(make_tree(tmp_path, rows=rows))
    emap = base.evidence_map()
    assert list(emap.index) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert list(emap.columns) == list(OUTCOME_DOMAINS)
    assert emap.loc["P3", "academic_achievement"] == 1 and emap.loc["P6", "academic_achievement"] == 1
    assert emap.loc["P3", "attendance"] == 1
    assert int(emap.to_numpy().sum()) == 3
    by_rows = base.evidence_map(count="rows")
    assert by_rows.loc["P3", "academic_achievement"] == 2 and int(by_rows.to_numpy().sum()) == 5
    with_studies = base.evidence_map(include_studies=True)
    assert with_studies.loc["P5", "academic_achievement"] == 2  # konstantopoulos, bangertdrowns
    with pytest.raises(ValueError, match="expected one of sources, rows"):
        base.evidence_map(count="studies")
    cov = base.coverage()
    assert cov.loc["Q3.2", "synthesis_rows"] == 3 and cov.loc["Q3.2", "sources"] == 1
    assert cov.loc["Q5.3", "datasets"] == 1 and cov.loc["Q1.1", "sources"] == 0


def test_coverage_by_outcome_and_stated_gaps(tmp_path):
    root = make_tree(tmp_path)
    (root / "gaps.yaml").write_text(
        "gaps:\n"
        "  - {principle: P2, searched: student voice meta-analyses (a test), reason: none pooled}\n"
        "  - {principle: P3, question: Q3.2, outcome_domain: attendance, searched: x, reason: y}\n",
        encoding="utf-8")
    base = ek.load_evidence(root)
    cov = base.coverage()
    assert cov.loc[["Q2.1", "Q2.2", "Q2.3"], "stated_gaps"].tolist() == [1, 1, 1]  # principle-level gap
    assert cov.loc["Q3.2", "stated_gaps"] == 1 and cov.loc["Q3.2", "sources"] == 1
    by_outcome = base.coverage(by="outcome")
    assert by_outcome.loc[("Q3.2", "academic_achievement"), ["sources", "stated_gap"]].tolist() == [1, False]
    assert by_outcome.loc[("Q3.2", "attendance"), ["sources", "stated_gap"]].tolist() == [0, True]
    assert by_outcome.loc[("Q2.3", "engagement_behaviour"), "stated_gap"]
    assert len(by_outcome) == int(base.questions["outcomes"].map(len).sum())
    assert [str(w) for w in base.warnings if w.file == "gaps.yaml"] == []
    (root / "gaps.yaml").write_text(
        "gaps:\n  - {principle: P3, question: Q3.2, outcome_domain: academic_achievement, searched: x, reason: y}\n"
        "  - {principle: P6, question: Q6.2, searched: x, reason: y}\n", encoding="utf-8")
    stale = [str(w) for w in ek.load_evidence(root).warnings if w.file == "gaps.yaml"]
    assert stale == [
        "gaps.yaml, row Q3.2: stated gap for Q3.2 academic_achievement, but syntheses now cite 1 source(s) "
        "for it: review the gap or remove it",
        "gaps.yaml, row Q6.2: stated gap for Q6.2, but syntheses now cite 1 source(s) for it: review the gap "
        "or remove it"]
    flagged = [w.row for w in base.warnings]
    assert "Q2.1" not in flagged and "Q3.2" not in flagged and "Q1.1" in flagged and "Q6.2" not in flagged
    with pytest.raises(ValueError, match="expected one of question, outcome"):
        base.coverage(by="principle")


def test_strict_raises_one_error_listing_every_problem(tmp_path):
    rows = [dict(ROW, k="0"), dict(ROW, id="smith2020sleep-2", metric="Z")]
    root = make_tree(tmp_path, rows=rows)
    with pytest.raises(ek.EvidenceError) as info:
        ek.load_evidence(root)
    err = info.value
    assert isinstance(err, ValueError)
    assert _where(err.problems) == [("syntheses/sleep.csv", 2, "k"), ("syntheses/sleep.csv", 3, "metric")]
    text = str(err)
    assert text.startswith("2 problem(s)")
    assert "syntheses/sleep.csv, row 2, column k: k must be an integer >= 1; got 0" in text
    assert "syntheses/sleep.csv, row 3, column metric: unknown metric 'Z'" in text
    frame = ek.load_evidence(root, strict=False).problems_frame()
    assert list(frame.columns) == ["file", "row", "column", "message"] and len(frame) == 2


def test_missing_folder():
    with pytest.raises(FileNotFoundError):
        ek.load_evidence("/nonexistent/evidence")


# --- one mutation, exactly one problem -----------------------------------------------------------

SYN = "syntheses/sleep.csv"
MUTATIONS = [
    ({"estimate": ""}, "estimate", "required value is empty"),
    ({"estimate": "0.5"}, "estimate", "estimate 0.5 lies outside the CI [0.1, 0.4]"),
    ({"estimate": "0.05"}, "estimate", "estimate 0.05 lies outside the CI [0.1, 0.4]"),
    ({"estimate": "large"}, "estimate", "not a number: 'large'"),
    ({"tau2": "inf"}, "tau2", "not a finite number: 'inf'"),
    ({"n": "NaN"}, "n", "not a number: 'NaN'"),
    ({"ci_lower": "0.5", "estimate": "0.45"}, "ci_lower", "CI: ci_lower 0.5 is above ci_upper 0.4"),
    ({"ci_upper": ""}, "ci_upper", "CI: ci_lower is given but ci_upper is empty"),
    ({"ci_level": ""}, "ci_level", "required when a CI is given"),
    ({"ci_level": "0.95"}, None, None),  # a proportion is a valid (odd) level in (0, 100)
    ({"ci_level": "100"}, "ci_level", "between 0 and 100"),
    ({"ci_lower": "", "ci_upper": "", "ci_level": "", "pi_upper": "0.2"}, "estimate",
     "estimate 0.25 lies outside the prediction interval [-0.1, 0.2]"),
    ({"pi_lower": "0.15"}, "pi_lower", "prediction interval [0.15, 0.6] is narrower than the CI [0.1, 0.4]"),
    ({"pi_lower": "0.1", "pi_upper": "0.4"}, None, None),  # tau^2 = 0: PI = CI
    ({"metric": "r", "estimate": "0.3", "ci_upper": "0.5", "pi_upper": "1.2"}, "pi_upper",
     "a correlation (r) lies in [-1, 1]; pi_upper is 1.2"),
    ({"metric": "z", "estimate": "1.3", "ci_upper": "1.5", "pi_upper": "1.9"}, None, None),
    ({"pi_lower": ""}, "pi_lower", "prediction interval: pi_upper is given but pi_lower is empty"),
    ({"k": "0"}, "k", "k must be an integer >= 1; got 0"),
    ({"k": "3.5"}, "k", "k must be an integer >= 1; got 3.5"),
    ({"k": ""}, "k_unit", "k_unit without a k"),
    ({"k": "", "k_unit": ""}, None, None),
    ({"k_unit": ""}, "k_unit", "required when k is given: what k counts"),
    ({"k_unit": "trials"}, "k_unit", "unknown k_unit 'trials'; expected one of studies, effect sizes, samples"),
    ({"k": "14", "k_total": "12"}, "k", "k = 14 studies is more than the review's total k_total = 12"),
    ({"k": "14", "k_total": "12", "k_unit": "effect sizes"}, None, None),
    ({"k_total": "0"}, "k_total", "k_total must be an integer >= 1; got 0"),
    ({"favourable": ""}, "favourable", "required value is empty"),
    ({"favourable": "up"}, "favourable", "unknown favourable 'up'; expected one of higher, lower"),
    ({"text_read": "abstract"}, "access_notes", "required when only the abstract was read"),
    ({"text_read": "abstract", "access_notes": "only PubMed's abstract is stored"}, None, None),
    ({"text_read": "pdf"}, "text_read", "unknown text_read 'pdf'; expected one of full text, abstract"),
    ({"check_notes": ""}, "check_notes", "required when checked"),
    ({"checked": "", "check_notes": ""}, None, None),
    ({"n": "0"}, "n", "n must be an integer >= 1"),
    ({"n": ""}, None, None),  # not reported
    ({"i2": "101"}, "i2", "I^2 is in percent, 0 to 100; got 101"),
    ({"i2": "0.5"}, None, None),
    ({"tau2": "-0.01"}, "tau2", "tau^2 must be >= 0"),
    ({"metric": "G"}, "metric", "unknown metric 'G'; expected one of g, d, SMD"),
    ({"metric": "OR", "estimate": "1.2", "ci_lower": "0.9", "ci_upper": "1.6", "pi_lower": "0.6",
      "pi_upper": "2.4"}, None, None),
    ({"metric": "RR"}, "pi_lower", "RR is a ratio on the natural scale, so pi_lower must be > 0"),
    ({"outcome_domain": "grades"}, "outcome_domain", "unknown outcome_domain 'grades'"),
    ({"principle": "P3;P6;P7"}, "principle", "unknown principle 'P7'"),
    ({"question": "Q3.2"}, "principle", "principle P6 has none of the row's questions (Q3.2)"),
    ({"question": "Q3.2;Q6.2;Q4.1"}, "question", "question Q4.1 belongs to P4, not to P3;P6"),
    ({"question": "Q3.2;Q3.9;Q6.2"}, "question", "unknown question 'Q3.9'"),
    ({"id": "sleep-1"}, "id", "should be <citation_key>-<n>, i.e. start with 'smith2020sleep-'"),
    ({"source_url": "doi.org/10.1000/sleep.1"}, "source_url", "not a DOI or an http(s) URL"),
    ({"source_url": "10.1000/sleep.1"}, None, None),
    ({"source_url": "https://example.org/report.pdf"}, None, None),
    ({"source_url": "https://doi.org/10.1000/sleep.2"}, "source_url", "DOI 10.1000/sleep.2 differs from the DOI of smith2020sleep"),
    ({"locator": ""}, "locator", "required value is empty"),
    ({"population": ""}, "population", "required value is empty"),
    ({"extracted_by": ""}, "extracted_by", "required value is empty"),
    ({"checked": "Helper-A, 2026-11-29"}, "checked", "independent read"),
    ({"checked": ""}, None, None),
    ({"checked": "helper-a (second read) 2026-11-29"}, "checked", "independent read"),
    ({"checked": "helper-b"}, "checked", "say who and when: 'helper-b' has no YYYY-MM-DD date"),
    ({"extracted_by": "helper-a on 28 Nov"}, "extracted_by", "has no YYYY-MM-DD date"),
    ({"estimate": "\u22120.2", "ci_lower": "-0.3", "ci_upper": "-0.1", "pi_lower": "-0.5",
      "pi_upper": "0.1"}, None, None),  # a typographic minus reads as a minus
]


@pytest.mark.parametrize(("change", "column", "message"), MUTATIONS)
def test_one_mutation_one_problem(tmp_path, change, column, message):
    base = ek.load_evidence(make_tree(tmp_path, rows=[dict(ROW, **change)]), strict=False)
    if column is None:
        assert base.problems == ()
        return
    assert _where(base.problems) == [(SYN, 2, column)], base.problems
    assert message in base.problems[0].message


def test_unknown_citation_key(tmp_path):
    base = ek.load_evidence(make_tree(tmp_path, rows=[dict(ROW, id="jones2021-1", citation_key="jones2021")]),
                            strict=False)
    assert [str(p) for p in base.problems] == [
        "syntheses/sleep.csv, row 2, column citation_key: citation_key 'jones2021' is not in references/",
        "syntheses/sleep.csv, row 2, column citation_key: citation_key 'jones2021' is not a record included "
        "at full text in screening/sleep.csv",
    ]


def test_outcome_domain_outside_the_questions_is_a_warning(tmp_path):
    def domain_warnings(base):
        return [w for w in base.warnings if w.column == "outcome_domain"]

    base = ek.load_evidence(make_tree(tmp_path, rows=[dict(ROW, outcome_domain="attendance")]))
    assert domain_warnings(base) == []  # Q3.2 lists attendance
    base = ek.load_evidence(make_tree(tmp_path / "b", rows=[dict(ROW, outcome_domain="staff_health_retention")]))
    assert base.problems == ()
    assert [str(w) for w in domain_warnings(base)] == [
        "syntheses/sleep.csv, row 2, column outcome_domain: staff_health_retention is not among the "
        "outcomes principles.yaml lists for Q3.2;Q6.2"]


def test_duplicate_ids_name_both_rows(tmp_path):
    rows = [dict(ROW), dict(ROW)]
    base = ek.load_evidence(make_tree(tmp_path, rows=rows), strict=False)
    assert _where(base.problems) == [(SYN, 2, "id"), (SYN, 3, "id")]


def test_syntheses_cite_records_the_ledger_included(tmp_path):
    records = [dict(RECORD, full_text="exclude", exclusion_reason="no pooled estimate",
                    exclusion_code="no pooled estimate in what was read", citation_key="")]
    base = ek.load_evidence(make_tree(tmp_path, records=records), strict=False)
    assert _where(base.problems) == [(SYN, 2, "citation_key")]
    assert "not a record included at full text in screening/sleep.csv" in base.problems[0].message


def test_rows_from_several_files_are_concatenated(tmp_path):
    root = make_tree(tmp_path)
    _write_csv(root / "syntheses" / "more.csv", [dict(ROW, id="smith2020sleep-2")])
    base = ek.load_evidence(root)
    assert list(base.syntheses["file"]) == ["syntheses/more.csv", "syntheses/sleep.csv"]
    # more.csv has no screening ledger of its own, so the ledger check does not apply to it
    _write_csv(root / "syntheses" / "more.csv", [dict(ROW)])
    base = ek.load_evidence(root, strict=False)
    assert _where(base.problems) == [("syntheses/more.csv", 2, "id"), (SYN, 2, "id")]


SCR = "screening/sleep.csv"
LEDGER_MUTATIONS = [
    ({"identified_via": "Google"}, "identified_via", "expected one of database, register, other"),
    ({"title": ""}, "title", "required value is empty"),
    ({"screening": ""}, "screening", "required unless the record is a duplicate"),
    ({"screening": "maybe"}, "screening", "unknown decision 'maybe'"),
    ({"full_text": ""}, "full_text", "required when screening is include"),
    ({"full_text": "not_retrieved", "citation_key": ""}, SYN, "citation_key"),
    ({"doi": "doi.org/10.1"}, "doi", "not a DOI"),
    ({"url": "example.org"}, "url", "not an http(s) URL"),
    ({"search_date": "2026-11"}, "search_date", "not a YYYY-MM-DD date"),
    ({"citation_key": "nosuch2020"}, "citation_key", "not in references/"),
    ({"doi": "10.1000/sleep.9"}, "doi", "DOI 10.1000/sleep.9 differs from the DOI of smith2020sleep (10.1000/sleep.1)"),
    ({"exclusion_reason": "no k"}, "exclusion_reason", "only for full-text exclusions"),
    ({"exclusion_code": "no k or CI for the estimate"}, "exclusion_code", "only for full-text exclusions"),
]


@pytest.mark.parametrize(("change", "column", "message"), LEDGER_MUTATIONS)
def test_ledger_mutation(tmp_path, change, column, message):
    base = ek.load_evidence(make_tree(tmp_path, records=[dict(RECORD, **change)]), strict=False)
    found = _where(base.problems)
    if column == SYN:  # the record is no longer included, so the synthesis row loses its ledger entry
        assert found == [(SYN, 2, message)]
        return
    assert (SCR, 2, column) in found and all(f[0] == SCR or f[2] == "citation_key" for f in found)
    hit = [p for p in base.problems if p.file == SCR and p.column == column]
    assert message in hit[0].message


def test_duplicate_records(tmp_path):
    dup = dict(RECORD, record_id="sleep-0002", duplicate_of="sleep-0001", screening="", full_text="",
               citation_key="")
    base = ek.load_evidence(make_tree(tmp_path, records=[dict(RECORD), dup]))
    assert base.ok and len(base.screening) == 2
    chain = dict(dup, record_id="sleep-0003", duplicate_of="sleep-0002")
    base = ek.load_evidence(make_tree(tmp_path / "chain", records=[dict(RECORD), dup, chain]))
    assert [str(w) for w in base.warnings if w.file == SCR] == [
        "screening/sleep.csv, row 4, column duplicate_of: duplicate_of 'sleep-0002' is itself a duplicate; "
        "name the kept record"]
    bad = dict(dup, duplicate_of="sleep-0002", screening="include")
    base = ek.load_evidence(make_tree(tmp_path / "b", records=[dict(RECORD), bad]), strict=False)
    assert _where(base.problems) == [(SCR, 3, "duplicate_of"), (SCR, 3, "screening")]


def test_duplicate_bibtex_key_across_files(tmp_path):
    root = make_tree(tmp_path)
    (root / "references" / "other.bib").write_text(BIB.replace("Sleep and grades", "Copy"), encoding="utf-8")
    base = ek.load_evidence(root, strict=False)
    assert _where(base.problems) == [("references/sleep.bib", 1, "key")]
    assert "also in references/other.bib line 1" in base.problems[0].message
    assert base.references["smith2020sleep"].title == "Copy"  # the first file read wins


def test_exclusion_codes_are_a_closed_list(tmp_path):
    rec = dict(RECORD, full_text="exclude", exclusion_reason="abstract only", exclusion_code="paywalled", citation_key="")
    base = ek.load_evidence(make_tree(tmp_path, records=[rec]), strict=False)
    assert (SCR, 2, "exclusion_code") in _where(base.problems)
    assert any("unknown exclusion_code 'paywalled'" in p.message for p in base.problems)


def test_schema_lists():
    assert set(RATIO_METRICS) <= set(METRICS)
    assert {"g", "d", "SMD", "r", "z", "OR", "RR", "MD", "beta"} <= set(METRICS)
    readme = (EVIDENCE / "README.md").read_text(encoding="utf-8")
    from evidence_kit.evidence._schema import SCREENING_COLUMNS, SYNTHESES_COLUMNS

    for col in [*SYNTHESES_COLUMNS, *SCREENING_COLUMNS]:
        assert f"| {col} |" in readme or f"| {col}," in readme or f", {col} |" in readme, col
    for m in METRICS:
        assert f"`{m}`" in readme, m


def test_html_and_text_display(tmp_path):
    base = ek.load_evidence(make_tree(tmp_path, rows=[dict(ROW, k="x")]), strict=False)
    html = base._repr_html_()
    assert "1 synthesis rows from 1 sources" in html and "Problems (1)" in html
    assert "not a number: &#x27;x&#x27;" in html or "not a number: 'x'" in html
    assert repr(base).startswith("EvidenceBase(") and "1 problems" in repr(base)


def test_problem_frame_for_notebooks(tmp_path):
    base = ek.load_evidence(make_tree(tmp_path, rows=[dict(ROW, k="x")]), strict=False)
    frame = base.problems_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.iloc[0].to_dict() == {"file": SYN, "row": 2, "column": "k",
                                       "message": "not a number: 'x' (leave the cell empty when not reported)"}


def test_bom_crlf_and_padding_are_read_as_written(tmp_path):
    """Excel writes a BOM and CRLF; cells padded with spaces are stripped before checking."""
    root = make_tree(tmp_path)
    path = root / "syntheses" / "sleep.csv"
    header = ",".join(ROW)
    values = ",".join(f" {v} " if v else v for v in ROW.values())
    path.write_bytes(("\ufeff" + header + "\r\n" + values + "\r\n").encode("utf-8"))
    base = ek.load_evidence(root)
    assert base.syntheses.loc[0, "id"] == "smith2020sleep-1" and base.syntheses.loc[0, "k"] == 10.0


def test_unreadable_csv_is_one_problem_not_a_crash(tmp_path):
    root = make_tree(tmp_path)
    # not UTF-8 (a Latin-1 'é' in a note): one problem naming the row, and the row is still read
    with (root / "syntheses" / "sleep.csv").open("w", newline="", encoding="latin-1") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROW))
        writer.writeheader()
        writer.writerow(dict(ROW, notes="caf\xe9"))
    (root / "syntheses" / "ragged.csv").write_text(",".join(ROW) + "\n" + ",".join(ROW.values()) + ",extra\n",
                                                   encoding="utf-8")
    base = ek.load_evidence(root, strict=False)
    assert _where(base.problems) == [("syntheses/ragged.csv", None, None), ("syntheses/sleep.csv", 2, None)]
    assert "cannot read the CSV file" in base.problems[0].message
    assert f"Expected {len(ROW)} fields in line 2, saw {len(ROW) + 1}" in base.problems[0].message
    assert "not UTF-8: byte 0xe9 on row 2" in base.problems[1].message
    assert len(base.syntheses) == 1 and base.syntheses.loc[0, "notes"] == "café"  # read, not dropped


def test_summaries_agree_with_a_plain_count_of_the_real_rows():
    """Identities: the evidence map and the coverage recount the rows one by one."""
    base = ek.load_evidence(EVIDENCE, strict=False)
    pairs, sources, by_question = 0, set(), {}
    for rec in base.syntheses.itertuples():
        for p in rec.principle.split(";"):
            pairs += 1
            sources.add((p.strip(), rec.outcome_domain, rec.citation_key))
        for q in rec.question.split(";"):
            by_question.setdefault(q.strip(), set()).add(rec.citation_key)
    assert int(base.evidence_map(count="rows").to_numpy().sum()) == pairs
    assert int(base.evidence_map().to_numpy().sum()) == len(sources)
    cov = base.coverage()
    assert cov["sources"].to_dict() == {q: len(by_question.get(q, ())) for q in cov.index}
    by_outcome = base.coverage(by="outcome")
    assert (by_outcome.groupby(level="question")["sources"].max() <= cov["sources"]).all()
