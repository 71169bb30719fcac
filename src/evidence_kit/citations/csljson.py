"""CSL-JSON (the Citation Style Language's data format, as Zotero and citation.js exchange it).

Schema: https://github.com/citation-style-language/schema, ``csl-data.json`` (v1.0.2). A file
holds an array of items (a single item object is accepted too). Items are kept as they are:
every key, known or not, survives a round trip. The one conversion: CSL-JSON's ``keyword`` is a
single string (Zotero joins tags with ``", "``); a :class:`Citation` holds a list. The writer
joins with ``"; "`` when a keyword contains a comma (MeSH headings do) and the reader splits on
``;`` when there is one, else on ``,``.
"""

from __future__ import annotations

import json

from evidence_kit.citations._text import LineIndex
from evidence_kit.citations.model import Citation, CitationParseError, SourceLocation

FORMAT = "csl-json"
_NAME_VARS = {"author", "editor", "translator", "container-author", "collection-editor",
              "composer", "director", "interviewer", "recipient", "reviewed-author",
              "editorial-director", "illustrator", "original-author", "chair", "compiler",
              "contributor", "curator", "executive-producer", "guest", "host", "narrator",
              "organizer", "performer", "producer", "script-writer", "series-creator"}


def _check_item(item, number: int) -> str | None:
    """Why ``item`` is not a CSL item, or ``None``."""
    if not isinstance(item, dict):
        return f"item is a {type(item).__name__}, not an object"
    for var in _NAME_VARS & item.keys():
        names = item[var]
        if not isinstance(names, list) or not all(isinstance(n, dict) for n in names):
            return f"{var!r} must be a list of name objects"
    for var in ("issued", "accessed", "event-date", "original-date", "submitted"):
        if var in item and not isinstance(item[var], (dict, str)):
            return f"{var!r} must be a date object"
    return None


def read_csljson(text: str, file: str | None = None, strict: bool = True):
    """Parse CSL-JSON text; returns ``(records, failures)``."""
    failures: list[CitationParseError] = []
    if not text.strip():
        return [], failures
    decoder = json.JSONDecoder()
    lines = LineIndex(text)
    pos = len(text) - len(text.lstrip())
    try:
        data, _ = decoder.raw_decode(text, pos)
        rest = text[_:].strip()
        if rest:
            raise json.JSONDecodeError("extra data after the JSON value", text, _)
    except json.JSONDecodeError as exc:
        err = CitationParseError(f"not valid JSON: {exc.msg}", file=file, line=exc.lineno)
        if strict:
            raise err from None
        return [], [err]
    if isinstance(data, dict) and "items" in data and isinstance(data["items"], list):
        data = data["items"]
    items = data if isinstance(data, list) else [data]
    # line of each top-level item: decode again item by item to learn where each starts
    starts = _item_starts(text, pos) if isinstance(data, list) else [pos]
    records = []
    for i, item in enumerate(items):
        line = lines.line(starts[i]) if i < len(starts) else None
        problem = _check_item(item, i + 1)
        if problem:
            label = item.get("id", f"#{i + 1}") if isinstance(item, dict) else f"#{i + 1}"
            err = CitationParseError(problem, file=file, line=line, record=label)
            if strict:
                raise err
            failures.append(err)
            continue
        rec = Citation(item)
        kw = rec.get("keyword")
        if isinstance(kw, str):
            sep = ";" if ";" in kw else ","
            rec["keyword"] = [k.strip() for k in kw.split(sep) if k.strip()]
        rec.source = SourceLocation(file, line, FORMAT, len(records))
        records.append(rec)
    return records, failures


def _item_starts(text: str, pos: int) -> list[int]:
    """Offsets where each element of the top-level array starts."""
    decoder = json.JSONDecoder()
    starts = []
    i = pos + 1
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] == "]":
            break
        starts.append(i)
        _, i = decoder.raw_decode(text, i)
    return starts


def citation_to_csl(rec: dict) -> dict:
    """A plain dict for JSON. A missing ``id`` stays missing (nothing is invented)."""
    item = dict(rec)
    if isinstance(item.get("keyword"), list):
        sep = "; " if any("," in k for k in item["keyword"]) else ", "
        item["keyword"] = sep.join(item["keyword"])
    return item


def write_csljson(records) -> str:
    items = [citation_to_csl(r) for r in records]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
