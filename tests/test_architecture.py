"""The layers of ARCHITECTURE.md hold: import-linter keeps the contract in pyproject.toml, and the
same contract breaks on a package with one upward import (so the check can fail)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "evidence_kit"
LINT = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")


def _run(config: Path, path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(path))
    return subprocess.run([LINT, "--config", str(config)], capture_output=True, text=True, env=env, cwd=path)


@pytest.mark.skipif(not Path(LINT).exists(), reason="import-linter not installed")
def test_layers_contract_is_kept():
    done = _run(ROOT / "pyproject.toml", ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Layers import downward only KEPT" in done.stdout


@pytest.mark.skipif(not Path(LINT).exists(), reason="import-linter not installed")
def test_an_upward_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "src" / "evidence_kit"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("data", "__pycache__", "templates"))
    (copy / "data").mkdir()
    for f in (SRC / "data").glob("*.py"):
        shutil.copy(f, copy / "data")
    target = copy / "synthesis" / "model.py"
    target.write_text(target.read_text() + "\nfrom evidence_kit.review import certainty_table  # upward\n")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())
    done = _run(config, tmp_path / "src")
    assert done.returncode != 0 and "BROKEN" in done.stdout


def test_every_package_is_a_layer_of_the_contract():
    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {part.strip() for layer in layers for part in layer.split("|")}
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == named
    assert set(ROOT.joinpath("ARCHITECTURE.md").read_text().split("`")) >= {f"{n}/" for n in named}


def test_no_import_inside_a_function():
    """Imports belong at the top of a module (ARCHITECTURE.md): none is hidden in a function."""
    hidden = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                hidden += [f"{path.relative_to(SRC)}:{sub.lineno}" for sub in ast.walk(node)
                           if isinstance(sub, (ast.Import, ast.ImportFrom))]
    assert not hidden, hidden
