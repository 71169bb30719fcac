"""`evidence-kit build`: the change report of a living review, and the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from evidence_kit.app.cli import main
from evidence_kit.app.site import build, compare_conclusions

ROOT = Path(__file__).resolve().parents[1]


def _table(**changes) -> pd.DataFrame:
    base = pd.DataFrame({
        "id": ["a-1", "b-1", "c-1"],
        "estimate": [0.2, 0.5, 1.2],
        "ci_lower": [0.1, 0.3, 1.0],
        "ci_upper": [0.3, 0.7, 1.5],
        "certainty": ["low", None, "moderate"],
    })
    for column, (i, value) in changes.items():
        base.loc[i, column] = value
    return base


def test_no_change_reports_nothing():
    assert compare_conclusions(_table(), _table()).empty


def test_each_kind_of_change_is_reported_once():
    old, new = _table(), _table(estimate=(0, 0.25), certainty=(1, "high"))
    new = pd.concat([new.drop(index=2), pd.DataFrame({"id": ["d-1"], "estimate": [0.1]})])
    out = compare_conclusions(old, new).set_index("id")["change"].to_dict()
    assert out == {
        "a-1": "changed: estimate",
        "b-1": "changed: certainty",
        "c-1": "removed",
        "d-1": "added",
    }


def test_a_table_from_before_certainty_existed_still_compares():
    old = _table().drop(columns="certainty")
    out = compare_conclusions(old, _table())
    assert set(out["change"]) == {"changed: certainty"}  # a-1 and c-1 gained a rating


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the evidence and one notebook, so a build can be changed and redone quickly."""
    shutil.copytree(ROOT / "evidence", tmp_path / "evidence")
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "00_getting_started.ipynb", tmp_path / "notebooks")
    return tmp_path


def test_rebuilding_after_an_evidence_change_names_the_conclusion(project):
    first = build(project, execute=False, log=None)
    assert first.changes.empty and first.first_build  # nothing to compare with yet
    assert "First build" in repr(first)
    assert (project / "_build" / "site" / "data" / "conclusions.csv").exists()

    path = sorted((project / "evidence" / "syntheses").glob("*.csv"))[0]
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    target = rows.loc[0, "id"]
    rows.loc[0, "estimate"] = str(float(rows.loc[0, "estimate"]) + 0.001)
    rows.loc[0, "ci_upper"] = str(float(rows.loc[0, "ci_upper"]) + 0.002)
    rows.to_csv(path, index=False)

    second = build(project, execute=False, log=None)
    changed = second.changes.set_index("id")["change"]
    assert changed.loc[target].startswith("changed: estimate")
    assert "ci_upper" in changed.loc[target]
    assert "changed" in (project / "_build" / "site" / "index.html").read_text(encoding="utf-8")
    third = build(project, execute=False, log=None)
    assert third.changes.empty and not third.first_build  # and a third build is quiet
    assert "No conclusion changed" in repr(third)


def test_command_line_build_renders_the_committed_outputs(project, capsys):
    assert main(["build", str(project), "--no-execute"]) == 0
    out = capsys.readouterr().out
    assert "index.html" in out and "[1/" in out  # progress, notebook by notebook
    assert main(["build", str(project / "nowhere"), "--no-execute"]) == 1
