"""Fuzz the evidence readers: whatever the cells or the BibTeX hold, the loader reports problems
(with a file, and a row and column inside the table) and never crashes."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._bib import read_references
from evidence_kit.evidence._tables import check_screening, check_syntheses, read_tables

QUESTIONS = {"Q1.1": "P1", "Q1.2": "P1", "Q2.1": "P2"}
OUTCOMES = {"Q1.1": ["academic_achievement"], "Q1.2": ["attendance"], "Q2.1": ["staff_health_retention"]}
REFERENCES = {"smith2020sleep": {"key": "smith2020sleep", "file": "references/a.bib", "line": 1,
                                 "doi": "10.1000/sleep.1"}}

# cells drawn from values that are valid somewhere, plus hostile text
cell = st.one_of(
    st.sampled_from(["", "P1", "P1;P2", "Q1.1", "Q2.1;Q1.2", "smith2020sleep", "g", "OR", "0", "-1",
                     "0.5", "1e3", "NaN", "inf", "12", "95", "academic_achievement", "include",
                     "exclude", "not_retrieved", "database", "10.1000/sleep.1",
                     "https://doi.org/10.1000/sleep.1", "smith2020sleep-1", "2026-11-28"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)


def _table(columns):
    return st.lists(st.fixed_dictionaries({c: cell for c in columns}), min_size=1, max_size=6)


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(syntheses=_table(S.SYNTHESES_COLUMNS), screening=_table(S.SCREENING_COLUMNS))
def test_tables_never_crash(syntheses, screening):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root / "syntheses" / "a.csv", syntheses)
        _write(root / "screening" / "a.csv", screening)
        problems, warnings = [], []
        scr = read_tables(root / "screening", root, S.SCREENING_COLUMNS, problems)
        included = check_screening(scr, REFERENCES, problems)
        syn = read_tables(root / "syntheses", root, S.SYNTHESES_COLUMNS, problems)
        out = check_syntheses(syn, QUESTIONS, REFERENCES, included, problems, warnings, OUTCOMES)
    assert len(out) == len(syntheses) and len(scr) == len(screening)  # nothing dropped
    for p in problems + warnings:
        assert p.file in ("syntheses/a.csv", "screening/a.csv")
        assert p.row is None or 1 <= p.row <= 1 + max(len(syntheses), len(screening))
        columns = S.SYNTHESES_COLUMNS if p.file.startswith("syntheses") else S.SCREENING_COLUMNS
        assert p.column is None or p.column in columns
    for col in S.SYNTHESES_NUMERIC:
        assert out[col].dtype == float


@settings(max_examples=40, deadline=None)
@given(text=st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["@article{", "key,", "title = {", "}", "{", "\"", "year = 2020,",
                              "doi = {10.1/x}", "@comment{", "@string{a = {b}}", "\n", ","]),
             max_size=30).map("".join),
))
def test_bibtex_reader_never_crashes(text):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "references").mkdir()
        (root / "references" / "a.bib").write_text(text, encoding="utf-8")
        problems = []
        records = read_references(root / "references", root, problems)
    for key, rec in records.items():
        assert rec["id"] == key and rec.source.file == "references/a.bib"
    assert all(p.file == "references/a.bib" for p in problems)
