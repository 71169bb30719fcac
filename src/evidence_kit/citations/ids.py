"""Identifiers: DOI, PMID, PMCID normalisation and validation.

DOI syntax: ISO 26324 and the DOI Handbook (section 2.2): prefix ``10.<registrant>``, ``/``,
a suffix of any printable characters; DOIs are case-insensitive (Handbook 2.4), so the
normalised form is lower case. Crossref's recommended pattern ``^10.\\d{4,9}/[-._;()/:A-Z0-9]+$``
matches 99.3% of Crossref DOIs; validation here is the looser ISO syntax so older Wiley/SICI
DOIs (with ``<``, ``>``, ``#``) pass.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np
import pandas as pd

_PREFIXES = re.compile(
    r"^\s*(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi\s*:\s*|doi\s+|urn:doi:|info:doi/)",
    re.IGNORECASE,
)
_DOI = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
_TRAILING = ".,;:)]}>'\""
_CLEAN = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/[^\s%()]*[^\s%().,;:\]}>'\"]$")


def normalize_doi(text, *, validate: bool = False) -> str | None:
    """Normalise a DOI: strip ``https://doi.org/``, ``doi:`` and ``urn:doi:`` prefixes,
    percent-escapes, whitespace and trailing punctuation; lower-case it.

    Parameters
    ----------
    text : str or None
        A DOI as written anywhere (``"https://doi.org/10.1000/XYZ."``, ``"doi: 10.1000/xyz"``).
    validate : bool
        ``True``: raise ``ValueError`` when the result is not a DOI; ``False`` (default):
        return ``None`` for text that is not a DOI.

    Returns
    -------
    str or None
        ``"10.1000/xyz"``, or ``None`` for missing/empty input or (when not validating) non-DOIs.

    Notes
    -----
    DOIs are case-insensitive (DOI Handbook, section 2.4), hence lower case. A closing
    parenthesis is trailing punctuation only when unbalanced (``10.1000/a(1)`` keeps it).
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    s = str(text).strip()
    if not s:
        return None
    if _CLEAN.match(s):  # already a bare DOI: the common case, skip the clean-up
        return s.lower()
    s = _PREFIXES.sub("", s)
    if "%" in s:
        s = unquote(s)
    s = re.sub(r"\s+", "", s)
    while s and s[-1] in _TRAILING:
        if s[-1] == ")" and s.count("(") >= s.count(")"):
            break
        s = s[:-1]
    s = s.lower()
    if _DOI.match(s):
        return s
    if validate:
        raise ValueError(f"not a DOI: {text!r} (expected 10.<registrant>/<suffix>)")
    return None


def is_doi(text) -> bool:
    """True when ``text`` normalises to a syntactically valid DOI."""
    return normalize_doi(text) is not None


def doi_url(doi) -> str | None:
    """``https://doi.org/<doi>`` (the form Crossref and APA 7 recommend); ``None`` if not a DOI."""
    norm = normalize_doi(doi)
    return None if norm is None else f"https://doi.org/{norm}"


def normalize_dois(values) -> pd.Series:
    """:func:`normalize_doi` for a column (missing/invalid -> ``None``), computed once per distinct value."""
    s = pd.Series(values, dtype="object")
    cache: dict = {}
    out = [None if v is None or (isinstance(v, float) and np.isnan(v))
           else cache[v] if v in cache else cache.setdefault(v, normalize_doi(v)) for v in s]
    return pd.Series(out, index=s.index, dtype="object")


def normalize_pmid(text, *, validate: bool = False) -> str | None:
    """A PubMed identifier: digits only (1-8 digits), ``"PMID: 123"`` -> ``"123"``."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    s = re.sub(r"^\s*(?:pmid\s*[:=]?\s*|https?://(?:www\.)?(?:ncbi\.nlm\.nih\.gov/)?pubmed(?:\.ncbi\.nlm\.nih\.gov)?/)",
               "", str(text), flags=re.IGNORECASE).strip().rstrip("/")
    if re.fullmatch(r"\d{1,8}", s) and int(s) > 0:
        return str(int(s))
    if validate:
        raise ValueError(f"not a PMID: {text!r} (expected 1 to 8 digits)")
    return None


def normalize_pmcid(text, *, validate: bool = False) -> str | None:
    """A PubMed Central identifier: ``"PMC1234567"`` (``"pmc 123"``, ``"123"`` accepted)."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    s = re.sub(r"^\s*(?:pmcid\s*[:=]?\s*)", "", str(text), flags=re.IGNORECASE).strip()
    m = re.fullmatch(r"(?:pmc)?\s*(\d{1,9})", s, flags=re.IGNORECASE)
    if m and int(m.group(1)) > 0:
        return f"PMC{int(m.group(1))}"
    if validate:
        raise ValueError(f"not a PMCID: {text!r} (expected PMC followed by digits)")
    return None
