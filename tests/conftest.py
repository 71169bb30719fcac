"""Shared test helpers: reference fixtures and shipped datasets."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).parent / "reference"
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


def _decode(value):
    """JSON fixtures write infinities as strings and NA as null; turn them into floats."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if value == "Inf":
        return math.inf
    if value == "-Inf":
        return -math.inf
    return value


def load_reference(name: str) -> dict:
    """Load ``tests/reference/<name>.json`` written by ``tests/reference/<name>.R``."""
    path = REFERENCE_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as fh:
        return _decode(json.load(fh))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository (read-only test data such as citation exports)."""
    if not SHARED_DIR.is_dir():
        if os.environ.get("CI"):  # CI lays shared/ beside the clone: its absence is a failure there
            pytest.fail("../shared is not present beside this checkout")
        pytest.skip("../shared is not present beside this checkout")
    return SHARED_DIR
