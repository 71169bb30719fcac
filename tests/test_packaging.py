"""The environment files agree: pyproject.toml, constraints.txt and environment.yml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def _pyproject_requirements() -> list[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + [r for reqs in meta["optional-dependencies"].values() for r in reqs]
    return [r for r in reqs if _name(r) != meta["name"]]  # an extra may include another: evidence-kit[test]


def test_every_requirement_is_pinned():
    pins = _pins()
    missing = [r for r in _pyproject_requirements() if _name(r) not in pins]
    assert not missing, f"not pinned in constraints.txt: {missing}"


def test_environment_yml_matches_pyproject_and_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, _, version = dep.partition("=")
            conda[name.lower()] = version
    pins = _pins()
    wanted = {_name(r) for r in _pyproject_requirements()}
    assert wanted <= set(conda), f"in pyproject.toml but not environment.yml: {sorted(wanted - set(conda))}"
    extra = set(conda) - wanted - {"python", "pip"}
    assert not extra, f"in environment.yml but not pyproject.toml: {sorted(extra)}"
    wrong = {n: (conda[n], pins[n]) for n in wanted if conda[n] != pins[n]}
    assert not wrong, f"environment.yml and constraints.txt disagree (conda, pip): {wrong}"
    assert env["dependencies"][0] == "python=3.11"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
