"""AMSTAR 2: overall confidence in the results of a systematic review from its 16 item answers.

Shea BJ, Reeves BC, Wells G, Thuku M, Hamel C, Moran J, Moher D, Tugwell P, Welch V,
Kristjansson E, Henry DA. AMSTAR 2: a critical appraisal tool for systematic reviews that include
randomised or non-randomised studies of healthcare interventions, or both. BMJ 2017;358:j4008,
doi:10.1136/bmj.j4008 (open access, PMC5833365).

Provenance of every rule (read 2026-12-07 with the project's search tools)
-------------------------------------------------------------------------
The body of the paper could NOT be read: the one stored copy reachable was its first page
(https://www.scribd.com/document/684686845/AMSTAR-Analise-Critica-BMJ-2017: title, authors,
"first published as 10.1136/bmj.j4008 on 21 September 2017"); queries for its rating table, its
critical-domain table and its text on partial yes reached only secondary copies. Each rule below
is therefore confirmed from verbatim transcriptions of the paper or its checklist, named here
and cited again on the line that applies it:

[T2] Systematic Reviews 2018, doi:10.1186/s13643-018-0878-3, Table 2 "Quality rating criteria"
     (https://systematicreviewsjournal.biomedcentral.com/articles/10.1186/s13643-018-0878-3/tables/2):
     the "AMSTAR 2 critical domains" with their numbers, "(item 2)", "(item 4)", "(item 7)",
     "(item 9)", "(item 11)", "(item 13)", "(item 15)", and the four ratings: High "No or one
     non-critical weakness"; Moderate "More than one non-critical weakness"; Low "One critical
     flaws with or without non-critical weakness"; Critically low "More than one critical flaw
     with or without non-critical weakness".
[RS] The paper's rating scheme as transcribed word for word, with its interpretations, by the
     CoRATES tool content (GitHub code index file id 52293009324, ``amstar2.scoreLevels``) and a
     FHIR AMSTAR 2 CodeSystem (file id 11650330178): High "No or one non-critical weakness: the
     systematic review provides an accurate and comprehensive summary of the results of the
     available studies that address the question of interest"; Moderate "More than one
     non-critical weakness: the systematic review has more than one weakness but no critical
     flaws", with the note "Multiple non-critical weaknesses may diminish confidence in the review
     and it may be appropriate to move the overall appraisal down from moderate to low
     confidence"; Low "One critical flaw with or without non-critical weaknesses"; Critically low
     "More than one critical flaw with or without non-critical weaknesses: the review has more
     than one critical flaw and should not be relied on to provide an accurate and comprehensive
     summary of the available studies".
[CL] The answer options of each item (the AMSTAR 2 checklist): PMC10361269, Supplementary
     Table 1 "AMSTAR 2 checklist" (https://pmc.ncbi.nlm.nih.gov/articles/PMC10361269/table/T1;
     items 1-4 in the part read: item 1 Yes/No, item 2 Yes/Partial Yes/No, item 3 Yes/No, item 4
     Yes/Partial Yes/No); an AMSTAR 2 tool that quotes the paper and checklist (GitHub code index
     file id 60947071852): "Partial Yes" only for items 2, 4, 7, 8, 9 and "No meta-analysis
     conducted" only for items 11, 12, 15; an R table script (file id 24185349001) footnoting
     items 11, 12 and 15 "Possible responses: Yes/No/No MA. A 'No MA' response stands for 'no
     meta-analysis conducted' and does not affect the overall confidence rating", and items 9 and
     11 "Item response depends on separate assessment of randomized controlled trials (RCTs) and
     non-randomized studies of healthcare interventions (NRSI) in the review".
[Q]  Sentences of the paper quoted by file id 60947071852: Partial Yes was introduced "to
     identify partial adherence to the standard"; "appraisers may add or substitute other
     critical domains"; "If a meta-analysis was not performed, the item covering ...
     meta-analytical methods (item 11) will not apply"; "We strongly recommend that individual
     item ratings are not combined to create an overall score". That file also states that the
     paper does not say how a Partial Yes counts towards the overall rating, citing De Santis K,
     et al. BMC Med Res Methodol 2023;23:63 (doi:10.1186/s12874-023-01879-8), which was not read.

Where the sources are silent, the choice is an argument with a documented default:

* ``partial_yes`` - how a Partial Yes counts (no source read says): ``"met"`` (default: partial
  adherence is adherence), ``"weakness"`` (a non-critical weakness wherever it stands; the
  default of the tool of [CL]) or ``"no"`` (counted as a No: a critical flaw in a critical item,
  a weakness elsewhere). The default is the convention of the published appraisals below:
  ``"met"`` reproduces all 21 of their ratings, ``"weakness"`` misses Krishnaratne et al. 2022
  in Hume et al. 2023 Table 1 (partial yes in items 2 and 4 and nothing else short of yes,
  printed "High"), ``"no"`` misses 5.
* ``combine_designs`` - how separate RCT and NRSI answers to items 9 and 11 make one item answer
  (the sources say the answers are given separately, not how they combine): ``"worst"``
  (default: the item is no better than its weaker applicable panel, so a review is not credited
  for the design it handled well) or ``"best"``.
* ``moderate_to_low`` - the rating scheme's note that "it may be appropriate to move the overall
  appraisal down from moderate to low confidence" [RS] gives no count; ``None`` (default) never
  moves it, an integer k rates a review with no critical flaw and k or more weaknesses low.
* ``critical`` - the seven critical items [T2] by default; "appraisers may add or substitute
  other critical domains" [Q].

AMSTAR 2 is not a score: no function here sums item answers [Q].

Validation (tests/test_amstar2.py; fixtures and sources in tests/data/published/amstar2_*): the
ratings printed by two overviews that apply the scheme are reproduced row for row: Hume S, Brown
SR, Mahtani KR. School closures during COVID-19: an overview of systematic reviews. BMJ Evid
Based Med 2023;28:164-174 (doi:10.1136/bmjebm-2022-112085), Table 1, 12 reviews; and
doi:10.1155/2020/4140692 (PMC7382724), Table 2, 9 reviews. Four other published tables (35
reviews) agree in 9 rows; the 26 others are listed in the test as divergences, every one a
published rating more favourable than the scheme gives to the printed answers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_kit._core.validate import check_choice

ITEMS = tuple(range(1, 17))
CRITICAL_ITEMS = (2, 4, 7, 9, 11, 13, 15)  # [T2] Table 2, "AMSTAR 2 critical domains (item 2) ... (item 15)"
PARTIAL_YES_ITEMS = (2, 4, 7, 8, 9)  # [CL] checklist: "Partial Yes" only for these items
NO_META_ANALYSIS_ITEMS = (11, 12, 15)  # [CL] checklist: "No meta-analysis conducted" only for these
DESIGN_ITEMS = (9, 11)  # [CL] answered separately for RCTs and NRSI
DESIGNS = ("rct", "nrsi")
ANSWERS = ("yes", "partial yes", "no", "no meta-analysis")
CONFIDENCE_LEVELS = ("high", "moderate", "low", "critically low")
PARTIAL_YES_RULES = ("met", "weakness", "no")
COMBINE_RULES = ("worst", "best")

#: Short names of the items, after the critical / non-critical domain lists of PMC10632824
#: (BMJ Open 2023;13:e078064) Table 4; numbers as in [T2] and in the item questions printed with
#: the published tables in tests/data/published/amstar2_*.csv.
ITEM_LABELS = {
    1: "PICO used for research question/inclusion criteria",
    2: "Protocol registered before commencement of review",
    3: "Justification of study design inclusion",
    4: "Adequacy of the literature search",
    5: "Study selection completed in duplicate",
    6: "Data extraction completed in duplicate",
    7: "Justification for excluding individual studies",
    8: "Adequate description of included studies",
    9: "Risk of bias from individual studies being included in the review",
    10: "Sources of funding of included studies",
    11: "Appropriateness of meta-analytical methods",
    12: "Impact of risk of bias on meta-analysis or other evidence synthesis assessed",
    13: "Consideration of risk of bias when interpreting the results of the review",
    14: "Satisfactory explanation and discussion of heterogeneity of results",
    15: "Assessment of presence and likely impact of publication bias",
    16: "Conflicts of interest of authors declared",
}

# answer codes; _NA marks a design panel that does not apply (the review has no such studies)
_YES, _PY, _NO, _NMA, _NA = 0, 1, 2, 3, 4
_CODE_NAMES = {_YES: "yes", _PY: "partial yes", _NO: "no", _NMA: "no meta-analysis", _NA: "not applicable"}
_SPELLINGS = {
    "y": _YES, "yes": _YES,
    "py": _PY, "partial yes": _PY, "partially yes": _PY, "partial": _PY,
    "n": _NO, "no": _NO,
    "nma": _NMA, "nmac": _NMA, "no ma": _NMA, "no meta analysis": _NMA, "no meta analysis conducted": _NMA,
}
# a design panel of item 9 or 11 that the review has no studies for; published tables write it
# "NSRI Only includes non-randomised studies of interventions, RCT Only includes RCTs" (legend of
# BMC Geriatr 2022;22:501 Table 2, https://pmc.ncbi.nlm.nih.gov/articles/PMC9188066/table/Tab2)
_PANEL_SPELLINGS = {
    "not applicable": _NA, "n/a": _NA, "includes only nrsi": _NA, "only nrsi": _NA, "nrsi only": _NA,
    "includes only rcts": _NA, "includes only rct": _NA, "only rcts": _NA, "only rct": _NA, "rct only": _NA,
}
_EXPECTED = "yes, partial yes, no, no meta-analysis (or Y, PY, N, NMA / 'no MA')"


def _normalise(value: str) -> str:
    """Lower case, '-'/'_' as spaces, runs of spaces collapsed, a trailing full stop dropped."""
    return " ".join(re.sub(r"[-_]", " ", value.strip().lower()).split()).rstrip(".").strip()


def _codes(raw: pd.Series, labels: np.ndarray, where: str, *, panel: bool = False) -> np.ndarray:
    """Answer codes of one column (float, NaN where missing); unknown spellings raise, naming the row.
    Each distinct spelling is looked up once, so a long table costs little more than a short one."""
    values = raw.to_numpy(dtype=object)
    missing = pd.isna(values)
    spellings = {**_SPELLINGS, **_PANEL_SPELLINGS} if panel else _SPELLINGS
    codes = np.full(values.shape[0], np.nan)
    if (~missing).any():
        inverse, distinct = pd.factorize(values[~missing])
        looked_up = np.array([spellings.get(_normalise(str(v)), np.nan) for v in distinct], dtype=float)
        codes[~missing] = looked_up[inverse]
    bad = ~missing & np.isnan(codes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        extra = "; a design panel may also be 'not applicable' / 'includes only RCTs|NRSI'" if panel else ""
        raise ValueError(f"review {labels[i]!r}, {where}: unknown answer {raw.iloc[i]!r}; expected {_EXPECTED}{extra}")
    return codes


def _check_allowed(codes: np.ndarray, item: int, labels: np.ndarray, where: str) -> None:
    """Partial yes and 'no meta-analysis' only where the checklist offers them [CL]."""
    for code, allowed, name in ((_PY, PARTIAL_YES_ITEMS, "partial yes"),
                                (_NMA, NO_META_ANALYSIS_ITEMS, "no meta-analysis")):
        bad = (codes == code) & (item not in allowed)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"review {labels[i]!r}, {where}: {name!r} is not an answer option of item {item} "
                             f"(only items {', '.join(map(str, allowed))}; AMSTAR 2 checklist)")


def _combine(panels: np.ndarray, rule: str) -> np.ndarray:
    """One answer from the RCT and NRSI panels of item 9 or 11 (rows x 2 codes, _NA/_NMA = no studies
    or no pooling of that design). ``rule`` 'worst' or 'best' over the applicable panels; none
    applicable gives 'no meta-analysis' (item 11) or NaN (item 9, caught by the caller)."""
    rank = np.array([2.0, 1.0, 0.0, np.nan, np.nan])  # yes > partial yes > no; NMA / n/a excluded
    r = rank[panels.astype(int)]
    if rule == "worst":
        pick = np.where(np.isnan(r), np.inf, r).min(axis=1)
    else:
        pick = np.where(np.isnan(r), -np.inf, r).max(axis=1)
    out = np.full(panels.shape[0], np.nan)
    ok = np.isfinite(pick)
    out[ok] = np.array([_NO, _PY, _YES], dtype=float)[pick[ok].astype(int)]
    out[~ok & (panels == _NMA).any(axis=1)] = _NMA
    return out


def _answers(df: pd.DataFrame, labels: np.ndarray, combine_designs: str):
    """Codes (rows x 16) and the design panels of items 9 and 11 ({item: rows x 2 codes or None})."""
    cols = {str(c).strip().lower(): c for c in df.columns}
    codes = np.full((len(df), 16), np.nan)
    panels: dict[int, np.ndarray | None] = {}
    for item in ITEMS:
        name = f"item{item}"
        single = (_codes(df[cols[name]], labels, f"item {item}") if name in cols
                  else np.full(len(df), np.nan))
        _check_allowed(single, item, labels, f"item {item}")
        panel_cols = [f"{name}_{d}" for d in DESIGNS]
        present = [c for c in panel_cols if c in cols]
        if present and item not in DESIGN_ITEMS:
            raise ValueError(f"{', '.join(present)}: separate RCT / NRSI answers exist only for items 9 and 11")
        panels[item] = None
        if present:
            p = np.column_stack([
                _codes(df[cols[c]], labels, f"item {item} ({c.rsplit('_', 1)[1].upper()})", panel=True)
                if c in cols else np.full(len(df), np.nan) for c in panel_cols])
            for j, c in enumerate(panel_cols):
                _check_allowed(np.where(p[:, j] == _NA, np.nan, p[:, j]), item, labels,
                               f"item {item} ({c.rsplit('_', 1)[1].upper()})")
            given = ~np.isnan(p).all(axis=1)
            both = given & ~np.isnan(single)
            if both.any():
                i = int(np.flatnonzero(both)[0])
                raise ValueError(f"review {labels[i]!r}, item {item}: give one answer or separate RCT / NRSI "
                                 "answers, not both")
            p = np.where(np.isnan(p), _NA, p)  # a panel left empty: the review has no studies of that design
            combined = _combine(p, combine_designs)
            none = given & np.isnan(combined)
            if none.any():
                i = int(np.flatnonzero(none)[0])
                raise ValueError(f"review {labels[i]!r}, item {item}: neither the RCT nor the NRSI answer applies; "
                                 "a review includes studies of at least one design")
            single = np.where(given, combined, single)
            panels[item] = np.where(given[:, None], p, np.nan)
        elif name not in cols:
            raise KeyError(f"column {name!r} not found (item {item} of 16; columns: {', '.join(map(str, df.columns))})")
        missing = np.isnan(single)
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise ValueError(f"review {labels[i]!r}, item {item}: no answer; every AMSTAR 2 item needs one "
                             "(an item the review does not report is answered 'no')")
        codes[:, item - 1] = single
    return codes.astype(int), panels


def _rate(codes: np.ndarray, critical: tuple[int, ...], partial_yes: str, moderate_to_low: int | None):
    """Flaw and weakness masks (rows x 16) and the confidence of each row, vectorized."""
    is_critical = np.isin(np.arange(1, 17), critical)
    no = codes == _NO  # a No: a critical flaw in a critical item, else a non-critical weakness [T2], [RS]
    py = codes == _PY
    # Partial yes: the sources read do not say how it counts [Q]; the argument decides
    if partial_yes == "no":
        no = no | py
    flaws = no & is_critical
    weak = no & ~is_critical
    if partial_yes == "weakness":
        weak = weak | py
    # 'no meta-analysis' is neither a flaw nor a weakness: "does not affect the overall confidence
    # rating" [CL]; "the item ... (item 11) will not apply" [Q]
    n_flaws, n_weak = flaws.sum(axis=1), weak.sum(axis=1)
    confidence = np.select(
        [n_flaws > 1,  # "More than one critical flaw with or without non-critical weaknesses" [T2], [RS]
         n_flaws == 1,  # "One critical flaw with or without non-critical weaknesses" [T2], [RS]
         n_weak > 1],  # "More than one non-critical weakness" (and no critical flaw) [T2], [RS]
        ["critically low", "low", "moderate"],
        default="high")  # "No or one non-critical weakness" [T2], [RS]
    if moderate_to_low is not None:
        # "it may be appropriate to move the overall appraisal down from moderate to low" [RS] note
        confidence = np.where((confidence == "moderate") & (n_weak >= moderate_to_low), "low", confidence)
    return flaws, weak, confidence


def _item_sets(mask: np.ndarray) -> list[tuple[int, ...]]:
    """Per row, the tuple of items where ``mask`` is true; built once per distinct pattern."""
    _, first, inverse = np.unique(mask @ (1 << np.arange(16)), return_index=True, return_inverse=True)
    tuples = [tuple(int(i) + 1 for i in np.flatnonzero(mask[j])) for j in first]
    return [tuples[k] for k in inverse.ravel()]


def _options(critical, partial_yes, combine_designs, moderate_to_low):
    if isinstance(critical, str | bytes) or not isinstance(critical, Iterable):
        raise TypeError("critical must be a collection of item numbers 1-16")
    critical = list(critical)
    bad = [i for i in critical if isinstance(i, bool) or not (isinstance(i, int | np.integer) and 1 <= i <= 16)]
    if bad:
        raise ValueError(f"critical items must be item numbers 1-16; got {bad}")
    crit = tuple(sorted({int(i) for i in critical}))
    partial_yes = check_choice("partial_yes", partial_yes, PARTIAL_YES_RULES)
    combine_designs = check_choice("combine_designs", combine_designs, COMBINE_RULES)
    if moderate_to_low is not None and (not isinstance(moderate_to_low, int | np.integer) or moderate_to_low < 2):
        raise ValueError("moderate_to_low must be a whole number >= 2 (moderate already means more than one "
                         f"non-critical weakness) or None; got {moderate_to_low!r}")
    return crit, partial_yes, combine_designs, moderate_to_low


def amstar2_table(
    data: pd.DataFrame,
    *,
    critical: Iterable[int] = CRITICAL_ITEMS,
    partial_yes: str = "met",
    combine_designs: str = "worst",
    moderate_to_low: int | None = None,
) -> pd.DataFrame:
    """AMSTAR 2 overall confidence of many reviews at once (one row per review).

    Parameters
    ----------
    data : DataFrame
        Columns ``item1`` .. ``item16`` (case-insensitive; other columns are ignored), answers
        "yes", "partial yes", "no", "no meta-analysis" in any case and the common spellings
        ("Y", "PY", "N", "NMA", "no MA", "No meta-analysis conducted"). Items 9 and 11 may
        instead (row by row) have separate answers in ``item9_rct`` / ``item9_nrsi`` and
        ``item11_rct`` / ``item11_nrsi``; an empty or "not applicable" / "includes only RCTs"
        panel means the review has no studies of that design.
    critical : collection of int
        The critical items, default :data:`CRITICAL_ITEMS` (2, 4, 7, 9, 11, 13, 15).
    partial_yes : {"met", "weakness", "no"}
        How a Partial Yes counts (the sources read do not say; see the module notes).
    combine_designs : {"worst", "best"}
        How separate RCT / NRSI answers to items 9 and 11 combine.
    moderate_to_low : int, optional
        Rate "low" a review with no critical flaw and at least this many non-critical weaknesses.

    Returns
    -------
    DataFrame
        Indexed as ``data``: ``confidence`` ("high", "moderate", "low", "critically low"),
        ``n_critical_flaws``, ``critical_flaws`` (tuple of item numbers), ``n_weaknesses``,
        ``weaknesses`` (tuple of the non-critical weaknesses).

    Raises
    ------
    ValueError
        An unknown answer, an answer the item does not offer, or a missing answer, naming the
        review (index label) and the item.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("amstar2_table needs a DataFrame with columns item1..item16 (one row per review)")
    critical, partial_yes, combine_designs, moderate_to_low = _options(critical, partial_yes, combine_designs,
                                                                       moderate_to_low)
    labels = np.asarray(data.index, dtype=object)
    codes, _ = _answers(data, labels, combine_designs)
    flaws, weak, confidence = _rate(codes, critical, partial_yes, moderate_to_low)
    return pd.DataFrame({"confidence": confidence, "n_critical_flaws": flaws.sum(axis=1),
                         "critical_flaws": _item_sets(flaws), "n_weaknesses": weak.sum(axis=1),
                         "weaknesses": _item_sets(weak)}, index=data.index)


