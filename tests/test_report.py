"""`evidence-kit build`: the living record (evidence/conclusions.csv), what a build reports as
changed, the guard that keeps the index and the pages on the same evidence, quiet kernels, and
the command line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from markupsafe import escape

import evidence_kit as ek
from evidence_kit.app import record
from evidence_kit.app.cli import main
from evidence_kit.app.site import StaleOutputs, build, compare_conclusions

ROOT = Path(__file__).resolve().parents[1]


def _table(**changes) -> pd.DataFrame:
    base = pd.DataFrame({
        "key": ["a-1", "b-1", "c-1", "Q1.1 attendance"],
        "kind": ["estimate", "estimate", "estimate", "bottom line"],
        "estimate": [0.2, 0.5, 1.2, None],
        "ci_lower": [0.1, 0.3, 1.0, None],
        "ci_upper": [0.3, 0.7, 1.5, None],
        "certainty": ["low", None, "moderate", "low"],
        "statement": [None, None, None, "School meals may improve attendance."],
    })
    for column, (i, value) in changes.items():
        base.loc[i, column] = value
    return base


def test_no_change_reports_nothing():
    assert compare_conclusions(_table(), _table()).empty


def test_each_kind_of_change_is_reported_once():
    old = _table()
    new = _table(estimate=(0, 0.25), certainty=(1, "high"), statement=(3, "School meals probably improve attendance."))
    new = pd.concat([new.drop(index=2), pd.DataFrame({"key": ["d-1"], "kind": ["estimate"], "estimate": [0.1]})])
    out = compare_conclusions(old, new).set_index("key")["change"].to_dict()
    assert out == {
        "a-1": "changed: estimate",
        "b-1": "changed: certainty",
        "c-1": "removed",
        "d-1": "added",
        "Q1.1 attendance": "changed: statement",
    }


def test_a_record_from_before_bottom_lines_still_compares():
    old = _table().drop(columns=["certainty", "statement"]).rename(columns={"key": "id"})
    new = _table().rename(columns={"key": "id"})
    out = compare_conclusions(old, new)
    assert set(out["change"]) == {"changed: certainty", "changed: certainty, statement"}


def test_record_round_trips_exactly(tmp_path):
    eb = ek.load_evidence(ROOT / "evidence")
    table = record.conclusions(eb)
    assert {"estimate", "bottom line"} == set(table["kind"])
    assert table["key"].is_unique
    path = tmp_path / "conclusions.csv"
    record.write_record(table, path)
    first = path.read_bytes()
    assert compare_conclusions(pd.read_csv(path), table).empty
    record.write_record(record.conclusions(eb), path)
    assert path.read_bytes() == first  # the same evidence writes the same file


def test_fingerprint_ignores_prose_and_the_record(tmp_path):
    shutil.copytree(ROOT / "evidence", tmp_path / "evidence")
    before = record.evidence_fingerprint(tmp_path / "evidence")
    (tmp_path / "evidence" / "README.md").write_text("changed prose\n")
    (tmp_path / "evidence" / "conclusions.csv").write_text("key\n")
    assert record.evidence_fingerprint(tmp_path / "evidence") == before
    path = sorted((tmp_path / "evidence" / "syntheses").glob("*.csv"))[0]
    path.write_text(path.read_text() + "\n")
    assert record.evidence_fingerprint(tmp_path / "evidence") != before


def _tiny_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A small notebook"), nbformat.v4.new_code_cell("print(1 + 1)")]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    nb.cells[1].execution_count = 1
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the evidence and one small notebook, so a build can be changed and redone quickly."""
    shutil.copytree(ROOT / "evidence", tmp_path / "evidence")
    (tmp_path / "evidence" / "conclusions.csv").unlink(missing_ok=True)
    (tmp_path / "notebooks").mkdir()
    _tiny_notebook(tmp_path / "notebooks" / "00_small.ipynb")
    return tmp_path


