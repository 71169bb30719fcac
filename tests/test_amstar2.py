"""AMSTAR 2 overall confidence (evidence_kit.certainty.amstar2): every rule, bad input, and the
ratings printed by published overviews.

Rules (Shea BJ, et al. BMJ 2017;358:j4008; the sources that confirm each rule are listed in the
module docstring): critical items 2, 4, 7, 9, 11, 13, 15; a No in a critical item is a critical
flaw, elsewhere a non-critical weakness; "no meta-analysis" is neither; high = no critical flaw
and at most one weakness, moderate = no critical flaw and more than one weakness, low = one
critical flaw, critically low = more than one.

Published oracles (tests/data/published/amstar2_*.csv; sources, locators and interpreted marks
in tests/data/published/amstar2_sources.md):

* Hume S, Brown SR, Mahtani KR. School closures during COVID-19: an overview of systematic
  reviews. BMJ Evid Based Med 2023;28:164-174, doi:10.1136/bmjebm-2022-112085, Table 1
  (12 reviews): all reproduced;
* doi:10.1155/2020/4140692, Table 2 (PMC7382724; 9 reviews): all reproduced;
* BMC Geriatr 2022;22:501, doi:10.1186/s12877-022-03169-2, Table 2 (PMC9188066; 12 reviews),
  BMJ Paediatrics Open Table 3 (8), BMJ Open Diabetes Research & Care Table 1 (7) and PMC7135196
  Table 3 (8): 9 reproduced, 26 documented divergences (DIVERGENCES below), every one a published
  rating more favourable than the scheme gives.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence_kit.certainty.amstar2 import (
    CONFIDENCE_LEVELS,
    CRITICAL_ITEMS,
    ITEMS,
    NO_META_ANALYSIS_ITEMS,
    PARTIAL_YES_ITEMS,
    Amstar2Result,
    amstar2,
    amstar2_table,
)

NON_CRITICAL = tuple(i for i in ITEMS if i not in CRITICAL_ITEMS)
COLUMNS = [f"item{i}" for i in ITEMS]


def answers(no=(), py=(), nma=()):
    """All 'yes' except the items given."""
    out = {i: "yes" for i in ITEMS}
    out.update({i: "no" for i in no})
    out.update({i: "partial yes" for i in py})
    out.update({i: "no MA" for i in nma})
    return out


def expected_confidence(n_flaws, n_weak):
    # Shea et al. 2017 rating scheme, as transcribed in Systematic Reviews 2018 (doi:10.1186/s13643-018-0878-3) Table 2
    if n_flaws > 1:
        return "critically low"
    if n_flaws == 1:
        return "low"
    return "moderate" if n_weak > 1 else "high"


# ----------------------------------------------------------------------------- the rules


def test_constants_are_the_published_ones():
    assert CRITICAL_ITEMS == (2, 4, 7, 9, 11, 13, 15)
    assert PARTIAL_YES_ITEMS == (2, 4, 7, 8, 9)
    assert NO_META_ANALYSIS_ITEMS == (11, 12, 15)
    assert CONFIDENCE_LEVELS == ("high", "moderate", "low", "critically low")


@pytest.mark.parametrize("n_flaws", range(len(CRITICAL_ITEMS) + 1))
def test_every_count_of_flaws_and_weaknesses(n_flaws):
    rows = {}
    for n_weak in range(len(NON_CRITICAL) + 1):
        a = answers(no=CRITICAL_ITEMS[:n_flaws] + NON_CRITICAL[:n_weak])
        res = amstar2(a)
        assert res.confidence == expected_confidence(n_flaws, n_weak)
        assert res.critical_flaws == CRITICAL_ITEMS[:n_flaws]
        assert res.weaknesses == NON_CRITICAL[:n_weak]
        rows[n_weak] = a
    table = amstar2_table(pd.DataFrame.from_dict(rows, orient="index").rename(columns=lambda i: f"item{i}"))
    assert list(table["confidence"]) == [expected_confidence(n_flaws, w) for w in rows]
    assert list(table["n_critical_flaws"]) == [n_flaws] * len(rows)
    assert list(table["n_weaknesses"]) == list(rows)


def test_which_items_are_flaws_does_not_matter_only_how_many():
    for flaws in itertools.combinations(CRITICAL_ITEMS, 2):
        assert amstar2(answers(no=flaws)).confidence == "critically low"
    for flaw in CRITICAL_ITEMS:
        assert amstar2(answers(no=(flaw,))).confidence == "low"
        assert amstar2(answers(no=(flaw,) + NON_CRITICAL)).confidence == "low"  # "with or without" weaknesses
    for weak in NON_CRITICAL:
        assert amstar2(answers(no=(weak,))).confidence == "high"  # "no or one non-critical weakness"


def test_no_meta_analysis_is_neither_flaw_nor_weakness():
    res = amstar2(answers(nma=NO_META_ANALYSIS_ITEMS))
    assert res.confidence == "high" and res.critical_flaws == () and res.weaknesses == ()
    assert set(res.items.loc[[11, 12, 15], "counts_as"]) == {"not applicable (no meta-analysis)"}


@pytest.mark.parametrize("rule, confidence, flaws, weak", [
    ("met", "high", (), ()),
    ("weakness", "moderate", (), (2, 8)),  # a partial yes is a non-critical weakness wherever it stands
    ("no", "low", (2,), (8,)),  # counted as a No: a flaw in critical item 2, a weakness in item 8
])
def test_partial_yes_conventions(rule, confidence, flaws, weak):
    res = amstar2(answers(py=(2, 8)), partial_yes=rule)
    assert (res.confidence, res.critical_flaws, res.weaknesses) == (confidence, flaws, weak)
    assert res.partial_yes == rule


def test_partial_yes_default_is_met_and_is_said():
    res = amstar2(answers(py=PARTIAL_YES_ITEMS))
    assert res.partial_yes == "met" and res.confidence == "high"
    assert (res.items.loc[list(PARTIAL_YES_ITEMS), "counts_as"] == "met (partial yes)").all()
    assert any("Partial yes counted as met" in r for r in res.rationale)


@pytest.mark.parametrize("k", range(2, 10))
def test_moderate_to_low_threshold(k):
    for n_weak in range(len(NON_CRITICAL) + 1):
        res = amstar2(answers(no=NON_CRITICAL[:n_weak]), moderate_to_low=k)
        base = expected_confidence(0, n_weak)
        assert res.confidence == ("low" if base == "moderate" and n_weak >= k else base)
    # never touches a review with a critical flaw, nor a high one
    assert amstar2(answers(no=(2,) + NON_CRITICAL), moderate_to_low=k).confidence == "low"
    assert amstar2(answers(no=(2, 4) + NON_CRITICAL), moderate_to_low=k).confidence == "critically low"


def test_moderate_to_low_says_why():
    res = amstar2(answers(no=(1, 3, 5)), moderate_to_low=3)
    assert res.confidence == "low" and res.critical_flaws == ()
    assert "moved down" in res.rationale[-1]


def test_critical_items_can_be_substituted():
    a = answers(no=(2, 3))
    assert amstar2(a).confidence == "low"
    res = amstar2(a, critical=(3, 4))
    assert res.confidence == "low" and res.critical_flaws == (3,) and res.weaknesses == (2,)
    assert amstar2(a, critical=()).confidence == "moderate"
    assert amstar2(a, critical=[2, 3]).confidence == "critically low"
    assert "chosen by the appraiser" in amstar2(a, critical=(3,)).rationale[0]


# ------------------------------------------------------- items 9 and 11 answered per design


@pytest.mark.parametrize("rct, nrsi, worst, best", [
    ("yes", "yes", "yes", "yes"),
    ("yes", "partial yes", "partial yes", "yes"),
    ("partial yes", "no", "no", "partial yes"),
    ("yes", "no", "no", "yes"),
    ("yes", "includes only RCTs", "yes", "yes"),  # the NRSI panel does not apply
    ("Includes only NRSI", "no", "no", "no"),
    ("yes", None, "yes", "yes"),  # an empty panel: no studies of that design
])
def test_item9_panels(rct, nrsi, worst, best):
    a = answers()
    a[9] = {"RCT": rct, "NRSI": nrsi}
    for rule, want in (("worst", worst), ("best", best)):
        res = amstar2(a, combine_designs=rule)
        assert res.items.loc[9, "answer"] == want
        assert res.confidence == ("low" if want == "no" else "high")
    assert amstar2(a).combine_designs == "worst"


def test_item11_panels_and_no_meta_analysis():
    a = answers()
    a[11] = {"rct": "no MA", "nrsi": "no MA"}
    assert amstar2(a).items.loc[11, "answer"] == "no meta-analysis"
    a[11] = {"RCTs": "yes", "NRSI": "no meta-analysis"}  # pooled the trials only
    assert amstar2(a).items.loc[11, "answer"] == "yes"
    a[11] = {"RCT": "no", "NRSI": "no MA"}
    res = amstar2(a)
    assert res.critical_flaws == (11,)
    assert res.items.loc[11, ["rct", "nrsi"]].tolist() == ["no", "no meta-analysis"]
    assert any(r.startswith("Item 11: RCT no, NRSI no meta-analysis -> no") for r in res.rationale)


def test_panels_in_a_table_row_by_row():
    df = pd.DataFrame([answers(), answers(), answers()]).rename(columns=lambda i: f"item{i}").astype(object)
    df["item9"] = ["yes", None, None]
    df["item9_rct"] = [None, "yes", "only NRSI"]
    df["item9_nrsi"] = [None, "no", "partial yes"]
    out = amstar2_table(df)
    assert out["confidence"].tolist() == ["high", "low", "high"]
    assert out["critical_flaws"].tolist() == [(), (9,), ()]


# ------------------------------------------------------------------------ input forms


def test_input_forms_agree():
    a = answers(no=(3, 7), py=(4,), nma=(11, 12, 15))
    by_dict = amstar2(a)
    by_str_keys = amstar2({f"item{i}": v for i, v in a.items()})
    by_list = amstar2([a[i] for i in ITEMS])
    row = pd.Series({**{f"item{i}": v for i, v in a.items()}, "review": "Smith 2020", "year": 2020}, name="Smith 2020")
    by_series = amstar2(row)
    by_frame = amstar2(pd.DataFrame([row]))
    for res in (by_str_keys, by_list, by_series, by_frame):
        assert (res.confidence, res.critical_flaws, res.weaknesses) == ("low", (7,), (3,))
        pd.testing.assert_frame_equal(res.items, by_dict.items)
    assert by_series.label == "Smith 2020" and by_dict.label is None
    assert amstar2(a, label="X").label == "X"


@pytest.mark.parametrize("spelling, canonical", [
    ("Y", "yes"), ("y", "yes"), ("YES", "yes"), (" Yes ", "yes"),
    ("PY", "partial yes"), ("py", "partial yes"), ("Partial Yes", "partial yes"), ("partial-yes", "partial yes"),
    ("partial_yes", "partial yes"), ("Partially yes", "partial yes"),
    ("N", "no"), ("No", "no"), ("no.", "no"),
])
def test_spellings(spelling, canonical):
    a = answers()
    a[4] = spelling
    assert amstar2(a).items.loc[4, "answer"] == canonical


@pytest.mark.parametrize("spelling", ["NMA", "nma", "no MA", "No MA", "No meta-analysis", "no meta analysis",
                                      "No meta-analysis conducted", "NMAC"])
def test_no_meta_analysis_spellings(spelling):
    a = answers()
    a[12] = spelling
    assert amstar2(a).items.loc[12, "answer"] == "no meta-analysis"


def test_table_matches_single_on_random_answers():
    rng = np.random.default_rng(20171)
    options = {i: ["yes", "no"] + (["partial yes"] if i in PARTIAL_YES_ITEMS else [])
               + (["no MA"] if i in NO_META_ANALYSIS_ITEMS else []) for i in ITEMS}
    df = pd.DataFrame({f"item{i}": rng.choice(options[i], size=300) for i in ITEMS},
                      index=[f"review {k}" for k in range(300)])
    for rule in ("met", "weakness", "no"):
        table = amstar2_table(df, partial_yes=rule)
        for label in df.index[:60]:
            res = amstar2(df.loc[label], partial_yes=rule)
            assert table.loc[label, "confidence"] == res.confidence
            assert table.loc[label, "critical_flaws"] == res.critical_flaws
            assert table.loc[label, "weaknesses"] == res.weaknesses
    assert set(amstar2_table(df)["confidence"]) <= set(CONFIDENCE_LEVELS)


def test_table_keeps_index_and_ignores_other_columns():
    df = pd.DataFrame([answers(no=(2,)), answers()], index=["a", "b"]).rename(columns=lambda i: f"Item{i}")
    df["review"] = ["A", "B"]
    out = amstar2_table(df)
    assert list(out.index) == ["a", "b"]
    assert list(out.columns) == ["confidence", "n_critical_flaws", "critical_flaws", "n_weaknesses", "weaknesses"]
    assert out.loc["a", "critical_flaws"] == (2,)


# --------------------------------------------------------------------------- bad input


def test_unknown_answer_names_the_review_and_item():
    df = pd.DataFrame([answers(), answers()], index=["Gong 2019", "Gu 2020"]).rename(columns=lambda i: f"item{i}")
    df.loc["Gu 2020", "item13"] = "maybe"
    with pytest.raises(ValueError, match=r"review 'Gu 2020', item 13: unknown answer 'maybe'"):
        amstar2_table(df)
    a = answers()
    a[5] = "unclear"
    with pytest.raises(ValueError, match=r"item 5: unknown answer 'unclear'"):
        amstar2(a, label="Tan 2018")


@pytest.mark.parametrize("item, answer, what", [
    (1, "PY", "partial yes"), (13, "partial yes", "partial yes"), (16, "py", "partial yes"),
    (2, "NMA", "no meta-analysis"), (13, "no MA", "no meta-analysis"), (9, "no MA", "no meta-analysis"),
])
def test_answer_not_offered_by_the_item(item, answer, what):
    a = answers()
    a[item] = answer
    with pytest.raises(ValueError, match=rf"'{what}' is not an answer option of item {item}"):
        amstar2(a)


def test_na_is_not_guessed():
    # "NA" / "X" may mean no meta-analysis in a published table, but also "not answered": rejected
    for mark in ("NA", "X", "not applicable", "unclear", ""):
        a = answers()
        a[11] = mark
        with pytest.raises(ValueError, match="item 11"):
            amstar2(a)


def test_missing_answers():
    a = answers()
    a[6] = None
    with pytest.raises(ValueError, match="item 6: no answer"):
        amstar2(a)
    del a[6]
    with pytest.raises(ValueError, match="item 6: no answer"):
        amstar2(a)
    df = pd.DataFrame([answers()]).rename(columns=lambda i: f"item{i}").drop(columns="item14")
    with pytest.raises(KeyError, match="item14"):
        amstar2_table(df)
    df = pd.DataFrame([answers()]).rename(columns=lambda i: f"item{i}")
    df.loc[0, "item3"] = np.nan
    with pytest.raises(ValueError, match="review 0, item 3: no answer"):
        amstar2_table(df)


def test_bad_panels():
    a = answers()
    a[9] = {"RCT": "only NRSI", "NRSI": "only RCTs"}
    with pytest.raises(ValueError, match="item 9: neither the RCT nor the NRSI answer applies"):
        amstar2(a)
    a[9] = {"RCT": "yes", "cohort": "no"}
    with pytest.raises(ValueError, match="design keys must be 'RCT' and/or 'NRSI'"):
        amstar2(a)
    a[9] = "yes"
    a[3] = {"RCT": "yes", "NRSI": "no"}
    with pytest.raises(ValueError, match="only for items 9 and 11"):
        amstar2(a)
    a = answers()
    a[11] = {"RCT": "partial yes", "NRSI": "yes"}
    with pytest.raises(ValueError, match=r"'partial yes' is not an answer option of item 11"):
        amstar2(a)
    df = pd.DataFrame([answers()]).rename(columns=lambda i: f"item{i}")
    df["item9_rct"] = ["no"]
    with pytest.raises(ValueError, match="item 9: give one answer or separate RCT / NRSI answers, not both"):
        amstar2_table(df)


def test_bad_shapes_and_options():
    with pytest.raises(ValueError, match="needs 16"):
        amstar2(["yes"] * 15)
    with pytest.raises(TypeError):
        amstar2("yes")
    with pytest.raises(ValueError, match="unknown item keys"):
        amstar2({**answers(), 17: "yes"})
    with pytest.raises(ValueError, match="one review"):
        amstar2(pd.DataFrame([answers(), answers()]).rename(columns=lambda i: f"item{i}"))
    with pytest.raises(TypeError):
        amstar2_table([answers()])
    with pytest.raises(ValueError, match="unknown partial_yes 'half'; expected one of met, weakness, no"):
        amstar2(answers(), partial_yes="half")
    with pytest.raises(ValueError, match="unknown combine_designs"):
        amstar2(answers(), combine_designs="mean")
    for bad in ([0], [17], ["2"], [2.5], [True]):
        with pytest.raises(ValueError, match="critical items must be item numbers 1-16"):
            amstar2(answers(), critical=bad)
    with pytest.raises(TypeError):
        amstar2(answers(), critical="2,4")
    for bad in (1, 0, 2.5):
        with pytest.raises(ValueError, match="moderate_to_low"):
            amstar2(answers(), moderate_to_low=bad)


# ----------------------------------------------------------------------------- display


def test_text_and_html():
    res = amstar2(answers(no=(7, 15, 3), py=(2,)), label="Smith <2020>")
    assert isinstance(res, Amstar2Result)
    text = repr(res)
    assert text.startswith("AMSTAR 2 overall confidence of Smith <2020>: critically low "
                           "(critical flaws: 7, 15; non-critical weaknesses: 3)")
    assert "Justification for excluding individual studies" in text
    assert "2 critical flaws, 1 non-critical weakness -> critically low: more than one critical flaw" in text
    page = res._repr_html_()
    assert "Smith &lt;2020&gt;" in page and "<table" in page and "<li>" in page
    assert list(res.items.index) == list(ITEMS)
    assert res.items["critical"].sum() == 7


# -------------------------------------------------------------------- published ratings

DATA = Path(__file__).parent / "data" / "published"
# file, how the table writes answers that are not already our spellings (amstar2_sources.md), rows
SOURCES = {
    "hume2023": ("amstar2_hume2023_table1.csv",
                 {"+": "yes", "–": "no", "Partial+": "partial yes", "N/A": "no MA"}, 12),
    "pmc7382724": ("amstar2_pmc7382724_table2.csv", {}, 9),
    "bmcgeriatr2022": ("amstar2_bmcgeriatr2022_table2.csv", {}, 12),
    "bmjpo": ("amstar2_bmjpo_table3.csv", {"NA": "no MA"}, 8),
    "drc": ("amstar2_drc_table1.csv", {"X": "no MA"}, 7),
    "pmc7135196": ("amstar2_pmc7135196_table3.csv", {}, 8),
}
NO_MA_MARKS = {"N/A", "NA", "X", "NMA", "No MA"}

# Published ratings that depart from the scheme: (source, row) -> (published, the scheme's rating,
# the critical items answered No). Not explained by the tables; see amstar2_sources.md.
DIVERGENCES = {
    ("bmcgeriatr2022", 1): ("moderate", "critically low", (2, 7)),  # Bachmann 2010
    ("bmcgeriatr2022", 2): ("low", "critically low", (2, 13)),  # De Morton, 2007
    ("bmcgeriatr2022", 3): ("moderate", "low", (15,)),  # Handoll, 2011
    ("bmcgeriatr2022", 4): ("low", "critically low", (7, 13)),  # Heldmann, 2019
    ("bmcgeriatr2022", 5): ("moderate", "critically low", (7, 15)),  # Machado, 2020
    ("bmcgeriatr2022", 6): ("low", "critically low", (2, 7, 13, 15)),  # Martinez-Velilla, 2016
    ("bmcgeriatr2022", 8): ("moderate", "low", (7,)),  # Peiris 2018
    ("bmcgeriatr2022", 9): ("low", "critically low", (7, 15)),  # Scrivener, 2015
    ("bmcgeriatr2022", 10): ("moderate", "low", (15,)),  # Smith, 2020a
    ("bmcgeriatr2022", 11): ("moderate", "low", (7,)),  # Smith 2020b
    ("bmcgeriatr2022", 12): ("moderate", "low", (7,)),  # Yasmeen 2020
    ("bmjpo", 1): ("moderate", "low", (2,)),  # Abiramalatha et al
    ("bmjpo", 5): ("moderate", "critically low", (2, 15)),  # Brown et al
    ("bmjpo", 6): ("moderate", "low", (2,)),  # Oddie et al
    ("bmjpo", 7): ("moderate", "low", (15,)),  # Premji and Chessell
    ("bmjpo", 8): ("moderate", "low", (2,)),  # Watson and McGuire
    ("drc", 3): ("low", "critically low", (2, 7, 13)),  # Xing (2020)
    ("drc", 4): ("moderate", "low", (2,)),  # Mantovani (2020)
    ("drc", 6): ("low", "critically low", (7, 13)),  # Raj (2019)
    ("drc", 7): ("low", "critically low", (2, 7, 13)),  # Tang (2016)
    ("pmc7135196", 1): ("moderate", "low", (7,)),  # Banerjee (2016)
    ("pmc7135196", 3): ("moderate", "critically low", (7, 15)),  # Hope (2019)
    ("pmc7135196", 5): ("low", "critically low", (2, 7, 15)),  # Lemstra (2012)
    ("pmc7135196", 6): ("low", "critically low", (2, 7, 13)),  # Lewey (2013)
    ("pmc7135196", 7): ("low", "critically low", (2, 7, 13)),  # Mann (2014)
    ("pmc7135196", 8): ("low", "critically low", (7, 9, 13, 15)),  # Mann (2010)
}
LEVEL = {name: k for k, name in enumerate(CONFIDENCE_LEVELS)}


def load(source):
    file, marks, _ = SOURCES[source]
    df = pd.read_csv(DATA / file, dtype=str, keep_default_na=False)
    df.index = df.pop("row").astype(int)
    items = df[COLUMNS].replace(marks)
    published = (df["published_confidence"].str.lower().str.removesuffix(" quality")
                 .replace({"cl": "critically low"}))  # PMC7135196 prints "CL"
    return df, items, published


@pytest.mark.parametrize("source", SOURCES)
def test_fixture_is_complete(source):
    df, _, published = load(source)
    file, _, n = SOURCES[source]
    assert len(df) == n and list(df.index) == list(range(1, n + 1))
    assert (df[COLUMNS] != "").all().all()
    assert set(published) <= set(CONFIDENCE_LEVELS)
    assert (df["source_url"].str.startswith("https://")).all() and (df["locator"] != "").all()
    # the marks read as "no meta-analysis" stand only in items 11, 12 and 15 (amstar2_sources.md)
    for i in ITEMS:
        if i not in NO_META_ANALYSIS_ITEMS:
            assert not df[f"item{i}"].isin(NO_MA_MARKS).any(), (file, i)


@pytest.mark.parametrize("source", SOURCES)
def test_published_ratings(source):
    df, items, published = load(source)
    out = amstar2_table(items)
    for row in df.index:
        key = (source, row)
        if key in DIVERGENCES:
            pub, ours, flaws = DIVERGENCES[key]
            assert published[row] == pub, key
            assert (out.loc[row, "confidence"], out.loc[row, "critical_flaws"]) == (ours, flaws), key
            assert LEVEL[pub] < LEVEL[ours], key  # every divergence is a more favourable published rating
        else:
            assert out.loc[row, "confidence"] == published[row], (key, df.loc[row, "review"])


def test_two_tables_follow_the_scheme_exactly():
    # Hume et al. 2023 Table 1 and doi:10.1155/2020/4140692 Table 2: all 21 rows
    for source in ("hume2023", "pmc7382724"):
        assert not [k for k in DIVERGENCES if k[0] == source]
    reproduced = sum(SOURCES[s][2] for s in SOURCES) - len(DIVERGENCES)
    assert (reproduced, len(DIVERGENCES)) == (30, 26)


def test_partial_yes_met_is_the_convention_of_hume2023():
    # Krishnaratne et al. 2022: partial yes in items 2 and 4, every other item yes or n/a, printed "High"
    df, items, published = load("hume2023")
    row = df.index[df["review"] == "Krishnaratne et al, 2022"][0]
    assert published[row] == "high"
    assert amstar2(items.loc[row]).confidence == "high"
    assert amstar2(items.loc[row], partial_yes="weakness").confidence == "moderate"
    assert amstar2(items.loc[row], partial_yes="no").confidence == "critically low"
    counts = {rule: int((amstar2_table(items, partial_yes=rule)["confidence"] == published).sum())
              for rule in ("met", "weakness", "no")}
    assert counts == {"met": 12, "weakness": 11, "no": 7}


def test_bmjpo_table_is_what_the_scheme_gives_without_items_2_and_15():
    # an observation about the printed table (amstar2_sources.md), not the authors' stated method
    _, items, published = load("bmjpo")
    assert (amstar2_table(items, critical=(4, 7, 9, 11, 13))["confidence"] == published).all()
