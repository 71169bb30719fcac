"""The loader reads amstar2/*.csv and reproductions*.yaml with reproductions/*.csv, and each check
catches exactly its mistake (file, row or entry, column)."""

from __future__ import annotations

import pytest
from test_evidence import ROW, _write_csv, make_tree

import evidence_kit as ek

AMSTAR = {"citation_key": "smith2020sleep", **{f"item{i}": "yes" for i in range(1, 17)},
          "item_notes": "1: PICO stated; 2: protocol registered", "source_url": "https://doi.org/10.1000/sleep.1",
          "locator": "Methods; Results", "text_read": "full text", "access_notes": "",
          "extracted_by": "helper-a 2026-11-28", "checked": "", "check_notes": ""}

YAML = """reproductions:
  - synthesis_id: smith2020sleep-1
    file: smith2020sleep-1.csv
    measure: {measure}
    method: DL
    locator: Figure 2
    source_url: https://doi.org/10.1000/sleep.1
    extracted_by: helper-a 2026-11-28
"""
GEN = [{"study": "A 2001", "yi": "0.2", "ci_lower": "0.0", "ci_upper": "0.4"},
       {"study": "B 2003", "yi": "0.3", "ci_lower": "0.1", "ci_upper": "0.5"}]


def _where(base):
    return [(p.file, p.row, p.column) for p in base.problems]


@pytest.mark.parametrize(("change", "column", "message"), [
    ({}, None, None),
    ({"item2": "partial yes", "item11": "no meta-analysis"}, None, None),
    ({"item3": "partial yes"}, "item3", "AMSTAR 2 offers 'partial yes' only for items 2, 4, 7, 8, 9"),
    ({"item2": "no meta-analysis"}, "item2", "'no meta-analysis' is an answer only for items 11, 12, 15"),
    ({"item5": "maybe"}, "item5", "unknown answer 'maybe'"),
    ({"item16": ""}, "item16", "required value is empty"),
    ({"item_notes": ""}, "item_notes", "required value is empty"),
    ({"citation_key": "other2020x"}, "citation_key", "'other2020x' has no row in syntheses/*.csv"),
    ({"text_read": "abstract"}, "access_notes", "required when only the abstract was read"),
    ({"checked": "helper-b 2026-11-29"}, "check_notes", "required when checked"),
    ({"checked": "helper-a 2026-11-29", "check_notes": "items 1-16 agree"}, "checked", "independent read"),
])
def test_amstar2_rows(tmp_path, change, column, message):
    root = make_tree(tmp_path)
    _write_csv(root / "amstar2" / "sleep.csv", [dict(AMSTAR, **change)])
    base = ek.load_evidence(root, strict=False)
    if column is None:
        assert base.problems == () and len(base.amstar2) == 1
        assert base.amstar2.loc[0, "item2"] in ("yes", "partial yes")
        return
    assert _where(base) == [("amstar2/sleep.csv", 2, column)], base.problems
    assert message in base.problems[0].message


def test_amstar2_answers_are_case_insensitive(tmp_path):
    root = make_tree(tmp_path)
    _write_csv(root / "amstar2" / "sleep.csv", [dict(AMSTAR, item1="Yes", item2="Partial Yes")])
    base = ek.load_evidence(root)
    assert base.amstar2.loc[0, "item1"] == "yes" and base.amstar2.loc[0, "item2"] == "partial yes"


def _repro_tree(tmp_path, rows, measure="GEN", yaml_text=None):
    root = make_tree(tmp_path)
    (root / "reproductions.yaml").write_text(yaml_text or YAML.format(measure=measure), encoding="utf-8")
    _write_csv(root / "reproductions" / "smith2020sleep-1.csv", rows)
    return root


def test_reproduction_is_read(tmp_path):
    base = ek.load_evidence(_repro_tree(tmp_path, GEN))
    assert list(base.reproductions["synthesis_id"]) == ["smith2020sleep-1"]
    rows = base.reproduction_rows
    assert list(rows["study"]) == ["A 2001", "B 2003"] and rows["yi"].tolist() == [0.2, 0.3]
    assert set(rows["synthesis_id"]) == {"smith2020sleep-1"} and list(rows["row"]) == [2, 3]


