"""Read and check the certainty tables of ``evidence/``: ``wwc/findings.csv``, ``wwc/baseline.csv``
(study-level facts for WWC ratings and ESSA tiers) and ``appraisals/*.csv`` (what each source
review reports about the risk of bias of its studies, its own GRADE rating, its small-study test).

Same conventions as ``_tables.py``: every cell is read as text, every check is a vectorized mask,
every problem names file, spreadsheet row and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._problems import Problem
from evidence_kit.evidence._tables import (
    _flag,
    _map_unique,
    _numbers,
    _required,
    check_citations_and_ids,
    check_mapping,
    check_outcome_domains,
    check_reads,
    check_source_urls,
)


def _closed(problems, df, column: str, options, what: str | None = None) -> None:
    bad = df[column].ne("") & ~df[column].isin(list(options))
    _flag(problems, df, bad, column,
          lambda r: f"unknown {what or column} {r[column]!r}; expected one of {', '.join(options)}")


def _booleans(problems, df, columns) -> pd.DataFrame:
    """``true``/``false`` cells as True/False; empty -> None; anything else is a problem (None)."""
    out = {}
    for col in columns:
        low = df[col].str.lower()
        _flag(problems, df, low.ne("") & ~low.isin(list(S.BOOLEANS)), col,
              lambda r, c=col: f"write true or false; got {r[c]!r}")
        out[col] = low.map(S.BOOLEANS).astype(object).where(low.isin(list(S.BOOLEANS)), None)
    return pd.DataFrame(out, index=df.index)


def _counts(problems, df, num, columns, minimum: int) -> None:
    for col in columns:
        bad = num[col].notna() & ((num[col] < minimum) | (num[col] % 1 != 0))
        _flag(problems, df, bad, col, lambda r, c=col: f"{c} must be an integer >= {minimum}; got {r[c]}")


def _ledger(problems, df, included_keys: Mapping[str, set[str]], prefix: str) -> None:
    """A study recorded here is a record that a screening ledger ``screening/<prefix>*.csv``
    included at full text (checked when such a ledger exists)."""
    areas = [a for a in included_keys if a.startswith(prefix)]
    if not areas:
        return
    keys = set().union(*(included_keys[a] for a in areas))
    names = ", ".join(f"screening/{a}.csv" for a in sorted(areas))
    _flag(problems, df, df["citation_key"].ne("") & ~df["citation_key"].isin(list(keys)), "citation_key",
          lambda r: f"citation_key {r['citation_key']!r} is not a record included at full text in {names}")


def check_wwc_findings(df: pd.DataFrame, questions: Mapping[str, str], references: Mapping[str, dict],
                       included_keys: Mapping[str, set[str]], problems: list[Problem],
                       warnings: list[Problem] | None = None,
                       outcomes: Mapping[str, list] | None = None) -> pd.DataFrame:
    """Check ``wwc/findings*.csv``; return it with counts as float and booleans as True/False/None."""
    _required(problems, df, S.WWC_FINDINGS_COLUMNS)
    num = _numbers(problems, df, S.WWC_FINDINGS_NUMERIC)
    _counts(problems, df, num, ("t_assigned", "c_assigned", "clusters_t_assigned", "clusters_c_assigned",
                                "n", "sites"), 1)
    _counts(problems, df, num, ("t_analyzed", "c_analyzed", "clusters_t_analyzed", "clusters_c_analyzed"), 0)
    for arm in ("t", "c"):
        for prefix in ("", "clusters_"):
            a, k = f"{prefix}{arm}_assigned", f"{prefix}{arm}_analyzed"
            _flag(problems, df, num[k] > num[a], k,
                  lambda r, a=a, k=k: f"{k} {r[k]} is more than {a} {r[a]} (the analytic sample is part of the "
                                      f"assigned sample)")
    _flag(problems, df, (num["p_value"] < 0) | (num["p_value"] > 1), "p_value",
          lambda r: f"a p-value lies in [0, 1]; got {r['p_value']}")
    bools = _booleans(problems, df, ("joiners", "compromised_randomization", "significant"))
    _closed(problems, df, "design", S.WWC_DESIGNS)
    _closed(problems, df, "assignment", S.WWC_ASSIGNMENTS)
    _closed(problems, df, "effect", S.WWC_EFFECTS)
    _closed(problems, df, "outcome_domain", S.OUTCOME_DOMAINS)
    individual = df["assignment"].eq("individual")
    for col in ("clusters_t_assigned", "clusters_t_analyzed", "clusters_c_assigned", "clusters_c_analyzed"):
        _flag(problems, df, individual & df[col].ne(""), col, "cluster counts belong to cluster-assigned designs only")
    sig = bools["significant"]
    _flag(problems, df, df["effect"].eq("null") & sig.eq(True), "effect",
          "effect is null but significant is true (null means not statistically significant)")
    _flag(problems, df, df["effect"].isin(["favorable", "unfavorable"]) & sig.eq(False), "effect",
          lambda r: f"effect is {r['effect']} but significant is false (use null for a non-significant finding)")
    _flag(problems, df, df["wwc_rating_published"].ne("") & df["wwc_source"].eq(""), "wwc_source",
          "required when wwc_rating_published is given (where the WWC's rating stands)")

    check_mapping(problems, df, questions)
    if warnings is not None and outcomes is not None:
        check_outcome_domains(warnings, df, outcomes)
    check_citations_and_ids(problems, df, references)
    check_reads(problems, df)
    _ledger(problems, df, included_keys, "wwc")

    out = df.copy()
    out[list(S.WWC_FINDINGS_NUMERIC)] = num
    out[list(bools.columns)] = bools
    return out


def check_wwc_baseline(df: pd.DataFrame, findings: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Check ``wwc/baseline*.csv`` against the findings; return it with numbers as float."""
    _required(problems, df, S.WWC_BASELINE_COLUMNS)
    num = _numbers(problems, df, S.WWC_BASELINE_NUMERIC)
    _counts(problems, df, num, ("t_n", "c_n"), 1)
    bools = _booleans(problems, df, ("adjusted",))
    _closed(problems, df, "kind", S.BASELINE_KINDS)
    _flag(problems, df, df["finding_id"].ne("") & ~df["finding_id"].isin(list(findings["id"])), "finding_id",
          lambda r: f"finding_id {r['finding_id']!r} is not an id in wwc/findings*.csv")
    _flag(problems, df, df.duplicated(["finding_id", "characteristic"], keep=False) & df["characteristic"].ne(""),
          "characteristic", lambda r: f"{r['characteristic']!r} is given twice for {r['finding_id']}")
    cont, binary = df["kind"].eq("continuous"), df["kind"].eq("binary")
    for col in ("t_mean", "t_sd", "c_mean", "c_sd"):
        _flag(problems, df, cont & df[col].eq(""), col, "required for a continuous characteristic")
        _flag(problems, df, binary & df[col].ne(""), col, "a binary characteristic has proportions, not means")
    for col in ("t_prop", "c_prop"):
        _flag(problems, df, binary & df[col].eq(""), col, "required for a binary characteristic (a proportion)")
        _flag(problems, df, cont & df[col].ne(""), col, "a continuous characteristic has means and SDs, not proportions")
        _flag(problems, df, (num[col] < 0) | (num[col] > 1), col,
              lambda r, c=col: f"a proportion lies in [0, 1] (a percent divided by 100); got {r[c]}")
    for col in ("t_sd", "c_sd"):
        _flag(problems, df, num[col] <= 0, col, lambda r, c=col: f"a standard deviation must be > 0; got {r[c]}")
    check_reads(problems, df)
    out = df.copy()
    out[list(S.WWC_BASELINE_NUMERIC)] = num
    out["adjusted"] = bools["adjusted"]
    return out


