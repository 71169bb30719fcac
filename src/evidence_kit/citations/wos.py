"""Web of Science tagged format (the "Plain text" / ``.ciw`` export): reader and writer.

Layout (Clarivate, *Web of Science Core Collection Field Tags*): a ``FN``/``VR`` header, records
from ``PT`` to ``ER``, ``EF`` at the end; a two-character tag, a space, the value; continuation
lines start with three spaces. For name and reference tags (``AU``, ``AF``, ``CR``, ``C1``, ...)
each line is one value; for text tags (``TI``, ``AB``, ``SO``) lines are wrapped text, joined
with a space. Untagged lines inside a record and tags outside one are errors.
"""

from __future__ import annotations

import re

from evidence_kit.citations._text import name_to_text, split_lines, split_name, unaccounted
from evidence_kit.citations.model import Citation, CitationParseError, SourceLocation

FORMAT = "wos"
_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
LIST_TAGS = {"AU", "AF", "BA", "BF", "CA", "GP", "BE", "CR", "C1", "C3", "RP", "EM", "RI", "OI",
             "FU", "CT", "SE", "HO", "WC", "SC"}
TAG_TO_CSL = {"TI": "title", "SO": "container-title", "JI": "container-title-short",
              "VL": "volume", "IS": "issue", "AR": "number", "DI": "DOI", "AB": "abstract",
              "PU": "publisher", "PI": "publisher-place", "LA": "language", "PM": "PMID",
              "SN": "ISSN", "BN": "ISBN", "UT": "id"}
CSL_TO_TAG = {v: k for k, v in TAG_TO_CSL.items()}
TYPE_TO_CSL = {"J": "article-journal", "B": "book", "S": "book", "P": "patent",
               "C": "paper-conference"}
CSL_TO_TYPE = {"article-journal": "J", "book": "B", "patent": "P", "paper-conference": "C"}


_PD = re.compile(r"^([A-Z]{3})(?: (\d{1,2}))?(?: \d{4})?$")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def _parse_pd(value: str) -> list[int] | None:
    """``PD``: ``"DEC 16 2020"``, ``"DEC 2020"``, ``"DEC"`` -> [12, 16] / [12]; seasons -> None."""
    m = _PD.match(value.strip().upper())
    if not m or m.group(1) not in _MONTHS:
        return None
    return [_MONTHS.index(m.group(1)) + 1] + ([int(m.group(2))] if m.group(2) else [])


def _to_citation(tags: list[tuple[str, list[str]]]) -> Citation:
    rec = Citation()
    custom: dict[str, list] = {}
    bp = ep = pd_value = None
    for tag, lines in tags:
        value = " ".join(lines) if tag not in LIST_TAGS else None
        if tag == "PT" and "type" not in rec:
            rec["type"] = TYPE_TO_CSL.get(value.strip(), "document")
            if CSL_TO_TYPE.get(rec["type"]) != value:
                custom.setdefault(tag, []).append(value)
        elif tag == "AF" and "author" not in rec:
            rec["author"] = [split_name(v) for v in lines]
        elif tag == "BE" and "editor" not in rec:
            rec["editor"] = [split_name(v) for v in lines]
        elif tag == "PD" and pd_value is None:
            pd_value = value
        elif tag == "PY" and "issued" not in rec and value.strip():
            v = value.strip()
            rec["issued"] = ({"date-parts": [[int(v)]]} if re.fullmatch(r"-?\d{1,4}", v)
                             else {"literal": v})
        elif tag == "BP" and bp is None:
            bp = value
        elif tag == "EP" and ep is None:
            ep = value
        elif tag == "DE" and "keyword" not in rec:
            rec["keyword"] = [k.strip() for k in value.split(";") if k.strip()]
        elif tag in TAG_TO_CSL and TAG_TO_CSL[tag] not in rec and value:
            rec[TAG_TO_CSL[tag]] = value
        else:
            custom.setdefault(tag, []).append(lines if tag in LIST_TAGS else value)
    if bp:
        rec["page"] = f"{bp}-{ep}" if ep and "-" not in bp else bp
        if ep and "-" in bp:
            custom.setdefault("EP", []).append(ep)
    elif ep:
        custom.setdefault("EP", []).append(ep)
    month_day = _parse_pd(pd_value) if pd_value is not None else None
    if month_day and "date-parts" in rec.get("issued", {}):
        rec["issued"]["date-parts"][0].extend(month_day)
    elif pd_value is not None:
        custom.setdefault("PD", []).append(pd_value)
    if "author" not in rec and custom.get("AU"):
        rec["author"] = [split_name(v) for v in custom["AU"][0]]
    if custom:
        rec["custom"] = {FORMAT: custom}
    return rec


