"""The quirks MANIFEST.csv lists for each real export, checked field by field."""

from __future__ import annotations

import pytest

import evidence_kit as ek


@pytest.fixture(scope="module")
def root(shared_dir):
    path = shared_dir / "data" / "citations"
    if not path.exists():
        pytest.skip("../shared/data/citations is not present")
    return path


def test_ris_empty_values(root):
    # asreview test_nan_values_ris: records 2 and 4 have no title, 1 and 3 no abstract
    recs = ek.read_citations(root / "ris" / "asreview_baseline_empty_values.ris")
    assert [r.get("title") is None for r in recs] == [False, True, False, True]
    assert [r.get("abstract") is None for r in recs] == [True, False, True, False]


def test_ris_flavours(root):
    ovid = ek.read_citations(root / "ris" / "asreview_ovid_psycinfo.ris")
    assert all("NL" in r["custom"]["ris"] for r in ovid)  # NL after ER stays with its record
    assert ovid[0]["DOI"] == "http://dx.doi.org/10.1002/cpp.2398"  # as exported
    assert ek.normalize_doi(ovid[0]["DOI"]) == "10.1002/cpp.2398"
    wos = ek.read_citations(root / "ris" / "citesource_WoS_79.ris")
    assert max(len(r["custom"]["ris"].get("AD", [])) for r in wos) > 1  # bare-CR separated AD tags
    jstor = ek.read_citations(root / "ris" / "colrev_jstor_ris.ris")
    assert [r["type"] for r in jstor][0] == "article-journal" and "Provider" not in str(jstor)
    endnote = ek.read_citations(root / "ris" / "asreview_pubmed_endnote.txt")
    assert "Animals" in endnote[0]["keyword"]
    utf = ek.read_citations(root / "ris" / "rispy_example_utf_chars.ris")[0]
    assert utf["type"] == "article-journal" and utf["custom"]["ris"]["TY"] == ["Journal Article"]
    assert utf["volume"] == "8" and utf["note"] == "Ä,Ö,Ü,ä,ö,ü,ß"  # non-standard VO tag
    embase = ek.read_citations(root / "ris" / "asreview_embase.ris")
    assert embase[0]["author"][1] == {"family": "Adler", "given": "D.G."}
    scopus = ek.read_citations(root / "ris" / "asreview_scopus.ris")
    assert len(scopus[0]["keyword"]) > 5


def test_bibtex_flavours(root):
    wos = ek.read_citations(root / "bibtex" / "colrev_web_of_science_bib.bib")
    assert wos[1]["id"] == "WOS:000444488888888"          # space after '{'
    assert wos[1]["title"] == "A dummy title's"            # HTML entity &apos;
    assert wos[0]["DOI"] == "10.1007/999-9-999-99999-9_3"  # escaped underscore
    crlf = ek.read_citations(root / "bibtex" / "bbt_crlf-double-newlines_2789.bib")[0]
    assert "\r" not in crlf["abstract"]
    jabref = ek.read_citations(root / "bibtex" / "bbt_jabref51-groups_1641.bib")
    assert not any("jabref-meta" in str(r.get("id")) for r in jabref)
    mendeley = ek.read_citations(root / "bibtex" / "bbt_mendeley-export_web_page.bib")
    assert sum(r["id"] == "" for r in mendeley) == 37  # empty keys kept, not dropped
    assert {"webpage", "chapter", "article-newspaper"} <= {r["type"] for r in mendeley}
    (endnote,) = ek.read_citations(root / "bibtex" / "bbt_endnote-export-no-key.bib")
    assert endnote["id"] == "" and endnote["author"][0] == {"family": "Huang", "given": "Y."}
    (features,) = ek.read_citations(root / "bibtex" / "bibtexparser_features.bib")
    assert features["issued"] == {"date-parts": [[2014]]}
    apa = ek.read_citations(root / "bibtex" / "bbt_biblatex-apa_plus-in-field-name_2660.bib")
    assert [r["id"] for r in apa].count("10.1:18") == 1  # the %-commented copy is a comment
    assert any(k.startswith("author+an") for r in apa for k in r.get("custom", {}).get("bibtex", {}))
    (thie,) = [r for r in ek.read_citations(root / "bibtex" / "bbt_quietly-discarded-entries_873.bib")
               if r["id"] == "Thiebaux:93"]
    assert len(thie["author"]) == 4  # the \{ escape neither swallows nor splits the list


def test_medline_and_csl_flavours(root):
    ahead = ek.read_citations(root / "medline" / "synthesisr_res_synth_methods.txt")
    assert [r["custom"]["medline"]["STAT"] for r in ahead] == [["Publisher"], ["In-Process"]]
    (eric,) = ek.read_citations(root / "medline" / "colrev_eric_nbib.nbib")
    assert "PMID" not in eric and eric["author"][0] == {"family": "Smith", "given": "Tom"}
    (jab,) = ek.read_citations(root / "medline" / "jabref_MedlinePlainImporterTestCompleteEntry.txt")
    assert jab.get("PMCID") and jab["custom"]["medline"]["MH"]
    dates = ek.read_citations(root / "csl-json" / "bbt_date-export_360_811.csl.json")
    assert dates[0]["issued"]["date-parts"][1] == ["2012", 6, 26] and dates[0].year == 2011


def test_ris_name_suffix_order():
    """RIS writes 'Lastname, Firstname, Suffix' (RIS specification, AU tag)."""
    from evidence_kit.citations.io import format_citations, parse_citations

    recs = parse_citations("TY  - JOUR\nAU  - Smith, John, Jr.\nTI  - T\nER  - \n", "ris")
    assert recs[0]["author"] == [{"family": "Smith", "given": "John", "suffix": "Jr."}]
    assert "AU  - Smith, John, Jr." in format_citations(recs, "ris")
    assert "author = {Smith, Jr., John}" in format_citations(recs, "bibtex")


def test_ris_record_without_ty_is_an_error_not_a_merge():
    from evidence_kit.citations.io import parse_citations

    text = "TY  - JOUR\nTI  - A\nER  - \n\nTI  - B, whose TY is missing\nER  - \n"
    with pytest.raises(ek.CitationParseError, match=r"line 5, record after #1: tag TI outside a record"):
        parse_citations(text, "ris")
    records, failures = parse_citations(text, "ris", strict=False)
    assert [r["title"] for r in records] == ["A"] and len(failures) == 2  # TI and the stray ER


def test_medline_group_author_cn():
    from evidence_kit.citations.io import format_citations, parse_citations

    text = ("PMID- 1\nTI  - Trial\nFAU - Smith, Jane\nAU  - Smith J\n"
            "CN  - School Health Trial Group\nFAU - Doe, John\nAU  - Doe J\n")
    (rec,) = parse_citations(text, "medline")
    assert rec["author"] == [{"family": "Smith", "given": "Jane"},
                             {"literal": "School Health Trial Group"},
                             {"family": "Doe", "given": "John"}]
    assert parse_citations(format_citations([rec], "medline"), "medline") == [rec]
