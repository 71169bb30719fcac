"""Reading the files of ``evidence/`` before they are checked: text that is not UTF-8, YAML
anchors and aliases, CSV spreadsheet rows.

Each problem is reported once, naming the file and the row (line), and the file is still read,
so one bad byte does not turn into a cascade of problems about rows that seem to be missing.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from evidence_kit.evidence._problems import Problem

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # what ``errors="surrogateescape"`` leaves


def read_text(path: Path, rel: str, problems: list[Problem]) -> str:
    """The file as text: UTF-8 (a BOM is dropped). Bytes that are not UTF-8 are read as
    Windows-1252 (what spreadsheet programs on Windows write) and reported in one problem naming
    the line of the first one; the rest of the file is read as usual."""
    text, bad = _decode(path.read_bytes())
    if bad is not None:
        _once(problems, Problem(rel, bad[1][0], None, _not_utf8(bad, f"line {bad[1][0]}")))
    return text


def _once(problems: list[Problem], problem: Problem) -> None:
    """Add ``problem`` unless it is there already (studies.yaml is read once per list in it)."""
    if problem not in problems:
        problems.append(problem)


def _decode(raw: bytes) -> tuple[str, tuple[int, list[int]] | None]:
    """Text, and (first bad byte, lines holding bad bytes) when ``raw`` is not UTF-8."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
        lines = _bad_lines(text)
        return _ESCAPED_BYTE.sub(_cp1252, text), (raw[exc.start], lines)


def _not_utf8(bad: tuple[int, list[int]], where: str) -> str:
    byte, lines = bad
    more = f" (and {len(lines) - 1} more line(s))" if len(lines) > 1 else ""
    return (f"not UTF-8: byte 0x{byte:02x} on {where}{more}; read as Windows-1252 - save the "
            "file as UTF-8")


def _bad_lines(text: str) -> list[int]:
    """Lines (1-based) holding a byte that is not UTF-8."""
    out, line, last = [], 1, 0
    for m in _ESCAPED_BYTE.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        if not out or out[-1] != line:
            out.append(line)
    return out


def _cp1252(m: re.Match) -> str:
    byte = bytes([ord(m.group()) - 0xDC00])
    try:
        return byte.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d: undefined in Windows-1252
        return byte.decode("latin-1")


def has_anchors(text: str, rel: str, problems: list[Problem]) -> bool:
    """Report YAML anchors (``&a``) and aliases (``*a``) in one problem at the first of them:
    none of the evidence files needs them, and aliases nested in aliases ("billion laughs")
    expand to gigabytes once the values are used. The check reads the parser's events, which
    never expand anything, so it is linear in the file. Load such a file with
    :class:`NoAliasLoader`."""
    found = []
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                found.append(event)
    except yaml.YAMLError:
        pass  # the loader reports the syntax error with its line
    if not found:
        return False
    first = found[0]
    line = first.start_mark.line + 1
    kind = "alias *" if isinstance(first, yaml.AliasEvent) else "anchor &"
    more = f" ({len(found)} anchors and aliases in all)" if len(found) > 1 else ""
    _once(problems, Problem(rel, line, None, (
        f"YAML {kind}{first.anchor} on line {line}{more}: anchors and aliases are not allowed "
        "in the evidence files (write the values out); each alias was read as empty")))
    return True


class NoAliasLoader(yaml.SafeLoader):
    """The safe loader with every alias read as an empty value (never expanded)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


def read_csv(path: Path, rel: str, problems: list[Problem]) -> tuple[pd.DataFrame | None, np.ndarray]:
    """The CSV file as text cells (header included, ``header=None``) and the spreadsheet row of
    each data row: blank lines are skipped by the reader but still count as spreadsheet rows,
    and a quoted cell spanning lines is one row. Bytes that are not UTF-8 are one problem naming
    the spreadsheet row (and line) of the first."""
    text, bad = _decode(path.read_bytes())
    if bad is not None:
        line = bad[1][0]
        row = _row_of_line(text, line)
        where = f"row {row}" if row == line else f"row {row} (line {line})"
        problems.append(Problem(rel, row, None, _not_utf8(bad, where)))
    try:  # header=None keeps a repeated column name as written (pandas would rename it)
        raw = pd.read_csv(io.StringIO(text), dtype=str, header=None, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(rel, None, None, f"cannot read the CSV file: {exc}"))
        return None, np.arange(0)
    return raw, spreadsheet_rows(text, len(raw) - 1)


def _records(text: str):
    """``(spreadsheet row, last line, cells)`` of each CSV record (a blank line is a row)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    for row, cells in enumerate(reader, start=1):
        yield row, reader.line_num, cells


def _row_of_line(text: str, line: int) -> int:
    try:
        for row, last, _ in _records(text):
            if last >= line:
                return row
    except csv.Error:
        pass
    return line


def spreadsheet_rows(text: str, n: int) -> np.ndarray:
    """Spreadsheet row of each of the ``n`` data rows pandas reads from ``text``.

    Counts records as a spreadsheet does (the header is row 1, a blank line is a row of its own,
    a quoted cell spanning lines is one row); falls back to 2, 3, ... when the ``csv`` module and
    pandas disagree on the number of records (never seen; a safety net)."""
    try:
        rows = [row for row, _, cells in _records(text) if cells]
    except csv.Error:
        rows = []
    if len(rows) == n + 1:
        return np.asarray(rows[1:], dtype=int)
    return np.arange(2, n + 2)
