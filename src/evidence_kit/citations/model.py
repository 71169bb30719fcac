"""The record type shared by every reader and writer: ``Citation`` and ``CitationParseError``.

A ``Citation`` is a ``dict`` keyed by CSL-JSON variable names (``id``, ``type``, ``title``,
``author``, ``issued``, ``container-title``, ``volume``, ``issue``, ``page``, ``DOI``, ``URL``,
``PMID``, ``abstract``, ``keyword``, ...), so it serialises to CSL-JSON as it stands. Fields a
reader cannot map to a CSL variable are kept, verbatim, under ``record["custom"][<format>]``
(CSL-JSON's own ``custom`` object), so nothing read is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Citation", "CitationParseError", "SourceLocation"]


@dataclass(frozen=True)
class SourceLocation:
    """Where a record was read: file, 1-based line of its first line, format, 0-based index."""

    file: str | None
    line: int | None
    format: str
    index: int


class Citation(dict):
    """One bibliographic record: a dict keyed by CSL-JSON variable names.

    Conventions (CSL-JSON 1.0): ``author``/``editor`` are lists of ``{"family", "given"}`` or
    ``{"literal"}`` dicts; ``issued`` is ``{"date-parts": [[year, month, day]]}`` (or
    ``{"literal": ...}``/``{"raw": ...}``); ``keyword`` is a list of strings (CSL-JSON writes
    one comma-separated string; the CSL-JSON reader splits it back). Unmapped fields live in
    ``custom[<format>]`` (``"bibtex"``, ``"ris"``, ``"medline"``).

    Two records are equal when their fields are equal; ``source`` (where a record was read) is
    not part of equality.
    """

    __slots__ = ("source",)

    def __init__(self, *args: Any, source: SourceLocation | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source = source

    def __repr__(self) -> str:
        title = self.get("title") or ""
        if len(title) > 60:
            title = title[:57] + "..."
        return f"Citation(id={self.get('id')!r}, type={self.get('type')!r}, title={title!r})"

    def copy(self) -> Citation:
        return Citation(dict(self), source=self.source)

    # convenient read-only views of the fields most code needs
    @property
    def doi(self) -> str | None:
        return self.get("DOI")

    @property
    def title(self) -> str | None:
        return self.get("title")

    @property
    def year(self) -> int | None:
        """First year in ``issued`` (``None`` when absent or literal only)."""
        issued = self.get("issued")
        if isinstance(issued, dict):
            parts = issued.get("date-parts")
            if parts and parts[0] and parts[0][0] not in (None, ""):
                try:
                    return int(parts[0][0])
                except (TypeError, ValueError):
                    return None
        return None

    def custom_fields(self, fmt: str) -> dict:
        """The unmapped fields read from format ``fmt`` (a live dict; created when missing)."""
        custom = self.setdefault("custom", {})
        return custom.setdefault(fmt, {})


class CitationParseError(ValueError):
    """A malformed record: names the file, the line and the record.

    Attributes ``file``, ``line`` (1-based), ``record`` (citation key, record number or tag
    excerpt) and ``reason`` are kept for programs; ``str()`` reads
    ``"refs.ris, line 12, record 3: tag line outside a record"``.
    """

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None,
                 record: str | int | None = None):
        self.reason = reason
        self.file = file
        self.line = line
        self.record = record
        where = [str(file) if file else "<string>"]
        if line is not None:
            where.append(f"line {line}")
        if record is not None:
            where.append(f"record {record}")
        super().__init__(f"{', '.join(where)}: {reason}")

    def __reduce__(self):
        return (_rebuild_error, (self.reason, self.file, self.line, self.record))


def _rebuild_error(reason, file, line, record):
    return CitationParseError(reason, file=file, line=line, record=record)
