"""PRISMA 2020 counts from a screening ledger (Page et al. 2021, BMJ 372:n71, Figure 1)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from evidence_kit.citations.prisma import PrismaCounts, prisma_counts
from evidence_kit.plots.prisma import prisma_diagram

matplotlib.use("Agg")

COLUMNS = ["record_id", "identified_via", "source", "title", "doi", "year", "duplicate_of",
           "screening", "full_text", "exclusion_reason", "citation_key", "notes"]
ROWS = [
    ["a-1", "database", "PubMed", "Title one", "", "2020", "", "include", "include", "", "smith2020one", ""],
    ["a-2", "database", "ERIC", "Title one", "", "2020", "a-1", "", "", "", "", ""],
    ["a-3", "database", "PubMed", "Title three", "", "2019", "", "exclude", "", "", "", ""],
    ["a-4", "other", "citation of x", "Title four", "", "2018", "", "include", "exclude", "not school-age", "", ""],
    ["a-5", "database", "ERIC", "Title five", "", "2018", "", "include", "not_retrieved", "", "", ""],
    ["a-6", "database", "ERIC", "Title six", "", "2018", "", "include", "exclude", "not school-age", "", ""],
    ["a-7", "register", "PROSPERO", "Title seven", "", "2021", "a-3", "", "", "", "", ""],
]


@pytest.fixture
def ledger_dir(tmp_path) -> Path:
    pd.DataFrame(ROWS[:4], columns=COLUMNS).to_csv(tmp_path / "one.csv", index=False)
    pd.DataFrame(ROWS[4:], columns=COLUMNS).to_csv(tmp_path / "two.csv", index=False)
    return tmp_path


def test_counts_by_hand(ledger_dir):
    c = prisma_counts(ledger_dir)
    assert c.identified == {"ERIC": 3, "PROSPERO": 1, "PubMed": 2, "citation of x": 1}
    assert c.identified_via == {"database": 5, "register": 1, "other": 1}
    assert (c.total_identified, c.duplicates_removed, c.screened) == (7, 2, 5)
    assert (c.excluded_screening, c.sought, c.not_retrieved, c.assessed) == (1, 4, 1, 3)
    assert c.excluded_full_text == {"not school-age": 2} and c.included == 1
    # a list of files and a DataFrame give the same counts
    assert prisma_counts(sorted(ledger_dir.glob("*.csv"))) == c
    assert prisma_counts(pd.DataFrame(ROWS, columns=COLUMNS)) == c
    frame = c.to_frame()
    assert frame.loc[frame["box"] == "studies included in review", "count"].item() == 1


def test_title_abstract_column_name_is_accepted():
    df = pd.DataFrame(ROWS, columns=COLUMNS).rename(columns={"screening": "title_abstract"})
    assert prisma_counts(df).sought == 4


@pytest.mark.parametrize(("row", "column", "value", "message"), [
    (2, "screening", "maybe", "expected include or exclude"),
    (2, "duplicate_of", "zzz", "duplicate_of names no record_id"),
    (3, "exclusion_reason", "", "exclusion_reason is required"),
    (0, "citation_key", "", "citation_key is required"),
    (4, "record_id", "a-1", "record_id is not unique"),
    (1, "screening", "include", "a duplicate has no screening decision"),
])
def test_problems_name_file_row_column(tmp_path, row, column, value, message):
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    df.loc[row, column] = value
    df.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=rf"bad\.csv, row {row + 2}, {column}: {message}"):
        prisma_counts(tmp_path / "bad.csv")


def test_missing_column_is_named(tmp_path):
    pd.DataFrame(ROWS, columns=COLUMNS).drop(columns="full_text").to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match="missing column.*full_text"):
        prisma_counts(tmp_path / "x.csv")


def test_diagram_returns_axes_and_shows_counts(ledger_dir):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = prisma_diagram(prisma_counts(ledger_dir), ax=ax)
    assert out is ax
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "Records screened\n(n = 5)" in texts and "not school-age (n = 2)" in texts
    plt.close(fig)


def test_project_ledger_counts():
    """The project's own evidence base: counts computed from evidence/screening/*.csv."""
    folder = Path(__file__).resolve().parents[1] / "evidence" / "screening"
    if not list(folder.glob("*.csv")):
        pytest.skip("no screening ledger in evidence/screening yet")
    c = prisma_counts(folder)
    assert isinstance(c, PrismaCounts)
    assert c.total_identified == c.duplicates_removed + c.screened
    assert c.included >= 1


def test_unmarked_duplicates_are_reported(tmp_path):
    from evidence_kit.citations.prisma import unmarked_duplicates

    df = pd.DataFrame(ROWS, columns=COLUMNS)
    assert unmarked_duplicates(df).empty  # a-2 is marked as the duplicate of a-1
    df.loc[1, ["duplicate_of", "screening"]] = ["", "exclude"]  # now nobody marked it
    df.loc[1, "doi"] = "10.1000/one"
    df.loc[0, "doi"] = "https://doi.org/10.1000/ONE"
    df.to_csv(tmp_path / "l.csv", index=False)
    out = unmarked_duplicates(tmp_path / "l.csv")
    assert list(out["record_id"]) == ["a-1", "a-2"] and list(out["row"]) == [2, 3]
    assert list(out["reason"]) == ["representative", "same DOI"]


def test_duplicate_chain_is_a_warning_naming_the_row():
    from evidence_kit.citations.prisma import LedgerWarning

    df = pd.DataFrame(ROWS, columns=COLUMNS)
    df.loc[6, "duplicate_of"] = "a-2"  # a-2 is itself a duplicate of a-1
    with pytest.warns(LedgerWarning, match=r"row 8, duplicate_of: names a record that is itself a duplicate"):
        counts = prisma_counts(df)
    assert counts.duplicates_removed == 2  # the counts do not change
    df.loc[3, "doi"] = "10.12/x"
    with pytest.warns(LedgerWarning, match=r"row 5, doi: not a DOI"):
        assert prisma_counts(df) == counts


def test_coded_reasons_replace_the_free_text_in_the_box():
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    df.loc[df["record_id"] == "a-4", "exclusion_reason"] = "children aged 3-5 only (Table 1)"
    df["exclusion_code"] = ""
    df.loc[df["full_text"] == "exclude", "exclusion_code"] = "population out of scope"
    c = prisma_counts(df)
    assert c.excluded_full_text == {"population out of scope": 2}
    assert c.assessed == sum(c.excluded_full_text.values()) + c.included


@pytest.mark.parametrize(("record", "value", "message"), [
    ("a-4", "", "exclusion_code is required when full_text is exclude"),
    ("a-1", "population out of scope", "exclusion_code is only for full-text exclusions"),
])
def test_coded_reason_problems(record, value, message):
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    df["exclusion_code"] = ""
    df.loc[df["full_text"] == "exclude", "exclusion_code"] = "population out of scope"
    df.loc[df["record_id"] == record, "exclusion_code"] = value
    with pytest.raises(ValueError, match=message):
        prisma_counts(df)