@dataclass(frozen=True)
class Amstar2Result:
    """AMSTAR 2 appraisal of one review.

    Attributes
    ----------
    confidence : str
        "high", "moderate", "low" or "critically low".
    critical_flaws, weaknesses : tuple of int
        Items that are critical flaws / non-critical weaknesses.
    items : DataFrame
        Indexed by item 1-16: ``domain``, ``critical``, ``answer``, ``rct`` and ``nrsi`` (the
        separate answers to items 9 and 11 when given), ``counts_as`` ("met", "met (partial yes)",
        "critical flaw", "non-critical weakness", "not applicable (no meta-analysis)").
    rationale : tuple of str
        Each rule applied, with its source.
    critical, partial_yes, combine_designs, moderate_to_low
        The options used (echoed).
    label : str or None
        The review's name, if given.
    """

    confidence: str
    critical_flaws: tuple[int, ...]
    weaknesses: tuple[int, ...]
    items: pd.DataFrame
    rationale: tuple[str, ...]
    critical: tuple[int, ...]
    partial_yes: str
    combine_designs: str
    moderate_to_low: int | None
    label: str | None = None

    def _header(self) -> str:
        name = "" if self.label is None else f" of {self.label}"
        flaws = ", ".join(map(str, self.critical_flaws)) or "none"
        weak = ", ".join(map(str, self.weaknesses)) or "none"
        return (f"AMSTAR 2 overall confidence{name}: {self.confidence} "
                f"(critical flaws: {flaws}; non-critical weaknesses: {weak})")

    def __repr__(self) -> str:
        table = self.items[["answer", "critical", "counts_as", "domain"]].copy()
        table["critical"] = np.where(table["critical"], "*", "")
        return (self._header() + "\n\n" + table.to_string() + "\n\n"
                + "\n".join(f"- {r}" for r in self.rationale))

    def _repr_html_(self) -> str:
        rationale = "".join(f"<li>{html.escape(r)}</li>" for r in self.rationale)
        return (f"<p><b>{html.escape(self._header())}</b></p>"
                + self.items.to_html(escape=True, border=0) + f"<ul>{rationale}</ul>")


