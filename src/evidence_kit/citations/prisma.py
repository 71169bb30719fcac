"""PRISMA 2020 flow counts from a screening ledger, and the flow diagram.

The boxes and their names follow the PRISMA 2020 flow diagram for new systematic reviews
(Page et al. 2021, *BMJ* 372:n71, doi:10.1136/bmj.n71, Figure 1). Counts are computed from the
ledger, never typed: one row per record looked at (evidence/README.md, ``screening/*.csv``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evidence_kit.citations.duplicates import find_duplicates
from evidence_kit.citations.ids import normalize_doi

REQUIRED = ("record_id", "source", "title", "duplicate_of", "full_text", "exclusion_reason",
            "citation_key")
SCREENING_COLUMNS = ("title_abstract", "screening")  # the brief's name and evidence/README's
VIA = ("database", "register", "other")


@dataclass(frozen=True)
class PrismaCounts:
    """The PRISMA 2020 flow (Page et al. 2021, Figure 1), every number computed from a ledger.

    ``identified`` and ``identified_via`` count every record found (duplicates included), per
    source and per PRISMA identification box (database, register, other). The identities
    ``screened = excluded_screening + sought``, ``sought = not_retrieved + assessed`` and
    ``assessed = sum(excluded_full_text) + included`` hold by construction and are checked.
    """

    identified: dict = field(default_factory=dict)
    identified_via: dict = field(default_factory=dict)
    duplicates_removed: int = 0
    screened: int = 0
    excluded_screening: int = 0
    sought: int = 0
    not_retrieved: int = 0
    assessed: int = 0
    excluded_full_text: dict = field(default_factory=dict)
    included: int = 0

    @property
    def total_identified(self) -> int:
        return int(sum(self.identified.values()))

    def to_frame(self) -> pd.DataFrame:
        """One row per box: stage, box, count (sources and reasons listed under their box)."""
        rows = [("identification", f"records identified: {s}", n) for s, n in self.identified.items()]
        rows += [("identification", "records identified (total)", self.total_identified),
                 ("identification", "duplicate records removed", self.duplicates_removed),
                 ("screening", "records screened", self.screened),
                 ("screening", "records excluded", self.excluded_screening),
                 ("screening", "reports sought for retrieval", self.sought),
                 ("screening", "reports not retrieved", self.not_retrieved),
                 ("screening", "reports assessed for eligibility", self.assessed)]
        rows += [("screening", f"reports excluded: {r}", n) for r, n in self.excluded_full_text.items()]
        rows += [("included", "studies included in review", self.included)]
        return pd.DataFrame(rows, columns=["stage", "box", "count"])


def read_ledger(ledger) -> pd.DataFrame:
    """A ledger as one DataFrame with ``file`` and ``row`` (spreadsheet row: header is row 1).

    ``ledger``: a DataFrame, a CSV path, a folder (its ``*.csv`` files, sorted, concatenated) or
    a list of CSV paths.
    """
    if isinstance(ledger, pd.DataFrame):
        df = ledger.copy()
        if "file" not in df.columns:  # a frame read elsewhere may already say where rows stand
            df.insert(0, "file", "<DataFrame>")
        if "row" not in df.columns:
            df.insert(1, "row", range(2, len(df) + 2))
        return df
    paths = []
    for item in ledger if isinstance(ledger, (list, tuple)) else [ledger]:
        p = Path(item)
        paths += sorted(p.glob("*.csv")) if p.is_dir() else [p]
    if not paths:
        raise ValueError(f"no ledger CSV files in {ledger!r}")
    frames = []
    for p in paths:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df.insert(0, "file", str(p))
        df.insert(1, "row", range(2, len(df) + 2))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _clean(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def validate_ledger(df: pd.DataFrame) -> list[str]:
    """Every problem in the ledger as ``"file, row N, column: message"`` (empty when valid)."""
    problems: list[str] = []
    missing = [c for c in REQUIRED if c not in df.columns]
    if not any(c in df.columns for c in SCREENING_COLUMNS):
        missing.append("screening (or title_abstract)")
    if missing:
        files = ", ".join(sorted(set(map(str, df.get("file", pd.Series(["<ledger>"]))))))
        return [f"{files}: missing column(s) {', '.join(missing)}"]

    def report(mask, column, message):
        for f, r, v in zip(df.loc[mask, "file"], df.loc[mask, "row"], df.loc[mask, column]):
            problems.append(f"{f}, row {r}, {column}: {message} (value {v!r})")

    rid = _clean(df["record_id"])
    dup = _clean(df["duplicate_of"])
    scr = _clean(df[_screen_col(df)]).str.lower()
    ft = _clean(df["full_text"]).str.lower()
    reason = _clean(df["exclusion_reason"])
    key = _clean(df["citation_key"])
    report(rid == "", "record_id", "record_id is required")
    report(rid.duplicated(keep="first") & (rid != ""), "record_id", "record_id is not unique")
    report(_clean(df["source"]) == "", "source", "source is required")
    report(_clean(df["title"]) == "", "title", "title is required")
    if "identified_via" in df.columns:
        via = _clean(df["identified_via"]).str.lower()
        report(~via.isin(VIA), "identified_via", f"expected one of {', '.join(VIA)}")
    isdup = dup != ""
    report(isdup & ~dup.isin(set(rid)), "duplicate_of", "duplicate_of names no record_id")
    report(isdup & (dup == rid), "duplicate_of", "a record cannot duplicate itself")
    sc = _screen_col(df)
    report(isdup & (scr != ""), sc, "a duplicate has no screening decision")
    report(~isdup & ~scr.isin(["include", "exclude"]), sc, "expected include or exclude")
    report((scr == "include") & ~ft.isin(["include", "exclude", "not_retrieved"]), "full_text",
           "expected include, exclude or not_retrieved after a screening include")
    report((scr != "include") & (ft != ""), "full_text",
           "full_text must be empty unless screening is include")
    report((ft == "exclude") & (reason == ""), "exclusion_reason",
           "exclusion_reason is required when full_text is exclude")
    report((ft != "exclude") & (reason != ""), "exclusion_reason",
           "exclusion_reason is only for full-text exclusions")
    if "exclusion_code" in df.columns:
        code = _clean(df["exclusion_code"])
        report((ft == "exclude") & (code == ""), "exclusion_code",
               "exclusion_code is required when full_text is exclude (the ledger has the column)")
        report((ft != "exclude") & (code != ""), "exclusion_code", "exclusion_code is only for full-text exclusions")
    report((ft == "include") & (key == ""), "citation_key",
           "citation_key is required when full_text is include")
    return problems


class LedgerWarning(UserWarning):
    """Something in the ledger to fix that does not change the PRISMA counts."""


def ledger_notes(df: pd.DataFrame) -> list[str]:
    """Inconsistencies that leave the counts unchanged, as ``"file, row N, column: message"``:
    a ``doi`` that is not a DOI; a ``duplicate_of`` naming a record that is itself a duplicate
    (evidence/README.md asks for the first copy; the chain still removes the record once)."""
    notes = []
    if "doi" in df.columns:
        doi = _clean(df["doi"])
        bad = (doi != "") & doi.map(lambda v: normalize_doi(v) is None).astype(bool)
        notes += [f"{f}, row {r}, doi: not a DOI, expected 10.xxxx/... or "
                  f"https://doi.org/10.xxxx/... (value {v!r})"
                  for f, r, v in zip(df.loc[bad, "file"], df.loc[bad, "row"], doi[bad])]
    if "duplicate_of" in df.columns and "record_id" in df.columns:
        rid, dup = _clean(df["record_id"]), _clean(df["duplicate_of"])
        chained = (dup != "") & dup.isin(set(rid[dup != ""]))
        notes += [f"{f}, row {r}, duplicate_of: names a record that is itself a duplicate; name "
                  f"the kept record (value {v!r})"
                  for f, r, v in zip(df.loc[chained, "file"], df.loc[chained, "row"], dup[chained])]
    return notes


def _screen_col(df: pd.DataFrame) -> str:
    return next(c for c in SCREENING_COLUMNS if c in df.columns)


def prisma_counts(ledger) -> PrismaCounts:
    """PRISMA 2020 flow counts computed from a screening ledger.

    Parameters
    ----------
    ledger : DataFrame, path to a CSV, folder of CSVs, or list of CSV paths
        Columns (evidence/README.md): record_id, source, title, doi, year, duplicate_of,
        screening (or title_abstract), full_text, exclusion_reason, citation_key, notes;
        identified_via (database, register, other) and exclusion_code when present.

    Returns
    -------
    PrismaCounts

    Raises
    ------
    ValueError
        Listing every problem as file, row (spreadsheet row, header = 1), column and message.

    Notes
    -----
    Boxes of the PRISMA 2020 flow diagram (Page et al. 2021, BMJ 372:n71, Figure 1):
    identified = all rows; duplicates removed = rows with duplicate_of; screened = the rest;
    excluded = screening exclude; sought = screening include; not retrieved = full_text
    not_retrieved; assessed = full_text include or exclude; excluded with reasons = full_text
    exclude by exclusion_reason, or by exclusion_code (a short coded reason) when the ledger has
    that column; included = full_text include.
    """
    df = read_ledger(ledger)
    problems = validate_ledger(df)
    for note in ledger_notes(df):
        warnings.warn(note, LedgerWarning, stacklevel=2)
    if problems:
        shown = "\n  ".join(problems[:30])
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise ValueError(f"screening ledger has {len(problems)} problem(s):\n  {shown}{more}")
    dup = _clean(df["duplicate_of"]) != ""
    scr = _clean(df[_screen_col(df)]).str.lower()
    ft = _clean(df["full_text"]).str.lower()
    via = (_clean(df["identified_via"]).str.lower() if "identified_via" in df.columns
           else pd.Series("database", index=df.index))
    # the PRISMA box lists reasons: the coded reason when the ledger has one, else the free text
    why = "exclusion_code" if "exclusion_code" in df.columns else "exclusion_reason"
    reasons = _clean(df[why])[ft == "exclude"].value_counts()
    counts = PrismaCounts(
        identified={str(k): int(v) for k, v in _clean(df["source"]).value_counts().sort_index().items()},
        identified_via={v: int((via == v).sum()) for v in VIA if (via == v).any()},
        duplicates_removed=int(dup.sum()),
        screened=int((~dup).sum()),
        excluded_screening=int((scr == "exclude").sum()),
        sought=int((scr == "include").sum()),
        not_retrieved=int((ft == "not_retrieved").sum()),
        assessed=int(ft.isin(["include", "exclude"]).sum()),
        excluded_full_text={str(k): int(v) for k, v in
                            sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))},
        included=int((ft == "include").sum()),
    )
    assert counts.screened == counts.excluded_screening + counts.sought
    assert counts.sought == counts.not_retrieved + counts.assessed
    assert counts.assessed == sum(counts.excluded_full_text.values()) + counts.included
    return counts


def unmarked_duplicates(ledger) -> pd.DataFrame:
    """Records the ledger keeps (empty ``duplicate_of``) that :func:`find_duplicates` groups
    with another kept record: probable duplicates nobody marked, which PRISMA would count as
    screened twice.

    Returns one row per such record: group, file, row, record_id, title, doi, reason (the
    duplicate rule that links it, e.g. "same DOI"). Empty when the ledger is consistent.
    Matching uses the DOI and the normalised title (with year and first author when the
    ledger has ``year`` and ``first_author`` columns).
    """
    df = read_ledger(ledger).reset_index(drop=True)
    frame = pd.DataFrame({
        "id": df["record_id"], "title": df["title"],
        "doi": _clean(df["doi"]).replace("", None) if "doi" in df.columns else None,
        "year": df["year"] if "year" in df.columns else None,
        "first_author": df["first_author"] if "first_author" in df.columns else None,
    })
    groups = find_duplicates(frame)
    kept = (_clean(df["duplicate_of"]) == "").to_numpy()
    groups = groups[kept[groups["record"].to_numpy()]]
    groups = groups[groups.groupby("group")["record"].transform("size") > 1]
    rec = groups["record"].to_numpy()
    return pd.DataFrame({
        "group": pd.factorize(groups["group"])[0], "file": df["file"].to_numpy()[rec],
        "row": df["row"].to_numpy()[rec], "record_id": groups["id"].to_numpy(),
        "title": groups["title"].to_numpy(),
        "doi": df["doi"].to_numpy()[rec] if "doi" in df.columns else None,
        "reason": groups["reason"].to_numpy(),
    })
