"""Fault injection into a copy of the real ``evidence/`` (issue 17).

One fault at a time, drawn by hypothesis with a fixed derandomized seed, goes into one file of a
temporary copy: random byte changes, a truncation, a blank line, a byte that is not UTF-8, a
YAML alias, or the file removed. Every case keeps the loader's contract:

1. a correct read or named errors: ``load_evidence(strict=False)`` returns, and every problem
   names a file of the tree, a row (a spreadsheet row within the file, a line, or an id) and a
   message; ``strict=True`` raises ``EvidenceError`` with the same problems;
2. every row accounted for: a CSV file that can be parsed has all its rows in the loaded table;
3. bounded time;

and the faults with a known answer get it: a blank line changes nothing, a byte that is not
UTF-8 is one problem naming the file and its row, a YAML alias is one problem naming its line.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import evidence_kit as ek
from evidence_kit.evidence import Problem

EVIDENCE = Path(__file__).resolve().parents[1] / "evidence"
FILES = sorted(p.relative_to(EVIDENCE).as_posix() for p in EVIDENCE.rglob("*")
               if p.is_file() and p.suffix in (".csv", ".yaml", ".bib", ".json"))
# each example loads the whole evidence base (about half a second): few examples, no shrinking
# (a failure is reported as drawn, naming the file and the fault)
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "evidence"
    shutil.copytree(EVIDENCE, root)
    return root


def _load(tree: Path, rel: str, new: bytes | None, strict: bool = False):
    """Load the tree with ``rel`` replaced by ``new`` (removed when None); restore it after.
    ``strict``: also check that a strict load raises with the same problems."""
    path = tree / rel
    old = path.read_bytes()
    try:
        if new is None:
            path.unlink()
        else:
            path.write_bytes(new)
        t0 = time.perf_counter()
        base = ek.load_evidence(tree, strict=False)
        seconds = time.perf_counter() - t0
        if strict and base.problems:
            with pytest.raises(ek.EvidenceError) as info:
                ek.load_evidence(tree)
            assert info.value.problems == list(base.problems)
        return base, seconds
    finally:
        path.write_bytes(old)


def _contract(tree: Path, rel: str, new: bytes | None, base, seconds: float) -> None:
    assert seconds < 30, f"{seconds:.1f} s"
    files = set(FILES) | {"principles.yaml", "studies.yaml", "gaps.yaml"}
    for p in list(base.problems) + list(base.warnings):
        assert isinstance(p, Problem) and p.message
        assert p.file in files, p
        assert p.row is None or isinstance(p.row, str) or p.row >= 1, p
    if new is not None and rel.endswith(".csv"):
        text = new.decode("utf-8", errors="replace")
        try:
            rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
        except csv.Error:
            return
        problems = [p for p in base.problems if p.file == rel]
        if any(p.row is None for p in problems):  # the file could not be read: said once
            return
        for p in problems:
            assert p.row is None or isinstance(p.row, str) or p.row <= text.count("\n") + 2, p
        frames = [getattr(base, f.name) for f in dataclasses.fields(base)]
        frames = [f for f in frames if isinstance(f, pd.DataFrame) and "file" in f.columns]
        folder = rel.split("/")[0] + "/"
        if any(f["file"].astype(str).str.startswith(folder).any() for f in frames):
            read = sum(int(f["file"].eq(rel).sum()) for f in frames)
            assert read == max(len(rows) - 1, 0), f"{rel}: {read} rows read of {len(rows) - 1}"


mutation = st.tuples(st.sampled_from(["set", "delete", "insert"]), st.floats(0, 1),
                     st.one_of(st.integers(0, 255), st.sampled_from(list(b",\"\n\r{}:&*-#;"))))


@SETTINGS
@given(rel=st.sampled_from(FILES), mutations=st.lists(mutation, min_size=1, max_size=3))
def test_random_byte_faults_keep_the_contract(tree, rel, mutations):
    data = bytearray((tree / rel).read_bytes())
    for kind, where, value in mutations:
        i = min(int(where * len(data)), len(data) - 1)
        if kind == "set":
            data[i] = value
        elif kind == "delete":
            del data[i]
        else:
            data.insert(i, value)
    base, seconds = _load(tree, rel, bytes(data), strict=True)
    _contract(tree, rel, bytes(data), base, seconds)


@SETTINGS
@given(rel=st.sampled_from(FILES), cut=st.floats(0, 1))
def test_truncated_or_missing_files_keep_the_contract(tree, rel, cut):
    raw = (tree / rel).read_bytes()
    new = None if cut > 0.95 else raw[: int(cut * len(raw))]
    base, seconds = _load(tree, rel, new)
    _contract(tree, rel, new, base, seconds)
    if new is None and rel == "principles.yaml":
        assert ("principles.yaml", "file not found") in {(p.file, p.message) for p in base.problems}


def _line_starts(raw: bytes) -> list[int]:
    return [0] + [m.end() for m in re.finditer(rb"\n", raw)][:-1]


@SETTINGS
@given(rel=st.sampled_from(FILES), where=st.floats(0, 1))
def test_a_blank_line_anywhere_changes_nothing(tree, rel, where):
    raw = (tree / rel).read_bytes()
    starts = _line_starts(raw)
    at = starts[min(int(where * len(starts)), len(starts) - 1)]
    new = raw[:at] + b"\n" + raw[at:]
    base, seconds = _load(tree, rel, new)
    _contract(tree, rel, new, base, seconds)
    assert base.problems == ()


@SETTINGS
@given(rel=st.sampled_from(FILES), where=st.floats(0, 1))
def test_a_byte_that_is_not_utf8_is_one_problem_naming_its_row(tree, rel, where):
    raw = (tree / rel).read_bytes()
    starts = _line_starts(raw)
    line = min(int(where * len(starts)), len(starts) - 1)
    end = raw.find(b"\n", starts[line])
    at = end if end >= 0 else len(raw)  # the end of the line: free text, a comment or a value
    if raw[at - 1:at] == b"\r":
        at -= 1
    new = raw[:at] + b"\xe9" + raw[at:]
    base, seconds = _load(tree, rel, new)
    _contract(tree, rel, new, base, seconds)
    mine = [p for p in base.problems if p.file == rel and "not UTF-8" in (p.message + str(p))
            or p.file == rel and "EncodingFallbackWarning" in p.message]
    assert len(mine) == 1, base.problems
    if rel.endswith(".yaml"):
        assert mine[0].row == line + 1 and f"on line {line + 1}" in mine[0].message
    elif rel.endswith(".csv"):  # the spreadsheet row holding that line
        text = new.decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""))
        row = next(n for n, _ in enumerate(reader, 1) if reader.line_num >= line + 1)
        assert mine[0].row == row and f"on row {row}" in mine[0].message
    else:  # BibTeX: the citation reader's warning names the line
        assert mine[0].row == line + 1 and f"line {line + 1}" in mine[0].message


@pytest.mark.parametrize("rel", [f for f in FILES if f.endswith(".yaml")])
def test_a_yaml_alias_is_one_problem_naming_its_line(tree, rel):
    raw = (tree / rel).read_bytes()
    lines = raw.split(b"\n")
    i = next((n for n, line in enumerate(lines) if re.match(rb"\s+[a-z_]+: \S", line)), None)
    if i is None:  # no nested mapping (an empty list): two top-level keys the loader ignores
        i = len(lines)
        lines += [b"anchor_here: &nowhere 1", b"alias_here: *nowhere", b""]
    else:
        lines.insert(i + 1, re.match(rb"\s+", lines[i]).group() + b"alias_here: *nowhere")
        lines[i] = re.sub(rb": ", b": &nowhere ", lines[i], count=1)
    new = b"\n".join(lines)
    base, seconds = _load(tree, rel, new)
    _contract(tree, rel, new, base, seconds)
    first = [p for p in base.problems if p.file == rel][0]
    assert first.row == i + 1 and "anchor &nowhere" in first.message
