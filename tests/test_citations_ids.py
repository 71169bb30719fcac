"""DOI, PMID and PMCID normalisation and validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evidence_kit as ek
from evidence_kit.citations.ids import (
    doi_url,
    is_doi,
    normalize_dois,
    normalize_pmcid,
    normalize_pmid,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("10.1037/rev0000126", "10.1037/rev0000126"),
    ("https://doi.org/10.1037/REV0000126", "10.1037/rev0000126"),
    ("http://dx.doi.org/10.1002/cpp.2398", "10.1002/cpp.2398"),
    ("doi:10.1002/cpp.2398.", "10.1002/cpp.2398"),
    ("DOI: 10.1002/cpp.2398;", "10.1002/cpp.2398"),
    ("  10.1002/cpp.\n2398 ", "10.1002/cpp.2398"),
    ("urn:doi:10.1000/182", "10.1000/182"),
    ("https://doi.org/10.1000/a%2Fb", "10.1000/a/b"),
    ("10.1002/(SICI)1097-0258(19980715)17:13<1495::AID-SIM863>3.0.CO;2-I",
     "10.1002/(sici)1097-0258(19980715)17:13<1495::aid-sim863>3.0.co;2-i"),
    ("10.1000/abc(1)", "10.1000/abc(1)"),      # balanced parenthesis is part of the DOI
    ("(see 10.1000/abc)", None),                # not a DOI at the start
    ("10.1000/abc)", "10.1000/abc"),           # unbalanced one is punctuation
    ("", None), (None, None), (float("nan"), None), ("10.12/x", None), ("not a doi", None),
])
def test_normalize_doi(text, expected):
    assert ek.normalize_doi(text) == expected


def test_validation_raises_clearly():
    with pytest.raises(ValueError, match="not a DOI: 'nope'"):
        ek.normalize_doi("nope", validate=True)
    assert is_doi("doi:10.1000/x") and not is_doi("10.1000")
    assert doi_url("DOI: 10.1000/X") == "https://doi.org/10.1000/x"


@settings(max_examples=60, deadline=None)
@given(registrant=st.integers(1000, 999999999),
       suffix=st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), max_codepoint=127), min_size=1, max_size=15),
       prefix=st.sampled_from(["", "doi:", "https://doi.org/", "http://dx.doi.org/", " DOI: "]),
       trail=st.sampled_from(["", ".", ",", ";", " "]))
def test_normalize_doi_properties(registrant, suffix, prefix, trail):
    doi = f"10.{registrant}/{suffix}"
    norm = ek.normalize_doi(prefix + doi + trail)
    assert norm == doi.lower()
    assert ek.normalize_doi(norm) == norm  # idempotent
    assert normalize_dois([prefix + doi + trail]).tolist() == [norm]  # vectorised agrees


def test_vectorised_matches_scalar():
    values = ["https://doi.org/10.1000/XYZ.", None, "x", "10.1000/a(1)", "doi:10.1000/abc)"]
    assert normalize_dois(values).tolist() == [ek.normalize_doi(v) for v in values]


def test_pmid_pmcid():
    assert normalize_pmid("PMID: 20301770") == "20301770"
    assert normalize_pmid("https://pubmed.ncbi.nlm.nih.gov/20301770/") == "20301770"
    assert normalize_pmid("0") is None and normalize_pmid("123456789") is None
    with pytest.raises(ValueError, match="not a PMID"):
        normalize_pmid("abc", validate=True)
    assert normalize_pmcid("PMC1234567") == "PMC1234567"
    assert normalize_pmcid("pmc 12") == "PMC12" and normalize_pmcid("PMCID: 55") == "PMC55"
    with pytest.raises(ValueError, match="not a PMCID"):
        normalize_pmcid("PMC", validate=True)
