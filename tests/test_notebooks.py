"""Notebook hygiene: committed with outputs, paired with py:percent twins, strict nbval, offline.

nbval itself (``make nbval``) re-executes the notebooks and compares outputs; these tests check
what nbval cannot: that there is something to compare and that the text twin is in step.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.name == "00_getting_started.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_with_outputs_in_order(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code, "no code cells"
    counts = [c.execution_count for c in code]
    assert None not in counts, "cells never executed"
    assert counts == list(range(1, len(code) + 1)), f"not executed top to bottom: {counts}"
    assert any(c.outputs for c in code), "committed without outputs"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, "committed with an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_paired_text_twin_is_in_step(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"missing py:percent twin {twin.name} (jupytext --sync)"
    nb = nbformat.read(path, as_version=4)
    text = jupytext.read(twin)
    mine = [(c.cell_type, c.source.strip()) for c in nb.cells]
    theirs = [(c.cell_type, c.source.strip()) for c in text.cells]
    assert mine == theirs, f"{path.name} and {twin.name} differ: run jupytext --sync"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_first_cell_sets_up_and_nothing_reads_the_network(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "%matplotlib inline" in code[0], "first code cell must pin the inline backend"
    for src in code:
        assert not re.search(r"https?://", src), "notebooks read committed files only"


def test_nbval_is_strict():
    makefile = (ROOT / "Makefile").read_text()
    assert "--nbval " in makefile and "--nbval-lax" not in makefile
    assert "--nbval-sanitize-with tests/nbval_sanitize.cfg" in makefile
