"""PubMed/MEDLINE ``.nbib`` (the "MEDLINE" display format) reader and writer.

Tags are described in the NLM's *MEDLINE/PubMed Data Element (Field) Descriptions*
(https://www.nlm.nih.gov/bsd/mms/medlineelements.html): a tag left-justified in four columns,
``- ``, the value; continuation lines start with six spaces and continue the value after a
single space; records are separated by blank lines (or start at a second ``PMID``, or a second
``OWN`` in ERIC records, when the blank line is missing). The ERIC flavour (``OWN - ERIC``, no
PMID, ``ISSN - ``) reads the same way.
"""

from __future__ import annotations

import re

from evidence_kit.citations._text import (
    _MONTH_NAMES,
    month_number,
    name_to_text,
    split_lines,
    split_name,
    unaccounted,
)
from evidence_kit.citations.model import Citation, CitationParseError, SourceLocation

FORMAT = "medline"
_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) *- ?(.*)$")
TAG_TO_CSL = {
    "PMID": "PMID", "TI": "title", "AB": "abstract", "JT": "container-title",
    "TA": "container-title-short", "VI": "volume", "IP": "issue", "PG": "page",
    "PMC": "PMCID", "LA": "language", "PB": "publisher", "EN": "edition",
    "CTI": "collection-title",
}
CSL_TO_TAG = {v: k for k, v in TAG_TO_CSL.items()}
_OPENERS = ("PMID", "OWN")  # first tag of a PubMed record, or of an ERIC one (no PMID)
_RIS_TY = re.compile(r"(?m)^TY  - ")
_RIS_ER = re.compile(r"(?m)^ER  -")
_DP = re.compile(r"^(-?\d{1,4})(?: ([A-Za-z]{3})(?: (\d{1,2}))?)?$")
_ABBR = [m[:3].capitalize() for m in _MONTH_NAMES]
_SEASONS = ["Spring", "Summer", "Fall", "Winter"]  # CSL pseudo-months 13-16 (and 21-24)


def _parse_dp(value: str) -> dict:
    """``DP``: ``YYYY``, ``YYYY Mon`` or ``YYYY Mon DD``; other forms keep ``raw`` beside the year."""
    v = value.strip()
    m = _DP.match(v)
    if m and (m.group(2) is None or month_number(m.group(2))):
        parts = [int(m.group(1))]
        if m.group(2):
            parts.append(month_number(m.group(2)))
            if m.group(3):
                parts.append(int(m.group(3)))
        return {"date-parts": [parts]}
    year = re.match(r"^(-?\d{1,4})\b", v)
    if year:
        return {"date-parts": [[int(year.group(1))]], "raw": v}
    return {"literal": v}


def _format_dp(date: dict) -> str:
    if "raw" in date:
        return str(date["raw"])
    if "literal" in date:
        return str(date["literal"])
    parts = (date.get("date-parts") or [[]])[0]
    out = [str(parts[0])] if parts else []
    month = int(parts[1]) if len(parts) > 1 and parts[1] else None
    if month is not None and 1 <= month <= 12:
        out.append(_ABBR[month - 1])
        if len(parts) > 2 and parts[2]:
            out.append(f"{int(parts[2]):02d}")
    elif month is not None and (13 <= month <= 16 or 21 <= month <= 24):
        out.append(_SEASONS[(month - 13) % 4 if month <= 16 else (month - 21) % 4])
    return " ".join(out)


def _initials_name(value: str) -> dict:
    """``AU``/``ED`` short form ``"Smith JA"`` -> family Smith, given JA."""
    if "," in value:
        return split_name(value)
    words = value.split()
    if len(words) >= 2 and words[-1].isupper() and len(words[-1]) <= 4:
        return {"family": " ".join(words[:-1]), "given": words[-1]}
    return {"literal": value}


def _to_citation(tags: list[tuple[str, str]]) -> Citation:
    rec = Citation()
    custom: dict[str, list[str]] = {}
    has_fau = any(t == "FAU" for t, _ in tags)
    has_fed = any(t == "FED" for t, _ in tags)
    has_ti = any(t == "TI" for t, _ in tags)
    for tag, value in tags:
        if tag == "FAU" or (tag == "AU" and not has_fau):
            rec.setdefault("author", []).append(
                split_name(value) if tag == "FAU" else _initials_name(value))
        elif tag == "CN":  # corporate (group) author, in the author order
            rec.setdefault("author", []).append({"literal": value})
        elif tag == "FED" or (tag == "ED" and not has_fed):
            rec.setdefault("editor", []).append(
                split_name(value) if tag == "FED" else _initials_name(value))
        elif tag == "BTI" and "container-title" not in rec and has_ti:
            rec["container-title"] = value
        elif tag == "BTI" and "title" not in rec and not has_ti:
            rec["title"] = value
        elif tag == "DP" and "issued" not in rec:
            rec["issued"] = _parse_dp(value)
        elif tag in ("LID", "AID") and "DOI" not in rec and value.endswith(" [doi]"):
            rec["DOI"] = value[: -len(" [doi]")].strip()
        elif tag == "OT":
            rec.setdefault("keyword", []).append(value)
        elif tag in TAG_TO_CSL and TAG_TO_CSL[tag] not in rec:
            rec[TAG_TO_CSL[tag]] = value
        else:
            custom.setdefault(tag, []).append(value)
    kinds = " ".join(custom.get("PT", [])).lower()
    if any(t == "BTI" for t, _ in tags):
        rec["type"] = "chapter" if has_ti else "book"
    elif "dissertation" in kinds or "thesis" in kinds:
        rec["type"] = "thesis"
    elif "report" in kinds and "journal" not in kinds:
        rec["type"] = "report"
    else:
        rec["type"] = "article-journal"
    if custom:
        rec["custom"] = {FORMAT: custom}
    return rec


