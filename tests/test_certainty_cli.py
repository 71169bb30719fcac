"""``evidence-kit certainty``: the GRADE, WWC and ESSA tables from the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import evidence_kit as ek
from evidence_kit import review as rv
from evidence_kit.app.cli import main

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "evidence"


def test_grade_table_is_the_notebooks(capsys):
    assert main(["certainty", str(EVIDENCE)]) == 0
    out = capsys.readouterr().out
    table = rv.certainty_table(ek.load_evidence(EVIDENCE))
    assert out.splitlines()[0].split()[:4] == ["principle", "question", "outcome_domain", "id"]
    assert len(out.splitlines()) == len(table) + 1
    for rid in table["id"]:
        assert rid in out


def test_csv_export_of_each_table(tmp_path, capsys):
    base = ek.load_evidence(EVIDENCE)
    for which, expected in (("wwc", rv.wwc_ratings(base, "P6")),
                            ("essa", rv.essa_tiers(rv.wwc_ratings(base, "P6")).reset_index())):
        path = tmp_path / f"{which}.csv"
        assert main(["certainty", str(EVIDENCE), "--table", which, "--principle", "P6", "--out", str(path)]) == 0
        assert f"wrote {len(expected)} row(s)" in capsys.readouterr().out
        got = pd.read_csv(path)
        assert got.columns.tolist() == expected.columns.tolist() and len(got) == len(expected)
    path = tmp_path / "grade.csv"
    assert main(["certainty", str(EVIDENCE), "--principle", "P3", "--out", str(path)]) == 0
    assert set(pd.read_csv(path)["principle"]) == {"P3"}


def test_bad_input_exit_codes(tmp_path, capsys):
    assert main(["certainty", str(tmp_path / "nowhere")]) == 2
    assert "evidence folder not found" in capsys.readouterr().err
    assert main(["certainty", str(EVIDENCE), "--principle", "P9"]) == 2
    assert "P9" in capsys.readouterr().err
    broken = ROOT / "tests" / "data" / "evidence_bad" / "rows"
    assert main(["certainty", str(broken)]) == 1
    assert "run `evidence-kit check" in capsys.readouterr().err
