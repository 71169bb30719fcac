"""CSL-JSON (the Citation Style Language's data format, as Zotero and citation.js exchange it).

Schema: https://github.com/citation-style-language/schema, ``csl-data.json`` (v1.0.2). A file
holds an array of items (a single item object is accepted too). Items are kept as they are:
every key, known or not, survives a round trip. The one conversion: CSL-JSON's ``keyword`` is a
single string (Zotero joins tags with ``", "``); a :class:`Citation` holds a list. The writer
joins with ``"; "`` when a keyword contains a comma (MeSH headings do; a lone such keyword is
written with a trailing ``;``) and the reader splits on ``;`` when there is one, else on ``,``.
"""

from __future__ import annotations

import json
import re

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
    """Parse CSL-JSON text; returns ``(records, failures)``.

    Every item ends as a record or a failure. When the file is not valid JSON as a whole, the
    items of a pretty-printed array (each ``{`` first on its line at the indentation of the
    first item) are read one by one, so one damaged item costs that item only.
    """
    failures: list[CitationParseError] = []
    if not text.strip():
        return [], failures
    lines = LineIndex(text)
    pos = len(text) - len(text.lstrip())

    def fail(reason, line, record=None):
        err = CitationParseError(reason, file=file, line=line, record=record)
        if strict:
            raise err from None
        failures.append(err)

    try:
        data, end = _decode(text, pos)
        if text[end:].strip():
            raise json.JSONDecodeError("extra data after the JSON value", text, end)
    except json.JSONDecodeError as exc:
        chunks = None if strict else _item_chunks(text, pos)
        if chunks is None:  # strict, or not one item start per line: one failure for all
            fail(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno)
            return [], failures
        items, starts = [], []
        for start, stop in chunks:
            try:
                item, end = _decode(text, start)
                if end > stop:
                    raise json.JSONDecodeError("item runs into the next item", text, stop)
            except json.JSONDecodeError as item_exc:
                fail(f"not valid JSON: {item_exc.msg} (line {item_exc.lineno}, column "
                     f"{item_exc.colno})",
                     lines.line(start), f"#{len(starts) + len(failures) + 1}")
                continue
            items.append(item)
            starts.append(start)
        if not failures:  # every item reads: the damage is around them (brackets, commas)
            fail(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno)
        return _records(items, starts, lines, file, fail, failures)
    if isinstance(data, dict) and "items" in data and isinstance(data["items"], list):
        data = data["items"]
    items = data if isinstance(data, list) else [data]
    # line of each top-level item: decode again item by item to learn where each starts
    starts = _item_starts(text, pos) if isinstance(data, list) else [pos]
    return _records(items, starts, lines, file, fail, failures)


def _records(items, starts, lines, file, fail, failures):
    records = []
    for i, item in enumerate(items):
        line = lines.line(starts[i]) if i < len(starts) else None
        problem = _check_item(item, i + 1)
        if problem:
            label = item.get("id", f"#{i + 1}") if isinstance(item, dict) else f"#{i + 1}"
            fail(problem, line, label)
            continue
        rec = Citation(item)
        kw = rec.get("keyword")
        if isinstance(kw, str):
            sep = ";" if ";" in kw else ","
            rec["keyword"] = [k.strip() for k in kw.split(sep) if k.strip()]
        rec.source = SourceLocation(file, line, FORMAT, len(records))
        records.append(rec)
    return records, failures


_DECODER = json.JSONDecoder()
_MAX_DEPTH = 500  # far deeper than any CSL item; Python's JSON decoder recurses per level


def _decode(text: str, pos: int):
    """``raw_decode`` with nesting too deep for the decoder reported as a JSONDecodeError naming
    where the depth passed :data:`_MAX_DEPTH` (the decoder itself raises RecursionError)."""
    try:
        return _DECODER.raw_decode(text, pos)
    except RecursionError:
        where = _too_deep(text, pos)
        raise json.JSONDecodeError(f"nested more than {_MAX_DEPTH} levels deep", text,
                                   where) from None


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _too_deep(text: str, pos: int) -> int:
    """Offset where brackets outside strings first nest deeper than :data:`_MAX_DEPTH`."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text, pos):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > _MAX_DEPTH:
                return m.start()
        elif ch in "]}":
            depth -= 1
            if depth <= 0:
                break
    return pos


_ITEM_START = re.compile(r"(?:^|(?<=[\r\n]))([ \t]*)\{")


def _item_chunks(text: str, pos: int) -> list[tuple[int, int]] | None:
    """``[(start, stop), ...]`` of the items of a top-level array laid out one item start per
    line (as Zotero, Better BibTeX and citation.js write it): every ``{`` that is first on its
    line at the indentation of the first such line. ``None`` when there is no such line (a
    one-line array)."""
    line_start = max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1
    first = _ITEM_START.search(text, line_start)
    if first is None:
        return None
    indent = first.group(1)
    starts = [m.end() - 1 for m in _ITEM_START.finditer(text, first.start()) if m.group(1) == indent]
    return list(zip(starts, starts[1:] + [len(text)]))


def _item_starts(text: str, pos: int) -> list[int]:
    """Offsets where each element of the top-level array starts."""
    starts = []
    i = pos + 1
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] == "]":
            break
        starts.append(i)
        _, i = _DECODER.raw_decode(text, i)
    return starts


def citation_to_csl(rec: dict) -> dict:
    """A plain dict for JSON. A missing ``id`` stays missing (nothing is invented)."""
    item = dict(rec)
    if isinstance(item.get("keyword"), list):
        sep = "; " if any("," in k for k in item["keyword"]) else ", "
        item["keyword"] = sep.join(item["keyword"])
        if sep == "; " and ";" not in item["keyword"]:  # one keyword with a comma: "Schools,
            item["keyword"] += ";"  # Public;" reads back whole (the reader splits on ';')
    return item


def write_csljson(records) -> str:
    items = [citation_to_csl(r) for r in records]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