def read_wos(text: str, file: str | None = None, strict: bool = True):
    """Parse Web of Science tagged text; returns ``(records, failures)``."""
    records, failures = [], []
    current: list | None = None
    start = 0
    number = 0

    def fail(reason, line, record):
        err = CitationParseError(reason, file=file, line=line, record=record)
        if strict:
            raise err
        failures.append(err)

    saw = False
    bad = False
    starts: list[int] = []  # line of every PT: each must end as a record or a failure
    accounted: set[int] = set()
    for lineno, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        if line.startswith("   ") and current is not None:
            if current:
                current[-1][1].append(line.strip())
            continue
        m = _TAG.match(line.rstrip())
        if not m:
            if current is not None and not bad:
                accounted.add(start)
                fail(f"not a 'TG value' line: {line[:40]!r}", lineno, f"#{number}")
                bad = True
            elif current is None:
                fail(f"text outside a record: {line[:40]!r}", lineno, f"after #{number}")
            continue
        saw = True
        tag, value = m.group(1), (m.group(2) or "").rstrip()
        if tag in ("FN", "VR", "EF") and current is None:
            continue
        if tag == "PT":
            if current is not None:
                accounted.add(start)
                fail(f"record starting at line {start} has no ER before this PT", start, f"#{number}")
            number += 1
            starts.append(lineno)
            current, start, bad = [[tag, [value]]], lineno, False
        elif current is None:
            fail(f"tag {tag} outside a record (no PT since the last ER)", lineno, f"after #{number}")
        elif tag == "ER":
            if not bad:
                rec = _to_citation([(t, v) for t, v in current])
                rec.source = SourceLocation(file, start, FORMAT, len(records))
                records.append(rec)
                accounted.add(start)
            current = None
        else:
            current.append([tag, [value]])
    if current is not None:
        accounted.add(start)
        fail(f"record starting at line {start} is not closed with ER", start, f"#{number}")
    for line in unaccounted(starts, accounted):  # the final pass: nothing dropped silently
        fail("record start neither read nor reported (a reader bug: please report it)", line, None)
    if not saw and text.strip():
        fail("no Web of Science records (no 'PT ' line)", 1, None)
    return records, failures


def _emit(out: list[str], tag: str, lines) -> None:
    lines = [str(v) for v in (lines if isinstance(lines, list) else [lines])]
    out.append(f"{tag} {lines[0]}".rstrip() if lines else tag)
    out.extend(f"   {v}" for v in lines[1:])


def citation_to_wos(rec: dict) -> str:
    custom = {k: list(v) for k, v in ((rec.get("custom") or {}).get(FORMAT) or {}).items()}
    out: list[str] = []
    pt = custom.pop("PT", None)
    _emit(out, "PT", pt[0] if pt else CSL_TO_TYPE.get(rec.get("type", ""), "J"))
    if rec.get("author"):
        _emit(out, "AF", [name_to_text(n) for n in rec["author"]])
    for var, tag in CSL_TO_TAG.items():
        if rec.get(var) not in (None, ""):
            _emit(out, tag, " ".join(str(rec[var]).split("\n")))
    if rec.get("editor"):
        _emit(out, "BE", [name_to_text(n) for n in rec["editor"]])
    parts = (rec.get("issued") or {}).get("date-parts") if isinstance(rec.get("issued"), dict) else None
    literal = (rec.get("issued") or {}).get("literal") if isinstance(rec.get("issued"), dict) else None
    if not parts and literal:
        _emit(out, "PY", literal)
    if parts and parts[0]:
        _emit(out, "PY", parts[0][0])
        if len(parts[0]) > 1 and parts[0][1] and 1 <= int(parts[0][1]) <= 12:
            day = f" {int(parts[0][2])}" if len(parts[0]) > 2 and parts[0][2] else ""
            _emit(out, "PD", f"{_MONTHS[int(parts[0][1]) - 1]}{day}")
    if rec.get("page"):
        _emit(out, "BP", rec["page"])
    if rec.get("keyword"):
        _emit(out, "DE", "; ".join(rec["keyword"]))
    for tag, values in custom.items():
        for v in values:
            _emit(out, tag, v)
    out.append("ER")
    return "\n".join(out) + "\n"


def write_wos(records) -> str:
    body = "\n".join(citation_to_wos(r) for r in records)
    return f"FN Clarivate Analytics Web of Science\nVR 1.0\n{body}\nEF\n"
