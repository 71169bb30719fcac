"""Reading real exports (../shared/data/citations, MANIFEST.csv) with the exact record counts,
refusing malformed ones clearly, round trips, encodings, format detection."""

from __future__ import annotations

import csv
import json
import warnings

import pytest

import evidence_kit as ek
from evidence_kit.citations._text import EncodingFallbackWarning
from evidence_kit.citations.io import format_citations, parse_citations

FORMAT_OF = {"bibtex": "bibtex", "ris": "ris", "medline": "medline", "csl-json": "csl-json",
             "wos-tagged": "wos"}


def _manifest(shared_dir):
    root = shared_dir / "data" / "citations"
    if not (root / "MANIFEST.csv").exists():
        pytest.skip("../shared/data/citations is not present")
    with (root / "MANIFEST.csv").open(encoding="utf-8") as fh:
        return root, list(csv.DictReader(fh))


def _read(root, row, strict=True):
    enc = "gbk" if "gbk" in row["path"] else None
    return ek.read_citations(root / row["path"], FORMAT_OF.get(row["format"]), strict=strict,
                             encoding=enc)


def test_manifest_lists_fifty_files(shared_dir):
    root, rows = _manifest(shared_dir)
    assert len(rows) == 50
    assert all((root / r["path"]).exists() for r in rows)


def test_every_valid_file_reads_with_the_exact_count(shared_dir):
    root, rows = _manifest(shared_dir)
    checked = 0
    for row in rows:
        if row["path"].startswith("invalid/"):
            continue
        records = _read(root, row)
        assert len(records) == int(row["expected_entries"]), row["path"]
        assert all(isinstance(r, ek.Citation) for r in records)
        checked += 1
    assert checked == 46


def test_malformed_files_fail_clearly_and_recover_the_rest(shared_dir):
    root, rows = _manifest(shared_dir)
    invalid = [r for r in rows if r["path"].startswith("invalid/")]
    assert len(invalid) == 4
    for row in invalid:
        with pytest.raises(ek.CitationParseError) as info:
            _read(root, row)
        err = info.value
        assert isinstance(err, ValueError)
        assert err.file.endswith(row["path"]) and err.line >= 1
        assert row["path"] in str(err) and f"line {err.line}" in str(err)
        records, failures = _read(root, row, strict=False)
        assert failures, row["path"]
        # nothing silently dropped: every expected record is either read or reported
        assert len(records) + len(failures) >= int(row["expected_entries"]), row["path"]


def test_wos_tagged_file_with_ris_extension_is_refused(shared_dir):
    root, _ = _manifest(shared_dir)
    with pytest.raises(ek.CitationParseError, match="Web of Science tagged format"):
        ek.read_citations(root / "wos" / "rispy_example_wos.ris")
    with pytest.raises(ek.CitationParseError, match="Web of Science"):
        ek.read_citations(root / "wos" / "synthesisr_WoS_ciw_example.ciw", format="ris")
    # read as what it is, it gives its records (.ciw by extension; .ris needs format="wos")
    assert len(ek.read_citations(root / "wos" / "synthesisr_WoS_ciw_example.ciw")) == 5
    wos = ek.read_citations(root / "wos" / "rispy_example_wos.ris", format="wos")
    assert len(wos) == 2 and wos[0]["DOI"] == "10.1021/bi049798f"
    assert wos[0]["author"][0] == {"family": "Parkes-Loach", "given": "PS"}


def test_same_format_round_trips_lose_nothing(shared_dir, tmp_path):
    root, rows = _manifest(shared_dir)
    for row in rows:
        if row["path"].startswith("invalid/"):
            continue
        records = _read(root, row)
        fmt = FORMAT_OF[row["format"]]
        again = parse_citations(format_citations(records, fmt), fmt)
        assert again == records, row["path"]


def _ws(value):
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_ws(v) for v in value]
    return value


