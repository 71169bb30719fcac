"""Title normalisation in ek.find_duplicates (issue 13): hyphens and "&" no longer hide a
duplicate, and parts, volumes and numerals are never merged, even when a truncated-title key
(the first 60 characters) would join them."""

from __future__ import annotations

import evidence_kit as ek


def rec(id, title, year=2016, family="Welch", volume=None, doi=None):
    r = ek.Citation(id=id, type="article-journal", title=title, author=[{"family": family, "given": "V."}],
                    issued={"date-parts": [[year]]}, **{"container-title": "Campbell Systematic Reviews"})
    if volume is not None:
        r["volume"] = volume
    if doi:
        r["DOI"] = doi
    return r


def groups(records):
    out = ek.find_duplicates(records)
    return sorted(sorted(g["id"]) for _, g in out.groupby("group"))


def test_hyphenated_and_joined_words_match():
    assert groups([rec("a", "Mass de-worming to improve developmental health of children"),
                   rec("b", "Mass deworming to improve developmental health of children"),
                   rec("c", "Mass de worming to improve developmental health of children")]) == [["a", "b", "c"]]


def test_ampersand_and_and_match():
    assert groups([rec("a", "Nutrition & physical activity in primary schools"),
                   rec("b", "Nutrition and physical activity in primary schools"),
                   rec("c", "Nutrition &amp; physical activity in primary schools")]) == [["a", "b", "c"]]


LONG = "Mass deworming to improve developmental health and wellbeing of children in low-income countries"


def test_parts_of_one_paper_are_never_merged():
    # the two titles share their first 60 characters, and year and first author
    assert LONG[:60] == (LONG + ": Part I")[:60]
    records = [rec("p1", LONG + ": Part I"), rec("p2", LONG + ": Part II")]
    assert groups(records) == []
    # but "Part II" and "Part 2" are the same part
    assert groups(records + [rec("p2b", LONG + ", part 2")]) == [["p2", "p2b"]]


def test_numerals_and_volumes_are_never_merged():
    assert groups([rec("a", "School health programmes: evidence review I"),
                   rec("b", "School health programmes: evidence review II")]) == []
    assert groups([rec("a", LONG + ", Vol. 2"), rec("b", LONG + ", Vol. 3")]) == []
    # the same title in two volumes of a series is two records; a record without a volume joins
    # one of them only when nothing disagrees
    assert groups([rec("a", LONG, volume="12"), rec("b", LONG, volume="13")]) == []
    assert groups([rec("a", LONG, volume="12"), rec("b", LONG)]) == [["a", "b"]]
    assert groups([rec("a", LONG, volume="12"), rec("b", LONG, volume="13"), rec("c", LONG)]) == []


def test_truncated_title_still_matches_its_full_version():
    assert groups([rec("full", LONG), rec("cut", LONG[:70])]) == [["cut", "full"]]
    # a truncated record that lost its part marker does not join two different parts
    assert groups([rec("p1", LONG + ": Part I"), rec("p2", LONG + ": Part II"), rec("cut", LONG[:70])]) == []
