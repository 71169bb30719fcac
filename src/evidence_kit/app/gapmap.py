"""The evidence and gap map of the index page: questions x outcome domains, as Campbell and 3ie
maps draw them.

Each cell is a bubble whose area grows with the number of syntheses and whose fill says the GRADE
certainty of the cell's bottom line; the GRADE symbols under it repeat the certainty in text, so
colour is never the only cue. A cell the question asks about with no pooled estimate is a gap, a
dashed ring marked "gap"; a cell the question does not ask about stays blank. This module
only lays the cells out (numbers, sizes, colours, labels); ``templates/site/index.html.j2`` draws
them as inline SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from evidence_kit.evidence import OUTCOME_DOMAINS

DOMAIN_LABELS = {
    "academic_achievement": "Academic achievement",
    "attendance": "Attendance",
    "engagement_behaviour": "Engagement and behaviour",
    "wellbeing_mental_health": "Wellbeing and mental health",
    "staff_health_retention": "Staff health and retention",
}

LEVELS = ("high", "moderate", "low", "very low")
"""GRADE levels, best first."""

SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
"""The symbols GRADE Summary of Findings tables print for each level."""

COLOURS = {"high": "#08519c", "moderate": "#3182bd", "low": "#6baed6", "very low": "#c6dbef"}
"""One sequential blue per level (ColorBrewer Blues): readable with every common colour-vision
deficiency because the levels differ in lightness, not hue. Not rated: white with a dashed edge."""

NOT_RATED = "#ffffff"
R_MIN, R_MAX, BOX = 6.0, 17.0, 38
"""Bubble radii (px) for one and for the most syntheses in any cell; the SVG box side (px)."""


def domain_label(domain: str) -> str:
    """An outcome domain in words (``academic_achievement`` -> "Academic achievement")."""
    return DOMAIN_LABELS.get(domain, str(domain).replace("_", " ").capitalize())


def certainty_words(level) -> str:
    """"low certainty", or "not rated" when no GRADE level was given."""
    level = _level(level)
    return f"{level} certainty" if level else "not rated"


def _level(level) -> str:
    if level is None or (not isinstance(level, str) and pd.isna(level)):
        return ""
    level = str(level).strip().lower()
    return level if level in LEVELS else ""


@dataclass(frozen=True)
class Cell:
    """One cell of the map, ready to draw."""

    question: str
    domain: str
    n_syntheses: int
    n_rows: int
    certainty: str  # a GRADE level, or "" when not rated
    href: str  # link to the cell's section, "" for a gap with no section
    radius: float
    fill: str
    symbols: str
    label: str  # what a screen reader says
    asked: bool = True  # the question lists this outcome (or a synthesis gives it one)

    @property
    def gap(self) -> bool:
        return self.n_syntheses == 0


@dataclass(frozen=True)
class Row:
    """One question of the map with its cells, one per outcome domain."""

    principle: str
    question: str
    label: str
    cells: list[Cell]


def radius(n: int, n_max: int) -> float:
    """Bubble radius: area proportional to the number of syntheses, R_MIN for one, R_MAX for the most."""
    if n <= 0:
        return 0.0
    if n_max <= 1:
        return R_MAX
    return R_MIN + (R_MAX - R_MIN) * math.sqrt((n - 1) / (n_max - 1))


def layout(gap_map: pd.DataFrame, pages: dict[str, str], domains=OUTCOME_DOMAINS) -> list[Row]:
    """Rows of the map from ``review.evidence_gap_map(eb)``.

    Parameters
    ----------
    gap_map : columns principle, question, question_label, outcome_domain, n_syntheses, n_rows,
        certainty, anchor (one row per question x outcome domain; missing cells are gaps).
    pages : principle id -> the page (file name) holding its sections.
    domains : the map's columns, in order.
    """
    frame = gap_map.copy()
    frame["n_syntheses"] = pd.to_numeric(frame["n_syntheses"], errors="coerce").fillna(0).astype(int)
    frame["n_rows"] = pd.to_numeric(frame.get("n_rows", 0), errors="coerce").fillna(0).astype(int)
    n_max = int(frame["n_syntheses"].max()) if len(frame) else 0
    cells = {(r.question, r.outcome_domain): r for r in frame.itertuples(index=False)}
    questions = frame.drop_duplicates("question")[["principle", "question", "question_label"]]
    rows = []
    for q in questions.itertuples(index=False):
        out = []
        for d in domains:
            rec = cells.get((q.question, d))
            n = int(rec.n_syntheses) if rec is not None else 0
            level = _level(rec.certainty) if rec is not None else ""
            anchor = str(rec.anchor) if rec is not None and isinstance(rec.anchor, str) and rec.anchor else ""
            page = pages.get(q.principle, "")
            href = f"{page}#{anchor}" if page and anchor else (page if page and n else "")
            if n:
                label = (f"{q.question} {domain_label(d).lower()}: {n} "
                         f"{'synthesis' if n == 1 else 'syntheses'}, {certainty_words(level)}")
            elif rec is not None:
                label = f"{q.question} {domain_label(d).lower()}: gap, no pooled estimate found"
            else:
                label = f"{q.question} {domain_label(d).lower()}: not asked by this question"
            out.append(Cell(
                question=q.question, domain=d, n_syntheses=n, n_rows=int(rec.n_rows) if rec is not None else 0,
                certainty=level, href=href if n or anchor else "", radius=round(radius(n, n_max), 2),
                fill=COLOURS.get(level, NOT_RATED), symbols=SYMBOLS.get(level, ""), label=label,
                asked=rec is not None,
            ))
        rows.append(Row(principle=q.principle, question=q.question, label=str(q.question_label), cells=out))
    return rows


def legend(n_max: int) -> dict:
    """What the legend draws: example bubble sizes and one swatch per certainty level."""
    sizes = sorted({1, max(1, round(n_max / 2)), max(1, n_max)})
    return {
        "sizes": [{"n": n, "radius": round(radius(n, n_max), 2)} for n in sizes],
        "levels": [{"level": lv, "fill": COLOURS[lv], "symbols": SYMBOLS[lv]} for lv in LEVELS],
        "not_rated": NOT_RATED,
        "box": BOX,
    }
