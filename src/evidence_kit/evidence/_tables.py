"""Read and check the CSV tables of ``evidence/``: ``syntheses/*.csv`` and ``screening/*.csv``.

Checks are vectorized over the rows of all files at once (boolean masks on the concatenated
frame); only flagged rows are turned into ``Problem`` records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_kit.citations.ids import normalize_doi
from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._files import read_csv
from evidence_kit.evidence._problems import Problem


def read_tables(folder: Path, root: Path, columns: Mapping[str, bool], problems: list[Problem],
                pattern: str = "*.csv") -> pd.DataFrame:
    """Concatenate ``folder/<pattern>`` as text, with ``file`` and ``row`` (spreadsheet row) columns.

    Every cell is read as a stripped string (empty = not reported). Missing columns are reported
    and added empty so the other checks still run; unknown columns are reported and kept.
    """
    frames = []
    for path in sorted(folder.glob(pattern)) if folder.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        raw, rows = read_csv(path, rel, problems)  # rows: spreadsheet rows (blank lines count)
        if raw is None:
            continue
        df = raw.iloc[1:].reset_index(drop=True)
        df.columns = [str(c).strip() for c in raw.iloc[0]]
        for col in df.columns:
            if col not in columns:
                problems.append(Problem(rel, 1, col, "unknown column (see the column list in evidence/README.md)"))
        dup = pd.Index(df.columns)[pd.Index(df.columns).duplicated()]
        for col in dict.fromkeys(dup):
            problems.append(Problem(rel, 1, col, "column appears more than once"))
        df = df.loc[:, ~pd.Index(df.columns).duplicated()]
        for col in columns:
            if col not in df.columns:
                problems.append(Problem(rel, 1, col, "missing column"))
                df[col] = ""
        df = df.apply(lambda s: s.str.strip())
        df.insert(0, "row", rows)  # the header is spreadsheet row 1
        df.insert(0, "file", rel)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["file", "row", *columns])
    return pd.concat(frames, ignore_index=True)


def _flag(problems: list[Problem], df: pd.DataFrame, mask, column: str, message: Callable | str) -> None:
    """Add one problem per row where ``mask`` is true; ``message(row)`` may use the row's values."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    for _, rec in df.loc[mask].iterrows():  # only the flagged rows
        text = message(rec) if callable(message) else message
        problems.append(Problem(rec["file"], int(rec["row"]), column, text))


def _required(problems, df, columns: Mapping[str, bool], skip=None) -> None:
    for col, required in columns.items():
        if required:
            mask = df[col].eq("")
            if skip is not None:
                mask &= ~skip
            _flag(problems, df, mask, col, "required value is empty")


def _numbers(problems, df, columns) -> pd.DataFrame:
    """Parse numeric columns; a non-empty cell that is not a number is a problem (and NaN)."""
    out = {}
    for col in columns:
        values = pd.to_numeric(df[col].str.replace("\u2212", "-"), errors="coerce").astype(float)  # U+2212 minus
        _flag(problems, df, values.isna() & df[col].ne(""), col,
              lambda r, c=col: f"not a number: {r[c]!r} (leave the cell empty when not reported)")
        infinite = np.isinf(values)
        _flag(problems, df, infinite, col, lambda r, c=col: f"not a finite number: {r[c]!r}")
        out[col] = values.where(~infinite)
    return pd.DataFrame(out, index=df.index)


def _check_interval(problems, df, num, lo: str, hi: str, what: str) -> None:
    est, low, up = num["estimate"], num[lo], num[hi]
    one = low.isna() ^ up.isna()
    _flag(problems, df, one & low.isna() & df[lo].eq(""), lo, f"{what}: {hi} is given but {lo} is empty")
    _flag(problems, df, one & up.isna() & df[hi].eq(""), hi, f"{what}: {lo} is given but {hi} is empty")
    _flag(problems, df, low > up, lo, lambda r: f"{what}: {lo} {r[lo]} is above {hi} {r[hi]}")
    outside = (low <= up) & ((est < low) | (est > up))
    _flag(problems, df, outside, "estimate",
          lambda r: f"estimate {r['estimate']} lies outside the {what} [{r[lo]}, {r[hi]}]")


