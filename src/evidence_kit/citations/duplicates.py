"""Finding duplicate records: exact identifiers first, then normalised title, year, first author.

Records are grouped, never deleted. Blocking keeps it linear: every rule is an exact match on a
key (DOI, PMID, normalised title + year + first author, ...), records sharing a key are joined,
and the groups are the connected components of the record-key graph (scipy's
``connected_components``), so no pairs are ever enumerated. The rules follow the order
deduplication tools use (Bramer et al. 2016, *J Med Libr Assoc* 104(3):240-243,
doi:10.3163/1536-5050.104.3.014; McKeown & Mir 2021, *Syst Rev* 10:38,
doi:10.1186/s13643-021-01583-y): identifiers, then titles with year and author.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from evidence_kit._validate import check_choice
from evidence_kit.citations.ids import normalize_dois

_PREPRINT = r"arxiv|biorxiv|medrxiv|psyarxiv|socarxiv|edarxiv|osf preprints|ssrn|research square|preprints?\b|authorea"
_CONFERENCE = r"abstracts?\b|proceedings|conference|congress|meeting|symposium|annual convention"
REASONS = ("representative", "same DOI", "same PMID", "same title and year",
           "preprint and journal version", "conference abstract and article",
           "same title and first author, different year", "title truncated, same year and first author",
           "reviewer: duplicate")
_SCORES = {"same DOI": 1.0, "same PMID": 1.0, "same title and year": 0.95,
           "preprint and journal version": 0.9, "conference abstract and article": 0.85,
           "same title and first author, different year": 0.75,
           "title truncated, same year and first author": 0.8, "reviewer: duplicate": 1.0,
           "representative": 1.0, "linked through another record of the group": 0.7}


def _norm_text(s: pd.Series) -> pd.Series:
    """Case-fold, strip accents, markup and punctuation, collapse spaces."""
    s = s.astype("string").fillna("")
    s = s.str.replace(r"<[^>]+>", " ", regex=True)  # HTML/MathML tags in titles
    s = s.str.normalize("NFKD").str.encode("ascii", errors="ignore").str.decode("ascii")
    s = s.str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    return s


def _frame(records) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        df = records.reset_index(drop=True)
        get = lambda col: df[col] if col in df.columns else pd.Series([None] * len(df))  # noqa: E731
        return pd.DataFrame({"id": get("id"), "title": get("title"), "doi": get("doi"),
                             "pmid": get("pmid"), "year": get("year"),
                             "author": get("first_author"), "type": get("type"),
                             "container": get("container_title"), "extra": ""})
    rows = []
    for r in records:
        authors = r.get("author") or []
        a0 = authors[0] if authors else {}
        issued = r.get("issued") or {}
        parts = issued.get("date-parts") if isinstance(issued, dict) else None
        year = parts[0][0] if parts and parts[0] else None
        custom = r.get("custom") or {}
        extra = " ".join(" ".join(map(str, v)) if isinstance(v, list) else str(v)
                         for fmt in custom.values() if isinstance(fmt, dict)
                         for k, v in fmt.items() if k in ("M3", "PT", "@type", "genre", "type"))
        rows.append((r.get("id"), r.get("title"), r.get("DOI"), r.get("PMID"), year,
                     a0.get("family", a0.get("literal")), r.get("type"),
                     r.get("container-title"), f"{r.get('genre') or ''} {extra}"))
    return pd.DataFrame(rows, columns=["id", "title", "doi", "pmid", "year", "author", "type",
                                       "container", "extra"])


def find_duplicates(records, *, overrides=None) -> pd.DataFrame:
    """Group duplicate records; every record is kept.

    Parameters
    ----------
    records : list of Citation (or CSL dicts), or a DataFrame from :func:`citations_frame`
    overrides : iterable of (a, b, decision), optional
        A reviewer's decisions, ``a`` and ``b`` being record ids (the ``id`` field) or
        positions; ``decision`` is ``"duplicate"`` (join them) or ``"not_duplicate"`` (``b`` is
        taken out of ``a``'s group and stands alone).

    Returns
    -------
    DataFrame
        One row per record that belongs to a group of two or more: ``group`` (0, 1, ... in
        order of first appearance), ``record`` (position in ``records``), ``id``, ``title``,
        ``year``, ``representative`` (position of the record kept for the group),
        ``is_representative``, ``score`` (1.0 identifiers or reviewer ... 0.7 only through another member) and
        ``reason`` (why the record joins its representative: same DOI, same PMID, same title
        and year, preprint and journal version, conference abstract and article, same title
        and first author with a different year, title truncated, reviewer: duplicate, linked
        through another record of the group).

    Notes
    -----
    Keys (each an exact match after normalisation; blocking as in Bramer et al. 2016):
    DOI (:func:`normalize_doi`); PMID; normalised title (case, accents, punctuation, HTML
    removed) + year + first author's family name; normalised title + first author across
    years (preprints and abstracts appear a year before the article); the first 60 characters
    of a title of 60+ characters + year + first author (truncated titles). Titles shorter than
    20 characters only match with year and first author. The representative is the published
    journal version when there is one, then the record with a DOI, then the one with the most
    metadata, then the first read.
    """
    df = _frame(records)
    n = len(df)
    if n == 0:
        return _empty()
    doi = normalize_dois(df["doi"])
    pmid = df["pmid"].astype("string").str.strip().str.replace(r"\D", "", regex=True)
    pmid = pmid.where(pmid.str.len() > 0)
    title = _norm_text(df["title"])
    year = pd.to_numeric(df["year"], errors="coerce").astype("Int64")
    author = _norm_text(df["author"]).str.split(" ").str[-1].fillna("")
    kind = (df["type"].astype("string").fillna("") + " " + df["container"].astype("string").fillna("")
            + " " + df["extra"].astype("string").fillna("")).str.lower()
    preprint = kind.str.contains(_PREPRINT, regex=True) | df["type"].eq("article")
    conference = (kind.str.contains(_CONFERENCE, regex=True) | df["type"].eq("paper-conference")) & ~preprint
    has_title = title.str.len() > 0
    long_title = title.str.len() >= 20
    ystr = year.astype("string").fillna("")
    keys = {
        "doi": doi,
        "pmid": pmid,
        "tya": (title + "|" + ystr + "|" + author).where(has_title & (long_title | (ystr != "") & (author != ""))),
        "ta": (title + "|" + author).where(long_title & (author != "")),
        "trunc": (title.str[:60] + "|" + ystr + "|" + author).where(
            (title.str.len() >= 60) & (ystr != "") & (author != "")),
    }
    rows, cols = [], []
    offset = n
    for key in keys.values():
        codes, uniques = pd.factorize(key.astype(object), use_na_sentinel=True)
        mask = codes >= 0
        rows.append(np.flatnonzero(mask))
        cols.append(codes[mask] + offset)
        offset += len(uniques)
    force, split = _overrides(overrides, df)
    for a, b in force:
        rows.append(np.array([a]))
        cols.append(np.array([offset]))
        rows.append(np.array([b]))
        cols.append(np.array([offset]))
        offset += 1
    r = np.concatenate(rows) if rows else np.array([], int)
    c = np.concatenate(cols) if cols else np.array([], int)
    graph = coo_matrix((np.ones(r.size), (r, c)), shape=(offset, offset))
    _, label = connected_components(graph, directed=False)
    comp = label[:n].copy()
    if split:
        comp = _apply_splits(comp, split)
    sizes = np.bincount(comp)
    in_group = sizes[comp] > 1
    if not in_group.any():
        return _empty()
    # representative: journal version, then DOI, then most metadata, then first read
    completeness = df.notna().sum(axis=1).to_numpy()
    rank = ((~preprint & ~conference).to_numpy() * 1000 + doi.notna().to_numpy() * 100
            + completeness)
    order = np.lexsort((np.arange(n), -rank, comp))
    first_in_comp = np.ones(n, bool)
    first_in_comp[1:] = comp[order][1:] != comp[order][:-1]
    rep_of_comp = np.empty(comp.max() + 1, int)
    rep_of_comp[comp[order][first_in_comp]] = order[first_in_comp]
    rep = rep_of_comp[comp]
    reason = _reasons(rep, keys, preprint, conference, force)
    idx = np.flatnonzero(in_group)
    group_codes, _ = pd.factorize(comp[idx])
    out = pd.DataFrame({
        "group": group_codes, "record": idx, "id": df["id"].to_numpy()[idx],
        "title": df["title"].to_numpy()[idx], "year": year.iloc[idx].to_numpy(),
        "representative": rep[idx], "is_representative": rep[idx] == idx,
        "score": [_SCORES[x] for x in reason[idx]], "reason": reason[idx],
    })
    return out.sort_values(["group", "record"], kind="stable").reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in [
        ("group", int), ("record", int), ("id", object), ("title", object), ("year", "Int64"),
        ("representative", int), ("is_representative", bool), ("score", float),
        ("reason", object)]})


def _reasons(rep, keys, preprint, conference, force) -> np.ndarray:
    """Why each record joins its representative, strongest evidence first (the key both
    share); a record linked only through another member says so."""
    n = len(rep)
    idx = np.arange(n)

    def same(s):
        a = s.to_numpy(dtype=object)
        ok = pd.notna(a) & pd.notna(a[rep])
        out = np.zeros(n, bool)
        out[ok] = a[ok] == a[rep][ok]
        return out

    pp = preprint.to_numpy() | preprint.to_numpy()[rep]
    cf = conference.to_numpy() | conference.to_numpy()[rep]
    title_link = same(keys["tya"]) | same(keys["ta"])
    forced = np.zeros(n, bool)
    for a, b in force:
        forced[[a, b]] = True
    reason = np.select(
        [idx == rep, same(keys["doi"]), same(keys["pmid"]), title_link & pp, title_link & cf,
         same(keys["tya"]), same(keys["ta"]), same(keys["trunc"]), forced],
        ["representative", "same DOI", "same PMID", "preprint and journal version",
         "conference abstract and article", "same title and year",
         "same title and first author, different year",
         "title truncated, same year and first author", "reviewer: duplicate"],
        default="linked through another record of the group")
    return reason.astype(object)


def _overrides(overrides, df):
    force, split = [], []
    if overrides is None:
        return force, split
    ids = {str(v): i for i, v in enumerate(df["id"]) if v not in (None, "")}
    items = overrides.itertuples(index=False) if isinstance(overrides, pd.DataFrame) else overrides
    for k, item in enumerate(items):
        a, b, decision = item
        decision = check_choice("decision", str(decision), ["duplicate", "not_duplicate"])
        pos = []
        for v in (a, b):
            if isinstance(v, (int, np.integer)) and 0 <= v < len(df):
                pos.append(int(v))
            elif str(v) in ids:
                pos.append(ids[str(v)])
            else:
                raise ValueError(f"overrides row {k}: record {v!r} is neither an id nor a position")
        (force if decision == "duplicate" else split).append(tuple(pos))
    return force, split


def _apply_splits(comp, split):
    """Take ``b`` of each not-duplicate pair out of ``a``'s group."""
    comp = comp.copy()
    next_label = comp.max() + 1
    for a, b in split:
        if comp[a] == comp[b]:
            comp[b] = next_label
            next_label += 1
    return comp
