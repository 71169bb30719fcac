"""Broken evidence trees (tests/data/evidence_bad/) produce exactly the expected problems.

Each expected problem is (file, row, column, message): row is the spreadsheet row of a CSV (the
header is row 1), the line of a BibTeX entry, or the id of a YAML entry.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import evidence_kit as ek
from evidence_kit.evidence._schema import SCREENING_COLUMNS, SYNTHESES_COLUMNS

BAD = Path(__file__).parent / "data" / "evidence_bad"
DOMAINS = "academic_achievement, attendance, engagement_behaviour, wellbeing_mental_health, staff_health_retention"

ROWS = [
    ("references/one.bib", 16, "author", "entry 'noauthor2018' has no author or editor"),
    ("references/one.bib", 16, "year", "entry 'noauthor2018': year 18 is not a four-digit year"),
    ("references/two.bib", 1, "key", "duplicate BibTeX key 'smith2020sleep': also in references/one.bib line 1"),
    ("references/two.bib", 7, "doi", "entry 'baddoi2021': not a DOI: 'not-a-doi'"),
    ("references/two.bib", 7, "url", "entry 'baddoi2021': not an http(s) URL: 'ftp://example.org/file'"),
    ("screening/area.csv", 3, "screening", "a duplicate record has no screening decisions"),
    ("screening/area.csv", 4, "identified_via", "unknown identified_via 'google'; expected one of database, register, other"),
    ("screening/area.csv", 4, "full_text", "a record excluded at screening has no full-text decision"),
    ("screening/area.csv", 4, "citation_key", "required when full_text is include"),
    ("screening/area.csv", 5, "record_id", "record_id 'area-0004' is used by more than one row"),
    ("screening/area.csv", 5, "exclusion_reason", "required when full_text is exclude"),
    ("screening/area.csv", 5, "exclusion_code", "required when full_text is exclude: one of no k or CI for the estimate, no pooled estimate in what was read, outcome out of scope, metric outside the schema, citation incomplete, same study recorded elsewhere, secondary summary only, not an impact design, not extracted in this pass"),
    ("screening/area.csv", 6, "record_id", "record_id 'area-0004' is used by more than one row"),
    ("screening/area.csv", 6, "screening", "required unless the record is a duplicate: include or exclude"),
    ("screening/area.csv", 6, "doi", "not a DOI: 'abc'"),
    ("screening/area.csv", 7, "citation_key", "required when full_text is include"),
    ("screening/area.csv", 7, "search_date", "not a YYYY-MM-DD date: '28/11/2026'"),
    ("screening/area.csv", 8, "duplicate_of", "duplicate_of 'area-0999' is not a record_id in screening/*.csv"),
    ("studies.yaml", None, None, "file not found"),
    ("syntheses/area.csv", 3, "estimate", "estimate 0.5 lies outside the CI [0.1, 0.4]"),
    ("syntheses/area.csv", 3, "metric", "unknown metric 'Hedges g'; expected one of g, d, SMD, SMC, MD, r, z, beta, b, OR, RR, HR, IRR, ROM, RD"),
    ("syntheses/area.csv", 4, "estimate", "OR is a ratio on the natural scale, so estimate must be > 0; got -0.3"),
    ("syntheses/area.csv", 4, "ci_lower", "OR is a ratio on the natural scale, so ci_lower must be > 0; got -0.5"),
    ("syntheses/area.csv", 4, "ci_upper", "OR is a ratio on the natural scale, so ci_upper must be > 0; got -0.1"),
    ("syntheses/area.csv", 5, "k", "k must be an integer >= 1; got 2.5"),
    ("syntheses/area.csv", 5, "n", "n must be an integer >= 1; got 0"),
    ("syntheses/area.csv", 5, "i2", "I^2 is in percent, 0 to 100; got 120"),
    ("syntheses/area.csv", 5, "tau2", "tau^2 must be >= 0; got -0.1"),
    ("syntheses/area.csv", 5, "id", "id 'lee2019pa-3' is used by more than one row"),
    ("syntheses/area.csv", 6, "question", "question Q2.1 belongs to P2, not to P1"),
    ("syntheses/area.csv", 6, "principle", "principle P1 has none of the row's questions (Q2.1)"),
    ("syntheses/area.csv", 6, "id", "id 'lee2019pa-3' is used by more than one row"),
    ("syntheses/area.csv", 7, "locator", "required value is empty"),
    ("syntheses/area.csv", 7, "citation_key", "citation_key 'missing2020x' is not in references/"),
    ("syntheses/area.csv", 7, "source_url", "not a DOI or an http(s) URL: 'www.example.org'"),
    ("syntheses/area.csv", 7, "citation_key", "citation_key 'missing2020x' is not a record included at full text in screening/area.csv"),
    ("syntheses/area.csv", 8, "ci_upper", "CI: ci_lower is given but ci_upper is empty"),
    ("syntheses/area.csv", 8, "ci_level", "required when a CI is given (e.g. 95)"),
    ("syntheses/area.csv", 8, "outcome_domain", f"unknown outcome_domain 'learning'; expected one of {DOMAINS}"),
    ("syntheses/area.csv", 9, "id", "id 'wrong-1' should be <citation_key>-<n>, i.e. start with 'smith2020sleep-'"),
    ("syntheses/area.csv", 9, "source_url", "DOI 10.1000/other differs from the DOI of smith2020sleep in references/one.bib (10.1000/sleep.1)"),
    ("syntheses/area.csv", 9, "checked", "the check must be an independent read by someone other than the extractor"),
    ("syntheses/area.csv", 10, "estimate", "not a number: 'NR' (leave the cell empty when not reported)"),
    ("syntheses/area.csv", 10, "principle", "unknown principle 'P9'; expected one of P1, P2"),
    ("syntheses/area.csv", 10, "question", "unknown question 'Q9.1' (not in principles.yaml)"),
]

ROWS_WARNINGS = [
    ("syntheses/area.csv", 2, "outcome_domain", "academic_achievement is not among the outcomes principles.yaml lists for Q1.2"),
    ("syntheses/area.csv", 4, "outcome_domain", "attendance is not among the outcomes principles.yaml lists for Q1.1"),
    ("syntheses/area.csv", 5, "outcome_domain", "engagement_behaviour is not among the outcomes principles.yaml lists for Q1.1"),
    ("syntheses/area.csv", 6, "outcome_domain", "engagement_behaviour is not among the outcomes principles.yaml lists for Q2.1"),
    ("syntheses/area.csv", 9, "outcome_domain", "academic_achievement is not among the outcomes principles.yaml lists for Q1.2"),
    ("principles.yaml", "Q2.2", None, "no synthesis row and no stated gap (gaps.yaml) for this question"),
]

YAML = [
    ("gaps.yaml", "Q7.1", "questions", "unknown question 'Q7.1' (not in principles.yaml)"),
    ("gaps.yaml", "Q7.1", "searched", "required value is empty"),
    ("principles.yaml", "Q2.2", "id", "question id 'Q2.2' should be Q1.<n> under P1"),
    ("principles.yaml", "P2", "text", "required value is empty"),
    ("principles.yaml", "Q2.1", "type", "type 'survey'; expected intervention or exposure"),
    ("principles.yaml", "Q2.1", "intervention", "required value is empty"),
    ("principles.yaml", "Q2.3", "comparator", "required value is empty"),
    ("principles.yaml", "Q2.3", "outcomes", f"unknown outcome domain 'learning'; expected one of {DOMAINS}"),
    ("principles.yaml", "P2", "id", "principle id P2 is used twice"),
    ("principles.yaml", "P2", "questions", "each principle has 2 to 4 evidence questions"),
    ("principles.yaml", "Q2.4", "outcomes", "at least one outcome domain is required"),
    ("studies.yaml", "dat.konstantopoulos2011", "questions", "question Q2.1 belongs to P2, not to P1"),
    ("studies.yaml", "dat.konstantopoulos2011", "outcome_domain", f"unknown outcome_domain 'grades'; expected one of {DOMAINS}"),
    ("studies.yaml", "dat.konstantopoulos2011", "also_cite", "citation key 'cooper2003effects' is not in references/"),
    ("studies.yaml", "dat.bangertdrowns2004", "directness", "required value is empty"),
    ("studies.yaml", "dat.bangertdrowns2004", "doi", "DOI 10.3102/00346543074001029 differs from the DOI of wrongdoi2004 (10.1000/not.the.source)"),
    ("studies.yaml", "dat.bangertdrowns2004", "citation_key", "the DOI of wrongdoi2004 (10.1000/not.the.source) is not in dat.bangertdrowns2004's documented source"),
    ("studies.yaml", "dat.crede2010", "citation_key", "citation_key 'crede2010class' is not in references/"),
    ("studies.yaml", "dat.crede2010", "doi", "not a DOI: 'none'"),
    ("studies.yaml", "dat.crede2010", "escalc", "dat.crede2010 has no yi and vi; say how to compute them (escalc)"),
    ("studies.yaml", "dat.aloe2013", "escalc", "mi='predictors' is not a column of dat.aloe2013"),
    ("studies.yaml", "dat.aloe2013", "citation_key", "the DOI of konstantopoulos2011fixed (10.1002/jrsm.35) is not in dat.aloe2013's documented source"),
    ("studies.yaml", "dat.nosuchdata", "dataset", "unknown dataset 'dat.nosuchdata'; not in src/evidence_kit/data/metadat"),
    ("studies.yaml", "dat.bcg", "dataset", "dat.bcg is listed twice"),
    ("studies.yaml", "dat.assink2016", "reason", "say why the dataset is not mapped"),
    ("studies.yaml", "dat.raudenbush1985", "dataset", "shipped dataset neither mapped nor listed under not_mapped"),
    ("studies.yaml", "dat.tannersmith2016", "dataset", "shipped dataset neither mapped nor listed under not_mapped"),
]


def _problems(tree: str) -> list[tuple]:
    base = ek.load_evidence(BAD / tree, strict=False)
    return [(p.file, p.row, p.column, p.message) for p in base.problems]


@pytest.mark.parametrize(("tree", "expected"), [("rows", ROWS), ("yaml", YAML)])
def test_exact_problems(tree, expected):
    assert _problems(tree) == expected


def test_warnings_are_not_problems():
    base = ek.load_evidence(BAD / "rows", strict=False)
    assert [(p.file, p.row, p.column, p.message) for p in base.warnings] == ROWS_WARNINGS
    # no syntheses at all: every question but Q1.1 (which has a stated gap) is flagged
    yaml_tree = ek.load_evidence(BAD / "yaml", strict=False)
    assert [(w.row, w.column) for w in yaml_tree.warnings] == [
        ("Q2.2", None), ("Q2.1", None), ("Q2.3", None), ("Q2.4", None)]


def test_unreadable_files():
    found = _problems("unreadable")
    head = [
        ("references/broken.bib", 7, None, "cannot parse this record: expected ',' after the citation key 'broken2021'"),
        ("references/broken.bib", 9, "title", "entry 'twice2022' has the field(s) title more than once"),
        ("screening/bad.csv", None, None, "cannot read the CSV file: Error tokenizing data. C error: EOF inside string starting at row 0"),
        ("screening/dup.csv", 1, "title", "column appears more than once"),
    ]
    assert found[0][:3] == ("principles.yaml", 4, None)
    # the wording after this differs between libyaml and pure-Python PyYAML
    assert found[0][3].startswith("cannot parse the YAML: while parsing a flow sequence")
    assert found[1:5] == head
    missing_screening = [c for c in SCREENING_COLUMNS if c not in ("record_id", "title")]
    assert found[5:5 + len(missing_screening)] == [("screening/dup.csv", 1, c, "missing column") for c in missing_screening]
    rest = found[5 + len(missing_screening):]
    assert rest[0] == ("studies.yaml", None, None, "file not found")
    assert rest[1] == ("syntheses/cols.csv", 1, "ci_low", "unknown column (see the column list in evidence/README.md)")
    present = ("id", "principle", "question", "citation_key", "metric")
    assert rest[2:] == [("syntheses/cols.csv", 1, c, "missing column") for c in SYNTHESES_COLUMNS if c not in present]
    assert len(found) == 5 + len(missing_screening) + 2 + len(SYNTHESES_COLUMNS) - len(present)


def test_strict_error_lists_them_all():
    with pytest.raises(ek.EvidenceError) as info:
        ek.load_evidence(BAD / "rows")
    assert len(info.value.problems) == len(ROWS)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{len(ROWS)} problem(s) in the evidence base:"
    assert lines[1] == "  references/one.bib, row 16, column author: entry 'noauthor2018' has no author or editor"
    assert "  studies.yaml: file not found" in lines