def _as_frame(items) -> tuple[pd.DataFrame, str | None]:
    """One review's answers (dict, list of 16, or Series / row) as a one-row frame item1..item16."""
    label = None
    if isinstance(items, pd.DataFrame):
        if len(items) != 1:
            raise ValueError(f"amstar2 rates one review; got {len(items)} rows (use amstar2_table)")
        items = items.iloc[0]
    if isinstance(items, pd.Series):
        label = None if items.name is None else str(items.name)
        pairs = list(items.items())
    elif isinstance(items, Mapping):
        pairs = list(items.items())
    elif isinstance(items, Sequence) and not isinstance(items, str | bytes):
        if len(items) != 16:
            raise ValueError(f"a list of answers needs 16, one per item; got {len(items)}")
        pairs = list(zip(ITEMS, items, strict=True))
    else:
        raise TypeError("items must be a dict {1: 'yes', ...}, a list of 16 answers or a Series with item1..item16")
    row: dict[str, object] = {}
    for key, value in pairs:
        k = str(key).strip().lower()
        name = f"item{k}" if k.isdigit() else k
        if isinstance(value, Mapping):  # {"RCT": ..., "NRSI": ...} for items 9 and 11
            for design, answer in value.items():
                d = str(design).strip().lower().rstrip("s")
                if d not in DESIGNS:
                    raise ValueError(f"{name}: design keys must be 'RCT' and/or 'NRSI'; got {design!r}")
                row[f"{name}_{d}"] = answer
        else:
            row[name] = value
    unknown = [k for k in row if k.split("_")[0] not in {f"item{i}" for i in ITEMS}]
    if isinstance(items, pd.Series):
        # a row of a wider table: its other columns (review name, year, ...) are not answers
        row = {k: v for k, v in row.items() if k not in unknown}
        unknown = []
    if unknown:
        raise ValueError(f"unknown item keys {unknown}; expected 1..16 (or item1..item16, item9_rct, ...)")
    for i in ITEMS:  # an item left out is reported as unanswered, like an empty cell
        if not any(k == f"item{i}" or k.startswith(f"item{i}_") for k in row):
            row[f"item{i}"] = None
    return pd.DataFrame([row], index=[label if label is not None else "review"], dtype=object), label


