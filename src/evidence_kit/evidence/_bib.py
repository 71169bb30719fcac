"""Read ``references/*.bib`` (and CSL-JSON ``*.json``) with ``ek.read_citations`` and check every
record.

Problems name the file (relative to the evidence folder), the line where the record starts and
the field. Records are ``Citation`` objects (CSL-JSON variables: ``id``, ``title``, ``author``,
``issued``, ``DOI``, ``URL``, ...) whose ``source.file`` is rewritten relative to the evidence
folder.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

from evidence_kit.citations import CitationParseError, read_citations
from evidence_kit.citations.ids import normalize_doi
from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._problems import Problem

_PATTERNS = ("*.bib", "*.json")
# BibTeX fields that map to a CSL variable: when one of them also sits in custom["bibtex"], the
# tolerant reader met it twice in the same entry (it keeps the second copy there).
_MAPPED_FIELDS = ("title", "author", "editor", "year", "date", "journal", "volume", "number", "pages",
                  "doi", "url")


def read_references(folder: Path, root: Path, problems: list[Problem]) -> dict:
    """Map citation key -> ``Citation``; the first record read wins a repeated key."""
    records: dict = {}
    paths = sorted(p for pattern in _PATTERNS for p in folder.glob(pattern)) if folder.is_dir() else []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                citations, failures = read_citations(path, strict=False)
            except (CitationParseError, ValueError) as exc:
                problems.append(Problem(rel, getattr(exc, "line", None), None, f"cannot read the file: {exc}"))
                continue
        for w in caught:  # e.g. not UTF-8: the reader fell back to Latin-1 (row: the line it names)
            line = re.search(r"\bat line (\d+)", str(w.message))
            problems.append(Problem(rel, int(line.group(1)) if line else None, None,
                                    f"{w.category.__name__}: {w.message}"))
        for exc in failures:
            problems.append(Problem(rel, exc.line, None, f"cannot parse this record: {exc.reason}"))
        for c in citations:
            c.source = dataclasses.replace(c.source, file=rel)
            key, line = c.get("id"), c.source.line
            if not key:
                problems.append(Problem(rel, line, "key", "record without a citation key"))
                continue
            if key in records:
                first = records[key].source
                problems.append(Problem(rel, line, "key", f"duplicate BibTeX key {key!r}: also in "
                                                          f"{first.file} line {first.line}"))
                continue
            _check_record(problems, rel, line, key, c)
            records[key] = c
    return records


def _check_record(problems: list[Problem], rel: str, line, key: str, c) -> None:
    if not c.get("title"):
        problems.append(Problem(rel, line, "title", f"entry {key!r} has no title"))
    if not (c.get("author") or c.get("editor")):
        problems.append(Problem(rel, line, "author", f"entry {key!r} has no author or editor"))
    year = c.year
    if year is None:
        problems.append(Problem(rel, line, "year", f"entry {key!r} has no year"))
    elif not 1000 <= year <= 9999:
        problems.append(Problem(rel, line, "year", f"entry {key!r}: year {year!r} is not a four-digit year"))
    doi = c.get("DOI")
    if doi and normalize_doi(str(doi)) is None:
        problems.append(Problem(rel, line, "doi", f"entry {key!r}: not a DOI: {doi!r}"))
    url = c.get("URL")
    if url and not S.URL_RE.match(str(url)):
        problems.append(Problem(rel, line, "url", f"entry {key!r}: not an http(s) URL: {url!r}"))
    repeated = [f for f in (c.get("custom") or {}).get("bibtex", {}) if f.lower() in _MAPPED_FIELDS]
    if repeated:
        fields = ", ".join(sorted(repeated))
        problems.append(Problem(rel, line, fields, f"entry {key!r} has the field(s) {fields} more than once"))
