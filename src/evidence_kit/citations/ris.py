"""RIS (Research Information Systems) reader and writer.

Tags and types follow the RIS format specification (Research Information Systems, *RIS Format
Specifications*, 2011 revision as distributed with EndNote/Reference Manager, and the Zotero
RIS translator for the flavours). Records run from ``TY  - `` to ``ER  - ``. Read as real
exports write them: text outside records is ignored (Ovid record numbers and links, JSTOR
``Provider:`` headers); untagged lines inside a record continue the previous tag (one value per
line for ``KW``/``AU``, as EndNote writes); ``A1\\t- `` and one-space separators are accepted.
A tag line outside a record, a ``TY`` before the previous ``ER`` and a missing final ``ER`` are
errors; tag lines right after an ``ER`` (before any blank line) belong to the record before
(Ovid writes ``NL`` there). Web of Science tagged files (``FN``/``VR``/``PT``, no ``TY``) are refused with a message.
"""

from __future__ import annotations

import re

from evidence_kit.citations._text import name_to_text, split_lines, split_name, unaccounted
from evidence_kit.citations.model import Citation, CitationParseError, SourceLocation

FORMAT = "ris"
_TAG = re.compile(r"^([A-Z][A-Z0-9])[ \t]{1,2}-(?:[ \t](.*))?$")
_WOS = re.compile(r"^(FN|VR|PT) \S", re.MULTILINE)

TYPE_TO_CSL = {
    "JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal",
    "ABST": "article-journal", "INPR": "article-journal", "MGZN": "article-magazine",
    "NEWS": "article-newspaper", "BOOK": "book", "EBOOK": "book", "EDBOOK": "book",
    "CHAP": "chapter", "ECHAP": "chapter", "CONF": "paper-conference",
    "CPAPER": "paper-conference", "RPRT": "report", "GOVDOC": "report", "THES": "thesis",
    "ELEC": "webpage", "WEB": "webpage", "BLOG": "post-weblog", "GEN": "document",
    "UNPB": "manuscript", "DATA": "dataset", "COMP": "software", "PAT": "patent",
    "JOURNAL ARTICLE": "article-journal", "BOOK SECTION": "chapter",
    "CONFERENCE PAPER": "paper-conference", "REPORT": "report", "THESIS": "thesis",
}
CSL_TO_TYPE = {
    "article-journal": "JOUR", "article-magazine": "MGZN", "article-newspaper": "NEWS",
    "book": "BOOK", "chapter": "CHAP", "paper-conference": "CPAPER", "report": "RPRT",
    "thesis": "THES", "webpage": "ELEC", "post-weblog": "BLOG", "document": "GEN",
    "manuscript": "UNPB", "dataset": "DATA", "software": "COMP", "patent": "PAT",
}
# tag -> CSL variable (first tag seen wins; later ones are kept in custom.ris)
TAG_TO_CSL = {
    "TI": "title", "T1": "title", "CT": "title", "T2": "container-title",
    "JO": "container-title", "JF": "container-title", "BT": "container-title",
    "JA": "container-title-short", "J2": "container-title-short", "J1": "container-title-short",
    "T3": "collection-title", "VL": "volume", "VO": "volume", "IS": "issue", "DO": "DOI", "UR": "URL",
    "AB": "abstract", "N2": "abstract", "PB": "publisher", "CY": "publisher-place",
    "PP": "publisher-place", "LA": "language", "N1": "note", "ET": "edition", "ID": "id",
    "ST": "title-short",
}
NAME_TAGS = {"AU": "author", "A1": "author", "A2": "editor", "ED": "editor",
             "A3": "collection-editor", "A4": "translator"}
CSL_TO_TAG = {"title": "TI", "container-title": "T2", "container-title-short": "J2",
              "collection-title": "T3", "volume": "VL", "issue": "IS", "DOI": "DO", "URL": "UR",
              "abstract": "AB", "publisher": "PB", "publisher-place": "CY", "language": "LA",
              "note": "N1", "edition": "ET", "title-short": "ST"}
_PY = re.compile(r"^(-?\d{1,4})(?:/(\d{0,2})(?:/(\d{0,2})(?:/(.*))?)?)?$")


