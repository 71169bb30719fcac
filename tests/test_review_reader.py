"""The review's reader layer: bottom lines, gap lines, the evidence and gap map, reader tables,
reproductions, the certainty summary and the WWC table (src/evidence_kit/review/)."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evidence_kit as ek
from evidence_kit import review as rv
from evidence_kit.review import statements as stm

ROOT = Path(__file__).resolve().parents[1]
BAD = re.compile(r"\bNaN\b|\bNone\b|<NA>|\bnan\b")


@pytest.fixture(scope="module")
def eb():
    return ek.load_evidence(ROOT / "evidence")


@pytest.fixture(scope="module")
def lines(eb):
    return rv.bottom_lines(eb)


# --- reader tables -----------------------------------------------------------------------------

def test_reader_table_renders_no_missing_markers_integers_and_links():
    df = pd.DataFrame({"k": [9.0, np.nan, 4075.0], "n": pd.array([4075, None, 12], dtype="Int64"),
                       "estimate": [0.25, -0.1, np.nan], "note": [None, "x" * 50, pd.NA],
                       "source_url": ["https://doi.org/10.1/abc", "10.1016/j.x.2020.1", ""],
                       "ok": [True, False, True]}, index=[5, 6, 7])
    t = rv.reader_table(df)
    assert not BAD.search(t.html) and not BAD.search(repr(t))
    assert t.text["studies (k)"].tolist() == ["9", "\u2013", "4,075"]
    assert t.text["participants"].tolist() == ["4,075", "\u2013", "12"]
    assert t.text["estimate"].tolist() == ["0.25", "\u22120.10", "\u2013"]
    assert t.text["ok"].tolist() == ["yes", "no", "yes"]
    assert '<a href="https://doi.org/10.1/abc">https://doi.org/10.1/abc</a>' in t.html
    assert '<a href="https://doi.org/10.1016/j.x.2020.1">10.1016/j.x.2020.1</a>' in t.html
    assert 'class="ek-wrap"' in t.html  # the 50-character note wraps
    assert "\u2026" not in t.html and ">5<" not in t.html  # nothing cut, no row index
    assert "9.0" not in t.html and "4075.0" not in t.html


def test_reader_table_links_a_column_to_another_and_names_columns():
    df = pd.DataFrame({"source": ["Smith 2020", "Jones 2019"], "link": ["https://example.org/a", ""],
                       "outcome_domain": ["attendance", "attendance"]})
    t = rv.reader_table(df, {"source": "source", "outcome_domain": None}, links={"source": "link"})
    assert list(t.text.columns) == ["source", "outcome domain"]
    assert '<a href="https://example.org/a">Smith 2020</a>' in t.html
    assert "<td>Jones 2019</td>" in t.html  # no URL: plain text
    with pytest.raises(ValueError, match="columns not in the table: nope"):
        rv.reader_table(df, ["nope"])
    empty = rv.reader_table(df.iloc[:0])
    assert "(no rows)" in repr(empty) and "<tbody></tbody>" in empty.html


# --- bottom lines ------------------------------------------------------------------------------

def test_bottom_lines_one_row_per_cell_with_evidence(eb, lines):
    cells = set()
    for pid in eb.principles["id"]:
        pub = rv.published_syntheses(eb, pid)
        for q, d in zip(pub["question"], pub["outcome_domain"]):
            cells |= {(pid, qq, d) for qq in q.split(";") if qq}
    assert set(zip(lines["principle"], lines["question"], lines["outcome_domain"])) == cells
    assert not lines.duplicated(["principle", "question", "outcome_domain"]).any()
    # every number shown is the published row's
    syn = eb.syntheses.set_index("id")
    shown = lines.loc[lines["id"] != ""]
    assert shown["estimate"].tolist() == syn.loc[shown["id"], "estimate"].tolist()


def test_bottom_lines_pick_the_non_flagged_largest_k_with_a_ci(eb, lines):
    for r in lines.loc[lines["certainty"] != "not rated"].to_dict("records"):
        pub = rv.published_syntheses(eb, r["principle"])
        cell = pub.loc[pub["question"].str.split(";").map(lambda qs, q=r["question"]: q in qs)
                       & pub["outcome_domain"].eq(r["outcome_domain"])]
        ok = cell.loc[cell["ci_lower"].notna() & cell["flag"].eq("")]
        assert r["id"] in set(ok["id"])
        assert cell.set_index("id").loc[r["id"], "k"] == ok["k"].max() or (
            math.isnan(ok["k"].max()) if ok["k"].notna().sum() == 0 else False)
        assert r["others"] == len(cell) - 1
    # a flagged row never represents a cell
    flagged = set(eb.syntheses.loc[eb.syntheses["flag"].fillna("") != "", "id"])
    assert not flagged & set(lines["id"])


def test_bottom_line_wording_follows_certainty_and_direction():
    assert stm._statement("intervention", "better", "moderate", "physically active lessons",
                          "academic_achievement") == "Physically active lessons probably improve academic achievement."
    assert stm._statement("intervention", "better", "high", "school counselling",
                          "wellbeing_mental_health") == "School counselling improves wellbeing and mental health."
    assert stm._statement("intervention", "none", "low", "school meal programmes", "attendance") == (
        "School meal programmes may result in little to no difference in attendance.")
    assert stm._statement("intervention", "worse", "very low", "x", "attendance") == (
        "The evidence is very uncertain about the effect of x on attendance.")
    assert stm._statement("exposure", "worse", "moderate", "depression", "attendance") == (
        "Depression is probably associated with worse attendance.")
    assert stm._statement("exposure", "better", "low", "school climate", "academic_achievement") == (
        "School climate may be associated with better academic achievement.")
    assert stm._statement("exposure", "better", "very low", "sleep quality", "academic_achievement") == (
        "The evidence is very uncertain about the association between sleep quality and academic achievement.")
    assert "without a confidence interval" in stm._statement("intervention", "better?", "not rated", "x",
                                                             "attendance")
    assert stm._plural("training teachers to implement strategies") is False
    assert stm._plural("school connectedness") is False and stm._plural("classroom management strategies")


def test_bottom_line_sizes_are_oriented_and_in_plain_units():
    base = {"outcome_domain": "academic_achievement", "outcome": "o", "favourable": "higher"}
    text, ci = stm._size({**base, "metric": "g", "estimate": 0.25, "ci_lower": 0.1, "ci_upper": 0.4})
    ii = float(ek.improvement_index(0.25))
    assert text.startswith(f"about {ii:.0f} percentile points better for the average student")
    assert ci.startswith(f"{float(ek.improvement_index(0.1)):.0f} to {float(ek.improvement_index(0.4)):.0f} percentile")
    worse, _ = stm._size({**base, "favourable": "lower", "metric": "SMD", "estimate": 0.25, "ci_lower": 0.1,
                          "ci_upper": 0.4})
    assert "percentile points worse" in worse  # higher symptoms are worse
    rr, _ = stm._size({**base, "metric": "RR", "estimate": 0.79, "ci_lower": 0.67, "ci_upper": 0.93,
                       "favourable": "lower"})
    assert rr.startswith("21% lower risk of o")
    odds, _ = stm._size({**base, "metric": "OR", "estimate": 3.74, "ci_lower": 2.11, "ci_upper": 6.6})
    assert odds.startswith("3.74 times the odds")
    r, rci = stm._size({**base, "metric": "z", "estimate": -0.19, "ci_lower": -0.22, "ci_upper": -0.16})
    assert "a small association with worse outcomes" in r and rci == "r \u22120.22 to \u22120.16"
    assert stm._direction({"metric": "RR", "estimate": 0.79, "ci_lower": 0.67, "ci_upper": 0.93,
                           "favourable": "lower"}) == "better"
    assert stm._direction({"metric": "d", "estimate": 0.1, "ci_lower": -0.1, "ci_upper": 0.3,
                           "favourable": "higher"}) == "none"
    assert stm._direction({"metric": "d", "estimate": 0.1, "ci_lower": np.nan, "ci_upper": np.nan,
                           "favourable": "lower"}) == "worse?"


def test_bottom_lines_html_has_links_anchors_and_no_missing_markers(lines):
    assert lines["statement_html"].str.contains('<a href="https?://', regex=True).all()
    for r in lines.to_dict("records"):
        assert f'id="{r["anchor"]}"' in r["statement_html"]
        assert not BAD.search(r["statement_html"]) and not BAD.search(r["summary"])
        assert r["certainty"] in (*stm.LEVELS, "not rated")
    html = rv.show_bottom_lines(lines)._repr_html_()
    assert html.count("<h3>") == lines["question"].nunique()
    shown = rv.reader_table(lines, ["question", "outcome_domain", "studies", "participants", "source"],
                            links={"source": "link"})
    assert not BAD.search(shown.html) and not re.search(r"\d\.0<", shown.html)


def test_amstar2_abstract_only_is_not_appraisable(eb, lines):
    conf = rv.amstar2_confidence(eb)
    abstract = set(eb.amstar2.loc[eb.amstar2["text_read"] == "abstract", "citation_key"])
    assert set(conf[conf == rv.NOT_APPRAISABLE].index) == abstract
    full = eb.amstar2.loc[eb.amstar2["text_read"] != "abstract"]
    expected = ek.amstar2_table(full)["confidence"].tolist() if len(full) else []
    assert conf.loc[full["citation_key"]].tolist() == expected
    assert "critically low" not in set(lines.loc[lines["citation_key"].isin(abstract), "amstar2"])


def test_review_grade_stands_beside_ours(eb, lines):
    own = eb.appraisals.loc[eb.appraisals["review_grade"].fillna("") != ""].set_index("synthesis_id")
    for r in lines.loc[lines["id"].isin(own.index)].to_dict("records"):
        assert r["review_grade"] == own.loc[r["id"], "review_grade"]
        assert "the review's own GRADE" in r["summary"]


# --- gaps and the map --------------------------------------------------------------------------

def test_gap_lines_cover_every_listed_cell_without_a_row(eb):
    for pid in eb.principles["id"]:
        gaps = rv.gap_lines(eb, pid)
        pub = rv.published_syntheses(eb, pid)
        have = {(q, d) for qs, d in zip(pub["question"], pub["outcome_domain"]) for q in qs.split(";")}
        qs = eb.questions.loc[eb.questions["principle"] == pid]
        want = {(q, d) for q, ds in zip(qs["id"], qs["outcomes"]) for d in ds if (q, d) not in have}
        assert set(zip(gaps["question"], gaps["outcome_domain"])) == want
        assert not gaps["text"].str.contains(r"\brecord[s]? -?\w*\d|look-up", regex=True).any()
        text = rv.show_gap_lines(gaps)
        assert all(f'id="{a}"' in text._repr_html_() for a in gaps["anchor"])


def test_first_sentence_drops_bookkeeping():
    reason = ('The review (records -0117, -0124) gives "A. B: c" (k = 3). Later passes (look-up 4) failed.')
    assert rv.statements.first_sentence(reason) == 'The review gives "A. B: c" (k = 3).'


def test_evidence_gap_map_columns_and_counts(eb, lines):
    m = rv.evidence_gap_map(eb)
    assert list(m.columns) == ["principle", "question", "question_label", "outcome_domain", "n_syntheses", "n_rows",
                               "certainty", "anchor"]
    assert m["n_syntheses"].dtype.kind == "i" and m["n_rows"].dtype.kind == "i"
    assert not m.duplicated(["question", "outcome_domain"]).any()
    filled = m.loc[m["n_rows"] > 0].set_index(["question", "outcome_domain"])
    bl = lines.set_index(["question", "outcome_domain"])
    assert filled["certainty"].to_dict() == bl.loc[filled.index, "certainty"].to_dict()
    assert (m.loc[m["n_rows"] == 0, "certainty"] == "").all()
    # every listed outcome of every question is a cell
    listed = {(q, d) for q, ds in zip(eb.questions["id"], eb.questions["outcomes"]) for d in ds}
    assert listed <= set(zip(m["question"], m["outcome_domain"]))
    assert m.loc[m["question"] == "Q3.1", "anchor"].iloc[0].startswith("q3-1-")


def test_reading_note_counts_abstract_rows(eb):
    syn = eb.syntheses
    n_abs = int((syn["text_read"] == "abstract").sum())
    assert rv.reading_note(eb).startswith(f"{n_abs} of {len(syn)} published estimates")


# --- certainty summary, reproductions, WWC -----------------------------------------------------

def test_certainty_summary_separates_not_assessable_from_rated_down(eb):
    grades = rv.grade_published(rv.published_syntheses(eb, "P1"), appraisals=eb.appraisals)
    cs = rv.certainty_summary(eb, grades)
    assert len(cs) == len(grades)
    wwc = rv.what_would_change(grades)
    for r, (name, g) in zip(cs.to_dict("records"), grades.items()):
        assert r["certainty"] == g.level
        un = wwc.loc[name, "unassessed"]
        assert bool(r["not_assessable"]) == bool(un)
        assert "not assessable" not in r["rated_down"]
    t = rv.reader_table(cs, ["outcome", "effect", "studies", "participants", "certainty", "rated_down",
                             "not_assessable", "amstar2"])
    assert not BAD.search(t.html)


def test_reproductions_repool_each_entry_beside_the_published(eb):
    rep = rv.reproductions(eb)
    assert len(rep) == len(eb.reproductions)
    g = rep.set_index("synthesis_id").loc["gibson2002self-1"]
    data = ek.load_dataset("dat.gibson2002").query("ai.notna()")
    mh = ek.mantel_haenszel(data, measure="RR")
    assert g["reproduced"] == pytest.approx(math.exp(mh.estimate), rel=1e-12)
    assert g["method"] == "MH" and g["k"] == 7 and g["published"] == 0.79
    assert bool(g["estimate_agrees"])  # 0.787 rounds to the printed 0.79
    c = rep.set_index("synthesis_id").loc["crede2010class-1"]
    es = ek.effect_sizes(ek.load_dataset("dat.crede2010").query("criterion == 'grade'"), measure="ZCOR",
                         ri="ri", ni="ni")
    assert c["reproduced"] == pytest.approx(math.tanh(ek.meta_analysis(es, method="REML").estimate), rel=1e-10)
    p5 = rv.reproductions(eb, "P5")
    assert set(p5["synthesis_id"]) == set(eb.reproductions["synthesis_id"]) & set(
        eb.syntheses.loc[eb.syntheses["principle"].str.contains("P5"), "id"])
    assert not p5.empty


def test_reproduction_from_a_csv_of_printed_study_estimates(eb, tmp_path):
    rows = pd.DataFrame({"synthesis_id": "wassenaar2020critical-4", "study": ["A", "B", "C"],
                         "yi": [0.1, 0.2, 0.05], "ci_lower": [-0.1, 0.0, -0.15], "ci_upper": [0.3, 0.4, 0.25]})
    entry = pd.DataFrame([{"synthesis_id": "wassenaar2020critical-4", "file": "x.csv", "dataset": "", "escalc": {},
                           "subset": "", "measure": "GEN", "method": "FE", "notes": ""}])
    base = dataclasses.replace(eb, reproductions=entry, reproduction_rows=rows)
    rep = rv.reproductions(base)
    vi = ((np.array([0.4, 0.4, 0.4]) / (2 * 1.959963984540054)) ** 2)
    w = 1 / vi
    assert rep["reproduced"].iloc[0] == pytest.approx(float(np.sum(w * [0.1, 0.2, 0.05]) / w.sum()), rel=1e-12)
    ax = rv.reproduction_forest(base, "wassenaar2020critical-4")
    assert ax is not None


def test_wwc_table_leads_with_the_wwcs_rating_and_says_cluster_once(eb):
    t = rv.wwc_table(rv.wwc_ratings(eb))
    assert list(t.columns[:4]) == ["intervention", "outcome", "wwc_rating", "ours"]
    assert (t.loc[t["design"].str.endswith("cluster"), "ours"] == "not recomputed (cluster design)").all()
    shown = rv.reader_table(t, ["intervention", "outcome", "wwc_rating", "ours", "agrees", "n"])
    assert not BAD.search(shown.html)
    assert "cluster" in rv.WWC_CLUSTER_NOTE and "Section II.B" in rv.WWC_CLUSTER_NOTE