def test_cross_format_keeps_every_mapped_field(shared_dir):
    root, _ = _manifest(shared_dir)
    records = ek.read_citations(root / "ris" / "citesource_gambling-harms_pubmed_176.ris")
    mapped = ["title", "author", "issued", "container-title", "volume", "issue", "page", "DOI",
              "abstract", "keyword"]
    for fmt in ("bibtex", "csl-json", "medline"):
        again = parse_citations(format_citations(records, fmt), fmt)
        assert len(again) == len(records)
        for a, b in zip(records, again):
            for var in mapped:
                if var in a and not (fmt == "medline" and var == "issued"):
                    # BibTeX and MEDLINE treat runs of whitespace as one space
                    assert _ws(b.get(var)) == _ws(a[var]), (fmt, var, a.get("title"))
    # CSL-JSON keeps everything, custom fields included
    assert parse_citations(format_citations(records, "csl-json"), "csl-json") == records


def test_bibtex_details(shared_dir):
    root, _ = _manifest(shared_dir)
    (rec,) = ek.read_citations(root / "bibtex" / "bibtexparser_article_with_strings.bib")
    assert rec["author"] == [{"family": "César", "given": "Jean"}]
    (rec,) = ek.read_citations(root / "bibtex" / "bibtexparser_traps.bib")
    assert rec["title"] == "An amazing title"
    biber = ek.read_citations(root / "bibtex" / "bibtexparser_biber-examples.bib")
    assert [r["id"] for r in biber].count("tmn4") == 2  # duplicate key kept, not dropped
    crossref = ek.read_citations(root / "bibtex" / "bibtexparser_crossref_entries.bib")
    inherited = [r for r in crossref if "crossref" in r.get("custom", {}).get("bibtex", {})]
    assert inherited and all("container-title" in r for r in inherited)
    (gbk,) = ek.read_citations(root / "bibtex" / "bibtexparser_gbk_test.bib", encoding="gbk")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in gbk["id"])
    with pytest.warns(EncodingFallbackWarning, match="not valid UTF-8"):
        ek.read_citations(root / "bibtex" / "bibtexparser_gbk_test.bib")
    (scopus1, *_) = ek.read_citations(root / "bibtex" / "synthesisr_Scopus_bib_example.bib")
    assert "funding_text\xa01" in scopus1["custom"]["bibtex"]


def test_ris_and_medline_details(shared_dir):
    root, _ = _manifest(shared_dir)
    (many,) = ek.read_citations(root / "ris" / "asreview_ris_many_authors.ris")
    assert len(many["author"]) == 7456
    endnote = ek.read_citations(root / "ris" / "asreview_pubmed_endnote.txt")
    assert len(endnote[0]["keyword"]) > 1  # one keyword per continuation line
    multi = ek.read_citations(root / "ris" / "rispy_example_multiline.ris")
    assert any("ER then" in (r.get("abstract") or "") for r in multi)
    (chapter,) = ek.read_citations(root / "medline" / "pybtexnbib_marcelis-20301770.nbib")
    assert chapter["type"] == "chapter" and chapter["PMID"] == "20301770"
    pubmed = ek.read_citations(root / "medline" / "synthesisr_PubMed_example.txt")
    assert all(r.get("PMID") and r.get("author") for r in pubmed)


def test_encodings_bom_crlf_latin1(tmp_path):
    text = "TY  - JOUR\r\nTI  - Schüler und Gesundheit\r\nAU  - Müller, Jörg\r\nER  - \r\n"
    (tmp_path / "bom.ris").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "latin1.ris").write_bytes(text.encode("latin-1"))
    (rec,) = ek.read_citations(tmp_path / "bom.ris")
    assert rec["title"] == "Schüler und Gesundheit"
    with pytest.warns(EncodingFallbackWarning, match="latin1.ris.*line 2"):
        (rec2,) = ek.read_citations(tmp_path / "latin1.ris")
    assert rec2 == rec
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ek.read_citations(tmp_path / "latin1.ris", encoding="latin-1") == [rec]


def test_format_from_extension_and_txt_sniffing(tmp_path):
    recs = [ek.Citation(id="a1", type="article-journal", title="T", DOI="10.1/x")]
    for name in ("x.bib", "x.ris", "x.json", "x.nbib"):
        ek.write_citations(recs, tmp_path / name)
        back = ek.read_citations(tmp_path / name)
        assert back[0]["title"] == "T" and back[0]["DOI"] == "10.1/x", name
    (tmp_path / "y.txt").write_text((tmp_path / "x.ris").read_text())
    assert ek.read_citations(tmp_path / "y.txt")[0]["title"] == "T"
    (tmp_path / "z.txt").write_text("hello")
    with pytest.raises(ValueError, match="cannot tell the citation format"):
        ek.read_citations(tmp_path / "z.txt")
    with pytest.raises(ValueError, match="unknown format 'xml'; expected one of bibtex"):
        ek.read_citations(tmp_path / "x.ris", format="xml")