def read_medline(text: str, file: str | None = None, strict: bool = True):
    """Parse MEDLINE text; returns ``(records, failures)``; ``strict`` raises on the first failure."""
    records, failures = [], []
    if _RIS_TY.search(text) and _RIS_ER.search(text):
        err = CitationParseError("this is RIS ('TY  - ' ... 'ER  - '), not MEDLINE; read it with "
                                 "format='ris'", file=file, line=1)
        if strict:
            raise err
        return records, [err]
    blocks: list[tuple[int, list[tuple[int, str]]]] = []
    block: list[tuple[int, str]] = []
    opener = None  # the tag that opened the block when it opens records (PMID, or OWN for ERIC)
    for lineno, line in enumerate(split_lines(text), 1):
        if not line.strip():
            if block:
                blocks.append((block[0][0], block))
                block, opener = [], None
            continue
        tag = line[:4].rstrip(" -")
        if tag in _OPENERS:
            if block and tag == opener:  # two records without a blank line between
                blocks.append((block[0][0], block))
                block = []
            if not block or tag == "PMID":
                opener = tag
        block.append((lineno, line))
    if block:
        blocks.append((block[0][0], block))
    accounted: set[int] = set()
    for number, (start, lines) in enumerate(blocks, 1):
        accounted.add(start)
        tags: list[list] = []  # [tag, [value, continuation, ...]]: joined once (linear)
        error = None
        for lineno, line in lines:
            m = _TAG.match(line)
            if line[:1] in (" ", "\t"):
                if not tags:
                    error = (lineno, "continuation line before any tag")
                    break
                tags[-1][1].append(line.strip())
            elif m:
                tags.append([m.group(1), [m.group(2).rstrip()]])
            else:
                error = (lineno, f"not a 'TAG - value' line: {line[:40]!r}")
                break
        tags = [[t, v[0] if len(v) == 1 else " ".join(v).strip()] for t, v in tags]
        pmid = next((v for t, v in tags if t == "PMID"), None)
        label = f"#{number}" + (f" (PMID {pmid})" if pmid else "")
        if error is not None:
            err = CitationParseError(error[1], file=file, line=error[0], record=label)
            if strict:
                raise err
            failures.append(err)
            continue
        rec = _to_citation([(t, v) for t, v in tags])
        rec.source = SourceLocation(file, start, FORMAT, len(records))
        records.append(rec)
    for line in unaccounted([start for start, _ in blocks], accounted):  # the final pass
        err = CitationParseError("record start neither read nor reported (a reader bug: please "
                                 "report it)", file=file, line=line)
        if strict:
            raise err
        failures.append(err)
    return records, failures


def _emit(out: list[str], tag: str, value) -> None:
    text = " ".join(str(value).split("\n"))
    out.append(f"{tag:<4}- {text}")


def citation_to_medline(rec: dict) -> str:
    custom = {k: list(v) if isinstance(v, list) else [v]
              for k, v in ((rec.get("custom") or {}).get(FORMAT) or {}).items()}
    out: list[str] = []
    if rec.get("PMID"):
        _emit(out, "PMID", rec["PMID"])
    book = rec.get("type") in ("chapter", "book") and "JT" not in custom
    if rec.get("title") is not None:
        _emit(out, "TI" if rec.get("type") != "book" or not book else "BTI", rec["title"])
    if rec.get("container-title") is not None:
        _emit(out, "BTI" if rec.get("type") == "chapter" else "JT", rec["container-title"])
    for var in ("author", "editor"):
        for name in rec.get(var) or []:
            if var == "author" and set(name) == {"literal"}:
                _emit(out, "CN", name["literal"])
            else:
                _emit(out, "FAU" if var == "author" else "FED", name_to_text(name))
    if isinstance(rec.get("issued"), dict):
        _emit(out, "DP", _format_dp(rec["issued"]))
    if rec.get("DOI"):
        _emit(out, "LID", f"{rec['DOI']} [doi]")
    for var, tag in CSL_TO_TAG.items():
        if var in ("PMID", "title", "container-title") or rec.get(var) in (None, ""):
            continue
        _emit(out, tag, rec[var])
    for kw in rec.get("keyword") or []:
        _emit(out, "OT", kw)
    for tag, values in custom.items():
        for v in values:
            _emit(out, tag, v)
    if not out:  # a record with nothing MEDLINE can say must still be a record
        _emit(out, "TI", "")
    return "\n".join(out) + "\n"


def write_medline(records) -> str:
    return "\n".join(citation_to_medline(r) for r in records)