def _edit_first_estimate(project: Path) -> str:
    path = sorted((project / "evidence" / "syntheses").glob("*.csv"))[0]
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows.loc[0, "estimate"] = str(float(rows.loc[0, "estimate"]) + 0.001)
    rows.loc[0, "ci_upper"] = str(float(rows.loc[0, "ci_upper"]) + 0.002)
    rows.to_csv(path, index=False)
    return rows.loc[0, "id"]


def test_rebuilding_after_an_evidence_change_names_the_conclusion(project):
    first = build(project, execute=False, api=False, log=None)
    assert first.changes.empty and first.first_build  # nothing to compare with yet
    assert "First build" in repr(first)
    written = project / "evidence" / "conclusions.csv"
    assert written.exists() and (project / "_build" / "site" / "data" / "conclusions.csv").exists()

    target = _edit_first_estimate(project)
    second = build(project, execute=False, api=False, log=None)
    changed = second.changes.set_index("key")["change"]
    assert changed.loc[target].startswith("changed: estimate")
    assert "ci_upper" in changed.loc[target]
    index = (project / "_build" / "site" / "index.html").read_text(encoding="utf-8")
    assert target in index and "changed since the previous build" in index
    third = build(project, execute=False, api=False, log=None)
    assert third.changes.empty and not third.first_build  # and a third build is quiet
    assert "No conclusion changed" in repr(third)


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)


def test_a_fresh_clone_reports_what_changed_since_the_committed_review(project):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    build(project, execute=False, api=False, log=None)  # writes evidence/conclusions.csv
    _git(project, "init", "-q")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", "evidence", "notebooks")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "review")
    assert build(project, execute=False, api=False, log=None).changes.empty

    target = _edit_first_estimate(project)
    for _ in range(2):  # every build compares with the committed record, not with the last build
        report = build(project, execute=False, api=False, log=None)
        assert target in set(report.changes["key"])
        assert report.compared_with.startswith("the review committed on")
    index = (project / "_build" / "site" / "index.html").read_text(encoding="utf-8")
    assert "changed since the review committed on" in index


def test_index_statements_are_the_recorded_ones(project):
    build(project, execute=False, api=False, log=None)
    saved = pd.read_csv(project / "evidence" / "conclusions.csv")
    recorded = saved.loc[saved["kind"] == "bottom line", "statement"]
    assert len(recorded)
    index = (project / "_build" / "site" / "index.html").read_text(encoding="utf-8")
    for text in recorded:  # the headline and the lines behind it, word for word
        assert str(escape(text)) in index


def test_rendering_stale_outputs_is_refused_and_executing_is_quiet(project, capfd):
    build(project, execute=True, update_notebooks=True, api=False, log=None)
    nb = nbformat.read(project / "notebooks" / "00_small.ipynb", as_version=4)
    assert record.stamp_of(nb) == record.evidence_fingerprint(project / "evidence")
    assert "without encryption" not in capfd.readouterr().err  # the kernel runs over local sockets

    build(project, execute=False, api=False, log=None)  # stamp matches: fine
    _edit_first_estimate(project)
    with pytest.raises(StaleOutputs, match="00_small.ipynb"):
        build(project, execute=False, api=False, log=None)
    assert main(["build", str(project), "--no-execute", "--no-api"]) == 1
    assert "evidence/ changed after 00_small.ipynb" in capfd.readouterr().err
    build(project, execute=True, api=False, log=None)  # executing brings the pages back in step


def test_command_line_build_renders_the_committed_outputs(project, capsys):
    assert main(["build", str(project), "--no-execute", "--no-api", "--no-record"]) == 0
    out = capsys.readouterr().out
    assert "index.html" in out and "[1/" in out  # progress, notebook by notebook
    assert not (project / "evidence" / "conclusions.csv").exists()  # --no-record
    assert main(["build", str(project / "nowhere"), "--no-execute"]) == 1