def check_syntheses(df: pd.DataFrame, questions: Mapping[str, str], references: Mapping[str, dict],
                    included_keys: Mapping[str, set[str]], problems: list[Problem],
                    warnings: list[Problem] | None = None, outcomes: Mapping[str, list] | None = None) -> pd.DataFrame:
    """Check ``syntheses/*.csv`` rows; return the frame with numeric columns as floats.

    ``questions`` maps question id -> principle id; ``included_keys`` maps a screening file's area
    (file stem) to the citation keys it includes at full text.
    """
    cols = S.SYNTHESES_COLUMNS
    _required(problems, df, cols)
    num = _numbers(problems, df, S.SYNTHESES_NUMERIC)

    # counts: integers >= 1
    for col in ("k", "k_total", "n"):
        bad = num[col].notna() & ((num[col] < 1) | (num[col] % 1 != 0))
        _flag(problems, df, bad, col, lambda r, c=col: f"{c} must be an integer >= 1; got {r[c]}")
    _flag(problems, df, (num["i2"] < 0) | (num["i2"] > 100), "i2",
          lambda r: f"I^2 is in percent, 0 to 100; got {r['i2']}")
    _flag(problems, df, num["tau2"] < 0, "tau2", lambda r: f"tau^2 must be >= 0; got {r['tau2']}")

    _check_interval(problems, df, num, "ci_lower", "ci_upper", "CI")
    _check_interval(problems, df, num, "pi_lower", "pi_upper", "prediction interval")
    # a random-effects prediction interval is never narrower than the CI (Riley et al., 2011,
    # BMJ 342:d549: the PI adds tau^2 to the variance of the mean); equal when tau^2 = 0
    narrower = (num["pi_lower"] > num["ci_lower"]) | (num["pi_upper"] < num["ci_upper"])
    _flag(problems, df, narrower, "pi_lower",
          lambda r: f"prediction interval [{r['pi_lower']}, {r['pi_upper']}] is narrower than the CI "
                    f"[{r['ci_lower']}, {r['ci_upper']}]")
    has_ci = num["ci_lower"].notna() | num["ci_upper"].notna()
    _flag(problems, df, has_ci & df["ci_level"].eq(""), "ci_level", "required when a CI is given (e.g. 95)")
    _flag(problems, df, (num["ci_level"] <= 0) | (num["ci_level"] >= 100), "ci_level",
          lambda r: f"CI level is in percent, between 0 and 100; got {r['ci_level']}")

    # closed lists
    metric_ok = df["metric"].isin(S.METRICS)
    _flag(problems, df, ~metric_ok & df["metric"].ne(""), "metric",
          lambda r: f"unknown metric {r['metric']!r}; expected one of {', '.join(S.METRICS)}")
    ratio = df["metric"].isin(S.RATIO_METRICS)
    for col in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        _flag(problems, df, ratio & (num[col] <= 0), col,
              lambda r, c=col: f"{r['metric']} is a ratio on the natural scale, so {c} must be > 0; got {r[c]}")
    bounded = df["metric"].isin(S.CORRELATION_METRICS)
    for col in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        _flag(problems, df, bounded & (num[col].abs() > 1), col,
              lambda r, c=col: f"a correlation ({r['metric']}) lies in [-1, 1]; {c} is {r[c]}")
    _flag(problems, df, ~df["outcome_domain"].isin(S.OUTCOME_DOMAINS) & df["outcome_domain"].ne(""),
          "outcome_domain",
          lambda r: f"unknown outcome_domain {r['outcome_domain']!r}; expected one of {', '.join(S.OUTCOME_DOMAINS)}")

    check_mapping(problems, df, questions)
    if warnings is not None and outcomes is not None:
        check_outcome_domains(warnings, df, outcomes)
    check_counts_and_reading(problems, df, num)

    check_citations_and_ids(problems, df, references)
    check_reads(problems, df)

    # a screened area's syntheses cite records the ledger included
    area = _map_unique(df["file"], lambda f: Path(f).stem)
    has_ledger = area.isin(list(included_keys))
    in_ledger = np.fromiter((k in included_keys.get(a, ()) for k, a in zip(df["citation_key"], area)),
                            dtype=bool, count=len(df))
    _flag(problems, df, has_ledger & ~in_ledger & df["citation_key"].ne(""), "citation_key",
          lambda r: f"citation_key {r['citation_key']!r} is not a record included at full text in "
                    f"screening/{Path(r['file']).name}")

    out = df.copy()
    out[list(S.SYNTHESES_NUMERIC)] = num
    return out


