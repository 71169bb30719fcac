"""Shared pieces of the review helpers: the common metrics and principle lookups."""

from __future__ import annotations

import pandas as pd

from evidence_kit._core.validate import check_choice

SMD_METRICS = ("d", "g", "SMD", "OR")
R_METRICS = ("r", "z")
SCALES = ("SMD", "r")
_RATINGS = ("not serious", "serious", "very serious")


def _split(text) -> list[str]:
    return [part.strip() for part in str(text).split(";") if part.strip()]


def _check_principle(eb, principle: str) -> str:
    return check_choice("principle", principle, list(eb.principles["id"]))


def _rows_for(eb, principle: str) -> pd.DataFrame:
    syn = eb.syntheses
    hit = syn["principle"].map(lambda p: principle in _split(p))
    return syn.loc[hit.to_numpy(dtype=bool)]
