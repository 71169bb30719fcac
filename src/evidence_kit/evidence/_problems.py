"""Problems found in ``evidence/``: each names its file, row and column; all are reported at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class Problem:
    """One problem: ``file`` relative to the evidence folder, ``row`` (spreadsheet row of a CSV,
    line of a BibTeX file, or the id of a YAML entry; None for the whole file), ``column`` (CSV
    column, BibTeX field or YAML key; None for the whole row) and ``message``."""

    file: str
    row: int | str | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class EvidenceError(ValueError):
    """Raised by ``load_evidence`` when ``evidence/`` has problems; ``.problems`` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the evidence base:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a DataFrame with columns file, row, column, message (for notebooks)."""
    return pd.DataFrame([asdict(p) for p in problems], columns=["file", "row", "column", "message"])
