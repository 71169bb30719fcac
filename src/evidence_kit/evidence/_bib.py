"""Read ``references/*.bib`` with bibtexparser 2 and check every entry.

Problems name the file and the line (1-based) of the entry and the field.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock

from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._problems import Problem

_REQUIRED_FIELDS = ("title", "year")
_YEAR_RE = re.compile(r"^\d{4}[a-z]?$")


def read_references(folder: Path, root: Path, problems: list[Problem]) -> dict[str, dict]:
    """Map citation key -> record: ``key``, ``entry_type``, ``file``, ``line`` and the entry's
    fields (lower-cased names, values as written without the outer braces)."""
    records: dict[str, dict] = {}
    for path in sorted(folder.glob("*.bib")) if folder.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(rel, None, None, f"not UTF-8: {exc}"))
            continue
        splitter_log = logging.getLogger("bibtexparser.splitter")
        level = splitter_log.level
        splitter_log.setLevel(logging.ERROR)  # its warnings repeat the failed blocks reported below
        try:
            library = bibtexparser.parse_string(text)
        finally:
            splitter_log.setLevel(level)
        for block in library.failed_blocks:
            line = block.start_line + 1
            if isinstance(block, DuplicateBlockKeyBlock):
                problems.append(Problem(rel, line, "key", f"duplicate BibTeX key {block.key!r} in this file"))
            elif isinstance(block, DuplicateFieldKeyBlock):
                fields = ", ".join(sorted(block.duplicate_keys))
                problems.append(Problem(rel, line, fields, f"entry {block.ignore_error_block.key!r} "
                                                           f"has the field(s) {fields} more than once"))
            else:
                reason = getattr(block.error, "abort_reason", None) or str(block.error) or type(block.error).__name__
                problems.append(Problem(rel, line, None, f"cannot parse this BibTeX block: {reason}"))
        for entry in library.entries:
            line = entry.start_line + 1
            if entry.key in records:
                first = records[entry.key]
                problems.append(Problem(rel, line, "key", f"duplicate BibTeX key {entry.key!r}: also in "
                                                          f"{first['file']} line {first['line']}"))
                continue
            fields = {f.key.lower(): str(f.value).strip() for f in entry.fields}
            _check_entry(problems, rel, line, entry.key, fields)
            records[entry.key] = {"key": entry.key, "entry_type": entry.entry_type.lower(),
                                  "file": rel, "line": line, **fields}
    return records


def _check_entry(problems: list[Problem], rel: str, line: int, key: str, fields: dict[str, str]) -> None:
    for name in _REQUIRED_FIELDS:
        if not fields.get(name):
            problems.append(Problem(rel, line, name, f"entry {key!r} has no {name}"))
    if not (fields.get("author") or fields.get("editor")):
        problems.append(Problem(rel, line, "author", f"entry {key!r} has no author or editor"))
    year = fields.get("year", "")
    if year and not _YEAR_RE.match(year):
        problems.append(Problem(rel, line, "year", f"entry {key!r}: year {year!r} is not a four-digit year"))
    doi = fields.get("doi", "")
    if doi and S.doi_of(doi) is None:
        problems.append(Problem(rel, line, "doi", f"entry {key!r}: not a DOI: {doi!r}"))
    url = fields.get("url", "")
    if url and not S.URL_RE.match(url):
        problems.append(Problem(rel, line, "url", f"entry {key!r}: not an http(s) URL: {url!r}"))
