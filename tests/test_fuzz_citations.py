"""Fuzzing the citation readers with mutated real exports (issue 17).

Real exports from ``../shared/data/citations/`` (and files written by our own writers) get a few
random byte changes, insertions and deletions, drawn by hypothesis with a fixed derandomized
seed. Every case must keep the readers' contract:

1. a correct read or a named error: ``strict=False`` returns ``Citation`` records and
   ``CitationParseError`` failures, nothing else escapes; ``strict=True`` raises the first
   failure, or returns the same records when there is none;
2. every entry accounted for: each entry start in the mutated text (found by a simple oracle
   written here, independently of the readers) is a record starting on that line or has a
   failure between it and the next start;
3. bounded time: within a second per MB plus a constant.

The real exports are skipped when ``../shared`` is absent, except under CI=true (conftest).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evidence_kit as ek
from evidence_kit.citations._text import LINE_BREAK, LineIndex, decode_bytes
from evidence_kit.citations.io import format_citations, parse_citations

FOLDERS = {"bibtex": ["bibtex"], "ris": ["ris"], "medline": ["medline"], "csl-json": ["csl-json"],
           "wos": ["wos"]}
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
# the bytes that carry structure in some format, drawn more often than the others
STRUCTURE = b"{}()@%\"=,#\\\r\n \t[]:-TYERPMIDOWN0"
byte = st.one_of(st.integers(0, 255), st.sampled_from(list(STRUCTURE)))
# "hit" changes the first structural byte at or after the position: most of a file is text,
# and a brace, quote, '@' or line end changed is what loses entries
mutation = st.tuples(st.sampled_from(["set", "delete", "insert", "hit", "hit"]), st.floats(0, 1), byte)
_STRUCTURAL = re.compile(rb"[{}()@%\"\[\],\r\n]")


def _own_file(fmt: str) -> bytes:
    """A file written by our own writer: 30 records with every commonly mapped field."""
    records = [ek.Citation(
        id=f"own{i}", type="article-journal" if i % 3 else "book", title=f"Title {i} {{braced}}",
        author=[{"family": f"Family{i}", "given": "Given"}, {"literal": "Group Author"}],
        issued={"date-parts": [[2000 + i, 1 + i % 12]]}, DOI=f"10.1000/own.{i}",
        URL=f"https://example.org/{i}", abstract=f"Line one of {i}.\nLine two.", page="1-9",
        keyword=["Schools, Public", "Child"], **{"container-title": "Journal"})
        for i in range(30)]
    return format_citations(records, fmt).encode("utf-8")


@functools.lru_cache(maxsize=1)
def _corpus(root: Path) -> dict:
    """Format -> {name: bytes}: the real exports of that format and one file of ours."""
    out = {}
    for fmt, folders in FOLDERS.items():
        files = sorted(p for folder in folders for p in (root / folder).iterdir() if p.is_file())
        out[fmt] = {p.name: p.read_bytes() for p in files} | {"own": _own_file(fmt)}
    return out


def _files(shared_dir, fmt: str) -> dict:
    root = shared_dir / "data" / "citations"
    if not root.exists():
        pytest.skip("../shared/data/citations is not present")
    return _corpus(root)[fmt]


def _mutate(raw: bytes, mutations) -> bytes:
    data = bytearray(raw)
    for kind, where, value in mutations:
        i = min(int(where * len(data)), max(len(data) - 1, 0))
        if kind == "hit" and data:
            m = _STRUCTURAL.search(data, i)
            if m is not None:
                data[m.start():m.end()] = b"" if value % 2 else bytes([value])
        elif kind == "set" and data:
            data[i] = value
        elif kind == "delete" and data:
            del data[i]
        else:
            data.insert(i, value)
    return bytes(data)


# --- oracles: entry starts, written independently of the readers ----------------------------

_BIB_START = re.compile(r"(?im)^[ \t]*@[ \t]*(?!(?:comment|string|preamble)[ \t\r\n{(])"
                        r"[A-Za-z][\w\-:.+]*[ \t\r\n]*[{(]")


def _lines(text: str) -> list[str]:
    return LINE_BREAK.split(text)


def _starts(fmt: str, text: str) -> list[int]:
    """1-based lines where an entry starts in ``text``."""
    if fmt == "bibtex":
        flat = LINE_BREAK.sub("\n", text)
        return [flat.count("\n", 0, m.start()) + 1 for m in _BIB_START.finditer(flat)]
    pattern = {"ris": r"TY[ \t]{1,2}-(?:[ \t].*)?", "wos": r"PT(?: .*)?"}[fmt]
    return [i for i, line in enumerate(_lines(text), 1)
            if re.fullmatch(pattern, line.rstrip() if fmt == "wos" else line)]


def _assert_accounted(starts, records, failures):
    """Each start is a record on that line or has a failure before the next start."""
    lines = {r.source.line for r in records}
    failed = sorted(f.line for f in failures if f.line is not None)
    for i, start in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else float("inf")
        j = bisect.bisect_left(failed, start)
        assert start in lines or (j < len(failed) and failed[j] < nxt), \
            f"entry starting at line {start} is neither a record nor a failure"


def _check_medline(text, records, failures):
    if any("not MEDLINE" in f.reason for f in failures):
        return  # the whole file was refused as RIS, with its reason
    first = next((line.split("-")[0].strip() for line in _lines(text) if line.strip()), "")
    opener = first if first in ("PMID", "OWN") else "PMID"
    openers = sum(1 for line in _lines(text) if line.startswith(opener) and
                  line[len(opener):].lstrip(" ").startswith("-"))
    assert len(records) + len(failures) >= openers


_ITEM = re.compile(r"(?:^|(?<=[\r\n]))([ \t]*)\{")


def _check_csljson(text, records, failures):
    try:
        data = json.loads(text.strip()) if text.strip() else []
    except (json.JSONDecodeError, RecursionError):
        data = None
    if data is not None:
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        expected = len(data) if isinstance(data, list) else 1
        assert len(records) + len(failures) == expected
        return
    assert failures, "invalid JSON read without a failure"
    items = list(_ITEM.finditer(text))
    if items:
        indent = items[0].group(1)
        index = LineIndex(text)
        starts = [index.line(m.start()) for m in items if m.group(1) == indent]
        _assert_accounted(starts, records, failures)


def _contract(fmt: str, raw: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Latin-1 fallback warning is expected here
        try:
            text = decode_bytes(raw, "fuzz")
        except UnicodeDecodeError:  # a UTF-16 BOM followed by bytes that are not UTF-16
            return
    t0 = time.perf_counter()
    records, failures = parse_citations(text, fmt, file="fuzz", strict=False)
    seconds = time.perf_counter() - t0
    assert seconds < 2.0 + 1.0 * len(raw) / 1e6, f"{seconds:.2f} s for {len(raw)} bytes"
    assert all(isinstance(r, ek.Citation) for r in records)
    assert all(isinstance(f, ek.CitationParseError) and f.reason for f in failures)
    if fmt in ("bibtex", "ris", "wos"):
        if fmt == "ris" and any("Web of Science" in f.reason for f in failures):
            return
        _assert_accounted(_starts(fmt, text), records, failures)
    elif fmt == "medline":
        _check_medline(text, records, failures)
    else:
        _check_csljson(text, records, failures)
    if failures:
        with pytest.raises(ek.CitationParseError):
            parse_citations(text, fmt, file="fuzz")
    else:
        assert parse_citations(text, fmt, file="fuzz") == records


@pytest.mark.parametrize("fmt", list(FOLDERS))
def test_real_files_keep_the_contract_unmutated(shared_dir, fmt):
    for raw in _files(shared_dir, fmt).values():
        _contract(fmt, raw)


@pytest.mark.parametrize("fmt", list(FOLDERS))
@SETTINGS
@given(data=st.data(), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_real_files_keep_the_contract(shared_dir, fmt, data, mutations):
    files = _files(shared_dir, fmt)
    name = data.draw(st.sampled_from(sorted(files)), label="file")
    _contract(fmt, _mutate(files[name], mutations))


@pytest.mark.parametrize("fmt", list(FOLDERS))
@SETTINGS
@given(data=st.data(), cut=st.floats(0, 1), line_ends=st.sampled_from(["\n", "\r\n", "\r"]))
def test_truncated_real_files_with_any_line_ends_keep_the_contract(shared_dir, fmt, data, cut,
                                                                 line_ends):
    files = _files(shared_dir, fmt)
    name = data.draw(st.sampled_from(sorted(files)), label="file")
    text = LINE_BREAK.sub(line_ends, files[name].decode("utf-8", errors="replace"))
    _contract(fmt, text.encode("utf-8")[: int(cut * len(text))])