def amstar2(
    items,
    *,
    critical: Iterable[int] = CRITICAL_ITEMS,
    partial_yes: str = "met",
    combine_designs: str = "worst",
    moderate_to_low: int | None = None,
    label: str | None = None,
) -> Amstar2Result:
    """AMSTAR 2 overall confidence in the results of one systematic review (Shea et al. 2017).

    Parameters
    ----------
    items : dict, list or Series
        The 16 answers: ``{1: "yes", 2: "PY", ...}``, a list of 16 in item order, or a Series /
        DataFrame row with ``item1`` .. ``item16``. Items 9 and 11 may be given per design,
        ``{"RCT": "yes", "NRSI": "no"}`` (or ``item9_rct`` / ``item9_nrsi`` keys).
    critical, partial_yes, combine_designs, moderate_to_low
        As in :func:`amstar2_table`.
    label : str, optional
        The review's name (default the Series name).

    Returns
    -------
    Amstar2Result

    Notes
    -----
    With the critical items C (default 2, 4, 7, 9, 11, 13, 15 [T2]), a No in an item of C is a
    critical flaw and a No elsewhere a non-critical weakness; "no meta-analysis" counts as
    neither. Overall confidence ([T2] Table 2; [RS]): more than one critical flaw, critically
    low; one, low; none and more than one non-critical weakness, moderate; none and at most one
    weakness, high. See the module docstring for the sources and the three arguments that stand
    where they are silent.
    """
    critical, partial_yes, combine_designs, moderate_to_low = _options(critical, partial_yes, combine_designs,
                                                                       moderate_to_low)
    frame, series_name = _as_frame(items)
    label = label if label is not None else series_name
    labels = np.asarray([label if label is not None else "review"], dtype=object)
    codes, panels = _answers(frame, labels, combine_designs)
    flaws, weak, confidence = _rate(codes, critical, partial_yes, moderate_to_low)
    code, flaw, wk = codes[0], flaws[0], weak[0]

    counts_as = np.where(flaw, "critical flaw", np.where(wk, "non-critical weakness", np.where(
        code == _NMA, "not applicable (no meta-analysis)", np.where(code == _PY, "met (partial yes)", "met"))))
    panel_answer = {d: [None] * 16 for d in DESIGNS}
    for item, p in panels.items():
        if p is not None and not np.isnan(p[0]).all():
            for j, d in enumerate(DESIGNS):
                panel_answer[d][item - 1] = _CODE_NAMES[int(p[0, j])]
    table = pd.DataFrame({"domain": [ITEM_LABELS[i] for i in ITEMS],
                          "critical": [i in critical for i in ITEMS],
                          "answer": [_CODE_NAMES[int(c)] for c in code],
                          "rct": panel_answer["rct"], "nrsi": panel_answer["nrsi"],
                          "counts_as": counts_as}, index=pd.Index(ITEMS, name="item"))

    flaw_items, weak_items = _item_sets(flaws)[0], _item_sets(weak)[0]
    default = critical == CRITICAL_ITEMS
    rationale = [
        f"Critical items {', '.join(map(str, critical)) or 'none'}"
        + (" (AMSTAR 2 critical domains: Systematic Reviews 2018, doi:10.1186/s13643-018-0878-3, Table 2)"
           if default else " (chosen by the appraiser; AMSTAR 2 default 2, 4, 7, 9, 11, 13, 15)"),
        f"Partial yes counted as {'met' if partial_yes == 'met' else 'a non-critical weakness' if partial_yes == 'weakness' else 'a no'}"
        " (partial_yes: the sources read do not say how a partial yes counts)",
    ]
    for item, p in panels.items():
        if p is not None and not np.isnan(p[0]).all():
            rationale.append(f"Item {item}: RCT {panel_answer['rct'][item - 1]}, NRSI {panel_answer['nrsi'][item - 1]}"
                             f" -> {_CODE_NAMES[int(code[item - 1])]} (combine_designs={combine_designs!r})")
    nf, nw = len(flaw_items), len(weak_items)
    rule = {"critically low": "more than one critical flaw with or without non-critical weaknesses",
            "low": "one critical flaw with or without non-critical weaknesses",
            "moderate": "more than one non-critical weakness (no critical flaw)",
            "high": "no or one non-critical weakness (no critical flaw)"}
    conf = str(confidence[0])
    if moderate_to_low is not None and conf == "low" and nf == 0:
        rationale.append(f"{nw} non-critical weaknesses >= moderate_to_low={moderate_to_low}: moderate moved down to "
                         "low (the rating scheme's note: 'it may be appropriate to move the overall appraisal down "
                         "from moderate to low confidence')")
    else:
        rationale.append(f"{nf} critical flaw{'s' if nf != 1 else ''}, {nw} non-critical weakness"
                         f"{'es' if nw != 1 else ''} -> {conf}: {rule[conf]} (Shea et al. 2017 rating scheme)")
    return Amstar2Result(conf, flaw_items, weak_items, table, tuple(rationale), critical, partial_yes,
                         combine_designs, moderate_to_low, label)