def _parse_py(value: str) -> dict:
    """``PY``/``Y1``/``DA``: ``YYYY`` or ``YYYY/MM/DD/other`` (RIS spec); else a literal."""
    v = value.strip()
    m = _PY.match(v)
    if not m:
        return {"literal": v}
    parts = [int(m.group(1))]
    if m.group(2):
        parts.append(int(m.group(2)))
        if m.group(3):
            parts.append(int(m.group(3)))
    if (len(parts) > 1 and not 1 <= parts[1] <= 12) or (len(parts) > 2 and not 1 <= parts[2] <= 31):
        return {"literal": v}
    date = {"date-parts": [parts]}
    if v != _format_py(date):
        date["raw"] = v
    return date


def _format_py(date: dict) -> str:
    if "raw" in date:
        return str(date["raw"])
    if "literal" in date:
        return str(date["literal"])
    parts = (date.get("date-parts") or [[]])[0]
    if not parts:
        return ""
    if len(parts) == 1 or not parts[1] or not 1 <= int(parts[1]) <= 12:
        return str(parts[0])  # RIS dates have no seasons (CSL months 13-16, 21-24)
    rest = [f"{int(p):02d}" for p in parts[1:3]]
    return "/".join([str(parts[0])] + rest + [""] * (3 - len(rest)))


def _to_citation(tags: list[tuple[str, str]]) -> Citation:
    rec = Citation()
    custom: dict[str, list[str]] = {}

    def keep(tag, value):
        custom.setdefault(tag, []).append(value)

    sp = ep = None
    for tag, value in tags:
        if tag == "TY":
            csl = TYPE_TO_CSL.get(value.strip().upper(), "document")
            rec["type"] = csl
            if CSL_TO_TYPE.get(csl) != value:
                keep("TY", value)
        elif tag in NAME_TAGS:
            if value.strip():
                rec.setdefault(NAME_TAGS[tag], []).append(split_name(value, suffix_last=True))
            else:
                keep(tag, value)
        elif tag == "KW":
            if value.strip() and value == value.strip():
                rec.setdefault("keyword", []).append(value)
            else:
                keep(tag, value)
        elif tag in ("PY", "Y1") and "issued" not in rec and value.strip():
            rec["issued"] = _parse_py(value)
        elif tag == "SP" and sp is None:
            sp = value
        elif tag == "EP" and ep is None:
            ep = value
        elif tag == "SN" and "ISSN" not in rec and "ISBN" not in rec and value.strip():
            rec["ISBN" if rec.get("type") in ("book", "chapter") else "ISSN"] = value
        elif tag in TAG_TO_CSL and TAG_TO_CSL[tag] not in rec and value.strip():
            rec[TAG_TO_CSL[tag]] = value
        else:
            keep(tag, value)
    if sp is not None and sp.strip():
        if ep is not None and ep.strip() and "-" not in sp:
            rec["page"] = f"{sp}-{ep}"
        else:
            rec["page"] = sp
            if ep is not None:
                keep("EP", ep)
    else:
        if sp is not None:
            keep("SP", sp)
        if ep is not None:
            keep("EP", ep)
    if custom:
        rec["custom"] = {FORMAT: custom}
    return rec


