"""Shared loaders for tests/reference/models.json (written by tests/reference/models.R): the
recorded data sets, V matrices from their blocks, and the shipped metadat datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import load_reference

import evidence_kit as ek
from evidence_kit.synthesis.vcalc import BlockCovariance

CASES = load_reference("models")["cases"]


def cases_with(prefix: str) -> set[str]:
    return {c for c in CASES if c.startswith(prefix)}


def recorded(name: str) -> pd.DataFrame:
    """A data set recorded in the fixture ("data/<name>"): its columns as a DataFrame."""
    d = CASES[f"data/{name}"]
    return pd.DataFrame({k: v for k, v in d.items() if isinstance(v, list) and k != "warnings"})


def block_v(case_id: str) -> BlockCovariance:
    """The V of a vcalc case, from its blocks (1-based rows)."""
    c = CASES[case_id]
    rows = [np.asarray(b["rows"], dtype=int) - 1 for b in c["blocks"]]
    return BlockCovariance.from_blocks(c["k"], rows, [np.atleast_2d(b["V"]) for b in c["blocks"]])


def dataset(name: str) -> pd.DataFrame:
    """Data of a case: a shipped metadat dataset, or a recorded one."""
    if name in ("berkey1998", "ishak2007_long", "bcg", "welch2016_main"):
        return recorded(name)
    return ek.load_dataset(f"dat.{name}")