def check_counts_and_reading(problems, df, num) -> None:
    """The outcome's own k (and what it counts) against the review's total; direction, what was
    read and why only the abstract; a checked row says what the check compared."""
    k_given = num["k"].notna()
    _flag(problems, df, k_given & df["k_unit"].eq(""), "k_unit",
          f"required when k is given: what k counts ({', '.join(S.K_UNITS)})")
    _flag(problems, df, df["k_unit"].ne("") & ~df["k_unit"].isin(S.K_UNITS), "k_unit",
          lambda r: f"unknown k_unit {r['k_unit']!r}; expected one of {', '.join(S.K_UNITS)}")
    _flag(problems, df, df["k_unit"].ne("") & ~k_given & df["k"].eq(""), "k_unit", "k_unit without a k")
    # k counts this estimate's studies; the review's total cannot be smaller
    over = df["k_unit"].eq("studies") & (num["k_total"] >= 1) & (num["k"] > num["k_total"])
    _flag(problems, df, over, "k",
          lambda r: f"k = {r['k']} studies is more than the review's total k_total = {r['k_total']}")
    _flag(problems, df, df["favourable"].ne("") & ~df["favourable"].isin(S.FAVOURABLE), "favourable",
          lambda r: f"unknown favourable {r['favourable']!r}; expected one of {', '.join(S.FAVOURABLE)}")
    _flag(problems, df, df["text_read"].ne("") & ~df["text_read"].isin(S.TEXT_READ), "text_read",
          lambda r: f"unknown text_read {r['text_read']!r}; expected one of {', '.join(S.TEXT_READ)}")
    _flag(problems, df, df["text_read"].eq("abstract") & df["access_notes"].eq(""), "access_notes",
          "required when only the abstract was read: what was tried to reach the full text")
    _flag(problems, df, df["checked"].ne("") & df["check_notes"].eq(""), "check_notes",
          "required when checked: which fields the second read compared at the locator, and the result")


def check_citations_and_ids(problems, df, references: Mapping[str, dict]) -> None:
    """citation_key is in references/, ids are unique and read ``<citation_key>-<n>``, and
    source_url is a DOI or URL agreeing with the reference (rows of syntheses/ and wwc/)."""
    _flag(problems, df, ~df["citation_key"].isin(list(references)) & df["citation_key"].ne(""),
          "citation_key", lambda r: f"citation_key {r['citation_key']!r} is not in references/")
    dup = df["id"].duplicated(keep=False) & df["id"].ne("")
    _flag(problems, df, dup, "id", lambda r: f"id {r['id']!r} is used by more than one row")
    prefix_ok = np.fromiter((i.startswith(f"{c}-") for i, c in zip(df["id"], df["citation_key"])),
                            dtype=bool, count=len(df))
    _flag(problems, df, ~prefix_ok & df["id"].ne("") & df["citation_key"].ne(""), "id",
          lambda r: f"id {r['id']!r} should be <citation_key>-<n>, i.e. start with '{r['citation_key']}-'")
    check_source_urls(problems, df, references)


