"""APA 7 references: golden files (tests/golden/), one case per record type and rule.

The expected text of six cases is printed in the APA Publication Manual, 7th ed. (2020),
"Common References at a Glance" (Examples 1, 16, 20, 38, 50, 111); the others apply the rules
of sections 9.8, 9.12, 9.16, 9.17, 10.1, 10.2 and 10.6 to synthetic records (each case in
tests/golden/apa_records.json names its source).

The six Manual examples were transcribed from an OCR'd copy. Re-checked 2026-11-28 against
other sources found with the search tools (each case's "checked" field gives URL and section):
the chapter (Example 38) and the report (Example 50) agree with two university library guides
that reproduce them, so no OCR error was found there; the journal article's authors and title
match the article's own first page (volume, pages and DOI unchecked); the book, web page and
newspaper examples could not be found in any second source and remain unverified.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import evidence_kit as ek
from evidence_kit.citations.apa import author_list, bibliography

GOLDEN = Path(__file__).parent / "golden"


def _records() -> dict:
    cases = json.loads((GOLDEN / "apa_records.json").read_text(encoding="utf-8"))
    for case in cases.values():
        rec = case["record"]
        if isinstance(rec.get("author"), str):  # "@N": N synthetic authors
            n = int(rec["author"][1:])
            rec["author"] = [{"family": f"Author{i:02d}", "given": "Anna"} for i in range(1, n + 1)]
    return cases


def _golden(name: str) -> dict:
    text = (GOLDEN / name).read_text(encoding="utf-8")
    out = {}
    for block in text.split("== ")[1:]:
        key, _, body = block.partition("\n")
        out[key.strip()] = body.rstrip("\n")
    return out


CASES = _records()
EXPECTED = _golden("apa_text.txt")


def test_golden_grid_is_complete():
    expected = {"journal_article", "book", "chapter", "report", "web_page", "thesis",
                "missing_fields", "twenty_authors", "twenty_one_authors", "non_ascii_names",
                "newspaper", "edited_book", "article_number_in_press"}
    assert set(CASES) == expected and set(EXPECTED) == expected


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_apa_text(case):
    assert ek.format_reference(CASES[case]["record"], style="apa") == EXPECTED[case]


def test_html_and_markdown_italics_and_links():
    rec = CASES["journal_article"]["record"]
    md = ek.format_reference(rec, format="markdown")
    assert "*Psychological Review*, *126*(1), 1–51. <https://doi.org/10.1037/rev0000126>" in md
    html = ek.format_reference(rec, format="html")
    assert "<i>Psychological Review</i>, <i>126</i>(1)" in html
    assert '<a href="https://doi.org/10.1037/rev0000126">' in html and "&amp; Christiansen" in html
    book = ek.format_reference(CASES["book"]["record"], format="markdown")
    assert book.startswith("Brown, L. S. (2018). *Feminist therapy* (2nd ed.).")


def test_author_list_rule_boundaries():
    names = [{"family": f"F{i}", "given": "G"} for i in range(1, 23)]
    assert author_list(names[:1]) == "F1, G."
    assert author_list(names[:2]) == "F1, G., & F2, G."
    assert author_list(names[:20]).count(",") == 39 and "& F20, G." in author_list(names[:20])
    for k in (21, 22):
        text = author_list(names[:k])
        assert text.endswith(f"F19, G., . . . F{k}, G.") and "&" not in text


def test_bibliography_orders_and_formats():
    recs = [CASES[c]["record"] for c in ("non_ascii_names", "book", "journal_article", "report")]
    text = bibliography(recs)
    firsts = [line.split(",")[0].split(".")[0] for line in text.strip().split("\n")]
    assert firsts == ["Brown", "McCauley", "Müller", "National Cancer Institute"]
    assert bibliography(recs, format="markdown").count("\n\n") == 3
    html = bibliography(recs, format="html")
    assert html.startswith('<div class="references">') and html.count("<p ") == 4
    with pytest.raises(ValueError, match="unknown format 'pdf'; expected one of text, html, markdown"):
        bibliography(recs, format="pdf")
    with pytest.raises(ValueError, match="unknown style 'mla'"):
        ek.format_reference(recs[0], style="mla")


def test_every_real_record_formats(shared_dir):
    """All 3,000+ records of the real exports format in every output, one entry each."""
    import csv

    root = shared_dir / "data" / "citations"
    if not root.exists():
        pytest.skip("../shared/data/citations is not present")
    fmt = {"bibtex": "bibtex", "ris": "ris", "medline": "medline", "csl-json": "csl-json",
           "wos-tagged": "wos"}
    records = []
    with (root / "MANIFEST.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["path"].startswith("invalid/"):
                records += ek.read_citations(root / row["path"], fmt[row["format"]],
                                             encoding="gbk" if "gbk" in row["path"] else None)
    assert len(records) > 3000
    text = bibliography(records)
    assert text.count("\n") == len(records)
    assert bibliography(records, format="html").count("<p ") == len(records)
    assert all(line.strip() for line in text.splitlines())


def test_untitled_and_multiline_values():
    assert ek.format_reference({"type": "report", "issued": {"date-parts": [[2020]]}}) == \
        "[Untitled]. (2020)."
    rec = {"type": "article-journal", "title": "A title\nthat wraps", "author": [{"family": "Li", "given": "Wei"}],
           "container-title": "Journal  of\tThings", "issued": {"date-parts": [[2021]]}}
    assert ek.format_reference(rec) == "Li, W. (2021). A title that wraps. Journal of Things."
