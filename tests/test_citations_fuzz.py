"""Property tests (round trips) and fuzzing: every reader, fed random bytes or truncated real
files, returns records or raises CitationParseError, nothing else."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evidence_kit as ek
from evidence_kit.citations._latex import latex_to_unicode, unicode_to_latex
from evidence_kit.citations._text import decode_bytes
from evidence_kit.citations.io import FORMATS, format_citations, parse_citations

SAMPLES = {
    "bibtex": "@string{j = {J. Sch. Health}}\n@article{k1,\n  author = {M{\\\"u}ller, J{\\\"o}rg and "
              "van der Berg, Jan},\n  title = {{DNA} and 50\\% of schools},\n  journal = j,\n"
              "  year = 2020, month = mar,\n  pages = {1--10},\n  doi = {10.1000/x\\_1}\n}\n",
    "ris": "TY  - JOUR\nAU  - Müller, Jörg\nTI  - Title\nPY  - 2020///\nKW  - a\nKW  - b\nER  - \n",
    "csl-json": '[{"id": "a", "type": "book", "title": "T", "author": [{"family": "F"}]}]',
    "medline": "PMID- 1\nTI  - A title\n      continued\nFAU - Smith, Jane\nDP  - 2020 Mar 5\n",
    "wos": "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAF Smith, Jane\n   Doe, J\n"
           "TI A title\n   continued\nPY 2020\nER\n\nEF\n",
}


def _read_any(data: bytes, fmt: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Latin-1 fallback warning is expected here
        text = decode_bytes(data, "fuzz")
    try:
        records = parse_citations(text, fmt, file="fuzz")
    except ek.CitationParseError:
        return None
    assert isinstance(records, list) and all(isinstance(r, ek.Citation) for r in records)
    records2, failures = parse_citations(text, fmt, file="fuzz", strict=False)
    assert records2 == records and failures == []
    return records


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_random_bytes(fmt, data):
    _read_any(data, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 400), noise=st.binary(max_size=8))
def test_truncated_and_spliced_samples(fmt, cut, noise):
    raw = SAMPLES[fmt].encode("utf-8")
    _read_any(raw[:cut] + noise + raw[cut:cut + 40], fmt)


def test_truncated_real_files(shared_dir):
    root = shared_dir / "data" / "citations"
    if not root.exists():
        pytest.skip("../shared/data/citations is not present")
    files = {"bibtex": "bibtex/bibtexparser_traps.bib", "ris": "ris/colrev_jstor_ris.ris",
             "medline": "medline/colrev_eric_nbib.nbib",
             "csl-json": "csl-json/bbt_season-ranges_860.csl.json",
             "wos": "wos/synthesisr_WoS_ciw_example.ciw"}
    for fmt, rel in files.items():
        raw = (root / rel).read_bytes()
        for cut in range(0, len(raw), max(1, len(raw) // 25)):
            _read_any(raw[:cut], fmt)


def test_samples_parse():
    for fmt, text in SAMPLES.items():
        (rec,) = parse_citations(text, fmt)
        assert rec.get("title"), fmt
    (bib,) = parse_citations(SAMPLES["bibtex"], "bibtex")
    assert bib["author"][1] == {"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"}
    assert bib["container-title"] == "J. Sch. Health" and bib["issued"] == {"date-parts": [[2020, 3]]}
    assert bib["DOI"] == "10.1000/x_1" and bib["title"] == "DNA and 50% of schools"


# --- round trips -------------------------------------------------------------------------
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")), min_size=1,
                max_size=30)
_words = st.lists(_text, min_size=1, max_size=4).map(" ".join)
_letters = st.text(st.characters(whitelist_categories=("Lu", "Ll")), min_size=2, max_size=12)


@st.composite
def citations(draw):
    rec = ek.Citation(type=draw(st.sampled_from(["article-journal", "book", "chapter", "report",
                                                 "thesis", "webpage"])))
    rec["id"] = draw(st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True))
    rec["title"] = draw(_words)
    rec["author"] = [{"family": draw(_letters).capitalize(), "given": draw(_letters).capitalize()}
                     for _ in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        rec["author"].append({"literal": f"{draw(_letters).capitalize()} Health Organization"})
    if draw(st.booleans()):
        rec["editor"] = [{"family": draw(_letters).capitalize(), "given": draw(_letters).capitalize()}]
    date = [draw(st.integers(1900, 2030))]
    if draw(st.booleans()):
        date.append(draw(st.integers(1, 12)))
        if draw(st.booleans()):
            date.append(draw(st.integers(1, 28)))
    rec["issued"] = {"date-parts": [date]}
    if draw(st.booleans()):
        rec["issue"] = str(draw(st.integers(1, 12)))
    if draw(st.booleans()):
        rec["publisher"] = draw(_words)
    if draw(st.booleans()):
        rec["container-title"] = draw(_words)
    if draw(st.booleans()):
        rec["volume"] = str(draw(st.integers(1, 300)))
    if draw(st.booleans()):
        a = draw(st.integers(1, 500))
        rec["page"] = f"{a}-{a + draw(st.integers(0, 50))}"
    if draw(st.booleans()):
        rec["DOI"] = f"10.{draw(st.integers(1000, 99999))}/{draw(_letters).lower()}"
    if draw(st.booleans()):
        rec["keyword"] = draw(st.lists(_letters, min_size=1, max_size=4))
    if draw(st.booleans()):
        rec["abstract"] = draw(_words)
    return rec


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40, deadline=None)
@given(records=st.lists(citations(), min_size=1, max_size=4))
def test_same_format_round_trip(fmt, records):
    once = parse_citations(format_citations(records, fmt), fmt)
    twice = parse_citations(format_citations(once, fmt), fmt)
    assert twice == once  # writing what was read changes nothing
    for a, b in zip(records, once):  # and every mapped field survived the first trip
        for var in ("title", "container-title", "volume", "issue", "page", "DOI", "keyword",
                    "abstract", "publisher", "editor"):
            if var in a:
                assert b.get(var) == a[var], (fmt, var)
        assert [_family(n) for n in b["author"]] == [_family(n) for n in a["author"]]
        assert b["issued"]["date-parts"] == a["issued"]["date-parts"], fmt


def _family(name):
    """An organisation is a literal name in BibTeX and CSL-JSON, a family name elsewhere."""
    return name.get("literal") or name.get("family")


@settings(max_examples=100, deadline=None)
@given(text=_words)
def test_latex_escaping_round_trip(text):
    text = " ".join(text.split())
    assert latex_to_unicode(unicode_to_latex(text)) == text
