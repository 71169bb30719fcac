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
        from evidence_kit.citations.ids import normalize_doi

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
    from evidence_kit.citations.duplicates import find_duplicates

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


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def prisma_diagram(counts: PrismaCounts, ax=None):
    """Draw the PRISMA 2020 flow diagram.

    Parameters
    ----------
    counts : PrismaCounts, or a ledger (DataFrame, CSV path, folder or list of CSVs)
        A ledger is counted first with :func:`prisma_counts`.
    ax : matplotlib Axes, optional
        Where to draw; a new 11 x 10 inch figure when ``None``.

    Returns
    -------
    matplotlib Axes
        Never calls ``plt.show()``.

    Notes
    -----
    Boxes and arrows as in the PRISMA 2020 flow diagram for new systematic reviews (Page et
    al. 2021, BMJ 372:n71, Figure 1), with the records-identified box split by PRISMA's
    identification routes (databases, registers, other methods) and by source. Every number
    drawn is also in ``counts.to_frame()``, so a notebook can print it as text.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    if not isinstance(counts, PrismaCounts):
        counts = prisma_counts(counts)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 10))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.axis("off")

    def box(x, y, w, h, text, face="white"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="square,pad=0", fc=face, ec="black",
                                    lw=0.8))
        ax.text(x + 1.5, y + h - 1.5, text, va="top", ha="left", fontsize=7.5, wrap=True)

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "lw": 0.8})

    via_names = {"database": "Databases", "register": "Registers", "other": "Other methods"}
    boxes = "\n".join(f"  {via_names[v]} (n = {n})" for v, n in counts.identified_via.items())
    sources = "\n".join(f"    {_short(s)} (n = {n})" for s, n in list(counts.identified.items())[:6])
    if len(counts.identified) > 6:
        sources += f"\n    ... {len(counts.identified) - 6} more sources"
    sources = f"{boxes}\n  of which, by source:\n{sources}" if boxes else sources
    reasons = "\n".join(f"  {_short(r, 40)} (n = {n})" for r, n in list(counts.excluded_full_text.items())[:8])
    if len(counts.excluded_full_text) > 8:
        reasons += f"\n  ... {len(counts.excluded_full_text) - 8} more reasons"
    L, R, W = 14, 60, 38
    box(L, 73, W, 26, f"Records identified from (n = {counts.total_identified}):\n{sources}")
    box(R, 84, W, 12, f"Records removed before screening:\n  Duplicate records (n = {counts.duplicates_removed})")
    box(L, 62, W, 8, f"Records screened\n(n = {counts.screened})")
    box(R, 62, W, 8, f"Records excluded\n(n = {counts.excluded_screening})")
    box(L, 48, W, 8, f"Reports sought for retrieval\n(n = {counts.sought})")
    box(R, 48, W, 8, f"Reports not retrieved\n(n = {counts.not_retrieved})")
    box(L, 34, W, 8, f"Reports assessed for eligibility\n(n = {counts.assessed})")
    box(R, 18, W, 24, f"Reports excluded (n = {sum(counts.excluded_full_text.values())}):\n{reasons}")
    box(L, 4, W, 8, f"Studies included in review\n(n = {counts.included})")
    for y0, y1 in ((73, 70), (62, 56), (48, 42), (34, 12)):
        arrow(L + W / 2, y0, L + W / 2, y1)
    for y, ry in ((88, 90), (66, 66), (52, 52), (38, 38)):
        arrow(L + W, y, R, ry)
    for y0, y1, label in ((72, 100, "Identification"), (14, 72, "Screening"), (0, 14, "Included")):
        ax.add_patch(FancyBboxPatch((0.5, y0 + 1), 6, y1 - y0 - 2, boxstyle="round,pad=0",
                                    fc="#cfe2f3", ec="none"))
        ax.text(3.5, (y0 + y1) / 2, label, rotation=90, ha="center", va="center", fontsize=8)
    ax.set_title("PRISMA 2020 flow diagram", fontsize=10)
    return ax