def read_ris(text: str, file: str | None = None, strict: bool = True):
    """Parse RIS text; returns ``(records, failures)``; ``strict`` raises on the first failure."""
    records: list[Citation] = []
    failures: list[CitationParseError] = []
    current: list[list[str]] | None = None
    start = 0
    record_no = 0
    saw_tag = False

    def fail(reason, line, record):
        err = CitationParseError(reason, file=file, line=line, record=record)
        if strict:
            raise err
        failures.append(err)

    def label(tags, no):
        title = next((v[0] for t, v in tags if t in ("TI", "T1") and v[0]), None)
        return f"#{no}" + (f" ({title[:50]!r})" if title else "")

    closed: tuple | None = None  # the last record after its ER: (tags, start, ER value)
    starts: list[int] = []  # line of every TY: each must end as a record or a failure
    accounted: set[int] = set()

    def finish():
        nonlocal closed
        if closed is not None:
            tags, rec_start, er = closed
            # a value is the list of its lines, joined once here (linear in the record)
            rec = _to_citation([(t, "\n".join(v)) for t, v in tags])
            accounted.add(rec_start)
            if er:
                rec.setdefault("custom", {}).setdefault(FORMAT, {})["ER"] = [er]
            rec.source = SourceLocation(file, rec_start, FORMAT, len(records))
            records.append(rec)
            closed = None

    lines = split_lines(text)
    for lineno, line in enumerate(lines, 1):
        m = _TAG.match(line)
        if m is None:
            if current is None:
                finish()  # tags after ER belong to the record only up to the next blank line
            elif current and line.strip():
                tag = current[-1][0]
                if tag in ("KW", "AU", "A1", "A2", "ED"):
                    current.append([tag, [line.strip()]])
                else:
                    current[-1][1].append(line.rstrip())
            continue
        saw_tag = True
        tag, value = m.group(1), (m.group(2) or "").rstrip()
        if tag == "TY":
            finish()
            if current is not None:
                accounted.add(start)
                fail(f"record starting at line {start} has no ER before this TY", start,
                     label(current, record_no))
            record_no += 1
            starts.append(lineno)
            current, start = [[tag, [value]]], lineno
        elif current is not None and tag == "ER":
            closed, current = (current, start, value), None
        elif current is not None:
            current.append([tag, [value]])
        elif closed is not None and tag != "ER":
            closed[0].append([tag, [value]])  # Ovid writes NL after ER: keep it with its record
        else:
            fail(f"tag {tag} outside a record (no TY since the last ER)", lineno,
                 f"after #{record_no}")
    finish()
    if current is not None:
        accounted.add(start)
        fail(f"record starting at line {start} is not closed with ER before the end of the file",
             start, label(current, record_no))
    for line in unaccounted(starts, accounted):  # the final pass: nothing dropped silently
        fail("record start neither read nor reported (a reader bug: please report it)", line, None)
    if not saw_tag and text.strip():
        if _WOS.search(text):
            fail("this is Web of Science tagged format (FN/VR/PT ... ER), not RIS: no "
                 "'TY  - ' line; read it with format='wos'", 1, None)
        else:
            fail("no RIS records: no 'TY  - ' line in the file", 1, None)
    return records, failures


def _emit(out: list[str], tag: str, value) -> None:
    text = str(value)
    first, *rest = text.split("\n")
    out.append(f"{tag}  - {first}".rstrip() if not first else f"{tag}  - {first}")
    out.extend(rest)


def citation_to_ris(rec: dict) -> str:
    custom = {k: list(v) if isinstance(v, list) else [v]
              for k, v in ((rec.get("custom") or {}).get(FORMAT) or {}).items()}
    out: list[str] = []
    ty = custom.pop("TY", None)
    _emit(out, "TY", ty[0] if ty else CSL_TO_TYPE.get(rec.get("type", ""), "GEN"))
    if rec.get("id") not in (None, ""):
        _emit(out, "ID", rec["id"])
    for var, tag in (("author", "AU"), ("editor", "A2"), ("collection-editor", "A3"),
                     ("translator", "A4")):
        for name in rec.get(var) or []:
            _emit(out, tag, name_to_text(name, suffix_last=True))
    if isinstance(rec.get("issued"), dict):
        _emit(out, "PY", _format_py(rec["issued"]))
    for var, tag in CSL_TO_TAG.items():
        if rec.get(var) not in (None, ""):
            _emit(out, tag, rec[var])
    if rec.get("page"):
        _emit(out, "SP", rec["page"])
    for var in ("ISSN", "ISBN"):
        if rec.get(var):
            _emit(out, "SN", rec[var])
    for kw in rec.get("keyword") or []:
        _emit(out, "KW", kw)
    er = custom.pop("ER", None)
    for tag, values in custom.items():
        for v in values:
            _emit(out, tag, v)
    out.append(f"ER  - {er[0]}" if er else "ER  - ")
    return "\n".join(out) + "\n"


def write_ris(records) -> str:
    return "\n".join(citation_to_ris(r) for r in records)
