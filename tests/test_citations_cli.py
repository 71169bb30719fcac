"""``evidence-kit cite`` subcommands: convert, dedupe, format, prisma."""

from __future__ import annotations

import pandas as pd

import evidence_kit as ek
from evidence_kit.app.cli import main

RIS = """TY  - JOUR
AU  - Müller, Jörg
TI  - Recess and attention
PY  - 2020
T2  - Journal of School Health
VL  - 90
IS  - 2
SP  - 10
EP  - 20
DO  - 10.1000/recess
ER  -

TY  - JOUR
AU  - Müller, J.
TI  - Recess and attention.
PY  - 2020
DO  - https://doi.org/10.1000/RECESS
ER  -
"""


def test_convert_dedupe_format(tmp_path, capsys):
    src = tmp_path / "in.ris"
    src.write_text(RIS, encoding="utf-8")
    assert main(["cite", "convert", str(src), str(tmp_path / "out.bib")]) == 0
    back = ek.read_citations(tmp_path / "out.bib")
    assert [r["title"] for r in back] == ["Recess and attention", "Recess and attention."]
    assert main(["cite", "dedupe", str(src), str(tmp_path / "out.bib"), "--out",
                 str(tmp_path / "groups.csv")]) == 0
    groups = pd.read_csv(tmp_path / "groups.csv")
    assert groups["group"].nunique() == 1 and len(groups) == 4
    assert set(groups["reason"]) == {"representative", "same DOI"}
    capsys.readouterr()
    assert main(["cite", "format", str(src), "--style", "apa", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "Müller, J. (2020). Recess and attention. *Journal of School Health*, *90*(2), 10–20. " \
           "<https://doi.org/10.1000/recess>" in out


def test_bad_input_exit_code_and_message(tmp_path, capsys):
    bad = tmp_path / "bad.ris"
    bad.write_text("TY  - JOUR\nTI  - never closed\n", encoding="utf-8")
    assert main(["cite", "convert", str(bad), str(tmp_path / "x.bib")]) == 1
    err = capsys.readouterr().err
    assert "bad.ris, line 1, record #1" in err and "not closed with ER" in err
    assert main(["cite", "convert", str(bad), str(tmp_path / "x.bib"), "--lenient"]) == 0
    assert "skipped:" in capsys.readouterr().err


def test_prisma_command(tmp_path, capsys):
    ledger = tmp_path / "l.csv"
    pd.DataFrame({
        "record_id": ["r1", "r2"], "source": ["PubMed", "ERIC"], "title": ["A", "A"],
        "duplicate_of": ["", "r1"], "screening": ["include", ""], "full_text": ["include", ""],
        "exclusion_reason": ["", ""], "citation_key": ["k2020", ""],
    }).to_csv(ledger, index=False)
    assert main(["cite", "prisma", str(ledger), "--figure", str(tmp_path / "p.png")]) == 0
    out = capsys.readouterr().out
    assert "studies included in review" in out and (tmp_path / "p.png").stat().st_size > 0


def test_dedupe_with_reviewer_overrides(tmp_path):
    src = tmp_path / "in.ris"
    src.write_text(RIS, encoding="utf-8")
    recs = ek.read_citations(src)
    for i, r in enumerate(recs):
        r["id"] = f"r{i}"
    ek.write_citations(recs, tmp_path / "ids.ris")
    (tmp_path / "o.csv").write_text("a,b,decision\nr0,r1,not_duplicate\n", encoding="utf-8")
    assert main(["cite", "dedupe", str(tmp_path / "ids.ris"), "--out", str(tmp_path / "g.csv"),
                 "--overrides", str(tmp_path / "o.csv")]) == 0
    assert pd.read_csv(tmp_path / "g.csv").empty  # the reviewer said they differ
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    assert main(["cite", "dedupe", str(src), "--out", str(tmp_path / "g.csv"),
                 "--overrides", str(tmp_path / "bad.csv")]) == 1