@pytest.mark.parametrize(("rows", "measure", "where", "message"), [
    ([dict(GEN[0], yi="0.5")], "GEN", ("reproductions/smith2020sleep-1.csv", 2, "yi"), "lies outside its CI"),
    ([dict(GEN[0], ci_lower="")], "GEN", ("reproductions/smith2020sleep-1.csv", 2, "study"),
     "GEN needs the columns (yi, ci_lower, ci_upper) or (yi, sei)"),
    ([{"study": "A", "yi": "0.2", "sei": "0"}], "GEN", ("reproductions/smith2020sleep-1.csv", 2, "sei"), "> 0"),
    ([{"study": "A", "ai": "12", "n1i": "10", "ci": "3", "n2i": "10"}], "OR",
     ("reproductions/smith2020sleep-1.csv", 2, "ai"), "events must lie between 0 and"),
    ([{"study": "A", "m1i": "1", "sd1i": "1", "n1i": "2.5", "m2i": "0", "sd2i": "1", "n2i": "3"}], "SMD",
     ("reproductions/smith2020sleep-1.csv", 2, "n1i"), "integer >= 1"),
    ([dict(GEN[0], yi="big")], "GEN", ("reproductions/smith2020sleep-1.csv", 2, "yi"), "not a number"),
    ([dict(GEN[0], effect="0.2")], "GEN", ("reproductions/smith2020sleep-1.csv", 1, "effect"), "unknown column"),
    (GEN, "XYZ", ("reproductions.yaml", "smith2020sleep-1", "measure"), "unknown measure 'XYZ'"),
])
def test_reproduction_problems(tmp_path, rows, measure, where, message):
    base = ek.load_evidence(_repro_tree(tmp_path, rows, measure), strict=False)
    assert _where(base) == [where], base.problems
    assert message in base.problems[0].message


def test_reproduction_entry_problems(tmp_path):
    text = YAML.format(measure="GEN").replace("smith2020sleep-1\n", "nosuch-1\n").replace("    method: DL\n", "")
    text = text.replace("file: smith2020sleep-1.csv", "file: missing.csv") + "    colour: red\n"
    base = ek.load_evidence(_repro_tree(tmp_path, GEN, yaml_text=text), strict=False)
    assert sorted(_where(base), key=str) == sorted([
        ("reproductions.yaml", "nosuch-1", "colour"), ("reproductions.yaml", "nosuch-1", "method"),
        ("reproductions.yaml", "nosuch-1", "synthesis_id"), ("reproductions.yaml", "nosuch-1", "file")], key=str)


def test_no_reproductions_is_fine(tmp_path):
    base = ek.load_evidence(make_tree(tmp_path, rows=[dict(ROW)]))
    assert base.reproductions.empty and base.reproduction_rows.empty and base.amstar2.empty


DATASET_YAML = """reproductions:
  - synthesis_id: smith2020sleep-1
    dataset: dat.bcg
    escalc: {measure: RR, ai: tpos, bi: tneg, ci: cpos, di: cneg}
    subset: "year > 1940"
    measure: RR
    method: REML
    locator: Table 1
    source_url: https://doi.org/10.1000/sleep.1
    extracted_by: helper-a 2026-11-28
"""


def test_reproduction_from_a_shipped_dataset(tmp_path):
    root = make_tree(tmp_path)
    (root / "reproductions.yaml").write_text(DATASET_YAML, encoding="utf-8")
    base = ek.load_evidence(root)
    entry = base.reproductions.iloc[0]
    assert entry["dataset"] == "dat.bcg" and entry["escalc"]["ai"] == "tpos" and entry["subset"] == "year > 1940"


@pytest.mark.parametrize(("old", "new", "column", "message"), [
    ("dataset: dat.bcg", "dataset: dat.nosuch", "dataset", "'dat.nosuch' is not a shipped dataset"),
    ("ai: tpos", "ai: tpositive", "escalc", "ai='tpositive' is not a column of dat.bcg"),
    ('subset: "year > 1940"', 'subset: "year >> 1940"', "subset", "not a valid query on dat.bcg"),
    ("    dataset: dat.bcg\n", "    dataset: dat.bcg\n    file: x.csv\n", "file", "either file"),
])
def test_reproduction_dataset_problems(tmp_path, old, new, column, message):
    root = make_tree(tmp_path)
    (root / "reproductions.yaml").write_text(DATASET_YAML.replace(old, new), encoding="utf-8")
    base = ek.load_evidence(root, strict=False)
    assert _where(base)[0] == ("reproductions.yaml", "smith2020sleep-1", column), base.problems
    assert message in base.problems[0].message