def check_appraisals(df: pd.DataFrame, syntheses: pd.DataFrame, references: Mapping[str, dict],
                     problems: list[Problem]) -> pd.DataFrame:
    """Check ``appraisals/*.csv``; return it with counts as float and the synthesis row's citation_key."""
    _required(problems, df, S.APPRAISALS_COLUMNS)
    num = _numbers(problems, df, S.APPRAISALS_NUMERIC)
    _counts(problems, df, num, S.APPRAISAL_COUNTS, 0)
    _flag(problems, df, num["studies_assessed"] == 0, "studies_assessed", "studies_assessed must be >= 1 when given")
    _flag(problems, df, (num["small_study_p"] < 0) | (num["small_study_p"] > 1), "small_study_p",
          lambda r: f"a p-value lies in [0, 1]; got {r['small_study_p']}")
    _flag(problems, df, df["small_study_p"].ne("") & df["small_study_test"].eq(""), "small_study_test",
          "required when small_study_p is given (which test)")
    parts = num[["studies_high", "studies_some", "studies_low"]]
    total = parts.sum(axis=1, min_count=3)
    _flag(problems, df, total.notna() & num["studies_assessed"].notna() & (total != num["studies_assessed"]),
          "studies_assessed",
          lambda r: f"studies_high + studies_some + studies_low = {r['studies_high']} + {r['studies_some']} + "
                    f"{r['studies_low']} differs from studies_assessed {r['studies_assessed']}")
    for col in parts.columns:
        _flag(problems, df, num[col] > num["studies_assessed"], col,
              lambda r, c=col: f"{c} {r[c]} is more than studies_assessed {r['studies_assessed']}")
    _flag(problems, df, parts.notna().any(axis=1) & num["studies_assessed"].isna(), "studies_assessed",
          "required when any study count is given (the counts are over how many studies?)")
    _closed(problems, df, "scope", S.APPRAISAL_SCOPES)
    _closed(problems, df, "review_grade", S.GRADE_LEVELS, "GRADE level")
    _flag(problems, df, df["synthesis_id"].duplicated(keep=False) & df["synthesis_id"].ne(""), "synthesis_id",
          lambda r: f"synthesis_id {r['synthesis_id']!r} has more than one appraisal row")
    known = dict(zip(syntheses["id"], syntheses["file"]))
    _flag(problems, df, df["synthesis_id"].ne("") & ~df["synthesis_id"].isin(list(known)), "synthesis_id",
          lambda r: f"synthesis_id {r['synthesis_id']!r} is not an id in syntheses/*.csv")
    stem = _map_unique(df["file"], lambda f: Path(f).stem)
    theirs = df["synthesis_id"].map(known).map(lambda f: Path(f).stem if isinstance(f, str) else None)
    _flag(problems, df, theirs.notna() & theirs.ne(stem), "synthesis_id",
          lambda r: f"synthesis_id {r['synthesis_id']!r} is a row of {known[r['synthesis_id']]}; its appraisal "
                    f"belongs in appraisals/{Path(known[r['synthesis_id']]).name}")
    df = df.assign(citation_key=df["synthesis_id"].map(dict(zip(syntheses["id"], syntheses["citation_key"])))
                   .fillna(""))
    check_source_urls(problems, df, references)
    check_reads(problems, df)
    out = df.copy()
    out[list(S.APPRAISALS_NUMERIC)] = num
    return out


