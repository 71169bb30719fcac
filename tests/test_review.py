"""evidence_kit.review: the helpers the principle notebooks share.

The evidence base grows while these run, so the tests use the real principles, questions and
references with a small synthesis table built here (dataclasses.replace), plus invariants that
hold for whatever evidence/ holds.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import evidence_kit as ek
from evidence_kit import review as rv
from evidence_kit.review._common import _rows_for
from evidence_kit.review.grading import _reported

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def eb():
    return ek.load_evidence(ROOT / "evidence")


def _row(id_, metric, est, lo=np.nan, hi=np.nan, *, principle="P3", question="Q3.1", k=10, n=np.nan, i2=np.nan,
         design="", domain="academic_achievement", key="wassenaar2020critical"):
    return {"id": id_, "principle": principle, "question": question, "citation_key": key, "outcome": "o",
            "outcome_domain": domain, "metric": metric, "estimate": est, "ci_lower": lo, "ci_upper": hi,
            "ci_level": 95.0 if not math.isnan(lo) else np.nan, "k": float(k), "n": n, "i2": i2, "tau2": np.nan,
            "pi_lower": np.nan, "pi_upper": np.nan, "design": design, "locator": "Table 1"}


@pytest.fixture(scope="module")
def small(eb):
    rows = [
        _row("a-1", "d", 0.21, 0.09, 0.33, k=10, i2=57.8),
        _row("a-2", "g", 0.30, 0.10, 0.50, k=4, n=2000.0, i2=20.0, design="RCT"),
        _row("a-3", "OR", 2.08, 1.82, 2.37, k=24),
        _row("a-4", "z", -0.19, -0.22, -0.16, question="Q3.3", k=22, i2=62.9),
        _row("a-5", "r", 0.181, question="Q3.3", k=44),
        _row("a-6", "beta", 0.05, 0.01, 0.09, question="Q3.2", k=3),
        _row("a-7", "SMD", 0.40, 0.20, 0.60, principle="P3;P6", question="Q3.1;Q6.3", k=26, i2=96.0,
             domain="wellbeing_mental_health"),
    ]
    return dataclasses.replace(eb, syntheses=pd.DataFrame(rows))


def test_principle_text_and_unknown_principle(eb):
    assert rv.principle_text(eb, "P3") == "P3 Grounded in evidence: Be grounded in evidence."
    with pytest.raises(ValueError, match="unknown principle 'P9'; expected one of P1, P2"):
        rv.questions_table(eb, "P9")


def test_questions_table_is_the_principles_questions(eb):
    q = rv.questions_table(eb, "P4")
    expected = eb.questions.loc[eb.questions["principle"] == "P4", "id"].tolist()
    assert q.index.tolist() == expected
    assert list(q.columns) == ["type", "population", "intervention_or_exposure", "comparator", "outcomes"]
    assert q.loc["Q4.1", "outcomes"].startswith("staff_health_retention")


def test_common_metric_conversions(small):
    cm = rv.common_metric(small.syntheses).set_index("id")
    # d, g and SMD as reported
    assert cm.loc["a-1", ["value", "lower", "upper"]].tolist() == [0.21, 0.09, 0.33]
    assert cm.loc["a-2", "scale"] == "SMD" and cm.loc["a-2", "conversion"] == "read as SMD (g)"
    # OR: d = ln(OR) sqrt(3)/pi (Chinn 2000)
    np.testing.assert_allclose(cm.loc["a-3", ["value", "lower", "upper"]].to_numpy(float),
                               np.log([2.08, 1.82, 2.37]) * math.sqrt(3) / math.pi, rtol=1e-12)
    # Fisher z back to r; r stays r
    np.testing.assert_allclose(cm.loc["a-4", ["value", "lower", "upper"]].to_numpy(float),
                               np.tanh([-0.19, -0.22, -0.16]), rtol=1e-12)
    assert cm.loc["a-4", "scale"] == "r" and cm.loc["a-5", "scale"] == "r"
    assert math.isnan(cm.loc["a-5", "lower"])
    # beta is not converted, and says so
    assert pd.isna(cm.loc["a-6", "scale"]) and math.isnan(cm.loc["a-6", "value"])
    assert cm.loc["a-6", "conversion"].startswith("not converted: beta")


def test_credibility_rebuilds_p_from_the_ci(small):
    cred = rv.credibility(rv.common_metric(small.syntheses)).set_index("id")
    z95 = stats.norm.ppf(0.975)
    se = (0.33 - 0.09) / (2 * z95)  # Cochrane Handbook 6.3.1
    assert cred.loc["a-1", "pvalue"] == pytest.approx(2 * stats.norm.sf(0.21 / se), rel=1e-10)
    assert cred.loc["a-1", "credibility"] == "IV"  # 1e-3 < p < 0.05 and cases not reported
    # r: p on the Fisher z scale, so the same as from the published z and its CI
    se_z = (-0.16 - -0.22) / (2 * z95)
    assert cred.loc["a-4", "pvalue"] == pytest.approx(2 * stats.norm.sf(0.19 / se_z), rel=1e-10)
    # no CI or no common metric: nothing classified, and the reason is given
    assert cred.loc["a-5", "credibility"] == ""
    assert cred.loc["a-5", "not_assessable"].startswith("no CI reported")
    assert cred.loc["a-6", "not_assessable"] == "no common metric"
    assert "cases_gt_1000" in cred.loc["a-1", "not_assessable"]


def test_or_converted_to_smd_keeps_the_p_value_of_the_log_or(small):
    cred = rv.credibility(rv.common_metric(small.syntheses)).set_index("id")
    direct = ek.umbrella_credibility(estimate=[2.08], ci_lower=[1.82], ci_upper=[2.37], k=[24], measure="OR")
    assert cred.loc["a-3", "pvalue"] == pytest.approx(direct["pvalue"].iloc[0], rel=1e-10)
    assert cred.loc["a-3", "credibility"] == direct["credibility"].iloc[0]


def test_published_syntheses_lists_only_the_principles_question(small):
    p3 = rv.published_syntheses(small, "P3").set_index("id")
    p6 = rv.published_syntheses(small, "P6").set_index("id")
    assert p3.loc["a-7", "question"] == "Q3.1" and p6.loc["a-7", "question"] == "Q6.3"
    assert p6.index.tolist() == ["a-7"]
    assert len(p3) == 7
    # sorted by question, outcome domain, id
    assert p3["question"].tolist() == sorted(p3["question"].tolist())


def test_published_forest_draws_one_row_per_estimate_on_the_scale(small):
    """Rows are labelled "source: outcome" (the umbrella class moved to the tables: a reader of the
    plot needs the source, the estimate and k, which stand in columns at the right)."""
    import matplotlib.pyplot as plt

    frame = rv.published_syntheses(small, "P3")
    ax = rv.published_forest(frame, "SMD")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == int((frame["scale"] == "SMD").sum()) == 4
    assert labels[0] == "Wassenaar et al. 2020: o"
    texts = [t.get_text() for t in ax.texts]
    assert "estimate [95% CI]" in texts and "k" in texts
    assert "0.21 [0.09, 0.33]" in texts and "10" in texts
    ax_r = rv.published_forest(frame, "r")
    assert any("(no CI)" in t for t in (x.get_text() for x in ax_r.texts))
    plt.close("all")
    with pytest.raises(ValueError, match="unknown scale"):
        rv.published_forest(frame, "OR")


def test_published_forest_wraps_long_outcomes_and_keeps_fonts_legible(small):
    import matplotlib.pyplot as plt

    frame = rv.published_syntheses(small, "P3").assign(outcome="x" * 60)
    ax = rv.published_forest(frame, "SMD")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert all("\u2026" not in lab for lab in labels)  # never cut
    assert all(lab.replace("\n", "").endswith("x" * 60) for lab in labels)
    sizes = [t.get_fontsize() for t in [*ax.get_yticklabels(), *ax.get_xticklabels(), *ax.texts]]
    assert min(sizes) >= rv.FONT_MIN >= 9
    plt.close("all")


def test_published_forest_orients_by_favourable_and_marks_flags(small):
    import matplotlib.pyplot as plt

    syn = small.syntheses.copy()
    syn["favourable"] = np.where(syn["id"] == "a-2", "lower", "higher")
    syn["flag"] = np.where(syn["id"] == "a-1", "CI contradicts p", "")
    frame = rv.published_syntheses(dataclasses.replace(small, syntheses=syn), "P3")
    row = frame.set_index("id").loc["a-2"]
    assert row["sign"] == -1 and row["better"] == pytest.approx(-0.30)
    assert (row["better_lower"], row["better_upper"]) == (pytest.approx(-0.50), pytest.approx(-0.10))
    ax = rv.published_forest(frame, "SMD", domain="academic_achievement")
    texts = [t.get_text() for t in ax.texts]
    assert "\u22120.30 [\u22120.50, \u22120.10]\u2021" in texts  # plotted as oriented, marked reversed
    assert "0.21 [0.09, 0.33]*" in texts
    notes = "\n".join(t.get_text() for t in ax.texts)
    assert "* a-1: CI contradicts p" in notes and "sign reversed" in notes
    assert "favours intervention \u2192" in notes and "\u2190 favours comparison" in notes
    assert ax.get_title(loc="left") == "Academic achievement"
    assert rv.forest_panels(frame) == [("academic_achievement", "SMD"), ("academic_achievement", "r"),
                                       ("wellbeing_mental_health", "SMD")]
    plt.close("all")


def test_indirectness_from_note():
    assert rv.indirectness_from_note("Direct on intervention, setting") == "not serious"
    assert rv.indirectness_from_note("Moderately direct on exposure") == "serious"
    assert rv.indirectness_from_note("Indirect: college students") == "serious"
    assert rv.indirectness_from_note("Very indirect: adults") == "very serious"
    with pytest.raises(ValueError, match="directness note"):
        rv.indirectness_from_note("Somewhat related")


def test_indirectness_of_every_mapped_dataset_is_readable(eb):
    ratings = eb.studies["directness"].map(rv.indirectness_from_note)
    assert set(ratings) <= {"not serious", "serious", "very serious"}


def test_grade_published_rates_the_largest_k_with_unassessed_domains_down(small):
    frame = rv.published_syntheses(small, "P3")
    grades = rv.grade_published(frame)
    # a-5 (no CI) is not rated; a-6 (beta, no common metric) is rated on its printed scale, since
    # every estimate with a CI can be rated for imprecision (it was skipped before the bottom lines
    # needed a certainty for every cell with a CI)
    # Q3.1 academic: a-3 (k 24) beats a-1 (k 10) and a-2 (k 4)
    assert list(grades) == ["Q3.1 academic_achievement (a-3)", "Q3.1 wellbeing_mental_health (a-7)",
                            "Q3.2 academic_achievement (a-6)", "Q3.3 academic_achievement (a-4)"]
    assert grades["Q3.2 academic_achievement (a-6)"].measure == "beta"
    g = grades["Q3.1 academic_achievement (a-3)"]
    dom = g.domains
    assert dom.loc["risk_of_bias", "rating"] == "serious" and dom.loc["risk_of_bias", "overridden"]
    assert "no risk-of-bias assessments" in dom.loc["risk_of_bias", "override_reason"]
    assert dom.loc["inconsistency", "overridden"]  # I^2 not reported
    assert dom.loc["publication_bias", "rating"] == "serious"  # k >= 10, no test extracted
    assert g.design == "observational" and g.level == "very low"


def test_grade_published_rct_with_everything_reported_loses_only_risk_of_bias(eb):
    rows = [_row("b-1", "g", 0.30, 0.10, 0.50, k=4, n=2000.0, i2=20.0, design="RCT")]
    frame = rv.published_syntheses(dataclasses.replace(eb, syntheses=pd.DataFrame(rows)), "P3")
    (g,) = rv.grade_published(frame).values()
    assert g.design == "RCT" and g.start == "high"
    assert g.domains["change"].to_dict() == {"risk_of_bias": -1, "inconsistency": 0, "indirectness": 0,
                                             "imprecision": 0, "publication_bias": 0, "large_effect": 0,
                                             "dose_response": 0, "plausible_confounding": 0}
    assert g.level == "moderate" and g.n_total == 2000.0
    assert rv.grade_published(frame, unassessed="very serious")[
        "Q3.1 academic_achievement (b-1)"].level == "low"
    with pytest.raises(ValueError, match="unknown unassessed"):
        rv.grade_published(frame, unassessed="maybe")


def test_grade_study_overrides_only_risk_of_bias():
    dat = ek.effect_sizes(ek.load_dataset("dat.bcg"), measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    res = ek.meta_analysis(dat)
    g = rv.grade_study(res, indirectness="very serious", measure="RR", log_scale=True)
    assert g.domains.loc["risk_of_bias", "overridden"]
    assert not g.domains.drop(index="risk_of_bias")["overridden"].any()
    assert g.domains.loc["indirectness", "change"] == -2
    # Egger's test ran (k = 13 >= 10)
    assert "small-study test p" in g.domains.loc["publication_bias", "rationale"]


def test_gaps_table_marks_cells_without_syntheses(eb):
    for p in eb.principles["id"]:
        gaps = rv.gaps_table(eb, p)
        assert (gaps["gap"] == gaps["synthesis_rows"].eq(0)).all()
        q = eb.questions.loc[eb.questions["principle"] == p]
        assert len(gaps) == q["outcomes"].map(len).sum()
    p1 = rv.gaps_table(eb, "P1")
    mapped = eb.studies[eb.studies["questions"].map(lambda q: "Q1.3" in q)
                        & eb.studies["outcome_domain"].map(lambda d: "academic_achievement" in d)]
    assert "dat.crede2010" in set(mapped["dataset"])
    assert p1.loc[("Q1.3", "academic_achievement"), "datasets"] == len(mapped)


def test_sources_table_covers_every_cited_key(eb):
    for p in eb.principles["id"]:
        src = rv.sources_table(eb, p)
        rows = _rows_for(eb, p)
        assert set(rows["citation_key"]) <= set(src["citation_key"])
        assert src.loc[src["role"] == "published synthesis", "rows"].sum() == len(rows)
        assert src["reference"].str.contains(r"\(\d{4}", regex=True).all()
        assert src["reference"].tolist() == sorted(src["reference"].tolist())
    p5 = rv.sources_table(eb, "P5")
    assert "dataset dat.konstantopoulos2011" in set(p5["role"])


def test_sources_table_names_a_missing_reference(eb):
    bad = dataclasses.replace(eb, syntheses=pd.DataFrame([_row("c-1", "d", 0.1, key="nosuchkey2020")]))
    with pytest.raises(ValueError, match="nosuchkey2020"):
        rv.sources_table(bad, "P3")


def test_evidence_map_table_counts_and_rated_estimates(eb):
    table = rv.evidence_map_table(eb)
    emap = eb.evidence_map()
    assert len(table) == emap.size
    wide = table.pivot(index="principle", columns="outcome_domain", values="sources")
    pd.testing.assert_frame_equal(wide.loc[emap.index, emap.columns], emap, check_names=False)
    rated = table[table["rated"] != ""]
    assert (rated["sources"] > 0).all()
    assert rated["certainty"].isin(["high", "moderate", "low", "very low"]).all()
    assert (rated["ci_lower"] <= rated["estimate"]).all() and (rated["estimate"] <= rated["ci_upper"]).all()
    # each rated id is a synthesis row of that principle and domain
    syn = eb.syntheses.set_index("id")
    for row in rated.itertuples():
        assert row.principle in syn.loc[row.rated, "principle"]
        assert syn.loc[row.rated, "outcome_domain"] == row.outcome_domain
    assert table.loc[table["rated"] == "", "estimate"].isna().all()


def test_compare_published_within_half_a_printed_unit():
    table = rv.compare_published({"a": (0.3132, 4), "b": (12.86, 2), "c": (1.0, 1)},
                                 {"a": 0.31324, "b": 12.8549, "c": 1.06})
    assert table["within_rounding"].tolist() == [True, False, False]
    assert table.loc["a", "difference"] == pytest.approx(0.00004, abs=1e-15)
    assert table.loc["c", "decimals"] == 1
    with pytest.raises(ValueError, match="different quantities: d"):
        rv.compare_published({"a": (1.0, 1)}, {"a": 1.0, "d": 2.0})


def test_credibility_reads_each_rows_ci_level_and_published_pi(eb):
    rows = [_row("d-1", "d", 0.20, 0.05, 0.35, k=12, n=5000.0, i2=10.0),
            _row("d-2", "d", 0.20, 0.05, 0.35, k=12, n=5000.0, i2=10.0),
            _row("d-3", "OR", 2.0, 1.5, 2.7, k=12, n=5000.0, i2=10.0)]
    rows[1]["ci_level"] = 90.0
    rows[2]["pi_lower"], rows[2]["pi_upper"] = 1.1, 3.6
    cred = rv.credibility(rv.common_metric(pd.DataFrame(rows))).set_index("id")
    z95, z90 = stats.norm.ppf(0.975), stats.norm.ppf(0.95)
    assert cred.loc["d-1", "pvalue"] == pytest.approx(2 * stats.norm.sf(0.20 / (0.30 / (2 * z95))), rel=1e-10)
    assert cred.loc["d-2", "pvalue"] == pytest.approx(2 * stats.norm.sf(0.20 / (0.30 / (2 * z90))), rel=1e-10)
    # a published PI (OR scale, converted like the estimate) is assessed, and excludes the null here
    assert "pi_excludes_null" not in cred.loc["d-3", "not_assessable"]
    assert "pi_excludes_null" not in cred.loc["d-3", "criteria_not_met"]
    assert "pi_excludes_null" in cred.loc["d-1", "not_assessable"]


def test_published_estimate_grades_like_the_fit_it_summarises(eb):
    """Identity: a published row that copies a fit's estimate, CI, k, I^2 and PI is rated for
    inconsistency and imprecision exactly as grade_certainty rates the fit itself."""
    fit = ek.meta_analysis(ek.load_dataset("dat.raudenbush1985"))  # yi, vi as shipped
    pred = fit.predict().iloc[0]
    row = _row("e-1", "SMD", fit.estimate, fit.ci_lower, fit.ci_upper, k=fit.k, i2=fit.i2, design="RCT")
    row["pi_lower"], row["pi_upper"] = pred["pi_lower"], pred["pi_upper"]
    frame = rv.published_syntheses(dataclasses.replace(eb, syntheses=pd.DataFrame([row])), "P3")
    (published,) = rv.grade_published(frame).values()
    direct = rv.grade_study(fit, indirectness="not serious", design="RCT",
                            overrides={"publication_bias": ("serious", "not assessable: no small-study test extracted.")})
    for domain in ("inconsistency", "imprecision"):
        assert published.domains.loc[domain, "rating"] == direct.domains.loc[domain, "rating"]
        assert published.domains.loc[domain, "rationale"] == direct.domains.loc[domain, "rationale"]
    assert published.level == direct.level


def test_what_would_change_lifts_only_the_unassessed_domains(eb):
    rows = [_row("f-1", "g", 0.30, 0.10, 0.50, k=4, n=2000.0, i2=20.0, design="RCT"),  # only RoB unassessed
            _row("f-2", "d", 0.20, -0.05, 0.45, question="Q3.2", k=12)]  # obs.; RoB, I^2, pub. bias; imprecise
    frame = rv.published_syntheses(dataclasses.replace(eb, syntheses=pd.DataFrame(rows)), "P3")
    grades = rv.grade_published(frame)
    table = rv.what_would_change(grades)
    first = table.loc["Q3.1 academic_achievement (f-1)"]
    assert (first["level"], first["level_if_assessed"]) == ("moderate", "high")
    assert first["unassessed"] == "Risk of bias" and first["rated_down"] == ""
    second = table.loc["Q3.2 academic_achievement (f-2)"]
    assert second["unassessed"] == "Risk of bias, Inconsistency, Publication bias"
    assert second["rated_down"] == "Imprecision"  # the CI crosses 0: judged on the evidence itself
    assert (second["level"], second["level_if_assessed"]) == ("very low", "very low")  # low start - 1


def test_what_would_change_reapplies_a_suggested_upgrade(eb):
    # an OR of 3 (large effect, GRADE 9) from observational studies, only risk of bias unassessed
    rows = [_row("g-1", "OR", 3.0, 2.5, 3.6, question="Q3.2", k=5, n=5000.0, i2=10.0)]
    frame = rv.published_syntheses(dataclasses.replace(eb, syntheses=pd.DataFrame(rows)), "P3")
    grades = rv.grade_published(frame)
    (g,) = grades.values()
    # rv grades on the SMD scale (not log), so the large-effect rule does not apply; level stays low
    table = rv.what_would_change(grades)
    assert g.level == "very low" and table["level_if_assessed"].iloc[0] == "low"
    fit = ek.meta_analysis(ek.effect_sizes(ek.load_dataset("dat.bcg"), measure="RR", ai="tpos", bi="tneg",
                                           ci="cpos", di="cneg"))
    big = rv.grade_study(fit, indirectness="not serious", design="observational", measure="RR", log_scale=True,
                         overrides={"inconsistency": ("not serious", "test: set by hand"),
                                    "publication_bias": ("not serious", "test: set by hand")})
    assert big.domains.loc["large_effect", "suggested_change"] == 1  # pooled RR about 0.49
    row = rv.what_would_change({"bcg": big}).loc["bcg"]
    assert row["unassessed"] == "Risk of bias"
    assert row["level_if_assessed"] == "moderate"  # low + 1 for the large effect, once nothing rates down



@settings(max_examples=50, deadline=None)
@given(est=st.floats(0.05, 20.0), lo_f=st.floats(0.1, 0.99), hi_f=st.floats(1.01, 10.0),
       z=st.floats(-2.0, 2.0), zw=st.floats(0.01, 1.0))
def test_common_metric_keeps_order_and_sign(est, lo_f, hi_f, z, zw):
    rows = pd.DataFrame([_row("h-1", "OR", est, est * lo_f, est * hi_f),
                         _row("h-2", "z", z, z - zw, z + zw)])
    cm = rv.common_metric(rows).set_index("id")
    smd = cm.loc["h-1", ["lower", "value", "upper"]].to_numpy(float)
    r = cm.loc["h-2", ["lower", "value", "upper"]].to_numpy(float)
    assert smd[0] < smd[1] < smd[2] or np.isclose(smd[0], smd[1]) or np.isclose(smd[1], smd[2])
    assert np.sign(smd[1]) == np.sign(np.log(est)) or np.isclose(est, 1.0)
    assert (r[0] <= r[1] <= r[2]) and np.all(np.abs(r) < 1)
    np.testing.assert_allclose(np.arctanh(r[1]), z, atol=1e-9)  # back to Fisher's z


def test_stated_gaps_lists_each_principles_entries(eb):
    gaps = pd.DataFrame([
        {"principle": "P2", "question": "Q2.3", "outcome_domain": "", "searched": "s1", "reason": "r1"},
        {"principle": "P2;P6", "question": "", "outcome_domain": "attendance", "searched": "s2", "reason": "r2"},
    ])
    base = dataclasses.replace(eb, gaps=gaps)
    assert rv.stated_gaps(base, "P2")["reason"].tolist() == ["r1", "r2"]
    assert rv.stated_gaps(base, "P6")["searched"].tolist() == ["s2"]
    assert rv.stated_gaps(base, "P1").empty
    assert list(rv.stated_gaps(dataclasses.replace(eb, gaps=gaps.iloc[:0]), "P1").columns) == [
        "question", "outcome_domain", "searched", "reason"]


def test_every_principle_has_its_notebook_and_it_uses_these_helpers(eb):
    """The review grid: one notebook per principle (01..06), each reading P from evidence/ through
    the helpers tested here, plus the overview and the methods notebook."""
    import nbformat

    notebooks = ROOT / "notebooks"
    for i, pid in enumerate(eb.principles["id"], 1):
        (path,) = sorted(notebooks.glob(f"{i:02d}_*.ipynb"))
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].source.startswith(f"# Principle {i}:")
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert f'P = "{pid}"' in code and 'ek.load_evidence("../evidence")' in code
        # the pages open with the bottom lines and the gaps, then the details as reader tables: the
        # raw-pandas helpers (summary_of_findings, gaps_table, stated_gaps, appraisals_table,
        # review_grades) gave way to certainty_summary, gap_lines and reader_table (issue 15)
        for helper in ("bottom_lines", "show_bottom_lines", "gap_lines", "show_gap_lines", "reading_note",
                       "questions_table", "sources_table", "published_syntheses", "forest_panels",
                       "published_forest", "reproductions", "grade_published", "certainty_summary",
                       "what_would_change", "wwc_ratings", "wwc_table", "essa_tiers", "reader_table"):
            assert helper in code, f"{path.name} does not call {helper}"
        sources = [c.source for c in nb.cells]
        first_h2 = next(s for s in sources if s.startswith("## ") or "\n## " in s)
        assert "## What the evidence says" in first_h2, f"{path.name} does not open with the bottom lines"
    assert (notebooks / "00_overview.ipynb").exists() and (notebooks / "07_methods_metafor.ipynb").exists()


def test_certainty_table_is_every_principles_grade_published(eb):
    table = rv.certainty_table(eb)
    for pid in eb.principles["id"]:
        grades = rv.grade_published(rv.published_syntheses(eb, pid), appraisals=eb.appraisals)
        mine = table[table["principle"] == pid]
        assert len(mine) == len(grades)
        assert mine["certainty"].tolist() == [g.level for g in grades.values()]
        assert mine["estimate"].tolist() == [g.estimate for g in grades.values()]
    assert set(table["id"]) <= set(eb.syntheses["id"])


# --- the source reviews' own appraisals in GRADE ---------------------------------------------

def _appraisal(sid, **kw):
    base = {"synthesis_id": sid, "scope": "outcome", "rob_tool": "RoB 2", "studies_assessed": np.nan,
            "studies_high": np.nan, "studies_some": np.nan, "studies_low": np.nan, "review_grade": "",
            "small_study_test": "", "small_study_p": np.nan, "locator": "Table 3"}
    base.update(kw)
    return base


def test_rob_counts_from_an_appraisal_row():
    assert rv.rob_counts(_appraisal("x")) is None
    assert rv.rob_counts(_appraisal("x", studies_assessed=10)) is None
    assert rv.rob_counts(_appraisal("x", studies_high=3)) is None
    got = rv.rob_counts(_appraisal("x", scope="review", studies_assessed=10, studies_high=1, studies_some=2))
    assert got == {"assessed": 10, "high": 1, "some": 2, "tool": "RoB 2",
                   "source": "the review's own appraisal, Table 3", "scope": "review"}
    assert rv.rob_counts(_appraisal("x", studies_assessed=10, studies_high=1))["some"] is None


def test_grade_published_uses_the_reviews_counts_and_small_study_test(small):
    frame = rv.published_syntheses(small, "P3")
    apps = pd.DataFrame([
        _appraisal("a-3", studies_assessed=24, studies_high=1, studies_some=2, studies_low=21,
                   small_study_test="Egger", small_study_p=0.04),
        _appraisal("a-7", studies_assessed=26, studies_high=20, small_study_test="Egger", small_study_p=0.5,
                   review_grade="low"),
    ])
    grades = rv.grade_published(frame, appraisals=apps)
    a3 = grades["Q3.1 academic_achievement (a-3)"].domains
    assert a3.loc["risk_of_bias", "rating"] == "not serious" and not a3.loc["risk_of_bias", "overridden"]
    assert "1 of 24 studies (4%) at high risk" in a3.loc["risk_of_bias", "rationale"]
    assert "RoB 2; the review's own appraisal, Table 3" in a3.loc["risk_of_bias", "rationale"]
    assert a3.loc["publication_bias", "rating"] == "serious" and not a3.loc["publication_bias", "overridden"]
    assert "p = 0.04" in a3.loc["publication_bias", "rationale"]
    a7 = grades["Q3.1 wellbeing_mental_health (a-7)"].domains
    assert a7.loc["risk_of_bias", "rating"] == "very serious"
    assert a7.loc["publication_bias", "rating"] == "not serious"
    # a-4 has no appraisal: unassessed as before
    a4 = grades["Q3.3 academic_achievement (a-4)"].domains
    assert a4.loc["risk_of_bias", "override_reason"].startswith("not assessable")
    assert a4.loc["publication_bias", "override_reason"].startswith("not assessable")
    # only the unassessed domains count as unassessed in what_would_change
    change = rv.what_would_change(grades)
    assert "Risk of bias" not in change.loc["Q3.1 academic_achievement (a-3)", "unassessed"]
    assert "Risk of bias" in change.loc["Q3.3 academic_achievement (a-4)", "unassessed"]
    cmp = rv.review_grades(grades, apps)
    assert cmp.loc["Q3.1 wellbeing_mental_health (a-7)", "review_grade"] == "low"
    assert cmp.loc["Q3.1 wellbeing_mental_health (a-7)", "agrees"] == (
        grades["Q3.1 wellbeing_mental_health (a-7)"].level == "low")
    assert cmp.loc["Q3.1 academic_achievement (a-3)", "agrees"] is pd.NA


def test_appraisals_table_of_the_real_evidence(eb):
    for pid in eb.principles["id"]:
        t = rv.appraisals_table(eb, pid)
        assert set(t["synthesis_id"]) <= set(rv.published_syntheses(eb, pid)["id"])
        has = t["studies_assessed"].notna() & t["studies_high"].notna()
        assert np.allclose(t.loc[has, "share_high"], t.loc[has, "studies_high"] / t.loc[has, "studies_assessed"])


def test_reported_says_what_the_review_gives_in_one_line():
    row = _appraisal("x", rob_tool="NOS", studies_assessed=25.0, studies_high=2.0, studies_some=5.0,
                     studies_low=18.0, review_grade="low", small_study_test="Egger", small_study_p=0.03)
    assert _reported(row) == "risk of bias (NOS): 2 high / 5 middle / 18 low of 25; own GRADE: low; Egger p = 0.03"
    assert _reported(_appraisal("x", rob_tool="RoB 2")) == "risk of bias (RoB 2): in words only"
    assert _reported(_appraisal("x", rob_tool="", small_study_test="selection model")) == \
        "selection model (no p printed)"
    assert _reported(_appraisal("x", rob_tool="")).startswith("in words only")


def test_print_helpers_write_what_the_notebooks_show(eb, capsys):
    rv.print_questions(rv.questions_table(eb, "P3"))
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Q3.1 (intervention) P: ") and max(map(len, out)) <= 100
    sources = rv.sources_table(eb, "P3")
    rv.print_references(sources)
    assert capsys.readouterr().out.count("\n\n") == len(sources)
    pub = rv.published_syntheses(eb, "P3")
    rv.print_not_assessable(pub)
    n = int((pub["credibility"] != "").sum())
    assert capsys.readouterr().out.startswith(f"{n} of {len(pub)} rows classified\n")
    stated = rv.stated_gaps(eb, "P3")
    rv.print_stated_gaps(stated, "P3")
    out = capsys.readouterr().out
    assert out.startswith(f"{len(stated)} stated gap(s)") and out.count("    searched: ") == len(stated)
    assert set(rv.PUBLISHED_DISPLAY) | set(rv.CREDIBILITY_DISPLAY) <= set(pub.columns)
