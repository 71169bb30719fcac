"""Independent readers as oracles: rispy 0.10 (RIS) and bibtexparser 2.1 (BibTeX) must find the
same records, titles, DOIs and authors as ours on the real exports they can read.

Where they cannot (entries without a key, repeated fields, %-commented entries: see
test_bibtexparser_failures_are_the_known_quirks), ours reads the file and the manifest count
is the check (tests/test_citations_io.py)."""

from __future__ import annotations

import csv

import bibtexparser
import pytest
import rispy

import evidence_kit as ek
from evidence_kit.citations._latex import latex_to_unicode
from evidence_kit.citations._text import split_name
from evidence_kit.citations.io import parse_citations


def _rows(shared_dir, fmt):
    root = shared_dir / "data" / "citations"
    if not (root / "MANIFEST.csv").exists():
        pytest.skip("../shared/data/citations is not present")
    with (root / "MANIFEST.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["format"] == fmt and not r["path"].startswith("invalid/")]
    return root, rows


def test_rispy_agrees(shared_dir):
    root, rows = _rows(shared_dir, "ris")
    assert len(rows) == 15
    for row in rows:
        path = root / row["path"]
        with path.open(encoding="utf-8-sig") as fh:
            theirs = rispy.load(fh)
        ours = ek.read_citations(path)
        assert len(ours) == len(theirs), row["path"]
        for a, b in zip(theirs, ours):
            assert b.get("title") == (a.get("title") or a.get("primary_title")), row["path"]
            assert b.get("DOI") == a.get("doi"), row["path"]
            names = (a.get("authors") or []) + (a.get("first_authors") or [])
            assert b.get("author", []) == [split_name(n, suffix_last=True) for n in names], row["path"]


def _decode(path):
    raw = path.read_bytes()
    return raw.decode("gbk") if "gbk" in path.name else raw.decode("utf-8-sig")


def test_bibtexparser_agrees(shared_dir):
    root, rows = _rows(shared_dir, "bibtex")
    compared = 0
    for row in rows:
        if row["path"].endswith("quietly-discarded-entries_873.bib"):
            continue  # bibtexparser loses an entry there: see the quirks test below
        text = _decode(root / row["path"])
        lib = bibtexparser.parse_string(text)
        if any(type(b).__name__ != "DuplicateBlockKeyBlock" for b in lib.failed_blocks):
            continue  # a block bibtexparser could not read: the quirks test covers these
        theirs = list(lib.entries) + [b.ignore_error_block for b in lib.failed_blocks
                                      if type(b).__name__ == "DuplicateBlockKeyBlock"]
        ours = parse_citations(text, "bibtex")
        if "biblatex-apa" in row["path"]:
            # bibtexparser reads the %-commented-out copy of entry 10.1:18 as an entry
            theirs = [e for e in theirs if not (e.key == "10.1:18" and e.start_line > 0
                                                and text.splitlines()[e.start_line].lstrip().startswith("%"))]
        by_key: dict = {}
        for e in theirs:
            by_key.setdefault(e.key, []).append(e)
        assert sorted(r["id"] for r in ours) == sorted(e.key for e in theirs), row["path"]
        for rec in ours:
            entry = by_key[rec["id"]].pop(0) if len(by_key[rec["id"]]) == 1 else None
            if entry is None or "title" not in entry.fields_dict:
                continue
            value = entry.fields_dict["title"].value
            if value.startswith("{") and value.endswith("}"):
                value = value[1:-1]
            assert rec.get("title") == latex_to_unicode(value), (row["path"], rec["id"])
            compared += 1
    assert compared > 500  # titles of uniquely keyed entries in the files both read


def test_bibtexparser_failures_are_the_known_quirks(shared_dir):
    """The real exports bibtexparser 2.1 cannot read fully, and what ours reads there."""
    root, _ = _rows(shared_dir, "bibtex")
    quirks = {"bbt_endnote-export-no-key.bib": 1, "synthesisr_Scopus_bib_example.bib": 3}
    for name, count in quirks.items():
        lib = bibtexparser.parse_string(_decode(root / "bibtex" / name))
        assert len(lib.entries) < count  # no key (EndNote); a repeated field (Scopus)
        assert len(ek.read_citations(root / "bibtex" / name)) == count
    # BBT issue #873 "entries quietly discarded": bibtexparser silently loses one of 988
    path = root / "bibtex" / "bbt_quietly-discarded-entries_873.bib"
    lib = bibtexparser.parse_string(_decode(path))
    theirs = {e.key for e in lib.entries}
    ours = ek.read_citations(path)
    assert len(ours) == 988 and "BerleantKuipers:97" not in theirs
    assert "BerleantKuipers:97" in {r["id"] for r in ours}
