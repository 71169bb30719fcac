"""``evidence-kit check``: prints file:row:column: message per problem; exit 1 on problems, 0 if valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from evidence_kit.app.cli import main

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "data" / "evidence_bad"


def _valid_tree(tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    (root / "references").mkdir(parents=True)
    shutil.copy(ROOT / "evidence" / "principles.yaml", root)
    (root / "studies.yaml").write_text(
        "datasets: []\nnot_mapped:\n"
        + "".join(f"  - {{dataset: {name}, reason: not in this test}}\n" for name in _datasets()),
        encoding="utf-8")
    return root


def _datasets() -> list[str]:
    import evidence_kit as ek

    return ek.list_datasets()


def test_check_valid_tree_exits_0_with_one_line(tmp_path, capsys):
    root = _valid_tree(tmp_path)
    (root / "gaps.yaml").write_text(
        "gaps:\n" + "".join(f"  - {{principle: P{i}, searched: nothing (a test), reason: a test}}\n" for i in range(1, 7)),
        encoding="utf-8")
    assert main(["check", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{root}: OK: 6 principles, 19 questions, 0 references")
    assert out[0].endswith("6 stated gaps; 0 problems")


def test_warnings_alone_exit_0(tmp_path, capsys):
    root = _valid_tree(tmp_path)  # no syntheses and no gaps: 19 warnings, no problem
    assert main(["check", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 20 and all(line.startswith("warning: principles.yaml:Q") for line in out[:19])


def test_check_broken_tree_exits_1_and_lists_every_problem(capsys):
    assert main(["check", str(BAD / "rows")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 + 46  # 6 warnings first, then 45 problems and the count
    assert out[0] == ("warning: syntheses/area.csv:2:outcome_domain: academic_achievement is not among "
                      "the outcomes principles.yaml lists for Q1.2")
    assert out[5] == "warning: principles.yaml:Q2.2:: no synthesis row and no stated gap (gaps.yaml) for this question"
    assert out[6] == "references/one.bib:16:author: entry 'noauthor2018' has no author or editor"
    assert "studies.yaml::: file not found" in out
    assert "syntheses/area.csv:5:k: k must be an integer >= 1; got 2.5" in out
    assert out[-1] == f"45 problem(s) in {BAD / 'rows'}"


def test_check_missing_folder_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "evidence folder not found" in capsys.readouterr().err


def test_console_script_exit_code():
    """The installed entry point, as CI calls it."""
    done = subprocess.run([sys.executable, "-m", "evidence_kit.app.cli", "check", str(BAD / "yaml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "studies.yaml:dat.bcg:dataset: dat.bcg is listed twice" in done.stdout


def test_coverage_table(tmp_path, capsys):
    root = _valid_tree(tmp_path)
    assert main(["check", str(root), "--coverage"]) == 0
    out = capsys.readouterr().out.splitlines()
    table = [line for line in out if not line.startswith("warning:")][1:]
    assert table[0].split() == ["principle", "synthesis_rows", "sources", "datasets", "stated_gaps"]
    assert table[2].split() == ["Q1.1", "P1", "0", "0", "0", "0"] and len(table) == 2 + 19
