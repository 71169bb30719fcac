"""GRADE Summary of Findings table: one row per outcome, its effect, certainty and footnotes.

Notes
-----
Layout after the GRADE Summary of Findings table (Guyatt GH, et al. GRADE guidelines 12.
Preparing summary of findings tables. J Clin Epidemiol 2013;66:158-172); the footnotes are the
reasons each GradeResult gives for every domain that moved its level or was overridden.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from evidence_kit.certainty.grade import GradeResult

_SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}


@dataclass(frozen=True)
class SummaryOfFindings:
    """A GRADE Summary of Findings table: ``table`` (DataFrame), ``footnotes`` and ``to_html()``."""

    table: pd.DataFrame
    footnotes: list[str]

    def to_html(self) -> str:
        body = self.table.to_html(index=False, escape=True, border=0, classes="sof")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.footnotes)
        return f'<div class="summary-of-findings">{body}<ol type="a">{notes}</ol></div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.table.to_string(index=False) + "\n" + "\n".join(
            f"{chr(97 + i)}. {n}" for i, n in enumerate(self.footnotes))


def summary_of_findings(grades: Sequence[GradeResult] | Mapping[str, GradeResult], *, digits: int = 2) -> SummaryOfFindings:
    """Summary of Findings table: one row per outcome with its effect, certainty and footnotes.

    Parameters
    ----------
    grades : list of GradeResult, or dict outcome -> GradeResult
    digits : int
        Decimals shown for the effect (display only; the GradeResults keep full precision).

    Returns
    -------
    SummaryOfFindings
        ``table`` columns: Outcome, Studies, Participants, Effect (95% CI), Certainty, Footnotes;
        ``footnotes`` explain every rating that moved the level or was overridden.

    Notes
    -----
    Layout after the GRADE Summary of Findings table (Guyatt GH, et al. GRADE guidelines 12. J Clin
    Epidemiol 2013;66:158-172). Ratio measures (log_scale=True) are shown exponentiated.
    """
    items = list(grades.items()) if isinstance(grades, Mapping) else [(getattr(g, "outcome", None), g) for g in grades]
    if not items:
        raise ValueError("summary_of_findings needs at least one GradeResult")
    rows, notes = [], []
    for i, (name, g) in enumerate(items):
        if not isinstance(g, GradeResult):
            raise TypeError(f"item {i} is not a GradeResult (from evidence_kit.grade_certainty)")
        est, lo, hi = g.estimate, g.ci_lower, g.ci_upper
        if g.log_scale:
            est, lo, hi = math.exp(est), math.exp(lo), math.exp(hi)
        marks = []
        for reason in g.reasons:
            notes.append(reason)
            marks.append(chr(97 + len(notes) - 1) if len(notes) <= 26 else str(len(notes)))
        rows.append({
            "Outcome": name if name is not None else f"outcome {i + 1}",
            "Studies": g.k,
            "Participants": "" if g.n_total is None else f"{g.n_total:g}",
            "Effect (95% CI)": f"{g.measure + ' ' if g.measure else ''}{est:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})",
            "Certainty": f"{_SYMBOLS[g.level]} {g.level.upper()}",
            "Footnotes": ", ".join(marks),
        })
    return SummaryOfFindings(pd.DataFrame(rows), notes)