def check_reads(problems, df) -> None:
    """``extracted_by`` and ``checked`` say who and when; the check is a second, independent read."""
    same = df["checked"].ne("") & (_map_unique(df["checked"], _who) == _map_unique(df["extracted_by"], _who))
    _flag(problems, df, same, "checked", "the check must be an independent read by someone other than the extractor")
    for col in ("extracted_by", "checked"):
        undated = df[col].ne("") & ~_map_unique(df[col], _has_date).astype(bool)
        _flag(problems, df, undated, col, lambda r, c=col: f"say who and when: {r[c]!r} has no YYYY-MM-DD date")


def _long(df: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    """One row per id in a semicolon-separated cell: idx (row position), file, row, ``name``."""
    long = pd.DataFrame({"idx": np.arange(len(df)), "file": df["file"].to_numpy(), "row": df["row"].to_numpy(),
                         name: df[column].map(S.split_ids).to_numpy()})
    return long.explode(name).dropna(subset=[name]).reset_index(drop=True)


def _matched(left: pd.DataFrame, right: pd.DataFrame, on_left: str, on_right: str) -> np.ndarray:
    """For each row of ``left``: does ``right`` hold the same idx with right[on_right] == left[on_left]?"""
    keys = right[["idx", on_right]].drop_duplicates().rename(columns={on_right: on_left})
    keys[on_left] = keys[on_left].fillna("").astype(str)
    mine = left[["idx", on_left]].assign(**{on_left: left[on_left].fillna("").astype(str)})
    hit = mine.merge(keys, on=["idx", on_left], how="left", indicator=True)
    return hit["_merge"].eq("both").to_numpy()


def check_mapping(problems, df, questions: Mapping[str, str]) -> None:
    """Each principle and question id exists; each question belongs to one of the row's
    principles and each principle has one of the row's questions."""
    known = sorted(set(questions.values()))
    lp, lq = _long(df, "principle", "p"), _long(df, "question", "q")
    lq["owner"] = lq["q"].map(questions)
    _flag(problems, lp, ~lp["p"].isin(known), "principle",
          lambda r: f"unknown principle {r['p']!r}; expected one of {', '.join(known)}")
    _flag(problems, lq, lq["owner"].isna(), "question", lambda r: f"unknown question {r['q']!r} (not in principles.yaml)")
    row_ps = df["principle"].map(S.split_ids).map(";".join).to_numpy()
    belongs = _matched(lq, lp.rename(columns={"p": "owner"}), "owner", "owner")
    has_p = lq["idx"].isin(lp["idx"]).to_numpy()
    _flag(problems, lq, lq["owner"].notna().to_numpy() & has_p & ~belongs, "question",
          lambda r: f"question {r['q']} belongs to {r['owner']}, not to {row_ps[r['idx']]}")
    row_qs = df["question"].map(S.split_ids).map(";".join).to_numpy()
    covered = _matched(lp, lq.rename(columns={"owner": "p"}), "p", "p")
    has_q = lp["idx"].isin(lq["idx"]).to_numpy()
    _flag(problems, lp, lp["p"].isin(known).to_numpy() & has_q & ~covered, "principle",
          lambda r: f"principle {r['p']} has none of the row's questions ({row_qs[r['idx']]})")


def check_outcome_domains(warnings, df, outcomes: Mapping[str, list]) -> None:
    """Warn when a row's outcome_domain is none of the outcomes its questions list."""
    lq = _long(df, "question", "q")
    lq = lq.loc[lq["q"].isin(list(outcomes))]
    lq["domain"] = df["outcome_domain"].to_numpy()[lq["idx"].to_numpy()]
    lq["o"] = lq["q"].map(outcomes)
    lo = lq.explode("o")
    ok = lo.loc[lo["o"].eq(lo["domain"]), "idx"].unique()
    rows = lq.drop_duplicates("idx")
    rows = rows.loc[~rows["idx"].isin(ok) & rows["domain"].isin(S.OUTCOME_DOMAINS)]
    qs = df["question"].map(S.split_ids).map(";".join).to_numpy()
    _flag(warnings, rows, np.ones(len(rows), dtype=bool), "outcome_domain",
          lambda r: f"{r['domain']} is not among the outcomes principles.yaml lists for {qs[r['idx']]}")


def check_source_urls(problems, df, references: Mapping[str, dict]) -> None:
    """source_url is a DOI or an http(s) URL; a DOI matches the reference's DOI."""
    url = df["source_url"]
    doi = _map_unique(url, normalize_doi)  # a bare DOI or a doi.org URL -> the DOI, else None
    is_doi = doi.notna() & url.str.match(r"(?:10\.|https?://|doi:)", case=False).astype(bool)
    is_url = url.str.match(S.URL_RE).astype(bool)
    _flag(problems, df, url.ne("") & ~is_doi & ~is_url, "source_url",
          lambda r: f"not a DOI or an http(s) URL: {r['source_url']!r}")
    ref_doi = {k: normalize_doi(r.get("DOI")) for k, r in references.items()}
    expected = df["citation_key"].map(ref_doi)
    differs = is_doi & expected.notna() & doi.ne(expected)
    _flag(problems, df, differs, "source_url",
          lambda r: f"DOI {normalize_doi(r['source_url'])} differs from the DOI of {r['citation_key']} in "
                    f"{references[r['citation_key']].source.file} ({ref_doi[r['citation_key']]})")


def _map_unique(series: pd.Series, func) -> pd.Series:
    """``series.map(func)`` computed once per distinct value (files, names repeat down a column)."""
    values = series.unique()
    return series.map(dict(zip(values, map(func, values))))


def _who(text: str) -> str:
    """Who read it: the first word of 'helper-3 2026-11-28' that is not a date, lower-cased
    (ids are single words, so 'helper-3 (second read) 2026-11-29' is still helper-3)."""
    words = [w for w in str(text).replace(",", " ").replace(";", " ").split() if not S.DATE_RE.match(w)]
    return words[0].lower() if words else ""


def _has_date(text: str) -> bool:
    return any(S.DATE_RE.match(w.strip(",;()")) for w in str(text).split())


def check_screening(df: pd.DataFrame, references: Mapping[str, dict], problems: list[Problem],
                    warnings: list[Problem] | None = None) -> dict[str, set[str]]:
    """Check ``screening/*.csv`` rows (PRISMA 2020 ledger); return area -> included citation keys."""
    dup = df["duplicate_of"].ne("")
    if warnings is not None:  # a chain a -> b -> c still counts once, but should name the kept record
        dup_ids = set(df.loc[dup, "record_id"])
        _flag(warnings, df, dup & df["duplicate_of"].isin(dup_ids), "duplicate_of",
              lambda r: f"duplicate_of {r['duplicate_of']!r} is itself a duplicate; name the kept record")
    _required(problems, df, S.SCREENING_COLUMNS)
    _flag(problems, df, df["record_id"].duplicated(keep=False) & df["record_id"].ne(""), "record_id",
          lambda r: f"record_id {r['record_id']!r} is used by more than one row")
    _flag(problems, df, ~df["identified_via"].isin(S.IDENTIFIED_VIA) & df["identified_via"].ne(""),
          "identified_via",
          lambda r: f"unknown identified_via {r['identified_via']!r}; expected one of {', '.join(S.IDENTIFIED_VIA)}")
    _flag(problems, df, dup & ~df["duplicate_of"].isin(list(df["record_id"])), "duplicate_of",
          lambda r: f"duplicate_of {r['duplicate_of']!r} is not a record_id in screening/*.csv")
    _flag(problems, df, dup & df["duplicate_of"].eq(df["record_id"]), "duplicate_of", "a record cannot duplicate itself")
    for col in ("screening", "full_text"):
        _flag(problems, df, dup & df[col].ne(""), col, "a duplicate record has no screening decisions")
    _flag(problems, df, ~dup & df["screening"].eq(""), "screening",
          f"required unless the record is a duplicate: {' or '.join(S.SCREENING_DECISIONS)}")
    _flag(problems, df, ~df["screening"].isin(S.SCREENING_DECISIONS) & df["screening"].ne(""), "screening",
          lambda r: f"unknown decision {r['screening']!r}; expected one of {', '.join(S.SCREENING_DECISIONS)}")
    included = df["screening"].eq("include") & ~dup
    _flag(problems, df, included & df["full_text"].eq(""), "full_text",
          f"required when screening is include: {', '.join(S.FULL_TEXT_DECISIONS)}")
    _flag(problems, df, df["screening"].eq("exclude") & df["full_text"].ne(""), "full_text",
          "a record excluded at screening has no full-text decision")
    _flag(problems, df, ~df["full_text"].isin(S.FULL_TEXT_DECISIONS) & df["full_text"].ne(""), "full_text",
          lambda r: f"unknown decision {r['full_text']!r}; expected one of {', '.join(S.FULL_TEXT_DECISIONS)}")
    _flag(problems, df, df["full_text"].eq("exclude") & df["exclusion_reason"].eq(""), "exclusion_reason",
          "required when full_text is exclude")
    # as ek.prisma_counts: the reason belongs to a full-text exclusion only (screening notes go in notes)
    _flag(problems, df, ~df["full_text"].eq("exclude") & df["exclusion_reason"].ne(""), "exclusion_reason",
          "only for full-text exclusions (put screening remarks in notes)")
    _flag(problems, df, df["full_text"].eq("exclude") & df["exclusion_code"].eq(""), "exclusion_code",
          f"required when full_text is exclude: one of {', '.join(S.EXCLUSION_CODES)}")
    _flag(problems, df, ~df["full_text"].eq("exclude") & df["exclusion_code"].ne(""), "exclusion_code",
          "only for full-text exclusions")
    _flag(problems, df, df["exclusion_code"].ne("") & ~df["exclusion_code"].isin(S.EXCLUSION_CODES),
          "exclusion_code",
          lambda r: f"unknown exclusion_code {r['exclusion_code']!r}; expected one of {', '.join(S.EXCLUSION_CODES)}")
    kept = df["full_text"].eq("include")
    _flag(problems, df, kept & df["citation_key"].eq(""), "citation_key", "required when full_text is include")
    _flag(problems, df, df["citation_key"].ne("") & ~df["citation_key"].isin(list(references)), "citation_key",
          lambda r: f"citation_key {r['citation_key']!r} is not in references/")
    _flag(problems, df, df["doi"].ne("") & df["doi"].map(lambda d: normalize_doi(d) is None).astype(bool), "doi",
          lambda r: f"not a DOI: {r['doi']!r}")
    ref_doi = {k: normalize_doi(str(r.get("DOI") or "")) for k, r in references.items()}
    rec_doi, cited_doi = _map_unique(df["doi"], normalize_doi), df["citation_key"].map(ref_doi)
    _flag(problems, df, rec_doi.notna() & cited_doi.notna() & rec_doi.ne(cited_doi), "doi",
          lambda r: f"DOI {normalize_doi(r['doi'])} differs from the DOI of {r['citation_key']} "
                    f"({ref_doi[r['citation_key']]})")
    _flag(problems, df, df["url"].ne("") & ~df["url"].str.match(S.URL_RE), "url",
          lambda r: f"not an http(s) URL: {r['url']!r}")
    _flag(problems, df, df["search_date"].ne("") & ~df["search_date"].str.match(S.DATE_RE), "search_date",
          lambda r: f"not a YYYY-MM-DD date: {r['search_date']!r}")

    area = _map_unique(df["file"], lambda f: Path(f).stem)
    keys: dict[str, set[str]] = {a: set() for a in area.unique()}
    for a, k in zip(area[kept], df.loc[kept, "citation_key"]):
        keys[a].add(k)
    return keys
