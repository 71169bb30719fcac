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


#: Outcome domains in words (evidence/principles.yaml lists the codes).
DOMAIN_WORDS = {
    "academic_achievement": "academic achievement",
    "attendance": "attendance",
    "engagement_behaviour": "engagement and behaviour",
    "wellbeing_mental_health": "wellbeing and mental health",
    "staff_health_retention": "staff health and retention",
}


def domain_words(domain: str) -> str:
    """``"engagement_behaviour"`` -> ``"engagement and behaviour"`` (unknown codes: underscores as spaces)."""
    return DOMAIN_WORDS.get(str(domain), str(domain).replace("_", " "))


def question_label(text: str) -> str:
    """A question's intervention or exposure without its parenthesised examples, for labels:
    ``"school meal and nutrition programmes (breakfast, ...)"`` -> ``"school meal and nutrition programmes"``."""
    out, depth = [], 0
    for ch in str(text):
        depth += ch == "("
        if depth == 0:
            out.append(ch)
        depth -= ch == ")" and depth > 0
    return " ".join("".join(out).split()).strip(" ,;")


def short_cite(ref) -> str:
    """``"Kristjansson et al. 2007"`` from a Citation (CSL-JSON): one, two (``&``) or three and more
    authors; the record's id when it has no author."""
    names = ref.get("author") or ref.get("editor") or []
    fam = [n.get("family") or n.get("literal") or "" for n in names]
    fam = [f for f in fam if f]
    year = ref.year if hasattr(ref, "year") else None
    who = (fam[0] if len(fam) == 1 else f"{fam[0]} & {fam[1]}" if len(fam) == 2
           else f"{fam[0]} et al." if fam else str(ref.get("id", "")))
    return f"{who} {year}" if year else who


def ref_url(ref) -> str:
    """The link of a reference: https://doi.org/<DOI>, else its URL, else empty."""
    doi = ref.get("DOI")
    if doi:
        return f"https://doi.org/{doi}"
    return str(ref.get("URL") or "")


#: The outcome domains in the order of evidence/README.md.
DOMAIN_ORDER = tuple(DOMAIN_WORDS)
