"""Issue 17 for the evidence loader: a YAML alias bomb, row numbers after a blank CSV line, files
that are not UTF-8. Each case runs on a copy of the real ``evidence/`` and changes one thing;
each test failed before its fix."""

from __future__ import annotations

import csv
import io
import shutil
import time
from pathlib import Path

import pytest

import evidence_kit as ek

EVIDENCE = Path(__file__).resolve().parents[1] / "evidence"
SYN = "syntheses/health_learning.csv"


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "evidence"
    shutil.copytree(EVIDENCE, root)
    return root


def _where(problems) -> list[tuple]:
    return [(p.file, p.row, p.column) for p in problems]


def _bomb(levels: int = 9) -> str:
    """"Billion laughs": each anchor holds nine aliases of the one before (9**9 strings)."""
    lines = ['bomb: [&l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"],']
    lines += [f"       &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]," for i in range(1, levels)]
    return "\n".join(lines) + "]\n"


@pytest.mark.parametrize("key, old, new", [
    ("short", "    short: Wellness, equity and access", "    short: *l8"),
    ("outcomes", "        outcomes: [attendance, academic_achievement, wellbeing_mental_health]",
     "        outcomes: *l8"),
])
def test_yaml_alias_bomb_is_one_problem_not_a_hang(tree, key, old, new):
    path = tree / "principles.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(_bomb() + text.replace(old, new, 1), encoding="utf-8")
    t0 = time.perf_counter()
    base = ek.load_evidence(tree, strict=False)
    assert time.perf_counter() - t0 < 30  # ran past 8 s, or out of memory, before
    first = base.problems[0]
    assert (first.file, first.row) == ("principles.yaml", 1) and "anchor &l0" in first.message
    assert "not allowed" in first.message and "82 anchors and aliases" in first.message
    # the alias reads as empty: that one value is missing, everything else is read
    assert len(base.problems) == 2 and base.problems[1].column == key
    assert len(base.principles) == 6 and len(base.questions) > 12


def test_a_small_alias_is_reported_too(tree):
    path = tree / "principles.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    short: Wellness, equity and access", "    short: &w Wellness, equity and access", 1)
    lines = text.splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if line.startswith("  - id: P2"))
    line = next(i for i in range(n, len(lines)) if lines[i].startswith("    short:"))
    lines[line] = "    short: *w\n"
    path.write_text("".join(lines), encoding="utf-8")
    base = ek.load_evidence(tree, strict=False)
    anchor = text.splitlines().index("    short: &w Wellness, equity and access") + 1
    assert _where(base.problems) == [("principles.yaml", anchor, None), ("principles.yaml", "P2", "short")]
    assert "anchor &w" in base.problems[0].message and "(2 anchors and aliases in all)" in base.problems[0].message


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _row_starts(path: Path) -> list[int]:
    """0-based index of the line where each CSV record starts (records can span lines)."""
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, last = [], 0
    for _ in reader:
        starts.append(last)
        last = reader.line_num
    return starts


def test_csv_rows_after_a_blank_line_are_the_spreadsheet_rows(tree):
    path = tree / SYN
    starts = _row_starts(path)
    lines = _lines(path)
    header = next(csv.reader([lines[0]]))
    k = header.index("k")
    # break the k of the 4th data row (spreadsheet row 5), after a blank line under the header
    target = starts[4]
    assert starts[5] == target + 1, "the 4th data row must fit on one line for this test"
    cells = next(csv.reader([lines[target]]))
    cells[k] = "many"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    lines[target] = out.getvalue()
    lines.insert(1, "\n")
    path.write_text("".join(lines), encoding="utf-8")
    base = ek.load_evidence(tree, strict=False)
    assert _where(base.problems) == [(SYN, 6, "k")]  # header 1, blank 2, rows 3, 4, 5, then 6


def test_latin1_byte_in_a_csv_is_one_problem_naming_its_row(tree):
    path = tree / SYN
    starts = _row_starts(path)
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    row = 7  # spreadsheet row 7: the 6th data row
    line = starts[row - 1]
    header = next(csv.reader([lines[0].decode()]))
    outcome = next(csv.reader([lines[line].decode()]))[header.index("outcome")]
    cell = f",{outcome},".encode()
    assert outcome and cell in lines[line]
    lines[line] = lines[line].replace(cell, cell[:-1] + b"\xe9,", 1)  # a Latin-1 'é' in free text
    path.write_bytes(b"\n".join(lines))
    base = ek.load_evidence(tree, strict=False)
    where = f"row {row}" if line + 1 == row else f"row {row} (line {line + 1})"
    assert _where(base.problems) == [(SYN, row, None)]  # once, and no follow-on problems
    assert f"not UTF-8: byte 0xe9 on {where}" in base.problems[0].message
    assert base.syntheses["outcome"].eq(outcome + "é").sum() == 1  # the row is read, not dropped


def test_latin1_byte_in_principles_yaml_is_one_problem_naming_its_line(tree):
    path = tree / "principles.yaml"
    text = path.read_text(encoding="utf-8")
    line = text.splitlines().index("    short: Wellness, equity and access") + 1
    path.write_bytes(text.replace("Wellness, equity and access", "Wellness, \xe9quity and access", 1)
                     .encode("latin-1", errors="strict") if text.isascii() else
                     text.encode("utf-8").replace(b"Wellness, equity", b"Wellness, \xe9quity", 1))
    base = ek.load_evidence(tree, strict=False)
    assert _where(base.problems) == [("principles.yaml", line, None)]
    assert f"not UTF-8: byte 0xe9 on line {line}" in base.problems[0].message
    assert base.principles.loc[0, "short"] == "Wellness, équity and access"