def test_errors_name_file_line_record(tmp_path):
    bib = "@article{good, title={A}}\n\n@article{bad, title={B}, year = }\n@article{next, title={C}}\n"
    (tmp_path / "b.bib").write_text(bib)
    with pytest.raises(ek.CitationParseError, match=r"b\.bib, line 3, record bad"):
        ek.read_citations(tmp_path / "b.bib")
    records, failures = ek.read_citations(tmp_path / "b.bib", strict=False)
    assert [r["id"] for r in records] == ["good", "next"] and len(failures) == 1
    (tmp_path / "c.json").write_text('[{"id": "a", "author": "Smith"}]')
    with pytest.raises(ek.CitationParseError, match=r"line 1, record a: 'author' must be a list"):
        ek.read_citations(tmp_path / "c.json")
    (tmp_path / "d.json").write_text('[{"id": "a",\n "title": }]')
    with pytest.raises(ek.CitationParseError, match="line 2"):
        ek.read_citations(tmp_path / "d.json")


def test_citations_frame(shared_dir):
    root, _ = _manifest(shared_dir)
    records = ek.read_citations(root / "medline" / "synthesisr_PubMed_example.txt")
    frame = ek.citations_frame(records)
    assert len(frame) == 3 and frame["pmid"].notna().all()
    assert str(frame["year"].dtype) == "Int64" and frame["line"].iloc[0] >= 1
    assert list(frame["format"].unique()) == ["medline"]
    assert ek.citations_frame([]).shape == (0, 19)


def test_csl_json_keeps_unknown_keys(tmp_path):
    item = {"id": "x", "type": "book", "title": "T", "zz-unknown": {"a": [1, 2]},
            "issued": {"date-parts": [[2020, 5]]}, "keyword": "a, b"}
    (tmp_path / "x.json").write_text(json.dumps([item]))
    (rec,) = ek.read_citations(tmp_path / "x.json")
    assert rec["keyword"] == ["a", "b"] and rec["zz-unknown"] == {"a": [1, 2]}
    ek.write_citations([rec], tmp_path / "y.json")
    assert json.loads((tmp_path / "y.json").read_text()) == [item]


def test_bibtex_keeps_latex_as_written(shared_dir):
    root, _ = _manifest(shared_dir)
    (rec,) = ek.read_citations(root / "bibtex" / "bibtexparser_traps.bib")
    assert rec["title"] == "An amazing title"  # decoded for use ...
    text = format_citations([rec], "bibtex")
    assert "title = {{An} amazing {title}}" in text  # ... and written back as it was
    rec["title"] = "An edited title"
    assert "title = {An edited title}" in format_citations([rec], "bibtex")
    (sc,) = ek.read_citations(root / "bibtex" / "bibtexparser_article_with_special_characters.bib")
    assert "C{\\'e}sar" in format_citations([sc], "bibtex")


def test_bom_with_explicit_encoding_and_utf16(tmp_path):
    bib = "@article{a, title={Ä}}\n"
    (tmp_path / "a.bib").write_bytes(b"\xef\xbb\xbf" + bib.encode("utf-8"))
    assert ek.read_citations(tmp_path / "a.bib", encoding="utf-8")[0]["id"] == "a"
    (tmp_path / "b.bib").write_bytes(bib.encode("utf-16"))  # with its BOM
    assert ek.read_citations(tmp_path / "b.bib")[0]["title"] == "Ä"


def test_bibtex_entries_anywhere_but_in_comments():
    text = ("@article{a, title={A}}@article{b, title={B}} % @article{c, title={C}}\n"
            "mail me@example.org @book{d, title={D}}\n%@misc{e, title={E}}\n")
    assert [r["id"] for r in parse_citations(text, "bibtex")] == ["a", "b", "d"]
