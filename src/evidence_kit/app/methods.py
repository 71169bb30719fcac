"""The numbers of the methods appendix, computed from ``evidence/``: what was searched, when and
how, the PRISMA 2020 flow with its coded exclusion reasons, how rows were extracted and read a
second time, and the AMSTAR 2 and GRADE tallies. ``templates/site/methods.html.j2`` holds the
prose; this module only counts.

The screening ledger names each source as the project's search tools did (``search:pages``...);
:data:`SOURCE_WORDS` says each one in the words of the field, and the appendix uses those. A
source missing from it is an error (``unnamed_sources``), so a new tool name cannot reach a page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evidence_kit import review

SOURCE_WORDS = {
    "search:pages": ("a full-text index of open-access web pages (PubMed Central, publishers' pages, "
                     "Cochrane and Campbell libraries, ERIC)"),
    "search:docs": "an index of research software, data repositories and their documentation pages",
    "find_repos": "public code and data repositories (replication packages of published reviews)",
    "WWC study-review data": "the What Works Clearinghouse's study-review data (its published ratings of trials)",
}
"""Ledger ``source`` -> the words the appendix uses (a source starting with a key matches it)."""

VIA_WORDS = {"database": "databases and indexes", "register": "registers",
             "other": "other methods (data files, citation chasing, websites)"}


def source_words(source: str) -> str | None:
    """The appendix's words for a ledger source, or ``None`` when it has none."""
    for key, words in SOURCE_WORDS.items():
        if str(source) == key or str(source).startswith(key):
            return words
    return None


def unnamed_sources(eb) -> list[str]:
    """Ledger sources that :data:`SOURCE_WORDS` does not name (they must be added before a build)."""
    if eb.screening is None or not len(eb.screening):
        return []
    return sorted({s for s in eb.screening["source"].dropna().astype(str) if source_words(s) is None})


@dataclass(frozen=True)
class Methods:
    """Everything the methods appendix counts."""

    searches: list[dict]  # one per source: words, records, queries, first and last date
    first_search: str
    last_search: str
    areas: list[dict]  # one per ledger file: area, records, first and last date
    prisma: dict  # PRISMA 2020 boxes (identified ... included) and exclusion reasons
    extraction: dict  # rows, sources, full text vs abstract, second reads, flags
    people: list[dict]  # role, id, rows (who extracted and who read again)
    amstar: dict  # reviews appraised, from full text / abstract, overall confidence counts
    grade: list[dict]  # GRADE level -> bottom lines at that level


def _count(series: pd.Series) -> list[dict]:
    ids = series.dropna().astype(str).str.split().str[0]
    return [{"id": k, "rows": int(v)} for k, v in ids.value_counts().sort_index().items()]


def methods(eb, lines: pd.DataFrame | None = None) -> Methods:
    """Count what the appendix reports (``lines``: ``review.bottom_lines(eb)`` for the GRADE tally)."""
    s = eb.screening if eb.screening is not None else pd.DataFrame(
        columns=["source", "query", "search_date", "file", "identified_via", "screened_by"])
    dates = pd.to_datetime(s["search_date"], errors="coerce")
    searches = []
    for words, sub in s.assign(_words=s["source"].map(source_words), _date=dates).groupby("_words", sort=False):
        searches.append({"words": words, "records": len(sub), "queries": int(sub["query"].nunique()),
                         "first": _day(sub["_date"].min()), "last": _day(sub["_date"].max())})
    searches.sort(key=lambda d: -d["records"])
    areas = []
    for file, sub in s.assign(_date=dates).groupby("file"):
        area = str(file).rsplit("/", 1)[-1].removesuffix(".csv").replace("_", " ")
        areas.append({"area": area, "records": len(sub), "first": _day(sub["_date"].min()),
                      "last": _day(sub["_date"].max())})

    pc = eb.prisma_counts()
    identified = {}
    for source, n in pc.identified.items():
        words = source_words(source) or str(source)
        identified[words] = identified.get(words, 0) + int(n)
    prisma = {
        "identified": sorted(identified.items(), key=lambda kv: -kv[1]),
        "identified_total": int(sum(identified.values())),
        "via": [(VIA_WORDS.get(k, k), int(v)) for k, v in pc.identified_via.items()],
        "duplicates_removed": int(pc.duplicates_removed), "screened": int(pc.screened),
        "excluded_screening": int(pc.excluded_screening), "sought": int(pc.sought),
        "not_retrieved": int(pc.not_retrieved), "assessed": int(pc.assessed),
        "excluded_full_text": sorted(((k, int(v)) for k, v in pc.excluded_full_text.items()), key=lambda kv: -kv[1]),
        "excluded_full_text_total": int(sum(pc.excluded_full_text.values())),
        "included": int(pc.included),
    }

    syn = eb.syntheses
    checked = syn["checked"].fillna("").astype(str).str.strip().ne("")
    flagged = syn["flag"].fillna("").astype(str).str.strip().ne("")
    read = syn["text_read"].fillna("").astype(str)
    extraction = {
        "rows": len(syn), "sources": int(syn["citation_key"].nunique()),
        "full_text": int((read == "full text").sum()), "abstract": int((read == "abstract").sum()),
        "abstract_sources": int(syn.loc[read == "abstract", "citation_key"].nunique()),
        "checked": int(checked.sum()), "unchecked": int((~checked).sum()), "flagged": int(flagged.sum()),
        "first_extracted": _first_date(syn["extracted_by"]), "last_extracted": _last_date(syn["extracted_by"]),
        "wwc_findings": len(eb.wwc_findings) if eb.wwc_findings is not None else 0,
    }
    people = ([{"role": "extracted", **p} for p in _count(syn["extracted_by"])]
              + [{"role": "read a second time", **p} for p in _count(syn.loc[checked, "checked"])])

    am = eb.amstar2
    if am is not None and len(am):
        conf = review.amstar2_confidence(eb)  # as the principle pages show it
        full = am["text_read"].fillna("").eq("full text").to_numpy()
        amstar = {"reviews": len(am), "full_text": int(full.sum()), "abstract": int((~full).sum()),
                  "not_appraisable": review.NOT_APPRAISABLE,
                  "confidence": [(lv, int((conf.to_numpy()[full] == lv).sum()))
                                 for lv in ("high", "moderate", "low", "critically low")]}
    else:
        amstar = {"reviews": 0, "full_text": 0, "abstract": 0, "not_appraisable": "", "confidence": []}

    grade = []
    if lines is not None and len(lines):
        levels = lines["certainty"].fillna("").astype(str).str.strip().str.lower()
        for lv in ("high", "moderate", "low", "very low"):
            grade.append({"level": lv, "lines": int((levels == lv).sum())})
        grade.append({"level": "not rated", "lines": int((~levels.isin(["high", "moderate", "low", "very low"])).sum())})

    return Methods(searches=searches, first_search=_day(dates.min()), last_search=_day(dates.max()),
                   areas=areas, prisma=prisma, extraction=extraction, people=people, amstar=amstar, grade=grade)


def _day(ts) -> str:
    return "" if pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def _dates(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col.fillna("").astype(str).str.extract(r"(\d{4}-\d{2}-\d{2})")[0], errors="coerce")


def _first_date(col: pd.Series) -> str:
    return _day(_dates(col).min())


def _last_date(col: pd.Series) -> str:
    return _day(_dates(col).max())
