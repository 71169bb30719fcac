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

import html
import re
import unicodedata

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from evidence_kit._core.validate import check_choice
from evidence_kit.citations.ids import normalize_doi

_PREPRINT = r"arxiv|biorxiv|medrxiv|psyarxiv|socarxiv|edarxiv|osf preprints|ssrn|research square|preprints?\b|authorea"
_CONFERENCE = r"abstracts?\b|proceedings|conference|congress|meeting|symposium|annual convention"
_PREPRINT_RE = re.compile(_PREPRINT)
_CONFERENCE_RE = re.compile(_CONFERENCE)
REASONS = ("representative", "same DOI", "same PMID", "same title and year", "same title (no year)",
           "preprint and journal version", "conference abstract and article",
           "same title and first author, different year", "title truncated, same year and first author",
           "reviewer: duplicate")
_SCORES = {"same DOI": 1.0, "same PMID": 1.0, "same title and year": 0.95,
           "same title (no year)": 0.85,
           "preprint and journal version": 0.9, "conference abstract and article": 0.85,
           "same title and first author, different year": 0.75,
           "title truncated, same year and first author": 0.8, "reviewer: duplicate": 1.0,
           "representative": 1.0, "linked through another record of the group": 0.7}


_TAGS = re.compile(r"<[^>]+>")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _norm_one(text) -> str:
    """Case-fold, strip accents, HTML/MathML tags and punctuation, collapse spaces."""
    if not isinstance(text, str) or not text:
        return ""
    if "<" in text:
        text = _TAGS.sub(" ", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", text.lower()).strip()


# words after which a number or roman numeral names a part of a work, and their canonical form
_PART_WORDS = {"part": "part", "pt": "part", "vol": "vol", "volume": "vol", "no": "no",
               "number": "no", "book": "book", "chapter": "chapter", "phase": "phase", "wave": "wave",
               "study": "study", "series": "series", "section": "section", "paper": "paper",
               "report": "report", "issue": "issue", "supplement": "suppl", "suppl": "suppl"}
_ROMAN = {r: str(i) for i, r in enumerate(
    "i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx".split(), start=1)}
_AMBIGUOUS_ROMAN = {"i", "v", "x"}  # also words or letters: a numeral only after a part word or at the end


def _title_parts(text) -> tuple[str, str]:
    """(key, markers) of a title. The key: :func:`_norm_one` with "&" read as "and", roman
    numerals after a part word as numbers ("Part II" = "Part 2") and the spaces removed, so that
    "de-worming", "de worming" and "deworming" agree. The markers: the part, volume and other
    numerals that tell two parts of one work apart ("part 2", "vol 3", a final "II")."""
    if not isinstance(text, str) or not text:
        return "", ""
    if "&" in text:
        text = html.unescape(text).replace("&", " and ")
    words = _norm_one(text).split()
    markers = set()
    for i, w in enumerate(words):
        prev = words[i - 1] if i else ""
        num = w if w.isdigit() else _ROMAN.get(w)
        if num is None:
            continue
        if prev in _PART_WORDS:
            words[i] = num
            markers.add(f"{_PART_WORDS[prev]} {int(num)}")
        elif w in _ROMAN and (w not in _AMBIGUOUS_ROMAN or i == len(words) - 1):
            markers.add(f"numeral {num}")
        elif i == len(words) - 1:
            markers.add(f"final {int(num)}")
    return "".join(words), " ".join(sorted(markers))


def _norm_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`_title_parts` over a column, once per distinct value (titles repeat in exports)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    parts = [_title_parts(u) for u in uniques] + [("", "")]
    keys = np.array([k for k, _ in parts], dtype=object)
    marks = np.array([m for _, m in parts], dtype=object)
    return (pd.Series(keys[codes], index=values.index, dtype=object),
            pd.Series(marks[codes], index=values.index, dtype=object))


def _split_by(key: pd.Series, qualifier: np.ndarray) -> pd.Series:
    """Records share a title key only if their qualifiers (part markers, or volume) do not
    differ: in a key group with two or more distinct non-empty qualifiers, each qualifier gets
    its own key, and members without one join none (they could belong to either)."""
    codes, _ = pd.factorize(key.astype(object), use_na_sentinel=True)
    has_q = qualifier != ""
    sel = (codes >= 0) & has_q
    if not sel.any():
        return key
    distinct = pd.Series(qualifier[sel]).groupby(codes[sel]).nunique()
    clash = np.zeros(codes.max() + 1, dtype=bool)
    clash[distinct.index[distinct.to_numpy() > 1]] = True
    conflict = (codes >= 0) & clash[np.maximum(codes, 0)]
    if not conflict.any():
        return key
    out = key.to_numpy(dtype=object).copy()
    out[conflict & ~has_q] = None
    out[conflict & has_q] = [f"{k}#{q}" for k, q in zip(out[conflict & has_q], qualifier[conflict & has_q],
                                                        strict=True)]
    return pd.Series(out, index=key.index, dtype=object)


def _map_unique(values: pd.Series, func, missing=None) -> pd.Series:
    """``func`` applied once per distinct value of a column (missing -> ``missing``)."""
    codes, uniques = pd.factorize(pd.Series(values).astype(object), use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(u) for u in uniques]
    mapped[-1] = missing
    return pd.Series(mapped[codes], dtype=object)


def _doi_column(values: pd.Series) -> pd.Series:
    return _map_unique(values, normalize_doi)


def _frame(records) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        df = records.reset_index(drop=True)
        get = lambda col: df[col] if col in df.columns else pd.Series([None] * len(df))  # noqa: E731
        return pd.DataFrame({"id": get("id"), "title": get("title"), "doi": get("doi"),
                             "pmid": get("pmid"), "year": get("year"),
                             "author": get("first_author"), "type": get("type"),
                             "container": get("container_title"), "volume": get("volume"),
                             "extra": ""})
    records = list(records)
    get = [r.get for r in records]
    first_authors = [(g("author") or [{}])[0] for g in get]
    years = []
    for g in get:
        issued = g("issued")
        parts = issued.get("date-parts") if isinstance(issued, dict) else None
        years.append(parts[0][0] if parts and parts[0] else None)
    return pd.DataFrame({
        "id": [g("id") for g in get], "title": [g("title") for g in get],
        "doi": [g("DOI") for g in get], "pmid": [g("PMID") for g in get], "year": years,
        "author": [a.get("family", a.get("literal")) if isinstance(a, dict) else None
                   for a in first_authors],
        "type": [g("type") for g in get], "container": [g("container-title") for g in get],
        "volume": [g("volume") for g in get], "extra": [_kind_extra(g) for g in get],
    })


def _kind_extra(get) -> str:
    """Publication-type hints kept in custom fields (RIS M3, MEDLINE PT, BibTeX type)."""
    custom = get("custom")
    genre = get("genre") or ""
    if not custom:
        return genre
    bits = [genre]
    for fields in custom.values():
        if isinstance(fields, dict):
            for k in ("M3", "PT", "@type", "genre", "type"):
                v = fields.get(k)
                if v:
                    bits.append(" ".join(map(str, v)) if isinstance(v, list) else str(v))
    return " ".join(bits)


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
    DOI (:func:`normalize_doi`); PMID; normalised title (case, accents, punctuation, HTML and
    spaces removed, so "de-worming" = "deworming"; "&" read as "and"; "Part II" = "Part 2")
    + year + first author's family name; normalised title + first author across years
    (preprints and abstracts appear a year before the article); the first 60 characters of a
    normalised title of 60+ characters + year + first author (truncated titles). Titles shorter
    than 20 characters only match with year and first author. The title keys never join
    records whose part, volume or numeral markers differ ("Part I" / "Part II", "Vol. 2" /
    "Vol. 3", a different ``volume`` field); a record without such a marker joins a group only
    when the group's records do not disagree among themselves. The representative is the published
    journal version when there is one, then the record with a DOI, then the one with the most
    metadata, then the first read.
    """
    df = _frame(records)
    n = len(df)
    if n == 0:
        return _empty()
    doi = _doi_column(df["doi"])
    pmid = _map_unique(df["pmid"], lambda v: re.sub(r"\D", "", str(v)) or None
                       if v is not None and v == v else None)
    title, marks = _norm_text(df["title"])
    volume = _map_unique(df["volume"], lambda v: _norm_one(str(v)), missing="").to_numpy(dtype=object)
    year = pd.to_numeric(df["year"], errors="coerce").astype("Int64")
    author = _map_unique(df["author"], lambda v: (_norm_one(v).split(" ") or [""])[-1], missing="")
    kind = pd.Series([f"{t} {c} {e}" for t, c, e in zip(df["type"], df["container"], df["extra"])],
                     dtype=object)
    preprint = pd.Series(_map_unique(kind, lambda v: bool(_PREPRINT_RE.search(v.lower()))),
                         dtype=bool) | df["type"].eq("article")
    conference = (pd.Series(_map_unique(kind, lambda v: bool(_CONFERENCE_RE.search(v.lower()))),
                            dtype=bool) | df["type"].eq("paper-conference")) & ~preprint
    t = title.to_numpy(dtype=object)
    a = author.to_numpy(dtype=object)
    tlen = np.fromiter((len(x) for x in t), int, count=n)
    y = _map_unique(year.astype(object), lambda v: str(v), missing="").to_numpy(dtype=object)
    has_y, has_a = y != "", a != ""
    t60 = np.array([x[:60] for x in t], dtype=object)

    def key(values, mask):
        return pd.Series(np.where(mask, values, None), dtype=object)

    m = marks.to_numpy(dtype=object)

    def title_key(values, mask):  # never join records whose part/numerals or volume differ
        return _split_by(_split_by(key(values, mask), m), volume)

    keys = {
        "doi": doi,
        "pmid": pmid,
        "tya": title_key(t + "|" + y + "|" + a, (tlen > 0) & ((tlen >= 20) | (has_y & has_a))),
        "ta": title_key(t + "|" + a, (tlen >= 20) & has_a),
        "trunc": title_key(t60 + "|" + y + "|" + a, (tlen >= 60) & has_y & has_a),
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
    reason = _reasons(rep, keys, preprint, conference, force, has_y)
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


def _reasons(rep, keys, preprint, conference, force, has_year) -> np.ndarray:
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
         same(keys["tya"]) & has_year & has_year[rep], same(keys["tya"]), same(keys["ta"]),
         same(keys["trunc"]), forced],
        ["representative", "same DOI", "same PMID", "preprint and journal version",
         "conference abstract and article", "same title and year", "same title (no year)",
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