def check_amstar2(df: pd.DataFrame, syntheses: pd.DataFrame, references: Mapping[str, dict],
                  problems: list[Problem]) -> pd.DataFrame:
    """Check ``amstar2/*.csv``: one row per appraised review, every item answered with one of
    AMSTAR 2's options (Shea et al. 2017, BMJ 358:j4008, Appendix 1); answers lower-cased."""
    _required(problems, df, S.AMSTAR2_COLUMNS)
    df = df.assign(**{item: df[item].str.lower() for item in S.AMSTAR2_ITEMS})
    for item in S.AMSTAR2_ITEMS:
        _closed(problems, df, item, S.AMSTAR2_ANSWERS, "answer")
        if item not in S.AMSTAR2_PARTIAL_YES:
            _flag(problems, df, df[item].eq("partial yes"), item,
                  f"AMSTAR 2 offers 'partial yes' only for items {', '.join(i[4:] for i in S.AMSTAR2_PARTIAL_YES)}")
        if item not in S.AMSTAR2_NO_MA:
            _flag(problems, df, df[item].eq("no meta-analysis"), item,
                  f"'no meta-analysis' is an answer only for items {', '.join(i[4:] for i in S.AMSTAR2_NO_MA)}")
    _closed(problems, df, "text_read", S.TEXT_READ)
    _flag(problems, df, df["text_read"].eq("abstract") & df["access_notes"].eq(""), "access_notes",
          "required when only the abstract was read: what was tried to reach the full text")
    _flag(problems, df, df["citation_key"].duplicated(keep=False) & df["citation_key"].ne(""), "citation_key",
          lambda r: f"{r['citation_key']!r} is appraised more than once")
    _flag(problems, df, df["citation_key"].ne("") & ~df["citation_key"].isin(list(syntheses["citation_key"])),
          "citation_key", lambda r: f"{r['citation_key']!r} has no row in syntheses/*.csv")
    _flag(problems, df, df["checked"].ne("") & df["check_notes"].eq(""), "check_notes",
          "required when checked: which items the second read compared, and the result")
    check_source_urls(problems, df, references)
    check_reads(problems, df)
    return df
